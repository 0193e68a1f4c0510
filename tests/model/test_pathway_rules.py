"""The pathway rules of the SimPy model (sim/model/model.py, rules 2-10 and children), each on a tiny
config where the answer is known: deterministic where possible (fixed lengths, probabilities 0 or 1),
otherwise a few replications with a fixed seed and a tolerance of 4 standard errors."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from helpers import loss_cfg

from sim.api import run
from sim.config import build_spec
from sim.model import run_replication
from sim.pathway import REGISTER

YEAR = 365.25
CAMHS = 3  # index of camhs_t4 in UNIT_TYPES
IN_AREA, OUT_OF_AREA = 0, 1


def fixed(years: float) -> list[dict]:
    """LOS components of a fixed length in years."""
    return [{"family": "fixed", "weight": 1.0, "value": years}]


def fixed_los(years: float) -> dict:
    """A LosConfig of a fixed length in years (for delays and crisis support)."""
    return {"components": fixed(years)}


def census_file(tmp_path, rows: list[str], reason: bool = False, age: bool = False) -> str:
    path = tmp_path / "census.csv"
    header = "unit,area,admitted" + (",ooa_reason" if reason else "") + (",age" if age else "")
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return str(path)


def elapsed(admitted: str, start: str = "2016-04-01") -> float:
    """Days in hospital at the start for a census row admitted on ``admitted``."""
    return float((date.fromisoformat(start) - date.fromisoformat(admitted)).days)


def flows(m: pd.DataFrame, name: str) -> np.ndarray:
    """A flow metric without its start point (NaN)."""
    return m[name].fillna(0).to_numpy()


def first_time(ev: pd.DataFrame, event: str) -> pd.Series:
    """Time of each (replication, person)'s first event of a kind."""
    return ev[ev["event"] == event].groupby(["replication", "person"])["time"].min()


def census_ids(ev: pd.DataFrame) -> list[int]:
    """Census people's ids in census row order (replication 0)."""
    return ev[(ev["event"] == "census") & (ev["replication"] == 0)]["person"].tolist()


# ------------------------------------------------------------------------------ 3. pre-admission CTR


def ctr_cfg(coverage: float, places: int, length: float = 0.05, **updates):
    return loss_cfg(
        beds=1000,
        rate=30.0,
        **{
            "run.replications": 3,
            "run.years": 2,
            "tcp.ctr.coverage": coverage,
            "tcp.ctr.avert": 1.0,
            "tcp.crisis_support.places": places,
            "tcp.crisis_support.length": fixed_los(length),
            **updates,
        },
    )


def test_no_ctr_coverage_averts_nothing():
    """With CTR coverage 0 no pre-admission CTR is held and nothing is averted: every crisis is an
    admission, in the same month."""
    m = run(ctr_cfg(0.0, 1000)).monthly
    assert flows(m, "crises").sum() > 0
    assert flows(m, "ctrs_pre_admission").sum() == 0 and flows(m, "admissions_averted").sum() == 0
    np.testing.assert_array_equal(flows(m, "crises"), flows(m, "admissions"))


def test_full_coverage_and_places_avert_every_crisis():
    """Coverage 1, avert 1 and plenty of crisis-support places: every crisis (from people not on a
    register) gets a CTR and is averted, so nobody is admitted."""
    m = run(ctr_cfg(1.0, 1000)).monthly
    assert flows(m, "crises").sum() > 0
    np.testing.assert_array_equal(flows(m, "ctrs_pre_admission"), flows(m, "crises"))
    np.testing.assert_array_equal(flows(m, "admissions_averted"), flows(m, "crises"))
    assert flows(m, "admissions").sum() == 0


def test_no_crisis_support_place_means_admission():
    """Coverage 1 and avert 1 but no crisis-support places: the CTRs are held but avert nothing."""
    m = run(ctr_cfg(1.0, 0)).monthly
    np.testing.assert_array_equal(flows(m, "ctrs_pre_admission"), flows(m, "crises"))
    assert flows(m, "admissions_averted").sum() == 0
    np.testing.assert_array_equal(flows(m, "admissions"), flows(m, "crises"))


def test_crisis_support_places_cap_averted_admissions():
    """Two places with a 10-year spell: in each replication exactly the first two crises are averted,
    every later one is admitted."""
    m = run(ctr_cfg(1.0, 2, length=10.0)).monthly
    for _, rep in m.groupby("replication"):
        assert flows(rep, "admissions_averted").sum() == 2
        assert flows(rep, "admissions").sum() == flows(rep, "crises").sum() - 2 > 0
        assert (rep["crisis_support"] <= 2).all() and rep["crisis_support"].iloc[-1] == 2


def test_averted_crisis_goes_to_support_then_register_red():
    """An averted person spends the fixed crisis-support length in support and then joins the register
    rated red at exactly that time later; the red register stock counts them from then on."""
    length = 0.1 * YEAR
    res = run(ctr_cfg(1.0, 1000, length=0.1, **{"run.event_log": True}))
    ev, m = res.events, res.monthly
    support = first_time(ev, "crisis_support")
    red = first_time(ev, "register_red")
    horizon = res.spec.calendar.horizon
    early = support[support + length < horizon]
    assert len(early) > 10
    np.testing.assert_allclose(red.loc[early.index].to_numpy(), early.to_numpy() + length, atol=1e-9)
    assert set(red.index) <= set(support.index)
    assert (ev.loc[ev["event"] == "register_red", "state"] == REGISTER).all()
    b = res.spec.calendar.boundaries
    for r, rep in m.groupby("replication"):
        times = red.loc[r].to_numpy()
        expected = [(times < t).sum() for t in b]
        np.testing.assert_array_equal(rep["register_red"].to_numpy(), expected)
        assert rep["register_red"].iloc[-1] > 0 and rep["register"].iloc[-1] == rep["register_red"].iloc[-1]


