"""The SimPy reference model of the pathway: register, crisis, CTR, admission, stay, delayed discharge,
community placement, and back (DESIGN.md section 2).

The system being modelled, one rule per event kind (each a method below, named as in DESIGN.md):

1. Register dynamics (``register_life``): members' RAG ratings move as a continuous-time Markov chain;
   each RAG has a crisis hazard and members leave (moved, no longer at risk, died). New members join
   from a Poisson source (``arrivals``).
2. Crisis (``crisis``): from a register member, from someone not on the register (a Poisson source), or
   from a community placement that breaks down. A crisis is the only way into hospital.
3. Pre-admission CTR: held with probability ``coverage``; if held and a crisis-support place is free,
   the admission is averted with probability ``avert`` and the person has a spell of crisis support
   (``crisis_support``), then is back on the register rated red. Otherwise:
4. Admission (``admit``): children to CAMHS tier 4, adults to a unit type by the TCP's shares; the unit
   names the bed pool (own or shared) and the commissioner. A share goes out of area by need; the rest
   go out of area if the pool has no in-area beds at all (no local unit), else take an in-area bed if
   one is free, else, if the pool waits ("or wait": ``wait_days``), wait in the community for one
   (``await_bed``: in a crisis-support place if one is free, else at home) until a bed frees (they take
   it) or the wait's limit passes, else go out of area for want of a bed. In-area beds follow the pool's
   schedule; a bed the schedule closes goes only when empty (``bed_schedule``).
5. Length of stay (``stay``): time to clinical readiness from the pool's distribution (census inpatients:
   conditional on the stay so far); death in hospital at a small rate. A step down from secure care or a
   step up on deterioration (``next_step``, ``transfer``) competes with readiness: a move to another unit
   type without leaving hospital, counted apart from admissions, where a new stay starts (the new pool's
   law given the stay so far). Census rows ready and delayed at the start wait for discharge from it
   (``ready_at_start``), for what the row says.
6. Inpatient CTRs at the unit's interval from admission (first after ``first_weeks``): each finds the
   person ready with probability ``ready_prob``, or ``ready_prob_long`` once the stay is
   ``long_stay_years`` old.
7. Discharge (``await_discharge``): a ready person needs a housing unit of their placement type (units
   held for the cohort and a dated pipeline, and market offers that lapse when nobody waiting takes
   them: ``offer``, ``lapse``; allocated FIFO or longest stay first: ``allocate_housing``), a provider
   (lead time) and funding (a delay, and an S117 dispute with some probability), both worked on from a
   planning point before the expected readiness. The wait after readiness is a delayed discharge, its
   reason the first unmet of housing, funding, dispute, provider.
8. Repatriation (``repatriate``): a freed in-area bed goes first to whoever waits in the community for
   one (longest waiting first: ``admit_waiting``), then to the longest-waiting out-of-area inpatient of
   that unit type who is there for want of a bed (or of a local unit) and not yet ready.
9. Community (``placement``): a placement breaks down with a hazard higher in the first year; a breakdown
   frees the housing unit and is a crisis (back to 3), so readmissions emerge. A placement with no
   breakdown for ``settle_years`` is settled (``settle``): the person then leaves the at-risk pathway or
   goes back on the register rated green (``leave_settled``). Deaths at a small rate. People already in
   placements at the start (the community cohort, ``start_community``) resume theirs from their discharge:
   breakdown given none so far, settled if past ``settle_years``, a readmission within 12 months of it.
10. Costs accrue per day by state (see ``sim.results.monthly.costs``), from the time integrals kept here.
11. Age (``new_person``, ``make_child``, ``meet``, ``come_of_age``): who is a child comes from each
   source's own share or rows; a child reaches the transition age (18) in a drawn time, and is an adult
   from then on; a CAMHS tier 4 inpatient not yet ready then moves to an adult unit (a transfer) or is
   ready for discharge.

Every random number comes from ``sim.sampling.uniform_pair`` at an address (seed, replication, stream,
entity, occurrence), so the compiled engine can draw the very same numbers. Simultaneous events are
ordered by the model, never by the scheduler (``Priority``): the month-end record, then scheduled
changes, then departures (which free beds, places and units), then progress, then crises, then joins;
within a kind by entity number.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

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
from sim.config.spec import PoolSpec, SourceSpec, SystemSpec, TcpSpec
from sim.pathway import (
    AMBER,
    AWAITING_BED,
    CAMHS,
    CAMHS_TO_ADULT,
    COMMUNITY,
    DAYS_PER_YEAR,
    DISPUTE,
    EVENT_CODE,
    FIFO,
    GREEN,
    HOSPITAL,
    HOUSING,
    IN_AREA,
    INITIAL,
    INPATIENT,
    LEFT,
    LONG_STAY_DAYS,
    LONG_STAY_YEARS,
    ONGOING,
    OUT_OF_AREA,
    OUTSIDE,
    PLACEMENT,
    PLACEMENT_TYPES,
    READMISSION_DAYS,
    RED,
    REG_CRISIS,
    REG_LEAVE,
    REGISTER,
    REGISTER_EVENT_PRIORITY,
    SETTLED_LEFT,
    SUPPORT,
    UNIT_TYPES,
    WAIT_ADMITTED,
    WAIT_HOME,
    WAIT_OUT_OF_AREA,
    WAIT_SUPPORT,
    Priority,
)
from sim.results.events import EVENT_LOG_COLUMNS
from sim.results.record import MonthlyArrays
from sim.sampling import EntityKind, Mixture, Stream, choice, entity, exponential, uniform_pair

INF = float("inf")
#: A SimPy process: a generator of the events it waits for.
Process = Generator[simpy.Event, Any, None]


def order(kind: Priority, key: int) -> int:
    """SimPy priority of an event: its kind first, then the entity's 64-bit number."""
    return (int(kind) << 64) | int(key)


class At(simpy.events.Event):
    """An event ``delay`` from now, placed among simultaneous events by ``priority`` (see ``order``)."""

    def __init__(self, env: simpy.Environment, delay: float, priority: int) -> None:
        super().__init__(env)
        self._ok = True
        self._value = None
        env.schedule(self, priority, delay)  # type: ignore[arg-type]  # SimPy orders by any int


