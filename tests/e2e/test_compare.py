"""Scenario comparison on common random numbers (sim.compare; its intervals are sim.results.intervals, its
command line the Hydra app sim.compare.__main__): the interval arithmetic, the spread of paired
differences and P(better) against hand computations, the smallest difference that matters, pairing that
narrows intervals on a real scenario pair, identical scenarios differing by nothing, the hub's headline,
the chart's labels, and the command line end to end."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from helpers import make_cfg
from scipy import stats

from sim.compare import (
    COLUMNS,
    PLAN_METRIC,
    CannotSeparateWarning,
    compare,
    compose_scenarios,
    forest_chart,
    paired_table,
    separation_warnings,
    smaller_than_matters_notes,
    smallest_for,
)
from sim.compare.__main__ import main
from sim.config import ConfigError, build
from sim.config.scenario import smallest_difference
from sim.results.intervals import paired_ci, replications_needed, welch_half_width

ROOT = Path(__file__).resolve().parents[2]
FAST = ["run.engine=numba", "run.progress=false"]  # the compiled engine: about a millisecond a BHR replication


# ------------------------------------------------------------------------------- interval arithmetic


def test_paired_ci_matches_scipy_t():
    """The paired interval is scipy's t interval of the differences (and ttest_rel's); the independent
    half width is Welch's interval of ttest_ind(equal_var=False)."""
    rng = np.random.default_rng(7)
    x = rng.normal(10.0, 3.0, 25)
    y = x + rng.normal(0.6, 0.5, 25)  # paired: y shares x's noise
    d = y - x
    mean, low, high, half = paired_ci(d, 0.95)
    lo, hi = stats.t.interval(0.95, len(d) - 1, loc=d.mean(), scale=stats.sem(d))
    assert mean == pytest.approx(d.mean(), rel=1e-12)
    assert (low, high) == (pytest.approx(lo, rel=1e-12), pytest.approx(hi, rel=1e-12))
    assert half == pytest.approx((hi - lo) / 2, rel=1e-12)
    rel = stats.ttest_rel(y, x).confidence_interval(0.95)
    assert (low, high) == (pytest.approx(rel.low, rel=1e-10), pytest.approx(rel.high, rel=1e-10))
    assert paired_ci(d, 0.9)[3] < half  # a lower level, a narrower interval
    welch = stats.ttest_ind(y, x, equal_var=False).confidence_interval(0.95)
    assert welch_half_width(y, x, 0.95) == pytest.approx((welch.high - welch.low) / 2, rel=1e-10)
    assert welch_half_width(y, x) > 5 * half  # the shared noise is what pairing removes


def test_paired_ci_edge_cases():
    """Identical pairs: exactly zero with zero width; one pair: no interval; NaNs are left out."""
    assert paired_ci(np.zeros(10)) == (0.0, 0.0, 0.0, 0.0)
    mean, low, high, half = paired_ci(np.array([2.0]))
    assert mean == 2.0 and math.isnan(low) and math.isnan(half)
    assert paired_ci(np.array([1.0, np.nan, 3.0]))[0] == 2.0
    assert welch_half_width(np.ones(5), np.ones(5)) == 0.0


# ------------------------------------------------------------------------------- synthetic paired sets


def frames(key: tuple[str, str], **values: np.ndarray) -> dict[str, pd.DataFrame]:
    """Per-replication outcomes of one (metric, period) column for each named scenario."""
    return {name: pd.DataFrame({key: v}, index=pd.RangeIndex(len(v), name="replication")) for name, v in values.items()}


BASE = np.array([10.0, 12, 9, 11, 10, 13, 8, 10, 11, 12])
DIFF = np.array([-2.0, -1, 0, 1, -3, -1, -1, 0, 2, -1])  # six lower, two higher, two ties


