"""The pooled budget's ledger (sim/finance): each funding principle of the south-east hub (seed 000) on a
tiny hand-filled monthly record whose answer is worked out by hand here; the split of placement-days by
the unit left; the balance identities every month on a real hub run; the finance outputs; the config.

Tiny record: one TCP (the loss system) with an ATU pool of 4 beds and a low secure pool of 4 beds; an
ATU bed costs 1 a day (2 out of area), a low secure bed 2 a day (4 out of area), 70% of an in-area bed's
price fixed (paid whether or not it is occupied), so an open bed's marginal saving is 30% of it; a
shared-housing package 0.5 a day, a bespoke one 3 a day; no initial premium, no breakdowns or deaths,
nobody goes home.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import loss_cfg, make_cfg, system_cfg

from sim.api import run
from sim.config import ConfigError, build_spec
from sim.config.schema import PLACEMENT_TYPES, UNIT_TYPES
from sim.config.spec import IN_AREA, OUT_OF_AREA
from sim.finance import finance_years, ledger, reserve_risk, write_finance
from sim.pathway import ONGOING
from sim.results.record import MonthlyArrays

YEAR = 365.25
ATU, LOW = UNIT_TYPES.index("atu"), UNIT_TYPES.index("low_secure")
SHARED, BESPOKE = PLACEMENT_TYPES.index("shared"), PLACEMENT_TYPES.index("bespoke_single")
ROOT = Path(__file__).resolve().parents[2]


def tiny_spec(pool: dict | None = None, *, years: float = 1, mix: str = "shared", **updates):
    """The tiny system with its pooled budget on; ``pool`` sets system.pooled_budget keys."""
    beds = {
        "schedule": [{"date": "2000-01", "beds": 4}],
        "los": {"components": [{"family": "exponential", "weight": 1.0, "mean": 1.0}]},
    }
    cfg = loss_cfg(
        beds=4,
        rate=0.0,
        **{
            "run.years": years,
            "tcp.beds": {"low_secure": beds},
            "tcp.costs.bed_per_year": {"atu": YEAR, "low_secure": 2 * YEAR},
            "tcp.costs.bed_fixed_share": {"atu": 0.7, "low_secure": 0.7},
            "tcp.costs.out_of_area_premium": 1.0,
            "tcp.costs.package_per_year": {"shared": 0.5 * YEAR, "bespoke_single": 3 * YEAR},
            "tcp.costs.dowry_per_year": 0.2 * YEAR,
            "tcp.discharge.placement_mix": {"atu": {mix: 1.0}, "low_secure": {mix: 1.0}},
            "system.pooled_budget": {"enabled": True, "units": ["atu"], "shortfall_la_share": 0.25, **(pool or {})},
            **updates,
        },
    )
    return build_spec(cfg)


def record(spec, beds: dict[int, list[float]] | None = None) -> MonthlyArrays:
    """An empty record with every pool open at 4 beds all year, or ``beds``: pool -> beds open each month."""
    rec = MonthlyArrays.zeros(spec)
    days = np.diff(spec.calendar.boundaries)
    rec.beds[0] = 4
    rec.open_days[:] = 4 * days[:, None]
    for p, counts in (beds or {}).items():
        rec.open_days[:, p] = np.asarray(counts, dtype=float) * days
    return rec


def leave(rec, month: int, unit: int, area: int, days_by_month: dict[int, float], kind: int = SHARED) -> None:
    """One person discharged in ``month`` from ``unit``/``area`` to a placement, living there the
    given days in each month (settled phase: no initial months in the tiny config)."""
    rec.discharges[month, 0, unit, area] += 1
    for m, d in days_by_month.items():
        rec.placement_days[m, 0, unit, area, kind, ONGOING] += d


def pool_of(spec, name: str) -> int:
    return next(p.index for p in spec.pools if p.name == name)


# ------------------------------------------------------------------------- rule 1: money released


def test_marginal_saving_only_while_the_bed_is_open_and_the_shortfall_split():
    """A person leaves an open ATU bed (1 a day) for shared housing (0.5 a day) for 10 days, then 20:
    only the marginal 30% of the bed (its price less the 70% fixed) is released (3, then 6) against
    support of 5, then 10. The empty reserve cannot pay, so the shortfalls (2, then 4) fall a quarter to
    local authorities."""
    spec = tiny_spec()
    rec = record(spec)
    leave(rec, 0, ATU, IN_AREA, {0: 10, 1: 20})
    out = ledger(spec, rec)
    np.testing.assert_allclose(out["pool_in_marginal"][:2], [3.0, 6.0])
    np.testing.assert_allclose(out["pool_in_closed"][:2], [0.0, 0.0])
    np.testing.assert_allclose(out["pool_community_cost"][:2], [5.0, 10.0])
    np.testing.assert_allclose(out["shortfall_la"][:2], [0.5, 1.0])
    np.testing.assert_allclose(out["shortfall_ccg"][:2], [1.5, 3.0])
    np.testing.assert_allclose(out["pool_reserve"][:3], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(out["pool_balance"][:3], [0.0, -2.0, -6.0])
    assert out["pool_in_ccg"][0] == pytest.approx(3.0) and out["pool_in_specialised"][0] == 0  # ATU: the CCG's bed


@pytest.mark.parametrize("fixed, released", [(0.7, 3.0), (0.4, 6.0), (1.0, 0.0), (0.0, 10.0)])
def test_the_marginal_saving_is_the_part_of_the_bed_price_not_fixed(fixed, released):
    """The saving released for 10 days out of an open ATU bed (1 a day) is (1 - bed_fixed_share) of its
    price: the costs' own share, so the ledger and the spend agree on what an empty bed saves. A fixed
    share of 1 (double running) releases nothing until a bed closes."""
    spec = tiny_spec(**{"tcp.costs.bed_fixed_share.atu": fixed})
    rec = record(spec)
    leave(rec, 0, ATU, IN_AREA, {0: 10})
    assert ledger(spec, rec)["pool_in_marginal"][0] == pytest.approx(released)


def test_a_shared_pools_leaver_releases_the_pools_saving_and_its_new_beds_cost_its_price():
    """Two TCPs share an ATU pool at 2 a day with 0.25 of it fixed, while their own ATU price is 1 a day
    with nothing fixed: 10 days of a1's leaver out of the shared pool release 0.75 x 2 x 10 = 15 (the
    pool's price and share, not the TCP's); a bed it opens again in June (30 days) costs 2 x 30 = 60."""
    cfg = system_cfg(
        2,
        shared_beds=3,
        **{
            "system.shared_pools[0].bed_per_year": 2 * YEAR,
            "system.shared_pools[0].bed_fixed_share": 0.25,
            "system.tcps.a1.costs.bed_per_year": {"atu": YEAR},
            "system.tcps.a2.costs.bed_per_year": {"atu": YEAR},
            "system.pooled_budget": {"enabled": True, "units": ["atu"]},
        },
    )
    spec = build_spec(cfg)
    shared = pool_of(spec, "shared_atu")
    rec = MonthlyArrays.zeros(spec)
    days = np.diff(spec.calendar.boundaries)
    rec.beds[0] = 3
    rec.open_days[:] = 3 * days[:, None]
    rec.open_days[1, shared] = 2 * days[1]
    rec.placement_days[0, 0, ATU, IN_AREA, SHARED, ONGOING] = 10
    out = ledger(spec, rec)
    assert out["pool_in_marginal"][0] == pytest.approx(15.0)
    np.testing.assert_allclose(out["pool_new_beds_cost"][:3], [0.0, 0.0, 60.0])


def test_full_cost_once_a_bed_of_the_pool_closes():
    """The ATU pool closes one of its 4 beds from the second month: the person who left it brings the
    bed's full cost (20 days x 1) instead of its marginal saving; 10 more than the support, to the reserve."""
    spec = tiny_spec()
    atu = pool_of(spec, "loss_system_atu")
    rec = record(spec, {atu: [4, 3] + [3] * 10})
    leave(rec, 0, ATU, IN_AREA, {0: 10, 1: 20})
    out = ledger(spec, rec)
    np.testing.assert_allclose(out["pool_in_closed"][:2], [0.0, 20.0])
    np.testing.assert_allclose(out["pool_in_marginal"][:2], [3.0, 0.0])
    assert out["pool_reserve"][2] == pytest.approx(10.0)


