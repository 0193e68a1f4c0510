"""The run report (sim/report/): STRESS-DES sections written from a real run's config, spec, manifest and
results, with the configs' cited sources, the plan check and an HTML copy; the template is strict about
missing values and nothing outside the project is read."""

from __future__ import annotations

import ast
import base64
import re
import sys
import tempfile
from pathlib import Path

import jinja2
import pytest

from sim.api import compose, run
from sim.config import CONFIG_DIR
from sim.report import (
    cites_source,
    config_comments,
    markdown_to_html,
    render_markdown,
    render_report,
    report_context,
    write_report,
)
from sim.report.sources import seed_document_details, seed_documents

PROJECT_DIR = CONFIG_DIR.parent
SIM_DIR = PROJECT_DIR / "sim"

SECTIONS = (
    "## 1. Objectives",
    "## 2. Logic",
    "## 3. Data",
    "## 4. Experimentation",
    "## 5. Implementation",
    "## 6. Code access",
    "## 7. Key results",
)


@pytest.fixture(scope="module")
def small_run():
    """The BHR baseline at 10 replications (the default engine), with its config."""
    cfg = compose(["run.replications=10", "run.progress=false"])
    return cfg, run(cfg)


@pytest.fixture(scope="module")
def report(small_run, tmp_path_factory) -> tuple[Path, str]:
    cfg, result = small_run
    out = tmp_path_factory.mktemp("report")
    md = write_report(out, cfg, result.spec, result.manifest, result.summary, result.trajectory)
    return md, md.read_text()


