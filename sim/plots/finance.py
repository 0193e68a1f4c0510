"""The finance chart of a run with a pooled budget (``finance_reserve.png``), for a finance lead: the pool's
reserve as a fan over the chance it is negative (two panels, one scale each), and mean spend by setting
per day of each month, so a short month is not read as a saving."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import PercentFormatter

from sim.config.schema import PLACEMENT_TYPES
from sim.config.spec import SystemSpec
from sim.plots.fan import fan_panel
from sim.plots.frame import MARCH, PLAN, days_in, finish, month_axis, month_end, mosaic, units

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
    £m) with zero marked and, in the title, the chance it has gone negative by the end and when it first
    does."""
    fan_panel(ax, summary, "pool_balance", scale=1e6, from_zero=False, tick_months=MARCH)
    ax.axhline(0, color=PLAN, lw=1.2, ls="--", label="zero: the reserve is spent")
    first = risk.get("first_month_median")
    note = f"P(it has gone negative by {risk['end']}) = {risk['p_negative_by_end']:.1%}"
    if first:
        note += f"; first month negative: median {first} (90%: {risk['first_month_p05']} to {risk['first_month_p95']})"
    ax.set_title(
        textwrap.fill(f"Pool reserve before CCGs and LAs cover a shortfall. {note}", 75), loc="left", fontsize=9
    )
    units(ax, "£ million at month end")


def chance_panel(ax: plt.Axes, summary: pd.DataFrame) -> None:
    """The chance the reserve is below zero at each month end (``pool_balance_negative``), on its own
    axis under the reserve's: a second scale on the reserve's panel would be read against the wrong one."""
    p = summary[summary["metric"] == "pool_balance_negative"].sort_values("month")
    ax.plot(month_end(p["month"]), p["mean"], color=NEGATIVE, lw=1.5, label="P(negative at month end)")
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_title("Chance the reserve is negative at month end", loc="left", fontsize=9)
    units(ax, "share of replications")


def per_day(means: pd.DataFrame) -> pd.DataFrame:
    """Monthly totals (indexed by ``YYYY-MM``) as a day's worth: each month's divided by its days, so a
    February of 28 days does not read as a fall in spending."""
    return means.div(days_in(means.index), axis=0)


def spend_panel(ax: plt.Axes, summary: pd.DataFrame, spec: SystemSpec) -> None:
    """Mean spend by setting each month, per day of the month (£ thousand a day, stacked: means add up,
    medians would not); the legend to the right of the panel, off the stack."""
    means = summary[summary["month"].isin(spec.calendar.labels)].pivot(index="month", columns="metric", values="mean")
    present = [(label, m) for label, m in SETTINGS if m in means.columns]
    daily = per_day(means[[m for _, m in present]].fillna(0))
    ax.stackplot(
        month_end(daily.index),
        *[daily[m].to_numpy() / 1e3 for _, m in present],
        labels=[lab for lab, _ in present],
        alpha=0.85,
    )
    ax.set_title("Spend by setting (mean over replications)", loc="left", fontsize=9)
    units(ax, "£ thousand a day (each month's spend / its days)")
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=7.5)


def plot_finance(
    summary: pd.DataFrame, spec: SystemSpec, risk: dict, source: str, path: Path | None = None
) -> plt.Figure:
    """Three panels, each on one y-axis: the pool's reserve (``reserve_panel``) over the chance it is
    negative (``chance_panel``), and spend by setting per day (``spend_panel``), with March ticks (the
    financial year ends). The reserve's legend is the figure's, clear of the data."""
    has_chance = (summary["metric"] == "pool_balance_negative").any()
    layout = "AC;BC" if has_chance else "AC"
    ratios = {"height_ratios": [2.3, 1]} if has_chance else {}
    fig, axes = mosaic(layout, size=(13, 6.4 if has_chance else 5.2), sharex=False, gridspec_kw=ratios)
    reserve_panel(axes["A"], summary, risk)
    if has_chance:
        chance_panel(axes["B"], summary)
    spend_panel(axes["C"], summary, spec)
    for ax in axes.values():
        month_axis(ax, MARCH)
        ax.grid(axis="y", alpha=0.3)
    return finish(
        fig,
        f"Pooled budget, {spec.title}, scenario {spec.scenario}",
        source,
        path,
        legend=axes["A"].get_legend_handles_labels(),
        trim=True,  # the spend legend sits outside its panel
    )
