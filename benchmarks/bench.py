"""Benchmark the engines, measured in one run: `make bench` (or python benchmarks/bench.py [--quick]).

(a) The degenerate loss system (Poisson 20 a year, 25 beds, lognormal stay mean 1.5 sd 2.0 years,
    overflow out of area; a 40-year warm-up from empty, then 30 years counted): the Numba engine, the
    SimPy model and Ciw (a peer library) on the same model; per-replication time, events per second,
    the ratios, and the blocking estimate (ratio of sums) with its 95% CI against Erlang B.
(b) The BHR baseline (3 years from the March 2016 census): the Numba engine against the SimPy model on
    the same seeds, and 1,000 replications of 10 years through the whole run (metrics, bands) with a
    warm compile cache.
(c) A national-scale synthetic system (benchmarks/national.py: 44 TCPs, about 2,000 inpatients and
    24,000 on registers), 10 years on two processes: the engine alone (no tables) for its events per
    second; then 1,000 replications through the whole run (engine, metrics, Parquet chunks, bands folded
    from them; per-TCP columns off), its wall time and the peak memory of every process.

(d) Start-up: a fresh process runs one replication of (a) with an empty Numba cache (a cold start: it
    compiles the engine and writes the cache), then another fresh process with that cache (a warm start).
    The compile time is the cold start less the warm one (both include Python's imports).

Events are the model's events as the Numba engine counts them (every event taken off its queue); the
SimPy model processes the same events (the engines are identical on the same seed), so its events per
second use the same count. Ciw's events are its arrivals and service completions (benchmarks/ciw_loss.py).
Times are wall-clock on this machine, one process; the last line is machine readable.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sim.api import compose, run
from sim.config import build_spec
from sim.engine import Engine
from sim.model import run_replication
from sim.results.analytic import erlang_b
from sim.results.intervals import ratio_estimate

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from national import national_config, peak_mb  # noqa: E402  (benchmarks/ is not a package)

LOSS = [
    "tcp=loss_system",
    "run.years=30",
    "run.warmup_years=40",
    "run.progress=false",
    "tcp.beds.atu.los.components=[{family:lognormal,weight:1.0,mean:1.5,sd:2.0}]",
]


def ciw_module():
    spec = importlib.util.spec_from_file_location("ciw_loss", HERE / "ciw_loss.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(f, *args):
    t0 = time.perf_counter()
    out = f(*args)
    return out, time.perf_counter() - t0


def blocking_sums(rec) -> tuple[int, int]:
    """A replication's admissions placed out of area for want of a bed, and all its admissions."""
    return int(rec.ooa_full.sum()), int(rec.admissions.sum())


