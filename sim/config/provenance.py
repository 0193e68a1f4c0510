"""What a run changed, told truthfully: every value that differs from the shipped config files (its TCP,
system and scenario files composed without value overrides), a short digest of its overrides for its
directory's name, and the notes a reader must not miss about its start state.

A run with ``tcp.crisis.unregistered_rate=8`` is not "the baseline": the report and the manifest list that
key with the value the run used and the value the file ships, the report shows a source comment only for
values the source gives, and the run's directory is ``..._bhr_baseline-changed-<digest>`` so that two
differently configured runs never share a name. Kept in the config layer: pure functions of configs and
overrides, and the one Hydra compose the API and the reference both use.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from sim.config.store import compose, plain

#: The parts of a config that are the model's parameters (``run.*`` are settings of the run).
PARAMETER_TREES = ("tcp", "system", "scenario")
#: Config groups: ``tcp=bhr`` chooses a file, it does not change a value.
GROUPS = ("tcp", "system", "scenario", "run", "experiment", "calibrated")
#: Run settings that change what is simulated as parameters do (a posterior's draws).
PARAMETER_SETTINGS = ("run.parameters",)
#: A census file's month, from its name (``bhr_2016-03.csv``).
_MONTH_IN_NAME = re.compile(r"((?:19|20)\d\d)-(0[1-9]|1[0-2])")


@dataclass(frozen=True)
class Difference:
    """A value of the run that is not the shipped file's: ``shipped`` is None for a key the file lacks."""

    key: str
    value: Any
    shipped: Any

    def record(self) -> dict[str, Any]:
        """As the manifest keeps it (JSON)."""
        return {"key": self.key, "value": self.value, "shipped": self.shipped}


def counted_overrides(overrides: Sequence[str]) -> list[str]:
    """The command-line overrides that change a parameter: not a choice of a config file (``tcp=bhr``),
    not a run setting (``run.replications=50``; ``run.parameters`` counts), not Hydra's own."""
    out = []
    for o in overrides:
        key = o.split("=", 1)[0].lstrip("+~")
        if key in GROUPS or key.startswith("hydra.") or (key.startswith("run.") and key not in PARAMETER_SETTINGS):
            continue
        out.append(o)
    return out


def changes_tag(overrides: Sequence[str]) -> str:
    """``-changed-<6 hex>`` (a digest of the parameter overrides, in any order) or '' if there are none:
    the suffix of a run directory's name, so that differently configured runs are never named alike."""
    counted = sorted(counted_overrides(overrides))
    if not counted:
        return ""
    return "-changed-" + hashlib.sha256("\n".join(counted).encode()).hexdigest()[:6]


def register_resolver() -> None:
    """``${sim_changes:${hydra:overrides.task}}``, the suffix configs/config.yaml puts on a run directory's
    name (``changes_tag``). Idempotent."""
    if not OmegaConf.has_resolver("sim_changes"):
        OmegaConf.register_new_resolver("sim_changes", lambda overrides: changes_tag(list(overrides)))


def choices_of(cfg: DictConfig) -> list[str]:
    """The config files a composed config was made of, as overrides (``system=...`` or ``tcp=...``, and
    ``scenario=...``), for a config that did not come from the command line."""
    if cfg.system.tcps:
        main = [f"system={cfg.system.name}"]
    elif cfg.tcp is not None:
        main = [f"tcp={cfg.tcp.name}"]
    else:
        main = []
    return [*main, f"scenario={cfg.scenario.name}"]


def reference_config(
    cfg: DictConfig, choices: Sequence[str] | None = None, config_dirs: Sequence[str | Path] = ()
) -> DictConfig | None:
    """The shipped config the run started from: the same files (``choices``, else ``choices_of``)
    composed with no value override, from the same config directories; None if they cannot be composed
    (a file chosen by a name that is not its file's, a config made in Python)."""
    try:
        return compose(list(choices if choices is not None else choices_of(cfg)), config_dirs=config_dirs)
    except Exception:  # noqa: BLE001 - no reference is reported as such, never a failed run
        return None


def differences(cfg: DictConfig, reference: DictConfig) -> list[Difference]:
    """Every parameter (``PARAMETER_TREES``, and ``run.parameters``) whose value in ``cfg`` is not the
    reference's, by dotted key in key order; a list (a bed schedule) is one value."""
    ours, theirs = _flat(cfg), _flat(reference)
    keys = sorted(set(ours) | set(theirs))
    return [Difference(k, ours.get(k), theirs.get(k)) for k in keys if ours.get(k) != theirs.get(k)]


def _flat(cfg: DictConfig) -> dict[str, Any]:
    """The parameters of a config as dotted key -> plain value."""
    out: dict[str, Any] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, Mapping) and node:
            for k, v in node.items():
                walk(v, f"{prefix}.{k}")
        else:
            out[prefix] = node

    whole = plain(cfg)
    for tree in PARAMETER_TREES:
        if whole.get(tree) is not None:
            walk(whole[tree], tree)
    for key in PARAMETER_SETTINGS:
        section, name = key.split(".")
        out[key] = (whole.get(section) or {}).get(name)
    return out


