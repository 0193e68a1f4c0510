"""Bad input to a calibration stops it before anything runs, with one ConfigError naming the key, row or
file (issue 13, point 9); at the command line, one line and exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import open_dict

from sim.calibrate import calibrate, compose
from sim.config import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def tiny(*overrides: str):
    return compose(["calibration=tiny", *overrides])


def refused(cfg, match: str) -> str:
    with pytest.raises(ConfigError, match=match) as e:
        calibrate(cfg, progress=False)
    return e.value.key


def with_prior(key: str, **prior) -> object:
    cfg = tiny()
    with open_dict(cfg):
        cfg.calibration.parameters[key] = prior
    return cfg


def test_an_unknown_parameter_key_is_named():
    cfg = with_prior("tcp.crisis.unregistred_rate", prior="uniform", low=1, high=2)
    assert refused(cfg, "not a number in the model config") == "calibration.parameters.tcp.crisis.unregistred_rate"


def test_reversed_bounds_are_named():
    cfg = with_prior("tcp.ctr.coverage", prior="uniform", low=0.9, high=0.2)
    assert refused(cfg, "bounds reversed") == "calibration.parameters.tcp.ctr.coverage"


def test_a_prior_outside_the_keys_valid_range_is_named():
    cfg = with_prior("tcp.ctr.coverage", prior="uniform", low=0.5, high=1.5)
    assert refused(cfg, "outside the key's valid range") == "calibration.parameters.tcp.ctr.coverage.high"


def test_a_log_uniform_prior_needs_positive_bounds_and_families_are_checked():
    assert refused(with_prior("tcp.ctr.coverage", prior="log_uniform", low=0, high=1), "above 0").endswith(".low")
    assert refused(with_prior("tcp.ctr.coverage", prior="normal", low=0, high=1), "must be one of").endswith(".prior")


def test_unknown_keys_of_the_section_are_named():
    cfg = tiny()
    with open_dict(cfg):
        cfg.calibration.method["wavez"] = 3
    assert refused(cfg, "unknown key") == "calibration.method.wavez"


def test_a_method_setting_out_of_range_is_named():
    assert refused(tiny("calibration.method.waves=0"), "whole number") == "calibration.method.waves"
    assert refused(tiny("calibration.method.points=[16,1]"), "whole number") == "calibration.method.points"


def test_a_bad_train_until_month_is_named():
    assert refused(tiny("calibration.train_until=2017-13"), "2017-13") == "calibration.train_until"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "observed.csv"
    path.write_text(text)
    return path


HEAD = "area,month,metric,value,kind,from,rounding,basis,source\n"


@pytest.mark.parametrize(
    ("row", "match"),
    [
        ("bhr,2017-04,inpatients,22,stock,,0,as published\n", "missing column"),  # no source column
        ("bhr,2017-4x,inpatients,22,stock,,0,as published,x\n", "not a month"),
        ("bhr,2017-04,inpatients_on_mars,22,stock,,0,as published,x\n", "not a metric the model produces"),
    ],
)
def test_a_bad_observed_file_names_the_file_and_line(tmp_path, row, match):
    text = HEAD.replace(",source", "") + row if "missing" in match else HEAD + row
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=match) as e:
        calibrate(tiny(f"calibration.observed={path}", "calibration.metrics=null"), progress=False)
    assert e.value.key == "calibration.observed"


def test_an_observed_file_with_nothing_inside_the_run_is_refused(tmp_path):
    path = write(tmp_path, HEAD + "bhr,2030-04,inpatients,22,stock,,0,as published,x\n")
    refused(tiny(f"calibration.observed={path}", "calibration.metrics=null"), "nothing to fit")


def test_a_metric_choice_no_row_has_is_named():
    assert refused(tiny("calibration.metrics=[admissions,breakdowns]"), "breakdowns") == "calibration.metrics"


def test_a_missing_observed_file_is_named():
    assert refused(tiny("calibration.observed=no/such.csv"), "no such file") == "calibration.observed"


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("calibration.observed=no/such.csv", "config error: calibration.observed: no/such.csv: no such file"),
        ("calibration.method.waves=0", "config error: calibration.method.waves"),
        ("calibration=no_such_calibration", "config error: no config"),
    ],
)
def test_the_command_line_gives_one_line_and_exit_2(tmp_path, override, expected):
    p = subprocess.run(
        [sys.executable, "-m", "sim.calibrate", "calibration=tiny", override, f"hydra.run.dir={tmp_path / 'out'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), p.stderr
    assert not (tmp_path / "out").exists()  # the refused calibration leaves no directory
