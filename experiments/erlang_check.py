"""The degenerate loss system against Erlang B: the figures behind tests/analytic/test_queueing.py.

Runs the M/G/c/c system (configs/tcp/loss_system.yaml, empty start) for two stay distributions, one
heavy tailed, each with a warm-up long enough for its tail (a heavy tail takes a century to build up its
long stayers), and prints the out-of-area share (all out-of-area
placements over all admissions, a ratio of sums) with its 95% confidence interval against Erlang B, and
mean occupied beds against a(1 - B).

    python experiments/erlang_check.py [replications]

It says which case it is running (with the run's progress bar) and writes the figures as
``erlang_check.csv`` into a new directory ``outputs/experiments/erlang_check/<date>_<time>/``.
"""

from __future__ import annotations

import sys
import time

import pandas as pd

from sim.api import compose, run
from sim.cli import experiment_dir, run_entry
from sim.logs import console_logging
from sim.results.analytic import erlang_b
from sim.results.intervals import normal_half_width, normal_interval, ratio_estimate

CASES = {
    "lognormal mean 1.5 sd 2.0, 20/yr, 25 beds": (20.0, 25, 1.5, "[{family:lognormal,weight:1.0,mean:1.5,sd:2.0}]", 40),
    "heavy tail 0.8 exp(0.25) + 0.2 lognormal(4, 6), 12/yr, 12 beds": (
        12.0,
        12,
        1.0,
        "[{family:exponential,weight:0.8,mean:0.25},{family:lognormal,weight:0.2,mean:4.0,sd:6.0}]",
        100,
    ),
}


def main(replications: int) -> None:
    """Run each case, print its figures against Erlang B and write them to a new directory."""
    console_logging()
    rows = []
    for k, (name, (rate, beds, mean, los, warmup)) in enumerate(CASES.items(), start=1):
        print(f"case {k} of {len(CASES)}: {name}", flush=True)
        cfg = compose(
            [
                "experiment=erlang_b",
                f"run.replications={replications}",
                f"run.warmup_years={warmup}",
                f"tcp.crisis.unregistered_rate={rate}",
                f"tcp.beds.atu.schedule=[{{date:'2000-01',beds:{beds}}}]",
                f"tcp.beds.atu.los.components={los}",
            ]
        )
        t0 = time.perf_counter()
        result = run(cfg)
        seconds = time.perf_counter() - t0
        m = result.monthly[result.monthly["month"] > result.spec.calendar.start_label]
        per_rep = m.groupby("replication")[
            ["out_of_area_full_beds", "admissions", "inpatient_days", "inpatient_days_out_of_area"]
        ].sum()
        b, se = ratio_estimate(per_rep["out_of_area_full_beds"], per_rep["admissions"])
        occupied = (per_rep["inpatient_days"] - per_rep["inpatient_days_out_of_area"]) / result.spec.calendar.horizon
        a = rate * mean
        exact = erlang_b(a, beds)
        print(
            f"{name}: a = {a:g}, c = {beds}, {replications} replications x {cfg.run.years:g} years "
            f"after a {cfg.run.warmup_years:g}-year warm-up ({seconds:.1f} s)"
        )
        low, high = normal_interval(b, se)
        print(f"  out-of-area share {b:.4f} (95% CI {low:.4f} to {high:.4f}), Erlang B {exact:.4f}")
        print(
            f"  mean occupied beds {occupied.mean():.2f} (95% CI +/- {normal_half_width(occupied):.2f}), "
            f"a(1 - B) {a * (1 - exact):.2f}"
        )
        rows.append(
            {
                "case": name,
                "offered_load": a,
                "beds": beds,
                "replications": replications,
                "years": cfg.run.years,
                "warmup_years": cfg.run.warmup_years,
                "ooa_share": b,
                "ooa_share_lo95": low,
                "ooa_share_hi95": high,
                "erlang_b": exact,
                "occupied_beds": occupied.mean(),
                "occupied_beds_half_width95": normal_half_width(occupied),
                "erlang_occupied_beds": a * (1 - exact),
                "seconds": seconds,
            }
        )
    out = experiment_dir("erlang_check") / "erlang_check.csv"
    pd.DataFrame(rows).to_csv(out, index=False, float_format="%.6g")
    print(f"wrote {out}")


if __name__ == "__main__":
    sys.exit(run_entry(lambda: main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)))
