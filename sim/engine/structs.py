"""Bags of arrays passed to compiled code by reference (Numba StructRefs).

One struct (``StateRef``) holds everything the kernel touches: the system, this replication's state and
the record to fill. Passed as named tuples, some 130 arrays would be copied, reference-counted and
type-checked at every call, and compiling the loop took minutes. The kernel's functions take a view of
the struct (``StateView``): a plain pointer, with no reference count to keep, whose arrays have no owner
to count either. Fields are read as attributes (``st.pool_of_unit``).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import fields

import numba
import numpy as np
from numba.core import cgutils, errors, imputils, types
from numba.core.datamodel import models
from numba.core.extending import infer_getattr, intrinsic, lower_getattr_generic, lower_setattr_generic, register_model
from numba.core.typing.templates import AttributeTemplate
from numba.experimental import structref
from numba.experimental.structref import _Utils

from sim.engine.build import EngineSpec
from sim.results.record import MonthlyArrays
from sim.sampling._jit import jit

STATE_FIELDS = (
    "people",
    "n_people",
    "heap",
    "n_heap",
    "seq",
    "clock",
    "month",
    "replication",
    "pool_scheduled",
    "pool_occupied",
    "pool_last",
    "pool_occ_days",
    "pool_open_days",
    "housing_free",
    "offers_made",
    "offers_gone",
    "support_used",
    "list_head",
    "now_people",
    "now_inpatients",
    "now_delayed",
    "now_register",
    "now_placements",
    "now_dowry",
    "inpatient_days",
    "delayed_days",
    "support_days",
    "placement_days",
    "dowry_days",
    "status",
    "events",
    "inpatient_list",
    "n_inpatients",
    "last_inpatients",
    "last_delayed",
    "last_support",
    "last_placements",
    "last_dowry",
    "queue",
    "free",
    "n_free",
    "zeros_i",
    "zeros_f",
    "clocks",
    "now_waiting",
    "wait_days",
    "last_waits",
    "log_on",
    "log_n",
    "log_time",
    "log_int",
)
#: The state's scalar fields (the rest are arrays): the only fields the kernel ever sets.
STATE_SCALARS = (
    "n_people",
    "n_heap",
    "seq",
    "clock",
    "month",
    "replication",
    "status",
    "events",
    "n_inpatients",
    "n_free",
    "log_on",
)
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
    field counts nothing either: the struct's arrays have no owner (``make_state``; the Engine keeps
    the NumPy arrays), and the view's reader says so to the compiler. Safe because ``simulate`` makes
    the view from a struct its caller holds for the whole call, no view leaves compiled code, and the
    kernel can set only scalar fields through it (setting a reference-counted field is a compile error)."""

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
    # The struct's arrays have no owner already (``make_state``), but only at run time: saying so here,
    # with a constant null owner, lets LLVM drop every reference count of the array it would otherwise
    # call for (a third of the kernel's time without it).
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
        context.populate_array(
            out,
            data=src.data,
            shape=[src.nitems],
            strides=[src.itemsize],
            itemsize=src.itemsize,
            meminfo=src.meminfo,
            parent=src.parent,
        )
        return imputils.impl_ret_borrowed(context, builder, flat_type, out._getvalue())

    return flat_type(array), codegen


# Module-level class: Numba's on-disk cache finds it again in the next process by name.
@structref.register
class StateType(_Unliteral):
    pass


class StateRef(structref.StructRefProxy):
    """Everything the kernel touches, in one struct: the system (EngineSpec's arrays, read only), this
    replication's state, and the record it fills (MonthlyArrays' arrays as ``rec_<name>``). Python only
    holds it and hands it to ``simulate``: it has no attributes here, and is made by ``make_state``."""


structref.define_boxing(StateType, StateRef)


def _field_kind(value) -> tuple:
    """What the struct's type needs of a field's value: its dtype and number of dimensions, or its kind of scalar."""
    if isinstance(value, np.ndarray):
        return value.dtype, value.ndim
    return (float,) if isinstance(value, (float, np.floating)) else (int,)


