"""Build what the engines run from a composed config: the ``SystemSpec`` (what is simulated) and the
``RunSpec`` (how it is run), checking every value on the way.

A wrong value raises ``ConfigError`` whose message is one line that names the key (or the census file
and line) and what is wrong; the command line prints it and exits with status 2. Nothing runs before the
whole config has passed. The builders here turn config pieces (in years, per year, ``YYYY-MM``) into spec
pieces (in days from the start); ``build`` puts them together.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from sim.config.census import (
    CensusRow,
    census_from_counts,
    census_path,
    read_census,
    read_census_counts,
    read_community_census,
)
from sim.config.checks import (
    add_months,
    by_name,
    flag,
    integer,
    month_label,
    number,
    parse_month,
    probability,
    shares,
    tcp_configs,
    unit_index,
)
from sim.config.errors import ConfigError
from sim.config.scenario import apply_scenario
from sim.config.schema import (
    HOUSING_POLICIES,
    PLACEMENT_TYPES,
    RAG,
    UNIT_TYPES,
    AutoReplicationsConfig,
    ComponentConfig,
    Config,
    LosConfig,
    PooledBudgetConfig,
    RunConfig,
    SharedPoolConfig,
    StepConfig,
    TcpConfig,
)
from sim.config.spec import (
    DAYS_PER_YEAR,
    IN_AREA,
    OUT_OF_AREA,
    SOURCE_KINDS,
    AutoRule,
    Built,
    Calendar,
    CensusPerson,
    CommunityPerson,
    CostSpec,
    DischargeSpec,
    PooledBudgetSpec,
    PoolSpec,
    Population,
    RegisterSpec,
    RunSpec,
    SourceSpec,
    SystemSpec,
    TcpSpec,
)
from sim.config.store import CONFIG_DIR
from sim.pathway import LONG_STAY_DAYS, SECURITY_ORDER, STEP_DOWN, STEP_UP, TRANSFER_KINDS
from sim.sampling import Empirical, Exponential, Fixed, Lognormal, Mixture, Uniform, Weibull, check_seed

#: Engines a run can use: the compiled one and the SimPy reference model (the same results).
ENGINES = ("simpy", "numba")
#: Where a run's replications are computed: local processes or a Dask cluster (the same results).
BACKENDS = ("processes", "dask")
#: The disclosure rules of the published tables (run.disclosure; sim/results/disclosure.py applies them).
DISCLOSURE_RULES = ("none", "nhs")


# ---------------------------------------------------------------------------------------- run settings


def build_run(run: RunConfig) -> RunSpec:
    """Check the run settings (``run.*`` that say how to run, not what) and return them as a ``RunSpec``.

    The auto rule's keys are checked whether or not ``run.replications=auto``, so a mistake there is
    found before someone switches it on; its metric (and whether its month is in the run) is checked
    when the run starts, against the metrics the system has."""
    if run.replications != "auto":
        if isinstance(run.replications, str):
            raise ConfigError("run.replications", f"'{run.replications}' must be a whole number or auto")
        integer("run.replications", run.replications, minimum=1, maximum=MAX_REPLICATIONS)
    auto = run.auto
    minimum = integer("run.auto.minimum", auto.minimum, minimum=2)
    maximum = integer("run.auto.maximum", auto.maximum, minimum=auto.minimum, maximum=MAX_REPLICATIONS)
    if not 0.5 <= auto.confidence < 1:
        raise ConfigError("run.auto.confidence", f"{auto.confidence} must be in [0.5, 1)")
    if auto.half_width is not None and not auto.half_width > 0:
        raise ConfigError(
            "run.auto.half_width", f"{auto.half_width} must be positive (or null to use run.auto.relative)"
        )
    if auto.half_width is None and not 0 < auto.relative < 1:
        raise ConfigError("run.auto.relative", f"{auto.relative} must be in (0, 1)")
    month = None if auto.month is None else month_label(parse_month("run.auto.month", auto.month))
    try:
        seed = check_seed(run.seed)
    except (ValueError, TypeError):
        raise ConfigError("run.seed", f"'{run.seed}' must be a whole number in [0, 2**32)") from None
    workers = integer("run.workers", run.workers, minimum=1)
    chunk_size = integer("run.chunk_size", run.chunk_size, minimum=1)
    if run.engine not in ENGINES:
        raise ConfigError("run.engine", f"unknown engine '{run.engine}' (available: {', '.join(ENGINES)})")
    if run.backend not in BACKENDS:
        raise ConfigError("run.backend", f"unknown backend '{run.backend}' (available: {', '.join(BACKENDS)})")
    if run.dask_address is not None and run.backend != "dask":
        raise ConfigError(
            "run.dask_address", f"is read only with run.backend=dask (it is {run.backend}): set both, or neither"
        )
    _dask_address(run.dask_address)
    if run.replications != "auto":
        _auto_unused(auto)
    if run.disclosure not in DISCLOSURE_RULES:
        raise ConfigError(
            "run.disclosure", f"unknown rule '{run.disclosure}' (available: {', '.join(DISCLOSURE_RULES)})"
        )
    if run.disclosure != "none" and flag("run.event_log", run.event_log):
        raise ConfigError(
            "run.event_log",
            f"a per-person event log is not kept with run.disclosure={run.disclosure} (its rows are people): "
            "set run.event_log=false, or run.disclosure=none for a run that stays in the building",
        )
    rule = AutoRule(
        metric=str(auto.metric),
        month=month,
        confidence=float(auto.confidence),
        half_width=None if auto.half_width is None else float(auto.half_width),
        relative=float(auto.relative),
        minimum=minimum,
        maximum=maximum,
    )
    is_auto = run.replications == "auto"
    return RunSpec(
        seed=int(seed),
        replications=None if is_auto else int(run.replications),
        auto=rule if is_auto else None,
        engine=str(run.engine),
        workers=workers,
        chunk_size=chunk_size,
        backend=str(run.backend),
        dask_address=None if run.dask_address is None else str(run.dask_address),
        event_log=flag("run.event_log", run.event_log),
        progress=flag("run.progress", run.progress),
        warmup_years=bounded_years("run.warmup_years", run.warmup_years, minimum=0.0),
        resume=None if run.resume is None else str(run.resume),
        parameters=None if run.parameters is None else str(parameters_file(run.parameters)),
        disclosure=str(run.disclosure),
    )


def _auto_unused(auto: AutoReplicationsConfig) -> None:
    """Refuse ``run.auto.*`` set while ``run.replications`` is a number: the rule would be ignored, and a
    user who set it believes the run stops when its interval is narrow enough."""
    default = AutoReplicationsConfig()
    for name in default.__dataclass_fields__:
        if getattr(auto, name) != getattr(default, name):
            raise ConfigError(
                f"run.auto.{name}",
                "is read only with run.replications=auto, and run.replications is a number: set "
                "run.replications=auto, or drop it",
            )


#: A Dask scheduler's address: ``tcp://host:port`` (or another of Dask's protocols), or ``host:port``.
DASK_ADDRESS = re.compile(r"^(?:(?:tcp|tls|ucx|ws|wss|inproc)://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d+))?$")


def _dask_address(address: object) -> None:
    """Refuse an address Dask cannot read (it raised a traceback) or a port no scheduler can have (it
    tried for 30 seconds first)."""
    if address is None:
        return
    text = str(address).strip()
    match = DASK_ADDRESS.match(text)
    if match is None:
        raise ConfigError("run.dask_address", f"'{text}' is not a scheduler address (tcp://host:port)")
    if match.group(2) is not None and not 0 < int(match.group(2)) < 65536:
        raise ConfigError("run.dask_address", f"'{text}': port {match.group(2)} is not from 1 to 65535")


def parameters_file(value: object, key: str = "run.parameters") -> Path:
    """``run.parameters`` as a file: an absolute path as given; a relative one from the current directory if
    that file exists there, else from configs/ (as census paths are, so a config in configs/ can name its
    posterior). What the file holds is checked when it is read (``sim.config.parameters``)."""
    text = str(value).strip()
    if not text:
        raise ConfigError(key, "is empty: give the path of a posterior file (Parquet), or leave it null")
    path = Path(text).expanduser()
    candidates = [path] if path.is_absolute() else [Path.cwd() / path, CONFIG_DIR / path]
    for candidate in candidates:
        if candidate.is_dir():
            raise ConfigError(key, f"{candidate} is a directory, not a posterior file (Parquet)")
        if candidate.is_file():
            return candidate.resolve()
    where = str(path) if path.is_absolute() else f"{text} (looked in {Path.cwd()} and {CONFIG_DIR})"
    raise ConfigError(key, f"no such file: {where}")


# ------------------------------------------------------------------------------------------ distributions


def build_component(key: str, component: ComponentConfig) -> Any:
    """One LOS component in days, from its config in years."""

    def need(name: str) -> float:
        value = getattr(component, name)
        if value is None:
            raise ConfigError(f"{key}.{name}", f"a {component.family} component needs {name}")
        return number(f"{key}.{name}", value)

    family = component.family
    try:
        if family == "exponential":
            dist: Any = Exponential(need("mean"))
        elif family == "lognormal":
            dist = Lognormal(need("mean"), need("sd"))
        elif family == "weibull":
            dist = Weibull(need("shape"), need("scale"))
        elif family == "uniform":
            dist = Uniform(need("low"), need("high"))
        elif family == "fixed":
            dist = Fixed(need("value"))
        elif family == "empirical":
            if component.x is None or component.cdf is None:
                raise ConfigError(key, "an empirical component needs x and cdf lists")
            dist = Empirical(tuple(float(v) for v in component.x), tuple(float(v) for v in component.cdf))
        else:
            raise ConfigError(
                f"{key}.family",
                f"unknown family '{family}' (expected exponential, lognormal, weibull, uniform, fixed or empirical)",
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
    components, weights = [], []
    for i, component in enumerate(los.components):
        weights.append(probability(f"{key}.components[{i}].weight", component.weight))
        components.append(build_component(f"{key}.components[{i}]", component))
    if abs(sum(weights) - 1.0) > 1e-9:
        raise ConfigError(f"{key}.components", f"weights sum to {sum(weights):g}, not 1")
    return Mixture(tuple(weights), tuple(components))


def build_delay(key: str, los: LosConfig) -> Mixture | None:
    """A delay distribution in days, or None for no delay (no components)."""
    return build_los(key, los) if los.components else None


# ------------------------------------------------------------------------------------------------ pieces


#: Bounds that keep a run's size within what a machine can hold, so a slip of the keyboard (run.years=8000,
#: run.replications=1e12) is one line, not a traceback or an hour of allocating: years a run (with its
#: warm-up) may span, the calendar years it may start in, replications one run may ask for.
MAX_YEARS = 200.0
FIRST_YEAR, LAST_YEAR = 1900, 2200
MAX_REPLICATIONS = 10_000_000


def bounded_years(key: str, value: object, *, minimum: float, strict: bool = False) -> float:
    """A number of years, at most ``MAX_YEARS``."""
    years = number(key, value, minimum=minimum, strict=strict)
    if years > MAX_YEARS:
        raise ConfigError(key, f"{years:g} years is more than a run can span ({MAX_YEARS:g} at most)")
    return years


def build_calendar(run: RunConfig, has_census: bool, warmup: float) -> Calendar:
    """The reported months from ``run.start`` for ``run.years``, and the ``warmup`` years before them
    (checked by ``build_run``; none with a census: the census is the state at the start)."""
    start = parse_month("run.start", run.start)
    if not FIRST_YEAR <= start.year <= LAST_YEAR:
        raise ConfigError("run.start", f"{month_label(start)} must be a month from {FIRST_YEAR} to {LAST_YEAR}")
    years = bounded_years("run.years", run.years, minimum=0.0, strict=True)
    n_months = round(years * 12)
    if n_months < 1 or abs(n_months - years * 12) > 1e-6:
        raise ConfigError("run.years", f"{years:g} years is not a whole number of months (>= 1)")
    if has_census and warmup > 0:
        raise ConfigError("run.warmup_years", "must be 0 when a TCP starts from a census (or a community census)")
    months = [add_months(start, m) for m in range(n_months + 1)]
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
    for i, step in enumerate(steps):
        when = parse_month(f"{key}[{i}].date", step.date)
        if previous is not None and when <= previous:
            raise ConfigError(f"{key}[{i}].date", f"{month_label(when)} is not after {month_label(previous)}")
        beds.append(integer(f"{key}[{i}].beds", step.beds, minimum=0))
        days.append((when - start).days)
        previous = when
    if days[0] > 0:
        raise ConfigError(f"{key}[0].date", f"the schedule must begin on or before run.start ({month_label(start)})")
    return np.array(days, dtype=np.float64), np.array(beds, dtype=np.int64)


def build_trajectory(key: str, tcp: TcpConfig) -> tuple[tuple[str, float], ...]:
    """The TCP's planned inpatients as (YYYY-MM, inpatients at the month's end), months in order."""
    out, previous = [], None
    for i, milestone in enumerate(tcp.trajectory):
        when = parse_month(f"{key}[{i}].date", milestone.date)
        if previous is not None and when <= previous:
            raise ConfigError(f"{key}[{i}].date", f"{month_label(when)} is not after {month_label(previous)}")
        out.append((month_label(when), number(f"{key}[{i}].inpatients", milestone.inpatients, minimum=0.0)))
        previous = when
    return tuple(out)


#: The most a Poisson source may bring over a run (its rate times the run and warm-up): far above a
#: national system's (about 60,000 people a run for England), below what would fill the machine's memory.
MAX_ARRIVALS = 20_000_000


def build_sources(key: str, tcp: TcpConfig, tcp_index: int, span_days: float) -> list[SourceSpec]:
    """The TCP's Poisson sources: crises off the register, register joiners, housing units coming free;
    each may bring at most ``MAX_ARRIVALS`` over the run's ``span_days`` (warm-up included)."""
    keys = {
        "unregistered": (f"{key}.crisis.unregistered_rate", tcp.crisis.unregistered_rate),
        "register_join": (f"{key}.register.join_rate", tcp.register.join_rate),
    }
    for kind, housing in tcp.discharge.housing.items():
        if kind in PLACEMENT_TYPES:
            keys[f"housing_{kind}"] = (f"{key}.discharge.housing.{kind}.supply_rate", housing.supply_rate)
    rates = {}
    for kind, (rate_key, value) in keys.items():
        rates[kind] = number(rate_key, value, minimum=0.0)
        expected = rates[kind] / DAYS_PER_YEAR * span_days
        if expected > MAX_ARRIVALS:
            raise ConfigError(
                rate_key,
                f"{rates[kind]:g} a year brings about {expected:,.0f} over the run, more than a run can hold "
                f"({MAX_ARRIVALS:,} at most)",
            )
    return [
        SourceSpec(
            index=tcp_index * len(SOURCE_KINDS) + k,
            tcp=tcp_index,
            kind=kind,
            rate=rates.get(kind, 0.0) / DAYS_PER_YEAR,
        )
        for k, kind in enumerate(SOURCE_KINDS)
    ]


