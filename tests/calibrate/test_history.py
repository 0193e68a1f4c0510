"""The statistics of history matching and the posterior, on cases worked by hand (sim.calibrate.history,
sim.calibrate.priors, sim.calibrate.run.interval_score)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.calibrate.history import (
    design,
    effective_size,
    implausibility,
    kernel_density,
    kernel_design,
    kernel_sd,
    log_likelihood,
    ranked,
    resample,
    weighted_quantiles,
    weights,
)
from sim.calibrate.priors import Prior
from sim.calibrate.run import interval_score


def test_priors_map_the_unit_interval_onto_their_quantiles():
    u = np.array([0.0, 0.1, 0.5, 0.9, 1.0])
    flat = Prior("k", "uniform", 2.0, 6.0)
    np.testing.assert_allclose(flat.value(u), [2.0, 2.4, 4.0, 5.6, 6.0])
    log = Prior("k", "log_uniform", 1.0, 100.0)
    np.testing.assert_allclose(log.value(u), [1.0, 10**0.2, 10.0, 10**1.8, 100.0])  # uniform in log10
    beta = Prior("k", "beta", 0.0, 2.0, a=2.0, b=5.0)
    np.testing.assert_allclose(beta.value(u[1:4]), 2 * stats.beta.ppf(u[1:4], 2, 5))
    for prior in (flat, log, beta):
        np.testing.assert_allclose(prior.unit(prior.value(u[1:4])), u[1:4], rtol=1e-9)
    assert Prior("k", "uniform", 0, 10, integer=True).value(np.array([0.33])) == 3.0


def test_implausibility_is_the_distance_over_all_variances():
    # two replications 8 and 12 at one point: mean 10, variance 8; observed 16 with variance 4
    values = np.array([[[8.0], [12.0]]])
    mean, var, imp = implausibility(values, np.array([16.0]), np.array([4.0]))
    assert mean[0, 0] == 10 and var[0, 0] == 8
    assert imp[0, 0] == pytest.approx(6 / np.sqrt(4 + 8 * (1 + 1 / 2)))
    # a target no replication could compute is infinitely implausible
    _, _, imp = implausibility(np.full((1, 2, 1), np.nan), np.array([1.0]), np.array([1.0]))
    assert imp[0, 0] == np.inf


def test_ranked_implausibility_picks_the_kth_largest():
    imp = np.array([[0.5, 4.0, 2.0], [3.5, 3.2, 0.1]])
    np.testing.assert_array_equal(ranked(imp, 1), [4.0, 3.5])
    np.testing.assert_array_equal(ranked(imp, 2), [2.0, 3.2])
    np.testing.assert_array_equal(ranked(imp, 9), [0.5, 0.1])  # beyond the targets: the smallest


def test_designs_fill_the_cube_and_are_reproducible():
    for method in ("sobol", "lhs"):
        a = design(3, 64, method, seed=5)
        assert a.shape == (64, 3) and a.min() >= 0 and a.max() <= 1
        np.testing.assert_array_equal(a, design(3, 64, method, seed=5))
        # space filling: every tenth of every coordinate holds points
        assert all(len(np.unique((a[:, j] * 10).astype(int))) == 10 for j in range(3))


def test_kernel_design_draws_from_the_density_it_reports():
    centres = np.array([[0.2, 0.9], [0.7, 0.5]])
    sd = np.array([0.1, 0.2])
    u = kernel_design(centres, sd, 4096, "sobol", seed=3)
    assert u.min() >= 0 and u.max() <= 1
    # the density integrates to 1 over the cube (midpoint rule on a grid)
    g = (np.arange(200) + 0.5) / 200
    grid = np.array(np.meshgrid(g, g)).reshape(2, -1).T
    assert kernel_density(grid, centres, sd).mean() == pytest.approx(1.0, abs=1e-3)
    # and the points follow it: the share in a box equals the density's mass there
    box = (u[:, 0] < 0.4) & (u[:, 1] > 0.6)
    inside = (grid[:, 0] < 0.4) & (grid[:, 1] > 0.6)
    assert box.mean() == pytest.approx((kernel_density(grid, centres, sd) * inside).mean(), abs=0.02)
    np.testing.assert_allclose(kernel_sd(centres, 2.0), 2 * centres.std(axis=0, ddof=1))


def test_weights_are_likelihood_over_density_where_plausible():
    loglik = np.log(np.array([1.0, 2.0, 4.0, 8.0]))
    density = np.array([1.0, 2.0, 1.0, 1.0])
    w = weights(loglik, np.array([True, True, True, False]), density)
    np.testing.assert_allclose(w, np.array([1, 1, 4, 0]) / 6)
    assert weights(loglik, np.zeros(4, dtype=bool), density).sum() == 0
    assert effective_size(np.array([0.25] * 4)) == pytest.approx(4)
    assert effective_size(np.array([1.0, 0, 0])) == pytest.approx(1)


def test_gaussian_log_likelihood():
    ll = log_likelihood(np.array([[1.0]]), np.array([[0.0]]), np.array([3.0]), np.array([4.0]), r=10)
    assert ll[0] == pytest.approx(stats.norm.logpdf(3, 1, 2) + 0.5 * np.log(2 * np.pi))


def test_resampling_follows_the_weights():
    w = np.array([0.1, 0.0, 0.6, 0.3])
    counts = np.bincount(resample(w, 1000, seed=1), minlength=4)
    np.testing.assert_array_equal(counts, [100, 0, 600, 300])  # systematic: exact to one draw


def test_weighted_quantiles():
    x = np.array([3.0, 1.0, 2.0])
    assert weighted_quantiles(x, np.ones(3), np.array([0.5]))[0] == pytest.approx(2.0)
    assert weighted_quantiles(x, np.array([0.0, 1.0, 0.0]), np.array([0.5]))[0] == pytest.approx(1.0)


def test_interval_score():
    assert interval_score(5, 4, 6, 0.1) == 2  # inside: the width
    assert interval_score(8, 4, 6, 0.1) == pytest.approx(2 + 20 * 2)  # outside: plus 2/alpha times the miss
