"""Flat memory (issue 16, point 8): the bands folded from a run's chunk files in batches under a byte
cap are those of the whole table to the bit, however small the batches (whole columns, one column, a
few months of one column); and the other readers of publish read only the months they use."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
from helpers import make_cfg

from sim.config import build_spec
from sim.observed import read_observed
from sim.report.sections import OBSERVED_DIR, observed_fit
from sim.results import summarise, summarise_chunks
from sim.results.summary import ChunkGrid, _bands
from sim.runner import chunk_files, read_chunks, run_replications


def caps(replications: int, months: int, metrics: int) -> list[int]:
    """Caps that take each path of ``ChunkGrid.batches``: one batch, a few whole columns, one column,
    a few months of one column, and the smallest (two months of one column)."""
    column = 8 * replications * months
    return [column * metrics, 3 * column, column, column // 3, 1]


def run_dir(tmp_path, overrides: list[str], replications: int, chunk: int):
    cfg = make_cfg(["run.engine=numba", *overrides])
    spec = build_spec(cfg)
    run_replications(spec, replications, chunk_size=chunk, out_dir=tmp_path, engine="numba")
    return spec, tmp_path


@pytest.mark.parametrize(
    ("overrides", "replications", "columns"),
    [
        (["tcp=bhr", "run.years=3"], 23, [7.0, 1.0, 0.5]),  # a few columns, one, half a column's months
        (["system=south_east_hub", "run.years=1"], 11, [37.0, 7.0]),  # 450 columns: 13 batches, then 65
    ],
    ids=["bhr", "south_east_hub"],
)
def test_bands_folded_under_any_cap_are_the_whole_tables_to_the_bit(tmp_path, overrides, replications, columns):
    _, where = run_dir(tmp_path, overrides, replications, chunk=4)
    whole = read_chunks(where)
    expected = summarise(whole)
    months, metrics = whole["month"].nunique(), whole.shape[1] - 2
    assert metrics > 100  # BHR's catalogue; the hub's per-TCP columns on top
    column = 8 * replications * months
    for cap in [column * metrics, *(int(column * k) for k in columns)]:
        got = summarise_chunks(chunk_files(where), cap=cap)
        pdt.assert_frame_equal(got, expected, check_exact=True, obj=f"bands with cap {cap}")


def synthetic_chunks(tmp_path, replications: int = 300, months: int = 5, per_file: int = 70) -> pd.DataFrame:
    """Chunk files of random non-integer values (sums of them depend on the order of adding), rows
    shuffled inside each file, a metric all NaN at the first month and one with a few NaNs."""
    rng = np.random.default_rng(7)
    rows = pd.MultiIndex.from_product([range(replications), [f"2020-{m + 1:02d}" for m in range(months)]])
    frame = pd.DataFrame(
        {"replication": rows.get_level_values(0), "month": rows.get_level_values(1).astype(str)}
    ).reset_index(drop=True)
    for k in range(4):
        frame[f"m{k}"] = rng.lognormal(3.0, 1.5, len(frame))
    frame.loc[frame["month"] == "2020-01", "m1"] = np.nan
    frame.loc[rng.random(len(frame)) < 0.01, "m2"] = np.nan
    (tmp_path / "replications").mkdir()
    for i, first in enumerate(range(0, replications, per_file)):
        part = frame[(frame["replication"] >= first) & (frame["replication"] < first + per_file)]
        path = tmp_path / "replications" / f"chunk-{i:05d}.parquet"
        part.sample(frac=1.0, random_state=i).to_parquet(path, index=False)
    return frame


def test_the_fold_sums_the_mean_as_the_whole_does_even_down_to_two_cells(tmp_path):
    whole = synthetic_chunks(tmp_path)
    expected = summarise(whole)
    for cap in caps(300, 5, 4):
        pdt.assert_frame_equal(summarise_chunks(chunk_files(tmp_path), cap=cap), expected, check_exact=True)
    # and the reason for the two-cell floor: a cube of one cell is summed pairwise, not in order
    grid = ChunkGrid(chunk_files(tmp_path))
    one = _bands(grid.cube(["m0"], slice(2, 3)), grid.months[2:3], ["m0"])
    whole_m0 = expected[(expected["metric"] == "m0") & (expected["month"] == "2020-03")]
    assert one["mean"].iloc[0] != whole_m0["mean"].iloc[0]


def test_batches_hold_each_cell_once_and_keep_under_the_cap(tmp_path):
    synthetic_chunks(tmp_path)
    grid = ChunkGrid(chunk_files(tmp_path))
    assert grid.replications == 300 and list(grid.months) == [f"2020-{m:02d}" for m in range(1, 6)]
    for cap in caps(300, 5, 4):
        cells = []
        for names, months in grid.batches(cap):
            span = range(5)[months]
            assert len(names) * len(span) >= 2
            assert 8 * 300 * len(names) * len(span) <= max(cap, 8 * 300 * 3)  # two cells, or three at a tail
            cells += [(n, m) for n in names for m in span]
        assert sorted(cells) == sorted((f"m{k}", m) for k in range(4) for m in range(5))


def test_a_grid_cube_is_the_sorted_tables_values(tmp_path):
    whole = synthetic_chunks(tmp_path)
    grid = ChunkGrid(chunk_files(tmp_path))
    ordered = whole.sort_values(["replication", "month"])
    expected = ordered[["m2", "m0"]].to_numpy().reshape(300, 5, 2)[:, 1:4]
    np.testing.assert_array_equal(grid.cube(["m2", "m0"], slice(1, 4)), expected)


def test_read_chunks_keeps_only_the_months_asked_for(tmp_path):
    whole = synthetic_chunks(tmp_path)
    asked = ["2020-04", "2020-02"]
    got = read_chunks(tmp_path, columns=["replication", "month", "m1"], months=asked)
    expected = whole.loc[whole["month"].isin(asked), ["replication", "month", "m1"]]
    pdt.assert_frame_equal(
        got.sort_values(["replication", "month"]).reset_index(drop=True),
        expected.sort_values(["replication", "month"]).reset_index(drop=True),
        check_exact=True,
    )
    # the month is read to filter by, but only the columns asked for come back
    assert list(read_chunks(tmp_path, columns=["m1"], months=asked).columns) == ["m1"]
    assert len(read_chunks(tmp_path, columns=["m1"], months=["2020-02"])) == 300


def test_observed_fit_reads_its_months_only_and_matches_the_whole_tables_figures(tmp_path):
    spec, where = run_dir(tmp_path, ["tcp=bhr", "run.years=3"], 17, chunk=5)
    fit = observed_fit(spec, where)
    assert fit is not None and len(fit["rows"]) > 5
    whole = read_chunks(where)
    months = set(spec.calendar.labels)
    figures = [f for f in read_observed(OBSERVED_DIR / "bhr.csv") if f.start in months and f.month in months]
    assert {f.kind for f in figures} == {"stock", "flow"}
    expected = []
    for f in figures:  # the present method: each figure from the whole monthly table
        values = f.simulated(whole)
        values = values[~pd.isna(values)]
        if len(values):
            expected.append([float(q) for q in pd.Series(values).quantile([0.05, 0.5, 0.95])])
    assert [[r["p05"], r["median"], r["p95"]] for r in fit["rows"]] == expected
