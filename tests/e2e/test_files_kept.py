"""A user's files are never deleted or written over, and a resume never trusts what it should not
(issue 16, points 2 and 3): each repro of the issue, as the command line meets it."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def sim(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def one_line(p: subprocess.CompletedProcess, starts: str) -> None:
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(starts), p.stderr


def test_a_refused_run_into_the_users_directory_leaves_it_as_it_was(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "config.yaml").write_text("x\n")
    one_line(sim("run.replications=0", f"hydra.run.dir={mine}"), "config error: run.replications")
    assert (mine / "config.yaml").read_text() == "x\n"  # the directory and the user's file are kept


def test_a_run_into_a_directory_of_other_files_is_refused_and_writes_nothing(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    for name in ("config.yaml", "summary.csv", "report.html"):
        (mine / name).write_text("the user's\n")
    p = sim("run.replications=2", "run.years=1", f"hydra.run.dir={mine}")
    one_line(p, "config error: hydra.run.dir")
    assert "not a run's" in p.stderr
    for name in ("config.yaml", "summary.csv", "report.html"):
        assert (mine / name).read_text() == "the user's\n"
    assert not (mine / "manifest.json").exists()


def test_a_directory_another_live_process_is_running_is_refused(tmp_path):
    out = tmp_path / "busy"
    out.mkdir()
    with open(out / ".lock", "w") as held:  # this test's process holds the run directory's lock
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write(f"{os.getpid()}\n")
        held.flush()
        p = sim("run.replications=2", "run.years=1", f"hydra.run.dir={out}")
    one_line(p, f"config error: hydra.run.dir: {out} is being run by process {os.getpid()}")
    assert f"delete {out / '.lock'} and try again" in p.stderr
    assert not (out / "manifest.json").exists()


def test_a_lock_file_whose_pid_was_reused_does_not_block_a_run(tmp_path):
    """The issue's repro: a mark left by a process that is gone, its PID now another live process's (here
    this test's own), blocked the directory for good. A lock file nobody holds is free, whatever PID it
    names; the PID file of earlier versions (.running) is a leftover, neither a lock nor the user's."""
    out = tmp_path / "stale"
    out.mkdir()
    (out / ".lock").write_text(f"{os.getpid()}\n")  # a live PID, but no process holds the lock
    (out / ".running").write_text(str(os.getpid()))
    p = sim("run.replications=2", "run.years=1", "run.progress=false", f"hydra.run.dir={out}")
    assert p.returncode == 0, p.stderr
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    assert not (out / ".lock").exists()  # given back when the run ended


@pytest.fixture(scope="module")
def stopped(tmp_path_factory) -> Path:
    """A run stopped after its first chunk: its manifest says running, its second chunk is gone."""
    out = tmp_path_factory.mktemp("stopped") / "run"
    p = sim("run.replications=4", "run.chunk_size=2", "run.years=1", "run.progress=false", f"hydra.run.dir={out}")
    assert p.returncode == 0, p.stderr
    (out / "replications" / "chunk-00001.parquet").unlink()
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["status"] = "interrupted"
    (out / "manifest.json").write_text(json.dumps(manifest))
    return out


def test_a_resume_refuses_overrides_it_would_ignore(stopped):
    p = sim(f"run.resume={stopped}", "tcp=surrey", "run.seed=7")
    one_line(p, "config error: run.resume")
    assert "tcp=surrey run.seed=7" in p.stderr
    assert not (stopped / "replications" / "chunk-00001.parquet").exists()


def test_a_resume_refuses_a_config_edited_since_the_run_started(stopped, tmp_path):
    edited = tmp_path / "edited"
    subprocess.run(["cp", "-r", str(stopped), str(edited)], check=True)
    text = (edited / "config.yaml").read_text()
    (edited / "config.yaml").write_text(text.replace("seed: 20160401", "seed: 7"))
    p = sim(f"run.resume={edited}")
    one_line(p, "config error: run.resume")
    assert "was changed after the run started" in p.stderr
    assert not (edited / "replications" / "chunk-00001.parquet").exists()


def test_a_resume_may_change_how_it_runs(stopped, tmp_path):
    again = tmp_path / "again"
    subprocess.run(["cp", "-r", str(stopped), str(again)], check=True)
    logged = (again / "sim.log").read_text().count("] - wrote ")
    p = sim(f"run.resume={again}", "run.workers=2", "run.progress=false")
    assert p.returncode == 0, p.stderr
    assert json.loads((again / "manifest.json").read_text())["status"] == "complete"
    assert (again / "sim.log").read_text().count("] - wrote ") == logged + 1  # the resume's log is the run's


def test_a_refused_run_leaves_the_empty_folders_it_found_and_removes_those_it_made(tmp_path):
    """A refused run gives back the directory Hydra made for it and the folders made on the way, never a
    folder that was there before, however empty (its time stamp changes when Hydra's folder goes)."""
    mine = tmp_path / "mine"
    mine.mkdir()
    p = sim("run.replications=0", f"hydra.run.dir={mine / 'made' / 'run'}")
    one_line(p, "config error: run.replications")
    assert mine.is_dir() and not any(mine.iterdir())


@pytest.mark.slow
def test_a_run_that_fails_before_its_first_chunk_leaves_no_claimed_directory(tmp_path):
    out = tmp_path / "dask"
    env = {"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"}
    args = (
        "run.replications=2",
        "run.years=1",
        "run.progress=false",
        "run.backend=dask",
        "run.dask_address=tcp://127.0.0.1:9",
    )
    one_line(sim(*args, f"hydra.run.dir={out}", env=env), "config error: run.dask_address")
    assert not (out / "manifest.json").exists() and not (out / "config.yaml").exists()
    # so a second try into the same directory is not refused as "already holds a run"
    p = sim("run.replications=2", "run.years=1", "run.progress=false", f"hydra.run.dir={out}")
    assert p.returncode == 0, p.stderr


def broken_copy(stopped: Path, tmp_path: Path, name: str) -> Path:
    out = tmp_path / name
    subprocess.run(["cp", "-r", str(stopped), str(out)], check=True)
    return out


def test_a_resume_of_an_empty_manifest_is_one_line(stopped, tmp_path):
    out = broken_copy(stopped, tmp_path, "empty")
    (out / "manifest.json").write_text("")
    one_line(sim(f"run.resume={out}"), "config error: run.resume")


def test_a_resume_of_a_config_that_is_not_yaml_is_one_line(stopped, tmp_path):
    out = broken_copy(stopped, tmp_path, "yaml")
    (out / "config.yaml").write_text("run: [unclosed\n")
    one_line(sim(f"run.resume={out}"), "config error: run.resume")


def test_a_resume_runs_a_truncated_chunk_again_and_keeps_the_broken_file(stopped, tmp_path):
    out = broken_copy(stopped, tmp_path, "truncated")
    whole = out / "replications" / "chunk-00000.parquet"
    whole.write_bytes(whole.read_bytes()[:300])  # a chunk cut short (a full disk, a crash mid-copy)
    p = sim(f"run.resume={out}", "run.progress=false")
    assert p.returncode == 0, p.stderr
    assert "not a whole chunk" in p.stderr
    assert (out / "replications" / "chunk-00000.parquet.broken").exists()
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"


def test_a_refused_second_run_leaves_the_first_runs_hydra_record_as_it_was(tmp_path):
    """A second run into a run's directory is refused before Hydra writes: the first run's
    .hydra/overrides.yaml (which sweep collection reads to label jobs) keeps its bytes."""
    out = tmp_path / "run"
    first = sim("run.replications=2", "run.years=1", f"hydra.run.dir={out}")
    assert first.returncode == 0, first.stderr
    record = {p.name: p.read_bytes() for p in (out / ".hydra").iterdir()}
    second = sim("run.replications=3", "run.seed=9", f"hydra.run.dir={out}")
    assert second.returncode == 2 and "already holds a run (complete)" in second.stderr
    assert {p.name: p.read_bytes() for p in (out / ".hydra").iterdir()} == record
