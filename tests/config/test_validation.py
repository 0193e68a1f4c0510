"""Config validation: every wrong value stops the run before it starts, naming the key and the problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import loss_cfg, make_cfg, system_cfg

from sim.api import compose
from sim.config import ConfigError, build_spec
from sim.config.build import POOL_SCENARIOS
from sim.config.errors import user_error_line

# (overrides, key the message must name, words it must contain)
BAD_OVERRIDES = [
    (["run.replications=0"], "run.replications", "at least 1"),
    (["run.years=-1"], "run.years", "above 0"),
    (["run.years=0.1"], "run.years", "whole number of months"),
    (["run.seed=-5"], "run.seed", "[0, 2**32)"),
    (["run.seed=4294967296"], "run.seed", "[0, 2**32)"),
    (["run.start=2016-13"], "run.start", "not a month"),
    (["run.start=April"], "run.start", "not a month"),
    (["run.engine=fortran"], "run.engine", "unknown engine"),
    (["run.backend=mpi"], "run.backend", "unknown backend"),
    (["run.workers=0"], "run.workers", "at least 1"),
    (["run.warmup_years=2"], "run.warmup_years", "census"),
    (["tcp.beds.atu.schedule.0.beds=-1"], "tcp.beds.atu.schedule[0].beds", "at least 0"),
    (["tcp.beds.atu.schedule.1.date=2015-01"], "tcp.beds.atu.schedule[1].date", "not after"),
    (["tcp.out_of_area_need.atu=1.5"], "tcp.out_of_area_need.atu", "[0, 1]"),
    (["tcp.routing.atu=-0.1"], "tcp.routing.atu", "[0, 1]"),
    (["tcp.routing.atu=0.5"], "tcp.routing", "sum to"),
    (["tcp.beds.camhs_t4.schedule.0.beds=-2"], "tcp.beds.camhs_t4.schedule[0].beds", "at least 0"),
    (["tcp.beds.atu.wait_months=-1"], "tcp.beds.atu.wait_months", "at least 0"),
    (["tcp.beds.low_secure.wait_months=inf"], "tcp.beds.low_secure.wait_months", "not a finite number"),
    (
        ["system=south_east_hub", "system.shared_pools.1.wait_months=-0.5"],
        "system.shared_pools[1].wait_months",
        "at least 0",
    ),
    (["tcp.population.adults=0"], "tcp.population.adults", "at least 1"),
    (["tcp.population.children=-5"], "tcp.population.children", "at least 1"),
    (["tcp.crisis.unregistered_rate=-2"], "tcp.crisis.unregistered_rate", "at least 0"),
    (["tcp.register.join_rate=-1"], "tcp.register.join_rate", "at least 0"),
    (["tcp.register.people.red=-3"], "tcp.register.people.red", "at least 0"),
    (["tcp.register.crisis_rate.red=-0.1"], "tcp.register.crisis_rate.red", "at least 0"),
    (["tcp.register.join_rag.red=0.9"], "tcp.register.join_rag", "sum to"),
    (["+tcp.register.transitions.red.red=1"], "tcp.register.transitions.red.red", "cannot move to itself"),
    (["tcp.ctr.coverage=1.2"], "tcp.ctr.coverage", "[0, 1]"),
    (["tcp.ctr.avert=-0.5"], "tcp.ctr.avert", "[0, 1]"),
    (["tcp.crisis.child_share=2"], "tcp.crisis.child_share", "[0, 1]"),
    (["run.years=8000"], "run.years", "more than a run can span (200 at most)"),
    (["run.years=1e308"], "run.years", "more than a run can span"),
    (["run.start=0001-01", "tcp.census=null", "tcp.community_census=null"], "run.start", "from 1900 to 2200"),
    (["tcp.beds.atu.schedule.0.beds=9223372036854775808"], "tcp.beds.atu.schedule[0].beds", "at most"),
    (["run.replications=1000000000000"], "run.replications", "at most 10,000,000"),
    (["tcp.crisis.unregistered_rate=1e9"], "tcp.crisis.unregistered_rate", "more than a run can hold"),
    (["tcp.children.transition_age=30"], "tcp.children.transition_age", "from 0 to 25"),
    (["tcp.children.transition_age=-1"], "tcp.children.transition_age", "from 0 to 25"),
    (["tcp.children.age_low=19"], "tcp.children.age_low", "below the transition age 18"),
    (["tcp.children.to_adult_unit=1.5"], "tcp.children.to_adult_unit", "[0, 1]"),
    (["tcp.transfers.step_down_rate.medium_secure=-0.3"], "tcp.transfers.step_down_rate.medium_secure", "at least 0"),
    (["tcp.transfers.step_up_rate.atu=-1"], "tcp.transfers.step_up_rate.atu", "at least 0"),
    (["+tcp.transfers.step_down_rate.ward=0.1"], "tcp.transfers.step_down_rate.ward", "unknown unit type"),
    (["+tcp.transfers.step_up_to.ward={atu:1.0}"], "tcp.transfers.step_up_to.ward", "unknown unit type"),
    (
        ["+tcp.transfers.step_down_to.medium_secure.ward=0.1"],
        "tcp.transfers.step_down_to.medium_secure.ward",
        "unknown unit type",
    ),
    (["tcp.transfers.step_down_to.medium_secure.low_secure=0.5"], "tcp.transfers.step_down_to.medium_secure", "sum to"),
    (["tcp.transfers.step_up_to.atu.low_secure=1.5"], "tcp.transfers.step_up_to.atu.low_secure", "[0, 1]"),
    (
        ["tcp.transfers.step_down_to.low_secure.atu=0", "+tcp.transfers.step_down_to.low_secure.medium_secure=1"],
        "tcp.transfers.step_down_to.low_secure.medium_secure",
        "goes to a less secure unit than low_secure",
    ),
    (
        ["tcp.transfers.step_up_to.low_secure.medium_secure=0", "+tcp.transfers.step_up_to.low_secure.camhs_t4=1"],
        "tcp.transfers.step_up_to.low_secure.camhs_t4",
        "not a destination of adults' steps",
    ),
    (["+tcp.transfers.step_down_rate.camhs_t4=0.5"], "tcp.transfers.step_down_rate.camhs_t4", "transition age"),
    (["+tcp.transfers.step_up_rate.medium_secure=0.2"], "tcp.transfers.step_up_to.medium_secure", "no destinations"),
    (["tcp.register.children.red=20"], "tcp.register.children.red", "20 children but 13 red members"),
    (["tcp.register.join_child_share=-0.1"], "tcp.register.join_child_share", "[0, 1]"),
    (["tcp.discharge.housing.shared.offer_months=-1"], "tcp.discharge.housing.shared.offer_months", "at least 0"),
    (["tcp.discharge.planning_lead_years=-0.5"], "tcp.discharge.planning_lead_years", "at least 0"),
    (["tcp.ctr.long_stay_years=-1"], "tcp.ctr.long_stay_years", "at least 0"),
    (["tcp.ctr.ready_prob_long=1.5"], "tcp.ctr.ready_prob_long", "[0, 1]"),
    (["tcp.crisis_support.places=-1"], "tcp.crisis_support.places", "at least 0"),
    (["tcp.discharge.housing.shared.units=-4"], "tcp.discharge.housing.shared.units", "at least 0"),
    (
        ["tcp.discharge.housing.bespoke_single.pipeline.0.date=2018-13"],
        "tcp.discharge.housing.bespoke_single.pipeline[0].date",
        "not a month",
    ),
    (["tcp.discharge.placement_mix.atu.shared=0.9"], "tcp.discharge.placement_mix.atu", "sum to"),
    (["tcp.discharge.policy=random"], "tcp.discharge.policy", "unknown policy"),
    (["tcp.discharge.dispute_prob=1.01"], "tcp.discharge.dispute_prob", "[0, 1]"),
    (["tcp.costs.package_la_share=1.5"], "tcp.costs.package_la_share", "[0, 1]"),
    (["tcp.costs.bed_per_year.atu=-1"], "tcp.costs.bed_per_year.atu", "at least 0"),
    (["tcp.costs.bed_fixed_share.atu=1.5"], "tcp.costs.bed_fixed_share.atu", "[0, 1]"),
    (["tcp.costs.bed_fixed_share.low_secure=-0.1"], "tcp.costs.bed_fixed_share.low_secure", "[0, 1]"),
    (["+tcp.costs.bed_fixed_share.ward=0.5"], "tcp.costs.bed_fixed_share.ward", "unknown unit type"),
    (["+scenario.bed_fixed_share.low_secure=2"], "scenario.bed_fixed_share.low_secure", "[0, 1]"),
    (["+scenario.bed_fixed_share.ward=1"], "scenario.bed_fixed_share.ward", "unknown unit type"),
    (
        ["system=south_east_hub", "system.shared_pools.0.bed_fixed_share=1.5"],
        "system.shared_pools[0].bed_fixed_share",
        "[0, 1]",
    ),
    (
        ["system=south_east_hub", "system.shared_pools.1.bed_per_year=-1"],
        "system.shared_pools[1].bed_per_year",
        "at least 0",
    ),
    (  # its TCPs pay for medium secure beds, so a shared pool of them priced at 0 is a mistake, not free beds
        ["system=south_east_hub", "system.shared_pools.1.bed_per_year=0"],
        "system.shared_pools[1].bed_per_year",
        "pays for medium_secure beds",
    ),
    (["tcp.community.breakdown_rate_first_year=-1"], "tcp.community.breakdown_rate_first_year", "at least 0"),
    (["tcp.community.settle_years=-1"], "tcp.community.settle_years", "at least 0"),
    (["tcp.community.settled_leave_rate=-0.2"], "tcp.community.settled_leave_rate", "at least 0"),
    (["tcp.community.settled_register_rate=-3"], "tcp.community.settled_register_rate", "at least 0"),
    (["tcp.beds.atu.los.components.0.weight=1.2"], "tcp.beds.atu.los.components[0].weight", "[0, 1]"),
    (["tcp.beds.atu.los.components.0.sd=-1"], "tcp.beds.atu.los.components[0]", "sd"),
    (["tcp.beds.atu.los.components.0.family=gamma"], "tcp.beds.atu.los.components[0].family", "unknown family"),
    (["tcp.trajectory.2.date=2016-01"], "tcp.trajectory[2].date", "not after"),
    (["tcp.census=tcp/census/nowhere.csv"], "tcp.census", "not found"),
    # issue 16, point 6: accepted silently before
    (["+tcp.crisis.unregistred_rate=3"], "tcp.crisis.unregistred_rate", "unknown key"),
    (["+run.replicatons=5"], "run.replicatons", "unknown key"),
    (["+tcp.beds.atu.los.components.0.meen=1"], "tcp.beds.atu.los.components[0].meen", "unknown key"),
    (["tcp.name=../../../x"], "tcp.name", "letters, digits"),
    (["tcp.name="], "tcp.name", "letters, digits"),
    (["scenario.name=a/b"], "scenario.name", "letters, digits"),
    (["run.dask_address=tcp://scheduler:8786"], "run.dask_address", "only with run.backend=dask"),
    (["run.backend=dask", "run.dask_address=not an address"], "run.dask_address", "not a scheduler address"),
    (["run.backend=dask", "run.dask_address=tcp://host:99999"], "run.dask_address", "port 99999 is not from 1"),
    (["run.progress=2"], "run.progress", "'2' must be true or false"),
    (["run.progress=maybe"], "run.progress", "must be true or false"),
    (["run.event_log=3"], "run.event_log", "must be true or false"),
    (["run.tcp_metrics=0"], "run.tcp_metrics", "must be true or false"),
    (["run.auto.maximum=500"], "run.auto.maximum", "read only with run.replications=auto"),
    (["run.auto.month=2017-01"], "run.auto.month", "read only with run.replications=auto"),
    (["scenario=hub_pooling"], "scenario", "tcp=bhr has no pool shared by TCPs: it needs system=south_east_hub"),
    (["scenario=separate_pools"], "scenario", "it needs system=south_east_hub"),
]


@pytest.mark.parametrize("overrides, key, words", BAD_OVERRIDES, ids=[o[0][-1] for o in BAD_OVERRIDES])
def test_bad_value_names_its_key(overrides, key, words):
    """A wrong value raises ConfigError whose key and one-line message say where and what."""
    with pytest.raises(ConfigError) as err:
        build_spec(make_cfg(overrides))
    assert err.value.key == key
    assert words in str(err.value)
    assert "\n" not in str(err.value)


def test_a_census_saved_by_excel_with_a_byte_order_mark_is_read(tmp_path):
    """Excel's "CSV UTF-8" starts the file with a byte-order mark; it was refused as "missing column(s) unit"."""
    from sim.config import CONFIG_DIR

    text = (CONFIG_DIR / "tcp" / "census" / "bhr_2016-03.csv").read_text(encoding="utf-8")
    marked = tmp_path / "excel.csv"
    marked.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    plain = build_spec(make_cfg())
    with_mark = build_spec(make_cfg([f"tcp.census={marked}"]))
    assert with_mark.census == plain.census


