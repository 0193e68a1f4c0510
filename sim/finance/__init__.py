"""Money: the pooled budget's ledger (from the monthly flows of one replication, ``sim.finance.ledger``)
and the finance outputs of a run (bands per month and per financial year, the reserve chart,
``sim.finance.outputs``). The outputs (and matplotlib) load only when first used, so the engines' worker
processes, which compute the ledger with every replication's metrics, do not import them."""

from typing import Any

from sim.finance.ledger import FLOWS, STOCKS, financial_years, ledger

_OUTPUTS = ("FINANCE_METRICS", "finance_monthly", "finance_years", "plot_finance", "reserve_risk", "write_finance")

__all__ = ["FLOWS", "STOCKS", "financial_years", "ledger", *_OUTPUTS]


def __getattr__(name: str) -> Any:
    if name in _OUTPUTS:
        from sim.finance import outputs

        return getattr(outputs, name)
    raise AttributeError(f"module 'sim.finance' has no attribute {name!r}")
