"""The command line end to end, as a user runs it: outputs, user errors, no overwriting."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECK_RUN = ROOT.parent / "shared" / "tools" / "check_run.py"


def sim(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    """A 4-replication, 1-year BHR run written by the CLI into a known directory."""
    out = tmp_path_factory.mktemp("cli") / "run"
    p = sim("run.replications=4", "run.years=1", "run.chunk_size=2", f"hydra.run.dir={out}", cwd=ROOT)
    assert p.returncode == 0, p.stderr
    (out.parent / "console.txt").write_text(p.stdout)  # beside the run, for the logging test
    return out


def test_a_run_logs_into_sim_log_and_the_console(tiny_run):
    """The run's lines (summarising, charts, report, the final "wrote") go through logging: into the run
    directory's sim.log with time and logger, and onto the console as they read, without timestamps."""
    log = (tiny_run / "sim.log").read_text()
    console = (tiny_run.parent / "console.txt").read_text().splitlines()
    for line in ("summarising 4 replications", "writing charts", "writing the report", f"wrote {tiny_run} ("):
        assert f"] - {line}" in log, line
        assert any(c.startswith(line) for c in console), (line, console)
    assert "[sim.api][INFO]" in log and "[sim.cli][INFO]" in log
    assert not any(c.startswith("[") for c in console), console


def test_the_compile_line_is_said_only_for_a_cold_cache():
    """The engine's compile is announced only when nothing is compiled in the process and the on-disk
    cache has no entry for these sources; a cache that cannot be read claims nothing."""
    from sim.runner.warm import COMPILE_SECONDS, compile_line, compile_needed

    assert compile_needed(compiled_signatures=0, cached_entries=0)
    assert not compile_needed(compiled_signatures=0, cached_entries=1)
    assert not compile_needed(compiled_signatures=1, cached_entries=0)  # compiled in this process already
    assert not compile_needed(compiled_signatures=0, cached_entries=None)
    assert compile_line() == f"compiling the engine (first run only, about {COMPILE_SECONDS} s)"


def test_a_cold_engine_cache_is_detected(tmp_path):
    """With Numba's cache pointed at an empty directory the engine would compile; with the project's own
    (warmed by the runs above) it would not."""
    code = "from sim.runner.warm import engine_needs_compiling as f; print(f())"
    cold = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**_env(), "NUMBA_CACHE_DIR": str(tmp_path)},
    )
    assert cold.stdout.strip() == "True", cold.stderr
    warm = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=_env())
    assert warm.stdout.strip() == "False", warm.stderr


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}


def test_dask_logs_are_quiet_unless_asked(tmp_path):
    """A Dask run prints none of distributed's INFO lines (about 35 before); TCP_SIM_DASK_LOGS=1 keeps them."""
    from sim.runner.backends import quiet_dask

    env: dict[str, str] = {}
    assert quiet_dask(env) and env == {"DASK_LOGGING__DISTRIBUTED": "warning"}
    assert not quiet_dask({"TCP_SIM_DASK_LOGS": "1"})
    out = tmp_path / "run"
    p = sim("run=quick", "run.replications=4", "run.backend=dask", "run.workers=2", f"hydra.run.dir={out}", cwd=ROOT)
    assert p.returncode == 0, p.stderr
    assert "distributed" not in p.stdout + p.stderr and "wrote" in p.stdout


def test_cli_writes_the_output_contract(tiny_run):
    """A run writes the resolved config, manifest, per-replication Parquet, summary, plan check, its charts
    for a board paper and its STRESS report (Markdown, HTML, Word) with its tables (Excel)."""
    for name in (
        "config.yaml",
        "manifest.json",
        "summary.csv",
        "trajectory.csv",
        "fan_inpatients.png",
        "fan_by_unit.png",
        "fan_by_area.png",
        "fan_per_million.png",
        "fan_inpatients.svg",
        "milestones.png",
        "milestones.svg",
        "report.md",
        "report.html",
        "report.docx",
        "results.xlsx",
    ):
        assert (tiny_run / name).is_file(), name
    chunks = sorted((tiny_run / "replications").glob("chunk-*.parquet"))
    assert len(chunks) == 2
    monthly = pd.concat(pd.read_parquet(c) for c in chunks)
    assert sorted(monthly["replication"].unique()) == [0, 1, 2, 3]
    summary = pd.read_csv(tiny_run / "summary.csv")
    assert list(summary.columns) == ["month", "metric", "mean", "p05", "p25", "p50", "p75", "p95"]
    for metric in (
        "inpatients",
        "inpatients_in_area",
        "inpatients_out_of_area",
        "inpatients_per_million",
        "admissions",
        "out_of_area_placements",
        "discharges",
        "long_stayers_5y",
        "occupancy",
        "occupancy_bhr_atu",
    ):
        assert metric in set(summary["metric"]), metric
    manifest = json.loads((tiny_run / "manifest.json").read_text())
    assert manifest["seed"] == 20160401 and manifest["engine"] == "numba" and manifest["replications"] == 4
    assert manifest["status"] == "complete" and manifest["replications_done"] == 4
    assert manifest["git_commit"] and manifest["versions"]["numba"]


