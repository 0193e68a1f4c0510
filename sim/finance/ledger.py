"""The pooled budget's ledger: the south-east hub's funding principles applied to one replication's flows.

Seed 000 (../shared/seeds/000_c99b38896d54c3d9.txt, "Funding principles for the pooled resource") sets
the rules; each is one parameter of ``system.pooled_budget`` (``PooledBudgetSpec``):

1. *Release* (the beds' fixed share, ``out_of_area_release``): money is released to the pool for the
   people who left the pool's beds (secure units; with section 75 every unit) for a community placement,
   for each day they live in the community: while the in-area bed they left stays open only its marginal
   saving, the part of its price that is paid per occupied day (``1 - fixed_share`` of its pool, the
   share ``sim.results.monthly.costs`` charges for an open bed whether or not it is occupied: one
   number for both), its full price once beds of that pool have closed (at most one closed bed per
   person); an out-of-area bed is spot purchased, so ``out_of_area_release`` of its price. In-area beds
   are priced as their pool's (``PoolSpec``: a shared pool's own price, a TCP's own pool the TCP's).
2. *Cap* (``cap_factor``, ``extra_per_year``, ``balanced_plan``): the pool funds a person's community
   support up to ``cap_factor`` times the cost of the bed it replaces. Support above that is paid first
   from money put in from outside (``extra_per_year``); the rest by the reserve only under a longer-term
   balanced plan (``balanced_plan``), otherwise by CCGs and local authorities at once.
3. *Reserve first, then commissioners* (``shortfall_la_share``): released money pays the support within
   the cap; any excess (and unused outside money) goes to the reserve. A shortfall is paid from the
   reserve first; what the reserve cannot pay falls to local authorities (``shortfall_la_share``) and
   CCGs (the rest). The reserve is never overdrawn.
4. *New beds* : a new or re-commissioned bed of the pool's units (open beds above the fewest the pool
   has had since the start) is paid at cost from the reserve first, the rest by the bed's commissioner.
5. *Uplift* (``nhse_uplift``): NHS England's (specialised commissioning's) contribution is uplifted by
   this each financial year (April to March) after the first.
6. *Section 75* (``section75``, ``section75_tcps``): Kent's variant. For those TCPs the NHS savings on
   every hospital placement (ATU too, released by the CCG) go into the pool, and a person discharged after
   5+ years brings their dowry into the pool in place of the bed saving ("NHS savings or dowries"); the
   pool funds their community services under the same rules.

Every month: ``pool_inflow - pool_outflow`` is the change of ``pool_reserve``, and ``pool_outflow`` plus the
shortfalls the commissioners carry is everything the pool is responsible for (tests/finance). The
``pool_balance`` is the reserve as it would stand had no commissioner covered a shortfall the reserve
could not meet: it goes negative in the first month the reserve runs out.

Who the pool funds is exact: both engines record community placement-days by the unit and area the
person left (``MonthlyArrays.placement_days``, [M, T, U, A, H, 2]).
"""

from __future__ import annotations

import numpy as np

from sim.config.spec import Calendar, SystemSpec
from sim.pathway import COMMISSIONER_OF_UNIT, IN_AREA, OUT_OF_AREA, PLACEMENT_TYPES, UNIT_TYPES
from sim.results.catalogue import Metric
from sim.results.monthly import array_sum, flow_series
from sim.results.record import MonthlyArrays

#: Who puts released money into the pool: the commissioner of the bed left (column order).
SOURCES: tuple[str, ...] = ("ccg", "specialised")
#: Ledger metrics that are flows (NaN at the start point) and stocks (month ends, start included).
FLOWS: tuple[str, ...] = (
    "pool_inflow",
    "pool_in_specialised",
    "pool_in_ccg",
    "pool_in_marginal",
    "pool_in_closed",
    "pool_in_out_of_area",
    "pool_in_dowries",
    "pool_in_extra",
    "pool_outflow",
    "pool_out_community",
    "pool_out_beds",
    "pool_community_cost",
    "pool_above_cap",
    "pool_new_beds_cost",
    "shortfall_ccg",
    "shortfall_la",
    "shortfall_specialised",
    "shortfall_total",
    "pool_first_negative",
)
STOCKS: tuple[str, ...] = ("pool_reserve", "pool_balance", "pool_balance_negative", "pool_ever_negative", "pool_cohort")

