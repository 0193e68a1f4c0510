"""Register the schema in Hydra's ConfigStore, so configs/ is checked against the dataclasses."""

from __future__ import annotations

from hydra.core.config_store import ConfigStore

from sim.config.schema import Config


def register() -> None:
    """Store the primary schema as ``base_config`` (named first in configs/config.yaml's defaults).
    Idempotent: storing the same node twice is harmless."""
    ConfigStore.instance().store(name="base_config", node=Config)
