"""``python -m sim.new_area NAME [--out DIR] [--title TITLE] [--month YYYY-MM]``: write a new area's TCP
config and census template (``sim.new_area.new_area``) and say what to fill in and how to run it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sim.cli import run_entry
from sim.new_area import new_area

USAGE = """\
Writes DIR/tcp/NAME.yaml (every figure you must supply is ??? and marked SUPPLY; the others are national or
BHR defaults marked DEFAULT with their source, and each behavioural parameter says what it MEANS and how
to estimate it) and DIR/census/NAME_<month>.csv (one row per inpatient at the census month). Then:

  python -m sim --config-dir DIR tcp=NAME run.start=<the month after the census>
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, write the area, print its files and the run command; 2 on a user error."""
    parser = argparse.ArgumentParser(
        prog="python -m sim.new_area", description=USAGE, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("name", help="the TCP's short name: letters, digits, _ and - (used in file and run names)")
    parser.add_argument("--out", help="the folder to write (default: ./NAME); nothing in it is overwritten")
    parser.add_argument("--title", help="the TCP's name in charts and reports (default: from NAME)")
    parser.add_argument("--month", help="the census month, YYYY-MM (default: last month)")
    args = parser.parse_args(argv)

    def app() -> None:
        made = new_area(args.name, args.out, title=args.title, month=args.month)
        print(f"wrote {made.tcp_file} and {made.census_file}")
        print("fill in every ??? (marked SUPPLY) and replace the census's example row, then run:")
        print(f"  {made.command}")

    return run_entry(app)


if __name__ == "__main__":
    sys.exit(main())
