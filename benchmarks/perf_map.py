"""Profile the compiled engine with Linux perf: write perf's map of the engine's functions, then run
replications until stopped, so that `perf record -p <pid>` samples name each rule of the kernel.

    python benchmarks/perf_map.py [overrides...]        # default: the loss system of bench (a)
    python benchmarks/perf_map.py national               # the national synthetic system of (c)
    perf record -F 4000 -e cpu-clock -p <pid printed> -- sleep 5
    perf report --no-children --sort symbol

Numba's code has no symbols perf can see. Its object code has (functions compiled for a call from
another are weak symbols there), so this compiles the engine afresh into an empty cache (a cached
engine keeps no object code in memory), reads the symbols with `nm` and writes `/tmp/perf-<pid>.map`,
which perf reads for code it cannot otherwise name. Functions LLVM inlined into others are counted in
the function they were inlined into.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    if "NUMBA_CACHE_DIR" not in os.environ:  # compile afresh in a process of its own, with an empty cache
        with tempfile.TemporaryDirectory() as cache:
            env = os.environ | {"NUMBA_CACHE_DIR": cache}
            sys.exit(subprocess.run([sys.executable, __file__, *sys.argv[1:]], env=env).returncode)

    sys.path.insert(0, str(HERE))
    from bench import LOSS
    from national import national_config

    from sim.api import compose
    from sim.config import build_spec
    from sim.engine import Engine
    from sim.engine.loop import simulate

    args = sys.argv[1:]
    spec = build_spec(national_config(years=10) if args == ["national"] else compose(args or LOSS))
    engine = Engine(spec)
    engine.run(0)
    library = simulate.overloads[simulate.signatures[0]].library
    with tempfile.NamedTemporaryFile(suffix=".o") as obj:
        obj.write(library._compiled_object)  # Numba's own attribute: the object code of the engine
        obj.flush()
        listing = subprocess.run(
            ["nm", "-S", "--defined-only", obj.name], capture_output=True, text=True, check=True
        ).stdout
    lines = []
    for row in listing.splitlines():
        parts = row.split()
        if len(parts) == 4 and parts[2] in "tTwW":
            address = library.get_pointer_to_function(parts[3])
            if address:
                lines.append(f"{address:x} {parts[1]} {parts[3]}\n")
    Path(f"/tmp/perf-{os.getpid()}.map").write_text("".join(lines))
    print(f"pid {os.getpid()}: {len(lines)} functions mapped; running replications until stopped (Ctrl-C)", flush=True)
    r = 1
    try:
        while True:
            simulate(engine.state, r)
            r += 1
    except KeyboardInterrupt:
        print(f"{r - 1} replications")


if __name__ == "__main__":
    main()
