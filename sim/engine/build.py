"""Turn a validated ``SystemSpec`` into the plain arrays the compiled event loop reads.

Everything the kernel needs is here, once, as arrays in a named tuple (Numba reads named tuples of arrays
without Python objects). Distributions are packed (``sim.sampling`` layout) into one float array with
offsets; a distribution id of -1 means "none" (no delay).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.config.spec import SystemSpec
from sim.pathway import SOURCE_KINDS
from sim.sampling import Mixture


class EngineSpec(NamedTuple):
    """The system as arrays: T TCPs, U unit types, P pools, H placement types, G RAG ratings."""

    seed: int
    boundaries: np.ndarray  # float64 [S]
    warmup: float
    dists: np.ndarray  # float64, every packed distribution end to end
    dist_start: np.ndarray  # int64 [D]
    dist_end: np.ndarray  # int64 [D]
    # pools
    pool_los: np.ndarray  # int64 [P], distribution id
    pool_close_occupied: np.ndarray  # int64 [P], 1: a step closes occupied beds on its date
    pool_wait: np.ndarray  # float64 [P], days someone in crisis waits for a bed when all are full (0: none)
    pool_step_start: np.ndarray  # int64 [P], into step_days / step_beds
    pool_step_end: np.ndarray  # int64 [P]
    step_days: np.ndarray  # float64
    step_beds: np.ndarray  # int64
    # TCPs
    pool_of_unit: np.ndarray  # int64 [T, U]
    route_cum: np.ndarray  # float64 [T, U]
    ooa_need: np.ndarray  # float64 [T, U]
    child_share: np.ndarray  # float64 [T], of people in crisis not on the register
    join_child_share: np.ndarray  # float64 [T], of people joining the register
    child_span: np.ndarray  # float64 [T], days
    to_adult_unit: np.ndarray  # float64 [T]
    step_hazards: np.ndarray  # float64 [T, U, K x U], per day: a step of kind k to unit v at k x U + v
    ctr_coverage: np.ndarray
    ctr_avert: np.ndarray
    ctr_first: np.ndarray
    ctr_interval: np.ndarray  # float64 [T, U]
    ctr_ready: np.ndarray
    ctr_ready_long: np.ndarray
    ctr_long_stay: np.ndarray  # float64 [T], days
    support_places: np.ndarray  # int64 [T]
    support_length: np.ndarray  # int64 [T], distribution id
    reg_people: np.ndarray  # int64 [T, G]
    reg_children: np.ndarray  # int64 [T, G]
    reg_hazards: np.ndarray  # float64 [T, G, E], each register event's hazard (REGISTER_EVENTS order)
    join_cum: np.ndarray  # float64 [T, G]
    return_home: np.ndarray  # float64 [T, U]
    return_within: np.ndarray  # float64 [T]
    placement_cum: np.ndarray  # float64 [T, U, H]
    housing_units: np.ndarray  # int64 [T, H]
    offer_hold: np.ndarray  # float64 [T, H], days a market offer stays open
    pipeline_start: np.ndarray  # int64 [T]
    pipeline_end: np.ndarray  # int64 [T]
    pipe_day: np.ndarray  # float64
    pipe_kind: np.ndarray  # int64
    pipe_units: np.ndarray  # int64
    planning_lead: np.ndarray  # float64 [T], days before expected readiness
    provider_lead: np.ndarray  # int64 [T], distribution id
    funding_delay: np.ndarray
    dispute_delay: np.ndarray
    dispute_prob: np.ndarray  # float64 [T]
    policy: np.ndarray  # int64 [T]
    repatriation: np.ndarray  # int64 [T] (0/1)
    breakdown_first: np.ndarray  # float64 [T]
    breakdown_after: np.ndarray
    settle: np.ndarray  # float64 [T], days (inf: never)
    settled_exit: np.ndarray  # float64 [T, 2], per day (SETTLED_EXITS order)
    community_death: np.ndarray
    hospital_death: np.ndarray
    initial_days: np.ndarray  # float64 [T]
    # sources
    source_index: np.ndarray  # int64 [Q]
    source_tcp: np.ndarray
    source_kind: np.ndarray  # index into SOURCE_KINDS
    source_rate: np.ndarray  # float64, per day
    # census
    census_tcp: np.ndarray  # int64 [C]
    census_row: np.ndarray
    census_unit: np.ndarray
    census_area: np.ndarray
    census_by_need: np.ndarray
    census_elapsed: np.ndarray  # float64
    census_adult_in: np.ndarray  # float64, -1: drawn
    census_ready_at: np.ndarray  # float64, day clinically ready (a delayed row)
    census_delayed_for: np.ndarray  # int64, delay reason code; -1: not ready
    # community cohort (people in placements at the start)
    community_tcp: np.ndarray  # int64 [K]
    community_row: np.ndarray
    community_kind: np.ndarray  # placement type
    community_unit: np.ndarray  # unit type left
    community_area: np.ndarray  # area left
    community_dowry: np.ndarray  # dowry unit, -1: none
    community_elapsed: np.ndarray  # float64, days since the discharge


def build(spec: SystemSpec) -> EngineSpec:
    """Arrays of the system, in the index orders of the spec (TCPs, pools, sources, census and community
    census rows)."""
    packed: list[np.ndarray] = []

    def dist(d: Mixture | None) -> int:
        if d is None:
            return -1
        packed.append(np.asarray(d.pack(), dtype=np.float64))
        return len(packed) - 1

    tcps, pools = spec.tcps, spec.pools
    i8, f8 = np.int64, np.float64

    def per_tcp(f, dtype=f8) -> np.ndarray:
        return np.array([f(t) for t in tcps], dtype=dtype)

    pool_los = np.array([dist(p.los) for p in pools], dtype=i8)
    steps = [(p.step_days, p.step_beds) for p in pools]
    step_len = np.array([len(d) for d, _ in steps], dtype=i8)
    pipes = [t.discharge.pipeline for t in tcps]
    pipe_len = np.array([len(x) for x in pipes], dtype=i8)
    flat_pipes = [row for x in pipes for row in x]
    support = per_tcp(lambda t: dist(t.support_length), i8)
    provider = per_tcp(lambda t: dist(t.discharge.provider_lead), i8)
    funding = per_tcp(lambda t: dist(t.discharge.funding_delay), i8)
    dispute = per_tcp(lambda t: dist(t.discharge.dispute_delay), i8)
    lengths = np.array([len(x) for x in packed], dtype=i8)
    ends = np.cumsum(lengths)
    census, community = spec.census, spec.community
    return EngineSpec(
        seed=int(spec.seed),
        boundaries=np.asarray(spec.calendar.boundaries, dtype=f8),
        warmup=float(spec.calendar.warmup_days),
        dists=np.concatenate(packed) if packed else np.zeros(0),
        dist_start=ends - lengths,
        dist_end=ends,
        pool_los=pool_los,
        pool_close_occupied=np.array([p.close_occupied for p in pools], dtype=i8),
        pool_wait=np.array([p.wait_days for p in pools], dtype=f8),
        pool_step_start=np.cumsum(step_len) - step_len,
        pool_step_end=np.cumsum(step_len),
        step_days=np.concatenate([d for d, _ in steps]).astype(f8) if steps else np.zeros(0),
        step_beds=np.concatenate([b for _, b in steps]).astype(i8) if steps else np.zeros(0, i8),
        pool_of_unit=np.stack([t.pool_of_unit for t in tcps]).astype(i8),
        route_cum=np.stack([t.route_cum for t in tcps]).astype(f8),
        ooa_need=np.stack([t.ooa_need for t in tcps]).astype(f8),
        child_share=per_tcp(lambda t: t.child_share),
        join_child_share=per_tcp(lambda t: t.register.join_child_share),
        child_span=per_tcp(lambda t: t.child_span),
        to_adult_unit=per_tcp(lambda t: t.to_adult_unit),
        step_hazards=np.stack([t.step_hazards for t in tcps]).astype(f8),
        ctr_coverage=per_tcp(lambda t: t.ctr_coverage),
        ctr_avert=per_tcp(lambda t: t.ctr_avert),
        ctr_first=per_tcp(lambda t: t.ctr_first),
        ctr_interval=np.stack([t.ctr_interval for t in tcps]).astype(f8),
        ctr_ready=per_tcp(lambda t: t.ctr_ready),
        ctr_ready_long=per_tcp(lambda t: t.ctr_ready_long),
        ctr_long_stay=per_tcp(lambda t: t.ctr_long_stay),
        support_places=per_tcp(lambda t: t.support_places, i8),
        support_length=support,
        reg_people=np.stack([t.register.people for t in tcps]).astype(i8),
        reg_children=np.stack([t.register.children for t in tcps]).astype(i8),
        reg_hazards=np.stack([t.register.hazards for t in tcps]).astype(f8),
        join_cum=np.stack([t.register.join_cum for t in tcps]).astype(f8),
        return_home=np.stack([t.discharge.return_home for t in tcps]).astype(f8),
        return_within=per_tcp(lambda t: t.discharge.return_home_within),
        placement_cum=np.stack([t.discharge.placement_cum for t in tcps]).astype(f8),
        housing_units=np.stack([t.discharge.housing_units for t in tcps]).astype(i8),
        offer_hold=np.stack([t.discharge.offer_hold for t in tcps]).astype(f8),
        pipeline_start=np.cumsum(pipe_len) - pipe_len,
        pipeline_end=np.cumsum(pipe_len),
        pipe_day=np.array([r[0] for r in flat_pipes], dtype=f8),
        pipe_kind=np.array([r[1] for r in flat_pipes], dtype=i8),
        pipe_units=np.array([r[2] for r in flat_pipes], dtype=i8),
        planning_lead=per_tcp(lambda t: t.discharge.planning_lead),
        provider_lead=provider,
        funding_delay=funding,
        dispute_delay=dispute,
        dispute_prob=per_tcp(lambda t: t.discharge.dispute_prob),
        policy=per_tcp(lambda t: t.discharge.policy, i8),
        repatriation=per_tcp(lambda t: int(t.discharge.repatriation), i8),
        breakdown_first=per_tcp(lambda t: t.breakdown_first),
        breakdown_after=per_tcp(lambda t: t.breakdown_after),
        settle=per_tcp(lambda t: t.settle),
        settled_exit=np.stack([t.settled_exit for t in tcps]).astype(f8),
        community_death=per_tcp(lambda t: t.community_death),
        hospital_death=per_tcp(lambda t: t.hospital_death),
        initial_days=per_tcp(lambda t: t.costs.initial_days),
        source_index=np.array([s.index for s in spec.sources], dtype=i8),
        source_tcp=np.array([s.tcp for s in spec.sources], dtype=i8),
        source_kind=np.array([SOURCE_KINDS.index(s.kind) for s in spec.sources], dtype=i8),
        source_rate=np.array([s.rate for s in spec.sources], dtype=f8),
        census_tcp=np.array([c.tcp for c in census], dtype=i8),
        census_row=np.array([c.row for c in census], dtype=i8),
        census_unit=np.array([c.unit for c in census], dtype=i8),
        census_area=np.array([c.area for c in census], dtype=i8),
        census_by_need=np.array([int(c.by_need) for c in census], dtype=i8),
        census_elapsed=np.array([c.elapsed for c in census], dtype=f8),
        census_adult_in=np.array([c.adult_in for c in census], dtype=f8),
        census_ready_at=np.array([c.ready_at for c in census], dtype=f8),
        census_delayed_for=np.array([c.delayed_for for c in census], dtype=i8),
        community_tcp=np.array([c.tcp for c in community], dtype=i8),
        community_row=np.array([c.row for c in community], dtype=i8),
        community_kind=np.array([c.kind for c in community], dtype=i8),
        community_unit=np.array([c.unit for c in community], dtype=i8),
        community_area=np.array([c.area for c in community], dtype=i8),
        community_dowry=np.array([c.dowry_unit for c in community], dtype=i8),
        community_elapsed=np.array([c.elapsed for c in community], dtype=f8),
    )


def people_capacity(spec: SystemSpec) -> int:
    """A first guess at how many people one replication creates (the kernel asks for more if needed)."""
    days = spec.calendar.horizon + spec.calendar.warmup_days
    arrivals = sum(s.rate for s in spec.sources if not s.kind.startswith("housing_")) * days
    register = sum(int(t.register.people.sum()) for t in spec.tcps)
    return int(len(spec.census) + len(spec.community) + register + 1.5 * arrivals + 10 * np.sqrt(arrivals + 1) + 64)
