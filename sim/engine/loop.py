"""The compiled event loop: the SimPy model's rules over typed arrays, drawing the very same numbers.

Each function here mirrors a method of ``sim.model.model.Model`` of the same name (read that file for
the rules; this one is about doing them fast). A SimPy process becomes an event type with the process's
loop state kept on the person; its episode check becomes an ``episode`` carried by the event. Events
are ordered as in the model: (time, ``Priority``, entity number, order scheduled). Every function takes
``st``, the view of one struct (sim/engine/structs.py): the system's arrays (``EngineSpec``, read only),
this replication's state, and the record it fills (``MonthlyArrays``' fields as ``st.rec_<name>``), so
metrics and costs are derived by the same code for both engines.

The words and codes come from ``sim.pathway``, the arithmetic both engines share from
``sim.arithmetic``, the state's layout from ``sim.engine.state``. Why the loop is laid out as it is (the
heap, the ``forceinline`` handlers, the view of the struct) and what each step gave: docs/engine.md.
"""

from __future__ import annotations

import math

import numpy as np

from sim import pathway
from sim.arithmetic import (
    adult_in,
    ctr_ready_prob,
    discharge_times,
    first_unmet,
    hazard_pick,
    hazard_total,
    next_ctr,
    planning_start,
    resumed_breakdown_time,
)
from sim.engine.structs import flat, view
from sim.pathway import Priority
from sim.sampling import EntityKind, Stream, choice, entity_id, exponential, residual, sample, uniform_pair
from sim.sampling._jit import jit, kernel

INF = np.inf

# Integer constants are NumPy scalars, not Python ints: Numba types a global Python int as a literal and
# compiles a helper once for every literal it is called with (171 specialisations of the kernel's
# functions instead of about 70, doubling the cold compile). A NumPy int64 is typed as plain int64.
_i = np.int64
CAMHS, RED, AMBER = _i(pathway.CAMHS), _i(pathway.RED), _i(pathway.AMBER)
CAMHS_TO_ADULT = _i(pathway.CAMHS_TO_ADULT)
HOUSING, FUNDING, DISPUTE, PROVIDER = (
    _i(r) for r in (pathway.HOUSING, pathway.FUNDING, pathway.DISPUTE, pathway.PROVIDER)
)
FIFO = _i(pathway.FIFO)
IN_AREA, OUT_OF_AREA = _i(pathway.IN_AREA), _i(pathway.OUT_OF_AREA)
# source kinds (SOURCE_KINDS); the housing kinds follow in placement-type order: kind = HOUSING_SOURCE + type
UNREGISTERED, REGISTER_JOIN, HOUSING_SOURCE = (
    _i(pathway.SOURCE_KINDS.index(k)) for k in ("unregistered", "register_join", "housing_bespoke_single")
)
REG_CRISIS, REG_LEAVE = _i(pathway.REG_CRISIS), _i(pathway.REG_LEAVE)
# the kind of event (Priority) of each register event, as codes
REGISTER_EVENT_PRIORITY = np.array(pathway.REGISTER_EVENT_PRIORITY, dtype=np.int64)
NONE, ZERO, ONE = _i(-1), _i(0), _i(1)  # for call arguments

# Priorities of simultaneous events: the model's, so the two engines cannot drift apart
MONTH_END, SCHEDULE, DEPARTURE, PROGRESS, CRISIS, JOIN = (_i(p) for p in Priority)

# Event types: what the popped event does
(
    EV_MONTH,
    EV_BED,
    EV_PIPELINE,
    EV_SUPPLY,
    EV_ARRIVAL,
    EV_REGISTER,
    EV_SUPPORT,
    EV_STAY,
    EV_DELAY,
    EV_PLACEMENT,
    EV_LAPSE,
    EV_AGE,
    EV_WAIT,
) = map(_i, range(13))
STAY_DEATH, STAY_CTR, STAY_READY, STAY_STEP = map(_i, range(4))  # branches of the stay loop
N_UNITS = _i(len(pathway.UNIT_TYPES))  # a step's code is kind x N_UNITS + unit (TcpSpec.step_hazards)
PL_INITIAL_END, PL_SETTLED, PL_DEATH, PL_EXIT, PL_BREAKDOWN = map(_i, range(5))  # branches of the placement loop

S_ARRIVAL, S_ROUTE, S_LOS, S_RESIDUAL = (
    _i(s) for s in (Stream.ARRIVAL, Stream.ROUTE, Stream.LOS, Stream.CENSUS_RESIDUAL)
)
S_JOIN, S_RAG, S_CTR, S_SUPPORT = (
    _i(s) for s in (Stream.REGISTER_JOIN, Stream.REGISTER_RAG, Stream.CTR, Stream.CRISIS_SUPPORT_LOS)
)
S_INPATIENT_CTR, S_DELAY, S_PLACEMENT, S_SETTLED_EXIT = (
    _i(s) for s in (Stream.INPATIENT_CTR, Stream.DISCHARGE_DELAY, Stream.PLACEMENT, Stream.SETTLED_EXIT)
)
S_BREAKDOWN, S_DEATH, S_PERSON, S_HOME, S_TRANSFER = (
    _i(s) for s in (Stream.BREAKDOWN, Stream.DEATH, Stream.PERSON, Stream.RETURN_HOME, Stream.TRANSFER)
)
S_STEP = _i(Stream.STEP)
K_CENSUS, K_ARRIVAL, K_REGISTER, K_SOURCE, K_COMMUNITY = (
    _i(k) for k in (EntityKind.CENSUS, EntityKind.ARRIVAL, EntityKind.REGISTER, EntityKind.SOURCE, EntityKind.COMMUNITY)
)
OUTSIDE, REGISTER, SUPPORT, INPATIENT, PLACEMENT, LEFT = (
    _i(x)
    for x in (pathway.OUTSIDE, pathway.REGISTER, pathway.SUPPORT, pathway.INPATIENT, pathway.PLACEMENT, pathway.LEFT)
)
INITIAL, ONGOING = _i(pathway.INITIAL), _i(pathway.ONGOING)
SETTLED_LEFT, GREEN = _i(pathway.SETTLED_LEFT), _i(pathway.GREEN)
HOSPITAL, COMMUNITY = _i(pathway.HOSPITAL), _i(pathway.COMMUNITY)
AWAITING_BED = _i(pathway.AWAITING_BED)
WAIT_SUPPORT, WAIT_HOME = _i(pathway.WAIT_SUPPORT), _i(pathway.WAIT_HOME)
WAIT_ADMITTED, WAIT_OUT_OF_AREA = _i(pathway.WAIT_ADMITTED), _i(pathway.WAIT_OUT_OF_AREA)
LONG_STAY_DAYS, READMISSION_DAYS = pathway.LONG_STAY_DAYS, pathway.READMISSION_DAYS
LONG_STAYS = np.array([y * pathway.DAYS_PER_YEAR for y in pathway.LONG_STAY_YEARS])  # days
# kinds of event of the event log (EVENT_KINDS), as codes
(
    E_REGISTER_START,
    E_REGISTER_JOIN,
    E_RAG,
    E_REGISTER_LEAVE,
    E_CRISIS,
    E_CTR,
    E_AVERTED,
    E_SUPPORT,
    E_REGISTER_RED,
    E_AWAIT_BED,
    E_ADMISSION,
    E_CENSUS,
    E_TRANSFER,
    E_INPATIENT_CTR,
    E_ADULT,
    E_READY,
    E_HOUSED,
    E_DISCHARGE,
    E_DISCHARGE_HOME,
    E_REPATRIATION,
    E_CLOSURE_MOVE,
    E_DEATH,
    E_COMMUNITY_START,
    E_BREAKDOWN,
    E_SETTLED,
    E_SETTLED_LEAVE,
    E_SETTLED_REGISTER,
) = (_i(pathway.EVENT_CODE[name]) for name in pathway.EVENT_KINDS)
LOG_FULL = _i(3)  # the status of a run whose event log filled up (Engine.run retries with more room)


