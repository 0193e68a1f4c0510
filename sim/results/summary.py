"""Bands across replications: the monthly summary and the probability of meeting each planned milestone."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from sim.results.intervals import wilson

QUANTILES: dict[str, float] = {"p05": 0.05, "p25": 0.25, "p50": 0.50, "p75": 0.75, "p95": 0.95}
ID_COLUMNS = ("replication", "month")


def metric_columns(monthly: pd.DataFrame) -> list[str]:
    return [c for c in monthly.columns if c not in ID_COLUMNS]


def summarise(monthly: pd.DataFrame) -> pd.DataFrame:
    """Long table of month, metric, mean and quantiles over replications. NaNs (flows at the start point,
    occupancy of a pool with no open beds) are left out, and a cell with no value at all is dropped."""
    names = metric_columns(monthly)
    ordered = monthly.sort_values(["replication", "month"], kind="stable")
    months = np.sort(ordered["month"].unique())
    cube = ordered[names].to_numpy(dtype=np.float64).reshape(-1, len(months), len(names))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells: dropped below
        frame = {"month": np.repeat(months, len(names)), "metric": np.tile(names, len(months))}
        frame["mean"] = np.nanmean(cube, axis=0).ravel()
        qs = _quantiles(cube, list(QUANTILES.values()))
    for i, name in enumerate(QUANTILES):
        frame[name] = qs[i].ravel()
    out = pd.DataFrame(frame)
    return out[out["mean"].notna()].reset_index(drop=True)


def _quantiles(cube: np.ndarray, q: list[float]) -> np.ndarray:
    """``np.nanquantile(cube, q, axis=0)``, fast: NumPy's nan-aware path sorts cell by cell in Python,
    but a cell is either all NaN (a flow at the start) or has none, bar a few (occupancy of a pool with
    no beds some months), which alone take the slow path. The same numbers either way."""
    missing = np.isnan(cube)
    out = np.quantile(np.where(missing, 0.0, cube), q, axis=0)
    some = missing.any(axis=0)
    out[:, some] = np.nan
    for j, k in np.argwhere(some & ~missing.all(axis=0)):
        out[:, j, k] = np.nanquantile(cube[:, j, k], q)
    return out


def summarise_chunks(files: Sequence[Path], batch: int = 64) -> pd.DataFrame:
    """``summarise`` of a run's chunk files, read a batch of metric columns at a time, so memory is
    that of ``batch`` metrics of every replication however many metrics there are (a national system's
    per-TCP metrics run to thousands of columns). The same table as ``summarise`` of the whole."""
    names = [n for n in pq.read_schema(files[0]).names if n not in ID_COLUMNS]
    parts = []
    for a in range(0, len(names), batch):
        columns = [*ID_COLUMNS, *names[a : a + batch]]
        parts.append(summarise(pd.concat([pd.read_parquet(f, columns=columns) for f in files], ignore_index=True)))
    out = pd.concat(parts, ignore_index=True)
    position = out["metric"].map({n: k for k, n in enumerate(names)})
    order = np.lexsort((position.to_numpy(), out["month"].to_numpy()))
    return out.iloc[order].reset_index(drop=True)


def trajectory_table(monthly: pd.DataFrame, plan: dict[str, float], metric: str = "inpatients") -> pd.DataFrame:
    """For each planned milestone inside the run: the plan, the band, and P(at or under the plan) with its
    95% Wilson interval over replications (``p_low``, ``p_high``)."""
    rows = []
    for month, target in plan.items():
        values = monthly.loc[monthly["month"] == month, metric].to_numpy(dtype=np.float64)
        if len(values) == 0:
            continue
        low, high = wilson(int(np.sum(values <= target)), len(values))
        rows.append(
            {
                "month": month,
                "metric": metric,
                "planned": target,
                "p_at_or_under": float(np.mean(values <= target)),
                "p_low": low,
                "p_high": high,
                "mean": float(values.mean()),
                "p05": float(np.quantile(values, 0.05)),
                "p50": float(np.quantile(values, 0.5)),
                "p95": float(np.quantile(values, 0.95)),
            }
        )
    return pd.DataFrame(
        rows, columns=["month", "metric", "planned", "p_at_or_under", "p_low", "p_high", "mean", "p05", "p50", "p95"]
    )
