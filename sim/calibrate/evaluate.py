"""Simulating design points: the model config with a point's values at the calibration's keys, built and
run for the given replications, reduced at once to the targets (and, for the fans, to a few metrics'
monthly series). ``evaluate`` is the task the backends run: a pure function of its arguments, so a wave
gives the same numbers on one process, many, or a Dask cluster.

Every point runs the same replication numbers on the same seed: common random numbers, so two points
differ by their parameters, not by luck, and the history match compares like with like.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
from omegaconf import DictConfig

from sim.calibrate.targets import Target, month_index
from sim.config import ConfigError, build_spec
from sim.config.parameters import set_values
from sim.config.spec import SystemSpec
from sim.engine import Engine
from sim.metrics import metrics
from sim.results.record import MonthlyArrays


@dataclass(frozen=True)
class Problem:
    """What every task needs (picklable): the model config, the keys a point sets, the targets, and the
    metrics whose monthly series to keep (none in the waves; the fans' in the posterior predictive)."""

    cfg: DictConfig
    keys: tuple[str, ...]
    targets: tuple[Target, ...]
    series: tuple[str, ...] = ()


def spec_at(problem: Problem, values: np.ndarray) -> SystemSpec:
    """The system the engines run at one point: a copy of the config with the point's values at the keys
    (whole numbers where a key holds one: its prior rounds them), built with the config's own checks (a
    ConfigError names the key)."""
    return build_spec(set_values(copy.deepcopy(problem.cfg), problem.keys, [float(v) for v in values]))


def evaluate(
    problem: Problem, points: np.ndarray, replications: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Simulate each point (a row of parameter values) for each replication number: the targets' values,
    [points, replications, targets], and the kept series, each [points, replications, months + 1]."""
    values = np.full((len(points), len(replications), len(problem.targets)), np.nan)
    kept: dict[str, list[np.ndarray]] = {name: [] for name in problem.series}
    for p, point in enumerate(points):
        spec = spec_at(problem, point)
        engine = Engine(spec)
        record = MonthlyArrays.stack([engine.run(int(r)) for r in replications])
        m = metrics(spec, record)  # each [months + 1, replications]
        where = month_index(spec)
        for t, target in enumerate(problem.targets):
            values[p, :, t] = target.observation.of_series(m, where)
        for name in problem.series:
            kept[name].append(m[name].T)
    return values, {name: np.stack(rows) for name, rows in kept.items()}


def evaluate_pairs(
    problem: Problem, points: np.ndarray, replications: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Point i run once, on replication number ``replications[i]`` (draws of a posterior): the targets,
    [points, targets], and the kept series, each [points, months + 1]."""
    values = np.full((len(points), len(problem.targets)), np.nan)
    kept: dict[str, list[np.ndarray]] = {name: [] for name in problem.series}
    for p, (point, r) in enumerate(zip(points, replications)):
        v, s = evaluate(problem, point[None, :], np.array([r]))
        values[p] = v[0, 0]
        for name in problem.series:
            kept[name].append(s[name][0, 0])
    return values, {name: np.stack(rows) for name, rows in kept.items()}


def check_bounds(problem: Problem, priors, centre: np.ndarray) -> None:
    """Each prior's low and high, one key at a time with the others at ``centre``, pass the config's
    own checks: a prior outside the key's valid range stops the calibration before it runs."""
    for i, prior in enumerate(priors):
        for side, bound in (("low", prior.low), ("high", prior.high)):
            point = centre.copy()
            point[i] = bound
            try:
                spec_at(problem, point)
            except ConfigError as e:
                raise ConfigError(
                    f"calibration.parameters.{prior.key}.{side}", f"{bound:g} is outside the key's valid range ({e})"
                ) from None