@kernel
def reset(st, replication) -> None:
    """The state at the start of a replication: nobody yet, an empty event heap, every count and record
    zero and every time integral's clock at the start of the warm-up. The one place initial values are set."""
    start = -st.warmup
    st.n_people = 0
    st.n_heap = 0
    st.seq = 0
    free = st.free
    n = free.shape[0]
    for k in range(n):
        free[k] = n - 1 - k
    st.n_free = n
    st.clock = start
    st.month = -1
    st.replication = replication
    st.status = 0
    st.events = 0
    st.n_inpatients = 0
    st.zeros_i[:] = 0  # the record, the counts (pools, support places, people by state and cell)
    st.zeros_f[:] = 0.0  # the record's and the state's time integrals
    st.clocks[:] = start
    units, housing_free = st.housing_units, st.housing_free
    for t in range(housing_free.shape[0]):
        for kind in range(housing_free.shape[1]):
            housing_free[t, kind] = max(units[t, kind], 0)
    st.list_head[:] = -1
    st.log_n[0] = 0


# ------------------------------------------------------------------------------------------ the heap


# Events live in slots of ``st.heap`` (records, written once); the binary heap ``st.queue`` holds each
# position's time and slot number side by side, so sifting moves 16 bytes instead of a whole record, a
# sift compares times in one contiguous array and reads the records only to break a tie, and a
# position's time and slot (and its sibling's) share a cache line (a national system keeps some 30,000
# events pending). Free slots are a stack.


@kernel
def _before(h, a, b) -> bool:
    """Of two events at the same time, does the one in slot a come first: (priority, entity, order made)."""
    ea, eb = h[a], h[b]
    if ea.kind != eb.kind:
        return ea.kind < eb.kind
    if ea.key != eb.key:
        return ea.key < eb.key
    return ea.seq < eb.seq


@kernel
def schedule(st, delay, kind, key, etype, target, aux, episode) -> None:
    """Push an event ``delay`` from now (time = now + delay, as SimPy computes it)."""
    if st.n_free == 0:
        st.status = 2
        return
    st.n_free -= 1
    slot = st.free[st.n_free]
    h = st.heap
    time = st.clock + delay
    h[slot].time = time
    h[slot].kind = kind
    h[slot].key = key
    h[slot].seq = st.seq
    h[slot].etype = etype
    h[slot].target = target
    h[slot].aux = aux
    h[slot].episode = episode
    st.seq += 1
    q = st.queue
    i = st.n_heap
    st.n_heap = i + 1
    q[i + 1].time = INF  # the sentinel past the end (see pop)
    while i > 0:  # sift the new slot up, moving parents down into the hole
        parent = (i - 1) // 2
        tp = q[parent].time
        if time > tp or (time == tp and not _before(h, slot, q[parent].slot)):
            break
        q[i].time = tp
        q[i].slot = q[parent].slot
        i = parent
    q[i].time = time
    q[i].slot = slot


@kernel(forceinline=True)
def pop(st):
    """Remove the first event; returns (time, etype, target, aux, episode). Bottom-up (Floyd): the hole
    left at the root goes down to a leaf by the smaller child, then the last slot rises from there
    (rarely more than a level, as the last slot is a late event). The smaller child is picked without a
    branch (which child is smaller is a coin toss the processor cannot predict), a tie in time aside;
    the queue holds +inf just past the end, so a last child needs no test either."""
    h = st.heap
    q = st.queue
    top = q[0].slot
    e = h[top]
    popped = (e.time, e.etype, e.target, e.aux, e.episode)
    st.free[st.n_free] = top
    st.n_free += 1
    n = st.n_heap - 1
    st.n_heap = n
    last, t_last = q[n].slot, q[n].time
    q[n].time = INF
    if n > 0:
        i = 0
        child = 1
        while child < n:
            tc, tr = q[child].time, q[child + 1].time
            if tr == tc:
                if _before(h, q[child + 1].slot, q[child].slot):
                    child += 1
            else:
                child += tr < tc
            q[i].time = q[child].time
            q[i].slot = q[child].slot
            i = child
            child = 2 * i + 1
        while i > 0:
            parent = (i - 1) // 2
            tp = q[parent].time
            if t_last > tp or (t_last == tp and not _before(h, last, q[parent].slot)):
                break
            q[i].time = tp
            q[i].slot = q[parent].slot
            i = parent
        q[i].time = t_last
        q[i].slot = last
    return popped


# ---------------------------------------------------------------------------------- linked lists


@kernel
def list_add(st, lst, i) -> None:
    """Put person i at the head of list ``lst`` (a pool's repatriation candidates or a housing queue)."""
    P = st.people
    head = st.list_head[lst]
    P[i].list_id = lst
    P[i].prev = -1
    P[i].next = head
    if head >= 0:
        P[head].prev = i
    st.list_head[lst] = i


@kernel
def list_remove(st, i) -> None:
    P = st.people
    lst = P[i].list_id
    if lst < 0:
        return
    if P[i].prev >= 0:
        P[P[i].prev].next = P[i].next
    else:
        st.list_head[lst] = P[i].next
    if P[i].next >= 0:
        P[P[i].next].prev = P[i].prev
    P[i].list_id = -1
    P[i].prev = -1
    P[i].next = -1


# ----------------------------------------------------------------------------------------- helpers


@kernel
def draw(st, stream, key, occurrence):
    return uniform_pair(st.seed, st.replication, stream, key, occurrence)


@kernel
def dist(st, d):
    return st.dists[st.dist_start[d] : st.dist_end[d]]


@kernel
def sure_choice(cum) -> int:
    """The category ``choice`` picks whatever its uniform, or -1 if that depends on it: the first one of
    positive probability, when it has all of it. A draw whose answer is known is skipped (draws are
    addressed, so skipping one changes no other number)."""
    j = choice(0.0, cum)
    return j if cum[j] >= 1.0 else -1


@kernel
def delay(st, d, stream, key, occurrence) -> float:
    if d < 0:
        return 0.0
    u0, u1 = draw(st, stream, key, occurrence)
    return sample(dist(st, d), u0, u1)


@kernel
def beds_at(st, pool, t) -> int:
    a, b = st.pool_step_start[pool], st.pool_step_end[pool]
    i = np.searchsorted(st.step_days[a:b], max(t, 0.0), side="right") - 1
    return st.step_beds[a + i]


@kernel
def open_beds(st, pool) -> int:
    return max(st.pool_scheduled[pool], st.pool_occupied[pool])


# Time integrals are kept lazily: a cell's person-days are brought up to now just before its count
# changes (``touch_*``), and every cell at a month end (``on_month_end``). The SimPy model accrues every cell at
# every event instead; the sums differ only by rounding (tests/equivalence allows 1e-9), and each event
# costs the same whatever the number of TCPs and pools.


@kernel
def touch_inpatients(st, t, u, a) -> None:
    now = st.clock
    st.inpatient_days[t, u, a] += st.now_inpatients[t, u, a] * (now - st.last_inpatients[t, u, a])
    st.last_inpatients[t, u, a] = now


@kernel
def touch_delayed(st, t, r) -> None:
    now = st.clock
    st.delayed_days[t, r] += st.now_delayed[t, r] * (now - st.last_delayed[t, r])
    st.last_delayed[t, r] = now


@kernel
def touch_support(st, t) -> None:
    now = st.clock
    st.support_days[t] += st.now_people[t, SUPPORT] * (now - st.last_support[t])
    st.last_support[t] = now


@kernel
def touch_placements(st, t, u, a, h, phase) -> None:
    now = st.clock
    st.placement_days[t, u, a, h, phase] += st.now_placements[t, u, a, h, phase] * (
        now - st.last_placements[t, u, a, h, phase]
    )
    st.last_placements[t, u, a, h, phase] = now


@kernel
def touch_dowry(st, t, u) -> None:
    now = st.clock
    st.dowry_days[t, u] += st.now_dowry[t, u] * (now - st.last_dowry[t, u])
    st.last_dowry[t, u] = now


@kernel
def touch_pool(st, q) -> None:
    now = st.clock
    d = now - st.pool_last[q]
    st.pool_occ_days[q] += st.pool_occupied[q] * d
    st.pool_open_days[q] += open_beds(st, q) * d
    st.pool_last[q] = now