class BedPool:
    """In-area beds of one unit type, with time integrals of occupied and open beds for occupancy."""

    def __init__(self, spec: PoolSpec, now: float) -> None:
        self.spec = spec
        self.scheduled = spec.beds_at(now)
        self.occupied = 0
        self.last = now
        self.occupied_days = 0.0
        self.open_days = 0.0

    @property
    def open_beds(self) -> int:
        """Beds open now: a bed the schedule has closed stays open while someone is in it."""
        return max(self.scheduled, self.occupied)

    def has_free_bed(self) -> bool:
        return self.occupied < self.scheduled

    def accrue(self, now: float) -> None:
        dt = now - self.last
        self.occupied_days += self.occupied * dt
        self.open_days += self.open_beds * dt
        self.last = now


class Housing:
    """Free housing units of one placement type in one TCP, and the ready inpatients waiting for one.

    Units held for the cohort (free at the start, the commissioned pipeline) stay until someone takes
    them. Units coming free in the market are offers: numbered as they come (``offers_made``), taken
    oldest first, and let elsewhere ``hold`` days after they came if nobody took them. As every offer is
    held as long, they are taken and lapse in the order they came, so the offers still open are those
    numbered ``offers_gone`` to ``offers_made - 1``."""

    def __init__(self, units: int, hold: float) -> None:
        self.unlimited = units < 0
        self.free = max(units, 0)
        self.hold = hold
        self.offers_made = 0
        self.offers_gone = 0
        self.waiting: list[Person] = []

    @property
    def offers(self) -> int:
        return self.offers_made - self.offers_gone

    @property
    def available(self) -> int:
        """Units free now: those held and the open offers."""
        return self.free + self.offers


@dataclass(slots=True, eq=False)
class Person:
    """Someone the model knows; ``id`` is their entity number for the random streams. The counters are
    the occurrence numbers of their draws, so a person's numbers never depend on anyone else."""

    id: int
    tcp: int
    child: bool = False  # under the transition age (admitted to CAMHS tier 4)
    adult_in: float = INF  # a child's days to the transition age from when the model meets them
    state: int = OUTSIDE
    rag: int = -1
    episode: int = 0  # bumped when the person's pending events become stale (discharge, death, move)
    # occurrence counters
    sojourns: int = 0
    crises: int = 0
    supports: int = 0
    admissions: int = 0  # hospital episodes: admissions and transfers
    placements: int = 0
    transfers: int = 0
    # in hospital
    unit: int = -1
    area: int = -1
    pool: int = -1
    by_need: bool = False
    admitted: float = 0.0
    ooa_since: float = 0.0
    is_ready: bool = False
    ready_at: float = 0.0
    reason: int = -1
    housed: bool = False
    held: bool = False  # the housing unit came from the stock held for the cohort (not a market offer)
    expected_ready: float = 0.0  # readiness as expected at admission (discharge planning works to it)
    funding_at: float = 0.0
    dispute_at: float = 0.0
    provider_at: float = 0.0
    death_at: float = INF
    # in the community
    kind: int = -1  # placement type
    phase: int = INITIAL
    dowry_unit: int = -1
    last_discharge: float = -INF
    # waiting in the community for an in-area bed (``await_bed``)
    wait_since: float = 0.0
    wait_los: float = 0.0  # the stay to readiness drawn at the crisis, for the admission at the wait's end
    wait_place: int = -1  # WAIT_SUPPORT (a crisis-support place) or WAIT_HOME


