"""The SimPy reference model: people in crisis, admission to a bed pool, stays and discharges.

The system being modelled (DESIGN.md section 2; this issue's scope):

* Crises arrive from Poisson sources, per TCP: people not on the dynamic support register, and register
  members by RAG rating (each group at its own rate). A crisis is the only way into hospital.
* An admission is routed to a unit type (ATU, low secure, medium secure, CAMHS tier 4) by the TCP's
  shares; the unit type names the bed pool (the TCP's own, or one shared with other TCPs) and the
  commissioner (CCGs for ATU, specialised commissioning otherwise).
* A share of admissions goes out of area by need whatever the beds (needs no local unit meets, as BHR's
  personality-disorder placements); the rest take an in-area bed if one is free, else go out of area.
* In-area beds follow the pool's dated schedule. A bed the schedule closes goes only when it is empty:
  nobody is evicted, so open beds = max(scheduled, occupied).
* Each admission stays for a length of stay drawn from the pool's distribution, then is discharged.
* The start is a census of current inpatients (remaining stays drawn conditionally on the elapsed stay),
  or an empty system run through a warm-up that is left out of the results.

Every random number comes from ``sim.sampling.uniform_pair`` at an address (seed, replication, stream,
entity, occurrence), so the compiled engine can draw the very same numbers. Simultaneous events are
ordered by the model, never by the scheduler: first the month-end record, then bed-schedule changes,
then discharges, then crises; within a kind, by entity number (``Priority``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Iterator

import numpy as np
import simpy

from sim.config.spec import IN_AREA, OUT_OF_AREA, PoolSpec, SourceSpec, SystemSpec, TcpSpec
from sim.results.monthly import LONG_STAY_DAYS, MonthlyArrays
from sim.sampling import EntityKind, Stream, choice, entity, exponential, uniform_pair


class Priority(IntEnum):
    """Order of simultaneous events, lowest first (shared with the compiled engine)."""

    MONTH_END = 1  # the record at a boundary sees the state before anything else at that instant
    BED_SCHEDULE = 2  # capacity changes take effect at the start of their month
    DISCHARGE = 3  # a bed freed at an instant is free for a crisis at the same instant
    CRISIS = 4


def order(kind: Priority, key: int) -> int:
    """SimPy priority of an event: its kind first, then the entity's 64-bit number."""
    return (int(kind) << 64) | int(key)


class At(simpy.events.Event):
    """An event ``delay`` from now, placed among simultaneous events by ``priority`` (see ``order``)."""

    def __init__(self, env: simpy.Environment, delay: float, priority: int) -> None:
        super().__init__(env)
        self._ok = True
        self._value = None
        env.schedule(self, priority, delay)


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

    def take(self) -> None:
        self.occupied += 1

    def release(self) -> None:
        self.occupied -= 1


@dataclass(slots=True)
class Person:
    """Someone in the model; ``id`` is their entity number for the random streams."""

    id: int
    tcp: int
    unit: int = -1
    area: int = -1
    pool: int = -1
    admitted: float = 0.0
    admissions: int = 0  # admissions so far: the occurrence number of their per-admission draws


