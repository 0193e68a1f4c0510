"""Excel workbooks of result tables (openpyxl): one sheet a table, each headed by what it is, its units and
its source, so that a sheet copied into a board paper or forwarded on its own still says what it holds.

``write_workbook(path, sheets)`` is general: a run's results.xlsx (``sim.report.results_book``) calls it, and
so can any other table of the project. To add, say, a comparison's or a capacity curve's tables::

    from sim.report.workbook import Sheet, write_workbook

    write_workbook(out / "comparison.xlsx", [
        Sheet("Comparison", differences, title="Paired differences from the baseline",
              units="people at month end; pounds; probabilities 0 to 1",
              source="tcp-sim compare, scenarios ... on seed ..."),
    ])

Each sheet's layout: row 1 the title (bold), row 2 "Units: ...", row 3 "Source: ...", row 4 the column names
(bold, frozen, with a filter), the rows below; numbers are written as numbers (NaN as an empty cell), each
column as wide as its longest entry (within ``MIN_WIDTH`` to ``MAX_WIDTH``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

#: The row of the column names; the title, units and source lines are above it.
HEADER_ROW = 4
#: Column widths (characters) a sheet's columns are kept within.
MIN_WIDTH, MAX_WIDTH = 8, 60
#: Excel's limit on a sheet's name, and the characters a name may not hold.
NAME_CHARS = 31
_BAD_NAME = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class Sheet:
    """One table of a workbook: its sheet name, the table, and the lines that head it (``title``, ``units``,
    ``source``; ``units`` may also be a mapping of column name to unit, written as "column: unit; ...")."""

    name: str
    frame: pd.DataFrame
    title: str
    units: str | dict[str, str]
    source: str


def write_workbook(path: Path | str, sheets: Sequence[Sheet]) -> Path:
    """Write ``sheets`` to an .xlsx file at ``path`` (overwritten), in order; return the path. Sheet names
    are cut to Excel's 31 characters and made unique; an empty sequence is refused."""
    if not sheets:
        raise ValueError("a workbook needs at least one sheet")
    path = Path(path)
    book = Workbook()
    book.remove(book.active)  # an empty workbook: only the sheets asked for
    used: set[str] = set()
    for sheet in sheets:
        _write_sheet(book, _sheet_name(sheet.name, used), sheet)
    book.save(path)
    return path


def units_text(units: str | dict[str, str]) -> str:
    """The units line of a sheet: the text, or a mapping's "column: unit" pairs joined by "; "."""
    if isinstance(units, str):
        return units
    return "; ".join(f"{k}: {v}" for k, v in units.items())


def _write_sheet(book: Workbook, name: str, sheet: Sheet) -> None:
    """One sheet: the three heading lines, the frozen column names and the rows."""
    ws = book.create_sheet(name)
    ws.cell(row=1, column=1, value=sheet.title).font = Font(bold=True, size=12)
    ws.cell(row=2, column=1, value=f"Units: {units_text(sheet.units)}")
    ws.cell(row=3, column=1, value=f"Source: {sheet.source}")
    frame = sheet.frame.reset_index(drop=True)
    columns = [str(c) for c in frame.columns]
    widths = [len(c) for c in columns]
    for j, column in enumerate(columns, start=1):
        cell = ws.cell(row=HEADER_ROW, column=j, value=column)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for i, row in enumerate(frame.itertuples(index=False, name=None), start=HEADER_ROW + 1):
        for j, value in enumerate(row, start=1):
            cell_value = _cell_value(value)
            ws.cell(row=i, column=j, value=cell_value)
            widths[j - 1] = max(widths[j - 1], _shown_width(cell_value))
    for j, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = min(MAX_WIDTH, max(MIN_WIDTH, width + 2))
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=1)
    if columns:
        last = get_column_letter(len(columns))
        ws.auto_filter.ref = f"A{HEADER_ROW}:{last}{HEADER_ROW + max(len(frame), 1)}"


def _cell_value(value: Any) -> Any:
    """A table entry as openpyxl writes it: numbers as Python numbers (NaN and None as an empty cell),
    booleans as booleans, dates as dates, anything else as its text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, (datetime, date)):
        return value
    return str(value)


def _shown_width(value: Any) -> int:
    """About how many characters Excel shows for a cell (General format)."""
    if value is None:
        return 0
    if isinstance(value, float):
        return len(f"{value:.10g}")
    return len(str(value))


def _sheet_name(name: str, used: set[str]) -> str:
    """A valid, unique sheet name: Excel's forbidden characters replaced, cut to 31 characters, numbered
    if already used."""
    base = _BAD_NAME.sub("_", name).strip() or "Sheet"
    base = base[:NAME_CHARS]
    candidate, n = base, 2
    while candidate.lower() in used:
        suffix = f" ({n})"
        candidate, n = base[: NAME_CHARS - len(suffix)] + suffix, n + 1
    used.add(candidate.lower())
    return candidate
