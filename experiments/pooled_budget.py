"""The south-east hub's pooled budget under each finance scenario: the reserve at March 2019 and March
2021 with its band, and how likely the pool is to be short.

Runs system=south_east_hub for five years (April 2016 to March 2021) under every pooled_budget* scenario
on the same seed, and prints for each: the reserve actually held (``pool_reserve``, never overdrawn) and
the balance (``pool_balance``: the reserve less the shortfalls it could not meet, so negative once it has
run out), as mean and 90% band, with P(balance < 0) at each March.

    python experiments/pooled_budget.py [overrides...]     e.g. run.replications=200

It says which scenario it is running (with each run's progress bar) and writes the table as
``pooled_budget.csv`` into a new directory ``outputs/experiments/pooled_budget/<date>_<time>/``.
"""

from __future__ import annotations

import sys
import time

import pandas as pd

from sim.api import compose, run
from sim.cli import experiment_dir, run_entry
from sim.config import CONFIG_DIR
from sim.logs import console_logging

MARCHES = ("2019-03", "2021-03")


def scenarios() -> list[str]:
    return sorted(p.stem for p in (CONFIG_DIR / "scenario").glob("pooled_budget*.yaml"))


def reserve_table(overrides: list[str]) -> pd.DataFrame:
    """One row a scenario and March: reserve and balance (mean, 5th and 95th percentiles, £m), P(balance < 0)."""
    rows = []
    names = scenarios()
    for k, name in enumerate(names, start=1):
        print(f"scenario {k} of {len(names)}: {name}", flush=True)
        t0 = time.perf_counter()
        m = run(compose(["system=south_east_hub", f"scenario={name}", "run.years=5", *overrides])).monthly
        print(f"  {time.perf_counter() - t0:.1f} s", flush=True)
        for month in MARCHES:
            at = m[m["month"] == month]
            row = {"scenario": name, "month": month}
            for metric in ("pool_reserve", "pool_balance"):
                v = at[metric] / 1e6
                row |= {
                    f"{metric}_mean": v.mean(),
                    f"{metric}_p05": v.quantile(0.05),
                    f"{metric}_p95": v.quantile(0.95),
                }
            row["p_balance_negative"] = (at["pool_balance"] < 0).mean()
            rows.append(row)
    return pd.DataFrame(rows)


def main(overrides: list[str]) -> None:
    """Run every scenario, print the table and write it to a new directory."""
    console_logging()
    table = reserve_table(overrides)
    print("£ million; mean (5th to 95th percentile)")
    for _, r in table.iterrows():
        print(
            f"{r['scenario']:<30} {r['month']}  reserve {r['pool_reserve_mean']:6.2f} ({r['pool_reserve_p05']:.2f} to "
            f"{r['pool_reserve_p95']:.2f})  balance {r['pool_balance_mean']:7.2f} ({r['pool_balance_p05']:.2f} to "
            f"{r['pool_balance_p95']:.2f})  P(balance < 0) {r['p_balance_negative']:.2f}"
        )
    out = experiment_dir("pooled_budget") / "pooled_budget.csv"
    table.to_csv(out, index=False, float_format="%.6g")
    print(f"wrote {out}")


if __name__ == "__main__":
    sys.exit(run_entry(lambda: main(sys.argv[1:])))  # a bad override: one line, exit 2
