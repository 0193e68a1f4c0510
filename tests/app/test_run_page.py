"""The Run page driven by Streamlit's AppTest: it loads, a small BHR run shows its charts and tables, a
value the config refuses is told in the command line's one line beside its field (never a traceback),
the command-line equivalent is the same run, and a run made before is not run again."""

from __future__ import annotations

import shlex
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from omegaconf import DictConfig, OmegaConf
from streamlit.testing.v1 import AppTest

from sim.api import RunResult, compose
from sim.app import common, page
from sim.app.levers import Area
from sim.config import build
from sim.config.errors import user_error_line

SCRIPT = str(Path(__file__).resolve().parents[2] / "sim" / "app" / "main.py")
BHR = "tcp=bhr:baseline"  # the widgets' key tag of BHR's baseline
TIMEOUT = 180  # a cold first run compiles the engine (about 20 s on 2 cores; seconds from Numba's cache)


def loaded() -> AppTest:
    at = AppTest.from_file(SCRIPT, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def small(at: AppTest, replications: int = 20) -> AppTest:
    """BHR's baseline at ``replications`` over one year (its 2017-03 milestone)."""
    at.number_input(key=f"replications:{BHR}").set_value(replications)
    at.number_input(key=f"years:{BHR}").set_value(1.0)
    return at


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def cli_line(overrides: list[str]) -> str:
    """What the command line says of these overrides (sim.cli prints the same one line)."""
    try:
        build(compose(overrides))
    except Exception as e:  # noqa: BLE001 - the error is what is compared
        line = user_error_line(e)
        assert line is not None, e
        return line
    raise AssertionError(f"{overrides} are not refused")


def test_page_loads() -> None:
    at = loaded()
    assert at.title[0].value == "Run a scenario"
    assert [s.label for s in at.selectbox][:2] == ["Area", "Scenario"]
    assert at.selectbox(key="run:area").value == Area("tcp", "bhr")
    labels = {w.label for w in at.number_input}
    assert {"Pre-admission CTR coverage", "CTR avert rate", "Crisis-support places", "Replications"} <= labels
    assert at.toggle(key=f"repatriation:{BHR}").value is True
    beds = at.data_editor(key=f"beds:{BHR}").value
    assert list(beds.columns) == ["unit", "date", "beds"] and (beds["unit"] == "atu").any()
    assert at.button[0].label == "Run"
    assert not at.image and not errors(at)


def test_run_shows_charts_and_tables() -> None:
    at = small(loaded())
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert not errors(at)
    assert len(at.image) == 2  # the fan chart against the plan and the milestone chart
    (milestones,) = (d.value for d in at.dataframe if d.editing_mode == "read_only")
    assert {"P(at or under)", "95% interval"} <= set(milestones.columns)
    assert "2017-03" in set(milestones["month"])
    figures = at.table[0].value
    assert "inpatients" in figures.index and "admissions" in figures.index
    command = at.code[0].value
    assert command.startswith("python -m sim tcp=bhr scenario=baseline") and "run.replications=20" in command
    assert any(c.value.startswith("20 replications in") for c in at.caption)


def test_command_line_is_the_same_run() -> None:
    """The command shown composes to the config the page ran (the resolved YAML the cache is keyed by)."""
    at = small(loaded())
    at.number_input(key=f"coverage:{BHR}").set_value(0.9)
    at.toggle(key=f"repatriation:{BHR}").set_value(False)
    at.run()
    words = shlex.split(at.code[0].value)
    assert words[:3] == ["python", "-m", "sim"]
    assert "tcp.ctr.coverage=0.9" in words and "tcp.discharge.repatriation=false" in words
    assert "request" not in at.session_state  # nothing run yet: the command is the page's current choices
    cfg = compose(words[3:])
    assert cfg.tcp.ctr.coverage == 0.9 and cfg.tcp.discharge.repatriation is False
    at.button[0].click().run()
    ran = at.session_state["request"]["overrides"]
    assert list(ran) == words[3:]
    assert OmegaConf.to_yaml(compose(list(ran)), resolve=True) == OmegaConf.to_yaml(cfg, resolve=True)


def test_bad_coverage_is_told_beside_it() -> None:
    at = small(loaded())
    at.number_input(key=f"coverage:{BHR}").set_value(1.5)
    at.button[0].click().run()
    assert not at.exception
    expected = cli_line(["tcp=bhr", "scenario=baseline", "tcp.ctr.coverage=1.5"])
    assert errors(at) == [expected] == ["config error: tcp.ctr.coverage: 1.5 is a probability and must be in [0, 1]"]
    assert not at.image  # nothing run
    # beside its field: in the coverage widget's column, not by the Run button
    column = next(c for c in at.columns if any(w.key == f"coverage:{BHR}" for w in c.number_input))
    assert [e.value for e in column.error] == [expected]
    at.number_input(key=f"coverage:{BHR}").set_value(0.95).run()  # corrected: the message goes
    assert not errors(at) and not at.exception


def test_bad_bed_count_is_told_beside_the_table() -> None:
    at = small(loaded())
    # an edit of the table's first row (ATU from 2016-03) to -1 beds, as the browser sends it
    at.session_state[f"beds:{BHR}"] = {"edited_rows": {0: {"beds": -1}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert "'tcp.beds.atu.schedule=[{date:2016-03,beds:-1},{date:2017-03,beds:9}," in at.code[0].value
    at.button[0].click().run()
    assert not at.exception
    expected = "config error: tcp.beds.atu.schedule[0].beds: -1 must be at least 0"
    assert errors(at) == [expected]
    assert cli_line(["tcp=bhr", "tcp.beds.atu.schedule=[{date:2016-03,beds:-1}]"]) == expected
    assert not at.image


def test_a_run_made_before_is_not_run_again(monkeypatch: pytest.MonkeyPatch) -> None:
    at = small(loaded(), replications=25)
    at.button[0].click().run()
    assert len(at.image) == 2
    ran: list[object] = []

    def simulate(*args: object, **kwargs: object) -> None:
        ran.append(args)
        raise RuntimeError("ran again")

    monkeypatch.setattr(page, "simulate", simulate)
    again = small(loaded(), replications=25)  # another session, the same config: from the cache
    again.button[0].click().run()
    assert not again.exception and not ran and not errors(again)
    assert len(again.image) == 2
    other = small(loaded(), replications=30)  # a config not run before is run
    other.button[0].click().run()
    assert len(ran) == 1 and not other.exception
    assert errors(other) == ["error: RuntimeError: ran again"]  # one line, no traceback


def test_a_system_offers_its_scenario_levers() -> None:
    at = loaded()
    at.selectbox(key="run:area").set_value(Area("system", "south_east_hub")).run()
    assert not at.exception, at.exception
    tag = "system=south_east_hub:baseline"
    assert at.number_input(key=f"avert:{tag}").disabled  # no scenario key sets every TCP's avert rate
    assert at.number_input(key=f"crisis:{tag}").value == 1.0  # a factor of each TCP's places
    assert not at.data_editor  # a system's beds are its files'
    at.number_input(key=f"coverage:{tag}").set_value(0.95).run()
    command = at.code[0].value
    assert "system=south_east_hub" in command and "scenario.ctr_coverage=0.95" in command


def test_the_engine_is_warmed_when_the_page_loads_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A one-replication run when the app starts (its first page load), before any click; not again."""
    made: list[int] = []
    real = common.run

    def counted(cfg: DictConfig, **kwargs: Any) -> RunResult:
        made.append(int(cfg.run.replications))
        return real(cfg, **kwargs)

    monkeypatch.setattr(common, "run", counted)
    common.warm_engine.clear()
    loaded()
    assert made == [1]
    loaded()  # another session: the engine is the process's
    assert made == [1]


def test_a_cancelled_run_keeps_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cancel (its callback sets the session's flag) stops the run at its next progress call: the page
    says so, shows no result, and the store keeps nothing of it, so the same config runs in full later."""
    calls: list[tuple[int, int]] = []

    def cancelled_midway(cfg: DictConfig, on_progress: Any = None, reference: Any = None) -> None:
        import streamlit as st

        st.session_state["cancelled"] = True  # what the Cancel button's on_click does
        calls.append((50, 400))
        on_progress(50, 400)
        raise AssertionError("the run went on after Cancel")

    at = small(loaded(), replications=35)
    monkeypatch.setattr(page, "simulate", cancelled_midway)
    at.button[0].click().run()
    assert not at.exception and not errors(at) and calls == [(50, 400)]
    assert [w.value for w in at.warning] == ["The run was cancelled: nothing of it was kept."]
    assert not at.image and "shown" not in at.session_state
    monkeypatch.undo()
    at.button[0].click().run()  # the same config again: run, not answered from a store that kept nothing
    assert len(at.image) == 2 and not at.warning
    assert any(c.value.startswith("35 replications in") for c in at.caption)


def test_two_tabs_running_at_once_get_their_own_results() -> None:
    """Two sessions (two browser tabs) run different configs at the same time, each in its own thread as
    the server runs them: each shows its own run, and neither's choices or results reach the other."""
    tabs = {n: small(loaded(), replications=n) for n in (40, 45)}
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda at: at.button[0].click().run(), tabs.values()))
    for n, at in tabs.items():
        assert not at.exception and not errors(at) and len(at.image) == 2
        assert [c.value.split(" replications")[0] for c in at.caption if "replications in" in c.value] == [f"{n}"]
        assert f"run.replications={n}" in at.session_state["request"]["overrides"]


def test_a_bad_start_month_is_told_beside_it() -> None:
    at = small(loaded())
    at.text_input(key=f"start:{BHR}").set_value("2016-13")
    at.button[0].click().run()
    assert not at.exception and not at.image
    expected = cli_line(["tcp=bhr", "scenario=baseline", "run.start=2016-13"])
    assert expected.startswith("config error: run.start") and errors(at) == [expected]
    column = next(c for c in at.columns if any(w.key == f"start:{BHR}" for w in c.text_input))
    assert [e.value for e in column.error] == [expected]
