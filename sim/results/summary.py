"""Bands across replications: the monthly summary and the probability of meeting each planned milestone."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sim.results.intervals import wilson

QUANTILES: dict[str, float] = {"p05": 0.05, "p25": 0.25, "p50": 0.50, "p75": 0.75, "p95": 0.95}
ID_COLUMNS = ("replication", "month")


def metric_columns(monthly: pd.DataFrame) -> list[str]:
    return [c for c in monthly.columns if c not in ID_COLUMNS]


#: The bytes of metric values (replications x months x columns x 8) ``summarise_chunks`` holds at once:
#: its peak is about twice this (the cube and its NaN-free copy, partitioned in place for the quantiles),
#: the same at 1,000 replications as at 20,000 (issue 16, point 8). Each batch opens every chunk file
#: (1 ms a file: its footer), so a smaller cap is slower: 20,000 BHR replications are 24 batches.
CAP = 32 * 2**20


def summarise(monthly: pd.DataFrame) -> pd.DataFrame:
    """Long table of month, metric, mean and quantiles over replications. NaNs (flows at the start point,
    occupancy of a pool with no open beds) are left out, and a cell with no value at all is dropped."""
    names = metric_columns(monthly)
    ordered = monthly.sort_values(["replication", "month"], kind="stable")
    months = np.sort(ordered["month"].unique())
    cube = ordered[names].to_numpy(dtype=np.float64).reshape(-1, len(months), len(names))
    return _bands(cube, months, names)


def _bands(cube: np.ndarray, months: np.ndarray, names: Sequence[str]) -> pd.DataFrame:
    """``summarise``'s table of a cube of replications x ``months`` x ``names``. The mean sums over
    replications in order (NumPy's reduction over the outer axis), as long as the cube has two cells or
    more a replication; ``ChunkGrid.batches`` keeps to that so a batch's means are the whole's to the bit."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells: dropped below
        frame = {"month": np.repeat(months, len(names)), "metric": np.tile(list(names), len(months))}
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
    out = np.quantile(np.where(missing, 0.0, cube), q, axis=0, overwrite_input=True)  # its own copy
    some = missing.any(axis=0)
    out[:, some] = np.nan
    for j, k in np.argwhere(some & ~missing.all(axis=0)):
        out[:, j, k] = np.nanquantile(cube[:, j, k], q)
    return out


class ChunkGrid:
    """A run's chunk files as a grid of replications x months x metrics, read a few metrics (and, if need
    be, a range of months) at a time with pyarrow: a reader holds only the values it asked for, in the
    order ``summarise`` sorts the whole table to (replication, then month). Its index of where each row
    goes is 6 bytes a row (20,000 replications of 3 years: 4 MB); no pandas frame of the whole is built."""

    def __init__(self, files: Sequence[Path]) -> None:
        if not files:
            raise FileNotFoundError("no chunk files to read")
        self.files = [Path(f) for f in files]
        self.metrics = [n for n in pq.read_schema(self.files[0]).names if n not in ID_COLUMNS]
        found: set[str] = set()
        for f in self.files:  # the months, then each row's month as a number: no Python string a row
            found.update(pc.unique(pq.read_table(f, columns=["month"]).column("month")).to_pylist())
        self.months: np.ndarray = np.array(sorted(found), dtype=object)
        labels = pa.array(list(self.months), type=pa.large_string())
        small = np.int16 if len(self.months) < 2**15 else np.int32
        codes, replications = [], []
        for f in self.files:
            ids = pq.read_table(f, columns=list(ID_COLUMNS))
            code = pc.index_in(ids.column("month").cast(pa.large_string()), value_set=labels)
            codes.append(code.to_numpy().astype(small))
            replications.append(ids.column("replication").to_numpy())
        replication, every = np.concatenate(replications), np.concatenate(codes)
        rows = len(every)
        if rows % max(len(self.months), 1):
            raise ValueError(f"{rows} rows are not a grid of {len(self.months)} months")
        self.replications = rows // max(len(self.months), 1)
        order = np.lexsort((every, replication))  # summarise's stable sort by replication, then month
        dest = np.empty(rows, dtype=np.int32 if rows < 2**31 else np.int64)
        dest[order] = np.arange(rows, dtype=dest.dtype)
        del order, replication, every, replications
        bounds = np.cumsum([0, *(len(c) for c in codes)])
        self._rows = [(dest[a:b], c) for a, b, c in zip(bounds[:-1], bounds[1:], codes, strict=True)]

    def cube(self, columns: Sequence[str], months: slice | None = None) -> np.ndarray:
        """The values of ``columns`` at the months ``months`` (a slice of ``self.months``; all if None) as
        a float64 array of replications x months x columns, each value where ``summarise``'s cube has it."""
        first, stop, _ = (months if months is not None else slice(None)).indices(len(self.months))
        n_months = len(self.months)
        out = np.empty((self.replications, stop - first, len(columns)), dtype=np.float64)
        for path, (dest, code) in zip(self.files, self._rows, strict=True):
            inside = (code >= first) & (code < stop)
            where = dest[inside]
            rep, month = where // n_months, where % n_months - first
            with pq.ParquetFile(path) as file:  # not pq.read_table: a third of the time
                table = file.read(columns=list(columns))
            for j, name in enumerate(columns):
                values = table.column(name).to_numpy()
                out[rep, month, j] = np.asarray(values, dtype=np.float64)[inside]
        return out

    def batches(self, cap: int = CAP) -> list[tuple[list[str], slice]]:
        """Metric columns and months to read together so each cube holds at most ``cap`` bytes: whole
        columns, as many as fit; or, if one column of every replication is over the cap, one column at a
        time a range of months at once. Each batch has two cells or more a replication (but for a run of
        one cell), so its mean is summed as ``summarise`` sums the whole (``_bands``)."""
        n_months, n_metrics = len(self.months), len(self.metrics)
        cells = max(2, cap // max(8 * self.replications, 1))  # (month, metric) cells a batch may hold
        if cells >= n_months:  # whole columns
            size = max(1, cells // max(n_months, 1))
            groups = _ranges(n_metrics, size, 2 if n_months == 1 else 1)
            return [(self.metrics[g], slice(None)) for g in groups]
        spans = _ranges(n_months, cells, 2)
        return [([name], span) for name in self.metrics for span in spans]


def _ranges(n: int, size: int, smallest: int) -> list[slice]:
    """``range(n)`` cut into slices of ``size``, a last slice under ``smallest`` joined to the one before."""
    cuts = list(range(0, n, size)) + [n]
    if len(cuts) > 2 and cuts[-1] - cuts[-2] < smallest:
        del cuts[-2]
    return [slice(a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]


def summarise_chunks(files: Sequence[Path], cap: int = CAP) -> pd.DataFrame:
    """``summarise`` of a run's chunk files, to the bit, in memory bounded by ``cap`` whatever the
    replications (``ChunkGrid.batches``): a national system's per-TCP metrics run to thousands of
    columns, and 20,000 replications of one metric to 6 MB."""
    grid = ChunkGrid(files)
    parts = [_bands(grid.cube(names, months), grid.months[months], names) for names, months in grid.batches(cap)]
    out = pd.concat(parts, ignore_index=True)
    position = out["metric"].map({n: k for k, n in enumerate(grid.metrics)})
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
