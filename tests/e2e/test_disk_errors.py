"""A run that cannot write its files (issue 16, point 4): a full disk, a read-only or unwritable directory.
The user gets one line saying which file failed and why (the system's own words), that the finished
chunks are kept, and the command that completes the run; exit status 2, no traceback. The real cases run
on a small tmpfs (mounting needs root: skipped elsewhere); a disk that fills is also faked in a
subprocess (a ``sitecustomize`` whose Parquet writer raises ENOSPC), so the path is tested everywhere."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sim.api import RunDirectoryTaken, resume_command
from sim.cli import disk_error_line

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["run.years=1", "run.progress=false", "run.chunk_size=10"]


def sim(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env
    )


def a_run_dir(tmp_path: Path, chunks: int) -> Path:
    """A run directory as an interrupted run leaves it: its manifest and ``chunks`` chunk files."""
    out = tmp_path / "run"
    (out / "replications").mkdir(parents=True)
    (out / "manifest.json").write_text("{}")
    for i in range(chunks):
        (out / "replications" / f"chunk-{i:05d}.parquet").write_bytes(b"")
    return out


@pytest.mark.parametrize(
    "code, reason", [(errno.ENOSPC, "No space left on device"), (errno.EROFS, "Read-only file system")]
)
def test_a_write_that_fails_is_one_line_with_what_is_kept_and_the_resume_command(tmp_path, code, reason):
    out = a_run_dir(tmp_path, 3)
    failed = out / "replications" / "chunk-00003.tmp"
    line = disk_error_line(OSError(code, "whatever the library said", str(failed)), out)
    assert line == (
        f"could not write {failed}: {reason}; 3 finished chunks are kept in {out}/replications; free space or "
        f"make it writable, then complete the run with: {resume_command(out)}"
    )


def test_a_writer_that_names_no_file_names_the_run_directory(tmp_path):
    """pyarrow's error carries the errno but no file name: the run directory is named instead."""
    out = a_run_dir(tmp_path, 1)
    line = disk_error_line(OSError(errno.ENOSPC, "Error writing bytes to file. Detail: [errno 28] ..."), out)
    assert line is not None and line.startswith(f"could not write {out}: No space left on device; 1 finished chunk is")


def test_a_write_that_fails_before_the_run_says_nothing_was_run(tmp_path):
    line = disk_error_line(PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "x")), tmp_path / "new")
    assert line is not None and line.startswith(f"could not use {tmp_path / 'x'}: Permission denied; nothing was run")
    assert "run.resume" not in line


@pytest.mark.parametrize(
    "error",
    [
        FileNotFoundError(errno.ENOENT, "No such file or directory", "x"),  # a bug or a user's path: not the disk's
        RunDirectoryTaken("hydra.run.dir", "holds a run"),  # a ConfigError: its own line
        OSError("no errno"),
    ],
)
def test_other_errors_are_not_called_disk_errors(tmp_path, error):
    assert disk_error_line(error, a_run_dir(tmp_path, 1)) is None


#: Imported by every Python process of the run (PYTHONPATH): pyarrow's Parquet writer fails as a full disk does
#: from its third file on, as pyarrow reports it (an errno, no file name).
FULL_AFTER_TWO = """
import errno, os
import pyarrow.parquet
_write = pyarrow.parquet.write_table
_count = [0]
def write_table(*args, **kwargs):
    _count[0] += 1
    if _count[0] > 2 and os.environ.get("TCP_SIM_DISK_FULL"):
        raise OSError(errno.ENOSPC, "Error writing bytes to file. Detail: [errno 28] No space left on device")
    return _write(*args, **kwargs)
pyarrow.parquet.write_table = write_table
"""


@pytest.mark.slow
def test_a_disk_that_fills_during_the_chunks_keeps_them_and_the_resume_completes(tmp_path):
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(FULL_AFTER_TWO)
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": f"{hooks}:{ROOT}", "TCP_SIM_DISK_FULL": "1"}
    p = sim("run.replications=60", *SMALL, f"hydra.run.dir={out}", env=env)
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr
    assert p.stderr.strip().splitlines() == [
        f"could not write {out}: No space left on device; 2 finished chunks are kept in {out}/replications; free "
        f"space or make it writable, then complete the run with: python -m sim run.resume={out}"
    ]
    assert len(list((out / "replications").glob("chunk-*.parquet"))) == 2
    p = sim(f"run.resume={out}", "run.progress=false")  # the disk has room again
    assert p.returncode == 0, p.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["replications_done"] == 60


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB file system of its own (unmounted after); skipped where mounting is not allowed."""
    where = tmp_path / "disk"
    where.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)], capture_output=True)
    if made.returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def remount(where: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(where)], check=True)


@pytest.mark.slow
def test_a_real_full_disk_keeps_the_chunks_and_the_run_completes_once_there_is_room(tmpfs):
    out = tmpfs / "run"
    p = sim("run.replications=300", *SMALL, f"hydra.run.dir={out}")  # about 90 kB a chunk: 30 do not fit
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in p.stderr, p.stderr
    kept = len(list((out / "replications").glob("chunk-*.parquet")))
    assert 0 < kept < 30
    assert lines[0].startswith(f"could not write {out}") and ": No space left on device; " in lines[0]
    assert lines[0].endswith(f"then complete the run with: python -m sim run.resume={out}")
    remount(tmpfs, "size=64m")
    p = sim(f"run.resume={out}", "run.progress=false")
    assert p.returncode == 0, p.stderr
    assert json.loads((out / "manifest.json").read_text())["replications_done"] == 300


@pytest.mark.slow
def test_a_read_only_run_directory_is_one_line(tmpfs):
    remount(tmpfs, "ro")
    p = sim("run.replications=2", *SMALL, f"hydra.run.dir={tmpfs / 'run'}")
    assert p.returncode == 2, p.stderr
    assert p.stderr.strip().splitlines() == [
        f"config error: hydra.run.dir: cannot write {tmpfs / 'run'}: Read-only file system"
    ]
