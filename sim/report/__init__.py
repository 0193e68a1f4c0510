"""A run's report in the STRESS-DES layout (report.md and report.html in the run directory).

STRESS-DES (Monks et al. 2019, "Strengthening the reporting of empirical simulation studies:
Introducing the STRESS guidelines", Journal of Simulation 13(1)) asks a simulation study to report its
objectives, model logic, data, experimentation, implementation and code access, so that a reader can judge
and repeat it. Each run writes that report from what it already holds: the config and its cited sources
(every value's comment in configs/), the validated spec, the manifest (seed, engine, versions, commit),
and the results (the monthly bands and the trajectory table).

The parts: ``sources`` finds the configs' cited sources, ``sections`` computes each section's values,
``templates/report.md.j2`` holds the prose (Jinja2, StrictUndefined: a value the context lacks fails
loudly) and markdown-it-py turns the Markdown into a self-contained HTML page (``templates/report.html.j2``).
Nothing outside the project is read at run time (the seed documents' titles are packaged with it).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markdown_it import MarkdownIt
from markupsafe import Markup
from omegaconf import DictConfig

from sim.config import SystemSpec
from sim.report.sections import report_context, title
from sim.report.sources import cites_source, config_comments

__all__ = [
    "cites_source",
    "config_comments",
    "markdown_to_html",
    "render_markdown",
    "render_report",
    "report_context",
    "write_report",
]

MARKDOWN_TEMPLATE = "report.md.j2"
HTML_TEMPLATE = "report.html.j2"


def write_report(
    run_dir: Path,
    cfg: DictConfig,
    spec: SystemSpec,
    manifest: dict,
    summary: pd.DataFrame,
    trajectory: pd.DataFrame,
) -> Path:
    """Write ``run_dir/report.md`` and its HTML copy ``run_dir/report.html``; return the Markdown path."""
    run_dir = Path(run_dir)
    text = render_report(cfg, spec, manifest, summary, trajectory, run_dir=run_dir)
    md = run_dir / "report.md"
    md.write_text(text)
    (run_dir / "report.html").write_text(markdown_to_html(text, title=title(spec, cfg, manifest)))
    return md


def render_report(
    cfg: DictConfig,
    spec: SystemSpec,
    manifest: dict,
    summary: pd.DataFrame,
    trajectory: pd.DataFrame,
    run_dir: Path | None = None,
) -> str:
    """The report as Markdown: the six STRESS-DES sections and the key results. ``run_dir`` (if given)
    makes links relative to it and shows the fan chart if the run wrote one."""
    return render_markdown(report_context(cfg, spec, manifest, summary, trajectory, run_dir=run_dir))


def render_markdown(context: dict[str, Any]) -> str:
    """The report template rendered with a context of ``sections.report_context``'s form; a missing value
    raises ``jinja2.UndefinedError``. Runs of blank lines the template's blocks leave are made one."""
    text = _environment().get_template(MARKDOWN_TEMPLATE).render(**context)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def markdown_to_html(text: str, title: str = "report") -> str:
    """A standalone HTML page (inline style, no external resource) of Markdown text: CommonMark with pipe
    tables, raw HTML in the text escaped rather than passed through."""
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(text)
    return _environment().get_template(HTML_TEMPLATE).render(title=title, body=Markup(body.strip()))


# ------------------------------------------------------------------------------------------ template


@cache
def _environment() -> jinja2.Environment:
    """The templates' environment: strict about missing values, HTML escaped only in the HTML page."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("sim.report", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(g=_g, int_comma=_int_comma, f=_fixed, pct=_pct, band=_band, cell=_cell)
    return env


def _g(x: float) -> str:
    """A number in its shortest form (``%g``): 14, 0.5, 1e+06."""
    return f"{x:g}"


def _int_comma(x: int) -> str:
    """An integer with thousands separators: 579,570."""
    return f"{x:,}"


def _fixed(x: float, digits: int) -> str:
    """A number with ``digits`` decimals."""
    return f"{x:.{digits}f}"


def _pct(p: float) -> str:
    """A probability as a percentage, one decimal (the form the tests look for)."""
    return f"{100 * p:.1f}%"


def _band(b: dict[str, float] | None) -> str:
    """A band as "mean (5th to 95th percentile)", or "-" if the metric is absent."""
    return "-" if b is None else f"{b['mean']:.1f} ({b['p05']:.0f} to {b['p95']:.0f})"


def _cell(text: str) -> str:
    """Text for a Markdown table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")
