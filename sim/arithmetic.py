"""Arithmetic both engines do the same way, compiled once and called by both.

The SimPy model (``sim.model.model``) calls these from Python, the compiled engine (``sim.engine.loop``)
from its kernel: one definition, so the two cannot compute a time or pick an event differently. Each is a
pure function of numbers (no state, no draws: the caller draws the uniforms at its own address).
"""

from __future__ import annotations

import numpy as np

from sim.pathway import DAYS_PER_YEAR, DISPUTE, FUNDING, HOUSING, PROVIDER
from sim.sampling._jit import jit

# the delay reasons' codes as plain ints in compiled code
_HOUSING, _FUNDING, _DISPUTE, _PROVIDER = (np.int64(r) for r in (HOUSING, FUNDING, DISPUTE, PROVIDER))


@jit
def next_ctr(elapsed: float, first: float, interval: float) -> tuple[int, float]:
    """Inpatient CTRs fall at ``first`` days after admission and every ``interval`` days after that:
    how many have been held by ``elapsed`` days into the stay, and how long until the next (inf: none)."""
    if elapsed < first:
        return 0, first - elapsed
    if not np.isfinite(interval):
        return 1, np.inf
    held = 1 + int((elapsed - first) // interval)
    return held, first + held * interval - elapsed


@jit
def breakdown_time(start: float, hazard: float, first_rate: float, after_rate: float, settle: float) -> float:
    """When a placement started at ``start`` breaks down, for a unit-rate exponential ``hazard``: the
    breakdown hazard is ``first_rate`` a day in the placement's first year and ``after_rate`` after it
    (piecewise constant, so the time inverts the cumulative hazard) until the placement is settled,
    ``settle`` days in, when it ends; inf if it never breaks down."""
    first_year = first_rate * DAYS_PER_YEAR
    if hazard < first_year:
        at = start + hazard / first_rate
    elif after_rate > 0:
        at = start + DAYS_PER_YEAR + (hazard - first_year) / after_rate
    else:
        return np.inf
    return at if at < start + settle else np.inf


@jit
def hazard_total(rates: np.ndarray) -> float:
    """The total of competing hazards, summed in order (as ``hazard_pick`` accumulates them)."""
    total = 0.0
    for k in range(rates.shape[0]):
        total += rates[k]
    return total


@jit
def hazard_pick(u: float, rates: np.ndarray, total: float) -> int:
    """Which of competing exponential hazards fires, for a uniform ``u``: the first whose cumulative share
    of ``total`` is above u (the last if rounding leaves none), as ``sim.sampling.choice`` picks it."""
    n = rates.shape[0]
    acc = 0.0
    for k in range(n):
        acc += rates[k]
        if acc / total > u:
            return k
    return n - 1


@jit
def first_unmet(now: float, housed: bool, funding_at: float, dispute_at: float, provider_at: float) -> int:
    """Why a clinically ready person is still in hospital at ``now``: the first unmet of a housing unit,
    the funding decision, the end of an S117 dispute and a provider (``DELAY_REASONS`` codes); -1 when
    nothing is left to wait for."""
    if not housed:
        return _HOUSING
    if now < funding_at:
        return _FUNDING
    if now < dispute_at:
        return _DISPUTE
    if now < provider_at:
        return _PROVIDER
    return -1


@jit
def adult_in(u: float, span: float) -> float:
    """Days until a child new to the model reaches the transition age, for a uniform ``u``: their age is
    uniform over the ``span`` days up to it (``children.age_low`` to ``children.transition_age``)."""
    return (1.0 - u) * span


@jit
def planning_start(admitted: float, expected_ready: float, ready: float, lead: float) -> float:
    """When provider and funding work starts for a stay: ``lead`` days before the readiness expected at
    admission (``expected_ready``), not before the admission, and not after the person is found ready
    (``ready``: an inpatient CTR can find them ready early, and the work starts then at the latest)."""
    return min(max(admitted, expected_ready - lead), ready)
