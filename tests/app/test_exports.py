"""What the app's pages offer to download (sim.app.exports): charts as 200 dpi PNG and dateless SVG made
on click, tables as CSV and an Excel workbook with its heading rows, the overrides with the command that
runs them, and a run's own files, which are the command line's."""

from __future__ import annotations

import io
import struct
import tempfile
import zipfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook

from sim.api import compose, run
from sim.app import exports
from sim.app.exports import Download, chart_downloads, overrides_text, run_downloads, run_files, table_downloads
from sim.report.workbook import Sheet

PNG = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height in pixels of a PNG (its IHDR chunk)."""
    assert data[:8] == PNG
    return struct.unpack(">II", data[16:24])


def test_a_chart_is_drawn_when_its_button_is_clicked() -> None:
    drawn: list[int] = []

    def draw() -> plt.Figure:
        drawn.append(1)
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.plot([0, 1], [0, 1])
        return fig

    png, svg = chart_downloads("fan", draw, "Fan chart")
    assert not drawn  # nothing drawn until asked
    assert (png.label, png.file_name, png.mime) == ("Fan chart (PNG)", "fan.png", "image/png")
    assert (svg.file_name, svg.mime) == ("fan.svg", "image/svg+xml")
    assert png_size(png.content()) == (800, 600)  # 4 x 3 inches at the files' 200 dpi
    text = svg.content().decode()
    assert text.startswith("<?xml") and "<dc:date>" not in text  # no date: the same chart, the same file
    assert svg.content() == svg.content() and len(drawn) == 4  # drawn anew at each click
    assert plt.get_fignums() == []  # each figure closed once written


def test_tables_as_csv_and_one_workbook() -> None:
    a = pd.DataFrame({"month": ["2017-03"], "mean": [24.5]})
    b = pd.DataFrame({"figure": ["admissions"], "total": [31.0]})
    sheets = [Sheet("Milestones", a, "BHR: milestones", "people", "test"), Sheet("Key figures", b, "t", "u", "s")]
    *csvs, book = table_downloads("run_tables", sheets, "Tables")
    assert [d.file_name for d in csvs] == ["run_tables_milestones.csv", "run_tables_key_figures.csv"]
    assert pd.read_csv(io.BytesIO(csvs[0].content())).equals(a)
    assert (book.file_name, book.label) == ("run_tables.xlsx", "Tables (Excel)") and callable(book.data)
    wb = load_workbook(io.BytesIO(book.content()))
    assert wb.sheetnames == ["Milestones", "Key figures"]
    ws = wb["Milestones"]
    # heading rows (title, units, source), then the table
    assert [ws.cell(row=r, column=1).value for r in (1, 2, 3)] == ["BHR: milestones", "Units: people", "Source: test"]
    assert [c.value for c in ws[4]] == ["month", "mean"] and [c.value for c in ws[5]] == ["2017-03", 24.5]
    (one,) = table_downloads("comparison", sheets[:1])[:1]
    assert one.file_name == "comparison.csv" and one.label == "Table (CSV)"


def test_the_overrides_file_says_the_command_that_runs_it() -> None:
    ovr = ["tcp=bhr", "scenario=baseline", "tcp.ctr.coverage=0.9", "run.replications=200"]
    text = overrides_text(ovr)
    assert yaml.safe_load(text) == ovr
    assert (
        text.splitlines()[1] == "#   python -m sim tcp=bhr scenario=baseline tcp.ctr.coverage=0.9 run.replications=200"
    )
    assert overrides_text(ovr, "python -m sim.compare x").splitlines()[1] == "#   python -m sim.compare x"


def test_a_run_s_files_are_the_command_line_s(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The report, workbook and tables made for a download are those ``sim.api.run`` writes into a run
    directory (summary.csv byte for byte), and the temporary directory they were made in is gone."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    cfg = compose(["tcp=bhr", "run.replications=10", "run.years=1", "run.progress=false"])
    files = run_files(cfg)
    assert list((tmp_path / "tmp").iterdir()) == []  # nothing left behind
    mine = run(cfg, out_dir=tmp_path / "cli", progress=False)
    assert mine.run_dir is not None
    assert files["summary.csv"] == (tmp_path / "cli" / "summary.csv").read_bytes()
    assert files["report.html"].startswith(b"<!DOCTYPE html>") and files["report.docx"][:2] == b"PK"
    assert {"results.xlsx", "trajectory.csv", "manifest.json", "fan_inpatients.png", "fan_inpatients.svg"} <= set(files)
    assert (tmp_path / "cli" / "replications").is_dir()  # the raw chunks: not offered
    assert not any(name.startswith("replications") or name.startswith(".") for name in files)
    with zipfile.ZipFile(io.BytesIO(files["run.zip"])) as z:
        assert sorted(z.namelist()) == sorted(n for n in files if n != "run.zip")
    made: list[int] = []

    def once() -> dict[str, bytes]:
        made.append(1)
        return files

    offered = run_downloads(once)
    assert [d.file_name for d in offered] == [*exports.RUN_FILES, "run.zip"] and not made
    assert offered[0].content() == files["report.html"] and offered[-1].content() == files["run.zip"]
    assert isinstance(offered[1], Download) and offered[1].mime.endswith("wordprocessingml.document")
