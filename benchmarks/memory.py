"""Peak memory of a whole run as replications grow: python benchmarks/memory.py [--quick].

Runs ``python -m sim`` (BHR, 3 years, at 1,000 and 20,000 replications; the south-east hub, many per-TCP
columns, at 1,000 and 5,000) each in a fresh child process writing into a temporary directory, and reads
that child's peak resident memory from ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` (a fresh
measuring process per run, so one run's peak never hides the next one's). The simulation itself holds
at a few hundred MB; what grows with replications is whatever is read back from the chunk files to
publish (bands, milestones, charts, report), so the ratio of the largest run to 1,000 replications is
the check of flat memory (issue 16, point 8: within 20%).

A benchmark, not a timed test: 20,000 BHR replications take a few minutes on this 2-core machine. The
last line is machine readable (JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS: dict[str, list[str]] = {"bhr": ["tcp=bhr", "run.years=3"], "hub": ["system=south_east_hub"]}


def measure(overrides: list[str]) -> tuple[float, float]:
    """Peak resident memory (MB) and wall time (s) of ``python -m sim`` with ``overrides``, run by a
    fresh Python process that does nothing else, so RUSAGE_CHILDREN is that run's alone."""
    with tempfile.TemporaryDirectory() as tmp:
        args = [*overrides, "run.progress=false", f"hydra.run.dir={tmp}/run"]
        probe = (
            "import resource, subprocess, sys, time; t = time.perf_counter(); "
            f"subprocess.run([sys.executable, '-m', 'sim', *{args!r}], check=True, "
            "stdout=subprocess.DEVNULL); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, time.perf_counter() - t)"
        )
        # cwd is the temporary directory: python -m puts it first on sys.path, so PYTHONPATH chooses the code
        env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", str(ROOT))}
        command = [sys.executable, "-c", probe]
        out = subprocess.run(command, check=True, capture_output=True, text=True, env=env, cwd=tmp)
    kb, seconds = out.stdout.split()
    return int(kb) / 1024, float(seconds)  # ru_maxrss is in kB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 and 1,000 replications (a smoke run)")
    parser.add_argument("--only", choices=sorted(RUNS), help="one system only")
    args = parser.parse_args()
    plan = {"bhr": (100, 1000), "hub": (100, 500)} if args.quick else {"bhr": (1000, 20000), "hub": (1000, 5000)}
    result: dict[str, float] = {}
    for name, (small, large) in plan.items():
        if args.only and name != args.only:
            continue
        peaks = {}
        for n in (small, large):
            mb, seconds = measure([*RUNS[name], f"run.replications={n}"])
            peaks[n] = mb
            result[f"{name}_{n}_peak_mb"] = round(mb, 1)
            print(f"{name:4s} {n:>7,} replications  peak {mb:7.1f} MB  ({seconds:.0f} s)", flush=True)
        ratio = peaks[large] / peaks[small]
        result[f"{name}_ratio_{large}_{small}"] = round(ratio, 3)
        print(f"{name:4s} peak at {large:,} / at {small:,} = {ratio:.2f}", flush=True)
    result["unix_time"] = round(time.time())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