def test_unknown_unit_type_in_yaml_is_named():
    """A bed pool or routing entry with an unknown unit type is refused with the known ones listed."""
    with pytest.raises(ConfigError, match=r"tcp.beds.atx: unknown unit type 'atx' \(expected one of atu"):
        build_spec(
            loss_cfg(
                **{
                    "tcp.beds": {
                        "atx": {
                            "schedule": [{"date": "2000-01", "beds": 1}],
                            "los": {"components": [{"family": "fixed", "weight": 1.0, "value": 1.0}]},
                        }
                    }
                }
            )
        )


def test_children_need_a_camhs_pool():
    """Children in crisis go to CAMHS tier 4: a TCP with children and no such pool is refused."""
    with pytest.raises(
        ConfigError, match="tcp.crisis.child_share: admissions go to camhs_t4 but loss_system has no camhs_t4 pool"
    ):
        build_spec(loss_cfg(**{"tcp.crisis.child_share": 0.1}))


def test_routing_to_a_unit_without_a_pool_is_refused():
    """Admissions routed to a unit type the TCP has no pool for would have nowhere to go."""
    with pytest.raises(
        ConfigError, match="tcp.routing.low_secure: admissions go to low_secure but loss_system has no low_secure pool"
    ):
        build_spec(loss_cfg(**{"tcp.routing": {"atu": 0.5, "low_secure": 0.5}}))


