"""Runs with parameter uncertainty (``run.parameters``): a calibration's posterior file, and the spec each
replication runs.

The posterior file is Parquet: a column ``weight`` (non-negative; normalised on reading) and one float64
column per parameter, named by its full dotted config key (``tcp.crisis.unregistered_rate``,
``tcp.beds.atu.los.components.1.weight``: list indices as ``OmegaConf.update`` takes them). Every column
whose name has a ``.`` is a parameter; any other (``wave``, ``point``) is ignored. Its schema metadata
``b"tcp_sim"`` holds JSON ``{"kind": "posterior", "system": <SystemSpec.name>, "keys": [...],
"calibration": <name>}``. Rows are the draws, numbered from 0 in file order. ``write_posterior`` writes
one (the calibration's side), ``read_posterior`` reads and checks one.

Replication i runs draw j = the first index whose cumulative weight (w_0 + ... + w_j) / (w_0 + ... +
w_{n-1}) exceeds u_i, where u_i is u0 of the uniform pair at address (run seed, replication i,
``Stream.PARAMETERS``, entity 0, occurrence 0). The draw depends on the seed and the replication alone, not
on the scenario, the number of replications, the workers, the chunks or the backend: replication i of
two scenarios runs the same draw on the same random numbers (common random numbers), and the bands across
replications carry the posterior's uncertainty. ``Parameterised`` holds the mapping and builds each
draw's spec: the composed config with the draw's values set at its keys, through ``build_spec``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import pickle
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.config.build import build_spec
from sim.config.errors import ConfigError
from sim.config.spec import RunSpec, SystemSpec
from sim.sampling import Stream, uniform_pair

#: The schema metadata key of a posterior file, and the ``kind`` its JSON says.
METADATA_KEY = b"tcp_sim"
KIND = "posterior"
#: The column of draw weights.
WEIGHT = "weight"
#: Top-level config sections a posterior may not set: how a run is made, and what a scenario changes
#: (a draw that set a scenario's key would undo the scenario, and scenarios would no longer pair).
NOT_PARAMETERS = ("run", "scenario")


def parameter_columns(names: Sequence[str]) -> list[str]:
    """The parameter columns among a posterior's column names: those with a '.' (full config keys)."""
    return [n for n in names if "." in n]


@dataclass(frozen=True)
class Posterior:
    """A posterior file as read and checked: ``values[j, k]`` is draw j's value of ``keys[k]``."""

    file: str  # absolute path
    sha256: str  # of the file's bytes
    keys: tuple[str, ...]
    values: np.ndarray  # float64 [draws, keys], finite
    weights: np.ndarray  # float64 [draws], non-negative, summing to 1
    system: str | None  # the system the calibration ran (metadata), None without metadata
    calibration: str | None  # the calibration's name (metadata)

    @property
    def draws(self) -> int:
        return len(self.weights)

    def record(self) -> dict[str, Any]:
        """What a run's manifest says of the posterior it ran."""
        return {
            "file": self.file,
            "sha256": self.sha256,
            "draws": self.draws,
            "keys": list(self.keys),
            "system": self.system,
            "calibration": self.calibration,
        }


def write_posterior(path: str | Path, frame: pd.DataFrame, system: str, calibration: str) -> Path:
    """Write a posterior file: ``frame``'s ``weight`` and parameter columns (full dotted keys) as float64,
    any other columns as they are, and the metadata saying what it is. Raises ValueError for a frame
    ``read_posterior`` would refuse (no weight, no parameter, a bad weight or value)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    keys = parameter_columns([str(c) for c in frame.columns])
    problem = _problem(frame, keys)
    if problem:
        raise ValueError(f"not a posterior: {problem}")
    out = frame.copy()
    for column in (WEIGHT, *keys):
        out[column] = out[column].astype(np.float64)
    table = pa.Table.from_pandas(out, preserve_index=False)
    meta = {"kind": KIND, "system": str(system), "keys": keys, "calibration": str(calibration)}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), METADATA_KEY: json.dumps(meta).encode()})
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def read_posterior(path: str | Path, key: str = "run.parameters") -> Posterior:
    """Read and check a posterior file; a file that is not one raises ``ConfigError(key, ...)``, one line
    naming the file and what is wrong. Weights are normalised to sum to 1."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    try:
        data = path.read_bytes()
        table = pq.read_table(pa.BufferReader(data))
    except OSError as e:
        raise ConfigError(key, f"{path} cannot be read ({e.strerror or e})") from None
    except pa.ArrowException as e:
        reason = " ".join(str(e).split())
        raise ConfigError(key, f"{path} is not a Parquet file ({reason})") from None
    meta = _metadata(path, key, table.schema.metadata or {})
    names = [str(n) for n in table.column_names]
    keys = parameter_columns(names)
    if meta is not None and meta.get("keys") is not None and list(meta["keys"]) != keys:
        raise ConfigError(
            key,
            f"{path}: its metadata lists the keys {', '.join(map(str, meta['keys'])) or 'none'} but its "
            f"parameter columns are {', '.join(keys) or 'none'}",
        )
    numeric = {}
    for name in (WEIGHT, *keys):
        if name not in names:
            continue
        field = table.schema.field(name)
        if not (pa.types.is_floating(field.type) or pa.types.is_integer(field.type)):
            what = "text" if pa.types.is_string(field.type) or pa.types.is_large_string(field.type) else field.type
            raise ConfigError(key, f"{path}: column {name} holds {what}, not numbers")
        numeric[name] = table.column(name).cast(pa.float64()).to_numpy()
    problem = _problem(pd.DataFrame(numeric), keys)
    if problem:
        raise ConfigError(key, f"{path}: {problem}")
    weights = numeric[WEIGHT]
    values = np.column_stack([numeric[k] for k in keys]).astype(np.float64)
    return Posterior(
        file=str(path.resolve()),
        sha256=hashlib.sha256(data).hexdigest(),
        keys=tuple(keys),
        values=values,
        weights=weights / weights.sum(),
        system=None if meta is None or meta.get("system") is None else str(meta["system"]),
        calibration=None if meta is None or meta.get("calibration") is None else str(meta["calibration"]),
    )


