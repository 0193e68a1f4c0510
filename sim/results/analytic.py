"""Closed forms the simulation must reproduce on degenerate configs, and the estimators to compare with.

With Poisson arrivals, c beds, overflow (out of area) when all are busy and no discharge delay, the
system is an M/G/c/c loss system: the share of arrivals that overflow is Erlang B for the offered load
a = rate x mean stay, whatever the stay distribution (insensitivity), and the mean number of occupied
beds is a(1 - B). With unlimited beds (M/G/infinity) the number in hospital is Poisson with mean a.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def erlang_b(a: float, c: int) -> float:
    """Blocking probability of an M/G/c/c system with offered load ``a`` (stable recursion)."""
    if a < 0 or c < 0:
        raise ValueError("offered load and servers must be non-negative")
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def ratio_estimate(numerators: np.ndarray, denominators: np.ndarray) -> tuple[float, float]:
    """Ratio of sums over replications and its standard error (delta method): for blocking, all
    out-of-area placements over all admissions, not a mean of per-replication shares (which is biased
    when replications differ in size)."""
    x = np.asarray(numerators, dtype=np.float64)
    y = np.asarray(denominators, dtype=np.float64)
    n = len(x)
    r = x.sum() / y.sum()
    resid = x - r * y
    se = np.sqrt(resid.var(ddof=1) / n) / y.mean() if n > 1 else np.inf
    return float(r), float(se)


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float, float]:
    """Mean across replications and its Student t interval: (mean, low, high, half width). Values that
    are not finite are left out; fewer than two give NaN bounds; identical values give zero width."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    n = len(v)
    if n == 0:
        return math.nan, math.nan, math.nan, math.nan
    mean = float(v.mean())
    if n < 2:
        return mean, math.nan, math.nan, math.nan
    sd = float(v.std(ddof=1))
    half = 0.0 if sd == 0.0 else float(stats.t.ppf(0.5 + level / 2, n - 1) * sd / math.sqrt(n))
    return mean, mean - half, mean + half, half