# ------------------------------------------------------------------------------- 1. the register


def register_cfg(people: dict, **updates):
    return loss_cfg(beds=1000, rate=0.0, **{"run.years": 2, "tcp.register.people": people, **updates})


def test_rag_moves_take_everyone_red_to_amber():
    """A red-only register with no crises and only a red-to-amber move (12 a year) ends all amber: after
    two years nobody is red and every member is amber."""
    n = 50
    m = run(
        register_cfg({"red": n}, **{"run.replications": 2, "tcp.register.transitions": {"red": {"amber": 12.0}}})
    ).monthly
    for _, rep in m.groupby("replication"):
        assert rep["register_red"].iloc[0] == n and rep["register_amber"].iloc[0] == 0
        assert rep["register_red"].iloc[-1] == 0 and rep["register_amber"].iloc[-1] == n
        assert (rep["register"] == n).all()
    assert flows(m, "crises").sum() == 0


def test_leaving_empties_the_register_exponentially():
    """With only a leave rate of 0.5 a year the register count at month end t is Binomial(n,
    exp(-0.5 t)): the pooled count over replications is within 4 standard errors at 6, 12 and 24 months."""
    n, reps, rate = 200, 4, 0.5
    cfg = register_cfg({"red": n}, **{"run.replications": reps, "tcp.register.leave_rate": rate})
    res = run(cfg)
    m = res.monthly
    b = res.spec.calendar.boundaries
    for s in (6, 12, 24):
        p = np.exp(-rate * b[s] / YEAR)
        total = m[m["month"] == m["month"].unique()[s]]["register"].sum()
        assert abs(total - reps * n * p) < 4 * np.sqrt(reps * n * p * (1 - p)), (s, total, reps * n * p)
    assert flows(m, "crises").sum() == 0


def test_register_crises_follow_the_rag_crisis_rate():
    """Red members with a crisis rate of 2 a year have about n(1 - exp(-2t)) crises in the first month
    (binomial, 4 SE); amber members have none when only red has a crisis rate."""
    n, reps = 500, 2
    cfg = register_cfg({"red": n}, **{"run.replications": reps, "tcp.register.crisis_rate": {"red": 2.0}})
    res = run(cfg)
    m = res.monthly
    first = m[m["month"] == "2016-04"]
    days = res.spec.calendar.boundaries[1]
    p = 1 - np.exp(-2.0 * days / YEAR)
    crises = first["crises"].sum()
    assert abs(crises - reps * n * p) < 4 * np.sqrt(reps * n * p * (1 - p)), (crises, reps * n * p)
    np.testing.assert_array_equal(flows(m, "crises"), flows(m, "admissions"))  # no CTRs: all admitted
    amber = run(register_cfg({"amber": n}, **{"run.replications": 1, "tcp.register.crisis_rate": {"red": 2.0}})).monthly
    assert flows(amber, "crises").sum() == 0 and (amber["register_amber"] == n).all()


# ------------------------------------------------------------------- 5, 7. readiness and discharge


def test_unlimited_housing_no_delays_discharge_at_readiness():
    """No housing limit and no delays: never a delayed discharge, and with a fixed half-year stay every
    discharge is exactly half a year after its admission (and at the moment of readiness)."""
    res = run(
        loss_cfg(beds=1000, rate=20.0, los=fixed(0.5), **{"run.replications": 2, "run.years": 3, "run.event_log": True})
    )
    m, ev = res.monthly, res.events
    assert (m["delayed_discharges"] == 0).all() and flows(m, "delayed_bed_days").sum() == 0
    adm, dis, ready = first_time(ev, "admission"), first_time(ev, "discharge"), first_time(ev, "ready")
    assert len(dis) > 20
    np.testing.assert_allclose((dis - adm.loc[dis.index]).to_numpy(), 0.5 * YEAR, atol=1e-9)
    np.testing.assert_allclose(ready.loc[dis.index].to_numpy(), dis.to_numpy(), atol=0)
    # everyone ready before the horizon has left
    assert len(adm[adm + 0.5 * YEAR < res.spec.calendar.horizon]) == len(dis)


# A funding delay of one day: housing and discharge happen at different instants, so a test can see each.
ONE_DAY = fixed_los(1 / YEAR)


def test_a_free_unit_at_readiness_discharges_at_once():
    """A housing stock larger than demand and no delays behaves like unlimited housing: each person is
    discharged once, at readiness, never delayed."""
    cfg = loss_cfg(
        beds=1000,
        rate=5.0,
        los=fixed(0.25),
        **{
            "run.replications": 1,
            "run.years": 1,
            "tcp.discharge.housing": {"shared": {"units": 1000}},
        },
    )
    m = run(cfg).monthly
    unlimited = run(loss_cfg(beds=1000, rate=5.0, los=fixed(0.25), **{"run.replications": 1, "run.years": 1})).monthly
    assert flows(m, "discharges").sum() > 0
    np.testing.assert_array_equal(flows(m, "discharges"), flows(unlimited, "discharges"))
    assert (m["delayed_discharges"] == 0).all()


