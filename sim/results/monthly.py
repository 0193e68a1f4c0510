"""The metrics of a replication, defined once from its record (``sim.results.record.MonthlyArrays``).

``metrics`` turns the raw record both engines fill into named metrics in one place, so a metric (and
every cost) is defined once whatever engine produced the numbers. Stocks are counted at the end of each
month, as the national monthly census counts them (index 0 is the start state, the end of the month
before the start); flows are summed within the month; occupancy and costs come from time integrals
(bed-days, person-days)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from sim.config.spec import PoolSpec, Population, SystemSpec
from sim.pathway import (
    AWAITING_BED,
    CAMHS,
    COMMISSIONER_OF_UNIT,
    COMMISSIONERS,
    COMMUNITY,
    DELAY_REASONS,
    HOSPITAL,
    IN_AREA,
    LONG_STAY_YEARS,
    OUT_OF_AREA,
    PAYERS,
    PLACEMENT_TYPES,
    RAG,
    SETTLED_LEFT,
    SETTLED_REGISTER,
    SUPPORT,
    TRANSFER_KINDS,
    UNIT_TYPES,
    WAIT_ADMITTED,
    WAIT_OUT_OF_AREA,
    WAIT_SUPPORT,
)
from sim.results.record import MonthlyArrays


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def array_sum(parts: Iterable[np.ndarray]) -> np.ndarray:
    """Arrays added up as the built-in ``sum`` adds them (from zero, in order), typed as an array."""
    return np.asarray(sum(parts, np.float64(0.0)))


def flow_series(x: np.ndarray) -> np.ndarray:
    """A flow as a series over stock points: no value at the start point (along the first axis)."""
    x = np.asarray(x, dtype=np.float64)
    return np.concatenate([np.full((1, *x.shape[1:]), np.nan), x])


def pool_shares(rec: MonthlyArrays, pool: PoolSpec) -> dict[int, np.ndarray]:
    """Each member TCP's share of a pool's month: its in-area inpatient-days of the pool's unit over all
    its members' (the pool's occupied bed-days), equal shares in a month nobody was in it; a TCP's own
    pool is all its TCP's. The shares of every month sum to 1, so what is split by them adds up to the
    pool's whole."""
    if len(pool.tcps) == 1:
        return {pool.tcps[0]: np.ones(rec.open_days[:, pool.index].shape)}
    days = {t: rec.inpatient_days[:, t, pool.unit, IN_AREA] for t in pool.tcps}
    occupied = array_sum(days.values())
    equal = 1.0 / len(pool.tcps)
    return {t: np.where(occupied > 0, _ratio(d, occupied), equal) for t, d in days.items()}


