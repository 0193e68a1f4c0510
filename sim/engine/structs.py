"""Bags of arrays passed to compiled code by reference (Numba StructRefs).

One struct (``StateRef``) holds everything the kernel touches: the system, this replication's state and
the record to fill. Passed as named tuples, ~200 arrays would be copied, reference-counted and
type-checked at every call, and compiling the loop took minutes. The kernel's functions take a view of
the struct (``StateView``): a plain pointer, with no reference count to keep, whose array fields are lent
to the kernel. Fields are read as attributes (``st.pool_of_unit``).
"""

from __future__ import annotations

import hashlib
from dataclasses import fields

from numba.core import cgutils, errors, imputils, types
from numba.core.datamodel import models
from numba.core.extending import infer_getattr, intrinsic, lower_getattr_generic, lower_setattr_generic, register_model
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
    "queue", "free", "n_free", "zeros_i", "zeros_f", "clocks",
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


class StateView(types.Type):
    """What the kernel's functions take: a borrowed pointer to a ``StateType`` struct's fields.

    A StructRef is reference counted: every call of a rule that passes it, and every read of an array
    field, costs an atomic increment and decrement, and these were most of the kernel's time (sampled
    with gdb). A view has no reference count, so passing it is passing a pointer, and reading an array
    field lends the array (a view with no owner). Safe because ``simulate`` makes the view from a struct
    its caller holds for the whole call, no view or lent array leaves compiled code, and the kernel can
    set only scalar fields through it (setting an array field is a compile error)."""

    def __init__(self, struct_type: types.StructRef) -> None:
        self.struct_type = struct_type
        super().__init__(name=f"View[{struct_type.name}]")

    @property
    def field_dict(self) -> dict:
        return self.struct_type.field_dict


@register_model(StateView)
class _ViewModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        payload = dmm.lookup(fe_type.struct_type.get_data_type())
        super().__init__(dmm, fe_type, payload.get_value_type().as_pointer())


@infer_getattr
class _ViewAttributes(AttributeTemplate):
    key = StateView

    def generic_resolve(self, typ, attr):
        return typ.field_dict.get(attr)


def _fields_of(context, builder, typ, val):
    return cgutils.create_struct_proxy(typ.struct_type.get_data_type())(context, builder, ref=val)


@lower_getattr_generic(StateView)
def _view_get(context, builder, typ, val, attr):
    ret = getattr(_fields_of(context, builder, typ, val), attr)
    fieldtype = typ.field_dict[attr]
    if not isinstance(fieldtype, types.Array):
        return ret
    lent = context.make_array(fieldtype)(context, builder, value=ret)
    lent.meminfo = cgutils.get_null_value(lent.meminfo.type)
    lent.parent = cgutils.get_null_value(lent.parent.type)
    return lent._getvalue()


@lower_setattr_generic(StateView)
def _view_set(context, builder, sig, args, attr):
    (view_type, val_type), (view, val) = sig.args, args
    fieldtype = view_type.field_dict[attr]
    if context.data_model_manager[fieldtype].contains_nrt_meminfo():
        raise errors.NumbaTypeError(f"the kernel sets only scalar fields of its struct, not {attr!r}")
    setattr(_fields_of(context, builder, view_type, view), attr, context.cast(builder, val, val_type, fieldtype))


@intrinsic
def view(typingctx, struct):
    """The view of a struct (see ``StateView``), valid while the caller holds the struct."""

    def codegen(context, builder, signature, args):
        return _Utils(context, builder, struct).get_data_pointer(args[0])

    return StateView(struct)(struct), codegen


@intrinsic
def flat(typingctx, array):
    """A C-contiguous array's cells along one axis, sharing its memory (as ``ravel``, which calls a C
    helper each time: a tenth of the kernel's time when the month end used it)."""
    if not isinstance(array, types.Array) or array.layout != "C":
        return None
    flat_type = array.copy(ndim=1, layout="C")

    def codegen(context, builder, signature, args):
        src = context.make_array(array)(context, builder, args[0])
        out = context.make_array(flat_type)(context, builder)
        context.populate_array(out, data=src.data, shape=[src.nitems], strides=[src.itemsize],
                               itemsize=src.itemsize, meminfo=src.meminfo, parent=src.parent)
        return imputils.impl_ret_borrowed(context, builder, flat_type, out._getvalue())

    return flat_type(array), codegen


# Module-level class: Numba's on-disk cache finds it again in the next process by name.
@structref.register
class StateType(_Unliteral):
    pass


class StateRef(structref.StructRefProxy):
    """Everything the kernel touches, in one struct: the system (EngineSpec's arrays, read only), this
    replication's state, and the record it fills (MonthlyArrays' arrays as ``rec_<name>``). One struct,
    so a call of a rule counts one reference instead of three."""


structref.define_proxy(StateRef, StateType, list(ALL_FIELDS))


@intrinsic
def _assemble(typingctx, fields):
    """The struct of ``fields`` (a tuple in ``ALL_FIELDS`` order), allocated and filled in one straight
    run of stores: the proxy's own constructor sets each field as a statement of its own (about 1 s more
    of the cold compile, for some 200 fields)."""
    from numba.experimental.jitclass.base import imp_dtor

    struct_type = StateType(list(zip(ALL_FIELDS, fields.types)))

    def codegen(context, builder, signature, args):
        payload_type = struct_type.get_data_type()
        alloc_type = context.data_model_manager[payload_type].get_value_type()
        meminfo = context.nrt.meminfo_alloc_dtor(
            builder, context.get_constant(types.uintp, context.get_abi_sizeof(alloc_type)),
            imp_dtor(context, builder.module, struct_type))
        pointer = builder.bitcast(context.nrt.meminfo_data(builder, meminfo), alloc_type.as_pointer())
        payload = cgutils.create_struct_proxy(payload_type)(context, builder, ref=pointer)
        for name, field_type, value in zip(ALL_FIELDS, fields.types, cgutils.unpack_tuple(builder, args[0])):
            context.nrt.incref(builder, field_type, value)  # the struct owns a reference to each array
            setattr(payload, name, value)
        ref = cgutils.create_struct_proxy(struct_type)(context, builder)
        ref.meminfo = meminfo
        return ref._getvalue()

    return struct_type(fields), codegen


# Built by a cached compiled function, not by the proxy's own constructor: that is compiled afresh in
# every process (about 1.5 s of a warm start), this loads from the cache with the engine.
@jit
def make_state(system, state, record):
    """The struct of three tuples of arrays: the system's, the state's and the record's, in field order."""
    return _assemble(system + state + record)
