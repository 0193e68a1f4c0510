"""What beds cost (sim/results/monthly.py ``costs``) on hand-filled monthly records, worked by hand: a
shared pool is paid at its own price, its fixed part split between its TCPs by their shares of its
occupied bed-days (equally in a month it was empty), and the system's cost is the sum over pools."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import system_cfg

from sim.config import build_spec
from sim.config.schema import UNIT_TYPES
from sim.config.spec import IN_AREA, OUT_OF_AREA
from sim.metrics import metrics
from sim.results.record import MonthlyArrays

YEAR = 365.25
ATU = UNIT_TYPES.index("atu")


def shared_spec():
    """Two TCPs (a1, a2) sharing an ATU pool of 4 beds at 1 a day, half of it fixed; their own ATU price is
    2 a day, with out_of_area_premium 1 (4 a day out of area) and 0.9 of it fixed (unused in area: the
    shared pool's own price and share count there)."""
    own = {"bed_per_year": {"atu": 2 * YEAR}, "bed_fixed_share": {"atu": 0.9}, "out_of_area_premium": 1.0}
    cfg = system_cfg(
        2,
        shared_beds=4,
        **{
            "run.years": 0.25,
            "system.shared_pools[0].bed_per_year": YEAR,
            "system.shared_pools[0].bed_fixed_share": 0.5,
            "system.tcps.a1.costs": own,
            "system.tcps.a2.costs": own,
        },
    )
    return build_spec(cfg)


def test_a_shared_pool_is_paid_at_its_price_and_its_fixed_part_split_by_occupied_days():
    """April (30 days): 4 beds open (fixed 0.5 x 4 x 30 = 60), a1 in them 30 days and a2 90 (shares 1/4,
    3/4): a1 pays 15 + 15 and a2 45 + 45, nothing empty; a2 also 10 days out of area at its own 4 a day.
    May (31): a1 alone, 31 days: all the fixed 62 and 15.5 is a1's, 46.5 of it for 93 empty bed-days.
    June (30): nobody in: the fixed 60, all empty, split equally."""
    spec = shared_spec()
    pool = next(p for p in spec.pools if p.name == "shared_atu")
    assert (pool.bed_per_day, pool.fixed_share) == (pytest.approx(1.0), 0.5)
    rec = MonthlyArrays.zeros(spec)
    days = np.diff(spec.calendar.boundaries)
    assert list(days) == [30, 31, 30]
    rec.beds[:, pool.index] = 4
    rec.open_days[:, pool.index] = 4 * days
    rec.inpatient_days[:, 0, ATU, IN_AREA] = [30, 31, 0]
    rec.inpatient_days[:, 1, ATU, IN_AREA] = [90, 0, 0]
    rec.inpatient_days[:, 1, ATU, OUT_OF_AREA] = [10, 0, 0]
    rec.occupied_days[:, pool.index] = [120, 31, 0]
    with np.errstate(all="ignore"):
        out = metrics(spec, rec)
    expected = {
        "a1/cost_beds_in_area": [30.0, 77.5, 30.0],
        "a2/cost_beds_in_area": [90.0, 0.0, 30.0],
        "a1/cost_beds_empty": [0.0, 46.5, 30.0],
        "a2/cost_beds_empty": [0.0, 0.0, 30.0],
        "a2/cost_beds_out_of_area": [40.0, 0.0, 0.0],
        "cost_beds_in_area": [120.0, 77.5, 60.0],  # the pool's fixed 0.5 x open + variable 0.5 x occupied
        "cost_beds_empty": [0.0, 46.5, 60.0],
        "cost_total": [160.0, 77.5, 60.0],
        "cost_ccg": [160.0, 77.5, 60.0],
    }
    for name, values in expected.items():
        np.testing.assert_allclose(out[name][1:], values, rtol=1e-12, err_msg=name)
    for name in ("cost_beds_in_area", "cost_beds_empty", "cost_total"):  # the TCPs add up to the system
        np.testing.assert_allclose(out[f"a1/{name}"] + out[f"a2/{name}"], out[name], rtol=1e-12, equal_nan=True)


def test_the_system_cost_of_a_pool_does_not_depend_on_who_fills_it():
    """The same occupied bed-days of the shared pool split differently between its TCPs (all a1's, all
    a2's, half each): the system's in-area bed cost is the same each time (120 in April)."""
    spec = shared_spec()
    pool = next(p for p in spec.pools if p.name == "shared_atu")
    days = np.diff(spec.calendar.boundaries)
    totals = []
    for a1, a2 in ((120, 0), (0, 120), (60, 60)):
        rec = MonthlyArrays.zeros(spec)
        rec.open_days[:, pool.index] = 4 * days
        rec.inpatient_days[0, 0, ATU, IN_AREA], rec.inpatient_days[0, 1, ATU, IN_AREA] = a1, a2
        rec.occupied_days[0, pool.index] = 120
        with np.errstate(all="ignore"):
            totals.append(metrics(spec, rec)["cost_beds_in_area"][1])
    np.testing.assert_allclose(totals, 120.0, rtol=1e-12)
