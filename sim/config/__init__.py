"""Configuration: the schema (dataclasses checked by Hydra), validation, and the validated system spec."""

from sim.config.schema import COMMISSIONER_OF_UNIT, RAG, UNIT_TYPES, Config
from sim.config.spec import SystemSpec
from sim.config.store import register
from sim.config.validate import CONFIG_DIR, ConfigError, build_spec

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
]
