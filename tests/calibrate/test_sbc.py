"""The method checked on known answers (issue 13, point 7): a small simulation-based calibration. True
parameters drawn from the prior, a series simulated at them, calibrated; the truth must fall inside the
posterior's 90% interval at about the nominal rate, and its rank in the posterior be near uniform.
experiments/sbc.py runs the larger check the closing note quotes."""

from __future__ import annotations

import pytest

from sim.calibrate import compose
from sim.calibrate.sbc import SMALL, check, summary


@pytest.mark.slow
def test_the_truth_falls_inside_the_90_percent_interval_at_about_the_nominal_rate():
    table = check(compose(list(SMALL)), repeats=16, seed=1)
    assert table["survived"].all()
    coverage = table["inside_90"].mean()
    # 32 intervals: the nominal 0.9 gives 28.8 inside, sd 1.7; a posterior twice too narrow gives ~0.6,
    # one that ignores the data (the prior) gives 1.0
    assert 0.72 <= coverage <= 0.97, summary(table)
    assert 0.35 <= table["rank"].mean() <= 0.65
