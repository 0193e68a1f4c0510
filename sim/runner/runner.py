"""Monte Carlo: run replications in chunks, serially or across processes, writing each finished chunk.

Replication r draws from its own random streams, so a replication's result does not depend on which
worker ran it or in what order: the table is the same for any ``run.workers``. Each finished chunk is
written to Parquet at once, so an interrupted run keeps what it finished.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sim.config.errors import ConfigError
from sim.config.parameters import Parameterised
from sim.config.spec import SystemSpec
from sim.engine import Engine
from sim.metrics import metrics
from sim.model import run_replication
from sim.results.events import EVENT_LOG_COLUMNS, event_frame, rows_frame
from sim.results.record import MonthlyArrays
from sim.runner.backends import task_pool

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Chunk:
    """Replications [first, last) run as one task and written as one Parquet file."""

    index: int
    first: int
    last: int

    @property
    def name(self) -> str:
        return f"chunk-{self.index:05d}.parquet"


@dataclass(frozen=True)
class Stamp:
    """What made a run's chunks: the sha256 of its resolved config text (the manifest's ``config_sha256``)
    and its seed, kept in each chunk file's Parquet metadata so a resume never mixes in a chunk another
    config made (copied in, or left by an earlier run)."""

    config_sha256: str
    seed: int

    def metadata(self) -> dict[bytes, bytes]:
        return {STAMP_CONFIG: self.config_sha256.encode(), STAMP_SEED: str(self.seed).encode()}


STAMP_CONFIG, STAMP_SEED = b"tcp_sim.config_sha256", b"tcp_sim.seed"


def chunks(replications: int, size: int) -> list[Chunk]:
    return [Chunk(i, a, min(a + size, replications)) for i, a in enumerate(range(0, replications, size))]


def chunk_frame(spec: SystemSpec, replications: list[int], values: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    """Replications' monthly metrics as one wide table: replication, month, then one column a metric
    (built once per chunk: a frame per replication would cost more than the Numba engine's run).
    ``values`` are metrics of batches of replications, in order, each metric [S, batch size]."""
    months = [spec.calendar.start_label, *spec.calendar.labels]
    columns = {
        "replication": np.repeat(np.asarray(replications, dtype=np.int64), len(months)),
        "month": np.tile(np.asarray(months, dtype=object), len(replications)),
    }
    for name in values[0]:
        columns[name] = np.concatenate([v[name].T.ravel() for v in values])
    return pd.DataFrame(columns)


#: Records stacked for one pass of ``metrics``, at most this many bytes (a national system's record is
#: several MB, so a whole chunk of them at once would not keep memory flat).
BATCH_BYTES = 16 * 2**20


#: What a run simulates: one system for every replication, or a posterior's draw for each (``run.parameters``).
Simulated = SystemSpec | Parameterised


def specs_of(spec: Simulated, replications: list[int]) -> Iterator[tuple[SystemSpec, list[int]]]:
    """The replications grouped by the system they simulate, each group's spec built once: all of them on
    ``spec`` if it is one system, else by their posterior draws (``Parameterised.specs``)."""
    if isinstance(spec, SystemSpec):
        yield spec, replications
    else:
        yield from spec.specs(replications)


def run_chunk(
    spec: Simulated, chunk: Chunk, event_log: bool = False, engine: str = "numba"
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Simulate the chunk's replications with the SimPy model or the Numba engine (the same results):
    their monthly table and, if asked, their event log (the same from both). With parameter uncertainty
    (``spec`` a ``Parameterised``), each distinct draw's spec and engine are built once for the chunk."""
    frames: list[pd.DataFrame] = []
    logs: list[pd.DataFrame] = []
    for one, replications in specs_of(spec, list(range(chunk.first, chunk.last))):
        frames.append(_run_group(one, replications, event_log, engine, logs))
    monthly = frames[0] if len(frames) == 1 else _by_replication(frames)
    events = (pd.concat(logs, ignore_index=True) if len(logs) > 1 else logs[0]) if event_log else None
    if events is not None and len(frames) > 1:
        events = events.sort_values("replication", kind="stable", ignore_index=True)
    return monthly, events


def _run_group(
    spec: SystemSpec, replications: list[int], event_log: bool, engine: str, logs: list[pd.DataFrame]
) -> pd.DataFrame:
    """The monthly table of replications that all simulate ``spec`` (their event log appended to ``logs``)."""
    values, batch = [], []
    rows: list[tuple] = []  # the SimPy model's
    columns: list[dict[str, np.ndarray]] = []  # the Numba engine's
    compiled = Engine(spec, event_log) if engine == "numba" else None
    record_bytes = sum(
        math.prod(shape) * np.dtype(dtype).itemsize for shape, dtype in MonthlyArrays.shapes(spec).values()
    )
    batch_size = max(1, BATCH_BYTES // record_bytes)
    for i, r in enumerate(replications):
        if compiled is not None:
            rec, log = compiled.run(r), None
            if event_log:
                columns.append(compiled.log())
        else:
            rec, log = run_replication(spec, r, event_log)
        batch.append(rec)
        if i == len(replications) - 1 or len(batch) == batch_size:
            values.append(metrics(spec, MonthlyArrays.stack(batch)))
            batch = []
        if log:
            rows.extend(log)
    if event_log:
        joined = {name: np.concatenate([c[name] for c in columns]) for name in EVENT_LOG_COLUMNS} if columns else None
        logs.append(event_frame(joined) if joined is not None else rows_frame(rows))
    return chunk_frame(spec, replications, values)


def _by_replication(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Groups' tables as one, in replication order (each replication's months in order). Every draw must
    give the same metrics, or the chunk's columns would not line up."""
    columns = list(frames[0].columns)
    for frame in frames[1:]:
        if list(frame.columns) != columns:
            extra = sorted(set(frame.columns) ^ set(columns))
            raise ConfigError(
                "run.parameters",
                f"replications {frames[0]['replication'].iloc[0]} and {frame['replication'].iloc[0]} run draws "
                f"with different metrics ({', '.join(extra[:5]) or 'in another order'}): a posterior may change "
                "values, not what the system has",
            )
    return pd.concat(frames, ignore_index=True).sort_values("replication", kind="stable", ignore_index=True)


def run_replications(
    spec: Simulated,
    replications: int,
    *,
    workers: int = 1,
    chunk_size: int = 50,
    out_dir: Path | None = None,
    event_log: bool = False,
    engine: str = "numba",
    on_chunk: Callable[[Chunk], None] | None = None,
    resume: bool = False,
    backend: str = "processes",
    dask_address: str | None = None,
    first: int = 0,
    stamp: Stamp | None = None,
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Run all replications: of one system, or with parameter uncertainty (``spec`` a ``Parameterised``:
    each replication the spec of its posterior draw).

    Without ``out_dir``: return the monthly table (sorted by replication, month) and the event log.
    With ``out_dir``: each finished chunk is written to ``out_dir/replications/`` (its events to
    ``out_dir/events/``) as soon as it is done and then dropped, so memory stays flat however many
    replications there are; returns (None, None), and the tables are read back from the files
    (``read_chunks``, ``sim.results.summarise_chunks``). With ``resume``, chunks already written there
    are kept, not run again (a replication's result does not depend on when it runs). ``backend``:
    ``processes`` (``workers`` local processes) or ``dask`` (the cluster at ``dask_address``, or a local
    one of ``workers`` processes on loopback); the results are the same whatever runs them. ``first``
    (a multiple of ``chunk_size``): only the chunks from that replication on (a run growing in rounds).
    ``stamp``: what made the run, written into each chunk file and checked on resume (``own_chunk``).
    """
    every = [c for c in chunks(replications, chunk_size) if c.first >= first]
    done: set[int] = set()
    kept: dict[int, tuple[pd.DataFrame, pd.DataFrame | None]] = {}
    if resume and out_dir is not None:
        drop_partial(out_dir)  # a write a stopped run never finished
        rows = spec.calendar.n_months + 1 if isinstance(spec, SystemSpec) else None
        for chunk in every:
            path, log = out_dir / "replications" / chunk.name, out_dir / "events" / chunk.name
            if (
                path.exists()
                and whole_chunk(path, chunk, rows)
                and own_chunk(path, stamp)
                and (not event_log or not log.exists() or own_chunk(log, stamp))
            ):
                done.add(chunk.index)
                if on_chunk is not None:
                    on_chunk(chunk)
    todo = [c for c in every if c.index not in done]
    metadata = stamp.metadata() if stamp is not None else None

    def finish(chunk: Chunk, result: tuple[pd.DataFrame, pd.DataFrame | None]) -> None:
        if out_dir is not None:
            if result[1] is not None:  # events first: a chunk counts as done once its table exists
                _write(out_dir / "events" / chunk.name, result[1], metadata)
            _write(out_dir / "replications" / chunk.name, result[0], metadata)
        else:
            kept[chunk.index] = result
        done.add(chunk.index)
        if on_chunk is not None:
            on_chunk(chunk)

    if todo:  # the same backends a calibration's design points use (sim.runner.backends)
        busy = workers if backend == "dask" else min(workers, len(todo))
        try:
            with task_pool(busy, backend, dask_address) as pool:
                pool.map(run_chunk, [(spec, c, event_log, engine) for c in todo], lambda i, res: finish(todo[i], res))
        except BaseException:
            if out_dir is not None:  # stopped mid-write (Ctrl-C, SIGTERM): no half file left behind
                drop_partial(out_dir)
            raise
    if out_dir is not None:
        return None, None
    ordered = [kept[c.index] for c in every]
    monthly = pd.concat([m for m, _ in ordered], ignore_index=True)
    events = pd.concat([e for _, e in ordered], ignore_index=True) if event_log else None
    return monthly, events


def whole_chunk(path: Path, chunk: Chunk, months: int | None) -> bool:
    """Whether a chunk file found on resume is whole: readable Parquet with a row for each replication and
    month. One that is not (truncated by a full disk, a crash mid-copy) is set aside as ``*.broken`` (kept,
    not deleted) and run again, so a resume completes instead of failing when the bands are folded."""
    import pyarrow.parquet as pq

    try:
        rows = pq.read_metadata(path).num_rows
        if months is None or rows == (chunk.last - chunk.first) * months:
            return True
    except Exception:  # noqa: BLE001 - any unreadable file is a broken chunk
        pass
    aside = set_aside(path, ".broken")
    logger.warning(f"warning: {path} is not a whole chunk; set aside as {aside.name} and run again")
    return False


def own_chunk(path: Path, stamp: Stamp | None) -> bool:
    """Whether a chunk file found on resume was made by this run (its stamp's config digest and seed).
    One another config made is set aside as ``*.foreign`` (kept, not deleted) and run again, never mixed
    in. A file without a stamp was written before chunks carried one and is taken as the run's, as it
    was then; without ``stamp`` (a caller that gives none) nothing is checked."""
    import pyarrow.parquet as pq

    if stamp is None:
        return True
    try:
        found = pq.read_metadata(path).metadata or {}
    except Exception:  # noqa: BLE001 - unreadable: whole_chunk's to set aside
        return True
    if STAMP_CONFIG not in found:
        return True  # written before chunks were stamped
    config, seed = found[STAMP_CONFIG].decode(), found.get(STAMP_SEED, b"?").decode()
    if config == stamp.config_sha256 and seed == str(stamp.seed):
        return True
    aside = set_aside(path, ".foreign")
    logger.warning(
        f"warning: {path} was made by another config (seed {seed}, config {config[:12]}); set aside as {aside} "
        "and run again"
    )
    return False


def set_aside(path: Path, suffix: str) -> Path:
    """Move ``path`` to ``<path><suffix>`` (``.1``, ``.2``... after it if that is taken: nothing already
    set aside is written over) and return where it went."""
    aside, n = path.with_name(path.name + suffix), 0
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}{suffix}.{n}")
    path.replace(aside)
    return aside


def drop_partial(out_dir: Path) -> None:
    """Remove the run's own unfinished writes (``chunk-*.tmp``, ``_write``'s) from its chunk folders."""
    for kind in ("replications", "events"):
        for tmp in (out_dir / kind).glob("chunk-*.tmp"):
            tmp.unlink(missing_ok=True)


def chunk_files(run_dir: Path, kind: str = "replications") -> list[Path]:
    """A run's chunk files of ``kind`` (replications or events), in replication order."""
    return sorted((Path(run_dir) / kind).glob("chunk-*.parquet"))


def read_chunks(
    run_dir: Path,
    columns: list[str] | None = None,
    kind: str = "replications",
    first_chunk: int = 0,
    months: Sequence[str] | None = None,
) -> pd.DataFrame:
    """A run's table read back from its chunk files (only ``columns``, if given, to keep it small; only
    the chunks from ``first_chunk`` on, if given: a run growing in rounds reads each chunk once; only the
    rows of ``months``, if given, so a few months of 20,000 replications stay a few MB)."""
    files = chunk_files(run_dir, kind)[first_chunk:]
    if not files:
        raise FileNotFoundError(f"{run_dir} has no {kind} chunks")
    if months is None:
        return pd.concat([pd.read_parquet(f, columns=columns) for f in files], ignore_index=True)
    keep = pa.array(sorted(set(months)), type=pa.large_string())
    read = None if columns is None or "month" in columns else [*columns, "month"]
    parts = []
    for f in files:
        table = pq.read_table(f, columns=read or columns)
        table = table.filter(pc.is_in(table.column("month").cast(pa.large_string()), value_set=keep))
        parts.append(table.select(columns) if read else table)
    return pa.concat_tables(parts).to_pandas()


def _write(path: Path, frame: pd.DataFrame, metadata: dict[bytes, bytes] | None = None) -> None:
    """Write atomically, so a run stopped mid-write never leaves a half file that looks finished; with
    ``metadata`` (a ``Stamp``'s) in the file's key-value metadata beside pandas' own."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if metadata:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **metadata})
    pq.write_table(table, tmp)
    os.replace(tmp, path)