def costs(spec: SystemSpec, rec: MonthlyArrays, tcps: list[int]) -> dict[str, np.ndarray]:
    """Money in the month (pounds) for the TCPs listed: by payer and by setting. Every cost is bed-days,
    person-days (or CTRs) times a rate, so both engines' costs agree by construction.

    In-area beds are paid as a pool pays for them (``PoolSpec``): its fixed share of the price for every
    open bed-day, occupied or not, and the rest for every occupied one, at the pool's price (a TCP's own
    pool at the TCP's, a shared pool at its own). A pool's variable part is each TCP's own in-area
    inpatient-days; its fixed part is split between its TCPs by ``pool_shares`` (their shares of its
    occupied bed-days that month, equally when it was empty), so the system's cost is the sum over pools
    whatever the split. ``cost_beds_empty`` is the part of ``cost_beds_in_area`` paid for beds open but
    empty (the fixed share of their price). Out-of-area beds are paid per occupied day at the TCP's price
    times (1 + premium); everything else at the person's home TCP's rates."""
    m = (rec.crises.shape[0], *rec.crises.shape[2:])  # months (and replications, when stacked)
    by_payer = {p: np.zeros(m) for p in PAYERS}
    setting = {
        k: np.zeros(m)
        for k in ("beds_in_area", "beds_empty", "beds_out_of_area", "community", "crisis_support", "ctrs")
    }
    setting.update({f"community_{kind}": np.zeros(m) for kind in PLACEMENT_TYPES})
    dowries = np.zeros(m)
    for pool in spec.pools:
        members = [t for t in pool.tcps if t in tcps]
        if not members:
            continue
        payer = COMMISSIONER_OF_UNIT[UNIT_TYPES[pool.unit]]
        share = pool_shares(rec, pool)
        open_days, occupied = rec.open_days[:, pool.index], rec.occupied_days[:, pool.index]
        for t in members:
            fixed = share[t] * open_days * pool.open_day_cost
            variable = rec.inpatient_days[:, t, pool.unit, IN_AREA] * pool.occupied_day_cost
            by_payer[payer] += fixed + variable
            setting["beds_in_area"] += fixed + variable
            setting["beds_empty"] += share[t] * np.maximum(open_days - occupied, 0.0) * pool.open_day_cost
    for t in tcps:
        c = spec.tcps[t].costs
        for u, unit in enumerate(UNIT_TYPES):
            payer = COMMISSIONER_OF_UNIT[unit]
            beds_out = rec.inpatient_days[:, t, u, OUT_OF_AREA] * c.bed[u, OUT_OF_AREA]
            ctrs = rec.ctr_inpatient[:, t, u] * c.ctr
            by_payer[payer] += beds_out + ctrs
            setting["beds_out_of_area"] += beds_out
            setting["ctrs"] += ctrs
            dowries += rec.dowry_days[:, t, u] * c.dowry
        by_type = np.einsum("mhp...,hp->mh...", rec.placement_days[:, t].sum(axis=(1, 2)), c.package)  # [M, H]
        for h, kind in enumerate(PLACEMENT_TYPES):
            setting[f"community_{kind}"] += by_type[:, h]
        package = by_type.sum(axis=1)
        by_payer["la"] += package * c.la_share
        by_payer["ccg"] += package * (1.0 - c.la_share)
        setting["community"] += package
        # a crisis-support place is paid for a spell after an averted admission and while someone waits in it for a bed
        support = (rec.support_days[:, t] + rec.wait_days[:, t, WAIT_SUPPORT]) * c.crisis_support
        pre_ctrs = rec.ctr_pre[:, t] * c.ctr
        by_payer["ccg"] += support + pre_ctrs
        setting["crisis_support"] += support
        setting["ctrs"] += pre_ctrs
    out = {f"cost_{p}": flow_series(v) for p, v in by_payer.items()}
    out["cost_total"] = flow_series(array_sum(by_payer.values()))
    out.update({f"cost_{k}": flow_series(v) for k, v in setting.items()})
    out["dowries"] = flow_series(dowries)
    return out


