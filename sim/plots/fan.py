"""Fan charts: a metric's monthly bands across replications with the planned trajectory drawn over them."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: runs on machines with no screen
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def _month_end(labels: pd.Series) -> pd.Series:
    """Stocks are counted at the end of each month: plot them there."""
    return pd.to_datetime(labels, format="%Y-%m") + pd.offsets.MonthEnd(0)


def fan_chart(
    summary: pd.DataFrame,
    metric: str,
    *,
    plan: dict[str, float] | None = None,
    title: str,
    ylabel: str,
    source: str,
    path: Path | None = None,
) -> plt.Figure:
    """Median with 50% and 90% bands of ``metric`` by month, the plan as points joined by a dashed line."""
    s = summary[summary["metric"] == metric].sort_values("month")
    if s.empty:
        raise ValueError(f"no metric '{metric}' in the summary")
    x = _month_end(s["month"])
    fig, ax = plt.subplots(figsize=(9, 5), dpi=110)
    ax.fill_between(x, s["p05"], s["p95"], color="#9ecae1", alpha=0.6, lw=0, label="90% of replications")
    ax.fill_between(x, s["p25"], s["p75"], color="#4292c6", alpha=0.7, lw=0, label="50% of replications")
    ax.plot(x, s["p50"], color="#08306b", lw=1.8, label="median")
    if plan:
        months = pd.Series(list(plan))
        ax.plot(_month_end(months), list(plan.values()), "o--", color="#d94801", lw=1.5, ms=6, label="planned trajectory")
    ax.set_title(title, loc="left", fontsize=12)
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(3, 9)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper right", frameon=False, fontsize=9)
    fig.text(0.01, 0.01, source, fontsize=8, color="#555555")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    if path is not None:
        fig.savefig(path)
        plt.close(fig)
    return fig
