"""A small calibration end to end (configs/calibration/tiny.yaml): its files, resume wave by wave, the same
results whatever runs the points, hold-out scoring, and the plain finding when no point survives."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.calibrate import calibrate, compose
from sim.calibrate.run import simulator_config
from sim.calibrate.settings import read_calibration
from sim.config import ConfigError
from sim.observed import read_observed

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cal") / "tiny"
    calibrate(compose(["calibration=tiny"]), out, progress=False)
    return out


def test_a_calibration_writes_its_outputs(tiny_dir):
    for name in (
        "calibration.yaml",
        "waves.csv",
        "posterior.parquet",
        "parameters.csv",
        "fit.csv",
        "predictive.csv",
        "posterior_predictive.png",
        "posterior_pairs.png",
        "report.html",
        "manifest.json",
        "calibrated/tiny.yaml",
    ):
        assert (tiny_dir / name).is_file(), name
    waves = pd.read_csv(tiny_dir / "waves.csv")
    assert sorted(waves["wave"].unique()) == [1, 2]
    assert {"points", "share_of_space_kept", "min_implausibility", "target"} <= set(waves.columns)
    assert (waves["share_of_space_kept"] > 0).all() and (waves["share_of_space_kept"] <= 1.0001).all()
    post = pd.read_parquet(tiny_dir / "posterior.parquet")
    assert post["weight"].sum() == pytest.approx(1.0) and (post["weight"] > 0).all()
    assert {"tcp.crisis.unregistered_rate", "tcp.ctr.avert"} <= set(post.columns)
    assert post["tcp.ctr.avert"].between(0.05, 0.9).all()  # inside the prior
    fit = pd.read_csv(tiny_dir / "fit.csv")
    assert list(fit["metric"]) == ["admissions", "discharges", "inpatients"]
    assert (fit["p05"] <= fit["median"]).all() and (fit["median"] <= fit["p95"]).all()
    manifest = json.loads((tiny_dir / "manifest.json").read_text())
    assert manifest["simulations"] == 2 * 16 * 4 + 20 and manifest["wall_seconds"] > 0
    assert "versions" in manifest and manifest["seed"] == 20160401
    report = (tiny_dir / "report.html").read_text()
    assert "Fitted parameters" in report and "tcp.ctr.avert" in report
    override = (tiny_dir / "calibrated" / "tiny.yaml").read_text()
    assert "@package _global_" in override and "unregistered_rate" in override and "parameters:" in override


def test_a_stopped_calibration_resumes_at_the_wave_it_lacks(tiny_dir, tmp_path):
    # the same calibration, stopped after its first wave (its later files never written), then resumed
    out = tmp_path / "again"
    calibrate(compose(["calibration=tiny"]), out, progress=False)
    (out / "waves" / "wave-02.npz").unlink()
    for name in ("posterior.parquet", "fit.csv", "manifest.json"):
        (out / name).unlink()
    calibrate(compose(["calibration=tiny", f"calibration.resume={out}"]), out, progress=False)
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "posterior.parquet"), pd.read_parquet(tiny_dir / "posterior.parquet")
    )
    pd.testing.assert_frame_equal(pd.read_csv(out / "fit.csv"), pd.read_csv(tiny_dir / "fit.csv"))


def test_a_resume_with_another_config_is_refused(tiny_dir, tmp_path):
    stopped = tmp_path / "stopped"  # a calibration stopped after its first wave
    (stopped / "waves").mkdir(parents=True)
    shutil.copy(tiny_dir / "calibration.yaml", stopped)
    shutil.copy(tiny_dir / "waves" / "wave-01.npz", stopped / "waves")
    cfg = compose(["calibration=tiny", f"calibration.resume={stopped}", "calibration.method.seed=9"])
    with pytest.raises(ConfigError, match="another config") as e:
        calibrate(cfg, stopped, progress=False)
    assert e.value.key == "calibration.resume"
    assert not (stopped / "waves" / "wave-02.npz").exists()


def test_a_complete_calibration_is_not_resumed(tiny_dir):
    before = (tiny_dir / "fit.csv").read_bytes()
    with pytest.raises(ConfigError, match="is complete"):
        calibrate(compose(["calibration=tiny", f"calibration.resume={tiny_dir}"]), tiny_dir, progress=False)
    assert (tiny_dir / "fit.csv").read_bytes() == before


def test_a_directory_holding_a_calibration_is_never_overwritten(tiny_dir):
    before = (tiny_dir / "fit.csv").read_bytes()
    with pytest.raises(ConfigError, match="already holds a calibration"):
        calibrate(compose(["calibration=tiny"]), tiny_dir, progress=False)
    assert (tiny_dir / "fit.csv").read_bytes() == before


@pytest.mark.slow
def test_the_points_give_the_same_results_whatever_runs_them():
    one = calibrate(compose(["calibration=tiny"]), progress=False)
    for backend in ("processes", "dask"):
        other = calibrate(
            compose(["calibration=tiny", "calibration.method.workers=2", f"calibration.method.backend={backend}"]),
            progress=False,
        )
        for a, b in zip(one.waves, other.waves):
            np.testing.assert_array_equal(a.values, b.values)
        pd.testing.assert_frame_equal(one.posterior, other.posterior)


def test_held_out_targets_are_left_out_of_the_fit_and_scored():
    result = calibrate(compose(["calibration=tiny", "calibration.train_until=2017-03"]), progress=False)
    fit = result.fit.set_index("metric")
    assert fit.loc["inpatients", "role"] == "held out" and fit.loc["admissions", "role"] == "train"
    assert result.scores is not None and result.scores["held_out_targets"] == 1
    assert 0 <= result.scores["share_inside_90"] <= 1
    # the held-out target did not decide which points survived
    held = [t.role for t in result.selection.targets]
    assert held == ["train", "train", "held out"]
    assert (result.waves_table[result.waves_table["role"] == "held out"]["target"].str.startswith("inpatients")).all()


def test_when_no_point_survives_the_calibration_says_so_and_names_the_targets(tmp_path):
    cfg = compose(["calibration=tiny"])
    cal = read_calibration(cfg.calibration, simulator_config(cfg))
    observed = read_observed(cal.observed)
    impossible = [replace(o, value=500.0) if o.metric == ("admissions",) else o for o in observed]
    result = calibrate(cfg, tmp_path / "none", observations=impossible, progress=False)
    assert result.posterior is None
    assert result.unmet and result.unmet[0].startswith("admissions 2016-04 to 2017-03")
    assert result.manifest["no_point_survived"]
    report = (tmp_path / "none" / "report.html").read_text()
    assert "No point survived" in report and "admissions 2016-04 to 2017-03" in report
    assert not (tmp_path / "none" / "posterior.parquet").exists()


def test_the_calibrated_override_runs_with_the_posterior(tiny_dir, tmp_path):
    # what the calibration's report says to paste: python -m sim --config-dir <dir> +calibrated=<name>
    out = tmp_path / "run"
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "--config-dir",
            str(tiny_dir),
            "+calibrated=tiny",
            "run.replications=4",
            "run.years=1",
            f"hydra.run.dir={out}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert Path(manifest["parameters"]["file"]).resolve() == (tiny_dir / "posterior.parquet").resolve()
    assert "tcp.ctr.avert" in manifest["parameters"]["keys"]
