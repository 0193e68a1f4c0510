"""The Numba engine: the SimPy model's rules as a compiled event loop over arrays (``loop.py``), fed by
the arrays of ``build.py``. Same config, same seed: the same ``MonthlyArrays`` as the SimPy model."""

from __future__ import annotations

import hashlib
from pathlib import Path


def _clear_stale_cache() -> None:
    """Drop Numba's on-disk cache of the engine when its sources changed since it was written.

    Numba checks a cached function against its own file's timestamp, but an index written by older
    code can name classes that no longer exist, and then loading it fails instead of recompiling. A
    stamp of the engine's and samplers' sources, kept beside the cache, catches that first.
    """
    here = Path(__file__).resolve().parent
    shared = [here.parent / "arithmetic.py", here.parent / "pathway.py"]  # compiled into the kernel too
    sources = sorted(here.glob("*.py")) + sorted((here.parent / "sampling").glob("*.py")) + shared
    stamp = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()
    marker = here / "__pycache__" / "engine.stamp"
    try:
        if marker.read_text() == stamp:
            return
    except OSError:
        pass
    for folder in (here / "__pycache__", here.parent / "sampling" / "__pycache__", here.parent / "__pycache__"):
        for cached in list(folder.glob("*.nbi")) + list(folder.glob("*.nbc")):
            cached.unlink(missing_ok=True)
    try:
        marker.parent.mkdir(exist_ok=True)
        marker.write_text(stamp)
    except OSError:
        pass  # a read-only install: Numba then compiles in memory


_clear_stale_cache()

import numpy as np  # noqa: E402

from sim.config.spec import SystemSpec  # noqa: E402
from sim.engine.build import EngineSpec, build, people_capacity  # noqa: E402
from sim.engine.loop import simulate  # noqa: E402
from sim.engine.state import LOG_INT_COLUMNS, new_state  # noqa: E402
from sim.results.events import EVENT_LOG_COLUMNS  # noqa: E402
from sim.results.record import MonthlyArrays  # noqa: E402

LOG_FULL = 3  # the status of a run whose event log filled up (sim/engine/loop.py, ``note``)


class Engine:
    """Runs replications of one system; the arrays are built once, the kernel compiled once (cached)."""

    def __init__(self, spec: SystemSpec, event_log: bool = False) -> None:
        self.spec = spec
        self.arrays: EngineSpec = build(spec)
        self.capacity = people_capacity(spec)
        # rows of the per-person event log a replication has room for (0: no log kept)
        self.log_capacity = 8 * self.capacity + 1024 if event_log else 0
        self.replication = -1  # the last replication run
        # the state, reused by every replication (simulate resets it), the record it fills, copied out, and
        # the state's arrays, kept here as long as the struct that uses them (it does not own them)
        self.state, self.record, self._state_arrays = self._room()
        self.events = 0  # events processed by the runs so far (for benchmarks)

    def _room(self):
        spec = self.spec
        return new_state(
            self.arrays,
            MonthlyArrays.shapes(spec),
            len(spec.tcps),
            len(spec.pools),
            self.capacity,
            4 * self.capacity + len(spec.sources) + len(spec.pools) + 64,
            self.log_capacity,
        )

    def run(self, replication: int, copy: bool = True) -> MonthlyArrays:
        """One replication. If the people, event or event-log arrays fill up, run it again with twice the room
        (a replication is a pure function of its seed, so the retry gives the same result). With
        ``copy=False``, the engine's own record, overwritten by its next run: for a caller that reduces
        each record at once (copying half a megabyte a replication is a sixth of the loss system's time)."""
        while True:
            status, events = simulate(self.state, replication)
            if status == 0:
                self.events += events
                self.replication = replication
                return self.record.copy() if copy else self.record
            if status == LOG_FULL:
                self.log_capacity *= 2
            else:
                self.capacity *= 2
            self.state, self.record, self._state_arrays = self._room()

    def log(self) -> dict[str, np.ndarray]:
        """The last replication's event log (kept with ``Engine(spec, event_log=True)``): a column a name of
        ``EVENT_LOG_COLUMNS``, the event as its code (``sim.results.events.event_frame`` names it)."""
        arrays = self._state_arrays
        n = int(arrays["log_n"][0]) if self.log_capacity > 0 else 0
        ints = arrays["log_int"][:n]
        columns = {"replication": np.full(n, self.replication, np.int64), "time": arrays["log_time"][:n].copy()}
        columns |= {name: ints[:, k].copy() for k, name in enumerate(LOG_INT_COLUMNS)}
        return {name: columns[name] for name in EVENT_LOG_COLUMNS}


def run_replication(spec: SystemSpec, replication: int) -> MonthlyArrays:
    """One replication with the Numba engine (builds the arrays; use ``Engine`` for many)."""
    return Engine(spec).run(replication)


__all__ = ["Engine", "EngineSpec", "build", "run_replication"]
