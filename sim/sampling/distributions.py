"""Readable distribution objects (Ciw style) backed by the compiled samplers.

Each distribution is a frozen, validated dataclass that knows its analytic
mean, how to rescale itself to other time units, and how to pack itself into
the float64 layout of :mod:`sim.sampling.samplers`. Sampling, survival and
residual-time draws delegate to the Numba functions on that packed array, so
Python code and compiled engines give identical numbers.

All distributions are of non-negative durations (support within [0, inf)), so
a duration that has already run for 0 time units is just a fresh draw.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from . import samplers as _s

__all__ = [
    "Distribution",
    "Exponential",
    "Lognormal",
    "Weibull",
    "Uniform",
    "Fixed",
    "Empirical",
    "Mixture",
]

_Block = tuple[float, int, tuple[float, ...]]  # (weight, family code, params)
_SUM_TOL = 1e-9  # tolerance on "weights sum to 1" and on the empirical cdf end points


def _real(name: str, value: Any) -> float:
    """``value`` as a finite float, else ValueError."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v


def _positive(name: str, value: Any) -> float:
    v = _real(name, value)
    if not v > 0.0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return v


def _nonnegative(name: str, value: Any) -> float:
    v = _real(name, value)
    if not v >= 0.0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return v


def _reals(name: str, values: Iterable[Any]) -> tuple[float, ...]:
    if isinstance(values, (str, bytes)):
        raise ValueError(f"{name} must be a sequence of numbers, got {values!r}")
    try:
        items = tuple(values)
    except TypeError:
        raise ValueError(f"{name} must be a sequence of numbers, got {values!r}") from None
    return tuple(_real(f"{name}[{i}]", v) for i, v in enumerate(items))


def _set(obj: object, name: str, value: Any) -> None:
    """Normalise a field of a frozen dataclass during validation."""
    object.__setattr__(obj, name, value)


class Distribution:
    """Base class of non-negative duration distributions that pack for compiled code.

    Subclasses provide ``mean`` (analytic), ``scale(factor)``, ``_blocks`` and
    optionally ``scipy()``. (There is no ``.cdf(t)`` method because ``Empirical.cdf``
    is a field; use ``1 - survival(t)`` or ``samplers.cdf(dist.pack(), t)``.)
    """

    mean: float

    def _blocks(self, weight: float) -> list[_Block]:
        """Component blocks (weight, family, params) of this distribution."""
        raise NotImplementedError

    def scale(self, factor: float) -> Distribution:
        """The same distribution in other time units: every time multiplied by ``factor``."""
        raise NotImplementedError

    def scipy(self) -> Any:
        """The equivalent frozen ``scipy.stats`` distribution (for tests)."""
        raise NotImplementedError(f"no scipy.stats equivalent for {type(self).__name__}")

    @functools.cached_property
    def _packed(self) -> np.ndarray:
        """Packed array, built once per (immutable) instance; never handed out (see ``pack``).

        Kept writeable on purpose: Numba types read-only arrays differently, which
        would compile every sampler twice.
        """
        blocks = self._blocks(1.0)
        out: list[float] = [float(len(blocks))]
        for weight, family, params in blocks:
            out.extend((weight, float(family), float(len(params))))
            out.extend(params)
        return np.asarray(out, dtype=np.float64)

    def pack(self) -> np.ndarray:
        """Float64 array ``[k, then k blocks: weight, family, nparams, params...]``."""
        return self._packed.copy()

    def sample(self, u0: float, u1: float) -> float:
        """Inverse-CDF draw: component chosen by u0 (mixtures only), value by u1."""
        return float(_s.sample(self._packed, u0, u1))

    def residual(self, elapsed: float, u0: float, u1: float) -> float:
        """Remaining time T - elapsed given T > elapsed (0.0 if T > elapsed is impossible)."""
        return float(_s.residual(self._packed, elapsed, u0, u1))

    def survival(self, t: float) -> float:
        """P(T > t)."""
        return float(_s.survival(self._packed, t))

    def survivals(self, t: np.ndarray) -> np.ndarray:
        """P(T > t) at each of the times ``t`` (as ``survival``, in one compiled loop)."""
        return np.asarray(_s.survival_many(self._packed, np.ascontiguousarray(t, dtype=np.float64)))

    def __repr__(self) -> str:
        args = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self))  # type: ignore[arg-type]
        return f"{type(self).__name__}({args})"


