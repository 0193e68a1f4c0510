"""Collect a sweep: every run of a Hydra multirun in one tidy table and one comparison chart (issue 5, point 4).

    python -m sim -m scenario=baseline,full_ctr_coverage,faster_funding               # the sweep (one by one)
    python -m sim -m hydra/launcher=workstation tcp.ctr.coverage=0.6,0.8,1.0          # or 2 jobs at once
    python experiments/collect.py outputs/multirun/<date>/<time>                      # -> <that dir>/collected/
    python experiments/collect.py outputs/multirun/<date>/<time> --metric admissions --out outputs/admissions

Writes, into a new directory (default ``<multirun dir>/collected``; an existing one is refused):

- ``sweep.parquet``, ``sweep.csv``: one row a job x month x metric (summary.csv's mean, p05 ... p95),
  with ``job``, ``label``, a column per swept override key, ``system``, ``scenario``, ``seed``, ``replications``;
- ``sweep_trajectory.csv``: each job's trajectory.csv rows (plan, P(at or under), bands), same columns;
- ``sweep.png``: the metric's median and 90% band for every job over the months, with the plan;
- ``collect.json``: the sweep directory, the jobs collected and those left out, and why.

Jobs that are not complete (still running, interrupted, refused) are left out and listed; the rest are
collected. A directory that is not a multirun, has no complete job, or lacks the metric ends with one
line and exit status 2. The functions are in sim/sweep.py, for notebooks.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli import run_entry
from sim.sweep import SweepError, collect


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, collect the sweep, say what was written and what was left out; a user
    error (not a sweep, nothing complete, an unknown metric) is one line, exit 2 (``sim.cli.run_entry``)."""
    parser = argparse.ArgumentParser(
        description="Gather every run of a `python -m sim -m ...` sweep into one "
        "table (Parquet and CSV) and a comparison chart."
    )
    parser.add_argument("sweep_dir", type=Path, help="the multirun directory (it holds multirun.yaml)")
    parser.add_argument("--metric", default="inpatients", help="metric to chart (default: inpatients)")
    parser.add_argument(
        "--out", type=Path, default=None, help="new directory for the results (default: <sweep_dir>/collected)"
    )
    args = parser.parse_args(argv)
    return run_entry(lambda: _collect(args), user_errors={SweepError: "collect"})


def _collect(args: argparse.Namespace) -> int:
    result = collect(args.sweep_dir, out=args.out, metric=args.metric)
    for job_dir, reason in result.sweep.skipped:
        print(f"skipped {job_dir.relative_to(result.sweep.root)}: {reason}", file=sys.stderr)
    swept = ", ".join(result.sweep.swept) or "nothing"
    print(
        f"collected {len(result.sweep.jobs)} jobs (swept: {swept}; {len(result.sweep.skipped)} skipped) "
        f"into {result.out}: {', '.join(f.name for f in result.files)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