def test_a_step_to_a_unit_without_a_pool_is_refused():
    """A step up from the ATU to low secure in a TCP with no low secure pool would have nowhere to go."""
    with pytest.raises(
        ConfigError,
        match="tcp.transfers.step_up_to.atu.low_secure: steps go to low_secure but loss_system has no low_secure pool",
    ):
        build_spec(
            loss_cfg(
                **{"tcp.transfers.step_up_rate": {"atu": 0.5}, "tcp.transfers.step_up_to": {"atu": {"low_secure": 1.0}}}
            )
        )


def test_a_system_with_its_own_tcps_refuses_a_tcp_choice():
    """tcp= with a multi-TCP system is ambiguous, so it is refused rather than silently ignored."""
    cfg = system_cfg()
    cfg.tcp = make_cfg().tcp
    with pytest.raises(ConfigError, match="^tcp: system 'test_system' lists its own TCPs"):
        build_spec(cfg)


def test_shared_pool_names_unknown_tcp():
    """A shared pool naming a TCP the system lacks is refused, naming the pool's key."""
    cfg = system_cfg()
    cfg.system.shared_pools[0].tcps = ["a1", "zz"]
    with pytest.raises(ConfigError, match=r"system.shared_pools\[0\].tcps: unknown TCP 'zz'"):
        build_spec(cfg)


