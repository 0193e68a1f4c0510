"""Collect a sweep: every run of a Hydra multirun in one tidy table and one comparison chart (issue 5, point 4).

    python -m sim -m scenario=baseline,full_ctr_coverage,faster_funding               # the sweep (one by one)
    python -m sim -m hydra/launcher=workstation tcp.ctr.coverage=0.6,0.8,1.0          # or 2 jobs at once
    python experiments/collect.py sweep=outputs/multirun/<date>/<time>                # -> <that dir>/collected/
    python experiments/collect.py sweep=outputs/multirun/<date>/<time> metric=admissions out=outputs/admissions

A Hydra app like the others (config: configs/collect.yaml); it writes nothing but its results. Writes,
into a new directory (default ``<multirun dir>/collected``; an existing one is refused):

- ``sweep.parquet``, ``sweep.csv``: one row a job x month x metric (summary.csv's mean, p05 ... p95),
  with ``job``, ``label``, a column per swept override key, ``system``, ``scenario``, ``seed``, ``replications``;
- ``sweep_trajectory.csv``: each job's trajectory.csv rows (plan, P(at or under), bands), same columns;
- ``sweep.png``: the metric's median and 90% band for every job over the months, with the plan;
- ``collect.json``: the sweep directory, the jobs collected, those left out (and why) and those that never
  started, each with the command that completes it.

Jobs that are not complete (still running, interrupted, refused) and jobs multirun.yaml lists that never
started are left out and named, each with the command that completes it (``python -m sim run.resume=...``
for a started run, the job's own ``python -m sim ... hydra.run.dir=<its dir>`` otherwise); the rest are
collected. A directory that is not a multirun, has no complete job, or lacks the metric ends with one
line and exit status 2. The functions are in sim/sweep.py, for notebooks.

Before issue 14 the command line was ``collect.py <dir> [--metric M] [--out DIR]``; given so, it says the
new form and exits 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from sim.cli import run_entry
from sim.config import CONFIG_DIR
from sim.config.errors import EXIT_USER_ERROR
from sim.sweep import CollectConfig, SweepError, collect

USAGE = "python experiments/collect.py sweep=<multirun dir> [metric=<metric>] [out=<new dir>]"


ConfigStore.instance().store(name="collect_schema", node=CollectConfig)  # configs/collect.yaml's schema


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="collect")
def _hydra_main(cfg: DictConfig) -> None:
    try:
        if OmegaConf.is_missing(cfg, "sweep"):
            raise SweepError(f"give the multirun directory: {USAGE}")
        result = collect(Path(cfg.sweep), out=None if cfg.out is None else Path(cfg.out), metric=cfg.metric)
    except SweepError as e:  # one line, exit 2, here: raising would have Hydra print its own report first
        print(f"collect: {e}", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)
    for job_dir, reason in result.sweep.skipped:
        print(f"skipped {job_dir.relative_to(result.sweep.root)}: {reason}", file=sys.stderr)
    for num, job_dir, command in result.sweep.never_started:
        print(
            f"never started: job {num} ({job_dir.relative_to(result.sweep.root)}); run it with: {command}",
            file=sys.stderr,
        )
    swept = ", ".join(result.sweep.swept) or "nothing"
    left = len(result.sweep.skipped)
    never = len(result.sweep.never_started)
    print(
        f"collected {len(result.sweep.jobs)} jobs (swept: {swept}; {left} skipped, {never} never started) "
        f"into {result.out}: {', '.join(f.name for f in result.files)}"
    )


def old_usage(argv: list[str]) -> str | None:
    """The line for a command line of the old form (``collect.py <dir> --metric M --out DIR``), else None."""
    if not any(a in ("--metric", "--out") or not (a.startswith("-") or "=" in a) for a in argv):
        return None
    given = next((a for a in argv if not a.startswith("-") and "=" not in a), "<dir>")
    return f"collect: the command line is now key=value, as every app's: {USAGE} (e.g. sweep={given})"


def main(argv: list[str] | None = None) -> int:
    """Collect the sweep the command line (``argv``, default sys.argv[1:]) names; a user error (not a sweep,
    nothing complete, an unknown metric, the old form of the command) is one line, exit 2."""
    args = sys.argv[1:] if argv is None else list(argv)
    line = old_usage(args)
    if line is not None:
        print(line, file=sys.stderr)
        return EXIT_USER_ERROR
    saved = sys.argv
    sys.argv = [saved[0] if argv is None else str(Path(__file__)), *args]  # Hydra reads its own command line
    try:
        return run_entry(_hydra_main, user_errors={SweepError: "collect"})
    except SystemExit as e:  # the app's own exit (a user's error: its line is printed)
        return e.code if isinstance(e.code, int) else 1
    finally:
        sys.argv = saved


if __name__ == "__main__":
    sys.exit(main())
