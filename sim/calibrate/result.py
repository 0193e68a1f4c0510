"""What a calibration holds as it goes and what it gives: its waves and the result (``sim.calibrate.run``
fills them; ``sim.calibrate.outputs`` writes them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibrate.history import implausibility, kernel_density, ranked
from sim.calibrate.settings import Calibration
from sim.calibrate.targets import Selection, Target


@dataclass
class Wave:
    """One wave: the kernels it sampled from (none: the whole cube), its points (cube and values), the
    design's density at each, and the simulated targets."""

    index: int
    centres: np.ndarray  # [kernels, d]; empty for the first wave
    sd: np.ndarray  # [d]
    density: np.ndarray  # [points]
    u: np.ndarray  # [points, d]
    x: np.ndarray  # [points, d] parameter values
    values: np.ndarray  # [points, replications, targets]
    seconds: float = float("nan")  # wall time of its simulations (NaN: not recorded)
    mean: np.ndarray = field(init=False)
    var: np.ndarray = field(init=False)
    implausibility: np.ndarray = field(init=False)

    def judge(self, targets: tuple[Target, ...]) -> None:
        observed = np.array([t.value for t in targets])
        variance = np.array([t.variance for t in targets])
        self.mean, self.var, self.implausibility = implausibility(self.values, observed, variance)

    def density_at(self, u: np.ndarray) -> np.ndarray:
        """This wave's design density at points ``u`` of the cube (1 for the first wave's uniform design)."""
        return kernel_density(u, self.centres, self.sd) if len(self.centres) else np.ones(len(u))

    def kept(self, train: np.ndarray, cutoff: float, rank: int = 1) -> np.ndarray:
        """Points whose ``rank``-th largest implausibility over the training targets is within the cut-off."""
        return ranked(self.implausibility[:, train], rank) <= cutoff


@dataclass
class CalibrationResult:
    """What a calibration found: its waves, the posterior (None when no point survived) and the fit."""

    calibration: Calibration
    selection: Selection
    waves: list[Wave]
    waves_table: pd.DataFrame
    posterior: pd.DataFrame | None
    parameters: pd.DataFrame | None
    fit: pd.DataFrame | None
    scores: dict[str, float] | None
    unmet: list[str]
    manifest: dict[str, Any]
    out_dir: Path | None
    predictive: pd.DataFrame | None = None  # the fans' bands (month, metric, quantiles)
