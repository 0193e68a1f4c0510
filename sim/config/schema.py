"""The configuration schema: what a TCP, a system of TCPs, a scenario and a run are made of.

These dataclasses are registered in Hydra's ConfigStore (see ``sim.config.store``), so every YAML file in
``configs/`` is type-checked against them when it is composed. They hold parameters only, no behaviour:
``sim.config.validate`` checks the values and builds the runtime objects the model needs.

Units used throughout the config: times in **years** (lengths of stay, run length), rates **per year**,
dates as ``YYYY-MM`` (a month; a schedule step takes effect at the start of its month, a trajectory
milestone is read at the end of its month), money in pounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional

from omegaconf import MISSING

#: Unit types a bed pool can hold (DESIGN.md section 2).
UNIT_TYPES: tuple[str, ...] = ("atu", "low_secure", "medium_secure", "camhs_t4")

#: Who commissions a bed of each unit type: CCGs commission non-secure beds, NHS England specialised
#: commissioning secure beds and CAMHS tier 4 (PARAMETERS.md glossary).
COMMISSIONER_OF_UNIT: dict[str, str] = {
    "atu": "ccg",
    "low_secure": "specialised",
    "medium_secure": "specialised",
    "camhs_t4": "specialised",
}
COMMISSIONERS: tuple[str, ...] = ("ccg", "specialised")

#: RAG ratings of the dynamic support register, most urgent first.
RAG: tuple[str, ...] = ("red", "amber", "green")


@dataclass
class ComponentConfig:
    """One component of a length-of-stay mixture. Which fields apply depends on ``family``:
    exponential (mean), lognormal (mean, sd), weibull (shape, scale), uniform (low, high), fixed (value),
    empirical (x, cdf: a piecewise-linear CDF through the points). Times in years."""

    family: str = "lognormal"
    weight: float = 1.0
    mean: Optional[float] = None
    sd: Optional[float] = None
    shape: Optional[float] = None
    scale: Optional[float] = None
    low: Optional[float] = None
    high: Optional[float] = None
    value: Optional[float] = None
    x: Optional[List[float]] = None
    cdf: Optional[List[float]] = None


@dataclass
class LosConfig:
    """Length of stay of one admission (time to clinical readiness), a finite mixture in years."""

    components: List[ComponentConfig] = field(default_factory=list)


@dataclass
class StepConfig:
    """From the start of month ``date`` the pool has ``beds`` in-area beds (until the next step)."""

    date: str = MISSING
    beds: int = MISSING


@dataclass
class PoolConfig:
    """A TCP's own in-area bed pool of one unit type."""

    schedule: List[StepConfig] = field(default_factory=list)
    los: LosConfig = field(default_factory=LosConfig)


@dataclass
class SharedPoolConfig:
    """A bed pool shared by several TCPs (e.g. a hub's secure beds). It replaces each listed TCP's own
    pool of the same unit type."""

    name: str = MISSING
    unit: str = MISSING
    tcps: List[str] = field(default_factory=list)
    schedule: List[StepConfig] = field(default_factory=list)
    los: LosConfig = field(default_factory=LosConfig)


@dataclass
class RegisterGroupConfig:
    """People on the dynamic support register with one RAG rating, and their crisis rate."""

    people: int = 0
    crisis_rate: float = 0.0  # crises per person per year


@dataclass
class CrisisConfig:
    """Where crises come from (Poisson sources for now): register members by RAG, and people not on
    the register (registers are incomplete)."""

    unregistered_rate: float = 0.0  # crises per year among people not on the register
    register: Dict[str, RegisterGroupConfig] = field(default_factory=dict)


@dataclass
class MilestoneConfig:
    """A planned trajectory point: at most ``inpatients`` at the end of month ``date``."""

    date: str = MISSING
    inpatients: float = MISSING


@dataclass
class TcpConfig:
    """One Transforming Care Partnership: population, crises, routing, beds, plan and start census."""

    name: str = MISSING
    title: str = ""
    population: int = MISSING  # GP-registered population, for the rate per million
    crisis: CrisisConfig = field(default_factory=CrisisConfig)
    routing: Dict[str, float] = field(default_factory=dict)  # unit type -> share of admissions
    out_of_area_need: Dict[str, float] = field(default_factory=dict)  # unit -> share placed OOA by need
    beds: Dict[str, PoolConfig] = field(default_factory=dict)  # unit type -> this TCP's in-area pool
    trajectory: List[MilestoneConfig] = field(default_factory=list)
    census: Optional[str] = None  # CSV of current inpatients (path relative to configs/), or empty start


@dataclass
class SystemConfig:
    """One or more TCPs and their bed pools. With no ``tcps`` the system is the single TCP chosen by
    ``tcp=``; a system file that lists its own TCPs removes that choice."""

    name: str = "single"
    tcps: Dict[str, TcpConfig] = field(default_factory=dict)
    shared_pools: List[SharedPoolConfig] = field(default_factory=list)


@dataclass
class ScenarioConfig:
    """A what-if: its name and the question it asks. Scenario files change other keys globally."""

    name: str = "baseline"
    question: str = ""


@dataclass
class RunConfig:
    """How to run: Monte Carlo size, seed, horizon, engine and workers."""

    replications: int = 1000
    seed: int = 20160401
    years: float = 3.0  # reported horizon, from the first month ``start``
    start: str = "2016-04"  # first reported month
    warmup_years: float = 0.0  # simulated before ``start`` from empty, left out of the results
    engine: str = "simpy"
    workers: int = 1  # processes; results do not depend on it
    chunk_size: int = 100  # replications per chunk written to Parquet
    progress: bool = True
    event_log: bool = False  # also write a per-person event log (simpy engine)


@dataclass
class Config:
    """The whole composed configuration (configs/config.yaml)."""

    run: RunConfig = field(default_factory=RunConfig)
    tcp: Optional[TcpConfig] = None
    system: SystemConfig = field(default_factory=SystemConfig)
    scenario: ScenarioConfig = field(default_factory=ScenarioConfig)