def _scoped(spec: SystemSpec, rec: MonthlyArrays, tcps: list[int], population: Population) -> dict[str, np.ndarray]:
    """Person metrics of the TCPs listed (all of them for the system, one for a TCP's own metrics), whose
    adults and children are ``population``. Rates per million are stated as the national targets are:
    adult inpatients (every unit type but CAMHS tier 4) per million adults, and CAMHS tier 4 inpatients
    per million children."""
    inp = rec.inpatients[:, tcps].sum(axis=1)  # [S, U, A]
    adm = rec.admissions[:, tcps].sum(axis=1)
    dis = rec.discharges[:, tcps].sum(axis=1)
    days = rec.inpatient_days[:, tcps].sum(axis=1)

    def stock(x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=np.float64)

    n = stock(inp.sum(axis=(1, 2)))
    children = stock(inp[:, CAMHS].sum(axis=1))  # inpatients in CAMHS tier 4 beds are the children
    out = {
        "inpatients": n,
        "inpatients_in_area": stock(inp[:, :, IN_AREA].sum(axis=1)),
        "inpatients_out_of_area": stock(inp[:, :, OUT_OF_AREA].sum(axis=1)),
        "inpatients_per_million": (n - children) / population.adults * 1e6,
        "inpatients_per_million_children": children / population.children * 1e6,
        "inpatients_children": children,
    }
    for u, unit in enumerate(UNIT_TYPES):
        out[f"inpatients_{unit}"] = stock(inp[:, u].sum(axis=1))
    for c in COMMISSIONERS:
        units = [u for u, unit in enumerate(UNIT_TYPES) if COMMISSIONER_OF_UNIT[unit] == c]
        out[f"inpatients_{c}"] = stock(inp[:, units].sum(axis=(1, 2)))
    delayed = rec.delayed[:, tcps].sum(axis=1)  # [S, R]
    long_stayers = rec.long_stayers[:, tcps].sum(axis=1)  # [S, L]
    for k, years in enumerate(LONG_STAY_YEARS):
        out[f"long_stayers_{years}y"] = stock(long_stayers[:, k])
        out[f"long_stay_share_{years}y"] = np.nan_to_num(_ratio(stock(long_stayers[:, k]), n))  # 0 with none in
    out["delayed_discharges"] = stock(delayed.sum(axis=1))
    for r, reason in enumerate(DELAY_REASONS):
        out[f"delayed_discharges_{reason}"] = stock(delayed[:, r])
    register = rec.register[:, tcps].sum(axis=1)
    out["register"] = stock(register.sum(axis=1))
    for g, rag in enumerate(RAG):
        out[f"register_{rag}"] = stock(register[:, g])
    out["crisis_support"] = stock(rec.people[:, tcps, SUPPORT].sum(axis=1))
    out["awaiting_bed"] = stock(rec.people[:, tcps, AWAITING_BED].sum(axis=1))
    out["awaiting_bed_crisis_support"] = stock(rec.waiting[:, tcps, WAIT_SUPPORT].sum(axis=1))
    placements = rec.placements[:, tcps].sum(axis=1)
    out["placements"] = stock(placements.sum(axis=1))
    for h, kind in enumerate(PLACEMENT_TYPES):
        out[f"placements_{kind}"] = stock(placements[:, h])
    housing = rec.housing_free[:, tcps].sum(axis=1)  # [S, H]
    out["housing_free"] = stock(housing.sum(axis=1))
    for h, kind in enumerate(PLACEMENT_TYPES):
        out[f"housing_free_{kind}"] = stock(housing[:, h])
    out["housing_lapsed"] = flow_series(rec.housing_lapsed[:, tcps].sum(axis=(1, 2)))
    delayed_days = rec.delayed_days[:, tcps].sum(axis=1)  # [M, R]
    waits, wait_ends = rec.waits[:, tcps].sum(axis=2), rec.wait_ends[:, tcps].sum(axis=2)  # [M, T, W], [M, T, E]
    out.update(
        {
            "admissions": flow_series(adm.sum(axis=(1, 2))),
            "out_of_area_placements": flow_series(adm[:, :, OUT_OF_AREA].sum(axis=1)),
            "out_of_area_full_beds": flow_series(rec.ooa_full[:, tcps].sum(axis=(1, 2))),
            "out_of_area_no_local_unit": flow_series(rec.ooa_no_unit[:, tcps].sum(axis=(1, 2))),
            "readmissions_12m": flow_series(rec.readmissions[:, tcps].sum(axis=1)),
            "first_admissions": flow_series(adm.sum(axis=(1, 2)) - rec.readmissions[:, tcps].sum(axis=1)),
            "discharges": flow_series(dis.sum(axis=(1, 2))),
            "discharges_home": flow_series(rec.discharges_home[:, tcps].sum(axis=1)),
            "repatriations": flow_series(rec.repatriations[:, tcps].sum(axis=(1, 2))),
            "closure_moves": flow_series(rec.closure_moves[:, tcps].sum(axis=(1, 2))),
            "clinically_ready": flow_series(rec.ready[:, tcps].sum(axis=1)),
            "transfers": flow_series(rec.transfers[:, tcps].sum(axis=(1, 2))),
            "transitions_to_adult": flow_series(rec.transitions[:, tcps].sum(axis=1)),
            "deaths_in_hospital": flow_series(rec.deaths[:, tcps, HOSPITAL].sum(axis=1)),
            "deaths_in_community": flow_series(rec.deaths[:, tcps, COMMUNITY].sum(axis=1)),
            "crises": flow_series(rec.crises[:, tcps].sum(axis=1)),
            "ctrs_pre_admission": flow_series(rec.ctr_pre[:, tcps].sum(axis=1)),
            "admissions_averted": flow_series(rec.averted[:, tcps].sum(axis=1)),
            "ctrs_inpatient": flow_series(rec.ctr_inpatient[:, tcps].sum(axis=(1, 2))),
            "breakdowns": flow_series(rec.breakdowns[:, tcps].sum(axis=(1, 2))),
            "placements_settled": flow_series(rec.settled[:, tcps].sum(axis=1)),
            "settled_left": flow_series(rec.settled_exits[:, tcps, SETTLED_LEFT].sum(axis=1)),
            "settled_to_register": flow_series(rec.settled_exits[:, tcps, SETTLED_REGISTER].sum(axis=1)),
            "inpatient_days": flow_series(days.sum(axis=(1, 2))),
            "inpatient_days_out_of_area": flow_series(days[:, :, OUT_OF_AREA].sum(axis=1)),
            "delayed_bed_days": flow_series(delayed_days.sum(axis=1)),
            "bed_waits": flow_series(waits.sum(axis=(1, 2))),
            "bed_waits_crisis_support": flow_series(waits[:, :, WAIT_SUPPORT].sum(axis=1)),
            "bed_waits_admitted": flow_series(wait_ends[:, :, WAIT_ADMITTED].sum(axis=1)),
            "bed_waits_out_of_area": flow_series(wait_ends[:, :, WAIT_OUT_OF_AREA].sum(axis=1)),
            "bed_wait_days": flow_series(rec.wait_days[:, tcps].sum(axis=(1, 2))),
            "bed_wait_days_crisis_support": flow_series(rec.wait_days[:, tcps, WAIT_SUPPORT].sum(axis=1)),
        }
    )
    for r, reason in enumerate(DELAY_REASONS):
        out[f"delayed_bed_days_{reason}"] = flow_series(delayed_days[:, r])
    for k, kind in enumerate(TRANSFER_KINDS):
        out[f"transfers_{kind}"] = flow_series(rec.transfers[:, tcps, k].sum(axis=1))
    for u, unit in enumerate(UNIT_TYPES):  # by unit type: what one unit's beds change (capacity curves)
        out[f"admissions_{unit}"] = flow_series(adm[:, u].sum(axis=1))
        out[f"out_of_area_placements_{unit}"] = flow_series(adm[:, u, OUT_OF_AREA])
        out[f"out_of_area_full_beds_{unit}"] = flow_series(rec.ooa_full[:, tcps, u].sum(axis=1))
        out[f"out_of_area_no_local_unit_{unit}"] = flow_series(rec.ooa_no_unit[:, tcps, u].sum(axis=1))
    out.update(costs(spec, rec, tcps))
    return out


