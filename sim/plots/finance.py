"""The finance chart of a run with a pooled budget (``finance_reserve.png``), for a finance lead: the pool's
reserve as a fan with the chance it is negative, and mean spend by setting, month by month."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from sim.config.schema import PLACEMENT_TYPES
from sim.config.spec import SystemSpec
from sim.plots.fan import fan_panel
from sim.plots.frame import MARCH, PLAN, finish, grid, month_axis, month_end, units

#: Spend by setting, stacked in the chart (label, metric).
SETTINGS: tuple[tuple[str, str], ...] = (
    ("beds in area", "cost_beds_in_area"),
    ("beds out of area", "cost_beds_out_of_area"),
    *((f"community, {k.replace('_', ' ')}", f"cost_community_{k}") for k in PLACEMENT_TYPES),
    ("crisis support", "cost_crisis_support"),
    ("CTRs", "cost_ctrs"),
)
NEGATIVE = "#a50f15"  # the chance the reserve is below zero


def reserve_panel(ax: plt.Axes, summary: pd.DataFrame, risk: dict) -> None:
    """The pool's reserve before any cover by commissioners (``pool_balance``: median, 50% and 90% bands,
    £m) with the chance it is negative each month (dotted, right axis) and when it first goes negative."""
    fan_panel(ax, summary, "pool_balance", scale=1e6, from_zero=False, legend=False, tick_months=MARCH)
    ax.axhline(0, color=PLAN, lw=1.2, ls="--", label="zero: the reserve is spent")
    p = summary[summary["metric"] == "pool_balance_negative"].sort_values("month")
    if not p.empty:  # the chance of being below zero, month by month, on its own axis
        chance = ax.twinx()
        chance.plot(month_end(p["month"]), p["mean"], color=NEGATIVE, lw=1.2, ls=":")
        chance.set_ylim(0, 1.02)
        units(chance, "P(negative at month end)", fontsize=8)
        chance.yaxis.label.set_color(NEGATIVE)
        chance.tick_params(axis="y", colors=NEGATIVE, labelsize=8)
    first = risk.get("first_month_median")
    note = f"P(it has gone negative by {risk['end']}) = {risk['p_negative_by_end']:.1%}"
    if first:
        note += f"; first month negative: median {first} (90%: {risk['first_month_p05']} to {risk['first_month_p95']})"
    ax.set_title(
        textwrap.fill(f"Pool reserve before CCGs and LAs cover a shortfall. {note}", 75), loc="left", fontsize=9
    )
    units(ax, "£ million at month end")
    handles, labels = ax.get_legend_handles_labels()
    if not p.empty:
        handles.append(plt.Line2D([], [], color=NEGATIVE, lw=1.2, ls=":"))
        labels.append("P(negative at month end), right axis")
    ax.legend(handles, labels, loc="lower left", frameon=False, fontsize=8)


def spend_panel(ax: plt.Axes, summary: pd.DataFrame, spec: SystemSpec) -> None:
    """Mean spend by setting each month (£m, stacked: means add up, medians would not)."""
    means = summary[summary["month"].isin(spec.calendar.labels)].pivot(index="month", columns="metric", values="mean")
    present = [(label, m) for label, m in SETTINGS if m in means.columns]
    xs = month_end(means.index)
    ax.stackplot(
        xs, *[means[m].fillna(0).to_numpy() / 1e6 for _, m in present], labels=[lab for lab, _ in present], alpha=0.85
    )
    ax.set_title("Spend by setting (mean over replications)", loc="left", fontsize=9)
    units(ax, "£ million a month")
    ax.legend(loc="upper left", frameon=False, fontsize=7, ncol=2)


def plot_finance(
    summary: pd.DataFrame, spec: SystemSpec, risk: dict, source: str, path: Path | None = None
) -> plt.Figure:
    """Two panels: the pool's reserve (``reserve_panel``) and spend by setting (``spend_panel``), with March
    ticks (the financial year ends)."""
    fig, axes = grid(1, 2, size=(13, 5.2))
    left, right = axes[0]
    reserve_panel(left, summary, risk)
    spend_panel(right, summary, spec)
    for ax in (left, right):
        month_axis(ax, MARCH)
        ax.grid(axis="y", alpha=0.3)
    return finish(fig, f"Pooled budget, {spec.title}, scenario {spec.scenario}", source, path)
