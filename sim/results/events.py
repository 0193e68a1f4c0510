"""The per-person event log (``run.event_log``): its columns, what each integer code means, and the frame
both engines' logs become. docs/events.md documents the same tables, and tests/model/test_event_log.py
checks that it lists every column and code defined here.

Each engine keeps a row per event as integers and the time (``EVENT_LOG_COLUMNS``); ``event_frame``
turns them into the run's frame, with the event as its name. ``labelled`` gives every coded column its
names as categoricals (the month its label).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.pathway import AREAS, EVENT_KINDS, PLACEMENT_TYPES, RAG, STATES, UNIT_TYPES
from sim.sampling import EntityKind

#: The log's columns, in the order each engine keeps a row.
EVENT_LOG_COLUMNS: tuple[str, ...] = (
    "replication",
    "time",
    "month",
    "person",
    "event",
    "tcp",
    "state",
    "unit",
    "area",
    "placement",
    "rag",
)

#: The names of each coded column's codes: code k is the k-th name. ``tcp``'s are the run's own (its TCPs
#: in config order, ``labelled``); ``event`` is already a name in the run's frame.
EVENT_LOG_CODES: dict[str, tuple[str, ...]] = {
    "event": EVENT_KINDS,
    "state": STATES,
    "unit": UNIT_TYPES,
    "area": AREAS,
    "placement": PLACEMENT_TYPES,
    "rag": RAG,
}

#: Code -1 of ``unit``, ``area``, ``placement`` and ``rag``: never in hospital, placed or rated yet.
NONE = "none"
#: Columns whose code can be -1 (``NONE``).
CAN_BE_NONE: tuple[str, ...] = ("unit", "area", "placement", "rag")

#: Who a person is, from the top bits of their number (``person >> 48``; ``sim.sampling.entity``):
#: their source (census, arrival, register, community). The next 16 bits are its index (a TCP's or a
#: source's), the low 32 their number in it.
ORIGINS: dict[int, str] = {int(k): k.name.lower() for k in EntityKind if k is not EntityKind.SOURCE}


def event_codes() -> dict[str, dict[int, str]]:
    """Every coded column's codes and their names (-1 ``none`` included where it can appear), and
    ``origin``, the person's source (``ORIGINS``)."""
    out: dict[str, dict[int, str]] = {}
    for column, names in EVENT_LOG_CODES.items():
        codes = dict(enumerate(names))
        out[column] = {-1: NONE, **codes} if column in CAN_BE_NONE else codes
    out["origin"] = dict(ORIGINS)
    return out


def event_frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """The run's event log from the engines' columns (``EVENT_LOG_COLUMNS``, the event as its code): the
    event becomes its name (``EVENT_KINDS``), every other column stays an integer code."""
    frame = pd.DataFrame({name: columns[name] for name in EVENT_LOG_COLUMNS})
    frame["event"] = np.asarray(EVENT_KINDS, dtype=object)[frame["event"].to_numpy(np.int64)]
    return frame


def rows_frame(rows: list[tuple]) -> pd.DataFrame:
    """``event_frame`` of rows (the SimPy model's log: tuples in ``EVENT_LOG_COLUMNS`` order)."""
    values = list(zip(*rows, strict=True)) if rows else [()] * len(EVENT_LOG_COLUMNS)
    return event_frame(
        {
            name: np.asarray(v, np.float64 if name == "time" else np.int64)
            for name, v in zip(EVENT_LOG_COLUMNS, values, strict=True)
        }
    )


#: The ``month`` of an event counted in no month's flows: during the warm-up, or the making of the start state.
WARMUP = "warmup"


def labelled(
    events: pd.DataFrame, tcps: Sequence[str] | None = None, months: Sequence[str] | None = None
) -> pd.DataFrame:
    """The event log with every coded column as a categorical of its names (``event_codes``, -1 as
    ``none``), ``tcp`` as the TCPs' names when given (``[t.name for t in spec.tcps]``), ``month`` as the
    reported months' labels when given (``spec.calendar.labels``; -1 as ``warmup``), and the person's
    ``origin`` (census, arrival, register or community) added after ``person``."""
    out = events.copy()
    codes = event_codes()
    if tcps is not None:
        codes["tcp"] = dict(enumerate(tcps))
    if months is not None:
        codes["month"] = {-1: WARMUP, **dict(enumerate(months))}
    origin = codes.pop("origin")
    for column, names in codes.items():
        values = out[column] if column == "event" else out[column].map(names)
        out[column] = pd.Categorical(values, categories=list(dict.fromkeys(names.values())))
    kinds = pd.Series(out["person"].to_numpy(np.int64) >> 48).map(origin).to_numpy()
    out.insert(out.columns.get_loc("person") + 1, "origin", pd.Categorical(kinds, categories=list(origin.values())))
    return out
