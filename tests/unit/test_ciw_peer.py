"""The Ciw peer of the degenerate loss system (benchmarks/ciw_loss.py) agrees with Erlang B."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from sim.results.analytic import erlang_b

pytest.importorskip("ciw")

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "ciw_loss.py"


def _load():
    # benchmarks/ is not a package on sys.path, so load the module from its file
    spec = importlib.util.spec_from_file_location("ciw_loss", _PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ciw_loss_system_matches_erlang_b():
    """Ciw's M/G/25/25 with lognormal stays (mean 1.5, sd 2.0 years) and Poisson arrivals at 20 a year,
    20 replications of a 20-year window after a 40-year warm-up: the blocking (ratio of sums) is
    within 4 standard errors of Erlang B(30, 25) = 0.2453, and the run processed some events."""
    res = _load().run_ciw(replications=20, years=20, warmup_years=40)
    b = erlang_b(30.0, 25)
    assert res["events"] > 0
    assert res["arrivals"] > 0 and 0 < res["se"] < 0.05
    assert abs(res["blocking"] - b) < 4 * res["se"], (res["blocking"], res["se"], b)