#: The ledger's metrics in the catalogue (``sim.results.catalogue``): system-wide, with a pooled budget.
_LABELS: dict[str, tuple[str, str]] = {
    "pool_inflow": ("pounds", "money into the pool"),
    "pool_in_specialised": ("pounds", "into the pool from specialised commissioning"),
    "pool_in_ccg": ("pounds", "into the pool from CCGs"),
    "pool_in_marginal": ("pounds", "into the pool: open beds' marginal saving"),
    "pool_in_closed": ("pounds", "into the pool: closed beds' full cost"),
    "pool_in_out_of_area": ("pounds", "into the pool: out-of-area beds"),
    "pool_in_dowries": ("pounds", "into the pool: dowries (section 75)"),
    "pool_in_extra": ("pounds", "into the pool from outside"),
    "pool_outflow": ("pounds", "money the pool pays"),
    "pool_out_community": ("pounds", "the pool pays for community support"),
    "pool_out_beds": ("pounds", "the pool pays for new or re-commissioned beds"),
    "pool_community_cost": ("pounds", "community support of the people the pool funds"),
    "pool_above_cap": ("pounds", "community support above the cost of the bed replaced"),
    "pool_new_beds_cost": ("pounds", "new or re-commissioned beds"),
    "shortfall_ccg": ("pounds", "shortfall carried by CCGs"),
    "shortfall_la": ("pounds", "shortfall carried by local authorities"),
    "shortfall_specialised": ("pounds", "shortfall carried by specialised commissioning"),
    "shortfall_total": ("pounds", "shortfall, all commissioners"),
    "pool_first_negative": ("yes/no", "the pool's balance first goes negative"),
    "pool_reserve": ("pounds", "the pool's reserve"),
    "pool_balance": ("pounds", "the pool's balance"),
    "pool_balance_negative": ("yes/no", "the pool's balance is negative"),
    "pool_ever_negative": ("yes/no", "the pool's balance has been negative"),
    "pool_cohort": ("people", "people the pool funds"),
}
CATALOGUE: tuple[Metric, ...] = tuple(
    Metric(name, "flow" if name in FLOWS else "stock", *_LABELS[name]) for name in (*FLOWS, *STOCKS)
)


def ledger_metrics(spec: SystemSpec, rec: MonthlyArrays) -> dict[str, np.ndarray]:
    """The ledger's metrics of one replication (or of a stacked record, each [S, R]) as series over the
    stock points, flows NaN at the start point, as ``sim.results.monthly`` gives its own; none when the
    system has no pooled budget."""
    if spec.pooled_budget is None:
        return {}
    if rec.stacked:  # the ledger works a replication at a time
        books = [ledger(spec, rec.replication(k)) for k in range(rec.people.shape[-1])]
        book = {name: np.stack([b[name] for b in books], axis=-1) for name in books[0]}
    else:
        book = ledger(spec, rec)
    return {name: values if name in STOCKS else flow_series(values) for name, values in book.items()}


def financial_years(labels: tuple[str, ...] | list[str]) -> np.ndarray:
    """The financial year (April to March) of each ``YYYY-MM`` month, as the calendar year it starts in
    (``Calendar.financial_year_start``), for the uplift's year count."""
    return np.array([Calendar.financial_year_start(m) for m in labels], dtype=np.int64)


