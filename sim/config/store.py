"""Where the configs are, and the schema registered in Hydra's ConfigStore so configs/ is checked against
the dataclasses."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from sim.config.schema import Config

#: configs/ at the top of the project: Hydra composes from here, and relative census paths are read from here.
CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"


def register() -> None:
    """Store the primary schema as ``base_config`` (named first in configs/config.yaml's defaults).
    Idempotent: storing the same node twice is harmless."""
    ConfigStore.instance().store(name="base_config", node=Config)


def compose(
    overrides: Sequence[str] = (), config_name: str = "config", config_dirs: Sequence[str | Path] = ()
) -> DictConfig:
    """Compose configs/<config_name>.yaml with command-line style overrides (Hydra's compose API); each of
    ``config_dirs`` (a user's own area, as ``--config-dir`` gives one) is searched before configs/."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    if GlobalHydra.instance().is_initialized():  # inside a Hydra app: its search path (--config-dir too)
        return hydra_compose(config_name=config_name, overrides=list(overrides))
    paths = ",".join(f"file://{Path(d).resolve()}" for d in config_dirs)
    extra = [f"hydra.searchpath=[{paths}]"] if config_dirs else []
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return hydra_compose(config_name=config_name, overrides=[*extra, *overrides])


def plain(node: Any, *, resolve: bool = True) -> dict[str, Any]:
    """A config mapping as plain Python (``OmegaConf.to_container`` of a mapping, typed as one)."""
    out = OmegaConf.to_container(node, resolve=resolve)
    if not isinstance(out, dict):
        raise TypeError(f"expected a config mapping, got {type(out).__name__}")
    return out  # type: ignore[return-value]  # OmegaConf types its keys more widely than str


def merged(*parts: Any) -> DictConfig:
    """``OmegaConf.merge`` of config mappings, typed as the mapping it is."""
    out = OmegaConf.merge(*parts)
    if not isinstance(out, DictConfig):
        raise TypeError(f"expected a config mapping, got {type(out).__name__}")
    return out
