"""Analytic checks on degenerate configs (DESIGN.md section 6): Erlang B, M/G/infinity, Little's law.

The loss system starts empty and runs a warm-up long enough for its stay distribution before results
are counted: a few years from empty leave too few long stayers and bias blocking down (a heavy tail
needs a century). A single steady-state census would not do instead: shared by every replication, its
one draw of long stayers would bias them all. Blocking is estimated as all out-of-area
placements over all admissions (a ratio of sums), with a delta-method standard error across replications.
The long runs use the Numba engine, which gives the SimPy model's results exactly (tests/equivalence);
Little's law reads the SimPy model's event log.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import loss_cfg

from sim.api import run
from sim.results.analytic import erlang_b
from sim.results.intervals import ratio_estimate

Z = 4.0  # tolerance in standard errors: a correct model fails this about once in 15,000 seeds


def reported(result) -> pd.DataFrame:
    """Monthly rows inside the reported horizon (the start point has no flows)."""
    m = result.monthly
    return m[m["month"] > result.spec.calendar.start_label]


def blocking_and_occupancy(result) -> tuple[tuple[float, float], tuple[float, float]]:
    """(B, se) from out-of-area placements over admissions, and (mean occupied beds, se)."""
    m = reported(result)
    per_rep = m.groupby("replication")[
        ["out_of_area_full_beds", "admissions", "inpatient_days", "inpatient_days_out_of_area"]
    ].sum()
    days = result.spec.calendar.horizon
    occupied = (per_rep["inpatient_days"] - per_rep["inpatient_days_out_of_area"]) / days
    return (
        ratio_estimate(per_rep["out_of_area_full_beds"], per_rep["admissions"]),
        (float(occupied.mean()), float(occupied.std(ddof=1) / np.sqrt(len(occupied)))),
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "rate, beds, los, mean_years, warmup",
    [
        # issue 4's benchmark system: a = 20 x 1.5 = 30 offered beds on 25 (B = 0.245)
        (20.0, 25, [{"family": "lognormal", "weight": 1.0, "mean": 1.5, "sd": 2.0}], 1.5, 40),
        # heavy tailed: short assessment stays and a long lognormal tail; a = 12 x 1.0 on 12 beds (B = 0.199)
        (
            12.0,
            12,
            [
                {"family": "exponential", "weight": 0.8, "mean": 0.25},
                {"family": "lognormal", "weight": 0.2, "mean": 4.0, "sd": 6.0},
            ],
            1.0,
            100,
        ),
    ],
    ids=["lognormal-a30-c25", "heavy-tail-a12-c12"],
)
def test_out_of_area_share_is_erlang_b(rate, beds, los, mean_years, warmup):
    """With Poisson admissions, c beds and overflow out of area, the out-of-area share is Erlang B for
    a = rate x mean stay whatever the stay distribution, and mean occupied beds are a(1 - B)."""
    cfg = loss_cfg(
        beds=beds,
        rate=rate,
        los=los,
        **{"run.replications": 400, "run.years": 30, "run.warmup_years": warmup, "run.engine": "numba"},
    )
    (b, se), (occ, occ_se) = blocking_and_occupancy(run(cfg))
    a = rate * mean_years
    expected = erlang_b(a, beds)
    assert abs(b - expected) < Z * se, f"blocking {b:.4f} +/- {se:.4f}, Erlang B {expected:.4f}"
    assert abs(occ - a * (1 - expected)) < Z * occ_se, (
        f"occupied {occ:.2f} +/- {occ_se:.2f}, a(1-B) {a * (1 - expected):.2f}"
    )


def test_erlang_b_known_values():
    """The Erlang B recursion matches textbook values (a=1,c=1: 1/2; a=2,c=2: 2/5; a=30,c=25: 0.2453)."""
    assert erlang_b(1.0, 1) == pytest.approx(0.5)
    assert erlang_b(2.0, 2) == pytest.approx(0.4)
    assert erlang_b(30.0, 25) == pytest.approx(0.24533, abs=1e-5)
    assert erlang_b(5.0, 0) == 1.0


@pytest.mark.slow
def test_mg_infinity_occupancy_is_poisson():
    """With beds never full (M/G/infinity), mean inpatients equal the offered load a and month-end
    counts are Poisson (variance over mean near 1)."""
    los = [{"family": "lognormal", "weight": 1.0, "mean": 1.5, "sd": 2.0}]
    result = run(
        loss_cfg(
            beds=10_000,
            rate=20.0,
            los=los,
            **{"run.replications": 200, "run.years": 20, "run.warmup_years": 40, "run.engine": "numba"},
        )
    )
    m = reported(result)
    assert m["out_of_area_placements"].sum() == 0
    per_rep = m.groupby("replication")["inpatients"].mean()
    a = 30.0
    assert abs(per_rep.mean() - a) < Z * per_rep.std(ddof=1) / np.sqrt(len(per_rep))
    # month-end counts one year apart are nearly independent: their spread across replications
    snap = m[m["month"].str.endswith("-03")]["inpatients"]
    assert 0.8 < snap.var() / snap.mean() < 1.25


@pytest.mark.slow
def test_littles_law_from_the_event_log():
    """Little's law on every replication: the time integral of inpatients the monthly record keeps equals
    the stays in the event log clipped to the horizon, and L = lambda W holds across replications."""
    los = [{"family": "exponential", "weight": 1.0, "mean": 0.5}]
    cfg = loss_cfg(
        beds=10_000,
        rate=30.0,
        los=los,
        **{"run.replications": 30, "run.years": 10, "run.warmup_years": 5, "run.event_log": True},
    )
    result = run(cfg)
    horizon = result.spec.calendar.horizon
    ev = result.events
    adm = ev[ev["event"] == "admission"].set_index(["replication", "person"])["time"]
    dis = ev[ev["event"] == "discharge"].set_index(["replication", "person"])["time"]
    stays = pd.DataFrame({"in": adm, "out": dis}).fillna({"out": np.inf})
    clipped = (stays["out"].clip(upper=horizon) - stays["in"].clip(lower=0.0)).clip(lower=0.0)
    from_log = clipped.groupby(level="replication").sum()
    from_record = reported(result).groupby("replication")["inpatient_days"].sum()
    np.testing.assert_allclose(from_record.to_numpy(), from_log.to_numpy(), rtol=1e-9)
    # L = lambda W over the reported window; W from the first half's admissions, whose stays (mean half
    # a year) have all ended by the horizon, so none is censored
    in_window = stays[(stays["in"] >= 0) & (stays["in"] < horizon)]
    lam = len(in_window) / (horizon * cfg.run.replications)
    first_half = in_window[in_window["in"] < horizon / 2]
    assert np.isfinite(first_half["out"]).all()
    w = (first_half["out"] - first_half["in"]).mean()
    big_l = from_record.mean() / horizon
    assert big_l == pytest.approx(lam * w, rel=0.03)


def test_the_census_of_stays_in_steady_state_is_length_biased():
    """In steady state (M/G/infinity: beds never full, no CTRs, delays or deaths), the stays so far of the
    inpatients on a day have the density S(x) / E[L] of the LOS law (the length-biased, or equilibrium,
    distribution): the share in hospital 2+, 5+ and 10+ years at month ends is the integral of the
    survival function above each threshold over the mean, worked out from the pool's law. A heavy-tailed
    mixture like BHR's, where the shares are far from the per-episode shares."""
    los = [
        {"family": "lognormal", "weight": 0.80, "mean": 0.3, "sd": 0.3},
        {"family": "lognormal", "weight": 0.15, "mean": 2.0, "sd": 1.5},
        {"family": "lognormal", "weight": 0.05, "mean": 10.0, "sd": 4.0},
    ]
    result = run(
        loss_cfg(
            beds=10_000,
            rate=40.0,
            los=los,
            **{"run.replications": 300, "run.years": 10, "run.warmup_years": 50, "run.engine": "numba"},
        )
    )
    m = reported(result)
    law = result.spec.pools[0].los
    grid = np.linspace(0.0, 80 * 365.25, 80 * 365 * 2 + 1)
    survival = np.array([law.survival(x) for x in grid])
    step = grid[1] - grid[0]
    mean = survival.sum() * step
    for years in (2, 5, 10):
        expected = survival[grid >= years * 365.25].sum() * step / mean
        simulated = m[f"long_stayers_{years}y"].sum() / m["inpatients"].sum()
        per_episode = law.survival(years * 365.25)  # what a census that is not length-biased would give
        assert simulated == pytest.approx(expected, abs=0.01), (years, simulated, expected)
        assert abs(per_episode - expected) > 0.03, years  # the test tells the two apart
