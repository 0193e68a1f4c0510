"""Observed series as data: what a publication recorded for an area, each row named by a metric of the
model's catalogue, read and checked line by line (issue 13, point 1; data/observed/<area>.csv).

A row is one published figure: ``area``, ``month`` (YYYY-MM), ``metric``, ``value``, ``kind`` (``stock``: at
the end of ``month``; ``flow``: summed over the months ``from`` to ``month``), ``rounding`` (the
publication's: a figure published to the nearest 5 has rounding 5; 0 is exact), ``basis`` (which version
of a revised series, e.g. ``first published`` or ``revised``) and ``source``. Optional ``denominator``: the
value is then a share, the metric over the denominator (e.g. ``long_stayers_2y`` over ``inpatients``).
``metric`` and ``denominator`` may add metrics with ``+`` (``admissions+transfers``: the national series
counts transfers in among admissions). Lines starting with ``#`` are comments.

A bad file stops with ``ConfigError`` naming the file and line (exit 2 at the command line), as a census
does: a missing column, a bad month, a metric the model does not produce, a flow with no ``from``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from sim.config.census import csv_lines
from sim.config.checks import month_label, parse_month
from sim.config.errors import ConfigError
from sim.metrics import about

#: Columns every observed file has; ``denominator`` is optional.
COLUMNS = ("area", "month", "metric", "value", "kind", "from", "rounding", "basis", "source")
#: How a figure was measured: a stock at a month's end, or a flow over a span of months.
KINDS = ("stock", "flow")


@dataclass(frozen=True)
class Observation:
    """One published figure (a row of an observed file)."""

    area: str
    month: str  # YYYY-MM: the stock's month, or a flow's last month
    metric: tuple[str, ...]  # the metrics summed
    value: float
    kind: str
    start: str  # a flow's first month (a stock: its own month)
    rounding: float  # 0: exact
    basis: str
    source: str
    denominator: tuple[str, ...] = ()  # a share: the metrics summed below the line

    @property
    def label(self) -> str:
        """A short name: the metric(s), the month or months, and the basis."""
        what = "+".join(self.metric) + (f" / {'+'.join(self.denominator)}" if self.denominator else "")
        when = self.month if self.kind == "stock" else f"{self.start} to {self.month}"
        return f"{what} {when} ({self.basis})"

    def simulated(self, monthly) -> np.ndarray:
        """This figure as each replication of a run simulated it, from the run's monthly table (one row a
        replication and month; pandas), by ``of_series``. Months outside the run are an error of the caller."""
        rows = monthly.sort_values(["replication", "month"])
        months = list(dict.fromkeys(rows["month"]))
        shape = (rows["replication"].nunique(), len(months))
        series = {name: rows[name].to_numpy().reshape(shape).T for name in set(self.metric + self.denominator)}
        return self.of_series(series, {m: i for i, m in enumerate(months)})

    def of_series(self, series: dict[str, np.ndarray], where: dict[str, int]) -> np.ndarray:
        """This figure in each replication, from metrics' series (each [months, replications], row
        ``where[month]`` a month): a stock at its month, a flow summed over its months, a share as the
        ratio (NaN where the denominator is 0)."""

        def total(names: tuple[str, ...]) -> np.ndarray:
            if self.kind == "stock":
                return np.sum([series[n][where[self.month]] for n in names], axis=0)
            return np.sum([series[n][where[self.start] : where[self.month] + 1].sum(axis=0) for n in names], axis=0)

        top = total(self.metric).astype(np.float64)
        if not self.denominator:
            return top
        bottom = total(self.denominator).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1.0), np.nan)


def _metrics(key: str, where: str, text: str, kind: str, share: bool) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split("+"))
    for name in names:
        known = about(name)
        if known is None:
            raise ConfigError(key, f"{where}: '{name}' is not a metric the model produces (README's metrics table)")
        if known.kind == "level" or (known.kind == "stock") != (kind == "stock"):
            raise ConfigError(key, f"{where}: '{name}' is a {known.kind} metric, but the row says {kind}")
    return names


def read_observed(path: Path | str, key: str = "observed") -> list[Observation]:
    """The rows of an observed file, each checked; ``key`` names the setting that gave the file."""
    path = Path(path)
    required = ("area", "month", "metric", "value", "kind", "source")
    optional = tuple(c for c in COLUMNS if c not in required)
    out = []
    for where, _, row in csv_lines(key, path, required, "observed", present=optional):
        month = _month(key, where, "month", row["month"])
        if row["kind"] not in KINDS:
            raise ConfigError(key, f"{where}: kind '{row['kind']}' must be 'stock' or 'flow'")
        start = month
        if row["kind"] == "flow":
            if not row["from"]:
                raise ConfigError(key, f"{where}: a flow needs its first month in 'from'")
            start = _month(key, where, "from", row["from"])
            if start > month:
                raise ConfigError(key, f"{where}: from {month_label(start)} is after month {month_label(month)}")
        elif row["from"]:
            raise ConfigError(key, f"{where}: a stock is at one month's end; 'from' must be empty")
        share = bool(row.get("denominator", ""))
        value = _number(key, where, "value", row["value"])
        if share and value > 1:
            raise ConfigError(key, f"{where}: a share (with a denominator) must be from 0 to 1, not {value:g}")
        out.append(
            Observation(
                area=row["area"],
                month=month_label(month),
                metric=_metrics(key, where, row["metric"], row["kind"], share),
                value=value,
                kind=row["kind"],
                start=month_label(start),
                rounding=_number(key, where, "rounding", row["rounding"] or "0"),
                basis=row["basis"] or "as published",
                source=row["source"],
                denominator=_metrics(key, where, row["denominator"], row["kind"], share) if share else (),
            )
        )
    if not out:
        raise ConfigError(key, f"{path.name} has no rows")
    return out


def _month(key: str, where: str, column: str, text: str) -> date:
    try:
        return parse_month(key, text)
    except ConfigError:
        raise ConfigError(key, f"{where}: {column} '{text}' is not a month (YYYY-MM)") from None


def _number(key: str, where: str, column: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(key, f"{where}: {column} '{text}' is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise ConfigError(key, f"{where}: {column} {text} must be a number at least 0")
    return value
