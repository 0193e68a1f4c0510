"""The scenario mini-language: ``scenario.*`` keys that change every TCP of a config at once.

A scenario file (configs/scenario/) asks "what if CTRs covered everyone?" or "what if housing came a year
earlier?" as a few keys; ``apply_scenario`` rewrites a copy of the config accordingly before the spec is
built, so the builders and the engines never know a scenario was applied. ``scenario_changes`` lists the
keys a scenario sets, for reports.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from datetime import date
from typing import Any

from omegaconf import DictConfig

from sim.config.checks import (
    add_months,
    integer,
    month_label,
    number,
    parse_month,
    probability,
    tcp_configs,
    unit_index,
)
from sim.config.errors import ConfigError
from sim.config.schema import Config, LosConfig, ScenarioConfig, StepConfig

#: The scenario keys that change every TCP (ScenarioConfig), each with its value that changes nothing.
SCENARIO_NEUTRAL: dict[str, Any] = {
    "ctr_coverage": None,
    "crisis_support_factor": 1.0,
    "housing_months_earlier": 0,
    "funding_delay_factor": 1.0,
    "provider_lead_factor": 1.0,
    "repatriation": None,
    "close_occupied": False,
    "package_cost_factor": 1.0,
    "schedule_months_earlier": 0,
    "bed_fixed_share": {},
}

#: Fields of a LOS component that are times (scaled by ``funding_delay_factor`` and
#: ``provider_lead_factor``); ``shape`` is not.
TIME_FIELDS = ("mean", "sd", "scale", "low", "high", "value")


def scenario_changes(scenario: ScenarioConfig | DictConfig) -> dict[str, Any]:
    """The scenario keys set to change every TCP (those not at their neutral value), for reports."""
    out = {}
    for key, neutral in SCENARIO_NEUTRAL.items():
        value = getattr(scenario, key, neutral)
        if value != neutral:
            out[key] = value
    return out


def smallest_difference(key: str, value: Any) -> tuple[float, bool]:
    """A smallest difference that matters, as (size, relative): a positive number in the metric's unit
    (``0.5``: half a person), or ``"N%"`` of the baseline's value (``"1%"``: relative, size 0.01)."""
    relative = isinstance(value, str) and value.strip().endswith("%")
    text = value.strip()[:-1] if relative else value
    if isinstance(text, bool):
        raise ConfigError(key, f"{value} is not a number or a percentage (e.g. 0.5 or 1%)")
    try:
        size = float(text)
    except (TypeError, ValueError):
        raise ConfigError(key, f"'{value}' is not a number or a percentage (e.g. 0.5 or 1%)") from None
    if not (math.isfinite(size) and size > 0):
        raise ConfigError(key, f"{value} must be above 0 (a difference smaller than this does not matter)")
    return (size / 100.0, True) if relative else (size, False)


def scenario_headline(scenario: ScenarioConfig | DictConfig) -> tuple[list[str], dict[str, tuple[float, bool]]]:
    """The scenario's headline metrics (``scenario.headline``) and smallest differences that matter
    (``scenario.smallest_difference``: metric -> (size, relative), ``smallest_difference``), checked for
    their form; the metric names are checked against the catalogue by the comparison, which knows it."""
    names = list(getattr(scenario, "headline", None) or [])
    for i, name in enumerate(names):
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"scenario.headline[{i}]", f"'{name}' is not a metric name")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError("scenario.headline", f"{', '.join(twice)} listed more than once")
    given = getattr(scenario, "smallest_difference", None) or {}
    smallest = {str(m): smallest_difference(f"scenario.smallest_difference.{m}", v) for m, v in given.items()}
    return [n.strip() for n in names], smallest


def scale_los(los: LosConfig, factor: float) -> LosConfig:
    """The same mixture with every time multiplied by ``factor``; 0 gives no components (no delay)."""
    if factor == 0:
        return LosConfig(components=[])
    components = []
    for component in los.components:
        changes: dict[str, Any] = {
            f: getattr(component, f) * factor for f in TIME_FIELDS if getattr(component, f) is not None
        }
        if component.x is not None:
            changes["x"] = [v * factor for v in component.x]
        components.append(dataclasses.replace(component, **changes))
    return LosConfig(components=components)


