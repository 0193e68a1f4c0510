"""The start censuses: CSVs of the inpatients in hospital on the first day (``census``, one row a person,
or ``census_counts``, counts by unit, area, length-of-stay band and age band drawn into one row a person by
``census_from_counts``) and of the people in community placements then (``community_census``, the community
cohort), read and checked line by line.

A bad line raises ``ConfigError`` under the TCP's key (``census``, ``community_census``) naming the file
and line, so a user can fix the CSV without reading code.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import NamedTuple

import numpy as np
from omegaconf import DictConfig

from sim.config.errors import ConfigError
from sim.config.schema import DELAY_REASONS, PLACEMENT_TYPES, UNIT_TYPES
from sim.config.spec import DAYS_PER_YEAR, IN_AREA, OUT_OF_AREA
from sim.config.store import CONFIG_DIR

#: Columns every census must have.
CENSUS_COLUMNS = ("unit", "area", "admitted")
#: Columns every census by counts must have.
COUNTS_COLUMNS = ("unit", "area", "stay_from_years", "stay_to_years", "count")
#: Points of the grid on which a band's length-biased stay distribution is integrated (``band_stays``).
BAND_GRID = 2001
#: Columns every community census must have.
COMMUNITY_COLUMNS = ("type", "discharged", "unit", "area")
#: The most inpatients a census by counts may hold (England's were about 2,000 in 2019): each count is drawn
#: into one row a person when the config is built, so a slip (a count of 10**12) would fill the memory.
MAX_CENSUS_PEOPLE = 1_000_000
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


#: A TCP's keys that name a census file.
CENSUS_KEYS = ("census", "census_counts", "community_census")


def anchor_paths(cfg: DictConfig, config_dirs: Sequence[Path]) -> None:
    """Make each TCP's relative census paths absolute where the file is in one of the user's config
    directories (``--config-dir``), first found first: a census beside its own TCP file is read from
    there, and the run's config.yaml records where (so a resume reads the same file). Paths found in no
    such directory are left relative to configs/, as ``census_path`` reads them."""
    nodes = [cfg.tcp] if cfg.get("tcp") is not None else []
    nodes += list((cfg.system.get("tcps") or {}).values())
    for node in nodes:
        for key in CENSUS_KEYS:
            value = node.get(key)
            if not value or Path(str(value)).is_absolute():
                continue
            found = next((Path(d) / str(value) for d in config_dirs if (Path(d) / str(value)).is_file()), None)
            if found is not None:
                node[key] = str(found.resolve())


class CommunityRow(NamedTuple):
    """One person of a community census file, in a placement at the start, as read."""

    row: int  # from 0, in file order (the person's entity number)
    kind: int  # placement type index
    unit: int  # unit type left (index)
    area: int  # area code of the bed left
    elapsed: float  # days since the discharge at the start
    stay: float  # days of the stay that ended (optional ``admitted``; NaN when not given)


class CountsRow(NamedTuple):
    """One line of a census by counts, as read: ``count`` inpatients of a unit and area whose stays so far
    are in [stay_from, stay_to) days (and, if given, whose ages are in [age_from, age_to) years)."""

    where: str  # file name and line number, for messages
    unit: int  # unit type index
    area: int  # area code
    by_need: bool  # out of area because no local unit meets the need
    stay_from: float  # days
    stay_to: float  # days
    people: int  # the line's count
    age_from: float  # years; NaN when not given
    age_to: float  # years; NaN when not given


class _Line(NamedTuple):
    where: str  # file name and line number, for messages
    value: dict[str, str]  # the required columns' values, stripped, none empty
    column: dict[str, str]  # every column's value, stripped


def csv_lines(
    key: str, path: Path, required: tuple[str, ...], what: str, present: tuple[str, ...] = ()
) -> Iterator[_Line]:
    """The data lines of a CSV ('#' lines are comments), each with every column by name; the file must
    exist, be UTF-8 text, have a header with the ``required`` columns (and the ``present`` ones, which may
    be empty), and each line as many fields, none required empty. Every CSV a config names is read here
    (censuses, observed series), so each fails the same way: one line naming the file and line."""
    if not path.is_file():
        raise ConfigError(key, f"{what} file {path} not found")
    try:
        text = path.read_text(encoding="utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte-order mark
    except UnicodeDecodeError as err:
        raise ConfigError(key, f"{path.name} is not UTF-8 text (byte {err.start})") from None
    except OSError as err:  # no permission to read it, an I/O error: the system's reason
        raise ConfigError(key, f"{what} file {path} cannot be read: {err.strerror or err}") from None
    numbered = enumerate(text.splitlines(), start=1)
    lines = [(n, line) for n, line in numbered if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise ConfigError(key, f"{path.name} has no header row")
    reader = csv.reader(line for _, line in lines)
    header = [h.strip() for h in next(reader)]
    missing = [c for c in (*required, *present) if c not in header]
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


def _by_need(key: str, where: str, column: dict[str, str], area: int) -> bool:
    """A row's optional ``ooa_reason``: whether an out-of-area row is out of area by need (else for beds)."""
    reason = column.get("ooa_reason", "")
    if reason and reason not in OOA_REASONS:
        raise ConfigError(key, f"{where}: ooa_reason '{reason}' must be 'beds' or 'need'")
    return area == OUT_OF_AREA and reason == "need"


