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
from sim.results.catalogue import CATALOGUE, Metric, expand
from sim.results.monthly import system_metrics, tcp_metrics
from sim.results.record import MonthlyArrays

#: Metrics the planners' tools derive from these. Compare's chance of being at or under the plan:
PLAN_METRIC = "p_at_or_under_plan"
#: The capacity curve's shares the fewest-beds rule can be applied to: measure -> column of the table.
MEASURES = {
    "unit": "ooa_unit_share",  # the swept unit type's out-of-area placements over its admissions
    "unit_full_beds": "ooa_unit_full_beds_share",  # of those, placed out of area because no bed was free
    "all": "ooa_share",  # all out-of-area placements over admissions (every unit type)
    "full_beds": "ooa_full_beds_share",  # placed out of area because no in-area bed was free, over admissions
}


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
