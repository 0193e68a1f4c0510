"""An off-the-shelf peer for the degenerate loss system: the same M/G/c/c model run in Ciw.

The model: Poisson arrivals at 20 a year, c = 25 beds, lognormal stays with mean 1.5 years and
standard deviation 2.0 years, no queue (an arrival finding all 25 beds busy is lost, i.e. placed
out of area). Time runs in days (1 year = 365.25 days) as in ``sim``. Each replication starts empty,
runs a warm-up that is left out, then a measured window. Blocking is the ratio of sums over
replications (lost arrivals in the window / arrivals in the window) with a delta-method standard
error (``sim.results.intervals.ratio_estimate``); by insensitivity it should match Erlang B for the
offered load a = 20 x 1.5 = 30 and c = 25 (B = 0.2453).

Written against Ciw 3.2 (``pip install ciw``). In Ciw 3 lost arrivals are not kept in a
``rejection_dict`` (that was Ciw 2); each is a data record with ``record_type == "rejection"``,
returned by ``Simulation.get_all_records()``.

Run ``python benchmarks/ciw_loss.py --help``.
"""

from __future__ import annotations

import argparse
import math
import time

import ciw
import numpy as np

from sim.results.analytic import erlang_b
from sim.results.intervals import ratio_estimate

DAYS_PER_YEAR = 365.25
ARRIVALS_PER_YEAR = 20.0
BEDS = 25
STAY_MEAN_YEARS = 1.5
STAY_SD_YEARS = 2.0

# Parameters of the underlying normal (ciw.dists.Lognormal(mean, sd) takes these, not the lognormal's
# own mean and sd: it samples random.lognormvariate(mean, sd)). Stays in days.
SIGMA = math.sqrt(math.log(1.0 + (STAY_SD_YEARS / STAY_MEAN_YEARS) ** 2))
MU = math.log(STAY_MEAN_YEARS * DAYS_PER_YEAR) - SIGMA**2 / 2.0


def network() -> ciw.network.Network:
    """One node: Poisson arrivals, 25 lognormal servers, no waiting room (queue capacity 0, so the
    node holds at most 25 and later arrivals are rejected)."""
    return ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=ARRIVALS_PER_YEAR / DAYS_PER_YEAR)],
        service_distributions=[ciw.dists.Lognormal(mean=MU, sd=SIGMA)],
        number_of_servers=[BEDS],
        queue_capacities=[0],
    )


def run_ciw(replications: int, years: float, warmup_years: float, seed: int = 1) -> dict:
    """Run ``replications`` independent Ciw replications of the loss system and estimate blocking.

    Each replication starts empty and runs ``warmup_years + years`` years (in days); only arrivals
    dated in the window [warm-up end, run end) are measured. Ciw has a single global seed (it seeds
    Python's ``random``, which its distributions sample from, and ``ciw.rng``): replication ``r`` is
    run after ``ciw.seed(seed + r)``, so runs with different ``seed`` share replications (seed=1's
    replication 1 is seed=2's replication 0) -- use seeds at least ``replications`` apart for
    independent runs. This call reseeds the global ``random`` module.

    Returns a dict:

    - ``seconds``: wall time of the simulations only -- building ``ciw.Simulation(N)`` and
      ``simulate_until_max_time`` summed over replications; building the network and reading the
      records afterwards are excluded.
    - ``events``: arrivals + completed services over the whole simulated time including warm-up,
      summed over replications, counted from Ciw's records at the end of each run: arrivals are
      service records (admitted and discharged) + rejection records (lost) + individuals still in
      service at the end (admitted, not yet discharged) -- checked against the arrival node's own count
      (``Q.nodes[0].number_of_individuals``); completed services are the service records.
      Ciw's pre-sampled next arrival beyond the end time is not counted. This is a count of model
      events, not of Ciw's internal loop iterations.
    - ``arrivals``: arrivals in the window (admitted or lost), over all replications.
    - ``blocked``: lost arrivals in the window, over all replications.
    - ``blocking``, ``se``: ratio of sums blocked/arrivals and its delta-method standard error across
      replications.
    - ``replications``, ``years``, ``warmup_years``, ``seed``: the inputs; ``erlang_b``: B(30, 25).
    """
    if replications < 1:
        raise ValueError("need at least one replication")
    N = network()
    start = warmup_years * DAYS_PER_YEAR
    end = (warmup_years + years) * DAYS_PER_YEAR
    seconds = 0.0
    events = 0
    arrivals = np.zeros(replications, dtype=np.int64)
    blocked = np.zeros(replications, dtype=np.int64)
    for r in range(replications):
        ciw.seed(seed + r)
        t0 = time.perf_counter()
        Q = ciw.Simulation(N)
        Q.simulate_until_max_time(end)
        seconds += time.perf_counter() - t0

        records = Q.get_all_records(only=["service", "rejection"])
        served = [rec.arrival_date for rec in records if rec.record_type == "service"]
        lost = [rec.arrival_date for rec in records if rec.record_type == "rejection"]
        in_service = [ind.arrival_date for ind in Q.nodes[1].all_individuals]
        if len(records) != len(served) + len(lost) or Q.nodes[0].number_of_individuals != len(records) + len(
            in_service
        ):
            # every arrival the arrival node created is a service or rejection record or still in a bed
            raise RuntimeError("Ciw's records do not account for every arrival")
        events += 2 * len(served) + len(lost) + len(in_service)
        lost_w = sum(1 for t in lost if start <= t < end)
        admitted_w = sum(1 for t in served if start <= t < end) + sum(1 for t in in_service if start <= t < end)
        blocked[r] = lost_w
        arrivals[r] = lost_w + admitted_w

    blocking, se = ratio_estimate(blocked, arrivals)
    return {
        "seconds": seconds,
        "events": int(events),
        "arrivals": int(arrivals.sum()),
        "blocked": int(blocked.sum()),
        "blocking": blocking,
        "se": se,
        "replications": replications,
        "years": years,
        "warmup_years": warmup_years,
        "seed": seed,
        "erlang_b": erlang_b(ARRIVALS_PER_YEAR * STAY_MEAN_YEARS, BEDS),
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--replications", type=int, default=20)
    p.add_argument("--years", type=float, default=30.0, help="measured window (years)")
    p.add_argument("--warmup-years", type=float, default=40.0)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args(argv)
    res = run_ciw(a.replications, a.years, a.warmup_years, a.seed)
    n = res["replications"]
    z = (res["blocking"] - res["erlang_b"]) / res["se"]
    print(
        f"ciw {ciw.__version__}: {n} replications, {res['warmup_years']:g}-year warm-up + {res['years']:g}-year window"
    )
    print(f"seconds (simulation only) {res['seconds']:.3f}  ({res['seconds'] / n * 1000:.1f} ms/replication)")
    print(f"events {res['events']}  ({res['events'] / n:.0f}/replication, {res['events'] / res['seconds']:,.0f}/s)")
    print(f"arrivals in window {res['arrivals']}  lost {res['blocked']}")
    print(f"blocking {res['blocking']:.4f} +/- {res['se']:.4f}  Erlang B(30, 25) {res['erlang_b']:.4f}  z {z:+.2f}")


if __name__ == "__main__":
    main()