CENSUS_CASES = [
    ("unit,area\natu,in\n", "line 1: missing column(s) admitted"),
    ("unit,area,admitted\natu,in,2015-01-01\natu,in,2015-02-30\n", "line 3: admitted '2015-02-30' is not a date"),
    ("unit,area,admitted\natx,in,2015-01-01\n", "line 2: unknown unit type 'atx'"),
    ("unit,area,admitted\natu,inside,2015-01-01\n", "line 2: area 'inside' must be 'in' or 'out'"),
    (
        "# a comment line\nunit,area,admitted\natu,in,2017-01-01\n",
        "line 3: admitted 2017-01-01 is not before the start",
    ),
    ("unit,area,admitted\natu,in\n", "line 2: 2 fields, the header has 3"),
    ("unit,area,admitted\natu,,2015-01-01\n", "line 2: area is empty"),
    ("unit,area,admitted,age\natu,in,2015-01-01,old\n", "line 2: age 'old' is not a number of years"),
    ("unit,area,admitted,ready\natu,in,2015-01-01,yes\n", "line 2: ready is 'yes' but ready_date is empty"),
    (
        "unit,area,admitted,ready,ready_date,delay_reason\natu,in,2015-01-01,yes,2015-06-01,\n",
        "line 2: ready is 'yes', so delay_reason must be one of housing, funding, dispute, provider",
    ),
    (
        "unit,area,admitted,ready,ready_date,delay_reason\natu,in,2015-01-01,yes,2014-06-01,housing\n",
        "line 2: ready_date 2014-06-01 must be from the admission 2015-01-01 to the start 2016-04-01",
    ),
    (
        "unit,area,admitted,ready,ready_date,delay_reason\natu,in,2015-01-01,,2015-06-01,housing\n",
        "line 2: ready_date or delay_reason given, but ready is not 'yes'",
    ),
    ("unit,area,admitted,ready\natu,in,2015-01-01,maybe\n", "line 2: ready 'maybe' must be 'yes' or 'no'"),
    ("unit,area,admitted,age\natu,in,2015-01-01,-4\n", "line 2: age -4 must be a number of years from 0 to 130"),
]