def test_one_closed_bed_releases_full_cost_for_one_person_only():
    """Two people out of the ATU all of May (31 days each) but one bed closed: one bed's full cost (31)
    and the other's marginal saving (0.3 x 31: the 70% fixed part of the open bed's price stays paid)."""
    spec = tiny_spec()
    atu = pool_of(spec, "loss_system_atu")
    rec = record(spec, {atu: [4, 3] + [3] * 10})
    leave(rec, 0, ATU, IN_AREA, {1: 31})
    leave(rec, 0, ATU, IN_AREA, {1: 31})
    out = ledger(spec, rec)
    assert out["pool_in_closed"][1] == pytest.approx(31.0)
    assert out["pool_in_marginal"][1] == pytest.approx(0.3 * 31.0)


def test_out_of_area_bed_releases_its_price_and_the_excess_goes_to_the_reserve():
    """Leaving an out-of-area ATU bed (2 a day) releases out_of_area_release of it: all of it, 20 for 10
    days against support of 5, so 15 to the reserve; with out_of_area_release 0.5, 10 and 5."""
    for share, reserve in ((1.0, 15.0), (0.5, 5.0)):
        spec = tiny_spec({"out_of_area_release": share})
        rec = record(spec)
        leave(rec, 0, ATU, OUT_OF_AREA, {0: 10})
        out = ledger(spec, rec)
        assert out["pool_in_out_of_area"][0] == pytest.approx(20.0 * share)
        assert out["pool_reserve"][1] == pytest.approx(reserve)
        assert out["shortfall_total"][0] == 0 and out["pool_balance"][1] == pytest.approx(reserve)


