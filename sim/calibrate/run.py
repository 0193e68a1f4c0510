"""A calibration from start to finish: waves of history matching, the posterior, the posterior predictive
and the files a calibration writes into its directory.

Each wave is saved as it finishes (``waves/wave-NN.npz``: its kernels, points and simulated targets), so a
stopped calibration resumes at the first wave it lacks (``calibration.resume=<dir>``), with the same
results as one never stopped: every wave's design and replications are fixed by the seed.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from sim import api
from sim.calibrate.evaluate import Problem, check_bounds, evaluate, evaluate_pairs
from sim.calibrate.history import (
    design,
    effective_size,
    kernel_density,
    kernel_design,
    kernel_sd,
    log_likelihood,
    pooled_correlation,
    resample,
    weighted_quantiles,
    weights,
)
from sim.calibrate.outputs import write_outputs
from sim.calibrate.result import CalibrationResult, Wave
from sim.calibrate.settings import Calibration, read_calibration
from sim.calibrate.targets import HOLDOUT, TRAIN, Target, select_targets
from sim.config import Config, ConfigError, SystemSpec, build_spec
from sim.config.store import merged
from sim.observed import Observation, read_observed
from sim.runner.backends import TaskPool, task_pool

#: Quantiles of the posterior predictive the fit and the fans report.
QUANTILES = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
#: The posterior predictive's replication numbers start here, clear of the waves' 0..R-1.
PREDICTIVE_FIRST = 1_000_000


@dataclass
class CalibrateAppConfig(Config):
    """The simulator's config plus the ``calibration`` section (checked by sim.calibrate.settings)."""

    calibration: Any = None


def register_schema() -> None:
    """Make the calibration app's schema the root schema (``base_config``) for this process, so
    configs/calibrate.yaml may add its ``calibration`` section (the command line calls it once)."""
    ConfigStore.instance().store(name="base_config", node=CalibrateAppConfig)


def compose(overrides: Sequence[str] = ()) -> DictConfig:
    """configs/calibrate.yaml composed with command-line style overrides (e.g. ``["calibration=tiny"]``),
    for Python and tests; the root schema is put back afterwards, so later configs compose as before."""
    register_schema()
    try:
        return api.compose(overrides, config_name="calibrate")
    finally:
        ConfigStore.instance().store(name="base_config", node=Config)


def simulator_config(cfg: DictConfig) -> DictConfig:
    """``cfg`` without anything but the simulator's own sections (drops ``calibration``)."""
    keys = [k for k in Config.__dataclass_fields__ if k in cfg]
    return merged(OmegaConf.structured(Config), OmegaConf.masked_copy(cfg, keys))


