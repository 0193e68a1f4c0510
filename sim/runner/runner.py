"""Monte Carlo: run replications in chunks, serially or across processes, writing each finished chunk.

Replication r draws from its own random streams, so a replication's result does not depend on which
worker ran it or in what order: the table is the same for any ``run.workers``. Each finished chunk is
written to Parquet at once, so an interrupted run keeps what it finished.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config.spec import SystemSpec
from sim.engine import Engine
from sim.metrics import metrics
from sim.model import EVENT_LOG_COLUMNS, run_replication
from sim.results.record import MonthlyArrays


@dataclass(frozen=True)
class Chunk:
    """Replications [first, last) run as one task and written as one Parquet file."""

    index: int
    first: int
    last: int

    @property
    def name(self) -> str:
        return f"chunk-{self.index:05d}.parquet"


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


def run_chunk(
    spec: SystemSpec, chunk: Chunk, event_log: bool = False, engine: str = "numba"
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Simulate the chunk's replications with the SimPy model or the Numba engine (the same results):
    their monthly table and, if asked (SimPy only), their event log."""
    values, logs, batch = [], [], []
    compiled = Engine(spec) if engine == "numba" else None
    record_bytes = sum(
        math.prod(shape) * np.dtype(dtype).itemsize for shape, dtype in MonthlyArrays.shapes(spec).values()
    )
    batch_size = max(1, BATCH_BYTES // record_bytes)
    for r in range(chunk.first, chunk.last):
        if compiled is not None:
            rec, log = compiled.run(r), None
        else:
            rec, log = run_replication(spec, r, event_log)
        batch.append(rec)
        if r == chunk.last - 1 or len(batch) == batch_size:
            values.append(metrics(spec, MonthlyArrays.stack(batch)))
            batch = []
        if log:
            logs.extend(log)
    events = pd.DataFrame(logs, columns=list(EVENT_LOG_COLUMNS)) if event_log else None
    return chunk_frame(spec, list(range(chunk.first, chunk.last)), values), events


def run_replications(
    spec: SystemSpec,
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
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Run all replications.

    Without ``out_dir``: return the monthly table (sorted by replication, month) and the event log.
    With ``out_dir``: each finished chunk is written to ``out_dir/replications/`` (its events to
    ``out_dir/events/``) as soon as it is done and then dropped, so memory stays flat however many
    replications there are; returns (None, None), and the tables are read back from the files
    (``read_chunks``, ``sim.results.summarise_chunks``). With ``resume``, chunks already written there
    are kept, not run again (a replication's result does not depend on when it runs). ``backend``:
    ``processes`` (``workers`` local processes) or ``dask`` (the cluster at ``dask_address``, or a local
    one of ``workers`` processes on loopback); the results are the same whatever runs them. ``first``
    (a multiple of ``chunk_size``): only the chunks from that replication on (a run growing in rounds).
    """
    every = [c for c in chunks(replications, chunk_size) if c.first >= first]
    done: set[int] = set()
    kept: dict[int, tuple[pd.DataFrame, pd.DataFrame | None]] = {}
    if resume and out_dir is not None:
        for chunk in every:
            if (out_dir / "replications" / chunk.name).exists():
                done.add(chunk.index)
                if on_chunk is not None:
                    on_chunk(chunk)
    todo = [c for c in every if c.index not in done]

    def finish(chunk: Chunk, result: tuple[pd.DataFrame, pd.DataFrame | None]) -> None:
        if out_dir is not None:
            if result[1] is not None:  # events first: a chunk counts as done once its table exists
                _write(out_dir / "events" / chunk.name, result[1])
            _write(out_dir / "replications" / chunk.name, result[0])
        else:
            kept[chunk.index] = result
        done.add(chunk.index)
        if on_chunk is not None:
            on_chunk(chunk)

    if backend == "dask":
        _run_on_dask(spec, todo, event_log, engine, workers, dask_address, finish)
    elif workers == 1 or len(todo) <= 1:
        for chunk in todo:
            finish(chunk, run_chunk(spec, chunk, event_log, engine))
    else:
        with ProcessPoolExecutor(max_workers=min(workers, len(todo))) as pool:
            futures = {pool.submit(run_chunk, spec, c, event_log, engine): c for c in todo}
            try:
                for f in as_completed(futures):
                    finish(futures[f], f.result())
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
    if out_dir is not None:
        return None, None
    ordered = [kept[c.index] for c in every]
    monthly = pd.concat([m for m, _ in ordered], ignore_index=True)
    events = pd.concat([e for _, e in ordered], ignore_index=True) if event_log else None
    return monthly, events


def chunk_files(run_dir: Path, kind: str = "replications") -> list[Path]:
    """A run's chunk files of ``kind`` (replications or events), in replication order."""
    return sorted((Path(run_dir) / kind).glob("chunk-*.parquet"))


def read_chunks(
    run_dir: Path, columns: list[str] | None = None, kind: str = "replications", first_chunk: int = 0
) -> pd.DataFrame:
    """A run's table read back from its chunk files (only ``columns``, if given, to keep it small; only
    the chunks from ``first_chunk`` on, if given: a run growing in rounds reads each chunk once)."""
    files = chunk_files(run_dir, kind)[first_chunk:]
    if not files:
        raise FileNotFoundError(f"{run_dir} has no {kind} chunks")
    return pd.concat([pd.read_parquet(f, columns=columns) for f in files], ignore_index=True)


def _run_on_dask(spec, todo, event_log, engine, workers, address, finish) -> None:
    """Chunks as Dask tasks, finished as they come back (a cluster for those who outgrow one machine)."""
    try:
        from dask.distributed import Client, LocalCluster
        from dask.distributed import as_completed as dask_completed
    except ImportError:  # pragma: no cover - the dev extras install it
        raise RuntimeError("run.backend=dask needs dask.distributed: pip install 'dask[distributed]'") from None
    cluster = None
    if address:
        client = Client(address)
    else:
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        )
        client = Client(cluster)
    try:
        futures = {client.submit(run_chunk, spec, c, event_log, engine, pure=False): c for c in todo}
        try:
            for f in dask_completed(list(futures)):
                finish(futures[f], f.result())
        except BaseException:
            client.cancel(list(futures))
            raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _write(path: Path, frame: pd.DataFrame) -> None:
    """Write atomically, so a run stopped mid-write never leaves a half file that looks finished."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)