COUNTS_HEADER = "unit,area,stay_from_years,stay_to_years,count,age_from,age_to\n"
COUNTS_CASES = [
    (COUNTS_HEADER + "atx,in,0,1,3,,\n", "line 2: unknown unit type 'atx'"),
    (COUNTS_HEADER + "atu,in,2,1,3,,\n", "line 2: stay_to_years 1 must be above stay_from_years 2"),
    (COUNTS_HEADER + "atu,in,1,1,3,,\n", "line 2: stay_to_years 1 must be above stay_from_years 1"),
    (COUNTS_HEADER + "atu,in,0,1,-2,,\n", "line 2: count -2 must be 0 or more"),
    (COUNTS_HEADER + "atu,in,0,1,2.5,,\n", "line 2: count '2.5' is not a whole number"),
    (  # each count is drawn into rows before anything runs: a slip of 10**12 filled the memory
        COUNTS_HEADER + "atu,in,0,1,2,,\natu,out,0,1,1000000000000,,\n",
        "line 3: count 1000000000000 brings the census to 1,000,000,000,002, more than 1,000,000",
    ),
    (COUNTS_HEADER + "atu,in,0,soon,2,,\n", "line 2: stay_to_years 'soon' is not a number of years"),
    (
        COUNTS_HEADER + "atu,in,0,1,2,,\ncamhs_t4,out,0,1,2,14,19\n",
        "line 3: camhs_t4 ages to 19, but children are under 18",
    ),
    (COUNTS_HEADER + "atu,in,0,1,2,16,30\n", "line 2: ages from 16 in atu; children (under 18) are in camhs_t4"),
    (COUNTS_HEADER + "atu,in,0,1,2,20,\n", "line 2: give both age_from and age_to, or neither"),
    (COUNTS_HEADER + "atu,out,0,1,2,,,far\n", "line 2: 8 fields, the header has 7"),
    ("unit,area,stay_from_years,count\natu,in,0,1\n", "line 1: missing column(s) stay_to_years"),
]


CENSUS_FILE_CASES = [("census", t, m) for t, m in CENSUS_CASES] + [("census_counts", t, m) for t, m in COUNTS_CASES]


@pytest.mark.parametrize(
    "key, text, message",
    CENSUS_FILE_CASES,
    ids=[f"{k}: {m.split(':')[1].strip()[:25]}" for k, _, m in CENSUS_FILE_CASES],
)
def test_bad_census_names_the_line(tmp_path, key, text, message):
    """A census CSV (one row a person, ``census``, or counts by band, ``census_counts``) with a missing
    column or a bad value is refused under its key, naming the file line."""
    path = tmp_path / "census.csv"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        build_spec(loss_cfg(**{f"tcp.{key}": str(path)}))
    assert err.value.key == f"tcp.{key}"
    assert f"census.csv {message}" in str(err.value)


def test_census_and_census_counts_are_not_both_given(tmp_path):
    """One start census: a row-a-person file or counts, not both."""
    rows, counts = tmp_path / "census.csv", tmp_path / "counts.csv"
    rows.write_text("unit,area,admitted\natu,in,2015-01-01\n")
    counts.write_text(COUNTS_HEADER + "atu,in,0,1,2,,\n")
    with pytest.raises(ConfigError, match="census_counts: give census .* or census_counts, not both"):
        build_spec(loss_cfg(**{"tcp.census": str(rows), "tcp.census_counts": str(counts)}))


def test_census_counts_need_a_pool_of_the_unit(tmp_path):
    """A counts line of a unit the TCP has no pool for is refused naming the line."""
    path = tmp_path / "counts.csv"
    path.write_text(COUNTS_HEADER + "atu,in,0,1,2,,\nlow_secure,out,0,1,1,,\n")
    with pytest.raises(ConfigError, match="counts.csv line 3: no low_secure pool"):
        build_spec(loss_cfg(**{"tcp.census_counts": str(path)}))


