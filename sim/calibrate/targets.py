"""Targets of a calibration: the observed figures it is fitted to (and those it holds out), each with the
variance of its observation model, and the same figures computed from simulated replications.

A figure's distance from the model is judged against three variances besides the model's own noise: the
publication's rounding (a figure rounded to the nearest r is anywhere within r/2: variance r^2/12), the
revision of its basis (``observation.revision``: an extra sd, a share of the figure, for a series revised
since) and the model's discrepancy (``observation.discrepancy``: an sd, a share of the figure, at least
``observation.floor``, in people, or a hundredth of it for a share).
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.calibrate.settings import Calibration, ObservationModel
from sim.config import ConfigError
from sim.config.spec import SystemSpec
from sim.metrics import check_metric
from sim.observed import Observation

#: What a target is for: fitted to, or held out of the fit and scored.
TRAIN, HOLDOUT = "train", "held out"


@dataclass(frozen=True)
class Target:
    """One observed figure the calibration uses: ``index`` is its position in the calibration's list."""

    observation: Observation
    role: str
    variance: float  # of the observation and the model's discrepancy (not of the model's noise)

    @property
    def label(self) -> str:
        return self.observation.label

    @property
    def value(self) -> float:
        return self.observation.value

    @property
    def bounds(self) -> tuple[float, float]:
        """The figure's rounding interval (a figure published to the nearest r is within r/2 of it)."""
        half = self.observation.rounding / 2
        return self.value - half, self.value + half


def observation_variance(o: Observation, model: ObservationModel) -> float:
    """Variance of a published figure about what the model would give, besides the model's noise."""
    share = bool(o.denominator)
    floor = model.floor / 100 if share else model.floor
    discrepancy = max(model.discrepancy * abs(o.value), floor)
    revision = model.revision.get(o.basis, 0.0) * abs(o.value)
    return o.rounding**2 / 12 + revision**2 + discrepancy**2


@dataclass(frozen=True)
class Selection:
    """The observed file's rows as the calibration uses them: targets, and rows left out with why."""

    targets: tuple[Target, ...]
    skipped: tuple[tuple[str, str], ...]  # (label, reason)


def select_targets(cal: Calibration, observations: list[Observation], spec: SystemSpec) -> Selection:
    """The rows of ``observations`` inside the run's months (after its start month, whose figures describe
    the start state the config was built from, so are inputs), chosen by ``calibration.metrics``; rows
    after ``train_until`` are held out. Each metric must be one the system produces."""
    first, last = spec.calendar.labels[0], spec.calendar.labels[-1]
    targets, skipped = [], []
    for o in observations:
        name = "+".join(o.metric)
        if cal.metrics is not None and name not in cal.metrics:
            skipped.append((o.label, "not among calibration.metrics"))
            continue
        for metric in o.metric + o.denominator:
            check_metric("calibration.observed", metric, spec)
        if o.kind == "stock" and o.month == spec.calendar.start_label:
            skipped.append((o.label, "the start state the config was built from (an input)"))
            continue
        if o.start < first:
            skipped.append((o.label, f"before the run's first month {first}"))
            continue
        if o.month > last:
            skipped.append((o.label, f"after the run's last month {last}"))
            continue
        role = HOLDOUT if cal.train_until is not None and o.month > cal.train_until else TRAIN
        targets.append(Target(o, role, observation_variance(o, cal.observation)))
    if cal.metrics is not None:
        named = {"+".join(o.metric) for o in observations}
        missing = [m for m in cal.metrics if m not in named]
        if missing:
            raise ConfigError("calibration.metrics", f"{', '.join(missing)}: no row of {cal.observed.name} has it")
    if not any(t.role == TRAIN for t in targets):
        raise ConfigError(
            "calibration.observed",
            f"no row of {cal.observed.name} falls inside the run ({first} to {last})"
            + (f" up to train_until {cal.train_until}" if cal.train_until else "")
            + ": nothing to fit",
        )
    return Selection(tuple(targets), tuple(skipped))


def month_index(spec: SystemSpec) -> dict[str, int]:
    """Position of each month label in a metric's series (0: the start state's month)."""
    return {m: i for i, m in enumerate([spec.calendar.start_label, *spec.calendar.labels])}
