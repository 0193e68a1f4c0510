"""The compiled engine's state, on the Python side: the records of people, events and the heap (NumPy
dtypes), and ``new_state``, which lays out one replication's room and the record it fills.

The state's counts and integrals have the shapes of the record's cells (``MonthlyArrays.shapes``), so a
new unit type, reason or state changes them with the record; nothing here is a literal dimension.
"""

from __future__ import annotations

import math

import numpy as np

from sim.engine.structs import OUT_FIELDS, STATE_FIELDS, STATE_SCALARS, StateRef, make_state
from sim.results.record import MonthlyArrays

_i = np.int64

# A person is 416 bytes (52 eight-byte fields). Arrays start on a cache line, but 416 is not a multiple of
# 64, so a person spans seven lines and only every other one starts on one (at 320 bytes, five lines, each
# did). The first fields are all that a register event reads and writes, as most events of a large system
# are register events.
PERSON = np.dtype(
    [
        ("id", np.int64),
        ("tcp", np.int64),
        ("reg_event", np.int64),
        ("state", np.int64),
        ("rag", np.int64),
        ("episode", np.int64),
        ("sojourns", np.int64),
        ("crises", np.int64),
        ("child", np.int64),
        ("adult_in", np.float64),
        ("transfers", np.int64),
        ("supports", np.int64),
        ("admissions", np.int64),
        ("placements", np.int64),
        ("unit", np.int64),
        ("area", np.int64),
        ("pool", np.int64),
        ("by_need", np.int64),
        ("admitted", np.float64),
        ("ooa_since", np.float64),
        ("is_ready", np.int64),
        ("ready_at", np.float64),
        ("reason", np.int64),
        ("housed", np.int64),
        ("held", np.int64),
        ("expected_ready", np.float64),
        ("funding_at", np.float64),
        ("dispute_at", np.float64),
        ("provider_at", np.float64),
        ("death_at", np.float64),
        ("kind", np.int64),
        ("phase", np.int64),
        ("dowry_unit", np.int64),
        ("last_discharge", np.float64),
        # waiting in the community for an in-area bed (Model.start_wait)
        ("wait_since", np.float64),
        ("wait_los", np.float64),
        ("wait_place", np.int64),
        # loop state of the person's current process
        ("admission", np.int64),
        ("ctr_held", np.int64),
        ("next_ctr_at", np.float64),
        ("step_at", np.float64),  # the stay's step down or up to another unit (inf: none)
        ("step", np.int64),  # which: kind x U + unit (TcpSpec.step_hazards)
        ("breakdown_at", np.float64),
        ("pl_death_at", np.float64),
        ("initial_end_at", np.float64),
        ("settled_at", np.float64),
        ("exit_at", np.float64),
        ("exit_how", np.int64),
        # membership of one linked list at a time: a pool's repatriation candidates, a housing queue or
        # the people waiting in the community for a pool's bed
        ("list_id", np.int64),
        ("prev", np.int64),
        ("next", np.int64),
        ("ip_slot", np.int64),  # place in the list of current inpatients (month ends count long stayers there)
    ],
    align=True,
)

EVENT = np.dtype(
    [
        ("time", np.float64),
        ("kind", np.int64),
        ("key", np.int64),
        ("seq", np.int64),
        ("etype", np.int64),
        ("target", np.int64),
        ("aux", np.int64),
        ("episode", np.int64),
    ],
    align=True,
)

QUEUE = np.dtype([("time", np.float64), ("slot", np.int64)])  # a position of the binary heap

#: The integer columns of an event-log row (``log_int``; the time is ``log_time``): the columns of
#: ``sim.results.events.EVENT_LOG_COLUMNS`` after the replication and the time, in that order.
LOG_INT_COLUMNS = ("month", "person", "event", "tcp", "state", "unit", "area", "placement", "rag")

# Scalars (clock, counters, status: 0 ok, 1 people full, 2 heap full, 3 event log full) are fields of the
# state itself, not one-element arrays, and the only fields the kernel sets (sim/engine/structs.py,
# StateView). The event log's row count is the exception, an array (``log_n``), so Python can read it.


def on_lines(n: int, dtype: np.dtype) -> np.ndarray:
    """``np.empty(n, dtype)`` starting on a 64-byte boundary (a cache line), so that a record whose size
    is a multiple of 64 bytes spans as few lines as it can."""
    size = n * dtype.itemsize
    raw = np.empty(size + 64, np.uint8)
    start = -raw.ctypes.data % 64
    return raw[start : start + size].view(dtype)