def build_register(key: str, tcp: TcpConfig) -> RegisterSpec:
    """The dynamic support register: members at the start by RAG, crisis, move, join and leave rates."""
    register = tcp.register
    people = by_name(f"{key}.people", register.people, RAG, "RAG rating", lambda k, v: integer(k, v, minimum=0))
    moves = np.zeros((len(RAG), len(RAG)))
    for rag, targets in register.transitions.items():
        row = RAG.index(rag) if rag in RAG else -1
        if row < 0:
            raise ConfigError(
                f"{key}.transitions.{rag}", f"unknown RAG rating '{rag}' (expected one of {', '.join(RAG)})"
            )
        moves[row] = by_name(f"{key}.transitions.{rag}", targets, RAG, "RAG rating")
        if moves[row, row] > 0:
            raise ConfigError(f"{key}.transitions.{rag}.{rag}", "a RAG rating cannot move to itself")
    join_rate = number(f"{key}.join_rate", register.join_rate, minimum=0.0)
    if join_rate > 0 or register.join_rag:
        join_cum = shares(f"{key}.join_rag", register.join_rag, RAG, "RAG rating")
    else:
        join_cum = np.array([0.0, 0.0, 1.0])
    children = by_name(f"{key}.children", register.children, RAG, "RAG rating", lambda k, v: integer(k, v, minimum=0))
    for g, rag in enumerate(RAG):
        if children[g] > people[g]:
            raise ConfigError(
                f"{key}.children.{rag}", f"{int(children[g])} children but {int(people[g])} {rag} members in all"
            )
    return RegisterSpec(
        people=people.astype(np.int64),
        children=children.astype(np.int64),
        join_child_share=probability(f"{key}.join_child_share", register.join_child_share),
        crisis=by_name(f"{key}.crisis_rate", register.crisis_rate, RAG, "RAG rating") / DAYS_PER_YEAR,
        moves=moves / DAYS_PER_YEAR,
        leave=number(f"{key}.leave_rate", register.leave_rate, minimum=0.0) / DAYS_PER_YEAR,
        join_cum=join_cum,
    )


