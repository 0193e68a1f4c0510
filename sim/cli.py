"""The command line: ``python -m sim [overrides]`` runs a config and writes its outputs.

Each run writes into its own Hydra run directory under outputs/. A user error (bad config value, bad
override, bad census) ends with one line naming the key and what is wrong, exit status 2, no traceback.
Ctrl-C keeps the chunks already finished and says where they are.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from sim import api
from sim.config import CONFIG_DIR
from sim.config.errors import EXIT_INTERRUPTED, EXIT_USER_ERROR, ConfigError, user_error_line
from sim.plots import files_only


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")
def _hydra_main(cfg: DictConfig) -> None:
    made = Path(HydraConfig.get().runtime.output_dir)  # Hydra's new directory for this call
    out = Path(cfg.run.resume) if cfg.run.resume else made
    try:
        if cfg.run.resume:
            drop_if_empty(made)  # a resumed run goes on in its own directory
            result = api.resume(out)
        else:
            result = api.run(cfg, out_dir=out)
    except ConfigError as e:  # exit here: raising would make Hydra print its own report first
        drop_if_empty(made)
        print(user_error_line(e), file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)
    except KeyboardInterrupt:
        print(
            f"\ninterrupted: finished chunks are kept in {out}/replications; "
            f"complete the run with: {api.resume_command(out)}",
            file=sys.stderr,
        )
        raise
    print(f"wrote {out} ({result.manifest['replications']} replications in {result.manifest['wall_seconds']:.1f} s)")


def drop_if_empty(run_dir: Path) -> None:
    """Remove a run directory that Hydra made for a run our validation refused (only its own files)."""
    if run_dir.is_dir() and all(p.name in {".hydra", "config.yaml"} or p.suffix == ".log" for p in run_dir.iterdir()):
        shutil.rmtree(run_dir, ignore_errors=True)


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM (a batch system's stop) ends a run as Ctrl-C does, keeping its chunks


def run_app(app: Callable[[], None]) -> None:
    """Run a Hydra app as a command line: charts into files only, and a user error (bad config, override
    or census) as one line on stderr with exit status 2 instead of Hydra's report and a traceback."""
    files_only()
    os.environ.setdefault("HYDRA_FULL_ERROR", "1")  # let errors reach us; we print them briefly
    try:
        app()
    except Exception as e:  # noqa: BLE001 - user errors become one line; anything else is a bug and re-raised
        line = user_error_line(e)
        if line is None:
            raise
        print(line, file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)


def main() -> None:
    """Entry point of ``python -m sim``: ``run_app``, and Ctrl-C or SIGTERM end it with status 130
    (finished chunks kept)."""
    signal.signal(signal.SIGTERM, _stop)
    try:
        run_app(_hydra_main)
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)
