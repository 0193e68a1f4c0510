"""What the Run page offers and asks for, without Streamlit: areas, levers and their keys, the bed table
as overrides, errors to fields, the page's run against sim.api.run, and the launcher's address."""

from __future__ import annotations

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from sim.api import compose, run
from sim.app import __main__ as launcher
from sim.app.levers import (
    Area,
    TableError,
    areas,
    areas_in,
    base_config,
    bed_overrides,
    bed_table,
    check,
    field_of,
    levers,
    overrides,
    run_choices,
    scenarios,
)
from sim.app.results import replications_of, simulate
from sim.config.store import CONFIG_DIR


def test_every_shipped_area_and_scenario() -> None:
    found = areas()
    assert found[0] == Area("tcp", "bhr")
    assert Area("system", "south_east_hub") in found and Area("tcp", "surrey") in found
    assert all(a.name != "single" for a in found)  # the system of whichever TCP is chosen, not an area
    assert scenarios()[0] == "baseline" and "no_repatriation" in scenarios()


def test_a_tcp_s_levers_are_its_own_keys_unless_the_scenario_sets_them() -> None:
    own = levers(base_config(Area("tcp", "bhr"), "baseline"))
    assert own["coverage"].key == "tcp.ctr.coverage" and own["coverage"].value == pytest.approx(0.79)
    assert own["repatriation"].key == "tcp.discharge.repatriation" and own["repatriation"].value is True
    full = levers(base_config(Area("tcp", "bhr"), "full_ctr_coverage"))
    assert full["coverage"].key == "scenario.ctr_coverage" and full["coverage"].value == 1.0  # it wins at the build
    off = levers(base_config(Area("tcp", "bhr"), "no_repatriation"))
    assert off["repatriation"].key == "scenario.repatriation" and off["repatriation"].value is False


def test_a_system_s_levers_are_the_scenario_s_keys_or_off() -> None:
    hub = levers(base_config(Area("system", "south_east_hub"), "baseline"))
    assert hub["coverage"].key == "scenario.ctr_coverage" and hub["coverage"].value is None
    assert hub["crisis"].key == "scenario.crisis_support_factor" and hub["crisis"].value == 1.0
    assert hub["avert"].key is None and hub["avert"].note
    assert bed_table(base_config(Area("system", "south_east_hub"), "baseline")) is None


def test_only_changed_levers_become_overrides() -> None:
    area = Area("tcp", "bhr")
    shipped = levers(base_config(area, "baseline"))
    same = overrides(area, "baseline", shipped, {"coverage": 0.79, "avert": 0.3}, {"replications": 20})
    assert same == ["tcp=bhr", "scenario=baseline", "run.replications=20"]
    changed = overrides(area, "baseline", shipped, {"coverage": 0.9, "crisis": 4, "repatriation": False}, {})
    assert changed[2:] == ["tcp.ctr.coverage=0.9", "tcp.crisis_support.places=4", "tcp.discharge.repatriation=false"]
    cfg = compose(changed)
    assert (cfg.tcp.ctr.coverage, cfg.tcp.crisis_support.places, cfg.tcp.discharge.repatriation) == (0.9, 4, False)


def test_the_bed_table_becomes_the_changed_units_schedules() -> None:
    shipped = bed_table(base_config(Area("tcp", "bhr"), "baseline"))
    assert shipped is not None
    assert bed_overrides(shipped, shipped) == []
    edited = shipped.copy()
    edited.loc[(edited["unit"] == "atu") & (edited["date"] == "2019-03"), "beds"] = 5
    edited = pd.concat([edited, pd.DataFrame([{"unit": "low_secure", "date": "2019-03", "beds": 4}])])
    ovr = bed_overrides(shipped, edited)
    assert [o.split("=", 1)[0] for o in ovr] == ["tcp.beds.atu.schedule", "tcp.beds.low_secure.schedule"]
    cfg = compose(["tcp=bhr", *ovr])
    assert [(s.date, s.beds) for s in cfg.tcp.beds.atu.schedule][-1] == ("2019-03", 5)
    assert [(s.date, s.beds) for s in cfg.tcp.beds.low_secure.schedule][-1] == ("2019-03", 4)
    assert cfg.tcp.beds.medium_secure.schedule == compose(["tcp=bhr"]).tcp.beds.medium_secure.schedule


