"""Event rules of the SimPy model, each on a tiny config where the answer is known."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import loss_cfg, system_cfg

from sim.api import run
from sim.config import build_spec
from sim.model import run_replication

POOL = {
    "schedule": [{"date": "2000-01", "beds": 1000}],
    "los": {"components": [{"family": "exponential", "weight": 1.0, "mean": 1.0}]},
}
FIXED_3Y = [{"family": "fixed", "weight": 1.0, "value": 3.0}]


def census_file(tmp_path, rows: list[str]) -> str:
    path = tmp_path / "census.csv"
    path.write_text("unit,area,admitted\n" + "\n".join(rows) + "\n")
    return str(path)


def test_a_closed_pool_never_admits():
    """A pool with no beds sends every admission out of area, all counted as for want of a local unit
    (none for want of a free bed)."""
    m = run(loss_cfg(beds=0, rate=30.0, **{"run.replications": 5, "run.years": 2})).monthly
    assert m["admissions"].sum() > 0
    assert (m["inpatients_in_area"] == 0).all()
    assert m["out_of_area_placements"].sum() == m["admissions"].sum() == m["out_of_area_no_local_unit"].sum()
    assert m["out_of_area_full_beds"].sum() == 0


def test_out_of_area_need_goes_out_whatever_the_beds():
    """With a need share of 1 everyone goes out of area although beds are free, and none of it is
    counted as due to full beds; with 0 and plenty of beds nobody goes out."""
    m = run(
        loss_cfg(beds=500, rate=30.0, **{"run.replications": 5, "run.years": 2, "tcp.out_of_area_need": {"atu": 1.0}})
    ).monthly
    assert m["admissions"].sum() > 0 and m["out_of_area_placements"].sum() == m["admissions"].sum()
    assert m["out_of_area_full_beds"].sum() == 0
    m = run(loss_cfg(beds=500, rate=30.0, **{"run.replications": 5, "run.years": 2})).monthly
    assert m["out_of_area_placements"].sum() == 0


def test_no_crises_no_admissions():
    """With every crisis rate at zero nothing arrives: an empty start stays empty."""
    m = run(loss_cfg(rate=0.0, **{"run.replications": 3, "run.years": 1})).monthly
    assert m[["inpatients", "admissions", "discharges"]].fillna(0).to_numpy().sum() == 0


def test_census_start_and_conditional_discharge(tmp_path):
    """Census inpatients are there at the start (in and out of area, long stayers counted), and with a
    fixed 3-year stay (1,095.75 days) someone admitted on 2013-09-20 (924 days in) leaves 171.75 days
    after 1 April 2016, in September, and someone 6 years in leaves at once."""
    cfg = loss_cfg(
        beds=2,
        rate=0.0,
        los=FIXED_3Y,
        **{
            "run.replications": 2,
            "run.years": 1,
            "tcp.census": census_file(tmp_path, ["atu,in,2013-09-20", "atu,out,2010-04-01", "atu,in,2016-03-15"]),
        },
    )
    m = run(cfg).monthly.set_index(["replication", "month"]).loc[0]
    start = m.loc["2016-03"]
    assert (start["inpatients"], start["inpatients_in_area"], start["inpatients_out_of_area"]) == (3, 2, 1)
    assert start["long_stayers_5y"] == 1
    assert m.loc["2016-04", "discharges"] == 1  # the 6-year stayer, beyond the fixed 3 years, at once
    assert m.loc["2016-08", "discharges"] == 0 and m.loc["2016-09", "discharges"] == 1
    assert m.loc["2017-03", "inpatients"] == 1  # admitted March 2016 stays until March 2019


def test_closing_beds_evicts_nobody(tmp_path):
    """When the schedule closes beds that are occupied, nobody leaves early: open beds stay at the
    occupied count until people leave, and new admissions go out of area meanwhile."""
    cfg = loss_cfg(
        beds=3,
        rate=12.0,
        los=FIXED_3Y,
        **{
            "run.replications": 1,
            "run.years": 1,
            "tcp.beds.atu.schedule": [{"date": "2016-03", "beds": 3}, {"date": "2016-06", "beds": 0}],
            "tcp.census": census_file(tmp_path, ["atu,in,2015-01-01", "atu,in,2015-02-01", "atu,in,2015-12-01"]),
        },
    )
    m = run(cfg).monthly.set_index("month")
    assert m.loc["2016-05", "beds_loss_system_atu"] == 3
    # the first leaves in January 2018: all three are still in, in beds the schedule has closed
    assert (m.loc["2016-06":, "inpatients_in_area"] == 3).all()
    assert (m.loc["2016-06":, "beds_in_area"] == 3).all()
    assert m.loc["2016-06":, "discharges"].sum() == 0
    # full beds until the schedule closes them all; from June no bed is scheduled: no local unit
    assert m.loc[:"2016-05", "admissions"].sum() == m.loc[:"2016-05", "out_of_area_full_beds"].sum() > 0
    assert m.loc["2016-06":, "admissions"].sum() == m.loc["2016-06":, "out_of_area_no_local_unit"].sum() > 0
    assert m.loc["2016-06":, "out_of_area_full_beds"].sum() == 0


def test_occupancy_is_time_weighted():
    """Occupancy is bed-days occupied over bed-days open: with beds never full it is below 1, with 0
    open beds it is undefined (NaN), and it never exceeds 1."""
    m = run(loss_cfg(beds=5, rate=60.0, **{"run.replications": 3, "run.years": 1, "run.warmup_years": 2})).monthly
    occ = m["occupancy_loss_system_atu"].dropna()
    assert ((occ > 0.5) & (occ <= 1.0)).all()
    m0 = run(loss_cfg(beds=0, rate=6.0, **{"run.replications": 1, "run.years": 1})).monthly
    assert m0["occupancy"].isna().all()


def test_a_shared_pool_serves_every_member_tcp():
    """Two TCPs sharing a pool fill the same beds: in-area inpatients of both never exceed its beds,
    and both have in-area inpatients; with separate pools each TCP has its own beds."""
    shared = run(system_cfg(shared_beds=4, **{"run.replications": 5, "run.years": 2, "run.warmup_years": 1})).monthly
    assert (shared["inpatients_in_area"] <= 4).all()
    assert shared["a1/inpatients_in_area"].sum() > 0 and shared["a2/inpatients_in_area"].sum() > 0
    assert (shared["occupancy_shared_atu"].dropna() <= 1).all()
    separate = run(
        system_cfg(shared_beds=None, **{"run.replications": 5, "run.years": 2, "run.warmup_years": 1})
    ).monthly
    assert (separate["a1/inpatients_in_area"] <= 3).all() and (separate["a2/inpatients_in_area"] <= 3).all()
    assert separate["beds_in_area"].max() == 6


def test_routing_follows_the_shares():
    """Admissions split across unit types in the configured shares (binomial tolerance)."""
    cfg = loss_cfg(
        beds=1000,
        rate=100.0,
        **{
            "run.replications": 4,
            "run.years": 5,
            "tcp.routing": {"atu": 0.5, "low_secure": 0.3, "medium_secure": 0.2},
            "tcp.beds": {"low_secure": POOL, "medium_secure": POOL},
        },
    )
    spec = build_spec(cfg)
    total = np.zeros(4)
    for r in range(4):
        rec, _ = run_replication(spec, r)
        total += rec.admissions.sum(axis=(0, 1, 3))
    n = total.sum()
    for share, count in zip([0.5, 0.3, 0.2, 0.0], total):
        assert abs(count / n - share) < 4 * np.sqrt(max(share * (1 - share), 1e-12) / n) + 1e-12


@pytest.mark.parametrize(
    "cfg_factory",
    [
        lambda: loss_cfg(beds=4, rate=20.0, **{"run.replications": 2, "run.years": 2, "run.warmup_years": 1}),
        lambda: system_cfg(**{"run.replications": 2, "run.years": 2, "run.warmup_years": 1}),
    ],
    ids=["tcp", "system"],
)
def test_unit_and_commissioner_breakdowns_add_up(cfg_factory):
    """Inpatients by unit, by commissioner, by area and (in a system) by TCP each add up to the total."""
    m = run(cfg_factory()).monthly
    units = m.filter(regex=r"^inpatients_(atu|low_secure|medium_secure|camhs_t4)$").sum(axis=1)
    assert (units == m["inpatients"]).all()
    assert (m["inpatients_ccg"] + m["inpatients_specialised"] == m["inpatients"]).all()
    assert (m["inpatients_in_area"] + m["inpatients_out_of_area"] == m["inpatients"]).all()
    tcps = [c for c in m.columns if c.endswith("/inpatients")]
    if tcps:
        assert (m[tcps].sum(axis=1) == m["inpatients"]).all()
