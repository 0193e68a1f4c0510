"""Bags of arrays passed to compiled code by reference (Numba StructRefs).

The kernel's functions take the system (``SpecRef``), this replication's state (``StateRef``) and the
record to fill (``OutRef``). Passed as named tuples, ~100 arrays would be copied, reference-counted and
type-checked at every call, and compiling the loop took minutes; a StructRef is one pointer, so each
function compiles in a fraction of a second and calls cost nothing. Fields are read as attributes
(``S.pool_of_unit``), exactly as on the named tuples they are built from.
"""

from __future__ import annotations

from dataclasses import fields

from numba.core import types
from numba.experimental import structref

from sim.engine.build import EngineSpec
from sim.sampling._jit import jit
from sim.results.monthly import MonthlyArrays

STATE_FIELDS = (
    "people", "n_people", "heap", "n_heap", "seq", "clock", "month", "replication",
    "pool_scheduled", "pool_occupied", "pool_last", "pool_occ_days", "pool_open_days",
    "housing_free", "support_used", "list_head",
    "now_people", "now_inpatients", "now_delayed", "now_register", "now_placements", "now_dowry",
    "inpatient_days", "delayed_days", "support_days", "placement_days", "dowry_days", "status", "events",
    "inpatient_list", "n_inpatients",
    "last_inpatients", "last_delayed", "last_support", "last_placements", "last_dowry",
    "order", "order_time", "free", "n_free",
)
OUT_FIELDS = tuple(f.name for f in fields(MonthlyArrays))


class _Unliteral(types.StructRef):
    """Field types as given, never literal (so one compiled kernel serves every system)."""

    def preprocess_fields(self, fields):
        return tuple((n, types.unliteral(t)) for n, t in fields)


# Module-level classes: Numba's on-disk cache finds them again in the next process by name.
@structref.register
class SpecType(_Unliteral):
    pass


@structref.register
class StateType(_Unliteral):
    pass


@structref.register
class OutType(_Unliteral):
    pass


class SpecRef(structref.StructRefProxy):
    """The system (EngineSpec's arrays), read only."""


class StateRef(structref.StructRefProxy):
    """One replication's state."""


class OutRef(structref.StructRefProxy):
    """The record to fill (MonthlyArrays' arrays)."""


structref.define_proxy(SpecRef, SpecType, list(EngineSpec._fields))
structref.define_proxy(StateRef, StateType, list(STATE_FIELDS))
structref.define_proxy(OutRef, OutType, list(OUT_FIELDS))


# Built by cached compiled functions, not by the proxies' own constructors: those are compiled afresh in
# every process (about 1.5 s of a warm start), these load from the cache with the engine.
@jit
def make_spec(*fields):
    return SpecRef(*fields)


@jit
def make_state(*fields):
    return StateRef(*fields)


@jit
def make_out(*fields):
    return OutRef(*fields)
