"""Logging for the command lines: Hydra configures it from configs/hydra/job_logging/terse.yaml, so the
project's informational lines go to the console as they read (no timestamps) and, with time, logger and
level, into the run directory's ``<job>.log`` (``sim.log``); warnings go to stderr."""

from __future__ import annotations

import logging
import sys


class BelowWarning(logging.Filter):
    """Lets through records under WARNING: the console's stdout handler, warnings having their own."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.WARNING


def below_warning() -> BelowWarning:
    """The filter factory configs/hydra/job_logging/terse.yaml names (dictConfig's ``()``)."""
    return BelowWarning()


def console_logging() -> None:
    """For a script that is not a Hydra app (experiments/): the project's informational lines on the
    console as they read, as a Hydra app's (warnings to stderr); nothing if logging is set up already."""
    root = logging.getLogger()
    if root.handlers:
        return
    out = logging.StreamHandler(sys.stdout)
    out.addFilter(BelowWarning())
    err = logging.StreamHandler(sys.stderr)
    err.setLevel(logging.WARNING)
    for handler in (out, err):
        handler.setFormatter(logging.Formatter("%(message)s"))
        root.addHandler(handler)
    root.setLevel(logging.INFO)
