"""The method checked on known answers (simulation-based calibration): true parameters drawn from the
prior, an observed series simulated from the model at them, the model calibrated to that series as to a
published one, and the truth's place in the posterior recorded. Over many repeats the truth should fall
inside the posterior's 90% interval about 90% of the time, and its rank among posterior draws should be
uniform (Talts et al. 2018). ``experiments/sbc.py`` runs it at size; tests/calibrate run a small one.

Synthetic figures are exact (rounding 0) and carry no model discrepancy, as the model made them: run the
check with ``calibration.observation.discrepancy=0`` for a fair test of the likelihood.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from sim.calibrate.evaluate import Problem, evaluate
from sim.calibrate.history import weighted_quantiles
from sim.calibrate.run import calibrate, simulator_config
from sim.calibrate.settings import read_calibration
from sim.calibrate.targets import select_targets
from sim.config import build_spec
from sim.observed import Observation, read_observed

#: Replication numbers of the synthetic series, clear of those a calibration runs.
SYNTHETIC_FIRST = 2_000_000


def synthetic(cfg: DictConfig, truth: np.ndarray, replication: int) -> list[Observation]:
    """The calibration's targets as the model gives them at ``truth`` on one replication (exact figures;
    a share whose denominator is 0 there is left out)."""
    model = simulator_config(cfg)
    spec = build_spec(model)
    cal = read_calibration(cfg.calibration, model)
    targets = select_targets(cal, read_observed(cal.observed, "calibration.observed"), spec).targets
    problem = Problem(model, tuple(cal.keys), targets)
    values, _ = evaluate(problem, truth[None, :], np.array([replication]))
    return [
        replace(t.observation, value=float(v), rounding=0.0) for t, v in zip(targets, values[0, 0]) if np.isfinite(v)
    ]


#: Settings of the small check (on top of configs/calibration/tiny.yaml): exact synthetic figures need no
#: discrepancy, and a posterior needs more points than the tiny fit's.
SMALL = (
    "calibration=tiny",
    "calibration.observation.discrepancy=0",
    "calibration.observation.floor=0",
    "calibration.method.points=[48,96]",
    "calibration.method.replications=10",
    "calibration.method.predictive=10",
)


def check(cfg: DictConfig, repeats: int, seed: int = 0, on_repeat: Callable[[int], None] | None = None) -> pd.DataFrame:
    """``repeats`` calibrations to synthetic series from prior draws: one row a repeat and parameter,
    with the truth, the posterior's 90% interval, whether the truth is inside, and its normalised rank
    (``on_repeat(j)`` after each, for progress)."""
    model = simulator_config(cfg)
    cal = read_calibration(cfg.calibration, model)
    rng = np.random.default_rng(seed)
    rows = []
    for j in range(repeats):
        u = rng.random(len(cal.priors))
        truth = np.array([p.value(np.array(u[i])) for i, p in enumerate(cal.priors)], dtype=float)
        observed = synthetic(cfg, truth, SYNTHETIC_FIRST + j)
        result = calibrate(cfg, observations=observed, progress=False)
        post = result.posterior
        for i, prior in enumerate(cal.priors):
            if post is None or post.empty:
                rows.append({"repeat": j, "parameter": prior.key, "truth": truth[i], "survived": False})
                continue
            x, w = post[prior.key].to_numpy(), post["weight"].to_numpy()
            p05, p95 = weighted_quantiles(x, w, np.array([0.05, 0.95]))
            rows.append(
                {
                    "repeat": j,
                    "parameter": prior.key,
                    "truth": truth[i],
                    "survived": True,
                    "p05": p05,
                    "p95": p95,
                    "inside_90": bool(p05 <= truth[i] <= p95),
                    "rank": float(np.sum(w[x < truth[i]])),  # the truth's quantile in the posterior
                }
            )
        if on_repeat is not None:
            on_repeat(j)
    return pd.DataFrame(rows)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per parameter: repeats, the share with a posterior, the 90% interval's coverage, and the truth's
    rank's mean and sd (uniform: 0.5 and 0.289)."""
    return table.groupby("parameter").agg(
        repeats=("repeat", "count"),
        survived=("survived", "mean"),
        coverage_90=("inside_90", "mean"),
        rank_mean=("rank", "mean"),
        rank_sd=("rank", "std"),
    )
