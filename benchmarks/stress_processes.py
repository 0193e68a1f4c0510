"""Stress the run's processes (issue 16, point 1): many Ctrl-Cs at random moments and many killed workers,
counting what the issue asks never to happen.

    python benchmarks/stress_processes.py [--quick] [--ctrl-c 50] [--kills 20] [--resumes 3]

Each trial starts ``python -m sim run.replications=2000 run.workers=2 run.chunk_size=20 run.years=10`` as a
terminal starts a foreground job (its own process group, SIGINT at its default: tests/e2e/test_processes.py)
in a new directory, then either sends SIGINT to the whole group (Ctrl-C) at a random moment 2 to 6 s in, or,
once the run has written a chunk, kills one worker with SIGKILL (as the out-of-memory killer would). It
counts:

- hangs: no exit within ``--hang`` seconds (10) of the signal (the group is then killed);
- exit statuses (130 after Ctrl-C, 3 after a lost worker, 0 if the run finished first);
- tracebacks on stderr, and runs whose last line does not give the resume command;
- leftover processes of the run one second after it exited;
- resumes: for the first ``--resumes`` trials of each kind that kept a chunk, ``run.resume`` completes
  and its bands (summary.csv) equal those of one uninterrupted run of the same command.

It prints the counts and writes ``trials.csv`` (one row a trial) into a new directory
``outputs/benchmarks/stress/<time>/``; the last line printed is machine readable (JSON). ``--quick`` is 3
Ctrl-Cs, 2 worker kills and one resume of each (tests/e2e/test_processes.py runs it).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RUN = ["run.replications=2000", "run.workers=2", "run.chunk_size=20", "run.years=10", "run.progress=false"]


def start(out: Path, args: list[str] | None = None) -> subprocess.Popen:
    """The run as a terminal's foreground job: its own process group, SIGINT at its default."""

    def foreground() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.setsid()

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "sim", *(args if args is not None else RUN), f"hydra.run.dir={out}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=foreground,
    )


def processes_of(out: Path) -> list[str]:
    """PIDs of any process still running this run (matched by its run directory on the command line)."""
    found = subprocess.run(["pgrep", "-f", f"hydra.run.dir={out}"], capture_output=True, text=True)
    return found.stdout.split()


def chunks_of(out: Path) -> int:
    return len(list((out / "replications").glob("chunk-*.parquet")))


def wait_for_chunk(out: Path, p: subprocess.Popen, timeout: float = 60.0) -> bool:
    t = time.time()
    while time.time() - t < timeout and p.poll() is None:
        if chunks_of(out):
            return True
        time.sleep(0.1)
    return False


def finish(p: subprocess.Popen, hang: float) -> tuple[int | None, float, str]:
    """Wait up to ``hang`` seconds for the run to exit: (exit status or None if it hung, seconds, stderr)."""
    t = time.perf_counter()
    try:
        _, err = p.communicate(timeout=hang)
        return p.returncode, time.perf_counter() - t, err
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        _, err = p.communicate()
        return None, time.perf_counter() - t, err


def trial(kind: str, out: Path, rng: random.Random, hang: float) -> dict[str, object]:
    """One Ctrl-C (``ctrl-c``) or one killed worker (``kill-worker``), and what came of it."""
    p = start(out)
    started = time.perf_counter()
    delay = rng.uniform(2.0, 6.0)
    if kind == "ctrl-c":
        while time.perf_counter() - started < delay and p.poll() is None:
            time.sleep(0.02)
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGINT)
    else:
        wait_for_chunk(out, p)
        time.sleep(rng.uniform(0.0, 2.0))  # a different moment of the run each time
        workers = subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True, text=True).stdout.split()
        if workers and p.poll() is None:
            os.kill(int(rng.choice(workers)), signal.SIGKILL)
    signalled = time.perf_counter() - started
    code, took, err = finish(p, hang)
    time.sleep(1.0)
    left = processes_of(out)
    for pid in left:  # never leave them running; counted above
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGKILL)
    lines = [line for line in err.splitlines() if line.strip()]
    manifest = out / "manifest.json"
    status = json.loads(manifest.read_text()).get("status") if manifest.is_file() else ""
    return {
        "kind": kind,
        "signal_at_s": round(signalled, 2),
        "exit": "hang" if code is None else code,
        "exit_s": round(took, 2),
        "traceback": "Traceback (most recent call last)" in err,
        "resume_line": bool(lines) and "run.resume=" in lines[-1],
        "leftover": len(left),
        "chunks": chunks_of(out),
        "status": status,
        "last_line": (lines[-1] if lines else "")[:200],
        "resumed": "",
        "bands_equal": "",
        "dir": str(out),
    }