def test_people_from_units_outside_the_pool_are_not_funded():
    """The pool funds ATU leavers only: a low secure leaver brings nothing and costs the pool nothing."""
    spec = tiny_spec()
    rec = record(spec)
    leave(rec, 0, LOW, IN_AREA, {0: 10})
    out = ledger(spec, rec)
    assert out["pool_inflow"][0] == 0 and out["pool_community_cost"][0] == 0 and out["pool_cohort"][1] == 0


# ------------------------------------------------------------------- rule 2: the cap at the bed's cost


def bespoke_leaver(pool: dict | None = None, **updates) -> dict[str, np.ndarray]:
    """The ledger of one person who left an in-area ATU bed for bespoke support (3 a day against the
    bed's 1) for the first 10 days of April."""
    spec = tiny_spec(pool, mix="bespoke_single", **updates)
    rec = record(spec)
    leave(rec, 0, ATU, IN_AREA, {0: 10}, kind=BESPOKE)
    return ledger(spec, rec)


def test_support_above_the_bed_cost_falls_to_ccgs_and_las():
    """Bespoke support at 3 a day replacing an ATU bed at 1 a day, 10 days: the pool's part is 10 (capped
    at the bed), 20 is above the cap. Released 3 (marginal), so 7 short within the cap; with an empty
    reserve 27 falls to commissioners, a quarter (6.75) to local authorities."""
    out = bespoke_leaver()
    assert out["pool_community_cost"][0] == pytest.approx(30.0)
    assert out["pool_above_cap"][0] == pytest.approx(20.0)
    assert out["shortfall_total"][0] == pytest.approx(27.0)
    assert out["shortfall_la"][0] == pytest.approx(6.75)
    assert out["pool_outflow"][0] == pytest.approx(3.0)


def test_cap_factor_moves_the_cap():
    """cap_factor 2: the pool's part is 20 (twice the bed), 10 above it."""
    assert bespoke_leaver({"cap_factor": 2.0})["pool_above_cap"][0] == pytest.approx(10.0)