class Model:
    """One replication of a system: the processes, the state they share and the monthly record."""

    def __init__(self, spec: SystemSpec, replication: int, event_log: bool = False) -> None:
        self.spec = spec
        self.replication = replication
        cal = spec.calendar
        self.env = simpy.Environment(initial_time=-cal.warmup_days)
        self.pools = [BedPool(p, self.env.now) for p in spec.pools]
        self.rec = MonthlyArrays.zeros(spec)
        self.counts = np.zeros(self.rec.inpatients.shape[1:], dtype=np.int64)  # [T, U, A] now
        self.days = np.zeros(self.counts.shape, dtype=np.float64)  # inpatient-days this month
        self.last = self.env.now
        self.month = -1  # reported month now running; -1 during the warm-up
        self.inpatients: dict[int, Person] = {}
        self.log: list[tuple] | None = [] if event_log else None
        self.done = self.env.event()

    # ------------------------------------------------------------------------------------- helpers

    def draw(self, stream: Stream, key: int, occurrence: int) -> tuple[float, float]:
        return uniform_pair(self.spec.seed, self.replication, int(stream), key, occurrence)

    def at(self, delay: float, kind: Priority, key: int) -> At:
        return At(self.env, delay, order(kind, key))

    def accrue(self) -> None:
        """Bring the time integrals (inpatient-days, pool bed-days) up to now."""
        now = self.env.now
        self.days += self.counts * (now - self.last)
        self.last = now
        for pool in self.pools:
            pool.accrue(now)

    def note(self, event: str, p: Person) -> None:
        if self.log is not None:
            self.log.append((self.replication, self.env.now, p.id, event, p.tcp, p.unit, p.area, p.pool))

    # ------------------------------------------------------------------------------------ processes

    def month_ends(self) -> Iterator[simpy.Event]:
        """Record stocks at every month boundary, and the month's time integrals; the warm-up's are dropped."""
        b = self.spec.calendar.boundaries
        for s in range(len(b)):
            yield self.at(b[s] - self.env.now, Priority.MONTH_END, 0)
            self.accrue()
            if s > 0:
                self.rec.inpatient_days[s - 1] = self.days
                for pool in self.pools:
                    self.rec.occupied_days[s - 1, pool.spec.index] = pool.occupied_days
                    self.rec.open_days[s - 1, pool.spec.index] = pool.open_days
            self.days[:] = 0.0
            for pool in self.pools:
                pool.occupied_days = pool.open_days = 0.0
            self.rec.inpatients[s] = self.counts
            for p in self.inpatients.values():
                if self.env.now - p.admitted >= LONG_STAY_DAYS:
                    self.rec.long_stayers[s, p.tcp, p.unit, p.area] += 1
            for pool in self.pools:
                self.rec.beds[s, pool.spec.index] = pool.open_beds
            self.month = s
        self.done.succeed()

    def bed_schedule(self, pool: BedPool) -> Iterator[simpy.Event]:
        """Change the pool's scheduled beds at each dated step after the start."""
        for day, beds in zip(pool.spec.step_days, pool.spec.step_beds):
            if day <= 0 or day >= self.spec.calendar.horizon:
                continue
            yield self.at(day - self.env.now, Priority.BED_SCHEDULE, pool.spec.index)
            self.accrue()
            pool.scheduled = int(beds)

    def crises(self, source: SourceSpec) -> Iterator[simpy.Event]:
        """A Poisson source: the k-th crisis after an exponential gap drawn at (source, k)."""
        clock = entity(EntityKind.SOURCE, source.index, 0)
        k = 0
        while True:
            _, u = self.draw(Stream.ARRIVAL, clock, k)
            person = Person(id=entity(EntityKind.ARRIVAL, source.index, k), tcp=source.tcp)
            yield self.at(exponential(u, 1.0 / source.rate), Priority.CRISIS, person.id)
            self.admit(person)
            k += 1

    def stay(self, p: Person, length: float) -> Iterator[simpy.Event]:
        """An inpatient stays ``length`` days, then is discharged."""
        yield self.at(length, Priority.DISCHARGE, p.id)
        self.discharge(p)

    # ---------------------------------------------------------------------------------- event rules

    def admit(self, p: Person) -> None:
        """Admission: route to a unit type, then out of area by need, else an in-area bed if one is free,
        else out of area because the beds are full."""
        tcp: TcpSpec = self.spec.tcps[p.tcp]
        u_unit, u_need = self.draw(Stream.ROUTE, p.id, p.admissions)
        p.unit = choice(u_unit, tcp.route_cum)
        p.pool = int(tcp.pool_of_unit[p.unit])
        pool = self.pools[p.pool]
        self.accrue()
        m = self.month
        if u_need < tcp.ooa_need[p.unit]:
            p.area = OUT_OF_AREA
        elif pool.has_free_bed():
            p.area = IN_AREA
            pool.take()
        else:
            p.area = OUT_OF_AREA
            if m >= 0:
                self.rec.ooa_full[m, p.tcp, p.unit] += 1
        if m >= 0:
            self.rec.admissions[m, p.tcp, p.unit, p.area] += 1
        u0, u1 = self.draw(Stream.LOS, p.id, p.admissions)
        length = pool.spec.los.sample(u0, u1)
        self.enter(p, "admission")
        self.env.process(self.stay(p, length))

    def enter(self, p: Person, event: str) -> None:
        p.admitted = self.env.now
        p.admissions += 1
        self.counts[p.tcp, p.unit, p.area] += 1
        self.inpatients[p.id] = p
        self.note(event, p)

    def discharge(self, p: Person) -> None:
        """Discharge at the end of the stay (delays come with the whole pathway)."""
        self.accrue()
        if p.area == IN_AREA:
            self.pools[p.pool].release()
        self.counts[p.tcp, p.unit, p.area] -= 1
        del self.inpatients[p.id]
        if self.month >= 0:
            self.rec.discharges[self.month, p.tcp, p.unit, p.area] += 1
        self.note("discharge", p)

    def start_census(self) -> None:
        """Place the census inpatients at time 0 with remaining stays drawn given their elapsed stay."""
        for c in self.spec.census:
            tcp = self.spec.tcps[c.tcp]
            p = Person(id=entity(EntityKind.CENSUS, c.tcp, c.row), tcp=c.tcp, unit=c.unit, area=c.area)
            p.pool = int(tcp.pool_of_unit[c.unit])
            pool = self.pools[p.pool]
            if c.area == IN_AREA:
                pool.take()
            u0, u1 = self.draw(Stream.CENSUS_RESIDUAL, p.id, 0)
            remaining = pool.spec.los.residual(c.elapsed, u0, u1)
            self.enter(p, "census")
            p.admitted = -c.elapsed
            self.env.process(self.stay(p, remaining))

    # ----------------------------------------------------------------------------------------- run

    def run(self) -> MonthlyArrays:
        self.start_census()
        self.env.process(self.month_ends())
        for pool in self.pools:
            self.env.process(self.bed_schedule(pool))
        for source in self.spec.sources:
            if source.rate > 0:
                self.env.process(self.crises(source))
        self.env.run(until=self.done)
        return self.rec


def run_replication(spec: SystemSpec, replication: int, event_log: bool = False) -> tuple[MonthlyArrays, list[tuple] | None]:
    """Simulate one replication; returns its monthly record and, if asked, its per-person event log."""
    model = Model(spec, replication, event_log)
    rec = model.run()
    return rec, model.log


EVENT_LOG_COLUMNS = ("replication", "time", "person", "event", "tcp", "unit", "area", "pool")