COMMUNITY_CASES = [
    ("type,discharged,unit,area\nflat,2015-06-01,atu,in\n", "line 2: unknown placement type 'flat'"),
    ("type,discharged,unit,area\nshared,2016-05-01,atu,in\n", "line 2: discharged 2016-05-01 is not before the start"),
    ("type,discharged,unit,area\nshared,2015-13-01,atu,in\n", "line 2: discharged '2015-13-01' is not a date"),
    ("type,discharged,unit\nshared,2015-06-01,atu\n", "line 1: missing column(s) area"),
    ("type,discharged,unit,area\nshared,2015-06-01,atx,in\n", "line 2: unknown unit type 'atx'"),
    ("type,discharged,unit,area\nshared,,atu,in\n", "line 2: discharged is empty"),
    (
        "type,discharged,unit,area,admitted\nshared,2015-06-01,atu,in,2015-07-01\n",
        "line 2: admitted 2015-07-01 is not before the discharge 2015-06-01",
    ),
]


@pytest.mark.parametrize(
    "text, message", COMMUNITY_CASES, ids=[m.split(":")[1].strip()[:25] for _, m in COMMUNITY_CASES]
)
def test_bad_community_census_names_the_line(tmp_path, text, message):
    """A community census CSV with a missing column or a bad value is refused under its key, naming the
    file line."""
    path = tmp_path / "community.csv"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        build_spec(make_cfg(**{"tcp.community_census": str(path)}))
    assert err.value.key == "tcp.community_census"
    assert f"community.csv {message}" in str(err.value)


def test_a_community_census_needs_no_warm_up(tmp_path):
    """The cohort is the state at the start, so a warm-up before it is refused."""
    path = tmp_path / "community.csv"
    path.write_text("type,discharged,unit,area\nshared,2015-06-01,atu,in\n")
    with pytest.raises(ConfigError, match="^run.warmup_years: must be 0"):
        build_spec(loss_cfg(**{"tcp.community_census": str(path), "run.warmup_years": 1.0}))


def test_census_beyond_the_beds_starts_out_of_area(tmp_path):
    """More in-area census inpatients than the pool has beds at the start: the most recently admitted
    surplus starts out of area for want of a bed (repatriated as beds free), and the spec says so."""
    from sim.config.spec import IN_AREA, OUT_OF_AREA

    path = tmp_path / "census.csv"
    path.write_text("unit,area,admitted\natu,in,2015-01-01\natu,in,2016-03-01\natu,in,2014-01-01\n")
    spec = build_spec(loss_cfg(beds=2, **{"tcp.census": str(path)}))
    assert [p.area for p in spec.census] == [IN_AREA, OUT_OF_AREA, IN_AREA]  # row 2, admitted last, moves
    assert not spec.census[1].by_need
    assert spec.notes == (
        "the start census holds 3 atu inpatients in area, more than the 2 beds of loss_system_atu: 1 start out of area",
    )
    assert build_spec(loss_cfg(beds=3, **{"tcp.census": str(path)})).notes == ()


def test_type_errors_are_caught_by_the_schema():
    """Hydra checks types against the dataclasses before our validation (e.g. a seed that is not a number)."""
    from omegaconf.errors import ValidationError

    with pytest.raises(Exception) as err:
        compose(["run.seed=abc"])
    cause = err.value
    while cause is not None and not isinstance(cause, ValidationError):
        cause = cause.__cause__
    assert cause is not None and cause.full_key == "run.seed"


def test_population_in_one_number_is_one_line_naming_it():
    """A population given as one number (before adults and children) stops with one line naming the key."""
    with pytest.raises(Exception) as err:
        compose(["tcp.population=579570"])
    line = user_error_line(err.value)
    assert line is not None and line.startswith("config error: tcp.population: ") and "\n" not in line


def test_population_without_children_is_one_line_naming_the_key():
    """A TCP that gives its adults but not its children is refused before anything runs."""
    cfg = make_cfg()
    cfg.tcp.population.children = "???"  # OmegaConf's MISSING, as a YAML file leaving it out gives
    with pytest.raises(Exception) as err:
        build_spec(cfg)
    line = user_error_line(err.value)
    assert line is not None and line.startswith("config error: tcp.population.children: ") and "missing" in line
    assert "\n" not in line


