"""The Forecast page: the calibrations it finds (England's, shipped; one in a config directory with figures
held out), the published figures it draws over the fan (checked by hand against data/observed/england.csv),
its tables (checked against the replications themselves), and the page in Streamlit's AppTest: it lists
England as calibrated, tells an area without a calibration so, runs a tiny forecast (chart, tables,
downloads) whose command line composes to the config it ran, runs without parameter uncertainty, refuses a
bad horizon in the command line's one line beside its field, keeps nothing of a cancelled run and runs a
config once. Tiny runs: England is about 0.13 s a replication-year on its own."""

from __future__ import annotations

import json
import shlex
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.container import ErrorbarContainer
from omegaconf import OmegaConf
from streamlit.testing.v1 import AppTest

from sim.api import RunResult, compose
from sim.app import forecast as fc
from sim.app import forecast_page
from sim.app.levers import Area
from sim.config import build
from sim.config.errors import user_error_line
from sim.config.store import CONFIG_DIR
from sim.observed import read_observed
from sim.plots.fan import HELD_OUT, fan_chart
from sim.report.sections import OBSERVED_DIR

ENGLAND = Area("tcp", "england")
TAG = "tcp=england:england:baseline"  # the widgets' key tag of England, calibration england, baseline
#: England from April 2015: four years reach the plan's March 2019 milestone and the last published figure.
MONTHS_4Y = [f"{y}-{m:02d}" for y in range(2015, 2020) for m in range(1, 13)][3:51]
TINY = ["tcp=england", "scenario=baseline", "+calibrated=england", "run.replications=4", "run.seed=7", "run.years=4"]


def england() -> fc.Calibrated:
    (found,) = [c for c in fc.calibrations() if c.name == "england"]
    return found


def loaded(page_app: Callable[[str, str], AppTest]) -> AppTest:
    at = page_app("forecast_page", "forecast_page")
    at.run()
    assert not at.exception, at.exception
    return at


def tiny(at: AppTest, years: float = 4.0, replications: int = 4) -> AppTest:
    at.number_input(key=f"years:{TAG}").set_value(years)
    at.number_input(key=f"replications:{TAG}").set_value(replications)
    return at


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def downloads(at: AppTest) -> list[str]:
    return [b.label for b in at.get("download_button")]


def cli_line(overrides: list[str]) -> str:
    """What the command line says of these overrides (sim.cli prints the same one line)."""
    try:
        build(compose(overrides))
    except Exception as e:  # noqa: BLE001 - the error is what is compared
        line = user_error_line(e)
        assert line is not None, e
        return line
    raise AssertionError(f"{overrides} are not refused")


@pytest.fixture(scope="module")
def tiny_run() -> tuple[fc.Forecast, RunResult]:
    """England's tiny forecast (4 replications, 4 years) and the replications it was made of."""
    kept: list[RunResult] = []
    made = fc.replications_of

    def keep(*args: Any, **kwargs: Any) -> RunResult:
        kept.append(made(*args, **kwargs))
        return kept[-1]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fc, "replications_of", keep)
        f = fc.forecast(compose(TINY), england())
    return f, kept[0]


# ------------------------------------------------------------------------------- without Streamlit


def test_england_is_found_from_its_files() -> None:
    """The shipped calibration is read, not named: the system from its manifest, its posterior's draws, the
    16 figures fitted (README), none held out; it applies to England alone."""
    c = england()
    assert c.problem is None and c.system == "england" and c.config_dir is None
    assert c.posterior == CONFIG_DIR / "calibrated" / "england" / "posterior.parquet"
    assert c.draws == 107 and len(c.fitted) == 16 and c.held_out == ()
    assert c.override == "+calibrated=england"
    assert c.applies_to(ENGLAND) and not c.applies_to(Area("tcp", "bhr"))
    assert not c.applies_to(Area("tcp", "england", "/somewhere/else"))  # another directory's England
    assert c.role("inpatients 2018-05 (as published)") == "train"
    assert c.role("inpatients 2015-03 (revised)") == HELD_OUT  # the start state: never fitted to


