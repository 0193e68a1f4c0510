"""The arithmetic both engines share (sim.arithmetic), each function against a value worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.arithmetic import (
    breakdown_hazard,
    breakdown_time,
    first_unmet,
    hazard_pick,
    hazard_total,
    next_ctr,
    planning_start,
    resumed_breakdown_time,
)
from sim.pathway import DAYS_PER_YEAR, DISPUTE, FUNDING, HOUSING, PROVIDER
from sim.sampling import choice


def test_next_ctr_counts_the_reviews_held_and_the_wait() -> None:
    """CTRs at 28 days and every 90 after: none yet at day 10 (18 to wait); at day 200 the ones at 28
    and 118 have been held (the next, at 208, is 8 days away); with no repeat, one and no more."""
    assert next_ctr(10.0, 28.0, 90.0) == (0, 18.0)
    assert next_ctr(200.0, 28.0, 90.0) == (2, 8.0)
    assert next_ctr(28.0, 28.0, 90.0) == (1, 90.0)
    assert next_ctr(500.0, 28.0, math.inf) == (1, math.inf)


def test_breakdown_time_inverts_the_piecewise_hazard() -> None:
    """A unit-rate hazard h breaks down at h / first_rate inside the first year, else a year plus the rest
    of it at the later rate; never when the later rate is zero, nor once the placement has settled."""
    first, after, never = 2.0 / DAYS_PER_YEAR, 0.5 / DAYS_PER_YEAR, math.inf
    assert breakdown_time(100.0, 1.0, first, after, never) == pytest.approx(100.0 + DAYS_PER_YEAR / 2)
    assert breakdown_time(100.0, 3.0, first, after, never) == pytest.approx(100.0 + 3 * DAYS_PER_YEAR)
    assert breakdown_time(0.0, 3.0, first, 0.0, never) == math.inf
    assert breakdown_time(0.0, 0.5, 0.0, after, never) == pytest.approx(DAYS_PER_YEAR + DAYS_PER_YEAR)
    # settled 2 years in: the breakdown due at 3 years never comes; the one at half a year still does
    assert breakdown_time(100.0, 3.0, first, after, 2 * DAYS_PER_YEAR) == math.inf
    assert breakdown_time(100.0, 1.0, first, after, 2 * DAYS_PER_YEAR) == pytest.approx(100.0 + DAYS_PER_YEAR / 2)


def test_breakdown_hazard_is_the_piecewise_integral() -> None:
    """Rates 2 a year in the first year and 0.5 after: 1 at half a year, 2 at a year, 2.5 at two years
    (2 + 0.5 x 1); none at the start."""
    first, after = 2.0 / DAYS_PER_YEAR, 0.5 / DAYS_PER_YEAR
    assert breakdown_hazard(0.0, first, after) == 0.0
    assert breakdown_hazard(DAYS_PER_YEAR / 2, first, after) == pytest.approx(1.0)
    assert breakdown_hazard(DAYS_PER_YEAR, first, after) == pytest.approx(2.0)
    assert breakdown_hazard(2 * DAYS_PER_YEAR, first, after) == pytest.approx(2.5)
    assert breakdown_hazard(3 * DAYS_PER_YEAR, first, 0.0) == pytest.approx(2.0)


def test_a_resumed_placement_breaks_down_given_none_so_far() -> None:
    """A placement half a year old at day 0 (rates 2 a year, then 0.5; 1 of hazard spent): a unit hazard
    of 0.5 more comes a quarter year on, 1 more at its first anniversary (half a year on), 2 more 1 + 1 / 0.5
    = 3 years after its start (2.5 years on). From a new placement (elapsed 0) it is ``breakdown_time``'s
    own time; never before now, and never once the placement settles (2 years after its start)."""
    first, after, never = 2.0 / DAYS_PER_YEAR, 0.5 / DAYS_PER_YEAR, math.inf
    half = DAYS_PER_YEAR / 2
    assert resumed_breakdown_time(0.0, half, 0.5, first, after, never) == pytest.approx(half / 2)
    assert resumed_breakdown_time(0.0, half, 1.0, first, after, never) == pytest.approx(half)
    assert resumed_breakdown_time(0.0, half, 2.0, first, after, never) == pytest.approx(2.5 * DAYS_PER_YEAR)
    assert resumed_breakdown_time(0.0, half, 0.0, first, after, never) >= 0.0
    assert resumed_breakdown_time(0.0, half, 2.0, first, after, 2 * DAYS_PER_YEAR) == math.inf
    assert resumed_breakdown_time(0.0, half, 0.5, first, after, 2 * DAYS_PER_YEAR) == pytest.approx(half / 2)
    for h in (0.3, 1.0, 4.0):
        assert resumed_breakdown_time(50.0, 0.0, h, first, after, never) == breakdown_time(50.0, h, first, after, never)


def test_hazard_pick_is_choice_on_the_cumulative_shares() -> None:
    """The event picked for u is the one ``choice`` picks on the cumulative shares, at every u of a grid,
    and the total is the rates' sum."""
    rates = np.array([0.2, 0.0, 0.5, 0.3, 1.0])
    total = hazard_total(rates)
    assert total == pytest.approx(2.0)
    for u in np.linspace(0.0, 0.999999, 101):
        assert hazard_pick(u, rates, total) == choice(u, np.cumsum(rates) / total)
    assert hazard_pick(0.05, rates, total) == 0 and hazard_pick(0.2, rates, total) == 2


def test_first_unmet_takes_the_reasons_in_order() -> None:
    """Housing first, then funding, a dispute and a provider, by which of their times are still ahead."""
    assert first_unmet(10.0, False, 0.0, 0.0, 0.0) == HOUSING
    assert first_unmet(10.0, True, 20.0, 30.0, 40.0) == FUNDING
    assert first_unmet(25.0, True, 20.0, 30.0, 40.0) == DISPUTE
    assert first_unmet(35.0, True, 20.0, 30.0, 40.0) == PROVIDER
    assert first_unmet(45.0, True, 20.0, 30.0, 40.0) == -1


def test_planning_starts_a_lead_before_the_expected_readiness() -> None:
    """Admitted on day 0, expected ready on day 400, a 180-day lead: the work starts on day 220; never
    before the admission (a short stay: at admission); and at the latest when a CTR finds the person
    ready (day 100: then)."""
    assert planning_start(0.0, 400.0, 400.0, 180.0) == 220.0
    assert planning_start(0.0, 100.0, 100.0, 180.0) == 0.0
    assert planning_start(0.0, 400.0, 100.0, 180.0) == 100.0
    assert planning_start(-50.0, 400.0, 300.0, 180.0) == 220.0
    assert planning_start(0.0, 400.0, 400.0, 0.0) == 400.0  # no lead: from readiness, as before