def earlier_schedule(key: str, steps: list[StepConfig], months: int, start: date) -> list[StepConfig]:
    """A bed schedule with every step after the first ``months`` earlier, not before the month after
    ``start`` (the start's beds must still hold the start census); steps that land on the same month keep
    the later one's beds (the state the schedule had reached)."""
    moved: dict[str, int] = {}
    for i, step in enumerate(steps):
        when = parse_month(f"{key}[{i}].date", step.date)
        if i > 0:
            when = max(add_months(when, -months), add_months(start, 1))
        moved[month_label(when)] = step.beds
    return [StepConfig(date=d, beds=b) for d, b in moved.items()]


def apply_scenario(cfg: Config) -> Config:
    """A copy of ``cfg`` with the scenario's changes (``scenario.ctr_coverage`` ...) made to every TCP,
    whether the TCP is ``tcp`` or one of ``system.tcps``; ``cfg`` itself if the scenario changes none.
    A wrong scenario value names its ``scenario.*`` key."""
    s = cfg.scenario
    scenario_headline(s)  # checked with the rest, though only a comparison reads it
    coverage = None if s.ctr_coverage is None else probability("scenario.ctr_coverage", s.ctr_coverage)
    support = number("scenario.crisis_support_factor", s.crisis_support_factor, minimum=0.0)
    housing_earlier = integer("scenario.housing_months_earlier", s.housing_months_earlier, minimum=0)
    funding = number("scenario.funding_delay_factor", s.funding_delay_factor, minimum=0.0)
    provider = number("scenario.provider_lead_factor", s.provider_lead_factor, minimum=0.0)
    packages = number("scenario.package_cost_factor", s.package_cost_factor, minimum=0.0)
    schedule_earlier = integer("scenario.schedule_months_earlier", s.schedule_months_earlier, minimum=0)
    fixed_share = {}
    for unit, share in s.bed_fixed_share.items():
        key = f"scenario.bed_fixed_share.{unit}"
        unit_index(key, unit)
        fixed_share[unit] = probability(key, share)
    if not scenario_changes(s):
        return cfg
    cfg = copy.deepcopy(cfg)
    start = parse_month("run.start", cfg.run.start)
    for i, shared in enumerate(cfg.system.shared_pools):
        if schedule_earlier:
            key = f"system.shared_pools[{i}].schedule"
            shared.schedule = earlier_schedule(key, shared.schedule, schedule_earlier, start)
        if shared.unit in fixed_share:
            shared.bed_fixed_share = fixed_share[shared.unit]
    for key, tcp in tcp_configs(cfg):
        if coverage is not None:
            tcp.ctr.coverage = coverage
        if support != 1.0:
            places = integer(f"{key}.crisis_support.places", tcp.crisis_support.places, minimum=0)
            tcp.crisis_support.places = int(math.floor(places * support + 0.5))
        if housing_earlier:
            for kind, housing in tcp.discharge.housing.items():
                for i, step in enumerate(housing.pipeline):
                    when = parse_month(f"{key}.discharge.housing.{kind}.pipeline[{i}].date", step.date)
                    step.date = month_label(max(add_months(when, -housing_earlier), start))
        if funding != 1.0:
            tcp.discharge.funding_delay = scale_los(tcp.discharge.funding_delay, funding)
        if provider != 1.0:
            tcp.discharge.provider_lead = scale_los(tcp.discharge.provider_lead, provider)
        if s.repatriation is not None:
            tcp.discharge.repatriation = bool(s.repatriation)
        if packages != 1.0:
            tcp.costs.package_per_year = {
                kind: number(f"{key}.costs.package_per_year.{kind}", v, minimum=0.0) * packages
                for kind, v in tcp.costs.package_per_year.items()
            }
        if schedule_earlier:
            for unit, pool in tcp.beds.items():
                pool.schedule = earlier_schedule(f"{key}.beds.{unit}.schedule", pool.schedule, schedule_earlier, start)
        if fixed_share:
            tcp.costs.bed_fixed_share = {**tcp.costs.bed_fixed_share, **fixed_share}
    return cfg
