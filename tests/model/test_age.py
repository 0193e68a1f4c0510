"""Age and the transition to adult services in the SimPy model (sim/model/model.py: ``new_person``,
``make_child``, ``meet``, ``come_of_age``, ``transfer``): who is a child comes from each source's own
share or rows, children reach the transition age, and a CAMHS tier 4 inpatient then moves to an adult unit
or is ready for discharge. Tiny configs where the answer is known."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import loss_cfg
from test_pathway_rules import YEAR, census_file, census_ids, elapsed, fixed, fixed_los, flows

from sim.api import run
from sim.config import build_spec
from sim.model import run_replication

CAMHS, ATU = 3, 0  # unit indices (UNIT_TYPES)


def camhs_pool(years: float = 0.05, beds: int = 50) -> dict:
    return {"schedule": [{"date": "2000-01", "beds": beds}], "los": fixed_los(years)}


def register_cfg(children: int, **updates):
    """30 red register members with frequent crises and nobody else; crisis.child_share 1 (people in
    crisis off the register, of whom there are none here)."""
    return loss_cfg(
        beds=1000,
        rate=0.0,
        los=fixed(0.05),
        **{
            "run.replications": 2,
            "run.years": 1,
            "tcp.register.people": {"red": 30},
            "tcp.register.children": {"red": children},
            "tcp.register.crisis_rate": {"red": 4.0},
            "tcp.crisis.child_share": 1.0,
            "tcp.children.age_low": 17.9,  # a register child is an adult within 0.1 years: see below
            "tcp.beds": {"camhs_t4": camhs_pool()},
            "tcp.discharge.return_home": {"atu": 1.0, "camhs_t4": 1.0},
            **updates,
        },
    )


def test_the_starting_register_has_the_children_its_rows_say():
    """crisis.child_share is for people in crisis off the register: a register with no children sends
    no one to CAMHS tier 4, however high that share; with every member a child, their first crises (in
    the 0.1 years before they are 18) go there."""
    spec = build_spec(register_cfg(0))
    rec, _ = run_replication(spec, 0)
    assert rec.admissions.sum() > 20 and rec.admissions[:, :, CAMHS].sum() == 0
    spec = build_spec(register_cfg(30))
    rec, _ = run_replication(spec, 0)
    assert rec.admissions[:, :, CAMHS].sum() > 0
    assert rec.transitions.sum() == 30


def test_children_become_adults_and_then_go_to_adult_units():
    """Children in crisis, aged 17.5 to 18 when the model meets them, go home after short CAMHS stays and
    are back in crisis often (on the register, amber): every admission after a person's transition is to
    an adult unit, every one before it to CAMHS tier 4, and each transition is within half a year of the
    person's first admission."""
    res = run(
        loss_cfg(
            beds=1000,
            rate=10.0,
            los=fixed(0.02),
            **{
                "run.replications": 2,
                "run.years": 3,
                "run.event_log": True,
                "tcp.crisis.child_share": 1.0,
                "tcp.children.age_low": 17.5,
                "tcp.beds": {"camhs_t4": camhs_pool(0.02)},
                "tcp.discharge.return_home": {"atu": 1.0, "camhs_t4": 1.0},
                "tcp.register.crisis_rate": {"amber": 6.0},
            },
        )
    )
    ev = res.events
    adult = ev[ev["event"] == "adult"].groupby(["replication", "person"])["time"].min()
    admissions = ev[ev["event"] == "admission"]
    assert len(adult) > 20
    first = admissions.groupby(["replication", "person"])["time"].min()
    assert ((adult - first.loc[adult.index]) <= 0.5 * YEAR + 1e-9).all()
    when = admissions.join(adult.rename("adult_at"), on=["replication", "person"])
    before = when[when["time"] < when["adult_at"]]
    after = when[when["time"] >= when["adult_at"]]
    assert len(after) > 20 and len(before) > 20
    assert (before["unit"] == CAMHS).all() and (after["unit"] != CAMHS).all()
    m = res.monthly
    assert flows(m, "transitions_to_adult").sum() == len(adult)


@pytest.mark.parametrize("to_adult", [1.0, 0.0])
def test_a_camhs_inpatient_at_the_transition_age_moves_to_an_adult_unit_or_is_ready(tmp_path, to_adult):
    """A census CAMHS tier 4 inpatient aged 17.9 (18 in 0.1 years), with years of stay left: moved to the
    ATU then (a transfer, not an admission), whose fixed 3-year stay, given the stay so far (counted from
    the admission), ends 3 years after the admission; or, with to_adult_unit 0, ready then and
    discharged (no delays)."""
    res = run(
        loss_cfg(
            beds=5,
            rate=0.0,
            los=fixed(3.0),
            **{
                "run.replications": 1,
                "run.years": 3,
                "run.event_log": True,
                "tcp.census": census_file(tmp_path, ["camhs_t4,in,2015-04-21,17.9"], age=True),
                "tcp.beds": {"camhs_t4": camhs_pool(5.0, beds=1)},
                "tcp.children.to_adult_unit": to_adult,
            },
        )
    )
    ev, m = res.events, res.monthly
    person = census_ids(ev)[0]
    at = 0.1 * YEAR
    mine = ev[ev["person"] == person]
    assert mine.loc[mine["event"] == "adult", "time"].tolist() == [pytest.approx(at)]
    discharge = mine.loc[mine["event"] == "discharge", "time"].tolist()
    assert flows(m, "admissions").sum() == 0
    if to_adult:
        moved = mine[mine["event"] == "transfer"]
        assert moved["time"].tolist() == [pytest.approx(at)] and moved["unit"].tolist() == [ATU]
        assert flows(m, "transfers_camhs_to_adult").sum() == flows(m, "transfers").sum() == 1
        assert discharge == [pytest.approx(3 * YEAR - elapsed("2015-04-21"))]
        months = m.set_index("month")
        assert months.loc["2016-05", "inpatients_atu"] == 1 and months.loc["2016-05", "inpatients_camhs_t4"] == 0
        assert months.loc["2016-04", "inpatients_camhs_t4"] == 1
    else:
        assert flows(m, "transfers").sum() == 0
        assert discharge == [pytest.approx(at)]


def test_a_census_child_with_no_age_is_drawn_under_the_transition_age(tmp_path):
    """Census CAMHS rows with no age: each reaches 18 within the span from children.age_low (16) to 18."""
    rows = [f"camhs_t4,in,2016-0{1 + k % 3}-01," for k in range(8)]
    res = run(
        loss_cfg(
            beds=1,
            rate=0.0,
            **{
                "run.replications": 3,
                "run.years": 3,
                "run.event_log": True,
                "tcp.census": census_file(tmp_path, rows, age=True),
                "tcp.beds": {"camhs_t4": camhs_pool(5.0, beds=8)},
                "tcp.children.age_low": 16,
                "tcp.children.to_adult_unit": 0.0,
            },
        )
    )
    adult = res.events[res.events["event"] == "adult"]["time"]
    assert len(adult) == 3 * 8
    assert (adult > 0).all() and (adult <= 2 * YEAR).all()
    assert np.ptp(adult.to_numpy()) > 0.5 * YEAR  # drawn, not all alike


def test_census_rows_keep_their_other_columns(tmp_path):
    """An age column does not disturb the other columns (elapsed days from ``admitted``)."""
    spec = build_spec(
        loss_cfg(**{"tcp.census": census_file(tmp_path, ["atu,in,2015-04-21,40"], age=True)}),
    )
    assert spec.census[0].elapsed == elapsed("2015-04-21") and spec.census[0].adult_in == float("inf")