#: Run settings that do not change results or are the run's own record, left out of a re-run command.
NOT_RERUN = ("progress", "resume", "config_dirs", "workers", "backend", "dask_address", "chunk_size")


def run_settings(cfg: DictConfig, reference: DictConfig) -> list[str]:
    """The ``run.*`` settings of ``cfg`` that are not the reference's, as overrides (for the re-run
    command of a config made in Python)."""
    ours, theirs = plain(cfg.run), plain(reference.run)
    out = []
    for key in sorted(ours):
        if key not in NOT_RERUN and ours[key] != theirs.get(key):
            out.append(f"run.{key}={hydra_value(ours[key])}")
    return out


def hydra_value(value: Any) -> str:
    """A plain value in Hydra's override grammar: null, true, 3.5, a quoted string where it needs one,
    [a,b] and {k:v}."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(hydra_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{k}:{hydra_value(v)}" for k, v in value.items()) + "}"
    text = str(value)
    if re.fullmatch(r"[A-Za-z_][\w./-]*", text) and text not in ("null", "true", "false"):
        return text
    return hydra_quoted(text)


def hydra_quoted(text: str) -> str:
    """``text`` as a quoted string of Hydra's override grammar that reads back as ``text`` itself, whatever
    it holds: in double quotes if it has none, else in single quotes. Inside, Hydra reads a backslash as an
    escape only before the quote or at the end, so only those backslashes are doubled and the quote is
    ``\\'``; ``${`` is written ``\\${`` (OmegaConf would read it as an interpolation), its backslashes
    before it doubled."""
    quote = "'" if '"' in text else '"'

    def escaped(m: re.Match[str]) -> str:
        slashes, what = m.group(1), m.group(2)
        if what == quote:
            return slashes * 2 + "\\" + quote
        if what == "${":
            return slashes * 2 + "\\${"
        return slashes * 2 if what == "" else m.group(0)

    return quote + re.sub(r"(\\*)(" + re.escape(quote) + r"|\$\{|\Z)", escaped, text) + quote


def override_word(key: str, text: str) -> str:
    """``key=text`` as one word a POSIX shell passes on as it is and Hydra's override grammar reads as the
    string ``text`` (a path of any characters: a sweep job's directory is named by its overrides, ``=``,
    ``,``; a user's may hold spaces, quotes, ``$(...)``): bare when it is a plain path, else the value in
    Hydra's quotes (``hydra_quoted``) and the whole word in the shell's (``shlex.quote``)."""
    if "/" in text and re.fullmatch(r"[A-Za-z0-9_./-]+", text):
        return f"{key}={text}"
    return shlex.quote(f"{key}={hydra_quoted(text)}")


def census_month(path: Path, admitted: Sequence[date] = ()) -> str | None:
    """A census file's month (``YYYY-MM``): from its name, else the latest admission it lists."""
    found = _MONTH_IN_NAME.search(path.name)
    if found:
        return f"{found.group(1)}-{found.group(2)}"
    if admitted:
        last = max(admitted)
        return f"{last.year:04d}-{last.month:02d}"
    return None


def start_notes(tcps: Sequence[tuple[str, Path | None, str | None]], start: str, warmup_years: float) -> list[str]:
    """One line for each TCP whose run starts later than its census (its people are aged to the start as
    if none had left, and those who came since are missing) or from an empty hospital (no census and no
    warm-up: the first years fill the beds). ``tcps`` is (name, census file or None, its month or None)."""
    notes = []
    for name, path, month in tcps:
        if path is None:
            if warmup_years <= 0:
                notes.append(
                    f"{name} starts from an empty hospital at {start} (no census and run.warmup_years=0): "
                    "inpatients are too few until admissions fill the beds; give tcp.census or run.warmup_years"
                )
        elif month is not None and _months_between(month, start) > 1:
            notes.append(
                f"{name}'s census ({path.name}) is of {month} but the run starts at {start}: its people are "
                f"taken as still in hospital {_months_between(month, start)} months later and nobody admitted "
                "since is there; give a census of the start month, or start the run after the census month"
            )
    return notes


def _months_between(first: str, second: str) -> int:
    """Months from ``first`` to ``second`` (``YYYY-MM`` each)."""
    y1, m1 = (int(x) for x in first.split("-"))
    y2, m2 = (int(x) for x in second.split("-"))
    return (y2 - y1) * 12 + (m2 - m1)


def rerun_command(overrides: Sequence[str], config_dirs: Sequence[str | Path] = (), program: str = "sim") -> str:
    """The command line that runs the same config again (into a new directory), pasteable into a shell:
    each custom config directory as ``--config-dir`` (absolute), each override quoted for the shell."""
    parts = ["python", "-m", program]
    for d in config_dirs:
        parts += ["--config-dir", str(Path(d).resolve())]
    parts += list(overrides)
    return " ".join(shlex.quote(p) for p in parts)


def as_yaml(node: Any) -> str:
    """A config node as resolved YAML (the file a run keeps of a TCP it ran)."""
    return OmegaConf.to_yaml(node, resolve=True)