def loss_system(n_numba: int, n_simpy: int, n_ciw: int) -> dict:
    spec = build_spec(compose(LOSS))
    engine = Engine(spec)
    engine.run(0)  # compile or load from the cache, outside the timing
    engine.events = 0
    # each replication's record is reduced as it comes, so the engine's own record serves (copy=False);
    # holding 2,000 records of 0.5 MB would time the allocation of a gigabyte, not the engine
    sums, t_numba = timed(lambda: [blocking_sums(engine.run(r, copy=False)) for r in range(n_numba)])
    events_per_rep = engine.events / n_numba
    b, se = ratio_estimate(*np.array(sums).T)
    _, t_simpy = timed(lambda: [blocking_sums(run_replication(spec, r)[0]) for r in range(n_simpy)])
    ciw = ciw_module().run_ciw(replications=n_ciw, years=30, warmup_years=40)
    out = {
        "numba_ms": 1e3 * t_numba / n_numba,
        "simpy_ms": 1e3 * t_simpy / n_simpy,
        "ciw_ms": 1e3 * ciw["seconds"] / n_ciw,
        "numba_events_per_s": events_per_rep * n_numba / t_numba,
        "simpy_events_per_s": events_per_rep * n_simpy / t_simpy,
        "ciw_events_per_s": ciw["events"] / ciw["seconds"],
        "blocking": b,
        "blocking_ci": 1.96 * se,
        "erlang_b": erlang_b(30.0, 25),
    }
    out["numba_vs_simpy"] = out["simpy_ms"] / out["numba_ms"]
    out["numba_vs_ciw"] = out["ciw_ms"] / out["numba_ms"]
    print(f"(a) loss system, 40-year warm-up + 30 years, {events_per_rep:,.0f} events a replication")
    print(
        f"    Numba engine  {out['numba_ms']:8.3f} ms/replication  "
        f"{out['numba_events_per_s'] / 1e6:8.2f} M events/s  ({n_numba} replications)"
    )
    print(
        f"    SimPy model   {out['simpy_ms']:8.3f} ms/replication  "
        f"{out['simpy_events_per_s'] / 1e6:8.2f} M events/s  ({n_simpy} replications)"
    )
    print(
        f"    Ciw           {out['ciw_ms']:8.3f} ms/replication  "
        f"{out['ciw_events_per_s'] / 1e6:8.2f} M events/s  ({n_ciw} replications)"
    )
    print(f"    Numba vs SimPy {out['numba_vs_simpy']:.0f}x, vs Ciw {out['numba_vs_ciw']:.0f}x")
    print(
        f"    blocking {b:.4f} +/- {1.96 * se:.4f} (95% CI, {n_numba} replications) "
        f"against Erlang B(30, 25) = {out['erlang_b']:.4f}"
    )
    return out


def bhr(n_numba: int, n_simpy: int, n_full: int) -> dict:
    spec = build_spec(compose(["tcp=bhr", "run.progress=false"]))
    engine = Engine(spec)
    engine.run(0)
    _, t_numba = timed(lambda: [engine.run(r, copy=False).inpatients[-1].sum() for r in range(n_numba)])
    _, t_simpy = timed(lambda: [run_replication(spec, r)[0].inpatients[-1].sum() for r in range(n_simpy)])
    cfg = compose(["tcp=bhr", "run.engine=numba", "run.years=10", f"run.replications={n_full}", "run.progress=false"])
    run(compose(["tcp=bhr", "run.engine=numba", "run.replications=2", "run.progress=false"]))  # warm
    _, t_full = timed(run, cfg)
    out = {"bhr_numba_ms": 1e3 * t_numba / n_numba, "bhr_simpy_ms": 1e3 * t_simpy / n_simpy, "bhr_full_10y_s": t_full}
    out["bhr_numba_vs_simpy"] = out["bhr_simpy_ms"] / out["bhr_numba_ms"]
    print("(b) BHR baseline, 3 years from the March 2016 census")
    print(f"    Numba engine  {out['bhr_numba_ms']:8.3f} ms/replication ({n_numba} replications)")
    print(f"    SimPy model   {out['bhr_simpy_ms']:8.3f} ms/replication ({n_simpy} replications)")
    print(f"    Numba vs SimPy {out['bhr_numba_vs_simpy']:.0f}x")
    print(f"    {n_full} replications of 10 years, whole run with metrics and bands: {t_full:.2f} s")
    return out


def _national_chunk(first: int, last: int) -> tuple[int, float, float]:
    """Worker: the engine alone on replications [first, last); its events, peak memory (MB) and the
    seconds its replications took (start-up, compose and cache load excluded)."""
    engine = Engine(build_spec(national_config(years=10)))
    engine.run(first)  # loads the compiled engine from the cache: start-up, not replication time
    t0 = time.perf_counter()
    for r in range(first + 1, last):
        engine.run(r)
    busy = (time.perf_counter() - t0) * (last - first) / max(last - first - 1, 1)
    return engine.events, peak_mb(), busy