def test_spread_and_p_better_against_a_hand_computation():
    """On ten paired replications: the 5th and 95th percentiles of the differences (linear interpolation
    between order statistics, sorted -3 -2 -1 -1 -1 -1 0 0 1 2: -3 + 0.45 x 1 and 1 + 0.55 x 1), and
    P(better) the share of replications in which the scenario does strictly better, by the metric's
    direction: fewer inpatients (6 of 10), more repatriations (2 of 10), none for occupancy."""
    for metric, better, p_better, p_worse in [
        ("inpatients", "lower", 0.6, 0.2),
        ("repatriations", "higher", 0.2, 0.6),
        ("occupancy", "", math.nan, math.nan),
    ]:
        key = (metric, "2019-03")
        row = paired_table(frames(key, base=BASE, s=BASE + DIFF), "base").iloc[0]
        assert row["diff_p05"] == pytest.approx(-2.55) and row["diff_p95"] == pytest.approx(1.55)
        assert row["better"] == better
        assert row["mean_diff"] == pytest.approx(-0.6)
        if better:
            assert (row["p_better"], row["p_worse"]) == (pytest.approx(p_better), pytest.approx(p_worse))
        else:
            assert math.isnan(row["p_better"]) and math.isnan(row["p_worse"])
    # P(at or under the plan) is better higher: its differences are -1, 0 or +1 a replication
    key = (PLAN_METRIC, "2019-03")
    base = np.array([0.0, 1, 0, 0, 1])
    row = paired_table(frames(key, base=base, s=np.array([1.0, 1, 1, 0, 0])), "base").iloc[0]
    assert row["better"] == "higher" and row["p_better"] == pytest.approx(0.4) and row["p_worse"] == pytest.approx(0.2)


def test_columns_say_what_they_hold():
    """ci_width_ratio is the independent over the paired half width, variance_ratio its square; the old
    variance_reduction (which held the widths' ratio) is gone; the label is the catalogue's."""
    key = ("inpatients", "2019-03")
    rng = np.random.default_rng(1)
    base = rng.normal(20, 4, 30)
    row = paired_table(frames(key, base=base, s=base + rng.normal(-1, 0.5, 30)), "base").iloc[0]
    assert list(row.index) == COLUMNS and "variance_reduction" not in COLUMNS
    assert row["ci_width_ratio"] == pytest.approx(row["half_width_independent"] / row["half_width_paired"])
    assert row["variance_ratio"] == pytest.approx(row["ci_width_ratio"] ** 2)
    assert row["variance_ratio"] > 10 * row["ci_width_ratio"] > 10
    assert row["label"] == "Inpatients at month end"


