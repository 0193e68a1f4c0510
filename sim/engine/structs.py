"""Bags of arrays passed to compiled code by reference (Numba StructRefs).

The kernel's functions take one struct (``StateRef``): the system, this replication's state and the
record to fill. Passed as named tuples, ~130 arrays would be copied, reference-counted and type-checked
at every call, and compiling the loop took minutes; a StructRef is one pointer, so each function
compiles in a fraction of a second. Fields are read as attributes (``st.pool_of_unit``).
"""

from __future__ import annotations

import hashlib
from dataclasses import fields

from numba.core import cgutils, imputils, types
from numba.core.datamodel import default_manager, models
from numba.core.extending import infer_getattr, lower_getattr_generic, lower_setattr_generic
from numba.core.typing.templates import AttributeTemplate
from numba.experimental import structref
from numba.experimental.structref import _Utils

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
#: The state's scalar fields (the rest are arrays): the only fields the kernel ever sets.
STATE_SCALARS = ("n_people", "n_heap", "seq", "clock", "month", "replication", "status", "events", "n_inpatients", "n_free")
OUT_FIELDS = tuple(f.name for f in fields(MonthlyArrays))
#: The struct's fields: the system's, the state's, then the record's (``rec_<name>``).
ALL_FIELDS = (*EngineSpec._fields, *STATE_FIELDS, *(f"rec_{name}" for name in OUT_FIELDS))


class _Unliteral(types.StructRef):
    """Field types as given, never literal (so one compiled kernel serves every system), and a short name:
    Numba names a struct type by its every field and type (here some 15,000 characters), and that name
    is in every compiled function's symbol, which slows every compile."""

    def __init__(self, fields):
        super().__init__(fields)
        digest = hashlib.sha1(repr(self._fields).encode()).hexdigest()[:16]
        self.name = f"{self._typename}<{digest}>"

    def preprocess_fields(self, fields):
        return tuple((n, types.unliteral(t)) for n, t in fields)


def register_lending(struct_type: type) -> type:
    """``structref.register``, except that reading an array field lends it: the kernel gets a view with no
    owner (no meminfo), so reading ``st.people`` costs no reference count. Numba's own accessor adds an
    atomic increment and decrement for every read, and these reads are most of what the kernel does: about
    half its time went on them. Safe because the struct owns every array for as long as it lives (its
    constructor sets them, taking a reference), the kernel sets only scalar fields (tests/equivalence
    checks), and no view leaves compiled code."""
    default_manager.register(struct_type, models.StructRefModel)

    @infer_getattr
    class _Attributes(AttributeTemplate):
        key = struct_type

        def generic_resolve(self, typ, attr):
            return typ.field_dict.get(attr)

    @lower_getattr_generic(struct_type)
    def _get(context, builder, typ, val, attr):
        ret = getattr(_Utils(context, builder, typ).get_data_struct(val), attr)
        fieldtype = typ.field_dict[attr]
        if not isinstance(fieldtype, types.Array):
            return imputils.impl_ret_borrowed(context, builder, fieldtype, ret)
        view = context.make_array(fieldtype)(context, builder, value=ret)
        view.meminfo = cgutils.get_null_value(view.meminfo.type)
        view.parent = cgutils.get_null_value(view.parent.type)
        return view._getvalue()

    @lower_setattr_generic(struct_type)
    def _set(context, builder, sig, args, attr):
        (inst_type, val_type), (instance, val) = sig.args, args
        data = _Utils(context, builder, inst_type).get_data_struct(instance)
        casted = context.cast(builder, val, val_type, inst_type.field_dict[attr])
        old = getattr(data, attr)
        context.nrt.incref(builder, val_type, casted)
        context.nrt.decref(builder, val_type, old)
        setattr(data, attr, casted)

    return struct_type


# Module-level class: Numba's on-disk cache finds it again in the next process by name.
@register_lending
class StateType(_Unliteral):
    pass


class StateRef(structref.StructRefProxy):
    """Everything the kernel touches, in one struct: the system (EngineSpec's arrays, read only), this
    replication's state, and the record it fills (MonthlyArrays' arrays as ``rec_<name>``). One struct,
    so a call of a rule counts one reference instead of three."""


structref.define_proxy(StateRef, StateType, list(ALL_FIELDS))


# Built by a cached compiled function, not by the proxy's own constructor: that is compiled afresh in
# every process (about 1.5 s of a warm start), this loads from the cache with the engine.
@jit
def make_state(*fields):
    return StateRef(*fields)