def build_discharge(key: str, tcp: TcpConfig, start: date) -> DischargeSpec:
    """What a clinically ready inpatient waits for: a placement, housing, funding, a provider."""
    discharge = tcp.discharge
    placement_cum = np.zeros((len(UNIT_TYPES), len(PLACEMENT_TYPES)))
    placement_cum[:, PLACEMENT_TYPES.index("shared") :] = 1.0  # a unit with no mix: shared housing
    for unit, mix in discharge.placement_mix.items():
        placement_cum[unit_index(f"{key}.placement_mix.{unit}", unit)] = shares(
            f"{key}.placement_mix.{unit}", mix, PLACEMENT_TYPES, "placement type"
        )
    housing_units = np.full(len(PLACEMENT_TYPES), -1, dtype=np.int64)
    offer_hold = np.zeros(len(PLACEMENT_TYPES))
    pipeline = []
    for kind, housing in discharge.housing.items():
        if kind not in PLACEMENT_TYPES:
            raise ConfigError(
                f"{key}.housing.{kind}",
                f"unknown placement type '{kind}' (expected one of {', '.join(PLACEMENT_TYPES)})",
            )
        placement = PLACEMENT_TYPES.index(kind)
        housing_units[placement] = integer(f"{key}.housing.{kind}.units", housing.units, minimum=0)
        offer_hold[placement] = (
            number(f"{key}.housing.{kind}.offer_months", housing.offer_months, minimum=0.0) * DAYS_PER_YEAR / 12
        )
        previous = None
        for i, step in enumerate(housing.pipeline):
            step_key = f"{key}.housing.{kind}.pipeline[{i}]"
            when = parse_month(f"{step_key}.date", step.date)
            if previous is not None and when < previous:
                raise ConfigError(f"{step_key}.date", f"{month_label(when)} is before {month_label(previous)}")
            previous = when
            units = integer(f"{step_key}.units", step.units, minimum=0)
            pipeline.append((float((when - start).days), placement, units))
    if discharge.policy not in HOUSING_POLICIES:
        raise ConfigError(
            f"{key}.policy", f"unknown policy '{discharge.policy}' (expected one of {', '.join(HOUSING_POLICIES)})"
        )
    return DischargeSpec(
        return_home=by_name(f"{key}.return_home", discharge.return_home, UNIT_TYPES, "unit type", probability),
        return_home_within=number(f"{key}.return_home_within_years", discharge.return_home_within_years, minimum=0.0)
        * DAYS_PER_YEAR,
        placement_cum=placement_cum,
        housing_units=housing_units,
        offer_hold=offer_hold,
        pipeline=tuple(sorted(pipeline)),
        planning_lead=number(f"{key}.planning_lead_years", discharge.planning_lead_years, minimum=0.0) * DAYS_PER_YEAR,
        provider_lead=build_delay(f"{key}.provider_lead", discharge.provider_lead),
        funding_delay=build_delay(f"{key}.funding_delay", discharge.funding_delay),
        dispute_prob=probability(f"{key}.dispute_prob", discharge.dispute_prob),
        dispute_delay=build_delay(f"{key}.dispute_delay", discharge.dispute_delay),
        policy=HOUSING_POLICIES.index(discharge.policy),
        repatriation=bool(discharge.repatriation),
    )


