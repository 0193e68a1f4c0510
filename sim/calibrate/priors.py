"""Priors of the parameters a calibration fits, each a map from the unit interval onto the key's values.

The whole method works in the unit cube: a point u in [0, 1]^d is a parameter set through each prior's
quantile function (``value``), so a space-filling design of the cube is a design of the prior, and the
prior's density in the cube is 1 everywhere. ``log_uniform`` is uniform in log(value), the transform that
keeps a rate positive and treats 1 to 10 like 10 to 100; ``beta`` is a Beta(a, b) scaled onto [low, high].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

#: The prior families a calibration may name.
FAMILIES = ("uniform", "log_uniform", "beta")


@dataclass(frozen=True)
class Prior:
    """The prior of one config key: a family on [low, high] (``a`` and ``b`` for beta)."""

    key: str
    family: str
    low: float
    high: float
    a: float = 1.0
    b: float = 1.0
    integer: bool = False  # the key holds a whole number: values are rounded

    def value(self, u: np.ndarray) -> np.ndarray:
        """The parameter values at unit-cube coordinates ``u`` (the prior's quantile function)."""
        u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
        if self.family == "uniform":
            x = self.low + u * (self.high - self.low)
        elif self.family == "log_uniform":
            x = np.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            x = self.low + stats.beta.ppf(u, self.a, self.b) * (self.high - self.low)
        return np.round(x) if self.integer else x

    def unit(self, x: np.ndarray) -> np.ndarray:
        """The unit-cube coordinates of parameter values (the prior's distribution function)."""
        x = np.asarray(x, dtype=np.float64)
        if self.family == "uniform":
            return (x - self.low) / (self.high - self.low)
        if self.family == "log_uniform":
            return (np.log(x) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return stats.beta.cdf((x - self.low) / (self.high - self.low), self.a, self.b)

    def describe(self) -> str:
        """The prior as a reader would write it, e.g. ``log-uniform(5, 40)``."""
        if self.family == "beta":
            return f"beta({self.a:g}, {self.b:g}) on [{self.low:g}, {self.high:g}]"
        return f"{self.family.replace('_', '-')}({self.low:g}, {self.high:g})"