def _years(key: str, where: str, name: str, text: str, low: float = 0.0, high: float = math.inf) -> float:
    """A column's number of years, from ``low`` to ``high``."""
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(key, f"{where}: {name} '{text}' is not a number of years") from None
    if not low <= value <= high:
        raise ConfigError(key, f"{where}: {name} {text} must be a number of years from {low:g} to {high:g}")
    return value


def _age(key: str, where: str, name: str, text: str) -> float:
    """A column's age in years (0 to 130)."""
    return _years(key, where, name, text, 0.0, 130.0)


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
    for where, value, column in csv_lines(key, path, CENSUS_COLUMNS, "census"):
        unit, area = _unit_area(key, where, value["unit"], value["area"])
        admitted = _date(key, where, "admitted", value["admitted"], start, "the start")
        by_need = _by_need(key, where, column, area)
        age = _age(key, where, "age", column["age"]) if column.get("age", "") else math.nan
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
    for where, value, column in csv_lines(key, path, COMMUNITY_COLUMNS, "community census"):
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


def read_census_counts(key: str, path: Path, transition: float) -> list[CountsRow]:
    """Lines of a census by counts (``census_counts``); '#' lines are comments (sources, method). Each says
    that ``count`` (a whole number, 0 or more) inpatients of ``unit`` and ``area`` (and ``ooa_reason``, as
    in a census) have been in hospital from ``stay_from_years`` to ``stay_to_years`` (above it); the
    optional columns ``age_from`` and ``age_to`` (both or neither, years) bound their ages: a ``camhs_t4``
    line's ages must be under ``transition`` (the transition age), any other line's at least it."""
    rows: list[CountsRow] = []
    total = 0
    for where, value, column in csv_lines(key, path, COUNTS_COLUMNS, "census counts"):
        unit, area = _unit_area(key, where, value["unit"], value["area"])
        stay_from = _years(key, where, "stay_from_years", value["stay_from_years"], 0.0, 130.0)
        stay_to = _years(key, where, "stay_to_years", value["stay_to_years"], 0.0, 130.0)
        if stay_to <= stay_from:
            raise ConfigError(key, f"{where}: stay_to_years {stay_to:g} must be above stay_from_years {stay_from:g}")
        try:
            count = int(value["count"])
        except ValueError:
            raise ConfigError(key, f"{where}: count '{value['count']}' is not a whole number") from None
        if count < 0:
            raise ConfigError(key, f"{where}: count {count} must be 0 or more")
        total += count
        if total > MAX_CENSUS_PEOPLE:  # each is drawn into a row of its own before anything runs
            raise ConfigError(
                key, f"{where}: count {count} brings the census to {total:,}, more than {MAX_CENSUS_PEOPLE:,}"
            )
        age_from, age_to = _age_band(key, where, column, unit, transition)
        rows.append(
            CountsRow(
                where=where,
                unit=unit,
                area=area,
                by_need=_by_need(key, where, column, area),
                stay_from=stay_from * DAYS_PER_YEAR,
                stay_to=stay_to * DAYS_PER_YEAR,
                people=count,
                age_from=age_from,
                age_to=age_to,
            )
        )
    return rows


