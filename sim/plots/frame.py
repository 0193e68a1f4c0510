"""The frame every figure of ``sim.plots`` is drawn in, so a chart pasted into a board paper reads like the
others: the title at the top left, axis labels that say the unit, month-end dates on a time axis, and the
source line (what was run: system, scenario, replications, seed) at the foot.

A figure module draws its panels, labels their axes with ``units`` (and ``month_axis`` for months,
``people_axis`` for counts of people), then hands the figure to ``finish``, which sets the title, the source
line, the legend (outside the panels, clear of the data) and the layout and writes the file: a PNG at
``FILE_DPI`` and an SVG beside it, for a paper that scales.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

#: On screen (a notebook) figures draw at ``DPI``; the files are written at ``FILE_DPI``, sharp in print.
DPI, FILE_DPI = 110, 200
#: The palette: the bands and median of a fan, the plan (and any target), text that is not data.
BAND_90, BAND_50, MEDIAN, PLAN, GREY = "#9ecae1", "#4292c6", "#08306b", "#d94801", "#555555"
TITLE_SIZE, SUBTITLE_SIZE, SOURCE_SIZE = 12, 8.5, 7.5
TITLE_WIDTH, SOURCE_WIDTH = 95, 150  # characters a line before the text wraps (a figure 9 inches wide)
#: Inches a character takes, on average, at the title's and the source line's sizes: a narrower figure
#: wraps its lines sooner (``fits``), so a one-panel chart's title is not cut at its edge.
TITLE_CHAR, SOURCE_CHAR = 0.088, 0.056
#: Where the March ticks fall (the financial year ends) and, for longer axes, September too.
MARCH, MARCH_SEPTEMBER = (3,), (3, 9)


def figure(*, size: tuple[float, float]) -> tuple[Figure, Axes]:
    """A figure of one panel at the frame's resolution (``size`` in inches)."""
    fig, ax = plt.subplots(figsize=size, dpi=DPI)
    return fig, ax


def grid(rows: int, cols: int, *, size: tuple[float, float], **kwargs: Any) -> tuple[Figure, np.ndarray]:
    """A figure of ``rows`` x ``cols`` panels at the frame's resolution, always a 2-D array of axes (``size``
    in inches; other keywords as ``plt.subplots`` takes them)."""
    fig, axes = plt.subplots(rows, cols, figsize=size, dpi=DPI, squeeze=False, **kwargs)
    return fig, axes


def mosaic(layout: str, *, size: tuple[float, float], **kwargs: Any) -> tuple[Figure, dict[str, Axes]]:
    """A figure of panels of different sizes at the frame's resolution, by name (``layout`` as
    ``plt.subplot_mosaic`` reads it, e.g. ``"AC;BC"``: A over B beside a tall C)."""
    fig, axes = plt.subplot_mosaic(layout, figsize=size, dpi=DPI, **kwargs)
    return fig, dict(axes)


def month_end(labels: pd.Series | Sequence[str]) -> pd.Series:
    """Dates of ``YYYY-MM`` labels at the end of each month: stocks are counted then, so plot them there."""
    return pd.to_datetime(pd.Series(labels), format="%Y-%m") + pd.offsets.MonthEnd(0)


def days_in(labels: pd.Series | Sequence[str] | pd.Index) -> np.ndarray:
    """The number of days of each ``YYYY-MM`` month (28 to 31)."""
    return pd.to_datetime(pd.Series(list(labels)), format="%Y-%m").dt.days_in_month.to_numpy(dtype=float)


def month_axis(ax: plt.Axes, months: tuple[int, ...] = MARCH_SEPTEMBER) -> None:
    """A time axis of month-end dates: ticks at the last day of ``months`` of each year (where the points
    of those months sit), labelled ``Mar 2019``; where the labels would not fit the panel's width (what is
    drawn so far, at about an inch a label) March only, and then every second or third March, so labels
    never run into each other. A tick on the 1st would put March's point under the label April."""
    low, high = ax.get_xlim()
    years = (high - low) / 365.25  # matplotlib's dates are days
    fig = ax.figure
    inches = ax.get_position().width * (fig.get_figwidth() if isinstance(fig, Figure) else 6.0)
    fits = max(inches / 0.95, 1.0)  # labels the panel holds
    locator: mdates.DateLocator = mdates.MonthLocator(bymonth=months, bymonthday=-1)
    if years * len(months) > fits:
        step = int(np.ceil(years / fits))
        locator = mdates.RRuleLocator(mdates.rrulewrapper(mdates.YEARLY, bymonth=MARCH, bymonthday=-1, interval=step))
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    ax.xaxis.set_minor_locator(mdates.MonthLocator(bymonthday=-1))  # a small tick at every month's point


