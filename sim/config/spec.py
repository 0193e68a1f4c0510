"""The validated system, as the engines see it: plain immutable values, times in days from the start.

``sim.config.validate.build_spec`` turns a composed config into a ``SystemSpec``; both engines take the
spec and nothing else, so a model never reads a config object and every check happens once, up front.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from sim.sampling import Mixture

DAYS_PER_YEAR = 365.25

#: Crisis sources of each TCP, in source-index order: people not on the register, then the register by RAG.
SOURCE_KINDS: tuple[str, ...] = ("unregistered", "red", "amber", "green")

#: Area codes used as array indices.
IN_AREA, OUT_OF_AREA = 0, 1


@dataclass(frozen=True)
class Calendar:
    """Reported months and their boundaries in days from the start (day 0 = first day of ``start``).

    ``boundaries[m]`` is the start of reported month m and ``boundaries[n_months]`` the end of the last;
    ``labels[m]`` names month m (``YYYY-MM``) and ``start_label`` the month before the start, whose end is
    the start state.
    """

    start: date
    labels: tuple[str, ...]
    start_label: str
    boundaries: np.ndarray  # float64, n_months + 1
    warmup_days: float

    @property
    def n_months(self) -> int:
        return len(self.labels)

    @property
    def horizon(self) -> float:
        return float(self.boundaries[-1])


@dataclass(frozen=True)
class PoolSpec:
    """An in-area bed pool: one unit type, the TCPs it serves, its bed schedule and length of stay."""

    index: int
    name: str
    unit: int  # index into UNIT_TYPES
    tcps: tuple[int, ...]
    step_days: np.ndarray  # float64, days from start at which the bed count changes (first <= 0)
    step_beds: np.ndarray  # int64, in-area beds from that day
    los: Mixture  # in days

    def beds_at(self, t: float) -> int:
        """Scheduled in-area beds at time t (during a warm-up, t < 0, the start's beds)."""
        i = np.searchsorted(self.step_days, max(t, 0.0), side="right") - 1
        return int(self.step_beds[i])


@dataclass(frozen=True)
class SourceSpec:
    """A Poisson source of crises: people not on a TCP's register, or its register members of one RAG."""

    index: int  # global source number: tcp * len(SOURCE_KINDS) + kind
    tcp: int
    kind: str
    rate: float  # crises per day


@dataclass(frozen=True)
class CensusPerson:
    """An inpatient at the start, numbered by the census row (so their draws do not depend on others)."""

    tcp: int
    row: int
    unit: int
    area: int
    elapsed: float  # days in hospital at the start


@dataclass(frozen=True)
class TcpSpec:
    """A TCP's population, admission routing and plan."""

    index: int
    name: str
    title: str
    population: int
    route_cum: np.ndarray  # float64 per unit type: cumulative share of admissions
    ooa_need: np.ndarray  # float64 per unit type: share placed out of area whatever the beds
    pool_of_unit: np.ndarray  # int64 per unit type: pool index, -1 where the TCP has none
    trajectory: tuple[tuple[str, float], ...]  # (YYYY-MM, planned inpatients at its end)


@dataclass(frozen=True)
class SystemSpec:
    """Everything a replication needs: the system, the calendar, the seed."""

    name: str
    scenario: str
    tcps: tuple[TcpSpec, ...]
    pools: tuple[PoolSpec, ...]
    sources: tuple[SourceSpec, ...]
    census: tuple[CensusPerson, ...]
    calendar: Calendar
    seed: int

    @property
    def title(self) -> str:
        """For charts: the TCP's full name in a one-TCP system, else the system's name."""
        return self.tcps[0].title if len(self.tcps) == 1 else self.name

    @property
    def population(self) -> int:
        return sum(t.population for t in self.tcps)

    def trajectory(self) -> dict[str, float]:
        """The system's planned inpatients by month: the sum over TCPs at the months all of them plan."""
        by_tcp = [dict(t.trajectory) for t in self.tcps]
        common = set(by_tcp[0]).intersection(*by_tcp[1:]) if by_tcp else set()
        return {m: sum(d[m] for d in by_tcp) for m in sorted(common)}
