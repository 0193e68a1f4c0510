"""A run for the page, without Streamlit: the replications in memory with a progress callback, then what
the page shows of them (the fan chart and the milestone chart as PNG bytes, P(at or under) each
milestone, the key figures), in one picklable value the page's cache keeps.

``simulate`` is ``sim.api.run(cfg)`` (prepare, the replications, publish: the same results) with a call
after each chunk: ``sim.api.replicate`` reports progress only to its console bar, so the page runs the
replications through ``sim.runner.run_replications`` itself, as ``replicate`` does for a fixed count.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import pandas as pd
from omegaconf import DictConfig

from sim.api import RunResult, prepare, publish, replicate
from sim.config import ConfigError
from sim.plots import fan_chart
from sim.plots.milestones import milestone_chart
from sim.report.sections import STOCKS, TOTALS, label_of

#: Screen resolution of the page's charts (the command line's files are 200 dpi).
SCREEN_DPI = 110

Progress = Callable[[int, int], None]  # (replications done, of how many)


@dataclass
class AppRun:
    """What the page shows of one run: its charts (name -> PNG), the milestones' table, the key figures,
    and the run's bands (``summary``) and size."""

    title: str
    source: str
    replications: int
    seconds: float
    summary: pd.DataFrame
    milestones: pd.DataFrame
    key_figures: pd.DataFrame
    charts: dict[str, bytes] = field(default_factory=dict)


def replications_of(cfg: DictConfig, on_progress: Progress | None = None) -> RunResult:
    """``sim.api.run(cfg)`` with no directory, calling ``on_progress(done, total)`` after each chunk. A
    count of replications only (the page offers no ``auto``)."""
    prepared = prepare(cfg)
    r = prepared.settings
    if r.auto is not None:
        raise ConfigError("run.replications", "the app runs a number of replications, not auto")
    return publish(prepared, replicate(prepared, progress=False, on_progress=on_progress))


def simulate(cfg: DictConfig, on_progress: Progress | None = None) -> AppRun:
    """Run ``cfg`` in memory and draw what the page shows of it."""
    clock = time.perf_counter()
    result = replications_of(cfg, on_progress)
    seconds = time.perf_counter() - clock
    spec, m = result.spec, result.manifest
    source = (
        f"Source: tcp-sim, system {spec.name}, scenario {spec.scenario}, {m['replications']:,} replications, "
        f"seed {m['seed']}, engine {m['engine']}"
    )
    odds = result.trajectory[result.trajectory["metric"] == "inpatients"]
    start = spec.calendar.start_label
    charts = {
        "fan_inpatients": png(
            fan_chart(
                result.summary,
                "inpatients",
                plan=spec.trajectory(),
                ylabel="inpatients at month end",
                source=source,
                title=f"Inpatients, {spec.title}: simulated bands and the planned trajectory",
                odds=odds,
                start=start,
            )
        )
    }
    later = odds[odds["month"] != start]
    if len(later):
        charts["milestones"] = png(
            milestone_chart(
                result.monthly[["replication", "month", "inpatients"]],
                later,
                metric="inpatients",
                title=f"Inpatients at each milestone, {spec.title}: the futures that meet the plan",
                source=source,
            )
        )
    return AppRun(
        title=f"{spec.title}, scenario {spec.scenario}",
        source=source,
        replications=int(m["replications"]),
        seconds=seconds,
        summary=result.summary,
        milestones=milestone_table(result.trajectory),
        key_figures=key_figures(result),
        charts=charts,
    )


def png(fig: plt.Figure) -> bytes:
    """A figure as PNG bytes at screen resolution (the figure is closed)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=SCREEN_DPI)
    plt.close(fig)
    return buf.getvalue()


def milestone_table(trajectory: pd.DataFrame) -> pd.DataFrame:
    """Each planned milestone: the plan, P(at or under it) with its 95% interval, and the bands."""
    t = trajectory
    return pd.DataFrame(
        {
            "metric": t["metric"],
            "month": t["month"],
            "planned": t["planned"],
            "P(at or under)": t["p_at_or_under"].map("{:.0%}".format),
            "95% interval": [f"{lo:.0%} to {hi:.0%}" for lo, hi in zip(t["p_low"], t["p_high"])],
            "mean": t["mean"].round(1),
            "5th to 95th percentile": [f"{a:g} to {b:g}" for a, b in zip(t["p05"], t["p95"])],
        }
    ).reset_index(drop=True)


def key_figures(result: RunResult) -> pd.DataFrame:
    """The report's key figures: each stock at the start and at the end (its mean, with the 5th to 95th
    percentiles), and each flow and spend over the whole run (the mean of its total across replications;
    money in £ million)."""
    summary, cal = result.summary, result.spec.calendar
    first, last = cal.start_label, cal.labels[-1]
    heads = [f"{first} (month end)", f"{last} (month end)", f"total, {first} to {last}"]
    rows = []
    for metric in STOCKS:
        cells = [_band(summary, metric, month) for month in (first, last)]
        if any(c is not None for c in cells):
            rows.append((label_of(metric), cells[0] or "", cells[1] or "", ""))
    for metric in TOTALS:
        found = summary[summary["metric"] == metric]
        if found.empty:
            continue
        total = float(found.loc[found["month"].isin(cal.labels), "mean"].sum())
        label = label_of(metric)
        rows.append((label, "", "", f"{total / 1e6:,.2f}" if label.endswith("(£m)") else f"{total:,.1f}"))
    return pd.DataFrame(rows, columns=["figure", *heads])


def _band(summary: pd.DataFrame, metric: str, month: str) -> str | None:
    """A metric's mean with its 5th to 95th percentiles at a month's end, as text; None if absent."""
    rows = summary[(summary["metric"] == metric) & (summary["month"] == month)]
    if rows.empty:
        return None
    r = rows.iloc[0]
    return f"{r['mean']:,.1f} ({r['p05']:,.0f} to {r['p95']:,.0f})"
