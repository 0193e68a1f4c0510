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
from sim.config.schema import UNIT_TYPES
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


def census_path(census: str) -> Path:
    """A TCP's ``census`` value as a file: absolute as given, else relative to configs/."""
    path = Path(census)
    return path if path.is_absolute() else CONFIG_DIR / path


def read_census(key: str, path: Path, start: date) -> list[CensusRow]:
    """Rows of a census CSV; '#' lines are comments (sources). The optional column ``ooa_reason`` says
    why an out-of-area row is out of area: ``beds`` (the default; repatriation can bring them back) or
    ``need`` (no local unit meets it); the optional column ``age`` gives the age in years at the start
    (empty: not known)."""
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
        rows.append(
            CensusRow(
                row=len(rows),
                unit=UNIT_TYPES.index(value["unit"]),
                area=AREAS[value["area"]],
                elapsed=float((start - admitted).days),
                by_need=by_need,
                age=age,
            )
        )
    return rows