@pytest.mark.skipif(not CHECK_RUN.exists(), reason="shared/tools/check_run.py is not beside the project")
def test_cli_run_passes_the_shared_contract_check(tiny_run):
    """The team's own contract checker accepts the run directory."""
    p = subprocess.run([sys.executable, str(CHECK_RUN), str(tiny_run)], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


def test_cli_never_overwrites_a_run(tiny_run):
    """Running into a directory that already holds a run stops with exit 2 and leaves it untouched."""
    before = (tiny_run / "manifest.json").read_text()
    p = sim("run.replications=2", "run.years=1", f"hydra.run.dir={tiny_run}", cwd=ROOT)
    assert p.returncode == 2
    assert "already holds a run" in p.stderr
    assert (tiny_run / "manifest.json").read_text() == before


@pytest.mark.parametrize(
    "override, expected",
    [
        ("run.replications=0", "config error: run.replications: 0 must be at least 1"),
        ("run.seed=abc", "config error: run.seed: Value 'abc' of type 'str' could not be converted to Integer"),
        ("run.years=-1", "config error: run.years: -1 must be above 0"),
        ("tcp.beds.atu.schedule.0.beds=-1", "config error: tcp.beds.atu.schedule[0].beds: -1 must be at least 0"),
        ("tcp=nowhere", "config error: no config 'tcp/nowhere' (available: bhr"),
        ("run.nonsense=1", "config error: run.nonsense: Key 'nonsense' not in 'RunConfig'"),
    ],
)
def test_cli_user_error_is_one_line_exit_2(tmp_path, override, expected):
    """A bad override ends with exit 2 and one line on stderr naming the key and the problem; no traceback,
    and no run directory left behind."""
    out = tmp_path / "run"
    p = sim(override, f"hydra.run.dir={out}", cwd=ROOT)
    assert p.returncode == 2
    assert p.stderr.strip().startswith(expected)
    assert len(p.stderr.strip().splitlines()) == 1
    assert "Traceback" not in p.stdout + p.stderr
    assert not out.exists()


def test_an_interrupted_run_keeps_its_finished_chunks(tmp_path, monkeypatch):
    """Stopped after its first chunk, a run keeps that chunk on disk and its manifest says how far it got."""
    from helpers import make_cfg

    import sim.runner.runner as runner
    from sim.api import run

    real = runner.run_chunk

    def stop_at_second(spec, chunk, *args):
        if chunk.index == 1:
            raise KeyboardInterrupt
        return real(spec, chunk, *args)

    monkeypatch.setattr(runner, "run_chunk", stop_at_second)
    with pytest.raises(KeyboardInterrupt):
        run(make_cfg(["run.replications=6", "run.chunk_size=3", "run.years=1"]), out_dir=tmp_path / "run")
    kept = pd.read_parquet(tmp_path / "run" / "replications" / "chunk-00000.parquet")
    assert sorted(kept["replication"].unique()) == [0, 1, 2]
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["status"] == "interrupted" and manifest["replications_done"] == 3


def test_sigterm_stops_the_cli_and_keeps_finished_chunks(tmp_path):
    """SIGTERM during a long run ends it like Ctrl-C: exit 130, finished chunks and manifest kept."""
    import signal
    import time

    out = tmp_path / "run"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sim",
            "run.replications=100000",
            "run.chunk_size=5",
            "run.progress=false",
            f"hydra.run.dir={out}",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while not list((out / "replications").glob("chunk-*.parquet")) and time.time() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert list((out / "replications").glob("chunk-*.parquet"))
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"


def test_a_resumed_run_equals_an_uninterrupted_one(tmp_path, monkeypatch):
    """Interrupted after its first chunk and then resumed, a run keeps the chunk it had, runs the rest,
    and ends with the same monthly table and summary as a run that was never interrupted."""
    from helpers import make_cfg

    import sim.runner.runner as runner
    from sim.api import resume, run

    overrides = ["run.replications=6", "run.chunk_size=2", "run.years=1"]
    whole = run(make_cfg(overrides), out_dir=tmp_path / "whole")
    real = runner.run_chunk
    calls = []

    def stop_at_second(spec, chunk, *args):
        calls.append(chunk.index)
        if chunk.index == 1 and len(calls) == 2:
            raise KeyboardInterrupt
        return real(spec, chunk, *args)

    monkeypatch.setattr(runner, "run_chunk", stop_at_second)
    with pytest.raises(KeyboardInterrupt):
        run(make_cfg(overrides), out_dir=tmp_path / "cut")
    finished = (tmp_path / "cut" / "replications" / "chunk-00000.parquet").stat().st_mtime_ns
    resumed = resume(tmp_path / "cut")
    assert calls == [0, 1, 1, 2]  # chunk 0 was not run again
    assert (tmp_path / "cut" / "replications" / "chunk-00000.parquet").stat().st_mtime_ns == finished
    pd.testing.assert_frame_equal(resumed.monthly, whole.monthly)
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "cut" / "summary.csv"), pd.read_csv(tmp_path / "whole" / "summary.csv")
    )
    manifest = json.loads((tmp_path / "cut" / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["replications_done"] == 6 and len(manifest["resumed"]) == 1


def test_cli_resume_of_a_complete_run_is_refused(tiny_run, tmp_path):
    """run.resume on a finished run stops with exit 2 and one line; the run is left as it was."""
    before = (tiny_run / "manifest.json").read_text()
    p = sim(f"run.resume={tiny_run}", f"hydra.run.dir={tmp_path / 'new'}", cwd=ROOT)
    assert p.returncode == 2 and p.stderr.strip() == f"config error: run.resume: {tiny_run} is already complete"
    assert (tiny_run / "manifest.json").read_text() == before
    assert not (tmp_path / "new").exists()