def resume(out: Path, reference: pd.DataFrame, timeout: float = 600.0) -> tuple[bool, bool]:
    """Complete an interrupted run: (it completed, its bands equal the uninterrupted run's)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.run(
        [sys.executable, "-m", "sim", f"run.resume={out}", "run.progress=false"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if p.returncode != 0 or not (out / "summary.csv").is_file():
        return False, False
    return True, same_bands(pd.read_csv(out / "summary.csv"), reference)


def same_bands(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return False
    keys = ["month", "metric"]
    a, b = a.sort_values(keys).reset_index(drop=True), b.sort_values(keys).reset_index(drop=True)
    if not a[keys].equals(b[keys]):
        return False
    values = [c for c in a.columns if c not in keys]
    return bool(np.allclose(a[values].to_numpy(float), b[values].to_numpy(float), rtol=1e-12, atol=0, equal_nan=True))


def new_output_dir(given: Path | None = None) -> Path:
    out = given or ROOT / "outputs" / "benchmarks" / "stress" / time.strftime("%Y-%m-%d_%H-%M-%S")
    out.mkdir(parents=True, exist_ok=False)  # a new directory: never one of the user's
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 Ctrl-Cs, 2 worker kills, one resume of each")
    parser.add_argument("--ctrl-c", type=int, default=50)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--resumes", type=int, default=3, help="trials of each kind resumed and compared")
    parser.add_argument("--hang", type=float, default=10.0, help="seconds after the signal that count as a hang")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--out", type=Path, help="the new directory for the table (it must not exist)")
    args = parser.parse_args(argv)
    out = new_output_dir(args.out)  # made first: a directory that exists is refused before any trial
    if args.quick:
        args.ctrl_c, args.kills, args.resumes = 3, 2, 1
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="stress-"))
    rows: list[dict[str, object]] = []
    try:
        kinds = ["ctrl-c"] * args.ctrl_c + ["kill-worker"] * args.kills
        for i, kind in enumerate(kinds):
            row = trial(kind, work / f"{i:03d}-{kind}", rng, args.hang)
            rows.append(row)
            print(
                f"{i + 1}/{len(kinds)} {kind:<11} at {row['signal_at_s']:>5} s: exit {row['exit']} in "
                f"{row['exit_s']} s, {row['chunks']} chunks, {row['leftover']} left over"
                f"{', TRACEBACK' if row['traceback'] else ''}",
                flush=True,
            )
        chosen = []
        for kind in ("ctrl-c", "kill-worker"):
            kept = [r for r in rows if r["kind"] == kind and r["exit"] != 0 and int(str(r["chunks"])) > 0]
            chosen += kept[: args.resumes]
        if chosen:
            ref_dir = work / "uninterrupted"
            p = start(ref_dir)
            p.communicate(timeout=900)
            reference = pd.read_csv(ref_dir / "summary.csv")
            for row in chosen:
                row["resumed"], row["bands_equal"] = resume(Path(str(row["dir"])), reference)
                print(f"resumed {row['dir']}: completed {row['resumed']}, bands equal {row['bands_equal']}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    counts = {
        "trials": len(rows),
        "ctrl_c": sum(r["kind"] == "ctrl-c" for r in rows),
        "worker_kills": sum(r["kind"] == "kill-worker" for r in rows),
        "hangs": sum(r["exit"] == "hang" for r in rows),
        "tracebacks": sum(bool(r["traceback"]) for r in rows),
        "leftover_processes": sum(int(str(r["leftover"])) for r in rows),
        # a run stopped once its directory held a run, whose last line does not say how to complete it
        "no_resume_line": sum(
            bool(r["exit"] not in (0, "hang") and r["status"] and not r["resume_line"]) for r in rows
        ),
        "stopped_with_chunks": sum(r["exit"] not in (0, "hang") and int(str(r["chunks"])) > 0 for r in rows),
        "exits": dict(Counter(f"{r['kind']}:{r['exit']}" for r in rows)),
        "max_exit_s": max((float(str(r["exit_s"])) for r in rows if r["exit"] != "hang"), default=0.0),
        "resumed": sum(r["resumed"] is True for r in rows),
        "resume_failed": sum(r["resumed"] is False for r in rows),
        "bands_equal": sum(r["bands_equal"] is True for r in rows),
        "bands_differ": sum(r["resumed"] is True and r["bands_equal"] is False for r in rows),
    }
    with open(out / "trials.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=[k for k in rows[0] if k != "dir"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    print(f"table in {out}/trials.csv")
    print(json.dumps(counts))
    bad = (
        counts["hangs"]
        + counts["tracebacks"]
        + counts["leftover_processes"]
        + counts["resume_failed"]
        + counts["no_resume_line"]
        + counts["bands_differ"]
    )
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
