"""Scenario comparison on common random numbers (sim.compare; its intervals are sim.results.intervals, its
command line sim.cli.compare_main): the interval arithmetic, pairing that narrows intervals on a real
scenario pair, identical scenarios differing by nothing, the warning when bands cannot separate
scenarios, and the command line end to end."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import make_cfg
from scipy import stats

from sim.cli import compare_main as main
from sim.compare import COLUMNS, PLAN_METRIC, CannotSeparateWarning, compare, paired_table, separation_warnings
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


def test_separation_warning_estimates_the_replications_needed():
    """A headline interval containing zero gives one warning, with n = ((z_0.975 + z_0.8) sd / mean)^2
    replications; an interval clear of zero gives none; identical outcomes say no number would do."""
    rng = np.random.default_rng(3)
    n = 12
    base = rng.normal(20.0, 4.0, n)
    diff = np.linspace(-1.0, 1.5, n)  # mean 0.25, sd about 0.8: the interval contains 0
    key = ("inpatients", "2019-03")

    def frame(values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame({key: values}, index=pd.RangeIndex(n, name="replication"))

    common = {"base": frame(base), "small": frame(base + diff), "big": frame(base + diff + 3.0), "same": frame(base)}
    table = paired_table(common, "base", order=["inpatients"])
    assert list(table.columns) == COLUMNS and list(table["scenario"]) == ["small", "big", "same"]
    messages = separation_warnings(table, common, "base", "inpatients")
    assert len(messages) == 2  # "big" is separated
    small, same = messages
    expected = math.ceil(((stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * diff.std(ddof=1) / diff.mean()) ** 2)
    assert replications_needed(diff) == expected > n
    assert "small" in small and f"about {expected:,} replications" in small and "contains 0" in small
    assert "same" in same and "no number of replications" in same


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
        assert row["variance_reduction"] == pytest.approx(row["half_width_independent"] / row["half_width_paired"])
    finite = ctr_comparison.table["variance_reduction"].replace(np.inf, np.nan).dropna()
    assert finite.median() > 3
    assert t.loc[("admissions", whole), "ci_high"] < 0  # full coverage averts admissions, clearly
    assert ctr_comparison.independent_seed == ctr_comparison.seed + 1
    assert not ctr_comparison.independent_outcomes["full_ctr"].equals(ctr_comparison.outcomes["full_ctr"])


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
    assert (t["half_width_independent"] > 0).any()


# ------------------------------------------------------------------------------- command line


@pytest.mark.slow
def test_cli_writes_csv_and_chart(tmp_path):
    """python -m sim.compare on the hub's pair, tiny: the table, chart and manifest are written, the table
    is printed with the variance reduction, and an existing comparison is never overwritten."""
    out = tmp_path / "cmp"
    args = [
        sys.executable,
        "-m",
        "sim.compare",
        "scenario=separate_pools,hub_pooling",
        "system=south_east_hub",
        "run.replications=3",
        "run.years=0.5",
        "run.progress=false",
        "--out",
        str(out),
    ]
    p = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    table = pd.read_csv(out / "comparison.csv")
    assert list(table.columns) == COLUMNS
    assert set(table["scenario"]) == {"hub_pooling"} and set(table["baseline"]) == {"separate_pools"}
    assert {"inpatients", "admissions", "cost_total"} <= set(table["metric"])
    assert (out / "comparison.png").stat().st_size > 10_000
    assert "narrower than with independent seeds" in p.stdout and "Traceback" not in p.stderr
    assert main(["scenario=separate_pools,hub_pooling", "system=south_east_hub", "--out", str(out)]) == 2


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["scenario=baseline,nowhere"], "config error: no config 'scenario/nowhere' (available: baseline"),
        (["scenario=baseline"], "config error: scenario: 'baseline': name two or more scenarios"),
        (["tcp=bhr"], "config error: scenario: name the scenarios to compare"),
        (["scenario=baseline,baseline"], "config error: scenario: baseline listed more than once"),
        (["scenario=baseline,hub_pooling", "run.seed=abc"], "config error: run.seed: Value 'abc'"),
        (
            ["scenario=baseline,hub_pooling", "run.replications=1"],
            "config error: run.replications: 1: a comparison needs",
        ),
        (["scenario=baseline,hub_pooling", "--metrics", "nonsense"], "config error: metrics: no metric 'nonsense'"),
    ],
)
def test_user_error_is_one_line_exit_2(argv, expected, capsys, tmp_path):
    """A bad scenario list, override or metric: exit 2, one line on stderr naming it, nothing written."""
    assert main([*argv, "--out", str(tmp_path / "cmp")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(expected) and len(err.splitlines()) == 1
    assert not (tmp_path / "cmp").exists()


def test_help_prints_usage(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    assert "scenario=a,b" in capsys.readouterr().out