def test_observed_points_by_hand() -> None:
    """The stock figures of one metric inside April 2015 to March 2019, as data/observed/england.csv has
    them (values and roundings read off the file): the March 2015 rows are the start census, not points;
    shares and the secure sum are not points on a fan."""
    observations = read_observed(OBSERVED_DIR / "england.csv")
    points = fc.observed_points(observations, MONTHS_4Y, england().role)
    got = [(r.metric, r.month, r.value, r.low, r.high, r.role) for r in points.itertuples()]
    assert got == [
        ("inpatients", "2015-09", 2595, 2592.5, 2597.5, "train"),
        ("inpatients", "2016-02", 2650, 2647.5, 2652.5, "train"),
        ("inpatients", "2017-05", 2500, 2497.5, 2502.5, "train"),
        ("inpatients", "2018-05", 2400, 2397.5, 2402.5, "train"),
        ("inpatients", "2019-02", 2295, 2292.5, 2297.5, "train"),
        ("inpatients_camhs_t4", "2019-02", 250, 247.5, 252.5, "train"),
        ("long_stayers_5y", "2016-02", 895, 892.5, 897.5, "train"),
        ("register", "2015-11", 24000, 22800, 25200, "train"),
    ]
    two_years = fc.observed_points(observations, MONTHS_4Y[:24], england().role)  # to March 2017
    assert list(two_years.loc[two_years["metric"] == "inpatients", "month"]) == ["2015-09", "2016-02"]


def test_tables_against_the_replications(tiny_run: tuple[fc.Forecast, RunResult]) -> None:
    """The bands table and the figures table recomputed from the replications' own monthly values."""
    f, r = tiny_run
    monthly = r.monthly
    at = monthly.set_index("month")
    assert f.uncertainty and f.replications == 4
    bands = f.bands
    assert list(dict.fromkeys(bands["month"])) == [
        "2015-09", "2016-02", "2016-03", "2017-03", "2017-05", "2018-03", "2018-05", "2019-02", "2019-03"
    ]  # fmt: skip
    row = bands.set_index("month").loc["2017-05"]
    assert row["observed"] == 2500 and row["fit"] == "fitted"
    values = np.sort(at.loc["2017-05", "inpatients"].to_numpy())
    assert row["90% band from"] <= values[1] and values[-1] >= row["90% band to"] >= values[-2]
    assert row["median"] == np.floor(np.median(values))  # the lower median, as the fan draws it
    plan = bands.set_index("month").loc["2019-03"]
    share = float((at.loc["2019-03", "inpatients"] <= 1888).mean())
    assert plan["planned"] == 1888 and plan["P(at or under the plan)"] == f"{share:.0%}"
    assert bands.set_index("month").loc["2016-03", ["observed", "planned"]].isna().all()
    figures = f.figures.set_index("figure")
    assert "inpatients 2015-03 (revised)" not in figures.index  # the start state
    stock = figures.loc["inpatients 2017-05 (as published)"]
    assert stock["median"] == pytest.approx(np.median(values))
    months = [m for m in MONTHS_4Y if "2016-04" <= m <= "2019-03"]
    admissions = monthly[monthly["month"].isin(months)].groupby("replication")["admissions"].sum()
    flow = figures.loc["admissions 2016-04 to 2019-03 (as published)"]
    assert flow["observed"] == 3600 and flow["median"] == pytest.approx(admissions.median())
    assert [flow["p05"], flow["p95"]] == pytest.approx(np.quantile(admissions, [0.05, 0.95]))
    share_row = figures.loc["long_stayers_2y / inpatients 2017-05 (as published)"]
    ratio = at.loc["2017-05", "long_stayers_2y"] / at.loc["2017-05", "inpatients"]
    assert share_row["median"] == pytest.approx(np.median(ratio))


def test_the_chart_draws_the_points(tiny_run: tuple[fc.Forecast, RunResult]) -> None:
    """The inpatients chart holds the published points at their month ends, filled as fitted."""
    f, _ = tiny_run
    fig = fc.draw(f, "forecast_inpatients")
    try:
        (bars,) = [c for c in fig.axes[0].containers if isinstance(c, ErrorbarContainer)]
        assert bars.get_label() == "observed"
        line = bars.lines[0]
        assert list(line.get_ydata()) == [2595, 2650, 2500, 2400, 2295]
        assert [pd.Timestamp(x).strftime("%Y-%m-%d") for x in line.get_xdata()][:2] == ["2015-09-30", "2016-02-29"]
        assert fig.axes[0].get_ylim()[1] >= 2597.5
    finally:
        plt.close(fig)
    assert set(f.charts) == {"forecast_inpatients", "forecast_observed"}


