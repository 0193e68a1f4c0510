"""The comparison chart (``comparison.png`` of ``python -m sim.compare``): each scenario's paired difference
from the baseline, with its confidence interval on common random numbers beside the wider one independent
seeds would give, one panel a metric in its own unit. It reads a comparison's fields and the metrics'
labels (``sim.compare`` knows what its metrics are), so the plots import nothing above them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from sim.plots.frame import finish, grid


class Compared(Protocol):
    """What the chart reads of a comparison (``sim.compare.Comparison`` has it all)."""

    table: pd.DataFrame
    baseline: str
    scenarios: list[str]
    seed: int
    independent_seed: int | None
    replications: int
    level: float
    system: str
    title: str
    engine: str


def signed_tick(x: float, _pos: int | None = None) -> str:
    """Signed tick labels (a difference), thousands separated; zero unsigned."""
    if x == 0:
        return "0"
    return f"{x:+,.0f}" if abs(x) >= 1000 else f"{x:+g}"


def forest_chart(c: Compared, labels: Mapping[str, tuple[str, str, float]], path: Path | None = None) -> plt.Figure:
    """Dot-and-whisker chart of the paired differences: one panel a metric (its own unit), one row a
    period (and scenario); the dark whisker is the paired CI, the pale bar behind it the independent seeds'.
    ``labels`` gives each metric's panel title, unit and the factor from the table's units to the unit
    (``sim.compare.chart_labels``)."""
    table = c.table
    metrics = list(dict.fromkeys(table["metric"]))
    others = c.scenarios[1:]
    colours = plt.get_cmap("tab10")
    heights = [max(1, table[table["metric"] == m]["period"].nunique()) * max(1, len(others)) for m in metrics]
    fig, axes = grid(
        len(metrics),
        1,
        size=(9, 1.2 + 0.32 * sum(heights) + 0.55 * len(metrics)),
        gridspec_kw={"height_ratios": heights},
    )
    for ax, metric in zip(axes[:, 0], metrics):
        rows = table[table["metric"] == metric]
        periods = list(dict.fromkeys(rows["period"]))
        heading, unit, scale = labels[metric]
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
        ax.set_title(heading + (f" ({unit})" if unit else ""), loc="left", fontsize=10)
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
