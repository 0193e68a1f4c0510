"""The capacity curve (``capacity.png`` of experiments/atu_capacity.py): out-of-area share, occupancy, cost and
delayed bed-days against the number of in-area beds of one unit type, with 95% confidence bands, the
target and the fewest beds that meet it."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from sim.plots.frame import BAND_50, GREY, MEDIAN, PLAN, finish, grid, units

#: What each share counts, as the share panel's legend says it.
SHARE_NAMES = {
    "ooa_share": "all out-of-area placements",
    "ooa_full_beds_share": "for want of an in-area bed (any unit)",
    "ooa_unit_share": "all out-of-area placements",
    "ooa_unit_full_beds_share": "for want of an in-area bed",
}


def percent(v: float) -> str:
    """0.05 -> '5%', 0.025 -> '2.5%'."""
    return f"{100 * v:.4g}%"


def grouped(ax: plt.Axes) -> FuncFormatter:
    """Tick labels with thousands separators and as many decimals as the tick spacing needs."""

    def fmt(v: float, _pos: int) -> str:
        ticks = ax.get_yticks()
        step = float(np.min(np.diff(ticks))) if len(ticks) > 1 else 1.0
        decimals = max(0, int(-np.floor(np.log10(step)))) if step > 0 else 0
        return f"{v:,.{decimals}f}"

    return FuncFormatter(fmt)


def share_panel(
    ax: plt.Axes,
    t: pd.DataFrame,
    *,
    label: str,
    target: float | None,
    confidence: float,
    share: str,
    fewest: int | None,
) -> None:
    """The out-of-area share against beds: the ``share`` the target applies to (a column of the table)
    with its band, the other share of the same scope dashed, the target and the fewest beds that meet it."""
    x = t["beds"].to_numpy()
    by_unit = share.startswith("ooa_unit")
    pair = ("ooa_unit_share", "ooa_unit_full_beds_share") if by_unit else ("ooa_share", "ooa_full_beds_share")
    for col, style in zip(pair, ("-", "--")):
        main = col == share
        ax.plot(
            x,
            t[col],
            style,
            marker="o",
            ms=4 if main else 3,
            lw=1.8 if main else 1.2,
            color=MEDIAN if main else GREY,
            label=SHARE_NAMES[col],
        )
        if main:
            ax.fill_between(x, t[f"{col}_lo95"], t[f"{col}_hi95"], color=BAND_50, alpha=0.35, lw=0, label="95% CI")
    if target is not None:
        ax.axhline(target, color=PLAN, lw=1.2, ls=":", label=f"target {percent(target)}")
    heading = f"{label} admissions placed out of area" if by_unit else "Admissions placed out of area"
    if fewest is not None:
        ax.axvline(fewest, color=PLAN, lw=1.2)
        heading += f"\nfewest beds: {fewest} ({percent(confidence)} upper bound at or under the target)"
    elif target is not None:
        heading += f"\ntarget not reached by {x.min()} to {x.max()} beds"
    ax.set_title(heading, loc="left", fontsize=10)
    units(ax, f"share of {label} admissions (%)" if by_unit else "share of all admissions (%)")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylim(bottom=0)  # no legend on the panel: the figure's (capacity_chart), clear of the data


def capacity_chart(
    table: pd.DataFrame,
    *,
    label: str,
    title: str,
    source: str,
    share: str = "ooa_unit_share",
    target: float | None = None,
    confidence: float = 0.9,
    fewest: int | None = None,
    path: Path | None = None,
) -> plt.Figure:
    """Four panels against in-area beds of the unit type ``label`` names: the out-of-area ``share`` (a
    column of ``sim.capacity``'s table, with the target and the fewest beds), occupancy of the swept pool,
    cost a year and delayed bed-days a year; 95% confidence bands."""
    t = table.sort_values("beds")
    x = t["beds"].to_numpy()
    fig, axes = grid(2, 2, size=(11, 7.5), sharex=True)
    share_panel(axes[0, 0], t, label=label, target=target, confidence=confidence, share=share, fewest=fewest)
    panels = (
        (axes[0, 1], "occupancy", f"Occupancy of in-area {label} beds", "bed-days occupied / open (%)", 1.0),
        (axes[1, 0], "cost_per_year", "Cost, all payers", "£ million a year", 1e6),
        (axes[1, 1], "delayed_bed_days_per_year", "Delayed discharges", "delayed bed-days a year", 1.0),
    )
    for ax, col, name, ylabel, scale in panels:
        ax.plot(x, t[col] / scale, "-o", color=MEDIAN, ms=3, lw=1.6)
        ax.fill_between(x, t[f"{col}_lo95"] / scale, t[f"{col}_hi95"] / scale, color=BAND_50, alpha=0.35, lw=0)
        ax.set_title(name, loc="left", fontsize=10)
        units(ax, ylabel)
        if col == "occupancy":
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            ax.set_ylim(0, 1.05)
        else:  # from zero: a board sees how much (or how little) the beds move it
            top = np.nanmax(t[f"{col}_hi95"].to_numpy(dtype=float) / scale) if len(t) else np.nan
            ax.set_ylim(0, top * 1.08 if np.isfinite(top) and top > 0 else 1.0)
            ax.yaxis.set_major_formatter(grouped(ax))
    for ax in axes.flat:
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in axes[1]:
        units(ax, x=f"in-area {label} beds (constant over the run)")
    return finish(fig, title, source, path, legend=axes[0, 0].get_legend_handles_labels())
