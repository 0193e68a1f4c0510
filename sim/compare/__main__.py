"""``python -m sim.compare ...``: the command line of ``sim.compare``, which lives in ``sim.cli`` so the
library never imports the command line."""

import sys

from sim.cli import compare_main

if __name__ == "__main__":
    sys.exit(compare_main())
