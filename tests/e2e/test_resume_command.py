"""The resume command a stopped run prints is safe to paste (issue 16, point 7): one word for a POSIX
shell, and a string for Hydra's override grammar, whatever the run directory's path holds."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import make_cfg

from sim.api import compose, resume_command, run

ROOT = Path(__file__).resolve().parents[2]

#: Names a run directory may have that a shell or Hydra would otherwise read: spaces, quotes, non-ASCII,
#: command substitution, ;, and Hydra's = and , (a sweep job's directory is named by its overrides).
AWKWARD = [
    "with space",
    "it's",
    'say "hi"',
    "both ' and \"",
    "café",
    "日本",
    "$(touch x)",
    "`touch y`",
    "a;touch z",
    "k=v",
    "a,b",
    "${HOME}",
]


@pytest.mark.parametrize(
    "name", [*AWKWARD, "back\\slash", "ends in\\", "\\'", "\\${x}", 'a\\"b', "tab\there", "~user", "run"]
)
def test_the_resume_command_reads_back_as_the_path_in_the_shell_and_in_hydra(name: str) -> None:
    path = f"/tmp/runs/{name}/x"
    words = shlex.split(resume_command(path))
    assert words[:3] == ["python", "-m", "sim"] and len(words) == 4
    assert compose([words[3]]).run.resume == path  # Hydra's parse, and OmegaConf's reading of the value
    relative = resume_command(name)  # a relative path too (no "/")
    assert compose([shlex.split(relative)[3]]).run.resume == name


def test_a_plain_path_stays_bare() -> None:
    assert resume_command("/tmp/outputs/2026-01-01/12-00-00.5_bhr_baseline") == (
        "python -m sim run.resume=/tmp/outputs/2026-01-01/12-00-00.5_bhr_baseline"
    )


@pytest.fixture(scope="module")
def stopped(tmp_path_factory) -> Path:
    """A run stopped after its first chunk (its second chunk not written, its manifest interrupted)."""
    out = tmp_path_factory.mktemp("stopped") / "run"
    run(make_cfg(["run.replications=4", "run.chunk_size=2", "run.years=1", "run.engine=numba"]), out_dir=out)
    (out / "replications" / "chunk-00001.parquet").unlink()
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["status"] = "interrupted"
    (out / "manifest.json").write_text(json.dumps(manifest))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", AWKWARD)
def test_the_printed_resume_command_pasted_into_bash_completes_the_run(name: str, stopped: Path, tmp_path):
    """Each awkward path: the command as printed, run by bash from an empty directory, completes the run
    there, creates nothing (no x, y or z a command substitution would touch) and leaves nothing behind
    (the directory Hydra made for the resume, and its date folder, go)."""
    out = tmp_path / name / "run"
    out.parent.mkdir()
    shutil.copytree(stopped, out)
    here = tmp_path / "cwd"
    here.mkdir()
    command = resume_command(out).replace("python", shlex.quote(sys.executable), 1) + " run.progress=false"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.run(["bash", "-c", command], cwd=here, capture_output=True, text=True, timeout=300, env=env)
    assert p.returncode == 0, p.stderr
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    assert (out / "replications" / "chunk-00001.parquet").is_file()
    assert sorted(p.name for p in here.iterdir()) == []  # nothing touched, no outputs/<date>/ left
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["cwd", name])
