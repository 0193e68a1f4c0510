"""Conservation of people and reproducibility: the checks of DESIGN.md section 6 that must always hold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import make_cfg, system_cfg
from sim.api import run
from sim.config import build_spec
from sim.runner import run_replications


def assert_conserved(monthly: pd.DataFrame, prefix: str = "") -> None:
    """Each month's stock is the previous stock plus admissions minus discharges."""
    for _, rep in monthly.groupby("replication"):
        stock = rep[f"{prefix}inpatients"].to_numpy()
        adm = rep[f"{prefix}admissions"].to_numpy()[1:]
        dis = rep[f"{prefix}discharges"].to_numpy()[1:]
        np.testing.assert_array_equal(stock[1:], stock[:-1] + adm - dis)


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
    whole, _ = run_replications(spec, 8, chunk_size=3)
    alone, _ = run_replications(spec, 8, chunk_size=8)
    pd.testing.assert_frame_equal(whole, alone)
    first, _ = run_replications(spec, 4, chunk_size=2)
    pd.testing.assert_frame_equal(first, whole[whole["replication"] < 4].reset_index(drop=True))


@pytest.mark.slow
def test_results_do_not_depend_on_the_number_of_workers():
    """Two worker processes give exactly the table one process gives."""
    spec = build_spec(make_cfg(["run.replications=8"]))
    one, _ = run_replications(spec, 8, workers=1, chunk_size=2)
    two, _ = run_replications(spec, 8, workers=2, chunk_size=2)
    pd.testing.assert_frame_equal(one, two)
