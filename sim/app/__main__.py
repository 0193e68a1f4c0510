"""``python -m sim.app [--port N] [--host H] [--config-dir DIR ...]``: serve the app with ``streamlit run``,
on 127.0.0.1 (this machine only) unless told otherwise, and say its address. Each ``--config-dir`` is a
folder of the user's own areas (``tcp/<name>.yaml``, ``system/<name>.yaml`` and their censuses, as
``python -m sim.new_area`` writes one) offered beside the shipped ones, as ``python -m sim --config-dir``
reads it; the folder is only read."""

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
#: The option that names a folder of the user's own areas (the server's and the script's).
CONFIG_DIR = "--config-dir"


def command(host: str, port: int, config_dirs: Sequence[str] = ()) -> list[str]:
    """The ``streamlit run`` command line that serves the app (no browser opened, no usage statistics, no
    Deploy button);
    the script's own arguments (``--config-dir DIR`` each) after ``--``."""
    script_args = [arg for d in config_dirs for arg in (CONFIG_DIR, d)]
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
        "--client.toolbarMode",
        "minimal",  # no "Deploy" button: the app is served on the planner's own machine
        *(["--", *script_args] if script_args else []),
    ]


def _config_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        CONFIG_DIR,
        action="append",
        default=[],
        metavar="DIR",
        dest="config_dirs",
        help="a folder of your own areas (tcp/NAME.yaml, system/NAME.yaml and their censuses); repeatable",
    )


def script_config_dirs(argv: Sequence[str]) -> list[str]:
    """The ``--config-dir`` folders the script was given (its ``sys.argv[1:]``: what ``command`` put after
    ``--``); other arguments are ignored."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    _config_dir_option(parser)
    return list(parser.parse_known_args(list(argv))[0].config_dirs)


def area_folder(parser: argparse.ArgumentParser, folder: str) -> str:
    """A ``--config-dir`` as an absolute path, if it is a folder with an area in it; else the parser's
    error (one line after the usage, exit 2, as for any bad option)."""
    d = Path(folder).expanduser()
    if not d.is_dir():
        parser.error(f"{CONFIG_DIR} {folder}: not a folder")
    if not any(any((d / kind).glob("*.yaml")) for kind in ("tcp", "system")):
        parser.error(f"{CONFIG_DIR} {folder}: holds no area (no tcp/NAME.yaml or system/NAME.yaml)")
    return str(d.resolve())


def main(argv: Sequence[str] | None = None) -> None:
    """Become the server (this process, so Ctrl-C or a kill of its PID stops it, no child left behind)."""
    parser = argparse.ArgumentParser(prog="python -m sim.app", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine)")
    parser.add_argument("--port", type=int, default=PORT, help=f"port (default {PORT})")
    _config_dir_option(parser)
    args = parser.parse_args(argv)
    config_dirs = [area_folder(parser, d) for d in args.config_dirs]
    print(f"tcp-sim app: http://{args.host}:{args.port} (Ctrl-C stops it)", flush=True)
    for d in config_dirs:
        print(f"  your own areas from {d}", flush=True)
    cmd = command(args.host, args.port, config_dirs)
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    main()
