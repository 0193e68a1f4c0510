"""A battery of hostile inputs to ``python -m sim`` (issue 16): each is run as a user would run it, and its
outcome classified, so "every bad input a clear line" is a count, not a hope.

    python benchmarks/hostile.py [--only NAME ...] [--jobs 2] [--timeout 90]

Each case is overrides (and the files it needs: censuses, --config-dir areas, run directories to resume,
written into its own temporary directory), run with tiny settings (``run.replications=2 run.years=1``, its
run directory inside that temporary directory). Outcomes:

- ``clean``: exit 2 and exactly one line on stderr, no traceback (what a refused input must give);
- ``traceback``: a traceback reached the user;
- ``silent``: exit 0 for an input that should have been refused;
- ``accepted``: exit 0 for an input that must work (a census with a byte-order mark, ``LC_ALL=C``);
- ``refused-wrongly``: exit 2 for an input that must work;
- ``hang``: no exit within the timeout (the process group is killed);
- ``other``: any other exit (a status that is neither 0 nor 2, or a refusal of more than one line).

It prints the counts and writes ``cases.csv`` (one row a case: name, expected, outcome, exit status,
seconds, the last line of stderr, the command) into a new directory ``outputs/benchmarks/hostile/<time>/``.
The last line printed is machine readable (JSON counts). Nothing outside the temporary directories and
that new directory is written.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CENSUS = ROOT / "configs" / "tcp" / "census" / "bhr_2016-03.csv"
TINY = {"run.replications": "2", "run.years": "1", "run.progress": "false"}
OUTCOMES = ("clean", "traceback", "silent", "accepted", "refused-wrongly", "hang", "other")

#: A case's files: written into its temporary directory before it runs (path relative to it -> bytes).
Files = dict[str, bytes]


@dataclass(frozen=True)
class Case:
    """One hostile input: overrides (``{d}`` is the case's temporary directory), the files it needs, extra
    environment, and whether it must be refused (``refuse``) or must run (``accept``)."""

    name: str
    args: tuple[str, ...]
    expect: str = "refuse"
    files: Files = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    setup: Callable[[Path], Callable[[], None] | None] | None = None  # may return what undoes it


def census_text(**change: str) -> str:
    """BHR's census with its first data row's columns changed (``admitted="2017-01-01"``)."""
    lines = CENSUS.read_text(encoding="utf-8").splitlines()
    header_at = next(i for i, line in enumerate(lines) if line.strip() and not line.startswith("#"))
    header = lines[header_at].split(",")
    row = lines[header_at + 1].split(",")
    for name, value in change.items():
        row[header.index(name)] = value
    lines[header_at + 1] = ",".join(row)
    return "\n".join(lines) + "\n"


def census_case(name: str, content: bytes, *extra: str, expect: str = "refuse", **kw: object) -> Case:
    """A case that runs BHR from a census file of ``content``."""
    return Case(name, ("tcp.census={d}/census.csv", *extra), expect, files={"census.csv": content}, **kw)  # type: ignore[arg-type]


def area_case(name: str, content: bytes) -> Case:
    """A case that runs ``tcp=mine`` from a --config-dir whose tcp/mine.yaml is ``content``."""
    return Case(name, ("--config-dir", "{d}/area", "tcp=mine"), files={"area/tcp/mine.yaml": content})


def resume_case(name: str, manifest: bytes | None, config: bytes | None, *extra: str) -> Case:
    """A case that resumes {d}/old, holding the given manifest.json and config.yaml (None: absent)."""
    files = {}
    if manifest is not None:
        files["old/manifest.json"] = manifest
    if config is not None:
        files["old/config.yaml"] = config
    return Case(name, ("run.resume={d}/old", *extra), files=files)


def _file_at(d: Path) -> None:
    (d / "afile").write_text("not a directory\n")


def _foreign(d: Path) -> None:
    (d / "mine").mkdir()
    (d / "mine" / "thesis.docx").write_text("a user's file\n")


def _disk(options: str) -> Callable[[Path], Callable[[], None] | None]:
    """A small file system of its own at {d}/disk (a tmpfs: needs root; without it, a full disk is faked by a
    Parquet writer that raises ENOSPC from its third file on, as tests/e2e/test_disk_errors.py does)."""

    def setup(d: Path) -> Callable[[], None] | None:
        (d / "disk").mkdir()
        made = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(d / "disk")], capture_output=True)
        if made.returncode != 0:
            (d / "hooks").mkdir()
            (d / "hooks" / "sitecustomize.py").write_text(FULL_AFTER_TWO)
            return None
        return lambda: subprocess.run(["umount", "-l", str(d / "disk")], capture_output=True) and None

    return setup


FULL_AFTER_TWO = """
import errno, pyarrow.parquet
_write, _count = pyarrow.parquet.write_table, [0]
def write_table(*args, **kwargs):
    _count[0] += 1
    if _count[0] > 2:
        raise OSError(errno.ENOSPC, "Error writing bytes to file. Detail: [errno 28] No space left on device")
    return _write(*args, **kwargs)
pyarrow.parquet.write_table = write_table
"""


CENSUS_BYTES = CENSUS.read_bytes()
INTERRUPTED = json.dumps({"status": "interrupted", "config_sha256": "0" * 64}).encode()

CASES: list[Case] = [
    # run length and start
    Case("years 8000", ("run.years=8000",)),
    Case("years 1e308", ("run.years=1e308",)),
    Case("years negative", ("run.years=-1",)),
    Case("years nan", ("run.years=nan",)),
    Case("years inf", ("run.years=inf",)),
    Case("years zero", ("run.years=0",)),
    Case("years not whole months", ("run.years=1.03",)),
    Case("start 0001-01, no census", ("run.start=0001-01", "tcp.census=null", "tcp.community_census=null")),
    Case("start month 13", ("run.start=2016-13",)),
    Case("start not a month", ("run.start=soon",)),
    Case("warm-up 500 years", ("run.warmup_years=500", "tcp.census=null", "tcp.community_census=null")),
    Case("warm-up negative", ("run.warmup_years=-1",)),
    # replications, workers, seed, engine
    Case("replications 1e12", ("run.replications=1000000000000",)),
    Case("replications [", ("run.replications=[",)),
    Case("replications 0", ("run.replications=0",)),
    Case("replications negative", ("run.replications=-5",)),
    Case("replications 2.5", ("run.replications=2.5",)),
    Case("replications word", ("run.replications=many",)),
    Case("replications true", ("run.replications=true",)),
    Case("auto maximum 1e11", ("run.replications=auto", "run.auto.maximum=100000000000")),
    Case("auto unknown metric", ("run.replications=auto", "run.auto.metric=happiness")),
    Case("auto.maximum while not auto", ("run.auto.maximum=500",)),
    Case("auto.metric while not auto", ("run.auto.metric=inpatients_out_of_area",)),
    Case("progress 2", ("run.progress=2",)),
    Case("progress word", ("run.progress=maybe",)),
    Case("workers 0", ("run.workers=0",)),
    Case("chunk size 0", ("run.chunk_size=0",)),
    Case("seed negative", ("run.seed=-1",)),
    Case("seed 2**32", ("run.seed=4294967296",)),
    Case("engine unknown", ("run.engine=cuda",)),
    Case("backend unknown", ("run.backend=mpi",)),
    Case("dask address without dask", ("run.dask_address=tcp://localhost:8786",)),
    Case("dask address malformed", ("run.backend=dask", "run.dask_address=not an address")),
    Case("dask address port 0", ("run.backend=dask", "run.dask_address=tcp://127.0.0.1:99999")),
    Case("parameters missing file", ("run.parameters={d}/posterior.parquet",)),
    Case("parameters empty", ("run.parameters=''",)),
    Case("config_dirs by hand", ("run.config_dirs=[/tmp]",)),
    # keys and names
    Case("tcp=null", ("tcp=null",)),
    Case("tcp unknown", ("tcp=nowhere",)),
    Case("bare =5", ("=5",)),
    Case("misspelt + key in tcp", ("+tcp.crisis.unregistred_rate=3",)),
    Case("misspelt + key in run", ("+run.replicatons=5",)),
    Case("unknown key without +", ("tcp.crisis.unregistred_rate=3",)),
    Case("tcp.name empty", ("tcp.name=''",)),
    Case("tcp.name path", ("tcp.name=../../../x",)),
    Case("override grammar", ("run.seed=[1,2",)),
    # rates and beds
    Case("unregistered rate 1e9", ("tcp.crisis.unregistered_rate=1e9",)),
    Case("unregistered rate negative", ("tcp.crisis.unregistered_rate=-1",)),
    Case("unregistered rate inf", ("tcp.crisis.unregistered_rate=inf",)),
    Case("unregistered rate word", ("tcp.crisis.unregistered_rate=lots",)),
    Case("beds 2**63", ("tcp.beds.atu.schedule.0.beds=9223372036854775808",)),
    Case("beds 1e12 + 1", ("tcp.beds.atu.schedule.0.beds=1000000000001",)),
    Case("register of a billion", ("tcp.register.people.green=1000000000",)),
    Case("register for 64 workers", ("tcp.register.people.green=5000000", "run.workers=64")),
    Case("join rate 1e8", ("tcp.register.join_rate=100000000",)),
    Case("ten million chunk files", ("run.replications=10000000", "run.chunk_size=1")),
    Case("beds negative", ("tcp.beds.atu.schedule.0.beds=-3",)),
    Case("routing not a probability", ("tcp.routing.atu=1.5",)),
    # systems and scenarios
    Case("tcp.* on a system", ("system=south_east_hub", "tcp.ctr.coverage=0.5")),
    Case("hub_pooling on bhr", ("scenario=hub_pooling",)),
    Case("separate_pools on bhr", ("scenario=separate_pools",)),
    Case("scenario unknown", ("scenario=utopia",)),
    Case("system unknown", ("system=atlantis",)),
    Case("scenario coverage 2", ("scenario.ctr_coverage=2",)),
    # census files
    census_case("census admitted after start", census_text(admitted="2016-07-01").encode()),
    census_case("census admitted in the start month", census_text(admitted="2016-04-15").encode()),
    census_case("census admitted not a date", census_text(admitted="last spring").encode()),
    census_case("census unknown unit", census_text(unit="ward9").encode()),
    census_case("census non-UTF-8 bytes", CENSUS_BYTES.replace(b"unit", b"unit\xff", 1)),
    census_case("census empty", b""),
    census_case("census missing column", b"unit,area\natu,in\n"),
    census_case("census short row", b"unit,area,admitted\natu,in\n"),
    census_case("census binary", bytes(range(256)) * 4),
    Case(
        "census counts of 10**12",
        ("tcp.census=null", "tcp.census_counts={d}/counts.csv"),
        files={"counts.csv": b"unit,area,stay_from_years,stay_to_years,count\natu,in,0,1,1000000000000\n"},
    ),
    Case("census missing file", ("tcp.census={d}/nope.csv",)),
    Case("census is a directory", ("tcp.census={d}",)),
    census_case("census with BOM", b"\xef\xbb\xbf" + CENSUS_BYTES, expect="accept"),
    census_case(
        "census UTF-8 under LC_ALL=C",
        ("# Ünïcödé comment – an en dash\n" + CENSUS.read_text(encoding="utf-8")).encode(),
        expect="accept",
        env={"LC_ALL": "C", "LANG": "C"},
    ),
    # --config-dir areas
    area_case("area YAML syntax error", b"name: mine\npopulation: {adults: [1, 2\n"),
    area_case("area duplicate key", b"name: mine\nname: yours\n"),
    area_case("area non-UTF-8", b"name: mine\ntitle: \xff\xfe\n"),
    area_case("area tab indentation", b"name: mine\npopulation:\n\tadults: 3\n"),
    area_case("area not a mapping", b"- just\n- a list\n"),
    area_case("area unfilled ???", b"name: mine\ntitle: ???\n"),
    Case("area directory missing", ("--config-dir", "{d}/no-such-area", "tcp=mine")),
    # run directories
    Case("run dir is a file", ("hydra.run.dir={d}/afile",), setup=_file_at),
    Case("run dir under a file", ("hydra.run.dir={d}/afile/run",), setup=_file_at),
    Case("run dir under /proc", ("hydra.run.dir=/proc/self/tcp-sim-run",)),
    Case("run dir holds a user's files", ("hydra.run.dir={d}/mine",), setup=_foreign),
    Case(
        "disk fills during the chunks",
        ("run.replications=300", "run.chunk_size=10", "hydra.run.dir={d}/disk/run"),
        setup=_disk("size=1m"),
    ),
    Case("run dir read-only", ("hydra.run.dir={d}/disk/run",), setup=_disk("size=1m,ro")),
    # resumes
    Case("resume a missing dir", ("run.resume={d}/gone",)),
    resume_case("resume manifest not JSON", b"{not json", b"run: {}\n"),
    resume_case("resume manifest a list", b"[1, 2]", b"run: {}\n"),
    resume_case("resume edited config", INTERRUPTED, b"run: {}\n"),
    resume_case("resume complete run", json.dumps({"status": "complete"}).encode(), b"run: {}\n"),
    resume_case("resume bad YAML, no digest", json.dumps({"status": "interrupted"}).encode(), b"run: [\n"),
    resume_case("resume non-UTF-8 config", json.dumps({"status": "interrupted"}).encode(), b"run: \xff\n"),
    resume_case("resume with a changing override", INTERRUPTED, b"run: {}\n", "run.seed=3"),
    # sweeps
    Case("sweep with a bad job", ("--multirun", "run.seed=1,-1")),
]


def command(case: Case, d: Path) -> list[str]:
    """The command line of a case: its own overrides, the tiny settings it does not set, a run
    directory in its temporary directory unless it names one (or resumes)."""
    args = [a.replace("{d}", str(d)) for a in case.args]
    keys = {a.split("=", 1)[0].lstrip("+~") for a in args}
    tiny = [f"{k}={v}" for k, v in TINY.items() if k not in keys]
    if "run.resume" in keys or "--multirun" in args:
        tiny = [t for t in tiny if t.startswith("run.progress")]
    run_dir = [] if "hydra.run.dir" in keys else [f"hydra.run.dir={d}/run"]
    if "--multirun" in args:
        run_dir = [f"hydra.sweep.dir={d}/sweep"]
    return [sys.executable, "-m", "sim", *args, *tiny, *run_dir]


def classify(expect: str, code: int | None, err: str) -> str:
    """The outcome of a case from its exit status (None: it hung) and its stderr."""
    lines = [line for line in err.splitlines() if line.strip()]
    if code is None:
        return "hang"
    if "Traceback (most recent call last)" in err:
        return "traceback"
    if code == 0:
        return "accepted" if expect == "accept" else "silent"
    if code == 2:
        if expect == "accept":
            return "refused-wrongly"
        return "clean" if len(lines) == 1 else "other"
    return "other"


def run_case(case: Case, timeout: float) -> dict[str, object]:
    """Run one case in its own temporary directory (removed after) and classify it."""
    d = Path(tempfile.mkdtemp(prefix="hostile-"))
    undo = None
    try:
        for rel, content in case.files.items():
            (d / rel).parent.mkdir(parents=True, exist_ok=True)
            (d / rel).write_bytes(content)
        undo = case.setup(d) if case.setup is not None else None
        cmd = command(case, d)
        hooks = f"{d / 'hooks'}:" if (d / "hooks").is_dir() else ""
        env = {**os.environ, "PYTHONPATH": hooks + str(ROOT), **case.env}
        clock = time.perf_counter()
        p = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
        )
        try:
            _, err_bytes = p.communicate(timeout=timeout)
            code: int | None = p.returncode
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            _, err_bytes = p.communicate()
            code = None
        seconds = time.perf_counter() - clock
        err = err_bytes.decode("utf-8", "replace")
        outcome = classify(case.expect, code, err)
        last = next((line for line in reversed(err.splitlines()) if line.strip()), "")
        return {
            "name": case.name,
            "expect": case.expect,
            "outcome": outcome,
            "exit": "" if code is None else code,
            "seconds": round(seconds, 1),
            "last_line": last[:300],
            "command": " ".join(cmd[2:]).replace(str(d), "<tmp>"),
        }
    finally:
        if case.setup is not None and undo is not None:
            undo()
        shutil.rmtree(d, ignore_errors=True)


def new_output_dir(given: Path | None = None) -> Path:
    """A new directory for this battery's table (never an existing one)."""
    out = given or ROOT / "outputs" / "benchmarks" / "hostile" / time.strftime("%Y-%m-%d_%H-%M-%S")
    out.mkdir(parents=True, exist_ok=False)  # a new directory: never one of the user's
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="run only the cases whose name contains one of these")
    parser.add_argument("--jobs", type=int, default=2, help="cases run at once")
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds before a case counts as a hang")
    parser.add_argument("--out", type=Path, help="the new directory for the table (it must not exist)")
    args = parser.parse_args(argv)
    out = new_output_dir(args.out)  # made first: a directory that exists is refused before any trial
    cases = [c for c in CASES if not args.only or any(s in c.name for s in args.only)]
    with ThreadPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(lambda c: run_case(c, args.timeout), cases))
    for row in rows:
        mark = "ok " if row["outcome"] in ("clean", "accepted") else "BAD"
        print(f"{mark} {row['outcome']:<15} {row['exit']!s:>4} {row['name']:<40} {row['last_line']}")
    counts = Counter(str(r["outcome"]) for r in rows)
    with open(out / "cases.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} cases: " + ", ".join(f"{counts[o]} {o}" for o in OUTCOMES) + f"; table in {out}/cases.csv")
    print(json.dumps({"cases": len(rows), **{o: counts[o] for o in OUTCOMES}}))
    return 0 if counts["clean"] + counts["accepted"] == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
