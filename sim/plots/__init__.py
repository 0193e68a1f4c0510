"""Figures for planners (matplotlib, written to files)."""

from sim.plots.fan import board_charts, fan_chart, fan_panel, small_multiples

__all__ = ["board_charts", "fan_chart", "fan_panel", "small_multiples"]
