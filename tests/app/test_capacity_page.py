"""The Capacity page driven by Streamlit's AppTest: it loads with the batch job's defaults and the TCP's
own bed range, a small BHR sweep shows its chart, its table and the fewest beds, a target no bed number
reaches is told with what to do, a value the batch job refuses is told in its one line beside its field,
the command shown is the same sweep, a sweep made before is not run again and a cancelled one keeps
nothing."""

from __future__ import annotations

import io
import shlex
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from omegaconf import OmegaConf
from streamlit.testing.v1 import AppTest

import sim.config.store
from sim.api import compose
from sim.app import capacity_page
from sim.app.levers import Area
from sim.capacity import default_range, fewest_beds, register_schema, simulator_config
from sim.config import ConfigError
from sim.config.errors import user_error_line
from sim.config.store import CONFIG_DIR

ROOT = Path(__file__).resolve().parents[2]
TAG = "tcp=bhr:baseline"  # the widgets' key tag of BHR's baseline
ATU = f"{TAG}:atu"  # the bed range's: each unit its own


def loaded(page_app: Callable[[str, str], AppTest]) -> AppTest:
    at = page_app("capacity_page", "capacity_page")
    at.run()
    assert not at.exception, at.exception
    return at


def small(at: AppTest, beds: tuple[int, int, int] = (6, 12, 3), replications: int = 30, target: float = 0.1) -> AppTest:
    """BHR's ATU beds ``from, to, step`` at ``replications`` over one year, for at most ``target``."""
    for name, value in zip(("from", "to", "step"), beds):
        at.number_input(key=f"capacity:{name}:{ATU}").set_value(value)
    at.number_input(key=f"capacity:replications:{TAG}").set_value(replications)
    at.number_input(key=f"capacity:years:{TAG}").set_value(1.0)
    at.number_input(key=f"capacity:target:{TAG}").set_value(target)
    return at


def run(at: AppTest) -> AppTest:
    next(b for b in at.button if b.label == "Run the sweep").click().run()
    assert not at.exception, at.exception
    return at


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def beside(at: AppTest, key: str) -> list[str]:
    """The errors in the column of the widget ``key``."""
    column = next(c for c in at.columns if any(w.key == key for w in c.number_input))
    return [e.value for e in column.error]


def labels(at: AppTest) -> set[str]:
    return {b.proto.label for b in at.get("download_button")}


def test_page_loads_with_the_batch_jobs_defaults(page_app: Callable[[str, str], AppTest]) -> None:
    at = loaded(page_app)
    assert at.title[0].value.startswith("Capacity")
    areas = at.selectbox(key="capacity:area").options
    assert areas and all("system of TCPs" not in a for a in areas)  # one TCP at a time (check_single_tcp)
    assert at.selectbox(key="capacity:area").value == Area("tcp", "bhr")
    assert at.selectbox(key=f"capacity:unit:{TAG}").value == "atu"
    shipped = OmegaConf.load(CONFIG_DIR / "atu_capacity.yaml").capacity
    assert at.number_input(key=f"capacity:target:{TAG}").value == shipped.target_share
    assert at.number_input(key=f"capacity:confidence:{TAG}").value == shipped.confidence
    assert at.selectbox(key=f"capacity:measure:{TAG}").value == shipped.measure
    low, high = default_range(compose(["tcp=bhr"]), "atu")
    assert (at.number_input(key=f"capacity:from:{ATU}").value, at.number_input(key=f"capacity:to:{ATU}").value) == (
        low,
        high,
    )
    assert at.code[0].value.startswith("python -m experiments.atu_capacity tcp=bhr scenario=baseline capacity.unit=atu")
    assert not at.image and not errors(at) and "Overrides (YAML)" in labels(at)


