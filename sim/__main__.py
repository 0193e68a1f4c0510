"""``python -m sim``: the command line (``sim.cli.main``). A Ctrl-C that comes while Python is still
importing (the first two seconds or so) ends the run as one later does, with status 130 and no
traceback: nothing has started, so nothing is lost."""

import sys

try:
    from sim.cli import main
except KeyboardInterrupt:
    sys.exit(130)  # sim.config.errors.EXIT_INTERRUPTED; not imported, as imports are what was stopped

main()
