"""The validated system, as the engines see it, and the validated run settings: plain immutable values,
times in days from the start.

``sim.config.build.build`` turns a composed config into a ``SystemSpec`` (what is simulated) and a
``RunSpec`` (how: seed, replications, engine, workers ...); both engines take the system spec and nothing
else, so a model never reads a config object and every check happens once, up front.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

import numpy as np

from sim.pathway import (  # noqa: F401 - the codes a spec's fields hold, importable beside it
    DAYS_PER_YEAR,
    FIFO,
    IN_AREA,
    LONGEST_STAY,
    OUT_OF_AREA,
    SOURCE_KINDS,
    TRANSFER_KINDS,
    UNIT_TYPES,
)
from sim.sampling import Mixture


def no_steps() -> np.ndarray:
    """A TCP's step hazards (``TcpSpec.step_hazards``) when it has none: every one zero."""
    return np.zeros((len(UNIT_TYPES), len(TRANSFER_KINDS) * len(UNIT_TYPES)))


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

    @staticmethod
    def financial_year_start(label: str) -> int:
        """The calendar year the April-to-March financial year of a ``YYYY-MM`` month starts in
        (2017-03 -> 2016): the NHS's and local authorities' budget year, which uplifts and reports follow."""
        year, month = int(label[:4]), int(label[5:7])
        return year if month >= 4 else year - 1

    @staticmethod
    def financial_year(label: str) -> str:
        """The financial year of a ``YYYY-MM`` month as written in plans, ``YYYY/YY``: 2017-03 -> 2016/17."""
        start = Calendar.financial_year_start(label)
        return f"{start}/{(start + 1) % 100:02d}"

    def financial_years(self) -> dict[str, list[str]]:
        """The financial years the reported months fall in, in order, each with its months in the run
        (a part year at either end holds fewer than 12)."""
        years: dict[str, list[str]] = {}
        for label in self.labels:
            years.setdefault(self.financial_year(label), []).append(label)
        return years

    def year_ends(self) -> list[str]:
        """The reported months that end a financial year (each March): where plans set milestones."""
        return [label for label in self.labels if label.endswith("-03")]

    def plan_periods(self) -> dict[str, list[str]]:
        """The periods a flow is summed over, each with its months: every financial year when the run
        spans more than one (a part year is named with its months, ``2016/17 (6 months)``), then the whole
        run (``2016-04 to 2019-03``)."""
        years = self.financial_years()
        out = {}
        if len(years) > 1:
            for year, months in years.items():
                out[year if len(months) == 12 else f"{year} ({len(months)} months)"] = months
        out[f"{self.labels[0]} to {self.labels[-1]}"] = list(self.labels)
        return out


@dataclass(frozen=True)
class PoolSpec:
    """An in-area bed pool: one unit type, the TCPs it serves, its bed schedule and length of stay, and
    what its beds cost (the engines never read the costs: ``sim.results.monthly.costs`` does), and how
    long someone in crisis waits in the community for one of its beds when all are full (``wait_days``;
    0: out of area at once).

    A bed costs ``bed_per_day`` for a day it is occupied and ``fixed_share`` of that for a day it is open
    but empty: ``fixed_share x bed_per_day`` for each open bed-day plus ``(1 - fixed_share) x
    bed_per_day`` for each occupied one. A TCP's own pool has the TCP's price and share for the unit, a
    shared pool its own."""

    index: int
    name: str
    unit: int  # index into UNIT_TYPES
    tcps: tuple[int, ...]
    step_days: np.ndarray  # float64, days from start at which the bed count changes (first <= 0)
    step_beds: np.ndarray  # int64, in-area beds from that day
    los: Mixture  # in days
    close_occupied: bool = False  # a step closes occupied beds on its date (occupants move out of area)
    bed_per_day: float = 0.0  # pounds: an occupied bed-day (a bed occupied all year costs its yearly price)
    fixed_share: float = 0.0  # share of ``bed_per_day`` paid for every open bed-day, occupied or not
    wait_days: float = 0.0  # the "or wait" policy: days a person in crisis waits for a bed when all are full

    @property
    def open_day_cost(self) -> float:
        """Pounds paid for each day a bed is open, occupied or not."""
        return self.fixed_share * self.bed_per_day

    @property
    def occupied_day_cost(self) -> float:
        """Pounds paid on top for each day a bed is occupied: the marginal saving of an empty bed."""
        return (1.0 - self.fixed_share) * self.bed_per_day

    def beds_at(self, t: float) -> int:
        """Scheduled in-area beds at time t (during a warm-up, t < 0, the start's beds)."""
        i = np.searchsorted(self.step_days, max(t, 0.0), side="right") - 1
        return int(self.step_beds[i])


@dataclass(frozen=True)
class SourceSpec:
    """A Poisson source: crises among people not on a TCP's register, register joiners, or housing units."""

    index: int  # global source number: tcp * len(SOURCE_KINDS) + kind
    tcp: int
    kind: str
    rate: float  # events per day


