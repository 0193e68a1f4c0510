"""Inverse-CDF samplers and packed (mixture) distributions, all Numba-compiled.

Every sampler is a pure, monotone function of uniforms in (0, 1), so the same
address gives the same value in the SimPy model and in a compiled engine, and
common random numbers carry across scenarios.

Packed distribution layout (float64 array), so compiled code can handle any
length-of-stay family without Python objects::

    [k, then k component blocks: weight, family, nparams, params...]

A single distribution is a mixture with k == 1; weights sum to 1.
Family codes and their params:

    EXPONENTIAL = 0  (mean)
    LOGNORMAL   = 1  (mean, sd, mu, sigma)  mean and sd of the variable; mu, sigma of its log (packed once)
    WEIBULL     = 2  (shape, scale)
    UNIFORM     = 3  (low, high)
    FIXED       = 4  (value)
    EMPIRICAL   = 5  (n, x[0..n-1], cdf[0..n-1])   piecewise-linear CDF

Conventions: ``survival(t) = P(T > t)``, ``cdf(t) = P(T <= t)``.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import jit, kernel

EXPONENTIAL = 0
LOGNORMAL = 1
WEIBULL = 2
UNIFORM = 3
FIXED = 4
EMPIRICAL = 5

FAMILY_NAMES = {
    EXPONENTIAL: "exponential",
    LOGNORMAL: "lognormal",
    WEIBULL: "weibull",
    UNIFORM: "uniform",
    FIXED: "fixed",
    EMPIRICAL: "empirical",
}

_SQRT2 = math.sqrt(2.0)

# Wichura's AS 241 (PPND16) for the normal quantile, relative accuracy about 1e-16: rational functions
# in p - 0.5 near the centre and in sqrt(-log(tail)) in the tails, no erf and no refinement step.
_AS241_A = (
    3.3871328727963666080e0,
    1.3314166789178437745e2,
    1.9715909503065514427e3,
    1.3731693765509461125e4,
    4.5921953931549871457e4,
    6.7265770927008700853e4,
    3.3430575583588128105e4,
    2.5090809287301226727e3,
)
_AS241_B = (
    1.0,
    4.2313330701600911252e1,
    6.8718700749205790830e2,
    5.3941960214247511077e3,
    2.1213794301586595867e4,
    3.9307895800092710610e4,
    2.8729085735721942674e4,
    5.2264952788528545610e3,
)
_AS241_C = (
    1.42343711074968357734e0,
    4.63033784615654529590e0,
    5.76949722146069140550e0,
    3.64784832476320460504e0,
    1.27045825245236838258e0,
    2.41780725177450611770e-1,
    2.27238449892691845833e-2,
    7.74545014278341407640e-4,
)
_AS241_D = (
    1.0,
    2.05319162663775882187e0,
    1.67638483018380384940e0,
    6.89767334985100004550e-1,
    1.48103976427480074590e-1,
    1.51986665636164571966e-2,
    5.47593808499534494600e-4,
    1.05075007164441684324e-9,
)
_AS241_E = (
    6.65790464350110377720e0,
    5.46378491116411436990e0,
    1.78482653991729133580e0,
    2.96560571828504891230e-1,
    2.65321895265761230930e-2,
    1.24266094738807843860e-3,
    2.71155556874348757815e-5,
    2.01033439929228813265e-7,
)
_AS241_F = (
    1.0,
    5.99832206555887937690e-1,
    1.36929880922735805310e-1,
    1.48753612908506148525e-2,
    7.86869131145613259100e-4,
    1.84631831751005468180e-5,
    1.42151175831644588870e-7,
    2.04426310338993978564e-15,
)


# --------------------------------------------------------------------------- normal


@jit
def ndtr(x: float) -> float:
    """Standard normal CDF, accurate in both tails (use ``ndtr(-x)`` for the upper tail)."""
    return 0.5 * math.erfc(-x / _SQRT2)


@kernel
def _ratio(num: tuple, den: tuple, r: float) -> float:
    """num(r) / den(r) for polynomials of degree 7 given lowest coefficient first (Horner)."""
    n = num[7]
    d = den[7]
    for k in range(6, -1, -1):
        n = n * r + num[k]
        d = d * r + den[k]
    return n / d


@jit
def ndtri(p: float) -> float:
    """Inverse standard normal CDF to full double precision, in both tails (Wichura's AS 241).

    The tails work on the exact smaller tail probability (``p``, or ``1 - p``, exact for p >= 0.5),
    so the relative accuracy holds down to the smallest doubles.
    """
    if not (p > 0.0 and p < 1.0):
        if p == 0.0:
            return -math.inf
        if p == 1.0:
            return math.inf
        return math.nan
    q = p - 0.5  # exact for p in [0.25, 1)
    if abs(q) <= 0.425:
        return q * _ratio(_AS241_A, _AS241_B, 0.180625 - q * q)
    r = math.sqrt(-math.log(p if q < 0.0 else 1.0 - p))
    x = _ratio(_AS241_C, _AS241_D, r - 1.6) if r <= 5.0 else _ratio(_AS241_E, _AS241_F, r - 5.0)
    return -x if q < 0.0 else x


# --------------------------------------------------------------------------- samplers


@jit
def exponential(u: float, mean: float) -> float:
    """Exponential with the given mean, by inverse CDF of u in (0, 1)."""
    return -mean * math.log1p(-u)


@kernel
def _lognormal_params(mean: float, sd: float) -> tuple[float, float]:
    """(mu, sigma) of the underlying normal from the mean and sd of the lognormal."""
    cv = sd / mean
    s2 = math.log1p(cv * cv)
    return math.log(mean) - 0.5 * s2, math.sqrt(s2)


@jit
def lognormal(u: float, mean: float, sd: float) -> float:
    """Lognormal with the given mean and sd (of the variable, not its log)."""
    mu, sigma = _lognormal_params(mean, sd)
    return _lognormal_log(u, mu, sigma)


@kernel
def _lognormal_log(u: float, mu: float, sigma: float) -> float:
    """Lognormal whose log has mean mu and sd sigma (a packed block's, computed once)."""
    return math.exp(mu + sigma * ndtri(u))


@jit
def weibull(u: float, shape: float, scale: float) -> float:
    """Weibull with survival exp(-(t/scale)**shape)."""
    return scale * (-math.log1p(-u)) ** (1.0 / shape)


@jit
def uniform(u: float, low: float, high: float) -> float:
    """Uniform on [low, high]."""
    return low + u * (high - low)


@jit
def choice(u: float, cum_probs: np.ndarray) -> int:
    """Index of the first cumulative probability > u (``cum_probs[-1]`` == 1)."""
    j = np.searchsorted(cum_probs, u, side="right")
    n = cum_probs.shape[0]
    return j if j < n else n - 1


@jit
def empirical(u: float, x: np.ndarray, cdf: np.ndarray) -> float:
    """Inverse of the piecewise-linear CDF through (x[i], cdf[i]) (piecewise-uniform density)."""
    n = x.shape[0]
    j = np.searchsorted(cdf, u, side="right")  # first index with cdf[j] > u
    if j <= 0:
        return x[0]
    if j >= n:
        return x[n - 1]
    i = j - 1
    return x[i] + (u - cdf[i]) / (cdf[j] - cdf[i]) * (x[j] - x[i])


@kernel
def _empirical_cdf(t: float, x: np.ndarray, cdf: np.ndarray) -> float:
    """Piecewise-linear CDF through (x[i], cdf[i])."""
    n = x.shape[0]
    if t < x[0]:
        return 0.0
    if t >= x[n - 1]:
        return 1.0
    j = np.searchsorted(x, t, side="right")
    i = j - 1
    return cdf[i] + (t - x[i]) / (x[j] - x[i]) * (cdf[j] - cdf[i])


# --------------------------------------------------------------------------- components
# A component is (family, packed, p) where p is the index of its first parameter.


@kernel
def _comp_sample(family: int, packed: np.ndarray, p: int, u: float) -> float:
    """Inverse CDF of one component at u."""
    if family == EXPONENTIAL:
        return exponential(u, packed[p])
    if family == LOGNORMAL:
        return _lognormal_log(u, packed[p + 2], packed[p + 3])
    if family == WEIBULL:
        return weibull(u, packed[p], packed[p + 1])
    if family == UNIFORM:
        return uniform(u, packed[p], packed[p + 1])
    if family == FIXED:
        return packed[p]
    if family == EMPIRICAL:
        n = int(packed[p])
        return empirical(u, packed[p + 1 : p + 1 + n], packed[p + 1 + n : p + 1 + 2 * n])
    raise ValueError("unknown distribution family code")


@kernel
def _comp_survival(family: int, packed: np.ndarray, p: int, t: float) -> float:
    """P(T > t) for one component, computed directly (accurate in the upper tail)."""
    if family == EXPONENTIAL:
        return 1.0 if t <= 0.0 else math.exp(-t / packed[p])
    if family == LOGNORMAL:
        if t <= 0.0:
            return 1.0
        mu, sigma = packed[p + 2], packed[p + 3]
        return ndtr(-(math.log(t) - mu) / sigma)
    if family == WEIBULL:
        return 1.0 if t <= 0.0 else math.exp(-((t / packed[p + 1]) ** packed[p]))
    if family == UNIFORM:
        low = packed[p]
        high = packed[p + 1]
        if t <= low:
            return 1.0
        if t >= high:
            return 0.0
        return (high - t) / (high - low)
    if family == FIXED:
        return 1.0 if t < packed[p] else 0.0
    if family == EMPIRICAL:
        n = int(packed[p])
        return 1.0 - _empirical_cdf(t, packed[p + 1 : p + 1 + n], packed[p + 1 + n : p + 1 + 2 * n])
    raise ValueError("unknown distribution family code")


@kernel
def _comp_cdf(family: int, packed: np.ndarray, p: int, t: float) -> float:
    """P(T <= t) for one component, computed directly (accurate in the lower tail)."""
    if family == EXPONENTIAL:
        return 0.0 if t <= 0.0 else -math.expm1(-t / packed[p])
    if family == LOGNORMAL:
        if t <= 0.0:
            return 0.0
        mu, sigma = packed[p + 2], packed[p + 3]
        return ndtr((math.log(t) - mu) / sigma)
    if family == WEIBULL:
        return 0.0 if t <= 0.0 else -math.expm1(-((t / packed[p + 1]) ** packed[p]))
    if family == UNIFORM:
        low = packed[p]
        high = packed[p + 1]
        if t <= low:
            return 0.0
        if t >= high:
            return 1.0
        return (t - low) / (high - low)
    if family == FIXED:
        return 1.0 if t >= packed[p] else 0.0
    if family == EMPIRICAL:
        n = int(packed[p])
        return _empirical_cdf(t, packed[p + 1 : p + 1 + n], packed[p + 1 + n : p + 1 + 2 * n])
    raise ValueError("unknown distribution family code")


@kernel
def _comp_residual(family: int, packed: np.ndarray, p: int, e: float, u: float) -> float:
    """T - e for T ~ component given T > e (e >= 0), by inverse conditional CDF at u."""
    if family == EXPONENTIAL:
        return exponential(u, packed[p])  # memoryless
    if family == LOGNORMAL:
        mu, sigma = packed[p + 2], packed[p + 3]
        if e <= 0.0:
            f_e = 0.0
            s_e = 1.0
        else:
            z_e = (math.log(e) - mu) / sigma
            f_e = ndtr(z_e)
            s_e = ndtr(-z_e)
        if s_e <= 0.0:
            # Survival underflows (z_e > ~38): Mills-ratio asymptotics, log S(z) ~ -z^2/2.
            z = math.sqrt(z_e * z_e - 2.0 * math.log1p(-u))
            return max(math.exp(mu + sigma * z) - e, 0.0)
        # Target: F(T) = F(e) + S(e) u, i.e. S(T) = S(e) (1 - u); invert whichever
        # tail probability is smaller so heavy tails keep full relative precision.
        f_t = f_e + s_e * u
        if f_t < 0.5:
            z = ndtri(f_t)
        else:
            s_t = s_e * (1.0 - u)
            if s_t <= 0.0:
                s_t = 5e-324
            z = -ndtri(s_t)
        return max(math.exp(mu + sigma * z) - e, 0.0)
    if family == WEIBULL:
        shape = packed[p]
        scale = packed[p + 1]
        a = (e / scale) ** shape if e > 0.0 else 0.0
        # S(T) = S(e) (1 - u)  <=>  (T/scale)^shape = (e/scale)^shape - log(1 - u)
        return max(scale * (a - math.log1p(-u)) ** (1.0 / shape) - e, 0.0)
    if family == UNIFORM:
        low = packed[p]
        high = packed[p + 1]
        if e >= high:
            return 0.0
        a = max(low, e)
        return max(a + u * (high - a) - e, 0.0)
    if family == FIXED:
        return max(packed[p] - e, 0.0)
    if family == EMPIRICAL:
        n = int(packed[p])
        x = packed[p + 1 : p + 1 + n]
        c = packed[p + 1 + n : p + 1 + 2 * n]
        if e >= x[n - 1]:
            return 0.0
        f_e = _empirical_cdf(e, x, c)
        return max(empirical(f_e + (1.0 - f_e) * u, x, c) - e, 0.0)
    raise ValueError("unknown distribution family code")


@kernel
def _comp_log_survival(family: int, packed: np.ndarray, p: int, t: float) -> float:
    """log P(T > t) for one component, finite far beyond where P(T > t) underflows."""
    if t <= 0.0:
        return 0.0
    if family == EXPONENTIAL:
        return -t / packed[p]
    if family == WEIBULL:
        return -((t / packed[p + 1]) ** packed[p])
    if family == LOGNORMAL:
        mu, sigma = packed[p + 2], packed[p + 3]
        z = (math.log(t) - mu) / sigma
        s = ndtr(-z)
        if s > 0.0:
            return math.log(s)
        return -0.5 * z * z - math.log(z) - 0.5 * math.log(2.0 * math.pi)  # Mills ratio
    s = _comp_survival(family, packed, p, t)
    return math.log(s) if s > 0.0 else -math.inf


@kernel
def _comp_mean(family: int, packed: np.ndarray, p: int) -> float:
    """Analytic mean of one component."""
    if family == EXPONENTIAL or family == LOGNORMAL or family == FIXED:
        return packed[p]
    if family == WEIBULL:
        return packed[p + 1] * math.gamma(1.0 + 1.0 / packed[p])
    if family == UNIFORM:
        return 0.5 * (packed[p] + packed[p + 1])
    if family == EMPIRICAL:
        n = int(packed[p])
        x = packed[p + 1 : p + 1 + n]
        c = packed[p + 1 + n : p + 1 + 2 * n]
        m = 0.0
        for i in range(n - 1):
            m += (c[i + 1] - c[i]) * 0.5 * (x[i] + x[i + 1])
        return m
    raise ValueError("unknown distribution family code")


@kernel
def _next_block(packed: np.ndarray, off: int) -> int:
    """Offset of the block after the one starting at ``off``."""
    return off + 3 + int(packed[off + 2])


# --------------------------------------------------------------------------- packed API


@kernel
def _select_prior(packed: np.ndarray, u0: float) -> int:
    """Offset of the component block chosen by u0 with the mixture weights."""
    k = int(packed[0])
    total = 0.0
    off = 1
    for _ in range(k):
        total += packed[off]
        off = _next_block(packed, off)
    target = u0 * total
    c = 0.0
    off = 1
    last = 1
    for _ in range(k):
        w = packed[off]
        if w > 0.0:
            c += w
            last = off
            if target < c:
                return off
        off = _next_block(packed, off)
    return last  # only reached through rounding when u0 is within an ulp of 1


@jit
def sample(packed: np.ndarray, u0: float, u1: float) -> float:
    """Draw from a packed distribution: component by u0 (unused if k == 1), value by u1.

    Monotone in u1 within a component, so common random numbers behave.
    """
    off = 1 if int(packed[0]) == 1 else _select_prior(packed, u0)
    return _comp_sample(int(packed[off + 1]), packed, off + 3, u1)


@kernel
def _weighted(packed: np.ndarray, t: float, upper: bool) -> float:
    """Mixture-weighted P(T > t) (upper) or P(T <= t), each component's own tail computed directly so
    that neither loses precision by subtraction."""
    k = int(packed[0])
    total = 0.0
    acc = 0.0
    off = 1
    for _ in range(k):
        w = packed[off]
        total += w
        if w > 0.0:
            family = int(packed[off + 1])
            part = _comp_survival(family, packed, off + 3, t) if upper else _comp_cdf(family, packed, off + 3, t)
            acc += w * part
        off = _next_block(packed, off)
    return acc / total


@jit
def survival(packed: np.ndarray, t: float) -> float:
    """P(T > t) of a packed distribution."""
    return _weighted(packed, t, True)


@jit
def survival_many(packed: np.ndarray, t: np.ndarray) -> np.ndarray:
    """P(T > t) of a packed distribution at each of the times ``t`` (one compiled loop, not a call each)."""
    out = np.empty(t.shape[0])
    for i in range(t.shape[0]):
        out[i] = _weighted(packed, t[i], True)
    return out


@jit
def cdf(packed: np.ndarray, t: float) -> float:
    """P(T <= t) of a packed distribution."""
    return _weighted(packed, t, False)


@jit
def residual(packed: np.ndarray, elapsed: float, u0: float, u1: float) -> float:
    """Remaining time T - elapsed given T > elapsed (for people already in hospital).

    The component is chosen by u0 with posterior weights w_i S_i(elapsed) / sum;
    the value by u1 through the conditional inverse CDF, in forms that stay accurate
    deep in heavy tails. Returns 0.0 (ready now) when ``elapsed`` is beyond the
    support. ``residual(p, 0, u0, u1)`` equals ``sample(p, u0, u1)`` (to an ulp).
    """
    if not elapsed >= 0.0:
        raise ValueError("elapsed must be >= 0")
    k = int(packed[0])
    if k == 1:  # each family returns 0.0 itself beyond a bounded support
        return _comp_residual(int(packed[2]), packed, 4, elapsed, u1)
    weights = np.empty(k)
    total = 0.0
    off = 1
    for i in range(k):
        w = packed[off]
        if elapsed > 0.0 and w > 0.0:  # at elapsed 0 the weights are exactly those of sample()
            w *= _comp_survival(int(packed[off + 1]), packed, off + 3, elapsed)
        weights[i] = w
        total += w
        off = _next_block(packed, off)
    if total <= 0.0:
        # Every w_i S_i(elapsed) underflowed (or the support is exhausted): redo in logs.
        top = -math.inf
        off = 1
        for i in range(k):
            w = packed[off]
            lw = -math.inf
            if w > 0.0:
                lw = math.log(w) + _comp_log_survival(int(packed[off + 1]), packed, off + 3, elapsed)
            weights[i] = lw
            top = max(top, lw)
            off = _next_block(packed, off)
        if top == -math.inf:
            return 0.0  # elapsed is beyond the support of every component: ready now
        for i in range(k):
            weights[i] = math.exp(weights[i] - top)
            total += weights[i]
    target = u0 * total
    c = 0.0
    off = 1
    chosen = -1
    for i in range(k):
        if weights[i] > 0.0:
            c += weights[i]
            chosen = off
            if target < c:
                break
        off = _next_block(packed, off)
    return _comp_residual(int(packed[chosen + 1]), packed, chosen + 3, elapsed, u1)


@jit
def packed_mean(packed: np.ndarray) -> float:
    """Analytic mean of a packed distribution."""
    k = int(packed[0])
    total = 0.0
    m = 0.0
    off = 1
    for _ in range(k):
        w = packed[off]
        total += w
        if w > 0.0:
            m += w * _comp_mean(int(packed[off + 1]), packed, off + 3)
        off = _next_block(packed, off)
    return m / total


@jit
def sample_array(packed: np.ndarray, u: np.ndarray) -> np.ndarray:
    """:func:`sample` for each row (u0, u1) of ``u`` (float64[n, 2])."""
    n = u.shape[0]
    out = np.empty(n)
    for i in range(n):
        out[i] = sample(packed, u[i, 0], u[i, 1])
    return out


@jit
def residual_array(packed: np.ndarray, elapsed: np.ndarray, u: np.ndarray) -> np.ndarray:
    """:func:`residual` for each ``elapsed[i]`` and row (u0, u1) of ``u`` (float64[n, 2])."""
    n = u.shape[0]
    out = np.empty(n)
    for i in range(n):
        out[i] = residual(packed, elapsed[i], u[i, 0], u[i, 1])
    return out


__all__ = [
    "EXPONENTIAL",
    "LOGNORMAL",
    "WEIBULL",
    "UNIFORM",
    "FIXED",
    "EMPIRICAL",
    "FAMILY_NAMES",
    "ndtr",
    "ndtri",
    "exponential",
    "lognormal",
    "weibull",
    "uniform",
    "choice",
    "empirical",
    "sample",
    "survival",
    "cdf",
    "residual",
    "packed_mean",
    "sample_array",
    "residual_array",
]