def carve(shapes: dict[str, tuple[int, ...]], dtype) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Arrays of the given shapes as consecutive views of one flat buffer, so that one fill sets them all."""
    flat = np.zeros(sum(math.prod(shape) for shape in shapes.values()), dtype)
    views, at = {}, 0
    for name, shape in shapes.items():
        n = math.prod(shape)
        views[name] = flat[at : at + n].reshape(shape)
        at += n
    return flat, views


def new_state(
    spec, record_shapes: dict, n_out_tcps: int, n_pools: int, people_cap: int, heap_cap: int, log_cap: int = 0
) -> tuple[StateRef, MonthlyArrays, dict]:
    """The kernel's struct (Python side), the record it fills and the state's arrays, which the caller
    keeps as long as the struct (the struct does not own them): the system's arrays (``spec``, an
    EngineSpec), room for the state, reused replication after replication (``reset`` gives it its
    starting values at the start of each), and a MonthlyArrays of ``record_shapes``, also reset each
    time. What starts at zero (the record and the state's counts and integrals) lies in two flat
    buffers, and the integrals' clocks in a third, so a reset is three fills. With ``log_cap`` above 0,
    the kernel keeps an event log of up to that many rows (``log_time``, ``log_int``; ``log_n`` rows
    kept); with 0 it keeps none (``log_on`` 0: each event it would log costs one test)."""
    t, h = n_out_tcps, spec.housing_units.shape[1]
    # list ids: pools' candidates, then housing queues (t * h + kind), then each pool's waiting people
    n_lists = n_pools + t * h + n_pools

    def cell(field: str) -> tuple[int, ...]:
        """The cells of one month of a record field (its shape less the month axis), as the model keeps them."""
        return tuple(record_shapes[field][0][1:])

    counts = dict(
        pool_scheduled=(n_pools,),
        pool_occupied=(n_pools,),
        support_used=(t,),
        now_people=cell("people"),  # [T, X]
        now_inpatients=cell("inpatients"),  # [T, U, A]
        now_delayed=cell("delayed"),  # [T, R]
        now_register=cell("register"),  # [T, G]
        now_placements=cell("placement_days"),  # [T, U, A left, H, phase]
        now_dowry=cell("dowry_days"),  # [T, U]
        offers_made=(t, h),  # market housing offers numbered as they come, and how many are taken or lapsed
        offers_gone=(t, h),
        now_waiting=cell("waiting"),  # [T, W], waiting in the community for an in-area bed
    )
    integrals = dict(
        pool_occ_days=(n_pools,),
        pool_open_days=(n_pools,),
        inpatient_days=cell("inpatient_days"),
        delayed_days=cell("delayed_days"),
        support_days=cell("support_days"),
        placement_days=cell("placement_days"),
        dowry_days=cell("dowry_days"),
        wait_days=cell("wait_days"),
    )
    clocks = dict(
        pool_last=(n_pools,),
        last_inpatients=cell("inpatient_days"),
        last_delayed=cell("delayed_days"),
        last_support=cell("support_days"),
        last_placements=cell("placement_days"),
        last_dowry=cell("dowry_days"),
        last_waits=cell("wait_days"),
    )
    rec_int = {f"rec_{n}": shape for n, (shape, dtype) in record_shapes.items() if dtype == np.int64}
    rec_float = {f"rec_{n}": shape for n, (shape, dtype) in record_shapes.items() if dtype == np.float64}
    zeros_i, views_i = carve(rec_int | counts, np.int64)
    zeros_f, views_f = carve(rec_float | integrals, np.float64)
    clocks_f, views_c = carve(clocks, np.float64)
    arrays = (
        {name: _i(0) for name in STATE_SCALARS}
        | views_i
        | views_f
        | views_c
        | dict(  # scalars' values: reset's
            clock=np.float64(0.0),
            zeros_i=zeros_i,
            zeros_f=zeros_f,
            clocks=clocks_f,
            people=on_lines(people_cap, PERSON),
            heap=on_lines(heap_cap, EVENT),
            queue=on_lines(heap_cap + 1, QUEUE),
            free=np.empty(heap_cap, np.int64),
            housing_free=np.empty((t, h), np.int64),
            list_head=np.empty(n_lists, np.int64),
            inpatient_list=np.empty(people_cap, np.int64),
            log_on=_i(1 if log_cap > 0 else 0),
            log_n=np.zeros(1, np.int64),  # an array, so Python reads how many rows the run kept
            log_time=np.empty(log_cap, np.float64),
            log_int=np.empty((log_cap, len(LOG_INT_COLUMNS)), np.int64),
        )
    )
    record = MonthlyArrays(**{name: arrays[f"rec_{name}"] for name in OUT_FIELDS})
    state = make_state(
        [*spec, *(arrays[name] for name in STATE_FIELDS), *(arrays[f"rec_{name}"] for name in OUT_FIELDS)]
    )
    return state, record, arrays
