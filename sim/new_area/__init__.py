"""Your own area: ``python -m sim.new_area NAME`` writes a TCP config and a census template into a directory
of the user's, ready to fill in and run with ``python -m sim --config-dir DIR tcp=NAME``.

The TCP file marks each value as SUPPLY (a figure only the area has, written ``???`` so that a run stops
with one line naming the key until it is filled), DEFAULT (a national or BHR figure, its source named) or
MEANS (what a behavioural parameter does and how to estimate it from local records). The census template
has its columns explained and one row of ``???`` to replace. Nothing existing is overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import jinja2

from sim.config.build import safe_name
from sim.config.checks import add_months, month_label, parse_month
from sim.config.errors import ConfigError

__all__ = ["NewArea", "new_area"]


@dataclass(frozen=True)
class NewArea:
    """What ``new_area`` wrote: the config directory, the TCP file, the census file and the command that
    runs the area once they are filled in."""

    folder: Path
    tcp_file: Path
    census_file: Path
    command: str


def new_area(
    name: str,
    out: str | Path | None = None,
    *,
    title: str | None = None,
    month: str | None = None,
    today: date | None = None,
) -> NewArea:
    """Write ``<out>/tcp/<name>.yaml`` and ``<out>/census/<name>_<month>.csv`` (``out`` defaults to
    ``./<name>``; ``month`` is the census month, by default the last whole month before ``today``).
    Refuses (``ConfigError``) a name that cannot be a file name, a bad month, or a file that exists."""
    name = safe_name("name", name)
    today = today or date.today()
    if month is None:
        last = add_months(date(today.year, today.month, 1), -1)
        month = month_label(last)
    census_start = parse_month("month", month)
    folder = Path(out) if out is not None else Path(name)
    tcp_file = folder / "tcp" / f"{name}.yaml"
    census_name = f"{name}_{month}.csv"
    census_file = folder / "census" / census_name
    for path in (tcp_file, census_file):
        if path.exists():
            raise ConfigError("out", f"{path} exists already; it is left as it is: choose another folder or name")
        if path.parent.exists() and not path.parent.is_dir():
            raise ConfigError("out", f"{path.parent} is a file, not a folder")
    start = month_label(add_months(census_start, 1))
    plan = add_months(census_start, 12)
    while plan.month != 3:  # the first March at least a year after the census: a planning year's end
        plan = add_months(plan, 1)
    values = {
        "name": name,
        "title": title or name.replace("_", " ").title(),
        "month": month,
        "start": start,
        "plan_month": month_label(plan),
        "census_name": census_name,
        "folder": str(folder.resolve()),
        "today": today.isoformat(),
    }
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("sim.new_area", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    tcp_file.parent.mkdir(parents=True, exist_ok=True)
    census_file.parent.mkdir(parents=True, exist_ok=True)
    with open(tcp_file, "x", encoding="utf-8") as f:  # "x": never over a file made meanwhile
        f.write(env.get_template("tcp.yaml.j2").render(**values))
    with open(census_file, "x", encoding="utf-8") as f:
        f.write(env.get_template("census.csv.j2").render(**values))
    command = f"python -m sim --config-dir {values['folder']} tcp={name} run.start={start}"
    return NewArea(folder, tcp_file, census_file, command)