def national(n: int, full: bool, workers: int = 2) -> dict:
    """(c): the engine alone (no tables) for events per second, then the whole run (engine, metrics,
    Parquet chunks, bands folded from them) on ``workers`` processes: wall time and peak memory."""
    from concurrent.futures import ProcessPoolExecutor

    spec = build_spec(national_config(years=10))
    Engine(spec).run(0)  # compile or load the cache before the clock starts
    bounds = np.linspace(0, n, workers + 1).astype(int)
    # spawned, not forked, so a worker holds only what it needs
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(_national_chunk, bounds[:-1], bounds[1:]))
    events = sum(e for e, _, _ in results)
    busy = max(s for _, _, s in results)  # the slower worker's replications (its first one's time excluded, scaled)
    reps = 1000 if full else 10 * n
    # the whole run in a fresh process, so its memory is the run's own and not this benchmark's
    p = subprocess.run(
        [sys.executable, str(HERE / "national.py"), str(reps), str(workers)], capture_output=True, text=True, check=True
    )
    whole = json.loads(p.stdout.strip().splitlines()[-1])
    t = whole["seconds"]
    out = {
        "national_s_per_rep": busy / (n / workers),
        "national_events_per_s": events / busy,
        "national_1000_s": t * 1000 / reps,
        "national_peak_mb": max(whole["main_mb"], whole["worker_mb"]),
        "national_main_mb": whole["main_mb"],
        "national_worker_mb": whole["worker_mb"],
    }
    print(
        f"(c) national synthetic system: {len(spec.tcps)} TCPs, {len(spec.census)} inpatients, "
        f"{sum(int(x.register.people.sum()) for x in spec.tcps):,} on registers, 10 years, {workers} processes"
    )
    print(
        f"    Numba engine alone: {out['national_s_per_rep']:.3f} s/replication in a worker, "
        f"{events / busy / 1e6:.2f} M events/s on {workers} cores ({n} replications)"
    )
    label = "measured" if full else f"projected from {reps}"
    print(
        f"    whole run (engine, metrics, Parquet chunks, bands): {reps} replications in {t:.1f} s; "
        f"1,000 replications {out['national_1000_s']:.0f} s ({label}); {whole['disk_mb']:.0f} MB written"
    )
    print(
        f"    peak memory of the whole run: main process {whole['main_mb']:.0f} MB, largest worker "
        f"{whole['worker_mb']:.0f} MB (resident, shared pages counted in each)"
    )
    return out


_START = """
import time
t0 = time.perf_counter()
from sim.api import compose
from sim.config import build_spec
from sim.engine import Engine
Engine(build_spec(compose({loss!r}))).run(0)
print(time.perf_counter() - t0)
"""


def start_up() -> dict:
    """(d): seconds from a fresh interpreter's first line to one finished replication, with an empty
    Numba cache (cold) and with the cache that run wrote (warm)."""
    with tempfile.TemporaryDirectory() as cache:
        env = os.environ | {"NUMBA_CACHE_DIR": cache}

        def once() -> float:
            out = subprocess.run(
                [sys.executable, "-c", _START.format(loss=LOSS)], env=env, capture_output=True, text=True, check=True
            )
            return float(out.stdout.strip().splitlines()[-1])

        cold, warm = once(), once()
    out = {"cold_start_s": cold, "warm_start_s": warm, "compile_s": cold - warm}
    print("(d) start-up, a fresh process to one replication of (a)")
    print(
        f"    cold (empty compile cache) {cold:.1f} s, warm (cached) {warm:.2f} s: "
        f"compiling the engine takes {cold - warm:.1f} s"
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer replications (a smoke run)")
    parser.add_argument(
        "--projected",
        action="store_true",
        help="run (c)'s whole run at 400 replications and project 1,000 (else 1,000: minutes)",
    )
    args = parser.parse_args()
    n = (200, 10, 10, 200, 10, 100, 6) if args.quick else (2000, 50, 50, 1000, 100, 1000, 40)
    figures = loss_system(*n[:3])
    figures.update(bhr(*n[3:6]))
    figures.update(national(n[6], not (args.quick or args.projected)))
    figures.update(start_up())
    print("bench: " + " ".join(f"{k}={v:.6g}" for k, v in figures.items()))


if __name__ == "__main__":
    sys.exit(main())
