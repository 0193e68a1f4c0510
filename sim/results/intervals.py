"""Interval statistics across replications, in one place: the mean and its Student t interval, paired
and independent (Welch) differences, a ratio of sums with its delta-method error, one-sided bounds, a
proportion's Wilson interval and the replications a paired difference needs.

Replications are independent and identically distributed, so every interval here is over replications;
common random numbers pair replication i of one scenario with replication i of another, and a paired
difference is then a sample like any other (``mean_ci`` of the differences). Each function gives back
plain floats and leaves out values that are not finite, the way the comparison and capacity tables need.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

#: The two-sided 95% normal quantile the experiments' quick intervals use (``normal_interval``).
Z95 = 1.96


def finite(values: np.ndarray) -> np.ndarray:
    """``values`` as float64 without NaNs and infinities (a metric a replication does not have)."""
    v = np.asarray(values, dtype=np.float64)
    return v[np.isfinite(v)]


def t_quantile(p: float, n: int) -> float:
    """Student t quantile ``p`` with ``n - 1`` degrees of freedom (``n`` replications); NaN below 2."""
    return float(stats.t.ppf(p, n - 1)) if n > 1 else math.nan


def two_sided(level: float) -> float:
    """The quantile a two-sided interval at ``level`` reads (0.95 -> 0.975)."""
    return 0.5 + level / 2


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float, float]:
    """Mean across replications and its Student t interval: (mean, low, high, half width). Values that
    are not finite are left out; fewer than two give NaN bounds; identical values give zero width."""
    v = finite(values)
    n = len(v)
    if n == 0:
        return math.nan, math.nan, math.nan, math.nan
    mean = float(v.mean())
    if n < 2:
        return mean, math.nan, math.nan, math.nan
    sd = float(v.std(ddof=1))
    half = 0.0 if sd == 0.0 else float(stats.t.ppf(two_sided(level), n - 1) * sd / math.sqrt(n))
    return mean, mean - half, mean + half, half


def paired_ci(diff: np.ndarray, level: float = 0.95) -> tuple[float, float, float, float]:
    """Mean of paired differences and its t interval: (mean, low, high, half width). NaNs are left out;
    fewer than two differences give NaN bounds. Identical pairs give exactly zero width."""
    return mean_ci(diff, level)


def welch_half_width(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> float:
    """Half width of the Welch t interval of mean(a) - mean(b) for independent samples (what the
    difference's interval would be without common random numbers)."""
    a, b = finite(a), finite(b)
    na, nb = len(a), len(b)
    if na < 2 or nb < 2:
        return math.nan
    va, vb = a.var(ddof=1) / na, b.var(ddof=1) / nb
    se2 = va + vb
    if se2 == 0.0:
        return 0.0
    df = se2**2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    return float(stats.t.ppf(two_sided(level), df) * math.sqrt(se2))


def width_ratio(num: float, den: float) -> float:
    """How many times wider ``num`` is than ``den`` (independent over paired half width): NaN when either
    is unknown or both are zero, infinite when only ``den`` is."""
    if not (math.isfinite(num) and math.isfinite(den)) or (num == 0.0 and den == 0.0):
        return math.nan
    return math.inf if den == 0.0 else num / den


def replications_needed(diff: np.ndarray, level: float = 0.95, power: float = 0.8) -> int | None:
    """Replications for a paired interval to exclude zero with probability ``power`` if the true difference
    is the observed mean (normal approximation, n = ((z_level + z_power) sd / mean)^2). None when the mean
    difference is zero (no finite number would do)."""
    d = finite(diff)
    if len(d) < 2 or d.mean() == 0.0:
        return None
    z = stats.norm.ppf(two_sided(level)) + stats.norm.ppf(power)
    return max(2, math.ceil((z * d.std(ddof=1) / abs(d.mean())) ** 2))


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


def upper_bound(estimate: float, se: float, replications: int, confidence: float) -> float:
    """One-sided upper confidence bound: estimate + t(confidence, n - 1) x standard error; NaN when the
    estimate or its error is unknown or there are fewer than 2 replications."""
    if not np.isfinite(estimate) or not np.isfinite(se) or replications < 2:
        return float("nan")
    return float(estimate + stats.t.ppf(confidence, replications - 1) * se)


def t_interval(estimate: float, se: float, replications: int, level: float = 0.95) -> tuple[float, float]:
    """Two-sided t interval of an estimate with standard error ``se`` over ``replications`` (NaN below 2)."""
    t = t_quantile(two_sided(level), replications)
    return estimate - t * se, estimate + t * se


def half_widths(values: np.ndarray, confidence: float) -> np.ndarray:
    """The t confidence interval half-width of the mean of the first k values, for k = 1..n (NaN at k=1)."""
    v = np.asarray(values, dtype=np.float64)
    k = np.arange(1, len(v) + 1)
    mean = np.cumsum(v) / k
    with np.errstate(invalid="ignore", divide="ignore"):
        var = (np.cumsum(v * v) - k * mean * mean) / (k - 1)
        t = stats.t.ppf(two_sided(confidence), k - 1)
        return t * np.sqrt(np.maximum(var, 0.0) / k)


def normal_interval(estimate: float, se: float, z: float = Z95) -> tuple[float, float]:
    """The quick normal interval estimate -/+ z x se (95% by default) that the experiments print."""
    return estimate - z * se, estimate + z * se


def normal_half_width(values: np.ndarray, z: float = Z95) -> float:
    """Half width z x sd / root n of the quick normal interval of a mean (95% by default)."""
    v = np.asarray(values, dtype=np.float64)
    return float(z * v.std(ddof=1) / np.sqrt(len(v)))


def wilson(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval of a proportion (95% by default): the Monte Carlo uncertainty of a
    probability estimated from ``n`` replications, sound even at 0 or 1."""
    if n == 0:
        return float("nan"), float("nan")
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(centre - half, 0.0)), float(min(centre + half, 1.0))
