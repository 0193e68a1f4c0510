"""The one home of interval statistics (sim.results.intervals) against scipy, and the one financial year
(Calendar): April to March, its 'YYYY/YY' label, the plan periods a comparison sums flows over."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest
from scipy import stats

from sim.config.spec import Calendar
from sim.finance.ledger import financial_years
from sim.results.intervals import (
    mean_ci,
    normal_half_width,
    normal_interval,
    ratio_estimate,
    t_interval,
    t_quantile,
    upper_bound,
    width_ratio,
)


def calendar(labels: list[str]) -> Calendar:
    return Calendar(date(2016, 4, 1), tuple(labels), "2016-03", np.zeros(len(labels) + 1), 0.0)


def months(start: tuple[int, int], n: int) -> list[str]:
    y, m = start
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def test_financial_year_runs_april_to_march():
    assert Calendar.financial_year("2017-03") == "2016/17"
    assert Calendar.financial_year("2017-04") == "2017/18"
    assert Calendar.financial_year("1999-12") == "1999/00"
    assert list(financial_years(["2016-04", "2017-03", "2017-04"])) == [2016, 2016, 2017]


def test_plan_periods_name_part_years_and_the_whole_run():
    cal = calendar(months((2016, 10), 18))  # Oct 2016 to Mar 2018
    assert list(cal.plan_periods()) == ["2016/17 (6 months)", "2017/18", "2016-10 to 2018-03"]
    assert cal.year_ends() == ["2017-03", "2018-03"]
    one_year = calendar(months((2016, 4), 12))  # one financial year: only the whole run
    assert list(one_year.plan_periods()) == ["2016-04 to 2017-03"]


def test_intervals_match_scipy():
    rng = np.random.default_rng(3)
    v = rng.normal(5.0, 2.0, 30)
    mean, low, high, half = mean_ci(v, 0.9)
    lo, hi = stats.t.interval(0.9, len(v) - 1, loc=v.mean(), scale=stats.sem(v))
    assert (low, high) == (pytest.approx(lo, rel=1e-12), pytest.approx(hi, rel=1e-12))
    assert t_interval(mean, stats.sem(v), len(v), 0.9) == (pytest.approx(lo), pytest.approx(hi))
    assert upper_bound(0.1, 0.02, 30, 0.9) == pytest.approx(0.1 + stats.t.ppf(0.9, 29) * 0.02)
    assert math.isnan(upper_bound(0.1, 0.02, 1, 0.9)) and math.isnan(t_quantile(0.975, 1))
    assert normal_interval(1.0, 0.5) == (1.0 - 1.96 * 0.5, 1.0 + 1.96 * 0.5)
    assert normal_half_width(v) == pytest.approx(1.96 * stats.sem(v), rel=1e-12)
    r, se = ratio_estimate(np.array([1.0, 2.0, 3.0]), np.array([10.0, 10.0, 10.0]))
    assert r == pytest.approx(0.2) and se == pytest.approx(np.std([0.1, 0.2, 0.3], ddof=1) / math.sqrt(3))
    assert width_ratio(2.0, 1.0) == 2.0 and width_ratio(1.0, 0.0) == math.inf and math.isnan(width_ratio(0.0, 0.0))