@dataclass(frozen=True)
class CensusPerson:
    """An inpatient at the start, numbered by the census row (so their draws do not depend on others)."""

    tcp: int
    row: int
    unit: int
    area: int
    elapsed: float  # days in hospital at the start
    by_need: bool = False  # out of area because no local unit meets the need (never repatriated)
    adult_in: float = -1.0  # a child's days to the transition age (-1: not given, drawn; adults: inf)
    ready_at: float = math.inf  # clinically ready since this day (before 0), for a row that is delayed at the start
    delayed_for: int = -1  # what that row is delayed for (DELAY_REASONS code); -1: not ready


@dataclass(frozen=True)
class CommunityPerson:
    """Someone in a community placement at the start (the community cohort), numbered by the community
    census row; their placement began ``elapsed`` days before the start."""

    tcp: int
    row: int
    kind: int  # placement type
    unit: int  # unit type left (the placement's costs and the pooled budget count it by the bed left)
    area: int  # area of the bed left
    elapsed: float  # days since the discharge at the start
    dowry_unit: int = -1  # the unit whose dowry the placement brings (a stay of 5+ years), -1: none


@dataclass(frozen=True)
class RegisterSpec:
    """The register's start and dynamics, rates per day; index order RAG (red, amber, green)."""

    people: np.ndarray  # int64 [3], members at the start
    children: np.ndarray  # int64 [3], of whom children (numbered first within their RAG rating)
    crisis: np.ndarray  # float64 [3], crises per person-day
    moves: np.ndarray  # float64 [3, 3], RAG moves per person-day (zero diagonal)
    leave: float  # per person-day
    join_cum: np.ndarray  # float64 [3], cumulative RAG shares of joiners
    join_child_share: float  # share of joiners who are children

    @functools.cached_property
    def hazards(self) -> np.ndarray:
        """float64 [G, E]: from each RAG rating, the hazard of each register event (``REGISTER_EVENTS``
        order: a crisis, a move to each rating, leaving), per person-day."""
        leave = np.full((len(self.crisis), 1), self.leave)
        return np.ascontiguousarray(np.concatenate([self.crisis[:, None], self.moves, leave], axis=1))


@dataclass(frozen=True)
class DischargeSpec:
    """What a ready inpatient waits for; delays in days (None: no delay)."""

    return_home: np.ndarray  # float64 [U], share of ready inpatients going back home
    return_home_within: float  # days: only shorter stays can go back home
    placement_cum: np.ndarray  # float64 [U, H], cumulative placement-type shares by unit left
    housing_units: np.ndarray  # int64 [H], units held free at the start; -1 = not limited
    offer_hold: np.ndarray  # float64 [H], days a market unit is offered before it lapses
    pipeline: tuple[tuple[float, int, int], ...]  # (day from start, placement type, units)
    planning_lead: float  # days before expected readiness that provider and funding work starts
    provider_lead: Mixture | None
    funding_delay: Mixture | None
    dispute_prob: float
    dispute_delay: Mixture | None
    policy: int  # FIFO or LONGEST_STAY
    repatriation: bool


@dataclass(frozen=True)
class CostSpec:
    """Costs in pounds per day (per CTR for ``ctr``)."""

    bed: np.ndarray  # float64 [U, A]: a bed-day occupied in area (the TCP's own pools), out of area
    bed_fixed: np.ndarray  # float64 [U]: share of an in-area bed's price paid for each day it is open
    package: np.ndarray  # float64 [H, 2]: initial months, then ongoing
    initial_days: float
    la_share: float
    ctr: float
    crisis_support: float
    dowry: float


@dataclass(frozen=True)
class Population:
    """GP-registered people by age, the denominators of the rates per million (as the national targets
    are stated): adults (18 and over) for adult inpatients, children (under 18) for CAMHS tier 4."""

    adults: int
    children: int

    def __add__(self, other: Population) -> Population:
        return Population(self.adults + other.adults, self.children + other.children)


@dataclass(frozen=True)
class TcpSpec:
    """A TCP: population, register, crises, CTRs, routing, discharge, community, costs and plan."""

    index: int
    name: str
    title: str
    population: Population
    register: RegisterSpec
    child_share: float  # of people in crisis not on the register
    child_span: float  # days from ``children.age_low`` to the transition age (a new child's time left is drawn in it)
    to_adult_unit: float  # share of CAMHS tier 4 inpatients not ready at the transition moved to an adult unit
    ctr_coverage: float
    ctr_avert: float
    ctr_first: float  # days from admission to the post-admission CTR
    ctr_interval: np.ndarray  # float64 per unit type: days between inpatient CTRs (inf: none)
    ctr_ready: float
    ctr_ready_long: float  # once the stay is ``ctr_long_stay`` days old
    ctr_long_stay: float  # days (inf: never)
    support_places: int
    support_length: Mixture | None
    route_cum: np.ndarray  # float64 per unit type: cumulative share of adult admissions
    ooa_need: np.ndarray  # float64 per unit type: share placed out of area whatever the beds
    pool_of_unit: np.ndarray  # int64 per unit type: pool index, -1 where the TCP has none
    discharge: DischargeSpec
    breakdown_first: float  # per person-day in the first year of a placement
    breakdown_after: float
    settle: float  # days without a breakdown after which a placement is settled (inf: never)
    settled_exit: np.ndarray  # float64 [2], per person-day once settled: leaving, back on the register (SETTLED_EXITS)
    community_death: float  # per person-day
    hospital_death: float
    costs: CostSpec
    trajectory: tuple[tuple[str, float], ...]  # (YYYY-MM, planned inpatients at its end)
    # float64 [U, K x U]: from each unit type, the hazard per person-day (while not yet ready) of a transfer
    # of kind k (TRANSFER_KINDS) to unit v, at k x U + v: steps down and up (``transfers``); camhs_to_adult
    # is 0 here (it happens at the transition age). The stay's step is picked among them (``hazard_pick``).
    step_hazards: np.ndarray = field(default_factory=no_steps)