def _factor(factor: float) -> float:
    return _positive("scale factor", factor)


@dataclass(frozen=True, repr=False)
class Exponential(Distribution):
    """Exponential duration with the given mean."""

    mean: float

    def __post_init__(self) -> None:
        _set(self, "mean", _positive("exponential mean", self.mean))

    def _blocks(self, weight: float) -> list[_Block]:
        return [(weight, _s.EXPONENTIAL, (self.mean,))]

    def scale(self, factor: float) -> Exponential:
        return Exponential(self.mean * _factor(factor))

    def scipy(self) -> Any:
        import scipy.stats

        return scipy.stats.expon(scale=self.mean)


@dataclass(frozen=True, repr=False)
class Lognormal(Distribution):
    """Lognormal duration given its own mean and standard deviation (not those of its log)."""

    mean: float
    sd: float

    def __post_init__(self) -> None:
        _set(self, "mean", _positive("lognormal mean", self.mean))
        _set(self, "sd", _positive("lognormal sd", self.sd))

    @property
    def mu(self) -> float:
        """Mean of log T."""
        return math.log(self.mean) - 0.5 * self.sigma**2

    @property
    def sigma(self) -> float:
        """Standard deviation of log T."""
        return math.sqrt(math.log1p((self.sd / self.mean) ** 2))

    def _blocks(self, weight: float) -> list[_Block]:
        return [(weight, _s.LOGNORMAL, (self.mean, self.sd, self.mu, self.sigma))]

    def scale(self, factor: float) -> Lognormal:
        f = _factor(factor)
        return Lognormal(self.mean * f, self.sd * f)

    def scipy(self) -> Any:
        import scipy.stats

        return scipy.stats.lognorm(s=self.sigma, scale=math.exp(self.mu))


@dataclass(frozen=True, repr=False, init=False)
class Weibull(Distribution):
    """Weibull duration with survival exp(-(t/scale)**shape).

    The scale parameter is stored as ``scale_`` because ``scale(factor)`` is the
    unit-conversion method shared by all distributions.
    """

    shape: float
    scale_: float

    def __init__(self, shape: float, scale: float) -> None:
        _set(self, "shape", _positive("weibull shape", shape))
        _set(self, "scale_", _positive("weibull scale", scale))

    def __repr__(self) -> str:
        return f"Weibull(shape={self.shape!r}, scale={self.scale_!r})"

    @property
    def mean(self) -> float:  # type: ignore[override]
        return self.scale_ * math.gamma(1.0 + 1.0 / self.shape)

    def _blocks(self, weight: float) -> list[_Block]:
        return [(weight, _s.WEIBULL, (self.shape, self.scale_))]

    def scale(self, factor: float) -> Weibull:
        return Weibull(self.shape, self.scale_ * _factor(factor))

    def scipy(self) -> Any:
        import scipy.stats

        return scipy.stats.weibull_min(c=self.shape, scale=self.scale_)


@dataclass(frozen=True, repr=False)
class Uniform(Distribution):
    """Uniform duration on [low, high], 0 <= low < high."""

    low: float
    high: float

    def __post_init__(self) -> None:
        low = _nonnegative("uniform low", self.low)
        high = _real("uniform high", self.high)
        if not high > low:
            raise ValueError(f"uniform high must be > low, got low={low!r}, high={high!r}")
        _set(self, "low", low)
        _set(self, "high", high)

    @property
    def mean(self) -> float:  # type: ignore[override]
        return 0.5 * (self.low + self.high)

    def _blocks(self, weight: float) -> list[_Block]:
        return [(weight, _s.UNIFORM, (self.low, self.high))]

    def scale(self, factor: float) -> Uniform:
        f = _factor(factor)
        return Uniform(self.low * f, self.high * f)

    def scipy(self) -> Any:
        import scipy.stats

        return scipy.stats.uniform(loc=self.low, scale=self.high - self.low)


@dataclass(frozen=True, repr=False)
class Fixed(Distribution):
    """A duration that is always ``value`` (>= 0)."""

    value: float

    def __post_init__(self) -> None:
        _set(self, "value", _nonnegative("fixed value", self.value))

    @property
    def mean(self) -> float:  # type: ignore[override]
        return self.value

    def _blocks(self, weight: float) -> list[_Block]:
        return [(weight, _s.FIXED, (self.value,))]

    def scale(self, factor: float) -> Fixed:
        return Fixed(self.value * _factor(factor))


