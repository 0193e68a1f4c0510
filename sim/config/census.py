"""The start census: a CSV of the inpatients in hospital on the first day, read and checked line by line.

A bad line raises ``ConfigError`` under the TCP's ``census`` key naming the file and line, so a user can
fix the CSV without reading code.
"""

from __future__ import annotations

import csv
import math
from datetime import date
from pathlib import Path
from typing import NamedTuple

from sim.config.errors import ConfigError
from sim.config.schema import DELAY_REASONS, UNIT_TYPES
from sim.config.spec import IN_AREA, OUT_OF_AREA
from sim.config.store import CONFIG_DIR

#: Columns every census must have.
CENSUS_COLUMNS = ("unit", "area", "admitted")
#: Values of the ``area`` column as area codes.
AREAS = {"in": IN_AREA, "out": OUT_OF_AREA}
#: Values of the optional column ``ooa_reason``: why an out-of-area row is out of area.
OOA_REASONS = ("beds", "need")


class CensusRow(NamedTuple):
    """One inpatient of a census file, as read (before the TCP's rules are applied)."""

    row: int  # from 0, in file order (the person's entity number)
    unit: int  # unit type index
    area: int  # area code
    elapsed: float  # days in hospital at the start
    by_need: bool  # out of area because no local unit meets the need
    age: float  # years at the start (optional column ``age``; NaN when not given)
    ready_days: float  # days clinically ready at the start (optional ``ready``, ``ready_date``); NaN: not ready
    delayed_for: int  # what a ready row is delayed for (``delay_reason``, a DELAY_REASONS code); -1: not ready


def census_path(census: str) -> Path:
    """A TCP's ``census`` value as a file: absolute as given, else relative to configs/."""
    path = Path(census)
    return path if path.is_absolute() else CONFIG_DIR / path


def read_census(key: str, path: Path, start: date) -> list[CensusRow]:
    """Rows of a census CSV; '#' lines are comments (sources). The optional column ``ooa_reason`` says
    why an out-of-area row is out of area: ``beds`` (the default; repatriation can bring them back) or
    ``need`` (no local unit meets it); the optional column ``age`` gives the age in years at the start
    (empty: not known); the optional columns ``ready`` (yes or no), ``ready_date`` (YYYY-MM-DD) and
    ``delay_reason`` (one of DELAY_REASONS) say that the person is clinically ready since that date and
    still in hospital for that reason."""
    if not path.is_file():
        raise ConfigError(key, f"census file {path} not found")
    rows: list[CensusRow] = []
    with path.open(newline="") as f:
        lines = [(n, line) for n, line in enumerate(f, start=1) if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise ConfigError(key, f"{path.name} has no header row")
    reader = csv.reader(line for _, line in lines)
    header = [h.strip() for h in next(reader)]
    missing = [c for c in CENSUS_COLUMNS if c not in header]
    if missing:
        raise ConfigError(key, f"{path.name} line {lines[0][0]}: missing column(s) {', '.join(missing)}")
    column = {c: header.index(c) for c in CENSUS_COLUMNS}
    for (lineno, _), fields in zip(lines[1:], reader):
        where = f"{path.name} line {lineno}"
        if len(fields) != len(header):
            raise ConfigError(key, f"{where}: {len(fields)} fields, the header has {len(header)}")
        value = {c: fields[column[c]].strip() for c in CENSUS_COLUMNS}
        for c, v in value.items():
            if not v:
                raise ConfigError(key, f"{where}: {c} is empty")
        if value["unit"] not in UNIT_TYPES:
            raise ConfigError(
                key, f"{where}: unknown unit type '{value['unit']}' (expected one of {', '.join(UNIT_TYPES)})"
            )
        if value["area"] not in AREAS:
            raise ConfigError(key, f"{where}: area '{value['area']}' must be 'in' or 'out'")
        try:
            admitted = date.fromisoformat(value["admitted"])
        except ValueError:
            raise ConfigError(key, f"{where}: admitted '{value['admitted']}' is not a date (YYYY-MM-DD)") from None
        if admitted >= start:
            raise ConfigError(key, f"{where}: admitted {admitted} is not before the start {start}")
        reason = fields[header.index("ooa_reason")].strip() if "ooa_reason" in header else ""
        if reason and reason not in OOA_REASONS:
            raise ConfigError(key, f"{where}: ooa_reason '{reason}' must be 'beds' or 'need'")
        by_need = AREAS[value["area"]] == OUT_OF_AREA and reason == "need"
        age_text = fields[header.index("age")].strip() if "age" in header else ""
        age = math.nan
        if age_text:
            try:
                age = float(age_text)
            except ValueError:
                raise ConfigError(key, f"{where}: age '{age_text}' is not a number of years") from None
            if not 0 <= age < 130:
                raise ConfigError(key, f"{where}: age {age_text} must be a number of years from 0 to 130")
        ready_days, delayed_for = _readiness(key, where, header, fields, admitted, start)
        rows.append(
            CensusRow(
                row=len(rows),
                unit=UNIT_TYPES.index(value["unit"]),
                area=AREAS[value["area"]],
                elapsed=float((start - admitted).days),
                by_need=by_need,
                age=age,
                ready_days=ready_days,
                delayed_for=delayed_for,
            )
        )
    return rows


def _readiness(
    key: str, where: str, header: list[str], fields: list[str], admitted: date, start: date
) -> tuple[float, int]:
    """A row's optional ``ready``, ``ready_date`` and ``delay_reason``: (days ready at the start, reason
    code), or (NaN, -1) for a row that is not ready."""

    def column(name: str) -> str:
        return fields[header.index(name)].strip() if name in header else ""

    ready, when, reason = column("ready").lower(), column("ready_date"), column("delay_reason")
    if ready not in ("", "yes", "no"):
        raise ConfigError(key, f"{where}: ready '{ready}' must be 'yes' or 'no'")
    if ready != "yes":
        if when or reason:
            raise ConfigError(key, f"{where}: ready_date or delay_reason given, but ready is not 'yes'")
        return math.nan, -1
    if not when:
        raise ConfigError(key, f"{where}: ready is 'yes' but ready_date is empty")
    try:
        ready_date = date.fromisoformat(when)
    except ValueError:
        raise ConfigError(key, f"{where}: ready_date '{when}' is not a date (YYYY-MM-DD)") from None
    if not admitted <= ready_date <= start:
        raise ConfigError(
            key, f"{where}: ready_date {ready_date} must be from the admission {admitted} to the start {start}"
        )
    if reason not in DELAY_REASONS:
        raise ConfigError(
            key, f"{where}: ready is 'yes', so delay_reason must be one of {', '.join(DELAY_REASONS)} (not '{reason}')"
        )
    return float((start - ready_date).days), DELAY_REASONS.index(reason)
