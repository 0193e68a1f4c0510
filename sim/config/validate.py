"""Check every value of a composed config and build the ``SystemSpec`` the engines run.

A wrong value raises ``ConfigError`` whose message is one line that names the key (or the census file
and line) and what is wrong; the command line prints it and exits with status 2. Nothing runs before
the whole config has passed.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from sim.config.schema import (
    RAG,
    UNIT_TYPES,
    ComponentConfig,
    Config,
    LosConfig,
    RunConfig,
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
    PoolSpec,
    SourceSpec,
    SystemSpec,
    TcpSpec,
)
from sim.sampling import Empirical, Exponential, Fixed, Lognormal, Mixture, Uniform, Weibull, check_seed

#: configs/ at the top of the project: relative census paths are read from here.
CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"

ENGINES = ("simpy",)
CENSUS_COLUMNS = ("unit", "area", "admitted")
AREAS = {"in": IN_AREA, "out": OUT_OF_AREA}


class ConfigError(ValueError):
    """A user's config, override or census is wrong: ``key`` says where, the message says what."""

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(f"{key}: {problem}")


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
                f"unknown family '{c.family}' (expected exponential, lognormal, weibull, uniform, "
                "fixed or empirical)",
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
    rates = {"unregistered": number(f"{key}.unregistered_rate", tcp.crisis.unregistered_rate, minimum=0.0)}
    for rag, group in tcp.crisis.register.items():
        if rag not in RAG:
            raise ConfigError(f"{key}.register.{rag}", f"unknown RAG rating (expected one of {', '.join(RAG)})")
        people = integer(f"{key}.register.{rag}.people", group.people, minimum=0)
        rate = number(f"{key}.register.{rag}.crisis_rate", group.crisis_rate, minimum=0.0)
        rates[rag] = people * rate
    return [
        SourceSpec(index=t * len(SOURCE_KINDS) + k, tcp=t, kind=kind, rate=rates.get(kind, 0.0) / DAYS_PER_YEAR)
        for k, kind in enumerate(SOURCE_KINDS)
    ]


def read_census(key: str, path: Path, start: date) -> list[tuple[int, int, int, float]]:
    """Rows of a census CSV as (row, unit, area, elapsed days); '#' lines are comments (sources)."""
    if not path.is_file():
        raise ConfigError(key, f"census file {path} not found")
    rows: list[tuple[int, int, int, float]] = []
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
            raise ConfigError(key, f"{where}: unknown unit type '{value['unit']}' (expected one of {', '.join(UNIT_TYPES)})")
        if value["area"] not in AREAS:
            raise ConfigError(key, f"{where}: area '{value['area']}' must be 'in' or 'out'")
        try:
            admitted = date.fromisoformat(value["admitted"])
        except ValueError:
            raise ConfigError(key, f"{where}: admitted '{value['admitted']}' is not a date (YYYY-MM-DD)") from None
        if admitted >= start:
            raise ConfigError(key, f"{where}: admitted {admitted} is not before the start {start}")
        rows.append((len(rows), UNIT_TYPES.index(value["unit"]), AREAS[value["area"]], float((start - admitted).days)))
    return rows


# ---------------------------------------------------------------------------------------- the system


@dataclass
class _PoolDraft:
    name: str
    unit: int
    tcps: list[int]
    key: str
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