@kernel
def note(st, ev, i) -> None:
    """Model.note: a row of the event log (the clock, the month counting it, then the person, event ``ev``,
    tcp, state, unit, area, placement type and RAG rating) if the run keeps one. A full log stops the
    run (``LOG_FULL``), and the engine runs it again with more room."""
    if st.log_on == 0:
        return
    n = st.log_n[0]
    if n >= st.log_time.shape[0]:
        st.status = LOG_FULL
        return
    P, row = st.people, st.log_int
    st.log_time[n] = st.clock
    row[n, 0] = st.month
    row[n, 1] = P[i].id
    row[n, 2] = ev
    row[n, 3] = P[i].tcp
    row[n, 4] = P[i].state
    row[n, 5] = P[i].unit
    row[n, 6] = P[i].area
    row[n, 7] = P[i].kind
    row[n, 8] = P[i].rag
    st.log_n[0] = n + 1


@kernel
def move(st, i, state, ev) -> None:
    """Every change of state (Model.move), logged as event ``ev``."""
    P = st.people
    t, old = P[i].tcp, P[i].state
    if old == SUPPORT or state == SUPPORT:
        touch_support(st, t)
    if old != OUTSIDE:
        st.now_people[t, old] -= 1
    if old == REGISTER:
        st.now_register[t, P[i].rag] -= 1
    if st.month >= 0:
        st.rec_moves[st.month, t, old, state] += 1
    P[i].state = state
    if state != OUTSIDE:
        st.now_people[t, state] += 1
    if state == REGISTER:
        st.now_register[t, P[i].rag] += 1
    P[i].episode += 1
    note(st, ev, i)


@kernel
def new_person(st, kind, index, number, tcp, child_share) -> int:
    """A person new to the model, a child with probability ``child_share`` (Model.new_person)."""
    pid = entity_id(kind, index, number)
    n = add_person(st, pid, tcp)
    if n >= 0 and child_share > 0:  # a draw whose answer is known is skipped (draws are addressed)
        u_child, u_age = draw(st, S_PERSON, pid, ZERO)
        if u_child < child_share:
            make_child(st, n, u_age, -1.0)
    return n


@kernel
def make_child(st, i, u_age, days_left) -> None:
    P = st.people
    P[i].child = 1
    P[i].adult_in = days_left if days_left >= 0 else adult_in(u_age, st.child_span[P[i].tcp])


@kernel
def meet(st, i) -> None:
    """Model.meet: a child reaches the transition age ``adult_in`` days on."""
    P = st.people
    if P[i].child == 1:
        schedule(st, P[i].adult_in, PROGRESS, P[i].id, EV_AGE, i, ZERO, ZERO)


@kernel
def come_of_age(st, i) -> None:
    """Model.come_of_age: an adult now; a CAMHS tier 4 inpatient not yet ready moves to an adult unit
    or is ready for discharge."""
    P = st.people
    if P[i].state == LEFT:
        return
    P[i].child = 0
    t = P[i].tcp
    count(st, st.rec_transitions, t)
    note(st, E_ADULT, i)
    if P[i].state != INPATIENT or P[i].unit != CAMHS or P[i].is_ready == 1:
        return
    u_move = draw(st, S_TRANSFER, P[i].id, P[i].transfers)[0]
    P[i].transfers += 1
    if u_move < st.to_adult_unit[t] and st.route_cum[t, -1] > 0:
        transfer(st, i, CAMHS_TO_ADULT, NONE)
        return
    P[i].episode += 1
    P[i].ready_at = st.clock
    await_start(st, i, NONE)


@kernel
def add_person(st, pid, tcp) -> int:
    n = st.n_people
    if n >= st.people.shape[0]:
        st.status = 1
        return -1
    st.n_people = n + 1
    P = st.people
    P[n].id = pid
    P[n].tcp = tcp
    P[n].child = 0
    P[n].adult_in = INF
    P[n].transfers = 0
    P[n].state = OUTSIDE
    P[n].rag = -1
    P[n].unit = -1
    P[n].area = -1
    P[n].pool = -1
    P[n].reason = -1
    P[n].kind = -1
    P[n].dowry_unit = -1
    P[n].death_at = INF
    P[n].last_discharge = -INF
    P[n].wait_since = 0.0
    P[n].wait_los = 0.0
    P[n].wait_place = -1
    P[n].list_id = -1
    P[n].prev = -1
    P[n].next = -1
    P[n].episode = 0
    P[n].sojourns = 0
    P[n].crises = 0
    P[n].supports = 0
    P[n].admissions = 0
    P[n].placements = 0
    P[n].by_need = 0
    P[n].is_ready = 0
    P[n].housed = 0
    P[n].held = 0
    P[n].phase = INITIAL
    # set before they are read; zero so that a reused slot holds nothing of an earlier replication
    P[n].admitted = 0.0
    P[n].ooa_since = 0.0
    P[n].ready_at = 0.0
    P[n].expected_ready = 0.0
    P[n].funding_at = 0.0
    P[n].dispute_at = 0.0
    P[n].provider_at = 0.0
    P[n].next_ctr_at = 0.0
    P[n].step_at = 0.0
    P[n].step = 0
    P[n].breakdown_at = 0.0
    P[n].pl_death_at = 0.0
    P[n].initial_end_at = 0.0
    P[n].settled_at = 0.0
    P[n].exit_at = 0.0
    P[n].exit_how = -1
    P[n].reg_event = 0
    P[n].admission = 0
    P[n].ctr_held = 0
    P[n].ip_slot = 0
    return n


@kernel
def count(st, flow, t) -> None:
    if st.month >= 0:
        flow[st.month, t] += 1


# -------------------------------------------------------------------------------------- register


@kernel
def join_register(st, i, ev) -> None:
    move(st, i, REGISTER, ev)
    register_next(st, i)


@kernel
def register_next(st, i) -> None:
    """Draw the member's next register event (Model.register_life, up to its yield): its kind is the
    first cumulative hazard share above u, as ``choice`` picks it, without building the arrays."""
    P = st.people
    rates = st.reg_hazards[P[i].tcp, P[i].rag]  # REGISTER_EVENTS order
    total = hazard_total(rates)
    if total <= 0:
        return
    u_event, u_time = draw(st, S_RAG, P[i].id, P[i].sojourns)
    P[i].sojourns += 1
    event = hazard_pick(u_event, rates, total)
    P[i].reg_event = event
    kind = REGISTER_EVENT_PRIORITY[event]
    schedule(st, exponential(u_time, 1.0 / total), kind, P[i].id, EV_REGISTER, i, event, P[i].episode)


@kernel
def on_register(st, i, episode) -> None:
    P = st.people
    if P[i].episode != episode:
        return
    event = P[i].reg_event
    if event == REG_CRISIS:
        crisis(st, i)
        return
    if event == REG_LEAVE:
        move(st, i, LEFT, E_REGISTER_LEAVE)
        return
    st.now_register[P[i].tcp, P[i].rag] -= 1
    P[i].rag = event - 1
    st.now_register[P[i].tcp, P[i].rag] += 1
    note(st, E_RAG, i)
    register_next(st, i)


# ---------------------------------------------------------------------------- crisis and its CTR


@kernel
def crisis(st, i) -> None:
    P = st.people
    t = P[i].tcp
    count(st, st.rec_crises, t)
    note(st, E_CRISIS, i)
    crises = P[i].crises
    P[i].crises += 1
    if st.ctr_coverage[t] > 0:  # with no CTRs the draw's answer is known: skipped (draws are addressed)
        u_ctr, u_avert = draw(st, S_CTR, P[i].id, crises)
        if u_ctr < st.ctr_coverage[t]:
            count(st, st.rec_ctr_pre, t)
            note(st, E_CTR, i)
            if st.support_used[t] < st.support_places[t] and u_avert < st.ctr_avert[t]:
                count(st, st.rec_averted, t)
                note(st, E_AVERTED, i)
                start_support(st, i)
                return
    admit(st, i)


@kernel
def start_support(st, i) -> None:
    P = st.people
    t = P[i].tcp
    st.support_used[t] += 1
    move(st, i, SUPPORT, E_SUPPORT)
    length = delay(st, st.support_length[t], S_SUPPORT, P[i].id, P[i].supports)
    P[i].supports += 1
    schedule(st, length, DEPARTURE, P[i].id, EV_SUPPORT, i, ZERO, P[i].episode)


@kernel
def on_support_end(st, i) -> None:
    P = st.people
    st.support_used[P[i].tcp] -= 1
    P[i].rag = RED
    join_register(st, i, E_REGISTER_RED)


