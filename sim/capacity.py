"""Capacity curves: how out-of-area placements, occupancy, delayed bed-days and cost change with the
number of in-area beds of one unit type, and the fewest beds that meet a target.

Each bed number is one run of the same config with the unit's in-area schedule *replaced* by that
constant number of beds from the first month of the run (the planned bed trajectory is not used), and
the same seed: draws are addressed by (seed, replication, stream, entity, occurrence), so every bed number
sees the same crises and the same stays (common random numbers) and differences between bed numbers are
differences of beds, not of luck. Results are over the reported months (a warm-up is left out).

Per bed number, across replications:

* out-of-area share: all out-of-area placements over all admissions of the TCP (every unit type), a ratio
  of sums with a delta-method standard error (``sim.results.intervals.ratio_estimate``); also the share
  placed out of area for want of an in-area bed: because the beds were full (``out_of_area_full_beds``)
  or because the pool had none at all (``out_of_area_no_local_unit``, as at 0 beds), both of which more
  beds would avoid. Placements for needs no
  local unit meets (``tcp.out_of_area_need``) and the other unit types' placements do not fall with the
  swept unit's beds: they set a floor under the share;
* occupancy of the swept pool (time-weighted: bed-days occupied over bed-days open);
* delayed bed-days and total cost a year (all payers, pounds; every open bed is paid its fixed share of
  its price whether or not it is occupied, ``costs.bed_fixed_share``, so the cost rises with beds);

each with a 95% confidence interval (Student t across replications). The fewest beds is the smallest
bed number whose one-sided upper confidence bound on the share, at the stated confidence, is at or
under the target.

    from sim.api import compose
    from sim.capacity import capacity_curve, fewest_beds
    table = capacity_curve(compose(["run.replications=500"]), range(9, 21), unit="atu")
    fewest_beds(table, target=0.05, confidence=0.9)

``experiments/atu_capacity.py`` is the batch job (a Hydra app) around these functions; ``capacity_chart``
hands the table to ``sim.plots.capacity``, which draws it.
"""

from __future__ import annotations

import copy
import logging
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf, open_dict

from sim import api
from sim.config import UNIT_TYPES, Config, ConfigError, SystemSpec, build, build_spec
from sim.config.spec import IN_AREA
from sim.config.store import merged
from sim.pathway import UNIT_NAMES
from sim.results.intervals import mean_ci, ratio_estimate, t_interval, upper_bound

#: Shares the fewest-beds rule can be applied to: measure -> column of the capacity table.
MEASURES = {
    "unit": "ooa_unit_share",  # the swept unit type's out-of-area placements over its admissions
    "unit_full_beds": "ooa_unit_full_beds_share",  # of those, out of area because no bed was free (or none open)
    "all": "ooa_share",  # all out-of-area placements over admissions (every unit type)
    "full_beds": "ooa_full_beds_share",  # out of area because no in-area bed was free (or none open), over admissions
}

LARGE = 1_000_000  # beds that never fill: used only to read the start census
MAX_POINTS = 25  # bed numbers a derived step keeps the range to (each is a whole run)


# ------------------------------------------------------------------------------------------- schema


@dataclass
class CapacityConfig:
    """The ``capacity`` section of configs/atu_capacity.yaml (defaults and their sources are there)."""

    unit: str = "atu"  # unit type whose in-area beds are swept
    min_beds: int | None = None  # None: half the fewest in-area beds the TCP plans for the unit
    max_beds: int | None = None  # None: twice the most it plans (or its start census, if more)
    step: int | None = None  # None: 1, or the smallest step giving at most MAX_POINTS bed numbers
    beds: list[int] | None = None  # an explicit list instead of min_beds..max_beds
    measure: str = "unit"  # which share the target applies to: unit, unit_full_beds, all, full_beds
    target_share: float = 0.05
    confidence: float = 0.9  # one-sided, for the upper bound on the share


@dataclass
class CapacityAppConfig(Config):
    """The simulator's config plus the ``capacity`` section."""

    capacity: CapacityConfig = field(default_factory=CapacityConfig)


def register_schema() -> None:
    """Make the capacity app's schema the root schema (``base_config``) that configs/config.yaml names
    first, so configs/atu_capacity.yaml (``defaults: [config, _self_]``) may add its ``capacity`` section
    and every ``capacity.*`` override is type-checked. Call it only in the app's own process: configs
    composed afterwards in the same process carry the extra section."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name="base_config", node=CapacityAppConfig)


def simulator_config(cfg: DictConfig) -> DictConfig:
    """``cfg`` without anything but the simulator's own sections (drops ``capacity``)."""
    keys = [k for k in Config.__dataclass_fields__ if k in cfg]
    return merged(OmegaConf.structured(Config), OmegaConf.masked_copy(cfg, keys))