def build_costs(key: str, tcp: TcpConfig) -> CostSpec:
    """The TCP's costs in pounds a day: beds in and out of area (and the share of an in-area bed's price
    paid whether or not it is occupied), packages in their first months and after."""
    costs = tcp.costs
    bed = by_name(f"{key}.bed_per_year", costs.bed_per_year, UNIT_TYPES, "unit type") / DAYS_PER_YEAR
    fixed = by_name(f"{key}.bed_fixed_share", costs.bed_fixed_share, UNIT_TYPES, "unit type", probability)
    premium = number(f"{key}.out_of_area_premium", costs.out_of_area_premium, minimum=0.0)
    package = (
        by_name(f"{key}.package_per_year", costs.package_per_year, PLACEMENT_TYPES, "placement type") / DAYS_PER_YEAR
    )
    initial = number(f"{key}.initial_premium", costs.initial_premium, minimum=0.0)
    return CostSpec(
        bed=np.stack([bed, bed * (1.0 + premium)], axis=1),
        bed_fixed=fixed,
        package=np.stack([package * (1.0 + initial), package], axis=1),
        initial_days=number(f"{key}.initial_months", costs.initial_months, minimum=0.0) * DAYS_PER_YEAR / 12,
        la_share=probability(f"{key}.package_la_share", costs.package_la_share),
        ctr=number(f"{key}.ctr", costs.ctr, minimum=0.0),
        crisis_support=number(f"{key}.crisis_support_per_year", costs.crisis_support_per_year, minimum=0.0)
        / DAYS_PER_YEAR,
        dowry=number(f"{key}.dowry_per_year", costs.dowry_per_year, minimum=0.0) / DAYS_PER_YEAR,
    )


def transition_age(key: str, tcp: TcpConfig) -> float:
    """The age (years) at which children move to adult services: 0 to 25 (services for young people with
    an education, health and care plan run to 25)."""
    age = number(key, tcp.children.transition_age)
    if not 0.0 <= age <= 25.0:
        raise ConfigError(key, f"{age:g} must be an age from 0 to 25 years")
    return age


def child_span(key: str, tcp: TcpConfig) -> float:
    """Days from the youngest age of a child new to the model to the transition age."""
    transition = transition_age(f"{key}.transition_age", tcp)
    low = number(f"{key}.age_low", tcp.children.age_low, minimum=0.0)
    if low >= transition:
        raise ConfigError(f"{key}.age_low", f"{low:g} must be below the transition age {transition:g}")
    return (transition - low) * DAYS_PER_YEAR


def build_transfers(key: str, tcp: TcpConfig, pool_of_unit: np.ndarray) -> np.ndarray:
    """Steps down and up between adult units (``transfers``) as ``TcpSpec.step_hazards``: each unit's
    rate per person-year spread over its destinations by their shares, per person-day. A step down goes
    to a less secure unit (``SECURITY_ORDER``), a step up to a more secure one, each to a unit the TCP has
    a pool for; CAMHS tier 4 is no step's source or destination (children move at the transition age)."""
    transfers = tcp.transfers
    n = len(UNIT_TYPES)
    hazards = np.zeros((n, len(TRANSFER_KINDS) * n))
    for kind, name in ((STEP_DOWN, "step_down"), (STEP_UP, "step_up")):
        rates = by_name(f"{key}.{name}_rate", getattr(transfers, f"{name}_rate"), UNIT_TYPES, "unit type")
        destinations = getattr(transfers, f"{name}_to")
        for unit in destinations:
            unit_index(f"{key}.{name}_to.{unit}", unit)
        direction = "less" if kind == STEP_DOWN else "more"
        for u, unit in enumerate(UNIT_TYPES):
            to = destinations.get(unit)
            if unit not in SECURITY_ORDER:
                if rates[u] > 0 or to:
                    raise ConfigError(
                        f"{key}.{name}_rate.{unit}" if rates[u] > 0 else f"{key}.{name}_to.{unit}",
                        "CAMHS tier 4 inpatients move to an adult unit only at the transition age "
                        "(children.to_adult_unit)",
                    )
                continue
            if not to:
                if rates[u] > 0:
                    raise ConfigError(
                        f"{key}.{name}_to.{unit}",
                        f"{name}_rate.{unit} is {rates[u]:g} a year but no destinations are given",
                    )
                continue
            share = by_name(f"{key}.{name}_to.{unit}", to, UNIT_TYPES, "unit type", probability)
            if abs(share.sum() - 1.0) > 1e-9:
                raise ConfigError(f"{key}.{name}_to.{unit}", f"shares sum to {share.sum():g}, not 1")
            for v, destination in enumerate(UNIT_TYPES):
                if share[v] == 0:
                    continue
                where = f"{key}.{name}_to.{unit}.{destination}"
                if destination not in SECURITY_ORDER:
                    raise ConfigError(where, "CAMHS tier 4 is for children, not a destination of adults' steps")
                lower = SECURITY_ORDER.index(destination) < SECURITY_ORDER.index(unit)
                if destination == unit or lower != (kind == STEP_DOWN):
                    raise ConfigError(
                        where,
                        f"a {name.replace('_', ' ')} goes to a {direction} secure unit than {unit} "
                        f"(least secure first: {', '.join(SECURITY_ORDER)})",
                    )
                if pool_of_unit[v] < 0:
                    raise ConfigError(where, f"steps go to {destination} but {tcp.name} has no {destination} pool")
                hazards[u, kind * n + v] = rates[u] * share[v] / DAYS_PER_YEAR
    return hazards


