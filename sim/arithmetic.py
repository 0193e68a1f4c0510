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
def breakdown_hazard(elapsed: float, first_rate: float, after_rate: float) -> float:
    """The cumulative breakdown hazard of a placement ``elapsed`` days old (as ``breakdown_time`` reads
    the rates: ``first_rate`` a day in its first year, ``after_rate`` after it)."""
    if elapsed <= DAYS_PER_YEAR:
        return first_rate * elapsed
    return first_rate * DAYS_PER_YEAR + after_rate * (elapsed - DAYS_PER_YEAR)


@jit
def resumed_breakdown_time(
    now: float, elapsed: float, hazard: float, first_rate: float, after_rate: float, settle: float
) -> float:
    """When a placement that started ``elapsed`` days before ``now`` and has not broken down yet breaks
    down, for a unit-rate exponential ``hazard``: the time conditional on no breakdown so far (the
    cumulative hazard at ``elapsed`` plus ``hazard``, inverted by ``breakdown_time``), never before now;
    inf if it never breaks down. At ``elapsed`` 0 (a discharge now) it is ``breakdown_time``'s own."""
    start = now - elapsed
    at = breakdown_time(
        start, breakdown_hazard(elapsed, first_rate, after_rate) + hazard, first_rate, after_rate, settle
    )
    return max(at, now)


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
def ctr_ready_prob(stay: float, ready: float, ready_long: float, long_stay: float) -> float:
    """The chance an inpatient CTR finds the person ready, ``stay`` days into their stay: ``ready``, or
    ``ready_long`` once the stay is ``long_stay`` days old (inf: never)."""
    return ready if stay < long_stay else ready_long


@jit
def discharge_times(
    delayed_for: int, now: float, plan: float, provider: float, funding: float, dispute: float
) -> tuple[float, float, float]:
    """When a ready person's provider, funding decision and dispute's end come (provider_at, funding_at,
    dispute_at), from the planning point ``plan`` and the drawn times. A start census row can say what
    the person is delayed for now (``delayed_for``, a DELAY_REASONS code; -1: nothing said): then that
    wait starts now and what comes before it in the order of reasons is done (housing is held by
    the caller)."""
    if delayed_for == _FUNDING:
        return plan + provider, now + funding, now + funding + dispute
    if delayed_for == _DISPUTE:
        return plan + provider, now, now + dispute
    if delayed_for == _PROVIDER:
        return now + provider, now, now
    return plan + provider, plan + funding, plan + funding + dispute


@jit
def planning_start(admitted: float, expected_ready: float, ready: float, lead: float) -> float:
    """When provider and funding work starts for a stay: ``lead`` days before the readiness expected at
    admission (``expected_ready``), not before the admission, and not after the person is found ready
    (``ready``: an inpatient CTR can find them ready early, and the work starts then at the latest)."""
    return min(max(admitted, expected_ready - lead), ready)