def test_writes_markdown_and_html(report):
    """write_report writes report.md and report.html beside each other and returns the Markdown path."""
    md, text = report
    assert md.name == "report.md" and md.is_file()
    page = (md.parent / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "</html>" in page
    assert "<h2>1. Objectives</h2>" in page and "<table>" in page
    assert "##" not in page  # headings converted, not left as Markdown
    assert page.count("<ol>") == 1  # the event rules; no line of prose starts like a numbered item


def test_has_the_stress_des_sections_in_order(report):
    """The six STRESS-DES sections and the key results, in order."""
    _, text = report
    at = [text.index(s) for s in SECTIONS]
    assert at == sorted(at)


def test_objectives_and_logic(small_run, report):
    """Objectives give the scenario's question and the system; logic lists the pathway's event rules."""
    cfg, result = small_run
    _, text = report
    assert " ".join(cfg.scenario.question.split()) in text
    assert result.spec.title in text
    for rule in (
        "Register dynamics",
        "Crisis",
        "Pre-admission CTR",
        "Admission",
        "Length of stay",
        "Inpatient CTRs",
        "Discharge",
        "Repatriation",
        "Community",
        "Costs",
    ):
        assert re.search(rf"^\d+\. {rule}", text, flags=re.M), rule
    assert "DESIGN.md" in text
    # the pools with what a bed costs (configs/tcp/bhr.yaml): its price a year and the share paid when empty
    assert "| bhr_atu | atu | bhr | 10 | " in text and " | 180,000 | 0.7 |" in text
    assert "paid its fixed share of its price a year for every day it is open" in text


def test_data_lists_the_cited_sources_of_the_tcp_config(report):
    """Each comment of configs/tcp/bhr.yaml that cites a source is listed with its key, and the census."""
    _, text = report
    comments = dict(config_comments(CONFIG_DIR / "tcp" / "bhr.yaml"))
    assert comments["ctr.coverage"] == "seed 001: 79% of the TCP cohort recorded as having a CTR (Jan 2017)"
    assert "| `ctr.coverage` | seed 001: 79% of the TCP cohort recorded as having a CTR (Jan 2017) |" in text
    assert "| `costs.bed_per_year.atu` | seed 001: CCG inpatient bed about 180k a year |" in text
    assert "| `trajectory[2]` | seed 001: 14 in March 2019 (24.16 per million) |" in text
    # the seed document is named by title, publisher and date, not by its file outside the repository
    stocktake = "*Barking Havering and Redbridge Transforming Care Partnership NHSE Stocktake*"
    assert f"- seed 001: {stocktake}; Barking, Havering and Redbridge TCP, for NHS England; 12 May 2017." in text
    assert "001_22a6cabd1fb958db.txt" not in text and "shared/" not in text
    assert "bhr_2016-03.csv" in text and "a synthetic census" in text
    assert not cites_source("assumption: about 1% a year")


def test_experimentation_and_implementation(small_run, report):
    """Start state, run length, replications, seed, common random numbers, engine, versions and commit."""
    _, result = small_run
    _, text = report
    m = result.manifest
    assert "census of 2016-03" in text and "36 months, 2016-04 to 2019-03" in text
    assert f"{m['replications']} replications asked" in text and str(m["seed"]) in text
    assert "Common random numbers" in text
    assert "Numba engine" in text and m["git_commit"] in text and m["python"] in text
    for package, version in m["versions"].items():
        assert f"| {package} | {version} |" in text


def test_key_results_give_each_milestone_probability(small_run, report):
    """Each planned milestone's probability of being at or under it appears, and the run's totals."""
    _, result = small_run
    _, text = report
    for _, row in result.trajectory.iterrows():
        line = f"| {row['metric']} | {row['month']} | {row['planned']:g} | {100 * row['p_at_or_under']:.1f}% |"
        assert line in text
    assert "Inpatients at the end of 2019-03" in text and "against a plan of 14" in text
    total = result.summary.query("metric == 'admissions'")["mean"].sum()
    assert re.search(rf"^\| admissions \|.*\| {total:.1f} \|$", text, flags=re.M)


def test_render_report_is_the_written_text(small_run, report):
    """render_report gives the same text write_report writes (given the same directory)."""
    cfg, result = small_run
    md, text = report
    again = render_report(cfg, result.spec, result.manifest, result.summary, result.trajectory, run_dir=md.parent)
    assert again == text


def test_markdown_to_html_converts_the_forms_it_writes(tmp_path):
    """markdown-it-py with tables: headings, lists, pipe tables (escaped pipes), code, bold, links and
    images, raw HTML escaped; a self-contained page (inline style, nothing to fetch): a link to a file is
    its text, an image of a file in ``images_from`` is embedded, any other image is its alt text."""
    (tmp_path / "fan.png").write_bytes(b"\x89PNG not really")
    page = markdown_to_html(
        "# T\n\nA **b** `c<d>` [e](f.md) [g](#h) x<y <b>raw</b>\n\n- one\n- two\n\n1. first\n2. second\n\n"
        "| k | v |\n|---|---|\n| a \\| b | 1 |\n\n```\nx < y\n```\n\n![a chart](fan.png)\n\n![gone](none.png)\n",
        title="t <&>",
        images_from=tmp_path,
    )
    assert page.startswith("<!DOCTYPE html>") and "<title>t &lt;&amp;&gt;</title>" in page
    assert "<h1>T</h1>" in page
    assert (
        '<p>A <strong>b</strong> <code>c&lt;d&gt;</code> e <a href="#h">g</a> x&lt;y &lt;b&gt;raw&lt;/b&gt;</p>' in page
    )
    assert re.search(r"<ul>\s*<li>one</li>\s*<li>two</li>\s*</ul>", page)
    assert re.search(r"<ol>\s*<li>first</li>\s*<li>second</li>\s*</ol>", page)
    assert re.search(r"<table>\s*<thead>\s*<tr>\s*<th>k</th>\s*<th>v</th>", page)
    assert re.search(r"<tr>\s*<td>a \| b</td>\s*<td>1</td>\s*</tr>", page)
    assert "<pre><code>x &lt; y\n</code></pre>" in page
    embedded = base64.b64encode(b"\x89PNG not really").decode()
    assert f'<img src="data:image/png;base64,{embedded}" alt="a chart"' in page
    assert "<p>gone</p>" in page and "none.png" not in page and "f.md" not in page
    assert "<style>" in page and not re.search(r"<link|<script|https?://", page)


def test_report_tables_render_as_html_tables(report):
    """Every Markdown table of the report is an HTML table, none left as pipes; the header of each is
    the table's first row of cells."""
    md, text = report
    page = (md.parent / "report.html").read_text()
    n_tables = len(re.findall(r"^\|(?:---\|)+$", text, flags=re.M))
    assert n_tables >= 6
    assert page.count("<table>") == n_tables and page.count("</table>") == n_tables
    assert not re.search(r"^\|", page, flags=re.M)
    assert "<th>key</th>" in page and "<td><code>ctr.coverage</code></td>" in page
    assert "<th>P(at or under)</th>" in page


def test_a_missing_template_value_raises(small_run):
    """The template is rendered with StrictUndefined: a value the context lacks fails, at any depth."""
    cfg, result = small_run
    context = report_context(cfg, result.spec, result.manifest, result.summary, result.trajectory)
    render_markdown(context)  # complete: renders
    del context["objectives"]["question"]
    with pytest.raises(jinja2.UndefinedError, match="question"):
        render_markdown(context)
    context = report_context(cfg, result.spec, result.manifest, result.summary, result.trajectory)
    del context["results"]
    with pytest.raises(jinja2.UndefinedError, match="results"):
        render_markdown(context)


def test_seed_documents_are_packaged(report):
    """The seed documents' titles come with the package (sim/report/seed_documents.yaml, a copy of the
    seeds' README with each document's title, publisher and date), so the report names them without
    reading outside the project, and names them so a reader can find them."""
    _, text = report
    seeds = seed_documents()
    assert seeds["001"] == ("001_22a6cabd1fb958db.txt", "Barking, Havering and Redbridge (BHR) TCP stocktake, May 2017")
    assert set(seeds) == {"000", "001", "002", "003", "004"}
    details = seed_document_details()
    assert set(details) == set(seeds) and all(d["title"] and d["publisher"] and d["date"] for d in details.values())
    assert details["002"]["date"] == "December 2015" and details["003"]["publisher"].startswith(
        "Voluntary Organisations"
    )
    for number in sorted(details):  # BHR's config cites every seed document: each named by its title
        assert f"- seed {number}: *{details[number]['title']}*; {details[number]['publisher']}; " in text


# ------------------------------------------------------------------------ nothing read outside the project


def _code_strings(tree: ast.AST) -> list[ast.Constant]:
    """The string constants of a module that are code, not docstrings or other bare expression strings."""
    bare = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    }
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in bare
    ]


