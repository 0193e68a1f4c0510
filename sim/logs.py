"""Logging for the command lines: Hydra configures it from configs/hydra/job_logging/terse.yaml, so the
project's informational lines go to the console as they read (no timestamps) and, with time, logger and
level, into the run directory's ``<job>.log`` (``sim.log``); warnings go to stderr."""

from __future__ import annotations

import logging


class BelowWarning(logging.Filter):
    """Lets through records under WARNING: the console's stdout handler, warnings having their own."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.WARNING


def below_warning() -> BelowWarning:
    """The filter factory configs/hydra/job_logging/terse.yaml names (dictConfig's ``()``)."""
    return BelowWarning()