def _metadata(path: Path, key: str, metadata: dict[bytes, bytes]) -> dict[str, Any] | None:
    """The file's ``tcp_sim`` metadata, checked to say it is a posterior; None if it has none."""
    raw = metadata.get(METADATA_KEY)
    if raw is None:
        return None
    try:
        meta = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ConfigError(key, f"{path}: its tcp_sim metadata is not JSON") from None
    if not isinstance(meta, dict):
        raise ConfigError(key, f"{path}: its tcp_sim metadata is not a JSON object")
    if meta.get("kind") != KIND:
        raise ConfigError(key, f"{path} is not a posterior (its tcp_sim metadata says kind {meta.get('kind')!r})")
    return meta


def _problem(frame: pd.DataFrame, keys: Sequence[str]) -> str | None:
    """What makes ``frame`` (its weight and parameter columns) not a posterior, or None."""
    if WEIGHT not in frame.columns:
        return f"it has no {WEIGHT} column"
    if not keys:
        return "it has no parameter columns (full config keys such as tcp.crisis.unregistered_rate)"
    if len(frame) == 0:
        return "it has no draws (rows)"
    weights = pd.to_numeric(frame[WEIGHT], errors="coerce").to_numpy(dtype=np.float64)
    for j, w in enumerate(weights):
        if not math.isfinite(w) or w < 0:
            return f"the weight of draw {j} is {frame[WEIGHT].iloc[j]}: weights must be non-negative numbers"
    if not weights.sum() > 0:
        return "every weight is 0"
    for k in keys:
        column = pd.to_numeric(frame[k], errors="coerce").to_numpy(dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(column))
        if len(bad):
            return f"draw {bad[0]} has no finite value of {k} ({frame[k].iloc[bad[0]]})"
    return None


def set_values(cfg: DictConfig, keys: Sequence[str], values: Sequence[float]) -> DictConfig:
    """Set ``values`` at the config ``keys`` of ``cfg`` (in place; returned): a key that holds a whole
    number (beds, a year) takes a whole value as an int. What OmegaConf refuses is a ConfigError naming
    the key. A posterior's draw (``Parameterised``) and a calibration's design point both go through here."""
    for key, value in zip(keys, values):
        old = OmegaConf.select(cfg, key)
        new: float | int = float(value)
        if isinstance(old, int) and not isinstance(old, bool) and float(value).is_integer():
            new = int(value)
        try:
            OmegaConf.update(cfg, key, new, merge=True)
        except OmegaConfBaseException as e:
            raise ConfigError(key, str(getattr(e, "msg", None) or e).strip().splitlines()[0]) from None
    return cfg


