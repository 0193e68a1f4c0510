"""A run for the page, without Streamlit: the replications in memory with a progress callback, then what
the page shows of them (the fan chart and the milestone chart as PNG bytes, P(at or under) each
milestone, the key figures), in one picklable value the page's cache keeps.

``simulate`` is ``sim.api.run(cfg)`` (prepare, the replications, publish: the same results) with a call
after each chunk: ``sim.api.replicate`` reports progress only to its console bar, so the page runs the
replications through ``sim.runner.run_replications`` itself, as ``replicate`` does for a fixed count.
"""

from __future__ import annotations

import io
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from omegaconf import DictConfig

from sim.api import RunResult, prepare, publish, replicate
from sim.config import ConfigError
from sim.plots import fan_chart
from sim.plots.fan import is_count
from sim.plots.milestones import milestone_chart
from sim.report.sections import STOCKS, TOTALS, label_of

#: Screen resolution of the page's charts (the command line's files are 200 dpi).
SCREEN_DPI = 110

Progress = Callable[[int, int], None]  # (replications done, of how many)


@dataclass
class AppRun:
    """What the page shows of one run: its charts (name -> PNG at screen resolution), the milestones'
    table, the key figures, and what the charts are drawn from (to draw them again at the files'
    resolution and as SVG when downloaded)."""

    title: str
    source: str
    replications: int
    seconds: float
    summary: pd.DataFrame
    milestones: pd.DataFrame
    key_figures: pd.DataFrame
    plan: dict[str, float] = field(default_factory=dict)
    odds: pd.DataFrame = field(default_factory=pd.DataFrame)  # the trajectory rows of inpatients
    at_milestones: pd.DataFrame = field(default_factory=pd.DataFrame)  # replication, month, inpatients
    start: str = ""
    spec_title: str = ""
    charts: dict[str, bytes] = field(default_factory=dict)


class Store:
    """The results the app has made, by their resolved config (the YAML of the config run): the newest
    ``size`` kept, shared by every session (a result is never changed once made), safe across the
    sessions' threads. Not ``st.cache_data``: a run shows its progress in the page, which a cached
    function may not do."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            return None

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def made(self, key: str, make: Callable[[], Any]) -> Any:
        """The value of ``key``, made by ``make()`` and kept if not made before (made outside the lock,
        so two sessions' runs go at the same time)."""
        found = self.get(key)
        if found is None:
            found = make()
            self.put(key, found)
        return found


def replications_of(
    cfg: DictConfig, on_progress: Progress | None = None, reference: DictConfig | None = None
) -> RunResult:
    """``sim.api.run(cfg)`` with no directory, calling ``on_progress(done, total)`` after each chunk. A
    count of replications only (the page offers no ``auto``). ``reference``: the config of its files
    with no value changed, if the page holds it (``sim.api.prepare``: not composed again)."""
    prepared = prepare(cfg, reference=reference)
    r = prepared.settings
    if r.auto is not None:
        raise ConfigError("run.replications", "the app runs a number of replications, not auto")
    return publish(prepared, replicate(prepared, progress=False, on_progress=on_progress))


#: The charts of a run, by name: what the page shows (and offers as PNG and SVG).
CHARTS = {"fan_inpatients": "Inpatients against the plan", "milestones": "Inpatients at each milestone"}


def draw(r: AppRun, name: str) -> plt.Figure:
    """One of the run's charts (``CHARTS``), drawn anew."""
    if name == "fan_inpatients":
        return fan_chart(
            r.summary,
            "inpatients",
            plan=r.plan,
            ylabel="inpatients at month end",
            source=r.source,
            title=f"Inpatients, {r.spec_title}: simulated bands and the planned trajectory",
            odds=r.odds,
            start=r.start,
        )
    if name == "milestones":
        return milestone_chart(
            r.at_milestones,
            r.odds[r.odds["month"] != r.start],
            metric="inpatients",
            title=f"Inpatients at each milestone, {r.spec_title}: the futures that meet the plan",
            source=r.source,
        )
    raise KeyError(name)


def simulate(cfg: DictConfig, on_progress: Progress | None = None, reference: DictConfig | None = None) -> AppRun:
    """Run ``cfg`` in memory and draw what the page shows of it (``reference``: ``replications_of``)."""
    clock = time.perf_counter()
    result = replications_of(cfg, on_progress, reference)
    seconds = time.perf_counter() - clock
    spec, m = result.spec, result.manifest
    source = (
        f"Source: tcp-sim, system {spec.name}, scenario {spec.scenario}, {m['replications']:,} replications, "
        f"seed {m['seed']}, engine {m['engine']}"
    )
    odds = result.trajectory[result.trajectory["metric"] == "inpatients"].reset_index(drop=True)
    start = spec.calendar.start_label
    months = set(odds["month"]) - {start}
    monthly = result.monthly
    at = monthly.loc[monthly["month"].isin(months), ["replication", "month", "inpatients"]].reset_index(drop=True)
    r = AppRun(
        title=f"{spec.title}, scenario {spec.scenario}",
        source=source,
        replications=int(m["replications"]),
        seconds=seconds,
        summary=result.summary,
        milestones=milestone_table(result.trajectory),
        key_figures=key_figures(result),
        plan=dict(spec.trajectory()),
        odds=odds,
        at_milestones=at,
        start=start,
        spec_title=spec.title,
    )
    r.charts = {name: png(draw(r, name)) for name in CHARTS if name != "milestones" or months}
    return r


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
            # people are whole: the band's edges rounded, as the fan chart draws them (29.65 is 30)
            "5th to 95th percentile": [
                f"{round(a):g} to {round(b):g}" if is_count(m) else f"{a:g} to {b:g}"
                for m, a, b in zip(t["metric"], t["p05"], t["p95"])
            ],
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
