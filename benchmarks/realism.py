"""The long-run figures of a TCP's baseline, set beside the published patterns they should follow (issue
12): for each financial year, admissions and their readmission share, transfers between units and their
share of admissions and transfers together (the national statistics count transfers among admissions),
placements and breakdowns at the year's end, the delayed share of inpatients (the mean over month ends),
the shares of inpatients in hospital 2+, 5+ and 10+ years each March, free housing units and the
register. (The capacity curve's cost at two bed numbers: experiments/atu_capacity.py capacity.beds=[9,20].)

    python benchmarks/realism.py [--tcp bhr] [--years 9] [--replications 200] [overrides ...]

Means over replications of the Numba engine. National patterns to read them against (PARAMETERS.md):
about 6% of inpatients delayed (2019-21); 15-20% of admissions are readmissions within 12 months;
about 22% of admissions are transfers between hospitals (Hatton 2016);
about half or more of inpatients in hospital 2+ years (47% in 2015, 62% in 2017), 5+ years about 34%
(2016), 10+ years 6% (2015). The recorded BHR figures of 2016/17 (seed 001): 19 admissions, 26
discharges, 22 inpatients on 30 April 2017, about 11 in hospital 5+ years.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from sim.api import compose
from sim.config.build import build
from sim.engine import Engine
from sim.metrics import metrics
from sim.results.record import MonthlyArrays


def long_stay_columns(m: dict[str, np.ndarray]) -> dict[str, str]:
    """The long-stay metrics this version of the model has, by threshold in years."""
    out = {}
    for years in (2, 5, 10):
        for name in (f"inpatients_{years}y_plus", f"long_stayers_{years}y"):
            if name in m:
                out[f"{years}+y"] = name
                break
    return out


def yearly(overrides: list[str], replications: int) -> None:
    cfg = compose(["run.progress=false", *overrides])
    built = build(cfg)
    spec = built.system
    engine = Engine(spec)
    records = [engine.run(r) for r in range(replications)]
    m = metrics(spec, MonthlyArrays.stack(records))
    months = ("start", *spec.calendar.labels)  # stock point s is the end of month s (0: the start)
    stays = long_stay_columns(m)
    head = ["year", "admissions", "readmit%", "transfers", "transfer%", "discharges", "delayed%", "inpatients"]
    head += [f"{k}%" for k in stays]
    head += ["placements", "breakdowns", "housing_free", "register"]
    print(" ".join(f"{h:>11}" for h in head))
    n = len(months)
    for start in range(1, n, 12):
        end = min(start + 12, n)
        if end - start < 12:
            break
        window = slice(start, end)
        march = end - 1

        def flow(name: str, window: slice = window) -> float:
            return float(np.nanmean(np.nansum(m[name][window], axis=0)))

        def stock(name: str, at: int = march) -> float:
            return float(np.mean(m[name][at]))

        inpatients = m["inpatients"][window].mean()
        delayed = m["delayed_discharges"][window].mean()
        admissions = flow("admissions")
        transfers = flow("transfers") if "transfers" in m else float("nan")
        row = [
            f"{months[start][:4]}/{(int(months[start][2:4]) + 1) % 100:02d}",
            f"{admissions:.1f}",
            f"{100 * flow('readmissions_12m') / max(admissions, 1e-9):.1f}",
            f"{transfers:.1f}",
            f"{100 * transfers / max(admissions + transfers, 1e-9):.1f}",
            f"{flow('discharges'):.1f}",
            f"{100 * delayed / max(inpatients, 1e-9):.1f}",
            f"{stock('inpatients'):.1f}",
            *[f"{100 * stock(name) / max(stock('inpatients'), 1e-9):.1f}" for name in stays.values()],
            f"{stock('placements'):.1f}",
            f"{flow('breakdowns'):.1f}",
            f"{stock('housing_free'):.1f}" if "housing_free" in m else "-",
            f"{stock('register'):.1f}",
        ]
        print(" ".join(f"{v:>11}" for v in row))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tcp", default="bhr")
    parser.add_argument("--years", type=float, default=9.0)
    parser.add_argument("--replications", type=int, default=200)
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. tcp.ctr.ready_prob=0.1")
    args = parser.parse_args(argv)
    overrides = [f"tcp={args.tcp}", f"run.years={args.years}", "run.engine=numba", *args.overrides]
    print(f"{args.tcp}, {args.replications} replications, {args.years:g} years: {' '.join(args.overrides)}")
    yearly(overrides, args.replications)
    return 0


if __name__ == "__main__":
    sys.exit(main())
