"""The long-stay structure a TCP's stay laws imply in steady state, worked out without simulating: for each
unit type, the time to readiness is the pool's LOS law thinned by inpatient CTRs (each finds the person
ready with ``ctr.ready_prob``, or ``ctr.ready_prob_long`` once the stay is ``ctr.long_stay_years`` old)
and by deaths in hospital; the elapsed stays of the inpatients on a day then have the length-biased
density S(x) / E[L] (M/G/infinity), and the units weigh in by their share of adult admissions. Delays
after readiness are left out (they lengthen stays a little).

    python benchmarks/long_stays.py [--tcp bhr] [overrides ...]

Prints each unit's mean time to readiness and the shares of inpatients in hospital 2+, 5+ and 10+ years,
beside the national figures (PARAMETERS.md: 2+ years 47% in 2015, 62% in 2017; 5+ about 34% in 2016; 10+
6% in 2015). A calibration aid (docs/calibration.md); the simulation is the judge (benchmarks/realism.py).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from sim.api import compose
from sim.arithmetic import ctr_ready_prob
from sim.config.build import build
from sim.pathway import DAYS_PER_YEAR, LONG_STAY_YEARS, UNIT_TYPES


def effective_survival(pool, tcp, unit: int, grid: np.ndarray) -> np.ndarray:
    """P(not yet ready and alive) at each elapsed day of ``grid``."""
    los = np.array([pool.los.survival(x) for x in grid])
    ctr = np.ones_like(grid)
    first, interval = tcp.ctr_first, tcp.ctr_interval[unit]
    times = [first] + (list(np.arange(first + interval, grid[-1], interval)) if np.isfinite(interval) else [])
    for c in times:
        p = ctr_ready_prob(c, tcp.ctr_ready, tcp.ctr_ready_long, tcp.ctr_long_stay)
        ctr[grid >= c] *= 1.0 - p
    return los * ctr * np.exp(-tcp.hospital_death * grid)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tcp", default="bhr")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args(argv)
    spec = build(compose([f"tcp={args.tcp}", *args.overrides])).system
    tcp = spec.tcps[0]
    grid = np.linspace(0.0, 60 * DAYS_PER_YEAR, 60 * 365 + 1)
    step = grid[1] - grid[0]
    shares = np.diff(np.concatenate([[0.0], tcp.route_cum]))
    stock = np.zeros(len(LONG_STAY_YEARS))
    total = 0.0
    print(f"{'unit':>14} {'admissions':>10} {'mean years':>10} " + " ".join(f"{y:>4}+y%" for y in LONG_STAY_YEARS))
    for u, unit in enumerate(UNIT_TYPES):
        if shares[u] <= 0:
            continue
        pool = spec.pools[int(tcp.pool_of_unit[u])]
        s = effective_survival(pool, tcp, u, grid)
        mean = s.sum() * step
        above = np.array([s[grid >= y * DAYS_PER_YEAR].sum() * step for y in LONG_STAY_YEARS])
        stock += shares[u] * above
        total += shares[u] * mean
        cells = " ".join(f"{100 * a / mean:>6.1f}" for a in above)
        print(f"{unit:>14} {shares[u]:>10.2f} {mean / DAYS_PER_YEAR:>10.2f} {cells}")
    cells = " ".join(f"{100 * a / total:>6.1f}" for a in stock)
    print(f"{'all adults':>14} {'':>10} {total / DAYS_PER_YEAR:>10.2f} {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