class Parameterised:
    """The spec of each replication of a run with ``run.parameters``: replication i runs draw
    ``draw_of(i)`` of the posterior, whose spec (``spec_of``) is the composed config with that draw's
    values set at its keys, built by ``build_spec``. Picklable, so the runner sends it to worker processes
    and Dask; draws with the same values share one spec (``specs`` builds each once a call)."""

    def __init__(self, cfg: DictConfig, posterior: Posterior, seed: int) -> None:
        self.posterior = posterior
        self.seed = int(seed)
        base = copy.deepcopy(cfg)
        OmegaConf.resolve(base)  # nothing left to resolve in a worker (no Hydra there)
        self._cfg = pickle.dumps(base)  # unpickled afresh for each draw: a copy, faster than deepcopy
        totals = np.cumsum(posterior.weights)
        self._cumulative = totals / totals[-1]  # exactly 1 at the end, so every u in (0, 1) finds a draw
        _, inverse = np.unique(posterior.values, axis=0, return_inverse=True)
        self._row = np.asarray(inverse).reshape(-1)  # draws with the same values have the same row

    def draw_of(self, replication: int) -> int:
        """The draw replication ``replication`` runs (the mapping in the module's docstring)."""
        u, _ = uniform_pair(self.seed, int(replication), int(Stream.PARAMETERS), 0, 0)
        return int(np.searchsorted(self._cumulative, u, side="right"))

    def config_of(self, draw: int) -> DictConfig:
        """The composed config with draw ``draw``'s values set at the posterior's keys."""
        cfg = pickle.loads(self._cfg)
        try:
            return set_values(cfg, self.posterior.keys, self.posterior.values[draw])
        except ConfigError as e:
            raise ConfigError(e.key, f"{e.problem} ({self._where(draw)})") from None

    def spec_of(self, draw: int) -> SystemSpec:
        """The system the replications of draw ``draw`` simulate. A value the config's checks refuse raises
        their ``ConfigError`` (naming the key), saying which draw of which file it came from."""
        cfg = self.config_of(draw)
        try:
            return build_spec(cfg)
        except ConfigError as e:
            raise ConfigError(e.key, f"{e.problem} ({self._where(draw)})") from None

    def specs(self, replications: Sequence[int]) -> Iterator[tuple[SystemSpec, list[int]]]:
        """The replications grouped by the spec they run, each group's spec built once (lazily, in order of
        each group's first replication): what a chunk of replications runs."""
        groups: dict[int, list[int]] = {}
        first: dict[int, int] = {}
        for r in replications:
            draw = self.draw_of(r)
            row = int(self._row[draw])
            groups.setdefault(row, []).append(int(r))
            first.setdefault(row, draw)
        for row, members in groups.items():
            yield self.spec_of(first[row]), members

    def check(self) -> None:
        """Build the specs of the draws most likely to be refused, so a bad posterior stops the run before
        it starts: those holding each key's smallest and largest value, and replication 0's. A run builds
        every draw it uses, so any other draw the checks refuse stops the run when a chunk first builds it,
        with the same message (the chunks finished by then are kept)."""
        values = self.posterior.values
        probes = {self.draw_of(0), *(int(j) for j in (*values.argmin(axis=0), *values.argmax(axis=0)))}
        built: set[int] = set()
        for draw in sorted(probes):
            if int(self._row[draw]) not in built:
                built.add(int(self._row[draw]))
                self.spec_of(draw)

    def record(self) -> dict[str, Any]:
        """The manifest's ``parameters``: the file, its hash, its draws and keys."""
        return self.posterior.record()

    def _where(self, draw: int) -> str:
        return f"draw {draw} of run.parameters {self.posterior.file}"


def parameterise(cfg: DictConfig, spec: SystemSpec, settings: RunSpec) -> Parameterised | None:
    """A run's ``Parameterised``, with ``run.parameters`` checked against the run: the file (as
    ``read_posterior``), the system it was calibrated on, and each key (set in the composed config, a
    number there, not under run.* or scenario.*); then the draws ``Parameterised.check`` builds. None
    without ``run.parameters``. ``spec`` is the run's own system (no draw), for its name."""
    if settings.parameters is None:
        return None
    posterior = read_posterior(settings.parameters)
    file = posterior.file
    if posterior.system is not None and posterior.system != spec.name:
        raise ConfigError("run.parameters", f"{file} is a posterior of {posterior.system}, but this run is {spec.name}")
    for key in posterior.keys:
        if key.split(".", 1)[0] in NOT_PARAMETERS:
            raise ConfigError(
                "run.parameters",
                f"{file} sets {key}: a posterior sets what is simulated (tcp.*, system.*), not run.* or scenario.*",
            )
        try:
            value = OmegaConf.select(cfg, key, throw_on_missing=False)
        except OmegaConfBaseException:
            value = None
        if value is None:
            raise ConfigError("run.parameters", f"{file} sets {key}, which is not a key of this run's config")
        if isinstance(value, (DictConfig, ListConfig)):
            raise ConfigError("run.parameters", f"{file} sets {key}, which is a section of the config, not a value")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError("run.parameters", f"{file} sets {key}, which holds {value!r} here, not a number")
    parameterised = Parameterised(cfg, posterior, settings.seed)
    parameterised.check()
    return parameterised
