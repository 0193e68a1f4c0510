"""``python -m sim.app [--port N] [--host H]``: serve the app with ``streamlit run``, on 127.0.0.1 (this
machine only) unless told otherwise, and say its address."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

#: The script Streamlit runs.
SCRIPT = Path(__file__).with_name("main.py")
#: Streamlit's own default port.
PORT = 8501


def command(host: str, port: int) -> list[str]:
    """The ``streamlit run`` command line that serves the app (no browser opened, no usage statistics)."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(SCRIPT),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]


def main(argv: Sequence[str] | None = None) -> None:
    """Become the server (this process, so Ctrl-C or a kill of its PID stops it, no child left behind)."""
    parser = argparse.ArgumentParser(prog="python -m sim.app", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine)")
    parser.add_argument("--port", type=int, default=PORT, help=f"port (default {PORT})")
    args = parser.parse_args(argv)
    print(f"tcp-sim app: http://{args.host}:{args.port} (Ctrl-C stops it)", flush=True)
    cmd = command(args.host, args.port)
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    main()
