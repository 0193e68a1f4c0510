"""The per-person event log: docs/events.md documents every column and code that sim.results.events
defines, the log covers the pathway (crises and pre-admission CTRs included), a month's events of each
kind are what the monthly metrics count, in both engines, and the engine's log is the model's."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import make_cfg

from sim.api import run
from sim.config import build_spec
from sim.engine import Engine
from sim.pathway import EVENT_KINDS
from sim.results.events import EVENT_LOG_COLUMNS, event_codes, event_frame, labelled

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def doc_tables() -> dict[str, list[list[str]]]:
    """The rows of each table of docs/events.md (cells stripped, header and rule dropped), by the title of
    the section it is in."""
    tables: dict[str, list[list[str]]] = {}
    title = ""
    for line in DOC.read_text().splitlines():
        heading = re.match(r"#+ (.*)", line)
        if heading:
            title = heading.group(1).strip()
        elif line.startswith("|") and not re.match(r"\|[-| ]+\|$", line):
            tables.setdefault(title, []).append([c.strip() for c in line.strip("|").split("|")])
    return {t: rows[1:] for t, rows in tables.items()}  # rows[0] is the header


def test_the_doc_lists_every_column_and_every_code():
    """Every column in order, and for each coded column (and the person's origin) exactly the codes and
    names the code defines: the page and the code cannot drift apart."""
    tables = doc_tables()
    assert [row[0] for row in tables["Columns"]] == list(EVENT_LOG_COLUMNS)
    for column, codes in event_codes().items():
        documented = {int(row[0]): row[1] for row in tables[column]}
        assert documented == codes, f"docs/events.md, section {column}"
        assert all(row[2] for row in tables[column]), f"docs/events.md, section {column}: a code without meaning"


def metric_events() -> list[tuple[list[str], list[str]]]:
    """The doc's table of monthly metrics and the event kinds whose counts add up to their sum."""
    out = []
    for metrics, events in doc_tables()["Events and the monthly metrics"]:
        out.append((re.findall(r"`(\w+)`", metrics), [e.strip() for e in events.split("+")]))
    assert all(e in EVENT_KINDS for _, kinds in out for e in kinds)
    return out


@pytest.fixture(scope="module")
def bhr_runs():
    """BHR with the event log, in both engines: a run of 3 replications over 3 years each."""
    overrides = ["run.replications=3", "run.years=3", "run.event_log=true"]
    return {engine: run(make_cfg([*overrides, f"run.engine={engine}"])) for engine in ("simpy", "numba")}


@pytest.mark.parametrize("engine", ["simpy", "numba"])
def test_a_bhr_log_has_crises_and_pre_admission_ctrs_and_its_months_add_up_to_the_metrics(bhr_runs, engine):
    """Each replication's events of each kind in each reported month are the monthly metrics the doc
    pairs them with: crises, pre-admission CTRs, averted admissions, admissions, discharges..."""
    res = bhr_runs[engine]
    ev = res.events
    kinds = set(ev["event"])
    assert {"crisis", "pre_admission_ctr", "averted", "crisis_support", "register_red", "admission"} <= kinds
    ev = ev[ev["month"] >= 0].assign(month=lambda e: np.asarray(res.spec.calendar.labels)[e["month"]])
    counts = ev.groupby(["replication", "month", "event"]).size().unstack("event", fill_value=0)
    monthly = res.monthly.set_index(["replication", "month"])
    monthly = monthly[monthly.index.get_level_values("month") != res.spec.calendar.start_label]
    counts = counts.reindex(monthly.index, fill_value=0)
    checked = 0
    for metrics, events in metric_events():
        assert all(m in monthly for m in metrics), metrics
        want = monthly[metrics].sum(axis=1)
        got = counts.reindex(columns=events, fill_value=0).sum(axis=1)
        np.testing.assert_array_equal(got.to_numpy(), want.to_numpy(), err_msg=" + ".join(metrics))
        checked += want.sum() > 0
    assert checked >= 10  # metrics that were not all zero


def test_both_engines_keep_the_same_log(bhr_runs):
    simpy, numba = bhr_runs["simpy"].events, bhr_runs["numba"].events
    pd.testing.assert_frame_equal(numba, simpy, check_exact=False, rtol=0, atol=1e-9)


def test_every_code_of_a_log_has_a_name(bhr_runs):
    """``labelled``: every coded column a categorical with no code left unnamed, the TCP by name, and the
    person's origin."""
    res = bhr_runs["numba"]
    ev = labelled(res.events, [t.name for t in res.spec.tcps], res.spec.calendar.labels)
    for column in ("event", "month", "tcp", "state", "unit", "area", "placement", "rag", "origin"):
        assert isinstance(ev[column].dtype, pd.CategoricalDtype), column
        assert ev[column].notna().all(), column
    assert set(ev["tcp"]) == {"bhr"}
    assert ev["month"].iloc[0] == "warmup" and ev["month"].iloc[-1] == res.spec.calendar.labels[-1]
    assert {"census", "register"} <= set(ev["origin"])
    crises = ev[ev["event"] == "crisis"]
    assert {"register", "outside"} <= set(crises["state"])


def test_the_engine_keeps_no_log_unless_asked_and_a_full_log_is_run_again_with_more_room():
    spec = build_spec(make_cfg(["run.years=2"]))
    plain = Engine(spec)
    plain.run(0)
    assert all(len(v) == 0 for v in plain.log().values())
    full = Engine(spec, event_log=True)
    full.run(0)
    small = Engine(spec, event_log=True)
    small.log_capacity = 16
    small.state, small.record, small._state_arrays = small._room()
    small.run(0)
    assert small.log_capacity > 16
    pd.testing.assert_frame_equal(event_frame(small.log()), event_frame(full.log()))
    assert len(event_frame(full.log())) > 16