def test_a_calibration_of_a_config_dir_with_figures_held_out(
    tmp_path: Path, tiny_run: tuple[fc.Forecast, RunResult]
) -> None:
    """A calibration as sim.calibrate writes it (calibrated/<name>.yaml naming its posterior, the manifest
    beside the posterior) in a config directory: found, applied to that directory's England only, and a
    figure its manifest holds out drawn hollow."""
    out = tmp_path / "run"
    out.mkdir()
    shutil.copy(CONFIG_DIR / "calibrated" / "england" / "posterior.parquet", out / "posterior.parquet")
    fitted = ["inpatients 2015-09 (as published)", "inpatients 2018-05 (as published)"]
    manifest = {"system": "england", "targets": fitted, "held_out": fitted[1:]}
    (out / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "calibrated").mkdir()
    override = f"# @package _global_\nrun:\n  parameters: {out}/posterior.parquet\n"  # as write_override does
    (tmp_path / "calibrated" / "mine.yaml").write_text(override)
    found = fc.calibrations([str(tmp_path)])
    mine = found[0]
    assert (mine.name, mine.system, mine.posterior, mine.draws) == ("mine", "england", out / "posterior.parquet", 107)
    assert mine.label == "mine: a posterior of 107 draws fitted to 1 published figure, 1 held out"
    own = Area("tcp", "england", str(tmp_path))
    assert [c.name for c in fc.applying(found, own)] == ["mine"]
    assert [c.name for c in fc.applying(found, ENGLAND)] == ["england"]
    (out / "manifest.json").unlink()  # a posterior alone: its own metadata names the system, nothing the roles
    bare = fc.calibrations([str(tmp_path)])[0]
    assert bare.system == "england" and bare.role("inpatients 2015-09 (as published)") == fc.UNKNOWN
    assert bare.label == "mine: a posterior of 107 draws (no manifest says what it was fitted to)"
    points = fc.observed_points(read_observed(OBSERVED_DIR / "england.csv"), MONTHS_4Y, mine.role)
    f, _ = tiny_run
    fig = fan_chart(f.summary, "inpatients", title="t", ylabel="y", source="s", observed=points)
    try:
        bars = {c.get_label(): c for c in fig.axes[0].containers if isinstance(c, ErrorbarContainer)}
        assert list(bars["observed"].lines[0].get_ydata()) == [2595]
        hollow = bars["observed, held out"].lines[0]
        assert list(hollow.get_ydata()) == [2650, 2500, 2400, 2295]  # held out of this fit, or never in it
        assert hollow.get_markerfacecolor() == "white"
    finally:
        plt.close(fig)


def test_a_calibrated_file_that_cannot_be_used_says_why(tmp_path: Path) -> None:
    (tmp_path / "calibrated").mkdir()
    (tmp_path / "calibrated" / "medians.yaml").write_text("tcp:\n  ctr:\n    avert: 0.4\n")
    (tmp_path / "calibrated" / "gone.yaml").write_text("run:\n  parameters: /no/such/posterior.parquet\n")
    gone, medians = fc.calibrations([str(tmp_path)])[:2]
    assert medians.problem == "medians.yaml sets no run.parameters (no posterior)"
    missing = "no such file: /no/such/posterior.parquet"
    assert gone.problem == f"config error: calibrated/gone.yaml: run.parameters: {missing}"
    assert not gone.applies_to(Area("tcp", "england", str(tmp_path)))


# ------------------------------------------------------------------------------- the page (AppTest)


def test_page_lists_england_as_calibrated(page_app: Callable[[str, str], AppTest]) -> None:
    at = loaded(page_app)
    assert at.title[0].value == "Forecast"
    listed = at.markdown[0].value
    assert listed.startswith("**Areas with a calibrated posterior:** england (TCP) (england: a posterior of 107")
    assert at.selectbox(key="forecast:area").value == ENGLAND  # the calibrated areas first
    assert at.selectbox(key="forecast:area").options[0] == "england (TCP) (calibrated)"
    assert at.toggle(key=f"uncertainty:{TAG}").value is True
    # the README's forecast: ten years from April 2015 (a year past the plan's March 2024 milestone)
    assert at.code[0].value == (
        "python -m sim tcp=england scenario=baseline +calibrated=england run.replications=1000 "
        "run.seed=20160401 run.years=10"
    )
    assert not errors(at) and not at.image and not at.warning


def test_an_area_without_a_calibration_is_told(page_app: Callable[[str, str], AppTest]) -> None:
    at = loaded(page_app)
    at.selectbox(key="forecast:area").set_value(Area("tcp", "bhr")).run()
    assert not at.exception and not errors(at)
    (told,) = [i.value for i in at.info]
    assert told.startswith("No calibration applies to bhr (TCP): there is no forecast of it to show.")
    assert "`python -m sim.calibrate calibration=bhr` (configs/calibration/bhr.yaml fits this area)" in told
    assert not at.button and not at.code  # nothing to run


