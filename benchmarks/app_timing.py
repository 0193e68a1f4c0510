"""How long the Run page takes from the click to its charts once the app is warm (issue 15: BHR at 1,000
replications within 5 s on this 2-core machine), driven by Streamlit's AppTest in this process: one
warm-up run (the engine compiled or loaded, a first run made), then ``at.button.click().run()`` timed on
configs not run before (other seeds, so the results cache does not answer), and once more on a config
run before (the cache's answer).

    python benchmarks/app_timing.py [--area tcp=bhr] [--replications 1000] [--repeats 3]
    python benchmarks/app_timing.py --area system=south_east_hub --replications 200
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

SCRIPT = str(Path(__file__).resolve().parents[1] / "sim" / "app" / "main.py")
SEED = 20160401  # the shipped seed; the timed runs use the seeds after it


def page(area: str, replications: int, seed: int) -> AppTest:
    """The Run page loaded, with ``area`` (``tcp=bhr``) at ``replications`` and ``seed``."""
    at = AppTest.from_file(SCRIPT, default_timeout=600)
    at.run()
    kind, name = area.split("=")
    choice = next(o for o in at.selectbox(key="run:area").options if o.startswith(f"{name} "))
    at.selectbox(key="run:area").select(choice).run()
    tag = f"{area}:baseline"
    at.number_input(key=f"replications:{tag}").set_value(replications)
    at.number_input(key=f"seed:{tag}").set_value(seed)
    return at


def click(at: AppTest) -> float:
    """Seconds from the click to the page with its charts."""
    clock = time.perf_counter()
    at.button[0].click().run()
    seconds = time.perf_counter() - clock
    if at.exception or at.error or len(at.image) < 1:
        raise SystemExit(f"the run showed no charts: {[e.value for e in at.error]} {at.exception}")
    return seconds


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--area", default="tcp=bhr", help="tcp=<name> or system=<name> (default tcp=bhr)")
    p.add_argument("--replications", type=int, default=1000)
    p.add_argument("--repeats", type=int, default=3, help="timed clicks on new configs (default 3)")
    args = p.parse_args()
    clock = time.perf_counter()
    click(page(args.area, args.replications, SEED - 1))  # warm-up: engine, imports, a first run
    print(f"warm-up (engine, first run): {time.perf_counter() - clock:.1f} s")
    times = [click(page(args.area, args.replications, SEED + k)) for k in range(args.repeats)]
    cached = click(page(args.area, args.replications, SEED))  # run just above: from the cache
    median = statistics.median(times)
    print(
        f"{args.area} {args.replications:,} replications, warm, click to charts: median {median:.2f} s "
        f"({', '.join(f'{t:.2f}' for t in times)}); a run made before: {cached:.2f} s"
    )


if __name__ == "__main__":
    main()
