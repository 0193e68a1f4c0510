"""Figures for planners (matplotlib, written to files)."""

from sim.plots.fan import fan_chart

__all__ = ["fan_chart"]