@dataclass(frozen=True, repr=False)
class Empirical(Distribution):
    """Piecewise-linear CDF through (x[i], cdf[i]): a piecewise-uniform density.

    ``x`` strictly increasing from >= 0; ``cdf`` non-decreasing from 0 to 1
    (end points within 1e-9 are snapped to exactly 0 and 1).
    """

    x: tuple[float, ...]
    cdf: tuple[float, ...]

    def __post_init__(self) -> None:
        x = _reals("empirical x", self.x)
        c = list(_reals("empirical cdf", self.cdf))
        if len(x) < 2:
            raise ValueError(f"empirical needs at least 2 points, got {len(x)}")
        if len(c) != len(x):
            raise ValueError(f"empirical x and cdf must have the same length, got {len(x)} and {len(c)}")
        if x[0] < 0.0:
            raise ValueError(f"empirical x must be >= 0, got x[0]={x[0]!r}")
        if any(b <= a for a, b in zip(x, x[1:])):
            raise ValueError("empirical x must be strictly increasing")
        if any(b < a for a, b in zip(c, c[1:])):
            raise ValueError("empirical cdf must be non-decreasing")
        if abs(c[0]) > _SUM_TOL or abs(c[-1] - 1.0) > _SUM_TOL:
            raise ValueError(f"empirical cdf must run from 0 to 1, got {c[0]!r} to {c[-1]!r}")
        c[0], c[-1] = 0.0, 1.0
        if any(b < a for a, b in zip(c, c[1:])):
            raise ValueError("empirical cdf must be non-decreasing")
        _set(self, "x", x)
        _set(self, "cdf", tuple(c))

    @property
    def mean(self) -> float:  # type: ignore[override]
        return sum((c1 - c0) * 0.5 * (x0 + x1) for x0, x1, c0, c1 in zip(self.x, self.x[1:], self.cdf, self.cdf[1:]))

    def _blocks(self, weight: float) -> list[_Block]:
        return [(weight, _s.EMPIRICAL, (float(len(self.x)), *self.x, *self.cdf))]

    def scale(self, factor: float) -> Empirical:
        f = _factor(factor)
        return Empirical(tuple(v * f for v in self.x), self.cdf)

    def scipy(self) -> Any:
        import scipy.stats

        return scipy.stats.rv_histogram((np.diff(self.cdf), np.asarray(self.x)), density=False)


@dataclass(frozen=True, repr=False)
class Mixture(Distribution):
    """Finite mixture: component i with probability ``weights[i]`` (weights sum to 1).

    Nested mixtures are flattened when packed.
    """

    weights: tuple[float, ...]
    components: tuple[Distribution, ...]

    def __post_init__(self) -> None:
        w = _reals("mixture weights", self.weights)
        try:
            comps = tuple(self.components)
        except TypeError:
            raise ValueError(f"mixture components must be a sequence, got {self.components!r}") from None
        if not w:
            raise ValueError("mixture needs at least one component")
        if len(w) != len(comps):
            raise ValueError(f"mixture has {len(w)} weights but {len(comps)} components")
        for i, comp in enumerate(comps):
            if not isinstance(comp, Distribution):
                raise ValueError(f"mixture component {i} must be a Distribution, got {comp!r}")
        if any(v < 0.0 for v in w):
            raise ValueError(f"mixture weights must be >= 0, got {w!r}")
        if abs(math.fsum(w) - 1.0) > _SUM_TOL:
            raise ValueError(f"mixture weights must sum to 1, got {math.fsum(w)!r}")
        _set(self, "weights", w)
        _set(self, "components", comps)

    @property
    def mean(self) -> float:  # type: ignore[override]
        return math.fsum(w * c.mean for w, c in zip(self.weights, self.components))

    def _blocks(self, weight: float) -> list[_Block]:
        out: list[_Block] = []
        for w, comp in zip(self.weights, self.components):
            out.extend(comp._blocks(weight * w))
        return out

    def scale(self, factor: float) -> Mixture:
        f = _factor(factor)
        return Mixture(self.weights, tuple(c.scale(f) for c in self.components))
