"""Gather the runs of a Hydra sweep (``python -m sim -m ...``) into one tidy table and a comparison chart.

A multirun directory holds Hydra's ``multirun.yaml`` and one directory a job, each a complete run
directory (manifest.json, summary.csv, trajectory.csv, ...) with Hydra's record of the job's overrides in
``.hydra/overrides.yaml``. ``load_sweep`` finds the jobs, keeps the complete ones and says why it left the
others out (still running, interrupted, refused); ``summary_table`` and ``trajectory_table`` stack their
tables with one column per swept override key, so a sweep reads as one DataFrame;
``sim.plots.sweep.sweep_chart`` draws a metric's median and 90% band for every job over the plan;
``collect`` writes all of it.

From Python (notebooks)::

    from sim.sweep import load_sweep, summary_table
    sweep = load_sweep("outputs/multirun/2026-11-23/16-39-40.123456")
    table = summary_table(sweep)                       # job x month x metric, a column per swept key
    table.query("metric == 'inpatients' and month == '2019-03'")[["label", "p05", "p50", "p95"]]

From the command line: ``python experiments/collect.py sweep=<multirun dir> [metric=M] [out=DIR]``.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import MISSING, OmegaConf

from sim.api import resume_command, running_pid
from sim.config.errors import SweepError
from sim.config.provenance import override_word
from sim.config.store import plain

#: Columns every row of the tables carries before the swept keys and the run's own columns.
ID_COLUMNS = ["job", "label"]
RUN_COLUMNS = ["system", "scenario", "seed", "replications"]
OUTPUT_DIR = "collected"


@dataclass
class CollectConfig:
    """The keys of configs/collect.yaml (experiments/collect.py; what they mean is there)."""

    sweep: str = MISSING
    metric: str = "inpatients"
    out: str | None = None


@dataclass
class Job:
    """One complete job of a sweep: its directory, number, overrides (key -> value) and manifest."""

    dir: Path
    num: int
    overrides: dict[str, Any]
    override_text: dict[str, str]  # key -> the override as typed, e.g. "tcp.ctr.coverage=0.5"
    manifest: dict[str, Any]


@dataclass
class Sweep:
    """The jobs of a multirun directory: the complete ones, the ones left out (and why), the swept keys."""

    root: Path
    jobs: list[Job]
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # (job dir, why, with the command that completes it)
    swept: list[str] = field(default_factory=list)
    never_started: list[tuple[int, Path, str]] = field(default_factory=list)  # (job number, its dir, command)

    def label(self, job: Job) -> str:
        """A job's name on a chart: its swept overrides (or its number when nothing was swept)."""
        parts = [job.override_text[k] for k in self.swept if k in job.override_text]
        return ", ".join(parts) if parts else f"job {job.num}"


def _parse(overrides: list[str]) -> list[Any]:
    return OverridesParser.create().parse_overrides(overrides=[str(o) for o in overrides])


def sweep_jobs(task: list[str]) -> list[list[str]]:
    """The jobs a multirun of the task overrides ``task`` launches, each its overrides, in Hydra's order
    (``hydra.job.num``): Hydra's basic sweeper's own expansion (every launcher takes its jobs from it)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    return [list(job) for job in BasicSweeper.split_arguments(_parse(task), None)[0]]


def swept_part(jobs: list[list[str]], job: list[str]) -> list[str]:
    """The overrides of ``job`` that differ between the jobs (what names it), or all of them if none do."""
    varies = [o for o in job if sum(o in other for other in jobs) < len(jobs)]
    return varies or job


def _value(o: Any) -> Any:
    """An override's value as a table cell: numbers stay numbers, anything nested becomes its text."""
    v = o.value()
    return o.get_value_element_as_str() if isinstance(v, (list, dict)) else v


def _job_overrides(job_dir: Path) -> tuple[dict[str, Any], dict[str, str]]:
    path = job_dir / ".hydra" / "overrides.yaml"
    if not path.is_file():
        return {}, {}
    texts = [str(t) for t in OmegaConf.to_container(OmegaConf.load(path), resolve=False) or []]
    values: dict[str, Any] = {}
    typed: dict[str, str] = {}
    for text, o in zip(texts, _parse(texts)):
        values[o.key_or_group] = _value(o)
        typed[o.key_or_group] = text
    return values, typed


def _job_num(job_dir: Path, fallback: int) -> int:
    """Hydra's job number (``hydra.job.num`` in .hydra/hydra.yaml), which orders the jobs as launched."""
    path = job_dir / ".hydra" / "hydra.yaml"
    try:
        return int(OmegaConf.load(path).hydra.job.num)
    except Exception:  # noqa: BLE001 - a missing or odd record only loses the order
        return fallback


def _swept_on_command_line(root: Path) -> list[str]:
    """The keys given as sweeps (a,b / range() / choice() ...) on the multirun's command line."""
    cfg = OmegaConf.load(root / "multirun.yaml")
    task = plain(cfg, resolve=False).get("hydra", {}).get("overrides", {}).get("task", [])
    return [o.key_or_group for o in _parse(task or []) if o.is_sweep_override()]


