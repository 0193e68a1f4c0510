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

The posterior is importance weighting of every wave's points (adaptive multiple importance sampling,
Cornuet et al. 2012): the priors are uniform in the cube, so a point's weight is its synthetic (Gaussian)
likelihood, prod over the targets of N(z; mean, V), over the density of all the waves' designs together
(each wave's q weighted by its number of points), kept only where no target is implausible (the largest I
within the cut-off).
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


def pooled_correlation(values: list[np.ndarray]) -> np.ndarray:
    """The targets' correlation within a point, pooled over every point's replications (``values``, each
    [points, replications, targets]): figures of one run move together (April's inpatients are March's
    plus admissions less discharges), and a likelihood that multiplied them as independent would count the
    same evidence twice. Pooled over hundreds of points it is well estimated even with few replications."""
    z_all = []
    for v in values:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(v, axis=1, keepdims=True)
            sd = np.nanstd(v, axis=1, ddof=1, keepdims=True)
        z = np.where(np.isfinite(v) & (sd > 0), (v - mean) / np.where(sd > 0, sd, 1.0), 0.0)
        z_all.append(z.reshape(-1, v.shape[2]))
    z = np.concatenate(z_all)
    c = z.T @ z
    d = np.sqrt(np.diag(c))
    d = np.where(d > 0, d, 1.0)
    corr = c / np.outer(d, d)
    np.fill_diagonal(corr, 1.0)
    return corr


def log_likelihood(
    mean: np.ndarray,
    var: np.ndarray,
    observed: np.ndarray,
    variance: np.ndarray,
    r: int,
    corr: np.ndarray | None = None,
) -> np.ndarray:
    """The synthetic Gaussian log-likelihood of the observed figures at each point (Wood 2010): the
    simulated mean, and a covariance of the observation's variance plus the model's, its sds the point's
    own and its correlation ``corr`` (pooled; None: independent targets)."""
    n, t = mean.shape
    corr = np.eye(t) if corr is None else corr
    sd = np.sqrt(var * (1 + 1 / r))
    cov = sd[:, :, None] * corr[None, :, :] * sd[:, None, :] + np.diag(variance)[None, :, :]
    resid = observed[None, :] - mean
    out = np.full(n, -np.inf)
    ok = np.all(np.isfinite(resid), axis=1)
    for i in np.flatnonzero(ok):
        try:
            chol = np.linalg.cholesky(cov[i])
        except np.linalg.LinAlgError:
            continue
        z = np.linalg.solve(chol, resid[i])
        out[i] = -0.5 * float(z @ z) - float(np.sum(np.log(np.diag(chol))))
    return out


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
