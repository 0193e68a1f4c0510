"""A community that settles (sim/model/model.py, rule 9: ``placement``, ``settle``, ``leave_settled``): a
placement with no breakdown for ``community.settle_years`` is settled, its breakdown hazard ends, and the
person then leaves the at-risk pathway or goes back on the register (green) at the settled rates; so a
long run with constant inputs reaches a steady state."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import loss_cfg, make_cfg
from test_pathway_rules import YEAR, fixed, flows

from sim.api import run
from sim.config import build_spec
from sim.engine import Engine
from sim.metrics import metrics
from sim.results.record import MonthlyArrays


def community_cfg(settle, leave: float = 0.0, register: float = 0.0, **updates):
    """Admissions of a fixed 0.1-year stay, every discharge to a placement (unlimited housing)."""
    return loss_cfg(
        beds=1000,
        rate=30.0,
        los=fixed(0.1),
        **{
            "run.replications": 2,
            "run.years": 4,
            "run.event_log": True,
            "tcp.community.settle_years": settle,
            "tcp.community.settled_leave_rate": leave,
            "tcp.community.settled_register_rate": register,
            **updates,
        },
    )


@pytest.mark.parametrize("settle", [0.9, None])
def test_a_settled_placement_never_breaks_down(settle):
    """No breakdowns in the first year and nearly certain ones soon after it: a placement settled at 0.9
    years never breaks down; with no settling, almost every placement older than a year does."""
    res = run(community_cfg(settle, **{"tcp.community.breakdown_rate_after": 100.0}))
    m, ev = res.monthly, res.events
    placed = (ev["event"] == "discharge").sum()
    assert placed > 100
    if settle is not None:
        assert flows(m, "breakdowns").sum() == 0
        assert flows(m, "placements_settled").sum() == (ev["event"] == "settled").sum() > 50
    else:
        assert flows(m, "breakdowns").sum() > 0.5 * placed and flows(m, "placements_settled").sum() == 0


def test_settled_people_leave_or_go_back_on_the_register_at_their_rates():
    """Settled at discharge (settle_years 0), leaving at 1 a year and back on the register at 3: a quarter
    leave the pathway, three quarters go back on the register rated green, after an exponential time of
    mean a quarter year; they keep their homes (no breakdowns, no housing freed)."""
    res = run(community_cfg(0.0, leave=1.0, register=3.0, **{"run.years": 6}))
    m, ev = res.monthly, res.events
    left, back = flows(m, "settled_left").sum(), flows(m, "settled_to_register").sum()
    n = left + back
    assert n > 300
    assert abs(left / n - 0.25) < 4 * np.sqrt(0.25 * 0.75 / n)
    settled = ev[ev["event"] == "settled"].set_index(["replication", "person", "time"]).index
    ends = ev[ev["event"].isin(["settled_leave", "settled_register"])]
    assert len(ends) == n
    # each person's time from settling (at discharge) to the end: the first end after each settling
    starts = ev[ev["event"] == "settled"].groupby(["replication", "person"])["time"].apply(list)
    gaps = []
    for (r, person), group in ends.groupby(["replication", "person"]):
        for t in group["time"]:
            earlier = [s for s in starts.loc[(r, person)] if s <= t]
            gaps.append(t - max(earlier))
    assert len(settled) >= n
    assert np.mean(gaps) == pytest.approx(0.25 * YEAR, rel=4 / np.sqrt(len(gaps)))
    back_on = ev[ev["event"] == "settled_register"]
    assert (back_on["state"] == 1).all()  # REGISTER


def steady_cfg(settle):
    """BHR with constant inputs for 60 years: beds fixed at their 2016 numbers, no housing pipeline."""
    return make_cfg(
        ["run.engine=numba", "run.years=60"],
        **{
            "tcp.beds.atu.schedule": [{"date": "2016-03", "beds": 10}],
            "tcp.beds.low_secure.schedule": [{"date": "2016-03", "beds": 6}],
            "tcp.beds.medium_secure.schedule": [{"date": "2016-03", "beds": 3}],
            "tcp.discharge.housing.bespoke_single.pipeline": [],
            "tcp.community.settle_years": settle,
        },
    )


def last_twenty_years_trend(settle) -> dict[str, float]:
    """Over years 40 to 60 of 200 replications: each metric's least-squares change over those 20 years, as a
    share of its mean (yearly flows; month-end stocks averaged over the year)."""
    spec = build_spec(steady_cfg(settle))
    engine = Engine(spec)
    m = metrics(spec, MonthlyArrays.stack([engine.run(r) for r in range(200)]))
    out = {}
    for name, kind in (("placements", "stock"), ("breakdowns", "flow"), ("admissions", "flow")):
        values = np.nan_to_num(m[name][1:]).mean(axis=1)  # months, mean over replications
        yearly = values.reshape(-1, 12)
        yearly = yearly.sum(axis=1) if kind == "flow" else yearly.mean(axis=1)
        late = yearly[40:]
        slope = np.polyfit(np.arange(20), late, 1)[0]
        out[name] = 20 * slope / late.mean()
    return out


def test_with_constant_inputs_a_long_run_reaches_a_steady_state():
    """BHR's settling (its shipped settle_years and rates): no trend in placements, breakdowns or
    admissions over the last 20 of 60 years (each changes by under 5% of its mean); with no settling the
    placements still grow by more than that."""
    settled = last_twenty_years_trend(make_cfg().tcp.community.settle_years)
    assert all(abs(change) < 0.05 for change in settled.values()), settled
    growing = last_twenty_years_trend(None)
    assert growing["placements"] > 0.05, growing