def test_no_housing_delays_until_the_pipeline_delivers():
    """No free shared housing: ready people wait (delayed, reason housing) and nobody is discharged
    until a pipeline of units on 2017-01 discharges everyone then waiting (funding done) at that instant."""
    cfg = loss_cfg(
        beds=1000,
        rate=20.0,
        los=fixed(0.25),
        **{
            "run.replications": 2,
            "run.years": 2,
            "run.event_log": True,
            "tcp.discharge.funding_delay": ONE_DAY,
            "tcp.discharge.housing": {"shared": {"units": 0, "pipeline": [{"date": "2017-01", "units": 1000}]}},
        },
    )
    res = run(cfg)
    m, ev = res.monthly, res.events
    day = float((date(2017, 1, 1) - date(2016, 4, 1)).days)
    ready = first_time(ev, "ready")
    for r, rep in m.groupby("replication"):
        rep = rep.set_index("month")
        before = rep.loc[:"2016-12"]
        assert before["discharges"].fillna(0).sum() == 0
        assert (before["delayed_discharges"] == before["delayed_discharges_housing"]).all()
        waiting = rep.loc["2016-12", "delayed_discharges_housing"]
        assert waiting > 0
        funding_pending = ((ready.loc[r] > day - 1) & (ready.loc[r] < day)).sum()
        released = ev[(ev["replication"] == r) & (ev["event"] == "discharge") & (ev["time"] == day)]
        assert len(released) == waiting - funding_pending
        assert rep.loc["2017-01", "discharges"] >= waiting
        assert (rep.loc["2017-01":, "delayed_discharges_housing"] == 0).all()
        assert before["delayed_bed_days_housing"].fillna(0).sum() > 0


@pytest.mark.parametrize("policy, winner", [("fifo", 1), ("longest_stay", 0)])
def test_housing_policy_fifo_vs_longest_stay(tmp_path, policy, winner):
    """One unit arriving for two waiting people: FIFO gives it to the first ready (row 1, a short
    low-secure stay admitted last), longest stay to the earliest admitted (row 0, ready later)."""
    cfg = loss_cfg(
        beds=1,
        rate=0.0,
        los=fixed(1.0),
        **{
            "run.replications": 1,
            "run.years": 1,
            "run.event_log": True,
            "tcp.beds": {"low_secure": {"schedule": [{"date": "2000-01", "beds": 1}], "los": fixed_los(0.05)}},
            "tcp.census": census_file(tmp_path, ["atu,in,2015-06-01", "low_secure,in,2016-03-31"]),
            "tcp.discharge.housing": {"shared": {"units": 0, "pipeline": [{"date": "2016-07", "units": 1}]}},
            "tcp.discharge.policy": policy,
        },
    )
    ev = run(cfg).events
    ids = census_ids(ev)
    ready = first_time(ev, "ready").loc[0]
    # row 0 ready at 365.25 - 305, row 1 at 0.05 * 365.25 - 1: both before the unit arrives on day 91
    assert ready[ids[1]] < ready[ids[0]] < 91
    dis = ev[ev["event"] == "discharge"]
    assert len(dis) == 1
    assert dis["person"].iloc[0] == ids[winner] and dis["time"].iloc[0] == 91.0


def delay_cfg(tmp_path, **updates):
    """One census inpatient, fixed 1-year stay, admitted 2015-04-21: ready on day 19.25."""
    return loss_cfg(
        beds=1,
        rate=0.0,
        los=fixed(1.0),
        **{
            "run.replications": 1,
            "run.years": 1,
            "run.event_log": True,
            "tcp.census": census_file(tmp_path, ["atu,in,2015-04-21"]),
            **updates,
        },
    )


def test_discharge_waits_for_the_longer_of_funding_and_provider():
    """Unlimited housing, fixed funding delay 0.1 y and provider lead 0.2 y: every discharge is at
    readiness + 0.2 y (the longer), for each admission of a Poisson stream."""
    res = run(
        loss_cfg(
            beds=1000,
            rate=20.0,
            los=fixed(0.25),
            **{
                "run.replications": 2,
                "run.years": 2,
                "run.event_log": True,
                "tcp.discharge.funding_delay": fixed_los(0.1),
                "tcp.discharge.provider_lead": fixed_los(0.2),
            },
        )
    )
    ev = res.events
    ready, dis = first_time(ev, "ready"), first_time(ev, "discharge")
    assert len(dis) > 20
    np.testing.assert_allclose((dis - ready.loc[dis.index]).to_numpy(), 0.2 * YEAR, atol=1e-9)
    assert flows(res.monthly, "delayed_bed_days_housing").sum() == 0


@pytest.mark.parametrize("funding, provider", [(0.1, 0.2), (0.2, 0.1)])
def test_delay_reason_is_funding_then_provider(tmp_path, funding, provider):
    """A ready person is delayed for funding until the funding delay is over, then for the provider
    until the lead time is over; delayed bed-days split accordingly and the month-end stocks show the
    reason of the moment."""
    ready_at = YEAR - elapsed("2015-04-21")
    res = run(
        delay_cfg(
            tmp_path,
            **{
                "tcp.discharge.funding_delay": fixed_los(funding),
                "tcp.discharge.provider_lead": fixed_los(provider),
            },
        )
    )
    m, ev = res.monthly.set_index("month"), res.events
    dis = ev.loc[ev["event"] == "discharge", "time"]
    assert len(dis) == 1 and np.isclose(dis.iloc[0], ready_at + max(funding, provider) * YEAR)
    np.testing.assert_allclose(m["delayed_bed_days_funding"].sum(), funding * YEAR)
    np.testing.assert_allclose(m["delayed_bed_days_provider"].sum(), max(provider - funding, 0) * YEAR)
    assert m["delayed_bed_days_housing"].sum() == 0 and m["delayed_bed_days_dispute"].sum() == 0
    b = res.spec.calendar.boundaries
    for s, label in enumerate(m.index):
        t = b[s]
        want_funding = ready_at <= t < ready_at + funding * YEAR
        want_provider = ready_at + funding * YEAR <= t < ready_at + provider * YEAR
        assert m.loc[label, "delayed_discharges_funding"] == want_funding, label
        assert m.loc[label, "delayed_discharges_provider"] == want_provider, label


