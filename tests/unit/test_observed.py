"""Observed series as data (sim/observed.py): the shipped files read cleanly, a bad row is refused
naming its line, and a figure is simulated as it was published (a stock at its month, a flow summed over
its months, a share as a ratio)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.config import ConfigError
from sim.observed import read_observed

DATA = Path(__file__).resolve().parents[2] / "data" / "observed"
HEADER = "area,month,metric,value,kind,from,rounding,basis,source,denominator\n"


@pytest.mark.parametrize("area", ["bhr", "england"])
def test_the_shipped_observed_files_are_valid(area):
    """Every row names a metric the model produces, with its kind; nothing after March 2019 (held out)."""
    rows = read_observed(DATA / f"{area}.csv")
    assert rows and all(r.area == area for r in rows)
    assert max(r.month for r in rows) <= "2019-03"


BAD = [
    ("area,month,metric,value,kind\n", "line 1: missing column(s) source, from, rounding, basis"),
    (HEADER + "x,2016-13,inpatients,3,stock,,0,,s,\n", "line 2: month '2016-13' is not a month (YYYY-MM)"),
    (HEADER + "x,2016-03,inpatientz,3,stock,,0,,s,\n", "line 2: 'inpatientz' is not a metric the model produces"),
    (HEADER + "x,2016-03,admissions,3,stock,,0,,s,\n", "line 2: 'admissions' is a flow metric, but the row says stock"),
    (HEADER + "x,2016-03,admissions,3,flow,,0,,s,\n", "line 2: a flow needs its first month in 'from'"),
    (HEADER + "x,2016-03,admissions,3,flow,2016-05,0,,s,\n", "line 2: from 2016-05 is after month 2016-03"),
    (HEADER + "x,2016-03,inpatients,3,stock,2016-01,0,,s,\n", "line 2: a stock is at one month's end"),
    (HEADER + "x,2016-03,inpatients,-3,stock,,0,,s,\n", "line 2: value -3 must be a number at least 0"),
    (HEADER + "x,2016-03,long_stayers_2y,47,stock,,0,,s,inpatients\n", "line 2: a share (with a denominator)"),
    (HEADER + "x,2016-03,inpatients,3,census,,0,,s,\n", "line 2: kind 'census' must be 'stock' or 'flow'"),
    (HEADER + "x,2016-03,inpatients,3,stock,,0,,,\n", "line 2: source is empty"),
]


@pytest.mark.parametrize("text, message", BAD, ids=[m.split(":")[1].strip()[:30] for _, m in BAD])
def test_a_bad_row_names_its_line(tmp_path, text, message):
    path = tmp_path / "obs.csv"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        read_observed(path, key="calibration.observed")
    assert err.value.key == "calibration.observed" and f"obs.csv {message}" in str(err.value)


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "obs.csv"
    path.write_bytes(HEADER.encode() + b"x,2016-03,inpatients,3,stock,,0,,caf\xe9,\n")
    with pytest.raises(ConfigError, match="obs.csv is not UTF-8 text"):
        read_observed(path)


def test_a_figure_is_simulated_as_it_was_published(tmp_path):
    """By hand, two replications: a stock at its month, a flow summed over its months, a sum of metrics,
    and a share (NaN where the denominator is 0)."""
    path = tmp_path / "obs.csv"
    path.write_text(
        HEADER
        + "x,2016-05,inpatients,3,stock,,0,,s,\n"
        + "x,2016-05,admissions+transfers,3,flow,2016-04,0,,s,\n"
        + "x,2016-05,long_stayers_2y,0.5,stock,,0,,s,inpatients\n"
    )
    stock, flow, share = read_observed(path)
    monthly = pd.DataFrame(
        {
            "replication": [0, 0, 0, 1, 1, 1],
            "month": ["2016-03", "2016-04", "2016-05"] * 2,
            "inpatients": [9.0, 8.0, 4.0, 9.0, 8.0, 0.0],
            "long_stayers_2y": [1.0, 1.0, 2.0, 1.0, 1.0, 0.0],
            "admissions": [np.nan, 1.0, 2.0, np.nan, 3.0, 0.0],
            "transfers": [np.nan, 1.0, 0.0, np.nan, 0.0, 1.0],
        }
    )
    np.testing.assert_array_equal(stock.simulated(monthly), [4.0, 0.0])
    np.testing.assert_array_equal(flow.simulated(monthly), [4.0, 4.0])
    np.testing.assert_array_equal(share.simulated(monthly), [0.5, np.nan])
    assert flow.label == "admissions+transfers 2016-04 to 2016-05 (as published)"
