"""The command lines: ``python -m sim [overrides]`` runs a config and writes its outputs; ``python -m
sim.compare`` (``sim.compare.__main__``) compares scenarios; experiments/ go through the same ``run_entry``.

Each run writes into its own Hydra run directory under outputs/. A user error (bad config value, bad
override, bad census) ends with one line naming the key and what is wrong, exit status 2, no traceback.
Ctrl-C keeps the chunks already finished and says where they are.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from sim import api
from sim.config import CONFIG_DIR
from sim.config.census import anchor_paths
from sim.config.errors import EXIT_INTERRUPTED, EXIT_USER_ERROR, ConfigError, user_error_line
from sim.plots import files_only

logger = logging.getLogger(__name__)  # the console and the run directory's sim.log (configs/hydra/job_logging)


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")
def _hydra_main(cfg: DictConfig) -> None:
    if getattr(signal.getsignal(signal.SIGINT), "__name__", "") == "_before_the_run":  # sim/__main__.py's
        signal.signal(signal.SIGINT, signal.default_int_handler)  # from here a Ctrl-C keeps what is finished
    made = Path(HydraConfig.get().runtime.output_dir)  # Hydra's new directory for this call
    out = Path(cfg.run.resume) if cfg.run.resume else made
    try:
        if cfg.run.resume:
            drop_if_empty(made)  # a resumed run goes on in its own directory, and its log with it
            _log_into(out, made)
            _refuse_ignored(list(HydraConfig.get().overrides.task))
            result = api.resume(out)
        else:
            with_config_dirs(cfg)
            result = api.run(cfg, out_dir=out, dir_key="hydra.run.dir")
    except BrokenProcessPool:  # a worker was killed (the OOM killer, kill -9): say so, and how to go on
        print(
            f"a worker process stopped without finishing (killed, or out of memory): finished chunks are kept "
            f"in {out}/replications; complete the run with: {api.resume_command(out)}",
            file=sys.stderr,
        )
        exit_now(EXIT_WORKER_LOST)
    except OSError as e:  # a full disk, a read-only or unwritable directory: what failed, what is kept
        line = disk_error_line(e, out)
        if line is None:
            exit_on_user_error(e, made)
        else:
            if not (out / "manifest.json").is_file():
                drop_if_empty(made)  # nothing was run: a second try into the same directory is not refused
            print(line, file=sys.stderr)
            exit_now(EXIT_USER_ERROR)
    except Exception as e:  # noqa: BLE001 - a user's error exits here: raising would make Hydra print its own report first
        exit_on_user_error(e, made)
    except KeyboardInterrupt:
        print(
            f"\ninterrupted: finished chunks are kept in {out}/replications; "
            f"complete the run with: {api.resume_command(out)}",
            file=sys.stderr,
        )
        raise
    logger.info(
        f"wrote {out} ({result.manifest['replications']} replications in {result.manifest['wall_seconds']:.1f} s, "
        f"{result.manifest.get('total_seconds', result.manifest['wall_seconds']):.1f} s with its files)"
    )


#: What the file system says when a run cannot write its files: no space (or quota) left, a read-only file
#: system, no permission, a file too large, an I/O error. The user's to fix (free space, another directory).
DISK_ERRORS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG, errno.EIO, errno.ENAMETOOLONG}
)


#: Of those, the ones only a write meets.
WRITE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG})


def disk_error_line(e: OSError, out: Path) -> str | None:
    """One line for a run that could not write its files (``DISK_ERRORS``): which file (or directory: a
    Parquet writer does not say which file), the system's reason, and what is kept, with the command that
    completes the run once the disk has room (or the directory is writable again). None for any other error."""
    if isinstance(e, ConfigError) or e.errno not in DISK_ERRORS:
        return None
    where = e.filename or out
    verb = "could not write" if e.errno in WRITE_ERRORS else "could not use"  # EACCES may be a read's too
    failed = f"{verb} {where}: {os.strerror(e.errno)}"
    done = api.chunk_files(out) if out.is_dir() else []
    if not (out / "manifest.json").is_file():
        return f"{failed}; nothing was run: free space or choose a writable directory (hydra.run.dir), then run again"
    kept = f"{len(done)} finished chunk{'s are' if len(done) != 1 else ' is'} kept in {out}/replications"
    if not done:
        kept = f"no chunk was finished (its record is in {out})"
    return f"{failed}; {kept}; free space or make it writable, then complete the run with: {api.resume_command(out)}"


def with_config_dirs(cfg: DictConfig) -> None:
    """Record the user's config directories (``--config-dir``) in ``run.config_dirs`` and read each TCP's
    relative census path from them where the file is there (``anchor_paths``): a TCP written in a user's
    own directory runs, is reported and is re-run with its own files. ``run.config_dirs`` is not a user's
    key: set by hand it would name files the run did not compose from."""
    if any(o.split("=", 1)[0].lstrip("+~") == "run.config_dirs" for o in HydraConfig.get().overrides.task):
        raise ConfigError("run.config_dirs", "is set by --config-dir, not by hand: give --config-dir <dir>")
    dirs = [Path(s.path).resolve() for s in HydraConfig.get().runtime.config_sources if s.provider == "command-line"]
    anchor_paths(cfg, dirs)
    with open_dict(cfg):
        cfg.run.config_dirs = [str(d) for d in dirs]


#: When this process started (before Hydra made its run directory): a file older than this is not ours.
STARTED = time.time()


def _given_dirs(argv: Sequence[str]) -> set[Path]:
    """Directories that exist when this process starts and that it may make a run directory in or be given
    as one: each ``hydra.run.dir``/``hydra.sweep.dir`` named on the command line and every folder above it,
    and ``outputs/`` and the folders in it (the date folders of the default run directory). None of them
    is this call's to remove, however empty it is when the call ends."""
    out = set()
    for arg in argv:
        key, _, value = arg.partition("=")
        if key.lstrip("+~") in ("hydra.run.dir", "hydra.sweep.dir") and value:
            path = Path(_override_value(arg, value))
            out |= {p.resolve() for p in (path, *path.parents) if p.exists()}
    outputs = Path("outputs")
    if outputs.is_dir():
        out |= {outputs.resolve(), *(p.resolve() for p in outputs.iterdir() if p.is_dir())}
    return out


