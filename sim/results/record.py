"""The raw monthly record of one replication: what both engines fill (DESIGN.md section 5).

Stocks at month ends (index 0 is the start state, the end of the month before the start), flows within
months, and time integrals (bed-days, person-days) from which occupancy and costs are derived
(``sim.results.monthly``). Its shapes are the single source of the engines' state shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from sim.config.spec import SystemSpec
from sim.pathway import (
    AREAS,
    DEATH_PLACES,
    DELAY_REASONS,
    LONG_STAY_YEARS,
    PHASES,
    PLACEMENT_TYPES,
    RAG,
    STATES,
    TRANSFER_KINDS,
    UNIT_TYPES,
    WAIT_ENDS,
    WAIT_PLACES,
)


@dataclass
class MonthlyArrays:
    """One replication's record. Dimensions: S = months + 1 stock points, M = months, T = TCPs (the
    person's home), U = unit types, A = 2 areas (in, out of area), P = pools, X = states, G = RAG ratings,
    H = placement types, R = delay reasons, K = transfer kinds, W = where a person waits for a bed (crisis
    support, home), E = how a wait ends (admitted in area, out of area)."""

    # people in each state, and moves between states (conservation is checked on these)
    people: np.ndarray  # int64 [S, T, X]
    moves: np.ndarray  # int64 [M, T, X, X] from, to
    # inpatients
    inpatients: np.ndarray  # int64 [S, T, U, A]
    long_stayers: np.ndarray  # int64 [S, T, L], in hospital at least each of LONG_STAY_YEARS
    admissions: np.ndarray  # int64 [M, T, U, A], by where the bed was
    ooa_full: np.ndarray  # int64 [M, T, U], placed out of area because no in-area bed was free
    ooa_no_unit: np.ndarray  # int64 [M, T, U], placed out of area because the pool had no in-area beds at all
    readmissions: np.ndarray  # int64 [M, T], admissions within 12 months of a discharge
    discharges: np.ndarray  # int64 [M, T, U, A]
    discharges_home: np.ndarray  # int64 [M, T], of those, back to the home they came from (not a placement)
    repatriations: np.ndarray  # int64 [M, T, U], out-of-area inpatients moved to a freed in-area bed
    closure_moves: np.ndarray  # int64 [M, T, U], in-area inpatients moved out of area as their bed closed
    ready: np.ndarray  # int64 [M, T], inpatients becoming clinically ready for discharge
    transfers: np.ndarray  # int64 [M, T, K], moves between units without leaving hospital, by kind
    transitions: np.ndarray  # int64 [M, T], children reaching the transition age (moving to adult services)
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
    housing_free: np.ndarray  # int64 [S, T, H], units free (held for the cohort and open offers)
    housing_lapsed: np.ndarray  # int64 [M, T, H], market offers let elsewhere as nobody waiting took them
    breakdowns: np.ndarray  # int64 [M, T, H]
    settled: np.ndarray  # int64 [M, T], placements settling (``community.settle_years`` without a breakdown)
    settled_exits: np.ndarray  # int64 [M, T, 2], settled placements ending (SETTLED_EXITS: left, register)
    placement_days: np.ndarray  # float64 [M, T, U, A, H, 2], by the unit and area left; initial months, ongoing
    # float64 [M, T, U], person-days in the community of people discharged after 5+ years, by the unit they left
    dowry_days: np.ndarray
    # waiting in the community for an in-area bed (the "or wait" policy of a pool)
    waiting: np.ndarray  # int64 [S, T, W], people waiting at the month end, by where
    waits: np.ndarray  # int64 [M, T, U, W], waits started, by the unit waited for and where
    wait_ends: np.ndarray  # int64 [M, T, U, E], waits ended, by how
    wait_days: np.ndarray  # float64 [M, T, W], person-days waiting, by where

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
        a, d, f = len(AREAS), len(DEATH_PLACES), len(PHASES)
        shapes = {
            "people": (s, t, x),
            "moves": (m, t, x, x),
            "inpatients": (s, t, u, a),
            "long_stayers": (s, t, len(LONG_STAY_YEARS)),
            "admissions": (m, t, u, a),
            "ooa_full": (m, t, u),
            "ooa_no_unit": (m, t, u),
            "readmissions": (m, t),
            "discharges": (m, t, u, a),
            "discharges_home": (m, t),
            "repatriations": (m, t, u),
            "closure_moves": (m, t, u),
            "ready": (m, t),
            "transfers": (m, t, len(TRANSFER_KINDS)),
            "transitions": (m, t),
            "delayed": (s, t, r),
            "deaths": (m, t, d),
            "inpatient_days": (m, t, u, a),
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
            "housing_free": (s, t, h),
            "housing_lapsed": (m, t, h),
            "breakdowns": (m, t, h),
            "settled": (m, t),
            "settled_exits": (m, t, 2),
            "placement_days": (m, t, u, a, h, f),
            "dowry_days": (m, t, u),
            "waiting": (s, t, len(WAIT_PLACES)),
            "waits": (m, t, u, len(WAIT_PLACES)),
            "wait_ends": (m, t, u, len(WAIT_ENDS)),
            "wait_days": (m, t, len(WAIT_PLACES)),
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
