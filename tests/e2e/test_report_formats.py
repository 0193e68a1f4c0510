"""The report that travels (issue 14, point 4): a real run's report.html is one self-contained file (every
chart embedded, no link out of it), report.docx (read back with python-docx) has the sections, the key
results table and the charts as pictures, results.xlsx (read back with openpyxl) has its sheets headed by
units and source with the run's numbers as numbers, and the report lists the assumptions with the values
the run used and validates the run against its area's recorded figures."""

from __future__ import annotations

import base64
import math
import re

import docx
import numpy as np
import openpyxl
import pandas as pd
import pytest

from sim.api import compose, run
from sim.config import CONFIG_DIR, build_spec
from sim.observed import read_observed
from sim.report import portable_markdown
from sim.report.sections import OBSERVED_DIR, calibration_fit
from sim.report.sources import portable
from sim.report.workbook import HEADER_ROW, Sheet, write_workbook
from sim.runner.runner import read_chunks

#: A value of an assumption changed on the command line: the report must show the run's value, not the file's.
JOIN_RATE = 9.5
SECTIONS = (
    "1. Objectives",
    "2. Logic",
    "3. Data",
    "4. Experimentation",
    "5. Implementation",
    "6. Code access",
    "7. Key results",
    "8. Verification and validation",
    "9. Assumptions",
    "10. Charts",
)


@pytest.fixture(scope="module")
def bhr_run(tmp_path_factory):
    """BHR over two years at 20 replications, written to a run directory, with one assumption changed."""
    cfg = compose(
        ["tcp=bhr", "run.replications=20", "run.years=2", "run.progress=false", f"tcp.register.join_rate={JOIN_RATE}"]
    )
    return run(cfg, out_dir=tmp_path_factory.mktemp("formats") / "r")


@pytest.fixture(scope="module")
def pooled_run(tmp_path_factory):
    """BHR with the pooled budget's rules (finance tables written), one year, 5 replications."""
    cfg = compose(["tcp=bhr", "scenario=pooled_budget", "run.replications=5", "run.years=1", "run.progress=false"])
    return run(cfg, out_dir=tmp_path_factory.mktemp("pooled") / "r")


# ------------------------------------------------------------------------------------------ report.html


def _references(page: str) -> list[str]:
    """Every href and src of an HTML page, and any url(...) of its style."""
    return re.findall(r"""(?:href|src)\s*=\s*["']?([^"'\s>]*)""", page) + re.findall(r"url\(([^)]*)\)", page)


@pytest.mark.parametrize("which", ["bhr_run", "pooled_run"])
def test_html_embeds_every_chart_and_links_nowhere(which, request):
    """Every chart PNG of the run directory is in report.html as a data: image (the file's own bytes),
    and no href or src points to a file or a site: only ``#`` anchors and data: URIs."""
    result = request.getfixturevalue(which)
    page = (result.run_dir / "report.html").read_text()
    charts = sorted(result.run_dir.glob("*.png"))
    assert len(charts) >= 4  # the fan charts (and the finance chart with a pooled budget)
    for chart in charts:
        assert f"data:image/png;base64,{base64.b64encode(chart.read_bytes()).decode()}" in page, chart.name
    refs = _references(page)
    assert len([r for r in refs if r.startswith("data:image/png;base64,")]) == len(charts)
    assert [r for r in refs if not (r.startswith("#") or r.startswith("data:"))] == []
    assert not re.search(r"https?://|file:|<link|<script|<iframe", page)
    assert "shared/" not in page and not re.search(r"\d{3}_[0-9a-f]{16}\.txt", page)


def test_markdown_links_to_no_file(bhr_run):
    """report.md has no link to a file (only images of the run's charts, by their names in the run
    directory) and no path outside the repository."""
    text = (bhr_run.run_dir / "report.md").read_text()
    targets = re.findall(r"(!?)\[[^\]]*\]\(([^)]*)\)", text)
    assert targets and all(bang == "!" and (bhr_run.run_dir / target).is_file() for bang, target in targets)
    assert "../" not in text and "shared/" not in text


