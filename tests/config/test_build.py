"""The run settings and the two specs: ``build_run`` checks every ``run.*`` key it returns and names the key
of a bad one; ``build(cfg)`` gives the same system as ``build_spec(cfg)`` and the run settings with it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import yaml
from helpers import make_cfg, system_cfg

import sim.cli
from sim.config import CONFIG_DIR, Built, ConfigError, RunSpec, build, build_spec
from sim.config.build import build_run
from sim.config.errors import EXIT_INTERRUPTED, EXIT_USER_ERROR, user_error_line
from sim.config.schema import UNIT_TYPES, AutoReplicationsConfig, RunConfig
from sim.config.spec import DAYS_PER_YEAR, AutoRule


def run_config(auto: dict | None = None, **values) -> RunConfig:
    """The schema's run settings with some changed (``auto`` for ``run.auto.*``)."""
    return RunConfig(auto=AutoReplicationsConfig(**(auto or {})), **values)


# (run settings, key the message must name, words it must contain)
BAD_RUN = [
    (run_config(replications=0), "run.replications", "at least 1"),
    (run_config(replications="many"), "run.replications", "whole number or auto"),
    (run_config(replications=2.5), "run.replications", "not a whole number"),
    (run_config(auto={"minimum": 1}), "run.auto.minimum", "at least 2"),
    (run_config(auto={"minimum": 20, "maximum": 10}), "run.auto.maximum", "at least 20"),
    (run_config(auto={"confidence": 0.3}), "run.auto.confidence", "[0.5, 1)"),
    (run_config(auto={"confidence": 1.0}), "run.auto.confidence", "[0.5, 1)"),
    (run_config(auto={"half_width": 0.0}), "run.auto.half_width", "must be positive"),
    (run_config(auto={"relative": 0.0}), "run.auto.relative", "(0, 1)"),
    (run_config(auto={"month": "2017-3"}), "run.auto.month", "not a month (YYYY-MM)"),
    (run_config(auto={"month": "March"}), "run.auto.month", "not a month (YYYY-MM)"),
    (run_config(seed=-1), "run.seed", "[0, 2**32)"),
    (run_config(seed=2**32), "run.seed", "[0, 2**32)"),
    (run_config(seed=True), "run.seed", "[0, 2**32)"),
    (run_config(workers=0), "run.workers", "at least 1"),
    (run_config(chunk_size=0), "run.chunk_size", "at least 1"),
    (run_config(engine="fortran"), "run.engine", "unknown engine 'fortran'"),
    (run_config(backend="mpi"), "run.backend", "unknown backend 'mpi'"),
    (run_config(warmup_years=-1.0), "run.warmup_years", "at least 0"),
    (run_config(warmup_years=float("inf")), "run.warmup_years", "not a finite number"),
]


@pytest.mark.parametrize("run, key, words", BAD_RUN, ids=[f"{key}-{i}" for i, (_, key, _) in enumerate(BAD_RUN)])
def test_bad_run_setting_names_its_key(run, key, words):
    """Each bad run setting raises ConfigError under its own key, with a one-line message saying what is wrong."""
    with pytest.raises(ConfigError) as err:
        build_run(run)
    assert err.value.key == key
    assert words in err.value.problem
    assert "\n" not in str(err.value)


def test_good_run_settings_are_returned_checked():
    """A good run config gives a RunSpec holding exactly its values, typed as the spec says."""
    spec = build_run(
        run_config(
            replications=200,
            seed=7,
            engine="simpy",
            workers=3,
            chunk_size=25,
            backend="dask",
            dask_address="tcp://scheduler:8786",
            event_log=True,
            progress=False,
            warmup_years=2.0,
            resume="outputs/a_run",
        )
    )
    assert spec == RunSpec(
        seed=7,
        replications=200,
        auto=None,
        engine="simpy",
        workers=3,
        chunk_size=25,
        backend="dask",
        dask_address="tcp://scheduler:8786",
        event_log=True,
        progress=False,
        warmup_years=2.0,
        resume="outputs/a_run",
    )
    assert not spec.is_auto


def test_auto_replications_give_the_rule_and_no_count():
    """replications=auto leaves the count to the rule: replications is None, auto holds the rule's values."""
    spec = build_run(
        run_config(
            replications="auto",
            auto={"metric": "delayed", "month": "2017-03", "half_width": 1.5, "minimum": 5, "maximum": 400},
        )
    )
    assert spec.is_auto
    assert spec.replications is None
    assert spec.auto == AutoRule(
        metric="delayed", month="2017-03", confidence=0.95, half_width=1.5, relative=0.05, minimum=5, maximum=400
    )
    assert build_run(run_config(replications="auto")).auto.month is None  # no month: the run's last


