"""The shipped England calibration (configs/calibrated/england/): the forecast command of the README
composes, its posterior is England's and every draw builds, and the calibration's configs compose."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.api import compose, prepare
from sim.calibrate import compose as compose_calibration
from sim.calibrate.run import simulator_config
from sim.calibrate.settings import read_calibration
from sim.config import CONFIG_DIR
from sim.config.parameters import read_posterior


def test_the_forecast_command_composes_with_the_posterior():
    cfg = compose(["tcp=england", "+calibrated=england", "run.years=10", "run.replications=2"])
    prepared = prepare(cfg)  # checks the posterior against the run (its system, keys and extreme draws)
    assert prepared.spec.calendar.labels[0] == "2015-04" and prepared.spec.calendar.labels[-1] == "2025-03"
    posterior = read_posterior(CONFIG_DIR / "calibrated" / "england" / "posterior.parquet")
    assert posterior.system == "england" and len(posterior.keys) == 12
    assert np.isclose(posterior.weights.sum(), 1.0)
    assert prepared.manifest["parameters"]["draws"] == len(posterior.weights)


def test_the_shipped_fit_is_the_calibration_s_own():
    fit = pd.read_csv(CONFIG_DIR / "calibrated" / "england" / "fit.csv")
    cfg = compose_calibration(["calibration=england"])
    cal = read_calibration(cfg.calibration, simulator_config(cfg))
    assert cal.train_until is None and len(fit) == 16 and (fit["role"] == "train").all()
    # every shipped target is a published figure up to March 2019 (later ones are held out of the project)
    assert (fit["month"] <= "2019-03").all()


def test_every_calibration_config_composes():
    for path in sorted((CONFIG_DIR / "calibration").glob("*.yaml")):
        cfg = compose_calibration([f"calibration={path.stem}"])
        cal = read_calibration(cfg.calibration, simulator_config(cfg))
        assert cal.name == path.stem
