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


def test_the_rates_per_million_are_seed_001s_on_bhrs_adults(backtest):
    """seed 001 states its rates per million GP-registered adults: the 26 of the baseline are 44.86, the 22 of
    April 2017 37.96 and the target of 14 24.16. The start census gives the first as the simulated adult rate
    (no child is in hospital at the start), and the adults give the others."""
    _, result, _, _ = backtest
    adults = result.spec.population.adults
    start = result.monthly[result.monthly["month"] == "2016-03"]
    assert (start["inpatients_camhs_t4"] == 0).all()
    assert np.round(start["inpatients_per_million"].to_numpy(), 2).tolist() == [44.86] * REPLICATIONS
    assert [round(n / adults * 1e6, 2) for n in (22, 14)] == [37.96, 24.16]
