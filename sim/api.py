"""One call from Python: compose a config by name with overrides, run it, get DataFrames back.

    from sim.api import compose, run
    cfg = compose(["tcp=bhr", "run.replications=200"])
    result = run(cfg)                      # nothing written
    result.summary.query("metric == 'inpatients'")
    run(cfg, out_dir="outputs/my-run")     # the files of a command-line run
    run(cfg, out_dir="outputs/my-run", overwrite=True)  # again: the earlier run's files replaced

The command line (``python -m sim``) calls the same ``run`` with Hydra's run directory. ``run`` is three
steps that can be called on their own: ``prepare`` (validate, claim the directory), ``replicate`` (the
replications; many times on one prepared run, without files, for calibration or the app) and ``publish``
(bands, the plan check and, with a directory, every file).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException
from tqdm import tqdm

from sim.config import Config, ConfigError, SystemSpec, build, limits, provenance
from sim.config.census import CENSUS_KEYS, anchor_paths, census_path
from sim.config.parameters import Parameterised, parameterise
from sim.config.spec import AutoRule, RunSpec
from sim.config.store import compose as store_compose
from sim.config.store import merged
from sim.finance import write_finance
from sim.metrics import check_metric
from sim.plots import board_charts
from sim.report import disclosure_rule, write_report
from sim.results import summarise, summarise_chunks, trajectory_table
from sim.results.disclosure import TRAJECTORY_COUNTS, as_text, numeric
from sim.results.intervals import half_widths
from sim.runner import Chunk, Stamp, chunk_files, read_chunks, run_replications
from sim.runner.sequential import Precision, look_ahead
from sim.runner.warm import compile_line, engine_needs_compiling

logger = logging.getLogger(__name__)  # a Hydra app's console and its run directory's sim.log

PACKAGES = (
    "sim",
    "numpy",
    "scipy",
    "pandas",
    "simpy",
    "numba",
    "hydra-core",
    "pyarrow",
    "matplotlib",
    "python-docx",
    "openpyxl",
    "streamlit",
)


@dataclass
class RunResult:
    """What a run gives back: per-replication monthly metrics, their bands, the plan check.

    A run that wrote a directory keeps its per-replication tables there, not in memory: ``monthly`` and
    ``events`` are read from its chunk files when first asked for."""

    spec: SystemSpec
    summary: pd.DataFrame  # month, metric, mean, p05, p25, p50, p75, p95
    trajectory: pd.DataFrame  # planned milestones: P(at or under), bands
    manifest: dict
    run_dir: Path | None
    _monthly: pd.DataFrame | None = field(default=None, repr=False)
    _events: pd.DataFrame | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        """One line: what was run and where its files are (the tables are attributes, not shown)."""
        m, cal = self.manifest, self.spec.calendar
        where = f", run_dir='{self.run_dir}'" if self.run_dir is not None else ""
        return (
            f"RunResult(system='{self.spec.name}', scenario='{self.spec.scenario}', "
            f"replications={m.get('replications')}, seed={m.get('seed')}, months={cal.labels[0]}..{cal.labels[-1]}"
            f"{where})"
        )

    @property
    def monthly(self) -> pd.DataFrame:
        """replication, month, one column a metric."""
        if self._monthly is None and self.run_dir is not None:
            self._monthly = read_chunks(self.run_dir)
        return self._monthly

    @property
    def events(self) -> pd.DataFrame | None:
        """The per-person event log, if the run kept one (run.event_log)."""
        if self._events is None and self.run_dir is not None and chunk_files(self.run_dir, "events"):
            self._events = read_chunks(self.run_dir, kind="events")
        return self._events


def compose(
    overrides: Sequence[str] = (), config_name: str = "config", config_dir: str | Path | None = None
) -> DictConfig:
    """Compose configs/<config_name>.yaml with command-line style overrides (Hydra's compose API).
    ``config_dir`` is a directory of the user's own configs (``tcp/<name>.yaml`` and its census, as
    ``python -m sim.new_area`` writes one), searched first, as ``--config-dir`` is on the command line;
    its relative census paths are read from it."""
    dirs = [Path(config_dir).resolve()] if config_dir is not None else []
    cfg = store_compose(overrides, config_name, config_dirs=dirs)
    if dirs:
        anchor_paths(cfg, dirs)
        with open_dict(cfg):
            cfg.run.config_dirs = [str(d) for d in dirs]
    return cfg


def resume_command(run_dir: str | Path) -> str:
    """The command line that completes the run in ``run_dir``, as a user can paste it into a shell, for
    any path: quoted for Hydra's override grammar and then for the shell (``provenance.override_word``)."""
    return f"python -m sim {provenance.override_word('run.resume', str(run_dir))}"