def build_tcp(key: str, tcp: TcpConfig, tcp_index: int, pool_of_unit: np.ndarray, start: date, crises: bool) -> TcpSpec:
    """Check one TCP's parameters and build its spec; ``crises`` says whether anyone can be admitted."""
    population = Population(
        adults=integer(f"{key}.population.adults", tcp.population.adults, minimum=1),
        children=integer(f"{key}.population.children", tcp.population.children, minimum=1),
    )
    child_share = probability(f"{key}.crisis.child_share", tcp.crisis.child_share)
    register = build_register(f"{key}.register", tcp)
    to_adult_unit = probability(f"{key}.children.to_adult_unit", tcp.children.to_adult_unit)
    children = child_share > 0 or register.join_child_share > 0 or register.children.sum() > 0
    route = by_name(f"{key}.routing", tcp.routing, UNIT_TYPES, "unit type", probability)
    camhs = UNIT_TYPES.index("camhs_t4")
    if route[camhs] > 0:
        raise ConfigError(
            f"{key}.routing.camhs_t4", "children go to CAMHS tier 4 by crisis.child_share; route adults only"
        )
    if crises:
        if (child_share < 1 or to_adult_unit > 0) and abs(route.sum() - 1.0) > 1e-9:
            raise ConfigError(
                f"{key}.routing", f"shares of adult admissions by unit type sum to {route.sum():g}, not 1"
            )
        needed = list(np.flatnonzero(route > 0)) + ([camhs] if children else [])
        for needed_unit in needed:
            if pool_of_unit[needed_unit] < 0:
                name = UNIT_TYPES[needed_unit]
                raise ConfigError(
                    f"{key}.routing.{name}" if needed_unit != camhs else f"{key}.crisis.child_share",
                    f"admissions go to {name} but {tcp.name} has no {name} pool "
                    "(give it beds with a schedule; 0 beds sends everyone out of area)",
                )
    route_cum = np.cumsum(route)
    if route_cum[-1] > 0:
        route_cum = route_cum / route_cum[-1]
        route_cum[route_cum >= route_cum[-1]] = 1.0
    ctr_interval = np.full(len(UNIT_TYPES), np.inf)
    for unit, months in tcp.ctr.interval_months.items():
        interval_key = f"{key}.ctr.interval_months.{unit}"
        unit_number = unit_index(interval_key, unit)
        every = number(interval_key, months, minimum=0.0)
        ctr_interval[unit_number] = every * DAYS_PER_YEAR / 12 if every > 0 else np.inf
    community = tcp.community
    return TcpSpec(
        index=tcp_index,
        name=tcp.name,
        title=tcp.title or tcp.name,
        population=population,
        register=register,
        child_share=child_share,
        child_span=child_span(f"{key}.children", tcp),
        to_adult_unit=to_adult_unit,
        ctr_coverage=probability(f"{key}.ctr.coverage", tcp.ctr.coverage),
        ctr_avert=probability(f"{key}.ctr.avert", tcp.ctr.avert),
        ctr_first=number(f"{key}.ctr.first_weeks", tcp.ctr.first_weeks, minimum=0.0) * 7.0,
        ctr_interval=ctr_interval,
        ctr_ready=probability(f"{key}.ctr.ready_prob", tcp.ctr.ready_prob),
        ctr_ready_long=probability(f"{key}.ctr.ready_prob_long", tcp.ctr.ready_prob_long),
        ctr_long_stay=(
            math.inf
            if tcp.ctr.long_stay_years is None
            else number(f"{key}.ctr.long_stay_years", tcp.ctr.long_stay_years, minimum=0.0) * DAYS_PER_YEAR
        ),
        support_places=integer(f"{key}.crisis_support.places", tcp.crisis_support.places, minimum=0),
        support_length=build_delay(f"{key}.crisis_support.length", tcp.crisis_support.length),
        route_cum=route_cum,
        ooa_need=by_name(f"{key}.out_of_area_need", tcp.out_of_area_need, UNIT_TYPES, "unit type", probability),
        pool_of_unit=pool_of_unit,
        discharge=build_discharge(f"{key}.discharge", tcp, start),
        breakdown_first=number(
            f"{key}.community.breakdown_rate_first_year", community.breakdown_rate_first_year, minimum=0.0
        )
        / DAYS_PER_YEAR,
        breakdown_after=number(f"{key}.community.breakdown_rate_after", community.breakdown_rate_after, minimum=0.0)
        / DAYS_PER_YEAR,
        settle=(
            math.inf
            if community.settle_years is None
            else number(f"{key}.community.settle_years", community.settle_years, minimum=0.0) * DAYS_PER_YEAR
        ),
        settled_exit=np.array(
            [
                number(f"{key}.community.settled_{name}_rate", getattr(community, f"settled_{name}_rate"), minimum=0.0)
                for name in ("leave", "register")
            ]
        )
        / DAYS_PER_YEAR,
        community_death=number(f"{key}.community.death_rate", community.death_rate, minimum=0.0) / DAYS_PER_YEAR,
        hospital_death=number(f"{key}.community.hospital_death_rate", community.hospital_death_rate, minimum=0.0)
        / DAYS_PER_YEAR,
        costs=build_costs(f"{key}.costs", tcp),
        trajectory=build_trajectory(f"{key}.trajectory", tcp),
        step_hazards=build_transfers(f"{key}.transfers", tcp, pool_of_unit),
    )


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
    members = [names[index] for index in tcps]
    units = tuple(sorted({unit_index(f"{key}.units", unit) for unit in pb.units}))
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
        out_of_area_release=probability(f"{key}.out_of_area_release", pb.out_of_area_release),
        cap_factor=number(f"{key}.cap_factor", pb.cap_factor, minimum=0.0),
        extra_per_day=number(f"{key}.extra_per_year", pb.extra_per_year, minimum=0.0) / DAYS_PER_YEAR,
        balanced_plan=bool(pb.balanced_plan),
        shortfall_la_share=probability(f"{key}.shortfall_la_share", pb.shortfall_la_share),
        nhse_uplift=number(f"{key}.nhse_uplift", pb.nhse_uplift, minimum=-1.0, strict=True),
        initial_reserve=number(f"{key}.initial_reserve", pb.initial_reserve, minimum=0.0),
    )


