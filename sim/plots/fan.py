"""Fan charts: a metric's monthly bands across replications with the planned trajectory drawn over them,
sized and labelled to paste into a board paper (the frame of ``sim.plots.frame``: title, units, dates on
the axis, a source line)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from sim.config.spec import SystemSpec
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
    units,
)


def fan_panel(
    ax: plt.Axes,
    summary: pd.DataFrame,
    metric: str,
    *,
    plan: dict[str, float] | None = None,
    ylabel: str = "",
    title: str | None = None,
    legend: bool = True,
    tick_months: tuple[int, ...] = MARCH_SEPTEMBER,
    scale: float = 1.0,
    from_zero: bool = True,
) -> None:
    """Draw ``metric``'s median with 50% and 90% bands on ``ax`` (values divided by ``scale``, e.g. 1e6 for
    £ million), the plan as points joined by a dashed line; the axis starts at zero unless ``from_zero``
    is off (a balance that can go negative)."""
    s = summary[summary["metric"] == metric].sort_values("month")
    if s.empty:
        raise ValueError(f"no metric '{metric}' in the summary")
    x = month_end(s["month"])
    ax.fill_between(x, s["p05"] / scale, s["p95"] / scale, color=BAND_90, alpha=0.6, lw=0, label="90% of replications")
    ax.fill_between(x, s["p25"] / scale, s["p75"] / scale, color=BAND_50, alpha=0.7, lw=0, label="50% of replications")
    ax.plot(x, s["p50"] / scale, color=MEDIAN, lw=1.8, label="median")
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
    month_axis(ax, tick_months)
    ax.grid(axis="y", alpha=0.3)
    if legend:
        ax.legend(loc="upper right", frameon=False, fontsize=8)


def fan_chart(
    summary: pd.DataFrame,
    metric: str,
    *,
    plan: dict[str, float] | None = None,
    title: str,
    ylabel: str,
    source: str,
    path: Path | None = None,
) -> plt.Figure:
    """One metric's fan chart as a figure (written to ``path`` if given)."""
    fig, ax = figure(size=(9, 5))
    fan_panel(ax, summary, metric, plan=plan, ylabel=ylabel)
    return finish(fig, title, source, path)


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
            legend=k == 0,
            tick_months=MARCH,
        )  # March: financial year ends
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    return finish(fig, title, source, path)


def per_million(plan: dict[str, float], population: float) -> dict[str, float]:
    """A plan of inpatients as inpatients per million of ``population`` (adults, as the targets are stated)."""
    return {m: v / population * 1e6 for m, v in plan.items()}


def board_charts(summary: pd.DataFrame, spec: SystemSpec, source: str, out_dir: Path) -> list[Path]:
    """The charts of a run for a board paper: inpatients against the plan; by unit type; in and out of
    area; adult inpatients per million adults against the plan per million adults. Returns the files
    written."""
    out_dir = Path(out_dir)
    plan = spec.trajectory()
    where = spec.title
    files = [out_dir / n for n in ("fan_inpatients.png", "fan_by_unit.png", "fan_by_area.png", "fan_per_million.png")]
    fan_chart(
        summary,
        "inpatients",
        plan=plan,
        ylabel="inpatients at month end",
        source=source,
        path=files[0],
        title=f"Inpatients, {where}: simulated bands and the planned trajectory",
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
    return files
