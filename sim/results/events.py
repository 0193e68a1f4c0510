"""The per-person event log (``run.event_log``): its columns, what each integer code means, and the frame
both engines' logs become. docs/events.md documents the same tables (tests/results/test_events.py
checks that it lists every code defined here).

Each engine keeps a row per event as integers and the time (``EVENT_LOG_COLUMNS``); ``event_frame``
turns them into the run's frame, with the event as its name. ``labelled`` gives every coded column its
names as categoricals, for reading one person's path.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.pathway import AREAS, EVENT_KINDS, PLACEMENT_TYPES, STATES, UNIT_TYPES

#: The log's columns, in the order each engine keeps a row.
EVENT_LOG_COLUMNS: tuple[str, ...] = (
    "replication",
    "time",
    "person",
    "event",
    "tcp",
    "state",
    "unit",
    "area",
    "placement",
)

#: The names of each coded column's codes (code k is the k-th name; -1 is ``none``). ``tcp``'s are the
#: run's own (its TCPs in config order): see ``labelled``. ``event`` is already a name in the frame.
EVENT_LOG_CODES: dict[str, tuple[str, ...]] = {
    "event": EVENT_KINDS,
    "state": STATES,
    "unit": UNIT_TYPES,
    "area": AREAS,
    "placement": PLACEMENT_TYPES,
}

#: What code -1 means in the ``unit``, ``area`` and ``placement`` columns: never in hospital (or never
#: placed) yet.
NONE = "none"


def event_codes() -> dict[str, dict[int, str]]:
    """Every coded column's codes and their names, ``-1: "none"`` included where it can appear."""
    out: dict[str, dict[int, str]] = {}
    for column, names in EVENT_LOG_CODES.items():
        codes = dict(enumerate(names))
        if column in ("unit", "area", "placement"):
            codes = {-1: NONE, **codes}
        out[column] = codes
    return out


def event_frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """The run's event log from the engines' columns (``EVENT_LOG_COLUMNS``, the event as its code): the
    event becomes its name (``EVENT_KINDS``), every other column stays an integer code."""
    frame = pd.DataFrame({name: columns[name] for name in EVENT_LOG_COLUMNS})
    frame["event"] = np.asarray(EVENT_KINDS, dtype=object)[frame["event"].to_numpy(np.int64)]
    return frame


def rows_frame(rows: list[tuple]) -> pd.DataFrame:
    """``event_frame`` of rows (the SimPy model's log: tuples in ``EVENT_LOG_COLUMNS`` order)."""
    if not rows:
        empty = {name: np.zeros(0, np.float64 if name == "time" else np.int64) for name in EVENT_LOG_COLUMNS}
        return event_frame(empty)
    values = list(zip(*rows, strict=True))
    return event_frame(
        {
            name: np.asarray(v, np.float64 if name == "time" else np.int64)
            for name, v in zip(EVENT_LOG_COLUMNS, values, strict=True)
        }
    )


def labelled(events: pd.DataFrame, tcps: Sequence[str] | None = None) -> pd.DataFrame:
    """The event log with every coded column as a categorical of names (``event_codes``; -1 is ``none``),
    and ``tcp`` as the TCPs' names when given (``[t.name for t in spec.tcps]``)."""
    out = events.copy()
    codes = event_codes()
    if tcps is not None:
        codes["tcp"] = dict(enumerate(tcps))
    for column, names in codes.items():
        order = list(dict.fromkeys(names.values()))
        values = out[column] if column == "event" else out[column].map(names)
        out[column] = pd.Categorical(values, categories=order)
    return out
