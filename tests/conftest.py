"""Shared fixtures. The config builders they use (make_cfg, loss_cfg, system_cfg) are in tests/helpers.py."""

from __future__ import annotations

import pytest
from helpers import make_cfg

from sim.api import RunResult, run


@pytest.fixture(scope="session")
def bhr_result() -> RunResult:
    """The BHR baseline at 40 replications (shared by the tests that only read results)."""
    return run(make_cfg(["run.replications=40"]))