# --------------------------------------------------------------------------- admission and stay


@kernel
def admit(st, i) -> None:
    """Model.admit: by need, no local unit, a free bed, a wait for one, or full beds."""
    P = st.people
    t = P[i].tcp
    u = CAMHS if P[i].child == 1 else sure_choice(st.route_cum[t])
    if u < 0 or st.ooa_need[t, u] > 0:  # else neither the unit nor the need takes the draw: skipped
        u_unit, u_need = draw(st, S_ROUTE, P[i].id, P[i].admissions)
        if u < 0:
            u = choice(u_unit, st.route_cum[t])
        P[i].by_need = 1 if u_need < st.ooa_need[t, u] else 0
    else:
        P[i].by_need = 0
    P[i].unit = u
    P[i].pool = st.pool_of_unit[t, u]
    q = P[i].pool
    u0, u1 = draw(st, S_LOS, P[i].id, P[i].admissions)
    length = sample(dist(st, st.pool_los[q]), u0, u1)
    if P[i].by_need == 1:
        area = OUT_OF_AREA
    elif st.pool_scheduled[q] == 0:
        area = OUT_OF_AREA
        if st.month >= 0:
            st.rec_ooa_no_unit[st.month, t, u] += 1
    elif st.pool_occupied[q] < st.pool_scheduled[q]:
        area = IN_AREA
    elif st.pool_wait[q] > 0:
        start_wait(st, i, length)
        return
    else:
        area = OUT_OF_AREA
        if st.month >= 0:
            st.rec_ooa_full[st.month, t, u] += 1
    hospitalise(st, i, area, length)


@kernel
def hospitalise(st, i, area, length) -> None:
    """Model.hospitalise: into hospital now, counted as an admission."""
    P = st.people
    t = P[i].tcp
    P[i].area = area
    if st.month >= 0:
        st.rec_admissions[st.month, t, P[i].unit, area] += 1
    if st.clock - P[i].last_discharge <= READMISSION_DAYS:
        count(st, st.rec_readmissions, t)
    enter_hospital(st, i, st.clock, E_ADMISSION)
    stay_start(st, i, length, 0.0)


# ---------------------------------------------------------------------------- or wait for a bed


@kernel
def wait_list(st, q) -> int:
    """The list id of the people waiting in the community for a bed of pool q (after the housing queues)."""
    return st.pool_scheduled.shape[0] + st.housing_free.shape[0] * st.housing_free.shape[1] + q


@kernel
def touch_waits(st, t, w) -> None:
    now = st.clock
    st.wait_days[t, w] += st.now_waiting[t, w] * (now - st.last_waits[t, w])
    st.last_waits[t, w] = now


@kernel
def start_wait(st, i, length) -> None:
    """Model.start_wait: wait in the community for an in-area bed, in a crisis-support place if one is
    free, until one frees (admit_waiting) or the pool's wait has passed (an EV_WAIT event)."""
    P = st.people
    t = P[i].tcp
    P[i].wait_since = st.clock
    P[i].wait_los = length
    w = WAIT_SUPPORT if st.support_used[t] < st.support_places[t] else WAIT_HOME
    P[i].wait_place = w
    if w == WAIT_SUPPORT:
        st.support_used[t] += 1
    move(st, i, AWAITING_BED, E_AWAIT_BED)
    touch_waits(st, t, w)
    st.now_waiting[t, w] += 1
    if st.month >= 0:
        st.rec_waits[st.month, t, P[i].unit, w] += 1
    list_add(st, wait_list(st, P[i].pool), i)
    schedule(st, st.pool_wait[P[i].pool], CRISIS, P[i].id, EV_WAIT, i, ZERO, P[i].episode)


@kernel
def on_wait_end(st, i, episode) -> None:
    """Model.await_bed after its wait: still waiting, so out of area for want of a bed."""
    P = st.people
    if P[i].episode != episode:
        return
    end_wait(st, i, WAIT_OUT_OF_AREA)
    if st.month >= 0:
        st.rec_ooa_full[st.month, P[i].tcp, P[i].unit] += 1
    hospitalise(st, i, OUT_OF_AREA, P[i].wait_los)


@kernel
def end_wait(st, i, how) -> None:
    """Model.end_wait: off the pool's waiting list, its crisis-support place free."""
    P = st.people
    t, w = P[i].tcp, P[i].wait_place
    list_remove(st, i)
    touch_waits(st, t, w)
    st.now_waiting[t, w] -= 1
    if w == WAIT_SUPPORT:
        st.support_used[t] -= 1
    if st.month >= 0:
        st.rec_wait_ends[st.month, t, P[i].unit, how] += 1


@kernel
def admit_waiting(st, q) -> None:
    """Model.admit_waiting: free beds of pool q to the people waiting for one, longest waiting first."""
    P = st.people
    lst = wait_list(st, q)
    while st.list_head[lst] >= 0 and st.pool_occupied[q] < st.pool_scheduled[q]:
        best = -1
        j = st.list_head[lst]
        while j >= 0:
            if (
                best < 0
                or P[j].wait_since < P[best].wait_since
                or (P[j].wait_since == P[best].wait_since and P[j].id < P[best].id)
            ):
                best = j
            j = P[j].next
        end_wait(st, best, WAIT_ADMITTED)
        hospitalise(st, best, IN_AREA, P[best].wait_los)


@kernel
def close_waits(st, s, m, record) -> None:
    """Model.month_ends for the waits: the month's waiting days (when ``record``) and who waits at boundary s."""
    close_month(
        flat(st.wait_days), flat(st.now_waiting), flat(st.last_waits), flat(st.rec_wait_days[m]), st.clock, record
    )
    copy_flat(flat(st.rec_waiting[s]), flat(st.now_waiting))


@kernel
def transfer(st, i, kind, unit) -> None:
    """Model.transfer: to ``unit`` (-1: an adult unit type by the TCP's shares) without leaving hospital."""
    P = st.people
    t = P[i].tcp
    u_unit, u_need = draw(st, S_ROUTE, P[i].id, P[i].admissions)
    if st.month >= 0:
        st.rec_transfers[st.month, t, kind] += 1
    leave_bed(st, i)
    u = unit if unit >= 0 else choice(u_unit, st.route_cum[t])
    q = st.pool_of_unit[t, u]
    P[i].unit = u
    P[i].pool = q
    P[i].by_need = 1 if u_need < st.ooa_need[t, u] else 0
    P[i].area = OUT_OF_AREA if P[i].by_need == 1 or st.pool_occupied[q] >= st.pool_scheduled[q] else IN_AREA
    P[i].ooa_since = st.clock
    u0, u1 = draw(st, S_LOS, P[i].id, P[i].admissions)
    length = residual(dist(st, st.pool_los[q]), st.clock - P[i].admitted, u0, u1)
    take_bed(st, i)
    P[i].admissions += 1
    P[i].episode += 1
    note(st, E_TRANSFER, i)
    stay_start(st, i, length, 0.0)


@kernel
def take_bed(st, i) -> None:
    """Model.take_bed: into the stocks at the person's unit and area."""
    P = st.people
    touch_inpatients(st, P[i].tcp, P[i].unit, P[i].area)
    st.now_inpatients[P[i].tcp, P[i].unit, P[i].area] += 1
    if P[i].area == IN_AREA:
        touch_pool(st, P[i].pool)
        st.pool_occupied[P[i].pool] += 1
    elif P[i].by_need == 0 and st.repatriation[P[i].tcp] == 1:
        list_add(st, P[i].pool, i)  # a repatriation candidate


@kernel
def leave_bed(st, i) -> None:
    """Model.leave_bed: out of the stocks of the person's unit and area; a freed in-area bed repatriates."""
    P = st.people
    touch_inpatients(st, P[i].tcp, P[i].unit, P[i].area)
    st.now_inpatients[P[i].tcp, P[i].unit, P[i].area] -= 1
    if P[i].list_id >= 0 and P[i].list_id < st.pool_scheduled.shape[0]:
        list_remove(st, i)
    if P[i].area == IN_AREA:
        touch_pool(st, P[i].pool)
        st.pool_occupied[P[i].pool] -= 1
        repatriate(st, P[i].pool)


