"""A run's report in the STRESS-DES layout: report.md, report.html, report.docx and results.xlsx in the run
directory.

STRESS-DES (Monks et al. 2019, "Strengthening the reporting of empirical simulation studies:
Introducing the STRESS guidelines", Journal of Simulation 13(1)) asks a simulation study to report its
objectives, model logic, data, experimentation, implementation and code access, so that a reader can judge
and repeat it. Each run writes that report from what it already holds: the config and its cited sources
(every value's comment in configs/), the validated spec, the manifest (seed, engine, versions, commit),
and the results (the monthly bands and the trajectory table); then its verification and validation, every
value the configs mark as an assumption, and the run's charts.

The report travels: report.html is one self-contained file (every chart embedded as a data: URI, no link
to any file or site), report.docx is the same text, tables and charts for a board paper (``word``), and
results.xlsx holds the tables, each sheet headed by its units and source (``results_book``, written by the
general ``workbook.write_workbook``). Documents are named by title, publisher and date, and no path
outside the repository is shown (``sources.portable``).

The parts: ``sources`` finds the configs' cited sources, ``sections`` computes each section's values,
``templates/report.md.j2`` holds the prose (Jinja2, StrictUndefined: a value the context lacks fails
loudly) and markdown-it-py turns the Markdown into a self-contained HTML page (``templates/report.html.j2``).
Nothing outside the project is read at run time (the seed documents' titles are packaged with it).
"""

from __future__ import annotations

import base64
import re
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup
from omegaconf import DictConfig

from sim.config import SystemSpec
from sim.report.results_book import write_results_workbook
from sim.report.sections import disclosure_rule, report_context, title
from sim.report.sources import cites_source, config_comments, portable
from sim.report.word import write_docx

__all__ = [
    "cites_source",
    "config_comments",
    "data_uri",
    "disclosure_rule",
    "markdown_to_html",
    "portable_markdown",
    "render_markdown",
    "render_report",
    "report_context",
    "write_report",
]

MARKDOWN_TEMPLATE = "report.md.j2"
HTML_TEMPLATE = "report.html.j2"
#: A Markdown link (not an image) to anything but an anchor of the page: the report shows its text only.
_FILE_LINK = re.compile(r"(?<!!)\[([^\]\n]*)\]\((?!#)[^()\s]*\)")
#: The images a report embeds, by file extension.
IMAGE_TYPES = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


def write_report(
    run_dir: Path,
    cfg: DictConfig,
    spec: SystemSpec,
    manifest: dict,
    summary: pd.DataFrame,
    trajectory: pd.DataFrame,
) -> Path:
    """Write ``run_dir/report.md``, its self-contained HTML copy ``report.html`` (charts embedded), its
    Word copy ``report.docx`` and the tables ``results.xlsx``; return the Markdown path."""
    run_dir = Path(run_dir)
    context = report_context(cfg, spec, manifest, summary, trajectory, run_dir=run_dir)
    text = render_markdown(context)
    md = run_dir / "report.md"
    md.write_text(text)
    name = title(spec, cfg, manifest)
    (run_dir / "report.html").write_text(markdown_to_html(text, title=name, images_from=run_dir))
    write_docx(run_dir / "report.docx", text, images_from=run_dir, title=name)
    write_results_workbook(run_dir, spec, manifest, summary, trajectory, context)
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
    raises ``jinja2.UndefinedError``. Runs of blank lines the template's blocks leave are made one; links
    to files become their text and paths outside the repository names (``portable_markdown``)."""
    text = _environment().get_template(MARKDOWN_TEMPLATE).render(**context)
    return portable_markdown(re.sub(r"\n{3,}", "\n\n", text).strip() + "\n")


def portable_markdown(text: str) -> str:
    """Markdown that travels: a link to a file (``[name](../../configs/x.yaml)``) becomes its text, a seed
    document's path "seed NNN" and a shared note's path its name (``sources.portable``). Images (charts of
    the run directory) and ``#`` anchors are kept."""
    return portable(_FILE_LINK.sub(r"\1", text))


def markdown_to_html(text: str, title: str = "report", images_from: Path | None = None) -> str:
    """A standalone HTML page (inline style, no external resource) of Markdown text: CommonMark with pipe
    tables, raw HTML in the text escaped rather than passed through. Self-contained: an image of a file in
    ``images_from`` is embedded as a data: URI (any other image becomes its alt text), and a link to
    anything but an anchor of the page becomes its text."""
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = md.parse(text)
    for token in tokens:
        if token.type == "inline" and token.children:
            token.children = _self_contained(token.children, images_from)
    body = md.renderer.render(tokens, md.options, {})
    return _environment().get_template(HTML_TEMPLATE).render(title=title, body=Markup(body.strip()))


def data_uri(path: Path) -> str:
    """A file as a data: URI (base64), its media type from its extension (``IMAGE_TYPES``)."""
    kind = IMAGE_TYPES.get(path.suffix.lower(), "application/octet-stream")
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _self_contained(children: list[Token], images_from: Path | None) -> list[Token]:
    """Inline tokens with nothing that points out of the page: links to other than ``#`` anchors dropped
    (their text kept), images embedded from ``images_from`` or replaced by their alt text."""
    out: list[Token] = []
    dropped: list[bool] = []  # for each open link: whether it was dropped
    for child in children:
        if child.type == "link_open":
            drop = not str(child.attrs.get("href", "")).startswith("#")
            dropped.append(drop)
            if drop:
                continue
        elif child.type == "link_close":
            if dropped.pop():
                continue
        elif child.type == "image":
            src = str(child.attrs.get("src", ""))
            path = images_from / src if images_from is not None and re.fullmatch(r"[\w.-]+", src) else None
            if path is None or not path.is_file() or path.suffix.lower() not in IMAGE_TYPES:
                out.append(Token("text", "", 0, content=child.content))
                continue
            child.attrs["src"] = data_uri(path)
        out.append(child)
    return out


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


def _g(x: float | str) -> str:
    """A number in its shortest form (``%g``): 14, 0.5, 1e+06; text (``*``, disclosure's) as it is."""
    return x if isinstance(x, str) else f"{x:g}"


def _int_comma(x: int) -> str:
    """An integer with thousands separators: 579,570."""
    return f"{x:,}"


def _fixed(x: float | int | str, digits: int) -> str:
    """A number with ``digits`` decimals; a disclosed figure (a rounded count, an int, or ``*``) as it is."""
    if isinstance(x, str):
        return x
    if isinstance(x, int) and not isinstance(x, bool):
        return str(x)
    return f"{x:.{digits}f}"


def _pct(p: float) -> str:
    """A probability as a percentage, one decimal (the form the tests look for)."""
    return f"{100 * p:.1f}%"


def _band(b: dict[str, Any] | None) -> str:
    """A band as "mean (5th to 95th percentile)", or "-" if the metric is absent; disclosed figures (rounded
    counts, ``*``) as they are."""
    if b is None:
        return "-"
    return f"{_fixed(b['mean'], 1)} ({_fixed(b['p05'], 0)} to {_fixed(b['p95'], 0)})"


def _cell(text: str) -> str:
    """Text for a Markdown table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")