# -------------------------------------------------------------------------------------------- the system


@dataclass
class _PoolDraft:
    """A bed pool before its index is final: shared pools come first, then each TCP's own."""

    name: str
    unit: int
    tcps: list[int]
    schedule: tuple[np.ndarray, np.ndarray]  # (day from start, beds)
    los: Mixture
    cost: tuple[float, float] | None = None  # a shared pool's (pounds a bed-day, fixed share); None: its TCP's
    wait_days: float = 0.0  # the "or wait" policy (wait_months, in days)


def wait_days(key: str, months: Any) -> float:
    """The "or wait" policy of a pool: how long someone in crisis waits in the community for an in-area
    bed when all are full, in days from its ``wait_months`` (0: out of area at once)."""
    return number(key, months, minimum=0.0) * DAYS_PER_YEAR / 12


#: A name that becomes part of a path (the run directory is named by TCP or system and scenario).
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def safe_name(key: str, name: str) -> str:
    """``name`` if it is letters, digits, _ and - (at most 64, not starting with _ or -), else a ConfigError:
    ``tcp.name=../../../x`` wrote a run outside outputs/, and an empty name a directory named ``_baseline``."""
    if not SAFE_NAME.fullmatch(str(name)):
        raise ConfigError(key, f"'{name}' must be 1 to 64 letters, digits, _ or -, starting with a letter or digit")
    return str(name)


def _tcp_names(tcps: list[tuple[str, TcpConfig]]) -> list[str]:
    """The TCPs' names in order, each used once (results and shared pools name TCPs by them)."""
    names = [safe_name(f"{key}.name", tcp.name) for key, tcp in tcps]
    for (key, _), name in zip(tcps, names):
        if names.count(name) > 1:
            raise ConfigError(f"{key}.name", f"TCP name '{name}' is used twice")
    return names


def _shared_pools(
    shared: list[SharedPoolConfig], names: list[str], start: date
) -> tuple[list[_PoolDraft], dict[tuple[int, int], int]]:
    """The system's shared pools, and which pool holds each (TCP index, unit index) they cover: a shared
    pool replaces each listed TCP's own pool of its unit type, and a TCP's unit is in one pool at most."""
    drafts: list[_PoolDraft] = []
    shared_pool_of: dict[tuple[int, int], int] = {}
    for i, pool in enumerate(shared):
        key = f"system.shared_pools[{i}]"
        unit = unit_index(f"{key}.unit", pool.unit)
        members = []
        for name in pool.tcps:
            if name not in names:
                raise ConfigError(f"{key}.tcps", f"unknown TCP '{name}' (the system has {', '.join(names)})")
            tcp_index = names.index(name)
            if (tcp_index, unit) in shared_pool_of:
                raise ConfigError(f"{key}.tcps", f"{name}'s {pool.unit} beds are already in another shared pool")
            shared_pool_of[(tcp_index, unit)] = len(drafts)
            members.append(tcp_index)
        if not members:
            raise ConfigError(f"{key}.tcps", "a shared pool needs at least one TCP")
        drafts.append(
            _PoolDraft(
                pool.name,
                unit,
                members,
                build_schedule(f"{key}.schedule", pool.schedule, start),
                build_los(f"{key}.los", pool.los),
                (
                    number(f"{key}.bed_per_year", pool.bed_per_year, minimum=0.0) / DAYS_PER_YEAR,
                    probability(f"{key}.bed_fixed_share", pool.bed_fixed_share),
                ),
                wait_days(f"{key}.wait_months", pool.wait_months),
            )
        )
    return drafts, shared_pool_of


def _own_pools(
    key: str,
    tcp: TcpConfig,
    tcp_index: int,
    shared_pool_of: dict[tuple[int, int], int],
    first_pool: int,
    start: date,
) -> tuple[np.ndarray, list[_PoolDraft]]:
    """A TCP's own pools (those of its unit types no shared pool covers), numbered from ``first_pool``,
    and the pool index of each of its unit types (-1 where it has none)."""
    pool_of_unit = np.full(len(UNIT_TYPES), -1, dtype=np.int64)
    drafts: list[_PoolDraft] = []
    for unit_name, pool in tcp.beds.items():
        unit = unit_index(f"{key}.beds.{unit_name}", unit_name)
        if (tcp_index, unit) in shared_pool_of:
            continue
        pool_of_unit[unit] = first_pool + len(drafts)
        drafts.append(
            _PoolDraft(
                f"{tcp.name}_{unit_name}",
                unit,
                [tcp_index],
                build_schedule(f"{key}.beds.{unit_name}.schedule", pool.schedule, start),
                build_los(f"{key}.beds.{unit_name}.los", pool.los),
                wait_days=wait_days(f"{key}.beds.{unit_name}.wait_months", pool.wait_months),
            )
        )
    for (member, unit), pool_index in shared_pool_of.items():
        if member == tcp_index:
            pool_of_unit[unit] = pool_index
    return pool_of_unit, drafts


def _can_be_admitted(tcp: TcpConfig, sources: list[SourceSpec]) -> bool:
    """Whether anyone can reach a TCP's beds: a crisis source with a rate, or people on its register."""
    crisis_sources = any(source.rate > 0 for source in sources if not source.kind.startswith("housing_"))
    return crisis_sources or any(people > 0 for people in tcp.register.people.values())


