"""A user's mistake, told in one line: ``ConfigError`` and the command line's exit codes for it.

A wrong config value, override or census raises ``ConfigError`` naming the key (or the census file and
line); ``user_error_line`` turns it, or Hydra's and OmegaConf's own errors about a user's input, into the
single line the command line prints before exiting with ``EXIT_USER_ERROR``. Kept apart from the checks
so that the command line and the tools can report errors without importing the builders.
"""

from __future__ import annotations

import sys
import sysconfig

import yaml
from hydra.errors import HydraException, MissingConfigException, OverrideParseException
from omegaconf.errors import OmegaConfBaseException

#: Exit status of a run refused for a user's error (bad config value, override or census).
EXIT_USER_ERROR = 2
#: Exit status of a run stopped by Ctrl-C or SIGTERM (finished chunks are kept).
EXIT_INTERRUPTED = 130


class SweepError(Exception):
    """A directory that cannot be collected (not a sweep, no complete job, unknown metric): the user's to fix."""


class ConfigError(ValueError):
    """A user's config, override or census is wrong: ``key`` says where, the message says what."""

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(f"{key}: {problem}")

    def __reduce__(self) -> tuple[type[ConfigError], tuple[str, str]]:
        # rebuilt from both parts: a mistake found in a worker process (or on Dask) reaches the command
        # line as the same one line, not as an error unpickling it
        return (type(self), (self.key, self.problem))


def user_error_line(e: BaseException) -> str | None:
    """One line for an error that is the user's (config, override, census), else None."""
    if isinstance(e, ConfigError):
        return f"config error: {e}"
    cause: BaseException | None = e
    while cause is not None:
        if isinstance(cause, OmegaConfBaseException):
            key = getattr(cause, "full_key", None)
            msg = str(getattr(cause, "msg", None) or cause).strip().splitlines()[0]
            return f"config error: {key}: {msg}" if key else f"config error: {msg}"
        cause = cause.__cause__ or cause.__context__
    if isinstance(e, MissingConfigException):
        options = f" (available: {', '.join(e.options)})" if e.options else ""
        return f"config error: no config '{e.missing_cfg_file}'{options}"
    if isinstance(e, OverrideParseException):  # run.replications=[ : name the key the override was for
        key, _, value = e.override.partition("=")
        key = key.strip().lstrip("+~")
        problem = " ".join(e.message.split("See https://")[0].split())
        if key and value:
            return f"config error: {key}: '{value}' is not a value the override grammar reads ({problem}); quote it"
    if isinstance(e, HydraException):
        return "config error: " + " ".join(str(e).split())
    if isinstance(e, UnicodeDecodeError) and _through(e, "hydra"):  # a --config-dir file that is not UTF-8
        path = _local(e, "full_path")
        return f"config error: {path or 'a config file'}: is not UTF-8 text (byte {e.start})"
    if isinstance(e, yaml.MarkedYAMLError):  # a --config-dir file that is not YAML, or has a key twice
        mark = e.problem_mark
        where = f"{mark.name} line {mark.line + 1}" if mark is not None else "a config file"
        return f"config error: {where}: {e.problem or e.context}"
    if isinstance(e, (FileExistsError, NotADirectoryError)) and _through(e, "hydra"):
        return f"config error: hydra.run.dir: {e.filename} is a file, not a directory for the run"
    if isinstance(e, OSError) and _raised_in(e, "hydra", stdlib=False):  # Hydra could not make or write the dir
        return f"config error: hydra.run.dir: cannot write {e.filename or 'the run directory'}: {_reason(e)}"
    if isinstance(e, OSError) and _through(e, "distributed"):
        return f"config error: run.dask_address: the Dask scheduler cannot be reached ({' '.join(str(e).split())})"
    if isinstance(e, ValueError) and _raised_in(e, "hydra"):  # an override Hydra cannot apply (tcp=null, =5)
        named = _group_override(sys.argv[1:]) if "Config group override" in str(e) else None
        return f"config error: {named}" if named else "config error: " + " ".join(str(e).split())
    if isinstance(e, AssertionError) and _raised_in(e, "omegaconf") and "Unexpected type: None" in str(e):
        return (
            "config error: an override sets a key inside a config that is null here (e.g. tcp.* when the "
            "system lists its own TCPs: use system.tcps.<name>.* or a scenario)"
        )
    return None


def _group_override(argv: list[str]) -> str | None:
    """The command line's override Hydra read as a config group set to something not a name (``tcp=null``,
    ``=5``), as ``key: problem``; None if none is found."""
    for arg in argv:
        key, eq, value = arg.partition("=")
        key = key.lstrip("+~")
        if not eq or "." in key or key.startswith("-"):
            continue
        if not key:
            return f"{arg}: an override needs a key (key=value)"
        if value.strip().lower() in ("null", "~", "") or value.strip().lstrip("-").replace(".", "", 1).isdigit():
            return f"{key}: '{value}' is not the name of a {key} config (give {key}=<name>)"
    return None


def _frames(e: BaseException) -> list[str]:
    """The files of the error's traceback, outermost first."""
    out, tb = [], e.__traceback__
    while tb is not None:
        out.append(tb.tb_frame.f_code.co_filename.replace("\\", "/"))
        tb = tb.tb_next
    return out


def _through(e: BaseException, package: str) -> bool:
    """Whether the error passed through ``package``'s code on its way up."""
    return any(f"/{package}/" in name for name in _frames(e))


def _raised_in(e: BaseException, package: str, *, stdlib: bool = True) -> bool:
    """Whether the error was raised inside ``package`` (its innermost frame is that package's code; with
    ``stdlib=False``, its innermost frame outside Python's own library, as for ``os.makedirs``)."""
    frames = _frames(e)
    if not stdlib:
        lib = sysconfig.get_paths()["stdlib"].replace("\\", "/") + "/"
        frames = [f for f in frames if not f.startswith(lib) or "/site-packages/" in f]
    return bool(frames) and f"/{package}/" in frames[-1]


def _local(e: BaseException, name: str) -> object:
    """A local variable of the innermost frame of the error's traceback that has one (a file's path)."""
    found, tb = None, e.__traceback__
    while tb is not None:
        found = tb.tb_frame.f_locals.get(name, found)
        tb = tb.tb_next
    return found


def _reason(e: OSError) -> str:
    """The operating system's reason for an OSError, in its words (``No space left on device``)."""
    return e.strerror or " ".join(str(e).split())
