"""The sweep chart (``sweep.png`` of experiments/collect.py): one metric across the jobs of a Hydra sweep, each
job's median and 90% band over the months, labelled by its swept overrides, with the planned trajectory.
It reads ``sim.sweep``'s stacked tables (columns job, label, system, seed, replications, month, ...)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.metrics import about
from sim.plots.fan import is_count, whole_median
from sim.plots.frame import days_in, figure, finish, month_axis, month_end, people_axis, units

#: A catalogue unit on the sweep chart's axis, and the factor from the table's units.
AXIS_UNITS: dict[str, tuple[str, float]] = {"pounds": ("£ million", 1e-6), "share": ("share", 1.0)}
#: When the chart's monthly value is measured, by the metric's kind.
WHEN = {"stock": "at month end", "flow": "in the month", "level": "over the month"}
#: Spend in a month is drawn per day of it (a 28-day February is no saving), in £ thousand.
PER_DAY = ("£ thousand a day (each month's spend / its days)", 1e-3)
#: Words of an override's key spelled as a reader spells them.
WORDS = {
    "ctr": "CTR",
    "ctrs": "CTRs",
    "atu": "ATU",
    "camhs": "CAMHS",
    "los": "length of stay",
    "s117": "S117",
    "ccg": "CCG",
    "ccgs": "CCGs",
    "la": "LA",
    "las": "LAs",
    "tcp": "TCP",
}
#: Leading parts of a key that say where it lives, not what it is.
PREFIXES = ("tcp.", "run.", "system.")


def metric_unit(metric: str) -> tuple[str, float]:
    """A metric's axis label and the scale from the table's units to it (the metric catalogue's unit and
    kind, ``sim.metrics.about``); spend in the month is per day (``PER_DAY``), see ``per_day``."""
    known = about(metric)
    if known is None:
        return metric.replace("_", " "), 1.0
    if per_day(metric):
        return PER_DAY
    unit, scale = AXIS_UNITS.get(known.unit, (known.unit, 1.0))
    return f"{unit} {WHEN[known.kind]}", scale


def per_day(metric: str) -> bool:
    """Whether the chart draws ``metric`` per day of each month: spend within the month (a flow of £)."""
    known = about(metric)
    return known is not None and known.unit == "pounds" and known.kind == "flow"


def human_label(label: str) -> str:
    """A job's label of overrides (``tcp.ctr.coverage=0.6, scenario=housing_first``) as a reader would
    write it (``CTR coverage 0.6; scenario housing first``): no config paths, no underscores, acronyms in
    capitals (``scenario=full_ctr_coverage`` is ``scenario full CTR coverage``)."""
    parts = []
    for override in label.split(", "):
        key, eq, value = override.partition("=")
        if not eq:
            parts.append(override)
            continue
        key = key.lstrip("+~")
        for prefix in PREFIXES:
            key = key.removeprefix(prefix)
        words = [WORDS.get(w, w) for w in f"{key.replace('.', ' ')} {value}".replace("_", " ").split()]
        parts.append(" ".join(words))
    return "; ".join(parts)


def _span(values: pd.Series, fmt: str = ",") -> str:
    """The distinct values of a column, as text (one value when the jobs agree)."""
    return ", ".join(format(v, fmt) for v in sorted(set(values)))


def sweep_chart(
    summary: pd.DataFrame, trajectory: pd.DataFrame, metric: str, *, root: Path, path: Path | None = None
) -> plt.Figure:
    """One metric across the jobs of a sweep: each job's median (line) and 90% band (shade), labelled by
    its swept overrides, with the planned trajectory (one plan, or one per job if they differ)."""
    s = summary[summary["metric"] == metric]
    if s.empty:
        raise ValueError(f"no metric '{metric}' in the sweep's summaries")  # collect() checks it first
    ylabel, scale = metric_unit(metric)
    counts, daily = is_count(metric), per_day(metric)
    jobs = list(dict.fromkeys(s["job"]))
    colours = plt.get_cmap("tab10" if len(jobs) <= 10 else "viridis")
    fig, ax = figure(size=(10, 5.6))
    plans = {}
    for i, job in enumerate(jobs):
        js = s[s["job"] == job].sort_values("month")
        colour = colours(i % 10) if len(jobs) <= 10 else colours(i / max(len(jobs) - 1, 1))
        x = month_end(js["month"])
        factor = scale / days_in(js["month"]) if daily else scale
        low, mid, high = (js[q].to_numpy(dtype=float) for q in ("p05", "p50", "p95"))
        if counts:  # whole people, as the fan charts draw them (sim.plots.fan.fan_panel)
            low, mid, high = np.round(low), whole_median(mid), np.round(high)
        step: Literal["mid"] | None = "mid" if counts else None
        ax.fill_between(x, low * factor, high * factor, color=colour, alpha=0.15, lw=0, step=step)
        ax.plot(
            x,
            mid * factor,
            color=colour,
            lw=1.8,
            label=human_label(js["label"].iloc[0]),
            drawstyle="steps-mid" if counts else "default",
            clip_on=not counts,  # a median of 0 drawn over the axis, not hidden under it
            zorder=3,
        )
        tj = trajectory[(trajectory["job"] == job) & (trajectory["metric"] == metric)].sort_values("month")
        if not tj.empty:
            plans[job] = (tuple(tj["month"]), tuple(tj["planned"]), colour, human_label(js["label"].iloc[0]))
    if plans and len({(m, p) for m, p, _, _ in plans.values()}) == 1:
        months, planned, _, _ = next(iter(plans.values()))
        ax.plot(
            month_end(months),
            [p * scale for p in planned],
            "o--",
            color="black",
            lw=1.3,
            ms=6,
            label="planned trajectory",
        )
    else:
        for months, planned, colour, label in plans.values():
            ax.plot(
                month_end(months),
                [p * scale for p in planned],
                "o--",
                color=colour,
                lw=1.2,
                ms=5,
                label=f"plan: {label}",
            )
    units(ax, ylabel)
    ax.set_ylim(bottom=0)
    if counts:
        people_axis(ax)
    month_axis(ax)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
        fontsize=8,
        title="median; shade: 90% of replications",
        title_fontsize=8,
    )
    systems = ", ".join(dict.fromkeys(s["system"].astype(str)))
    known = about(metric)
    name = known.label if known is not None else metric.replace("_", " ")
    title = f"{name[:1].upper()}{name[1:]}, {systems}: {len(jobs)} runs of a sweep, median and 90% band"
    source = (
        f"Source: tcp-sim sweep {root}; replications per run: {_span(s['replications'])}; "
        f"seed: {_span(s['seed'], 'd')}; bands are the 5th to 95th percentiles across replications"
    )
    return finish(fig, title, source, path, trim=True)  # trimmed: the legend is outside the axes