@pytest.mark.parametrize("prob", [0.0, 1.0])
def test_s117_dispute_adds_its_delay(tmp_path, prob):
    """With dispute probability 1 a fixed 0.05-year dispute follows the 0.1-year funding delay: the
    discharge comes exactly 0.05 y later than without, and those days are delayed for reason dispute."""
    ready_at = YEAR - elapsed("2015-04-21")
    res = run(
        delay_cfg(
            tmp_path,
            **{
                "tcp.discharge.funding_delay": fixed_los(0.1),
                "tcp.discharge.dispute_prob": prob,
                "tcp.discharge.dispute_delay": fixed_los(0.05),
            },
        )
    )
    m, ev = res.monthly.set_index("month"), res.events
    dis = ev.loc[ev["event"] == "discharge", "time"]
    assert np.isclose(dis.iloc[0], ready_at + (0.1 + prob * 0.05) * YEAR)
    np.testing.assert_allclose(m["delayed_bed_days_funding"].sum(), 0.1 * YEAR)
    np.testing.assert_allclose(m["delayed_bed_days_dispute"].sum(), prob * 0.05 * YEAR)
    # end of May (day 61): funding is done on day 55.8, the dispute runs to day 74
    assert m.loc["2016-05", "delayed_discharges_dispute"] == prob
    assert m.loc["2016-05", "delayed_discharges"] == prob


def test_return_home_within_the_limit():
    """Every ATU stay returns home (share 1, short stays within the limit): all discharges are home,
    nobody gets a placement, and each goes back on the register rated amber."""
    res = run(
        loss_cfg(
            beds=1000,
            rate=20.0,
            los=fixed(0.1),
            **{
                "run.replications": 2,
                "run.years": 2,
                "run.event_log": True,
                "tcp.discharge.return_home": {"atu": 1.0},
                "tcp.discharge.return_home_within_years": 10.0,
            },
        )
    )
    m, ev = res.monthly, res.events
    assert flows(m, "discharges").sum() > 0
    np.testing.assert_array_equal(flows(m, "discharges_home"), flows(m, "discharges"))
    assert (m["placements"] == 0).all()
    home = ev[ev["event"] == "discharge_home"]
    assert len(home) > 0 and (home["state"] == REGISTER).all() and (ev["event"] != "discharge").all()
    for _, rep in m.groupby("replication"):
        np.testing.assert_array_equal(rep["register_amber"].to_numpy(), np.cumsum(flows(rep, "discharges_home")))
        assert (rep["register_red"] == 0).all()


def test_no_return_home_after_the_limit():
    """Return-home share 1, but 0.1-year stays are longer than return_home_within_years 0.05: nobody
    goes home, everyone takes a placement."""
    m = run(
        loss_cfg(
            beds=1000,
            rate=20.0,
            los=fixed(0.1),
            **{
                "run.replications": 2,
                "run.years": 2,
                "tcp.discharge.return_home": {"atu": 1.0},
                "tcp.discharge.return_home_within_years": 0.05,
            },
        )
    ).monthly
    assert flows(m, "discharges").sum() > 0 and flows(m, "discharges_home").sum() == 0
    for _, rep in m.groupby("replication"):
        np.testing.assert_array_equal(rep["placements"].to_numpy(), np.cumsum(flows(rep, "discharges")))
    assert (m["register"] == 0).all()


# --------------------------------------------------------------------------------- 9. community


def test_first_year_breakdowns_are_crises_and_readmissions():
    """Breakdown rate 50 a year in the first year and 0 after: every placement breaks down within its
    first year; each breakdown is a crisis and (no CTRs) an immediate readmission within 12 months."""
    res = run(
        loss_cfg(
            beds=1000,
            rate=10.0,
            los=fixed(0.1),
            **{
                "run.replications": 2,
                "run.years": 2,
                "run.event_log": True,
                "tcp.community.breakdown_rate_first_year": 50.0,
                "tcp.community.breakdown_rate_after": 0.0,
            },
        )
    )
    m, ev = res.monthly, res.events
    assert flows(m, "breakdowns").sum() > 0
    assert (flows(m, "crises") >= flows(m, "breakdowns")).all()
    np.testing.assert_array_equal(flows(m, "readmissions_12m"), flows(m, "breakdowns"))
    np.testing.assert_array_equal(flows(m, "crises"), flows(m, "admissions"))
    horizon = res.spec.calendar.horizon
    checked = 0
    for (_, _), person in ev.sort_values("time", kind="stable").groupby(["replication", "person"]):
        events, times = person["event"].tolist(), person["time"].tolist()
        for i, e in enumerate(events):
            if e == "discharge" and times[i] + YEAR <= horizon:
                assert events[i + 1] == "breakdown" and times[i + 1] - times[i] < YEAR
                assert events[i + 2] == "crisis" and times[i + 2] == times[i + 1]  # the breakdown's crisis
                assert events[i + 3] == "admission" and times[i + 3] == times[i + 1]
                checked += 1
    assert checked > 10


def test_breakdowns_after_the_first_year_only():
    """Breakdown rate 0 in the first year and 50 after: no placement breaks down before its first
    anniversary, and some do after it."""
    ev = run(
        loss_cfg(
            beds=1000,
            rate=10.0,
            los=fixed(0.1),
            **{
                "run.replications": 1,
                "run.years": 3,
                "run.event_log": True,
                "tcp.community.breakdown_rate_first_year": 0.0,
                "tcp.community.breakdown_rate_after": 50.0,
            },
        )
    ).events
    ev = ev.sort_values("time", kind="stable")
    gaps = []
    for _, person in ev.groupby("person"):
        events, times = person["event"].tolist(), person["time"].tolist()
        gaps += [times[i] - times[i - 1] for i, e in enumerate(events) if e == "breakdown"]
    assert len(gaps) > 0 and min(gaps) >= YEAR


