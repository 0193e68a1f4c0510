"""How many replications: ``run.replications=auto``, the replications algorithm of Hoad, Robinson and
Davies (2010), "Automated selection of the number of replications for a discrete-event simulation",
J. Oper. Res. Soc. 61(11), as used for healthcare DES (Monks et al., treat-sim).

Replications are added until the confidence interval of one output (a metric at one month, across
replications) is narrow enough, and stays so for a look-ahead of further replications, since a
half-width can dip below target by chance early on. The rule is applied to the replications in order,
so its answer depends only on the seed (each replication's value does), not on workers or timing.
The engine runs whole chunks, so the run may hold a few replications beyond the answer; all are used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.results.intervals import half_widths

LOOK_AHEAD = 5  # kLimit of Hoad et al.: 5 replications up to 100, then 5% of the replications


def look_ahead(n: int) -> int:
    """Replications the precision must hold for beyond a candidate answer ``n`` (Hoad et al.'s f(n))."""
    return LOOK_AHEAD if n <= 100 else math.floor(LOOK_AHEAD * n / 100)


@dataclass(frozen=True)
class Precision:
    """The target: a half-width in the metric's units (``half_width``) or relative to the mean."""

    confidence: float = 0.95
    half_width: float | None = None
    relative: float | None = 0.05
    minimum: int = 10  # the algorithm's smallest answer (the CI of very few replications is unreliable)

    def target(self, values: np.ndarray) -> float:
        """The half-width aimed at: ``half_width``, else ``relative`` to the mean of ``values``."""
        if self.half_width is not None:
            return self.half_width
        if self.relative is None:
            raise ValueError("a precision needs half_width or relative")
        return self.relative * abs(float(np.mean(values)))

    def achieved(self, values: np.ndarray) -> np.ndarray:
        """For k = 1..n, is the first k replications' interval narrow enough?"""
        h = half_widths(values, self.confidence)
        if self.half_width is not None:
            ok = h <= self.half_width
        else:
            mean = np.abs(np.cumsum(values) / np.arange(1, len(values) + 1))
            with np.errstate(invalid="ignore", divide="ignore"):
                ok = h <= self.relative * mean
        ok[: max(self.minimum, 2) - 1] = False
        return ok

    def solution(self, values: np.ndarray) -> int | None:
        """The fewest replications whose precision holds over its look-ahead, if the values reach one."""
        ok = self.achieved(values)
        n = len(values)
        for k in range(max(self.minimum, 2), n + 1):
            end = k + look_ahead(k)
            if end > n:
                return None
            if ok[k - 1 : end].all():
                return k
        return None

    def next_total(self, values: np.ndarray, step: int, maximum: int) -> int:
        """How many replications to have after the next round: the classic estimate n (h / target)^2 plus
        its look-ahead, at least one more ``step``, rounded up to whole steps, at most ``maximum``."""
        n = len(values)
        h = half_widths(values, self.confidence)[-1]
        target = self.target(values)
        want = n + step
        if np.isfinite(h) and target > 0:
            need = math.ceil(n * (h / target) ** 2)
            want = max(want, need + look_ahead(need))
        return min(maximum, step * math.ceil(want / step))

    def describe(self) -> str:
        what = f"{self.half_width:g}" if self.half_width is not None else f"{self.relative:.0%} of the mean"
        return f"a {self.confidence:.0%} CI half-width of {what}"