# ------------------------------------------------------------------------------------------- beds


def with_beds(cfg: DictConfig, unit: str, beds: int) -> DictConfig:
    """A copy of ``cfg`` whose TCP has ``beds`` in-area beds of ``unit`` throughout: the unit's planned
    schedule is replaced by one step at its first date (or ``run.start`` if it has none)."""
    _check_single_tcp(cfg)
    if unit not in cfg.tcp.beds:
        have = ", ".join(cfg.tcp.beds) or "none"
        raise ConfigError("capacity.unit", f"'{unit}' is not one of {cfg.tcp.name}'s bed pools (tcp.beds: {have})")
    out = copy.deepcopy(cfg)
    schedule = out.tcp.beds[unit].schedule
    first = schedule[0].date if len(schedule) else out.run.start
    with open_dict(out):
        OmegaConf.update(out, f"tcp.beds.{unit}.schedule", [{"date": str(first), "beds": int(beds)}], merge=True)
    return out


def _check_single_tcp(cfg: DictConfig) -> None:
    if cfg.tcp is None:
        names = ", ".join(cfg.system.tcps) if cfg.system.tcps else "none"
        raise ConfigError(
            "system",
            f"the capacity sweep takes one TCP; system '{cfg.system.name}' has several ({names}): "
            "choose one with tcp=<name> system=single",
        )


def _pool_name(cfg: DictConfig, unit: str) -> str:
    return f"{cfg.tcp.name}_{unit}"


def census_floor(cfg: DictConfig, unit: str) -> int:
    """The in-area inpatients of ``unit`` in the TCP's start census (0 for an empty start). A run with
    fewer beds starts the surplus out of area (``sim.config.build.fit_census``)."""
    spec = _spec(with_beds(simulator_config(cfg), unit, LARGE), unit)
    pool = next(p for p in spec.pools if p.name == _pool_name(cfg, unit))
    return sum(1 for p in spec.census if p.unit == pool.unit and p.area == IN_AREA)


def planned_beds(cfg: DictConfig, unit: str) -> list[int]:
    """The in-area beds of ``unit`` the TCP's schedule plans, step by step (empty without a schedule)."""
    _check_single_tcp(cfg)
    if unit not in cfg.tcp.beds:
        return []
    return [int(step.beds) for step in cfg.tcp.beds[unit].schedule]