def test_money_from_outside_pays_above_the_cap_first_and_the_rest_goes_to_the_reserve():
    """extra_per_year of 365.25 puts 30 into the pool in April (30 days): it pays the 20 above the cap, its
    other 10 goes to the reserve, which then pays the 7 short within the cap: reserve 3, no shortfall."""
    out = bespoke_leaver({"extra_per_year": YEAR})
    assert out["pool_in_extra"][0] == pytest.approx(30.0)
    assert out["shortfall_total"][0] == pytest.approx(0.0)
    assert out["pool_reserve"][1] == pytest.approx(3.0)


def test_only_a_balanced_plan_lets_the_reserve_pay_above_the_cap():
    """A reserve of 100 pays the 7 short within the cap either way; the 20 above the cap only under a
    longer-term balanced plan (reserve 73), otherwise it falls to commissioners (reserve 93)."""
    for plan, reserve, short in ((True, 73.0, 0.0), (False, 93.0, 20.0)):
        out = bespoke_leaver({"initial_reserve": 100, "balanced_plan": plan})
        assert out["pool_reserve"][1] == pytest.approx(reserve)
        assert out["shortfall_total"][0] == pytest.approx(short)
        assert out["pool_balance"][1] == pytest.approx(reserve)  # never short for want of reserve


# -------------------------------------------------------------- rule 3: the reserve first, then commissioners


def test_the_reserve_pays_first_and_goes_negative_only_when_spent():
    """A reserve of 3 and shortfalls of 2, then 4: the reserve pays the first (1 left) and 1 of the second;
    3 falls to commissioners in May, when the balance first goes negative (-3)."""
    spec = tiny_spec({"initial_reserve": 3})
    rec = record(spec)
    leave(rec, 0, ATU, IN_AREA, {0: 10, 1: 20})
    out = ledger(spec, rec)
    np.testing.assert_allclose(out["pool_reserve"][:3], [3.0, 1.0, 0.0])
    np.testing.assert_allclose(out["shortfall_total"][:2], [0.0, 3.0])
    np.testing.assert_allclose(out["pool_balance"][:3], [3.0, 1.0, -3.0])
    np.testing.assert_allclose(out["pool_first_negative"][:3], [0.0, 1.0, 0.0])
    np.testing.assert_allclose(out["pool_ever_negative"][:4], [0.0, 0.0, 1.0, 1.0])


# ---------------------------------------------------------------- rule 4: new or re-commissioned beds


def test_a_recommissioned_secure_bed_is_paid_from_the_reserve_first():
    """The low secure pool (a bed 2 a day) closes a bed in May and opens it again in June (30 days): the
    re-commissioned bed costs 60, paid 50 from the reserve and 10 by specialised commissioning."""
    spec = tiny_spec({"units": ["low_secure"], "initial_reserve": 50})
    low = pool_of(spec, "loss_system_low_secure")
    rec = record(spec, {low: [4, 3, 4] + [4] * 9})
    out = ledger(spec, rec)
    np.testing.assert_allclose(out["pool_new_beds_cost"][:3], [0.0, 0.0, 60.0])
    assert out["pool_out_beds"][2] == pytest.approx(50.0)
    assert out["shortfall_specialised"][2] == pytest.approx(10.0) and out["shortfall_ccg"][2] == 0
    assert out["pool_reserve"][3] == 0 and out["pool_first_negative"][2] == 1


# -------------------------------------------------------------------------- rule 5: NHS England's uplift


def test_nhs_england_contribution_is_uplifted_each_financial_year():
    """A low secure leaver (out of area, 4 a day, all released) 10 days in March 2017 and 10 in April 2017:
    10% more in 2017/18 (44) than in 2016/17 (40); an ATU leaver's CCG money is not uplifted."""
    spec = tiny_spec({"units": ["atu", "low_secure"], "nhse_uplift": 0.1}, years=2)
    rec = record(spec)
    leave(rec, 0, LOW, OUT_OF_AREA, {11: 10, 12: 10})
    out = ledger(spec, rec)
    assert out["pool_in_specialised"][11] == pytest.approx(40.0)
    assert out["pool_in_specialised"][12] == pytest.approx(44.0)
    rec = record(spec)
    leave(rec, 0, ATU, OUT_OF_AREA, {11: 10, 12: 10})
    out = ledger(spec, rec)
    np.testing.assert_allclose(out["pool_in_ccg"][11:13], [20.0, 20.0])


