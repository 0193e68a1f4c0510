"""The comparison chart (``comparison.png`` of ``python -m sim.compare``): each scenario's paired difference
from the baseline, with its confidence interval on common random numbers beside the wider one independent
seeds would give, one panel a metric in its own unit."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter

from sim.metrics import PLAN_METRIC
from sim.plots.frame import figure, finish

if TYPE_CHECKING:
    from sim.compare import Comparison

#: Chart labels: what a metric is and the unit of its difference.
LABELS: dict[str, tuple[str, str]] = {
    "inpatients": ("Inpatients at month end", "people"),
    "admissions": ("Admissions in the period", "number"),
    "out_of_area_placements": ("Out-of-area placements in the period", "number"),
    "delayed_bed_days": ("Delayed-discharge bed-days in the period", "bed-days"),
    "cost_total": ("Cost to all payers in the period", "£ thousand"),
    PLAN_METRIC: ("P(inpatients at or under the plan)", "percentage points"),
}
DISPLAY_SCALE: dict[str, float] = {"cost_total": 1e-3, PLAN_METRIC: 100.0}  # table units to chart units


def metric_label(metric: str) -> tuple[str, str]:
    """What a compared metric is and the unit its difference is drawn in."""
    if metric in LABELS:
        return LABELS[metric]
    if metric.endswith(PLAN_METRIC):
        return f"P({metric[: -len(PLAN_METRIC)]}inpatients at or under the plan)", "percentage points"
    if metric.startswith("occupancy"):
        return f"{metric.replace('_', ' ').capitalize()}, mean of months", "percentage points"
    unit = "£ thousand" if metric.startswith("cost_") else ""
    return metric.replace("_", " ").capitalize(), unit


def display_scale(metric: str) -> float:
    """The factor from the table's units to the chart's (pounds to £ thousand, a probability to points)."""
    if metric.endswith(PLAN_METRIC) or metric.startswith("occupancy"):
        return 100.0
    return DISPLAY_SCALE.get(metric, 1e-3 if metric.startswith("cost_") else 1.0)


def signed_tick(x: float, _pos: int | None = None) -> str:
    """Signed tick labels (a difference), thousands separated; zero unsigned."""
    if x == 0:
        return "0"
    return f"{x:+,.0f}" if abs(x) >= 1000 else f"{x:+g}"


def forest_chart(c: Comparison, path: Path | None = None) -> plt.Figure:
    """Dot-and-whisker chart of the paired differences: one panel a metric (its own unit), one row a
    period (and scenario); the dark whisker is the paired CI, the pale bar behind it the independent seeds'."""
    table = c.table
    metrics = list(dict.fromkeys(table["metric"]))
    others = c.scenarios[1:]
    colours = plt.get_cmap("tab10")
    heights = [max(1, table[table["metric"] == m]["period"].nunique()) * max(1, len(others)) for m in metrics]
    fig, axes = figure(
        len(metrics),
        1,
        size=(9, 1.2 + 0.32 * sum(heights) + 0.55 * len(metrics)),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    for ax, metric in zip(axes[:, 0], metrics):
        rows = table[table["metric"] == metric]
        periods = list(dict.fromkeys(rows["period"]))
        scale = display_scale(metric)
        step = 0.8 / max(1, len(others))
        for j, name in enumerate(others):
            r = rows[rows["scenario"] == name].set_index("period").reindex(periods)
            y = np.arange(len(periods)) + (j - (len(others) - 1) / 2) * step
            mid = r["mean_diff"].to_numpy() * scale
            ax.barh(
                y,
                2 * r["half_width_independent"].to_numpy() * scale,
                left=mid - r["half_width_independent"].to_numpy() * scale,
                height=min(0.5, step * 0.8),
                color=colours(j),
                alpha=0.18,
                lw=0,
                label=f"{c.level:.0%} CI width, independent seeds" if j == 0 and ax is axes[0, 0] else None,
            )
            ax.errorbar(
                mid,
                y,
                xerr=r["half_width_paired"].to_numpy() * scale,
                fmt="o",
                color=colours(j),
                ms=4.5,
                capsize=2.5,
                lw=1.4,
                label=f"{name} − {c.baseline}" if ax is axes[0, 0] else None,
            )
        ax.axvline(0, color="#333333", lw=0.8)
        ax.use_sticky_edges = False  # bars' edges would otherwise stop the margin
        ax.margins(x=0.04)
        ax.set_yticks(np.arange(len(periods)), periods, fontsize=8.5)
        ax.set_ylim(len(periods) - 0.5, -0.5)
        name, unit = metric_label(metric)
        ax.set_title(f"{name}" + (f" ({unit})" if unit else ""), loc="left", fontsize=10)
        ax.xaxis.set_major_formatter(FuncFormatter(signed_tick))
        ax.tick_params(axis="x", labelsize=8.5)
        ax.grid(axis="x", alpha=0.3)
    seeds = (
        f"independent seeds: {c.independent_seed}"
        if c.independent_seed is not None
        else "independent widths estimated from the same runs"
    )
    return finish(
        fig,
        f"{c.title}: difference from {c.baseline} on the same seeds",
        f"Source: tcp-sim compare; system {c.system}; scenarios {', '.join(c.scenarios)} (baseline {c.baseline}); "
        f"{c.replications} replications; seed {c.seed} ({seeds}); engine {c.engine}",
        path,
        subtitle=f"mean paired difference over {c.replications} replications; whisker: {c.level:.0%} CI with "
        "common random numbers; pale bar: the same with independent seeds",
        legend=axes[0, 0].get_legend_handles_labels(),
    )