def _census_rows(
    key: str, tcp: TcpConfig, pool_of_unit: np.ndarray, drafts: list[_PoolDraft], start: date, transition: float
) -> tuple[str, str, list[CensusRow]]:
    """A TCP's start census rows, from its ``census`` (one row a person) or ``census_counts`` (counts by
    band, drawn into rows with each unit's length of stay), with the key and file name messages name."""
    if tcp.census and tcp.census_counts:
        raise ConfigError(f"{key}.census_counts", "give census (one row a person) or census_counts, not both")
    if tcp.census_counts:
        path = census_path(tcp.census_counts)
        counts = read_census_counts(f"{key}.census_counts", path, transition)

        def survival_of(unit: int) -> Callable[[np.ndarray], np.ndarray] | None:
            return drafts[pool_of_unit[unit]].los.survivals if pool_of_unit[unit] >= 0 else None

        return f"{key}.census_counts", path.name, census_from_counts(f"{key}.census_counts", counts, survival_of)
    if tcp.census:
        path = census_path(tcp.census)
        return f"{key}.census", path.name, read_census(f"{key}.census", path, start)
    return f"{key}.census", "", []


def _census_people(
    key: str, tcp: TcpConfig, tcp_index: int, pool_of_unit: np.ndarray, drafts: list[_PoolDraft], start: date
) -> list[CensusPerson]:
    """A TCP's start census (none without a ``census`` or ``census_counts`` file); each inpatient's unit
    needs a pool, whose length of stay gives the rest of their stay."""
    transition = transition_age(f"{key}.children.transition_age", tcp)
    census_key, name, rows = _census_rows(key, tcp, pool_of_unit, drafts, start, transition)
    people = []
    for c in rows:
        where = f"{name} row {c.row + 1}"
        if pool_of_unit[c.unit] < 0:
            raise ConfigError(
                census_key,
                f"{where}: {tcp.name} has no {UNIT_TYPES[c.unit]} pool for this inpatient's length of stay",
            )
        child = c.unit == UNIT_TYPES.index("camhs_t4")
        if child and c.age >= transition:
            raise ConfigError(census_key, f"{where}: a CAMHS tier 4 inpatient aged {c.age:g}, not under {transition:g}")
        if not child and c.age < transition:
            raise ConfigError(
                census_key,
                f"{where}: aged {c.age:g} in {UNIT_TYPES[c.unit]}; children (under {transition:g}) are in camhs_t4",
            )
        adult_in = ((transition - c.age) * DAYS_PER_YEAR if not math.isnan(c.age) else -1.0) if child else math.inf
        people.append(
            CensusPerson(
                tcp=tcp_index,
                row=c.row,
                unit=c.unit,
                area=c.area,
                elapsed=c.elapsed,
                by_need=c.by_need,
                adult_in=adult_in,
                ready_at=-c.ready_days if c.delayed_for >= 0 else math.inf,
                delayed_for=c.delayed_for,
            )
        )
    return people


def _community_people(key: str, tcp: TcpConfig, tcp_index: int, start: date) -> list[CommunityPerson]:
    """A TCP's community cohort at the start (none without a ``community_census`` file): each row's
    placement, the bed it left, the days since, and a dowry after a stay of 5+ years (as a discharge)."""
    if not tcp.community_census:
        return []
    rows = read_community_census(f"{key}.community_census", census_path(tcp.community_census), start)
    return [
        CommunityPerson(
            tcp=tcp_index,
            row=c.row,
            kind=c.kind,
            unit=c.unit,
            area=c.area,
            elapsed=c.elapsed,
            dowry_unit=c.unit if c.stay >= LONG_STAY_DAYS else -1,  # NaN (no admission date): no dowry
        )
        for c in rows
    ]


def _pool_cost(draft: _PoolDraft, index: int, tcps: list[TcpSpec]) -> tuple[float, float]:
    """A pool's price of an occupied bed-day and its fixed share: a TCP's own pool has the TCP's for the
    unit; a shared pool its own, which must be given if its TCPs pay for beds of the unit (else its beds
    would be free and the run would not say so)."""
    if draft.cost is None:
        costs = tcps[draft.tcps[0]].costs
        return float(costs.bed[draft.unit, IN_AREA]), float(costs.bed_fixed[draft.unit])
    rate, share = draft.cost
    priced = [t for t in draft.tcps if tcps[t].costs.bed[draft.unit, IN_AREA] > 0]
    if rate == 0 and priced:
        name, unit = tcps[priced[0]].name, UNIT_TYPES[draft.unit]
        raise ConfigError(
            f"system.shared_pools[{index}].bed_per_year",
            f"0, but {name} pays for {unit} beds: give the shared pool's price of a bed a year",
        )
    return rate, share


def _pools(drafts: list[_PoolDraft], close_occupied: bool, tcps: list[TcpSpec]) -> tuple[PoolSpec, ...]:
    """The pools in their final order, each name used once, each with what its beds cost."""
    pools = []
    for index, draft in enumerate(drafts):
        rate, share = _pool_cost(draft, index, tcps)
        pools.append(
            PoolSpec(
                index=index,
                name=draft.name,
                unit=draft.unit,
                tcps=tuple(draft.tcps),
                step_days=draft.schedule[0],
                step_beds=draft.schedule[1],
                los=draft.los,
                close_occupied=close_occupied,
                bed_per_day=rate,
                fixed_share=share,
                wait_days=draft.wait_days,
            )
        )
    pool_names = [pool.name for pool in pools]
    for pool in pools:
        if pool_names.count(pool.name) > 1:
            raise ConfigError("system.shared_pools", f"pool name '{pool.name}' is used twice")
    return tuple(pools)