def resume(run_dir: str | Path, *, progress: bool | None = None) -> RunResult:
    """Complete a run that was interrupted: its own config, its finished chunks kept, the rest run. The
    results are those the uninterrupted run would have given."""
    run_dir = Path(run_dir)
    manifest = run_dir / "manifest.json"
    if running_pid(run_dir) not in (None, os.getpid()):  # one with its lock, perhaps still writing its first files
        raise ConfigError("run.resume", _held_by(run_dir))
    if not (run_dir / "config.yaml").is_file() or not manifest.is_file():
        raise ConfigError("run.resume", f"{run_dir} holds no run to resume (no config.yaml and manifest.json)")
    claim(run_dir, "run.resume")  # before the manifest is read as final: a second resume at once is refused
    try:
        return _resume_claimed(run_dir, progress)
    finally:
        unlock(run_dir)


def _resume_claimed(run_dir: Path, progress: bool | None) -> RunResult:
    """``resume`` once this process holds the run directory's lock."""
    manifest = run_dir / "manifest.json"
    try:
        before = json.loads(manifest.read_text())
        if not isinstance(before, dict):
            raise ValueError("not a JSON object")
    except (ValueError, UnicodeDecodeError) as e:
        raise ConfigError(
            "run.resume", f"{manifest} is not a run's manifest ({' '.join(str(e).split())}); the run cannot be resumed"
        ) from None
    if before.get("status") == "complete":
        raise ConfigError("run.resume", f"{run_dir} is already complete")
    recorded = before.get("config_sha256")
    text = (run_dir / "config.yaml").read_bytes()
    if recorded is not None and hashlib.sha256(text).hexdigest() != recorded:
        raise ConfigError(
            "run.resume",
            f"{run_dir / 'config.yaml'} was changed after the run started (its manifest records another): its "
            "finished chunks were run with the config it had then; put that back, or start a new run",
        )
    try:  # a manifest written before config_sha256 was recorded cannot vouch for the file: it may be anything
        cfg = merged(OmegaConf.structured(Config), OmegaConf.load(run_dir / "config.yaml"))
    except (ValueError, OSError, yaml.YAMLError, OmegaConfBaseException) as e:  # UnicodeDecodeError is a ValueError
        reason = " ".join(str(e).split())[:200]
        raise ConfigError(
            "run.resume", f"{run_dir / 'config.yaml'} is not a run's config ({reason}); the run cannot be resumed"
        ) from None
    posterior = before.get("parameters")
    if posterior:  # the file the run started with, wherever it is resumed from (prepare checks its hash)
        cfg.run.parameters = posterior["file"]
    return run(cfg, run_dir, progress=progress, resuming=True)


@dataclass
class PreparedRun:
    """A validated run, with its directory claimed if it writes one: what ``replicate`` and ``publish``
    take. ``manifest`` is the run's record, kept current in the directory as chunks finish."""

    cfg: DictConfig
    spec: SystemSpec
    settings: RunSpec
    run_dir: Path | None
    manifest: dict
    resuming: bool = False
    clock: float = field(default_factory=time.perf_counter)  # when the run started, for its wall time
    parameters: Parameterised | None = None  # with run.parameters: each replication's posterior draw and spec

    @property
    def simulated(self) -> SystemSpec | Parameterised:
        """What the replications run: the system, or with run.parameters each one's draw of it."""
        return self.spec if self.parameters is None else self.parameters


@dataclass
class Replications:
    """What ``replicate`` gives: the monthly table and event log (None when they went to chunk files in
    the run directory) and how many replications were run."""

    monthly: pd.DataFrame | None
    events: pd.DataFrame | None
    count: int


