"""Config builders the tests share: configs composed by name (as a user would) and shrunk for speed.

Imported as ``from helpers import make_cfg`` (pyproject.toml puts tests/ on pytest's ``pythonpath``);
tests/conftest.py keeps only fixtures.
"""

from __future__ import annotations

import copy
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

from sim.api import compose


def make_cfg(overrides: list[str] = (), **updates: Any) -> DictConfig:
    """Compose configs/config.yaml with overrides, then set dotted keys to Python values (lists and
    dicts that are awkward on a command line), e.g. ``**{"tcp.census": "/tmp/c.csv"}``. Tests run the
    SimPy model (the readable reference whose rules they pin down) unless they ask for the Numba engine;
    tests/equivalence holds the engine to the model."""
    cfg = compose(["run.progress=false", "run.engine=simpy", *overrides])
    _set(cfg, updates)
    return cfg


def _set(cfg: DictConfig, updates: dict[str, Any]) -> None:
    with open_dict(cfg):
        for key, value in updates.items():
            OmegaConf.update(cfg, key, value, merge=True)


def loss_cfg(beds: int = 25, rate: float = 20.0, los: list[dict] | None = None, **updates: Any) -> DictConfig:
    """The degenerate loss system (configs/tcp/loss_system.yaml) with its beds, rate and stay set."""
    return make_cfg(
        ["tcp=loss_system"],
        **{
            "tcp.beds.atu.schedule": [{"date": "2000-01", "beds": beds}],
            "tcp.crisis.unregistered_rate": rate,
            "tcp.beds.atu.los.components": los or [{"family": "exponential", "weight": 1.0, "mean": 1.0}],
            **updates,
        },
    )


def system_cfg(n_tcps: int = 2, shared_beds: int | None = 4, **updates: Any) -> DictConfig:
    """A system of copies of the loss-system TCP (a1, a2, ...), optionally sharing one ATU pool."""
    cfg = loss_cfg(beds=3, rate=6.0)
    base = OmegaConf.to_container(cfg.tcp)
    tcps = {}
    for i in range(n_tcps):
        t = copy.deepcopy(base)
        t["name"] = f"a{i + 1}"
        t["population"] = {"adults": 500_000 * (i + 1), "children": 100_000 * (i + 1)}
        t["trajectory"] = [{"date": "2016-12", "inpatients": 10}]
        tcps[t["name"]] = t
    _set(cfg, {"tcp": None, "system.name": "test_system", "system.tcps": tcps})
    if shared_beds is not None:
        shared = [
            {
                "name": "shared_atu",
                "unit": "atu",
                "tcps": list(tcps),
                "schedule": [{"date": "2000-01", "beds": shared_beds}],
                "los": {"components": [{"family": "exponential", "weight": 1.0, "mean": 0.5}]},
            }
        ]
        _set(cfg, {"system.shared_pools": shared})
    _set(cfg, updates)
    return cfg
