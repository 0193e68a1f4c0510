"""``python -m sim.compare scenario=a,b[,c...] [overrides]``: compare scenarios on common random numbers, a
Hydra app like ``python -m sim`` (configs/compare.yaml: the simulator's config plus a ``compare`` section).

The first scenario listed is the baseline; every other override applies to every scenario. Hydra composes
the baseline (so a bad override is refused before anything runs), and each scenario is composed again with
the same overrides. The outputs go into a new directory (``compare.out``, or Hydra's run directory under
outputs/compare/), never an existing one. A user error (bad scenario list, override, metric) is one line,
exit 2; Ctrl-C writes nothing, exit 130. The library (``sim.compare``) never imports this module.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, ListConfig, OmegaConf

from sim import api, compare
from sim.cli import drop_if_empty, exit_now, exit_on_user_error, run_entry
from sim.config import CONFIG_DIR, ConfigError
from sim.config.errors import EXIT_INTERRUPTED
from sim.config.schema import Config
from sim.config.store import merged

#: The keys of the ``compare`` section (configs/compare.yaml says what each is).
SECTION_KEYS = ("out", "metrics", "headline", "smallest", "level", "independent")
#: Arguments Hydra itself answers (help, the config), passed to it without a scenario list.
HYDRA_ONLY = ("--help", "-h", "--hydra-help", "--info", "-i", "--cfg", "-c", "--shell-completion", "-sc")


@dataclass
class CompareAppConfig(Config):
    """The simulator's config plus the ``compare`` section (checked by ``read_settings``)."""

    compare: Any = None


@dataclass(frozen=True)
class Settings:
    """The ``compare`` section, checked."""

    out: Path | None
    metrics: list[str] | None
    headline: list[str] | None
    smallest: dict[str, Any]
    level: float
    independent: bool


def _names(key: str, value: Any) -> list[str] | None:
    """A list of metric names (a comma string is taken too), or None."""
    if value is None:
        return None
    items = list(value) if isinstance(value, (list, tuple, ListConfig)) else str(value).split(",")
    names = [str(v).strip() for v in items if str(v).strip()]
    if not names:
        raise ConfigError(key, "name at least one metric, or null for the default")
    return names


def read_settings(section: Any) -> Settings:
    """The ``compare`` section of the app's config, each mistake a ``ConfigError`` naming its key."""
    raw = OmegaConf.to_container(section, resolve=True) if isinstance(section, DictConfig) else (section or {})
    if not isinstance(raw, dict):
        raise ConfigError("compare", f"'{raw}' is not a section of keys ({', '.join(SECTION_KEYS)})")
    unknown = sorted(set(map(str, raw)) - set(SECTION_KEYS))
    if unknown:
        raise ConfigError(f"compare.{unknown[0]}", f"no such key (known: {', '.join(SECTION_KEYS)})")
    smallest = raw.get("smallest") or {}
    if not isinstance(smallest, dict):
        raise ConfigError("compare.smallest", f"'{smallest}' is not a mapping of metric -> smallest difference")
    level = raw.get("level", 0.95)
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        raise ConfigError("compare.level", f"{level} must be a number between 0 and 1")
    independent = raw.get("independent", True)
    if not isinstance(independent, bool):
        raise ConfigError("compare.independent", f"'{independent}' is not true or false")
    out = raw.get("out")
    return Settings(
        out=Path(str(out)) if out not in (None, "") else None,
        metrics=_names("compare.metrics", raw.get("metrics")),
        headline=_names("compare.headline", raw.get("headline")),
        smallest={str(k): v for k, v in smallest.items()},
        level=float(level),
        independent=independent,
    )


def parse_scenarios(overrides: Sequence[str]) -> tuple[list[str], list[str]]:
    """Split the ``scenario=a,b,...`` override (its comma list) from the overrides every scenario shares."""
    listed = [o for o in overrides if o.split("=", 1)[0].lstrip("+") == "scenario"]
    rest = [o for o in overrides if o not in listed]
    if not listed:
        raise ConfigError("scenario", "name the scenarios to compare, e.g. scenario=baseline,full_ctr_coverage")
    if len(listed) > 1:
        raise ConfigError("scenario", f"given {len(listed)} times ({' '.join(listed)}); list them once: scenario=a,b")
    value = listed[0].split("=", 1)[1].strip().strip("[]")
    names = [n.strip().strip("'\"") for n in value.split(",")]
    if any(not n for n in names):
        raise ConfigError("scenario", f"'{value}' has an empty name")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError("scenario", f"{', '.join(twice)} listed more than once")
    if len(names) < 2:
        raise ConfigError("scenario", f"'{value}': name two or more scenarios to compare, e.g. scenario={value},other")
    return names, rest


def refuse_given_outputs(overrides: Sequence[str]) -> None:
    """Refuse, before Hydra writes its record into it, an output directory named on the command line
    (``compare.out=`` or ``hydra.run.dir=``) that exists with anything in it besides Hydra's own files."""
    for arg in overrides:
        key, _, value = arg.partition("=")
        key = key.lstrip("+~")
        if key not in ("compare.out", "hydra.run.dir") or not value.strip("'\""):
            continue
        path = Path(value.strip("'\""))
        if path.is_file():
            raise ConfigError(key, f"{path} is a file, not a directory for the comparison")
        if path.is_dir() and any(not api.hydra_own(p) for p in path.iterdir()):
            raise ConfigError(key, f"{path} already holds files; choose a new directory (nothing is overwritten)")