def calibrate(
    cfg: DictConfig,
    out_dir: str | Path | None = None,
    *,
    observations: list[Observation] | None = None,
    progress: bool = True,
) -> CalibrationResult:
    """Calibrate the model config in ``cfg`` (a ``calibration`` section beside the simulator's) to its
    observed file (or to ``observations``, e.g. a synthetic series), writing the outputs into ``out_dir``
    if given (a new directory, or the one ``calibration.resume`` names)."""
    clock = time.perf_counter()
    model = simulator_config(cfg)
    spec = build_spec(model)
    cal = read_calibration(cfg.get("calibration"), model)
    observed = observations if observations is not None else read_observed(cal.observed, "calibration.observed")
    selection = select_targets(cal, observed, spec)
    targets = selection.targets
    train = np.array([t.role == TRAIN for t in targets])
    problem = Problem(model, tuple(cal.keys), targets)
    check_bounds(problem, cal.priors, np.array([p.value(np.array(0.5)) for p in cal.priors], dtype=float))
    run_dir = Path(out_dir) if out_dir is not None else None
    if run_dir is not None:
        _claim(run_dir, cfg, cal)
    m = cal.method
    d = len(cal.priors)
    waves: list[Wave] = []
    rows: list[dict[str, Any]] = []
    unmet: list[str] = []
    share = 1.0
    with task_pool(m.workers, m.backend, m.dask_address) as pool:
        centres, sd = np.zeros((0, d)), np.ones(d)
        for k in range(m.waves):
            rank, n, r = (m.per_wave(v, k) for v in (m.rank, m.points, m.replications))
            wave = _load_wave(run_dir, k) if run_dir is not None else None
            if wave is None:
                if len(centres):
                    u = kernel_design(centres, sd, n, m.design, m.seed + k)
                    density = kernel_density(u, centres, sd)
                else:
                    u, density = design(d, n, m.design, m.seed + k), np.ones(n)
                x = np.column_stack([p.value(u[:, i]) for i, p in enumerate(cal.priors)])
                began = time.perf_counter()
                values, _ = _simulate(
                    pool, problem, x, np.arange(r), m.chunk_points, f"wave {k + 1}/{m.waves}", progress
                )
                wave = Wave(k, centres, sd, density, u, x, values, time.perf_counter() - began)
                if run_dir is not None:
                    _save_wave(run_dir, wave)
            wave.judge(targets)
            waves.append(wave)
            kept = wave.kept(train, m.cutoff, rank)
            share = float(np.mean(kept / wave.density))  # the kept region's volume, an importance estimate
            for t, target in enumerate(targets):
                rows.append(
                    {
                        "wave": k + 1,
                        "points": len(wave.u),
                        "replications": wave.values.shape[1],
                        "simulations": wave.values.size // max(len(targets), 1),
                        "rank": rank,
                        "kept": int(kept.sum()),
                        "share_of_space_kept": share,
                        "all_targets_met": int(wave.kept(train, m.cutoff).sum()),
                        "target": target.label,
                        "role": target.role,
                        "min_implausibility": float(np.min(wave.implausibility[:, t])),
                        "share_within_cutoff": float(np.mean(wave.implausibility[:, t] <= m.cutoff)),
                    }
                )
            if progress:
                print(
                    f"wave {k + 1}: {int(kept.sum())} of {len(wave.u)} points not implausible (about {share:.3g} "
                    f"of the space); {int(wave.kept(train, m.cutoff).sum())} meet every target"
                )
            if not kept.any():
                break
            centres, sd = wave.u[kept], kernel_sd(wave.u[kept], m.bandwidth, share)
        last = waves[-1]
        if not last.kept(train, m.cutoff).any():
            unmet = unmet_targets(last, targets, train, m.cutoff)
        waves_table = pd.DataFrame(rows)
        result = CalibrationResult(cal, selection, waves, waves_table, None, None, None, None, unmet, {}, run_dir)
        if not unmet:
            _posterior(result, problem, spec, pool, progress)
    simulations = sum(w.values.shape[0] * w.values.shape[1] for w in waves) + (
        m.predictive if result.posterior is not None else 0
    )
    wall = time.perf_counter() - clock
    busy = sum(w.seconds for w in waves) + result.manifest.get("predictive_seconds", 0.0)
    result.manifest = result.manifest | {
        "calibration": cal.name,
        "system": spec.name,
        "seed": int(model.run.seed),
        "method_seed": m.seed,
        "parameters": cal.keys,
        "targets": [t.label for t in targets],
        "held_out": [t.label for t in targets if t.role == HOLDOUT],
        "skipped": [f"{label}: {why}" for label, why in selection.skipped],
        "waves_run": len(waves),
        "simulations": int(simulations),
        "wall_seconds": round(wall, 3),  # this call's (a resume reads earlier waves from their files)
        "simulation_seconds": round(busy, 3) if np.isfinite(busy) else None,  # every wave's and the predictive's
        "simulations_per_second": round(simulations / busy, 1) if np.isfinite(busy) and busy > 0 else None,
        "no_point_survived": bool(unmet),
        "unmet_targets": unmet,
        "workers": m.workers,
        "backend": m.backend,
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "versions": api.versions(),
        "git_commit": api.git_commit(),
    }
    if result.scores is not None:
        result.manifest["holdout_scores"] = result.scores
    if run_dir is not None:
        write_outputs(result, spec, model)
    return result


def unmet_targets(wave: Wave, targets: tuple[Target, ...], train: np.ndarray, cutoff: float) -> list[str]:
    """When no point meets every target: those no point could meet at all, or, if each can be met alone,
    those the closest point (the least largest implausibility) misses."""
    labels = [t.label for t in targets]
    alone = [labels[t] for t in np.flatnonzero(train) if wave.implausibility[:, t].min() > cutoff]
    if alone:
        return alone
    best = int(np.argmin(np.max(np.where(train, wave.implausibility, 0), axis=1)))
    return [
        f"{labels[t]} (I = {wave.implausibility[best, t]:.1f} at the closest point)"
        for t in np.flatnonzero(train)
        if wave.implausibility[best, t] > cutoff
    ]