@kernel
def enter_hospital(st, i, admitted, ev) -> None:
    P = st.people
    P[i].admitted = admitted
    P[i].ooa_since = admitted
    P[i].is_ready = 0
    P[i].reason = -1
    P[i].housed = 0
    move(st, i, INPATIENT, ev)
    take_bed(st, i)
    P[i].admissions += 1
    k = st.n_inpatients
    st.inpatient_list[k] = i
    P[i].ip_slot = k
    st.n_inpatients = k + 1


@kernel
def stay_start(st, i, length, elapsed) -> None:
    """Model.stay up to its first yield: death time, readiness, the CTR schedule."""
    P = st.people
    t = P[i].tcp
    admission = P[i].admissions - 1
    P[i].admission = admission
    P[i].death_at = hospital_death_at(st, i, admission)
    P[i].ready_at = st.clock + length
    P[i].expected_ready = P[i].ready_at
    next_step(st, i, admission)
    held, wait = next_ctr(elapsed, st.ctr_first[t], st.ctr_interval[t, P[i].unit])
    P[i].ctr_held = held
    P[i].next_ctr_at = st.clock + wait
    stay_next(st, i)


@kernel
def hospital_death_at(st, i, admission) -> float:
    """Model.hospital_death_at."""
    P = st.people
    rate = st.hospital_death[P[i].tcp]
    if rate <= 0:
        return INF
    return st.clock + exponential(draw(st, S_DEATH, P[i].id, 2 * admission)[1], 1.0 / rate)


@kernel
def ready_at_start(st, i, ready_at, delayed_for) -> None:
    """Model.ready_at_start: a census row ready and delayed at the start waits for discharge."""
    P = st.people
    P[i].admission = 0
    P[i].death_at = hospital_death_at(st, i, ZERO)
    P[i].ready_at = ready_at
    P[i].expected_ready = ready_at
    await_start(st, i, delayed_for)


@kernel
def next_step(st, i, admission) -> None:
    """Model.next_step: when the stay's step down or up would come (inf: none) and which."""
    P = st.people
    rates = st.step_hazards[P[i].tcp, P[i].unit]
    total = hazard_total(rates)
    if total <= 0:  # no draw when no step can happen
        P[i].step_at = INF
        return
    u_step, u_time = draw(st, S_STEP, P[i].id, admission)
    P[i].step = hazard_pick(u_step, rates, total)
    P[i].step_at = st.clock + exponential(u_time, 1.0 / total)


@kernel
def stay_next(st, i) -> None:
    """The stay loop's next wait: death, an inpatient CTR, a step to another unit, or readiness,
    whichever is first."""
    P = st.people
    t = min(P[i].ready_at, P[i].death_at, P[i].next_ctr_at, P[i].step_at)
    now = st.clock
    if t == P[i].death_at:
        schedule(st, t - now, DEPARTURE, P[i].id, EV_STAY, i, STAY_DEATH, P[i].episode)
    elif t == P[i].next_ctr_at:
        schedule(st, t - now, PROGRESS, P[i].id, EV_STAY, i, STAY_CTR, P[i].episode)
    elif t == P[i].step_at:
        schedule(st, t - now, PROGRESS, P[i].id, EV_STAY, i, STAY_STEP, P[i].episode)
    else:
        schedule(st, t - now, DEPARTURE, P[i].id, EV_STAY, i, STAY_READY, P[i].episode)