def test_every_shipped_config_is_valid():
    """Every TCP, system, scenario and experiment file in configs/ composes and validates."""
    from sim.config import CONFIG_DIR

    for tcp in sorted((CONFIG_DIR / "tcp").glob("*.yaml")):
        build_spec(make_cfg([f"tcp={tcp.stem}"] + (["run.warmup_years=1"] if tcp.stem == "loss_system" else [])))
    for system in sorted((CONFIG_DIR / "system").glob("*.yaml")):
        build_spec(make_cfg([f"system={system.stem}"]))
    for scenario in sorted((CONFIG_DIR / "scenario").glob("*.yaml")):  # the pooling pair is the hub's
        system = ["system=south_east_hub"] if scenario.stem in POOL_SCENARIOS else []
        build_spec(make_cfg([f"scenario={scenario.stem}", *system]))
    for experiment in sorted((CONFIG_DIR / "experiment").glob("*.yaml")):
        build_spec(make_cfg([f"experiment={experiment.stem}"]))


@pytest.mark.parametrize(
    "row, message",
    [
        ("camhs_t4,in,2015-01-01,18", "row 1: a CAMHS tier 4 inpatient aged 18, not under 18"),
        ("atu,in,2015-01-01,16.5", "row 1: aged 16.5 in atu; children (under 18) are in camhs_t4"),
    ],
)
def test_a_census_age_must_fit_the_unit(tmp_path, row, message):
    """Only children (under the transition age) are in CAMHS tier 4, and only adults elsewhere."""
    path = tmp_path / "census.csv"
    path.write_text("unit,area,admitted,age\n" + row + "\n")
    camhs = {"schedule": [{"date": "2000-01", "beds": 2}], "los": {"components": [{"family": "fixed", "value": 1}]}}
    with pytest.raises(ConfigError) as err:
        build_spec(loss_cfg(**{"tcp.census": str(path), "tcp.beds": {"camhs_t4": camhs}}))
    assert err.value.key == "tcp.census" and f"census.csv {message}" in str(err.value)


