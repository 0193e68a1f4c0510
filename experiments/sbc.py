"""Simulation-based calibration of the calibration method (issue 13, point 7): true parameters drawn from
the prior, a series simulated from the model at them, calibrated, and the truth's place in the posterior,
over many repeats (sim/calibrate/sbc.py). Coverage of the 90% interval should be near 0.9 and the truth's
rank uniform (mean 0.5, sd 0.289). Writes sbc.csv (one row a repeat and parameter) and sbc_summary.csv.

    python experiments/sbc.py [--repeats 100] [--out DIR] [overrides...]
    python experiments/sbc.py --repeats 40 calibration.method.points=[64,128]

The overrides apply on top of sim.calibrate.sbc.SMALL (configs/calibration/tiny.yaml with exact figures).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path

from tqdm import tqdm

from sim.calibrate import compose
from sim.calibrate.sbc import SMALL, check, summary
from sim.cli import run_entry


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python experiments/sbc.py", description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=100)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("overrides", nargs="*")
    args = p.parse_args(argv)
    out = args.out or Path("outputs") / "sbc" / f"{datetime.now():%Y-%m-%d_%H-%M-%S}"

    def body() -> int:
        cfg = compose([*SMALL, *args.overrides])
        if out.exists() and any(out.iterdir()):
            print(f"error: {out} is not empty; choose a new --out", file=sys.stderr)
            return 2
        out.mkdir(parents=True, exist_ok=True)
        clock = time.perf_counter()
        with tqdm(total=args.repeats, unit="calibration", desc="simulation-based check") as bar:
            table = check(cfg, args.repeats, seed=args.seed, on_repeat=lambda j: bar.update(1))
        table.to_csv(out / "sbc.csv", index=False, float_format="%.6g")
        s = summary(table)
        s.to_csv(out / "sbc_summary.csv", float_format="%.4g")
        print(s.to_string(float_format=lambda v: f"{v:.3f}"))
        print(f"wrote {out} ({args.repeats} calibrations in {time.perf_counter() - clock:.0f} s)")
        return 0

    return run_entry(body, interrupted="\ninterrupted: nothing written")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
