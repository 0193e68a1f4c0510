"""Every metric of a replication and the catalogue of their names: the results' own beside the pooled
budget's ledger.

``sim.results`` defines the person, cost and bed metrics and ``sim.finance`` the ledger's, each with its
catalogue entries; this module, above both, puts them together in one order (the system's, then the
ledger's, then each TCP's own), so the runner writes one table and nothing below imports upward.
"""

from __future__ import annotations

import numpy as np

from sim.config import ConfigError
from sim.config.spec import SystemSpec
from sim.finance.ledger import CATALOGUE as LEDGER_CATALOGUE
from sim.finance.ledger import ledger_metrics
from sim.results.catalogue import CATALOGUE, Metric, describe, expand
from sim.results.monthly import system_metrics, tcp_metrics
from sim.results.record import MonthlyArrays


def metrics(spec: SystemSpec, rec: MonthlyArrays) -> dict[str, np.ndarray]:
    """Every named metric of one replication (or of a stacked record), each a series over the stock
    points: the system's, the pooled budget's ledger when there is one, and each TCP's own."""
    return system_metrics(spec, rec) | ledger_metrics(spec, rec) | tcp_metrics(spec, rec)


def catalogue(spec: SystemSpec) -> dict[str, Metric]:
    """The metrics ``metrics`` gives for ``spec``, by name (without computing any)."""
    entries = CATALOGUE + (LEDGER_CATALOGUE if spec.pooled_budget is not None else ())
    return expand(entries, spec)


def check_metric(key: str, name: str, spec: SystemSpec) -> Metric:
    """The catalogue entry of ``name``, or a ConfigError naming ``key`` (for a user's choice of metric)."""
    known = catalogue(spec)
    if name not in known:
        raise ConfigError(key, f"unknown metric '{name}' (see the README's metrics table)")
    return known[name]


def about(name: str) -> Metric | None:
    """The catalogue entry of a metric named in full (``inpatients_atu``, ``kent_medway/admissions``,
    ``occupancy_bhr_atu``, ``pool_reserve``), for labels and units where no system is at hand; None if the
    name is no metric's."""
    return describe(name, CATALOGUE + LEDGER_CATALOGUE)