def start_command(overrides: list[str], job_dir: Path) -> str:
    """The command that runs one job of a sweep on its own, into its job directory (as the sweep would have),
    as a user can paste it into a shell."""
    return " ".join(
        ["python -m sim", *(shlex.quote(o) for o in overrides), override_word("hydra.run.dir", str(job_dir))]
    )


def planned_jobs(root: Path) -> list[tuple[int, list[str], Path]]:
    """Every job the sweep's multirun.yaml launches (its task overrides, expanded as Hydra's basic sweeper
    does): its number, overrides and the directory Hydra gives it (``hydra.sweep.subdir``). Empty when the
    record cannot be read that way (a sweeper of another kind)."""
    from hydra._internal.config_loader_impl import get_overrides_dirname

    try:
        cfg = OmegaConf.load(root / "multirun.yaml")
        task = [str(t) for t in OmegaConf.to_container(cfg.hydra.overrides.task, resolve=False) or []]
        naming = cfg.hydra.job.config.override_dirname
        jobs = sweep_jobs(task)
    except Exception:  # noqa: BLE001 - not a record this can expand: only the jobs found are listed
        return []
    out = []
    for num, job in enumerate(jobs):
        dirname = get_overrides_dirname(
            overrides=_parse(job),
            exclude_keys=list(naming.exclude_keys),
            item_sep=naming.item_sep,
            kv_sep=naming.kv_sep,
        )
        try:
            one = OmegaConf.create({"hydra": {"job": {"num": num, "override_dirname": dirname}}})
            written = OmegaConf.to_container(cfg.hydra.sweep, resolve=False)
            assert isinstance(written, dict)
            one.hydra.subdir = written["subdir"]  # as written, resolved here for this job
            subdir = str(one.hydra.subdir)
        except Exception:  # noqa: BLE001 - a subdir naming more than these: Hydra's default pattern
            subdir = f"{num}_{dirname}"
        out.append((num, job, root / subdir))
    return out


def _job_dirs(root: Path) -> list[Path]:
    """Directories under the sweep that hold a job: Hydra's record (.hydra/) or a run's manifest.json."""
    found = set()
    for marker in ("manifest.json", ".hydra"):
        for p in root.rglob(marker):
            rel = p.parent.relative_to(root).parts
            if p.parent != root and not any(part in (OUTPUT_DIR, ".submitit") for part in rel):
                found.add(p.parent)
    return sorted(found)


def _incomplete(job_dir: Path, start: str | None = None) -> str | None:
    """Why a job directory cannot be collected, with the command that completes it, or None if it holds a
    complete run; ``start`` is the command that runs the job afresh (for one whose run never started)."""
    try:
        manifest = json.loads((job_dir / "manifest.json").read_text())
    except FileNotFoundError:
        how = f"; run it with: {start}" if start else ""
        return f"no manifest.json (refused, or stopped before its run started){how}"
    except (OSError, ValueError) as e:
        return f"unreadable manifest.json ({e})"
    status = manifest.get("status")
    if status == "running" and running_pid(job_dir) is None:
        # its process is gone without a word: killed, or stopped with its pool when a sibling job failed
        status = "running, but its process is gone"
    if status != "complete":
        done = manifest.get("replications_done", "?")
        return (
            f"status {status} ({done} of {manifest.get('replications', '?')} replications); "
            f"complete it with: {resume_command(job_dir)}"
        )
    missing = [n for n in ("summary.csv", "trajectory.csv") if not (job_dir / n).is_file()]
    return f"missing {', '.join(missing)}" if missing else None


def load_sweep(root: str | Path) -> Sweep:
    """The complete jobs of a multirun directory, those left out with the reason, and the swept keys.

    Raises SweepError if ``root`` is not a Hydra multirun directory or holds no complete job.
    """
    root = Path(root)
    if not root.is_dir():
        raise SweepError(f"{root}: no such directory")
    if not (root / "multirun.yaml").is_file():
        raise SweepError(
            f"{root} is not a Hydra multirun directory (no multirun.yaml); "
            "give the directory a `python -m sim -m ...` sweep wrote"
        )
    planned = planned_jobs(root)
    start = {d.resolve(): start_command(o, d) for _, o, d in planned}
    jobs: list[Job] = []
    skipped: list[tuple[Path, str]] = []
    found = _job_dirs(root)
    for k, job_dir in enumerate(found):
        reason = _incomplete(job_dir, start.get(job_dir.resolve()))
        if reason:
            skipped.append((job_dir, reason))
            continue
        values, typed = _job_overrides(job_dir)
        manifest = json.loads((job_dir / "manifest.json").read_text())
        jobs.append(Job(job_dir, _job_num(job_dir, k), values, typed, manifest))
    seen = {d.resolve() for d in found}
    never = [(n, d, start_command(o, d)) for n, o, d in planned if d.resolve() not in seen]
    if not jobs:
        left = [f"{d.relative_to(root)}: {r}" for d, r in skipped]
        left += [f"job {n} never started; run it with: {c}" for n, _, c in never]
        raise SweepError(
            f"{root}: no complete job to collect ({len(skipped)} incomplete, {len(never)} never started): "
            + " | ".join(left)
        )
    jobs.sort(key=lambda j: (j.num, str(j.dir)))
    swept = _swept_on_command_line(root)
    keys = list(dict.fromkeys(k for j in jobs for k in j.overrides))
    swept += [k for k in keys if k not in swept and len({repr(j.overrides.get(k)) for j in jobs}) > 1]
    return Sweep(root, jobs, skipped, swept, never)