def test_a_tiny_forecast_shows_chart_tables_downloads(page_app: Callable[[str, str], AppTest]) -> None:
    """A tiny forecast: both charts, the tables, every download; the command shown composes to the
    config the page ran (the resolved YAML its cache is keyed by)."""
    at = tiny(loaded(page_app))
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert not errors(at)
    assert len(at.image) == 2
    ran, f, cfg = at.session_state[forecast_page.SHOWN]
    points = fc.observed_points(read_observed(OBSERVED_DIR / "england.csv"), MONTHS_4Y, england().role)
    pd.testing.assert_frame_equal(f.points, points)
    bands, figures = (d.value for d in at.dataframe)
    assert bands.loc[bands["month"] == "2015-09", "observed"].item() == 2595
    assert bands.loc[bands["month"] == "2019-03", "planned"].item() == 1888
    assert len(figures) == 16 and set(figures["fit"]) == {"fitted"}
    assert any(c.value.startswith("4 replications (each on its own posterior draw) in") for c in at.caption)
    labels = downloads(at)
    for label in ("Chart (PNG)", "Chart (SVG)", "Bands (CSV)", "Published figures (CSV)", "Forecast tables (Excel)"):
        assert label in labels
    for label in ("Report (HTML)", "Report (Word)", "Overrides (YAML)"):
        assert label in labels
    assert labels.count("Chart (PNG)") == 2  # each chart
    words = shlex.split(at.code[0].value)
    assert words[:3] == ["python", "-m", "sim"] and words[3:] == list(ran)
    assert words[3:] == ["tcp=england", "scenario=baseline", "+calibrated=england"] + [
        "run.replications=4",
        "run.seed=20160401",
        "run.years=4",
    ]
    assert OmegaConf.to_yaml(compose(words[3:]), resolve=True) == OmegaConf.to_yaml(cfg, resolve=True)


def test_without_parameter_uncertainty(page_app: Callable[[str, str], AppTest]) -> None:
    """Off: run.parameters=null in the command (every replication on the posterior medians)."""
    at = tiny(loaded(page_app), years=1.0)
    at.toggle(key=f"uncertainty:{TAG}").set_value(False).run()
    words = shlex.split(at.code[0].value)
    assert "run.parameters=null" in words
    cfg = compose(words[3:])
    assert cfg.run.parameters is None and cfg.tcp.ctr.avert == 0.37621  # the medians (calibrated/england.yaml)
    at.button[0].click().run()
    assert not at.exception and not errors(at)
    ran, f, _ = at.session_state[forecast_page.SHOWN]
    assert list(ran) == words[3:] and not f.uncertainty
    assert any(c.value.startswith("4 replications (all on the posterior medians)") for c in at.caption)


def test_a_bad_horizon_is_told_beside_it(page_app: Callable[[str, str], AppTest]) -> None:
    at = tiny(loaded(page_app), years=0.0)
    at.button[0].click().run()
    assert not at.exception
    expected = cli_line(["tcp=england", "+calibrated=england", "run.years=0"])
    assert errors(at) == [expected] == ["config error: run.years: 0 must be above 0"]
    column = next(c for c in at.columns if any(w.key == f"years:{TAG}" for w in c.number_input))
    assert [e.value for e in column.error] == [expected]
    assert not at.image
    at.number_input(key=f"years:{TAG}").set_value(1.0).run()  # corrected: the message goes
    assert not errors(at) and not at.exception


def test_a_cancelled_run_keeps_nothing_and_a_run_is_made_once(
    page_app: Callable[[str, str], AppTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = tiny(loaded(page_app))
    first.button[0].click().run()  # a forecast made (from the cache if made before)
    assert len(first.image) == 2
    calls: list[object] = []

    def cancelled(cfg: object, calibrated: object, on_progress: Callable[[int, int], None]) -> None:
        calls.append(cfg)
        forecast_page.st.session_state["cancelled"] = True  # as the Cancel button does
        on_progress(1, 4)
        raise AssertionError("not cancelled")

    monkeypatch.setattr(forecast_page, "forecast", cancelled)
    at = tiny(loaded(page_app), replications=5)
    at.button[0].click().run()
    assert not at.exception and not errors(at) and not at.image and len(calls) == 1
    assert forecast_page.SHOWN not in at.session_state
    assert [w.value for w in at.warning] == ["The run was cancelled: nothing of it was kept."]
    at.run()
    assert not at.warning  # said once

    def fails(*args: object) -> None:
        calls.append(args)
        raise RuntimeError("ran again")

    monkeypatch.setattr(forecast_page, "forecast", fails)
    again = tiny(loaded(page_app))  # another session, the config run first: from the cache
    again.button[0].click().run()
    assert not again.exception and not errors(again) and len(again.image) == 2 and len(calls) == 1
    other = tiny(loaded(page_app), replications=6)  # a config not run before is run
    other.button[0].click().run()
    assert not other.exception and len(calls) == 2
    assert errors(other) == ["error: RuntimeError: ran again"]  # one line, no traceback