def test_a_half_filled_row_is_refused() -> None:
    shipped = bed_table(base_config(Area("tcp", "bhr"), "baseline"))
    assert shipped is not None
    edited = pd.concat([shipped, pd.DataFrame([{"unit": "atu", "date": None, "beds": 3}])], ignore_index=True)
    with pytest.raises(TableError, match="row 11 of the bed table needs a unit, a date and beds"):
        bed_overrides(shipped, edited)
    blank = pd.concat([shipped, pd.DataFrame([{"unit": None, "date": None, "beds": None}])], ignore_index=True)
    assert bed_overrides(shipped, blank) == []  # an empty row the editor added is no step


def test_refusals_go_to_their_field() -> None:
    fields = {"coverage": "tcp.ctr.coverage", "avert": None, "beds": "tcp.beds", "seed": "run.seed"}
    checked = check(["tcp=bhr", "tcp.ctr.coverage=1.5"], fields)
    assert checked.cfg is None and checked.field == "coverage"
    assert checked.error == "config error: tcp.ctr.coverage: 1.5 is a probability and must be in [0, 1]"
    assert field_of("config error: tcp.beds.atu.schedule[0].beds: -1 must be at least 0", fields) == "beds"
    assert field_of("config error: run.seed: '-1' must be a whole number in [0, 2**32)", fields) == "seed"
    assert field_of("config error: tcp.ctr.coverages: no such key", fields) is None  # a prefix is not a key
    assert check(["tcp=bhr"], fields).cfg is not None


def test_the_page_s_run_is_sim_api_run() -> None:
    """Its replications run through the runner with a progress call: the same results as sim.api.run."""
    ovr = ["tcp=bhr", "tcp.ctr.coverage=0.9", "run.replications=30", "run.years=1", "run.chunk_size=10"]
    cfg = compose([*ovr, "run.progress=false"])
    calls: list[tuple[int, int]] = []
    reference = base_config(Area("tcp", "bhr"), "baseline")  # the page's, held: not composed at each click
    mine = replications_of(cfg, lambda done, total: calls.append((done, total)), reference)
    theirs = run(cfg)
    assert_frame_equal(mine.summary, theirs.summary)
    assert_frame_equal(mine.trajectory, theirs.trajectory)
    assert calls == [(10, 30), (20, 30), (30, 30)]
    for key in ("changes", "as_shipped", "rerun", "notes"):  # the same provenance as composing it anew
        assert mine.manifest[key] == theirs.manifest[key], key
    assert [c["key"] for c in mine.manifest["changes"]] == ["tcp.ctr.coverage"]


def test_what_the_page_shows_of_a_run() -> None:
    cfg = compose(["tcp=bhr", "run.replications=20", "run.years=1", "run.progress=false"])
    shown = simulate(cfg)
    assert set(shown.charts) == {"fan_inpatients", "milestones"}
    assert all(png[:8] == b"\x89PNG\r\n\x1a\n" for png in shown.charts.values())
    assert list(shown.milestones["month"]) == ["2016-03", "2017-03"]
    figures = shown.key_figures.set_index("figure")
    assert figures.loc["inpatients", "2016-03 (month end)"] == "26.0 (26 to 26)"  # BHR's census
    assert figures.loc["admissions", "total, 2016-03 to 2017-03"] != ""


