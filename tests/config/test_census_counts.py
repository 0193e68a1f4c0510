"""A start census from counts by band (``census_counts``): the people of each band, their stays so far at
the quantile midpoints of the length-biased stay distribution within the band, the same on every build."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import loss_cfg

from sim.config import build_spec
from sim.config.census import band_stays
from sim.config.spec import DAYS_PER_YEAR, IN_AREA, OUT_OF_AREA
from sim.sampling import Exponential

COUNTS = """# a tiny census by counts
unit,area,stay_from_years,stay_to_years,count,age_from,age_to,ooa_reason
atu,in,0,1,4,,,
atu,out,1,5,3,20,50,need
atu,in,5,10,0,,,
atu,out,5,10,2,,,
"""


def _spec(tmp_path):
    path = tmp_path / "counts.csv"
    path.write_text(COUNTS)
    return build_spec(loss_cfg(**{"tcp.census_counts": str(path)}))


def test_counts_give_people_per_band_with_stays_inside_it(tmp_path):
    census = _spec(tmp_path).census
    assert len(census) == 9
    assert [p.row for p in census] == list(range(9))  # numbered in the order made (common random numbers)
    bands = [(0, 1, IN_AREA)] * 4 + [(1, 5, OUT_OF_AREA)] * 3 + [(5, 10, OUT_OF_AREA)] * 2
    for person, (low, high, area) in zip(census, bands):
        assert low * DAYS_PER_YEAR < person.elapsed < high * DAYS_PER_YEAR
        assert person.area == area
    assert [p.by_need for p in census] == [False] * 4 + [True] * 3 + [False] * 2
    stays = [p.elapsed for p in census[:4]]
    assert stays == sorted(stays)  # each band in increasing stay so far


def test_counts_build_the_same_census_every_time(tmp_path):
    assert _spec(tmp_path).census == _spec(tmp_path).census


def test_band_stays_are_the_length_biased_quantile_midpoints_of_an_exponential():
    """With S(x) = exp(-x / m), the stay so far within [a, b) has distribution function
    (1 - exp(-(x - a) / m)) / (1 - exp(-(b - a) / m)), so its quantile q is
    a - m log(1 - q (1 - exp(-(b - a) / m))): by hand at q = 1/8, 3/8, 5/8, 7/8."""
    m, a, b = 300.0, 100.0, 700.0
    law = Exponential(m)
    got = band_stays(law.survivals, a, b, 4)
    q = np.array([1, 3, 5, 7]) / 8
    expected = a - m * np.log(1 - q * (1 - math.exp(-(b - a) / m)))
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    assert got[0] == pytest.approx(100 - 300 * math.log(1 - (1 - math.exp(-2)) / 8), rel=1e-5)  # 133.0...


def test_band_stays_fall_back_to_even_midpoints_where_the_law_cannot_reach():
    """A band the stay law gives no mass (S = 0 over it) gets evenly spaced midpoints."""
    np.testing.assert_allclose(band_stays(lambda t: np.zeros(len(t)), 0.0, 8.0, 4), [1.0, 3.0, 5.0, 7.0])


def test_ages_are_the_band_midpoints(tmp_path):
    """A camhs_t4 line aged 14 to 18 with 4 people: ages 14.5, 15.5, 16.5, 17.5, the youngest with the
    shortest stay, so their days to the transition age (18) are 3.5, 2.5, 1.5, 0.5 years."""
    path = tmp_path / "counts.csv"
    path.write_text("unit,area,stay_from_years,stay_to_years,count,age_from,age_to\ncamhs_t4,in,0,1,4,14,18\n")
    camhs = {"schedule": [{"date": "2000-01", "beds": 4}], "los": {"components": [{"family": "fixed", "value": 2}]}}
    census = build_spec(loss_cfg(**{"tcp.census_counts": str(path), "tcp.beds": {"camhs_t4": camhs}})).census
    np.testing.assert_allclose([p.adult_in / DAYS_PER_YEAR for p in census], [3.5, 2.5, 1.5, 0.5])
    # a fixed stay of 2 years has S = 1 over the band: the stays are its evenly spaced midpoints
    np.testing.assert_allclose([p.elapsed / DAYS_PER_YEAR for p in census], [0.125, 0.375, 0.625, 0.875], rtol=1e-9)
