"""A run says truthfully what it ran: every value that differs from the shipped files (in the manifest,
the report's title and its table), no source comment beside a value the run changed, a directory name
that is not the scenario's alone, the TCP files and census it read kept beside it, a re-run command that
reproduces it, and '+dirty' only for changes to tracked files."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from helpers import make_cfg

from sim import api
from sim.config import provenance

ROOT = Path(__file__).resolve().parents[2]


def sim(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_changes_tag_counts_parameters_only_in_any_order() -> None:
    a = provenance.changes_tag(["tcp=bhr", "run.replications=5", "tcp.crisis.unregistered_rate=8", "tcp.ctr.avert=0.5"])
    b = provenance.changes_tag(["tcp.ctr.avert=0.5", "run.seed=3", "tcp.crisis.unregistered_rate=8"])
    assert a == b and a.startswith("-changed-") and len(a) == len("-changed-") + 6
    assert provenance.changes_tag(["tcp=surrey", "scenario=full_ctr_coverage", "run.years=2", "hydra.run.dir=x"]) == ""
    assert provenance.changes_tag(["run.parameters=post.parquet"]) != ""  # a posterior changes the values
    assert provenance.changes_tag(["tcp.crisis.unregistered_rate=9"]) != a


@pytest.mark.parametrize("word", ["plain/path-1.csv", "it's", "$(touch /tmp/pwned)", "`id`", "a b", "é", "~/x"])
def test_the_rerun_command_reads_back_as_the_same_words_and_runs_nothing(word: str) -> None:
    command = provenance.rerun_command([word])
    assert shlex.split(command) == ["python", "-m", "sim", word]
    quoted = command.removeprefix("python -m sim ")
    assert quoted == word or (quoted.startswith("'") and quoted.endswith("'"))


def test_a_python_config_is_compared_with_its_files_and_its_rerun_composes_to_the_same_values() -> None:
    cfg = make_cfg(["tcp.crisis.unregistered_rate=8", "run.replications=6", "run.years=1"])
    record = api._provenance(cfg, None)
    assert record["changes"] == [{"key": "tcp.crisis.unregistered_rate", "value": 8.0, "shipped": 17.0}]
    assert not record["as_shipped"]
    words = shlex.split(record["rerun"])
    assert words[:3] == ["python", "-m", "sim"] and "tcp.crisis.unregistered_rate=8.0" in words
    again = api.compose(words[3:])
    assert provenance.differences(again, cfg) == []  # the command composes every value the config had


def test_a_changed_run_is_not_called_the_baseline_and_its_rerun_reproduces_it(tmp_path: Path) -> None:
    p = sim("run.replications=4", "run.years=1", "run.chunk_size=2", "tcp.crisis.unregistered_rate=8", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    (out,) = (tmp_path / "outputs").glob("*/*")
    assert out.name.endswith("_bhr_baseline" + provenance.changes_tag(["tcp.crisis.unregistered_rate=8"]))
    m = json.loads((out / "manifest.json").read_text())
    assert m["changes"] == [{"key": "tcp.crisis.unregistered_rate", "value": 8.0, "shipped": 17.0}]
    report = (out / "report.md").read_text()
    assert report.splitlines()[0].endswith("scenario baseline, 1 value changed")
    assert "| `tcp.crisis.unregistered_rate` | 8.0 | 17.0 |" in report
    assert "This is the baseline" not in report
    row = next(line for line in report.splitlines() if line.startswith("| `crisis.unregistered_rate` |"))
    assert "seed 001" not in row and "it ran 8.0" in row  # the source's comment is not shown for 8
    assert (out / "inputs" / "tcp" / "bhr.yaml").is_file() and (out / "inputs" / "census" / "bhr_2016-03.csv").is_file()
    assert "unregistered_rate: 8.0" in (out / "inputs" / "tcp" / "bhr.yaml").read_text()
    words = shlex.split(m["rerun"])
    again = tmp_path / "again"
    q = sim(*words[3:], f"hydra.run.dir={again}", cwd=tmp_path)
    assert q.returncode == 0, q.stderr
    pd.testing.assert_frame_equal(pd.read_csv(again / "summary.csv"), pd.read_csv(out / "summary.csv"))


def test_the_shipped_scenario_is_the_baseline_and_its_directory_is_named_for_it(tmp_path: Path) -> None:
    p = sim("run.replications=2", "run.years=1", "run.seed=5", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    (out,) = (tmp_path / "outputs").glob("*/*")
    assert out.name.endswith("_bhr_baseline")
    m = json.loads((out / "manifest.json").read_text())
    assert m["changes"] == [] and m["as_shipped"]
    assert "This is the baseline" in (out / "report.md").read_text()


def test_a_run_from_an_empty_hospital_or_after_its_census_says_so(tmp_path: Path) -> None:
    p = sim("run.replications=2", "run.years=1", "tcp.census=null", f"hydra.run.dir={tmp_path / 'a'}", cwd=ROOT)
    assert p.returncode == 0, p.stderr
    assert p.stderr.count("note: bhr starts from an empty hospital") == 1
    assert "**Note.** bhr starts from an empty hospital" in (tmp_path / "a" / "report.md").read_text()
    notes = provenance.start_notes([("bhr", Path("bhr_2016-03.csv"), "2016-03")], "2017-04", 0.0)
    assert len(notes) == 1 and "13 months later" in notes[0]
    assert provenance.start_notes([("bhr", Path("bhr_2016-03.csv"), "2016-03")], "2016-04", 0.0) == []
    assert provenance.start_notes([("x", None, None)], "2016-04", 2.0) == []  # a warm-up fills the beds


def test_dirty_counts_tracked_changes_only(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    (clone / "notes.txt").write_text("untracked")  # a user's file, a venv, outputs: not a code change
    (clone / ".venv").symlink_to(sys.prefix)  # a link is not matched by .gitignore's ".venv/"

    def commit() -> str:
        code = "from sim.api import git_commit; print(git_commit())"
        env = {"PYTHONPATH": str(clone), "PATH": "/usr/bin:/bin"}
        p = subprocess.run([sys.executable, "-c", code], cwd=clone, capture_output=True, text=True, env=env)
        return p.stdout.strip()

    assert not commit().endswith("+dirty")
    (clone / "README.md").write_text("changed")
    assert commit().endswith("+dirty")
