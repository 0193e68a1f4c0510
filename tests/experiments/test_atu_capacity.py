"""The capacity sweep (sim/capacity.py, experiments/atu_capacity.py): Erlang B on the degenerate loss
system, the fewest-beds rule on hand-made tables, and the Hydra app end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from helpers import loss_cfg, make_cfg
from omegaconf import DictConfig

import sim.config.store
from sim.api import compose
from sim.capacity import (
    MAX_POINTS,
    TargetNotReached,
    capacity_curve,
    census_floor,
    check_capacity,
    fewest_beds,
    out_of_area_split,
    register_schema,
    with_beds,
)
from sim.config import CONFIG_DIR, ConfigError
from sim.results.analytic import erlang_b

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "experiments" / "atu_capacity.py"
Z = 4.0  # tolerance in standard errors, as tests/analytic/test_queueing.py
YEAR = 365.25


def app_cfg(overrides: list[str]) -> DictConfig:
    """configs/atu_capacity.yaml composed as the app composes it, leaving the schema as other tests expect."""
    register_schema()
    try:
        return compose(["run.progress=false", *overrides], config_name="atu_capacity")
    finally:
        sim.config.store.register()  # back to the simulator's own root schema


# ------------------------------------------------------------------------------------------- no beds


def test_no_beds_at_all_is_out_of_area_for_want_of_a_bed():
    """At 0 beds every admission is out of area for want of a local unit (out_of_area_no_local_unit, not
    out_of_area_full_beds): the curve's shares for want of a bed count those too, so 0 beds gives a share
    of 1 and the fewest-beds rule can never answer 0; with beds that never fill the share is 0."""
    cfg = loss_cfg(beds=1, rate=10.0, **{"run.replications": 10, "run.years": 1, "run.engine": "numba"})
    table = capacity_curve(cfg, [0, 200], unit="atu", confidence=0.9, target=0.05, measure="unit_full_beds")
    none, plenty = table.iloc[0], table.iloc[1]
    for share in ("ooa_unit_full_beds_share", "ooa_full_beds_share", "ooa_share"):
        assert none[share] == 1.0 and plenty[share] == 0.0, share
    assert fewest_beds(table, target=0.05, confidence=0.9, measure="unit_full_beds") == 200


# ------------------------------------------------------------------------------------------- Erlang B


@pytest.mark.slow
def test_loss_system_curve_is_erlang_b():
    """On the M/M/c/c loss system (Poisson admissions 10 a year, exponential stays of a year, overflow out
    of area), each bed number's out-of-area share is Erlang B(10, c) and occupancy is a(1 - B)/c, within
    the curve's own standard errors; admissions are the same at every bed number (common random numbers);
    and the fewest beds for a 10% target is the Erlang B answer (13: B = 0.084; 12 beds give 0.120, far
    above the target for this run's standard errors of about 0.003). A 10-year warm-up from empty
    leaves e^-10 of the start's transient."""
    rate, mean, beds = 10.0, 1.0, [10, 11, 12, 13, 14, 15]
    cfg = loss_cfg(
        beds=1,
        rate=rate,
        los=[{"family": "exponential", "weight": 1.0, "mean": mean}],
        **{"run.replications": 400, "run.years": 10, "run.warmup_years": 10, "run.engine": "numba"},
    )
    table = capacity_curve(cfg, beds, unit="atu", confidence=0.9)
    assert list(table["beds"]) == beds
    assert (table["replications"] == 400).all()
    a = rate * mean
    for _, row in table.iterrows():
        c = int(row["beds"])
        b = erlang_b(a, c)
        assert 0 < row["ooa_share_se"] < 0.01, row["ooa_share_se"]
        assert abs(row["ooa_share"] - b) < Z * row["ooa_share_se"], (
            f"{c} beds: {row['ooa_share']:.4f}, Erlang B {b:.4f}"
        )
        assert row["ooa_full_beds_share"] == pytest.approx(row["ooa_share"])  # no out-of-area need here
        assert row["ooa_unit_share"] == pytest.approx(row["ooa_share"])  # and one unit type
        occ_se = (row["occupancy_hi95"] - row["occupancy_lo95"]) / (2 * 1.966)  # t(0.975, 399)
        expected_occ = a * (1 - b) / c
        assert abs(row["occupancy"] - expected_occ) < Z * occ_se, (
            f"{c} beds: occupancy {row['occupancy']:.4f}, {expected_occ:.4f}"
        )
    assert table["admissions_per_year"].nunique() == 1  # the same admissions whatever the beds
    assert table["admissions_per_year"].iloc[0] == pytest.approx(rate, rel=0.05)
    assert (np.diff(table["ooa_share"]) < 0).all()  # with common random numbers, more beds never block more
    analytic = min(c for c in beds if erlang_b(a, c) <= 0.10)
    assert fewest_beds(table, target=0.10, confidence=0.9, measure="all") == analytic == 13


# ------------------------------------------------------------------------------------------- cost


@pytest.mark.parametrize("fixed_share", [0.0, 0.7])
def test_cost_rises_with_beds_by_their_fixed_share(fixed_share):
    """An open bed is paid for whether or not it is occupied. On the loss system with a light load (2
    admissions a year staying half a year on average: one bed busy, 8 or 12 open), both bed numbers
    admit everyone in area (common random numbers: the same people, the same stays), so 4 more beds cost
    4 x the fixed share of a bed's price a year more: 4 x 0.7 x 100,000 = 280,000 a year (less the
    quarter day a year the 365-day years lack of 365.25). With no fixed share (beds paid only when
    occupied, the old rule) the curve's cost is flat."""
    price, years = 100_000.0, 2
    cfg = loss_cfg(
        beds=1,
        rate=2.0,
        los=[{"family": "exponential", "weight": 1.0, "mean": 0.5}],
        **{
            "run.replications": 20,
            "run.years": years,
            "run.warmup_years": 2,
            "run.engine": "numba",
            "tcp.costs.bed_per_year": {"atu": price},
            "tcp.costs.bed_fixed_share": {"atu": fixed_share},
        },
    )
    table = capacity_curve(cfg, [8, 12], unit="atu").set_index("beds")
    assert (table["ooa_share"] == 0).all() and table["occupancy"].max() < 0.2
    assert table["admissions_per_year"].nunique() == 1
    days = 730  # April 2016 to March 2018
    expected = 4 * fixed_share * price * days / YEAR / years
    assert table.loc[12, "cost_per_year"] - table.loc[8, "cost_per_year"] == pytest.approx(expected, abs=1e-6)
    assert table.loc[8, "cost_per_year"] > 8 * fixed_share * price * days / YEAR / years  # and the busy beds


# ------------------------------------------------------------------------------------------- fewest beds


def hand_table() -> pd.DataFrame:
    """Shares and standard errors chosen by hand: 7 beds meet a 10% target on the estimate but not on
    the 90% upper bound (0.095 + 1.29 x 0.01 = 0.108); 8 beds do (0.093)."""
    return pd.DataFrame(
        {
            "beds": [9, 5, 7, 6, 8],  # not in order: the rule sorts
            "replications": [101] * 5,
            "ooa_share": [0.05, 0.30, 0.095, 0.15, 0.08],
            "ooa_share_se": [0.01] * 5,
            "ooa_full_beds_share": [0.01, 0.20, 0.02, 0.08, 0.01],
            "ooa_full_beds_share_se": [0.005] * 5,
        }
    )


def test_fewest_beds_uses_the_upper_bound():
    t = hand_table()
    assert fewest_beds(t, target=0.10, confidence=0.9, measure="all") == 8
    assert fewest_beds(t, target=0.10, confidence=0.5, measure="all") == 7  # the bound is the estimate itself
    assert fewest_beds(t, target=0.10, confidence=0.99, measure="all") == 9  # 8 beds: 0.08 + 2.36 x 0.01 = 0.104
    assert fewest_beds(t, target=0.10, confidence=0.9, measure="full_beds") == 6  # 0.08 + 1.29 x 0.005


def test_fewest_beds_rejects_an_unreachable_target():
    """No row's bound reaches 1%: the error says so, with the lowest bound (9 beds: 0.05 + 1.29 x 0.01)."""
    with pytest.raises(TargetNotReached, match=r"no bed number in 5\.\.9 .*0\.0629 at 9 beds"):
        fewest_beds(hand_table(), target=0.01, confidence=0.9, measure="all")
    with pytest.raises(ConfigError, match="capacity.target_share"):
        fewest_beds(hand_table(), target=1.5, confidence=0.9, measure="all")
    with pytest.raises(ConfigError, match="capacity.confidence"):
        fewest_beds(hand_table(), target=0.1, confidence=1.0, measure="all")


def test_fewest_beds_warns_when_a_larger_bed_number_misses_again():
    t = hand_table()
    t.loc[t["beds"] == 9, "ooa_share"] = 0.2  # noise: 9 beds miss after 8 met
    with pytest.warns(UserWarning, match="8 beds meet the target but 9 do not"):
        assert fewest_beds(t, target=0.10, confidence=0.9, measure="all") == 8


def test_out_of_area_split_is_at_the_largest_bed_number():
    """At 9 beds (the largest, whatever the row order) of hand_table: 5% of all admissions out of area,
    1% for want of a bed, so 4% for needs no local unit meets; the unit's shares by their own columns."""
    t = hand_table()
    beds, for_needs, for_beds = out_of_area_split(t, "all")
    assert (beds, for_beds) == (9, 0.01) and for_needs == pytest.approx(0.04)
    assert out_of_area_split(t, "full_beds")[1:] == pytest.approx((0.04, 0.01))
    t["ooa_unit_share"], t["ooa_unit_full_beds_share"] = [0.5, 0.6, 0.5, 0.5, 0.25], [0.0, 0.1, 0.0, 0.0, 0.2]
    assert out_of_area_split(t, "unit_full_beds") == (9, 0.5, 0.0)  # 9 beds: 0.5 in all, none for want of a bed


# ------------------------------------------------------------------------------------------- configs


def test_with_beds_replaces_only_that_units_schedule():
    cfg = make_cfg()
    out = with_beds(cfg, "atu", 12)
    assert [dict(s) for s in out.tcp.beds.atu.schedule] == [
        {"date": str(cfg.tcp.beds.atu.schedule[0].date), "beds": 12}
    ]
    assert out.tcp.beds.low_secure == cfg.tcp.beds.low_secure
    assert len(cfg.tcp.beds.atu.schedule) > 1  # the original is untouched


def test_census_floor_is_the_census_in_area_count():
    """The start census's in-area ATU rows of BHR; bed numbers below it are accepted (the surplus starts
    out of area), as BHR's own plan of 7 beds is."""
    cfg = make_cfg()
    census = pd.read_csv(CONFIG_DIR / cfg.tcp.census, comment="#")
    expected = int(((census["unit"] == "atu") & (census["area"] == "in")).sum())
    assert expected > 7
    assert census_floor(cfg, "atu") == expected
    assert check_capacity(app_cfg(["run.replications=2", "capacity.beds=[5,6,8]"])) == [5, 6, 8]
    assert check_capacity(app_cfg(["run.replications=2", "capacity.min_beds=7", "capacity.max_beds=9"])) == [7, 8, 9]


def test_default_range_is_the_chosen_areas_beds():
    """Without a bed range the sweep brackets the TCP's own plan: half its fewest planned beds to twice
    its most (BHR plans 10 down to 7: 3..20 by 1); Kent and Medway's 36 beds (census 34) give 11..72, by
    the step that keeps it to MAX_POINTS bed numbers."""
    assert check_capacity(app_cfg(["run.replications=2"])) == list(range(3, 21))
    kent = check_capacity(app_cfg(["run.replications=2", "tcp=kent_medway"]))
    assert kent[0] == 11 and kent[-1] <= 72 < kent[-1] + 3 and len(kent) <= MAX_POINTS
    assert set(np.diff(kent)) == {3}
    assert check_capacity(app_cfg(["run.replications=2", "capacity.max_beds=12"])) == list(range(3, 13))
    empty = app_cfg(["run.replications=2", "tcp=loss_system", "tcp.beds.atu.schedule=[{date: 2000-01, beds: 0}]"])
    with pytest.raises(ConfigError, match="capacity.max_beds: loss_system plans no atu beds"):
        check_capacity(empty)


def test_beds_below_the_census_run_and_say_so():
    """BHR with 5 ATU beds against 9 census inpatients in area: the run goes ahead with 4 starting out of
    area; the table says so (census_out_of_area, note), and the curve is the same in both engines."""
    table = capacity_curve(make_cfg(["run.replications=2", "run.years=1", "run.engine=simpy"]), [5, 9], unit="atu")
    assert list(table["census_out_of_area"]) == [4, 0]
    assert table["note"].iloc[0] == (
        "the start census holds 9 atu inpatients in area, more than the 5 beds of bhr_atu: 4 start out of area"
    )
    assert table["note"].iloc[1] == ""
    other = capacity_curve(make_cfg(["run.replications=2", "run.years=1", "run.engine=numba"]), [5, 9], unit="atu")
    pd.testing.assert_frame_equal(table, other, rtol=1e-9)


# ------------------------------------------------------------------------------------------- the app


def app(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(APP), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_app_writes_csv_and_png(tmp_path):
    """A tiny BHR sweep (4 replications, a year, 7 beds, below the census's 9 in area, to 10) writes its
    table and chart into the run directory, prints the answer and says that 2 start out of area at 7."""
    out = tmp_path / "sweep"
    p = app(
        "run=quick",
        "run.replications=4",
        "run.years=1",
        "run.progress=false",
        "capacity.beds=[7,9,10]",
        "capacity.target_share=0.5",
        f"hydra.run.dir={out}",
    )
    assert p.returncode == 0, p.stderr
    table = pd.read_csv(out / "capacity.csv")
    assert list(table["beds"]) == [7, 9, 10]
    sheet = openpyxl.load_workbook(out / "capacity.xlsx")["Capacity"]  # the same table, headed
    assert [sheet.cell(r, 1).value for r in range(5, 8)] == [7, 9, 10] and sheet.cell(4, 1).value == "beds"
    assert list(table["census_out_of_area"]) == [2, 0, 0]
    assert table["note"].iloc[0].endswith("more than the 7 beds of bhr_atu: 2 start out of area")
    assert "note: the start census holds 9 atu inpatients in area, more than 7 beds: there the surplus" in p.stdout
    assert (table["replications"] == 4).all()
    for col in (
        "ooa_unit_share",
        "ooa_share",
        "ooa_full_beds_share",
        "occupancy",
        "delayed_bed_days_per_year",
        "cost_per_year",
    ):
        assert (table[f"{col}_lo95"] <= table[col] + 1e-12).all() and (
            table[col] <= table[f"{col}_hi95"] + 1e-12
        ).all(), col
    assert ((table["ooa_full_beds_share"] <= table["ooa_share"]) & (table["ooa_share"] <= 1)).all()
    assert (table["cost_per_year"] > 0).all() and table["occupancy"].between(0, 1).all()
    png = (out / "capacity.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    assert "fewest atu beds" in p.stdout or "target not reached" in p.stdout
    assert (out / ".hydra" / "config.yaml").is_file()  # the sweep's full config, for the record


@pytest.mark.parametrize(
    "overrides, expected",
    [
        (["capacity.unit=ward"], "config error: capacity.unit: unknown unit type 'ward'"),
        (
            ["capacity.min_beds=12", "capacity.max_beds=10"],
            "config error: capacity.max_beds: 10 is below capacity.min_beds 12",
        ),
        (["capacity.nonsense=1"], "config error: capacity.nonsense: Key 'nonsense' not in 'CapacityConfig'"),
    ],
)
def test_app_user_error_is_one_line_exit_2(tmp_path, overrides, expected):
    out = tmp_path / "sweep"
    p = app(*overrides, f"hydra.run.dir={out}")
    assert p.returncode == 2, p.stdout + p.stderr
    assert p.stderr.strip().startswith(expected), p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert "Traceback" not in p.stdout + p.stderr
    assert not out.exists()
