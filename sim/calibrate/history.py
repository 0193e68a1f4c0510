"""History matching by direct simulation, and the posterior over what survives it: pure functions over
arrays (the waves' bookkeeping is in ``sim.calibrate.run``).

All of it works in the unit cube of the priors. The first wave is a space-filling design of the cube
(scrambled Sobol or Latin hypercube, scipy.stats.qmc); each later wave is a space-filling design pushed
through a kernel around the previous wave's survivors: a mixture of normal kernels, one centred on each
survivor, with the survivors' sd in each coordinate (times ``bandwidth``), each truncated to the cube
(drawn by its quantile function from the design's coordinates, so no point is rejected). Its density ``q``
is known, so the waves are importance samples. Each point runs R replications; against each target its
implausibility is

    I = |z - mean| / sqrt(V_obs + V_discrepancy + V_sim (1 + 1/R))

with V_sim the replications' variance (the observed series is one realisation, and the mean is estimated
from R of them). A point is implausible when the ``rank``-th largest I over the targets exceeds the
cut-off (3, Pukelsheim's three-sigma rule): the second largest in an early wave tolerates one target
missed while the space is still coarse; 1, the largest, asks every target to be met.

The posterior is importance weighting of the last wave's points: the priors are uniform in the cube, so a
point's weight is its synthetic (Gaussian) likelihood, prod over the targets of N(z; mean, V), over the
wave's density q at the point, kept only where no target is implausible (the largest I within the cut-off).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.special import ndtr, ndtri
from scipy.stats import qmc

#: A kernel's sd is never below this in any coordinate (a single survivor still has a neighbourhood).
MIN_SD = 0.01


def design(d: int, n: int, method: str, seed: int) -> np.ndarray:
    """``n`` space-filling points of the unit cube [0, 1]^d (scrambled: reproducible by seed)."""
    if method == "sobol":
        sampler: qmc.QMCEngine = qmc.Sobol(d, scramble=True, seed=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # n need not be a power of 2 for our use
            return sampler.random(n)
    return qmc.LatinHypercube(d, seed=seed).random(n)


def kernel_sd(centres: np.ndarray, bandwidth: float, share: float = 0.0) -> np.ndarray:
    """The kernels' sd in each coordinate: the survivors' sd times ``bandwidth``, and at least half the side
    of the cell each survivor stands for (the kept region's volume ``share`` over their number: a lone
    survivor of a coarse design still has its neighbourhood searched), and at least ``MIN_SD``."""
    k, d = centres.shape
    sd = centres.std(axis=0, ddof=1) if k > 1 else np.zeros(d)
    cell = 0.5 * (share / k) ** (1 / d) if share > 0 else 0.0
    return np.maximum(np.maximum(bandwidth * sd, cell), MIN_SD)


def kernel_design(centres: np.ndarray, sd: np.ndarray, n: int, method: str, seed: int) -> np.ndarray:
    """``n`` points of the kernel mixture around ``centres``: a design of d + 1 coordinates, the first
    picking the centre, the others each kernel's truncated normal by its quantile function."""
    k, d = centres.shape
    v = design(d + 1, n, method, seed)
    c = centres[np.minimum((v[:, 0] * k).astype(int), k - 1)]
    a, b = ndtr((0 - c) / sd), ndtr((1 - c) / sd)
    u = c + sd * ndtri(a + v[:, 1:] * (b - a))
    return np.clip(u, 0.0, 1.0)


def kernel_density(u: np.ndarray, centres: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """The mixture's density at points ``u`` (each kernel normalised over the cube)."""
    mass = np.prod(ndtr((1 - centres) / sd) - ndtr((0 - centres) / sd), axis=1)  # [k]
    z = (u[:, None, :] - centres[None, :, :]) / sd  # [n, k, d]
    log_pdf = -0.5 * np.sum(z**2, axis=2) - np.sum(np.log(sd)) - 0.5 * len(sd) * np.log(2 * np.pi)
    return np.mean(np.exp(log_pdf) / mass[None, :], axis=1)


def ranked(implausible: np.ndarray, rank: int) -> np.ndarray:
    """The ``rank``-th largest implausibility of each point (1: the largest) over the targets."""
    rank = min(rank, implausible.shape[1])
    return np.sort(implausible, axis=1)[:, -rank]


def implausibility(
    values: np.ndarray, observed: np.ndarray, variance: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per point and target: the simulated mean, the replications' variance and the implausibility of the
    observed figure (``values`` [points, replications, targets]; NaN replications are left out; a target
    no replication could compute is infinitely implausible)."""
    r = np.sum(np.isfinite(values), axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(values, axis=1)
        var = np.nanvar(values, axis=1, ddof=1)
    var = np.where(np.isfinite(var), var, 0.0)
    total = variance[None, :] + var * (1 + 1 / np.maximum(r, 1))
    dist = np.abs(observed[None, :] - mean) / np.sqrt(total)
    return mean, var, np.where(np.isfinite(dist), dist, np.inf)


def log_likelihood(mean: np.ndarray, var: np.ndarray, observed: np.ndarray, variance: np.ndarray, r: int) -> np.ndarray:
    """The synthetic Gaussian log-likelihood of the observed figures at each point."""
    total = variance[None, :] + var * (1 + 1 / r)
    z = (observed[None, :] - mean) ** 2 / total
    out = -0.5 * np.sum(z + np.log(total), axis=1)
    return np.where(np.isfinite(out), out, -np.inf)


def weights(loglik: np.ndarray, kept: np.ndarray, density: np.ndarray) -> np.ndarray:
    """Normalised importance weights of the points: likelihood over the design's density (zero where implausible)."""
    ll = np.where(kept, loglik - np.log(density), -np.inf)
    if not np.any(np.isfinite(ll)):
        return np.zeros_like(ll)
    w = np.exp(ll - np.max(ll))
    return w / w.sum()


def effective_size(w: np.ndarray) -> float:
    """Kish's effective sample size of importance weights."""
    s = float(np.sum(w**2))
    return float(np.sum(w) ** 2 / s) if s > 0 else 0.0


def resample(w: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` indices drawn from the weights by systematic resampling (low variance; reproducible by seed)."""
    u = (np.random.default_rng(seed).random() + np.arange(n)) / n
    return np.minimum(np.searchsorted(np.cumsum(w), u, side="right"), len(w) - 1)


def weighted_quantiles(x: np.ndarray, w: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Quantiles of ``x`` under weights ``w`` (the weighted empirical distribution, midpoint rule)."""
    order = np.argsort(x)
    x, w = x[order], w[order]
    c = (np.cumsum(w) - w / 2) / w.sum()
    return np.interp(q, c, x)