# -------------------------------------------------------------------------- rule 6: section 75 (Kent)


def test_section_75_pays_in_dowries_instead_of_savings_for_every_unit():
    """Section 75 with no units listed: the ATU leaver is funded; of 10 community days, 4 are a 5+ year
    stayer's, whose dowry (0.2 a day) replaces the bed saving: 0.3 x 6 saved, 0.8 in dowries."""
    spec = tiny_spec({"units": [], "section75": True})
    rec = record(spec)
    leave(rec, 0, ATU, IN_AREA, {0: 10})
    rec.dowry_days[0, 0, ATU] = 4
    out = ledger(spec, rec)
    assert out["pool_in_marginal"][0] == pytest.approx(0.3 * 6)
    assert out["pool_in_dowries"][0] == pytest.approx(0.8)
    assert out["pool_inflow"][0] == pytest.approx(1.8 + 0.8)


def test_section_75_applies_only_to_its_tcps():
    """Two TCPs in the pool, section 75 for a1 only: a1's ATU leaver is funded (with its dowry), a2's is not
    (the pool funds low secure leavers only, and a2 keeps its dowry outside the pool)."""
    cfg = system_cfg(
        2,
        shared_beds=None,
        **{
            "system.pooled_budget": {
                "enabled": True,
                "units": ["low_secure"],
                "section75": True,
                "section75_tcps": ["a1"],
            },
            "system.tcps.a1.costs.bed_per_year": {"atu": YEAR},
            "system.tcps.a2.costs.bed_per_year": {"atu": YEAR},
            "system.tcps.a1.costs.dowry_per_year": YEAR,
            "system.tcps.a2.costs.dowry_per_year": YEAR,
        },
    )
    spec = build_spec(cfg)
    rec = MonthlyArrays.zeros(spec)
    days = np.diff(spec.calendar.boundaries)
    rec.beds[0] = 3
    rec.open_days[:] = 3 * days[:, None]
    for t in (0, 1):
        rec.discharges[0, t, ATU, OUT_OF_AREA] = 1
        rec.placement_days[0, t, ATU, OUT_OF_AREA, SHARED, ONGOING] = 10
        rec.dowry_days[0, t, ATU] = 10
    out = ledger(spec, rec)
    assert out["pool_in_dowries"][0] == pytest.approx(10.0) and out["pool_in_out_of_area"][0] == 0
    assert out["pool_cohort"][1] == pytest.approx(10 / days[0])


# ------------------------------------------------------------- who the pool funds: by the bed they left


def test_only_leavers_of_the_pools_units_are_funded():
    """The pool funds ATU leavers only (tiny_spec's units): 10 days of an ATU leaver in shared housing
    cost the pool 5, 20 days of a low secure leaver nothing; the record says who left which bed."""
    spec = tiny_spec()
    rec = record(spec)
    leave(rec, 0, ATU, IN_AREA, {0: 10})
    leave(rec, 0, LOW, IN_AREA, {0: 20})
    out = ledger(spec, rec)
    assert out["pool_community_cost"][0] == pytest.approx(5.0)
    assert out["pool_in_marginal"][0] == pytest.approx(3.0)  # 30% of the ATU bed's 1 a day, 10 days
    assert out["pool_cohort"][1] == pytest.approx(10 / np.diff(spec.calendar.boundaries)[0])


# ----------------------------------------------------------------- a real hub run: the books balance


@pytest.fixture(scope="module")
def hub_run(tmp_path_factory):
    """The hub with its pooled budget and the section 75 variant (dowries too), 5 years, 12 replications,
    written to a directory, on the Numba engine."""
    out = tmp_path_factory.mktemp("finance") / "run"
    cfg = make_cfg(
        [
            "system=south_east_hub",
            "scenario=pooled_budget_section75",
            "run.years=5",
            "run.replications=12",
            "run.chunk_size=6",
            "run.engine=numba",
        ]
    )
    return run(cfg, out_dir=out)


