"""Check every value of a composed config and build the ``SystemSpec`` the engines run.

A wrong value raises ``ConfigError`` whose message is one line that names the key (or the census file
and line) and what is wrong; the command line prints it and exits with status 2. Nothing runs before
the whole config has passed.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from sim.config.errors import ConfigError
from sim.config.schema import (
    HOUSING_POLICIES,
    PLACEMENT_TYPES,
    RAG,
    UNIT_TYPES,
    ComponentConfig,
    Config,
    LosConfig,
    PooledBudgetConfig,
    RunConfig,
    ScenarioConfig,
    StepConfig,
    TcpConfig,
)
from sim.config.spec import (
    DAYS_PER_YEAR,
    IN_AREA,
    OUT_OF_AREA,
    SOURCE_KINDS,
    Calendar,
    CensusPerson,
    CostSpec,
    DischargeSpec,
    PooledBudgetSpec,
    PoolSpec,
    RegisterSpec,
    SourceSpec,
    SystemSpec,
    TcpSpec,
)
from sim.sampling import Empirical, Exponential, Fixed, Lognormal, Mixture, Uniform, Weibull, check_seed

#: configs/ at the top of the project: relative census paths are read from here.
CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"

ENGINES = ("simpy", "numba")
BACKENDS = ("processes", "dask")
CENSUS_COLUMNS = ("unit", "area", "admitted")
AREAS = {"in": IN_AREA, "out": OUT_OF_AREA}
OOA_REASONS = ("beds", "need")  # optional column ooa_reason: why an out-of-area row is out of area


# ----------------------------------------------------------------------------------------------- values


def parse_month(key: str, text: Any) -> date:
    """A ``YYYY-MM`` month as the date of its first day."""
    s = str(text).strip()
    try:
        y, m = s.split("-")
        if len(y) != 4 or len(m) != 2:
            raise ValueError
        return date(int(y), int(m), 1)
    except ValueError:
        raise ConfigError(key, f"'{s}' is not a month (YYYY-MM)") from None


def add_months(d: date, n: int) -> date:
    """The first day of the month n months after d's month."""
    k = d.year * 12 + d.month - 1 + n
    return date(k // 12, k % 12 + 1, 1)


def month_label(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def probability(key: str, value: Any) -> float:
    v = number(key, value)
    if not 0.0 <= v <= 1.0:
        raise ConfigError(key, f"{v:g} is a probability and must be in [0, 1]")
    return v


def number(key: str, value: Any, *, minimum: float | None = None, strict: bool = False) -> float:
    """A finite float, optionally at least (or, if strict, above) ``minimum``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(key, f"'{value}' is not a number") from None
    if not math.isfinite(v):
        raise ConfigError(key, f"{value} is not a finite number")
    if minimum is not None and (v <= minimum if strict else v < minimum):
        raise ConfigError(key, f"{v:g} must be {'above' if strict else 'at least'} {minimum:g}")
    return v


def integer(key: str, value: Any, *, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ConfigError(key, f"'{value}' is not a whole number")
    if minimum is not None and value < minimum:
        raise ConfigError(key, f"{value} must be at least {minimum}")
    return int(value)


def unit_index(key: str, unit: str) -> int:
    if unit not in UNIT_TYPES:
        raise ConfigError(key, f"unknown unit type '{unit}' (expected one of {', '.join(UNIT_TYPES)})")
    return UNIT_TYPES.index(unit)


# ----------------------------------------------------------------------------------- distributions


def build_component(key: str, c: ComponentConfig) -> Any:
    """One LOS component in days, from its config in years."""

    def need(name: str) -> float:
        v = getattr(c, name)
        if v is None:
            raise ConfigError(f"{key}.{name}", f"a {c.family} component needs {name}")
        return number(f"{key}.{name}", v)

    try:
        if c.family == "exponential":
            dist: Any = Exponential(need("mean"))
        elif c.family == "lognormal":
            dist = Lognormal(need("mean"), need("sd"))
        elif c.family == "weibull":
            dist = Weibull(need("shape"), need("scale"))
        elif c.family == "uniform":
            dist = Uniform(need("low"), need("high"))
        elif c.family == "fixed":
            dist = Fixed(need("value"))
        elif c.family == "empirical":
            if c.x is None or c.cdf is None:
                raise ConfigError(key, "an empirical component needs x and cdf lists")
            dist = Empirical(tuple(float(v) for v in c.x), tuple(float(v) for v in c.cdf))
        else:
            raise ConfigError(
                f"{key}.family",
                f"unknown family '{c.family}' (expected exponential, lognormal, weibull, uniform, fixed or empirical)",
            )
    except ValueError as e:
        if isinstance(e, ConfigError):
            raise
        raise ConfigError(key, str(e)) from None
    return dist.scale(DAYS_PER_YEAR)


def build_los(key: str, los: LosConfig) -> Mixture:
    """A length-of-stay mixture in days; weights must be probabilities summing to 1."""
    if not los.components:
        raise ConfigError(f"{key}.components", "a length of stay needs at least one component")
    comps, weights = [], []
    for i, c in enumerate(los.components):
        weights.append(probability(f"{key}.components[{i}].weight", c.weight))
        comps.append(build_component(f"{key}.components[{i}]", c))
    if abs(sum(weights) - 1.0) > 1e-9:
        raise ConfigError(f"{key}.components", f"weights sum to {sum(weights):g}, not 1")
    return Mixture(tuple(weights), tuple(comps))


# ------------------------------------------------------------------------------------------- pieces


def build_calendar(run: RunConfig, has_census: bool) -> Calendar:
    start = parse_month("run.start", run.start)
    years = number("run.years", run.years, minimum=0.0, strict=True)
    n = round(years * 12)
    if n < 1 or abs(n - years * 12) > 1e-6:
        raise ConfigError("run.years", f"{years:g} years is not a whole number of months (>= 1)")
    warmup = number("run.warmup_years", run.warmup_years, minimum=0.0)
    if has_census and warmup > 0:
        raise ConfigError("run.warmup_years", "must be 0 when a TCP starts from a census")
    months = [add_months(start, m) for m in range(n + 1)]
    return Calendar(
        start=start,
        labels=tuple(month_label(d) for d in months[:-1]),
        start_label=month_label(add_months(start, -1)),
        boundaries=np.array([(d - start).days for d in months], dtype=np.float64),
        warmup_days=warmup * DAYS_PER_YEAR,
    )


def build_schedule(key: str, steps: list[StepConfig], start: date) -> tuple[np.ndarray, np.ndarray]:
    """Bed-count steps as (day from start, beds), checked for order and sign."""
    if not steps:
        raise ConfigError(key, "a bed pool needs a schedule with at least one step")
    days, beds, previous = [], [], None
    for i, s in enumerate(steps):
        d = parse_month(f"{key}[{i}].date", s.date)
        if previous is not None and d <= previous:
            raise ConfigError(f"{key}[{i}].date", f"{month_label(d)} is not after {month_label(previous)}")
        beds.append(integer(f"{key}[{i}].beds", s.beds, minimum=0))
        days.append((d - start).days)
        previous = d
    if days[0] > 0:
        raise ConfigError(f"{key}[0].date", f"the schedule must begin on or before run.start ({month_label(start)})")
    return np.array(days, dtype=np.float64), np.array(beds, dtype=np.int64)


def build_trajectory(key: str, tcp: TcpConfig) -> tuple[tuple[str, float], ...]:
    out, previous = [], None
    for i, m in enumerate(tcp.trajectory):
        d = parse_month(f"{key}[{i}].date", m.date)
        if previous is not None and d <= previous:
            raise ConfigError(f"{key}[{i}].date", f"{month_label(d)} is not after {month_label(previous)}")
        out.append((month_label(d), number(f"{key}[{i}].inpatients", m.inpatients, minimum=0.0)))
        previous = d
    return tuple(out)


def build_sources(key: str, tcp: TcpConfig, t: int) -> list[SourceSpec]:
    """The TCP's Poisson sources: crises off the register, register joiners, housing units coming free."""
    rates = {
        "unregistered": number(f"{key}.crisis.unregistered_rate", tcp.crisis.unregistered_rate, minimum=0.0),
        "register_join": number(f"{key}.register.join_rate", tcp.register.join_rate, minimum=0.0),
    }
    for kind, housing in tcp.discharge.housing.items():
        if kind in PLACEMENT_TYPES:
            rates[f"housing_{kind}"] = number(
                f"{key}.discharge.housing.{kind}.supply_rate", housing.supply_rate, minimum=0.0
            )
    return [
        SourceSpec(index=t * len(SOURCE_KINDS) + k, tcp=t, kind=kind, rate=rates.get(kind, 0.0) / DAYS_PER_YEAR)
        for k, kind in enumerate(SOURCE_KINDS)
    ]


def by_name(key: str, values: dict[str, Any], names: tuple[str, ...], what: str, check=None) -> np.ndarray:
    """A dict keyed by known names (RAG ratings, unit types, placement types) as an array in their order."""
    out = np.zeros(len(names))
    for name, value in values.items():
        if name not in names:
            raise ConfigError(f"{key}.{name}", f"unknown {what} '{name}' (expected one of {', '.join(names)})")
        out[names.index(name)] = (check or (lambda k, v: number(k, v, minimum=0.0)))(f"{key}.{name}", value)
    return out


def shares(key: str, values: dict[str, Any], names: tuple[str, ...], what: str) -> np.ndarray:
    """Cumulative shares over ``names`` (probabilities summing to 1), for ``choice``."""
    p = by_name(key, values, names, what, probability)
    if abs(p.sum() - 1.0) > 1e-9:
        raise ConfigError(key, f"shares sum to {p.sum():g}, not 1")
    cum = np.cumsum(p)
    cum[-1] = 1.0
    return cum


def build_delay(key: str, los: LosConfig) -> Mixture | None:
    """A delay distribution in days, or None for no delay (no components)."""
    return build_los(key, los) if los.components else None


def build_register(key: str, tcp: TcpConfig) -> RegisterSpec:
    r = tcp.register
    people = by_name(f"{key}.people", r.people, RAG, "RAG rating", lambda k, v: integer(k, v, minimum=0))
    moves = np.zeros((len(RAG), len(RAG)))
    for rag, targets in r.transitions.items():
        i = RAG.index(rag) if rag in RAG else -1
        if i < 0:
            raise ConfigError(
                f"{key}.transitions.{rag}", f"unknown RAG rating '{rag}' (expected one of {', '.join(RAG)})"
            )
        moves[i] = by_name(f"{key}.transitions.{rag}", targets, RAG, "RAG rating")
        if moves[i, i] > 0:
            raise ConfigError(f"{key}.transitions.{rag}.{rag}", "a RAG rating cannot move to itself")
    join_rate = number(f"{key}.join_rate", r.join_rate, minimum=0.0)
    if join_rate > 0 or r.join_rag:
        join_cum = shares(f"{key}.join_rag", r.join_rag, RAG, "RAG rating")
    else:
        join_cum = np.array([0.0, 0.0, 1.0])
    return RegisterSpec(
        people=people.astype(np.int64),
        crisis=by_name(f"{key}.crisis_rate", r.crisis_rate, RAG, "RAG rating") / DAYS_PER_YEAR,
        moves=moves / DAYS_PER_YEAR,
        leave=number(f"{key}.leave_rate", r.leave_rate, minimum=0.0) / DAYS_PER_YEAR,
        join_cum=join_cum,
    )


def build_discharge(key: str, tcp: TcpConfig, start: date) -> DischargeSpec:
    d = tcp.discharge
    cum = np.zeros((len(UNIT_TYPES), len(PLACEMENT_TYPES)))
    cum[:, PLACEMENT_TYPES.index("shared") :] = 1.0  # a unit with no mix: shared housing
    for unit, mix in d.placement_mix.items():
        cum[unit_index(f"{key}.placement_mix.{unit}", unit)] = shares(
            f"{key}.placement_mix.{unit}", mix, PLACEMENT_TYPES, "placement type"
        )
    units = np.full(len(PLACEMENT_TYPES), -1, dtype=np.int64)
    pipeline = []
    for kind, housing in d.housing.items():
        if kind not in PLACEMENT_TYPES:
            raise ConfigError(
                f"{key}.housing.{kind}",
                f"unknown placement type '{kind}' (expected one of {', '.join(PLACEMENT_TYPES)})",
            )
        h = PLACEMENT_TYPES.index(kind)
        units[h] = integer(f"{key}.housing.{kind}.units", housing.units, minimum=0)
        previous = None
        for i, step in enumerate(housing.pipeline):
            k = f"{key}.housing.{kind}.pipeline[{i}]"
            when = parse_month(f"{k}.date", step.date)
            if previous is not None and when < previous:
                raise ConfigError(f"{k}.date", f"{month_label(when)} is before {month_label(previous)}")
            previous = when
            pipeline.append((float((when - start).days), h, integer(f"{k}.units", step.units, minimum=0)))
    if d.policy not in HOUSING_POLICIES:
        raise ConfigError(
            f"{key}.policy", f"unknown policy '{d.policy}' (expected one of {', '.join(HOUSING_POLICIES)})"
        )
    return DischargeSpec(
        return_home=by_name(f"{key}.return_home", d.return_home, UNIT_TYPES, "unit type", probability),
        return_home_within=number(f"{key}.return_home_within_years", d.return_home_within_years, minimum=0.0)
        * DAYS_PER_YEAR,
        placement_cum=cum,
        housing_units=units,
        pipeline=tuple(sorted(pipeline)),
        provider_lead=build_delay(f"{key}.provider_lead", d.provider_lead),
        funding_delay=build_delay(f"{key}.funding_delay", d.funding_delay),
        dispute_prob=probability(f"{key}.dispute_prob", d.dispute_prob),
        dispute_delay=build_delay(f"{key}.dispute_delay", d.dispute_delay),
        policy=HOUSING_POLICIES.index(d.policy),
        repatriation=bool(d.repatriation),
    )


def build_costs(key: str, tcp: TcpConfig) -> CostSpec:
    c = tcp.costs
    bed = by_name(f"{key}.bed_per_year", c.bed_per_year, UNIT_TYPES, "unit type") / DAYS_PER_YEAR
    premium = number(f"{key}.out_of_area_premium", c.out_of_area_premium, minimum=0.0)
    package = by_name(f"{key}.package_per_year", c.package_per_year, PLACEMENT_TYPES, "placement type") / DAYS_PER_YEAR
    initial = number(f"{key}.initial_premium", c.initial_premium, minimum=0.0)
    return CostSpec(
        bed=np.stack([bed, bed * (1.0 + premium)], axis=1),
        package=np.stack([package * (1.0 + initial), package], axis=1),
        initial_days=number(f"{key}.initial_months", c.initial_months, minimum=0.0) * DAYS_PER_YEAR / 12,
        la_share=probability(f"{key}.package_la_share", c.package_la_share),
        ctr=number(f"{key}.ctr", c.ctr, minimum=0.0),
        crisis_support=number(f"{key}.crisis_support_per_year", c.crisis_support_per_year, minimum=0.0) / DAYS_PER_YEAR,
        dowry=number(f"{key}.dowry_per_year", c.dowry_per_year, minimum=0.0) / DAYS_PER_YEAR,
    )


def build_tcp(key: str, tc: TcpConfig, t: int, pool_of_unit: np.ndarray, start: date, crises: bool) -> TcpSpec:
    """Check one TCP's parameters and build its spec; ``crises`` says whether anyone can be admitted."""
    population = integer(f"{key}.population", tc.population, minimum=1)
    child_share = probability(f"{key}.crisis.child_share", tc.crisis.child_share)
    route = by_name(f"{key}.routing", tc.routing, UNIT_TYPES, "unit type", probability)
    camhs = UNIT_TYPES.index("camhs_t4")
    if route[camhs] > 0:
        raise ConfigError(
            f"{key}.routing.camhs_t4", "children go to CAMHS tier 4 by crisis.child_share; route adults only"
        )
    if crises:
        if child_share < 1 and abs(route.sum() - 1.0) > 1e-9:
            raise ConfigError(
                f"{key}.routing", f"shares of adult admissions by unit type sum to {route.sum():g}, not 1"
            )
        needed = list(np.flatnonzero(route > 0)) + ([camhs] if child_share > 0 else [])
        for u in needed:
            if pool_of_unit[u] < 0:
                what = f"{key}.routing.{UNIT_TYPES[u]}" if u != camhs else f"{key}.crisis.child_share"
                raise ConfigError(
                    what,
                    f"admissions go to {UNIT_TYPES[u]} but {tc.name} has no {UNIT_TYPES[u]} pool "
                    "(give it beds with a schedule; 0 beds sends everyone out of area)",
                )
    cum = np.cumsum(route)
    if cum[-1] > 0:
        cum = cum / cum[-1]
        cum[cum >= cum[-1]] = 1.0
    interval = np.full(len(UNIT_TYPES), np.inf)
    for unit, months in tc.ctr.interval_months.items():
        u = unit_index(f"{key}.ctr.interval_months.{unit}", unit)
        m = number(f"{key}.ctr.interval_months.{unit}", months, minimum=0.0)
        interval[u] = m * DAYS_PER_YEAR / 12 if m > 0 else np.inf
    community = tc.community
    return TcpSpec(
        index=t,
        name=tc.name,
        title=tc.title or tc.name,
        population=population,
        register=build_register(f"{key}.register", tc),
        child_share=child_share,
        ctr_coverage=probability(f"{key}.ctr.coverage", tc.ctr.coverage),
        ctr_avert=probability(f"{key}.ctr.avert", tc.ctr.avert),
        ctr_first=number(f"{key}.ctr.first_weeks", tc.ctr.first_weeks, minimum=0.0) * 7.0,
        ctr_interval=interval,
        ctr_ready=probability(f"{key}.ctr.ready_prob", tc.ctr.ready_prob),
        support_places=integer(f"{key}.crisis_support.places", tc.crisis_support.places, minimum=0),
        support_length=build_delay(f"{key}.crisis_support.length", tc.crisis_support.length),
        route_cum=cum,
        ooa_need=by_name(f"{key}.out_of_area_need", tc.out_of_area_need, UNIT_TYPES, "unit type", probability),
        pool_of_unit=pool_of_unit,
        discharge=build_discharge(f"{key}.discharge", tc, start),
        breakdown_first=number(
            f"{key}.community.breakdown_rate_first_year", community.breakdown_rate_first_year, minimum=0.0
        )
        / DAYS_PER_YEAR,
        breakdown_after=number(f"{key}.community.breakdown_rate_after", community.breakdown_rate_after, minimum=0.0)
        / DAYS_PER_YEAR,
        community_death=number(f"{key}.community.death_rate", community.death_rate, minimum=0.0) / DAYS_PER_YEAR,
        hospital_death=number(f"{key}.community.hospital_death_rate", community.hospital_death_rate, minimum=0.0)
        / DAYS_PER_YEAR,
        costs=build_costs(f"{key}.costs", tc),
        trajectory=build_trajectory(f"{key}.trajectory", tc),
    )


def read_census(key: str, path: Path, start: date) -> list[tuple[int, int, int, float, bool]]:
    """Rows of a census CSV as (row, unit, area, elapsed days, out of area by need); '#' lines are
    comments (sources). The optional column ``ooa_reason`` says why an out-of-area row is out of area:
    ``beds`` (the default; repatriation can bring them back) or ``need`` (no local unit meets it)."""
    if not path.is_file():
        raise ConfigError(key, f"census file {path} not found")
    rows: list[tuple[int, int, int, float, bool]] = []
    with path.open(newline="") as f:
        lines = [(n, line) for n, line in enumerate(f, start=1) if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise ConfigError(key, f"{path.name} has no header row")
    reader = csv.reader(line for _, line in lines)
    header = [h.strip() for h in next(reader)]
    missing = [c for c in CENSUS_COLUMNS if c not in header]
    if missing:
        raise ConfigError(key, f"{path.name} line {lines[0][0]}: missing column(s) {', '.join(missing)}")
    col = {c: header.index(c) for c in CENSUS_COLUMNS}
    for (lineno, _), fields in zip(lines[1:], reader):
        where = f"{path.name} line {lineno}"
        if len(fields) != len(header):
            raise ConfigError(key, f"{where}: {len(fields)} fields, the header has {len(header)}")
        value = {c: fields[col[c]].strip() for c in CENSUS_COLUMNS}
        for c, v in value.items():
            if not v:
                raise ConfigError(key, f"{where}: {c} is empty")
        if value["unit"] not in UNIT_TYPES:
            raise ConfigError(
                key, f"{where}: unknown unit type '{value['unit']}' (expected one of {', '.join(UNIT_TYPES)})"
            )
        if value["area"] not in AREAS:
            raise ConfigError(key, f"{where}: area '{value['area']}' must be 'in' or 'out'")
        try:
            admitted = date.fromisoformat(value["admitted"])
        except ValueError:
            raise ConfigError(key, f"{where}: admitted '{value['admitted']}' is not a date (YYYY-MM-DD)") from None
        if admitted >= start:
            raise ConfigError(key, f"{where}: admitted {admitted} is not before the start {start}")
        reason = fields[header.index("ooa_reason")].strip() if "ooa_reason" in header else ""
        if reason and reason not in OOA_REASONS:
            raise ConfigError(key, f"{where}: ooa_reason '{reason}' must be 'beds' or 'need'")
        by_need = AREAS[value["area"]] == OUT_OF_AREA and reason == "need"
        rows.append(
            (len(rows), UNIT_TYPES.index(value["unit"]), AREAS[value["area"]], float((start - admitted).days), by_need)
        )
    return rows


# ---------------------------------------------------------------------------------------- the system


@dataclass
class _PoolDraft:
    name: str
    unit: int
    tcps: list[int]
    steps: tuple[np.ndarray, np.ndarray]
    los: Mixture


def _tcps_of(cfg: Config) -> list[tuple[str, TcpConfig]]:
    if cfg.system.tcps:
        if cfg.tcp is not None:
            raise ConfigError("tcp", f"system '{cfg.system.name}' lists its own TCPs; do not also choose tcp=")
        return [(f"system.tcps.{name}", t) for name, t in cfg.system.tcps.items()]
    if cfg.tcp is None:
        raise ConfigError("tcp", "no TCP chosen (tcp=<name>) and the system lists none")
    return [("tcp", cfg.tcp)]


# ------------------------------------------------------------------------------------------ scenario

#: The scenario keys that change every TCP (ScenarioConfig), each with its value that changes nothing.
SCENARIO_NEUTRAL: dict[str, Any] = {
    "ctr_coverage": None,
    "crisis_support_factor": 1.0,
    "housing_months_earlier": 0,
    "funding_delay_factor": 1.0,
    "repatriation": None,
    "close_occupied": False,
    "package_cost_factor": 1.0,
    "schedule_months_earlier": 0,
}

#: Fields of a LOS component that are times (scaled by ``funding_delay_factor``); ``shape`` is not.
TIME_FIELDS = ("mean", "sd", "scale", "low", "high", "value")


def scenario_changes(scenario: ScenarioConfig | DictConfig) -> dict[str, Any]:
    """The scenario keys set to change every TCP (those not at their neutral value), for reports."""
    out = {}
    for key, neutral in SCENARIO_NEUTRAL.items():
        value = getattr(scenario, key, neutral)
        if value != neutral:
            out[key] = value
    return out


def scale_los(los: LosConfig, factor: float) -> LosConfig:
    """The same mixture with every time multiplied by ``factor``; 0 gives no components (no delay)."""
    if factor == 0:
        return LosConfig(components=[])
    comps = []
    for c in los.components:
        changes: dict[str, Any] = {f: getattr(c, f) * factor for f in TIME_FIELDS if getattr(c, f) is not None}
        if c.x is not None:
            changes["x"] = [v * factor for v in c.x]
        comps.append(dataclasses.replace(c, **changes))
    return LosConfig(components=comps)


def earlier_schedule(key: str, steps: list[StepConfig], months: int, start: date) -> list[StepConfig]:
    """A bed schedule with every step after the first ``months`` earlier, not before the month after
    ``start`` (the start's beds must still hold the start census); steps that land on the same month keep
    the later one's beds (the state the schedule had reached)."""
    moved: dict[str, int] = {}
    for i, step in enumerate(steps):
        when = parse_month(f"{key}[{i}].date", step.date)
        if i > 0:
            when = max(add_months(when, -months), add_months(start, 1))
        moved[month_label(when)] = step.beds
    return [StepConfig(date=d, beds=b) for d, b in moved.items()]


def apply_scenario(cfg: Config) -> Config:
    """A copy of ``cfg`` with the scenario's changes (``scenario.ctr_coverage`` ...) made to every TCP,
    whether the TCP is ``tcp`` or one of ``system.tcps``; ``cfg`` itself if the scenario changes none.
    A wrong scenario value names its ``scenario.*`` key."""
    s = cfg.scenario
    coverage = None if s.ctr_coverage is None else probability("scenario.ctr_coverage", s.ctr_coverage)
    support = number("scenario.crisis_support_factor", s.crisis_support_factor, minimum=0.0)
    earlier = integer("scenario.housing_months_earlier", s.housing_months_earlier, minimum=0)
    funding = number("scenario.funding_delay_factor", s.funding_delay_factor, minimum=0.0)
    packages = number("scenario.package_cost_factor", s.package_cost_factor, minimum=0.0)
    sooner = integer("scenario.schedule_months_earlier", s.schedule_months_earlier, minimum=0)
    if not scenario_changes(s):
        return cfg
    cfg = copy.deepcopy(cfg)
    start = parse_month("run.start", cfg.run.start)
    if sooner:
        for i, pool in enumerate(cfg.system.shared_pools):
            pool.schedule = earlier_schedule(f"system.shared_pools[{i}].schedule", pool.schedule, sooner, start)
    for key, tc in _tcps_of(cfg):
        if coverage is not None:
            tc.ctr.coverage = coverage
        if support != 1.0:
            places = integer(f"{key}.crisis_support.places", tc.crisis_support.places, minimum=0)
            tc.crisis_support.places = int(math.floor(places * support + 0.5))
        if earlier:
            for kind, housing in tc.discharge.housing.items():
                for i, step in enumerate(housing.pipeline):
                    when = parse_month(f"{key}.discharge.housing.{kind}.pipeline[{i}].date", step.date)
                    step.date = month_label(max(add_months(when, -earlier), start))
        if funding != 1.0:
            tc.discharge.funding_delay = scale_los(tc.discharge.funding_delay, funding)
        if s.repatriation is not None:
            tc.discharge.repatriation = bool(s.repatriation)
        if packages != 1.0:
            tc.costs.package_per_year = {
                kind: number(f"{key}.costs.package_per_year.{kind}", v, minimum=0.0) * packages
                for kind, v in tc.costs.package_per_year.items()
            }
        if sooner:
            for unit, pool in tc.beds.items():
                pool.schedule = earlier_schedule(f"{key}.beds.{unit}.schedule", pool.schedule, sooner, start)
    return cfg


def build_pooled_budget(pb: PooledBudgetConfig, names: list[str]) -> PooledBudgetSpec | None:
    """The pooled budget's rules (None when it is off), each value checked against its key."""
    if not pb.enabled:
        return None
    key = "system.pooled_budget"

    def tcp_list(field_name: str, values: list[str], allowed: list[str], where: str) -> tuple[int, ...]:
        out = []
        for name in values:
            if name not in allowed:
                raise ConfigError(f"{key}.{field_name}", f"unknown TCP '{name}' ({where} {', '.join(allowed)})")
            out.append(names.index(name))
        return tuple(sorted(set(out)))

    tcps = tcp_list("tcps", list(pb.tcps), names, "the system has") if pb.tcps else tuple(range(len(names)))
    members = [names[t] for t in tcps]
    units = tuple(sorted({unit_index(f"{key}.units", u) for u in pb.units}))
    section75: tuple[int, ...] = ()
    if pb.section75:
        section75 = (
            tcp_list("section75_tcps", list(pb.section75_tcps), members, "the pool has") if pb.section75_tcps else tcps
        )
    if not units and not section75:
        raise ConfigError(
            f"{key}.units",
            "the pool funds no one: list unit types (e.g. [low_secure, medium_secure]) or turn on section75",
        )
    return PooledBudgetSpec(
        tcps=tcps,
        units=units,
        section75_tcps=section75,
        marginal_share=probability(f"{key}.marginal_share", pb.marginal_share),
        out_of_area_release=probability(f"{key}.out_of_area_release", pb.out_of_area_release),
        cap_factor=number(f"{key}.cap_factor", pb.cap_factor, minimum=0.0),
        extra_per_day=number(f"{key}.extra_per_year", pb.extra_per_year, minimum=0.0) / DAYS_PER_YEAR,
        balanced_plan=bool(pb.balanced_plan),
        shortfall_la_share=probability(f"{key}.shortfall_la_share", pb.shortfall_la_share),
        nhse_uplift=number(f"{key}.nhse_uplift", pb.nhse_uplift, minimum=-1.0, strict=True),
        initial_reserve=number(f"{key}.initial_reserve", pb.initial_reserve, minimum=0.0),
    )


def build_spec(cfg: DictConfig | Config) -> SystemSpec:
    """Validate a composed config and build the system the engines run."""
    if isinstance(cfg, DictConfig):
        cfg = OmegaConf.to_object(cfg)  # type: ignore[assignment]
    assert isinstance(cfg, Config)
    run = cfg.run
    if run.replications != "auto":
        if isinstance(run.replications, str):
            raise ConfigError("run.replications", f"'{run.replications}' must be a whole number or auto")
        integer("run.replications", run.replications, minimum=1)
    auto = run.auto
    integer("run.auto.minimum", auto.minimum, minimum=2)
    integer("run.auto.maximum", auto.maximum, minimum=auto.minimum)
    if not 0.5 <= auto.confidence < 1:
        raise ConfigError("run.auto.confidence", f"{auto.confidence} must be in [0.5, 1)")
    if auto.half_width is not None and not auto.half_width > 0:
        raise ConfigError(
            "run.auto.half_width", f"{auto.half_width} must be positive (or null to use run.auto.relative)"
        )
    if auto.half_width is None and not 0 < auto.relative < 1:
        raise ConfigError("run.auto.relative", f"{auto.relative} must be in (0, 1)")
    try:
        check_seed(run.seed)
    except (ValueError, TypeError):
        raise ConfigError("run.seed", f"'{run.seed}' must be a whole number in [0, 2**32)") from None
    integer("run.workers", run.workers, minimum=1)
    integer("run.chunk_size", run.chunk_size, minimum=1)
    if run.engine not in ENGINES:
        raise ConfigError("run.engine", f"unknown engine '{run.engine}' (available: {', '.join(ENGINES)})")
    if run.backend not in BACKENDS:
        raise ConfigError("run.backend", f"unknown backend '{run.backend}' (available: {', '.join(BACKENDS)})")
    if run.engine == "numba" and run.event_log:
        raise ConfigError("run.event_log", "the per-person event log comes from the SimPy model: add run.engine=simpy")

    cfg = apply_scenario(cfg)
    tcps_cfg = _tcps_of(cfg)
    names = [t.name for _, t in tcps_cfg]
    for (key, _), name in zip(tcps_cfg, names):
        if names.count(name) > 1:
            raise ConfigError(f"{key}.name", f"TCP name '{name}' is used twice")
    has_census = any(t.census for _, t in tcps_cfg)
    calendar = build_calendar(run, has_census)
    start = calendar.start

    # Pools: shared pools first; they replace the listed TCPs' own pools of their unit type.
    drafts: list[_PoolDraft] = []
    shared_of: dict[tuple[int, int], int] = {}
    for i, sp in enumerate(cfg.system.shared_pools):
        key = f"system.shared_pools[{i}]"
        u = unit_index(f"{key}.unit", sp.unit)
        members = []
        for name in sp.tcps:
            if name not in names:
                raise ConfigError(f"{key}.tcps", f"unknown TCP '{name}' (the system has {', '.join(names)})")
            t = names.index(name)
            if (t, u) in shared_of:
                raise ConfigError(f"{key}.tcps", f"{name}'s {sp.unit} beds are already in another shared pool")
            shared_of[(t, u)] = len(drafts)
            members.append(t)
        if not members:
            raise ConfigError(f"{key}.tcps", "a shared pool needs at least one TCP")
        drafts.append(
            _PoolDraft(
                sp.name,
                u,
                members,
                build_schedule(f"{key}.schedule", sp.schedule, start),
                build_los(f"{key}.los", sp.los),
            )
        )

    tcps: list[TcpSpec] = []
    sources: list[SourceSpec] = []
    census: list[CensusPerson] = []
    for t, (key, tc) in enumerate(tcps_cfg):
        pool_of_unit = np.full(len(UNIT_TYPES), -1, dtype=np.int64)
        for unit, pool in tc.beds.items():
            u = unit_index(f"{key}.beds.{unit}", unit)
            if (t, u) in shared_of:
                continue
            pool_of_unit[u] = len(drafts)
            drafts.append(
                _PoolDraft(
                    f"{tc.name}_{unit}",
                    u,
                    [t],
                    build_schedule(f"{key}.beds.{unit}.schedule", pool.schedule, start),
                    build_los(f"{key}.beds.{unit}.los", pool.los),
                )
            )
        for (tt, u), p in shared_of.items():
            if tt == t:
                pool_of_unit[u] = p
        tcp_sources = build_sources(key, tc, t)
        register = tc.register
        crises = any(s.rate > 0 for s in tcp_sources if not s.kind.startswith("housing_")) or any(
            v > 0 for v in register.people.values()
        )
        tcps.append(build_tcp(key, tc, t, pool_of_unit, start, crises))
        sources.extend(tcp_sources)
        if tc.census:
            path = Path(tc.census)
            path = path if path.is_absolute() else CONFIG_DIR / path
            for row, u, area, elapsed, by_need in read_census(f"{key}.census", path, start):
                if pool_of_unit[u] < 0:
                    raise ConfigError(
                        f"{key}.census",
                        f"{path.name} row {row + 1}: {tc.name} has no {UNIT_TYPES[u]} pool "
                        "for this inpatient's length of stay",
                    )
                census.append(CensusPerson(tcp=t, row=row, unit=u, area=area, elapsed=elapsed, by_need=by_need))

    pools = tuple(
        PoolSpec(
            index=i,
            name=d.name,
            unit=d.unit,
            tcps=tuple(d.tcps),
            step_days=d.steps[0],
            step_beds=d.steps[1],
            los=d.los,
            close_occupied=bool(cfg.scenario.close_occupied),
        )
        for i, d in enumerate(drafts)
    )
    pool_names = [p.name for p in pools]
    for p in pools:
        if pool_names.count(p.name) > 1:
            raise ConfigError("system.shared_pools", f"pool name '{p.name}' is used twice")
    in_area = np.zeros(len(pools), dtype=np.int64)
    for c in census:
        if c.area == IN_AREA:
            in_area[tcps[c.tcp].pool_of_unit[c.unit]] += 1
    for p in pools:
        if in_area[p.index] > p.beds_at(0.0):
            raise ConfigError(
                "census",
                f"{in_area[p.index]} in-area {UNIT_TYPES[p.unit]} inpatients at the start but pool {p.name} "
                f"has {p.beds_at(0.0)} beds in {calendar.labels[0]}",
            )
    return SystemSpec(
        name=cfg.system.name if cfg.system.tcps else tcps[0].name,
        system_title=cfg.system.title,
        scenario=cfg.scenario.name,
        tcps=tuple(tcps),
        pools=pools,
        sources=tuple(sources),
        census=tuple(census),
        calendar=calendar,
        seed=int(run.seed),
        tcp_metrics=bool(run.tcp_metrics),
        pooled_budget=build_pooled_budget(cfg.system.pooled_budget, names),
    )