@functools.lru_cache(maxsize=8)
def _struct_type(kinds: tuple) -> StateType:
    """The struct's type for fields of these kinds (a memo: making some 130 Numba types took 3 ms, for
    every Engine, that is for every chunk of a run)."""

    def field_type(kind):
        if len(kind) == 2:
            return types.Array(numba.from_dtype(kind[0]), kind[1], "C")
        return types.float64 if kind[0] is float else types.int64

    return StateType([(name, field_type(kind)) for name, kind in zip(ALL_FIELDS, kinds, strict=True)])


@intrinsic
def _assemble(typingctx, addresses, dims, ints, floats, struct_ref):
    """The struct of type ``struct_ref``: each array field made from its data address and dimensions
    (C order), each scalar from ``ints`` or ``floats``, fields in order within each kind.

    Not from the arrays themselves: unboxing some 130 NumPy arrays in a compiled function's wrapper was
    2 s of the cold compile, where four arrays of numbers cost nothing. The struct's arrays therefore
    have no owner: the caller keeps the NumPy arrays alive as long as the struct (``Engine`` holds both)."""
    struct_type = struct_ref.instance_type

    def codegen(context, builder, signature, args):
        payload_type = struct_type.get_data_type()
        alloc_type = context.data_model_manager[payload_type].get_value_type()
        # no destructor: no field holds a reference (the arrays have no owner), so there is nothing to release
        meminfo = context.nrt.meminfo_alloc(
            builder, context.get_constant(types.uintp, context.get_abi_sizeof(alloc_type))
        )
        pointer = builder.bitcast(context.nrt.meminfo_data(builder, meminfo), alloc_type.as_pointer())
        builder.store(cgutils.get_null_value(alloc_type), pointer)
        payload = cgutils.create_struct_proxy(payload_type)(context, builder, ref=pointer)
        sources = [context.make_array(t)(context, builder, v) for t, v in zip(signature.args[:4], args[:4])]
        counters = [0, 0, 0, 0]  # next address, dimension, int, float

        def take(k):
            value = builder.load(builder.gep(sources[k].data, [context.get_constant(types.intp, counters[k])]))
            counters[k] += 1
            return value

        for name, field_type in struct_type.field_dict.items():
            if isinstance(field_type, types.Array):
                array = context.make_array(field_type)(context, builder)
                data_type = array.data.type
                data = builder.inttoptr(take(0), data_type)
                shape = [take(1) for _ in range(field_type.ndim)]
                itemsize = context.get_constant(
                    types.intp, context.get_abi_sizeof(context.get_data_type(field_type.dtype))
                )
                strides, step = [], itemsize
                for extent in reversed(shape):
                    strides.insert(0, step)
                    step = builder.mul(step, extent)
                context.populate_array(
                    array,
                    data=data,
                    shape=shape,
                    strides=strides,
                    itemsize=itemsize,
                    meminfo=cgutils.get_null_value(array.meminfo.type),
                )
                setattr(payload, name, array._getvalue())
            elif field_type == types.float64:
                setattr(payload, name, take(3))
            else:
                setattr(payload, name, take(2))
        ref = cgutils.create_struct_proxy(struct_type)(context, builder)
        ref.meminfo = meminfo
        return ref._getvalue()

    return struct_type(addresses, dims, ints, floats, struct_ref), codegen


@jit
def _make(addresses, dims, ints, floats, struct_ref):
    return _assemble(addresses, dims, ints, floats, struct_ref)


def make_state(values: list) -> StateRef:
    """The struct of ``values`` (one per ``ALL_FIELDS``: C-contiguous arrays, ints and floats). The struct
    does not own the arrays: keep them as long as it."""
    kinds = tuple(_field_kind(v) for v in values)
    struct_type = _struct_type(kinds)
    arrays = [v for v in values if isinstance(v, np.ndarray)]
    if not all(a.flags.c_contiguous for a in arrays):
        raise ValueError("the engine's arrays must be C-contiguous")
    as_int = np.array([a.ctypes.data for a in arrays], np.int64)
    dims = np.array([d for a in arrays for d in a.shape], np.int64)
    ints = np.array([v for v, k in zip(values, kinds) if k == (int,)], np.int64)
    floats = np.array([v for v, k in zip(values, kinds) if k == (float,)], np.float64)
    return _make(as_int, dims, ints, floats, struct_type)
