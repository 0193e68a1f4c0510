"""Runs with parameter uncertainty (``run.parameters``): replication i runs one draw of a posterior file,
chosen by the seed and i alone, on the random numbers a plain run at that draw's values would use; a bad
posterior stops the run with one line naming run.parameters."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import make_cfg

from sim import api
from sim.config import ConfigError, build
from sim.config.parameters import Parameterised, parameterise, read_posterior, write_posterior
from sim.runner import run_replications

ROOT = Path(__file__).resolve().parents[2]
RATE = "tcp.crisis.unregistered_rate"
#: Small BHR runs on the compiled engine (tests/equivalence holds it to the SimPy model).
BASE = ["tcp=bhr", "run.years=1", "run.engine=numba"]


def posterior(path: Path, columns: dict, system: str = "bhr", calibration: str = "test") -> Path:
    return write_posterior(path, pd.DataFrame(columns), system=system, calibration=calibration)


def two_rates(tmp_path: Path, weights=(0.5, 0.5)) -> Path:
    """Two draws of the rate of crises among people not on a register, far apart (5 and 40 a year)."""
    return posterior(tmp_path / "posterior.parquet", {"weight": list(weights), RATE: [5.0, 40.0], "wave": [3, 3]})


def parameterised(cfg) -> Parameterised:
    """The run's Parameterised, as prepare makes it (its posterior checked against the run)."""
    spec, settings = build(cfg)
    out = parameterise(cfg, spec, settings)
    assert out is not None
    return out


# ------------------------------------------------------------------------------------------ the strong test


@pytest.mark.parametrize("engine", ["numba", "simpy"])
def test_replication_i_is_the_plain_run_at_its_draw(tmp_path, engine):
    """Replication i of the parameterised run equals, metric for metric, replication i of a plain run with
    the key set to the value of the draw the mapping gives i (on either engine)."""
    file = two_rates(tmp_path)
    overrides = ["tcp=bhr", "run.years=1", f"run.engine={engine}", "run.replications=8", "run.chunk_size=3"]
    cfg = make_cfg([*overrides, f"run.parameters={file}"])
    draws = {r: parameterised(cfg).draw_of(r) for r in range(8)}
    assert set(draws.values()) == {0, 1}, "the seed should give both draws in 8 replications"
    mixed = api.run(cfg).monthly
    plain = {j: api.run(make_cfg([*overrides, f"{RATE}={value}"])).monthly for j, value in enumerate([5.0, 40.0])}
    for r, j in draws.items():
        ours = mixed[mixed["replication"] == r].reset_index(drop=True)
        theirs = plain[j][plain[j]["replication"] == r].reset_index(drop=True)
        pd.testing.assert_frame_equal(ours, theirs)
    assert mixed.groupby("replication")["crises"].sum().nunique() > 1


def test_the_base_spec_is_what_the_run_reports(tmp_path):
    """The summary, catalogue and report read the run's own spec (no draw); the table has no extra
    column, and the manifest and report name the posterior."""
    file = two_rates(tmp_path)
    result = api.run(make_cfg([*BASE, "run.replications=4", f"run.parameters={file}"]), out_dir=tmp_path / "run")
    assert result.spec.sources[0].rate == pytest.approx(17.0 / 365.25)  # bhr.yaml's own rate
    assert "draw" not in result.monthly.columns
    record = json.loads((tmp_path / "run" / "manifest.json").read_text())["parameters"]
    assert record["file"] == str(file.resolve()) and record["draws"] == 2 and record["keys"] == [RATE]
    assert record["sha256"] == read_posterior(file).sha256 and record["calibration"] == "test"
    report = (tmp_path / "run" / "report.md").read_text()
    assert f"one draw of the posterior `{file.resolve()}` (2 draws of {RATE}, calibration test)" in report


# ------------------------------------------------------------------------------------------- the mapping


def test_draws_follow_the_weights(tmp_path):
    """Over 4,000 replications the share of each draw is its weight, within 3 standard deviations."""
    file = two_rates(tmp_path, weights=(0.2, 0.8))
    p = parameterised(make_cfg([*BASE, f"run.parameters={file}"]))
    counts = np.bincount([p.draw_of(r) for r in range(4000)], minlength=2)
    sd = np.sqrt(4000 * 0.2 * 0.8)
    assert abs(counts[0] - 800) < 3 * sd, counts