def prepare(
    cfg: DictConfig,
    out_dir: str | Path | None = None,
    *,
    resuming: bool = False,
    overwrite: bool = False,
    dir_key: str = "out_dir",
    reference: DictConfig | None = None,
) -> PreparedRun:
    """Validate ``cfg`` (the system and the run settings, and the auto rule's metric and month) and, with
    ``out_dir``, claim it: its config and manifest written, marked as being run by this process. Nothing
    is simulated. ``out_dir`` must not already hold a run, unless ``resuming`` (``resume``) or
    ``overwrite`` (the earlier run's own files are removed first; anything else in it is refused).
    ``dir_key`` names the directory in errors: ``out_dir`` from Python, ``hydra.run.dir`` from the
    command line. ``reference`` is the config of the same files with no value changed, which the
    manifest's ``changes`` are taken against (``compose`` of the same choices and directories; composed
    here if not given, about 0.2 s for one TCP and 1 s for the hub: the app passes the one it holds)."""
    spec, settings = build(cfg)  # the validated system and run settings: nothing below reads cfg.run again
    limits.check_size(spec, settings, limits.tcp_keys(cfg))  # it fits in memory, before anything is allocated
    for note in spec.notes:  # what the build changed (a census over the beds started out of area)
        logger.warning("note: %s", note)
    if settings.auto is not None:
        _auto_rule(settings.auto, spec)  # a bad metric or month stops the run before its directory is made
    parameters = parameterise(cfg, spec, settings)  # run.parameters: its file, keys and draws checked
    if resuming and out_dir is not None and (Path(out_dir) / "manifest.json").is_file():
        _check_same_posterior(json.loads((Path(out_dir) / "manifest.json").read_text()), parameters)
    run_dir = Path(out_dir) if out_dir is not None else None
    config_text = OmegaConf.to_yaml(cfg, resolve=True)
    if run_dir is not None and not resuming:
        if running_pid(run_dir) not in (None, os.getpid()):  # another process is running it, files or not
            raise ConfigError(dir_key, _held_by(run_dir))
        if (run_dir / "manifest.json").exists() or (run_dir / "replications").exists():
            if not overwrite:
                raise RunDirectoryTaken(dir_key, _taken(run_dir, dir_key))
            claim(run_dir, dir_key)  # before anything is removed: never a run another process is writing
            _remove_run(run_dir, dir_key)
        foreign = _foreign_files(run_dir)
        if foreign:
            raise ConfigError(
                dir_key,
                f"{run_dir} holds files that are not a run's ({', '.join(foreign[:3])}"
                f"{', ...' if len(foreign) > 3 else ''}); they are left as they are: choose a new directory",
            )
        run_dir.mkdir(parents=True, exist_ok=True)
    if run_dir is not None:
        claim(run_dir, dir_key)  # one process a run directory: a second run or resume into it at once is refused
        if not resuming:
            (run_dir / "config.yaml").write_text(config_text)
    manifest: dict[str, Any] = {
        "system": spec.name,
        "scenario": spec.scenario,
        "seed": settings.seed,
        "engine": settings.engine,
        "replications": "auto" if settings.auto is not None else settings.replications,
        "replications_done": 0,
        "workers": settings.workers,
        "chunk_size": settings.chunk_size,
        "backend": settings.backend,
        "start": spec.calendar.labels[0],
        "months": spec.calendar.n_months,
        "warmup_years": settings.warmup_years,
        "parameters": None if parameters is None else parameters.record(),
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "status": "running",
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "versions": versions(),
        "command": sys.argv,
        "overrides": _job_overrides(),
        "config_sha256": hashlib.sha256(config_text.encode()).hexdigest(),
    }
    if resuming and run_dir is not None:
        before = json.loads((run_dir / "manifest.json").read_text())
        manifest["started"] = before.get("started", manifest["started"])
        manifest["resumed"] = before.get("resumed", []) + [datetime.now(timezone.utc).isoformat(timespec="seconds")]
        manifest["config_sha256"] = before.get("config_sha256", manifest["config_sha256"])
        # what the run was started as, not the resume's command line
        manifest.update({k: before[k] for k in PROVENANCE if k in before})
        manifest["overrides"] = before.get("overrides")
    else:
        manifest.update(_provenance(cfg, manifest["overrides"], reference))
    manifest.setdefault("notes", [])
    if not resuming:
        for note in manifest["notes"]:
            logger.warning("note: %s", note)
        manifest["notes"] = list(spec.notes) + manifest["notes"]  # the build's first (told above)
    if run_dir is not None:
        _write_manifest(run_dir, manifest)
        _keep_inputs(run_dir, cfg)
    return PreparedRun(cfg, spec, settings, run_dir, manifest, resuming, parameters=parameters)


#: The manifest's record of where the values came from (``_provenance``), kept as it was by a resume.
PROVENANCE = ("changes", "as_shipped", "config_dirs", "rerun", "notes")