def fit_census(
    census: list[CensusPerson], tcps: list[TcpSpec], pools: tuple[PoolSpec, ...]
) -> tuple[list[CensusPerson], tuple[str, ...]]:
    """The start census with no pool over its beds at the start, and a note for each pool that was.

    A census may hold more in-area inpatients of a pool than the beds it opens with (a capacity sweep
    below today's beds, a plan that closes beds before the census month). The surplus starts out of area
    for want of a bed, as they would have been placed had the beds been that few: the most recently
    admitted (shortest stay so far; of equal stays the later row) move to an out-of-area bed of the same
    unit, and a repatriation brings them back as in-area beds free (if the TCP repatriates). Done on the
    spec, so both engines start from the same state."""
    rows: list[list[int]] = [[] for _ in pools]
    for i, person in enumerate(census):
        if person.area == IN_AREA:
            rows[tcps[person.tcp].pool_of_unit[person.unit]].append(i)
    out = list(census)
    notes = []
    for pool in pools:
        beds, held = pool.beds_at(0.0), rows[pool.index]
        if len(held) <= beds:
            continue
        newest = sorted(held, key=lambda i: (census[i].elapsed, -i))[: len(held) - beds]
        for i in newest:
            out[i] = dataclasses.replace(census[i], area=OUT_OF_AREA, by_need=False)
        notes.append(
            f"the start census holds {len(held)} {UNIT_TYPES[pool.unit]} inpatients in area, more than the "
            f"{beds} beds of {pool.name}: {len(newest)} start out of area"
        )
    return out, tuple(notes)


#: Scenarios that compare a system's shared bed pools with its TCPs' own: on one TCP they change nothing,
#: and a run would be reported as an answer to their question. Each with the shipped system they are for.
POOL_SCENARIOS = {"hub_pooling": "south_east_hub", "separate_pools": "south_east_hub"}


def _pool_scenario(cfg: Config) -> None:
    """Refuse a pooling scenario on a config with no pool shared by TCPs to pool or separate."""
    name = cfg.scenario.name
    if name not in POOL_SCENARIOS:
        return
    shared = bool(cfg.system.shared_pools) or name == "separate_pools"  # separate_pools has emptied them
    if not cfg.system.tcps or not shared:
        what = f"tcp={cfg.tcp.name}" if cfg.tcp is not None and not cfg.system.tcps else f"system={cfg.system.name}"
        raise ConfigError(
            "scenario",
            f"{name} compares shared bed pools with each TCP's own, and {what} has no pool shared by TCPs: "
            f"it needs system={POOL_SCENARIOS[name]} (or a system of yours with shared_pools)",
        )


def build_system(cfg: Config, settings: RunSpec) -> SystemSpec:
    """Validate the system a config describes (its TCPs, pools, census, calendar, after the scenario's
    changes) and build the spec the engines run, with the run settings ``build_run`` checked. Pools are
    numbered shared pools first, then each TCP's own in TCP order; sources by TCP then kind: the numbering
    the random streams are keyed on."""
    run = cfg.run
    safe_name("scenario.name", cfg.scenario.name)
    if cfg.system.tcps:
        safe_name("system.name", cfg.system.name)
    _pool_scenario(cfg)
    cfg = apply_scenario(cfg)
    tcp_cfgs = tcp_configs(cfg)
    names = _tcp_names(tcp_cfgs)
    has_census = any(tcp.census or tcp.census_counts or tcp.community_census for _, tcp in tcp_cfgs)
    calendar = build_calendar(run, has_census, settings.warmup_years)
    start = calendar.start

    drafts, shared_pool_of = _shared_pools(cfg.system.shared_pools, names, start)
    tcps: list[TcpSpec] = []
    sources: list[SourceSpec] = []
    census: list[CensusPerson] = []
    community: list[CommunityPerson] = []
    for tcp_index, (key, tcp) in enumerate(tcp_cfgs):
        pool_of_unit, own = _own_pools(key, tcp, tcp_index, shared_pool_of, len(drafts), start)
        drafts.extend(own)
        tcp_sources = build_sources(key, tcp, tcp_index, calendar.horizon + calendar.warmup_days)
        tcps.append(build_tcp(key, tcp, tcp_index, pool_of_unit, start, _can_be_admitted(tcp, tcp_sources)))
        sources.extend(tcp_sources)
        census.extend(_census_people(key, tcp, tcp_index, pool_of_unit, drafts, start))
        community.extend(_community_people(key, tcp, tcp_index, start))

    pools = _pools(drafts, bool(cfg.scenario.close_occupied), tcps)
    census, notes = fit_census(census, tcps, pools)
    return SystemSpec(
        name=cfg.system.name if cfg.system.tcps else tcps[0].name,
        system_title=cfg.system.title,
        scenario=cfg.scenario.name,
        tcps=tuple(tcps),
        pools=pools,
        sources=tuple(sources),
        census=tuple(census),
        calendar=calendar,
        seed=settings.seed,
        tcp_metrics=flag("run.tcp_metrics", run.tcp_metrics),
        pooled_budget=build_pooled_budget(cfg.system.pooled_budget, names),
        community=tuple(community),
        notes=notes,
    )


def unknown_keys(node: Any, path: str = "") -> None:
    """Refuse a key the schema does not have: Hydra's ``+key=value`` adds one to a structured config
    without a word (``+tcp.crisis.unregistred_rate=3`` left the real rate at 17)."""
    if OmegaConf.is_config(node) and node._is_none():
        return
    if not isinstance(node, DictConfig):
        if OmegaConf.is_list(node):
            for i, item in enumerate(node):
                unknown_keys(item, f"{path}[{i}]")
        return
    kind = OmegaConf.get_type(node)
    fields = getattr(kind, "__dataclass_fields__", None)
    for key in node:
        name = f"{path}.{key!s}" if path else str(key)
        if fields is not None and key not in fields:
            raise ConfigError(name, f"unknown key (known: {', '.join(fields)})")
        value = node._get_node(key)
        if isinstance(value, DictConfig) or OmegaConf.is_list(value):
            unknown_keys(value, name)


def _as_config(cfg: DictConfig | Config) -> Config:
    """A composed config as the schema's dataclasses (what the builders read)."""
    if isinstance(cfg, DictConfig):
        unknown_keys(cfg)
        cfg = OmegaConf.to_object(cfg)  # type: ignore[assignment]
    assert isinstance(cfg, Config)
    return cfg


def build(cfg: DictConfig | Config) -> Built:
    """Validate a composed config and build both the system the engines run and the run settings.
    The run settings are checked first, so a bad ``run.*`` key is reported before any TCP's."""
    cfg = _as_config(cfg)
    settings = build_run(cfg.run)
    return Built(system=build_system(cfg, settings), run=settings)


def build_spec(cfg: DictConfig | Config) -> SystemSpec:
    """Validate a composed config and build the system the engines run (``build(cfg).system``)."""
    return build(cfg).system