def build_spec(cfg: DictConfig | Config) -> SystemSpec:
    """Validate a composed config and build the system the engines run."""
    if isinstance(cfg, DictConfig):
        cfg = OmegaConf.to_object(cfg)  # type: ignore[assignment]
    assert isinstance(cfg, Config)
    run = cfg.run
    integer("run.replications", run.replications, minimum=1)
    try:
        check_seed(run.seed)
    except (ValueError, TypeError):
        raise ConfigError("run.seed", f"'{run.seed}' must be a whole number in [0, 2**32)") from None
    integer("run.workers", run.workers, minimum=1)
    integer("run.chunk_size", run.chunk_size, minimum=1)
    if run.engine not in ENGINES:
        raise ConfigError("run.engine", f"unknown engine '{run.engine}' (available: {', '.join(ENGINES)})")

    tcps_cfg = _tcps_of(cfg)
    names = [t.name for _, t in tcps_cfg]
    for (key, t), name in zip(tcps_cfg, names):
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
            _PoolDraft(sp.name, u, members, key, build_schedule(f"{key}.schedule", sp.schedule, start),
                       build_los(f"{key}.los", sp.los))
        )

    tcps: list[TcpSpec] = []
    sources: list[SourceSpec] = []
    census: list[CensusPerson] = []
    for t, (key, tc) in enumerate(tcps_cfg):
        population = integer(f"{key}.population", tc.population, minimum=1)
        pool_of_unit = np.full(len(UNIT_TYPES), -1, dtype=np.int64)
        for unit, pool in tc.beds.items():
            u = unit_index(f"{key}.beds.{unit}", unit)
            if (t, u) in shared_of:
                continue
            pool_of_unit[u] = len(drafts)
            drafts.append(
                _PoolDraft(f"{tc.name}_{unit}", u, [t], f"{key}.beds.{unit}",
                           build_schedule(f"{key}.beds.{unit}.schedule", pool.schedule, start),
                           build_los(f"{key}.beds.{unit}.los", pool.los))
            )
        for (tt, u), p in shared_of.items():
            if tt == t:
                pool_of_unit[u] = p

        shares = np.zeros(len(UNIT_TYPES))
        for unit, share in tc.routing.items():
            u = unit_index(f"{key}.routing.{unit}", unit)
            shares[u] = probability(f"{key}.routing.{unit}", share)
        tcp_sources = build_sources(f"{key}.crisis", tc, t)
        if any(s.rate > 0 for s in tcp_sources):
            if abs(shares.sum() - 1.0) > 1e-9:
                raise ConfigError(f"{key}.routing", f"shares of admissions by unit type sum to {shares.sum():g}, not 1")
            for u, share in enumerate(shares):
                if share > 0 and pool_of_unit[u] < 0:
                    raise ConfigError(
                        f"{key}.routing.{UNIT_TYPES[u]}",
                        f"admissions go to {UNIT_TYPES[u]} but {tc.name} has no {UNIT_TYPES[u]} pool "
                        "(give it beds with a schedule; 0 beds sends everyone out of area)",
                    )
        ooa_need = np.zeros(len(UNIT_TYPES))
        for unit, share in tc.out_of_area_need.items():
            ooa_need[unit_index(f"{key}.out_of_area_need.{unit}", unit)] = probability(
                f"{key}.out_of_area_need.{unit}", share
            )
        cum = np.cumsum(shares)
        if cum[-1] > 0:
            cum = cum / cum[-1]
            cum[-1] = 1.0
        tcps.append(
            TcpSpec(
                index=t,
                name=tc.name,
                title=tc.title or tc.name,
                population=population,
                route_cum=cum,
                ooa_need=ooa_need,
                pool_of_unit=pool_of_unit,
                trajectory=build_trajectory(f"{key}.trajectory", tc),
            )
        )
        sources.extend(tcp_sources)
        if tc.census:
            path = Path(tc.census)
            path = path if path.is_absolute() else CONFIG_DIR / path
            for row, u, area, elapsed in read_census(f"{key}.census", path, start):
                if pool_of_unit[u] < 0:
                    raise ConfigError(
                        f"{key}.census",
                        f"{path.name} row {row + 1}: {tc.name} has no {UNIT_TYPES[u]} pool for this inpatient's length of stay",
                    )
                census.append(CensusPerson(tcp=t, row=row, unit=u, area=area, elapsed=elapsed))

    pools = tuple(
        PoolSpec(index=i, name=d.name, unit=d.unit, tcps=tuple(d.tcps), step_days=d.steps[0], step_beds=d.steps[1], los=d.los)
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
        scenario=cfg.scenario.name,
        tcps=tuple(tcps),
        pools=pools,
        sources=tuple(sources),
        census=tuple(census),
        calendar=calendar,
        seed=int(run.seed),
    )