def _provenance(cfg: DictConfig, overrides: list[str] | None, reference: DictConfig | None = None) -> dict:
    """What the manifest says of where the run's values came from: every value that differs from the
    shipped files (``changes``; None if those files could not be composed), whether it is the scenario as
    shipped, the user's config directories, the command that runs it again, and the start-state notes.
    ``reference``: those files' config, already composed (``prepare``)."""
    from hydra.core.hydra_config import HydraConfig

    dirs = [str(d) for d in cfg.run.config_dirs]
    choices = None
    if HydraConfig.initialized():  # the files the command line chose (an experiment's included)
        picked = HydraConfig.get().runtime.choices
        choices = [f"{g}={picked[g]}" for g in CHOSEN if picked.get(g) is not None]
    if reference is None:
        reference = provenance.reference_config(cfg, choices, dirs)
        if reference is not None:  # its census paths read from the same directories as the run's
            anchor_paths(reference, [Path(d) for d in dirs])
    changes = None if reference is None else provenance.differences(cfg, reference)
    if overrides is None:  # a config made in Python: its files and what differs from them
        overrides = (choices or provenance.choices_of(cfg)) + [
            f"{d.key}={provenance.hydra_value(d.value)}" for d in changes or []
        ]
        if reference is not None:
            overrides += provenance.run_settings(cfg, reference)
    census = []
    for name, node in _tcp_nodes(cfg):
        path = next((census_path(str(node[k])) for k in CENSUS_KEYS[:2] if node.get(k)), None)
        census.append((name, path, None if path is None else provenance.census_month(path)))
    return {
        "changes": None if changes is None else [d.record() for d in changes],
        "as_shipped": changes is not None and not changes,
        "config_dirs": dirs,
        "rerun": provenance.rerun_command(overrides, dirs),
        "notes": provenance.start_notes(census, str(cfg.run.start), float(cfg.run.warmup_years)),
    }


#: The config groups whose chosen files are the reference a run's values are compared with.
CHOSEN = ("tcp", "system", "scenario", "experiment")


def _tcp_nodes(cfg: DictConfig) -> list[tuple[str, DictConfig]]:
    """(name, config) of each TCP of a config: a system's, or the one ``tcp``."""
    if cfg.system.tcps:
        return [(str(t.name), t) for t in cfg.system.tcps.values()]
    return [] if cfg.tcp is None else [(str(cfg.tcp.name), cfg.tcp)]


def _keep_inputs(run_dir: Path, cfg: DictConfig) -> None:
    """Keep what the run read beside its results: each TCP's config as run (resolved) in
    ``inputs/tcp/<name>.yaml``, and its census files as they were, in ``inputs/census/``."""
    tcp_dir, census_dir = run_dir / "inputs" / "tcp", run_dir / "inputs" / "census"
    for name, node in _tcp_nodes(cfg):
        tcp_dir.mkdir(parents=True, exist_ok=True)
        (tcp_dir / f"{name}.yaml").write_text(
            f"# {name} as this run ran it (every value resolved; its sources are the comments of its file)\n"
            + provenance.as_yaml(node)
        )
        for key in CENSUS_KEYS:
            if node.get(key):
                path = census_path(str(node[key]))
                if path.is_file():
                    census_dir.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, census_dir / path.name)


class RunDirectoryTaken(ConfigError, FileExistsError):
    """The directory asked for already holds a run: earlier outputs are not overwritten unless asked."""


def _taken(run_dir: Path, dir_key: str) -> str:
    """Why ``run_dir`` cannot take a new run, and what to do, in the terms of the caller (Python or the
    command line)."""
    try:
        status = str(json.loads((run_dir / "manifest.json").read_text()).get("status", "?"))
    except (OSError, ValueError, AttributeError):
        status = "?"
    finished = status == "complete"
    if dir_key == "out_dir":
        then = "" if finished else ", or sim.api.resume(out_dir) to complete it"
        return (
            f"{run_dir} already holds a run ({status}): pass another out_dir, or run(..., overwrite=True) to "
            f"replace it{then}"
        )
    then = "" if finished else f" (or complete it with {resume_command(run_dir)})"
    return f"{run_dir} already holds a run ({status}); choose a new directory{then}"


#: What a run writes into its directory (``overwrite=True`` removes these and nothing else).
RUN_FILES = (
    "manifest.json",
    "manifest.json.tmp",
    "config.yaml",
    "summary.csv",
    "trajectory.csv",
    "report.md",
    "report.html",
)
RUN_PATTERNS = ("fan_*.png", "fan_*.svg", "milestones.*", "finance_*", "report.*", "results.xlsx", "*.log")
RUN_FOLDERS = ("replications", "events", "inputs", ".hydra")


def _remove_run(run_dir: Path, dir_key: str) -> None:
    """Remove an earlier run's files from ``run_dir`` (``overwrite=True``), which this process has claimed
    (so no other process is running it): refused if the directory holds anything a run does not write.
    The lock file stays (this process holds it; ``unlock`` removes it)."""
    ours = {p for pattern in RUN_PATTERNS for p in run_dir.glob(pattern)}
    ours |= {run_dir / n for n in (*RUN_FILES, *RUN_FOLDERS, LEGACY_MARK)}
    ours.add(run_dir / LOCK)
    other = sorted(p.name for p in run_dir.iterdir() if p not in ours)
    if other:
        raise ConfigError(
            dir_key, f"{run_dir} holds files a run does not write ({', '.join(other[:3])}): it is not overwritten"
        )
    for p in sorted(ours - {run_dir / LOCK}):
        if p.is_dir() and p.name != ".hydra":
            shutil.rmtree(p)
        elif p.is_file():
            p.unlink()


