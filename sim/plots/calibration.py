"""A calibration's figures: the calibrated model's fans with the observed figures drawn over them (each
with its rounding interval), and the pairs plot of the posterior."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.plots.fan import draw_observed, fan_panel
from sim.plots.frame import MARCH, finish, grid


def predictive_chart(
    summary: pd.DataFrame,
    observed: pd.DataFrame,
    panels: Sequence[tuple[str, str]],
    *,
    title: str,
    source: str,
    path: Path | None = None,
) -> plt.Figure:
    """One fan per (metric, panel title) of the posterior predictive ``summary`` (month, metric, p05..p95),
    with ``observed`` (metric, month, value, low, high, role) drawn as points and their rounding intervals
    (``draw_observed``)."""
    cols = min(len(panels), 2)
    rows = -(-len(panels) // cols)
    fig, axes = grid(rows, cols, size=(5.4 * cols, 3.5 * rows + 0.8))
    for k, (metric, panel_title) in enumerate(panels):
        ax = axes.flat[k]
        fan_panel(ax, summary, metric, title=panel_title, tick_months=MARCH)  # one legend: the figure's (finish)
        points = observed[observed["metric"] == metric]
        draw_observed(ax, points)
        top = max(
            float(summary.loc[summary["metric"] == metric, "p95"].max()),
            float(points["high"].max()) if len(points) else 0,
        )
        ax.set_ylim(0, top * 1.12 if top > 0 else 1)
    handles, labels = [], []
    for ax in axes.flat[: len(panels)]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    return finish(fig, title, source, path, legend=(handles, labels))


def pairs_chart(
    draws: pd.DataFrame, labels: Sequence[tuple[str, str]], *, title: str, source: str, path: Path | None = None
) -> plt.Figure:
    """The posterior's pairs plot: each parameter's weighted histogram on the diagonal, each pair's draws
    (sized by weight) below it. ``draws`` has a ``weight`` column and one per parameter; ``labels`` gives
    (column, axis label) in order, with the prior's range as the axis limits if ``low``/``high`` given."""
    d = len(labels)
    fig, axes = grid(d, d, size=(2.1 * d + 0.6, 2.1 * d + 0.9))
    w = draws["weight"].to_numpy()
    size = 4 + 60 * w / w.max() if w.max() > 0 else np.full(len(w), 4.0)
    for i, (yi, ylab) in enumerate(labels):
        for j, (xj, xlab) in enumerate(labels):
            ax = axes[i, j]
            if j > i:
                ax.set_visible(False)
                continue
            if i == j:
                ax.hist(draws[xj], bins=20, weights=w, color="#4292c6")
                ax.set_yticks([])
            else:
                ax.scatter(draws[xj], draws[yi], s=size, color="#08306b", alpha=0.35, lw=0)
            ax.tick_params(labelsize=6)
            if i == d - 1:
                ax.set_xlabel(xlab, fontsize=7)
            if j == 0 and i > 0:
                ax.set_ylabel(ylab, fontsize=7)
    return finish(fig, title, source, path)