def test_run_spec_is_frozen():
    """The run settings are checked once: a RunSpec cannot be changed afterwards."""
    spec = build_run(run_config())
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.workers = 4  # type: ignore[misc]


def test_composed_config_gives_the_shipped_run_settings():
    """build(cfg).run reads configs/run/default.yaml's values through the composed config."""
    built = build(make_cfg(["run.workers=2"]))
    assert isinstance(built, Built)
    run = built.run
    assert (run.seed, run.replications, run.chunk_size, run.workers) == (20160401, 1000, 50, 2)
    assert (run.engine, run.backend, run.progress, run.event_log) == ("simpy", "processes", False, False)
    assert run.seed == built.system.seed


def test_schema_run_defaults_match_the_shipped_yaml():
    """The schema's run defaults and configs/run/default.yaml give one answer per key (chunk_size was 100 vs 50)."""
    shipped = yaml.safe_load((CONFIG_DIR / "run" / "default.yaml").read_text())
    defaults = RunConfig()
    assert {key: getattr(defaults, key) for key in shipped} == shipped


def test_run_settings_are_checked_before_the_system():
    """A config wrong in both run.* and a TCP reports the run key first (as before the split)."""
    with pytest.raises(ConfigError) as err:
        build(make_cfg(["run.workers=0", "tcp.population.adults=0"]))
    assert err.value.key == "run.workers"


def assert_same_system(a, b) -> None:
    """Two system specs agree in what the engines read: names, pools, TCP-to-pool map, sources, census, calendar."""
    assert (a.name, a.scenario, a.seed, a.population) == (b.name, b.scenario, b.seed, b.population)
    assert [(p.name, p.unit, p.tcps, p.close_occupied) for p in a.pools] == [
        (p.name, p.unit, p.tcps, p.close_occupied) for p in b.pools
    ]
    for pa, pb in zip(a.pools, b.pools):
        np.testing.assert_array_equal(pa.step_days, pb.step_days)
        np.testing.assert_array_equal(pa.step_beds, pb.step_beds)
        assert pa.los == pb.los
    for ta, tb in zip(a.tcps, b.tcps):
        np.testing.assert_array_equal(ta.pool_of_unit, tb.pool_of_unit)
    assert a.sources == b.sources
    assert a.census == b.census
    assert a.calendar.labels == b.calendar.labels


@pytest.mark.parametrize(
    "make",
    [make_cfg, lambda: make_cfg(["scenario=housing_brought_forward"]), system_cfg],
    ids=["bhr with census", "a scenario", "a system with a shared pool"],
)
def test_build_gives_the_same_system_as_build_spec(make):
    """build(cfg).system is build_spec(cfg)'s system, for a census start, a scenario and a shared pool."""
    cfg = make()
    built = build(cfg)
    assert_same_system(built.system, build_spec(cfg))
    assert len(built.system.census) > 0 or len(built.system.tcps) > 1


def test_same_system_check_can_fail():
    """The comparison above notices a different system (a pool with other beds)."""
    with pytest.raises(AssertionError):
        assert_same_system(build_spec(system_cfg()), build_spec(system_cfg(shared_beds=5)))


def test_user_error_line_and_exit_codes():
    """A ConfigError reads as one 'config error:' line; the command line's codes are the ones errors.py defines."""
    assert user_error_line(ConfigError("run.seed", "bad")) == "config error: run.seed: bad"
    assert user_error_line(RuntimeError("a bug")) is None
    assert (EXIT_USER_ERROR, EXIT_INTERRUPTED) == (2, 130)
    assert sim.cli.EXIT_USER_ERROR is EXIT_USER_ERROR and sim.cli.user_error_line is user_error_line


def test_england_builds_from_counts_and_runs():
    """England (configs/tcp/england.yaml, run from April 2015 by configs/experiment/england.yaml): its
    census by counts gives the March 2015 inpatients by unit, and one short replication runs."""
    from sim.engine import Engine

    spec = build_spec(make_cfg(["experiment=england", "run.years=1", "run.engine=numba"]))
    assert spec.calendar.labels[0] == "2015-04"
    units = [p.unit for p in spec.census]
    assert len(units) == 2905
    assert units.count(UNIT_TYPES.index("camhs_t4")) == 110
    long = sum(p.elapsed >= 2 * DAYS_PER_YEAR for p in spec.census) / 2905
    assert long == pytest.approx(0.47, abs=0.005)
    assert sum(p.elapsed >= 10 * DAYS_PER_YEAR for p in spec.census) == 174
    record = Engine(spec).run(0)
    assert record is not None