@dataclass(frozen=True)
class PooledBudgetSpec:
    """The pooled budget's rules as ``sim.finance.ledger`` applies them (seed 000's funding principles);
    rates per day, money in pounds. The engines never read it: the ledger is computed from their record."""

    tcps: tuple[int, ...]  # TCP indices in the pool
    units: tuple[int, ...]  # unit types whose leavers the pool funds (a section 75 TCP: every unit type)
    section75_tcps: tuple[int, ...]  # TCPs under the section 75 variant
    out_of_area_release: float  # share of an out-of-area bed's cost released for a person who left it
    cap_factor: float  # the pool funds community support up to this times the cost of the bed it replaces
    extra_per_day: float  # money put in from outside the pool, pounds a day
    balanced_plan: bool  # the reserve may fund community support above the cap
    shortfall_la_share: float  # local authorities' share of a shortfall on new community care
    nhse_uplift: float  # yearly uplift of NHS England's (specialised commissioning's) contribution
    initial_reserve: float

    def scope(self, t: int) -> tuple[int, ...]:
        """Unit types whose leavers TCP ``t``'s share of the pool funds (none for a TCP outside it)."""
        if t not in self.tcps:
            return ()
        return tuple(range(len(UNIT_TYPES))) if t in self.section75_tcps else self.units


@dataclass(frozen=True)
class SystemSpec:
    """Everything a replication needs: the system, the calendar, the seed."""

    name: str
    system_title: str
    scenario: str
    tcps: tuple[TcpSpec, ...]
    pools: tuple[PoolSpec, ...]
    sources: tuple[SourceSpec, ...]
    census: tuple[CensusPerson, ...]
    calendar: Calendar
    seed: int
    tcp_metrics: bool = True  # each TCP's own metrics too (``<tcp>/<metric>``), in a system of several
    pooled_budget: PooledBudgetSpec | None = None  # the pooled-budget ledger's rules; None: no pooled budget
    community: tuple[CommunityPerson, ...] = ()  # people in community placements at the start
    notes: tuple[str, ...] = ()  # what the build changed that a user should be told (e.g. ``fit_census``)

    @property
    def title(self) -> str:
        """For charts: the TCP's full name in a one-TCP system, else the system's name."""
        return self.tcps[0].title if len(self.tcps) == 1 else (self.system_title or self.name)

    @property
    def population(self) -> Population:
        """The system's adults and children: its TCPs' added up."""
        return sum((t.population for t in self.tcps), Population(0, 0))

    def trajectory(self) -> dict[str, float]:
        """The system's planned inpatients by month: the sum over TCPs at the months all of them plan."""
        by_tcp = [dict(t.trajectory) for t in self.tcps]
        common = set(by_tcp[0]).intersection(*by_tcp[1:]) if by_tcp else set()
        return {m: sum(d[m] for d in by_tcp) for m in sorted(common)}


@dataclass(frozen=True)
class AutoRule:
    """``run.replications=auto``: add replications until ``metric`` at ``month`` has a confidence interval
    this narrow (``half_width`` in the metric's units, else ``relative`` to its mean), between ``minimum``
    and ``maximum`` replications. The metric and the month are checked against the run elsewhere."""

    metric: str
    month: str | None  # YYYY-MM; None: the run's last month
    confidence: float
    half_width: float | None  # None: use ``relative``
    relative: float
    minimum: int
    maximum: int


@dataclass(frozen=True)
class RunSpec:
    """The validated run settings (``run.*``): how a system is run, which never changes what one
    replication does. ``replications`` is None and ``auto`` set when ``run.replications=auto``."""

    seed: int
    replications: int | None
    auto: AutoRule | None
    engine: str  # "numba" or "simpy"
    workers: int
    chunk_size: int
    backend: str  # "processes" or "dask"
    dask_address: str | None
    event_log: bool
    progress: bool
    warmup_years: float
    resume: str | None  # a run directory to complete
    parameters: str | None = None  # the posterior file of run.parameters, as an absolute path (checked to exist)
    disclosure: str = "none"  # run.disclosure: the rule the published tables are put through (none or nhs)

    @property
    def is_auto(self) -> bool:
        """Whether the number of replications is chosen by ``auto``'s precision rule."""
        return self.auto is not None


class Built(NamedTuple):
    """A composed config, validated: what is simulated and how it is run."""

    system: SystemSpec
    run: RunSpec
