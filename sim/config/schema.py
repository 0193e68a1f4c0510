"""The configuration schema: what a TCP, a system of TCPs, a scenario and a run are made of.

These dataclasses are registered in Hydra's ConfigStore (see ``sim.config.store``), so every YAML file in
``configs/`` is type-checked against them when it is composed. They hold parameters only, no behaviour:
``sim.config.build`` checks the values and builds the runtime objects the model needs.

Units used throughout the config: times in **years** (lengths of stay, run length), rates **per year**,
dates as ``YYYY-MM`` (a month; a schedule step takes effect at the start of its month, a trajectory
milestone is read at the end of its month), money in pounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Union

from omegaconf import MISSING

# The names a config may use are the pathway's (sim/pathway.py), importable from here too.
from sim.pathway import (  # noqa: F401
    COMMISSIONER_OF_UNIT,
    COMMISSIONERS,
    DELAY_REASONS,
    HOUSING_POLICIES,
    PAYERS,
    PLACEMENT_TYPES,
    RAG,
    UNIT_TYPES,
)


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
    # the "or wait" policy: with the beds full, a person in crisis waits in the community (in a crisis-
    # support place if one is free) up to this many months for an in-area bed before going out of area;
    # 0: out of area at once
    wait_months: float = 0.0


@dataclass
class SharedPoolConfig:
    """A bed pool shared by several TCPs (e.g. a hub's secure beds). It replaces each listed TCP's own
    pool of the same unit type."""

    name: str = MISSING
    unit: str = MISSING
    tcps: List[str] = field(default_factory=list)
    schedule: List[StepConfig] = field(default_factory=list)
    los: LosConfig = field(default_factory=LosConfig)
    # the pool's beds are paid at its own price, whichever TCP fills them (as costs.bed_per_year and
    # costs.bed_fixed_share of a TCP's own pool); the TCPs' own prices still set their out-of-area beds'
    bed_per_year: float = 0.0  # an in-area bed a year, pounds
    bed_fixed_share: float = 0.0  # share of that paid for each day the bed is open, occupied or not
    wait_months: float = 0.0  # the "or wait" policy, as a TCP's own pool's (beds.<unit>.wait_months)


@dataclass
class RegisterConfig:
    """The dynamic support (at-risk-of-admission) register: its members at the start by RAG, their crisis
    rates, RAG moves (a continuous-time Markov chain), joining and leaving."""

    people: Dict[str, int] = field(default_factory=dict)  # RAG -> members at the start
    children: Dict[str, int] = field(default_factory=dict)  # RAG -> how many of those members are children
    crisis_rate: Dict[str, float] = field(default_factory=dict)  # RAG -> crises per person per year
    transitions: Dict[str, Dict[str, float]] = field(default_factory=dict)  # RAG -> RAG -> moves per person-year
    join_rate: float = 0.0  # new members a year (referrals, children moving to adult services)
    join_rag: Dict[str, float] = field(default_factory=dict)  # RAG of a new member -> share
    join_child_share: float = 0.0  # share of new members who are children
    leave_rate: float = 0.0  # per person-year: moved away, no longer at risk, or died


@dataclass
class CrisisConfig:
    """Crises among people not on the register (registers are incomplete), a Poisson source."""

    unregistered_rate: float = 0.0  # crises per year
    child_share: float = 0.0  # share of these people who are children (routed to CAMHS tier 4)


@dataclass
class ChildrenConfig:
    """Children (under the transition age): their age when the model meets them, and what happens when
    they reach the transition age (they move to adult services)."""

    transition_age: float = 18.0  # years: children move to adult services at this age
    age_low: float = 12.0  # children new to the model (and census rows with no age) are aged uniformly from this
    to_adult_unit: float = 0.5  # CAMHS tier 4 inpatients not ready at the transition age: share moved to an adult unit


@dataclass
class TransfersConfig:
    """Moves between adult units during a stay, counted apart from admissions (the national statistics
    count first admissions, readmissions and transfers apart): a step down from secure care to a less
    secure unit when the person is ready for it, a step up to a more secure one on deterioration. Each is
    a hazard per person-year while the person is in the unit and not yet ready for discharge, competing
    with readiness, death and the next inpatient CTR; the destination is drawn by the shares."""

    step_down_rate: Dict[str, float] = field(default_factory=dict)  # unit -> steps down per person-year
    step_down_to: Dict[str, Dict[str, float]] = field(default_factory=dict)  # unit -> less secure unit -> share
    step_up_rate: Dict[str, float] = field(default_factory=dict)  # unit -> steps up per person-year
    step_up_to: Dict[str, Dict[str, float]] = field(default_factory=dict)  # unit -> more secure unit -> share


@dataclass
class CtrConfig:
    """Care and Treatment Reviews: pre-admission (community or blue-light) and during a stay."""

    coverage: float = 0.0  # probability that a crisis gets a pre-admission CTR
    avert: float = 0.0  # probability that a CTR with a free crisis-support place averts the admission
    first_weeks: float = 4.0  # post-admission CTR this many weeks after admission
    interval_months: Dict[str, float] = field(default_factory=dict)  # unit -> months between inpatient CTRs
    ready_prob: float = 0.0  # probability that an inpatient CTR finds the person ready for discharge
    long_stay_years: Optional[float] = None  # from this stay so far on, CTRs find people ready with ready_prob_long
    ready_prob_long: float = 0.0  # (none: ready_prob throughout)


@dataclass
class CrisisSupportConfig:
    """Intensive community support / crisis respite for a crisis that a CTR diverted (capacity-limited)."""

    places: int = 0
    length: LosConfig = field(default_factory=LosConfig)  # years


@dataclass
class PipelineConfig:
    """``units`` new housing units of a type become available from the start of month ``date``."""

    date: str = MISSING
    units: int = MISSING


@dataclass
class HousingConfig:
    """Housing units of one placement type for the TCP's cohort: free at the start, a steady supply, and
    a dated pipeline of new developments."""

    units: int = 0  # held for the cohort from the start (void or commissioned units): they never lapse
    supply_rate: float = 0.0  # units a year coming free in the local market (turnover, providers), Poisson
    offer_months: float = 3.0  # a market unit nobody waiting takes is offered this long, then let elsewhere
    pipeline: List[PipelineConfig] = field(default_factory=list)  # commissioned for the cohort: never lapse


@dataclass
class DischargeConfig:
    """Where a clinically ready person goes and what they wait for. A share of short stays return to the
    home they came from (back on the register, rated amber) with no wait; the others need a community
    placement: a housing unit of their placement type, a provider and a funding decision (with a chance
    of an S117 responsible-commissioner dispute)."""

    return_home: Dict[str, float] = field(default_factory=dict)  # unit -> share of ready inpatients going home
    return_home_within_years: float = 1.0  # only stays shorter than this can return to the previous home
    placement_mix: Dict[str, Dict[str, float]] = field(default_factory=dict)  # unit -> placement type -> share
    housing: Dict[str, HousingConfig] = field(default_factory=dict)  # placement type -> units
    planning_lead_years: float = 0.0  # provider and funding work starts this long before expected readiness
    provider_lead: LosConfig = field(default_factory=LosConfig)  # years from the planning point
    funding_delay: LosConfig = field(default_factory=LosConfig)  # years from the planning point
    dispute_prob: float = 0.0
    dispute_delay: LosConfig = field(default_factory=LosConfig)  # years added by a dispute
    policy: str = "fifo"  # who gets the next housing unit: fifo (first ready) or longest_stay
    repatriation: bool = False  # out-of-area inpatients move to a freed in-area bed


@dataclass
class CommunityConfig:
    """Life in a community placement: breakdown (a crisis) highest in the first year, and deaths."""

    breakdown_rate_first_year: float = 0.0  # per person-year in the first year after discharge
    breakdown_rate_after: float = 0.0  # per person-year after that
    settle_years: Optional[float] = None  # a placement this long without a breakdown is settled (none: never)
    settled_leave_rate: float = 0.0  # per person-year once settled: leaving the at-risk pathway
    settled_register_rate: float = 0.0  # per person-year once settled: back on the register, rated green
    death_rate: float = 0.0  # per person-year in a placement
    hospital_death_rate: float = 0.0  # per person-year in hospital


@dataclass
class CostConfig:
    """Costs in pounds: a year of a bed or package, or one CTR. Who pays: beds the unit's commissioner;
    packages CCG and local authority (``package_la_share``); crisis support and pre-admission CTRs the
    CCG; inpatient CTRs the bed's commissioner; dowries NHS to the local authority."""

    bed_per_year: Dict[str, float] = field(default_factory=dict)  # unit -> in-area bed a year
    # unit -> share of an in-area bed's yearly price paid for each day it is open, occupied or not (the
    # rest for each occupied day, so a bed occupied all year costs bed_per_year); 0: paid only when occupied
    bed_fixed_share: Dict[str, float] = field(default_factory=dict)
    out_of_area_premium: float = 0.0  # an out-of-area bed costs (1 + premium) times as much
    package_per_year: Dict[str, float] = field(default_factory=dict)  # placement type -> a year
    initial_months: float = 0.0  # months after discharge at the higher initial cost
    initial_premium: float = 0.0  # the initial months cost (1 + premium) times as much
    package_la_share: float = 0.5  # local authority's share of package costs; the CCG pays the rest
    ctr: float = 0.0  # one CTR
    crisis_support_per_year: float = 0.0  # a crisis-support place a year
    dowry_per_year: float = 0.0  # paid to the local authority for each person discharged after 5+ years


@dataclass
class MilestoneConfig:
    """A planned trajectory point: at most ``inpatients`` at the end of month ``date``."""

    date: str = MISSING
    inpatients: float = MISSING


@dataclass
class PopulationConfig:
    """A TCP's GP-registered population by age: the denominators of the rates per million, stated as the
    national targets are (adult inpatients per million adults, children's per million children)."""

    adults: int = MISSING  # aged 18 and over: for adult inpatients (every unit type but CAMHS tier 4)
    children: int = MISSING  # under 18: for CAMHS tier 4 inpatients


@dataclass
class TcpConfig:
    """One Transforming Care Partnership: population, register, crises, CTRs, routing, beds, discharge,
    community, costs, plan and start census."""

    name: str = MISSING
    title: str = ""
    population: PopulationConfig = field(default_factory=PopulationConfig)  # adults and children
    register: RegisterConfig = field(default_factory=RegisterConfig)
    crisis: CrisisConfig = field(default_factory=CrisisConfig)
    children: ChildrenConfig = field(default_factory=ChildrenConfig)
    transfers: TransfersConfig = field(default_factory=TransfersConfig)  # steps down and up between units
    ctr: CtrConfig = field(default_factory=CtrConfig)
    crisis_support: CrisisSupportConfig = field(default_factory=CrisisSupportConfig)
    routing: Dict[str, float] = field(default_factory=dict)  # adult admissions: unit type -> share
    out_of_area_need: Dict[str, float] = field(default_factory=dict)  # unit -> share placed OOA by need
    beds: Dict[str, PoolConfig] = field(default_factory=dict)  # unit type -> this TCP's in-area pool
    discharge: DischargeConfig = field(default_factory=DischargeConfig)
    community: CommunityConfig = field(default_factory=CommunityConfig)
    costs: CostConfig = field(default_factory=CostConfig)
    trajectory: List[MilestoneConfig] = field(default_factory=list)
    census: Optional[str] = None  # CSV of current inpatients (path relative to configs/), or empty start
    census_counts: Optional[str] = None  # CSV of inpatient counts by unit, area and stay band (instead of census)
    community_census: Optional[str] = None  # CSV of people in placements at the start (relative to configs/)


@dataclass
class PooledBudgetConfig:
    """A pooled budget following the south-east hub's funding principles (seed 000, "Funding principles
    for the pooled resource"), computed from the simulated flows by ``sim.finance.ledger``. Off by default.
    Each principle is one parameter; money in pounds, rates per year. docs/config.md says what each does.
    The marginal saving of an open in-area bed is the part of its price not fixed (1 - its pool's
    ``bed_fixed_share``): the costs' own parameter, not one of this section."""

    enabled: bool = False
    tcps: List[str] = field(default_factory=list)  # TCPs in the pool; empty: every TCP of the system
    units: List[str] = field(default_factory=lambda: ["low_secure", "medium_secure"])  # beds whose leavers it funds
    out_of_area_release: float = 1.0  # share of an out-of-area bed's cost released when its occupant leaves
    cap_factor: float = 1.0  # the pool funds a person's community support up to this times the bed's cost
    extra_per_year: float = 0.0  # additional money put into the pool from outside, pounds a year
    balanced_plan: bool = False  # a longer-term balanced plan: the reserve may fund support above the cap
    shortfall_la_share: float = 0.5  # local authorities' share of a shortfall on new community care
    nhse_uplift: float = 0.0  # NHS England's contribution grows by this each financial year
    initial_reserve: float = 0.0  # the reserve at the start, pounds
    section75: bool = False  # the Kent section 75 variant for the TCPs of ``section75_tcps``
    section75_tcps: List[str] = field(default_factory=list)  # empty: every TCP in the pool


@dataclass
class SystemConfig:
    """One or more TCPs and their bed pools. With no ``tcps`` the system is the single TCP chosen by
    ``tcp=``; a system file that lists its own TCPs removes that choice."""

    name: str = "single"
    title: str = ""  # for charts; a one-TCP system uses the TCP's title
    tcps: Dict[str, TcpConfig] = field(default_factory=dict)
    shared_pools: List[SharedPoolConfig] = field(default_factory=list)
    pooled_budget: PooledBudgetConfig = field(default_factory=PooledBudgetConfig)


@dataclass
class ScenarioConfig:
    """A what-if: its name, the question it asks, and changes applied to every TCP of the system.

    The changes are here rather than as ``tcp.*`` overrides so that one scenario file works both for a
    single TCP (``tcp=``) and for a system whose TCPs are under ``system.tcps`` (where ``tcp`` is null);
    ``sim.config.scenario.apply_scenario`` applies them when the spec is built. The defaults change
    nothing. Scenario files may also change other keys globally (e.g. ``system.shared_pools``)."""

    name: str = "baseline"
    question: str = ""
    ctr_coverage: Optional[float] = None  # if set: every TCP's ctr.coverage (probability)
    crisis_support_factor: float = 1.0  # every TCP's crisis_support.places times this, rounded
    housing_months_earlier: int = 0  # every housing pipeline step this many months earlier (not before run.start)
    funding_delay_factor: float = 1.0  # every time of every TCP's discharge.funding_delay times this (0: none)
    provider_lead_factor: float = 1.0  # every time of every TCP's discharge.provider_lead times this (0: none)
    repatriation: Optional[bool] = None  # if set: every TCP's discharge.repatriation
    close_occupied: bool = False  # beds close on their planned dates even if occupied (occupants move out of area)
    package_cost_factor: float = 1.0  # every TCP's costs.package_per_year times this
    # unit -> share: every TCP's costs.bed_fixed_share and every shared pool's bed_fixed_share of that unit
    bed_fixed_share: Dict[str, float] = field(default_factory=dict)
    schedule_months_earlier: int = (
        0  # every bed schedule step after the first this many months earlier (not before the month after run.start)
    )
    # What a comparison (python -m sim.compare) leads with: the metrics that answer the question (checked
    # against the metric catalogue when compared); they change nothing in a run.
    headline: List[str] = field(default_factory=list)
    # metric -> the smallest difference that matters for it: a number in the metric's unit, or "N%" of the
    # baseline's value; compare's defaults (half a person, 1% of pounds ...) for metrics not named
    smallest_difference: Dict[str, Any] = field(default_factory=dict)


@dataclass
class AutoReplicationsConfig:
    """``run.replications=auto``: add replications until one output's confidence interval is this narrow
    (sim.runner.sequential: the replications algorithm of Hoad, Robinson and Davies 2010)."""

    metric: str = "inpatients"  # a metric column (README's metrics table)
    month: Optional[str] = None  # YYYY-MM; none: the last month of the run
    half_width: Optional[float] = None  # target half-width in the metric's units; none: use ``relative``
    relative: float = 0.05  # target half-width as a share of the mean (when half_width is none)
    confidence: float = 0.95
    minimum: int = 10  # fewest replications the rule may answer
    maximum: int = 10000  # stop here even if the target is not reached (with a warning)


@dataclass
class RunConfig:
    """How to run: Monte Carlo size, seed, horizon, engine and workers."""

    replications: Union[int, str] = 1000  # a count, or "auto" (see ``auto``)
    auto: AutoReplicationsConfig = field(default_factory=AutoReplicationsConfig)
    seed: int = 20160401
    years: float = 3.0  # reported horizon, from the first month ``start``
    start: str = "2016-04"  # first reported month
    warmup_years: float = 0.0  # simulated before ``start`` from empty, left out of the results
    engine: str = "numba"  # numba (compiled) or simpy (the readable reference; event logs)
    workers: int = 1  # processes; results do not depend on it
    backend: str = "processes"  # processes (local) or dask (a Dask cluster)
    dask_address: Optional[str] = None  # with backend dask: the scheduler (tcp://host:8786); none = a local cluster
    chunk_size: int = 50  # replications per chunk written to Parquet (as configs/run/default.yaml)
    # switches typed Any so that a value that is not true or false reaches build_run (``flag``) and is refused
    # there: OmegaConf's bool would read run.progress=2 as true
    progress: Any = True
    event_log: Any = False  # also write a per-person event log (either engine; docs/events.md)
    # disclosure control of the published tables (sim/results/disclosure.py): none, or nhs (the rounding and
    # suppression of NHS England's Learning Disability Services Monthly Statistics for sub-national counts)
    disclosure: str = "none"
    tcp_metrics: Any = True  # in a system, each TCP's metrics too (<tcp>/<metric>); off keeps chunks small
    resume: Optional[str] = None  # a run directory an interruption left unfinished: complete it
    parameters: Optional[str] = None  # a calibration's posterior (Parquet): replication i runs one draw of it
    # the user's config directories this config was composed from (--config-dir, compose(config_dir=)):
    # set by the command line and the API, refused as an override; the report names their files from it
    config_dirs: list[str] = field(default_factory=list)


@dataclass
class Config:
    """The whole composed configuration (configs/config.yaml)."""

    run: RunConfig = field(default_factory=RunConfig)
    tcp: Optional[TcpConfig] = None
    system: SystemConfig = field(default_factory=SystemConfig)
    scenario: ScenarioConfig = field(default_factory=ScenarioConfig)