def test_a_tiny_difference_is_smaller_than_matters_not_a_call_for_replications():
    """A hundredth of a person (interval containing 0) is 'smaller than matters' (half a person): no
    warning, no number of replications, a note instead; a difference of a person with a wide interval is
    'not separated' and the warning says how many replications would separate it."""
    key = ("inpatients", "2019-03")
    n = 12
    rng = np.random.default_rng(3)
    base = rng.normal(20.0, 4.0, n)
    tiny = np.linspace(-0.5, 0.52, n)  # mean 0.01
    big = np.linspace(-4.0, 6.0, n)  # mean 1.0, sd about 3.3: the interval contains 0
    common = frames(key, base=base, tiny=base + tiny, big=base + big)
    table = paired_table(common, "base")
    assert list(table["verdict"]) == ["smaller than matters", "not separated"]
    assert list(table["smallest_difference"]) == [0.5, 0.5]
    messages = separation_warnings(table, common, "base", "inpatients")
    assert len(messages) == 1 and "big" in messages[0] and "tiny" not in messages[0]
    expected = math.ceil(((stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * big.std(ddof=1) / big.mean()) ** 2)
    assert replications_needed(big) == expected and f"about {expected:,} replications" in messages[0]
    notes = smaller_than_matters_notes(table, "base", ["inpatients"])
    assert len(notes) == 1 and "tiny" in notes[0] and "smaller than matters (±0.5)" in notes[0]
    assert "replications" not in notes[0]
    # a difference clear of zero but under the margin is still smaller than matters
    table = paired_table(frames(key, base=base, s=base - 0.2), "base")
    assert table["verdict"].iloc[0] == "smaller than matters" and table["ci_high"].iloc[0] < 0


def test_smallest_difference_rules():
    """Defaults by unit (half a person, 1% of the baseline's pounds, five points of a probability), a
    metric's own (absolute or "N%"), a TCP's metric by its system-wide name; bad values are refused."""
    assert smallest_for("inpatients", 30.0, 29.0) == 0.5
    assert smallest_for("cost_total", 2e6, 1.9e6) == pytest.approx(2e4)
    assert smallest_for("cost_total", 0.0, 5e5) == pytest.approx(5e3)  # no baseline spend: the scenario's
    assert smallest_for(PLAN_METRIC, 0.4, 0.5) == 0.05
    assert smallest_for("surrey/p_at_or_under_plan", 0.4, 0.5) == 0.05
    rules = {"inpatients": smallest_difference("k", 2), "cost_total": smallest_difference("k", "5%")}
    assert smallest_for("inpatients", 30.0, 29.0, rules) == 2.0
    assert smallest_for("kent_medway/inpatients", 30.0, 29.0, rules) == 2.0
    assert smallest_for("cost_total", 2e6, 1.9e6, rules) == pytest.approx(1e5)
    for bad in (0, -1, "abc", "-2%", True):
        with pytest.raises(ConfigError, match="k"):
            smallest_difference("k", bad)


@pytest.mark.parametrize(
    "override, key",
    [
        ("scenario.headline=[inpatients,inpatients]", "scenario.headline"),
        ("+scenario.smallest_difference.inpatients=0", "scenario.smallest_difference.inpatients"),
        ("+scenario.smallest_difference.cost_total=lots", "scenario.smallest_difference.cost_total"),
    ],
)
def test_a_bad_headline_is_refused_when_the_config_is_built(override, key):
    with pytest.raises(ConfigError) as e:
        build(make_cfg([override]))
    assert e.value.key == key


# ------------------------------------------------------------------------------- real scenario pairs


@pytest.fixture(scope="module")
def ctr_comparison():
    """BHR baseline against full pre-admission CTR coverage (by override), 60 paired replications, plus
    the independent-seed run of the latter."""
    cfgs = {
        "baseline": make_cfg([*FAST, "run.replications=60"]),
        "full_ctr": make_cfg([*FAST, "run.replications=60", "tcp.ctr.coverage=1.0"]),
    }
    return compare(cfgs, "baseline", warn=False)


def test_paired_ci_is_narrower_than_independent_seeds(ctr_comparison):
    """Common random numbers narrow the interval of every headline quantity several times over the same
    pair run on independent seeds (measured: about 5-7x on BHR); and the differences go the expected way."""
    t = ctr_comparison.table.set_index(["metric", "period"])
    whole = "2016-04 to 2019-03"
    for key in [
        ("inpatients", "2019-03"),
        ("admissions", whole),
        ("out_of_area_placements", whole),
        ("delayed_bed_days", whole),
        ("cost_total", whole),
    ]:
        row = t.loc[key]
        assert 0 < row["half_width_paired"] < row["half_width_independent"], key
        assert row["ci_width_ratio"] == pytest.approx(row["half_width_independent"] / row["half_width_paired"])
        assert row["diff_p05"] <= row["ci_low"] <= row["ci_high"] <= row["diff_p95"], key  # spread beyond the CI
    finite = ctr_comparison.table["ci_width_ratio"].replace(np.inf, np.nan).dropna()
    assert finite.median() > 3
    admissions = t.loc[("admissions", whole)]
    assert admissions["ci_high"] < 0 and admissions["verdict"] == "better" and admissions["p_better"] > 0.5
    assert ctr_comparison.independent_seed == ctr_comparison.seed + 1
    assert not ctr_comparison.independent_outcomes["full_ctr"].equals(ctr_comparison.outcomes["full_ctr"])


def test_p_better_and_spread_are_those_of_the_paired_outcomes(ctr_comparison):
    """The table's P(better) and percentiles are recomputed from the per-replication outcomes it keeps."""
    c = ctr_comparison
    key = ("admissions", "2016-04 to 2019-03")
    diff = (c.outcomes["full_ctr"][key] - c.outcomes["baseline"][key]).to_numpy()
    row = c.table.set_index(["metric", "period"]).loc[key]
    assert row["p_better"] == pytest.approx(np.mean(diff < 0)) and row["p_worse"] == pytest.approx(np.mean(diff > 0))
    assert (row["diff_p05"], row["diff_p95"]) == tuple(pytest.approx(v) for v in np.percentile(diff, [5, 95]))


def test_outcome_periods_add_up(ctr_comparison):
    """Financial years sum to the whole run; the plan rows are P(at or under) per replication; the table's
    difference is the difference of the scenario means."""
    o = ctr_comparison.outcomes["baseline"]
    years = [("admissions", p) for p in ("2016/17", "2017/18", "2018/19")]
    assert np.allclose(o[years].sum(axis=1), o[("admissions", "2016-04 to 2019-03")])
    assert set(np.unique(o[(PLAN_METRIC, "2019-03")])) <= {0.0, 1.0}
    assert (PLAN_METRIC, "2016-03") not in o.columns  # the census start is the same in every scenario
    t = ctr_comparison.table
    assert np.allclose(t["mean_diff"], t["scenario_mean"] - t["baseline_mean"])
    assert (t["n"] == 60).all() and (t["ci_low"] <= t["mean_diff"]).all() and (t["mean_diff"] <= t["ci_high"]).all()


def test_chart_is_written_with_human_labels(ctr_comparison, tmp_path):
    """comparison.png is written; its words are the catalogue's labels, months as Mar 2019 and scenario
    names in words, never a raw key; P(better) is written beside the rows."""
    out = ctr_comparison.write(tmp_path / "cmp", command=["test"])
    assert (out / "comparison.png").stat().st_size > 10_000
    table = pd.read_csv(out / "comparison.csv")
    assert list(table.columns) == COLUMNS
    sheet = openpyxl.load_workbook(out / "comparison.xlsx")["Comparison"]  # the same table, headed
    assert str(sheet["A2"].value).startswith("Units: ") and str(sheet["A3"].value).startswith("Source: ")
    assert [c.value for c in sheet[4]] == COLUMNS and sheet.max_row == 4 + len(table)
    assert sheet.cell(5, COLUMNS.index("mean_diff") + 1).value == pytest.approx(table["mean_diff"].iloc[0], rel=1e-5)
    fig = forest_chart(ctr_comparison)
    words = [t.get_text() for t in fig.findobj(match=lambda a: hasattr(a, "get_text"))]
    words = [w for w in words if w]
    assert any(w.endswith(": Full CTR against baseline") for w in words)
    assert "Admissions in the period (people)" in words and "Mar 2019" in words
    assert any(w.startswith("P(better) ") for w in words)
    assert not any("_" in w and not w.startswith("Source") for w in words), [w for w in words if "_" in w]
    assert not any("baseline baseline" in w for w in words)


def test_identical_scenarios_differ_by_exactly_zero():
    """The same config twice on the same seed: every difference is exactly 0 with zero width, and the
    warning says no number of replications separates them."""
    cfg = [*FAST, "run.replications=15", "run.years=1"]
    with pytest.warns(CannotSeparateWarning, match="same inpatients"):
        c = compare({"a": make_cfg(cfg), "b": make_cfg(cfg)}, "a", independent=False)
    t = c.table
    assert len(t) > 5
    assert (t["mean_diff"] == 0).all() and (t["half_width_paired"] == 0).all()
    assert (t["ci_low"] == 0).all() and (t["ci_high"] == 0).all()
    assert (t["verdict"] == "same in every replication").all()
    assert (t["half_width_independent"] > 0).any()


@pytest.fixture(scope="module")
def hub_comparison():
    """The hub question as the scenario files ask it: hub pooling against separate pools, 20 paired
    replications over the three years to March 2019."""
    cfgs = compose_scenarios(["separate_pools", "hub_pooling"], ["system=south_east_hub", *FAST, "run.replications=20"])
    return compare(cfgs, warn=False, independent=False)


def test_hub_headline_is_people_out_of_area_and_pooling_lowers_it(hub_comparison):
    """hub_pooling's headline (people out of area at each milestone, out-of-area bed-days and their cost)
    comes first in the table, and pooling lowers each: fewer people out of area in March 2019, with an
    interval clear of zero; its own smallest difference of out-of-area bed-days (182) is used."""
    c = hub_comparison
    assert c.headlines == ["inpatients_out_of_area", "inpatient_days_out_of_area", "cost_beds_out_of_area"]
    t = c.table
    assert list(dict.fromkeys(t["metric"]))[:4] == [*c.headlines, "inpatients"]
    rows = t.set_index(["metric", "period"])
    stock = rows.loc[("inpatients_out_of_area", "2019-03")]
    assert stock["mean_diff"] < 0 and stock["ci_high"] < 0 and stock["verdict"] == "better"
    assert stock["p_better"] > stock["p_worse"]
    whole = "2016-04 to 2019-03"
    assert rows.loc[("inpatient_days_out_of_area", whole), "mean_diff"] < 0
    assert rows.loc[("inpatient_days_out_of_area", whole), "smallest_difference"] == 182
    assert rows.loc[("cost_beds_out_of_area", whole), "mean_diff"] < 0
    assert set(c.headline_rows()["metric"]) == set(c.headlines)
    labels = set(t["label"])
    assert "Kent and Medway: P(inpatients at or under the plan)" in labels


# ------------------------------------------------------------------------------- command line

TINY = ["run.replications=3", "run.years=0.5", "run.progress=false"]


@pytest.mark.slow
def test_cli_writes_csv_and_chart(tmp_path):
    """python -m sim.compare on the hub's pair, tiny: the table, chart and manifest are written into
    compare.out, Hydra's own run directory is not left behind, the table is printed, and an existing
    comparison is never overwritten."""
    out = tmp_path / "cmp"
    args = [sys.executable, "-m", "sim.compare", "scenario=separate_pools,hub_pooling", "system=south_east_hub"]
    args += [*TINY, f"compare.out={out}", f"hydra.run.dir={tmp_path / 'hydra'}"]
    p = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    table = pd.read_csv(out / "comparison.csv")
    assert list(table.columns) == COLUMNS
    assert set(table["scenario"]) == {"hub_pooling"} and set(table["baseline"]) == {"separate_pools"}
    assert list(dict.fromkeys(table["metric"]))[:2] == ["inpatients_out_of_area", "inpatient_days_out_of_area"]
    assert {"inpatients", "admissions", "cost_total"} <= set(table["metric"])
    assert (out / "comparison.png").stat().st_size > 10_000
    assert "narrower than with independent seeds" in p.stdout and "Traceback" not in p.stderr
    assert not (tmp_path / "hydra").exists()
    before = (out / "comparison.csv").read_text()
    again = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and "already holds files" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    assert (out / "comparison.csv").read_text() == before


def test_cli_in_process_writes_into_compare_out(tmp_path, capsys):
    """main() composes with Hydra, every override applying to both scenarios, and writes compare.out."""
    out = tmp_path / "cmp"
    code = main(["scenario=baseline,full_ctr_coverage", *TINY, "run.years=1", f"compare.out={out}"])
    assert code == 0, capsys.readouterr().err
    table = pd.read_csv(out / "comparison.csv")
    assert list(dict.fromkeys(table["metric"]))[:3] == ["admissions_averted", "admissions", PLAN_METRIC]
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["scenario=baseline,nowhere"], "config error: no config 'scenario/nowhere' (available: baseline"),
        (["scenario=baseline"], "config error: scenario: 'baseline': name two or more scenarios"),
        (["tcp=bhr"], "config error: scenario: name the scenarios to compare"),
        (["scenario=baseline,baseline"], "config error: scenario: baseline listed more than once"),
        (["scenario=baseline,full_ctr_coverage", "run.seed=abc"], "config error: run.seed: Value 'abc'"),
        (["scenario=baseline,full_ctr_coverage", "run.nope=1"], "config error: run.nope: Key 'nope' not in"),
        (
            ["scenario=baseline,full_ctr_coverage", "run.replications=1"],
            "config error: run.replications: 1: a comparison needs",
        ),
        (
            ["scenario=baseline,full_ctr_coverage", "compare.metrics=[nonsense]"],
            "config error: compare.metrics: no metric",
        ),
        (["scenario=baseline,full_ctr_coverage", "compare.level=2"], "config error: compare.level: 2 must be"),
        (["scenario=baseline,full_ctr_coverage", "-m"], "config error: --multirun: compare runs its scenarios itself"),
    ],
)
def test_user_error_is_one_line_exit_2(argv, expected, capsys, tmp_path):
    """A bad scenario list, override or metric: exit 2, one line on stderr naming it, nothing written."""
    assert main([*argv, f"compare.out={tmp_path / 'cmp'}", f"hydra.run.dir={tmp_path / 'hydra'}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(expected) and len(err.splitlines()) == 1, err
    assert not (tmp_path / "cmp").exists() and not (tmp_path / "hydra").exists()


def test_an_existing_output_directory_is_refused(tmp_path, capsys):
    """compare.out naming a directory with files in it is refused before anything runs or is written."""
    out = tmp_path / "cmp"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["scenario=baseline,full_ctr_coverage", f"compare.out={out}"]) == 2
    assert "compare.out" in capsys.readouterr().err and sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_help_prints_usage(capsys):
    assert main(["--help"]) == 0
    assert "scenario=a,b" in capsys.readouterr().out


def test_cli_bad_override_is_one_line_exit_2(tmp_path):
    """As a user runs it (python -m sim.compare, Hydra's own parsing): a bad override is one line, exit 2,
    no traceback and no directory left behind."""
    args = [sys.executable, "-m", "sim.compare", "scenario=baseline,full_ctr_coverage", "run.replicatons=3"]
    args += [f"hydra.run.dir={tmp_path / 'hydra'}"]
    p = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 2, p.stderr
    assert p.stderr.strip().startswith("config error: run.replicatons") and len(p.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "hydra").exists()
