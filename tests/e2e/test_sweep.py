"""Hydra sweeps end to end: `python -m sim -m ...` with the basic and the workstation (joblib) launcher,
then experiments/collect.py gathering the jobs into one table and a chart (issue 5, point 4)."""

from __future__ import annotations

import importlib.util
import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from omegaconf import OmegaConf

from sim.api import resume_command
from sim.sweep import SweepError, load_sweep, summary_table

ROOT = Path(__file__).resolve().parents[2]
COLLECT = ROOT / "experiments" / "collect.py"
# every test here runs Hydra multiruns in subprocesses (its fixtures about 30 s): make test-fast skips them
pytestmark = pytest.mark.slow

TINY = ["run.replications=4", "run.years=1", "run.engine=numba", "run.progress=false"]


def sweep(*args: str, out: Path) -> subprocess.CompletedProcess:
    """A multirun of the CLI into ``out`` (a tiny run per job)."""
    p = subprocess.run(
        [sys.executable, "-m", "sim", "-m", *args, *TINY, f"hydra.sweep.dir={out}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return p


def collect_cli(*args: str) -> subprocess.CompletedProcess:
    """experiments/collect.py as a user runs it (a Hydra app: sweep=<dir> metric=... out=...)."""
    return subprocess.run(
        [sys.executable, str(COLLECT), *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def collect_main(*args: str) -> int:
    """experiments/collect.py's main() in this process (quicker than a subprocess)."""
    spec = importlib.util.spec_from_file_location("collect_script", COLLECT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main([str(a) for a in args])


def job_dirs(root: Path) -> list[Path]:
    return sorted(p.parent for p in root.glob("*/manifest.json"))


def copy_with_incomplete_job(sweep_dir: Path, tmp_path: Path, job: int, **manifest_updates) -> tuple[Path, Path, dict]:
    """A copy of a sweep whose job ``job`` has its manifest updated (as a stopped job leaves it): the copy's
    root, that job's directory and its new manifest."""
    root = tmp_path / "sweep"
    shutil.copytree(sweep_dir, root)
    job_dir = job_dirs(root)[job]
    manifest = json.loads((job_dir / "manifest.json").read_text()) | manifest_updates
    (job_dir / "manifest.json").write_text(json.dumps(manifest))
    return root, job_dir, manifest


@pytest.fixture(scope="module")
def basic_sweep(tmp_path_factory) -> Path:
    """Two scenarios, one after the other (Hydra's basic launcher)."""
    out = tmp_path_factory.mktemp("sweep") / "basic"
    p = sweep("scenario=baseline,full_ctr_coverage", out=out)
    assert p.returncode == 0, p.stderr
    return out


@pytest.fixture(scope="module")
def joblib_sweep(tmp_path_factory, basic_sweep) -> Path:
    """The same two scenarios side by side (hydra/launcher=workstation: joblib, 2 worker processes)."""
    out = tmp_path_factory.mktemp("sweep") / "joblib"
    p = sweep("hydra/launcher=workstation", "scenario=baseline,full_ctr_coverage", out=out)
    assert p.returncode == 0, p.stderr
    assert "Joblib.Parallel(n_jobs=2" in p.stdout + p.stderr
    return out


def test_each_job_of_a_sweep_is_a_complete_run_in_its_own_directory(basic_sweep, joblib_sweep):
    """Both launchers write one directory per job, each a complete run of its scenario, with the same results."""
    for root in (basic_sweep, joblib_sweep):
        dirs = job_dirs(root)
        assert len(dirs) == 2 and dirs[0] != dirs[1]
        manifests = [json.loads((d / "manifest.json").read_text()) for d in dirs]
        assert [m["scenario"] for m in manifests] == ["baseline", "full_ctr_coverage"]
        assert all(m["status"] == "complete" and m["replications"] == 4 and m["workers"] == 1 for m in manifests)
        assert [f"scenario={m['scenario']}" in m["overrides"] for m in manifests] == [True, True]  # the job's own
    for a, b in zip(job_dirs(basic_sweep), job_dirs(joblib_sweep)):  # the launcher does not change results
        pd.testing.assert_frame_equal(pd.read_csv(a / "summary.csv"), pd.read_csv(b / "summary.csv"))


def test_collect_writes_one_tidy_table_and_a_chart(basic_sweep):
    """Rows are each job's summary.csv with the swept key and the run's identity; the chart is written."""
    p = collect_cli(f"sweep={basic_sweep}")
    assert p.returncode == 0, p.stderr
    out = basic_sweep / "collected"
    for name in ("sweep.parquet", "sweep.csv", "sweep_trajectory.csv", "sweep.png", "collect.json"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    table = pd.read_parquet(out / "sweep.parquet")
    for col in ("job", "label", "system", "scenario", "seed", "replications", "month", "metric", "p05", "p50", "p95"):
        assert col in table.columns, col
    assert "override:scenario" not in table.columns  # the override says what `scenario` says
    for job_dir in job_dirs(basic_sweep):
        manifest = json.loads((job_dir / "manifest.json").read_text())
        own = pd.read_csv(job_dir / "summary.csv", dtype={"month": str})
        rows = table[table["scenario"] == manifest["scenario"]]
        assert len(rows) == len(own)
        assert set(rows["label"]) == {f"scenario={manifest['scenario']}"}
        assert set(rows["system"]) == {"bhr"} and set(rows["seed"]) == {manifest["seed"]}
        pd.testing.assert_frame_equal(rows[own.columns].reset_index(drop=True), own)
        traj = pd.read_csv(out / "sweep_trajectory.csv", dtype={"month": str})
        assert len(traj[traj["scenario"] == manifest["scenario"]]) == len(pd.read_csv(job_dir / "trajectory.csv"))
    csv = pd.read_csv(out / "sweep.csv", dtype={"month": str, "label": str})
    assert len(csv) == len(table) and list(csv.columns) == list(table.columns)
    record = json.loads((out / "collect.json").read_text())
    assert record["swept"] == ["scenario"] and len(record["jobs"]) == 2 and record["skipped"] == []


def test_collect_never_overwrites(basic_sweep, tmp_path, capsys):
    """A second collect into the same place is refused with one line; --out takes a new path."""
    if not (basic_sweep / "collected").exists():
        assert collect_main(f"sweep={basic_sweep}") == 0
    before = (basic_sweep / "collected" / "sweep.csv").read_bytes()
    capsys.readouterr()
    assert collect_main(f"sweep={basic_sweep}") == 2
    err = capsys.readouterr().err.strip()
    assert "already exists" in err and len(err.splitlines()) == 1
    assert (basic_sweep / "collected" / "sweep.csv").read_bytes() == before
    assert collect_main(f"sweep={basic_sweep}", f"out={tmp_path / 'mine'}", "metric=admissions") == 0
    assert (tmp_path / "mine" / "sweep.png").is_file()


def test_an_incomplete_job_is_skipped_and_reported(joblib_sweep, tmp_path, capsys):
    """A job whose manifest is not complete is left out and named; the complete one is collected."""
    root, stopped, manifest = copy_with_incomplete_job(
        joblib_sweep, tmp_path, 1, status="interrupted", replications_done=2
    )
    assert collect_main(f"sweep={root}") == 0
    err = capsys.readouterr().err
    assert f"skipped {stopped.name}: status interrupted (2 of 4 replications)" in err
    assert resume_command(stopped) in err
    table = pd.read_csv(root / "collected" / "sweep.csv")
    assert set(table["scenario"]) == {"baseline"}
    assert json.loads((root / "collected" / "collect.json").read_text())["skipped"][0]["dir"] == stopped.name

    first = job_dirs(root)[0]  # with no complete job left there is nothing to collect
    (first / "manifest.json").write_text(json.dumps({**manifest, "scenario": "baseline"}))
    with pytest.raises(SweepError, match="no complete job"):
        load_sweep(root)


def test_a_directory_that_is_not_a_sweep_is_refused(basic_sweep, tmp_path):
    """A single run's directory (or any other) ends with exit 2 and one line, no traceback."""
    for path in (job_dirs(basic_sweep)[0], tmp_path / "missing"):
        p = collect_cli(f"sweep='{path}'")  # a job's directory is named by its overrides: quoted for Hydra
        assert p.returncode == 2
        assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr
        assert p.stderr.startswith("collect: ")


def test_a_grid_sweep_gives_a_column_per_swept_key(tmp_path):
    """Sweeping a parameter (tcp.ctr.coverage) gives a numeric column holding each job's value."""
    out = tmp_path / "grid"
    p = sweep("tcp.ctr.coverage=0.5,1.0", out=out)
    assert p.returncode == 0, p.stderr
    s = load_sweep(out)
    assert s.swept == ["tcp.ctr.coverage"] and not s.skipped
    table = summary_table(s)
    assert table["tcp.ctr.coverage"].dtype == float
    assert sorted(table["tcp.ctr.coverage"].unique()) == [0.5, 1.0]
    for job in s.jobs:  # each row's value is the one the job ran with
        ran = OmegaConf.load(job.dir / "config.yaml").tcp.ctr.coverage
        assert set(table.loc[table["job"] == job.num, "tcp.ctr.coverage"]) == {ran}
        assert set(table.loc[table["job"] == job.num, "label"]) == {f"tcp.ctr.coverage={ran}"}


def test_a_user_error_in_a_sweep_is_one_line_exit_2(tmp_path):
    """A bad value in a job of a sweep stops it as a single run does: one line naming the key, exit 2."""
    p = sweep("run.seed=-1,1", out=tmp_path / "bad")
    assert p.returncode == 2
    assert len(p.stderr.strip().splitlines()) == 1
    assert p.stderr.startswith("config error: run.seed") and "Traceback" not in p.stderr


def test_a_job_whose_process_is_gone_is_reported_as_such(joblib_sweep, tmp_path, capsys):
    """A job left "running" by a process that no longer exists (a joblib worker stopped with its pool
    when a sibling job failed) is named as such, with how to complete it."""
    root, gone, _ = copy_with_incomplete_job(joblib_sweep, tmp_path, 0, status="running", replications_done=1)
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (gone / ".running").write_text(finished.stdout.strip())  # the PID of a process that has ended
    assert collect_main(f"sweep={root}") == 0
    err = capsys.readouterr().err
    assert f"skipped {gone.name}: status running, but its process is gone (1 of 4 replications)" in err
    command = resume_command(gone)  # as printed; pasted into a shell, it completes the job
    assert command in err and "=" in gone.name
    p = subprocess.run(
        command.replace("python", sys.executable, 1), shell=True, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert p.returncode == 0, p.stderr
    assert json.loads((gone / "manifest.json").read_text())["status"] == "complete"


def test_a_bad_value_in_a_later_job_stops_the_sweep_before_any_job_starts(tmp_path):
    """Every job is composed and built before the first starts: a bad value in job 1 of a joblib sweep ends
    it with one line naming the job and the key, exit 2, and no job directory (job 0 used to start and be
    killed, leaving an incomplete run)."""
    out = tmp_path / "bad"
    p = sweep("hydra/launcher=workstation", "run.seed=1,-1", out=out)
    assert p.returncode == 2, p.stdout + p.stderr
    line = p.stderr.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in p.stdout + p.stderr
    assert line.startswith("config error: run.seed:") and "(sweep job 1 of 2: run.seed=-1; no job was started)" in line
    assert not out.exists()  # no sweep directory, so no job directory with chunks
    assert "Launching" not in p.stdout + p.stderr


def test_collect_names_incomplete_and_never_started_jobs_with_their_commands(basic_sweep, tmp_path, capsys):
    """A job multirun.yaml lists but that never started (no directory) and one left incomplete are named,
    each with the command that completes it; the never-started job's command runs it into its own job
    directory, after which the sweep collects whole."""
    root = tmp_path / "sweep"
    shutil.copytree(basic_sweep, root, ignore=shutil.ignore_patterns("collected"))
    first, second = job_dirs(root)
    shutil.rmtree(second)  # job 1 never started
    manifest = json.loads((first / "manifest.json").read_text()) | {"status": "interrupted", "replications_done": 2}
    (first / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SweepError) as refused:
        load_sweep(root)
    message = str(refused.value)
    assert "(1 incomplete, 1 never started)" in message
    assert (
        f"{first.name}: status interrupted (2 of 4 replications); complete it with: {resume_command(first)}" in message
    )
    assert "job 1 never started; run it with: python -m sim scenario=full_ctr_coverage" in message
    started = message.split("job 1 never started; run it with: ", 1)[1].split(" | ")[0]
    assert shlex.split(started)[-1] == f'hydra.run.dir="{second}"'  # quoted for Hydra (its = and ,), then the shell
    p = collect_cli(f"sweep={root}")
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and "job 1 never started" in p.stderr

    shutil.rmtree(first)
    shutil.copytree(job_dirs(basic_sweep)[0], first)  # job 0 complete again: collected, job 1 named
    assert collect_main(f"sweep={root}") == 0
    err = capsys.readouterr().err
    never = [line for line in err.splitlines() if line.startswith("never started: job 1")]
    assert len(never) == 1 and f"({second.name})" in never[0]
    command = never[0].split("run it with: ", 1)[1]
    assert command == load_sweep(root).never_started[0][2]
    record = json.loads((root / "collected" / "collect.json").read_text())
    assert record["never_started"] == [{"job": 1, "dir": second.name, "command": command}]
    run = subprocess.run(
        command.replace("python", sys.executable, 1), shell=True, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    again = load_sweep(root)
    assert [j.dir for j in again.jobs] == [first, second] and not again.skipped and not again.never_started


def test_the_old_collect_command_line_says_the_new_one(basic_sweep):
    """`collect.py <dir> --metric M` (before collect was a Hydra app) is one line giving the new form, exit 2."""
    p = collect_cli(basic_sweep, "--metric", "admissions")
    assert p.returncode == 2
    assert p.stderr.strip() == (
        "collect: the command line is now key=value, as every app's: python experiments/collect.py "
        f"sweep=<multirun dir> [metric=<metric>] [out=<new dir>] (e.g. sweep={basic_sweep})"
    )