def test_the_cli_stops_on_a_negative_wait():
    """A negative wait for a bed stops the command line with exit status 2 and one line naming the key."""
    p = subprocess.run(
        [sys.executable, "-m", "sim", "tcp.beds.atu.wait_months=-2", "hydra.run.dir=/tmp/never-made"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == ["config error: tcp.beds.atu.wait_months: -2 must be at least 0"]


def test_the_cli_stops_on_a_bad_fixed_share():
    """A fixed share outside [0, 1] (here a shared pool's) stops the command line with exit status 2 and
    one line naming the key, before anything runs."""
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "system=south_east_hub",
            "system.shared_pools.0.bed_fixed_share=1.2",
            "hydra.run.dir=/tmp/never-made",
        ],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == [
        "config error: system.shared_pools[0].bed_fixed_share: 1.2 is a probability and must be in [0, 1]"
    ]


def test_the_cli_stops_on_an_unknown_placement_type_in_the_community_census(tmp_path):
    """A community cohort row with an unknown placement type stops the command line with exit status 2
    and one line naming the key, the file and its line."""
    path = tmp_path / "community.csv"
    path.write_text("# cohort\ntype,discharged,unit,area\nshared,2015-06-01,atu,in\nflat,2015-06-01,atu,in\n")
    p = subprocess.run(
        [sys.executable, "-m", "sim", f"tcp.community_census={path}", "hydra.run.dir=/tmp/never-made"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == [
        "config error: tcp.community_census: community.csv line 4: unknown placement type 'flat' "
        "(expected one of bespoke_single, core_cluster, shared)"
    ]


def test_a_census_that_is_not_utf8_is_refused_in_one_line(tmp_path):
    """A census with bytes that are not UTF-8 (a spreadsheet's Latin-1 export) stops naming the file, not
    with a UnicodeDecodeError (every CSV a config names is read by sim.config.census.csv_lines)."""
    path = tmp_path / "census.csv"
    path.write_bytes(b"unit,area,admitted\n# caf\xe9\natu,in,2015-01-01\n")
    with pytest.raises(ConfigError) as err:
        build_spec(loss_cfg(**{"tcp.census": str(path)}))
    assert err.value.key == "tcp.census" and "census.csv is not UTF-8 text" in str(err.value)


@pytest.mark.parametrize(
    "overrides, words",
    [
        (["tcp=null"], "config error: tcp: 'null' is not the name of a tcp config (give tcp=<name>)"),
        (["=5"], "config error: =5: an override needs a key (key=value)"),
        (["scenario=3"], "config error: scenario: '3' is not the name of a scenario config"),
        (["system=south_east_hub", "tcp.ctr.coverage=0.5"], "use system.tcps.<name>.* or a scenario"),
        (["run.replications=["], "config error: run.replications: '[' is not a value the override grammar reads"),
        (["run.replications=auto", "run.auto.maximum=1000000000000"], "run.auto.maximum: 1000000000000 must be at"),
    ],
)
def test_overrides_hydra_cannot_apply_are_one_line(overrides, words):
    """Overrides Hydra or OmegaConf refuse while composing (a null group, an empty key, a key under a
    null config) end with one line and exit status 2, not a traceback."""
    p = subprocess.run(
        [sys.executable, "-m", "sim", *overrides, "hydra.run.dir=/tmp/never-made-16"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("config error: ") and words in lines[0]


def _sim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "text, words",
    [
        ("name: bad\n  x: [\n", "bad.yaml line 2: mapping values are not allowed here"),
        ("name: bad\nname: again\n", "bad.yaml line 2: found duplicate key name"),
    ],
)
def test_a_config_dir_file_that_is_not_yaml_is_one_line(tmp_path, text, words):
    """A --config-dir TCP file with a YAML syntax error or a key given twice: one line naming the file and
    line, exit 2."""
    (tmp_path / "tcp").mkdir()
    (tmp_path / "tcp" / "bad.yaml").write_text(text)
    p = _sim("--config-dir", str(tmp_path), "tcp=bad", f"hydra.run.dir={tmp_path / 'run'}")
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0]


def test_a_run_directory_that_is_a_file_is_one_line(tmp_path):
    """hydra.run.dir naming an existing file: one line, exit 2, and the file is left as it was."""
    path = tmp_path / "notes.txt"
    path.write_text("mine\n")
    p = _sim(f"hydra.run.dir={path}")
    assert p.returncode == 2, p.stderr
    assert p.stderr.strip().splitlines() == [
        f"config error: hydra.run.dir: {path} is a file, not a directory for the run"
    ]
    assert path.read_text() == "mine\n"


def test_a_config_dir_file_that_is_not_utf8_is_one_line_naming_it(tmp_path):
    """A --config-dir TCP file with bytes that are not UTF-8 (saved in Latin-1): one line naming the file."""
    (tmp_path / "tcp").mkdir()
    (tmp_path / "tcp" / "bad.yaml").write_bytes(b"name: bad\ntitle: Caf\xe9\n")
    p = _sim("--config-dir", str(tmp_path), "tcp=bad", f"hydra.run.dir={tmp_path / 'run'}")
    assert p.returncode == 2, p.stderr
    assert p.stderr.strip().splitlines() == [
        f"config error: {tmp_path / 'tcp' / 'bad.yaml'}: is not UTF-8 text (byte 20)"
    ]


def test_a_run_directory_that_cannot_be_made_is_one_line(tmp_path):
    """hydra.run.dir where no directory can be made (under /proc): one line naming it and the system's
    reason, exit 2, no traceback."""
    p = _sim("hydra.run.dir=/proc/self/tcp-sim-run")
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert lines == ["config error: hydra.run.dir: cannot write /proc/self/tcp-sim-run: No such file or directory"]


@pytest.mark.parametrize(
    "text",
    [b"run: [\n", b"run: \xff\n", b"run:\n  replications: 2.5\n", b"- a list\n"],
    ids=["bad YAML", "not UTF-8", "bad value", "a list"],
)
def test_a_resume_of_a_config_that_is_not_a_run_s_is_one_line(tmp_path, text):
    """A run directory whose manifest predates config_sha256 (so nothing vouches for config.yaml) and
    whose config.yaml is not a run's: refused under run.resume naming the file, in one line."""
    from sim.api import resume

    (tmp_path / "manifest.json").write_text('{"status": "interrupted"}')
    (tmp_path / "config.yaml").write_bytes(text)
    with pytest.raises(ConfigError) as err:
        resume(tmp_path)
    assert err.value.key == "run.resume"
    assert f"{tmp_path / 'config.yaml'} is not a run's config" in err.value.problem
    assert "\n" not in str(err.value)


def test_a_census_that_cannot_be_read_is_one_line(tmp_path, monkeypatch):
    """A census the user may not read (its permissions; root reads anything, so the read is made to fail)."""
    path = tmp_path / "census.csv"
    path.write_text("unit,area,admitted\natu,in,2015-01-01\n")
    real = Path.read_text

    def read_text(self, *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", read_text)
    with pytest.raises(ConfigError) as err:
        build_spec(make_cfg(**{"tcp.census": str(path)}))
    assert err.value.key == "tcp.census"
    assert err.value.problem == f"census file {path} cannot be read: Permission denied"
