"""Disclosure control of a run's published tables (``run.disclosure``): what a planner may take out of the
building when the run started from a real census.

A run's start month reproduces its census exactly (a TCP's 2 CAMHS tier 4 inpatients, its 7 long stayers),
and people who stay long keep it close to exact for months after. With ``run.disclosure=nhs`` the tables
meant to leave the building (summary.csv, trajectory.csv, the report in every format, results.xlsx, the
finance tables) are put through the convention NHS Digital / NHS England's "Learning Disability Services
Monthly Statistics (Assuring Transformation)" use for sub-national counts, as the publication's
data-quality and methodology notes describe it:

- a count of people under 5 is shown as ``*``, any other rounded to the nearest 5 (halves up: 12.5 to 15;
  assumption: the notes say "nearest 5" and no tie rule, and a mean of replications can be one). Every value
  column is a count in its own right (the mean and each percentile across replications), and each is
  judged on its own, unrounded value: 4.9 is ``*``, 5 is 5. 0 is ``*`` too (assumption: the safer reading
  of "under 5"; a 0 beside a ``*`` narrows what the ``*`` hides). Counts of people are the catalogue's
  units ``people``, ``units`` (housing units, free or lapsed: the homes of people counted), ``bed-days``
  and ``person-days`` (days of people in a state; simulated flows, never the census month, judged as counts);
- a share (``share``: the long stay shares, bed occupancy) is suppressed when its numerator or its
  denominator is under 5 (from the table's own means, at the same month and scope); otherwise it is the
  share of the rounded counts: the count it stands for (share x denominator) rounded to 5, over the
  denominator rounded to 5 (beds, for occupancy, as they are). Shown as run, 7 of 36 long stayers
  (0.194) beside 35 inpatients would give the 7 and the 36 back (assumption: the convention's "a share of
  a suppressed count is suppressed" extended to a share of a rounded count);
- a rate per million (``people per million``) is that of its count rounded as a count is (so the rate
  times the published population gives no unrounded count), ``*`` when that count is under 5;
- England-level figures are not rounded: a system (or a TCP of one) named in ``NATIONAL``, England
  (``tcp=england``, ``experiment=england``), its own rows (a TCP's own rows, ``<tcp>/<metric>``, of a
  national system of TCPs are sub-national and rounded);
- money (``pounds``) is not a count of people and is not rounded; nor are beds (capacity, which the
  commissioners' plans and the report's pools table publish) or probabilities (``yes/no`` metrics, whose
  mean is the share of replications, and P(at or under the plan): shares of replications, not of people);
- a metric whose unit the catalogue does not know is suppressed whole (``*``): what is not known to be
  safe is not shown.

``Disclosure`` is the rule for one system; ``Disclosure.frame`` applies it to a tidy table (a ``metric``
column, value columns), ``Disclosure.value`` to one number, ``as_text`` makes a disclosed table's value
columns text for a CSV. With ``run.disclosure=none`` every function gives its input back unchanged.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.config.build import DISCLOSURE_RULES
from sim.config.spec import SystemSpec
from sim.results.catalogue import CATALOGUE, describe
from sim.results.summary import QUANTILES

#: What a suppressed figure shows.
SUPPRESSED = "*"
#: Counts are rounded to a multiple of this, and suppressed below it.
BASE = 5
#: Systems and TCPs whose own figures are England-level, shown unrounded (by name).
NATIONAL: frozenset[str] = frozenset({"england"})
#: The catalogue's units that count people (rounded and suppressed).
COUNTS: frozenset[str] = frozenset({"people", "units", "bed-days", "person-days"})
#: The catalogue's units not rounded: money, bed capacity, probabilities across replications.
UNROUNDED: frozenset[str] = frozenset({"pounds", "beds", "yes/no"})
#: The value columns of a summary (mean and the percentiles across replications).
VALUES: tuple[str, ...] = ("mean", *QUANTILES)
#: The columns of trajectory.csv that are counts of people: the bands and the plan (a plan's baseline is
#: often the census itself); its probabilities are not.
TRAJECTORY_COUNTS: tuple[str, ...] = ("planned", "mean", "p05", "p50", "p95")
#: Each share's numerator and denominator (None: the share times its denominator), by the share's name.
SHARE_PARTS: tuple[tuple[re.Pattern[str], str | None, str], ...] = (
    (re.compile(r"long_stay_share_(\d+)y"), r"long_stayers_\1y", "inpatients"),
    (re.compile(r"occupancy"), None, "beds_in_area"),
    (re.compile(r"occupancy_(.+)"), None, r"beds_\1"),
)
#: Each rate per million, and which population it is of (adults or children).
RATES: dict[str, str] = {"inpatients_per_million": "adults", "inpatients_per_million_children": "children"}
#: How the report names the convention.
CONVENTION = (
    "the convention of NHS Digital / NHS England's Learning Disability Services Monthly Statistics "
    "(Assuring Transformation) for sub-national counts"
)

Shown = Any  # a disclosed value: a float (unrounded), an int (a rounded count), "*" (suppressed) or NaN


def catalogue_unit(metric: str) -> str | None:
    """A metric's unit from the results' catalogue (``sim.metrics.about`` knows the ledger's too)."""
    known = describe(metric, CATALOGUE)
    return None if known is None else known.unit


@dataclass(frozen=True)
class Disclosure:
    """The disclosure rule of one system's published tables."""

    rule: str = "none"
    national: frozenset[str] = frozenset()  # scopes shown unrounded: "" (the system's own rows) or TCP names
    populations: Mapping[str, tuple[float, float]] = field(default_factory=dict)  # scope -> (adults, children)
    unit_of: Callable[[str], str | None] = catalogue_unit

    def __post_init__(self) -> None:
        if self.rule not in DISCLOSURE_RULES:
            raise ValueError(f"unknown disclosure rule '{self.rule}' (available: {', '.join(DISCLOSURE_RULES)})")

    @classmethod
    def of(cls, rule: str, spec: SystemSpec, unit_of: Callable[[str], str | None] = catalogue_unit) -> Disclosure:
        """The rule for ``spec``: its national scopes and its populations (the rates' denominators)."""
        national = {""} if spec.name in NATIONAL else set()
        national |= {t.name for t in spec.tcps if t.name in NATIONAL}
        populations = {"": (float(spec.population.adults), float(spec.population.children))}
        populations |= {t.name: (float(t.population.adults), float(t.population.children)) for t in spec.tcps}
        return cls(rule, frozenset(national), populations, unit_of)

    @property
    def on(self) -> bool:
        """Whether figures are rounded and suppressed at all."""
        return self.rule != "none"

    def line(self) -> str:
        """The report's sentence saying which rule its figures went through."""
        if not self.on:
            return (
                "Disclosure control: none (`run.disclosure=none`): every figure is unrounded, the start month "
                "reproducing the census; use `run.disclosure=nhs` for tables to publish."
            )
        national = " England-level figures are not rounded." if "" in self.national else ""
        return (
            f"Disclosure control (`run.disclosure={self.rule}`): counts of people under {BASE} are shown as "
            f"{SUPPRESSED}, others rounded to the nearest {BASE} ({CONVENTION}); a share is suppressed when its "
            f"numerator or denominator is under {BASE}, and a rate per million is that of its rounded count; "
            f"money, beds and probabilities are not rounded.{national} The census files' comments are not shown."
        )

    def kind(self, metric: str) -> str:
        """How the rule treats ``metric``: "count", "rate", "share", "keep" (unrounded) or "hide"."""
        if not self.on or _scope(metric) in self.national:
            return "keep"
        unit = self.unit_of(metric)
        if unit in COUNTS:
            return "count"
        if unit in UNROUNDED:
            return "keep"
        if unit == "people per million" and _base(metric) in RATES:
            return "rate"
        if unit == "share" and _parts(metric) is not None:
            return "share"
        return "hide"

    def count(self, x: float) -> Shown:
        """One count under the rule: ``*`` under 5, else the nearest multiple of 5 (an int); NaN as it is."""
        if not self.on or x is None or (isinstance(x, float) and math.isnan(x)):
            return x
        return _counts(np.array([x], dtype=np.float64))[0]

    def value(self, metric: str, x: float, parts: tuple[float, float] | None = None) -> Shown:
        """One value of ``metric`` under the rule; a share needs its numerator and denominator (``parts``),
        else it is suppressed."""
        kind = self.kind(metric)
        if kind == "keep" or x is None or (isinstance(x, float) and math.isnan(x)):
            return x
        if kind == "count":
            return self.count(x)
        if kind == "rate":
            return _rates(np.array([[x]], dtype=np.float64), np.array([self._population(metric)]))[0, 0]
        if kind == "share" and parts is not None and min(parts) >= BASE:
            return _shares(np.array([[x]], dtype=np.float64), np.array([parts[1]]), np.array([True]))[0, 0]
        return SUPPRESSED

    def frame(
        self, frame: pd.DataFrame, columns: Sequence[str] = VALUES, parts: pd.DataFrame | None = None, at: str = "month"
    ) -> pd.DataFrame:
        """``frame`` (a ``metric`` column and the value ``columns``) under the rule: its value columns hold
        floats (unrounded), ints (rounded counts) and ``*``. A share's numerator and denominator are read
        from ``parts`` (a summary; ``frame`` itself if None), at the same ``at`` (month) and scope. The
        frame itself when the rule is none."""
        cols = [c for c in columns if c in frame.columns]
        if not self.on or frame.empty or not cols:
            return frame
        metrics = frame["metric"].astype(str)
        kinds = metrics.map({m: self.kind(m) for m in metrics.unique()}).to_numpy()
        values = frame[cols].to_numpy(dtype=np.float64)
        shown = values.astype(object)
        rows = kinds == "count"
        shown[rows] = _counts(values[rows])
        rows = kinds == "rate"
        if rows.any():
            population = metrics[rows].map(self._population).to_numpy(dtype=np.float64)
            shown[rows] = _rates(values[rows], population)
        rows = kinds == "share"
        if rows.any():
            numerator, denominator, rounded = self._share_parts(
                frame.loc[rows, ["metric", at]], frame if parts is None else parts, at
            )
            share = _shares(values[rows], denominator, rounded)
            share[~((numerator >= BASE) & (denominator >= BASE))] = SUPPRESSED  # NaN (a part missing) too
            shown[rows] = share
        shown[kinds == "hide"] = SUPPRESSED
        out = frame.copy()
        for j, c in enumerate(cols):
            out[c] = pd.Series(shown[:, j], index=out.index, dtype=object)
        return out

    def _population(self, metric: str) -> float:
        adults, children = self.populations.get(_scope(metric), (0.0, 0.0))
        return adults if RATES[_base(metric)] == "adults" else children

    def _share_parts(
        self, rows: pd.DataFrame, parts: pd.DataFrame, at: str
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each share row (metric, at): its numerator's and denominator's means (NaN if missing), and
        whether the denominator is a count (rounded) rather than beds (not)."""
        wanted: dict[str, tuple[str | None, str]] = {}
        for metric in rows["metric"].unique():
            found = _parts(str(metric))
            assert found is not None  # kind "share" only for a share whose parts are known
            scope = _scope(str(metric))
            prefix = f"{scope}/" if scope else ""
            wanted[str(metric)] = (None if found[0] is None else prefix + found[0], prefix + found[1])
        names = {n for pair in wanted.values() for n in pair if n is not None}
        picked = parts[parts["metric"].isin(names)]
        means = dict(zip(zip(picked["metric"], picked[at]), picked["mean"].astype(float)))
        of_share = parts[parts["metric"].isin([m for m, (n, _) in wanted.items() if n is None])]
        shares = dict(zip(zip(of_share["metric"], of_share[at]), of_share["mean"].astype(float)))
        above, below, rounded = [], [], []
        for metric, when in zip(rows["metric"], rows[at]):
            numerator, denominator = wanted[str(metric)]
            below.append(means.get((denominator, when), math.nan))
            if numerator is None:
                above.append(shares.get((metric, when), math.nan) * below[-1])
            else:
                above.append(means.get((numerator, when), math.nan))
            rounded.append(self.kind(denominator) == "count")
        return np.array(above, dtype=np.float64), np.array(below, dtype=np.float64), np.array(rounded, dtype=bool)


def as_text(frame: pd.DataFrame, columns: Iterable[str] = VALUES, float_format: str = "%.6g") -> pd.DataFrame:
    """A disclosed table with its value columns as the text a CSV shows: floats in ``float_format`` (NaN
    empty, as pandas writes them), rounded counts as whole numbers, ``*`` as it is; other columns kept."""
    out = frame.copy()
    for c in columns:
        if c in out.columns and out[c].dtype == object:
            out[c] = [_text(v, float_format) for v in out[c].tolist()]
    return out


def numeric(frame: pd.DataFrame, columns: Iterable[str] = VALUES) -> pd.DataFrame:
    """A disclosed table with numbers only (``*`` as NaN), for charts and sums; the table itself if it
    has no column to change (a table the rule none gave back)."""
    changed = [c for c in columns if c in frame.columns and frame[c].dtype == object]
    if not changed:
        return frame
    out = frame.copy()
    for c in changed:
        out[c] = np.array([math.nan if isinstance(v, str) else float(v) for v in out[c].tolist()], dtype=np.float64)
    return out


# ------------------------------------------------------------------------------------------ helpers


def _counts(values: np.ndarray) -> np.ndarray:
    """Counts under the rule, as objects: ``*`` under 5 (0 too), else the nearest multiple of 5 (halves
    up) as an int; NaN kept."""
    out = np.empty(values.shape, dtype=object)
    missing = np.isnan(values)
    rounded = np.floor(np.where(missing, 0.0, values) / BASE + 0.5) * BASE
    out[...] = rounded.astype(np.int64)
    out[values < BASE] = SUPPRESSED
    out[missing] = math.nan
    return out


def _rates(values: np.ndarray, population: np.ndarray) -> np.ndarray:
    """Rates per million under the rule: the count they stand for (rate x population) rounded as a count,
    given back as its rate; ``*`` when that count is under 5 (or the population unknown)."""
    per = population.reshape(-1, 1) / 1e6
    counts = _counts(values * per)
    out = np.empty(values.shape, dtype=object)
    for idx, c in np.ndenumerate(counts):  # a count of 5 or more has a population above 0
        out[idx] = c if isinstance(c, str) or math.isnan(c) else float(c) / per[idx[0], 0]
    return out


def _shares(values: np.ndarray, denominator: np.ndarray, rounded: np.ndarray) -> np.ndarray:
    """Shares under the rule: the count each stands for (share x denominator) rounded as a count, over
    the denominator (rounded too when it counts people; beds are not), so a share beside the rounded
    counts gives no unrounded count away; ``*`` when that count is under 5."""
    counts = _counts(values * denominator.reshape(-1, 1))
    below = np.where(rounded, np.floor(denominator / BASE + 0.5) * BASE, denominator)
    out = np.empty(values.shape, dtype=object)
    for idx, c in np.ndenumerate(counts):
        out[idx] = c if isinstance(c, str) or math.isnan(c) or not below[idx[0]] > 0 else float(c) / below[idx[0]]
    return out


def _text(value: Any, float_format: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return float_format % value


def _scope(metric: str) -> str:
    """A metric's scope: "" for the system's own, the TCP's name for ``<tcp>/<metric>``."""
    return metric.rsplit("/", 1)[0] if "/" in metric else ""


def _base(metric: str) -> str:
    return metric.rsplit("/", 1)[-1]


def _parts(metric: str) -> tuple[str | None, str] | None:
    """A share's numerator (None: the share times the denominator) and denominator, without scope."""
    base = _base(metric)
    for pattern, numerator, denominator in SHARE_PARTS:
        match = pattern.fullmatch(base)
        if match is not None:
            return (None if numerator is None else match.expand(numerator), match.expand(denominator))
    return None
