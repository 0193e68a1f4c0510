"""A calibration as data: the ``calibration`` section of configs/calibration/<name>.yaml, checked key by
key into a ``Calibration`` (the priors, the targets and the method), each mistake one ``ConfigError``
naming its key (exit 2 at the command line).

The section (defaults and their sources are in each file; docs/calibration.md has the reference)::

    calibration:
      name: bhr
      observed: data/observed/bhr.csv      # a tidy observed file (sim/observed.py), relative to the project
      metrics: null                        # rows whose metric is one of these; null: every row in the run
      train_until: null                    # YYYY-MM: later rows are held out of the fit and scored
      observation: {discrepancy: 0.1, floor: 1.0, revision: {first published: 0.15}}
      parameters:                          # config key -> prior
        tcp.crisis.unregistered_rate: {prior: log_uniform, low: 5, high: 40}
      method: {waves: 4, points: 256, replications: 20, cutoff: 3.0, design: sobol, seed: 1, ...}
      resume: null                         # a calibration directory a stop left unfinished: complete it
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from sim.calibrate.priors import FAMILIES, Prior
from sim.config import ConfigError
from sim.config.checks import month_label, parse_month
from sim.config.store import CONFIG_DIR

#: The project's top folder: an observed file's relative path is read from here (or the current folder).
PROJECT_DIR = CONFIG_DIR.parent

SECTION_KEYS = ("name", "observed", "metrics", "train_until", "observation", "parameters", "method", "resume")
OBSERVATION_KEYS = ("discrepancy", "floor", "revision")
PRIOR_KEYS = ("prior", "low", "high", "a", "b")
DESIGNS = ("sobol", "lhs")
WEIGHTS = ("likelihood", "abc")
BACKENDS = ("processes", "dask")


@dataclass(frozen=True)
class ObservationModel:
    """How far a published figure may sit from what the model would give, besides the model's own noise:
    a model discrepancy (sd, a share of the figure), a floor under that sd (in the figure's units; shares
    use a hundredth of it), and an extra sd for each revised basis (a share of the figure)."""

    discrepancy: float = 0.1
    floor: float = 1.0
    revision: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Method:
    """History matching and the posterior: waves of ``points`` design points, ``replications`` each (the
    same replication numbers at every point: common random numbers), cut at implausibility ``cutoff``;
    then ``predictive`` draws of the posterior simulated for the fit and the fans (sim.calibrate.history)."""

    waves: int = 3
    points: tuple[int, ...] = (128,)  # a wave's design points (one a wave; the last repeats)
    replications: tuple[int, ...] = (10,)  # replications a point (one a wave; the last repeats)
    cutoff: float = 3.0
    design: str = "sobol"
    seed: int = 1
    rank: tuple[int, ...] = (2, 1)  # wave k keeps points whose rank[k]-th largest I is within the cut-off
    bandwidth: float = 1.0  # a later wave's kernels: the survivors' sd times this
    weights: str = "likelihood"  # the posterior: likelihood (synthetic Gaussian) or abc (every kept point alike)
    predictive: int = 200
    workers: int = 1
    backend: str = "processes"
    dask_address: str | None = None
    chunk_points: int = 8  # design points per task sent to a worker

    @staticmethod
    def per_wave(values: tuple[int, ...], k: int) -> int:
        """Wave k's value of a setting given one a wave (the last repeats for later waves)."""
        return values[min(k, len(values) - 1)]


@dataclass(frozen=True)
class Calibration:
    """A checked calibration: what to fit (``priors``), against which file and rows, and how."""

    name: str
    observed: Path
    metrics: tuple[str, ...] | None
    train_until: str | None
    observation: ObservationModel
    priors: tuple[Prior, ...]
    method: Method
    resume: str | None = None

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.priors]


def read_calibration(section: Any, model: DictConfig) -> Calibration:
    """The ``calibration`` section checked against the composed model config ``model`` (whose keys the
    parameters must name)."""
    if section is None:
        raise ConfigError("calibration", "missing: choose one, e.g. calibration=bhr (configs/calibration/)")
    s = _mapping("calibration", section)
    _known("calibration", s, SECTION_KEYS)
    name = str(s.get("name") or "")
    if not name or not all(c.isalnum() or c in "_-" for c in name):
        raise ConfigError("calibration.name", f"'{name}' must be letters, digits, _ or - (it names files)")
    observed = observed_path(s.get("observed"))
    metrics = s.get("metrics")
    if metrics is not None:
        if not isinstance(metrics, list) or not metrics:
            raise ConfigError("calibration.metrics", "a list of metric names as the observed file writes them, or null")
        metrics = tuple(str(m) for m in metrics)
    train_until = s.get("train_until")
    if train_until is not None:
        train_until = month_label(parse_month("calibration.train_until", str(train_until)))
    parameters = _mapping("calibration.parameters", s.get("parameters") or {})
    if not parameters:
        raise ConfigError("calibration.parameters", "name at least one config key to fit, with its prior")
    return Calibration(
        name=name,
        observed=observed,
        metrics=metrics,
        train_until=train_until,
        observation=_observation(s.get("observation") or {}),
        priors=tuple(_prior(key, spec, model) for key, spec in parameters.items()),
        method=_method(s.get("method") or {}),
        resume=str(s["resume"]) if s.get("resume") else None,
    )


def observed_path(value: Any) -> Path:
    """An observed file: absolute as given, else from the current folder if it is there, else from the project."""
    if not value:
        raise ConfigError("calibration.observed", "name the observed file, e.g. data/observed/bhr.csv")
    path = Path(str(value))
    if not path.is_absolute() and not path.exists():
        path = PROJECT_DIR / path
    if not path.is_file():
        raise ConfigError("calibration.observed", f"{value}: no such file")
    return path


