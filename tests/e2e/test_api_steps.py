"""``run`` is prepare, replicate and publish, each callable on its own: preparing writes nothing without a
directory, replicating again gives the same replications, and a bad auto rule stops before any file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from helpers import make_cfg

from sim import api
from sim.config import ConfigError


def test_replicate_twice_gives_the_same_table(tmp_path) -> None:
    """Two calls of replicate on one prepared run (no directory) run the same replications, and publish
    gives what run gives."""
    cfg = make_cfg(["run.replications=6", "run.chunk_size=3", "run.progress=false"])
    prepared = api.prepare(cfg)
    assert prepared.run_dir is None and prepared.settings.replications == 6
    first, second = api.replicate(prepared), api.replicate(prepared)
    assert first.count == second.count == 6
    pd.testing.assert_frame_equal(first.monthly, second.monthly)
    assert prepared.manifest["replications_done"] == 6  # counted once a call, not added up
    published = api.publish(prepared, second)
    whole = api.run(cfg)
    pd.testing.assert_frame_equal(published.summary, whole.summary)
    pd.testing.assert_frame_equal(published.trajectory, whole.trajectory)
    assert list(tmp_path.iterdir()) == []


def test_a_bad_auto_metric_stops_before_the_directory_is_made(tmp_path) -> None:
    cfg = make_cfg(["run.replications=auto", "run.auto.metric=inpatient", "run.progress=false"])
    with pytest.raises(ConfigError, match="run.auto.metric"):
        api.prepare(cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_compare_and_capacity_refuse_auto_replications(tmp_path: Path) -> None:
    """A comparison pairs replications and the capacity job runs the same ones at every bed number, so
    ``run.replications=auto`` is refused with one line naming the key and exit 2 (it was a traceback)."""
    from sim import compare

    cfgs = compare.compose_scenarios(["baseline", "full_ctr_coverage"], ["tcp=bhr", "run.replications=auto"])
    with pytest.raises(ConfigError, match="run.replications: auto"):
        compare.compare(cfgs, "baseline", progress=False)
    script = Path(__file__).resolve().parents[2] / "experiments" / "atu_capacity.py"
    done = subprocess.run(
        [sys.executable, str(script), "run.replications=auto", f"hydra.run.dir={tmp_path / 'job'}"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        "config error: run.replications: auto: every bed number runs the same replications; give a number"
    ]


def test_a_second_run_into_one_directory_is_refused_in_python_terms_unless_overwrite(tmp_path) -> None:
    """The README's snippet run twice: the second call says out_dir and overwrite=True (not hydra.run.dir);
    overwrite replaces the earlier run's files, the same results again, but never a file a run does not
    write; the result's repr is one short line."""
    cfg = make_cfg(["run.replications=4", "run.years=1", "run.chunk_size=2", "run.progress=false"])
    out = tmp_path / "r"
    first = api.run(cfg, out_dir=out)
    assert "\n" not in repr(first) and len(repr(first)) < 200 and "scenario='baseline'" in repr(first)
    with pytest.raises(FileExistsError, match=r"^out_dir: .*overwrite=True") as refused:
        api.run(cfg, out_dir=out)
    assert "hydra" not in str(refused.value)
    (out / "mine.txt").write_text("x")
    with pytest.raises(ConfigError, match="does not write .mine.txt"):
        api.run(cfg, out_dir=out, overwrite=True)
    assert (out / "mine.txt").read_text() == "x" and (out / "manifest.json").is_file()
    (out / "mine.txt").unlink()
    again = api.run(cfg, out_dir=out, overwrite=True)
    pd.testing.assert_frame_equal(again.summary, first.summary)
    assert again.manifest["status"] == "complete" and len(list((out / "replications").iterdir())) == 2


def test_the_manifest_is_written_whole_or_not_at_all(tmp_path, monkeypatch) -> None:
    """A write that fails part-way (a full disk) leaves the last good manifest.json, so the run can
    still be resumed; no temporary file is left by a write that succeeds."""
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    api._write_manifest(run_dir, {"status": "running", "replications_done": 50})
    assert not (run_dir / "manifest.json.tmp").exists()
    real = Path.write_text

    def full_disk(self: Path, text: str, *args: object, **kwargs: object) -> int:
        real(self, text[:10])  # a part written, then the disk is full
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full_disk)
    with pytest.raises(OSError):
        api._write_manifest(run_dir, {"status": "running", "replications_done": 100})
    monkeypatch.undo()
    assert json.loads((run_dir / "manifest.json").read_text())["replications_done"] == 50