def test_a_breakdown_frees_the_housing_unit(tmp_path):
    """One shared unit and two census inpatients ready at the start: the first is housed at once (and
    discharged when its one-day funding delay ends), the second exactly when the first's placement
    breaks down."""
    cfg = loss_cfg(
        beds=2,
        rate=0.0,
        los=fixed(0.5),
        **{
            "run.replications": 1,
            "run.years": 1,
            "run.event_log": True,
            "tcp.census": census_file(tmp_path, ["atu,in,2015-01-01", "atu,in,2015-02-01"]),
            "tcp.discharge.housing": {"shared": {"units": 1}},
            "tcp.discharge.funding_delay": ONE_DAY,
            "tcp.community.breakdown_rate_first_year": 20.0,
        },
    )
    ev = run(cfg).events
    a, b = census_ids(ev)
    dis = ev[ev["event"] == "discharge"].sort_values("time", kind="stable")
    brk = ev[ev["event"] == "breakdown"].sort_values("time", kind="stable")
    assert dis["person"].iloc[0] == a and dis["time"].iloc[0] == pytest.approx(1.0)
    assert brk["person"].iloc[0] == a
    assert dis["person"].iloc[1] == b and dis["time"].iloc[1] == brk["time"].iloc[0]
    # the single unit: placements alternate, a discharge into it and then its breakdown (at the same
    # instant the breakdown frees the unit first; the log notes it after the discharge it allows)
    moves = ev[ev["event"].isin(["discharge", "breakdown"])].assign(into=lambda d: d["event"] == "discharge")
    out = moves.sort_values(["time", "into"], kind="stable")["event"].tolist()
    assert len(out) > 4 and out == ["discharge", "breakdown"] * (len(out) // 2) + ["discharge"] * (len(out) % 2)


# ------------------------------------------------------------------------------- 8. repatriation


def repatriation_cfg(tmp_path, repatriation: bool, need: bool = False):
    """One in-area bed: an in-area census inpatient ready on day 29.25, and an out-of-area one admitted
    the day before the start (ready after a year)."""
    rows = ["atu,in,2015-05-01,", "atu,out,2016-03-31," + ("need" if need else "beds")]
    return loss_cfg(
        beds=1,
        rate=0.0,
        los=fixed(1.0),
        **{
            "run.replications": 1,
            "run.years": 1,
            "run.event_log": True,
            "tcp.census": census_file(tmp_path, rows, reason=True),
            "tcp.discharge.repatriation": repatriation,
        },
    )


def test_repatriation_fills_a_freed_bed(tmp_path):
    """With repatriation the out-of-area inpatient moves into the in-area bed the moment it is freed:
    one repatriation, and from April's end the one inpatient left is in area."""
    res = run(repatriation_cfg(tmp_path, True))
    m, ev = res.monthly.set_index("month"), res.events
    stayer, away = census_ids(ev)
    assert (m.loc["2016-03", "inpatients_in_area"], m.loc["2016-03", "inpatients_out_of_area"]) == (1, 1)
    assert m["repatriations"].sum() == 1
    rep = ev[ev["event"] == "repatriation"]
    dis = ev[ev["event"] == "discharge"]
    assert rep["person"].tolist() == [away] and dis["person"].iloc[0] == stayer
    assert rep["time"].iloc[0] == dis["time"].iloc[0] == pytest.approx(YEAR - elapsed("2015-05-01"))
    # (the second leaves on day 364.25, in the last month)
    assert (m.loc["2016-04":"2017-02", "inpatients_in_area"] == 1).all() and (
        m.loc["2016-04":, "inpatients_out_of_area"] == 0
    ).all()


@pytest.mark.parametrize("repatriation, need", [(False, False), (True, True)], ids=["off", "ooa_by_need"])
def test_no_repatriation_when_off_or_out_by_need(tmp_path, repatriation, need):
    """With repatriation off, or with the out-of-area inpatient there by need (census ooa_reason), the
    freed bed stays empty: no repatriations, the out-of-area inpatient stays out."""
    m = run(repatriation_cfg(tmp_path, repatriation, need)).monthly.set_index("month")
    assert m["repatriations"].sum() == 0
    assert (m.loc["2016-04":, "inpatients_in_area"] == 0).all() and (
        m.loc["2016-04":"2017-02", "inpatients_out_of_area"] == 1
    ).all()


def closure_cfg(tmp_path, close_occupied: bool):
    """Two in-area ATU beds, one closing in July 2016; two in-area census inpatients (admitted May 2015
    and January 2016, each ready after two years), no arrivals, repatriation on."""
    rows = ["atu,in,2015-05-01,", "atu,in,2016-01-01,"]
    return loss_cfg(
        beds=2,
        rate=0.0,
        los=fixed(2.0),
        **{
            "run.replications": 1,
            "run.years": 2,
            "run.event_log": True,
            "tcp.census": census_file(tmp_path, rows, reason=True),
            "tcp.discharge.repatriation": True,
            "tcp.beds.atu.schedule": [{"date": "2000-01", "beds": 2}, {"date": "2016-07", "beds": 1}],
            "scenario.close_occupied": close_occupied,
        },
    )


def test_closing_an_occupied_bed_on_its_date_moves_the_latest_admitted_out_of_area(tmp_path):
    """scenario.close_occupied: on 1 July 2016 the bed closes though occupied; the inpatient admitted
    last moves out of area (a closure move), and comes back when the other's discharge frees the bed."""
    res = run(closure_cfg(tmp_path, True))
    m, ev = res.monthly.set_index("month"), res.events
    first, last = census_ids(ev)
    moves = ev[ev["event"] == "closure_move"]
    assert moves["person"].tolist() == [last]
    assert moves["time"].iloc[0] == pytest.approx(float((date(2016, 7, 1) - date(2016, 4, 1)).days))
    assert m.loc["2016-07", "closure_moves"] == 1 and m["closure_moves"].sum() == 1
    assert (m.loc["2016-07", "inpatients_in_area"], m.loc["2016-07", "inpatients_out_of_area"]) == (1, 1)
    assert (m.loc["2016-07":, "beds_in_area"] == 1).all()
    # the first is ready and leaves two years (730.5 days) from admission, on 30 April 2017: the second repatriates
    rep = ev[ev["event"] == "repatriation"]
    assert rep["person"].tolist() == [last]
    assert rep["time"].iloc[0] == ev[(ev["event"] == "discharge") & (ev["person"] == first)]["time"].iloc[0]
    assert m.loc["2017-04", "inpatients_in_area"] == 1 and m.loc["2017-04", "inpatients_out_of_area"] == 0


def test_by_default_an_occupied_bed_closes_only_when_empty(tmp_path):
    """Without close_occupied the closing bed stays open while occupied: no moves, two beds open until
    the first discharge."""
    m = run(closure_cfg(tmp_path, False)).monthly.set_index("month")
    assert m["closure_moves"].sum() == 0 and m["repatriations"].sum() == 0
    assert (m.loc["2016-07":"2017-03", "beds_in_area"] == 2).all() and m.loc["2017-04", "beds_in_area"] == 1
    assert (m.loc["2016-04":, "inpatients_out_of_area"] == 0).all()


# -------------------------------------------------------------------------------------- deaths


def test_deaths_in_hospital_are_not_discharges():
    """Hospital death rate 100 a year against a fixed 1-year stay: inpatients die (mean 3.7 days) before
    readiness, no one is discharged, and the inpatient stock is admissions minus deaths."""
    res = run(
        loss_cfg(
            beds=1000,
            rate=20.0,
            los=fixed(1.0),
            **{
                "run.replications": 2,
                "run.years": 1,
                "run.event_log": True,
                "tcp.community.hospital_death_rate": 100.0,
            },
        )
    )
    m, ev = res.monthly, res.events
    assert flows(m, "deaths_in_hospital").sum() > 10
    assert flows(m, "discharges").sum() == 0 and flows(m, "deaths_in_community").sum() == 0
    for _, rep in m.groupby("replication"):
        np.testing.assert_array_equal(
            rep["inpatients"].to_numpy()[1:],
            np.cumsum(flows(rep, "admissions") - flows(rep, "deaths_in_hospital"))[1:],
        )
    deaths = first_time(ev, "death")
    assert set(deaths.index) <= set(first_time(ev, "admission").index)
    assert not (ev["event"].isin(["discharge", "discharge_home"])).any()


def test_a_death_while_waiting_for_housing_ends_the_delay():
    """No housing at all: ready people wait (delayed, housing) until they die in hospital; the delayed
    stock at each month end is exactly those ready and not yet dead (from the event log)."""
    res = run(
        loss_cfg(
            beds=1000,
            rate=20.0,
            los=fixed(0.05),
            **{
                "run.replications": 2,
                "run.years": 2,
                "run.event_log": True,
                "tcp.community.hospital_death_rate": 5.0,
                "tcp.discharge.housing": {"shared": {"units": 0}},
            },
        )
    )
    m, ev = res.monthly, res.events
    b = res.spec.calendar.boundaries
    ready, death = first_time(ev, "ready"), first_time(ev, "death")
    dead_ready = death.reindex(ready.index)
    assert dead_ready.notna().sum() > 10
    assert flows(m, "discharges").sum() == 0
    for r, rep in m.groupby("replication"):
        rr, dd = ready.loc[r], dead_ready.loc[r].fillna(np.inf)
        expected = [((rr < t) & (dd >= t)).sum() for t in b]
        np.testing.assert_array_equal(rep["delayed_discharges_housing"].to_numpy(), expected)
        np.testing.assert_array_equal(rep["delayed_discharges"].to_numpy(), expected)


def test_deaths_in_the_community():
    """Community death rate 100 a year: people die in their placements (each after a discharge), none
    in hospital, and the placement stock is discharges minus community deaths."""
    res = run(
        loss_cfg(
            beds=1000,
            rate=20.0,
            los=fixed(0.05),
            **{
                "run.replications": 2,
                "run.years": 1,
                "run.event_log": True,
                "tcp.community.death_rate": 100.0,
            },
        )
    )
    m, ev = res.monthly, res.events
    assert flows(m, "deaths_in_community").sum() > 10 and flows(m, "deaths_in_hospital").sum() == 0
    assert flows(m, "breakdowns").sum() == 0
    for _, rep in m.groupby("replication"):
        np.testing.assert_array_equal(
            rep["placements"].to_numpy()[1:],
            np.cumsum(flows(rep, "discharges") - flows(rep, "deaths_in_community"))[1:],
        )
    deaths, dis = first_time(ev, "death"), first_time(ev, "discharge")
    assert set(deaths.index) <= set(dis.index)
    assert (deaths > dis.loc[deaths.index]).all()


# -------------------------------------------------------------------------------- 6. inpatient CTRs


def inpatient_ctr_cfg(tmp_path, los: float, ready_prob: float):
    return loss_cfg(
        beds=1000,
        rate=6.0,
        los=fixed(los),
        **{
            "run.replications": 1,
            "run.years": 2,
            "run.event_log": True,
            "tcp.census": census_file(tmp_path, ["atu,in,2016-03-31"]),
            "tcp.ctr.first_weeks": 4,
            "tcp.ctr.interval_months": {"atu": 3},
            "tcp.ctr.ready_prob": ready_prob,
        },
    )


def test_inpatient_ctrs_at_first_weeks_then_every_interval(tmp_path):
    """Inpatient CTRs fall 4 weeks after admission and every 3 months after that until readiness: for
    a census inpatient one day in (27, 118.3, ... days) and for every new admission."""
    res = run(inpatient_ctr_cfg(tmp_path, los=2.0, ready_prob=0.0))
    ev, m = res.events, res.monthly
    horizon = res.spec.calendar.horizon
    interval = 3 * YEAR / 12
    ctrs = ev[ev["event"] == "inpatient_ctr"]
    admitted = {census_ids(ev)[0]: -1.0, **first_time(ev, "admission").loc[0].to_dict()}
    assert len(admitted) > 5
    for person, t0 in admitted.items():
        end = min(horizon, t0 + 2 * YEAR)
        want = [t0 + 28 + k * interval for k in range(20) if t0 + 28 + k * interval < end]
        got = ctrs.loc[ctrs["person"] == person, "time"].to_numpy()
        np.testing.assert_allclose(got, want, atol=1e-6, err_msg=str(person))
    census_ctrs = ctrs.loc[ctrs["person"] == census_ids(ev)[0], "time"].to_numpy()
    assert len(census_ctrs) == 8 and census_ctrs[0] == 27.0
    assert flows(m, "ctrs_inpatient").sum() == len(ctrs)


def test_ready_at_the_first_inpatient_ctr(tmp_path):
    """ready_prob 1: the first inpatient CTR finds the person ready, so (no discharge delays) every
    stay ends at it, 4 weeks after admission, with exactly one CTR each."""
    res = run(inpatient_ctr_cfg(tmp_path, los=2.0, ready_prob=1.0))
    ev = res.events
    adm = first_time(ev, "admission")
    adm = adm[adm + 28 < res.spec.calendar.horizon]
    dis = first_time(ev, "discharge")
    assert len(adm) > 5 and len(dis) == len(adm) + 1
    np.testing.assert_allclose((dis.loc[adm.index] - adm).to_numpy(), 28.0, atol=1e-9)
    assert dis.loc[(0, census_ids(ev)[0])] == 27.0
    assert (ev[ev["event"] == "inpatient_ctr"].groupby("person").size() == 1).all()


def test_ready_prob_zero_never_shortens_a_stay(tmp_path):
    """ready_prob 0: CTRs are held but every stay lasts its fixed half year."""
    ev = run(inpatient_ctr_cfg(tmp_path, los=0.5, ready_prob=0.0)).events
    adm, dis = first_time(ev, "admission"), first_time(ev, "discharge")
    both = adm.index.intersection(dis.index)
    assert len(both) > 3 and (ev["event"] == "inpatient_ctr").sum() > len(both)
    np.testing.assert_allclose((dis.loc[both] - adm.loc[both]).to_numpy(), 0.5 * YEAR, atol=1e-9)
    assert dis.loc[(0, census_ids(ev)[0])] == pytest.approx(0.5 * YEAR - 1)


# ------------------------------------------------------------------------------------- 10. costs


def test_bed_costs_are_person_days_times_rates():
    """Bed costs only (an in-area day costs 1, an out-of-area day 2; no part of the in-area price fixed,
    the loss system's bed_fixed_share 0): each month's cost_total equals the in-area plus twice the
    out-of-area inpatient-days computed from the event log, clipped to the month."""
    res = run(
        loss_cfg(
            beds=3,
            rate=20.0,
            los=fixed(0.25),
            **{
                "run.replications": 2,
                "run.years": 1,
                "run.warmup_years": 0.5,
                "run.event_log": True,
                "tcp.costs.bed_per_year": {"atu": YEAR},
                "tcp.costs.out_of_area_premium": 1.0,
            },
        )
    )
    m, ev = res.monthly, res.events
    b = res.spec.calendar.boundaries
    adm = ev[ev["event"] == "admission"].set_index(["replication", "person"])
    dis = first_time(ev, "discharge").reindex(adm.index).fillna(np.inf).to_numpy()
    start, area = adm["time"].to_numpy(), adm["area"].to_numpy()
    reps = adm.index.get_level_values(0).to_numpy()
    assert (area == OUT_OF_AREA).sum() > 5 and (start < 0).sum() > 0
    for r, rep in m.groupby("replication"):
        sel = reps == r
        cost, ooa_days = [], []
        for s in range(len(b) - 1):
            days = np.clip(np.minimum(dis[sel], b[s + 1]) - np.maximum(start[sel], b[s]), 0, None)
            cost.append((days * np.where(area[sel] == IN_AREA, 1.0, 2.0)).sum())
            ooa_days.append(days[area[sel] == OUT_OF_AREA].sum())
        np.testing.assert_allclose(rep["cost_total"].to_numpy()[1:], cost, rtol=1e-9)
        np.testing.assert_allclose(rep["inpatient_days_out_of_area"].to_numpy()[1:], ooa_days, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(rep["cost_ccg"].to_numpy()[1:], cost, rtol=1e-9)  # ATU beds: the CCG's


def one_bed_cfg(tmp_path, beds: int, census: list[str], fixed_share: float, years: float = 1, **updates):
    """``beds`` ATU beds open all the run, no one admitted; the census rows stay for the run (a fixed stay
    of 20 years); an ATU bed's price is one a day (``YEAR`` a year), ``fixed_share`` of it fixed."""
    return loss_cfg(
        beds=beds,
        rate=0.0,
        los=fixed(20.0),
        **{
            "run.replications": 1,
            "run.years": years,
            "tcp.census": census_file(tmp_path, census) if census else None,
            "tcp.costs.bed_per_year": {"atu": YEAR},
            "tcp.costs.bed_fixed_share": {"atu": fixed_share},
            **updates,
        },
    )


def test_an_open_bed_costs_its_fixed_share_occupied_or_not(tmp_path):
    """Two beds open all month, one occupied, a bed one a day with 0.7 of it fixed: each month costs
    2 x 0.7 x days (both open beds' fixed part) + 1 x 0.3 x days (the occupied one's variable part) =
    1.7 x days; of that, 0.7 x days is the empty bed's (cost_beds_empty). Worked by hand."""
    res = run(one_bed_cfg(tmp_path, beds=2, census=["atu,in,2016-03-01"], fixed_share=0.7))
    m = res.monthly.set_index("month").iloc[1:]
    days = np.diff(res.spec.calendar.boundaries)
    np.testing.assert_allclose(m["inpatient_days"], days, rtol=1e-12)  # one person, all month
    np.testing.assert_allclose(m["occupancy"], 0.5, rtol=1e-12)
    np.testing.assert_allclose(m["cost_beds_in_area"], 2 * 0.7 * days + 1 * 0.3 * days, rtol=1e-12)
    np.testing.assert_allclose(m["cost_beds_empty"], 0.7 * days, rtol=1e-12)
    np.testing.assert_allclose(m["cost_total"], 1.7 * days, rtol=1e-12)
    np.testing.assert_allclose(m["cost_ccg"], 1.7 * days, rtol=1e-12)  # ATU beds: the CCG's


@pytest.mark.parametrize("fixed_share", [0.0, 0.7, 1.0])
def test_a_bed_occupied_all_year_costs_its_price_and_an_empty_one_its_fixed_share(tmp_path, fixed_share):
    """Over 4 years from April 2016 (1,461 days: 4 x 365.25), a bed occupied throughout costs 4 x
    bed_per_year whatever its fixed share; a bed open and empty throughout costs 4 x the fixed share of it."""
    price = 180_000.0
    for census, expected in ((["atu,in,2016-03-01"], 4 * price), ([], 4 * fixed_share * price)):
        res = run(
            one_bed_cfg(
                tmp_path,
                beds=1,
                census=census,
                fixed_share=fixed_share,
                years=4,
                **{"tcp.costs.bed_per_year.atu": price},
            )
        )
        assert res.spec.calendar.horizon == 4 * YEAR
        assert res.monthly["cost_total"].sum() == pytest.approx(expected, rel=1e-12, abs=1e-6)
        assert res.monthly["cost_beds_empty"].sum() == pytest.approx(0 if census else expected, abs=1e-6)


def test_package_costs_initial_premium_and_payer_split(tmp_path):
    """A placement from day d0 to the horizon costs 3 initial months at (1 + 1) x the rate (1 a day) then
    the settled rate; the local authority pays package_la_share 0.3 of it, the CCG the rest."""
    res = run(
        delay_cfg(
            tmp_path,
            **{
                "tcp.costs.package_per_year": {"shared": YEAR},
                "tcp.costs.initial_months": 3,
                "tcp.costs.initial_premium": 1.0,
                "tcp.costs.package_la_share": 0.3,
            },
        )
    )
    m, ev = res.monthly, res.events
    d0 = ev.loc[ev["event"] == "discharge", "time"].iloc[0]
    horizon = res.spec.calendar.horizon
    initial = 3 * YEAR / 12
    expected = initial * 2 + (horizon - d0 - initial) * 1
    assert m["cost_community"].sum() == pytest.approx(expected)
    assert m["cost_total"].sum() == pytest.approx(expected)
    np.testing.assert_allclose(m["cost_la"].fillna(0), 0.3 * m["cost_total"].fillna(0), atol=1e-9)
    np.testing.assert_allclose(m["cost_ccg"].fillna(0), 0.7 * m["cost_total"].fillna(0), atol=1e-9)


def test_dowry_only_after_five_years_in_hospital(tmp_path):
    """A census inpatient 6 years in, past the fixed 2.5-year stay, is discharged at once and accrues a
    dowry every day in the community (1 a day: 365 in the year); one 2 years in, discharged on day 182,
    accrues none."""
    res = run(
        loss_cfg(
            beds=2,
            rate=0.0,
            los=fixed(2.5),
            **{
                "run.replications": 1,
                "run.years": 1,
                "tcp.census": census_file(tmp_path, ["atu,in,2010-04-01", "atu,in,2014-04-01"]),
                "tcp.costs.dowry_per_year": YEAR,
            },
        )
    )
    m = res.monthly.set_index("month")
    assert m["discharges"].sum() == 2 and m.loc["2016-04", "discharges"] == 1 and m.loc["2016-09", "discharges"] == 1
    days = np.diff(res.spec.calendar.boundaries)  # 30, 31, 30, ... days in each month
    np.testing.assert_allclose(m["dowries"].to_numpy()[1:], days, rtol=1e-12)
    assert m["dowries"].sum() == pytest.approx(365.0)


# ---------------------------------------------------------------------------------- 4. children


def child_cfg(share: float, **updates):
    camhs = {"schedule": [{"date": "2000-01", "beds": 5}], "los": fixed_los(0.2)}
    return loss_cfg(
        beds=1000,
        rate=100.0,
        **{
            "run.replications": 2,
            "run.years": 2,
            "tcp.crisis.child_share": share,
            "tcp.beds": {"camhs_t4": camhs},
            "tcp.children.to_adult_unit": 0.0,  # children reaching 18 in hospital are discharged, not moved
            **updates,
        },
    )


def test_children_go_to_camhs_tier_4():
    """child_share 1 sends every admission to CAMHS tier 4 (commissioned by specialised commissioning),
    none to the adult ATU."""
    cfg = child_cfg(1.0)
    m = run(cfg).monthly
    assert flows(m, "admissions").sum() > 0
    assert (m["inpatients_camhs_t4"] == m["inpatients"]).all() and (m["inpatients_atu"] == 0).all()
    assert (m["inpatients_specialised"] == m["inpatients"]).all()
    spec = build_spec(cfg)
    rec, _ = run_replication(spec, 0)
    assert rec.admissions.sum() > 0 and rec.admissions[:, :, CAMHS].sum() == rec.admissions.sum()


def test_child_share_splits_admissions():
    """child_share 0.3: the share of admissions to CAMHS tier 4 is 0.3 within 4 binomial SE."""
    spec = build_spec(child_cfg(0.3))
    camhs = total = 0
    for r in range(2):
        rec, _ = run_replication(spec, r)
        camhs += rec.admissions[:, :, CAMHS].sum()
        total += rec.admissions.sum()
    assert total > 200
    assert abs(camhs / total - 0.3) < 4 * np.sqrt(0.3 * 0.7 / total)
