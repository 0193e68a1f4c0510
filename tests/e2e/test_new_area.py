"""A planner's own area from the template: ``python -m sim.new_area`` writes a TCP and a census with every
figure to supply marked; unfilled, a run stops with one line naming the key; filled with made-up figures,
it runs end to end from its own config directory, its report names its own files, and its re-run command
(with --config-dir) reproduces it, as ``compose(config_dir=)`` does from Python."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from sim import api
from sim.config import ConfigError
from sim.new_area import new_area

ROOT = Path(__file__).resolve().parents[2]

#: Made-up figures for every SUPPLY value, in the order the template asks for them.
FIGURES = {
    "adults": "250000",
    "children": "66000",
    "people": "{red: 5, amber: 12, green: 0}",
    "children_register": "{red: 0, amber: 1, green: 0}",
    "unregistered_rate": "9.0",
    "places": "1",
    "beds": ["4", "3", "1", "0"],  # atu, low, medium secure, CAMHS
    "trajectory": ["6", "4"],
}
CENSUS_ROWS = """\
1,atu,in,2023-11-02,,,,
2,atu,in,2024-02-20,,,,
3,low_secure,in,2021-06-01,,yes,2024-01-10,funding
4,medium_secure,out,2015-05-05,need,,,
5,atu,out,2024-03-01,beds,,,
6,low_secure,in,2022-09-14,,,,
"""


def fill(text: str) -> str:
    """The template with every ??? replaced by FIGURES."""
    text = re.sub(r'adults: "\?\?\?"', f"adults: {FIGURES['adults']}", text)
    text = re.sub(r'children: "\?\?\?"', f"children: {FIGURES['children']}", text)
    text = text.replace('people: {red: "???", amber: "???", green: "???"}', f"people: {FIGURES['people']}")
    text = text.replace(
        'children: {red: "???", amber: "???", green: "???"}', f"children: {FIGURES['children_register']}"
    )
    text = text.replace('unregistered_rate: "???"', f"unregistered_rate: {FIGURES['unregistered_rate']}")
    text = text.replace('places: "???"', f"places: {FIGURES['places']}")
    for beds in FIGURES["beds"]:
        text = text.replace('beds: "???"', f"beds: {beds}", 1)
    for planned in FIGURES["trajectory"]:
        text = text.replace('inpatients: "???"', f"inpatients: {planned}", 1)
    assert "???" not in re.sub(r"#.*", "", text), "a SUPPLY value left unfilled"
    return text


def sim(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_the_template_marks_what_to_supply_and_names_its_defaults(tmp_path: Path) -> None:
    made = new_area("mine", tmp_path / "area", title="My Area", month="2024-03", today=date(2024, 5, 2))
    text = made.tcp_file.read_text()
    keys = [line for line in text.splitlines() if '"???"' in line]
    assert len(keys) == 12 and all("SUPPLY" in line or "- {date" in line or ": {red" in line for line in keys)
    assert text.count("DEFAULT (") >= 20 and text.count("MEANS:") >= 15 and text.count("ESTIMATE:") >= 12
    assert "census: census/mine_2024-03.csv" in text and 'date: "2025-03"' in text  # the next March a year on
    assert made.census_file.name == "mine_2024-03.csv" and "SUPPLY" in made.census_file.read_text()
    assert made.command.endswith(f"--config-dir {(tmp_path / 'area').resolve()} tcp=mine run.start=2024-04")
    with pytest.raises(ConfigError, match="exists already"):
        new_area("mine", tmp_path / "area", month="2024-03")
    assert made.tcp_file.read_text() == text  # never overwritten
    with pytest.raises(ConfigError, match="^name: "):
        new_area("../escape", tmp_path / "x")


def test_an_unfilled_area_stops_with_one_line_naming_the_key(tmp_path: Path) -> None:
    p = subprocess.run(
        [sys.executable, "-m", "sim.new_area", "mine", "--out", str(tmp_path / "a"), "--month", "2024-03"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert p.returncode == 0 and "fill in every ???" in p.stdout
    q = sim(
        "--config-dir",
        str(tmp_path / "a"),
        "tcp=mine",
        "run.start=2024-04",
        f"hydra.run.dir={tmp_path / 'r'}",
        cwd=ROOT,
    )
    assert q.returncode == 2 and q.stderr.count("\n") == 1 and "tcp.population.adults" in q.stderr, q.stderr
    assert not (tmp_path / "r").exists()


def test_a_filled_area_runs_end_to_end_and_its_rerun_reproduces_it(tmp_path: Path) -> None:
    made = new_area("mine", tmp_path / "area", title="My Area", month="2024-03")
    made.tcp_file.write_text(fill(made.tcp_file.read_text()))
    census = made.census_file.read_text()
    made.census_file.write_text(census.replace("1,???,???,???,,,,\n", CENSUS_ROWS))
    out = tmp_path / "run"
    args = ["--config-dir", str(made.folder), "tcp=mine", "run.start=2024-04", "run.years=2", "run.replications=6"]
    p = sim(*args, f"hydra.run.dir={out}", cwd=tmp_path)  # from another directory than the project's
    assert p.returncode == 0, p.stderr
    summary = pd.read_csv(out / "summary.csv")
    start = summary[(summary.metric == "inpatients") & (summary.month == "2024-03")]
    assert float(start["mean"].iloc[0]) == 6  # the made-up census
    report = (out / "report.md").read_text()
    assert "My Area" in report and "mine.yaml" in report and "No value differs" in report
    assert "| tcp/mine.yaml | `children` |" in report  # its own file's assumptions
    assert (out / "inputs" / "census" / "mine_2024-03.csv").read_text() == made.census_file.read_text()
    m = json.loads((out / "manifest.json").read_text())
    assert m["config_dirs"] == [str(made.folder.resolve())] and "--config-dir" in m["rerun"]
    words = shlex.split(m["rerun"])
    again = tmp_path / "again"
    q = sim(*words[3:], f"hydra.run.dir={again}", cwd=ROOT)
    assert q.returncode == 0, q.stderr
    pd.testing.assert_frame_equal(pd.read_csv(again / "summary.csv"), summary)
    cfg = api.compose(["tcp=mine", "run.start=2024-04", "run.years=2", "run.replications=6"], config_dir=made.folder)
    pd.testing.assert_frame_equal(
        api.run(cfg, progress=False).summary.reset_index(drop=True), summary, check_dtype=False, atol=1e-5
    )