def _check_same_posterior(before: dict, parameters: Parameterised | None) -> None:
    """A resumed run goes on with the posterior it started with: the same file, unchanged (its draws are
    what the finished chunks ran)."""
    was = before.get("parameters")
    if was is None:
        return
    now = None if parameters is None else parameters.record()
    if now is None or now["sha256"] != was.get("sha256"):
        raise ConfigError(
            "run.parameters",
            f"{was.get('file')} has changed since the run started (sha256 {was.get('sha256')}): its finished "
            "chunks ran draws of the file as it was; put that file back, or start a new run",
        )


def replicate(
    prepared: PreparedRun, *, progress: bool | None = None, on_progress: Callable[[int, int], None] | None = None
) -> Replications:
    """Run the replications of a prepared run (``run.replications``, or rounds of them until the auto
    rule is met), writing each finished chunk into its directory if it has one; files of nothing else.
    Callable many times on one run without a directory (calibration, the app): each call runs them anew,
    with the same results."""
    spec, r, run_dir, manifest = prepared.spec, prepared.settings, prepared.run_dir, prepared.manifest
    show = r.progress if progress is None else progress
    precision, metric, month = _auto_rule(r.auto, spec) if r.auto is not None else (None, "", "")
    # A round of auto is whole chunks, the same whatever the workers, so the replications it runs (and its
    # answer) do not depend on the machine; a round the rule asks to be longer keeps every worker busy.
    step = r.chunk_size
    maximum = r.auto.maximum if r.auto is not None else 0
    total = _first_round(precision, step, maximum) if precision is not None else int(r.replications or 0)
    manifest["replications_done"] = 0
    bar = tqdm(total=total, unit="rep", desc=f"{spec.name}/{spec.scenario}", disable=not show)
    # what made the run, in each chunk file: a resume never mixes in a chunk another config made
    stamp = Stamp(str(manifest["config_sha256"]), r.seed) if run_dir is not None else None

    def on_chunk(chunk: Chunk) -> None:
        bar.update(chunk.last - chunk.first)
        manifest["replications_done"] += chunk.last - chunk.first
        if on_progress is not None:  # (done, total so far): the app's progress bar
            on_progress(manifest["replications_done"], int(bar.total or 0))
        if run_dir is not None:  # kept current, so even a killed run can be resumed
            _write_manifest(run_dir, manifest)

    def replications(upto: int, first: int) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
        return run_replications(
            prepared.simulated,
            upto,
            workers=r.workers,
            chunk_size=r.chunk_size,
            out_dir=run_dir,
            event_log=r.event_log,
            engine=r.engine,
            on_chunk=on_chunk,
            resume=prepared.resuming or first > 0,
            backend=r.backend,
            dask_address=r.dask_address,
            first=first,
            stamp=stamp,
        )

    if r.engine == "numba" and engine_needs_compiling():  # else 0% for tens of seconds without a word
        logger.info(compile_line())
    try:
        monthly, events = replications(total, 0)
        if precision is not None:  # rounds until the interval is narrow enough (sim.runner.sequential)
            parts, logs, values = [monthly], [events], _values(monthly, run_dir, metric, month, 0, r.chunk_size)
            while (answer := precision.solution(values)) is None and total < maximum:
                done, total = total, precision.next_total(values, step, maximum)
                bar.total = total
                bar.refresh()
                part, log = replications(total, done)
                parts.append(part)
                logs.append(log)
                values = np.concatenate([values, _values(part, run_dir, metric, month, done, r.chunk_size)])
            if run_dir is None:
                monthly = pd.concat(parts, ignore_index=True)
                events = pd.concat(logs, ignore_index=True) if r.event_log else None
            manifest["replications"] = total
            manifest["replications_rule"] = _rule_record(precision, metric, month, values, answer)
            _say_rule(manifest["replications_rule"], show)
    except KeyboardInterrupt:
        manifest["status"] = "interrupted"
        manifest["wall_seconds"] = round(time.perf_counter() - prepared.clock, 3)
        if run_dir is not None:
            _write_manifest(run_dir, manifest)
        raise
    finally:
        bar.close()
    return Replications(monthly, events, total)


