"""Transfers between units in the SimPy model (sim/model/model.py: ``stay``, ``next_step``, ``transfer``):
a step down from secure care or a step up, a hazard while not yet ready that competes with readiness,
moves the inpatient to another unit without leaving hospital; it is counted as a transfer of its kind,
never as an admission or readmission, and the stay keeps its admission date. Tiny configs where the
answer is known, or a tolerance of 4 standard errors."""

from __future__ import annotations

import numpy as np
from helpers import loss_cfg, make_cfg
from test_pathway_rules import YEAR, census_file, census_ids, elapsed, fixed, fixed_los, flows

from sim.api import run

ATU, LOW, MEDIUM = 0, 1, 2  # unit indices (UNIT_TYPES)
IN_AREA, OUT_OF_AREA = 0, 1


def pool(years: float, beds: int = 50) -> dict:
    return {"schedule": [{"date": "2000-01", "beds": beds}], "los": fixed_los(years)}


def units_cfg(tmp_path, rows: list[str], transfers: dict, los: dict | None = None, beds: dict | None = None, **updates):
    """The loss system with ATU, low and medium secure pools (fixed stays: ``los`` by unit, years), a
    census of ``rows`` (unit,area,admitted), no arrivals, and the ``transfers`` section given."""
    los = {"atu": 1.0, "low_secure": 1.0, "medium_secure": 5.0, **(los or {})}
    beds = {"atu": 50, "low_secure": 50, "medium_secure": 50, **(beds or {})}
    return loss_cfg(
        beds=beds["atu"],
        rate=0.0,
        los=fixed(los["atu"]),
        **{
            "run.replications": 1,
            "run.years": 2,
            "run.event_log": True,
            "tcp.census": census_file(tmp_path, rows),
            "tcp.beds": {unit: pool(los[unit], beds[unit]) for unit in ("low_secure", "medium_secure")},
            "tcp.transfers": transfers,
            **updates,
        },
    )


STEP_DOWN_ALL = {"step_down_rate": {"medium_secure": 1000.0}, "step_down_to": {"medium_secure": {"low_secure": 1.0}}}


def test_a_high_step_down_rate_moves_every_secure_inpatient_down_at_once(tmp_path):
    """Ten medium secure census inpatients with years of stay left and a step-down rate of 1,000 a year:
    each moves to low secure within days (event "transfer"), counted in transfers_step_down and not as an
    admission or readmission; the fixed 1-year low secure law, given the stay so far (counted from the
    admission), ends each stay a year after its admission."""
    n = 10
    res = run(units_cfg(tmp_path, ["medium_secure,in,2016-01-01"] * n, STEP_DOWN_ALL))
    ev, m = res.events, res.monthly
    moved = ev[ev["event"] == "transfer"]
    assert sorted(moved["person"]) == sorted(census_ids(ev))
    assert (moved["unit"] == LOW).all() and (moved["area"] == IN_AREA).all()
    assert (moved["time"] < 0.02 * YEAR).all()
    assert flows(m, "transfers_step_down").sum() == flows(m, "transfers").sum() == n
    assert flows(m, "transfers_step_up").sum() == 0
    assert flows(m, "admissions").sum() == flows(m, "readmissions_12m").sum() == flows(m, "first_admissions").sum() == 0
    months = m.set_index("month")
    assert months.loc["2016-03", "inpatients_medium_secure"] == n
    assert (
        months.loc["2016-04", "inpatients_medium_secure"] == 0 and months.loc["2016-04", "inpatients_low_secure"] == n
    )
    discharged = ev[ev["event"] == "discharge"].set_index("person")["time"]
    admitted = -elapsed("2016-01-01")
    np.testing.assert_allclose(discharged.loc[moved["person"]].to_numpy(), admitted + YEAR)


def test_no_rates_no_transfers(tmp_path):
    """The same inpatients with no step rates stay in medium secure until their stay ends: no transfers."""
    res = run(units_cfg(tmp_path, ["medium_secure,in,2016-01-01"] * 10, {}))
    ev, m = res.events, res.monthly
    assert (ev["event"] != "transfer").all() and flows(m, "transfers").sum() == 0
    assert (m["inpatients_medium_secure"] == 10).all() and (m["inpatients_low_secure"] == 0).all()


