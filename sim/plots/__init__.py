"""Figures for planners (matplotlib, written to files)."""

import matplotlib

from sim.plots.fan import board_charts, fan_chart, fan_panel, small_multiples


def files_only() -> None:
    """Draw into files only (matplotlib's Agg backend): for the command lines, which run on machines with
    no screen and in worker processes. Library code leaves the backend alone, so notebooks keep theirs."""
    matplotlib.use("Agg")


__all__ = ["board_charts", "fan_chart", "fan_panel", "files_only", "small_multiples"]
