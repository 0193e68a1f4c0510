"""The community cohort at the start (sim/model/model.py: ``start_community``, ``placement`` resumed from
the discharge): people in placements on the first day, each since their discharge date, so breakdowns
are drawn given none so far, a crisis within 12 months of the discharge is a readmission, a placement
past ``settle_years`` is settled, and the start's placements are the cohort."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import loss_cfg, make_cfg
from test_conservation import assert_conserved, assert_states_conserved
from test_pathway_rules import YEAR, fixed, flows

from sim.api import run
from sim.config import build_spec
from sim.model import run_replication
from sim.pathway import INITIAL, ONGOING, PLACEMENT_TYPES
from sim.sampling import EntityKind

START = "2016-04-01"


def cohort_file(tmp_path, rows: list[str], admitted: bool = False) -> str:
    """A community census of ``rows`` (type,discharged,unit,area[,admitted])."""
    path = tmp_path / "community.csv"
    header = "type,discharged,unit,area" + (",admitted" if admitted else "")
    path.write_text("# a test cohort\n" + header + "\n" + "\n".join(rows) + "\n")
    return str(path)


def cohort_cfg(tmp_path, rows: list[str], admitted: bool = False, **updates):
    """No crises but the cohort's, no CTRs, stays of 5 years (nobody is discharged in the run), so every
    admission is a cohort placement breaking down."""
    return loss_cfg(
        beds=1000,
        rate=0.0,
        los=fixed(5.0),
        **{
            "run.replications": 2,
            "run.years": 1,
            "run.event_log": True,
            "tcp.community_census": cohort_file(tmp_path, rows, admitted),
            **updates,
        },
    )


def is_cohort(person: int) -> bool:
    return person >> 48 == int(EntityKind.COMMUNITY)


def test_a_cohort_breakdown_is_drawn_given_none_before_the_start(tmp_path):
    """150 people discharged on 2015-10-01 (183 days before the start), breakdowns at 2 a year in the first
    year and none after: given none so far, a placement breaks down before its anniversary (182.25 days
    on) with probability 1 - exp(-2 x 182.25 / 365.25) = 0.63, never after it. (Drawn afresh from the
    start it would be 0.86 within the year; from the discharge without the condition, 0.23.) Each
    breakdown is an admission within 12 months of the discharge: a readmission."""
    res = run(
        cohort_cfg(tmp_path, ["shared,2015-10-01,atu,in"] * 150, **{"tcp.community.breakdown_rate_first_year": 2.0})
    )
    m, ev = res.monthly, res.events
    assert ev[ev["event"] == "community_start"]["person"].map(is_cohort).all()
    breakdowns = ev[ev["event"] == "breakdown"]
    n = 2 * 150
    share = len(breakdowns) / n
    p = 1 - np.exp(-2 * 182.25 / YEAR)
    assert abs(share - p) < 4 * np.sqrt(p * (1 - p) / n)
    assert breakdowns["time"].max() < 182.25
    np.testing.assert_array_equal(flows(m, "admissions"), flows(m, "breakdowns"))
    np.testing.assert_array_equal(flows(m, "readmissions_12m"), flows(m, "breakdowns"))


def test_a_crisis_more_than_12_months_after_the_discharge_is_not_a_readmission(tmp_path):
    """Discharged on 2015-06-01 (305 days before the start) with breakdowns only after the first year (20
    a year): every breakdown comes after the placement's anniversary, day 60.25, more than 12 months after
    the discharge, so none of the admissions is a readmission."""
    res = run(
        cohort_cfg(
            tmp_path,
            ["core_cluster,2015-06-01,atu,in"] * 40,
            **{"tcp.community.breakdown_rate_first_year": 0.0, "tcp.community.breakdown_rate_after": 20.0},
        )
    )
    m, ev = res.monthly, res.events
    assert flows(m, "breakdowns").sum() > 40
    assert ev[ev["event"] == "breakdown"]["time"].min() > YEAR - 305
    assert flows(m, "admissions").sum() == flows(m, "breakdowns").sum()
    assert flows(m, "readmissions_12m").sum() == 0


def test_a_row_past_settle_years_starts_settled(tmp_path):
    """settle_years 1, no breakdowns in the first year and 50 a year after it: 40 people discharged two
    years before the start are settled from the start (never break down, not counted as settling in the
    run) and leave at the settled rate, 2 a year, from the start (mean half a year); 40 discharged half a
    year before settle on their anniversary (day 182.25), counted then."""
    rows = ["bespoke_single,2014-04-01,low_secure,out"] * 40 + ["shared,2015-10-01,atu,in"] * 40
    res = run(
        cohort_cfg(
            tmp_path,
            rows,
            **{
                "run.years": 3,
                "tcp.community.breakdown_rate_first_year": 0.0,
                "tcp.community.breakdown_rate_after": 50.0,
                "tcp.community.settle_years": 1.0,
                "tcp.community.settled_leave_rate": 2.0,
            },
        )
    )
    m, ev = res.monthly, res.events
    assert flows(m, "breakdowns").sum() == 0
    start = ev[ev["event"] == "community_start"].set_index(["replication", "person"])
    old = start[start["placement"] == PLACEMENT_TYPES.index("bespoke_single")].index
    by_person = ev.set_index(["replication", "person"])
    of_old, young = by_person[by_person.index.isin(old)], by_person[~by_person.index.isin(old)]
    settled = of_old[of_old["event"] == "settled"]
    assert len(settled) == len(old) == 80 and (settled["time"] == 0).all()
    leaves = of_old[of_old["event"] == "settled_leave"]["time"]
    assert len(leaves) > 70
    assert leaves.mean() == pytest.approx(YEAR / 2, rel=4 / np.sqrt(len(leaves)))
    young_settled = young[young["event"] == "settled"]["time"]
    assert len(young_settled) == 80
    np.testing.assert_allclose(young_settled, 182.25)
    assert flows(m, "placements_settled").sum() == 80


def test_the_start_placements_are_the_cohort_by_type_with_their_costs(tmp_path):
    """The record's start placements are the rows, by type; in April (30 days) with no breakdowns or deaths,
    a row discharged 60 days before the start is in its initial (dearer) months, one discharged a year
    before is not, and only the row whose stay lasted 5+ years brings a dowry, of its unit left."""
    rows = ["shared,2016-02-01,atu,in,2015-01-01", "core_cluster,2015-04-01,low_secure,out,2009-01-01"]
    spec = build_spec(cohort_cfg(tmp_path, rows, admitted=True, **{"tcp.costs.initial_months": 6.0}))
    rec, _ = run_replication(spec, 0)
    np.testing.assert_array_equal(rec.placements[0, 0], [0, 1, 1])
    np.testing.assert_array_equal(rec.placements[:, 0].sum(axis=1), 2)
    days = rec.placement_days[0, 0]  # [U, A, H, phase]
    assert days[0, 0, PLACEMENT_TYPES.index("shared"), INITIAL] == pytest.approx(30.0)
    assert days[1, 1, PLACEMENT_TYPES.index("core_cluster"), ONGOING] == pytest.approx(30.0)
    assert days[..., INITIAL].sum() == pytest.approx(30.0) and days.sum() == pytest.approx(60.0)
    assert rec.dowry_days[0, 0, 1] == pytest.approx(30.0) and rec.dowry_days[0].sum() == pytest.approx(30.0)


def test_a_cohort_home_freed_by_a_breakdown_is_a_market_offer(tmp_path):
    """No shared units held and none coming: a cohort person's home, freed by a breakdown, is not the
    cohort's stock but an offer that lapses when nobody waits for it."""
    res = run(
        cohort_cfg(
            tmp_path,
            ["shared,2016-03-01,atu,in"],
            **{
                "run.replications": 1,
                "tcp.community.breakdown_rate_first_year": 50.0,
                "tcp.discharge.housing": {"shared": {"units": 0, "offer_months": 1}},
            },
        )
    )
    assert flows(res.monthly, "breakdowns").sum() == 1
    assert flows(res.monthly, "housing_lapsed").sum() == 1


def test_bhr_starts_from_its_cohort_and_conserves_people():
    """BHR's shipped cohort (31 rows): placements at the start are the cohort, by type, and people and
    placements are conserved every month from there."""
    cfg = make_cfg(["run.replications=2"])
    spec = build_spec(cfg)
    assert len(spec.community) == 31
    by_type = np.bincount([c.kind for c in spec.community], minlength=len(PLACEMENT_TYPES))
    for r in range(2):
        rec, _ = run_replication(spec, r)
        np.testing.assert_array_equal(rec.placements[0, 0], by_type)
        assert_states_conserved(spec, rec)
    assert_conserved(run(cfg).monthly)