def test_a_small_sweep_shows_its_chart_table_and_answer(page_app: Callable[[str, str], AppTest]) -> None:
    at = run(small(loaded(page_app)))
    assert not errors(at)
    assert len(at.image) == 1
    (table,) = (d.value for d in at.dataframe)
    assert list(table["beds"]) == [6, 9, 12]
    # the answer is the first bed number of the shown table that meets the target, and fewest_beds' on the
    # sweep's own table
    (answer,) = (s.value for s in at.success)
    result = at.session_state["capacity:shown"][1]
    fewest = fewest_beds(result.table, 0.1, 0.9, "unit_full_beds")
    meets = list(table["meets the target"])
    assert meets.index(True) == list(table["beds"]).index(fewest) and all(meets[meets.index(True) :])
    assert answer == (
        "The fewest ATU beds for at most 10% of ATU admissions placed out of area for want of an in-area bed, "
        f"with 90% confidence, is {fewest}."
    )
    assert any(c.value.startswith("30 replications at each of 3 bed numbers (6 to 12)") for c in at.caption)
    assert any("start out of area" in i.value for i in at.info)  # BHR's census holds 9 ATU inpatients
    assert {
        "Chart (PNG)",
        "Chart (SVG)",
        "Table (CSV)",
        "Table (Excel)",
        "Report (HTML)",
        "Report (Word)",
        "Overrides (YAML)",
    } <= labels(at)
    files = capacity_page.report_files(result, at.code[0].value)
    html = files["capacity_report.html"].decode()
    assert answer in html and "data:image/png;base64," in html and "python -m experiments.atu_capacity" in html
    with zipfile.ZipFile(io.BytesIO(files["capacity_report.docx"])) as docx:
        assert any(n.startswith("word/media/") for n in docx.namelist())  # the chart, as a picture
        assert f"is {fewest}." in docx.read("word/document.xml").decode()


def test_a_target_no_bed_number_reaches_is_told(page_app: Callable[[str, str], AppTest]) -> None:
    at = run(small(loaded(page_app), beds=(3, 6, 3), target=0.01))
    assert not errors(at) and not at.success
    (said,) = (w.value for w in at.warning)
    assert said.startswith(
        "No number of ATU beds from 3 to 6 keeps ATU admissions placed out of area for want of an in-area bed at "
        "or under 1% with 90% confidence: the lowest upper bound is"
    )
    assert "To reach it: try more beds" in said
    assert len(at.image) == 1 and at.dataframe  # the curve is still shown


