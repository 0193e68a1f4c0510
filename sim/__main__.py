"""``python -m sim``: the command line (``sim.cli.main``). A Ctrl-C that comes before the run starts
(while Python imports, or while Hydra composes the config) ends the process at once with status 130 and
no traceback: nothing has been run or written of the user's, so nothing is lost. ``sim.cli`` hands
Ctrl-C back to Python (KeyboardInterrupt: finished chunks kept, the resume line) when the run starts."""

import os
import signal


def _before_the_run(signum: int, frame: object) -> None:
    os._exit(130)  # sim.config.errors.EXIT_INTERRUPTED (not imported: imports are what was stopped)


if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not a job started with Ctrl-C ignored
    signal.signal(signal.SIGINT, _before_the_run)

from sim.cli import main  # noqa: E402 - after the handler, so a Ctrl-C during the imports is one too

main()
