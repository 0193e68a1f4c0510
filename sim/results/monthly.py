"""The raw monthly record of one replication, and the metrics derived from it.

Both engines fill the same ``MonthlyArrays`` (stocks at month ends, flows within months, time integrals),
and ``metrics`` turns them into named metrics in one place, so a metric is defined once whatever engine
produced the numbers. Stocks are counted at the end of each month, as the national monthly census counts
them (index 0 is the start state, the end of the month before the start); flows are summed within the
month; occupancy is time-weighted (bed-days occupied over bed-days open).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from sim.config.schema import COMMISSIONER_OF_UNIT, COMMISSIONERS, UNIT_TYPES
from sim.config.spec import IN_AREA, OUT_OF_AREA, SystemSpec

LONG_STAY_DAYS = 5 * 365.25  # "in hospital 5+ years" (seed 001: 11 people in April 2017)


@dataclass
class MonthlyArrays:
    """One replication's record. Dimensions: S = months + 1 stock points, M = months, T = TCPs (home of
    the person), U = unit types, A = 2 areas (in, out of area), P = pools."""

    inpatients: np.ndarray  # int64 [S, T, U, A]
    long_stayers: np.ndarray  # int64 [S, T, U, A], in hospital 5+ years
    admissions: np.ndarray  # int64 [M, T, U, A], by where the bed was
    ooa_full: np.ndarray  # int64 [M, T, U], admissions placed out of area because no in-area bed was free
    discharges: np.ndarray  # int64 [M, T, U, A]
    inpatient_days: np.ndarray  # float64 [M, T, U, A], time integral of inpatients
    occupied_days: np.ndarray  # float64 [M, P], time integral of occupied in-area beds
    open_days: np.ndarray  # float64 [M, P], time integral of open in-area beds
    beds: np.ndarray  # int64 [S, P], open in-area beds at the month end

    @classmethod
    def zeros(cls, spec: SystemSpec) -> "MonthlyArrays":
        s, m = spec.calendar.n_months + 1, spec.calendar.n_months
        t, u, a, p = len(spec.tcps), len(UNIT_TYPES), 2, len(spec.pools)
        i, f = np.int64, np.float64
        return cls(
            inpatients=np.zeros((s, t, u, a), i),
            long_stayers=np.zeros((s, t, u, a), i),
            admissions=np.zeros((m, t, u, a), i),
            ooa_full=np.zeros((m, t, u), i),
            discharges=np.zeros((m, t, u, a), i),
            inpatient_days=np.zeros((m, t, u, a), f),
            occupied_days=np.zeros((m, p), f),
            open_days=np.zeros((m, p), f),
            beds=np.zeros((s, p), i),
        )

    def as_dict(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _scoped(spec: SystemSpec, rec: MonthlyArrays, t: slice | int, population: float) -> dict[str, np.ndarray]:
    """Person metrics of the TCPs selected by ``t`` (a slice for the system, an index for one TCP)."""
    nan = np.full(1, np.nan)  # flows have no value at the start point
    inp = rec.inpatients[:, t].reshape(rec.inpatients.shape[0], -1, len(UNIT_TYPES), 2).sum(axis=1)
    adm = rec.admissions[:, t].reshape(rec.admissions.shape[0], -1, len(UNIT_TYPES), 2).sum(axis=1)
    dis = rec.discharges[:, t].reshape(rec.discharges.shape[0], -1, len(UNIT_TYPES), 2).sum(axis=1)
    full = rec.ooa_full[:, t].reshape(rec.ooa_full.shape[0], -1, len(UNIT_TYPES)).sum(axis=1)
    long = rec.long_stayers[:, t].reshape(rec.long_stayers.shape[0], -1, len(UNIT_TYPES), 2).sum(axis=1)
    days = rec.inpatient_days[:, t].reshape(rec.inpatient_days.shape[0], -1, len(UNIT_TYPES), 2).sum(axis=1)

    def flow(x: np.ndarray) -> np.ndarray:
        return np.concatenate([nan, x.astype(np.float64)])

    total = inp.sum(axis=(1, 2)).astype(np.float64)
    out = {
        "inpatients": total,
        "inpatients_in_area": inp[:, :, IN_AREA].sum(axis=1).astype(np.float64),
        "inpatients_out_of_area": inp[:, :, OUT_OF_AREA].sum(axis=1).astype(np.float64),
        "inpatients_per_million": total / population * 1e6,
    }
    for u, unit in enumerate(UNIT_TYPES):
        out[f"inpatients_{unit}"] = inp[:, u].sum(axis=1).astype(np.float64)
    for c in COMMISSIONERS:
        units = [u for u, unit in enumerate(UNIT_TYPES) if COMMISSIONER_OF_UNIT[unit] == c]
        out[f"inpatients_{c}"] = inp[:, units].sum(axis=(1, 2)).astype(np.float64)
    out.update(
        {
            "long_stayers_5y": long.sum(axis=(1, 2)).astype(np.float64),
            "admissions": flow(adm.sum(axis=(1, 2))),
            "out_of_area_placements": flow(adm[:, :, OUT_OF_AREA].sum(axis=1)),
            "out_of_area_full_beds": flow(full.sum(axis=1)),
            "discharges": flow(dis.sum(axis=(1, 2))),
            "inpatient_days": flow(days.sum(axis=(1, 2))),
            "inpatient_days_out_of_area": flow(days[:, :, OUT_OF_AREA].sum(axis=1)),
        }
    )
    return out


def metrics(spec: SystemSpec, rec: MonthlyArrays) -> dict[str, np.ndarray]:
    """Every named metric of one replication, each an array over the S stock points (start + months);
    flows are NaN at the start point. Names are documented in the README."""
    out = _scoped(spec, rec, slice(None), spec.population)
    out["beds_in_area"] = rec.beds.sum(axis=1).astype(np.float64)
    nan = np.full(1, np.nan)
    out["occupancy"] = np.concatenate([nan, _ratio(rec.occupied_days.sum(axis=1), rec.open_days.sum(axis=1))])
    for p in spec.pools:
        out[f"occupancy_{p.name}"] = np.concatenate([nan, _ratio(rec.occupied_days[:, p.index], rec.open_days[:, p.index])])
        out[f"beds_{p.name}"] = rec.beds[:, p.index].astype(np.float64)
    if len(spec.tcps) > 1:
        for t in spec.tcps:
            for name, values in _scoped(spec, rec, t.index, t.population).items():
                out[f"{t.name}/{name}"] = values
    return out