def test_the_mapping_is_the_documented_one(tmp_path):
    """Draw j is the first whose cumulative normalised weight exceeds u0 at (seed, i, PARAMETERS, 0, 0);
    weights are normalised on reading, and a zero weight is never drawn."""
    from sim.sampling import Stream, uniform_pair

    file = posterior(tmp_path / "p.parquet", {"weight": [2.0, 0.0, 1.0, 1.0], RATE: [5.0, 6.0, 7.0, 8.0]})
    assert read_posterior(file).weights.tolist() == [0.5, 0.0, 0.25, 0.25]
    p = Parameterised(make_cfg(BASE), read_posterior(file), seed=11)
    cumulative = np.array([0.5, 0.5, 0.75, 1.0])
    for r in range(500):
        u = uniform_pair(11, r, int(Stream.PARAMETERS), 0, 0)[0]
        assert p.draw_of(r) == int(np.argmax(cumulative > u)) != 1


def test_the_draw_depends_on_seed_and_replication_alone(tmp_path):
    """Another scenario (or system file) gives the same draws; another seed other ones."""
    file = two_rates(tmp_path)
    base = parameterised(make_cfg([*BASE, f"run.parameters={file}"]))
    ctr = parameterised(make_cfg([*BASE, "scenario=full_ctr_coverage", f"run.parameters={file}"]))
    other = parameterised(make_cfg([*BASE, "run.seed=7", f"run.parameters={file}"]))
    draws = [base.draw_of(r) for r in range(300)]
    assert draws == [ctr.draw_of(r) for r in range(300)]
    assert draws != [other.draw_of(r) for r in range(300)]


def test_chunks_workers_and_auto_give_the_same_table(tmp_path):
    """Chunks of 3 or 10, two worker processes, or run.replications=auto's rounds: the same replications."""
    file = two_rates(tmp_path)
    p = parameterised(make_cfg([*BASE, f"run.parameters={file}"]))
    one, _ = run_replications(p, 10, chunk_size=3)
    pd.testing.assert_frame_equal(one, run_replications(p, 10, chunk_size=10)[0])
    pd.testing.assert_frame_equal(one, run_replications(p, 10, chunk_size=3, workers=2)[0])
    cfg = make_cfg([*BASE, "run.replications=10", "run.chunk_size=3", "run.workers=2", f"run.parameters={file}"])
    pd.testing.assert_frame_equal(one, api.run(cfg).monthly)
    auto = ["run.replications=auto", "run.auto.minimum=4", "run.auto.maximum=12", "run.chunk_size=2"]
    grown = api.run(make_cfg([*BASE, *auto, f"run.parameters={file}"])).monthly  # rounds of 2 replications
    n = grown["replication"].nunique()
    pd.testing.assert_frame_equal(grown, run_replications(p, n, chunk_size=5)[0])


@pytest.mark.slow
def test_dask_gives_the_same_table(tmp_path):
    pytest.importorskip("dask.distributed")
    file = two_rates(tmp_path)
    p = parameterised(make_cfg([*BASE, f"run.parameters={file}"]))
    one, _ = run_replications(p, 8, chunk_size=2)
    dask, _ = run_replications(p, 8, workers=2, chunk_size=2, backend="dask")
    pd.testing.assert_frame_equal(one, dask)


def test_a_chunk_builds_each_distinct_draw_once(tmp_path, monkeypatch):
    """Replications of one draw share a spec (draws of equal values too): 20 replications of a posterior
    of three draws, two of them equal, build two specs."""
    file = posterior(tmp_path / "p.parquet", {"weight": [0.3, 0.3, 0.4], RATE: [5.0, 40.0, 5.0]})
    p = parameterised(make_cfg([*BASE, f"run.parameters={file}"]))
    built = []
    real = Parameterised.spec_of
    monkeypatch.setattr(Parameterised, "spec_of", lambda self, draw: built.append(draw) or real(self, draw))
    groups = list(p.specs(list(range(20))))
    assert len(built) == len(groups) == 2
    assert sorted(r for _, members in groups for r in members) == list(range(20))


