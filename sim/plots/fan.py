"""Fan charts: a metric's monthly bands across replications with the planned trajectory drawn over them,
sized and labelled to paste into a board paper (the frame of ``sim.plots.frame``: title, units, dates on
the axis, a source line)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.config.spec import SystemSpec
from sim.metrics import about
from sim.pathway import UNIT_LABELS, UNIT_TYPES
from sim.plots.frame import (
    BAND_50,
    BAND_90,
    MARCH,
    MARCH_SEPTEMBER,
    MEDIAN,
    PLAN,
    figure,
    finish,
    grid,
    month_axis,
    month_end,
    people_axis,
    units,
)
from sim.plots.milestones import milestone_chart

#: The role of an observed figure the fit never saw: drawn hollow, so the eye sees which points they are.
HELD_OUT = "held out"
#: The colour of observed figures drawn over a fan with a plan (the plan is ``PLAN``).
OBSERVED = "#000000"


def is_count(metric: str) -> bool:
    """Whether ``metric`` counts people (the catalogue's unit), so its axis and median are whole numbers."""
    known = about(metric)
    return known is not None and known.unit == "people"


def whole_median(p50: pd.Series | np.ndarray) -> np.ndarray:
    """The median of a count as a whole number: the interpolated median of an even number of replications
    is k + 0.5 where the middle two differ, half a person; its floor k has at least half the replications
    at or under it (the lower median)."""
    return np.floor(np.asarray(p50, dtype=float) + 1e-9)


def fan_panel(
    ax: plt.Axes,
    summary: pd.DataFrame,
    metric: str,
    *,
    plan: dict[str, float] | None = None,
    ylabel: str = "",
    title: str | None = None,
    tick_months: tuple[int, ...] = MARCH_SEPTEMBER,
    scale: float = 1.0,
    from_zero: bool = True,
    counts: bool | None = None,
) -> None:
    """Draw ``metric``'s median with 50% and 90% bands on ``ax`` (values divided by ``scale``, e.g. 1e6 for
    £ million), the plan as points joined by a dashed line; the axis starts at zero unless ``from_zero``
    is off (a balance that can go negative). A count of people (``counts``; by default the catalogue
    says) is drawn as steps, each month's value level about its month end (where its point and its tick
    sit), the band edges rounded to whole people and the median the lower median, on whole-number ticks:
    a line between month ends, or an interpolated quantile, would show people between 0 and 1. No legend
    on the panel: the figure's (``finish``) sits clear of the data, from ``ax.get_legend_handles_labels()``."""
    s = summary[summary["metric"] == metric].sort_values("month")
    if s.empty:
        raise ValueError(f"no metric '{metric}' in the summary")
    counts = is_count(metric) if counts is None else counts
    x = month_end(s["month"])
    edges = {q: s[q].to_numpy(dtype=float) for q in ("p05", "p25", "p50", "p75", "p95")}
    if counts:  # whole people: band edges to the nearest, the median to the lower median
        edges = {q: np.round(v) for q, v in edges.items()} | {"p50": whole_median(edges["p50"])}
    step: Literal["mid"] | None = "mid" if counts else None
    ax.fill_between(
        x,
        edges["p05"] / scale,
        edges["p95"] / scale,
        color=BAND_90,
        alpha=0.6,
        lw=0,
        label="90% of replications",
        step=step,
    )
    ax.fill_between(
        x,
        edges["p25"] / scale,
        edges["p75"] / scale,
        color=BAND_50,
        alpha=0.7,
        lw=0,
        label="50% of replications",
        step=step,
    )
    ax.plot(
        x,
        edges["p50"] / scale,
        color=MEDIAN,
        lw=1.8,
        label="median",
        drawstyle="steps-mid" if counts else "default",
        clip_on=not counts,  # a median of 0 drawn over the axis, not hidden under it
        zorder=3,
    )
    if plan:
        ax.plot(
            month_end(list(plan)),
            list(plan.values()),
            "o--",
            color=PLAN,
            lw=1.5,
            ms=6,
            label="planned trajectory",
        )
    if title:
        ax.set_title(title, loc="left", fontsize=10)
    units(ax, ylabel)
    if from_zero:
        ax.set_ylim(bottom=0)
    if counts:
        people_axis(ax)
    month_axis(ax, tick_months)
    ax.grid(axis="y", alpha=0.3)


def draw_observed(ax: plt.Axes, points: pd.DataFrame, color: str = PLAN) -> None:
    """Draw observed figures (``points``: month, value, low, high, role) on ``ax`` as points with their
    rounding intervals: filled if the fit used them, hollow if it never saw them (role ``HELD_OUT``)."""
    for held, face in ((False, color), (True, "white")):
        p = points[(points["role"] == HELD_OUT) == held]
        if p.empty:
            continue
        ax.errorbar(
            month_end(p["month"]),
            p["value"],
            yerr=[p["value"] - p["low"], p["high"] - p["value"]],
            fmt="o",
            color=color,
            mfc=face,
            ms=6,
            capsize=3,
            lw=1.2,
            zorder=5,
            label="observed, held out" if held else "observed",
        )


def chance_notes(ax: plt.Axes, odds: pd.DataFrame, start: str | None = None) -> str:
    """Write P(at or under the plan) beside each milestone's plan point on ``ax`` (``odds``: rows of the
    trajectory table, month, planned, p_at_or_under, p_low, p_high) and return the same as a line for the
    subtitle; the ``start`` month (the census, met by definition) is left out."""
    parts = []
    for row in odds.sort_values("month").itertuples():
        if row.month == start:
            continue
        when = month_end([row.month]).iloc[0]
        ax.annotate(
            f"{row.p_at_or_under:.0%}",
            (when, row.planned),
            xytext=(0, -13),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=8.5,
            color=PLAN,
            fontweight="bold",
        )
        parts.append(f"{when:%b %Y} {row.p_at_or_under:.0%} ({row.p_low:.0%} to {row.p_high:.0%})")
    if not parts:
        return ""
    return "P(at or under the plan), with its 95% interval: " + "; ".join(parts)


def fan_chart(
    summary: pd.DataFrame,
    metric: str,
    *,
    plan: dict[str, float] | None = None,
    title: str,
    ylabel: str,
    source: str,
    path: Path | None = None,
    odds: pd.DataFrame | None = None,
    start: str | None = None,
    observed: pd.DataFrame | None = None,
) -> plt.Figure:
    """One metric's fan chart as a figure (written to ``path`` if given), with P(at or under the plan)
    at each milestone when ``odds`` (rows of the trajectory table) are given, bar the ``start`` month's
    (by default the summary's first: the census, met by definition), and the published figures of the
    metric in ``observed`` (metric, month, value, low, high, role) drawn over it in black
    (``draw_observed``: the plan's colour is the plan's)."""
    fig, ax = figure(size=(9, 5))
    fan_panel(ax, summary, metric, plan=plan, ylabel=ylabel)
    points = observed[observed["metric"] == metric] if observed is not None else None
    if points is not None and len(points):
        draw_observed(ax, points, color=OBSERVED)
        ax.set_ylim(top=max(ax.get_ylim()[1], float(points["high"].max()) * 1.05))  # fan_panel fixed the axis
    if start is None:
        start = str(summary.loc[summary["metric"] == metric, "month"].min())
    subtitle = chance_notes(ax, odds, start) if odds is not None and len(odds) else None
    return finish(fig, title, source, path, subtitle=subtitle or None, legend=ax.get_legend_handles_labels())


def small_multiples(
    summary: pd.DataFrame,
    panels: Sequence[tuple[str, str, dict[str, float] | None]],
    *,
    title: str,
    ylabel: str,
    source: str,
    path: Path | None = None,
    share_y: bool = True,
) -> plt.Figure:
    """Fan charts side by side, one per (metric, panel title, plan), on a common scale so the panels
    compare at a glance."""
    cols = min(len(panels), 2)
    rows = -(-len(panels) // cols)
    fig, axes = grid(rows, cols, size=(5.2 * cols, 3.6 * rows + 0.6), sharey=share_y)
    for k, (metric, panel_title, plan) in enumerate(panels):
        fan_panel(
            axes.flat[k],
            summary,
            metric,
            plan=plan,
            ylabel=ylabel if k % cols == 0 else "",
            title=panel_title,
            tick_months=MARCH,
        )  # March: financial year ends
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    return finish(fig, title, source, path, legend=axes.flat[0].get_legend_handles_labels())


def per_million(plan: dict[str, float], population: float) -> dict[str, float]:
    """A plan of inpatients as inpatients per million of ``population`` (adults, as the targets are stated)."""
    return {m: v / population * 1e6 for m, v in plan.items()}


def board_charts(
    summary: pd.DataFrame,
    spec: SystemSpec,
    source: str,
    out_dir: Path,
    *,
    trajectory: pd.DataFrame | None = None,
    at_milestones: pd.DataFrame | None = None,
) -> list[Path]:
    """The charts of a run for a board paper: inpatients against the plan (with P(at or under it) at each
    milestone, from ``trajectory``); by unit type; in and out of area; adult inpatients per million adults
    against the plan per million adults; and, given the replications' values (``at_milestones``:
    replication, month, inpatients) and a plan with a milestone after the start, the distribution at each
    milestone (milestones.png). Returns the PNGs written (each has an SVG beside it)."""
    out_dir = Path(out_dir)
    plan = spec.trajectory()
    where = spec.title
    start = spec.calendar.start_label
    files = [out_dir / n for n in ("fan_inpatients.png", "fan_by_unit.png", "fan_by_area.png", "fan_per_million.png")]
    odds = trajectory[trajectory["metric"] == "inpatients"] if trajectory is not None else None
    fan_chart(
        summary,
        "inpatients",
        plan=plan,
        ylabel="inpatients at month end",
        source=source,
        path=files[0],
        title=f"Inpatients, {where}: simulated bands and the planned trajectory",
        odds=odds,
        start=start,
    )
    units = [
        u
        for u in UNIT_TYPES
        if (summary["metric"] == f"inpatients_{u}").any()
        and summary.loc[summary["metric"] == f"inpatients_{u}", "p95"].max() > 0
    ]
    small_multiples(
        summary,
        [(f"inpatients_{u}", UNIT_LABELS[u], None) for u in units or ["atu"]],
        title=f"Inpatients by unit type, {where} (no plan by unit type)",
        share_y=False,
        ylabel="inpatients at month end",
        source=source,
        path=files[1],
    )
    small_multiples(
        summary,
        [("inpatients_in_area", "In area", None), ("inpatients_out_of_area", "Out of area", None)],
        title=f"Inpatients in and out of area, {where}",
        ylabel="inpatients at month end",
        source=source,
        path=files[2],
    )
    fan_chart(
        summary,
        "inpatients_per_million",
        plan=per_million(plan, spec.population.adults),
        ylabel="adult inpatients per million adults",
        source=source,
        path=files[3],
        title=f"Adult inpatients per million adults, {where} ({spec.population.adults:,} adults)",
    )
    if odds is not None and at_milestones is not None and (odds["month"] != start).any():
        files.append(out_dir / "milestones.png")
        milestone_chart(
            at_milestones,
            odds[odds["month"] != start],
            metric="inpatients",
            title=f"Inpatients at each milestone, {where}: the futures that meet the plan",
            source=source,
            path=files[-1],
        )
    return files
