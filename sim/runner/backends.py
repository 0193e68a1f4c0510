"""Where tasks run: in this process, in local worker processes, or on a Dask cluster, behind one small
interface, so replications and a calibration's design points go through the same backends and give the
same results whatever runs them (a task is a pure function of its arguments).

    with task_pool(workers=2, backend="processes") as pool:
        pool.map(function, [args, ...], on_result)   # on_result(index, result), as tasks finish
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any


class TaskPool:
    """Runs tasks in this process (``workers`` 1 and no Dask), a process pool, or a Dask client."""

    def __init__(self, workers: int, executor: Any = None, client: Any = None) -> None:
        self.workers, self.executor, self.client = workers, executor, client

    def map(self, function: Callable[..., Any], tasks: Sequence[tuple], on_result: Callable[[int, Any], None]) -> None:
        """Run ``function(*task)`` for every task; ``on_result(index, result)`` as each finishes (any order).
        A failure or Ctrl-C cancels the tasks not started and is raised."""
        if self.client is not None:
            from dask.distributed import as_completed as dask_completed

            futures = {self.client.submit(function, *t, pure=False): i for i, t in enumerate(tasks)}
            try:
                for f in dask_completed(list(futures)):
                    on_result(futures[f], f.result())
            except BaseException:
                self.client.cancel(list(futures))
                raise
        elif self.executor is None or len(tasks) <= 1:
            for i, t in enumerate(tasks):
                on_result(i, function(*t))
        else:
            pending = {self.executor.submit(function, *t): i for i, t in enumerate(tasks)}
            try:
                remaining = set(pending)
                while remaining:
                    done, remaining = wait(remaining, timeout=WATCH_SECONDS, return_when=FIRST_COMPLETED)
                    for f in done:
                        on_result(pending[f], f.result())
                    if not done:
                        _check_workers(self.executor)
            except BaseException:  # task_pool then stops the workers
                for f in pending:
                    f.cancel()
                raise


#: How often the parent looks at its workers while it waits for a task (seconds).
WATCH_SECONDS = 0.5


def _check_workers(executor: ProcessPoolExecutor) -> None:
    """Raise ``BrokenProcessPool`` naming a worker that has died (killed, out of memory). The executor
    notices a lost worker itself, but a worker killed while it held the pool's queue left the run waiting
    for good (3 of 20 kills in benchmarks/stress_processes.py): the parent's own look ends it."""
    for pid, process in list(getattr(executor, "_processes", {}).items()):  # no public handle on them
        code = process.exitcode
        if code is not None:
            raise BrokenProcessPool(f"worker process {pid} stopped (exit code {code})")


def _worker_start(parent: int) -> None:
    """In each worker process: Ctrl-C is the parent's to handle (it stops the workers: a worker handling it
    too met the executor's shutdown and hung the run), SIGTERM ends the worker at once, and a worker whose
    parent is gone (killed with -9, or by the OOM killer) exits within a second instead of running on."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def stop_workers(executor: ProcessPoolExecutor) -> None:
    """End a process pool now: its workers terminated, nothing waited for (after Ctrl-C or a failure; the
    tasks already finished have been handed over, and what was running is run again on resume)."""
    processes = list(getattr(executor, "_processes", {}).values())  # no public handle on them
    for process in processes:
        if process.is_alive():
            process.terminate()
    # the executor's shutdown takes a lock its management thread may hold while it meets the lost
    # worker: asked from a thread of its own, and not waited for more than a moment
    closer = threading.Thread(target=executor.shutdown, kwargs={"wait": False, "cancel_futures": True}, daemon=True)
    closer.start()
    closer.join(timeout=2)
    for process in processes:
        process.join(timeout=5)


#: Set to 1 to see Dask's own log lines (its scheduler's and workers' start and stop, about 35 INFO lines).
DASK_LOGS_ENV = "TCP_SIM_DASK_LOGS"


def quiet_dask(environ: dict[str, str] | None = None) -> bool:
    """Keep Dask's ``distributed`` loggers at WARNING, in this process and the worker processes a local
    cluster starts (they read Dask's config from the environment they inherit), unless ``TCP_SIM_DASK_LOGS``
    is 1; returns whether it quietened them."""
    env = os.environ if environ is None else environ
    if env.get(DASK_LOGS_ENV, "") == "1":
        return False
    env.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")
    logging.getLogger("distributed").setLevel(logging.WARNING)
    return True


@contextmanager
def task_pool(workers: int = 1, backend: str = "processes", dask_address: str | None = None) -> Iterator[TaskPool]:
    """A pool for many ``map`` calls (a Dask cluster or process pool is started once, not per call)."""
    if backend == "dask":
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - the dev extras install it
            raise RuntimeError("backend dask needs dask.distributed: pip install 'dask[distributed]'") from None
        quiet_dask()
        cluster = None
        if dask_address:
            client = Client(dask_address)
        else:
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
            )
            client = Client(cluster)
        try:
            yield TaskPool(workers, client=client)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    elif workers > 1:
        executor = ProcessPoolExecutor(max_workers=workers, initializer=_worker_start, initargs=(os.getpid(),))
        try:
            yield TaskPool(workers, executor=executor)
        except BaseException:
            stop_workers(executor)
            raise
        executor.shutdown(wait=True)
    else:
        yield TaskPool(1)