def test_portable_names_the_paths_outside_the_repository():
    """A seed document's path (any of the configs' forms) becomes "seed NNN", a shared note's its file name,
    a Markdown link to a file its text; an image and an anchor stay."""
    assert portable("(../shared/seeds/000_c99b38896d54c3d9.txt, seed 000)") == "(seed 000, seed 000)"
    assert portable("seeds/001_22a6cabd1fb958db.txt: 26 beds") == "seed 001: 26 beds"
    assert portable("/work/shared/PARAMETERS.md; ../shared/DESIGN.md") == "PARAMETERS.md; DESIGN.md"
    assert portable_markdown("[configs/tcp/bhr.yaml](../../configs/tcp/bhr.yaml) ![c](fan.png) [s](#s8)") == (
        "configs/tcp/bhr.yaml ![c](fan.png) [s](#s8)"
    )


# ------------------------------------------------------------------------------------------ report.docx


def test_docx_has_the_sections_key_results_and_charts(bhr_run):
    """report.docx opened with python-docx: the title, each section heading in order, the milestones
    table with the run's P(at or under), and every chart as an inline picture."""
    document = docx.Document(str(bhr_run.run_dir / "report.docx"))
    headings = [p.text for p in document.paragraphs if p.style is not None and p.style.name.startswith("Heading")]
    assert [h for h in headings if h in SECTIONS] == list(SECTIONS)
    assert document.core_properties.title == f"{bhr_run.spec.title}: scenario baseline, 1 value changed"  # join_rate
    tables = {tuple(c.text for c in t.rows[0].cells): t for t in document.tables}
    key = next(t for head, t in tables.items() if "P(at or under)" in head)
    rows = [[c.text for c in r.cells] for r in key.rows[1:]]
    for _, m in bhr_run.trajectory.iterrows():
        assert [m["metric"], m["month"], f"{m['planned']:g}", f"{100 * m['p_at_or_under']:.1f}%"] in [
            r[:4] for r in rows
        ]
    assert len(document.inline_shapes) == len(list(bhr_run.run_dir.glob("*.png")))
    assert any(h == "9. Assumptions" for h in headings)
    body = "\n".join(p.text for p in document.paragraphs)
    assert "Barking Havering and Redbridge Transforming Care Partnership NHSE Stocktake" in body


# ------------------------------------------------------------------------------------------ results.xlsx


def test_xlsx_sheets_have_units_and_source(bhr_run, pooled_run):
    """results.xlsx opened with openpyxl: the sheets in order (finance only with a pooled budget), each
    headed by a title, a units line and a source line naming the run, above frozen column names."""
    book = openpyxl.load_workbook(bhr_run.run_dir / "results.xlsx")
    assert book.sheetnames == ["Run", "Summary", "Trajectory", "Assumptions", "Validation"]
    pooled = openpyxl.load_workbook(pooled_run.run_dir / "results.xlsx")
    assert pooled.sheetnames[-2:] == ["Finance by month", "Finance by year"]
    for ws in [*book.worksheets, *pooled.worksheets]:
        assert ws["A1"].value and ws["A1"].font.bold, ws.title
        assert str(ws["A2"].value).startswith("Units: ") and len(str(ws["A2"].value)) > len("Units: ") + 3, ws.title
        assert str(ws["A3"].value).startswith("Source: "), ws.title
        assert ws.freeze_panes == f"A{HEADER_ROW + 1}" and ws.cell(HEADER_ROW, 1).font.bold, ws.title
    assert f"seed {bhr_run.manifest['seed']}" in book["Summary"]["A3"].value
    assert "finance_years.csv" in pooled["Finance by year"]["A3"].value