def publish(prepared: PreparedRun, reps: Replications) -> RunResult:
    """Bands across the replications and the planned trajectory's check; with a run directory, its
    summary.csv, trajectory.csv, charts, finance tables and report, and the manifest marked complete."""
    spec, r, run_dir, manifest = prepared.spec, prepared.settings, prepared.run_dir, prepared.manifest
    milestones = [("inpatients", spec.trajectory())]
    if len(spec.tcps) > 1 and spec.tcp_metrics:  # each TCP against its own plan too
        milestones += [(f"{t.name}/inpatients", dict(t.trajectory)) for t in spec.tcps]
    took: dict[str, float] = {}
    clock = time.perf_counter()
    logger.info("summarising %s replications", f"{reps.count:,}")
    if run_dir is None:
        assert reps.monthly is not None
        summary, at_milestones = summarise(reps.monthly), reps.monthly
    else:  # folded from the chunk files: memory stays flat as replications grow
        summary = summarise_chunks(chunk_files(run_dir))
        at_milestones = read_chunks(  # only the plans' months: all the trajectory table and chart read
            run_dir,
            columns=["replication", "month", *(m for m, _ in milestones)],
            months=sorted({month for _, plan in milestones for month in plan}),
        )
    trajectory = pd.concat([trajectory_table(at_milestones, p, m) for m, p in milestones], ignore_index=True)
    took["summaries"], clock = time.perf_counter() - clock, time.perf_counter()
    manifest["status"] = "complete"
    manifest["wall_seconds"] = round(time.perf_counter() - prepared.clock, 3)
    if run_dir is not None:
        rule = disclosure_rule(r.disclosure, spec)  # run.disclosure: the published tables' rounding, if any
        disclosed = rule.frame(summary)  # the summary itself when the rule is none
        shown = numeric(disclosed)  # what the charts draw: the tables' figures
        if rule.on:  # summary.csv and trajectory.csv rounded and suppressed, as every table that leaves
            as_text(disclosed).to_csv(run_dir / "summary.csv", index=False)
            bands = rule.frame(trajectory, columns=TRAJECTORY_COUNTS)
            as_text(bands).to_csv(run_dir / "trajectory.csv", index=False, float_format="%.6g")
        else:
            summary.to_csv(run_dir / "summary.csv", index=False, float_format="%.6g")
            trajectory.to_csv(run_dir / "trajectory.csv", index=False, float_format="%.6g")
        source = (
            f"Source: tcp-sim, system {spec.name}, scenario {spec.scenario}, "
            f"{manifest['replications']} replications, seed {r.seed}, engine {r.engine}"
        )
        logger.info("writing charts")
        board_charts(shown, spec, source, run_dir, trajectory=trajectory, at_milestones=at_milestones)
        for path in write_finance(run_dir, spec, summary, source=source):  # the pooled budget's, if any
            if rule.on and path.suffix == ".csv":  # its counts of people (pool_cohort) as the summary's
                table = pd.read_csv(path)
                at = "month" if "month" in table.columns else "year"
                as_text(rule.frame(table, at=at), float_format="%.10g").to_csv(path, index=False, float_format="%.10g")
        took["charts"], clock = time.perf_counter() - clock, time.perf_counter()
        logger.info("writing the report")
        write_report(run_dir, prepared.cfg, spec, manifest, summary, trajectory)
        took["report"] = time.perf_counter() - clock
        manifest["total_seconds"] = round(time.perf_counter() - prepared.clock, 3)  # with the files written
        _write_manifest(run_dir, manifest)
        logger.info("published: %s", ", ".join(f"{step} {seconds:.1f} s" for step, seconds in took.items()))
    return RunResult(spec, summary, trajectory, manifest, run_dir, reps.monthly, reps.events)


