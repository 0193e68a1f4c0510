"""One process a run directory (issue 16): a run or resume holds the directory's lock (flock on its .lock)
for as long as it runs; a second run or resume at once is refused with one line naming the directory
and the process; the kernel frees the lock of a process however it ends, so nothing it left behind
blocks a resume."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim import api

ROOT = Path(__file__).resolve().parents[2]


def sim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sim", *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def holding(process: subprocess.Popen, run_dir: Path, wrote: str = "", timeout: float = 120) -> None:
    """Wait until ``process`` holds ``run_dir``'s lock (and has written the file ``wrote`` there), then stop
    it (SIGSTOP): still alive, holding the lock."""
    end = time.monotonic() + timeout
    while api.running_pid(run_dir) != process.pid or (wrote and not (run_dir / wrote).exists()):
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < end, "the run never took its directory's lock"
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGSTOP)


def refused(p: subprocess.CompletedProcess, line: str) -> None:
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(line), p.stderr


@pytest.mark.slow
def test_two_runs_or_two_resumes_of_one_directory_at_once_the_second_is_refused(tmp_path):
    out = tmp_path / "run"
    args = ("run.replications=40", "run.chunk_size=2", "run.years=1", "run.progress=false")
    first = start(*args, f"hydra.run.dir={out}")
    try:
        holding(first, out, wrote="replications/chunk-00000.parquet")
        refused(sim(f"run.resume={out}"), f"config error: run.resume: {out} is being run by process {first.pid}")
        refused(
            sim(*args, f"hydra.run.dir={out}"),
            f"config error: hydra.run.dir: {out} is being run by process {first.pid}",
        )
        # killed while it holds the lock (kill -9, the OOM killer): its lock file stays, naming it, but is free
        first.kill()
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    assert (out / ".lock").read_text().strip() == str(first.pid)
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    resume = start(f"run.resume={out}", "run.progress=false")
    try:
        holding(resume, out)
        second = sim(f"run.resume={out}")
        refused(second, f"config error: run.resume: {out} is being run by process {resume.pid}")
        assert f"delete {out / '.lock'} and try again" in second.stderr
        os.kill(resume.pid, signal.SIGCONT)
        assert resume.wait(timeout=300) == 0, resume.stderr.read() if resume.stderr else ""
    finally:
        if resume.poll() is None:
            resume.kill()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["replications_done"] == 40
    assert not (out / ".lock").exists()


def lock_is_free(path: Path) -> bool:
    """Whether another process could take the lock on ``path`` now."""
    probe = "import fcntl, sys; f = open(sys.argv[1]); fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)"
    return subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True).returncode == 0


def test_a_process_claims_its_directory_once_and_gives_it_back(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    api.claim(out)
    api.claim(out)  # this process holds it already: a no-op, not a refusal
    assert api.running_pid(out) == os.getpid()
    assert not lock_is_free(out / ".lock")
    api.unlock(out)
    assert not (out / ".lock").exists() and api.running_pid(out) is None


def test_a_forked_child_does_not_keep_the_lock_held(tmp_path):
    """A worker forked while the run holds its lock (a process pool's) inherits the lock file's descriptor;
    if it kept it, the lock would outlive the run until the last worker exited. Here the run's process
    lets go (as one that ends does: the file stays) and the lock is free while its forked child lives."""
    out = tmp_path / "run"
    out.mkdir()
    api.claim(out)
    child = os.fork()
    if child == 0:  # pragma: no cover - the child only waits
        time.sleep(5)
        os._exit(0)
    try:
        fd = api._held.pop(out.resolve())  # let go without removing the file, as a process that ends does
        os.close(fd)
        assert lock_is_free(out / ".lock")
    finally:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)


def test_a_lock_held_by_another_process_is_refused_with_how_to_clear_it(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    with open(out / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write("4242\n")
        held.flush()
        with pytest.raises(api.ConfigError) as e:
            api.claim(out, "out_dir")
        assert api.running_pid(out) == 4242
    assert str(e.value).startswith(f"out_dir: {out} is being run by process 4242, which holds {out / '.lock'}")
    assert f"delete {out / '.lock'} and try again" in str(e.value)
    assert api.running_pid(out) is None  # the holder let go: free, whatever PID the file names
    api.claim(out)
    assert (out / ".lock").read_text() == f"{os.getpid()}\n"
    api.unlock(out)
