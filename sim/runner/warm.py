"""Whether the Numba engine must compile before its first replication, so a run can say so ("compiling
the engine ...") instead of sitting at 0% for tens of seconds without a word.

The engine is compiled once per process from Numba's on-disk cache (about 2 s) or, when that cache is
cold (a first run on a machine, or after the engine's sources changed), from scratch: ``COMPILE_SECONDS``.
"""

from __future__ import annotations

#: A typical cold compile of the engine, seconds (measured: 20-23 s on 2 cores; issue 14, point 7).
COMPILE_SECONDS = 20


def compile_needed(compiled_signatures: int, cached_entries: int | None) -> bool:
    """Whether the first replication compiles: nothing compiled in this process yet and no entry of the
    on-disk cache valid for these sources and this Numba (``cached_entries``; None: the cache cannot be
    read, so nothing is claimed)."""
    if compiled_signatures > 0 or cached_entries is None:
        return False
    return cached_entries == 0


def engine_needs_compiling() -> bool:
    """``compile_needed`` for the engine's kernel (``sim.engine.loop.simulate``): its signatures in this
    process and the entries of its cache index that match its source file (Numba's own check: an index
    written for other sources or another Numba version reads as empty)."""
    from sim.engine.loop import simulate

    try:
        entries: int | None = len(simulate._cache._cache_file._load_index())  # Numba's cache, no public API
    except Exception:  # noqa: BLE001 - a Numba without these internals: say nothing rather than guess
        entries = None
    return compile_needed(len(simulate.signatures), entries)


def compile_line() -> str:
    """What a run says before a cold compile."""
    return f"compiling the engine (first run only, about {COMPILE_SECONDS} s)"
