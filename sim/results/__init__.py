"""Outputs: the monthly record both engines fill, metrics and their catalogue, bands and the trajectory
against plan. (The ledger's metrics join these in ``sim.metrics``, above ``sim.finance``.)"""

from sim.results.catalogue import CATALOGUE, Metric
from sim.results.monthly import system_metrics, tcp_metrics
from sim.results.record import MonthlyArrays
from sim.results.summary import QUANTILES, summarise, summarise_chunks, trajectory_table

__all__ = [
    "CATALOGUE",
    "Metric",
    "MonthlyArrays",
    "QUANTILES",
    "summarise",
    "summarise_chunks",
    "system_metrics",
    "tcp_metrics",
    "trajectory_table",
]
