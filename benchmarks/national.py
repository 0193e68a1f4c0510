"""A national-scale synthetic system for benchmark (c): 44 TCPs like BHR, about 2,000 inpatients and
24,000 people on registers (PARAMETERS.md: about 2,500 inpatients in 2015-17, 24,000 at risk of
admission nationally, 48 TCPs).

Each TCP is BHR (configs/tcp/bhr.yaml) scaled to 1/44 of the national figures: its register and crisis
and housing rates scaled by the register ratio, its census (BHR's 26, repeated) and in-area beds by the
inpatient ratio. Synthetic: for timing and memory, not for planning.
"""

from __future__ import annotations

import copy
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from omegaconf import OmegaConf, open_dict

from sim.api import compose
from sim.config import CONFIG_DIR

N_TCPS = 44
INPATIENTS = 2000
REGISTER = 24000


def national_config(years: int = 10, replications: int = 1000, workdir: Path | None = None):
    """The composed config of the synthetic system (census CSVs written into ``workdir``)."""
    workdir = Path(workdir or tempfile.mkdtemp(prefix="national-"))
    cfg = compose(["tcp=bhr", f"run.years={years}", f"run.replications={replications}", "run.progress=false"])
    bhr = OmegaConf.to_container(cfg.tcp)
    per_tcp_inpatients = INPATIENTS / N_TCPS  # about 45, against BHR's 26
    grow = per_tcp_inpatients / 26
    reg = REGISTER / N_TCPS / 45  # BHR's register holds 45
    census = (CONFIG_DIR / bhr["census"]).read_text().splitlines()
    header = [line for line in census if line.startswith("id,")][0]
    rows = [line for line in census if line and line[0].isdigit()]
    tcps = {}
    for k in range(N_TCPS):
        t = copy.deepcopy(bhr)
        t["name"] = f"tcp{k:02d}"
        t["title"] = f"Synthetic TCP {k}"
        t["population"] = {age: int(n * grow) for age, n in bhr["population"].items()}
        t["trajectory"] = []
        t["register"]["people"] = {rag: int(round(n * reg)) for rag, n in bhr["register"]["people"].items()}
        t["register"]["join_rate"] = bhr["register"]["join_rate"] * reg
        t["crisis"]["unregistered_rate"] = bhr["crisis"]["unregistered_rate"] * grow
        for pool in t["beds"].values():
            for step in pool["schedule"]:
                step["beds"] = int(round(step["beds"] * grow))
        for housing in t["discharge"]["housing"].values():
            housing["units"] = int(round(housing["units"] * grow))
            housing["supply_rate"] = housing.get("supply_rate", 0.0) * grow
        path = workdir / f"census_{k:02d}.csv"
        n = int(round(per_tcp_inpatients))
        body = [",".join([str(i + 1)] + rows[i % len(rows)].split(",")[1:]) for i in range(n)]
        # in-area rows beyond the grown beds go out of area (for beds)
        path.write_text("\n".join([header, *body]) + "\n")
        t["census"] = str(path)
        tcps[t["name"]] = t
    with open_dict(cfg):
        cfg.tcp = None
        cfg.system.name = "national"
        cfg.system.title = "National synthetic system (44 TCPs)"
        OmegaConf.update(cfg, "system.tcps", tcps, merge=True)
    return cfg


def peak_mb() -> float:
    """This process's peak resident memory (MB), from /proc (ru_maxrss survives exec in a child)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def whole_run(replications: int, workers: int) -> dict:
    """The synthetic system's whole run (python -m sim's path: engine, metrics, Parquet chunks, bands) into a
    temporary directory; its wall time, disk and peak memory of this process and of its largest worker."""
    from sim.api import run

    cfg = national_config(years=10, replications=replications)
    with open_dict(cfg):
        cfg.run.workers, cfg.run.chunk_size, cfg.run.tcp_metrics = workers, 25, False
    with tempfile.TemporaryDirectory(prefix="bench-national-") as tmp:
        t0 = time.perf_counter()
        run(cfg, out_dir=Path(tmp) / "run")
        seconds = time.perf_counter() - t0
        disk = sum(f.stat().st_size for f in Path(tmp).rglob("*")) / 1e6
    worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": seconds, "disk_mb": disk, "main_mb": peak_mb(), "worker_mb": worker}


if __name__ == "__main__":  # python benchmarks/national.py <replications> <workers>: one JSON line
    print(json.dumps(whole_run(int(sys.argv[1]), int(sys.argv[2]))))