def _mapping(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, DictConfig):
        value = OmegaConf.to_container(value, resolve=True)
    if not isinstance(value, dict):
        raise ConfigError(key, f"must be a mapping, not {type(value).__name__}")
    return {str(k): v for k, v in value.items()}


def _known(key: str, given: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for k in given:
        if k not in allowed:
            raise ConfigError(f"{key}.{k}", f"unknown key (known: {', '.join(allowed)})")


def _number(key: str, value: Any, *, low: float = -math.inf, high: float = math.inf, strict: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(key, f"{value!r} is not a number")
    if value < low or value > high or (strict and value == low):
        raise ConfigError(
            key,
            f"{value:g} must be {'above' if strict else 'at least'} {low:g}"
            + (f" and at most {high:g}" if high < math.inf else ""),
        )
    return float(value)


def _whole(key: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(key, f"{value!r} must be a whole number from {low} to {high}")
    return int(value)


def _observation(value: Any) -> ObservationModel:
    s = _mapping("calibration.observation", value)
    _known("calibration.observation", s, OBSERVATION_KEYS)
    revision = _mapping("calibration.observation.revision", s.get("revision") or {})
    base = ObservationModel()
    return ObservationModel(
        discrepancy=_number(
            "calibration.observation.discrepancy", s.get("discrepancy", base.discrepancy), low=0, high=10
        ),
        floor=_number("calibration.observation.floor", s.get("floor", base.floor), low=0),
        revision={k: _number(f"calibration.observation.revision.{k}", v, low=0, high=10) for k, v in revision.items()},
    )


def _method(value: Any) -> Method:
    s = _mapping("calibration.method", value)
    _known("calibration.method", s, tuple(Method.__dataclass_fields__))
    m, k = Method(), "calibration.method"
    design = str(s.get("design", m.design))
    if design not in DESIGNS:
        raise ConfigError(f"{k}.design", f"'{design}' must be one of {', '.join(DESIGNS)}")
    weights = str(s.get("weights", m.weights))
    if weights not in WEIGHTS:
        raise ConfigError(f"{k}.weights", f"'{weights}' must be one of {', '.join(WEIGHTS)}")
    backend = str(s.get("backend", m.backend))
    if backend not in BACKENDS:
        raise ConfigError(f"{k}.backend", f"'{backend}' must be one of {', '.join(BACKENDS)}")
    return replace(
        m,
        waves=_whole(f"{k}.waves", s.get("waves", m.waves), 1, 50),
        points=_wholes(f"{k}.points", s.get("points", list(m.points)), 2, 10**6),
        replications=_wholes(f"{k}.replications", s.get("replications", list(m.replications)), 2, 10**5),
        cutoff=_number(f"{k}.cutoff", s.get("cutoff", m.cutoff), low=0, strict=True),
        design=design,
        seed=_whole(f"{k}.seed", s.get("seed", m.seed), 0, 2**32 - 1),
        rank=_wholes(f"{k}.rank", s.get("rank", list(m.rank)), 1, 100),
        bandwidth=_number(f"{k}.bandwidth", s.get("bandwidth", m.bandwidth), low=0, high=10, strict=True),
        weights=weights,
        predictive=_whole(f"{k}.predictive", s.get("predictive", m.predictive), 10, 10**6),
        workers=_whole(f"{k}.workers", s.get("workers", m.workers), 1, 1024),
        backend=backend,
        dask_address=str(s["dask_address"]) if s.get("dask_address") else None,
        chunk_points=_whole(f"{k}.chunk_points", s.get("chunk_points", m.chunk_points), 1, 10**6),
    )


def _wholes(key: str, value: Any, low: int, high: int) -> tuple[int, ...]:
    """A whole number, or a list of them, one a wave (the last repeats for later waves)."""
    if isinstance(value, (list, tuple)) or OmegaConf.is_list(value):
        values = list(value)
    else:
        values = [value]
    if not values:
        raise ConfigError(key, f"a whole number from {low} to {high}, or a list of them, one a wave")
    return tuple(_whole(key, v, low, high) for v in values)


def _prior(key: str, value: Any, model: DictConfig) -> Prior:
    where = f"calibration.parameters.{key}"
    s = _mapping(where, value)
    _known(where, s, PRIOR_KEYS)
    current = OmegaConf.select(model, key, default=None, throw_on_missing=False)
    if current is None or isinstance(current, (bool, DictConfig)) or not isinstance(current, (int, float)):
        raise ConfigError(where, f"'{key}' is not a number in the model config (a config key such as tcp.ctr.avert)")
    family = str(s.get("prior", ""))
    if family not in FAMILIES:
        raise ConfigError(f"{where}.prior", f"'{family}' must be one of {', '.join(FAMILIES)}")
    low = _number(f"{where}.low", s.get("low"))
    high = _number(f"{where}.high", s.get("high"))
    if not low < high:
        raise ConfigError(where, f"bounds reversed or equal: low {low:g} must be below high {high:g}")
    if family == "log_uniform" and low <= 0:
        raise ConfigError(f"{where}.low", f"{low:g}: a log-uniform prior needs low above 0")
    a = _number(f"{where}.a", s.get("a", 1.0), low=0, strict=True)
    b = _number(f"{where}.b", s.get("b", 1.0), low=0, strict=True)
    return Prior(key, family, low, high, a, b, integer=isinstance(current, int))
