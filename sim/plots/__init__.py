"""Figures for planners (matplotlib, written to files), every one in the frame of ``sim.plots.frame`` (title,
axis units, month-end dates, source line): fan charts (``fan``), the scenario comparison (``compare``), the
capacity curve (``capacity``), the sweep chart (``sweep``), the pooled budget's chart (``finance``) and the
distribution at each milestone (``milestones``). Only the board charts of a run (the fans and the
milestone chart) load with the package; the others are imported from their modules."""

import matplotlib

from sim.plots.fan import board_charts, fan_chart, fan_panel, small_multiples


def files_only() -> None:
    """Draw into files only (matplotlib's Agg backend): for the command lines, which run on machines with
    no screen and in worker processes. Library code leaves the backend alone, so notebooks keep theirs."""
    matplotlib.use("Agg")


__all__ = ["board_charts", "fan_chart", "fan_panel", "files_only", "small_multiples"]