def default_range(cfg: DictConfig, unit: str) -> tuple[int, int]:
    """The bed numbers a sweep tries when not told: from half the fewest beds the chosen TCP plans for the
    unit (rounded down) to twice the most it plans or its start census holds in area, whichever is more,
    so the range brackets the TCP's own plan and its census whatever its size (BHR 3..20, Kent and Medway
    11..72). Raises ConfigError if the TCP has neither beds nor census inpatients of the unit."""
    planned = planned_beds(cfg, unit)
    census = census_floor(cfg, unit)
    high = 2 * max([*planned, census])
    if high == 0:
        raise ConfigError(
            "capacity.max_beds",
            f"{cfg.tcp.name} plans no {unit} beds and its census has none in area: give the largest bed number",
        )
    return (min(planned) // 2 if planned else 0), high


def bed_range_step(low: int, high: int) -> int:
    """A step of 1, or the smallest that keeps ``low``..``high`` to MAX_POINTS bed numbers."""
    return max(1, -(-(high - low) // (MAX_POINTS - 1)))


def census_out_of_area(census: int, beds: int) -> int:
    """How many of the unit's ``census`` in-area inpatients start out of area with ``beds`` beds."""
    return max(0, census - beds)


def _spec(cfg: DictConfig, unit: str) -> SystemSpec:
    spec = build_spec(cfg)
    if not any(p.name == _pool_name(cfg, unit) for p in spec.pools):
        raise ConfigError(
            "capacity.unit",
            f"{cfg.tcp.name}'s {unit} beds are in a shared pool (system.shared_pools): "
            "the sweep changes the TCP's own pool",
        )
    return spec


def bed_numbers(cfg: DictConfig) -> list[int]:
    """The bed numbers ``cfg.capacity`` asks for, checked: an explicit list (``capacity.beds``) or
    ``min_beds`` to ``max_beds`` by ``step``; null bounds are derived from the chosen TCP's beds
    (``default_range``), a null step keeps the range to MAX_POINTS bed numbers. Bed numbers below the
    start census's in-area inpatients are allowed (the surplus starts out of area). Raises ConfigError
    naming the key."""
    c = cfg.capacity
    if c.unit not in UNIT_TYPES:
        raise ConfigError("capacity.unit", f"unknown unit type '{c.unit}' (available: {', '.join(UNIT_TYPES)})")
    if c.beds is not None:
        beds = [int(b) for b in c.beds]
        if not beds:
            raise ConfigError("capacity.beds", "give at least one bed number (or null to use min_beds..max_beds)")
        if min(beds) < 0:
            raise ConfigError("capacity.beds", f"{min(beds)} must be at least 0")
        if len(set(beds)) != len(beds):
            raise ConfigError("capacity.beds", f"{list(beds)} lists a bed number twice")
        return sorted(beds)
    if c.step is not None and c.step < 1:
        raise ConfigError("capacity.step", f"{c.step} must be at least 1")
    derived = default_range(cfg, c.unit) if c.min_beds is None or c.max_beds is None else None
    low = derived[0] if c.min_beds is None and derived else int(c.min_beds)
    high = derived[1] if c.max_beds is None and derived else int(c.max_beds)
    if low < 0:
        raise ConfigError("capacity.min_beds", f"{low} must be at least 0")
    if high < low:
        why = f" (half the fewest {c.unit} beds {cfg.tcp.name} plans)" if c.min_beds is None else ""
        raise ConfigError("capacity.max_beds", f"{high} is below capacity.min_beds {low}{why}")
    step = int(c.step) if c.step is not None else bed_range_step(low, high)
    return list(range(low, high + 1, step))


def check_capacity(cfg: DictConfig) -> list[int]:
    """Check the ``capacity`` section and every bed number's config before anything runs; return the
    bed numbers. A bed number the run cannot take is named with its key."""
    c = cfg.capacity
    if c.measure not in MEASURES:
        raise ConfigError("capacity.measure", f"unknown measure '{c.measure}' (available: {', '.join(MEASURES)})")
    _check_share(c.target_share)
    _check_confidence(c.confidence)
    sim_cfg = simulator_config(cfg)
    _check_single_tcp(sim_cfg)
    settings = build(sim_cfg).run  # the config as given first, so its own mistakes keep their keys
    if settings.resume:
        raise ConfigError("run.resume", "a capacity sweep cannot resume a run; leave run.resume unset")
    if settings.replications is None:
        raise ConfigError("run.replications", "auto: every bed number runs the same replications; give a number")
    if settings.replications < 2:
        raise ConfigError(
            "run.replications", f"{settings.replications} is too few: confidence intervals need at least 2"
        )
    beds = bed_numbers(cfg)
    key = "capacity.beds" if c.beds is not None else "capacity.min_beds"
    for b in beds:
        try:
            _spec(with_beds(sim_cfg, c.unit, b), c.unit)
        except ConfigError as e:
            if e.key.startswith("capacity.") or e.key == "system":
                raise
            raise ConfigError(key, f"{b} {c.unit} beds cannot run: {e}") from None
    return beds


def _check_share(value: float) -> None:
    if not (0.0 < float(value) < 1.0):
        raise ConfigError("capacity.target_share", f"{value} must be above 0 and below 1")


def _check_confidence(value: float) -> None:
    if not (0.5 <= float(value) < 1.0):
        raise ConfigError("capacity.confidence", f"{value} must be at least 0.5 and below 1 (a one-sided confidence)")


# ------------------------------------------------------------------------------------------- curve


def curve_point(result: api.RunResult, unit: str, confidence: float) -> dict[str, float]:
    """One row of the capacity table from one run: shares with standard errors, 95% intervals and the
    one-sided upper bound; occupancy of the unit's pool; delayed bed-days and cost a year."""
    spec = result.spec
    cal = spec.calendar
    m = result.monthly[result.monthly["month"] > cal.start_label]
    per_rep = m.groupby("replication")
    sums = per_rep[
        [
            "admissions",
            "out_of_area_placements",
            "out_of_area_full_beds",
            "delayed_bed_days",
            "cost_total",
            f"admissions_{unit}",
            f"out_of_area_placements_{unit}",
            f"out_of_area_full_beds_{unit}",
            "out_of_area_no_local_unit",
            f"out_of_area_no_local_unit_{unit}",
        ]
    ].sum()
    # for want of an in-area bed: full beds, or none at all (no local unit: 0 beds is a want of beds too)
    sums["want_of_bed"] = sums["out_of_area_full_beds"] + sums["out_of_area_no_local_unit"]
    sums["unit_want_of_bed"] = sums[f"out_of_area_full_beds_{unit}"] + sums[f"out_of_area_no_local_unit_{unit}"]
    n = len(sums)
    years = cal.n_months / 12.0
    row: dict[str, float] = {"replications": n, "admissions_per_year": float(sums["admissions"].mean() / years)}
    for name, column, base in (
        ("ooa_unit_share", f"out_of_area_placements_{unit}", f"admissions_{unit}"),
        ("ooa_unit_full_beds_share", "unit_want_of_bed", f"admissions_{unit}"),
        ("ooa_share", "out_of_area_placements", "admissions"),
        ("ooa_full_beds_share", "want_of_bed", "admissions"),
    ):
        if sums[base].sum() > 0:
            share, se = ratio_estimate(sums[column].to_numpy(), sums[base].to_numpy())
        else:  # no admissions at all: no share to speak of
            share, se = float("nan"), float("nan")
        row[name] = share
        row[f"{name}_se"] = se
        low, high = t_interval(share, se, n)
        row[f"{name}_lo95"] = float(np.clip(low, 0.0, 1.0))  # NaN stays NaN
        row[f"{name}_hi95"] = float(np.clip(high, 0.0, 1.0))
        row[f"{name}_ucb"] = upper_bound(share, se, n, confidence)
    # occupancy of the swept pool, time-weighted: monthly occupancy weighted by open bed-days (beds at
    # the month end x days; exact here, as a constant schedule never closes a bed)
    pool = f"{spec.tcps[0].name}_{unit}"
    days = dict(zip(cal.labels, np.diff(cal.boundaries)))
    weight = m["month"].map(days) * m[f"beds_{pool}"]
    occ = m[f"occupancy_{pool}"]
    ok = occ.notna() & (weight > 0)
    occupied = (occ * weight).where(ok, 0.0).groupby(m["replication"]).sum()
    open_days = weight.where(ok, 0.0).groupby(m["replication"]).sum()
    per_rep_occ = (occupied / open_days.where(open_days > 0)).reindex(sums.index)
    for name, values in (
        ("occupancy", per_rep_occ),
        ("delayed_bed_days_per_year", sums["delayed_bed_days"] / years),
        ("cost_per_year", sums["cost_total"] / years),
    ):
        row[name], row[f"{name}_lo95"], row[f"{name}_hi95"] = mean_ci(values)[:3]
    return row


def capacity_curve(
    cfg: DictConfig,
    beds: Iterable[int],
    *,
    unit: str = "atu",
    confidence: float = 0.9,
    target: float | None = None,
    measure: str = "unit",
    on_point: Callable[[int, dict, float], None] | None = None,
) -> pd.DataFrame:
    """Run ``cfg`` once per bed number (that many in-area beds of ``unit`` throughout, same seed) and
    return one row a bed number: ``beds``, ``replications``, ``admissions_per_year``, ``ooa_share`` and
    ``ooa_full_beds_share`` (each with ``_se``, ``_lo95``, ``_hi95`` and ``_ucb``, the one-sided upper
    bound at ``confidence``), ``occupancy``, ``delayed_bed_days_per_year`` and ``cost_per_year`` (each
    with ``_lo95``, ``_hi95``), ``census_out_of_area`` (the start census's in-area inpatients of the unit
    beyond the beds, who start out of area) and ``note`` (the build's notes, e.g. saying so); with
    ``target``, ``meets_target`` (the ``measure`` share's upper bound at or under it).
    ``on_point(beds, row, seconds)`` is called as each bed number finishes."""
    _check_confidence(confidence)
    if measure not in MEASURES:
        raise ConfigError("capacity.measure", f"unknown measure '{measure}' (available: {', '.join(MEASURES)})")
    cfg = simulator_config(cfg)
    census = census_floor(cfg, unit)
    rows = []
    for b in beds:
        t0 = time.perf_counter()
        one = with_beds(cfg, unit, int(b))
        _spec(one, unit)
        result = _quiet_run(one)
        row = {
            "beds": int(b),
            **curve_point(result, unit, confidence),
            "census_out_of_area": census_out_of_area(census, int(b)),
            "note": "; ".join(result.spec.notes),  # what the run's build changed (fit_census), "" if nothing
        }
        rows.append(row)
        if on_point is not None:
            on_point(int(b), row, time.perf_counter() - t0)
    table = pd.DataFrame(rows)
    if target is not None and len(table):
        table["meets_target"] = table[f"{MEASURES[measure]}_ucb"] <= target
    return table


def _quiet_run(cfg: DictConfig) -> api.RunResult:
    """``api.run`` without its informational lines (a sweep reports each bed number itself); its notes
    and warnings still show."""
    logger = logging.getLogger(api.__name__)
    level = logger.level
    logger.setLevel(max(logging.WARNING, level))
    try:
        return api.run(cfg, progress=False)
    finally:
        logger.setLevel(level)


# ------------------------------------------------------------------------------------------- answer


class TargetNotReached(ValueError):
    """No bed number of the table keeps the share's upper bound at or under the target."""


def fewest_beds(table: pd.DataFrame, target: float, confidence: float, measure: str = "unit") -> int:
    """The smallest bed number whose one-sided upper confidence bound (at ``confidence``) on the
    ``measure`` share is at or under ``target``. Needs columns ``beds``, ``replications``, the share and
    its ``_se``. Raises TargetNotReached (saying the lowest bound reached, and where) if none is; warns
    if a larger bed number in the table misses the target again (noise: run more replications)."""
    _check_share(target)
    _check_confidence(confidence)
    if measure not in MEASURES:
        raise ConfigError("capacity.measure", f"unknown measure '{measure}' (available: {', '.join(MEASURES)})")
    col = MEASURES[measure]
    if table.empty:
        raise TargetNotReached("the capacity table is empty")
    t = table.sort_values("beds")
    ucb = np.array(
        [upper_bound(s, se, int(n), confidence) for s, se, n in zip(t[col], t[f"{col}_se"], t["replications"])]
    )
    ok = ucb <= target  # NaN (no admissions, one replication) never meets
    beds = t["beds"].to_numpy()
    if not ok.any():
        if np.isnan(ucb).all():
            raise TargetNotReached(f"no bed number in {beds.min()}..{beds.max()} has an upper bound on the {col}")
        best = int(np.nanargmin(ucb))
        raise TargetNotReached(
            f"no bed number in {beds.min()}..{beds.max()} keeps the {col} under {target:g} with "
            f"{confidence:.0%} confidence: the lowest upper bound is {ucb[best]:.4f} at {beds[best]} beds"
        )
    first = int(np.argmax(ok))
    later_misses = beds[first + 1 :][~ok[first + 1 :]]
    if len(later_misses):
        warnings.warn(
            f"{beds[first]} beds meet the target but {', '.join(map(str, later_misses))} do not: the curve is "
            "noisy at this many replications; run more (run.replications) before relying on the answer",
            stacklevel=2,
        )
    return int(beds[first])


def out_of_area_split(table: pd.DataFrame, measure: str = "unit") -> tuple[int, float, float]:
    """Why admissions still go out of area at the table's largest bed number, for the scope of
    ``measure`` (the swept unit's admissions, or every unit type's): ``(beds, for needs, for want of a
    bed)``, the share placed out of area for needs no local unit meets (``tcp.out_of_area_need``, and for
    every unit type the other units' placements: beds of this unit do not lower it) and the share placed
    there for want of an in-area bed. What a target no bed number reaches is told with."""
    last = table.sort_values("beds").iloc[-1]
    share, full = (
        ("ooa_unit_share", "ooa_unit_full_beds_share")
        if measure.startswith("unit")
        else ("ooa_share", "ooa_full_beds_share")
    )
    return int(last["beds"]), float(last[share] - last[full]), float(last[full])


# ------------------------------------------------------------------------------------------- chart


def capacity_chart(
    table: pd.DataFrame,
    *,
    unit: str,
    title: str,
    source: str,
    target: float | None = None,
    confidence: float = 0.9,
    measure: str = "unit",
    fewest: int | None = None,
    path: Path | None = None,
) -> Any:
    """The capacity curve of ``table`` (``sim.plots.capacity.capacity_chart``) for ``unit`` and the share
    ``measure`` names, written to ``path`` if given; matplotlib loads only when a chart is drawn."""
    from sim.plots.capacity import capacity_chart as draw

    if measure not in MEASURES:
        raise ConfigError("capacity.measure", f"unknown measure '{measure}' (available: {', '.join(MEASURES)})")
    return draw(
        table,
        label=UNIT_NAMES.get(unit, unit),
        title=title,
        source=source,
        share=MEASURES[measure],
        target=target,
        confidence=confidence,
        fewest=fewest,
        path=path,
    )
