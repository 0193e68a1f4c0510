"""run.replications=auto: the replications algorithm (Hoad, Robinson and Davies 2010)."""

from __future__ import annotations

import numpy as np
import pandas.testing as pdt
import pytest
from helpers import make_cfg
from scipy import stats

from sim.api import run
from sim.config import ConfigError
from sim.results.intervals import half_widths
from sim.runner.sequential import Precision, look_ahead


def test_half_widths_are_the_t_interval_of_each_prefix():
    v = np.random.default_rng(3).normal(10, 2, 40)
    h = half_widths(v, 0.9)
    assert np.isnan(h[0])
    for k in (2, 5, 17, 40):
        lo, hi = stats.t.interval(0.9, k - 1, loc=v[:k].mean(), scale=stats.sem(v[:k]))
        assert h[k - 1] == pytest.approx((hi - lo) / 2, rel=1e-9)


def test_look_ahead_is_five_then_five_percent():
    assert [look_ahead(n) for n in (3, 100, 101, 200, 1000)] == [5, 5, 5, 10, 50]


def test_solution_needs_the_precision_to_hold_over_the_look_ahead():
    # pairs (9, 11): the half-width shrinks like 1/sqrt(k); an outlier at k = 14 breaks it for a while
    v = np.tile([9.0, 11.0], 40)
    rule = Precision(half_width=1.0, relative=None, minimum=4)
    ok = rule.achieved(v)
    first = int(np.argmax(ok)) + 1  # the first k with a narrow enough interval
    assert rule.solution(v) == first
    w = v.copy()
    w[first + 1] = 30.0  # inside the look-ahead of `first`
    assert rule.solution(w) > first + 1
    assert not rule.achieved(w)[first + 1]
    assert rule.solution(v[: first + 2]) is None  # the look-ahead is not complete yet


def test_relative_target_and_the_minimum():
    v = np.full(30, 5.0)
    v[::2] = 5.5
    rule = Precision(relative=0.05, minimum=12)
    assert rule.solution(v) == 12  # met from the start, but never answered below the minimum
    assert Precision(relative=0.001, minimum=2).solution(v) is None


def test_next_round_estimates_the_total_in_whole_steps_within_the_maximum():
    v = np.random.default_rng(1).normal(0, 10, 50)
    rule = Precision(half_width=1.0, relative=None)
    h = half_widths(v, 0.95)[-1]
    need = int(np.ceil(50 * (h / 1.0) ** 2))
    n = rule.next_total(v, 25, 10_000)
    assert n % 25 == 0 and need + look_ahead(need) <= n < need + look_ahead(need) + 25
    assert rule.next_total(v, 25, 120) == 120


def test_auto_reaches_its_target_and_equals_a_fixed_run_of_that_size(tmp_path):
    cfg = make_cfg(["run.replications=auto", "run.auto.half_width=1.0", "run.chunk_size=20", "run.engine=numba"])
    res = run(cfg)
    rec = res.manifest["replications_rule"]
    n = res.manifest["replications"]
    assert rec["reached"] and rec["half_width"] <= 1.0 and rec["answer"] <= n and n % 20 == 0
    values = res.monthly.loc[res.monthly["month"] == rec["month"], "inpatients"].to_numpy()
    assert half_widths(values[: rec["answer"]], 0.95)[-1] <= 1.0
    fixed = run(make_cfg([f"run.replications={n}", "run.chunk_size=20", "run.engine=numba"]))
    pdt.assert_frame_equal(res.summary, fixed.summary)
    written = run(cfg, out_dir=tmp_path / "auto")  # grown in rounds on disk: the same answer
    assert written.manifest["replications"] == n
    pdt.assert_frame_equal(written.summary, res.summary)


def test_auto_stops_at_its_maximum_with_a_warning(caplog):
    cfg = make_cfg(
        [
            "run.replications=auto",
            "run.auto.half_width=0.01",
            "run.auto.maximum=40",
            "run.chunk_size=20",
            "run.engine=numba",
            "run.years=1",
        ]
    )
    res = run(cfg)
    assert res.manifest["replications"] == 40 and not res.manifest["replications_rule"]["reached"]
    warned = [r for r in caplog.records if r.levelname == "WARNING" and r.name == "sim.api"]
    assert any("run.auto.maximum=40" in r.getMessage() for r in warned)


@pytest.mark.parametrize(
    "override, key",
    [
        ("run.auto.metric=beds_in_orbit", "run.auto.metric"),
        ("run.auto.month=2031-01", "run.auto.month"),
        ("run.auto.relative=0", "run.auto.relative"),
    ],
)
def test_auto_settings_are_checked(override, key):
    with pytest.raises(ConfigError) as e:
        run(make_cfg(["run.replications=auto", override]))
    assert e.value.key == key


def test_replications_must_be_a_number_or_auto():
    with pytest.raises(ConfigError, match="whole number or auto"):
        run(make_cfg(["run.replications=many"]))


def test_auto_runs_the_same_replications_whatever_the_workers(tmp_path):
    """Issue 16: the replications auto runs depended on run.workers (500 against 400), so its answer was
    not the same on another machine. Rounds are whole chunks now, whatever the workers."""
    over = ["run.replications=auto", "run.auto.half_width=0.7", "run.chunk_size=10", "run.progress=false"]  # 130 or 140
    one = run(make_cfg(over), out_dir=tmp_path / "one")
    two = run(make_cfg([*over, "run.workers=2"]), out_dir=tmp_path / "two")
    assert one.manifest["replications"] == two.manifest["replications"]
    assert one.manifest["replications_rule"]["answer"] == two.manifest["replications_rule"]["answer"]
    pdt.assert_frame_equal(one.summary, two.summary)
