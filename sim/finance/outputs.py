"""The finance outputs of a run with a pooled budget: bands per month and per financial year (April to
March) of spend by commissioner and by setting, dowries, the pool's inflows, outflows, reserve and the
shortfalls commissioners carry, the chance the reserve goes negative, and a chart for a finance lead
(drawn by ``sim.plots.finance.plot_finance``).

``write_finance(run_dir, spec, summary)`` writes ``finance_monthly.csv``, ``finance_years.csv`` and
``finance_reserve.png`` into a run directory, reading per-replication values from its chunk files
(financial-year sums need them); ``finance_years`` and ``reserve_risk`` also work on an in-memory
``RunResult.monthly``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from sim.config.schema import PAYERS, PLACEMENT_TYPES
from sim.config.spec import SystemSpec
from sim.finance.ledger import FLOWS, STOCKS
from sim.plots.finance import plot_finance
from sim.results.summary import QUANTILES

#: Spend lines (flows, pounds a month) that every run has: by commissioner, by setting, dowries.
SPEND: tuple[str, ...] = (
    *(f"cost_{p}" for p in PAYERS),
    "cost_total",
    "cost_beds_in_area",
    "cost_beds_empty",
    "cost_beds_out_of_area",
    "cost_community",
    *(f"cost_community_{k}" for k in PLACEMENT_TYPES),
    "cost_crisis_support",
    "cost_ctrs",
    "dowries",
)
FINANCE_FLOWS: tuple[str, ...] = (*SPEND, *FLOWS)
FINANCE_METRICS: tuple[str, ...] = (*FINANCE_FLOWS, *STOCKS)


def finance_monthly(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary's bands of the finance metrics (month, metric, mean, quantiles), month by month. The
    mean of ``pool_balance_negative`` is P(the reserve is negative at that month end), of
    ``pool_first_negative`` P(it first goes negative in that month), of ``pool_ever_negative`` P(it has by then)."""
    order = {m: k for k, m in enumerate(FINANCE_METRICS)}
    out = summary[summary["metric"].isin(order)].copy()
    out["_k"] = out["metric"].map(order)
    return out.sort_values(["month", "_k"], kind="stable").drop(columns="_k").reset_index(drop=True)


def finance_years(monthly: pd.DataFrame, spec: SystemSpec) -> pd.DataFrame:
    """Bands across replications per financial year (April to March): flows summed over the year's months
    in the run, stocks at its last month in the run. ``months`` says how many of its months the run holds
    (12 for a whole year). Columns: year, months, metric, kind, mean, p05 ... p95."""
    labels = list(spec.calendar.labels)
    rows = monthly[monthly["month"].isin(labels)].sort_values(["replication", "month"], kind="stable")
    rows = rows.assign(_fy=rows["month"].map(spec.calendar.financial_year))  # 'YYYY/YY' sorts as the years
    names = [m for m in FINANCE_METRICS if m in rows.columns]
    flows = [m for m in names if m in FINANCE_FLOWS]
    stocks = [m for m in names if m not in FINANCE_FLOWS]
    grouped = rows.groupby(["replication", "_fy"], sort=True)
    parts = []
    if flows:
        parts.append(grouped[flows].sum(min_count=1))
    if stocks:
        parts.append(grouped[stocks].last())
    per_rep = pd.concat(parts, axis=1).reset_index()
    months = rows.groupby("_fy")["month"].nunique()
    out = []
    for year, frame in per_rep.groupby("_fy", sort=True):
        for metric in names:
            v = frame[metric].to_numpy(dtype=np.float64)
            v = v[~np.isnan(v)]
            if len(v) == 0:
                continue
            q = np.quantile(v, list(QUANTILES.values()))
            out.append(
                {
                    "year": year,
                    "months": int(months[year]),
                    "metric": metric,
                    "kind": "flow: sum over the year" if metric in flows else "stock: at the year's last month",
                    "mean": float(v.mean()),
                    **dict(zip(QUANTILES, q.tolist())),
                }
            )
    return pd.DataFrame(out, columns=["year", "months", "metric", "kind", "mean", *QUANTILES])


def reserve_risk(monthly: pd.DataFrame, spec: SystemSpec) -> dict:
    """When the reserve goes negative across replications: P(by the last month), the median and 5-95%
    range of the first month among the replications where it does, and P(negative by each March)."""
    labels = list(spec.calendar.labels)
    rows = monthly[monthly["month"].isin(labels)]
    ever = rows.pivot(index="replication", columns="month", values="pool_ever_negative")[labels].to_numpy() > 0.5
    n = len(ever)
    went = ever.any(axis=1)
    first = np.argmax(ever, axis=1)[went]
    ends = set(spec.calendar.year_ends())
    march = {m: float(ever[:, k].mean()) for k, m in enumerate(labels) if m in ends}

    def month(q: float) -> str | None:
        return labels[int(np.quantile(first, q, method="lower"))] if len(first) else None

    return {
        "replications": n,
        "p_negative_by_end": float(went.mean()) if n else float("nan"),
        "end": labels[-1],
        "first_month_median": month(0.5),
        "first_month_p05": month(0.05),
        "first_month_p95": month(0.95),
        "p_negative_by_march": march,
    }


def write_finance(
    run_dir: str | Path,
    spec: SystemSpec,
    summary: pd.DataFrame | None = None,
    *,
    monthly: pd.DataFrame | None = None,
    source: str = "",
) -> list[Path]:
    """Write finance_monthly.csv, finance_years.csv and finance_reserve.png into ``run_dir`` when the system
    has a pooled budget (nothing otherwise); per-replication values come from ``monthly`` or the run's
    chunk files, the monthly bands from ``summary`` (or the run's summary.csv). Returns the files written."""
    if spec.pooled_budget is None:
        return []
    run_dir = Path(run_dir)
    if summary is None:
        summary = pd.read_csv(run_dir / "summary.csv")
    if monthly is None:
        from sim.runner import chunk_files, read_chunks

        have = set(pq.read_schema(chunk_files(run_dir)[0]).names)
        monthly = read_chunks(run_dir, columns=["replication", "month", *(m for m in FINANCE_METRICS if m in have)])
    files = [run_dir / n for n in ("finance_monthly.csv", "finance_years.csv", "finance_reserve.png")]
    finance_monthly(summary).to_csv(files[0], index=False, float_format="%.10g")
    finance_years(monthly, spec).to_csv(files[1], index=False, float_format="%.10g")
    plot_finance(summary, spec, reserve_risk(monthly, spec), source, files[2])
    return files
