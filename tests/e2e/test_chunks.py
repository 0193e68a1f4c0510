"""Flat memory: a run with a directory keeps its tables in chunk files, not in memory, and the bands
folded from the files are the bands of the whole table."""

from __future__ import annotations

import pandas as pd
import pandas.testing as pdt
import pytest
from helpers import make_cfg, system_cfg

from sim.api import run
from sim.config import build_spec
from sim.results import summarise, summarise_chunks
from sim.runner import chunk_files, read_chunks, run_replications


def test_written_run_keeps_nothing_in_memory_and_folds_the_same_bands(tmp_path):
    cfg = make_cfg(["run.replications=7", "run.chunk_size=3", "run.engine=numba"])
    spec = build_spec(cfg)
    monthly, events = run_replications(spec, 7, chunk_size=3, out_dir=tmp_path / "a", engine="numba")
    assert monthly is None and events is None
    assert [f.name for f in chunk_files(tmp_path / "a")] == [
        "chunk-00000.parquet",
        "chunk-00001.parquet",
        "chunk-00002.parquet",
    ]
    whole, _ = run_replications(spec, 7, chunk_size=3, engine="numba")
    pdt.assert_frame_equal(read_chunks(tmp_path / "a"), whole)
    # a cap of 5 metrics' columns, so the fold really reassembles batches
    cap = 5 * 8 * 7 * whole["month"].nunique()
    pdt.assert_frame_equal(summarise_chunks(chunk_files(tmp_path / "a"), cap=cap), summarise(whole), check_exact=True)


def test_run_result_reads_its_tables_from_the_directory(tmp_path):
    cfg = system_cfg(**{"run.replications": 6, "run.chunk_size": 4, "run.engine": "numba", "run.years": 1})
    in_memory = run(cfg)
    written = run(cfg, out_dir=tmp_path / "run")
    assert written._monthly is None  # not held: read when asked
    pdt.assert_frame_equal(written.summary, in_memory.summary)
    pdt.assert_frame_equal(written.trajectory, in_memory.trajectory)
    assert set(written.trajectory["metric"]) == {"inpatients", "a1/inpatients", "a2/inpatients"}
    pdt.assert_frame_equal(written.monthly, in_memory.monthly)
    assert isinstance(written.monthly, pd.DataFrame)


def test_board_charts_draw_the_plan_per_million(bhr_result, tmp_path):
    """The per-million chart draws the plan per million adults: 26 at the census is 26/579,570 a million."""
    import matplotlib.pyplot as plt

    from sim.plots.fan import board_charts, per_million

    plan = per_million(bhr_result.spec.trajectory(), bhr_result.spec.population.adults)
    assert plan["2016-03"] == pytest.approx(26 / 579_570 * 1e6)
    files = board_charts(
        bhr_result.summary,
        bhr_result.spec,
        "Source: test",
        tmp_path,
        trajectory=bhr_result.trajectory,
        at_milestones=bhr_result.monthly,
    )
    assert [f.name for f in files] == [
        "fan_inpatients.png",
        "fan_by_unit.png",
        "fan_by_area.png",
        "fan_per_million.png",
        "milestones.png",
    ]
    assert all(f.stat().st_size > 10_000 and f.with_suffix(".svg").is_file() for f in files)
    assert not plt.get_fignums()  # every figure closed: a long sweep does not pile them up


def test_tcp_metrics_off_leaves_only_the_system_columns():
    res = run(system_cfg(**{"run.replications": 3, "run.engine": "numba", "run.years": 1, "run.tcp_metrics": False}))
    assert not [c for c in res.monthly.columns if "/" in c]
    assert set(res.trajectory["metric"]) == {"inpatients"}
    full = run(system_cfg(**{"run.replications": 3, "run.engine": "numba", "run.years": 1}))
    assert [c for c in full.monthly.columns if c.startswith("a2/")]
    pdt.assert_frame_equal(res.monthly, full.monthly[res.monthly.columns])  # the same system figures


def test_plan_probability_has_a_wilson_interval():
    """P(at or under) comes with its 95% Wilson interval: checked against the closed form by hand."""
    from sim.results.intervals import wilson

    low, high = wilson(26, 100)  # p = 0.26: centre (0.26 + 1.92/100) / 1.0384, half 1.96 sqrt(...) / 1.0384
    z = 1.959964
    centre = (0.26 + z * z / 200) / (1 + z * z / 100)
    half = z * (0.26 * 0.74 / 100 + z * z / 40000) ** 0.5 / (1 + z * z / 100)
    assert (low, high) == pytest.approx((centre - half, centre + half))
    assert wilson(0, 50)[0] == 0.0 and 0 < wilson(0, 50)[1] < 0.08 and wilson(50, 50)[1] == pytest.approx(1.0)