def _override_value(arg: str, value: str) -> str:
    """An override's value as Hydra reads it (quotes and escapes undone), else as written."""
    try:
        from hydra.core.override_parser.overrides_parser import OverridesParser

        parsed = OverridesParser.create().parse_override(arg).value()
        return parsed if isinstance(parsed, str) else value
    except Exception:  # noqa: BLE001 - a value Hydra will refuse itself
        return value.strip("'\"")


#: Directories that existed before this process (read from its command line when it starts): never removed.
EXISTING = _given_dirs(sys.argv[1:])


def _log_into(run_dir: Path, made: Path) -> None:
    """A resume's log records go on in its run's own log (``sim.log``, appended), not into the directory
    Hydra made for the call, which is removed: the file opened only when there is a record to write, so a
    resume that is refused adds nothing to the directory it names."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, logging.FileHandler) and Path(handler.baseFilename).resolve().parent == made.resolve():
            moved = logging.FileHandler(run_dir / Path(handler.baseFilename).name, mode="a", delay=True)
            moved.setFormatter(handler.formatter)
            moved.setLevel(handler.level)
            for f in handler.filters:
                moved.addFilter(f)
            root.removeHandler(handler)
            handler.close()
            root.addHandler(moved)


def exit_on_user_error(e: Exception, made: Path) -> None:
    """In a Hydra app's body: a user's error (``user_error_line``) is one line on stderr and exit 2, the
    directory Hydra made for the call removed if nothing of worth is in it; anything else is re-raised.
    Exiting here, not raising, keeps Hydra from printing its own report first."""
    line = user_error_line(e)
    if line is None:
        raise e
    drop_if_empty(made)
    print(line, file=sys.stderr)
    sys.exit(EXIT_USER_ERROR)


#: Overrides a resume may take: how it runs, not what (the results do not depend on them).
RESUME_MAY_SET = ("run.resume", "run.progress", "run.workers", "run.backend", "run.dask_address")


def _refuse_ignored(overrides: list[str]) -> None:
    """A resume completes a run as its own config.yaml says: an override that would change it is refused,
    not silently ignored."""
    ignored = [o for o in overrides if o.split("=", 1)[0].lstrip("+~") not in RESUME_MAY_SET]
    ignored = [o for o in ignored if not o.lstrip("+~").startswith("hydra.")]
    if ignored:
        raise ConfigError(
            "run.resume",
            f"a resume completes the run as its config.yaml says, so {' '.join(ignored)} would be ignored: drop "
            f"{'it' if len(ignored) == 1 else 'them'}, or start a new run (only {', '.join(RESUME_MAY_SET[1:])} may "
            "change)",
        )


def drop_if_empty(run_dir: Path) -> None:
    """Remove a run directory Hydra made for a run our validation refused: only when everything in it is
    Hydra's record of this call (``.hydra/``, ``*.log``) written since this process started. A directory
    the user made, or one holding anything older or else, is left as it is (only this call's log goes)."""
    if not run_dir.is_dir() or run_dir.resolve() in EXISTING:
        return
    entries = list(run_dir.iterdir())
    ours = [p for p in entries if api.hydra_own(p)]
    files = [f for p in ours for f in ([p] if p.is_file() else list(p.rglob("*")))]
    fresh = all(f.stat().st_mtime >= STARTED - 1 for f in files)
    if len(ours) == len(entries) and fresh:
        shutil.rmtree(run_dir, ignore_errors=True)
        _drop_empty_parents(run_dir)


def _drop_empty_parents(run_dir: Path) -> None:
    """The folders Hydra made on the way to a removed run directory, if this call made them and they are
    empty (a name with ``/`` or ``..``, refused by our checks, still had Hydra make them)."""
    parts = run_dir.parts
    for k in range(len(parts) - 1, 0, -1):
        folder = Path(*parts[:k])
        if folder.name in ("", ".", ".."):
            continue
        try:
            if (  # a folder that held the removed one has a fresh mtime anyway: EXISTING says what is not ours
                folder.is_dir()
                and folder.resolve() not in EXISTING
                and folder.resolve() != Path.cwd()
                and not any(folder.iterdir())
                and folder.stat().st_mtime >= STARTED - 1
            ):
                folder.rmdir()
        except OSError:
            return


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM (a batch system's stop) ends a run as Ctrl-C does, keeping its chunks


def run_entry(
    app: Callable[[], int | None],
    *,
    interrupted: str | None = None,
    user_errors: Mapping[type[Exception], str] | None = None,
) -> int:
    """Run the body of a command line and return its exit status: charts into files only, and a user
    error (bad config, override or census, or an exception of a type in ``user_errors``, printed after
    that type's prefix) as one line on stderr with status 2 instead of a report and a traceback. With
    ``interrupted``, Ctrl-C prints that line and gives status 130. Every entry point (``python -m sim``,
    ``python -m sim.compare``, experiments/) goes through here, so they fail the same way."""
    files_only()
    os.environ.setdefault("HYDRA_FULL_ERROR", "1")  # let errors reach us; we print them briefly
    try:
        return app() or 0
    except KeyboardInterrupt:
        if interrupted is None:
            raise
        print(interrupted, file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as e:  # noqa: BLE001 - user errors become one line; anything else is a bug and re-raised
        line = user_error_line(e)
        if line is None:
            prefix = next((p for kind, p in (user_errors or {}).items() if isinstance(e, kind)), None)
            if prefix is None:
                raise
            line = f"{prefix}: {e}"
        print(line, file=sys.stderr)
        return EXIT_USER_ERROR


def run_app(app: Callable[[], None]) -> None:
    """Run a Hydra app as a command line (``run_entry``), leaving with status 2 on a user error."""
    code = run_entry(app)
    if code:
        sys.exit(code)


def sweep_error(argv: Sequence[str]) -> str | None:
    """Before a multirun (``-m``/``--multirun``) launches anything: every job's config composed and built,
    so a bad value in any job stops the sweep before the first job starts (a joblib sweep found job 1's
    only after job 0 had started, and job 0 was killed). The error's one line, naming the job, or None.
    Skipped for a sweep this cannot compose as Hydra would (``--config-path``, ``--config-dir``), and for
    ``--cfg``, ``--info`` and help; an error that is not the user's is left for the run to meet."""
    from hydra._internal.utils import get_args_parser

    from sim.config import build
    from sim.sweep import sweep_jobs, swept_part

    try:
        args = get_args_parser().parse_args(list(argv))
    except SystemExit:  # Hydra will say what is wrong with its own options
        return None
    if not args.multirun or args.cfg or args.info or args.help or args.hydra_help or args.shell_completion:
        return None
    if args.config_path or args.config_dir:
        return None
    task = [o for o in args.overrides if not o.lstrip("+~").startswith(("hydra.", "hydra/"))]
    try:
        jobs = sweep_jobs(task)
    except Exception as e:  # noqa: BLE001 - an override Hydra cannot parse: its line
        return user_error_line(e)
    for num, job in enumerate(jobs):
        try:
            build(api.compose(job, config_name=args.config_name or "config"))
        except Exception as e:  # noqa: BLE001 - a user's error names the job; anything else is the run's to meet
            line = user_error_line(e)
            if line is None:
                return None
            named = " ".join(swept_part(jobs, job))
            return f"{line} (sweep job {num} of {len(jobs)}: {named}; no job was started)"
    return None


def main() -> None:
    """Entry point of ``python -m sim``: every job of a sweep checked first (``sweep_error``), then
    ``run_app``; Ctrl-C or SIGTERM end it with status 130 (finished chunks kept)."""
    signal.signal(signal.SIGTERM, _stop)
    line = sweep_error(sys.argv[1:]) or taken_dir_error(sys.argv[1:])
    if line is not None:
        print(line, file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)
    try:
        run_app(_hydra_main)
    except KeyboardInterrupt:
        exit_now(EXIT_INTERRUPTED)


def taken_dir_error(argv: Sequence[str]) -> str | None:
    """Before Hydra writes anything: a ``hydra.run.dir=`` that already holds a run is refused with its one
    line (Hydra would first rewrite that run's .hydra/overrides.yaml, which sweep collection reads to label
    jobs). A resume is left to ``run.resume``."""
    if any(a.split("=", 1)[0] == "run.resume" for a in argv) or any(a in ("-m", "--multirun") for a in argv):
        return None
    given = [a.split("=", 1)[1] for a in argv if a.split("=", 1)[0] == "hydra.run.dir" and "=" in a]
    if not given:
        return None
    run_dir = Path(given[-1].strip("'\""))
    if not run_dir.is_dir():
        return None
    if api.running_pid(run_dir) is not None:  # being run now: the lock's own line, with its process
        return f"config error: hydra.run.dir: {api._held_by(run_dir)}"
    if (run_dir / "manifest.json").exists() or (run_dir / "replications").exists():
        return f"config error: hydra.run.dir: {api._taken(run_dir, 'hydra.run.dir')}"
    return None  # a folder of the user's: Hydra's files in it are removed after the refusal (drop_if_empty)


def experiment_dir(name: str, root: Path = Path("outputs") / "experiments") -> Path:
    """A new directory ``outputs/experiments/<name>/<date>_<time>/`` (relative to the working directory) for
    an experiment's tables: made here, never an existing one (nothing is overwritten)."""
    out = root / name / f"{datetime.now():%Y-%m-%d_%H-%M-%S.%f}"
    out.mkdir(parents=True, exist_ok=False)
    return out


#: Exit status of a run whose worker process was lost (finished chunks are kept; the run can be resumed).
EXIT_WORKER_LOST = 3


def exit_now(code: int) -> None:
    """Leave at once after Ctrl-C or SIGTERM, once the output and logs are flushed. What is finished is on
    disk already (chunk files are written whole, the manifest says interrupted); the interpreter's own exit
    would join the process pool's threads, and a feeder thread still writing a task to a worker that was
    stopped hung the run for good (3 of 4 tries)."""
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)