def batch_job_line(*overrides: str, tmp: Path) -> str:
    """What ``python -m experiments.atu_capacity`` says of these overrides (its one line, exit 2)."""
    p = subprocess.run(
        [sys.executable, "-m", "experiments.atu_capacity", *overrides, f"hydra.run.dir={tmp}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 2, p.stderr
    (line,) = [s for s in (p.stdout + p.stderr).splitlines() if s.startswith("config error:")]
    return line


def test_bad_values_are_told_beside_their_fields(page_app: Callable[[str, str], AppTest], tmp_path: Path) -> None:
    at = small(loaded(page_app))
    at.number_input(key=f"capacity:target:{TAG}").set_value(1.5)
    run(at)
    expected = batch_job_line("tcp=bhr", "capacity.target_share=1.5", tmp=tmp_path / "a")
    assert errors(at) == [expected] == ["config error: capacity.target_share: 1.5 must be above 0 and below 1"]
    assert beside(at, f"capacity:target:{TAG}") == [expected]
    assert not at.image  # nothing ran

    at.number_input(key=f"capacity:target:{TAG}").set_value(0.1)
    at.number_input(key=f"capacity:confidence:{TAG}").set_value(1.0)
    run(at)
    with pytest.raises(ConfigError) as refused:  # sim.capacity's own check of a confidence
        fewest_beds(pd.DataFrame({"beds": [1]}), 0.1, 1.0)
    assert errors(at) == [user_error_line(refused.value)] == beside(at, f"capacity:confidence:{TAG}")

    at.number_input(key=f"capacity:confidence:{TAG}").set_value(0.9)
    at.number_input(key=f"capacity:to:{ATU}").set_value(4)  # below From (6)
    run(at)
    assert errors(at) == ["config error: capacity.max_beds: 4 is below capacity.min_beds 6"]
    assert beside(at, f"capacity:to:{ATU}") == errors(at)
    assert not at.image


def test_a_unit_with_no_beds_asks_for_the_largest_bed_number(page_app: Callable[[str, str], AppTest]) -> None:
    at = loaded(page_app)
    at.selectbox(key=f"capacity:unit:{TAG}").set_value("camhs_t4").run()
    assert not at.exception
    key = f"capacity:to:{TAG}:camhs_t4"
    assert at.number_input(key=key).value is None
    assert beside(at, key) == [
        "config error: capacity.max_beds: bhr plans no camhs_t4 beds and its census has none in area: "
        "give the largest bed number"
    ]


def test_the_command_shown_is_the_batch_jobs_same_sweep(page_app: Callable[[str, str], AppTest]) -> None:
    """The command composes, as the batch job composes it, to the config the page's sweep is keyed by."""
    at = small(loaded(page_app))
    at.selectbox(key=f"capacity:measure:{TAG}").set_value("all").run()
    words = shlex.split(at.code[0].value)
    assert words[:3] == ["python", "-m", "experiments.atu_capacity"]
    assert {"capacity.min_beds=6", "capacity.max_beds=12", "capacity.step=3", "capacity.measure=all"} <= set(words)
    register_schema()
    try:
        batch = compose(words[3:], config_name="atu_capacity")
    finally:
        sim.config.store.register()  # back to the simulator's own root schema
    page = capacity_page.sweep_config(Area("tcp", "bhr"), words[3:])
    assert OmegaConf.to_container(page.capacity) == OmegaConf.to_container(batch.capacity)
    assert OmegaConf.to_yaml(simulator_config(page), resolve=True) == OmegaConf.to_yaml(
        simulator_config(batch), resolve=True
    )


def test_a_sweep_made_before_is_not_run_again(
    page_app: Callable[[str, str], AppTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(small(loaded(page_app), replications=25))
    ran: list[object] = []

    def curve(*args: object, **kwargs: object) -> None:
        ran.append(args)
        raise RuntimeError("ran again")

    monkeypatch.setattr(capacity_page, "capacity_curve", curve)
    again = run(small(loaded(page_app), replications=25))  # another session, the same sweep: from the store
    assert not ran and not errors(again) and len(again.image) == 1
    other = run(small(loaded(page_app), replications=26))  # a sweep not made before is run
    assert len(ran) == 1 and errors(other) == ["error: RuntimeError: ran again"]  # one line, no traceback


def test_a_cancelled_sweep_keeps_nothing(
    page_app: Callable[[str, str], AppTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancel (its callback sets the session's flag) stops the sweep when the bed number running ends: the
    page says so, shows nothing, and the store keeps nothing, so the same sweep runs in full later."""
    points: list[int] = []

    def cancelled_midway(cfg: Any, beds: Any, *, on_point: Any, **kwargs: Any) -> None:
        import streamlit as st

        st.session_state["cancelled"] = True  # what the Cancel button's on_click does
        points.append(beds[0])
        on_point(beds[0], {}, 0.1)
        raise AssertionError("the sweep went on after Cancel")

    at = small(loaded(page_app), replications=27)
    monkeypatch.setattr(capacity_page, "capacity_curve", cancelled_midway)
    run(at)
    assert points == [6] and not errors(at)
    assert [w.value for w in at.warning] == ["The sweep was cancelled: nothing of it was kept."]
    assert not at.image and "capacity:shown" not in at.session_state
    monkeypatch.undo()
    run(at)  # the same sweep again: run, not answered from a store that kept nothing
    assert len(at.image) == 1 and not at.warning