class Model:
    """One replication of a system: the processes, the state they share and the monthly record."""

    def __init__(self, spec: SystemSpec, replication: int, event_log: bool = False) -> None:
        self.spec = spec
        self.replication = replication
        self.env = simpy.Environment(initial_time=-spec.calendar.warmup_days)
        self.pools = [BedPool(p, self.env.now) for p in spec.pools]
        self.housing = [
            [Housing(int(n), float(hold)) for n, hold in zip(t.discharge.housing_units, t.discharge.offer_hold)]
            for t in spec.tcps
        ]
        self.support_used = [0] * len(spec.tcps)
        self.out_of_area: list[dict[int, Person]] = [{} for _ in spec.pools]  # repatriation candidates
        self.waiting: list[dict[int, Person]] = [{} for _ in spec.pools]  # waiting in the community for a bed
        self.inpatients: dict[int, Person] = {}
        self.rec = MonthlyArrays.zeros(spec)
        r = self.rec
        # stocks now (the month-end record copies them) and their time integrals this month
        self.now_people = np.zeros(r.people.shape[1:], np.int64)
        self.now_inpatients = np.zeros(r.inpatients.shape[1:], np.int64)
        self.now_delayed = np.zeros(r.delayed.shape[1:], np.int64)
        self.now_register = np.zeros(r.register.shape[1:], np.int64)
        self.now_placements = np.zeros(r.placement_days.shape[1:], np.int64)  # [T, U, A left, H, phase]
        self.now_dowry = np.zeros(r.dowry_days.shape[1:], np.int64)
        self.now_waiting = np.zeros(r.waiting.shape[1:], np.int64)  # [T, W]
        self.days = {
            name: np.zeros(getattr(r, name).shape[1:])
            for name in ("inpatient_days", "delayed_days", "support_days", "placement_days", "dowry_days", "wait_days")
        }
        self.last = self.env.now
        self.month = -1  # reported month now running; -1 during the warm-up
        self.log: list[tuple] | None = [] if event_log else None
        self.done = self.env.event()

    # ------------------------------------------------------------------------------------- helpers

    def draw(self, stream: Stream, key: int, occurrence: int) -> tuple[float, float]:
        return uniform_pair(self.spec.seed, self.replication, int(stream), key, occurrence)

    def delay(self, dist: Mixture | None, stream: Stream, key: int, occurrence: int) -> float:
        """A delay drawn at an address; no distribution means no delay."""
        if dist is None:
            return 0.0
        return dist.sample(*self.draw(stream, key, occurrence))

    def at(self, delay: float, kind: Priority, key: int) -> At:
        return At(self.env, delay, order(kind, key))

    def count(self, flow: np.ndarray, *index: int) -> None:
        """Add one to a flow of the month now running (nothing is counted during the warm-up)."""
        if self.month >= 0:
            flow[(self.month,) + index] += 1

    def accrue(self) -> None:
        """Bring every time integral (person-days, bed-days) up to now; called before any change."""
        now = self.env.now
        dt = now - self.last
        if dt > 0:
            self.days["inpatient_days"] += self.now_inpatients * dt
            self.days["delayed_days"] += self.now_delayed * dt
            self.days["support_days"] += self.now_people[:, SUPPORT] * dt
            self.days["placement_days"] += self.now_placements * dt
            self.days["dowry_days"] += self.now_dowry * dt
            self.days["wait_days"] += self.now_waiting * dt
        self.last = now
        for pool in self.pools:
            pool.accrue(now)

    def note(self, event: str, p: Person) -> None:
        """One row of the event log (``EVENT_LOG_COLUMNS``, the event as its ``EVENT_KINDS`` code), if kept."""
        if self.log is not None:
            self.log.append(
                (
                    self.replication,
                    self.env.now,
                    self.month,
                    p.id,
                    EVENT_CODE[event],
                    p.tcp,
                    p.state,
                    p.unit,
                    p.area,
                    p.kind,
                    p.rag,
                )
            )

    def move(self, p: Person, state: int, event: str) -> None:
        """Every change of state goes through here: stocks, the month's moves, and the register by RAG."""
        self.accrue()
        if p.state != OUTSIDE:
            self.now_people[p.tcp, p.state] -= 1
        if p.state == REGISTER:
            self.now_register[p.tcp, p.rag] -= 1
        self.count(self.rec.moves, p.tcp, p.state, state)
        p.state = state
        if state != OUTSIDE:
            self.now_people[p.tcp, state] += 1
        if state == REGISTER:
            self.now_register[p.tcp, p.rag] += 1
        p.episode += 1
        self.note(event, p)

    def new_person(self, kind: EntityKind, index: int, number: int, tcp: int, child_share: float) -> Person:
        """A person new to the model, a child with probability ``child_share`` (the source's share); a
        child's age is drawn with it (``make_child``)."""
        p = Person(id=entity(kind, index, number), tcp=tcp)
        if child_share > 0:
            u_child, u_age = self.draw(Stream.PERSON, p.id, 0)
            if u_child < child_share:
                self.make_child(p, u_age)
        return p

    def make_child(self, p: Person, u_age: float, days_left: float = -1.0) -> None:
        """A child, ``days_left`` to the transition age when known (at least 0), else drawn (``adult_in``)."""
        p.child = True
        p.adult_in = days_left if days_left >= 0 else adult_in(u_age, self.spec.tcps[p.tcp].child_span)

    def meet(self, p: Person) -> None:
        """The model meets the person (start state, arrival): a child reaches the transition age
        ``adult_in`` days on (an event of kind PROGRESS)."""
        if p.child:
            event = self.at(p.adult_in, Priority.PROGRESS, p.id)
            event.callbacks.append(lambda _: self.come_of_age(p))

    def come_of_age(self, p: Person) -> None:
        """Transition to adult services: on the register, in a placement or crisis support the person is
        now an adult (their next admission goes to an adult unit). A CAMHS tier 4 inpatient not yet ready
        moves to an adult unit (``children.to_adult_unit``, a transfer) or is ready for discharge now."""
        if p.state == LEFT:
            return
        p.child = False
        self.count(self.rec.transitions, p.tcp)
        self.note("adult", p)
        if p.state != INPATIENT or p.unit != CAMHS or p.is_ready:
            return
        tcp = self.spec.tcps[p.tcp]
        u_move = self.draw(Stream.TRANSFER, p.id, p.transfers)[0]
        p.transfers += 1
        if u_move < tcp.to_adult_unit and tcp.route_cum[-1] > 0:
            self.transfer(p, CAMHS_TO_ADULT)
            return
        p.episode += 1  # the stay's pending events are stale
        p.ready_at = self.env.now
        self.env.process(self.await_discharge(p, p.admissions - 1))

    # ------------------------------------------------------------------------- calendar processes

    def month_ends(self) -> Process:
        """Record stocks at every month boundary and the month's time integrals; the warm-up's are dropped."""
        r = self.rec
        b = self.spec.calendar.boundaries
        for s in range(len(b)):
            yield self.at(b[s] - self.env.now, Priority.MONTH_END, 0)
            self.accrue()
            if s > 0:
                for name, values in self.days.items():
                    getattr(r, name)[s - 1] = values
                for pool in self.pools:
                    r.occupied_days[s - 1, pool.spec.index] = pool.occupied_days
                    r.open_days[s - 1, pool.spec.index] = pool.open_days
            for values in self.days.values():
                values[:] = 0.0
            for pool in self.pools:
                pool.occupied_days = pool.open_days = 0.0
                r.beds[s, pool.spec.index] = pool.open_beds
            r.people[s] = self.now_people
            r.inpatients[s] = self.now_inpatients
            r.delayed[s] = self.now_delayed
            r.waiting[s] = self.now_waiting
            r.register[s] = self.now_register
            r.placements[s] = self.now_placements.sum(axis=(1, 2, 4))
            for t, houses in enumerate(self.housing):
                for kind, house in enumerate(houses):
                    r.housing_free[s, t, kind] = house.available
            for p in self.inpatients.values():
                for k, years in enumerate(LONG_STAY_YEARS):
                    if self.env.now - p.admitted >= years * DAYS_PER_YEAR:
                        r.long_stayers[s, p.tcp, k] += 1
            self.month = s
        self.done.succeed()

    def bed_schedule(self, pool: BedPool) -> Process:
        """Beds free at the start repatriate (after the start state is recorded); then the pool's
        scheduled beds change at each dated step after the start, and new beds repatriate."""
        yield self.at(0.0, Priority.SCHEDULE, pool.spec.index)
        self.repatriate(pool)
        for day, beds in zip(pool.spec.step_days, pool.spec.step_beds):
            if day <= 0 or day >= self.spec.calendar.horizon:
                continue
            yield self.at(day - self.env.now, Priority.SCHEDULE, pool.spec.index)
            self.accrue()
            pool.scheduled = int(beds)
            if pool.spec.close_occupied:
                self.close_occupied(pool)
            self.repatriate(pool)

    def close_occupied(self, pool: BedPool) -> None:
        """Beds closed on their planned date even if occupied (scenario.close_occupied): while the pool holds
        more people than its beds, its most recently admitted in-area inpatient (ties: the higher entity
        number) moves to a bed out of area, for want of a bed, and waits for repatriation unless ready."""
        while pool.occupied > pool.scheduled:
            here = [q for q in self.inpatients.values() if q.pool == pool.spec.index and q.area == IN_AREA]
            p = max(here, key=lambda q: (q.admitted, q.id))
            self.accrue()
            self.now_inpatients[p.tcp, p.unit, IN_AREA] -= 1
            self.now_inpatients[p.tcp, p.unit, OUT_OF_AREA] += 1
            p.area = OUT_OF_AREA
            p.ooa_since = self.env.now
            pool.occupied -= 1
            if not p.is_ready:
                self.out_of_area[pool.spec.index][p.id] = p
            self.count(self.rec.closure_moves, p.tcp, p.unit)
            self.note("closure_move", p)

    def housing_pipeline(self, tcp: TcpSpec) -> Process:
        """New housing units become free on their dates and go to whoever is waiting."""
        for day, kind, units in tcp.discharge.pipeline:
            if day >= self.spec.calendar.horizon:
                return
            yield self.at(max(day - self.env.now, 0.0), Priority.SCHEDULE, tcp.index)
            self.housing[tcp.index][kind].free += units
            self.allocate_housing(tcp.index, kind)

    def housing_supply(self, source: SourceSpec) -> Process:
        """Housing units of one type coming free in the local market, a Poisson source."""
        clock = entity(EntityKind.SOURCE, source.index, 0)
        kind = PLACEMENT_TYPES.index(source.kind.removeprefix("housing_"))
        k = 0
        while True:
            yield self.at(
                exponential(self.draw(Stream.ARRIVAL, clock, k)[1], 1.0 / source.rate), Priority.SCHEDULE, clock
            )
            self.offer(source.tcp, kind)
            k += 1

    def arrivals(self, source: SourceSpec) -> Process:
        """A Poisson source of new people: the k-th after an exponential gap drawn at (source, k).
        People not on a register arrive in crisis; the others join the register."""
        clock = entity(EntityKind.SOURCE, source.index, 0)
        joins = source.kind == "register_join"
        k = 0
        while True:
            _, u = self.draw(Stream.ARRIVAL, clock, k)
            tcp = self.spec.tcps[source.tcp]
            share = tcp.register.join_child_share if joins else tcp.child_share
            p = self.new_person(EntityKind.ARRIVAL, source.index, k, source.tcp, share)
            yield self.at(exponential(u, 1.0 / source.rate), Priority.JOIN if joins else Priority.CRISIS, p.id)
            self.meet(p)
            if joins:
                p.rag = choice(
                    self.draw(Stream.REGISTER_JOIN, p.id, 0)[0], self.spec.tcps[source.tcp].register.join_cum
                )
                self.join_register(p, "register_join")
            else:
                self.crisis(p)
            k += 1

    # ------------------------------------------------------------------------------ the register

    def join_register(self, p: Person, event: str) -> None:
        self.move(p, REGISTER, event)
        self.env.process(self.register_life(p))

    def register_life(self, p: Person) -> Process:
        """Register dynamics: from each RAG rating, the next of a crisis, a RAG move or leaving (competing
        exponential hazards), its time and kind drawn together at (person, sojourn)."""
        hazards = self.spec.tcps[p.tcp].register.hazards
        episode = p.episode
        while True:
            rates = hazards[p.rag]
            total = hazard_total(rates)
            if total <= 0:
                return
            u_event, u_time = self.draw(Stream.REGISTER_RAG, p.id, p.sojourns)
            p.sojourns += 1
            event = hazard_pick(u_event, rates, total)
            yield self.at(exponential(u_time, 1.0 / total), REGISTER_EVENT_PRIORITY[event], p.id)
            if p.episode != episode:
                return
            if event == REG_CRISIS:
                self.crisis(p)
                return
            if event == REG_LEAVE:
                self.move(p, LEFT, "register_leave")
                return
            self.accrue()
            self.now_register[p.tcp, p.rag] -= 1
            p.rag = event - 1
            self.now_register[p.tcp, p.rag] += 1
            self.note("rag", p)

    # ------------------------------------------------------------------------- crisis and its CTR

    def crisis(self, p: Person) -> None:
        """A crisis: a pre-admission CTR with probability ``coverage``; with a free crisis-support place it
        averts the admission with probability ``avert``; otherwise admission."""
        tcp = self.spec.tcps[p.tcp]
        self.count(self.rec.crises, p.tcp)
        self.note("crisis", p)
        u_ctr, u_avert = self.draw(Stream.CTR, p.id, p.crises)
        p.crises += 1
        if u_ctr < tcp.ctr_coverage:
            self.count(self.rec.ctr_pre, p.tcp)
            self.note("pre_admission_ctr", p)
            if self.support_used[p.tcp] < tcp.support_places and u_avert < tcp.ctr_avert:
                self.count(self.rec.averted, p.tcp)
                self.note("averted", p)
                self.env.process(self.crisis_support(p))
                return
        self.admit(p)

    def crisis_support(self, p: Person) -> Process:
        """A spell of crisis support, then back on the register rated red."""
        tcp = self.spec.tcps[p.tcp]
        self.support_used[p.tcp] += 1
        self.move(p, SUPPORT, "crisis_support")
        length = self.delay(tcp.support_length, Stream.CRISIS_SUPPORT_LOS, p.id, p.supports)
        p.supports += 1
        yield self.at(length, Priority.DEPARTURE, p.id)
        self.support_used[p.tcp] -= 1
        p.rag = RED
        self.join_register(p, "register_red")

    # ----------------------------------------------------------------------------- admission, stay

    def admit(self, p: Person) -> None:
        """Admission: route by need (children to CAMHS tier 4, adults by the TCP's shares), then out of
        area by need, else out of area if the pool has no in-area beds at all (no local unit), else an
        in-area bed if one is free, else, if the pool waits, a wait in the community for one
        (``start_wait``), else out of area because the beds are full. The unit, the need and the stay
        are drawn now, at the crisis, whenever the person goes into hospital."""
        tcp = self.spec.tcps[p.tcp]
        u_unit, u_need = self.draw(Stream.ROUTE, p.id, p.admissions)
        p.unit = CAMHS if p.child else choice(u_unit, tcp.route_cum)
        p.pool = int(tcp.pool_of_unit[p.unit])
        pool = self.pools[p.pool]
        p.by_need = u_need < tcp.ooa_need[p.unit]
        length = pool.spec.los.sample(*self.draw(Stream.LOS, p.id, p.admissions))
        if p.by_need:
            area = OUT_OF_AREA
        elif pool.scheduled == 0:
            area = OUT_OF_AREA
            self.count(self.rec.ooa_no_unit, p.tcp, p.unit)
        elif pool.has_free_bed():
            area = IN_AREA
        elif pool.spec.wait_days > 0:
            self.start_wait(p, length)
            return
        else:
            area = OUT_OF_AREA
            self.count(self.rec.ooa_full, p.tcp, p.unit)
        self.hospitalise(p, area, length)

    def hospitalise(self, p: Person, area: int, length: float) -> None:
        """Into hospital now, in area or out of area, for ``length`` days to readiness: an admission (a
        readmission within 12 months of the last discharge), counted when it happens."""
        p.area = area
        self.count(self.rec.admissions, p.tcp, p.unit, area)
        if self.env.now - p.last_discharge <= READMISSION_DAYS:
            self.count(self.rec.readmissions, p.tcp)
        self.enter_hospital(p, self.env.now, "admission")
        self.env.process(self.stay(p, length, elapsed=0.0))

    # --------------------------------------------------------------------------- or wait for a bed

    def start_wait(self, p: Person, length: float) -> None:
        """The in-area beds are full and the pool waits (``wait_days``): the person waits in the
        community for one, in a crisis-support place if one of the TCP's is free (held while they wait),
        else at home, with the stay drawn at the crisis (``length``)."""
        p.wait_since, p.wait_los = self.env.now, length
        p.wait_place = WAIT_SUPPORT if self.support_used[p.tcp] < self.spec.tcps[p.tcp].support_places else WAIT_HOME
        if p.wait_place == WAIT_SUPPORT:
            self.support_used[p.tcp] += 1
        self.move(p, AWAITING_BED, "await_bed")
        self.now_waiting[p.tcp, p.wait_place] += 1
        self.count(self.rec.waits, p.tcp, p.unit, p.wait_place)
        self.waiting[p.pool][p.id] = p
        self.env.process(self.await_bed(p, p.episode))

    def await_bed(self, p: Person, episode: int) -> Process:
        """A wait for an in-area bed: a bed freed meanwhile admits the person (``admit_waiting``); if none
        has when the pool's ``wait_days`` have passed (an event of kind CRISIS, so a bed a departure frees
        at that very instant is still theirs), out of area for want of a bed."""
        yield self.at(self.pools[p.pool].spec.wait_days, Priority.CRISIS, p.id)
        if p.episode != episode:
            return  # admitted to a freed in-area bed
        self.end_wait(p, WAIT_OUT_OF_AREA)
        self.count(self.rec.ooa_full, p.tcp, p.unit)
        self.hospitalise(p, OUT_OF_AREA, p.wait_los)

    def end_wait(self, p: Person, how: int) -> None:
        """The wait is over (``how``: admitted in area, or out of area): its crisis-support place is free."""
        self.accrue()
        del self.waiting[p.pool][p.id]
        self.now_waiting[p.tcp, p.wait_place] -= 1
        if p.wait_place == WAIT_SUPPORT:
            self.support_used[p.tcp] -= 1
        self.count(self.rec.wait_ends, p.tcp, p.unit, how)

    def admit_waiting(self, pool: BedPool) -> None:
        """Free in-area beds of the pool go first to the people waiting in the community for one (in
        crisis, before any out-of-area inpatient is repatriated), longest waiting first (ties by entity
        number): each is admitted in area now."""
        waiting = self.waiting[pool.spec.index]
        while waiting and pool.has_free_bed():
            p = min(waiting.values(), key=lambda q: (q.wait_since, q.id))
            self.end_wait(p, WAIT_ADMITTED)
            self.hospitalise(p, IN_AREA, p.wait_los)

    def next_step(self, p: Person, admission: int) -> tuple[float, int]:
        """When the stay's step down or up to another unit would come (inf: none) and which it is: among
        the unit's step hazards (``TcpSpec.step_hazards``, kind x U + unit), competing exponentials,
        picked (u0) and timed (u1) at (person, stay's admission number). It happens only if it comes
        before readiness, death and the next inpatient CTR (an event of kind PROGRESS)."""
        rates = self.spec.tcps[p.tcp].step_hazards[p.unit]
        total = hazard_total(rates)
        if total <= 0:
            return INF, -1
        u_step, u_time = self.draw(Stream.STEP, p.id, admission)
        return self.env.now + exponential(u_time, 1.0 / total), int(hazard_pick(u_step, rates, total))

    def transfer(self, p: Person, kind: int, unit: int = -1) -> None:
        """A move to another unit type without leaving hospital: to ``unit`` (a step down or up), or with
        none (-1: a child coming of age) to an adult unit type by the TCP's shares, drawn as an
        admission's. Out of area by the new unit's need (drawn as an admission's), else in area if a bed
        is free. Counted as a transfer of ``kind``, not an admission; the stay goes on from its
        admission date, with a new time to readiness from the new pool's law given the stay so far (as a
        census inpatient's: a long stay stays long) and its CTRs from now."""
        tcp = self.spec.tcps[p.tcp]
        u_unit, u_need = self.draw(Stream.ROUTE, p.id, p.admissions)
        self.count(self.rec.transfers, p.tcp, kind)
        self.leave_bed(p)
        p.unit = unit if unit >= 0 else choice(u_unit, tcp.route_cum)
        p.pool = int(tcp.pool_of_unit[p.unit])
        p.by_need = u_need < tcp.ooa_need[p.unit]
        p.area = OUT_OF_AREA if p.by_need or not self.pools[p.pool].has_free_bed() else IN_AREA
        p.ooa_since = self.env.now
        los = self.pools[p.pool].spec.los
        length = los.residual(self.env.now - p.admitted, *self.draw(Stream.LOS, p.id, p.admissions))
        self.take_bed(p)
        p.admissions += 1
        p.episode += 1  # the old stay's pending events are stale
        self.note("transfer", p)
        self.env.process(self.stay(p, length, elapsed=0.0))

    def enter_hospital(self, p: Person, admitted: float, event: str) -> None:
        p.admitted = p.ooa_since = admitted
        p.is_ready, p.reason, p.housed = False, -1, False
        self.move(p, INPATIENT, event)
        self.take_bed(p)
        self.inpatients[p.id] = p
        p.admissions += 1

    def take_bed(self, p: Person) -> None:
        """Into the hospital stocks at the person's unit and area: an in-area bed of the pool, or a bed out
        of area (a repatriation candidate when there for want of a bed)."""
        self.accrue()
        self.now_inpatients[p.tcp, p.unit, p.area] += 1
        if p.area == IN_AREA:
            self.pools[p.pool].occupied += 1
        elif not p.by_need:
            self.out_of_area[p.pool][p.id] = p

    def leave_bed(self, p: Person) -> None:
        """Out of the hospital stocks of the person's unit and area; a freed in-area bed repatriates someone."""
        self.accrue()
        self.now_inpatients[p.tcp, p.unit, p.area] -= 1
        self.out_of_area[p.pool].pop(p.id, None)
        if p.area == IN_AREA:
            self.pools[p.pool].occupied -= 1
            self.repatriate(self.pools[p.pool])

    def hospital_death_at(self, p: Person, admission: int) -> float:
        """When the person would die in hospital in this stay (inf: no deaths), drawn at its start."""
        rate = self.spec.tcps[p.tcp].hospital_death
        if rate <= 0:
            return INF
        return self.env.now + exponential(self.draw(Stream.DEATH, p.id, 2 * admission)[1], 1.0 / rate)

    def stay(self, p: Person, length: float, elapsed: float) -> Process:
        """Time to clinical readiness, ``length`` from now, brought forward by inpatient CTRs; death in
        hospital at a small rate; a step down or up to another unit (``next_step``) if it comes first; then
        the wait for discharge."""
        tcp = self.spec.tcps[p.tcp]
        admission = p.admissions - 1
        episode = p.episode
        p.death_at = self.hospital_death_at(p, admission)
        p.ready_at = p.expected_ready = self.env.now + length
        step_at, step = self.next_step(p, admission)
        interval = tcp.ctr_interval[p.unit]
        held, wait = next_ctr(elapsed, tcp.ctr_first, interval)
        next_ctr_at = self.env.now + wait
        while True:
            t = min(p.ready_at, p.death_at, next_ctr_at, step_at)
            if t == p.death_at:
                yield self.at(t - self.env.now, Priority.DEPARTURE, p.id)
                if p.episode == episode:
                    self.die(p, HOSPITAL)
                return
            if t == next_ctr_at:
                yield self.at(t - self.env.now, Priority.PROGRESS, p.id)
                if p.episode != episode:
                    return
                self.count(self.rec.ctr_inpatient, p.tcp, p.unit)
                ready = ctr_ready_prob(self.env.now - p.admitted, tcp.ctr_ready, tcp.ctr_ready_long, tcp.ctr_long_stay)
                if self.draw(Stream.INPATIENT_CTR, p.id, (admission << 16) | held)[0] < ready:
                    p.ready_at = self.env.now
                held += 1
                next_ctr_at = self.env.now + interval
                self.note("inpatient_ctr", p)
                continue
            if t == step_at:
                yield self.at(t - self.env.now, Priority.PROGRESS, p.id)
                if p.episode == episode:
                    self.transfer(p, step // len(UNIT_TYPES), step % len(UNIT_TYPES))
                return
            yield self.at(t - self.env.now, Priority.DEPARTURE, p.id)
            if p.episode != episode:
                return
            break
        yield from self.await_discharge(p, admission)

    def await_discharge(self, p: Person, admission: int, delayed_for: int = -1) -> Process:
        """Clinically ready (since ``p.ready_at``): a short stay may go back home at once; otherwise the
        placement type, then housing, funding (and any S117 dispute) and a provider, the last two timed
        from the discharge planning point (``planning_start``): only the wait after readiness is a
        delay. Discharge when all are in place. A start census row that is delayed says for what
        (``delayed_for``): that wait starts now (``discharge_times``), and a housing unit is already
        found unless it is housing."""
        tcp = self.spec.tcps[p.tcp]
        d = tcp.discharge
        self.count(self.rec.ready, p.tcp)
        home = self.draw(Stream.RETURN_HOME, p.id, admission)[0] < d.return_home[p.unit]
        if delayed_for < 0 and home and self.env.now - p.admitted < d.return_home_within:
            self.discharge(p, home=True)
            return
        u_kind, u_dispute = self.draw(Stream.PLACEMENT, p.id, admission)
        p.kind = choice(u_kind, d.placement_cum[p.unit])
        plan = planning_start(p.admitted, p.expected_ready, p.ready_at, d.planning_lead)
        p.is_ready = True
        provider = self.delay(d.provider_lead, Stream.DISCHARGE_DELAY, p.id, 3 * admission)
        funding = self.delay(d.funding_delay, Stream.DISCHARGE_DELAY, p.id, 3 * admission + 1)
        disputed = u_dispute < d.dispute_prob or delayed_for == DISPUTE
        dispute = self.delay(d.dispute_delay, Stream.DISCHARGE_DELAY, p.id, 3 * admission + 2) if disputed else 0.0
        p.provider_at, p.funding_at, p.dispute_at = discharge_times(
            delayed_for, self.env.now, plan, provider, funding, dispute
        )
        self.out_of_area[p.pool].pop(p.id, None)  # a ready person is not moved between hospitals
        self.note("ready", p)
        episode = p.episode  # before asking for housing: a free unit may discharge the person at once
        if delayed_for > HOUSING:
            p.housed = True  # found outside the stock before the start
        else:
            self.request_housing(p)
        while p.episode == episode:
            if self.update_reason(p) < 0:
                self.discharge(p)
                return
            pending = [t for t in (p.funding_at, p.dispute_at, p.provider_at) if t > self.env.now]
            t = min(pending + [p.death_at])
            if t == INF:
                return  # only housing is missing: ``allocate_housing`` discharges when a unit frees
            yield self.at(t - self.env.now, Priority.DEPARTURE, p.id)
            if p.episode == episode and self.env.now >= p.death_at:
                self.die(p, HOSPITAL)

    def delay_reason(self, p: Person) -> int:
        """Why a ready person is still in hospital: the first unmet of housing, funding, dispute, provider
        (-1: nothing, discharge now)."""
        return int(first_unmet(self.env.now, bool(p.housed), p.funding_at, p.dispute_at, p.provider_at))

    def update_reason(self, p: Person) -> int:
        reason = self.delay_reason(p)
        if reason != p.reason:
            self.accrue()
            if p.reason >= 0:
                self.now_delayed[p.tcp, p.reason] -= 1
            if reason >= 0:
                self.now_delayed[p.tcp, reason] += 1
            p.reason = reason
        return reason

    # ------------------------------------------------------------------------------------- housing

    def request_housing(self, p: Person) -> None:
        house = self.housing[p.tcp][p.kind]
        if house.unlimited:
            p.housed = True
        else:
            house.waiting.append(p)
            self.allocate_housing(p.tcp, p.kind)

    def allocate_housing(self, tcp: int, kind: int) -> None:
        """Give free units to waiting people: first come first served (by readiness), or the longest
        stay first (by admission), ties by entity number. Open market offers go first (the oldest), as
        they lapse; then units held for the cohort."""
        house = self.housing[tcp][kind]
        policy = self.spec.tcps[tcp].discharge.policy
        while house.available > 0 and house.waiting:
            key = (lambda q: (q.ready_at, q.id)) if policy == FIFO else (lambda q: (q.admitted, q.id))
            p = min(house.waiting, key=key)
            house.waiting.remove(p)
            p.held = house.offers == 0
            if p.held:
                house.free -= 1
            else:
                house.offers_gone += 1
            p.housed = True
            self.note("housed", p)
            if self.update_reason(p) < 0:
                self.discharge(p)

    def free_housing(self, p: Person) -> None:
        """A unit someone leaves: back to the cohort's stock if it was held for it, else a market offer."""
        house = self.housing[p.tcp][p.kind]
        if house.unlimited:
            return
        if p.held:
            house.free += 1
            self.allocate_housing(p.tcp, p.kind)
        else:
            self.offer(p.tcp, p.kind)

    def offer(self, tcp: int, kind: int) -> None:
        """A unit coming free in the market: offered to whoever is waiting, else held open ``hold`` days
        (an event at the lapse time, kind SCHEDULE, keyed by the housing queue) and then let elsewhere."""
        house = self.housing[tcp][kind]
        number = house.offers_made
        house.offers_made += 1
        lapse = self.at(house.hold, Priority.SCHEDULE, tcp * len(PLACEMENT_TYPES) + kind)
        lapse.callbacks.append(lambda _: self.lapse(tcp, kind, number))
        self.allocate_housing(tcp, kind)

    def lapse(self, tcp: int, kind: int, number: int) -> None:
        """Offer ``number`` is let elsewhere if still open (offers are taken and lapse oldest first)."""
        house = self.housing[tcp][kind]
        if number >= house.offers_gone:
            house.offers_gone = number + 1
            self.count(self.rec.housing_lapsed, tcp, kind)

    # ------------------------------------------------------------------------------ leaving hospital

    def leave_hospital(self, p: Person) -> None:
        """Take the person out of the hospital stocks; a freed in-area bed repatriates someone."""
        self.accrue()
        if p.reason >= 0:
            self.now_delayed[p.tcp, p.reason] -= 1
            p.reason = -1
        del self.inpatients[p.id]
        self.leave_bed(p)

    def discharge(self, p: Person, home: bool = False) -> None:
        """Discharge back home (on the register, rated amber) or to a community placement (the housing
        unit is already the person's)."""
        self.count(self.rec.discharges, p.tcp, p.unit, p.area)
        self.leave_hospital(p)
        p.last_discharge = self.env.now
        if home:
            self.count(self.rec.discharges_home, p.tcp)
            p.rag = AMBER
            self.join_register(p, "discharge_home")
            return
        p.dowry_unit = p.unit if self.env.now - p.admitted >= LONG_STAY_DAYS else -1
        self.move(p, PLACEMENT, "discharge")
        self.env.process(self.placement(p, 0.0))

    def die(self, p: Person, where: int) -> None:
        self.count(self.rec.deaths, p.tcp, where)
        if where == HOSPITAL:
            if p.is_ready and not p.housed:
                self.housing[p.tcp][p.kind].waiting.remove(p)
            self.leave_hospital(p)
            if p.housed:
                self.free_housing(p)
        self.move(p, LEFT, "death")

    def repatriate(self, pool: BedPool) -> None:
        """Fill free in-area beds: first with people waiting in the community for one (``admit_waiting``),
        then with out-of-area inpatients of this pool who are there for want of a bed (or of a local
        unit) and not yet ready, longest out of area first (ties by entity number), if their TCP
        repatriates."""
        self.admit_waiting(pool)
        candidates = self.out_of_area[pool.spec.index]
        while pool.has_free_bed():
            eligible = [q for q in candidates.values() if self.spec.tcps[q.tcp].discharge.repatriation]
            if not eligible:
                return
            p = min(eligible, key=lambda q: (q.ooa_since, q.id))
            self.accrue()
            del candidates[p.id]
            self.now_inpatients[p.tcp, p.unit, OUT_OF_AREA] -= 1
            self.now_inpatients[p.tcp, p.unit, IN_AREA] += 1
            p.area = IN_AREA
            pool.occupied += 1
            self.count(self.rec.repatriations, p.tcp, p.unit)
            self.note("repatriation", p)

    # ------------------------------------------------------------------------------------ community

    def placement(self, p: Person, elapsed: float) -> Process:
        """Life in a community placement that began ``elapsed`` days ago (0: a discharge now; more: the
        community cohort at the start): its initial (dearer) months, then its ongoing cost. It breaks
        down (a crisis) with a hazard higher in the first year, until it is settled (``settle`` days with
        no breakdown); once settled, the person leaves the at-risk pathway or goes back on the register
        rated green, at the settled rates (``settled_exit``), keeping their home. Or the person dies.
        A placement begun earlier has had no breakdown so far: its breakdown time is drawn given that
        (``resumed_breakdown_time``); one already past ``settle`` days is settled now; death is memoryless."""
        tcp = self.spec.tcps[p.tcp]
        episode = p.episode
        now = self.env.now
        start = now - elapsed
        number = p.placements
        p.placements += 1
        self.set_placement(p, INITIAL if elapsed < tcp.costs.initial_days else ONGOING, +1)
        if p.dowry_unit >= 0:
            self.now_dowry[p.tcp, p.dowry_unit] += 1
        hazard = -math.log1p(-self.draw(Stream.BREAKDOWN, p.id, number)[1])  # a unit-rate exponential
        breakdown_at = resumed_breakdown_time(
            now, elapsed, hazard, tcp.breakdown_first, tcp.breakdown_after, tcp.settle
        )
        u_death = self.draw(Stream.DEATH, p.id, 2 * number + 1)[1]
        death_at = now + exponential(u_death, 1.0 / tcp.community_death) if tcp.community_death > 0 else INF
        initial_end = start + tcp.costs.initial_days if p.phase == INITIAL else INF
        settled_at = start + tcp.settle
        exit_at, how = INF, -1
        if elapsed > 0 and elapsed >= tcp.settle:  # settled before the start
            settled_at = INF
            exit_at, how = self.settle(p, number)
        while True:
            t = min(breakdown_at, death_at, initial_end, settled_at, exit_at)
            if t == INF:
                return
            if t in (initial_end, settled_at):
                kind = Priority.PROGRESS
            else:
                kind = Priority.DEPARTURE if t in (death_at, exit_at) else Priority.CRISIS
            yield self.at(t - self.env.now, kind, p.id)
            if p.episode != episode:
                return
            if t == initial_end:
                self.set_placement(p, INITIAL, -1)
                self.set_placement(p, ONGOING, +1)
                initial_end = INF
                continue
            if t == settled_at:
                settled_at = INF
                exit_at, how = self.settle(p, number)
                continue
            if t == death_at:
                self.end_placement(p)
                self.die(p, COMMUNITY)
            elif t == exit_at:
                self.leave_settled(p, how)
            else:
                self.count(self.rec.breakdowns, p.tcp, p.kind)
                self.note("breakdown", p)
                self.end_placement(p)
                self.crisis(p)
            return

    def settle(self, p: Person, number: int) -> tuple[float, int]:
        """The placement is settled: when and how it will end (the first of competing exponential
        hazards, leaving or the register, drawn together at (person, placement number)); inf: never."""
        self.count(self.rec.settled, p.tcp)
        self.note("settled", p)
        rates = self.spec.tcps[p.tcp].settled_exit
        total = hazard_total(rates)
        if total <= 0:
            return INF, -1
        u_how, u_when = self.draw(Stream.SETTLED_EXIT, p.id, number)
        return self.env.now + exponential(u_when, 1.0 / total), hazard_pick(u_how, rates, total)

    def leave_settled(self, p: Person, how: int) -> None:
        """A settled placement ends: out of the placement stocks (the home stays the person's, so no
        housing unit comes free), then off the pathway, or on the register rated green."""
        self.count(self.rec.settled_exits, p.tcp, how)
        self.end_placement(p, free=False)
        if how == SETTLED_LEFT:
            self.move(p, LEFT, "settled_leave")
        else:
            p.rag = GREEN
            self.join_register(p, "settled_register")

    def set_placement(self, p: Person, phase: int, change: int) -> None:
        self.accrue()
        p.phase = phase
        self.now_placements[p.tcp, p.unit, p.area, p.kind, phase] += change  # by the bed left (the pooled budget)

    def end_placement(self, p: Person, free: bool = True) -> None:
        """Leave the placement: its unit is free for the next person waiting (unless the person keeps
        it), the dowry stops."""
        self.set_placement(p, p.phase, -1)
        if p.dowry_unit >= 0:
            self.now_dowry[p.tcp, p.dowry_unit] -= 1
            p.dowry_unit = -1
        if free:
            self.free_housing(p)

    # ----------------------------------------------------------------------------------------- start

    def start_census(self) -> None:
        """Census inpatients at time 0, their remaining stays drawn given the stay so far; those the row
        says are ready and delayed wait for discharge from the start."""
        for c in self.spec.census:
            tcp = self.spec.tcps[c.tcp]
            p = Person(id=entity(EntityKind.CENSUS, c.tcp, c.row), tcp=c.tcp)
            if c.unit == CAMHS:
                self.make_child(p, self.draw(Stream.PERSON, p.id, 0)[1], c.adult_in)
            p.unit, p.area, p.pool, p.by_need = c.unit, c.area, int(tcp.pool_of_unit[c.unit]), c.by_need
            remaining = self.pools[p.pool].spec.los.residual(c.elapsed, *self.draw(Stream.CENSUS_RESIDUAL, p.id, 0))
            self.enter_hospital(p, -c.elapsed, "census")
            self.meet(p)
            if c.delayed_for >= 0:
                self.env.process(self.ready_at_start(p, c.ready_at, c.delayed_for))
            else:
                self.env.process(self.stay(p, remaining, elapsed=c.elapsed))

    def start_community(self) -> None:
        """The community cohort at time 0: each row a person in a placement of its type since its
        discharge (so a crisis within 12 months of it is a readmission), counted by the bed left, in a
        home of their own (not from the free stock: when it frees it is a market offer); their placements
        run on from the discharge (``placement``). Adults."""
        for c in self.spec.community:
            p = Person(id=entity(EntityKind.COMMUNITY, c.tcp, c.row), tcp=c.tcp)
            p.unit, p.area, p.kind, p.dowry_unit = c.unit, c.area, c.kind, c.dowry_unit
            p.last_discharge = -c.elapsed
            self.move(p, PLACEMENT, "community_start")
            self.meet(p)
            self.env.process(self.placement(p, c.elapsed))

    def ready_at_start(self, p: Person, ready_at: float, delayed_for: int) -> Process:
        """A census inpatient who is clinically ready (since ``ready_at``) and delayed at the start: no stay
        to run, only the wait for discharge, for what the row says."""
        p.death_at = self.hospital_death_at(p, 0)
        p.ready_at = p.expected_ready = ready_at
        yield from self.await_discharge(p, 0, delayed_for)

    def start_register(self) -> None:
        """Register members at the start, numbered by TCP then RAG order; the first ``children`` of each
        rating are children."""
        for t in self.spec.tcps:
            n = 0
            for rag, people in enumerate(t.register.people):
                for k in range(int(people)):
                    p = self.new_person(EntityKind.REGISTER, t.index, n, t.index, 0.0)
                    if k < t.register.children[rag]:
                        self.make_child(p, self.draw(Stream.PERSON, p.id, 0)[1])
                    p.rag = rag
                    self.meet(p)
                    self.join_register(p, "register_start")
                    n += 1

    def run(self) -> MonthlyArrays:
        self.start_census()
        self.start_register()
        self.start_community()
        self.env.process(self.month_ends())
        for pool in self.pools:
            self.env.process(self.bed_schedule(pool))
        for t in self.spec.tcps:
            if t.discharge.pipeline:
                self.env.process(self.housing_pipeline(t))
        for source in self.spec.sources:
            if source.rate > 0:
                housing = source.kind.startswith("housing_")
                self.env.process(self.housing_supply(source) if housing else self.arrivals(source))
        self.env.run(until=self.done)
        return self.rec


def run_replication(
    spec: SystemSpec, replication: int, event_log: bool = False
) -> tuple[MonthlyArrays, list[tuple] | None]:
    """Simulate one replication; returns its monthly record and, if asked, its per-person event log."""
    model = Model(spec, replication, event_log)
    rec = model.run()
    return rec, model.log


__all__ = ["EVENT_LOG_COLUMNS", "Model", "Priority", "run_replication"]