def _age_band(key: str, where: str, column: dict[str, str], unit: int, transition: float) -> tuple[float, float]:
    """A counts line's optional ``age_from`` and ``age_to`` (NaN, NaN when neither is given), which must fit
    the unit: children (under ``transition``) are in camhs_t4, adults elsewhere."""
    low, high = column.get("age_from", ""), column.get("age_to", "")
    if not low and not high:
        return math.nan, math.nan
    if not low or not high:
        raise ConfigError(key, f"{where}: give both age_from and age_to, or neither")
    age_from, age_to = _age(key, where, "age_from", low), _age(key, where, "age_to", high)
    if age_to <= age_from:
        raise ConfigError(key, f"{where}: age_to {age_to:g} must be above age_from {age_from:g}")
    child = unit == UNIT_TYPES.index("camhs_t4")
    if child and age_to > transition:
        raise ConfigError(
            key, f"{where}: camhs_t4 ages to {age_to:g}, but children are under {transition:g} (age_to at most that)"
        )
    if not child and age_from < transition:
        raise ConfigError(
            key,
            f"{where}: ages from {age_from:g} in {UNIT_TYPES[unit]}; children (under {transition:g}) are in camhs_t4",
        )
    return age_from, age_to


def band_stays(survival: Callable[[np.ndarray], np.ndarray], low: float, high: float, n: int) -> np.ndarray:
    """The stays so far (days) of ``n`` inpatients of a band [low, high), in increasing order: the
    quantile midpoints (k - 1/2) / n, k = 1..n, of the length-biased stay distribution restricted to the
    band. In steady state the stay so far of an inpatient on a given day has density S(x) / E[L], where S is
    the survival function of the length of stay L (``survival``: days, an array of times at once), so within
    the band its distribution function is the integral of S from ``low`` to x over the integral over the
    band. The integral is the trapezium rule on ``BAND_GRID`` points, inverted by linear interpolation.
    Where S is 0 over the whole band (the law cannot reach it) the stays are the band's evenly spaced
    midpoints instead."""
    q = (np.arange(n) + 0.5) / n
    x = np.linspace(low, high, BAND_GRID)
    s = np.asarray(survival(x), dtype=np.float64)
    cum = np.concatenate(([0.0], np.cumsum((s[1:] + s[:-1]) * np.diff(x) / 2)))
    if cum[-1] <= 0.0:
        return low + q * (high - low)
    return np.asarray(np.interp(q * cum[-1], cum, x))


def census_from_counts(
    key: str, rows: list[CountsRow], survival_of: Callable[[int], Callable[[np.ndarray], np.ndarray] | None]
) -> list[CensusRow]:
    """A census by counts as one row a person (the rows ``read_census`` gives, not ready at the start),
    numbered in the order made: each line in file order, its people in increasing stay so far. A line's
    ``people`` get the stays ``band_stays`` gives from the unit's length of stay (``survival_of(unit)``,
    None when the TCP has no pool of the unit: refused naming the line) and, if the line has an age band, the
    ages at its evenly spaced midpoints, age_from + (k - 1/2) / n x (age_to - age_from), the k-th youngest
    with the k-th shortest stay. The same file and laws give the same rows on every build (no random draw)."""
    people: list[CensusRow] = []
    for line in rows:
        if line.people == 0:
            continue
        survival = survival_of(line.unit)
        if survival is None:
            raise ConfigError(key, f"{line.where}: no {UNIT_TYPES[line.unit]} pool for this line's length of stay")
        stays = band_stays(survival, line.stay_from, line.stay_to, line.people)
        mid = (np.arange(line.people) + 0.5) / line.people
        ages = line.age_from + mid * (line.age_to - line.age_from)  # NaN without an age band
        for stay, age in zip(stays, ages):
            people.append(
                CensusRow(
                    row=len(people),
                    unit=line.unit,
                    area=line.area,
                    elapsed=float(stay),
                    by_need=line.by_need,
                    age=float(age),
                    ready_days=math.nan,
                    delayed_for=-1,
                )
            )
    return people
