"""The milestone chart (``milestones.png`` of a run with a plan): at each planned milestone, the whole
distribution of the outcome across replications, one bar a whole number, the bars at or under the plan
marked, and P(at or under the plan) with its 95% interval in the titles. It shows what the fan's bands
summarise: how many of the simulated futures meet the plan, and by how much the others miss it."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter

from sim.plots.frame import BAND_50, PLAN, finish, grid, month_end, people_axis, units

#: Bars over the plan: the futures that miss it.
OVER = "#bdbdbd"


def shares(values: pd.Series) -> pd.Series:
    """The share of replications at each whole number of ``values`` (the index), in order."""
    v = np.round(values.dropna().to_numpy(dtype=float)).astype(int)
    counts = pd.Series(v).value_counts().sort_index()
    return counts / max(len(v), 1)


def milestone_chart(
    values: pd.DataFrame,
    odds: pd.DataFrame,
    *,
    metric: str,
    title: str,
    source: str,
    path: Path | None = None,
) -> plt.Figure:
    """One panel per milestone of ``odds`` (rows of the trajectory table: month, planned, p_at_or_under,
    p_low, p_high) with the share of replications of ``values`` (replication, month, ``metric``) at each
    whole number at that month's end: bars at or under the plan in the fan's blue, over it in grey, a
    dashed line between the plan and the next number. ``title`` is followed by each milestone's P(at or
    under the plan); the panels share their axes so the milestones compare."""
    rows_ = odds.sort_values("month").reset_index(drop=True)
    if rows_.empty:
        raise ValueError("no milestone to draw")
    cols = min(len(rows_), 3)
    rows = -(-len(rows_) // cols)
    fig, axes = grid(rows, cols, size=(4.3 * cols + 0.5, 3.4 * rows + 1.3), sharex=True, sharey=True)
    n = 0
    for k, row in rows_.iterrows():
        ax = axes.flat[k]
        share = shares(values.loc[values["month"] == row["month"], metric])
        n = max(n, int((values["month"] == row["month"]).sum()))
        planned = float(row["planned"])
        met = share.index.to_numpy() <= planned
        ax.bar(share.index, share.to_numpy(), width=0.85, color=np.where(met, BAND_50, OVER), lw=0)
        ax.axvline(np.floor(planned) + 0.5, color=PLAN, ls="--", lw=1.5)
        when = month_end([row["month"]]).iloc[0]
        ax.set_title(
            f"{when:%b %Y}: plan {planned:g}\nP(at or under) = {row['p_at_or_under']:.0%} "
            f"({row['p_low']:.0%} to {row['p_high']:.0%})",
            loc="left",
            fontsize=10,
        )
        people_axis(ax, "x")
        ax.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 5, 10]))  # ticks at whole percents
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))  # 2.5% is not shown as 2%
        ax.grid(axis="y", alpha=0.3)
        units(ax, "share of replications" if k % cols == 0 else None, f"{metric} at month end")
    for ax in list(axes.flat)[len(rows_) :]:
        ax.set_visible(False)
    chances = ", ".join(f"{month_end([r.month]).iloc[0]:%b %Y} {r.p_at_or_under:.0%}" for r in rows_.itertuples())
    legend = (
        [Patch(color=BAND_50), Patch(color=OVER), plt.Line2D([], [], color=PLAN, ls="--", lw=1.5)],
        ["at or under the plan", "over the plan", "the plan"],
    )
    return finish(
        fig,
        f"{title}. P(at or under the plan): {chances}",
        source,
        path,
        subtitle=f"Share of the {n:,} replications at each number; 95% Wilson intervals in brackets",
        legend=legend,
    )