def test_every_pound_in_is_a_pound_out_or_in_the_reserve_every_month(hub_run):
    """Each replication, each month: inflow - outflow is the change of the reserve; the inflow is its
    parts; the pool's outflow plus the commissioners' shortfalls is all the pool answers for; the reserve
    is never overdrawn, and the balance is the reserve less the shortfalls it could not meet."""
    m = hub_run.monthly.sort_values(["replication", "month"])
    assert m["pool_inflow"].sum() > 0 and m["pool_in_dowries"].sum() > 0 and m["pool_in_closed"].sum() > 0
    for _, r in m.groupby("replication"):
        f = r.iloc[1:]
        change = np.diff(r["pool_reserve"].to_numpy())
        scale = 1e-9 * max(1.0, float(r["pool_inflow"].max()))
        np.testing.assert_allclose(change, (f["pool_inflow"] - f["pool_outflow"]).to_numpy(), atol=scale)
        parts = f[["pool_in_marginal", "pool_in_closed", "pool_in_out_of_area", "pool_in_dowries", "pool_in_extra"]]
        np.testing.assert_allclose(parts.sum(axis=1), f["pool_inflow"], atol=scale)
        np.testing.assert_allclose(
            f["pool_in_specialised"] + f["pool_in_ccg"] + f["pool_in_extra"], f["pool_inflow"], atol=scale
        )
        np.testing.assert_allclose(
            f["pool_outflow"] + f["shortfall_total"], f["pool_community_cost"] + f["pool_new_beds_cost"], atol=scale
        )
        np.testing.assert_allclose(
            f["shortfall_ccg"] + f["shortfall_la"] + f["shortfall_specialised"], f["shortfall_total"], atol=scale
        )
        assert (r["pool_reserve"] >= 0).all() and (r["pool_balance"] <= r["pool_reserve"] + scale).all()
        assert (f["pool_community_cost"] <= f["cost_community"] + scale).all()


def test_finance_outputs_are_written_with_financial_years(hub_run):
    """write_finance writes the monthly bands, the financial-year table (April to March; flows summed,
    stocks at March) and the chart; a year's flow band is that of the replications' sums."""
    files = write_finance(hub_run.run_dir, hub_run.spec, hub_run.summary, source="test")
    assert [f.name for f in files] == ["finance_monthly.csv", "finance_years.csv", "finance_reserve.png"]
    assert all(f.stat().st_size > 0 for f in files)
    monthly = pd.read_csv(files[0])
    assert {"pool_reserve", "pool_balance_negative", "shortfall_la", "cost_community_bespoke_single"} <= set(
        monthly["metric"]
    )
    years = pd.read_csv(files[1])
    assert list(years["year"].unique()) == ["2016/17", "2017/18", "2018/19", "2019/20", "2020/21"]
    assert (years["months"] == 12).all()
    m = hub_run.monthly
    fy1 = m[m["month"].between("2016-04", "2017-03")].groupby("replication")["pool_inflow"].sum()
    row = years[(years["year"] == "2016/17") & (years["metric"] == "pool_inflow")].iloc[0]
    assert row["mean"] == pytest.approx(fy1.mean()) and row["p50"] == pytest.approx(fy1.median())
    reserve = years[(years["year"] == "2018/19") & (years["metric"] == "pool_reserve")].iloc[0]
    march = m.loc[m["month"] == "2019-03", "pool_reserve"]
    assert reserve["mean"] == pytest.approx(march.mean())
    risk = reserve_risk(m, hub_run.spec)
    assert 0 <= risk["p_negative_by_end"] <= 1 and set(risk["p_negative_by_march"]) >= {"2019-03", "2021-03"}
    assert finance_years(m, hub_run.spec)["metric"].str.startswith("pool_").any()


def test_no_pooled_budget_no_ledger_and_no_files(tmp_path):
    """With the pooled budget off (the default) there are no ledger metrics and write_finance writes nothing."""
    spec = build_spec(make_cfg(["system=south_east_hub"]))
    assert spec.pooled_budget is None
    assert write_finance(tmp_path, spec) == []