def test_a_stepped_down_stay_keeps_its_admission_date(tmp_path):
    """A medium secure inpatient admitted 6 years before the start (a 5+ year stayer) and one 4.95 years
    before, both stepped down at once to low secure (a fixed 12-year law, given the stay so far: years
    left): the first is still a long stayer after
    the step, and the second becomes one 0.05 years in, in low secure, as the stay counts from the
    admission; at month ends long_stayers_5y is 1, then 2."""
    first, second = "2010-04-01", "2011-04-19"
    years = elapsed(second) / YEAR
    assert 4.9 < years < 5.0
    res = run(
        units_cfg(
            tmp_path,
            [f"medium_secure,in,{first}", f"medium_secure,in,{second}"],
            STEP_DOWN_ALL,
            los={"low_secure": 12.0, "medium_secure": 20.0},
        )
    )
    m = res.monthly.set_index("month")
    assert flows(res.monthly, "transfers_step_down").sum() == 2
    five = (5 - years) * YEAR  # days into the run when the second reaches 5 years
    ends = res.spec.calendar.boundaries
    expected = [2 if end >= five else 1 for end in ends]
    assert m["long_stayers_5y"].tolist() == expected
    assert (m["inpatients_low_secure"].iloc[1:] == 2).all()


def test_a_step_up_goes_out_of_area_when_the_destination_is_full_or_by_need(tmp_path):
    """ATU inpatients stepped up at once to low secure, which has one free in-area bed: the first to move
    (by time) takes it, the others go out of area; with low secure's out_of_area_need 1 every one goes
    out of area, bed or no bed."""
    up = {"step_up_rate": {"atu": 1000.0}, "step_up_to": {"atu": {"low_secure": 1.0}}}
    rows = ["atu,in,2016-03-01"] * 4
    res = run(units_cfg(tmp_path, rows, up, los={"atu": 5.0}, beds={"low_secure": 1}))
    moved = res.events[res.events["event"] == "transfer"].sort_values("time")
    assert (moved["unit"] == LOW).all() and moved["area"].tolist() == [IN_AREA] + [OUT_OF_AREA] * 3
    assert flows(res.monthly, "transfers_step_up").sum() == 4
    assert flows(res.monthly, "out_of_area_placements").sum() == 0  # transfers are not admissions
    need = run(
        units_cfg(
            tmp_path, rows, up, los={"atu": 5.0}, beds={"low_secure": 1}, **{"tcp.out_of_area_need.low_secure": 1.0}
        )
    )
    assert (need.events[need.events["event"] == "transfer"]["area"] == OUT_OF_AREA).all()


def test_steps_down_and_up_compete_at_their_rates_and_go_by_their_shares(tmp_path):
    """200 low secure inpatients with long stays, a step down at 0.6 a year (to the ATU) and a step up at
    0.2 (to medium secure), destinations with no steps of their own, over one year: each moves with
    probability 1 - exp(-0.8), a step down with 3/4 of that and a step up with 1/4 (binomial, 4 SE, over 3
    replications), and moves once."""
    n, reps, down, up = 200, 3, 0.6, 0.2
    transfers = {
        "step_down_rate": {"low_secure": down},
        "step_down_to": {"low_secure": {"atu": 1.0}},
        "step_up_rate": {"low_secure": up},
        "step_up_to": {"low_secure": {"medium_secure": 1.0}},
    }
    res = run(
        units_cfg(
            tmp_path,
            ["low_secure,in,2016-03-01"] * n,
            transfers,
            los={"atu": 50.0, "low_secure": 50.0, "medium_secure": 50.0},
            beds={"atu": n, "low_secure": n, "medium_secure": n},
            **{"run.replications": reps, "run.years": 1},
        )
    )
    m = res.monthly
    p_move = 1 - np.exp(-(down + up) * res.spec.calendar.horizon / YEAR)
    for name, p in (
        ("transfers", p_move),
        ("transfers_step_down", p_move * 0.75),
        ("transfers_step_up", p_move * 0.25),
    ):
        total, expected = flows(m, name).sum(), reps * n * p
        assert abs(total - expected) < 4 * np.sqrt(reps * n * p * (1 - p)), (name, total, expected)
    moved = res.events[res.events["event"] == "transfer"]
    assert set(moved["unit"]) == {ATU, MEDIUM}
    assert (moved.groupby(["replication", "person"]).size() == 1).all()  # no steps from the destinations


def test_step_destinations_follow_their_shares(tmp_path):
    """300 medium secure inpatients all stepped down at once, to low secure with share 0.8 and to the ATU
    with 0.2: the ATU's share of the moves is 0.2 (binomial, 4 SE)."""
    n = 300
    shares = {
        "step_down_rate": {"medium_secure": 1000.0},
        "step_down_to": {"medium_secure": {"low_secure": 0.8, "atu": 0.2}},
    }
    beds = {"atu": n, "low_secure": n, "medium_secure": n}
    res = run(units_cfg(tmp_path, ["medium_secure,in,2016-01-01"] * n, shares, beds=beds, **{"run.years": 1}))
    units = res.events.loc[res.events["event"] == "transfer", "unit"]
    assert len(units) == n and set(units) == {ATU, LOW}
    assert abs((units == ATU).sum() - 0.2 * n) < 4 * np.sqrt(n * 0.2 * 0.8)