def _table(ws) -> pd.DataFrame:
    """A sheet's table read back: the column names of the header row and the rows below, as stored."""
    rows = list(ws.iter_rows(min_row=HEADER_ROW, values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


def test_xlsx_trajectory_is_trajectory_csv(bhr_run):
    """The trajectory sheet's P(at or under) (and its interval) are numbers, equal to trajectory.csv's."""
    book = openpyxl.load_workbook(bhr_run.run_dir / "results.xlsx")
    sheet = _table(book["Trajectory"])
    csv = pd.read_csv(bhr_run.run_dir / "trajectory.csv")
    assert len(sheet) == len(csv) >= 2
    for column in ("planned", "p_at_or_under", "p_low", "p_high", "mean", "p95"):
        assert all(isinstance(v, (int, float)) for v in sheet[column]), column
        np.testing.assert_allclose(sheet[column].astype(float), csv[column], rtol=1e-5)
    assert list(sheet["month"]) == list(csv["month"])
    summary = _table(book["Summary"])
    assert {"label", "unit"} <= set(summary.columns) and len(summary) == len(bhr_run.summary)
    assert set(summary.loc[summary["metric"] == "inpatients", "unit"]) == {"people"}


def test_xlsx_finance_sheet_is_finance_years_csv(pooled_run):
    """A pooled budget run's finance sheet holds finance_years.csv's numbers as numbers."""
    book = openpyxl.load_workbook(pooled_run.run_dir / "results.xlsx")
    sheet = _table(book["Finance by year"])
    csv = pd.read_csv(pooled_run.run_dir / "finance_years.csv")
    assert len(sheet) == len(csv)
    np.testing.assert_allclose(sheet["mean"].astype(float), csv["mean"], rtol=1e-9)


# ------------------------------------------------------------------------------------------ assumptions


def test_assumptions_list_the_values_the_run_used(bhr_run):
    """Section 9 lists every value the configs mark "assumption", with the run's value: the join rate
    changed on the command line shows as changed, in the report and the workbook."""
    text = (bhr_run.run_dir / "report.md").read_text()
    section = text[text.index("## 9. Assumptions") :]
    assert re.search(
        rf"^\| tcp/bhr\.yaml \| `register\.join_rate` \| {JOIN_RATE:g} \| assumption: about 8 new members a year",
        section,
        flags=re.M,
    )
    assert re.search(
        r"^\| tcp/bhr\.yaml \| `ctr\.avert` \| 0\.3 \| assumption: no national figure found", section, flags=re.M
    )
    assumptions = _table(openpyxl.load_workbook(bhr_run.run_dir / "results.xlsx")["Assumptions"])
    row = assumptions[assumptions["key"] == "register.join_rate"]
    assert list(row["value"]) == [f"{JOIN_RATE:g}"] and "assumption" in row["comment"].iloc[0]
    assert len(assumptions) == len(re.findall(r"^\| tcp/bhr\.yaml \| `", section, flags=re.M)) > 30


# ------------------------------------------------------------------------------------------ validation


def test_validation_compares_the_run_with_recorded_figures(bhr_run):
    """Section 8 states the suite's checks and lists each figure of data/observed/bhr.csv inside the run's
    months (not the start state, which is the census) against the run's own band: the median of admissions
    April 2016 to March 2017 is the median over replications of the run's chunk files."""
    text = (bhr_run.run_dir / "report.md").read_text()
    section = text[text.index("## 8. Verification") : text.index("## 9. Assumptions")]
    for check in ("Erlang B", "Little's law", "M/G/infinity", "Engine equivalence", "Conservation of people"):
        assert check in section
    labels = bhr_run.spec.calendar.labels  # the start state (2016-03, the census: an input) is not among them
    figures = [f for f in read_observed(OBSERVED_DIR / "bhr.csv") if labels[0] <= f.start and f.month <= labels[-1]]
    rows = re.findall(r"^\| (.+?) \| (\S+) \| (\S+) \| (\S+) to (\S+) \| (yes|no) \|", section, flags=re.M)
    assert [r[0] for r in rows] == [f.label for f in figures]
    admissions = next(f for f in figures if f.metric == ("admissions",))
    monthly = read_chunks(bhr_run.run_dir, columns=["replication", "month", "admissions"])
    median = float(np.median(admissions.simulated(monthly)))
    row = next(r for r in rows if r[0] == admissions.label)
    assert float(row[1]) == 19 and math.isclose(float(row[2]), median)
    assert "No calibration of this area's parameters" in section


def test_calibration_fit_is_the_calibrations_table():
    """A run drawing from England's posterior shows the calibration's fit.csv: each target's observed
    figure, median, 90% band and whether inside, as the file has them."""
    cfg = compose(["tcp=england", "+calibrated=england", "run.replications=2"])
    fit = calibration_fit(cfg, build_spec(cfg))
    assert fit is not None and fit["file"] == "configs/calibrated/england/fit.csv"
    expected = pd.read_csv(CONFIG_DIR.parent / fit["file"])
    assert [r["target"] for r in fit["rows"]] == list(expected["target"])
    assert [r["inside"] for r in fit["rows"]] == list(expected["inside_90"])
    np.testing.assert_allclose([r["median"] for r in fit["rows"]], expected["median"])
    assert fit["n_inside"] == int(expected["inside_90"].sum())
    assert not any("shared/" in r["source"] for r in fit["rows"])


# ------------------------------------------------------------------------------------------ workbook


def test_write_workbook_reads_back(tmp_path):
    """write_workbook: numbers as numbers (NaN empty), booleans and text as such, the heading lines, a
    per-column units mapping, sheet names made valid and unique, column widths from the content."""
    frame = pd.DataFrame(
        {
            "month": ["2016-04", "2016-05"],
            "count": [np.int64(3), np.int64(4)],
            "p": [0.25, float("nan")],
            "ok": [True, False],
        }
    )
    long_name = "a name longer than thirty-one characters: [x]"
    path = write_workbook(
        tmp_path / "t.xlsx",
        [
            Sheet("Table", frame, title="A table", units={"count": "people", "p": "probability"}, source="a test"),
            Sheet("table", frame.head(1), title="Again", units="none", source="a test"),
            Sheet(long_name, frame, title="Long", units="none", source="a test"),
        ],
    )
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[:2] == ["Table", "table (2)"] and len(book.sheetnames[2]) == 31
    assert "[" not in book.sheetnames[2] and ":" not in book.sheetnames[2]
    ws = book["Table"]
    assert [ws["A1"].value, ws["A2"].value, ws["A3"].value] == [
        "A table",
        "Units: count: people; p: probability",
        "Source: a test",
    ]
    assert [c.value for c in ws[HEADER_ROW]] == ["month", "count", "p", "ok"]
    assert [c.value for c in ws[HEADER_ROW + 1]] == ["2016-04", 3, 0.25, True]
    assert [c.value for c in ws[HEADER_ROW + 2]] == ["2016-05", 4, None, False]
    assert isinstance(ws.cell(HEADER_ROW + 1, 2).value, int) and ws.freeze_panes == f"A{HEADER_ROW + 1}"
    assert ws.column_dimensions["A"].width >= len("2016-04")
    with pytest.raises(ValueError):
        write_workbook(tmp_path / "empty.xlsx", [])


def test_a_workbook_of_many_tcps_keeps_the_system_rows_only() -> None:
    """England's 44 TCPs made a 622,000-row summary sheet (a minute of openpyxl): past MAX_TCP_ROWS TCPs
    the workbook keeps the system's own metrics and says where the rest are; a small system keeps all."""
    from types import SimpleNamespace

    from sim.report import results_book

    summary = pd.DataFrame({"metric": ["inpatients", "a/inpatients", "b/inpatients"], "month": ["2016-03"] * 3})
    many = SimpleNamespace(tcps=[object()] * (results_book.MAX_TCP_ROWS + 1))
    few = SimpleNamespace(tcps=[object()] * results_book.MAX_TCP_ROWS)
    assert list(results_book._board_rows(summary, many)["metric"]) == ["inpatients"]  # type: ignore[arg-type]
    assert len(results_book._board_rows(summary, few)) == 3  # type: ignore[arg-type]
    assert "summary.csv" in results_book._summary_title(many)  # type: ignore[arg-type]