# ------------------------------------------------------------------------------------------ the config


@pytest.mark.parametrize(
    "pool, key, words",
    [
        ({"tcps": ["kent"]}, "system.pooled_budget.tcps", "unknown TCP 'kent'"),
        (
            {"section75": True, "section75_tcps": ["a2"], "tcps": ["a1"]},
            "system.pooled_budget.section75_tcps",
            "unknown TCP 'a2'",
        ),
        ({"units": ["forensic"]}, "system.pooled_budget.units", "unknown unit type"),
        ({"units": []}, "system.pooled_budget.units", "funds no one"),
        ({"out_of_area_release": -0.1}, "system.pooled_budget.out_of_area_release", "[0, 1]"),
        ({"shortfall_la_share": 2}, "system.pooled_budget.shortfall_la_share", "[0, 1]"),
        ({"cap_factor": -1}, "system.pooled_budget.cap_factor", "at least 0"),
        ({"extra_per_year": -5}, "system.pooled_budget.extra_per_year", "at least 0"),
        ({"initial_reserve": -5}, "system.pooled_budget.initial_reserve", "at least 0"),
        ({"nhse_uplift": -1}, "system.pooled_budget.nhse_uplift", "above -1"),
    ],
)
def test_bad_pooled_budget_values_name_their_key(pool, key, words):
    """A wrong pooled-budget value stops the run with one line naming its key."""
    cfg = system_cfg(2, **{"system.pooled_budget": {"enabled": True, **pool}})
    with pytest.raises(ConfigError) as err:
        build_spec(cfg)
    assert err.value.key == key and words in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    "override, line",
    [
        (
            "tcp.costs.bed_fixed_share.low_secure=2",
            "config error: tcp.costs.bed_fixed_share.low_secure: 2 is a probability and must be in [0, 1]",
        ),
        (  # the marginal saving is the beds' fixed share now: the old key is refused, not ignored
            "system.pooled_budget.marginal_share=0.3",
            "config error: system.pooled_budget.marginal_share: Key 'marginal_share' not in 'PooledBudgetConfig'",
        ),
    ],
)
def test_the_cli_stops_on_a_bad_pooled_budget_value(override, line):
    """On the command line: exit status 2 and one line naming the key."""
    p = subprocess.run(
        [sys.executable, "-m", "sim", "scenario=pooled_budget", override, "hydra.run.dir=/tmp/never-made"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == [line]


def test_scenario_keys_for_packages_and_faster_schedules():
    """package_cost_factor multiplies every package; schedule_months_earlier moves every step after the
    first sooner, never before the month after the start, and two steps landing together keep the later."""
    base = tiny_spec()
    dear = tiny_spec(**{"scenario.package_cost_factor": 2.0})
    np.testing.assert_allclose(dear.tcps[0].costs.package, 2 * base.tcps[0].costs.package)
    steps = [
        {"date": "2016-01", "beds": 4},
        {"date": "2016-10", "beds": 3},
        {"date": "2017-03", "beds": 2},
        {"date": "2018-06", "beds": 1},
    ]
    spec = tiny_spec(**{"tcp.beds.atu.schedule": steps, "scenario.schedule_months_earlier": 12})
    atu = spec.pools[pool_of(spec, "loss_system_atu")]
    start = spec.calendar.start
    # 2016-10 and 2017-03 both land on 2016-05 (the month after the April start): the later step's 2 beds
    assert [str(start + timedelta(days=float(d)))[:7] for d in atu.step_days] == ["2016-01", "2016-05", "2017-06"]
    assert list(atu.step_beds) == [4, 2, 1]


def test_the_report_gives_the_reserve_each_march(hub_run):
    """report.md carries the pooled budget's reserve and balance at each March of the run, from the bands."""
    text = (hub_run.run_dir / "report.md").read_text()
    assert "**Pooled budget**" in text and "| P(balance negative) |" in text
    s = hub_run.summary
    balance = s[(s["metric"] == "pool_balance") & (s["month"] == "2019-03")]["mean"].iloc[0]
    assert f"{balance / 1e6:.2f} (" in text
