"""What a page offers to download, without Streamlit: charts as PNG (at the files' 200 dpi) and SVG,
tables as CSV and one Excel workbook, a run's own files (report.html, report.docx, results.xlsx, the CSVs
and charts, made by ``sim.api.run`` into a temporary directory, so they are the command line's files
byte for byte but for the times), and the overrides as YAML with the equivalent command line.

A ``Download`` holds its bytes or a function that makes them: the page passes the function to Streamlit,
which calls it only when the button is clicked (a Word report is not built for a page nobody downloads).
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import yaml
from omegaconf import DictConfig

from sim.api import run
from sim.config.provenance import rerun_command
from sim.plots.frame import FILE_DPI, save_svg
from sim.report.workbook import Sheet, write_workbook

#: The MIME type of each file kind offered.
MIME = {
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".html": "text/html",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".yaml": "application/x-yaml",
    ".zip": "application/zip",
    ".md": "text/markdown",
    ".json": "application/json",
}
#: A run's files offered one by one (the rest are in its zip), with their labels.
RUN_FILES = {
    "report.html": "Report (HTML)",
    "report.docx": "Report (Word)",
    "results.xlsx": "Tables (Excel)",
    "summary.csv": "Bands (CSV)",
    "trajectory.csv": "Milestones (CSV)",
}

Data = bytes | Callable[[], bytes]


@dataclass(frozen=True)
class Download:
    """One download button: its label, the file's name, its bytes (or the function that makes them)."""

    label: str
    file_name: str
    data: Data

    @property
    def mime(self) -> str:
        return MIME.get(Path(self.file_name).suffix, "application/octet-stream")

    def content(self) -> bytes:
        """The bytes (made now if they are made on demand)."""
        return self.data() if callable(self.data) else self.data


def figure_bytes(fig: plt.Figure, fmt: str) -> bytes:
    """A figure as PNG (``FILE_DPI``, the command line's resolution) or SVG (no date, fixed ids) bytes."""
    buf = io.BytesIO()
    if fmt == "svg":
        save_svg(fig, buf)
    else:
        fig.savefig(buf, format="png", dpi=FILE_DPI)
    return buf.getvalue()


def chart_downloads(stem: str, draw: Callable[[], plt.Figure], what: str = "Chart") -> list[Download]:
    """The chart ``draw`` makes, as ``stem``.png and ``stem``.svg, each drawn when its button is clicked."""

    def made(fmt: str) -> Callable[[], bytes]:
        def make() -> bytes:
            fig = draw()
            try:
                return figure_bytes(fig, fmt)
            finally:
                plt.close(fig)

        return make

    return [
        Download(f"{what} (PNG)", f"{stem}.png", made("png")),
        Download(f"{what} (SVG)", f"{stem}.svg", made("svg")),
    ]


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    """``sheets`` as an .xlsx workbook's bytes (``sim.report.workbook``: title, units and source rows)."""
    with tempfile.TemporaryDirectory(prefix="tcp-sim-app-") as tmp:
        return write_workbook(Path(tmp) / "book.xlsx", sheets).read_bytes()


def table_downloads(stem: str, sheets: Sequence[Sheet], what: str = "Table") -> list[Download]:
    """Each sheet as a CSV (``stem``.csv for one sheet, ``stem``_<sheet>.csv for more), and all of them
    as one workbook, ``stem``.xlsx, made when its button is clicked."""
    out = []
    for sheet in sheets:
        name = f"{stem}.csv" if len(sheets) == 1 else f"{stem}_{sheet.name.lower().replace(' ', '_')}.csv"
        label = f"{what} (CSV)" if len(sheets) == 1 else f"{sheet.name} (CSV)"
        out.append(Download(label, name, sheet.frame.to_csv(index=False).encode()))
    out.append(Download(f"{what} (Excel)", f"{stem}.xlsx", lambda: workbook_bytes(sheets)))
    return out


def overrides_text(ovr: Sequence[str], command: str | None = None) -> str:
    """The overrides as a YAML list (Hydra's overrides.yaml), headed by the command line that runs them."""
    line = command or rerun_command(list(ovr))
    return f"# the same run from the command line:\n#   {line}\n" + yaml.safe_dump(list(ovr), sort_keys=False)


def overrides_download(ovr: Sequence[str], command: str | None = None) -> Download:
    return Download("Overrides (YAML)", "overrides.yaml", overrides_text(ovr, command).encode())


def run_files(cfg: DictConfig) -> dict[str, bytes]:
    """The files ``python -m sim`` writes for ``cfg`` (run into a temporary directory, removed after):
    name -> bytes, the charts by their own names, plus ``run.zip`` holding every file but the raw
    replications' Parquet chunks (tens of MB for England; the page's tables are made from them)."""
    with tempfile.TemporaryDirectory(prefix="tcp-sim-app-") as tmp:
        out_dir = Path(tmp) / "run"
        run(cfg, out_dir=out_dir, progress=False)
        files = {
            str(p.relative_to(out_dir)): p.read_bytes()
            for p in sorted(out_dir.rglob("*"))
            if p.is_file() and not p.name.startswith(".") and not {"replications", "events"} & set(p.parts)
        }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    files["run.zip"] = buf.getvalue()
    return files


def run_downloads(files: Callable[[], dict[str, bytes]]) -> list[Download]:
    """A run's report, workbook and tables, and the zip of all its files; ``files`` makes them (once,
    on the first click: the page caches it)."""

    def one(name: str) -> Callable[[], bytes]:
        return lambda: files()[name]

    offered = [Download(label, name, one(name)) for name, label in RUN_FILES.items()]
    return [*offered, Download("Every file of the run (zip)", "run.zip", one("run.zip"))]