def test_band_quantiles_equal_numpys_nan_aware_ones():
    """The fast path of the bands gives np.nanquantile's numbers, whatever the cells hold: all NaN (a
    flow's start), some NaN (a pool with no beds some months), none."""
    import warnings

    import numpy as np

    from sim.results.summary import _quantiles

    rng = np.random.default_rng(1)
    cube = rng.normal(size=(50, 7, 9))
    cube[:, 0, :] = np.nan
    cube[::3, 2, 4] = np.nan
    cube[:49, 3, 3] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.nanquantile(cube, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    np.testing.assert_array_equal(_quantiles(cube, [0.05, 0.25, 0.5, 0.75, 0.95]), expected)


def test_metrics_of_stacked_records_are_each_replications_own():
    """The runner computes a batch of replications' metrics in one pass over their stacked records: every
    metric (people, costs, per-TCP columns and the pooled budget's ledger, on the hub) equals the
    replication's own, one at a time; and a batch split by BATCH_BYTES gives the same table."""
    import numpy as np

    from sim.engine import Engine
    from sim.metrics import metrics
    from sim.results.record import MonthlyArrays
    from sim.runner import runner

    spec = build_spec(make_cfg(["system=south_east_hub", "scenario=pooled_budget", "run.years=2"]))
    engine = Engine(spec)
    records = [engine.run(r) for r in range(3)]
    together = metrics(spec, MonthlyArrays.stack(records))
    assert any("/" in name for name in together) and "pool_reserve" in together
    for k, rec in enumerate(records):
        alone = metrics(spec, rec)
        assert alone.keys() == together.keys()
        for name, values in alone.items():
            np.testing.assert_array_equal(together[name][:, k], values, err_msg=name)
    whole, _ = runner.run_chunk(spec, runner.Chunk(0, 0, 3), engine="numba")
    runner.BATCH_BYTES, saved = 1, runner.BATCH_BYTES  # a batch of one replication each
    try:
        one_by_one, _ = runner.run_chunk(spec, runner.Chunk(0, 0, 3), engine="numba")
    finally:
        runner.BATCH_BYTES = saved
    pdt.assert_frame_equal(whole, one_by_one, check_exact=True)


def interrupted_copy(src, dst, drop: str) -> None:
    """``dst``: the run in ``src`` as an interruption would leave it: its manifest interrupted, chunk
    ``drop`` not yet written."""
    import json
    import shutil

    shutil.copytree(src, dst)
    (dst / "replications" / drop).unlink()
    manifest = json.loads((dst / "manifest.json").read_text())
    manifest["status"] = "interrupted"
    (dst / "manifest.json").write_text(json.dumps(manifest))


def test_a_resume_sets_aside_a_chunk_another_config_made_and_runs_it_again(tmp_path, caplog):
    """A chunk of a run of another seed put in place of one of the run's own (copied in by hand, left by
    an earlier run): the resume names it, keeps it as *.foreign and runs that chunk again, so the bands
    are those of the run never interrupted, bit for bit."""
    from sim.api import resume

    base = ["run.replications=6", "run.chunk_size=2", "run.years=1", "run.engine=numba"]
    whole = run(make_cfg(base), out_dir=tmp_path / "whole")
    other = run(make_cfg([*base, "run.seed=7"]), out_dir=tmp_path / "other")
    assert not whole.summary.equals(other.summary)
    interrupted_copy(tmp_path / "whole", tmp_path / "mixed", drop="chunk-00002.parquet")
    foreign = tmp_path / "mixed" / "replications" / "chunk-00000.parquet"
    foreign.write_bytes((tmp_path / "other" / "replications" / "chunk-00000.parquet").read_bytes())
    with caplog.at_level("WARNING"):
        resumed = resume(tmp_path / "mixed")
    digest = other.manifest["config_sha256"][:12]
    assert (
        f"{foreign} was made by another config (seed 7, config {digest}); set aside as {foreign}.foreign and run again"
        in caplog.text
    )
    assert (foreign.parent / "chunk-00000.parquet.foreign").read_bytes() == (
        tmp_path / "other" / "replications" / "chunk-00000.parquet"
    ).read_bytes()
    pdt.assert_frame_equal(resumed.summary, whole.summary, check_exact=True)
    assert (tmp_path / "mixed" / "summary.csv").read_bytes() == (tmp_path / "whole" / "summary.csv").read_bytes()
    pdt.assert_frame_equal(resumed.monthly, whole.monthly, check_exact=True)


def test_a_chunk_written_before_chunks_were_stamped_is_kept_on_resume(tmp_path, caplog):
    """A chunk without the stamp (an earlier version's run) is the run's own, as it was taken before."""
    from sim.api import resume

    base = ["run.replications=4", "run.chunk_size=2", "run.years=1", "run.engine=numba"]
    whole = run(make_cfg(base), out_dir=tmp_path / "whole")
    interrupted_copy(tmp_path / "whole", tmp_path / "old", drop="chunk-00001.parquet")
    chunk = tmp_path / "old" / "replications" / "chunk-00000.parquet"
    pd.read_parquet(chunk).to_parquet(chunk, index=False)  # as chunks were written before
    before = chunk.stat().st_mtime_ns
    with caplog.at_level("WARNING"):
        resumed = resume(tmp_path / "old")
    assert "another config" not in caplog.text and not list(chunk.parent.glob("*.foreign"))
    assert chunk.stat().st_mtime_ns == before  # not run again
    pdt.assert_frame_equal(resumed.summary, whole.summary, check_exact=True)


def test_a_resume_removes_the_half_written_files_of_a_stopped_run(tmp_path):
    from sim.api import resume

    base = ["run.replications=4", "run.chunk_size=2", "run.years=1", "run.engine=numba"]
    run(make_cfg(base), out_dir=tmp_path / "whole")
    interrupted_copy(tmp_path / "whole", tmp_path / "cut", drop="chunk-00001.parquet")
    half = tmp_path / "cut" / "replications" / "chunk-00001.tmp"
    half.write_bytes(b"PAR1 half a chunk")
    mine = tmp_path / "cut" / "replications" / "notes.tmp"  # not a name the run writes: left alone
    mine.write_text("the user's\n")
    resume(tmp_path / "cut")
    assert not half.exists() and mine.read_text() == "the user's\n"


def test_an_interrupt_leaves_no_half_written_chunk(tmp_path, monkeypatch):
    """Ctrl-C while a chunk is being written: its .tmp goes, the finished chunks stay."""
    import pyarrow.parquet as pq  # sim.runner.runner._write's, imported when it writes

    write = pq.write_table
    calls = []

    def stop_in_second(table, where, *args, **kwargs):
        calls.append(where)
        write(table, where, *args, **kwargs)
        if len(calls) == 2:
            raise KeyboardInterrupt  # after the .tmp is written, before it is renamed

    monkeypatch.setattr(pq, "write_table", stop_in_second)
    with pytest.raises(KeyboardInterrupt):
        run(make_cfg(["run.replications=6", "run.chunk_size=2", "run.years=1"]), out_dir=tmp_path / "cut")
    folder = tmp_path / "cut" / "replications"
    assert str(calls[1]).endswith("chunk-00001.tmp")
    assert sorted(p.name for p in folder.iterdir()) == ["chunk-00000.parquet"]


def test_an_auto_run_interrupted_after_its_first_round_resumes_to_the_uninterrupted_answer(tmp_path, monkeypatch):
    """run.replications=auto stopped once its first round is written and resumed: the same number of
    replications, rule and bands as the run never stopped (the rounds are whole chunks, the same on
    resume)."""
    import json

    from sim import api

    auto = [
        "run.replications=auto",
        "run.auto.minimum=4",
        "run.auto.maximum=40",
        "run.auto.relative=0.05",
        "run.chunk_size=2",
        "run.years=1",
        "run.engine=numba",
    ]
    whole = run(make_cfg(auto), out_dir=tmp_path / "whole")
    real = api.run_replications
    rounds = []

    def stop_at_second_round(*args, **kwargs):
        rounds.append(kwargs["first"])
        if kwargs["first"] > 0 and len(rounds) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(api, "run_replications", stop_at_second_round)
    with pytest.raises(KeyboardInterrupt):
        run(make_cfg(auto), out_dir=tmp_path / "cut")
    first_round = rounds[1]
    assert 0 < first_round < whole.manifest["replications"]  # the rule needed more than one round
    cut = json.loads((tmp_path / "cut" / "manifest.json").read_text())
    assert cut["status"] == "interrupted" and cut["replications_done"] == first_round
    resumed = api.resume(tmp_path / "cut")
    assert resumed.manifest["replications"] == whole.manifest["replications"]
    assert resumed.manifest["replications_rule"] == whole.manifest["replications_rule"]
    pdt.assert_frame_equal(resumed.summary, whole.summary, check_exact=True)
    pdt.assert_frame_equal(resumed.trajectory, whole.trajectory, check_exact=True)


def test_a_run_stopped_while_publishing_is_interrupted_and_its_resume_publishes(tmp_path, monkeypatch):
    """Ctrl-C while the charts or report are written (every replication done): the manifest says
    interrupted, not running, the directory is free again, and a resume writes the files."""
    import json

    from sim import api

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    base = ["run.replications=4", "run.chunk_size=2", "run.years=1", "run.engine=numba"]
    whole = run(make_cfg(base), out_dir=tmp_path / "whole")
    monkeypatch.setattr(api, "write_report", stop)
    with pytest.raises(KeyboardInterrupt):
        run(make_cfg(base), out_dir=tmp_path / "cut")
    manifest = json.loads((tmp_path / "cut" / "manifest.json").read_text())
    assert manifest["status"] == "interrupted" and manifest["replications_done"] == 4
    assert api.running_pid(tmp_path / "cut") is None and not (tmp_path / "cut" / ".lock").exists()
    monkeypatch.undo()
    resumed = api.resume(tmp_path / "cut")
    assert resumed.manifest["status"] == "complete" and (tmp_path / "cut" / "report.html").is_file()
    pdt.assert_frame_equal(resumed.summary, whole.summary, check_exact=True)
