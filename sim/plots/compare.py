"""The comparison chart (``comparison.png`` of ``python -m sim.compare``): each scenario's paired difference
from the baseline, one panel a metric in its own unit, one row a period. A thick bar is the confidence
interval of the mean difference (how sure we are of the average effect), the thin line through it the
5th-95th percentile of the paired differences across replications (how much one future can differ), a
grey band the differences smaller than matter, and P(better) is written beside each row. It reads a
comparison's fields and the metrics' labels (``sim.compare`` knows what its metrics are), so the plots
import nothing above them."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Protocol

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter
from matplotlib.transforms import blended_transform_factory

from sim.plots.frame import finish, grid

BAND = "#d9d9d9"  # the differences smaller than matter
SAME = "same in every replication"  # a comparison's verdict when no replication differs
TIES = 0.1  # from this share of replications alike, the chart says how many (beside P(better))
MONTH = re.compile(r"\b(\d{4})-(\d{2})\b")


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


def spoken_period(period: str) -> str:
    """A period as a reader says it: ``2019-03`` is ``Mar 2019`` (financial years ``2016/17`` stay)."""
    return MONTH.sub(lambda m: date(int(m.group(1)), int(m.group(2)), 1).strftime("%b %Y"), period)


#: Words of scenario names that are abbreviations, as they are written.
ABBREVIATIONS = {"ctr": "CTR", "ctrs": "CTRs", "atu": "ATU", "camhs": "CAMHS", "ccg": "CCG", "bhr": "BHR"}


def spoken_scenario(name: str, capital: bool = True) -> str:
    """A scenario's name as words: ``hub_pooling`` is ``Hub pooling``, ``full_ctr_coverage`` ``Full CTR
    coverage`` (lower case at the start with ``capital=False``, for the middle of a sentence)."""
    words = " ".join(ABBREVIATIONS.get(w, w) for w in name.replace("_", " ").split())
    return words[:1].upper() + words[1:] if capital else words


def _share(p: float) -> str:
    return "–" if not math.isfinite(p) else f"{p:.0%}"


def forest_chart(
    c: Compared,
    labels: Mapping[str, tuple[str, str, float]],
    path: Path | None = None,
    names: Mapping[str, str] | None = None,
) -> plt.Figure:
    """The chart of the paired differences: one panel a metric (its own unit), one row a period (and
    scenario). ``labels`` gives each metric's panel title, unit and the factor from the table's units to
    the unit (``sim.compare.chart_labels``); ``names`` each scenario's name in words (default: its name
    with spaces)."""
    same = c.table.groupby("metric", sort=False)["verdict"].agg(lambda v: bool((v == SAME).all()))
    table = c.table[~c.table["metric"].map(same)] if not same.all() else c.table  # a panel of zeros says nothing
    left_out = [labels[m][0] for m in same.index if same[m] and m not in set(table["metric"])]
    given = dict(names or {})
    names = {s: given.get(s) or spoken_scenario(s) for s in c.scenarios}
    base = given.get(c.baseline) or spoken_scenario(c.baseline, capital=False)
    metrics = list(dict.fromkeys(table["metric"]))
    others = c.scenarios[1:]
    colours = plt.get_cmap("tab10")
    heights = [max(1, table[table["metric"] == m]["period"].nunique()) * max(1, len(others)) for m in metrics]
    fig, axes = grid(
        len(metrics),
        1,
        size=(9.5, 1.4 + 0.34 * sum(heights) + 0.6 * len(metrics)),
        gridspec_kw={"height_ratios": heights},
    )
    step = 0.8 / max(1, len(others))
    for ax, metric in zip(axes[:, 0], metrics):
        rows = table[table["metric"] == metric]
        periods = list(dict.fromkeys(rows["period"]))
        heading, unit, scale = labels[metric]
        beside = blended_transform_factory(ax.transAxes, ax.transData)
        for j, name in enumerate(others):
            r = rows[rows["scenario"] == name].set_index("period").reindex(periods)
            y = np.arange(len(periods)) + (j - (len(others) - 1) / 2) * step
            colour = colours(j)
            least = r["smallest_difference"].fillna(0.0).to_numpy() * scale
            ax.barh(y, 2 * least, left=-least, height=step * 0.9, color=BAND, lw=0, zorder=1)
            ax.hlines(y, r["diff_p05"] * scale, r["diff_p95"] * scale, color=colour, lw=1.1, zorder=2)
            for end in ("diff_p05", "diff_p95"):
                ax.plot(r[end] * scale, y, "|", color=colour, ms=6, mew=1.1, zorder=2)
            ax.hlines(y, r["ci_low"] * scale, r["ci_high"] * scale, color=colour, lw=6.5, zorder=3)
            ax.plot(r["mean_diff"] * scale, y, "o", ms=4, mfc="white", mec=colour, mew=1.2, zorder=4)
            for yi, (p, worse, word) in zip(y, zip(r["p_better"], r["p_worse"], r["verdict"])):
                text = f"P(better) {_share(p)}" if math.isfinite(p) else "no better way"
                if math.isfinite(p) and word != SAME and 1 - p - worse >= TIES:
                    text += f", same {_share(1 - p - worse)}"  # many ties: P(better) alone reads as worse
                if word in ("smaller than matters", SAME):
                    text += f", {word}"
                if len(others) > 1:  # which scenario the row is, in its colour (the legend holds the marks)
                    text = f"{names[name]}: {text}"
                ax.text(1.01, yi, text, transform=beside, fontsize=7.5, va="center", color=colour)
        ax.axvline(0, color="#333333", lw=0.8, zorder=1)
        ax.use_sticky_edges = False  # bars' edges would otherwise stop the margin
        ax.margins(x=0.05)
        ax.set_yticks(np.arange(len(periods)), [spoken_period(p) for p in periods], fontsize=8.5)
        ax.set_ylim(len(periods) - 0.5, -0.5)
        ax.set_title(heading + (f" ({unit})" if unit else ""), loc="left", fontsize=10)
        ax.xaxis.set_major_formatter(FuncFormatter(signed_tick))
        ax.tick_params(axis="x", labelsize=8.5)
        ax.grid(axis="x", alpha=0.3)
    single = colours(0) if len(others) == 1 else "#555555"
    handles: list = [
        Line2D([], [], color=single, lw=6.5),
        Line2D([], [], color=single, lw=1.1, marker="|", ms=6),
        Patch(color=BAND),
    ]
    words = [
        f"{c.level:.0%} CI of the mean difference",
        "5–95% of the paired differences",
        "smaller than matters",
    ]
    seeds = (
        f"with independent seeds ({c.independent_seed}) the CIs would be wider: comparison.csv"
        if c.independent_seed is not None
        else "independent seeds' widths estimated from the same runs: comparison.csv"
    )
    against = ", ".join(names[n] for n in others)
    title = c.title[:1].upper() + c.title[1:]
    alike = f" Not drawn, the same in every replication: {'; '.join(left_out)}." if left_out else ""
    return finish(
        fig,
        f"{title}: {against} against {base}",
        f"Source: tcp-sim compare; system {c.system}; {c.replications} paired replications on seed {c.seed} "
        f"(common random numbers); {seeds}; engine {c.engine}. P(better): the share of replications in "
        "which the scenario does better than the baseline (fewer people, out of area, less spent; a higher "
        f"chance of meeting the plan).{alike}",
        path,
        subtitle=f"Scenario minus {base}, replication by replication (the same seeds)",
        legend=(handles, words),
    )