def system_metrics(spec: SystemSpec, rec: MonthlyArrays) -> dict[str, np.ndarray]:
    """The system's person, cost and bed metrics of one replication (``sim.results.catalogue``), each an
    array over the S stock points (start + months); flows are NaN at the start point. Of a stacked record
    (``MonthlyArrays.stack``), each is [S, R]: the same numbers, computed in one pass (a replication at
    a time, the NumPy calls cost more than the Numba engine's run). ``sim.metrics.metrics`` adds the
    pooled budget's ledger and each TCP's own."""
    everyone = list(range(len(spec.tcps)))
    out = _scoped(spec, rec, everyone, spec.population)
    out["beds_in_area"] = rec.beds.sum(axis=1).astype(np.float64)
    out["occupancy"] = flow_series(_ratio(rec.occupied_days.sum(axis=1), rec.open_days.sum(axis=1)))
    for p in spec.pools:
        out[f"occupancy_{p.name}"] = flow_series(_ratio(rec.occupied_days[:, p.index], rec.open_days[:, p.index]))
        out[f"beds_{p.name}"] = rec.beds[:, p.index].astype(np.float64)
    return out


def tcp_metrics(spec: SystemSpec, rec: MonthlyArrays) -> dict[str, np.ndarray]:
    """Each TCP's own person and cost metrics (``<tcp>/<metric>``, by the person's home TCP), in a system
    of several that reports them (``run.tcp_metrics``); none otherwise."""
    out: dict[str, np.ndarray] = {}
    if len(spec.tcps) > 1 and spec.tcp_metrics:
        for t in spec.tcps:
            for name, values in _scoped(spec, rec, [t.index], t.population).items():
                out[f"{t.name}/{name}"] = values
    return out