def _outside_paths(source: str, depth: int) -> list[str]:
    """What in a module's code (``source``, a file ``depth`` folders below the project root) could name a
    path outside the project: a string holding ``..`` or ``shared/`` as a path, a ``"shared"`` path segment
    joined with ``/``, ``parents[n]`` past the project root, or ``.parent`` of the project's root
    (``PROJECT_DIR`` / ``CONFIG_DIR.parent``)."""
    tree = ast.parse(source)
    found = []
    for node in _code_strings(tree):
        if re.search(r"\.\.[/\\]|[/\\]\.\.(?:[/\\]|$)|(?:^|[/\\])shared[/\\]", node.value):
            found.append(f"line {node.lineno}: string {node.value!r}")
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            for side in (node.left, node.right):
                if isinstance(side, ast.Constant) and side.value in ("shared", ".."):
                    found.append(f"line {node.lineno}: path segment {side.value!r}")
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "parents"
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, int)
            and node.slice.value > depth
        ):
            found.append(f"line {node.lineno}: parents[{node.slice.value}] of a file {depth} folders deep")
        if isinstance(node, ast.Attribute) and node.attr == "parent":
            inner = node.value
            if (isinstance(inner, ast.Name) and inner.id in ("PROJECT_DIR", "ROOT", "REPO")) or (
                isinstance(inner, ast.Attribute)
                and inner.attr == "parent"
                and getattr(inner.value, "id", "") == "CONFIG_DIR"
            ):
                found.append(f"line {node.lineno}: the parent of the project's root")
    return found


def test_no_module_names_a_path_outside_the_project():
    """No module under sim/ names ../shared or another path outside the project in its code (docstrings
    and comments may mention where something was copied from)."""
    found = {}
    for path in sorted(SIM_DIR.rglob("*.py")):
        name = path.relative_to(PROJECT_DIR)
        found[name.as_posix()] = _outside_paths(path.read_text(), depth=len(name.parts) - 1)
    assert {k: v for k, v in found.items() if v} == {}


def test_the_check_finds_outside_paths():
    """The check above finds the forms the old report used (a check of the check)."""
    source = (
        "from pathlib import Path\n"
        "PROJECT_DIR = Path(__file__).parents[2]\n"
        "DESIGN = PROJECT_DIR.parent / 'shared' / 'DESIGN.md'\n"
        "SEEDS = Path(__file__).parents[3] / 'seeds'\n"
        "OTHER = '../shared/seeds'\n"
        "DOC = 'where the seeds are: ../shared/seeds'  # a comment may say ../shared\n"
        "RANGE = f'{1}..{9}'\n"
    )
    found = _outside_paths(source, depth=2)  # as if sim/report/x.py
    assert sorted(f.split(":")[0] for f in found) == ["line 3", "line 3", "line 4", "line 5", "line 6"], found
    assert _outside_paths('"""Copied from ../shared/seeds/README.md."""\nX = 1\n', depth=2) == []


def test_rendering_opens_no_file_outside_the_project(small_run, tmp_path):
    """While the report is written, every file opened is in the project, the run directory or the
    interpreter's installation (an audit hook records each open)."""
    cfg, result = small_run
    opened: list[str] = []
    recording = [True]

    def hook(event: str, args: tuple) -> None:
        if recording[0] and event == "open" and isinstance(args[0], (str, Path)):
            opened.append(str(args[0]))

    sys.addaudithook(hook)  # a hook cannot be removed: it stops recording when the test ends
    try:
        write_report(tmp_path, cfg, result.spec, result.manifest, result.summary, result.trajectory)
    finally:
        recording[0] = False
    allowed = [PROJECT_DIR.resolve(), tmp_path.resolve(), *{Path(p).resolve() for p in (sys.prefix, sys.base_prefix)}]
    outside = [p for p in opened if not any(Path(p).resolve().is_relative_to(a) for a in allowed)]
    # openpyxl writes each sheet to a scratch file of the temporary directory and reads it back into the
    # workbook (tempfile first checks it can write there): gone once the workbook is saved, not a source
    scratch = Path(tempfile.gettempdir()).resolve()
    outside = [
        p
        for p in outside
        if not (Path(p).resolve() == scratch or (Path(p).resolve().parent == scratch and not Path(p).exists()))
    ]
    assert opened and outside == []
