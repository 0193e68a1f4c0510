"""Rates per million as the national targets state them: adult inpatients (every unit type but CAMHS
tier 4) per million adults, CAMHS tier 4 inpatients per million children; the system's adults and
children are its TCPs' added up.

A hand-filled record of two TCPs whose answer is worked out here: a1 has 500,000 adults and 100,000
children, a2 1,000,000 adults and 200,000 children. At the first month end a1 has 3 ATU inpatients in
area, 2 low secure out of area and 1 child in CAMHS tier 4 out of area; a2 has 4 ATU and 3 CAMHS tier 4
in area."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import make_cfg, system_cfg

from sim.api import run
from sim.config import build_spec
from sim.config.spec import IN_AREA, OUT_OF_AREA, Population
from sim.metrics import metrics
from sim.pathway import UNIT_TYPES
from sim.results.record import MonthlyArrays

ATU, LOW, CAMHS = (UNIT_TYPES.index(u) for u in ("atu", "low_secure", "camhs_t4"))


@pytest.fixture(scope="module")
def computed():
    spec = build_spec(system_cfg(shared_beds=None, **{"run.years": 1}))
    rec = MonthlyArrays.zeros(spec)
    rec.inpatients[1, 0, ATU, IN_AREA] = 3
    rec.inpatients[1, 0, LOW, OUT_OF_AREA] = 2
    rec.inpatients[1, 0, CAMHS, OUT_OF_AREA] = 1
    rec.inpatients[1, 1, ATU, IN_AREA] = 4
    rec.inpatients[1, 1, CAMHS, IN_AREA] = 3
    with np.errstate(all="ignore"):
        return spec, metrics(spec, rec)


def test_the_system_population_is_its_tcps_added_up(computed):
    spec, _ = computed
    assert [t.population for t in spec.tcps] == [Population(500_000, 100_000), Population(1_000_000, 200_000)]
    assert spec.population == Population(1_500_000, 300_000)


def test_the_adult_rate_leaves_out_camhs_inpatients(computed):
    """9 adult inpatients (13 less the 4 in CAMHS tier 4) for 1.5 million adults is 6 per million, not 13/1.5."""
    _, m = computed
    assert m["inpatients"][1] == 13
    assert m["inpatients_per_million"][1] == pytest.approx(6.0)
    assert m["a1/inpatients_per_million"][1] == pytest.approx(10.0)  # 5 for 500,000 adults
    assert m["a2/inpatients_per_million"][1] == pytest.approx(4.0)  # 4 for 1,000,000 adults
    assert m["inpatients_per_million"][0] == 0.0  # an empty start


def test_the_child_rate_is_camhs_inpatients_per_million_children(computed):
    """4 children in CAMHS tier 4 for 300,000 children is 13.33 per million (not per the 1.5 million adults)."""
    _, m = computed
    assert m["inpatients_per_million_children"][1] == pytest.approx(4 / 300_000 * 1e6)
    assert m["a1/inpatients_per_million_children"][1] == pytest.approx(10.0)  # 1 for 100,000 children
    assert m["a2/inpatients_per_million_children"][1] == pytest.approx(15.0)  # 3 for 200,000 children


def test_the_two_rates_add_back_to_every_inpatient_on_a_run():
    """On a run of a TCP with children in hospital (Sussex's census has 4 in CAMHS tier 4), adults times the
    adult rate plus children times the child rate is every inpatient, every month of every replication."""
    res = run(make_cfg(["tcp=sussex", "run.replications=3", "run.years=1"]))
    pop = res.spec.population
    m = res.monthly
    assert (m["inpatients_camhs_t4"] > 0).any()
    back = m["inpatients_per_million"] * pop.adults / 1e6 + m["inpatients_per_million_children"] * pop.children / 1e6
    np.testing.assert_allclose(back, m["inpatients"], rtol=1e-12)
    np.testing.assert_allclose(m["inpatients_per_million_children"], m["inpatients_camhs_t4"] / pop.children * 1e6)
