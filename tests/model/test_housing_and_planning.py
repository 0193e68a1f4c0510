"""Two discharge rules of the SimPy model (sim/model/model.py, rule 7): a housing market whose offers lapse
when nobody waiting takes them (``offer``, ``lapse``), and discharge planning that starts before the
expected readiness (``planning_start``), so only the wait after readiness is a delay. Tiny configs where
the answer is known."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import loss_cfg
from test_pathway_rules import YEAR, census_ids, delay_cfg, elapsed, first_time, fixed, fixed_los, flows

from sim.api import run

# ------------------------------------------------------------------------- a market that clears


def market_cfg(offer_months: float, years: float = 30, **updates):
    """Nobody is ever admitted: two shared units held for the cohort and 24 market units a year coming
    free, offered ``offer_months`` each."""
    return loss_cfg(
        beds=1,
        rate=0.0,
        **{
            "run.replications": 2,
            "run.years": years,
            "tcp.discharge.housing": {"shared": {"units": 2, "supply_rate": 24.0, "offer_months": offer_months}},
            **updates,
        },
    )


def test_market_offers_lapse_so_free_stock_stays_bounded():
    """With nobody waiting, the free stock is the 2 held units plus the offers of the last month (on
    average 24 / 12 = 2 more): over 30 years it does not grow, and every market unit lapses."""
    m = run(market_cfg(1.0)).monthly
    free = m["housing_free_shared"].to_numpy()
    assert free.min() >= 2 and free.max() <= 2 + 15
    late = m[m["month"] >= "2036-04"]["housing_free_shared"].mean()
    early = m[m["month"] < "2026-04"]["housing_free_shared"].mean()
    assert late == pytest.approx(4.0, abs=0.4) and early == pytest.approx(4.0, abs=0.4)
    lapsed = flows(m, "housing_lapsed").sum()
    expected = 24.0 * 30 * 2
    assert abs(lapsed - expected) < 4 * np.sqrt(expected)
    np.testing.assert_array_equal(m["housing_free"], m["housing_free_shared"])


def test_an_offer_of_no_time_leaves_only_the_held_units():
    """offer_months 0: a market unit nobody takes lapses at once; the held units stay."""
    m = run(market_cfg(0.0, years=3)).monthly
    assert (m["housing_free_shared"] == 2).all()


def test_pipeline_units_never_lapse():
    """Commissioned pipeline units (5 from 2016-07) stay for the cohort however long nobody needs them."""
    m = run(
        loss_cfg(
            beds=1,
            rate=0.0,
            **{
                "run.replications": 1,
                "run.years": 5,
                "tcp.discharge.housing": {
                    "shared": {"units": 0, "offer_months": 1.0, "pipeline": [{"date": "2016-07", "units": 5}]}
                },
            },
        )
    ).monthly.set_index("month")
    assert (m.loc[:"2016-06", "housing_free"] == 0).all()
    assert (m.loc["2016-07":, "housing_free"] == 5).all()
    assert flows(m, "housing_lapsed").sum() == 0


@pytest.mark.parametrize("offer_months", [0.0, 1200.0])
def test_an_open_offer_houses_the_next_person_ready(tmp_path, offer_months):
    """One census inpatient ready on day 19.25 and 50 market units a year: held open for a century, an
    offer made before the readiness is still there and the person leaves at readiness; held for no time,
    none is, and the person waits for the next unit (delayed for housing)."""
    ready_at = YEAR - elapsed("2015-04-21")
    housing = {"shared": {"units": 0, "supply_rate": 50.0, "offer_months": offer_months}}
    res = run(delay_cfg(tmp_path, **{"tcp.discharge.housing": housing}))
    dis = first_time(res.events, "discharge").loc[(0, census_ids(res.events)[0])]
    housing_days = flows(res.monthly, "delayed_bed_days_housing").sum()
    if offer_months > 0:
        assert dis == ready_at and housing_days == 0
    else:
        assert dis > ready_at and housing_days == pytest.approx(dis - ready_at)


# ---------------------------------------------------------------------------- discharge planning


def planning_cfg(tmp_path, lead: float, provider: float, funding: float = 0.0, **updates):
    """One census inpatient admitted 2015-04-21 with a fixed 1-year stay (ready on day 19.25, expected
    so at admission), unlimited housing, fixed provider and funding times from the planning point."""
    return delay_cfg(
        tmp_path,
        **{
            "tcp.discharge.planning_lead_years": lead,
            "tcp.discharge.provider_lead": fixed_los(provider),
            "tcp.discharge.funding_delay": fixed_los(funding),
            **updates,
        },
    )


@pytest.mark.parametrize(
    "lead, provider, funding, delay",
    [
        (0.5, 0.2, 0.1, 0.0),  # both arranged before readiness: no delay
        (0.1, 0.2, 0.05, 0.1),  # the provider is 0.1 y late: a 0.1 y provider delay
        (0.0, 0.2, 0.1, 0.2),  # no lead: timed from readiness, as before planning
    ],
)
def test_provider_and_funding_are_worked_on_from_the_planning_point(tmp_path, lead, provider, funding, delay):
    """Discharge comes at max(readiness, planning point + the longer of provider and funding times);
    only the part after readiness is delayed, and its reason is the one still unmet."""
    ready_at = YEAR - elapsed("2015-04-21")
    res = run(planning_cfg(tmp_path, lead, provider, funding))
    m, ev = res.monthly, res.events
    dis = ev.loc[ev["event"] == "discharge", "time"]
    assert len(dis) == 1 and dis.iloc[0] == pytest.approx(ready_at + delay * YEAR)
    total = flows(m, "delayed_bed_days").sum()
    assert total == pytest.approx(delay * YEAR)
    provider_days = flows(m, "delayed_bed_days_provider").sum()
    funding_days = flows(m, "delayed_bed_days_funding").sum()
    assert provider_days == pytest.approx(max(0.0, provider - lead) * YEAR - funding_days)
    assert funding_days == pytest.approx(max(0.0, funding - lead) * YEAR)


def test_planning_starts_no_earlier_than_the_admission():
    """Stays of a fixed quarter year, a half-year lead and a 0.3-year provider lead: the work starts at
    admission, so every discharge is 0.3 y after its admission (0.05 y after readiness)."""
    res = run(
        loss_cfg(
            beds=1000,
            rate=20.0,
            los=fixed(0.25),
            **{
                "run.replications": 2,
                "run.years": 2,
                "run.event_log": True,
                "tcp.discharge.planning_lead_years": 0.5,
                "tcp.discharge.provider_lead": fixed_los(0.3),
            },
        )
    )
    adm, dis = first_time(res.events, "admission"), first_time(res.events, "discharge")
    assert len(dis) > 20
    np.testing.assert_allclose((dis - adm.loc[dis.index]).to_numpy(), 0.3 * YEAR, atol=1e-9)


def test_readiness_found_early_by_a_ctr_starts_the_planning_then(tmp_path):
    """A 2-year stay expected, but the first inpatient CTR (4 weeks in) finds the person ready: the
    planning point (1.5 years in) has not come, so the work starts at the CTR and the 0.2-year provider
    lead is all delay."""
    res = run(
        loss_cfg(
            beds=1000,
            rate=20.0,
            los=fixed(2.0),
            **{
                "run.replications": 1,
                "run.years": 2,
                "run.event_log": True,
                "tcp.ctr.ready_prob": 1.0,
                "tcp.ctr.interval_months": {"atu": 6},
                "tcp.discharge.planning_lead_years": 0.5,
                "tcp.discharge.provider_lead": fixed_los(0.2),
            },
        )
    )
    adm, ready, dis = (first_time(res.events, e) for e in ("admission", "ready", "discharge"))
    both = adm.index.intersection(dis.index)
    assert len(both) > 10
    np.testing.assert_allclose((ready.loc[both] - adm.loc[both]).to_numpy(), 28.0, atol=1e-9)
    np.testing.assert_allclose((dis.loc[both] - ready.loc[both]).to_numpy(), 0.2 * YEAR, atol=1e-9)


# -------------------------------------------------------------------- delayed at the start (census)


def ready_row_cfg(tmp_path, reason: str, **updates):
    """One census inpatient ready since 2016-01-01 and delayed for ``reason`` at the start; no housing
    free (a pipeline unit on 2016-07), a fixed 0.2-year provider lead and 0.1-year funding time."""
    rows = [f"atu,in,2012-01-01,,yes,2016-01-01,{reason}"]
    path = tmp_path / "census.csv"
    path.write_text("unit,area,admitted,ooa_reason,ready,ready_date,delay_reason\n" + "\n".join(rows) + "\n")
    return loss_cfg(
        beds=1,
        rate=0.0,
        los=fixed(5.0),
        **{
            "run.replications": 1,
            "run.years": 1,
            "run.event_log": True,
            "tcp.census": str(path),
            "tcp.discharge.provider_lead": fixed_los(0.2),
            "tcp.discharge.funding_delay": fixed_los(0.1),
            "tcp.discharge.housing": {"shared": {"units": 0, "pipeline": [{"date": "2016-07", "units": 1}]}},
            **updates,
        },
    )


@pytest.mark.parametrize(
    "reason, leaves",
    [
        ("housing", 91.0),  # the pipeline unit on 2016-07-01 (provider and funding were done before the start)
        ("funding", 0.1 * YEAR),  # the funding decision, from the start; a unit is already found
        ("provider", 0.2 * YEAR),  # the provider, from the start
    ],
)
def test_a_census_row_delayed_at_the_start_waits_for_what_it_says(tmp_path, reason, leaves):
    """The start record counts the delayed discharge under its reason (not 0, as when nobody in a census
    could be ready); the person leaves when that wait ends, and never goes back home at once."""
    res = run(ready_row_cfg(tmp_path, reason, **{"tcp.discharge.return_home": {"atu": 1.0}}))
    m, ev = res.monthly.set_index("month"), res.events
    start = m.iloc[0]
    assert start["delayed_discharges"] == 1 and start[f"delayed_discharges_{reason}"] == 1
    dis = ev.loc[ev["event"] == "discharge", "time"].tolist()
    assert dis == [pytest.approx(leaves)]
    assert flows(res.monthly, "discharges_home").sum() == 0
    assert flows(res.monthly, "delayed_bed_days").sum() == pytest.approx(leaves)


def test_bhrs_start_census_has_its_delayed_discharges():
    """BHR's census marks 3 inpatients ready and delayed (configs/tcp/census/bhr_2016-03.csv): every
    replication starts with 3 delayed discharges, for a provider, funding and an S117 dispute."""
    from helpers import make_cfg

    m = run(make_cfg(["run.replications=3", "run.years=1"])).monthly
    start = m[m["month"] == m["month"].min()]
    assert (start["delayed_discharges"] == 3).all()
    for reason in ("provider", "funding", "dispute"):
        assert (start[f"delayed_discharges_{reason}"] == 1).all()
