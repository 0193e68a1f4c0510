"""The run report (sim/report.py): STRESS-DES sections written from a real run's config, spec, manifest and
results, with the configs' cited sources, the plan check and an HTML copy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.api import compose, run
from sim.config import CONFIG_DIR
from sim.report import cites_source, config_comments, markdown_to_html, render_report, write_report

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


def test_data_lists_the_cited_sources_of_the_tcp_config(report):
    """Each comment of configs/tcp/bhr.yaml that cites a source is listed with its key, and the census."""
    _, text = report
    comments = dict(config_comments(CONFIG_DIR / "tcp" / "bhr.yaml"))
    assert comments["ctr.coverage"] == "seed 001: 79% of the TCP cohort recorded as having a CTR (Jan 2017)"
    assert "| `ctr.coverage` | seed 001: 79% of the TCP cohort recorded as having a CTR (Jan 2017) |" in text
    assert "| `costs.bed_per_year.atu` | seed 001: CCG inpatient bed about 180k a year |" in text
    assert "| `trajectory[2]` | seed 001: 14 in March 2019 (24.16 per million) |" in text
    assert "001_22a6cabd1fb958db.txt" in text
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


def test_markdown_to_html_converts_the_forms_it_writes():
    """The small converter: headings, lists, tables (escaped pipes), code, bold, links, HTML escaped."""
    page = markdown_to_html(
        "# T\n\nA **b** `c<d>` [e](f.md) x<y\n\n- one\n- two\n\n1. first\n2. second\n\n"
        "| k | v |\n|---|---|\n| a \\| b | 1 |\n\n```\nx < y\n```\n",
        title="t",
    )
    assert "<h1>T</h1>" in page
    assert '<p>A <strong>b</strong> <code>c&lt;d&gt;</code> <a href="f.md">e</a> x&lt;y</p>' in page
    assert "<ul><li>one</li><li>two</li></ul>" in page and "<ol><li>first</li><li>second</li></ol>" in page
    assert "<tr><td>a | b</td><td>1</td></tr>" in page
    assert "<pre><code>x &lt; y</code></pre>" in page
