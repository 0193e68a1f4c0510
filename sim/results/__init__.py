"""Outputs: the monthly record both engines fill, metrics, bands and the trajectory against plan."""

from sim.results.monthly import MonthlyArrays, metrics
from sim.results.summary import QUANTILES, summarise, summarise_chunks, trajectory_table

__all__ = ["MonthlyArrays", "QUANTILES", "metrics", "summarise", "summarise_chunks", "trajectory_table"]
