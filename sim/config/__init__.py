"""Configuration: the schema (dataclasses checked by Hydra), the checks and builders, and the validated
system spec.

``build_spec(cfg)`` gives the system the engines run; a user's mistake raises ``ConfigError`` naming its
key. The modules by job: ``schema`` (the keys), ``checks`` (values), ``census`` (the start census CSV),
``scenario`` (changes to every TCP), ``build`` (the spec), ``spec`` (what the engines read), ``errors``
(how a mistake is reported).
"""

from sim.config.build import build_spec
from sim.config.errors import ConfigError
from sim.config.scenario import scenario_changes
from sim.config.schema import COMMISSIONER_OF_UNIT, RAG, UNIT_TYPES, Config
from sim.config.spec import SystemSpec
from sim.config.store import CONFIG_DIR, register

register()

__all__ = [
    "COMMISSIONER_OF_UNIT",
    "CONFIG_DIR",
    "RAG",
    "UNIT_TYPES",
    "Config",
    "ConfigError",
    "SystemSpec",
    "build_spec",
    "scenario_changes",
]