@pytest.mark.slow
def test_a_resumed_run_runs_the_same_draws(tmp_path, monkeypatch):
    """Interrupted and resumed (from another directory), a parameterised run ends with the table of one
    never interrupted; a posterior changed in between is refused."""
    import sim.runner.runner as runner

    two_rates(tmp_path)
    monkeypatch.chdir(tmp_path)  # the posterior named relative to it
    overrides = [*BASE, "run.replications=6", "run.chunk_size=2", "run.parameters=posterior.parquet"]
    whole = api.run(make_cfg(overrides), out_dir=tmp_path / "whole")
    real = runner.run_chunk

    def stop_at_second(spec, chunk, *args):
        if chunk.index == 1:
            raise KeyboardInterrupt
        return real(spec, chunk, *args)

    with monkeypatch.context() as m:
        m.setattr(runner, "run_chunk", stop_at_second)
        with pytest.raises(KeyboardInterrupt):
            api.run(make_cfg(overrides), out_dir=tmp_path / "cut")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # the file the run started with, not one relative to here
    resumed = api.resume(tmp_path / "cut")
    pd.testing.assert_frame_equal(resumed.monthly, whole.monthly)

    monkeypatch.chdir(tmp_path)
    with monkeypatch.context() as m:
        m.setattr(runner, "run_chunk", stop_at_second)
        with pytest.raises(KeyboardInterrupt):
            api.run(make_cfg(overrides), out_dir=tmp_path / "changed")
    two_rates(tmp_path, weights=(0.9, 0.1))
    with pytest.raises(ConfigError, match="run.parameters: .* has changed since the run started"):
        api.resume(tmp_path / "changed")


# -------------------------------------------------------------------------------------- finding the file


def test_a_relative_path_is_read_from_the_current_directory_then_configs(tmp_path, monkeypatch):
    here, configs = tmp_path / "here", tmp_path / "configs"
    two_rates(here)
    posterior(configs / "calibrated" / "bhr.parquet", {"weight": [1.0], RATE: [9.0]})
    monkeypatch.setattr(importlib.import_module("sim.config.build"), "CONFIG_DIR", configs)
    monkeypatch.chdir(here)
    settings = build(make_cfg([*BASE, "run.parameters=posterior.parquet"])).run
    assert settings.parameters == str((here / "posterior.parquet").resolve())
    settings = build(make_cfg([*BASE, "run.parameters=calibrated/bhr.parquet"])).run
    assert settings.parameters == str((configs / "calibrated" / "bhr.parquet").resolve())


# ------------------------------------------------------------------------------------------ bad posteriors


