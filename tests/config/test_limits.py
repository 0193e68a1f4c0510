"""A run too big for the machine stops before anything is allocated (sim.config.limits, issue 16 point 5):
the estimate is the engine's own sizing, and the line names the key most responsible."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import make_cfg

from sim.config import ConfigError, build, limits
from sim.config.limits import BYTES_PER_LOG_ROW, BYTES_PER_PERSON, LOG_ROWS_PER_PERSON, check_size, people_parts
from sim.engine import Engine
from sim.engine.build import people_capacity
from sim.engine.state import EVENT, LOG_INT_COLUMNS, PERSON, QUEUE

GB = 10**9


def test_the_bytes_a_person_are_the_engine_s():
    """The engine's arrays a person: its record, four heap slots (event, queue, free list), an inpatient slot;
    the event log's rows. A change to the engine's records must change the estimate too."""
    assert PERSON.itemsize + 4 * (EVENT.itemsize + QUEUE.itemsize + 8) + 8 == BYTES_PER_PERSON
    assert 8 + 8 * len(LOG_INT_COLUMNS) == BYTES_PER_LOG_ROW
    spec, _ = build(make_cfg(["run.years=1"]))
    assert Engine(spec, event_log=True).log_capacity == LOG_ROWS_PER_PERSON * people_capacity(spec) + 1024


@pytest.mark.parametrize("where", [["tcp=bhr"], ["system=south_east_hub"], ["experiment=england"]])
def test_the_people_are_the_engine_s_first_sizing(where):
    cfg = make_cfg(where)
    spec, _ = build(cfg)
    parts = people_parts(spec, limits.tcp_keys(cfg))
    assert int(sum(p.people for p in parts)) == people_capacity(spec)


def refused(overrides: list[str], available: int) -> ConfigError:
    cfg = make_cfg(overrides)
    spec, settings = build(cfg)
    with pytest.raises(ConfigError) as err:
        check_size(spec, settings, limits.tcp_keys(cfg), available=available)
    assert "\n" not in str(err.value)
    return err.value


def test_a_rate_that_brings_more_people_than_memory_is_named():
    e = refused(["tcp.crisis.unregistered_rate=2000000"], available=GB)
    assert e.key == "tcp.crisis.unregistered_rate"
    assert "about 5,995,893 arrivals over 3 years of run" in e.problem and "more than the 0.8 GB" in e.problem


def test_a_register_too_big_is_named():
    e = refused(["tcp.register.people.green=100000000"], available=20 * GB)
    assert e.key == "tcp.register.people" and "100,000,045 on the register" in e.problem


def test_a_system_s_tcp_is_named_by_its_key():
    e = refused(["system=south_east_hub", "system.tcps.surrey.register.people.green=50000000"], available=10 * GB)
    assert e.key == "system.tcps.surrey.register.people"


def test_workers_that_do_not_fit_together_are_named():
    cfg = ["tcp.register.people.green=1000000", "run.workers=8"]  # 0.8 GB an engine, 6 GB for 8
    e = refused(cfg, available=4 * GB)
    assert e.key == "run.workers" and "use fewer workers (at most 4)" in e.problem


def test_an_event_log_that_does_not_fit_is_named():
    e = refused(["tcp.register.people.green=2000000", "run.event_log=true"], available=3 * GB)
    assert e.key == "run.event_log"


def test_more_chunk_files_than_a_run_may_write_names_the_chunk_size():
    e = refused(["run.replications=10000000", "run.chunk_size=1"], available=100 * GB)
    assert e.key == "run.chunk_size" and "raise run.chunk_size to at least 10" in e.problem


def test_a_run_that_fits_is_not_refused():
    cfg = make_cfg(["experiment=england", "run.workers=2"])
    spec, settings = build(cfg)
    check_size(spec, settings, limits.tcp_keys(cfg), available=GB)


def test_the_command_line_refuses_before_allocating():
    """A register of a billion (the engine would ask for 776 GB): one line, exit 2, at once."""
    p = subprocess.run(
        [sys.executable, "-m", "sim", "tcp.register.people.green=1000000000", "hydra.run.dir=/tmp/never-made-16m"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("config error: tcp.register.people: 1,000,000,045 on the register")
    assert not Path("/tmp/never-made-16m").exists()