def simulator_config(cfg: DictConfig) -> DictConfig:
    """``cfg`` without the ``compare`` section: the config ``python -m sim`` would compose."""
    keys = [k for k in Config.__dataclass_fields__ if k in cfg]
    return merged(OmegaConf.structured(Config), OmegaConf.masked_copy(cfg, keys))


#: The scenarios and the command of this call (set by ``main`` for the Hydra app's body).
_CALL: dict[str, list[str]] = {"names": [], "command": []}


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="compare")
def _hydra_main(cfg: DictConfig) -> None:
    made = Path(HydraConfig.get().runtime.output_dir)  # Hydra's new directory for this call
    try:
        _compare(cfg, made)
    except Exception as e:  # noqa: BLE001 - a user's error is one line (exit_on_user_error); others re-raised
        exit_on_user_error(e, made)


def _compare(cfg: DictConfig, made: Path) -> None:
    """The app's body: compose every scenario, compare, write and print."""
    settings = read_settings(cfg.get("compare"))
    names = _CALL["names"]
    out = settings.out if settings.out is not None else made
    compare.refuse_existing(out)  # before minutes of runs, not after
    if settings.out is not None and out.exists() and any(not api.hydra_own(p) for p in out.iterdir()):
        raise ConfigError("compare.out", f"{out} already holds files; choose a new directory (nothing is overwritten)")
    shared = [o for o in HydraConfig.get().overrides.task if o.split("=", 1)[0].lstrip("+~") != "scenario"]
    cfgs = {
        name: simulator_config(hydra.compose(config_name="compare", overrides=[*shared, f"scenario={name}"]))
        for name in names
    }
    try:
        comparison = compare.compare(
            cfgs,
            names[0],
            metrics=settings.metrics,
            headline=settings.headline,
            smallest=settings.smallest,
            level=settings.level,
            independent=settings.independent,
            progress=None,
            warn=False,
        )
    except ConfigError as e:  # the library names its arguments; here they are the section's keys
        if e.key.split(".", 1)[0] in SECTION_KEYS:
            raise ConfigError(f"compare.{e.key}", e.problem) from None
        raise
    if settings.out is not None:
        drop_if_empty(made)  # Hydra's record of a call whose outputs went elsewhere
    comparison.write(out, command=_CALL["command"])
    title = comparison.title[:1].upper() + comparison.title[1:]
    print(
        f"{title}: {', '.join(comparison.scenarios[1:])} minus {comparison.baseline}, "
        f"{comparison.replications} paired replications, seed {comparison.seed}"
    )
    print(compare.format_table(comparison))
    for line in compare.variance_reduction_lines(comparison):
        print(line)
    for note in comparison.notes:
        print(f"note: {note}")
    for message in comparison.warnings:
        print(f"warning: {message}", file=sys.stderr)
    print(f"wrote {out} ({comparison.wall_seconds:.1f} s)")


@contextmanager
def _schema_and_argv(argv: Sequence[str]) -> Iterator[None]:
    """For the Hydra app's call: the app's root schema (the ``compare`` section allowed) and its command
    line, both put back afterwards (so a test's later configs compose as before)."""
    store = ConfigStore.instance()
    saved = sys.argv
    store.store(name="base_config", node=CompareAppConfig)
    sys.argv = [saved[0] if saved else "sim.compare", *argv]
    try:
        yield
    finally:
        sys.argv = saved
        store.store(name="base_config", node=Config)


def _call(args: list[str]) -> int:
    """Check the scenario list and the outputs named, then run the Hydra app on the baseline."""
    if any(a in HYDRA_ONLY or a.startswith("--cfg=") for a in args):
        hydra_args = args  # Hydra answers these itself (help, the config) and exits
    else:
        if any(a in ("-m", "--multirun") for a in args):
            raise ConfigError("--multirun", "compare runs its scenarios itself: list them as scenario=a,b, without -m")
        names, rest = parse_scenarios(args)
        refuse_given_outputs(rest)
        _CALL["names"] = names
        hydra_args = [*rest, f"scenario={names[0]}"]
    _CALL["command"] = ["python", "-m", "sim.compare", *args]
    with _schema_and_argv(hydra_args):
        try:
            _hydra_main()
        except SystemExit as e:  # a user's error in the body (exit_on_user_error), or Hydra's --help
            return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m sim.compare`` (``argv``: the arguments, default the command line's):
    the exit status. A user error is one line on stderr, 2; Ctrl-C writes nothing, 130."""
    args = list(sys.argv[1:] if argv is None else argv)
    return run_entry(lambda: _call(args), interrupted="\ninterrupted: no comparison written")


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM (a batch system's stop) ends a comparison as Ctrl-C does


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _stop)
    code = main()
    if code == EXIT_INTERRUPTED:
        exit_now(code)  # workers' threads would otherwise hold the interpreter's exit
    sys.exit(code)
