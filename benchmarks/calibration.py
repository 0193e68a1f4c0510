"""How fast a calibration simulates: BHR's (configs/calibration/bhr.yaml, 20,880 simulations) and, with
--england, a short England one (its first two waves, smaller), each timed in this one run, with the
simulations a second its manifest records (waves and posterior predictive; the designs, implausibility and
weights are the rest of the wall time).

    python benchmarks/calibration.py [--england]
"""

from __future__ import annotations

import argparse
import time

from sim.calibrate import calibrate, compose


def timed(label: str, overrides: list[str]) -> None:
    clock = time.perf_counter()
    result = calibrate(compose(overrides), progress=False)
    wall = time.perf_counter() - clock
    m = result.manifest
    print(
        f"{label:8s} {m['simulations']:>7,} simulations  {wall:6.1f} s wall  "
        f"{m['simulations_per_second']:>8} simulations/s  ({len(result.calibration.keys)} parameters, "
        f"{m['waves_run']} waves, workers {result.calibration.method.workers})"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--england", action="store_true", help="also a short England calibration (about 3 minutes)")
    args = p.parse_args()
    timed("bhr", ["calibration=bhr"])
    if args.england:
        timed(
            "england",
            ["calibration=england", "calibration.method.waves=2", "calibration.method.points=[256,128]"],
        )


if __name__ == "__main__":
    main()
