"""Where the configs are, and the schema registered in Hydra's ConfigStore so configs/ is checked against
the dataclasses."""

from __future__ import annotations

from pathlib import Path

from hydra.core.config_store import ConfigStore

from sim.config.schema import Config

#: configs/ at the top of the project: Hydra composes from here, and relative census paths are read from here.
CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"


def register() -> None:
    """Store the primary schema as ``base_config`` (named first in configs/config.yaml's defaults).
    Idempotent: storing the same node twice is harmless."""
    ConfigStore.instance().store(name="base_config", node=Config)
