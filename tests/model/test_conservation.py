"""Conservation of people and reproducibility: the checks of DESIGN.md section 6 that must always hold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import make_cfg, system_cfg

from sim.api import run
from sim.config import build_spec
from sim.model import run_replication
from sim.pathway import AWAITING_BED, INPATIENT, PLACEMENT, REGISTER
from sim.results.record import MonthlyArrays
from sim.runner import run_replications


def assert_conserved(monthly: pd.DataFrame, prefix: str = "") -> None:
    """Each month's inpatients are the previous month's plus admissions, minus discharges and deaths in
    hospital; placements likewise with discharges (other than back home) in and breakdowns, community
    deaths and settled placements ending out; people waiting in the community for a bed with waits
    started in, and waits ended (in an in-area bed, or out of area) out."""
    for _, rep in monthly.groupby("replication"):
        col = lambda name, rep=rep: rep[f"{prefix}{name}"].to_numpy()
        stock = col("inpatients")
        np.testing.assert_array_equal(
            stock[1:], stock[:-1] + (col("admissions") - col("discharges") - col("deaths_in_hospital"))[1:]
        )
        place = col("placements")
        np.testing.assert_array_equal(
            place[1:],
            place[:-1]
            + (
                col("discharges")
                - col("discharges_home")
                - col("breakdowns")
                - col("deaths_in_community")
                - col("settled_left")
                - col("settled_to_register")
            )[1:],
        )
        waiting = col("awaiting_bed")
        np.testing.assert_array_equal(
            waiting[1:],
            waiting[:-1] + (col("bed_waits") - col("bed_waits_admitted") - col("bed_waits_out_of_area"))[1:],
        )


def assert_states_conserved(spec, rec: MonthlyArrays) -> None:
    """Every person is in exactly one state: each state's stock is the previous stock plus moves in minus
    moves out, for every TCP and month; and the detailed stocks agree with the state counts."""
    moved_in = rec.moves.sum(axis=2)  # [M, T, to]
    moved_out = rec.moves.sum(axis=3)  # [M, T, from]
    stocks = rec.people[:, :, 1:]
    np.testing.assert_array_equal(stocks[1:], stocks[:-1] + (moved_in - moved_out)[:, :, 1:])
    np.testing.assert_array_equal(rec.people[:, :, INPATIENT], rec.inpatients.sum(axis=(2, 3)))
    np.testing.assert_array_equal(rec.people[:, :, REGISTER], rec.register.sum(axis=2))
    np.testing.assert_array_equal(rec.people[:, :, PLACEMENT], rec.placements.sum(axis=2))
    np.testing.assert_array_equal(rec.people[:, :, AWAITING_BED], rec.waiting.sum(axis=2))
    assert (rec.delayed.sum(axis=2) <= rec.people[:, :, INPATIENT]).all()
    assert (rec.people[:, :, 1:] >= 0).all() and (rec.moves.diagonal(axis1=2, axis2=3) == 0).all()


def test_every_person_is_in_one_state_every_month_bhr():
    """BHR baseline, whole pathway: state stocks follow the moves between states every month."""
    spec = build_spec(make_cfg())
    for r in range(5):
        assert_states_conserved(spec, run_replication(spec, r)[0])


def test_every_person_is_in_one_state_every_month_hub():
    """The south-east hub (three TCPs, shared secure pools): state conservation for each TCP."""
    spec = build_spec(make_cfg(["system=south_east_hub", "run.years=2"]))
    for r in range(2):
        assert_states_conserved(spec, run_replication(spec, r)[0])


def test_every_person_is_in_one_state_every_month_with_waits():
    """BHR with its ATU and secure pools waiting for a bed ("or wait"): waiting is a state of its own, and
    state stocks still follow the moves every month; so do inpatients (admissions counted when made) and
    the waiting stock (waits started and ended)."""
    cfg = make_cfg(
        [
            "run.replications=6",
            "tcp.beds.atu.wait_months=1",
            "tcp.beds.low_secure.wait_months=2",
            "tcp.beds.medium_secure.wait_months=3",
        ]
    )
    spec = build_spec(cfg)
    waits = 0
    for r in range(3):
        rec, _ = run_replication(spec, r)
        assert_states_conserved(spec, rec)
        waits += int(rec.waits.sum())
    assert waits > 0
    m = run(cfg).monthly
    assert_conserved(m)
    assert m["bed_waits"].fillna(0).sum() > 0 and m["awaiting_bed"].max() > 0


def test_people_are_conserved_every_month_bhr(bhr_result):
    """BHR baseline: no one appears or vanishes in any month of any replication."""
    assert_conserved(bhr_result.monthly)


def test_people_are_conserved_every_month_in_a_system():
    """In a system with a shared pool, conservation holds for the whole and for each TCP."""
    m = run(system_cfg(**{"run.replications": 4, "run.years": 2, "run.warmup_years": 1})).monthly
    assert_conserved(m)
    assert_conserved(m, "a1/")
    assert_conserved(m, "a2/")


def test_same_seed_same_result_other_seed_other_result():
    """The same config and seed give identical tables; another seed gives different ones."""
    a = run(make_cfg(["run.replications=6"])).monthly
    b = run(make_cfg(["run.replications=6"])).monthly
    c = run(make_cfg(["run.replications=6", "run.seed=7"])).monthly
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_a_replication_does_not_depend_on_the_others():
    """Replication r is the same whether run alone, in a different chunking or in a bigger run."""
    spec = build_spec(make_cfg(["run.replications=8"]))
    whole, _ = run_replications(spec, 8, chunk_size=3, engine="simpy")
    alone, _ = run_replications(spec, 8, chunk_size=8, engine="simpy")
    pd.testing.assert_frame_equal(whole, alone)
    first, _ = run_replications(spec, 4, chunk_size=2, engine="simpy")
    pd.testing.assert_frame_equal(first, whole[whole["replication"] < 4].reset_index(drop=True))


@pytest.mark.slow
def test_results_do_not_depend_on_the_number_of_workers():
    """Two worker processes give exactly the table one process gives."""
    spec = build_spec(make_cfg(["run.replications=8"]))
    one, _ = run_replications(spec, 8, workers=1, chunk_size=2, engine="simpy")
    two, _ = run_replications(spec, 8, workers=2, chunk_size=2, engine="simpy")
    pd.testing.assert_frame_equal(one, two)


@pytest.mark.slow
def test_results_do_not_depend_on_the_backend():
    """A Dask LocalCluster on loopback (two worker processes, the Numba engine) gives exactly the table
    that one local process gives."""
    pytest.importorskip("dask.distributed")
    spec = build_spec(make_cfg(["run.replications=8"]))
    one, _ = run_replications(spec, 8, workers=1, chunk_size=2, engine="numba")
    dask, _ = run_replications(spec, 8, workers=2, chunk_size=2, engine="numba", backend="dask")
    pd.testing.assert_frame_equal(one, dask)