def _parquet(path: Path, frame: pd.DataFrame, meta: dict | None = None) -> Path:
    """A Parquet file as someone might write it without write_posterior."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if meta is not None:
        table = table.replace_schema_metadata({**table.schema.metadata, b"tcp_sim": json.dumps(meta).encode()})
    pq.write_table(table, path)
    return path


BAD = {
    "missing": (lambda d: d / "nowhere.parquet", "no such file"),
    "directory": (lambda d: d, "is a directory, not a posterior file"),
    "not parquet": (lambda d: _text(d / "p.parquet", "weight,x.y\n1,2\n"), "is not a Parquet file"),
    "no weight": (lambda d: _parquet(d / "p.parquet", pd.DataFrame({RATE: [5.0]})), "has no weight column"),
    "no parameter": (lambda d: _parquet(d / "p.parquet", pd.DataFrame({"weight": [1.0]})), "no parameter columns"),
    "no draws": (
        lambda d: _parquet(d / "p.parquet", pd.DataFrame({"weight": [], RATE: []}, dtype=float)),
        "no draws",
    ),
    "negative weight": (
        lambda d: _parquet(d / "p.parquet", pd.DataFrame({"weight": [1.0, -0.5], RATE: [5.0, 6.0]})),
        "the weight of draw 1 is -0.5",
    ),
    "NaN weight": (
        lambda d: _parquet(d / "p.parquet", pd.DataFrame({"weight": [np.nan, 1.0], RATE: [5.0, 6.0]})),
        "the weight of draw 0 is nan",
    ),
    "zero weights": (
        lambda d: _parquet(d / "p.parquet", pd.DataFrame({"weight": [0.0, 0.0], RATE: [5.0, 6.0]})),
        "every weight is 0",
    ),
    "NaN value": (
        lambda d: _parquet(d / "p.parquet", pd.DataFrame({"weight": [1.0, 1.0], RATE: [5.0, np.nan]})),
        f"draw 1 has no finite value of {RATE}",
    ),
    "text value": (
        lambda d: _parquet(d / "p.parquet", pd.DataFrame({"weight": [1.0], RATE: ["five"]})),
        f"column {RATE} holds text, not numbers",
    ),
    "other kind": (
        lambda d: _parquet(d / "p.parquet", pd.DataFrame({"weight": [1.0], RATE: [5.0]}), {"kind": "sweep"}),
        "is not a posterior (its tcp_sim metadata says kind 'sweep')",
    ),
    "other system": (
        lambda d: posterior(d / "p.parquet", {"weight": [1.0], RATE: [5.0]}, system="england"),
        "is a posterior of england, but this run is bhr",
    ),
    "unknown key": (
        lambda d: posterior(d / "p.parquet", {"weight": [1.0], "tcp.crisis.unregistered_rates": [5.0]}),
        "sets tcp.crisis.unregistered_rates, which is not a key of this run's config",
    ),
    "list index out of range": (
        lambda d: posterior(d / "p.parquet", {"weight": [1.0], "tcp.beds.atu.los.components.7.weight": [0.1]}),
        "sets tcp.beds.atu.los.components.7.weight, which is not a key",
    ),
    "a section": (
        lambda d: posterior(d / "p.parquet", {"weight": [1.0], "tcp.crisis": [5.0]}),
        "sets tcp.crisis, which is a section of the config",
    ),
    "a name": (
        lambda d: posterior(d / "p.parquet", {"weight": [1.0], "system.name": [5.0]}),
        "sets system.name, which holds 'single' here, not a number",
    ),
    "a run key": (
        lambda d: posterior(d / "p.parquet", {"weight": [1.0], "run.seed": [5.0]}),
        "sets run.seed: a posterior sets what is simulated",
    ),
}


def _text(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_posterior_is_one_line_naming_run_parameters(tmp_path, case):
    make, expected = BAD[case]
    file = make(tmp_path)
    with pytest.raises(ConfigError) as e:
        api.prepare(make_cfg([*BASE, "run.replications=2", f"run.parameters={file}"]), tmp_path / "run")
    assert e.value.key == "run.parameters"
    assert expected in str(e.value) and len(str(e.value).splitlines()) == 1
    assert str(file) in str(e.value) or case == "missing"
    assert not (tmp_path / "run").exists()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_posterior_is_one_line(tmp_path):
    file = two_rates(tmp_path)
    file.chmod(0)
    with pytest.raises(ConfigError, match="run.parameters: .* cannot be read"):
        api.prepare(make_cfg([*BASE, f"run.parameters={file}"]))


@pytest.mark.parametrize(
    "columns, key, expected",
    [
        ({RATE: [5.0, -1.0]}, RATE, "-1 must be at least 0"),
        ({"tcp.beds.atu.schedule.0.beds": [10.0, 5.5]}, "tcp.beds.atu.schedule.0.beds", "could not be converted"),
    ],
)
def test_a_draw_the_config_refuses_names_its_key_and_draw(tmp_path, columns, key, expected):
    """A value the config's own checks refuse keeps their message and key, and says which draw of which
    file it came from; a whole float sets a count (10.0 beds is 10 beds)."""
    file = posterior(tmp_path / "p.parquet", {"weight": [0.5, 0.5], **columns})
    with pytest.raises(ConfigError) as e:
        api.prepare(make_cfg([*BASE, f"run.parameters={file}"]))
    assert e.value.key.startswith(key.split(".0.")[0]) and expected in str(e.value)
    assert f"(draw 1 of run.parameters {file.resolve()})" in str(e.value)


def test_a_bad_draw_found_in_a_worker_is_the_same_one_line(tmp_path):
    """A draw the checks at the start need not build (neither key's smallest nor largest value) is refused
    when a chunk builds it, in a worker process too, with the same ConfigError (it pickles whole)."""
    w0, w1 = "tcp.beds.atu.los.components.0.weight", "tcp.beds.atu.los.components.1.weight"
    rows = {"weight": [0.01, 0.01, 0.98], w0: [0.80, 0.85, 0.83], w1: [0.15, 0.10, 0.14]}  # draw 2 sums to 1.02
    file = posterior(tmp_path / "p.parquet", rows)
    p = Parameterised(make_cfg(BASE), read_posterior(file), seed=20160401)
    p.spec_of(0), p.spec_of(1)  # the draws of each key's extremes build
    with pytest.raises(ConfigError, match=r"weights sum to 1\.02, not 1 \(draw 2 of run.parameters"):
        run_replications(p, 4, chunk_size=2, workers=2)


# ------------------------------------------------------------------------------------------ command line


def sim(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_cli_a_missing_posterior_is_one_line_exit_2(tmp_path):
    p = sim("tcp=bhr", "run.parameters=/nonexistent", "run.replications=2", f"hydra.run.dir={tmp_path / 'r'}", cwd=ROOT)
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == ["config error: run.parameters: no such file: /nonexistent"]
    assert "Traceback" not in p.stdout + p.stderr and not (tmp_path / "r").exists()


def test_cli_runs_a_posterior_from_the_current_directory(tmp_path):
    two_rates(tmp_path)
    out = tmp_path / "run"
    p = sim(*BASE, "run.replications=4", "run.parameters=posterior.parquet", f"hydra.run.dir={out}", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["file"] == str((tmp_path / "posterior.parquet").resolve())
    assert manifest["status"] == "complete"
