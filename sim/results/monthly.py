"""The raw monthly record of one replication, and the metrics derived from it.

Both engines fill the same ``MonthlyArrays`` (stocks at month ends, flows within months, time integrals),
and ``metrics`` turns them into named metrics in one place, so a metric (and every cost) is defined once
whatever engine produced the numbers. Stocks are counted at the end of each month, as the national
monthly census counts them (index 0 is the start state, the end of the month before the start); flows are
summed within the month; occupancy and costs come from time integrals (bed-days, person-days).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from sim.config.schema import (
    COMMISSIONER_OF_UNIT,
    COMMISSIONERS,
    DELAY_REASONS,
    PAYERS,
    PLACEMENT_TYPES,
    RAG,
    UNIT_TYPES,
)
from sim.config.spec import IN_AREA, OUT_OF_AREA, SystemSpec
from sim.finance.ledger import STOCKS as LEDGER_STOCKS
from sim.finance.ledger import ledger

LONG_STAY_DAYS = 5 * 365.25  # "in hospital 5+ years" (seed 001: 11 people in April 2017)
READMISSION_DAYS = 365.25  # a readmission within 12 months of the last discharge

#: Where a person is (DESIGN.md section 2). ``outside`` is anyone the model does not yet know (people not
#: on a register before their crisis); ``left`` counts people who left the register or died.
STATES: tuple[str, ...] = ("outside", "register", "crisis_support", "inpatient", "placement", "left")
OUTSIDE, REGISTER, SUPPORT, INPATIENT, PLACEMENT, LEFT = range(len(STATES))

#: Placement phases: the first months after discharge cost more.
INITIAL, SETTLED = 0, 1
HOSPITAL, COMMUNITY = 0, 1  # where a death happened


@dataclass
class MonthlyArrays:
    """One replication's record. Dimensions: S = months + 1 stock points, M = months, T = TCPs (the
    person's home), U = unit types, A = 2 areas (in, out of area), P = pools, X = states, G = RAG ratings,
    H = placement types, R = delay reasons."""

    # people in each state, and moves between states (conservation is checked on these)
    people: np.ndarray  # int64 [S, T, X]
    moves: np.ndarray  # int64 [M, T, X, X] from, to
    # inpatients
    inpatients: np.ndarray  # int64 [S, T, U, A]
    long_stayers: np.ndarray  # int64 [S, T, U, A], in hospital 5+ years
    admissions: np.ndarray  # int64 [M, T, U, A], by where the bed was
    ooa_full: np.ndarray  # int64 [M, T, U], placed out of area because no in-area bed was free
    readmissions: np.ndarray  # int64 [M, T], admissions within 12 months of a discharge
    discharges: np.ndarray  # int64 [M, T, U, A]
    discharges_home: np.ndarray  # int64 [M, T], of those, back to the home they came from (not a placement)
    repatriations: np.ndarray  # int64 [M, T, U], out-of-area inpatients moved to a freed in-area bed
    closure_moves: np.ndarray  # int64 [M, T, U], in-area inpatients moved out of area as their bed closed
    ready: np.ndarray  # int64 [M, T], inpatients becoming clinically ready for discharge
    delayed: np.ndarray  # int64 [S, T, R], ready but still in hospital, by reason
    deaths: np.ndarray  # int64 [M, T, 2], in hospital and in the community
    inpatient_days: np.ndarray  # float64 [M, T, U, A]
    delayed_days: np.ndarray  # float64 [M, T, R]
    # beds
    occupied_days: np.ndarray  # float64 [M, P], occupied in-area bed-days
    open_days: np.ndarray  # float64 [M, P], open in-area bed-days
    beds: np.ndarray  # int64 [S, P], open in-area beds at the month end
    # register, crises and CTRs
    register: np.ndarray  # int64 [S, T, G]
    crises: np.ndarray  # int64 [M, T]
    ctr_pre: np.ndarray  # int64 [M, T], pre-admission CTRs held
    averted: np.ndarray  # int64 [M, T], admissions averted into crisis support
    ctr_inpatient: np.ndarray  # int64 [M, T, U], inpatient CTRs held
    support_days: np.ndarray  # float64 [M, T], person-days in crisis support
    # community
    placements: np.ndarray  # int64 [S, T, H]
    breakdowns: np.ndarray  # int64 [M, T, H]
    placement_days: np.ndarray  # float64 [M, T, U, A, H, 2], by the unit and area left; initial months and settled
    # float64 [M, T, U], person-days in the community of people discharged after 5+ years, by the unit they left
    dowry_days: np.ndarray

    @classmethod
    def zeros(cls, spec: SystemSpec) -> MonthlyArrays:
        return cls(**{name: np.zeros(shape, dtype) for name, (shape, dtype) in cls.shapes(spec).items()})

    @classmethod
    def shapes(cls, spec: SystemSpec) -> dict[str, tuple[tuple[int, ...], type]]:
        """Each field's shape and dtype for ``spec``, in field order."""
        s, m = spec.calendar.n_months + 1, spec.calendar.n_months
        t, u, p, x, g, h, r = (
            len(spec.tcps),
            len(UNIT_TYPES),
            len(spec.pools),
            len(STATES),
            len(RAG),
            len(PLACEMENT_TYPES),
            len(DELAY_REASONS),
        )
        shapes = {
            "people": (s, t, x),
            "moves": (m, t, x, x),
            "inpatients": (s, t, u, 2),
            "long_stayers": (s, t, u, 2),
            "admissions": (m, t, u, 2),
            "ooa_full": (m, t, u),
            "readmissions": (m, t),
            "discharges": (m, t, u, 2),
            "discharges_home": (m, t),
            "repatriations": (m, t, u),
            "closure_moves": (m, t, u),
            "ready": (m, t),
            "delayed": (s, t, r),
            "deaths": (m, t, 2),
            "inpatient_days": (m, t, u, 2),
            "delayed_days": (m, t, r),
            "occupied_days": (m, p),
            "open_days": (m, p),
            "beds": (s, p),
            "register": (s, t, g),
            "crises": (m, t),
            "ctr_pre": (m, t),
            "averted": (m, t),
            "ctr_inpatient": (m, t, u),
            "support_days": (m, t),
            "placements": (s, t, h),
            "breakdowns": (m, t, h),
            "placement_days": (m, t, u, 2, h, 2),
            "dowry_days": (m, t, u),
        }
        return {f.name: (shapes[f.name], np.float64 if f.name.endswith("_days") else np.int64) for f in fields(cls)}

    @classmethod
    def stack(cls, records: list[MonthlyArrays]) -> MonthlyArrays:
        """Several replications' records as one, each array with the replications as a last axis (R):
        ``metrics`` then computes theirs in one pass. In memory each replication's array stays whole and
        laid out as its own (R is the outermost axis, seen last), so NumPy sums every cell in the very
        order it does for one replication alone: the same numbers to the last bit, whatever the batch."""
        return cls(**{f.name: np.moveaxis(np.stack([getattr(r, f.name) for r in records]), 0, -1) for f in fields(cls)})

    def replication(self, k: int) -> MonthlyArrays:
        """Replication k of a stacked record."""
        return MonthlyArrays(**{name: values[..., k] for name, values in self.as_dict().items()})

    @property
    def stacked(self) -> bool:
        return self.people.ndim == 4

    def copy(self) -> MonthlyArrays:
        return MonthlyArrays(**{name: values.copy() for name, values in self.as_dict().items()})

    def as_dict(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _flow(x: np.ndarray) -> np.ndarray:
    """A flow as a series over stock points: no value at the start point (along the first axis)."""
    x = np.asarray(x, dtype=np.float64)
    return np.concatenate([np.full((1, *x.shape[1:]), np.nan), x])


def costs(spec: SystemSpec, rec: MonthlyArrays, tcps: list[int]) -> dict[str, np.ndarray]:
    """Money in the month (pounds) for the TCPs listed: by payer and by setting. Rates are the home TCP's;
    every cost is person-days (or CTRs) times a rate, so both engines' costs agree by construction."""
    m = (rec.crises.shape[0], *rec.crises.shape[2:])  # months (and replications, when stacked)
    by_payer = {p: np.zeros(m) for p in PAYERS}
    setting = {k: np.zeros(m) for k in ("beds_in_area", "beds_out_of_area", "community", "crisis_support", "ctrs")}
    setting.update({f"community_{kind}": np.zeros(m) for kind in PLACEMENT_TYPES})
    dowries = np.zeros(m)
    for t in tcps:
        c = spec.tcps[t].costs
        for u, unit in enumerate(UNIT_TYPES):
            payer = COMMISSIONER_OF_UNIT[unit]
            beds_in = rec.inpatient_days[:, t, u, IN_AREA] * c.bed[u, IN_AREA]
            beds_out = rec.inpatient_days[:, t, u, OUT_OF_AREA] * c.bed[u, OUT_OF_AREA]
            ctrs = rec.ctr_inpatient[:, t, u] * c.ctr
            by_payer[payer] += beds_in + beds_out + ctrs
            setting["beds_in_area"] += beds_in
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
        support = rec.support_days[:, t] * c.crisis_support
        pre_ctrs = rec.ctr_pre[:, t] * c.ctr
        by_payer["ccg"] += support + pre_ctrs
        setting["crisis_support"] += support
        setting["ctrs"] += pre_ctrs
    out = {f"cost_{p}": _flow(v) for p, v in by_payer.items()}
    out["cost_total"] = _flow(sum(by_payer.values()))
    out.update({f"cost_{k}": _flow(v) for k, v in setting.items()})
    out["dowries"] = _flow(dowries)
    return out


def _scoped(spec: SystemSpec, rec: MonthlyArrays, tcps: list[int], population: float) -> dict[str, np.ndarray]:
    """Person metrics of the TCPs listed (all of them for the system, one for a TCP's own metrics)."""
    inp = rec.inpatients[:, tcps].sum(axis=1)  # [S, U, A]
    adm = rec.admissions[:, tcps].sum(axis=1)
    dis = rec.discharges[:, tcps].sum(axis=1)
    days = rec.inpatient_days[:, tcps].sum(axis=1)

    def stock(x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=np.float64)

    n = stock(inp.sum(axis=(1, 2)))
    out = {
        "inpatients": n,
        "inpatients_in_area": stock(inp[:, :, IN_AREA].sum(axis=1)),
        "inpatients_out_of_area": stock(inp[:, :, OUT_OF_AREA].sum(axis=1)),
        "inpatients_per_million": n / population * 1e6,
    }
    for u, unit in enumerate(UNIT_TYPES):
        out[f"inpatients_{unit}"] = stock(inp[:, u].sum(axis=1))
    for c in COMMISSIONERS:
        units = [u for u, unit in enumerate(UNIT_TYPES) if COMMISSIONER_OF_UNIT[unit] == c]
        out[f"inpatients_{c}"] = stock(inp[:, units].sum(axis=(1, 2)))
    delayed = rec.delayed[:, tcps].sum(axis=1)  # [S, R]
    out["long_stayers_5y"] = stock(rec.long_stayers[:, tcps].sum(axis=(1, 2, 3)))
    out["delayed_discharges"] = stock(delayed.sum(axis=1))
    for r, reason in enumerate(DELAY_REASONS):
        out[f"delayed_discharges_{reason}"] = stock(delayed[:, r])
    register = rec.register[:, tcps].sum(axis=1)
    out["register"] = stock(register.sum(axis=1))
    for g, rag in enumerate(RAG):
        out[f"register_{rag}"] = stock(register[:, g])
    out["crisis_support"] = stock(rec.people[:, tcps, SUPPORT].sum(axis=1))
    placements = rec.placements[:, tcps].sum(axis=1)
    out["placements"] = stock(placements.sum(axis=1))
    for h, kind in enumerate(PLACEMENT_TYPES):
        out[f"placements_{kind}"] = stock(placements[:, h])
    delayed_days = rec.delayed_days[:, tcps].sum(axis=1)  # [M, R]
    out.update(
        {
            "admissions": _flow(adm.sum(axis=(1, 2))),
            "out_of_area_placements": _flow(adm[:, :, OUT_OF_AREA].sum(axis=1)),
            "out_of_area_full_beds": _flow(rec.ooa_full[:, tcps].sum(axis=(1, 2))),
            "readmissions_12m": _flow(rec.readmissions[:, tcps].sum(axis=1)),
            "discharges": _flow(dis.sum(axis=(1, 2))),
            "discharges_home": _flow(rec.discharges_home[:, tcps].sum(axis=1)),
            "repatriations": _flow(rec.repatriations[:, tcps].sum(axis=(1, 2))),
            "closure_moves": _flow(rec.closure_moves[:, tcps].sum(axis=(1, 2))),
            "clinically_ready": _flow(rec.ready[:, tcps].sum(axis=1)),
            "deaths_in_hospital": _flow(rec.deaths[:, tcps, 0].sum(axis=1)),
            "deaths_in_community": _flow(rec.deaths[:, tcps, 1].sum(axis=1)),
            "crises": _flow(rec.crises[:, tcps].sum(axis=1)),
            "ctrs_pre_admission": _flow(rec.ctr_pre[:, tcps].sum(axis=1)),
            "admissions_averted": _flow(rec.averted[:, tcps].sum(axis=1)),
            "ctrs_inpatient": _flow(rec.ctr_inpatient[:, tcps].sum(axis=(1, 2))),
            "breakdowns": _flow(rec.breakdowns[:, tcps].sum(axis=(1, 2))),
            "inpatient_days": _flow(days.sum(axis=(1, 2))),
            "inpatient_days_out_of_area": _flow(days[:, :, OUT_OF_AREA].sum(axis=1)),
            "delayed_bed_days": _flow(delayed_days.sum(axis=1)),
        }
    )
    for r, reason in enumerate(DELAY_REASONS):
        out[f"delayed_bed_days_{reason}"] = _flow(delayed_days[:, r])
    for u, unit in enumerate(UNIT_TYPES):  # by unit type: what one unit's beds change (capacity curves)
        out[f"admissions_{unit}"] = _flow(adm[:, u].sum(axis=1))
        out[f"out_of_area_placements_{unit}"] = _flow(adm[:, u, OUT_OF_AREA])
        out[f"out_of_area_full_beds_{unit}"] = _flow(rec.ooa_full[:, tcps, u].sum(axis=1))
    out.update(costs(spec, rec, tcps))
    return out


def metrics(spec: SystemSpec, rec: MonthlyArrays) -> dict[str, np.ndarray]:
    """Every named metric of one replication, each an array over the S stock points (start + months);
    flows are NaN at the start point. Names are documented in the README. Of a stacked record
    (``MonthlyArrays.stack``), each is [S, R]: the same numbers, computed in one pass (a replication at
    a time, the NumPy calls cost more than the Numba engine's run)."""
    everyone = list(range(len(spec.tcps)))
    out = _scoped(spec, rec, everyone, spec.population)
    out["beds_in_area"] = rec.beds.sum(axis=1).astype(np.float64)
    out["occupancy"] = _flow(_ratio(rec.occupied_days.sum(axis=1), rec.open_days.sum(axis=1)))
    for p in spec.pools:
        out[f"occupancy_{p.name}"] = _flow(_ratio(rec.occupied_days[:, p.index], rec.open_days[:, p.index]))
        out[f"beds_{p.name}"] = rec.beds[:, p.index].astype(np.float64)
    if spec.pooled_budget is not None:  # the pooled budget's ledger (sim.finance.ledger), system-wide
        if rec.stacked:  # the ledger works a replication at a time
            books = [ledger(spec, rec.replication(k)) for k in range(rec.people.shape[-1])]
            book = {name: np.stack([b[name] for b in books], axis=-1) for name in books[0]}
        else:
            book = ledger(spec, rec)
        for name, values in book.items():
            out[name] = values if name in LEDGER_STOCKS else _flow(values)
    if len(spec.tcps) > 1 and spec.tcp_metrics:
        for t in spec.tcps:
            for name, values in _scoped(spec, rec, [t.index], t.population).items():
                out[f"{t.name}/{name}"] = values
    return out
