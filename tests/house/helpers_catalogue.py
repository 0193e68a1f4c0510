"""Specs of a few shipped configs, built once each, for the house tests."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from sim.api import compose
from sim.config import SystemSpec, build_spec


def _spec(*overrides: str) -> Callable[[], SystemSpec]:
    @cache
    def make() -> SystemSpec:
        return build_spec(compose(list(overrides)))

    return make


specs: dict[str, Callable[[], SystemSpec]] = {
    "bhr": _spec("tcp=bhr"),
    "hub": _spec("system=south_east_hub"),
    "hub_pooled_budget": _spec("system=south_east_hub", "scenario=pooled_budget"),
    "hub_no_tcp_metrics": _spec("system=south_east_hub", "run.tcp_metrics=false"),
}
