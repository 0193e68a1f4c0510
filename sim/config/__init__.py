"""Configuration: the schema (dataclasses checked by Hydra), the checks and builders, and the validated
system and run specs.

``build(cfg)`` gives both specs, ``build_spec(cfg)`` the system alone; a user's mistake raises
``ConfigError`` naming its key. The modules by job: ``schema`` (the keys), ``checks`` (values),
``census`` (the start census CSV), ``scenario`` (changes to every TCP), ``build`` (the specs),
``spec`` (what the engines read), ``errors`` (how a mistake is reported), ``parameters`` (a calibration's
posterior file, and the spec each replication of a run with ``run.parameters`` runs).
"""

from sim.config.build import build, build_spec
from sim.config.errors import ConfigError
from sim.config.provenance import register_resolver
from sim.config.scenario import scenario_changes
from sim.config.schema import COMMISSIONER_OF_UNIT, RAG, UNIT_TYPES, Config
from sim.config.spec import Built, RunSpec, SystemSpec
from sim.config.store import CONFIG_DIR, register

register()
register_resolver()

__all__ = [
    "COMMISSIONER_OF_UNIT",
    "CONFIG_DIR",
    "RAG",
    "UNIT_TYPES",
    "Built",
    "Config",
    "ConfigError",
    "RunSpec",
    "SystemSpec",
    "build",
    "build_spec",
    "scenario_changes",
]
