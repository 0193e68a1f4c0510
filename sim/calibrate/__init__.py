"""Fitting the model to observed series (issue 13): history matching by direct simulation in waves, a
posterior over what survives, the posterior predictive against every target, and hold-out scores.

    python -m sim.calibrate calibration=bhr          # configs/calibration/bhr.yaml; outputs/calibrate/...

``calibrate(cfg, out_dir)`` is the same from Python; docs/calibration.md describes the method and files.
"""

from sim.calibrate.run import CalibrationResult, calibrate, compose, simulator_config
from sim.calibrate.settings import Calibration, read_calibration

__all__ = ["Calibration", "CalibrationResult", "calibrate", "compose", "read_calibration", "simulator_config"]
