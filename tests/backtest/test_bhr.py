"""The BHR back-test (experiments/bhr_backtest.py) as a test: at 200 replications of the default seed, each
figure the stocktake records for 2016/17 lies inside the simulated 90% band, as the script reports."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "experiments" / "bhr_backtest.py"
REPLICATIONS = 200


def _script():
    spec = importlib.util.spec_from_file_location("bhr_backtest", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def backtest():
    bt = _script()
    result, simulated, extra = bt.backtest([f"run.replications={REPLICATIONS}", "run.progress=false"])
    return bt, result, simulated, extra


def test_the_backtest_runs_every_replication_of_every_figure(backtest):
    bt, result, simulated, extra = backtest
    assert result.manifest["replications"] == REPLICATIONS
    assert set(simulated) == set(bt.RECORDED)
    for name, values in simulated.items():
        assert len(values) == REPLICATIONS, name
        assert np.all(values >= 0), name
    assert all(len(values) in (1, REPLICATIONS) for values in extra.values())


@pytest.mark.parametrize("figure", list(_script().RECORDED))
def test_each_recorded_figure_is_inside_the_simulated_90_percent_band(backtest, figure):
    bt, _, simulated, _ = backtest
    p05, p50, p95 = bt.band(simulated[figure])
    assert p05 <= p50 <= p95
    assert bt.inside_band(simulated)[figure], (
        f"{figure}: recorded {bt.RECORDED[figure]}, simulated 90% band {p05:.0f} to {p95:.0f} (median {p50:.0f})"
    )


def test_a_figure_outside_its_band_is_reported_as_outside():
    """inside_band is the script's check: a figure far from what is recorded is outside."""
    bt = _script()
    far = {name: np.full(REPLICATIONS, recorded + 100.0) for name, recorded in bt.RECORDED.items()}
    assert not any(bt.inside_band(far).values())
    near = {name: np.full(REPLICATIONS, float(recorded)) for name, recorded in bt.RECORDED.items()}
    assert all(bt.inside_band(near).values())