def _key_columns(sweep: Sweep) -> dict[str, str]:
    """The column of each swept key: the key itself, or ``override:<key>`` if the tables have a column of
    that name already (``scenario``), left out where it says the same as that column for every job."""
    own = ID_COLUMNS + RUN_COLUMNS + ["month", "metric"]
    columns = {}
    for k in sweep.swept:
        if k not in own:
            columns[k] = k
        elif any(str(j.overrides.get(k)) != str(j.manifest.get(k)) for j in sweep.jobs):
            columns[k] = f"override:{k}"
    return columns


def _stack(sweep: Sweep, name: str) -> pd.DataFrame:
    frames = []
    columns = _key_columns(sweep)
    for job in sweep.jobs:
        df = pd.read_csv(job.dir / name, dtype={"month": str})
        m = job.manifest
        ids: dict[str, Any] = {"job": job.num, "label": sweep.label(job)}
        for k, col in columns.items():
            ids[col] = job.overrides.get(k)
        ids.update(
            system=m.get("system"), scenario=m.get("scenario"), seed=m.get("seed"), replications=m.get("replications")
        )
        frames.append(df.assign(**ids)[list(ids) + list(df.columns)])
    table = pd.concat(frames, ignore_index=True)
    for col in columns.values():  # a key with values of several kinds (0.5, null, "high") is kept as text
        if table[col].dtype == object and len({type(v) for v in table[col].dropna()}) > 1:
            table[col] = table[col].map(lambda v: None if v is None else str(v))
    return table


def summary_table(sweep: Sweep) -> pd.DataFrame:
    """Every job's summary.csv stacked: one row a job x month x metric (mean, p05 ... p95)."""
    return _stack(sweep, "summary.csv")


def trajectory_table(sweep: Sweep) -> pd.DataFrame:
    """Every job's trajectory.csv stacked: one row a job x planned milestone."""
    return _stack(sweep, "trajectory.csv")


@dataclass
class Collected:
    """What ``collect`` wrote and what it left out."""

    out: Path
    files: list[Path]
    sweep: Sweep


def collect(root: str | Path, out: str | Path | None = None, metric: str = "inpatients") -> Collected:
    """Write the sweep's tables (sweep.parquet, sweep.csv, sweep_trajectory.csv), its chart of ``metric``
    (sweep.png) and collect.json into ``out`` (default <root>/collected), which must not exist yet:
    nothing is overwritten. Raises SweepError for a user's mistake, before anything is written."""
    sweep = load_sweep(root)
    out = Path(out) if out is not None else sweep.root / OUTPUT_DIR
    if out.exists():
        raise SweepError(f"{out} already exists; give --out a new path (nothing is overwritten)")
    summary = summary_table(sweep)
    trajectory = trajectory_table(sweep)
    if not (summary["metric"] == metric).any():
        some = ", ".join(sorted(summary["metric"].unique())[:12])
        raise SweepError(f"no metric '{metric}' in the sweep's summaries (some there: {some}, ...)")
    out.mkdir(parents=True)
    files = [out / n for n in ("sweep.parquet", "sweep.csv", "sweep_trajectory.csv", "sweep.png", "collect.json")]
    summary.to_parquet(files[0], index=False)
    summary.to_csv(files[1], index=False)
    trajectory.to_csv(files[2], index=False)
    from sim.plots.sweep import sweep_chart  # matplotlib loads only when the chart is drawn

    sweep_chart(summary, trajectory, metric, root=sweep.root, path=files[3])
    record = {
        "sweep_dir": str(sweep.root.resolve()),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "metric": metric,
        "swept": sweep.swept,
        "jobs": [
            {"job": j.num, "dir": str(j.dir.relative_to(sweep.root)), "label": sweep.label(j)} for j in sweep.jobs
        ],
        "skipped": [{"dir": str(d.relative_to(sweep.root)), "reason": r} for d, r in sweep.skipped],
        "never_started": [
            {"job": n, "dir": str(d.relative_to(sweep.root)), "command": c} for n, d, c in sweep.never_started
        ],
    }
    files[4].write_text(json.dumps(record, indent=2) + "\n")
    return Collected(out, files, sweep)
