"""Closed forms the simulation must reproduce on degenerate configs (the estimators to compare them with,
``ratio_estimate`` and ``mean_ci``, are in ``sim.results.intervals``).

With Poisson arrivals, c beds, overflow (out of area) when all are busy and no discharge delay, the
system is an M/G/c/c loss system: the share of arrivals that overflow is Erlang B for the offered load
a = rate x mean stay, whatever the stay distribution (insensitivity), and the mean number of occupied
beds is a(1 - B). With unlimited beds (M/G/infinity) the number in hospital is Poisson with mean a.
"""

from __future__ import annotations


def erlang_b(a: float, c: int) -> float:
    """Blocking probability of an M/G/c/c system with offered load ``a`` (stable recursion)."""
    if a < 0 or c < 0:
        raise ValueError("offered load and servers must be non-negative")
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b
