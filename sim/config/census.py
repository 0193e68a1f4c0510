"""The start censuses: CSVs of the inpatients in hospital on the first day (``census``) and of the people
in community placements then (``community_census``, the community cohort), read and checked line by line.

A bad line raises ``ConfigError`` under the TCP's key (``census``, ``community_census``) naming the file
and line, so a user can fix the CSV without reading code.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import NamedTuple

from sim.config.errors import ConfigError
from sim.config.schema import DELAY_REASONS, PLACEMENT_TYPES, UNIT_TYPES
from sim.config.spec import IN_AREA, OUT_OF_AREA
from sim.config.store import CONFIG_DIR

#: Columns every census must have.
CENSUS_COLUMNS = ("unit", "area", "admitted")
#: Columns every community census must have.
COMMUNITY_COLUMNS = ("type", "discharged", "unit", "area")
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


class CommunityRow(NamedTuple):
    """One person of a community census file, in a placement at the start, as read."""

    row: int  # from 0, in file order (the person's entity number)
    kind: int  # placement type index
    unit: int  # unit type left (index)
    area: int  # area code of the bed left
    elapsed: float  # days since the discharge at the start
    stay: float  # days of the stay that ended (optional ``admitted``; NaN when not given)


class _Line(NamedTuple):
    where: str  # file name and line number, for messages
    value: dict[str, str]  # the required columns' values, stripped, none empty
    column: dict[str, str]  # every column's value, stripped


def _lines(key: str, path: Path, required: tuple[str, ...], what: str) -> Iterator[_Line]:
    """The data lines of a CSV ('#' lines are comments), each with every column by name; the file must
    exist, have a header with the ``required`` columns, and each line as many fields, none required
    empty."""
    if not path.is_file():
        raise ConfigError(key, f"{what} file {path} not found")
    with path.open(newline="") as f:
        lines = [(n, line) for n, line in enumerate(f, start=1) if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise ConfigError(key, f"{path.name} has no header row")
    reader = csv.reader(line for _, line in lines)
    header = [h.strip() for h in next(reader)]
    missing = [c for c in required if c not in header]
    if missing:
        raise ConfigError(key, f"{path.name} line {lines[0][0]}: missing column(s) {', '.join(missing)}")
    for (lineno, _), fields in zip(lines[1:], reader):
        where = f"{path.name} line {lineno}"
        if len(fields) != len(header):
            raise ConfigError(key, f"{where}: {len(fields)} fields, the header has {len(header)}")
        column = {h: v.strip() for h, v in zip(header, fields)}
        for c in required:
            if not column[c]:
                raise ConfigError(key, f"{where}: {c} is empty")
        yield _Line(where, {c: column[c] for c in required}, column)


def _unit_area(key: str, where: str, unit: str, area: str) -> tuple[int, int]:
    if unit not in UNIT_TYPES:
        raise ConfigError(key, f"{where}: unknown unit type '{unit}' (expected one of {', '.join(UNIT_TYPES)})")
    if area not in AREAS:
        raise ConfigError(key, f"{where}: area '{area}' must be 'in' or 'out'")
    return UNIT_TYPES.index(unit), AREAS[area]


def _date(key: str, where: str, name: str, text: str, before: date, what: str) -> date:
    """A column's date, which must be before ``before`` (``what`` names it in the message)."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ConfigError(key, f"{where}: {name} '{text}' is not a date (YYYY-MM-DD)") from None
    if day >= before:
        raise ConfigError(key, f"{where}: {name} {day} is not before {what} {before}")
    return day


def read_census(key: str, path: Path, start: date) -> list[CensusRow]:
    """Rows of a census CSV; '#' lines are comments (sources). The optional column ``ooa_reason`` says
    why an out-of-area row is out of area: ``beds`` (the default; repatriation can bring them back) or
    ``need`` (no local unit meets it); the optional column ``age`` gives the age in years at the start
    (empty: not known); the optional columns ``ready`` (yes or no), ``ready_date`` (YYYY-MM-DD) and
    ``delay_reason`` (one of DELAY_REASONS) say that the person is clinically ready since that date and
    still in hospital for that reason."""
    rows: list[CensusRow] = []
    for where, value, column in _lines(key, path, CENSUS_COLUMNS, "census"):
        unit, area = _unit_area(key, where, value["unit"], value["area"])
        admitted = _date(key, where, "admitted", value["admitted"], start, "the start")
        reason = column.get("ooa_reason", "")
        if reason and reason not in OOA_REASONS:
            raise ConfigError(key, f"{where}: ooa_reason '{reason}' must be 'beds' or 'need'")
        by_need = area == OUT_OF_AREA and reason == "need"
        age_text = column.get("age", "")
        age = math.nan
        if age_text:
            try:
                age = float(age_text)
            except ValueError:
                raise ConfigError(key, f"{where}: age '{age_text}' is not a number of years") from None
            if not 0 <= age < 130:
                raise ConfigError(key, f"{where}: age {age_text} must be a number of years from 0 to 130")
        ready_days, delayed_for = _readiness(key, where, column, admitted, start)
        rows.append(
            CensusRow(
                row=len(rows),
                unit=unit,
                area=area,
                elapsed=float((start - admitted).days),
                by_need=by_need,
                age=age,
                ready_days=ready_days,
                delayed_for=delayed_for,
            )
        )
    return rows


def read_community_census(key: str, path: Path, start: date) -> list[CommunityRow]:
    """Rows of a community census CSV (the community cohort); '#' lines are comments (sources). Each is
    a person in a placement of ``type`` (one of PLACEMENT_TYPES) since they were ``discharged``
    (YYYY-MM-DD, before the start) from a bed of ``unit`` (a unit type) ``area`` (in, out); the optional
    column ``admitted`` (YYYY-MM-DD, before ``discharged``) dates the stay that ended (a dowry is paid
    after a stay of 5+ years)."""
    rows: list[CommunityRow] = []
    for where, value, column in _lines(key, path, COMMUNITY_COLUMNS, "community census"):
        if value["type"] not in PLACEMENT_TYPES:
            raise ConfigError(
                key,
                f"{where}: unknown placement type '{value['type']}' (expected one of {', '.join(PLACEMENT_TYPES)})",
            )
        unit, area = _unit_area(key, where, value["unit"], value["area"])
        discharged = _date(key, where, "discharged", value["discharged"], start, "the start")
        stay = math.nan
        if column.get("admitted", ""):
            admitted = _date(key, where, "admitted", column["admitted"], discharged, "the discharge")
            stay = float((discharged - admitted).days)
        rows.append(
            CommunityRow(
                row=len(rows),
                kind=PLACEMENT_TYPES.index(value["type"]),
                unit=unit,
                area=area,
                elapsed=float((start - discharged).days),
                stay=stay,
            )
        )
    return rows


def _readiness(key: str, where: str, column: dict[str, str], admitted: date, start: date) -> tuple[float, int]:
    """A row's optional ``ready``, ``ready_date`` and ``delay_reason``: (days ready at the start, reason
    code), or (NaN, -1) for a row that is not ready."""
    ready, when, reason = column.get("ready", "").lower(), column.get("ready_date", ""), column.get("delay_reason", "")
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