def _pool_beds(spec: SystemSpec, rec: MonthlyArrays, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pool and month: bed-days of beds closed since the start (the start's beds less the fewest open
    since), and of beds new or re-commissioned (open beds above that fewest). float64 [M, P] each."""
    open_beds = np.round(rec.open_days / days[:, None], 9)
    start = rec.beds[0].astype(np.float64)
    fewest = np.minimum.accumulate(np.minimum(open_beds, start[None]), axis=0)
    return (start[None] - fewest) * days[:, None], (open_beds - fewest) * days[:, None]


def _bed_prices(spec: SystemSpec, t: int, u: int) -> np.ndarray:
    """The full price of a bed-day of TCP ``t``'s unit ``u``, in area (its pool's) and out of area (the
    TCP's own with the premium), pounds; float64 [A]."""
    bed = spec.tcps[t].costs.bed[u].copy()
    p = spec.tcps[t].pool_of_unit[u]
    if p >= 0:
        bed[IN_AREA] = spec.pools[p].bed_per_day
    return bed


def ledger(spec: SystemSpec, rec: MonthlyArrays) -> dict[str, np.ndarray]:
    """The pooled budget's monthly ledger of one replication: each metric (``FLOWS``, ``STOCKS``) as an
    array over the months (flows, M) or the stock points (stocks, M + 1). Pounds; ``pool_cohort`` in people."""
    pb = spec.pooled_budget
    if pb is None:
        raise ValueError("the system has no pooled budget (system.pooled_budget.enabled is false)")
    days = np.diff(spec.calendar.boundaries)
    m_count = len(days)
    released = {k: np.zeros((m_count, len(SOURCES))) for k in ("marginal", "closed", "out_of_area", "dowries")}
    community, above, cohort = np.zeros(m_count), np.zeros(m_count), np.zeros(m_count)

    # who the pool funds: people from the units in each member's scope, by unit and area left
    spent = {t: rec.placement_days[:, t].copy() for t in pb.tcps if pb.scope(t)}  # [M, U, A, H, 2]
    for t, d in spent.items():
        outside = [u for u in range(len(UNIT_TYPES)) if u not in pb.scope(t)]
        d[:, outside] = 0.0
    # rule 1: full cost once beds close, at most one closed bed per person who left the pool's in-area beds
    closed_days, new_days = _pool_beds(spec, rec, days)
    in_area = np.zeros_like(closed_days)
    for t, d in spent.items():
        for u in pb.scope(t):
            p = spec.tcps[t].pool_of_unit[u]
            if p >= 0:
                in_area[:, p] += d[:, u, IN_AREA].sum(axis=(1, 2))
    full = np.divide(np.minimum(closed_days, in_area), in_area, out=np.zeros_like(in_area), where=in_area > 0)

    for t, d in spent.items():
        c = spec.tcps[t].costs
        for u in pb.scope(t):
            src = SOURCES.index(COMMISSIONER_OF_UNIT[UNIT_TYPES[u]])
            person_days = d[:, u].sum(axis=(2, 3))  # [M, A]
            p = spec.tcps[t].pool_of_unit[u]
            f = full[:, p] if p >= 0 else np.zeros(m_count)
            bed = _bed_prices(spec, t, u)  # [A]
            saving = spec.pools[p].occupied_day_cost if p >= 0 else 0.0  # no pool: no one left an in-area bed
            marginal = person_days[:, IN_AREA] * saving * (1.0 - f)
            closed = person_days[:, IN_AREA] * bed[IN_AREA] * f
            ooa = person_days[:, OUT_OF_AREA] * bed[OUT_OF_AREA] * pb.out_of_area_release
            keep = np.ones(m_count)
            if t in pb.section75_tcps:  # rule 6: a 5+ year stayer brings a dowry in place of the saving
                everyone = person_days.sum(axis=1)
                dowry_days = np.minimum(rec.dowry_days[:, t, u], everyone)
                keep = 1.0 - np.divide(dowry_days, everyone, out=np.zeros(m_count), where=everyone > 0)
                released["dowries"][:, src] += dowry_days * c.dowry
            released["marginal"][:, src] += marginal * keep
            released["closed"][:, src] += closed * keep
            released["out_of_area"][:, src] += ooa * keep
            # rule 2: the pool's part of each person's support is capped at the bed it replaces
            for a in (IN_AREA, OUT_OF_AREA):
                cap = pb.cap_factor * bed[a]
                for h in range(len(PLACEMENT_TYPES)):
                    for phase in (0, 1):
                        rate = c.package[h, phase]
                        community += d[:, u, a, h, phase] * min(rate, cap)
                        above += d[:, u, a, h, phase] * max(rate - cap, 0.0)
            cohort += person_days.sum(axis=1) / days

    # rule 5: NHS England's contribution uplifted each financial year after the first
    fy = financial_years(spec.calendar.labels)
    uplift = (1.0 + pb.nhse_uplift) ** (fy - fy[0])
    for part in released.values():
        part[:, SOURCES.index("specialised")] *= uplift
    inflow_by_source = array_sum(released.values())  # [M, 2]
    release = inflow_by_source.sum(axis=1)
    extra = pb.extra_per_day * days

    # rule 4: new or re-commissioned beds of the pool's units, at cost
    beds_cost = np.zeros((m_count, len(SOURCES)))
    for pool in spec.pools:
        if any(pool.unit in pb.scope(t) for t in pool.tcps):
            source = SOURCES.index(COMMISSIONER_OF_UNIT[UNIT_TYPES[pool.unit]])
            beds_cost[:, source] += new_days[:, pool.index] * pool.bed_per_day
    new_beds = beds_cost.sum(axis=1)

    # rules 2-4 month by month: the reserve's running balance
    out_community, out_beds = np.zeros(m_count), np.zeros(m_count)
    short_community, short_beds, uncovered = np.zeros(m_count), np.zeros((m_count, len(SOURCES))), np.zeros(m_count)
    reserve = np.zeros(m_count + 1)
    reserve[0] = level = pb.initial_reserve
    for m in range(m_count):
        from_extra = min(extra[m], above[m])
        above_left = above[m] - from_extra
        from_release = min(release[m], community[m])
        level += release[m] - from_release + extra[m] - from_extra  # excess and unused outside money
        gap = community[m] - from_release
        from_reserve = min(level, gap)
        level -= from_reserve
        short = gap - from_reserve
        uncovered[m] = short
        above_reserve = 0.0
        if pb.balanced_plan:
            above_reserve = min(level, above_left)
            level -= above_reserve
            above_left -= above_reserve
            uncovered[m] += above_left
        short_community[m] = short + above_left
        beds_reserve = min(level, new_beds[m])
        level -= beds_reserve
        if new_beds[m] > 0:
            short_beds[m] = beds_cost[m] * (1.0 - beds_reserve / new_beds[m])
            uncovered[m] += new_beds[m] - beds_reserve
        out_community[m] = from_release + from_reserve + from_extra + above_reserve
        out_beds[m] = beds_reserve
        reserve[m + 1] = level

    balance = reserve - np.concatenate([[0.0], np.cumsum(uncovered)])
    negative = (balance < 0).astype(np.float64)
    ever = np.maximum.accumulate(negative)
    la = pb.shortfall_la_share * short_community
    shortfall = {
        "ccg": short_community - la + short_beds[:, SOURCES.index("ccg")],
        "la": la,
        "specialised": short_beds[:, SOURCES.index("specialised")],
    }
    out = {
        "pool_inflow": release + extra,
        "pool_in_specialised": inflow_by_source[:, SOURCES.index("specialised")],
        "pool_in_ccg": inflow_by_source[:, SOURCES.index("ccg")],
        "pool_in_marginal": released["marginal"].sum(axis=1),
        "pool_in_closed": released["closed"].sum(axis=1),
        "pool_in_out_of_area": released["out_of_area"].sum(axis=1),
        "pool_in_dowries": released["dowries"].sum(axis=1),
        "pool_in_extra": extra,
        "pool_outflow": out_community + out_beds,
        "pool_out_community": out_community,
        "pool_out_beds": out_beds,
        "pool_community_cost": community + above,
        "pool_above_cap": above,
        "pool_new_beds_cost": new_beds,
        "shortfall_ccg": shortfall["ccg"],
        "shortfall_la": shortfall["la"],
        "shortfall_specialised": shortfall["specialised"],
        "shortfall_total": short_community + short_beds.sum(axis=1),
        "pool_first_negative": np.diff(ever),
        "pool_reserve": reserve,
        "pool_balance": balance,
        "pool_balance_negative": negative,
        "pool_ever_negative": ever,
        "pool_cohort": np.concatenate([[0.0], cohort]),
    }
    return out
