"""Runs with worker processes never hang and never leave processes behind (issue 16, point 1): Ctrl-C to
the terminal's process group, a worker killed (as the OOM killer would), the parent killed with -9. The
run is started as a terminal starts a foreground job: its own process group, SIGINT at its default."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LONG = ["run.replications=40000", "run.workers=2", "run.chunk_size=20", "run.years=10", "run.progress=false"]


def start(out: Path) -> subprocess.Popen:
    def foreground() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # a shell's background job would ignore it
        os.setsid()

    return subprocess.Popen(
        [sys.executable, "-m", "sim", *LONG, f"hydra.run.dir={out}"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=foreground,
    )


def wait_for_chunks(out: Path, p: subprocess.Popen, timeout: float = 60) -> None:
    """Until the run has written a chunk (the workers are busy)."""
    t = time.time()
    while time.time() - t < timeout and p.poll() is None:
        if list((out / "replications").glob("chunk-*.parquet")):
            return
        time.sleep(0.2)
    raise AssertionError("the run wrote no chunk")


def left_behind(out: Path) -> list[str]:
    return subprocess.run(["pgrep", "-f", f"hydra.run.dir={out}"], capture_output=True, text=True).stdout.split()


@pytest.mark.slow
@pytest.mark.parametrize("attempt", range(3))
def test_ctrl_c_to_the_process_group_stops_the_run_at_once_and_keeps_its_chunks(tmp_path, attempt):
    out = tmp_path / "run"
    p = start(out)
    wait_for_chunks(out, p)
    time.sleep(0.5 * attempt)  # a different moment of the run each time
    os.killpg(p.pid, signal.SIGINT)
    try:
        _, err = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        raise AssertionError("the run hung after Ctrl-C") from None
    assert p.returncode == 130, err
    assert "complete the run with: python -m sim run.resume=" in err
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    time.sleep(1)
    assert left_behind(out) == []


@pytest.mark.slow
def test_a_killed_worker_ends_the_run_with_the_resume_command(tmp_path):
    out = tmp_path / "run"
    p = start(out)
    wait_for_chunks(out, p)
    worker = subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True, text=True).stdout.split()[0]
    os.kill(int(worker), signal.SIGKILL)
    try:
        _, err = p.communicate(timeout=25)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        raise AssertionError("the run hung after its worker was killed") from None
    assert p.returncode == 3, err
    assert err.strip().splitlines()[-1].startswith("a worker process stopped") and "run.resume=" in err
    time.sleep(1)
    assert left_behind(out) == []


@pytest.mark.slow
def test_workers_of_a_killed_parent_exit_within_seconds(tmp_path):
    out = tmp_path / "run"
    p = start(out)
    wait_for_chunks(out, p)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    t = time.time()
    while left_behind(out) and time.time() - t < 5:
        time.sleep(0.2)
    assert left_behind(out) == []


@pytest.mark.slow
def test_the_quick_stress_of_ctrl_c_and_killed_workers_finds_nothing_wrong(tmp_path):
    """benchmarks/stress_processes.py --quick: 3 Ctrl-Cs at random moments, 2 workers killed, one resume of
    each kind against an uninterrupted run: no hang, traceback, leftover process or failed resume."""
    p = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "stress_processes.py"), "--quick", "--out", str(tmp_path / "t")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    counts = json.loads(p.stdout.strip().splitlines()[-1])
    assert counts["trials"] == 5 and counts["ctrl_c"] == 3 and counts["worker_kills"] == 2
    for bad in ("hangs", "tracebacks", "leftover_processes", "no_resume_line", "resume_failed", "bands_differ"):
        assert counts[bad] == 0, (bad, p.stdout)
    assert counts["resumed"] >= 1 and counts["bands_equal"] == counts["resumed"]
    assert p.returncode == 0, p.stdout + p.stderr
    assert (tmp_path / "t" / "trials.csv").is_file()
