"""Bounds on a run's size, checked before anything is allocated (issue 16, point 5): the memory the engine
of each worker will ask for, estimated from the spec, against what the machine has available, and the
number of chunk files a run would write.

A run that would not fit stops with one line naming the key most responsible (a rate of crises, a register,
a census, the event log, the workers), instead of allocating until the machine swaps or the kernel kills
it. The estimate is the engine's own first sizing (``sim.engine.build.people_capacity``: everyone at the
start, 1.5 times the expected arrivals, a margin) times the bytes it keeps a person (``BYTES_PER_PERSON``:
the person record, four event slots of the heap with their queue and free-list entries, a place in the
inpatient list); tests/config/test_limits.py holds both to the engine's. It is a floor: the engine doubles
its room when a replication needs more, and the SimPy model keeps more a person than the arrays do.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.config.checks import tcp_configs
from sim.config.errors import ConfigError
from sim.config.spec import DAYS_PER_YEAR, RunSpec, SystemSpec

#: Bytes the Numba engine keeps a person it has room for (sim/engine/state.py): PERSON (416), four heap
#: slots of EVENT (64), QUEUE (16) and the free list (8), one slot of the inpatient list (8).
BYTES_PER_PERSON = 416 + 4 * (64 + 16 + 8) + 8
#: Event-log rows kept a person with ``run.event_log`` (``Engine.log_capacity``), and a row's bytes (its time
#: and LOG_INT_COLUMNS' nine integers).
LOG_ROWS_PER_PERSON = 8
BYTES_PER_LOG_ROW = 8 + 9 * 8
#: Share of the available memory a run may plan to use: the rest is Python, the tables, the operating system.
USABLE_SHARE = 0.8
#: Most chunk files a run may write (``run.replications`` over ``run.chunk_size``): each is a file in one
#: directory and an object the runner lists before it starts; a million is far beyond any real run.
MAX_CHUNKS = 1_000_000


@dataclass(frozen=True)
class Part:
    """What part of the people one replication has room for comes from which key."""

    key: str
    people: float
    what: str  # said in the message: "about 15,000,000 crises over 3 years"


def tcp_keys(cfg: Any) -> list[str]:
    """The keys a composed config's TCPs are read under, in spec order (``tcp``, or ``system.tcps.<name>``)."""
    return [key for key, _ in tcp_configs(cfg)]


def people_parts(spec: SystemSpec, tcp_keys: Sequence[str]) -> list[Part]:
    """The engine's first sizing of one replication's people (``people_capacity``), by the key each part
    comes from; ``tcp_keys`` are the TCPs' keys in spec order (``tcp``, or ``system.tcps.<name>``)."""
    cal = spec.calendar
    days = cal.horizon + cal.warmup_days
    years = cal.n_months / 12 + cal.warmup_days / DAYS_PER_YEAR
    parts = []
    for i, key in enumerate(tcp_keys):
        census = sum(1 for p in spec.census if p.tcp == i)
        community = sum(1 for p in spec.community if p.tcp == i)
        register = int(spec.tcps[i].register.people.sum())
        parts += [
            Part(f"{key}.census", census, f"{census:,} inpatients at the start"),
            Part(f"{key}.community_census", community, f"{community:,} people in placements at the start"),
            Part(f"{key}.register.people", register, f"{register:,} on the register at the start"),
        ]
        for source in spec.sources:
            if source.tcp != i or source.kind.startswith("housing_"):
                continue
            name = "crisis.unregistered_rate" if source.kind == "unregistered" else "register.join_rate"
            expected = source.rate * days
            parts.append(
                Part(f"{key}.{name}", 1.5 * expected, f"about {expected:,.0f} arrivals over {years:.4g} years of run")
            )
    arrivals = sum(s.rate for s in spec.sources if not s.kind.startswith("housing_")) * days
    parts.append(Part("run.years", 10 * math.sqrt(arrivals + 1) + 64, "a margin"))
    return parts


def available_memory() -> int:
    """Bytes of memory available to a new process: /proc/meminfo's MemAvailable, else the physical memory."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return 2**62  # not known: nothing is refused


def _gb(n: float) -> str:
    return f"{n / 1e9:,.1f} GB" if n >= 1e8 else f"{n / 1e6:,.0f} MB"


def check_size(spec: SystemSpec, settings: RunSpec, tcp_keys: Sequence[str], available: int | None = None) -> None:
    """Refuse a run whose engines would not fit in the machine's memory (``available`` bytes; by default
    ``available_memory``), naming the key most responsible, or whose replications would make more than
    ``MAX_CHUNKS`` chunk files. Engines run in each of ``run.workers`` processes (one in-process); a Dask
    cluster at an address runs them on machines this one cannot see, so only one engine is counted then."""
    total = settings.auto.maximum if settings.auto is not None else int(settings.replications or 0)
    n_chunks = -(-total // settings.chunk_size)
    if n_chunks > MAX_CHUNKS:
        key = "run.auto.maximum" if settings.auto is not None else "run.replications"
        raise ConfigError(
            "run.chunk_size",
            f"{total:,} replications ({key}) in chunks of {settings.chunk_size:,} are {n_chunks:,} chunk files, "
            f"more than a run may write ({MAX_CHUNKS:,}): raise run.chunk_size to at least "
            f"{-(-total // MAX_CHUNKS):,}",
        )
    parts = people_parts(spec, tcp_keys)
    people = sum(p.people for p in parts)
    engine = people * BYTES_PER_PERSON
    log = LOG_ROWS_PER_PERSON * people * BYTES_PER_LOG_ROW if settings.event_log else 0.0
    engines = 1 if settings.backend == "dask" and settings.dask_address else max(1, settings.workers)
    need = engines * (engine + log)
    have = USABLE_SHARE * (available_memory() if available is None else available)
    if need <= have:
        return
    each = f"the engine needs about {_gb(engine + log)} a process"
    room = f"more than the {_gb(have)} this machine can give a run"
    if engines > 1 and engine + log <= have:
        raise ConfigError(
            "run.workers",
            f"{engines} workers each hold an engine: {each}, {_gb(need)} in all, {room}; use fewer workers "
            f"(at most {int(have // (engine + log))})",
        )
    if log and engines * engine <= have:
        raise ConfigError("run.event_log", f"the event log of a replication needs about {_gb(log)} ({each}), {room}")
    worst = max(parts, key=lambda p: p.people)
    raise ConfigError(worst.key, f"{worst.what} make {people:,.0f} people a replication to hold: {each}, {room}")