def test_the_launcher_binds_this_machine_and_says_where(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    execs: list[list[str]] = []
    monkeypatch.setattr(launcher.os, "execv", lambda path, argv: execs.append(list(argv)))
    launcher.main(["--port", "8642"])
    (argv,) = execs
    assert argv[1:4] == ["-m", "streamlit", "run"] and argv[4].endswith("sim/app/main.py")
    assert argv[argv.index("--server.address") + 1] == "127.0.0.1"
    assert argv[argv.index("--server.port") + 1] == "8642"
    assert argv[argv.index("--client.toolbarMode") + 1] == "minimal"  # no Deploy button
    assert "http://127.0.0.1:8642" in capsys.readouterr().out


def test_the_discharge_levers_are_the_scenario_s_keys_for_a_tcp_and_a_system() -> None:
    """The housing pipeline, funding and provider levers set scenario keys (one TCP or every TCP of a
    system alike), shown at the scenario's value: faster_funding halves the funding time."""
    for area in (Area("tcp", "bhr"), Area("system", "south_east_hub")):
        shipped = levers(base_config(area, "baseline"))
        assert (shipped["housing"].key, shipped["housing"].value) == ("scenario.housing_months_earlier", 0)
        assert (shipped["funding"].key, shipped["funding"].value) == ("scenario.funding_delay_factor", 1.0)
        assert (shipped["provider"].key, shipped["provider"].value) == ("scenario.provider_lead_factor", 1.0)
    assert levers(base_config(Area("tcp", "bhr"), "faster_funding"))["funding"].value == 0.5
    assert levers(base_config(Area("tcp", "bhr"), "housing_brought_forward"))["housing"].value == 12
    shipped = levers(base_config(Area("tcp", "bhr"), "baseline"))
    ovr = overrides(Area("tcp", "bhr"), "baseline", shipped, {"provider": 0.5, "housing": 6, "funding": 1.0}, {})
    assert ovr == [
        "tcp=bhr",
        "scenario=baseline",
        "scenario.housing_months_earlier=6",
        "scenario.provider_lead_factor=0.5",
    ]
    assert compose(ovr).scenario.provider_lead_factor == 0.5
    refused = check([*ovr[:2], "scenario.funding_delay_factor=-1"], {"funding": "scenario.funding_delay_factor"})
    assert refused.field == "funding"
    assert refused.error == "config error: scenario.funding_delay_factor: -1 must be at least 0"


def test_an_area_of_the_user_s_own_composes_from_its_directory(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An area in a directory of the user's own (``--config-dir``): found there, labelled with it, and
    composed with it searched first."""
    (tmp_path / "tcp").mkdir()
    (tmp_path / "tcp" / "mine.yaml").write_text((CONFIG_DIR / "tcp" / "bhr.yaml").read_text())
    (found,) = areas_in(tmp_path)
    assert found == Area("tcp", "mine", str(tmp_path.resolve())) and str(tmp_path.resolve()) in found.label
    assert found.config_dirs == (str(tmp_path.resolve()),)
    cfg = found.compose([found.choice])
    assert cfg.tcp.name == compose(["tcp=bhr"]).tcp.name and cfg.run.config_dirs == [str(tmp_path.resolve())]


def test_run_choices_override_the_start_of_a_later_census_chosen_or_not() -> None:
    """Replications and seed always; years when changed; the start whenever it is not the files' own,
    so every page runs a user's 2024 census from 2024 though only the Run page has a start field."""
    files = {"replications": 1000, "seed": 1, "years": 3, "start": "2016-04", "composed_start": "2016-04"}
    assert run_choices({"replications": 50, "seed": 1, "years": 3}, files) == {"replications": 50, "seed": 1}
    assert run_choices({"replications": 50, "seed": 1, "years": 1, "start": "2017-04"}, files) == {
        "replications": 50,
        "seed": 1,
        "years": 1,
        "start": "2017-04",
    }
    later = {**files, "start": "2024-04"}  # start_of: the month after the user's census
    assert run_choices({"replications": 50, "seed": 1, "years": 3}, later) == {
        "replications": 50,
        "seed": 1,
        "start": "2024-04",
    }
    assert run_choices({"replications": 50, "seed": 1, "start": "2016-04"}, later) == {"replications": 50, "seed": 1}