def people_axis(ax: plt.Axes, axis: str = "y") -> None:
    """Whole-number ticks on an axis that counts people (no 0.25 or 17.5 of a person)."""
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_locator(MaxNLocator(integer=True))


def units(ax: plt.Axes, y: str | None = None, x: str | None = None, *, fontsize: float | None = None) -> None:
    """Label an axis with what it counts and its unit (``inpatients at month end``, ``£ million a year``)."""
    if y is not None:
        ax.set_ylabel(y, fontsize=fontsize)
    if x is not None:
        ax.set_xlabel(x, fontsize=fontsize)


def _lines(text: str, width: int) -> list[str]:
    return [line for part in text.splitlines() for line in (textwrap.wrap(part, width) or [""])]


def finish(
    fig: plt.Figure,
    title: str,
    source: str,
    path: Path | None = None,
    *,
    subtitle: str | None = None,
    legend: tuple[Iterable, Iterable] | None = None,
    title_width: int | None = None,
    trim: bool = False,
) -> plt.Figure:
    """Frame ``fig``: ``title`` (wrapped) at the top left, an optional ``subtitle`` under it and a
    ``legend`` (handles, labels) for the whole figure at the right under those, above the panels and clear
    of their data, the ``source`` line (wrapped) at the foot; lay the panels out in the rest and write
    ``path`` if given: the PNG at ``FILE_DPI`` and an SVG of the same name beside it (the figure is then
    closed). ``trim`` crops the files to what is drawn (a legend outside the axes)."""
    h, w = fig.get_figheight(), fig.get_figwidth()
    heading = _lines(title, title_width or fits(w, TITLE_CHAR, TITLE_WIDTH))
    fig.text(0.01, 1 - 0.12 / h, "\n".join(heading), fontsize=TITLE_SIZE, va="top")
    top = 0.14 + 0.2 * len(heading)  # inches from the top edge taken by the heading
    if subtitle:
        fig.text(0.01, 1 - (top + 0.08) / h, subtitle, fontsize=SUBTITLE_SIZE, color="#333333", va="top")
        top += 0.3
    if legend is not None:
        handles, labels = list(legend[0]), list(legend[1])
        ncol = min(legend_columns(labels, fig.get_figwidth()), max(1, len(labels)))
        fig.legend(
            handles,
            labels,
            loc="upper right",
            frameon=False,
            fontsize=SUBTITLE_SIZE,
            ncol=ncol,
            bbox_to_anchor=(0.995, 1 - (top - 0.02) / h),
        )
        top += 0.08 + 0.19 * -(-len(labels) // ncol)  # its rows, so the panels start under the last
    foot = _lines(source, fits(w, SOURCE_CHAR, SOURCE_WIDTH))
    fig.text(0.01, 0.004, "\n".join(foot), fontsize=SOURCE_SIZE, color=GREY, va="bottom")
    fig.tight_layout(rect=(0, (0.08 + 0.14 * len(foot)) / h, 1, 1 - top / h))
    if path is not None:
        save(fig, Path(path), trim=trim)
    return fig


def fits(width: float, per_char: float, most: int) -> int:
    """How many characters of a line fit across a figure ``width`` inches wide (at most ``most``)."""
    return max(20, min(most, int((width - 0.2) / per_char)))


def legend_columns(labels: Sequence[str], width: float) -> int:
    """How many columns of ``labels`` fit across a figure ``width`` inches wide (at most 4): about 0.06
    inch a character and 0.5 for the key."""
    longest = max((len(str(lab)) for lab in labels), default=1)
    return int(max(1, min(4, (width - 0.3) // (0.5 + 0.06 * longest))))


def save_svg(fig: Figure, target: Path | IO[bytes], bbox: str | None = None) -> None:
    """``fig`` as SVG with no date and its ids from a fixed salt (not a random one): the same chart is
    the same file."""
    with plt.rc_context({"svg.hashsalt": "tcp-sim"}):
        fig.savefig(target, format="svg", bbox_inches=bbox, metadata={"Date": None})


def save(fig: Figure, path: Path, *, trim: bool = False) -> None:
    """Write ``fig`` to ``path`` (a PNG at ``FILE_DPI``) and to the SVG of the same name beside it, then
    close it. The SVG carries no date, so the same run writes the same file."""
    bbox = "tight" if trim else None
    fig.savefig(path, dpi=FILE_DPI, bbox_inches=bbox)
    save_svg(fig, path.with_suffix(".svg"), bbox)
    plt.close(fig)
