"""The metric catalogue names exactly the metrics a run computes, with a kind, a unit and a label each,
and the README's metrics table lists every family of them."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from helpers_catalogue import specs

from sim.config import ConfigError
from sim.metrics import catalogue, check_metric, metrics
from sim.results.catalogue import CATALOGUE, KINDS, Metric
from sim.results.record import MonthlyArrays

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize("name", sorted(specs))
def test_catalogue_is_what_metrics_computes(name: str) -> None:
    """For a single TCP, a system with shared pools and per-TCP metrics, and one with a pooled budget,
    the catalogue's names are the names ``metrics`` returns, no more and no fewer."""
    spec = specs[name]()
    with np.errstate(all="ignore"):
        computed = metrics(spec, MonthlyArrays.zeros(spec))
    assert set(catalogue(spec)) == set(computed)


@pytest.mark.parametrize("name", sorted(specs))
def test_stocks_have_a_start_value_and_flows_none(name: str) -> None:
    """A flow has no value at the start point (NaN), a stock or level-free stock has one: the kind the
    catalogue gives each metric is the kind its series has."""
    spec = specs[name]()
    with np.errstate(all="ignore"):
        computed = metrics(spec, MonthlyArrays.zeros(spec))
    for metric in catalogue(spec).values():
        starts_empty = bool(np.isnan(computed[metric.name][0]))
        assert starts_empty == (metric.kind in ("flow", "level")), metric.name


def test_every_entry_is_complete() -> None:
    """Each entry has a known kind, a unit and a label, and a bad kind is refused."""
    for m in CATALOGUE:
        assert m.kind in KINDS and m.unit and m.label
    with pytest.raises(ValueError, match="kind"):
        Metric("x", "volume", "people", "x")


def test_readme_table_lists_every_family() -> None:
    """Every catalogue name (with its placeholder) is in the README's metrics table."""
    table = "\n".join(line for line in README.read_text().splitlines() if line.startswith("| `"))
    listed = set(re.findall(r"`([^`]+)`", table))

    def is_listed(m: Metric) -> bool:
        if m.name in listed or "<pool>" in m.name:
            return m.name in listed
        return all(e.name in listed for e in m.expand())  # each spelled out, as cost_ccg, cost_la...

    missing = {m.name for m in CATALOGUE if not is_listed(m)}
    assert not missing, f"README metrics table lacks {sorted(missing)}"


def test_unknown_metric_names_the_key() -> None:
    spec = specs["bhr"]()
    assert check_metric("run.auto.metric", "inpatients", spec).kind == "stock"
    with pytest.raises(ConfigError, match="run.auto.metric: unknown metric 'inpatient'"):
        check_metric("run.auto.metric", "inpatient", spec)