def run(
    cfg: DictConfig,
    out_dir: str | Path | None = None,
    *,
    progress: bool | None = None,
    resuming: bool = False,
    overwrite: bool = False,
    dir_key: str = "out_dir",
    on_progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Validate ``cfg``, run its replications and return the results; write the run's files into
    ``out_dir`` if given. A directory that already holds a run is refused (``RunDirectoryTaken``, a
    ``FileExistsError``) unless ``overwrite=True``, which replaces that run's files; ``resume`` completes
    an interrupted one. ``on_progress(done, total)`` is called after each chunk (``replicate``). The three
    steps, ``prepare``, ``replicate`` and ``publish``, can be called on their own."""
    try:
        prepared = prepare(cfg, out_dir, resuming=resuming, overwrite=overwrite, dir_key=dir_key)
        try:
            reps = replicate(prepared, progress=progress, on_progress=on_progress)
        except Exception:
            release(prepared)
            raise
        try:
            return publish(prepared, reps)
        except KeyboardInterrupt:  # stopped while writing the bands, charts or report: resume writes them
            _mark_interrupted(prepared)
            raise
    finally:
        if out_dir is not None:  # held from prepare to the last file written (or taken by resume)
            unlock(Path(out_dir))


def _mark_interrupted(prepared: PreparedRun) -> None:
    """Record a run stopped after its replications as interrupted (resume completes its files), unless
    its manifest was written complete already (everything was published)."""
    if prepared.run_dir is None:
        return
    try:
        if json.loads((prepared.run_dir / "manifest.json").read_text()).get("status") == "complete":
            return
    except (OSError, ValueError, AttributeError):
        pass
    prepared.manifest["status"] = "interrupted"
    prepared.manifest["wall_seconds"] = round(time.perf_counter() - prepared.clock, 3)
    _write_manifest(prepared.run_dir, prepared.manifest)


def release(prepared: PreparedRun) -> None:
    """Give back a run directory this process claimed and wrote nothing of worth into: a new run that
    failed before its first chunk (an unreachable Dask scheduler, a draw refused in a worker) leaves
    no half run behind to refuse the next try. A run with chunks keeps them, to be resumed."""
    run_dir = prepared.run_dir
    if run_dir is None or prepared.resuming or prepared.manifest.get("replications_done", 0) > 0:
        return
    if (run_dir / "replications").exists() and any((run_dir / "replications").iterdir()):
        return
    for name in ("manifest.json", "config.yaml"):
        (run_dir / name).unlink(missing_ok=True)
    shutil.rmtree(run_dir / "inputs", ignore_errors=True)  # prepare's copies of what the run read
    for folder in ("replications", "events"):
        if (run_dir / folder).is_dir() and not any((run_dir / folder).iterdir()):
            (run_dir / folder).rmdir()


def hydra_own(entry: Path) -> bool:
    """Whether a run directory's entry is Hydra's own record of a call (``.hydra/``) or its log (``*.log``),
    both made before the run starts: what a new run may find there besides its own mark."""
    return entry.name == ".hydra" or entry.suffix == ".log"


def _foreign_files(run_dir: Path) -> list[str]:
    """The entries of ``run_dir`` that are neither Hydra's (``hydra_own``) nor a run's lock (``.lock``, or
    the ``.running`` mark of earlier versions): somebody's, never written over."""
    if not run_dir.is_dir():
        return []
    return sorted(p.name for p in run_dir.iterdir() if not hydra_own(p) and p.name not in (LOCK, LEGACY_MARK))


#: The lock file of a run directory: locked (``flock``) by the process running it for as long as it runs,
#: and released by the kernel when that process ends however it ends, so a lock left by a process that is
#: gone never blocks a resume (a PID file did when its PID was reused). It holds the PID, for messages.
LOCK = ".lock"
#: The PID file earlier versions marked a run directory with: a leftover, not a lock.
LEGACY_MARK = ".running"

#: The run directories this process holds (resolved): the open lock file of each.
_held: dict[Path, int] = {}


def claim(run_dir: Path, key: str = "hydra.run.dir") -> None:
    """Lock ``run_dir`` for this process (``LOCK``) until ``unlock`` or the process ends: if another
    process holds it, refuse with one line naming the directory and that process (``key`` names the
    directory in the error). Claiming a directory this process holds already is a no-op."""
    where = run_dir.resolve()
    if where in _held:
        return
    path = run_dir / LOCK
    busy = 0
    for _ in range(20):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:  # a directory this user cannot write (or gone): no run can be written there
            raise ConfigError(key, f"{run_dir}: cannot write its lock file {path} ({e.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            busy += 1
            if busy < 3:  # ``running_pid`` looking at the lock holds it for an instant
                time.sleep(0.05)
                continue
            raise ConfigError(key, _held_by(run_dir)) from None
        except OSError as e:  # a file system without locks: run, as before there was one
            os.close(fd)
            logger.warning(f"warning: {path} cannot be locked ({e.strerror}): make sure no other process runs it")
            return
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # removed (``unlock``) between open and lock: this lock is on a file nobody opens
            os.close(fd)
            continue
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        _held[where] = fd
        return
    raise ConfigError(key, f"{run_dir}: could not lock {path}")


def unlock(run_dir: Path) -> None:
    """Give up this process's lock on ``run_dir`` (if it holds it): the lock file removed while still
    locked, so a process that opened it meanwhile finds it gone and takes a new one (``claim``)."""
    fd = _held.pop(run_dir.resolve(), None)
    if fd is None:
        return
    try:
        (run_dir / LOCK).unlink(missing_ok=True)
    finally:
        os.close(fd)  # the lock goes with the last descriptor


def _forget_locks() -> None:
    """In a child forked from this process (a worker): close its copies of the lock files without
    unlocking, so the lock is the parent's alone and ends with it, not with the last worker to exit."""
    for fd in _held.values():
        with contextlib.suppress(OSError):
            os.close(fd)
    _held.clear()


os.register_at_fork(after_in_child=_forget_locks)


def running_pid(run_dir: Path) -> int | None:
    """The PID of the live process holding ``run_dir``'s lock (0 if it wrote none yet), or None if no
    process holds it: a lock file left by a process that is gone is free."""
    if run_dir.resolve() in _held:
        return os.getpid()
    try:
        fd = os.open(run_dir / LOCK, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _pid_in(run_dir / LOCK)
    except OSError:
        return None
    finally:
        os.close(fd)  # and with it the look's own shared lock
    return None


def _pid_in(path: Path) -> int:
    """The PID a lock file holds, 0 if it holds none."""
    try:
        return int(path.read_text().strip() or 0)
    except (OSError, ValueError):
        return 0


def _held_by(run_dir: Path) -> str:
    """Why ``run_dir`` cannot be claimed: the process holding it, and how to clear a lock the user is
    sure is wrong."""
    pid = running_pid(run_dir)
    who = f"process {pid}" if pid else "another process"
    lock = run_dir / LOCK
    return (
        f"{run_dir} is being run by {who}, which holds {lock}; wait for it or stop it (if you are sure no "
        f"process is running it, delete {lock} and try again)"
    )


def _auto_rule(a: AutoRule, spec: SystemSpec) -> tuple[Precision, str, str]:
    """The precision ``run.replications=auto`` asks for, on which metric at which month (checked)."""
    check_metric("run.auto.metric", a.metric, spec)
    month = a.month or spec.calendar.labels[-1]
    if month not in spec.calendar.labels:
        raise ConfigError(
            "run.auto.month",
            f"'{month}' is not a month of the run ({spec.calendar.labels[0]} to {spec.calendar.labels[-1]})",
        )
    rule = Precision(confidence=a.confidence, half_width=a.half_width, relative=a.relative, minimum=a.minimum)
    return rule, a.metric, month


def _first_round(rule: Precision, step: int, maximum: int) -> int:
    """Enough replications for the rule to answer at its minimum, in whole rounds."""
    need = rule.minimum + look_ahead(rule.minimum)
    return min(maximum, step * -(-need // step))


def _values(
    frame: pd.DataFrame | None, run_dir: Path | None, metric: str, month: str, first: int, chunk_size: int
) -> np.ndarray:
    """The metric at the month for replications from ``first`` (a whole number of chunks) on, in
    replication order: from ``frame``, or else from those chunks' files."""
    if frame is None:
        assert run_dir is not None, "replications not kept in memory were written to a run directory"
        frame = read_chunks(run_dir, columns=["replication", "month", metric], first_chunk=first // chunk_size)
    rows = frame[(frame["month"] == month) & (frame["replication"] >= first)].sort_values("replication")
    return rows[metric].to_numpy(dtype=np.float64)


def _rule_record(rule: Precision, metric: str, month: str, values: np.ndarray, answer: int | None) -> dict:
    n = answer or len(values)
    return {
        "method": "Hoad, Robinson and Davies (2010) replications algorithm",
        "metric": metric,
        "month": month,
        "target": rule.describe(),
        "answer": answer,
        "replications_run": len(values),
        "mean": float(np.mean(values[:n])),
        "half_width": float(half_widths(values[:n], rule.confidence)[-1]),
        "reached": answer is not None,
    }


def _say_rule(rec: dict, show: bool) -> None:
    """Tell the user what auto decided; always when the target was not reached."""
    if rec["reached"]:
        if show:
            logger.info(
                f"run.replications=auto: {rec['answer']} replications give {rec['metric']} at {rec['month']} "
                f"{rec['mean']:.4g} +/- {rec['half_width']:.3g} ({rec['target']}); "
                f"{rec['replications_run']} were run and all are used"
            )
    else:
        logger.warning(
            f"warning: run.replications=auto stopped at run.auto.maximum={rec['replications_run']} without "
            f"reaching {rec['target']} for {rec['metric']} at {rec['month']} (half-width "
            f"{rec['half_width']:.3g} around {rec['mean']:.4g}); raise run.auto.maximum or relax the target"
        )


def _write_manifest(run_dir: Path, manifest: dict) -> None:
    """Write the manifest whole or not at all (a temporary file renamed over it): a full disk leaves the
    last good manifest, so the run can still be resumed."""
    temporary = run_dir / "manifest.json.tmp"
    temporary.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(temporary, run_dir / "manifest.json")


def _job_overrides() -> list[str] | None:
    """This job's own command-line overrides when Hydra runs it (in a sweep, argv is the whole sweep's)."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return None
    return list(HydraConfig.get().overrides.task)


def versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version("tcp-sim" if name == "sim" else name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit() -> str:
    """The project's commit, with '+dirty' when the work tree has changes; 'unknown' outside git."""
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
        # tracked files only: the untracked outputs, environments and notebooks of a user's clone do not
        # change the code that ran
        status = ["git", "status", "--porcelain", "--untracked-files=no"]
        dirty = subprocess.run(status, cwd=root, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    if head.returncode != 0:
        return "unknown"
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