def _simulate(
    pool: TaskPool,
    problem: Problem,
    points: np.ndarray,
    reps: np.ndarray,
    per_task: int,
    label: str,
    progress: bool,
    paired: bool = False,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The points through the pool, ``per_task`` a task, in order: each for every replication number of
    ``reps`` (``evaluate``: targets [points, replications, targets]) or, ``paired``, point i on ``reps[i]``
    alone (``evaluate_pairs``: targets [points, targets]); with the kept series of each."""
    starts = list(range(0, len(points), per_task))
    parts: dict[int, tuple[np.ndarray, dict[str, np.ndarray]]] = {}
    bar = tqdm(total=len(points), unit="point", desc=label, disable=not progress, leave=False)

    def done(i: int, result: tuple[np.ndarray, dict[str, np.ndarray]]) -> None:
        parts[i] = result
        bar.update(len(result[0]))

    if paired:
        tasks = [(problem, points[a : a + per_task], reps[a : a + per_task]) for a in starts]
    else:
        tasks = [(problem, points[a : a + per_task], reps) for a in starts]
    try:
        pool.map(evaluate_pairs if paired else evaluate, tasks, done)
    finally:
        bar.close()
    ordered = [parts[i] for i in range(len(starts))]
    values = np.concatenate([v for v, _ in ordered])
    series = {name: np.concatenate([s[name] for _, s in ordered]) for name in problem.series}
    return values, series


def _posterior(result: CalibrationResult, problem: Problem, spec: SystemSpec, pool: TaskPool, progress: bool) -> None:
    """The posterior by importance weighting of every wave's points that meet every target (adaptive
    multiple importance sampling: each point weighted by its likelihood, or with ``method.weights=abc`` by 1
    (the ABC posterior whose distance is the largest implausibility and tolerance the cut-off), over the
    density of all the waves' designs together, the balance heuristic), its summary, and the posterior
    predictive: ``method.predictive`` draws resampled from it, one replication each, for the fit and fans."""
    cal, m = result.calibration, result.calibration.method
    targets = problem.targets
    train = np.array([t.role == TRAIN for t in targets])
    observed = np.array([t.value for t in targets])
    variance = np.array([t.variance for t in targets])
    waves = result.waves
    u = np.concatenate([w.u for w in waves])
    mixture = np.sum([len(w.u) * w.density_at(u) for w in waves], axis=0) / len(u)  # every wave's design, as one
    corr = pooled_correlation([w.values[:, :, train] for w in waves])
    loglik = (
        np.zeros(len(u))
        if m.weights == "abc"
        else np.concatenate(
            [
                log_likelihood(
                    w.mean[:, train], w.var[:, train], observed[train], variance[train], w.values.shape[1], corr
                )
                for w in waves
            ]
        )
    )
    kept = np.concatenate([w.kept(train, m.cutoff) for w in waves])
    w = weights(loglik, kept, mixture)
    frame = pd.DataFrame(
        {
            "weight": w,
            "wave": np.concatenate([np.full(len(v.u), v.index + 1) for v in waves]),
            "point": np.concatenate([np.arange(len(v.u)) for v in waves]),
        }
    )
    x = np.concatenate([v.x for v in waves])
    for i, key in enumerate(cal.keys):
        frame[key] = x[:, i]
    result.posterior = frame[frame["weight"] > 0].reset_index(drop=True)
    post = result.posterior
    rows = []
    for prior in cal.priors:
        q = weighted_quantiles(post[prior.key].to_numpy(), post["weight"].to_numpy(), QUANTILES)
        rows.append(
            {
                "parameter": prior.key,
                "prior": prior.describe(),
                "p05": q[0],
                "p25": q[1],
                "median": q[2],
                "p75": q[3],
                "p95": q[4],
            }
        )
    result.parameters = pd.DataFrame(rows)
    # The posterior predictive: resampled draws, each run once on its own replication number.
    pick = resample(post["weight"].to_numpy(), m.predictive, m.seed)
    points = post[cal.keys].to_numpy()[pick]
    reps = PREDICTIVE_FIRST + np.arange(m.predictive)
    fans = tuple(dict.fromkeys(name for t in targets for name in t.observation.metric if not t.observation.denominator))
    shown = Problem(problem.cfg, problem.keys, targets, fans)
    began = time.perf_counter()
    values, series = _simulate(pool, shown, points, reps, m.chunk_points, "posterior predictive", progress, paired=True)
    result.manifest["predictive_seconds"] = round(time.perf_counter() - began, 3)
    result.fit, result.scores = fit_table(targets, values)
    months = [spec.calendar.start_label, *spec.calendar.labels]
    bands = []
    for name, s in series.items():
        q = np.quantile(s, QUANTILES, axis=0)  # [quantiles, months]
        bands.append(
            pd.DataFrame(
                {
                    "month": months,
                    "metric": name,
                    "mean": s.mean(axis=0),
                    **{f"p{int(round(100 * p)):02d}": q[i] for i, p in enumerate(QUANTILES)},
                }
            )
        )
    result.predictive = pd.concat(bands, ignore_index=True) if bands else None
    result.manifest["effective_sample_size"] = effective_size(w)


def interval_score(y: float, lower: float, upper: float, alpha: float) -> float:
    """Gneiting and Raftery's interval score of a central (1 - alpha) interval: its width plus 2/alpha
    times the distance by which the observation falls outside it (lower is better)."""
    return (upper - lower) + 2 / alpha * max(lower - y, 0.0) + 2 / alpha * max(y - upper, 0.0)


def fit_table(targets: tuple[Target, ...], values: np.ndarray) -> tuple[pd.DataFrame, dict[str, float] | None]:
    """Each target's observed figure beside the posterior predictive's median and bands; inside a band
    when the figure's rounding interval meets it. Scores of the held-out targets (None if none)."""
    rows = []
    for t, target in enumerate(targets):
        v = values[:, t]
        v = v[np.isfinite(v)]
        q = np.quantile(v, QUANTILES) if len(v) else np.full(len(QUANTILES), np.nan)
        low, high = target.bounds
        rows.append(
            {
                "target": target.label,
                "metric": "+".join(target.observation.metric),
                "month": target.observation.month,
                "kind": target.observation.kind,
                "basis": target.observation.basis,
                "role": target.role,
                "observed": target.value,
                "rounding": target.observation.rounding,
                "p05": q[0],
                "p25": q[1],
                "median": q[2],
                "p75": q[3],
                "p95": q[4],
                "inside_50": bool(low <= q[3] and q[1] <= high),
                "inside_90": bool(low <= q[4] and q[0] <= high),
                "interval_score_90": interval_score(target.value, q[0], q[4], 0.1),
                "relative_interval_score_90": interval_score(target.value, q[0], q[4], 0.1) / abs(target.value)
                if target.value
                else np.nan,
                "source": target.observation.source,
            }
        )
    fit = pd.DataFrame(rows)
    held = fit[fit["role"] == HOLDOUT]
    scores = None
    if len(held):
        scores = {
            "held_out_targets": int(len(held)),
            "share_inside_50": float(held["inside_50"].mean()),
            "share_inside_90": float(held["inside_90"].mean()),
            "mean_relative_interval_score_90": float(held["relative_interval_score_90"].mean()),
        }
    return fit, scores


# ------------------------------------------------------------------------------------- the directory

CONFIG_FILE = "calibration.yaml"


def _identity(cfg: DictConfig) -> str:
    """The config as it decides results (how it is run, and where it resumes from, left out)."""
    c = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(c, dict)
    method = c.get("calibration", {}).get("method", {}) or {}
    for k in ("workers", "backend", "dask_address"):
        method.pop(k, None)
    c.get("calibration", {}).pop("resume", None)
    for k in ("workers", "backend", "dask_address", "progress", "resume"):
        c.get("run", {}).pop(k, None)
    return json.dumps(c, sort_keys=True, default=str)


def _claim(run_dir: Path, cfg: DictConfig, cal: Calibration) -> None:
    """A new calibration directory: refuse one that holds another; a resume: the config must be the same."""
    stored = run_dir / CONFIG_FILE
    if cal.resume is not None:
        if not stored.exists():
            raise ConfigError("calibration.resume", f"{run_dir} holds no calibration ({CONFIG_FILE} missing)")
        if (run_dir / "manifest.json").exists():
            raise ConfigError(
                "calibration.resume", f"{run_dir} is complete (its manifest.json is written): nothing to resume"
            )
        before = OmegaConf.load(stored)
        if _identity(before) != _identity(cfg):  # type: ignore[arg-type]
            raise ConfigError(
                "calibration.resume",
                f"{run_dir} was calibrated with another config; resume with the same calibration and overrides "
                f"(its {CONFIG_FILE} says what they were)",
            )
        return
    if (run_dir / "manifest.json").exists() or (run_dir / "waves").exists() or stored.exists():
        raise ConfigError("hydra.run.dir", f"{run_dir} already holds a calibration; choose a new directory")
    run_dir.mkdir(parents=True, exist_ok=True)
    stored.write_text(OmegaConf.to_yaml(cfg, resolve=True))


def _wave_path(run_dir: Path, k: int) -> Path:
    return run_dir / "waves" / f"wave-{k + 1:02d}.npz"


def _save_wave(run_dir: Path, wave: Wave) -> None:
    """Write a finished wave atomically (a stop mid-write never leaves a half wave that looks finished)."""
    path = _wave_path(run_dir, wave.index)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(
        tmp,
        centres=wave.centres,
        sd=wave.sd,
        density=wave.density,
        u=wave.u,
        x=wave.x,
        values=wave.values,
        seconds=np.array(wave.seconds),
    )
    os.replace(tmp, path)


def _load_wave(run_dir: Path, k: int) -> Wave | None:
    path = _wave_path(run_dir, k)
    if not path.exists():
        return None
    with np.load(path) as f:
        seconds = float(f["seconds"]) if "seconds" in f.files else float("nan")
        return Wave(k, f["centres"], f["sd"], f["density"], f["u"], f["x"], f["values"], seconds)


__all__ = [
    "CalibrationResult",
    "calibrate",
    "compose",
    "fit_table",
    "interval_score",
    "register_schema",
    "simulator_config",
]