def arrivals_cfg(rate: float, atu: float, low_secure: float, transfers: dict, **updates):
    """Crises (``rate`` a year) admitted to a fixed ATU stay of ``atu`` years, a low secure pool of fixed
    ``low_secure``-year stays, the ``transfers`` given; two replications of two years, with the event log."""
    return loss_cfg(
        beds=1000,
        rate=rate,
        los=fixed(atu),
        **{
            "run.replications": 2,
            "run.years": 2,
            "run.event_log": True,
            "tcp.beds": {"low_secure": pool(low_secure, 1000)},
            "tcp.transfers": transfers,
            **updates,
        },
    )


def test_readiness_first_means_no_step():
    """Admissions to a fixed 0.2-year ATU stay with a step up at 2 a year: a stay steps up only if its
    step comes before readiness, with probability 1 - exp(-0.4) (binomial, 4 SE); a stepped-up stay moves
    within 0.2 years of its admission."""
    up = {"step_up_rate": {"atu": 2.0}, "step_up_to": {"atu": {"low_secure": 1.0}}}
    res = run(arrivals_cfg(100.0, 0.2, 5.0, up, **{"run.years": 3}))
    ev = res.events
    admitted = ev[ev["event"] == "admission"].set_index(["replication", "person"])["time"]
    moved = ev[ev["event"] == "transfer"].set_index(["replication", "person"])["time"]
    assert admitted.index.is_unique  # one admission each: nobody is discharged from low secure in time
    done = admitted[admitted < res.spec.calendar.horizon - 0.2 * YEAR]
    p = 1 - np.exp(-2.0 * 0.2)
    stepped = done.index.isin(moved.index).sum()
    assert abs(stepped - len(done) * p) < 4 * np.sqrt(len(done) * p * (1 - p)), (stepped, len(done) * p)
    gap = (moved - admitted.loc[moved.index]).to_numpy()
    assert (gap > 0).all() and (gap < 0.2 * YEAR).all()


def test_transfers_are_counted_apart_from_admissions_and_readmissions():
    """Crises admitted to short ATU stays that go home (so many readmissions), with steps up and down
    between the ATU and low secure: admissions are the "admission" events, transfers the "transfer"
    events, readmissions_12m the admissions within a year of the person's last discharge, and
    first_admissions the rest."""
    both = {
        "step_up_rate": {"atu": 3.0},
        "step_up_to": {"atu": {"low_secure": 1.0}},
        "step_down_rate": {"low_secure": 3.0},
        "step_down_to": {"low_secure": {"atu": 1.0}},
    }
    home = {"tcp.discharge.return_home": {"atu": 1.0, "low_secure": 1.0}, "tcp.register.crisis_rate": {"amber": 3.0}}
    res = run(arrivals_cfg(30.0, 0.1, 0.3, both, **home))
    ev, m = res.events, res.monthly
    kinds = ev["event"].value_counts()
    assert flows(m, "admissions").sum() == kinds["admission"]
    assert flows(m, "transfers").sum() == kinds["transfer"] > 50
    assert flows(m, "transfers_step_up").sum() > 20 and flows(m, "transfers_step_down").sum() > 20
    readmissions = 0
    for _, person in ev.sort_values("time").groupby(["replication", "person"]):
        last = -np.inf
        for event, time in zip(person["event"], person["time"]):
            if event == "admission" and time - last <= YEAR:
                readmissions += 1
            elif event.startswith("discharge"):
                last = time
    assert flows(m, "readmissions_12m").sum() == readmissions > 20
    np.testing.assert_array_equal(flows(m, "first_admissions"), flows(m, "admissions") - flows(m, "readmissions_12m"))


def test_the_shipped_bhr_config_steps_down_and_up():
    """BHR's transfers section moves inpatients both ways in its first year, and first admissions and
    readmissions add up to the admissions (tests/equivalence holds the engine to the same record)."""
    m = run(make_cfg(["run.replications=5", "run.years=1"])).monthly
    assert flows(m, "transfers_step_down").sum() > 0 and flows(m, "transfers_step_up").sum() > 0
    np.testing.assert_array_equal(flows(m, "first_admissions") + flows(m, "readmissions_12m"), flows(m, "admissions"))
