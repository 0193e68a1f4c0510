"""Where an admission goes, in the SimPy model (sim/model/model.py: ``admit``, ``hospitalise``,
``start_wait``, ``await_bed``, ``end_wait``, ``admit_waiting``): out of area for want of a local unit when
the pool has no in-area beds, and the "or wait" policy of a pool (``wait_months``: with the beds full, a
person in crisis waits in the community, in a crisis-support place if one is free, until a bed frees or
the wait has passed). Tiny configs where the answer is known, each able to fail; the waits' metrics are
checked against what the event log says by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import loss_cfg, make_cfg
from test_pathway_rules import YEAR, census_file, elapsed, fixed, flows

from sim.api import run
from sim.config import build_spec
from sim.model import run_replication

MONTH = YEAR / 12  # wait_months=1, in days
IN_AREA, OUT_OF_AREA = 0, 1
STAY = 3.0  # years: every stay, so a bed once taken stays taken through a one-year run
CENSUS_ADMITTED = "2013-04-21"  # the census inpatient in the one bed is ready on day READY
READY = STAY * YEAR - elapsed(CENSUS_ADMITTED)


# ----------------------------------------------------------------------------------- no local unit


def test_a_pool_with_no_beds_counts_every_admission_as_no_local_unit():
    """A pool with 0 beds (and a wait: nothing to wait for) sends every admission out of area for want of
    a local unit: none for want of a bed, nobody waits."""
    cfg = loss_cfg(beds=0, rate=30.0, **{"run.replications": 4, "run.years": 1, "tcp.beds.atu.wait_months": 1})
    m = run(cfg).monthly
    assert flows(m, "admissions").sum() > 20
    np.testing.assert_array_equal(flows(m, "out_of_area_no_local_unit"), flows(m, "admissions"))
    np.testing.assert_array_equal(flows(m, "out_of_area_no_local_unit_atu"), flows(m, "admissions"))
    assert flows(m, "out_of_area_full_beds").sum() == 0 and flows(m, "bed_waits").sum() == 0
    assert (m["awaiting_bed"] == 0).all()


def test_bhr_camhs_admissions_are_out_of_area_for_no_local_unit():
    """BHR has no CAMHS tier 4 beds: every CAMHS admission is out of area for want of a local unit, none
    for want of a bed (they were about 30% of out_of_area_full_beds before)."""
    m = run(make_cfg(["run.replications=20"])).monthly
    camhs = flows(m, "admissions_camhs_t4")
    assert camhs.sum() > 20
    np.testing.assert_array_equal(flows(m, "out_of_area_no_local_unit_camhs_t4"), camhs)
    np.testing.assert_array_equal(flows(m, "out_of_area_no_local_unit"), camhs)  # BHR's only pool with no beds
    assert flows(m, "out_of_area_full_beds_camhs_t4").sum() == 0
    assert flows(m, "out_of_area_full_beds").sum() > 0  # the other pools still fill


def test_people_out_of_area_for_no_local_unit_are_repatriated_when_beds_open():
    """No beds until October 2016, then 2: the people placed out of area for want of a local unit before
    then (3-year stays) are repatriation candidates, and the two longest out move in on the day the beds
    open; afterwards, with both beds taken, admissions are out of area for want of a bed."""
    cfg = loss_cfg(
        beds=0,
        rate=12.0,
        los=fixed(STAY),
        **{
            "run.replications": 3,
            "run.years": 1,
            "run.event_log": True,
            "tcp.beds.atu.schedule": [{"date": "2000-01", "beds": 0}, {"date": "2016-10", "beds": 2}],
            "tcp.discharge.repatriation": True,
        },
    )
    res = run(cfg)
    m, ev = res.monthly, res.events
    october = float((pd.Timestamp("2016-10-01") - pd.Timestamp("2016-04-01")).days)
    for r, rep in m.groupby("replication"):
        rep = rep.set_index("month")
        log = ev[ev["replication"] == r]
        before = log[(log["event"] == "admission") & (log["time"] < october)].sort_values(["time", "person"])
        assert len(before) >= 2 and (before["area"] == OUT_OF_AREA).all()
        assert rep.loc[:"2016-09", "out_of_area_no_local_unit"].sum() == len(before)
        moved = log[log["event"] == "repatriation"]
        assert moved["time"].tolist() == [pytest.approx(october)] * 2
        assert moved["person"].tolist() == before["person"].tolist()[:2]
        assert rep.loc["2016-10":, "out_of_area_no_local_unit"].sum() == 0
        assert rep.loc["2016-10":, "out_of_area_full_beds"].sum() == rep.loc["2016-10":, "admissions"].sum()


# ----------------------------------------------------------------------------------- or wait


def wait_cfg(
    tmp_path,
    wait: float = 1.0,
    places: int = 0,
    rate: float = 12.0,
    replications: int = 8,
    census: tuple[str, ...] = (f"atu,in,{CENSUS_ADMITTED},beds",),
    **updates,
):
    """One ATU bed, held at the start by a census inpatient ready on day READY (then discharged at once),
    and any other ``census`` rows (unit, area, admitted, ooa_reason);
    crises at ``rate`` a year, each new stay STAY years (so once taken the bed stays taken); the pool
    waits ``wait`` months; ``places`` crisis-support places, no CTRs; a crisis-support place costs a
    pound a day."""
    return loss_cfg(
        beds=1,
        rate=rate,
        los=fixed(STAY),
        **{
            "run.replications": replications,
            "run.years": 1,
            "run.event_log": True,
            "tcp.census": census_file(tmp_path, list(census), reason=True),
            "tcp.beds.atu.wait_months": wait,
            "tcp.crisis_support.places": places,
            "tcp.costs.crisis_support_per_year": YEAR,
            **updates,
        },
    )


def waits_of(ev: pd.DataFrame) -> pd.DataFrame:
    """Each wait in the event log: replication, person, when it started, when it ended (the admission that
    ended it; NaN if still waiting at the end) and the area of that admission, in order of starting."""
    rows = []
    for (r, person), log in ev.groupby(["replication", "person"], sort=False):
        events = list(log[["time", "event", "area"]].itertuples(index=False))
        for k, (time, event, _) in enumerate(events):
            if event != "await_bed":
                continue
            end = next(((t, a) for t, e, a in events[k + 1 :] if e == "admission"), (np.nan, -1))
            rows.append({"replication": r, "person": person, "start": time, "end": end[0], "area": end[1]})
    return pd.DataFrame(rows).sort_values(["replication", "start"], kind="stable").reset_index(drop=True)


def test_a_wait_ends_in_a_bed_freed_within_it_or_out_of_area_after_exactly_the_wait(tmp_path):
    """Beds full and a wait of 1 month: a person in crisis waits (nobody goes out of area at the crisis);
    the first waiting when the census inpatient leaves on day READY is admitted in area at that instant,
    within a month of their crisis; everyone else goes out of area exactly a month after their crisis.
    If nobody waits then, the bed is free and the next crisis is admitted in area at once."""
    res = run(wait_cfg(tmp_path))
    ev, m = res.events, res.monthly
    horizon = res.spec.calendar.horizon
    w = waits_of(ev)
    assert len(w) > 20
    outcomes = set()
    for r in range(8):
        rep = w[w["replication"] == r]
        ended = rep[rep["end"].notna()]
        admitted = ev[(ev["replication"] == r) & (ev["event"] == "admission")]
        inside = admitted[admitted["area"] == IN_AREA]
        waiting_then = rep[(rep["start"] < READY) & (rep["start"] > READY - MONTH)]
        assert len(inside) == 1  # the one bed, taken once for the rest of the run
        if len(waiting_then):
            first = waiting_then.iloc[0]  # the longest waiting
            assert inside["person"].tolist() == [first["person"]]
            assert inside["time"].tolist() == [pytest.approx(READY)]
            assert len(admitted) == len(ended)  # every admission ended a wait
            outcomes.add("admitted from the wait")
        else:
            assert inside["time"].iloc[0] > READY and inside["person"].iloc[0] not in set(rep["person"])
            assert len(admitted) == len(ended) + 1  # that one admitted at once, at its crisis
            outcomes.add("admitted at once")
        out = ended[ended["area"] == OUT_OF_AREA]
        assert len(out) == len(ended) - (1 if len(waiting_then) else 0)
        np.testing.assert_allclose(out["end"] - out["start"], MONTH, rtol=0, atol=1e-9)
        still = rep[rep["end"].isna()]
        assert (still["start"] > horizon - MONTH).all()  # only waits begun in the last month are unfinished
    assert "admitted from the wait" in outcomes
    # the flows: waits ended out of area are the out-of-area placements for want of a bed, made a month on
    n_out = (w["area"] == OUT_OF_AREA).sum()
    assert flows(m, "out_of_area_full_beds").sum() == flows(m, "bed_waits_out_of_area").sum() == n_out > 20
    assert flows(m, "bed_waits_admitted").sum() == (w["area"] == IN_AREA).sum() > 0
    assert flows(m, "bed_waits").sum() == len(w)
    assert flows(m, "admissions").sum() == (ev["event"] == "admission").sum()
    assert flows(m, "out_of_area_no_local_unit").sum() == 0


def expected_waits(w: pd.DataFrame, places: int, boundaries: np.ndarray) -> dict[str, np.ndarray]:
    """The waits' metrics of one replication by hand from its waits: a wait takes a crisis-support place
    if fewer than ``places`` other waits hold one at its start (each held to its end); days are split at
    the month boundaries; the stocks count the waits running at each boundary."""
    ends = w["end"].fillna(np.inf).to_numpy()  # still waiting at the end
    starts = w["start"].to_numpy()
    in_support = np.zeros(len(w), bool)
    for k in range(len(w)):
        held = sum(in_support[j] and ends[j] > starts[k] for j in range(k))
        in_support[k] = held < places
    months = len(boundaries) - 1
    out = {
        name: np.zeros(months)
        for name in ("bed_waits", "bed_waits_crisis_support", "bed_wait_days", "bed_wait_days_crisis_support")
    }
    out["awaiting_bed"] = np.zeros(months + 1)
    out["awaiting_bed_crisis_support"] = np.zeros(months + 1)
    for s, b in enumerate(boundaries):
        running = (starts < b) & (ends > b)
        out["awaiting_bed"][s] = running.sum()
        out["awaiting_bed_crisis_support"][s] = (running & in_support).sum()
    for k in range(len(w)):
        month = np.searchsorted(boundaries, starts[k], side="right") - 1
        out["bed_waits"][month] += 1
        out["bed_waits_crisis_support"][month] += in_support[k]
        for mo in range(months):
            overlap = max(0.0, min(ends[k], boundaries[mo + 1]) - max(starts[k], boundaries[mo]))
            out["bed_wait_days"][mo] += overlap
            if in_support[k]:
                out["bed_wait_days_crisis_support"][mo] += overlap
    return out


@pytest.mark.parametrize("places", [0, 1, 2])
def test_wait_metrics_and_crisis_support_places_by_hand(tmp_path, places):
    """The waits' flows, days and month-end stocks are what the event log gives by hand, month by month:
    a wait takes a crisis-support place while one is free (held until the wait ends, paid as crisis
    support at a pound a day here), else waits at home; with no places nobody waits in crisis support."""
    res = run(wait_cfg(tmp_path, places=places, rate=20.0, replications=4))
    spec = res.spec
    boundaries = spec.calendar.boundaries
    w_all = waits_of(res.events)
    supported = 0.0
    for r, rep in res.monthly.groupby("replication"):
        got = rep.set_index("month")
        want = expected_waits(w_all[w_all["replication"] == r], places, boundaries)
        for name, values in want.items():
            series = got[name].to_numpy()
            if name.startswith("awaiting"):
                np.testing.assert_array_equal(series, values, err_msg=name)
            else:
                np.testing.assert_allclose(series[1:], values, rtol=1e-9, atol=1e-9, err_msg=name)
        np.testing.assert_allclose(
            flows(rep, "cost_crisis_support"), flows(rep, "bed_wait_days_crisis_support"), rtol=1e-9, atol=1e-9
        )
        supported += want["bed_waits_crisis_support"].sum()
    if places == 0:
        assert supported == 0
    else:
        assert supported > 0
    if places == 1:
        assert len(w_all) > supported  # some waited at home, the one place taken


def test_a_waiting_person_holds_the_crisis_support_place_an_averted_crisis_would_take(tmp_path):
    """One crisis-support place and CTRs for every crisis that avert half the time when a place is free: a
    spell of crisis support (an averted crisis) starts only when the place is free, neither held by a spell
    nor by someone waiting in it for a bed; a wait takes it when free, else waits at home. By hand from the
    event log."""
    cfg = wait_cfg(
        tmp_path,
        places=1,
        rate=20.0,
        replications=4,
        **{"tcp.ctr.coverage": 1.0, "tcp.ctr.avert": 0.5, "tcp.crisis_support.length": {"components": fixed(0.02)}},
    )
    res = run(cfg)
    m, ev = res.monthly, res.events
    assert flows(m, "admissions_averted").sum() > 0 and flows(m, "bed_waits_crisis_support").sum() > 0
    assert flows(m, "bed_waits").sum() > flows(m, "bed_waits_crisis_support").sum()  # some wait at home
    w = waits_of(ev)
    for r in range(4):
        log = ev[ev["replication"] == r]
        spell_start = log[log["event"] == "crisis_support"].set_index("person")["time"]
        spell_end = log[log["event"] == "register_red"].set_index("person")["time"]
        spells = [(t, spell_end.get(person, np.inf)) for person, t in spell_start.items()]
        mine = w[w["replication"] == r]
        holding: list[tuple[float, float]] = []  # waits in the place
        in_place = 0
        for start, end in zip(mine["start"], mine["end"].fillna(np.inf)):
            busy = sum(a < start < b for a, b in spells + holding)
            if busy == 0:
                holding.append((start, end))
                in_place += 1
        for start, _ in spells:
            assert not any(a < start < b for a, b in spells + holding if a != start), (r, start)
        rep = m[m["replication"] == r]
        assert flows(rep, "bed_waits_crisis_support").sum() == in_place


def test_a_waiting_person_gets_a_freed_bed_before_an_out_of_area_candidate(tmp_path):
    """With repatriation on and an out-of-area census inpatient waiting to come back, the bed freed on
    day READY goes to the person waiting in the community for it (in crisis), if anyone is; only when
    nobody waits is the out-of-area inpatient repatriated."""
    rows = (f"atu,in,{CENSUS_ADMITTED},beds", "atu,out,2016-03-01,beds")
    cfg = wait_cfg(tmp_path, rate=20.0, replications=10, census=rows, **{"tcp.discharge.repatriation": True})
    res = run(cfg)
    ev = res.events
    w = waits_of(ev)
    outcomes = set()
    for r in range(10):
        log = ev[ev["replication"] == r]
        moved = log[log["event"] == "repatriation"]
        waiting = w[(w["replication"] == r) & (w["start"] < READY) & (w["start"] > READY - MONTH)]
        if len(waiting):
            assert len(moved) == 0
            first = log[(log["event"] == "admission") & (log["area"] == IN_AREA)]
            assert first["person"].tolist() == [waiting["person"].iloc[0]]
            outcomes.add("waiting first")
        else:
            assert moved["time"].tolist() == [pytest.approx(READY)]
            outcomes.add("repatriated")
    assert outcomes == {"waiting first", "repatriated"}


def test_wait_0_is_out_of_area_at_once(tmp_path):
    """With no waiting (every shipped config), nobody is ever waiting: each crisis that is not averted is
    an admission in the same month, in area or out; on the tiny config the one bed's crises go out of
    area for want of a bed at once, and the person who waited a month there is out at their crisis."""
    m = run(make_cfg(["run.replications=10"])).monthly
    assert (m["awaiting_bed"] == 0).all() and flows(m, "bed_waits").sum() == 0 and flows(m, "bed_wait_days").sum() == 0
    np.testing.assert_array_equal(flows(m, "crises"), flows(m, "admissions") + flows(m, "admissions_averted"))
    res = run(wait_cfg(tmp_path, wait=0.0))
    ev = res.events
    assert "await_bed" not in set(ev["event"])
    admitted = ev[ev["event"] == "admission"]
    first = ev.groupby(["replication", "person"])["time"].min()  # a new person's first event is their crisis
    when = admitted.set_index(["replication", "person"])["time"]
    np.testing.assert_array_equal(when.to_numpy(), first.loc[when.index].to_numpy())
    assert flows(res.monthly, "out_of_area_full_beds").sum() == (admitted["area"] == OUT_OF_AREA).sum() > 20


def test_a_wait_changes_nothing_when_the_beds_are_never_full():
    """A pool that waits but never fills gives the very record of one that does not wait, array for array:
    waiting starts only when every in-area bed is taken."""
    base = loss_cfg(beds=1000, rate=30.0, **{"run.years": 1})
    waits = loss_cfg(beds=1000, rate=30.0, **{"run.years": 1, "tcp.beds.atu.wait_months": 6})
    a, _ = run_replication(build_spec(base), 3)
    b, _ = run_replication(build_spec(waits), 3)
    assert a.admissions.sum() > 10
    for name, values in a.as_dict().items():
        np.testing.assert_array_equal(getattr(b, name), values, err_msg=name)