@kernel(forceinline=True)
def on_stay(st, i, branch, episode) -> None:
    P = st.people
    if P[i].episode != episode:
        return
    if branch == STAY_DEATH:
        die(st, i, HOSPITAL)
        return
    if branch == STAY_CTR:
        t = P[i].tcp
        if st.month >= 0:
            st.rec_ctr_inpatient[st.month, t, P[i].unit] += 1
        occurrence = (P[i].admission << 16) | P[i].ctr_held
        ready = ctr_ready_prob(st.clock - P[i].admitted, st.ctr_ready[t], st.ctr_ready_long[t], st.ctr_long_stay[t])
        if draw(st, S_INPATIENT_CTR, P[i].id, occurrence)[0] < ready:
            P[i].ready_at = st.clock
        P[i].ctr_held += 1
        P[i].next_ctr_at = st.clock + st.ctr_interval[t, P[i].unit]
        note(st, E_INPATIENT_CTR, i)
        stay_next(st, i)
        return
    if branch == STAY_STEP:
        transfer(st, i, P[i].step // N_UNITS, P[i].step % N_UNITS)
        return
    await_start(st, i, NONE)


# ------------------------------------------------------------------------------------- discharge


@kernel
def await_start(st, i, delayed_for) -> None:
    """Model.await_discharge up to its loop."""
    P = st.people
    t = P[i].tcp
    admission = P[i].admission
    count(st, st.rec_ready, t)
    home = st.return_home[t, P[i].unit] > 0 and draw(st, S_HOME, P[i].id, admission)[0] < st.return_home[t, P[i].unit]
    if delayed_for < 0 and home and st.clock - P[i].admitted < st.return_within[t]:
        discharge(st, i, ONE)
        return
    kind, u_dispute = sure_choice(st.placement_cum[t, P[i].unit]), 1.0
    if kind < 0 or st.dispute_prob[t] > 0:  # else the draw's answer is known: skipped
        u_kind, u_dispute = draw(st, S_PLACEMENT, P[i].id, admission)
        if kind < 0:
            kind = choice(u_kind, st.placement_cum[t, P[i].unit])
    P[i].kind = kind
    plan = planning_start(P[i].admitted, P[i].expected_ready, P[i].ready_at, st.planning_lead[t])
    P[i].is_ready = 1
    provider = delay(st, st.provider_lead[t], S_DELAY, P[i].id, 3 * admission)
    funding = delay(st, st.funding_delay[t], S_DELAY, P[i].id, 3 * admission + 1)
    dispute = 0.0
    if u_dispute < st.dispute_prob[t] or delayed_for == DISPUTE:
        dispute = delay(st, st.dispute_delay[t], S_DELAY, P[i].id, 3 * admission + 2)
    P[i].provider_at, P[i].funding_at, P[i].dispute_at = discharge_times(
        delayed_for, st.clock, plan, provider, funding, dispute
    )
    list_remove(st, i)  # a ready person is not moved between hospitals
    note(st, E_READY, i)
    episode = P[i].episode
    if delayed_for > HOUSING:
        P[i].housed = 1  # found outside the stock before the start
    else:
        request_housing(st, i)
    await_loop(st, i, episode)


@kernel
def await_loop(st, i, episode) -> None:
    P = st.people
    if P[i].episode != episode:
        return
    if update_reason(st, i) < 0:
        discharge(st, i, ZERO)
        return
    now = st.clock
    t = P[i].death_at
    for x in (P[i].funding_at, P[i].dispute_at, P[i].provider_at):
        if x > now and x < t:
            t = x
    if t == INF:
        return
    schedule(st, t - now, DEPARTURE, P[i].id, EV_DELAY, i, ZERO, episode)


@kernel
def on_delay(st, i, episode) -> None:
    P = st.people
    if P[i].episode != episode:
        return
    if st.clock >= P[i].death_at:
        die(st, i, HOSPITAL)
        return
    await_loop(st, i, episode)


@kernel
def delay_reason(st, i) -> int:
    P = st.people
    return first_unmet(st.clock, P[i].housed != 0, P[i].funding_at, P[i].dispute_at, P[i].provider_at)


@kernel
def update_reason(st, i) -> int:
    P = st.people
    reason = delay_reason(st, i)
    if reason != P[i].reason:
        if P[i].reason >= 0:
            touch_delayed(st, P[i].tcp, P[i].reason)
            st.now_delayed[P[i].tcp, P[i].reason] -= 1
        if reason >= 0:
            touch_delayed(st, P[i].tcp, reason)
            st.now_delayed[P[i].tcp, reason] += 1
        P[i].reason = reason
    return reason


@kernel
def housing_list(st, t, kind) -> int:
    return st.pool_scheduled.shape[0] + t * st.housing_free.shape[1] + kind


@kernel
def request_housing(st, i) -> None:
    P = st.people
    t, kind = P[i].tcp, P[i].kind
    if st.housing_units[t, kind] < 0:
        P[i].housed = 1
    else:
        list_add(st, housing_list(st, t, kind), i)
        allocate_housing(st, t, kind)


@kernel
def housing_available(st, t, kind) -> int:
    """Model's ``Housing.available``: units held for the cohort plus the market offers still open."""
    return st.housing_free[t, kind] + st.offers_made[t, kind] - st.offers_gone[t, kind]


@kernel
def allocate_housing(st, t, kind) -> None:
    """Free units to waiting people, FIFO by readiness or longest stay first, ties by entity number;
    open offers first (Model.allocate_housing)."""
    P = st.people
    lst = housing_list(st, t, kind)
    while housing_available(st, t, kind) > 0 and st.list_head[lst] >= 0:
        best = -1
        j = st.list_head[lst]
        while j >= 0:
            if best < 0:
                best = j
            else:
                a = P[j].ready_at if st.policy[t] == FIFO else P[j].admitted
                b = P[best].ready_at if st.policy[t] == FIFO else P[best].admitted
                if a < b or (a == b and P[j].id < P[best].id):
                    best = j
            j = P[j].next
        list_remove(st, best)
        if st.offers_made[t, kind] > st.offers_gone[t, kind]:  # an open offer first (it lapses)
            st.offers_gone[t, kind] += 1
            P[best].held = 0
        else:
            st.housing_free[t, kind] -= 1
            P[best].held = 1
        P[best].housed = 1
        note(st, E_HOUSED, best)
        if update_reason(st, best) < 0:
            discharge(st, best, ZERO)


@kernel
def free_housing(st, i) -> None:
    """Model.free_housing: a held unit back to the cohort's stock, a market unit offered again."""
    P = st.people
    t, kind = P[i].tcp, P[i].kind
    if st.housing_units[t, kind] < 0:
        return
    if P[i].held == 1:
        st.housing_free[t, kind] += 1
        allocate_housing(st, t, kind)
    else:
        offer(st, t, kind)


@kernel
def offer(st, t, kind) -> None:
    """Model.offer: a market unit, offered to whoever waits, else open until its lapse event."""
    number = st.offers_made[t, kind]
    st.offers_made[t, kind] = number + 1
    key = t * st.housing_free.shape[1] + kind
    schedule(st, st.offer_hold[t, kind], SCHEDULE, key, EV_LAPSE, key, number, ZERO)
    allocate_housing(st, t, kind)


@kernel
def on_lapse(st, key, number) -> None:
    """Model.lapse: the offer is let elsewhere if still open."""
    h = st.housing_free.shape[1]
    t, kind = key // h, key % h
    if number >= st.offers_gone[t, kind]:
        st.offers_gone[t, kind] = number + 1
        if st.month >= 0:
            st.rec_housing_lapsed[st.month, t, kind] += 1


@kernel
def leave_hospital(st, i) -> None:
    P = st.people
    t = P[i].tcp
    if P[i].reason >= 0:
        touch_delayed(st, t, P[i].reason)
        st.now_delayed[t, P[i].reason] -= 1
        P[i].reason = -1
    last = st.inpatient_list[st.n_inpatients - 1]  # swap the last inpatient into this one's slot
    st.inpatient_list[P[i].ip_slot] = last
    P[last].ip_slot = P[i].ip_slot
    st.n_inpatients -= 1
    leave_bed(st, i)


@kernel
def discharge(st, i, home) -> None:
    P = st.people
    t = P[i].tcp
    if st.month >= 0:
        st.rec_discharges[st.month, t, P[i].unit, P[i].area] += 1
    leave_hospital(st, i)
    P[i].last_discharge = st.clock
    if home:
        count(st, st.rec_discharges_home, t)
        P[i].rag = AMBER
        join_register(st, i, E_DISCHARGE_HOME)
        return
    P[i].dowry_unit = P[i].unit if st.clock - P[i].admitted >= LONG_STAY_DAYS else -1
    move(st, i, PLACEMENT, E_DISCHARGE)
    placement_start(st, i, 0.0)


@kernel
def die(st, i, where) -> None:
    P = st.people
    if st.month >= 0:
        st.rec_deaths[st.month, P[i].tcp, where] += 1
    if where == HOSPITAL:
        if P[i].is_ready == 1 and P[i].housed == 0:
            list_remove(st, i)
        leave_hospital(st, i)
        if P[i].housed == 1:
            free_housing(st, i)
    move(st, i, LEFT, E_DEATH)


@kernel
def repatriate(st, q) -> None:
    """Free in-area beds to people waiting for one (admit_waiting), then to out-of-area candidates of the
    pool, longest out first (Model.repatriate)."""
    admit_waiting(st, q)
    P = st.people
    while st.pool_occupied[q] < st.pool_scheduled[q]:
        best = -1
        j = st.list_head[q]
        while j >= 0:  # candidates are of TCPs that repatriate (enter_hospital, close_occupied)
            if (
                best < 0
                or P[j].ooa_since < P[best].ooa_since
                or (P[j].ooa_since == P[best].ooa_since and P[j].id < P[best].id)
            ):
                best = j
            j = P[j].next
        if best < 0:
            return
        list_remove(st, best)
        change_area(st, best, IN_AREA)
        if st.month >= 0:
            st.rec_repatriations[st.month, P[best].tcp, P[best].unit] += 1
        note(st, E_REPATRIATION, best)


@kernel
def change_area(st, i, area) -> None:
    """An inpatient moves between an in-area bed of their pool and a bed out of area (repatriation, or a
    bed closing under them): the stocks by area, the pool's occupied beds, the person's area."""
    P = st.people
    t, u, q, old = P[i].tcp, P[i].unit, P[i].pool, P[i].area
    touch_inpatients(st, t, u, old)
    touch_inpatients(st, t, u, area)
    st.now_inpatients[t, u, old] -= 1
    st.now_inpatients[t, u, area] += 1
    P[i].area = area
    touch_pool(st, q)
    st.pool_occupied[q] += 1 if area == IN_AREA else -1


# -------------------------------------------------------------------------------------- community


@kernel
def set_placement(st, i, phase, change) -> None:
    P = st.people
    P[i].phase = phase
    touch_placements(st, P[i].tcp, P[i].unit, P[i].area, P[i].kind, phase)
    st.now_placements[P[i].tcp, P[i].unit, P[i].area, P[i].kind, phase] += change


@kernel
def placement_start(st, i, elapsed) -> None:
    """Model.placement up to its loop: a placement that began ``elapsed`` days ago (0: a discharge now)."""
    P = st.people
    t = P[i].tcp
    now = st.clock
    start = now - elapsed
    number = P[i].placements
    P[i].placements += 1
    set_placement(st, i, INITIAL if elapsed < st.initial_days[t] else ONGOING, ONE)
    if P[i].dowry_unit >= 0:
        touch_dowry(st, t, P[i].dowry_unit)
        st.now_dowry[t, P[i].dowry_unit] += 1
    P[i].breakdown_at = INF
    if st.breakdown_first[t] > 0 or st.breakdown_after[t] > 0:  # no draw when no breakdown can happen
        hazard = -math.log1p(-draw(st, S_BREAKDOWN, P[i].id, number)[1])
        P[i].breakdown_at = resumed_breakdown_time(
            now, elapsed, hazard, st.breakdown_first[t], st.breakdown_after[t], st.settle[t]
        )
    P[i].pl_death_at = INF
    if st.community_death[t] > 0:
        u_death = draw(st, S_DEATH, P[i].id, 2 * number + 1)[1]
        P[i].pl_death_at = now + exponential(u_death, 1.0 / st.community_death[t])
    P[i].initial_end_at = start + st.initial_days[t] if P[i].phase == INITIAL else INF
    P[i].settled_at = start + st.settle[t]
    P[i].exit_at = INF
    P[i].exit_how = -1
    if elapsed > 0 and elapsed >= st.settle[t]:  # settled before the start
        P[i].settled_at = INF
        settle(st, i)
    placement_next(st, i)


@kernel
def placement_next(st, i) -> None:
    """The placement loop's next wait (Model.placement): the first of its five times; ties in the model's order."""
    P = st.people
    t = min(P[i].breakdown_at, P[i].pl_death_at, P[i].initial_end_at, P[i].settled_at, P[i].exit_at)
    if t == INF:
        return
    now = st.clock
    if t == P[i].initial_end_at:
        schedule(st, t - now, PROGRESS, P[i].id, EV_PLACEMENT, i, PL_INITIAL_END, P[i].episode)
    elif t == P[i].settled_at:
        schedule(st, t - now, PROGRESS, P[i].id, EV_PLACEMENT, i, PL_SETTLED, P[i].episode)
    elif t == P[i].pl_death_at:
        schedule(st, t - now, DEPARTURE, P[i].id, EV_PLACEMENT, i, PL_DEATH, P[i].episode)
    elif t == P[i].exit_at:
        schedule(st, t - now, DEPARTURE, P[i].id, EV_PLACEMENT, i, PL_EXIT, P[i].episode)
    else:
        schedule(st, t - now, CRISIS, P[i].id, EV_PLACEMENT, i, PL_BREAKDOWN, P[i].episode)


@kernel(forceinline=True)
def on_placement(st, i, branch, episode) -> None:
    P = st.people
    if P[i].episode != episode:
        return
    if branch == PL_INITIAL_END:
        set_placement(st, i, INITIAL, NONE)
        set_placement(st, i, ONGOING, ONE)
        P[i].initial_end_at = INF
        placement_next(st, i)
        return
    if branch == PL_SETTLED:
        P[i].settled_at = INF
        settle(st, i)
        placement_next(st, i)
        return
    if branch == PL_DEATH:
        end_placement(st, i, ONE)
        die(st, i, COMMUNITY)
        return
    if branch == PL_EXIT:
        leave_settled(st, i)
        return
    if st.month >= 0:
        st.rec_breakdowns[st.month, P[i].tcp, P[i].kind] += 1
    note(st, E_BREAKDOWN, i)
    end_placement(st, i, ONE)
    crisis(st, i)


@kernel
def settle(st, i) -> None:
    """Model.settle: when and how the settled placement will end."""
    P = st.people
    t = P[i].tcp
    count(st, st.rec_settled, t)
    note(st, E_SETTLED, i)
    rates = st.settled_exit[t]
    total = hazard_total(rates)
    if total <= 0:
        return
    u_how, u_when = draw(st, S_SETTLED_EXIT, P[i].id, P[i].placements - 1)
    P[i].exit_at = st.clock + exponential(u_when, 1.0 / total)
    P[i].exit_how = hazard_pick(u_how, rates, total)


@kernel
def leave_settled(st, i) -> None:
    """Model.leave_settled: off the pathway or back on the register (green), keeping the home."""
    P = st.people
    how = P[i].exit_how
    if st.month >= 0:
        st.rec_settled_exits[st.month, P[i].tcp, how] += 1
    end_placement(st, i, ZERO)
    if how == SETTLED_LEFT:
        move(st, i, LEFT, E_SETTLED_LEAVE)
    else:
        P[i].rag = GREEN
        join_register(st, i, E_SETTLED_REGISTER)


@kernel
def end_placement(st, i, free) -> None:
    P = st.people
    set_placement(st, i, P[i].phase, NONE)
    if P[i].dowry_unit >= 0:
        touch_dowry(st, P[i].tcp, P[i].dowry_unit)
        st.now_dowry[P[i].tcp, P[i].dowry_unit] -= 1
        P[i].dowry_unit = -1
    if free == 1:
        free_housing(st, i)


# ------------------------------------------------------------------------------ calendar events


@kernel
def close_month(days, counts, last, out, now, record) -> None:
    """One family of time integrals (flat views of a cell array): bring each cell up to now, as its
    ``touch_*`` does, copy it into the month's record (``out``, when ``record``), and start it again."""
    for k in range(days.shape[0]):
        total = days[k] + counts[k] * (now - last[k])
        if record:
            out[k] = total
        days[k] = 0.0
        last[k] = now


@kernel
def copy_flat(out, values) -> None:
    for k in range(values.shape[0]):
        out[k] = values[k]


@kernel
def on_month_end(st, s) -> None:
    """Model.month_ends: record stocks and the month's integrals at boundary s (boundary 0, the end of the
    warm-up, records stocks only). Cell arrays are walked flat, and the record's month ``m`` has the
    cells in the same order: one loop per family, whatever the number of TCPs."""
    m, now, record = max(s - 1, 0), st.clock, s >= 1
    close_month(
        flat(st.inpatient_days),
        flat(st.now_inpatients),
        flat(st.last_inpatients),
        flat(st.rec_inpatient_days[m]),
        now,
        record,
    )
    close_month(
        flat(st.delayed_days), flat(st.now_delayed), flat(st.last_delayed), flat(st.rec_delayed_days[m]), now, record
    )
    close_month(flat(st.dowry_days), flat(st.now_dowry), flat(st.last_dowry), flat(st.rec_dowry_days[m]), now, record)
    close_month(
        flat(st.placement_days),
        flat(st.now_placements),
        flat(st.last_placements),
        flat(st.rec_placement_days[m]),
        now,
        record,
    )
    for t in range(st.support_days.shape[0]):
        touch_support(st, t)
        if record:
            st.rec_support_days[m, t] = st.support_days[t]
        st.support_days[t] = 0.0
    for q in range(st.pool_scheduled.shape[0]):
        touch_pool(st, q)
        if record:
            st.rec_occupied_days[m, q] = st.pool_occ_days[q]
            st.rec_open_days[m, q] = st.pool_open_days[q]
        st.pool_occ_days[q] = 0.0
        st.pool_open_days[q] = 0.0
        st.rec_beds[s, q] = open_beds(st, q)
    close_waits(st, s, m, record)
    copy_flat(flat(st.rec_people[s]), flat(st.now_people))
    copy_flat(flat(st.rec_register[s]), flat(st.now_register))
    copy_flat(flat(st.rec_delayed[s]), flat(st.now_delayed))
    copy_flat(flat(st.rec_inpatients[s]), flat(st.now_inpatients))
    now_plc, placements = st.now_placements, st.rec_placements
    for t in range(now_plc.shape[0]):  # placements by type, summed over the unit and area left and the phase
        for u in range(now_plc.shape[1]):
            for a in range(2):
                for h in range(now_plc.shape[3]):
                    placements[s, t, h] += now_plc[t, u, a, h, 0] + now_plc[t, u, a, h, 1]
    for t in range(st.housing_free.shape[0]):
        for h in range(st.housing_free.shape[1]):
            st.rec_housing_free[s, t, h] = housing_available(st, t, h)
    P, inpatients, long_stayers = st.people, st.inpatient_list, st.rec_long_stayers
    for k in range(st.n_inpatients):
        i = inpatients[k]
        for k in range(LONG_STAYS.shape[0]):
            if now - P[i].admitted >= LONG_STAYS[k]:
                long_stayers[s, P[i].tcp, k] += 1
    st.month = s


@kernel
def next_bed_step(st, q, j) -> None:
    """Schedule the pool's first step after index j that falls inside the run (Model.bed_schedule)."""
    horizon = st.boundaries[-1]
    for k in range(j + 1, st.pool_step_end[q] - st.pool_step_start[q]):
        day = st.step_days[st.pool_step_start[q] + k]
        if day <= 0 or day >= horizon:
            continue
        schedule(st, day - st.clock, SCHEDULE, q, EV_BED, q, k, ZERO)
        return


@kernel
def on_bed(st, q, k) -> None:
    if k >= 0:
        touch_pool(st, q)
        st.pool_scheduled[q] = st.step_beds[st.pool_step_start[q] + k]
        if st.pool_close_occupied[q] == 1:
            close_occupied(st, q)
    repatriate(st, q)
    next_bed_step(st, q, k)


@kernel
def close_occupied(st, q) -> None:
    """Model.close_occupied: the most recently admitted in-area inpatients leave closing beds for beds out of area."""
    P = st.people
    while st.pool_occupied[q] > st.pool_scheduled[q]:
        best = -1
        for k in range(st.n_inpatients):
            j = st.inpatient_list[k]
            if P[j].pool == q and P[j].area == IN_AREA:
                if (
                    best < 0
                    or P[j].admitted > P[best].admitted
                    or (P[j].admitted == P[best].admitted and P[j].id > P[best].id)
                ):
                    best = j
        change_area(st, best, OUT_OF_AREA)
        P[best].ooa_since = st.clock
        t = P[best].tcp
        if P[best].is_ready == 0 and st.repatriation[t] == 1:
            list_add(st, q, best)
        if st.month >= 0:
            st.rec_closure_moves[st.month, t, P[best].unit] += 1
        note(st, E_CLOSURE_MOVE, best)


@kernel
def next_pipeline(st, t, j) -> None:
    k = st.pipeline_start[t] + j
    if j < st.pipeline_end[t] - st.pipeline_start[t] and st.pipe_day[k] < st.boundaries[-1]:
        schedule(st, max(st.pipe_day[k] - st.clock, 0.0), SCHEDULE, t, EV_PIPELINE, t, j, ZERO)


@kernel
def on_pipeline(st, t, j) -> None:
    k = st.pipeline_start[t] + j
    st.housing_free[t, st.pipe_kind[k]] += st.pipe_units[k]
    allocate_housing(st, t, st.pipe_kind[k])
    next_pipeline(st, t, j + 1)


@kernel
def next_supply(st, q, k) -> None:
    clock = entity_id(K_SOURCE, st.source_index[q], ZERO)
    u = draw(st, S_ARRIVAL, clock, k)[1]
    schedule(st, exponential(u, 1.0 / st.source_rate[q]), SCHEDULE, clock, EV_SUPPLY, q, k, ZERO)


@kernel
def on_supply(st, q, k) -> None:
    offer(st, st.source_tcp[q], st.source_kind[q] - HOUSING_SOURCE)
    next_supply(st, q, k + 1)


@kernel
def next_arrival(st, q, k) -> None:
    """Model.arrivals: draw the gap to arrival k and make its person (numbered by source and k)."""
    clock = entity_id(K_SOURCE, st.source_index[q], ZERO)
    u = draw(st, S_ARRIVAL, clock, k)[1]
    t = st.source_tcp[q]
    share = st.join_child_share[t] if st.source_kind[q] == REGISTER_JOIN else st.child_share[t]
    i = new_person(st, K_ARRIVAL, st.source_index[q], k, t, share)
    if i < 0:
        return
    kind = JOIN if st.source_kind[q] == REGISTER_JOIN else CRISIS
    schedule(st, exponential(u, 1.0 / st.source_rate[q]), kind, st.people[i].id, EV_ARRIVAL, q, k, i)


@kernel(forceinline=True)
def on_arrival(st, q, k, i) -> None:
    P = st.people
    meet(st, i)
    if st.source_kind[q] == REGISTER_JOIN:
        P[i].rag = choice(draw(st, S_JOIN, P[i].id, ZERO)[0], st.join_cum[st.source_tcp[q]])
        join_register(st, i, E_REGISTER_JOIN)
    else:
        crisis(st, i)
    next_arrival(st, q, k + 1)


# -------------------------------------------------------------------------------------- the run


@jit
def simulate(state, replication) -> tuple[int, int]:
    """One replication (Model.run) of the struct ``state`` (a StateRef, held by the caller throughout).
    Returns (status, events processed): status 0, or the code of an array that filled up (the caller
    retries with more room). Start state, then events until the last month end. One function, not a
    wrapper of another: Numba optimises each function with everything it calls linked in, so a
    wrapper would compile the whole kernel twice."""
    st = view(state)
    reset(st, replication)
    n_pools = st.pool_scheduled.shape[0]
    for q in range(n_pools):
        st.pool_scheduled[q] = beds_at(st, q, st.clock)
    # census inpatients, numbered by row
    for c in range(st.census_tcp.shape[0]):
        t = st.census_tcp[c]
        pid = entity_id(K_CENSUS, t, st.census_row[c])
        i = add_person(st, pid, t)
        if i < 0:
            return st.status, st.events
        P = st.people
        u = st.census_unit[c]
        if u == CAMHS:
            make_child(st, i, draw(st, S_PERSON, pid, ZERO)[1], st.census_adult_in[c])
        P[i].unit = u
        P[i].area = st.census_area[c]
        P[i].pool = st.pool_of_unit[t, u]
        P[i].by_need = st.census_by_need[c]
        u0, u1 = draw(st, S_RESIDUAL, pid, ZERO)
        remaining = residual(dist(st, st.pool_los[P[i].pool]), st.census_elapsed[c], u0, u1)
        enter_hospital(st, i, -st.census_elapsed[c], E_CENSUS)
        meet(st, i)
        if st.census_delayed_for[c] < 0:  # (a row delayed at the start waits for discharge, below)
            stay_start(st, i, remaining, st.census_elapsed[c])
    # register members, numbered by TCP then RAG order
    for t in range(st.reg_people.shape[0]):
        n = 0
        for rag in range(st.reg_people.shape[1]):
            for k in range(st.reg_people[t, rag]):
                i = new_person(st, K_REGISTER, t, n, t, 0.0)
                if i < 0:
                    return st.status, st.events
                if k < st.reg_children[t, rag]:
                    make_child(st, i, draw(st, S_PERSON, st.people[i].id, ZERO)[1], -1.0)
                st.people[i].rag = rag
                meet(st, i)
                join_register(st, i, E_REGISTER_START)
                n += 1
    # the community cohort, numbered by row: in a placement since its discharge (Model.start_community),
    # made before the model's processes start, as there
    first = st.n_people
    for c in range(st.community_tcp.shape[0]):
        t = st.community_tcp[c]
        i = add_person(st, entity_id(K_COMMUNITY, t, st.community_row[c]), t)
        if i < 0:
            return st.status, st.events
        P = st.people
        P[i].unit = st.community_unit[c]
        P[i].area = st.community_area[c]
        P[i].kind = st.community_kind[c]
        P[i].dowry_unit = st.community_dowry[c]
        P[i].last_discharge = -st.community_elapsed[c]
        move(st, i, PLACEMENT, E_COMMUNITY_START)
        meet(st, i)
    # then the processes, in the model's order: census rows ready and delayed at the start wait for
    # discharge, then the cohort's placements run on (after the census's and the register's processes)
    for c in range(st.census_tcp.shape[0]):
        if st.census_delayed_for[c] >= 0:
            i = c  # census people are the first people, in row order
            ready_at_start(st, i, st.census_ready_at[c], st.census_delayed_for[c])
    for c in range(st.community_tcp.shape[0]):
        placement_start(st, first + c, st.community_elapsed[c])
    schedule(st, st.boundaries[0] - st.clock, MONTH_END, ZERO, EV_MONTH, ZERO, ZERO, ZERO)
    for q in range(n_pools):
        schedule(st, 0.0, SCHEDULE, q, EV_BED, q, NONE, ZERO)
    for t in range(st.pipeline_start.shape[0]):
        next_pipeline(st, t, ZERO)
    for q in range(st.source_rate.shape[0]):
        if st.source_rate[q] > 0:
            if st.source_kind[q] >= HOUSING_SOURCE:
                next_supply(st, q, ZERO)
            else:
                next_arrival(st, q, ZERO)
    last = st.boundaries.shape[0] - 1
    while st.n_heap > 0:
        if st.status != 0:
            return st.status, st.events
        time, etype, target, aux, episode = pop(st)
        st.clock = time
        st.events += 1
        if etype == EV_MONTH:
            on_month_end(st, target)
            if target == last:
                return 0, st.events
            schedule(st, st.boundaries[target + 1] - st.clock, MONTH_END, ZERO, EV_MONTH, target + 1, ZERO, ZERO)
        elif etype == EV_BED:
            on_bed(st, target, aux)
        elif etype == EV_PIPELINE:
            on_pipeline(st, target, aux)
        elif etype == EV_SUPPLY:
            on_supply(st, target, aux)
        elif etype == EV_ARRIVAL:
            on_arrival(st, target, aux, episode)
        elif etype == EV_REGISTER:
            on_register(st, target, episode)
        elif etype == EV_SUPPORT:
            on_support_end(st, target)
        elif etype == EV_STAY:
            on_stay(st, target, aux, episode)
        elif etype == EV_DELAY:
            on_delay(st, target, episode)
        elif etype == EV_PLACEMENT:
            on_placement(st, target, aux, episode)
        elif etype == EV_LAPSE:
            on_lapse(st, target, aux)
        elif etype == EV_AGE:
            come_of_age(st, target)
        elif etype == EV_WAIT:
            on_wait_end(st, target, episode)
    return st.status, st.events
