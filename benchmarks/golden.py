"""Digest of every shipped config's outputs, to show a refactor changes no result.

Runs ``python -m sim`` for every TCP, every scenario (on BHR or on the south-east hub, whichever it
belongs to), the Erlang B experiment, the SimPy engine and ``run.replications=auto``, with few
replications, in the checkout given (default: this one), and prints one JSON object: for each case the
SHA-256 of its monthly Parquet (read back as a table, in replication and month order, so file metadata
does not count), summary.csv, trajectory.csv and the finance tables when there are any.

    python benchmarks/golden.py > /tmp/after.json
    python benchmarks/golden.py --checkout /path/to/old/clone > /tmp/before.json
    python benchmarks/golden.py --compare /tmp/before.json /tmp/after.json

The old checkout is run with this interpreter (``python -m sim`` from its own directory imports its own
``sim``), so both use the same library versions.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

REPS = "run.replications=20"
CASES: dict[str, list[str]] = {
    **{f"{t}_baseline": [f"tcp={t}", REPS] for t in ("bhr", "kent_medway", "surrey", "sussex", "loss_system")},
    **{
        f"bhr_{s}": ["tcp=bhr", f"scenario={s}", REPS]
        for s in (
            "full_ctr_coverage",
            "crisis_support_doubled",
            "housing_brought_forward",
            "faster_funding",
            "planned_closures",
            "no_repatriation",
        )
    },
    **{
        f"hub_{s}": ["system=south_east_hub", f"scenario={s}", REPS]
        for s in (
            "baseline",
            "hub_pooling",
            "separate_pools",
            "pooled_budget",
            "pooled_budget_dear_packages",
            "pooled_budget_double_running",
            "pooled_budget_faster_closures",
            "pooled_budget_section75",
        )
    },
    "erlang_b": ["experiment=erlang_b", "run.replications=10"],
    "bhr_simpy": ["tcp=bhr", "run.engine=simpy", "run.replications=4", "run.chunk_size=2"],
    "bhr_auto": ["tcp=bhr", "run.replications=auto", "run.chunk_size=10", "run.auto.relative=0.2"],
    "bhr_workers2": ["tcp=bhr", "run.workers=2", "run.chunk_size=5", REPS],
}
TABLES = ("summary.csv", "trajectory.csv", "finance_monthly.csv", "finance_years.csv")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def digest(run_dir: Path) -> dict[str, str]:
    """The digests of one run directory's result tables."""
    out: dict[str, str] = {}
    chunks = sorted((run_dir / "replications").glob("chunk-*.parquet"))
    monthly = pd.concat([pd.read_parquet(c) for c in chunks], ignore_index=True)
    monthly = monthly.sort_values(["replication", "month"], kind="stable").reset_index(drop=True)
    h = hashlib.sha256(",".join(monthly.columns).encode())
    for c in monthly.columns:
        col = monthly[c]
        numeric = pd.api.types.is_numeric_dtype(col)
        h.update(
            f"{c}:{col.dtype}".encode() + (col.to_numpy().tobytes() if numeric else "|".join(map(str, col)).encode())
        )
    out["monthly"] = h.hexdigest()[:16]
    out["monthly_shape"] = f"{monthly.shape[0]}x{monthly.shape[1]}"
    for name in TABLES:
        if (run_dir / name).is_file():
            out[name] = sha((run_dir / name).read_bytes())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    out["replications"] = str(manifest["replications"])
    return out


def run_case(checkout: Path, tmp: Path, name: str, overrides: list[str]) -> tuple[str, dict[str, str]]:
    run_dir = tmp / name
    cmd = [sys.executable, "-m", "sim", *overrides, "run.progress=false", f"hydra.run.dir={run_dir}"]
    done = subprocess.run(cmd, cwd=checkout, capture_output=True, text=True)
    if done.returncode != 0:
        return name, {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else str(done.returncode)}
    return name, digest(run_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkout", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    parser.add_argument("--only", nargs="*", help="case names (default: all)")
    args = parser.parse_args()
    if args.compare:
        before, after = (json.loads(p.read_text()) for p in args.compare)
        differ = [k for k in before if before[k] != after.get(k)] + [k for k in after if k not in before]
        for k in differ:
            print(f"DIFFERENT {k}: {before.get(k)} -> {after.get(k)}")
        print(f"{len(before) - len(differ)} of {len(before)} cases identical")
        sys.exit(1 if differ else 0)
    cases = {k: v for k, v in CASES.items() if not args.only or k in args.only}
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(2) as pool:
        results = dict(pool.map(lambda kv: run_case(args.checkout, Path(tmp), *kv), cases.items()))
    print(json.dumps(dict(sorted(results.items())), indent=1))


if __name__ == "__main__":
    main()
