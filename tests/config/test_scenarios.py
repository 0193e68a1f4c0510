"""Scenarios (configs/scenario/): each file asks its question first, composes and validates for one TCP
(tcp=bhr) and for a system whose TCPs are under system.tcps (system=south_east_hub), changes what it says
in the built spec for every TCP, and moves the results the way its question expects."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from omegaconf import OmegaConf

from sim.api import compose, run
from sim.config import CONFIG_DIR, ConfigError, SystemSpec, build_spec
from sim.config.checks import add_months
from sim.config.scenario import apply_scenario
from sim.config.schema import UNIT_TYPES

SCENARIOS = sorted(p.stem for p in (CONFIG_DIR / "scenario").glob("*.yaml"))
#: The scenarios of issue 5, point 1 (besides baseline and the hub's pooling pair).
ISSUE_5 = [
    "full_ctr_coverage",
    "crisis_support_doubled",
    "housing_brought_forward",
    "faster_funding",
    "planned_closures",
    "no_repatriation",
]
WHERE = ["tcp=bhr", "system=south_east_hub"]


def spec_of(scenario: str, where: str) -> SystemSpec:
    return build_spec(compose([f"scenario={scenario}", where, "run.progress=false"]))


def test_issue_scenarios_exist():
    """Every scenario issue 5 asks for has its file."""
    assert set(ISSUE_5 + ["baseline", "hub_pooling", "separate_pools"]) <= set(SCENARIOS)


@pytest.mark.parametrize("name", SCENARIOS)
def test_first_comment_asks_the_question(name):
    """The file's first comment (after Hydra's @package line) begins 'Question:' and asks one, and the
    composed scenario carries the same name and a question."""
    lines = (CONFIG_DIR / "scenario" / f"{name}.yaml").read_text().splitlines()
    assert lines[0].startswith("# @package ")
    comment = []
    for line in lines[1:]:
        if not line.startswith("#"):
            break
        comment.append(line.lstrip("# ").strip())
    text = " ".join(comment)
    assert text.startswith("Question:") and "?" in text, text
    cfg = compose([f"scenario={name}"])
    assert cfg.scenario.name == name
    assert cfg.scenario.question.strip().endswith("?")


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("name", SCENARIOS)
def test_composes_and_validates(name, where):
    """Each scenario builds a valid spec both for one TCP and for the south-east hub's three; the hub's
    pooling pair only for the hub (on one TCP there is no shared pool: refused, naming the system)."""
    if where == "tcp=bhr" and name in ("hub_pooling", "separate_pools"):
        with pytest.raises(ConfigError, match="needs system=south_east_hub") as e:
            spec_of(name, where)
        assert e.value.key == "scenario" and "tcp=bhr has no pool shared by TCPs" in e.value.problem
        return
    spec = spec_of(name, where)
    assert spec.scenario == name
    assert len(spec.tcps) == (1 if where == "tcp=bhr" else 3)


@pytest.fixture(scope="module", params=WHERE)
def baseline(request) -> tuple[str, SystemSpec]:
    return request.param, spec_of("baseline", request.param)


def test_full_ctr_coverage_in_spec(baseline):
    """Full pre-admission CTR coverage: every TCP's coverage is 1 (it was 79%)."""
    where, base = baseline
    spec = spec_of("full_ctr_coverage", where)
    assert all(t.ctr_coverage < 1.0 for t in base.tcps)
    assert all(t.ctr_coverage == 1.0 for t in spec.tcps)


def test_crisis_support_doubled_in_spec(baseline):
    """Crisis support doubled: every TCP's places are twice the baseline's."""
    where, base = baseline
    spec = spec_of("crisis_support_doubled", where)
    assert [t.support_places for t in spec.tcps] == [2 * t.support_places for t in base.tcps]
    assert all(t.support_places > 0 for t in base.tcps)


def test_housing_brought_forward_in_spec(baseline):
    """Housing brought forward: every pipeline step opens 12 months earlier, not before the start."""
    where, base = baseline
    spec = spec_of("housing_brought_forward", where)
    start = base.calendar.start
    for b, s in zip(base.tcps, spec.tcps):
        assert b.discharge.pipeline, b.name
        expected = []
        for day, kind, units in b.discharge.pipeline:
            when = max(add_months(start + timedelta(days=day), -12), start)
            expected.append((float((when - start).days), kind, units))
        assert list(s.discharge.pipeline) == expected
        assert all(sd < bd for (sd, _, _), (bd, _, _) in zip(s.discharge.pipeline, b.discharge.pipeline))


def test_faster_funding_in_spec(baseline):
    """Faster funding: every TCP's funding delay has half the mean; S117 dispute delays are unchanged."""
    where, base = baseline
    spec = spec_of("faster_funding", where)
    for b, s in zip(base.tcps, spec.tcps):
        assert s.discharge.funding_delay.mean == pytest.approx(0.5 * b.discharge.funding_delay.mean)
        assert s.discharge.dispute_delay == b.discharge.dispute_delay


def test_no_repatriation_in_spec(baseline):
    """No repatriation: every TCP's repatriation is off (the configs have it on)."""
    where, base = baseline
    spec = spec_of("no_repatriation", where)
    assert all(t.discharge.repatriation for t in base.tcps)
    assert not any(t.discharge.repatriation for t in spec.tcps)


def test_planned_closures_close_occupied_beds_on_the_configured_dates(baseline):
    """Planned closures: the pools keep their configured schedules, the baseline's, but every pool closes
    occupied beds on the step's date (the baseline's only once empty)."""
    where, base = baseline
    spec = spec_of("planned_closures", where)
    assert [p.name for p in spec.pools] == [p.name for p in base.pools]
    for b, s in zip(base.pools, spec.pools):
        assert list(s.step_days) == list(b.step_days) and list(s.step_beds) == list(b.step_beds)
    assert any(len(p.step_beds) > 1 and p.step_beds[-1] < p.step_beds[0] for p in spec.pools)
    assert all(p.close_occupied for p in spec.pools) and not any(p.close_occupied for p in base.pools)


def test_double_running_fixes_the_whole_price_of_every_secure_bed(baseline):
    """Double running: every secure pool, a TCP's own (BHR) or shared (the hub), has its whole price fixed
    (an empty bed saves nothing, so the pooled budget releases nothing until a bed closes); the other
    pools keep the baseline's share (0.7 in the configs)."""
    where, base = baseline
    spec = spec_of("pooled_budget_double_running", where)
    secure = {UNIT_TYPES.index("low_secure"), UNIT_TYPES.index("medium_secure")}
    assert any(p.unit in secure and len(p.tcps) > 1 for p in spec.pools) == (where != "tcp=bhr")
    for b, s in zip(base.pools, spec.pools):
        assert b.fixed_share == 0.7
        assert s.fixed_share == (1.0 if s.unit in secure else b.fixed_share), s.name
        assert s.bed_per_day == b.bed_per_day > 0


@pytest.mark.parametrize(
    "override, key, words",
    [
        ("scenario.ctr_coverage=1.5", "scenario.ctr_coverage", "[0, 1]"),
        ("scenario.crisis_support_factor=-1", "scenario.crisis_support_factor", "at least 0"),
        ("scenario.housing_months_earlier=-3", "scenario.housing_months_earlier", "at least 0"),
        ("scenario.funding_delay_factor=-0.5", "scenario.funding_delay_factor", "at least 0"),
        ("scenario.provider_lead_factor=-1", "scenario.provider_lead_factor", "at least 0"),
    ],
)
def test_bad_scenario_value_names_its_key(override, key, words):
    """A wrong scenario value stops the run with a message naming the scenario key."""
    with pytest.raises(ConfigError) as err:
        build_spec(compose([override]))
    assert err.value.key == key and words in str(err.value)


def test_funding_delay_factor_zero_is_no_delay():
    """A funding delay factor of 0 removes the funding delay (no components: no delay)."""
    spec = build_spec(compose(["scenario.funding_delay_factor=0"]))
    assert spec.tcps[0].discharge.funding_delay is None


def test_provider_lead_factor_scales_every_time():
    """The provider lead factor multiplies the provider lead's mean and sd (BHR's 0.25 and 0.15 years), and
    leaves the funding delay as it was; 0 removes the wait for a provider."""
    base = compose(["tcp=bhr"])
    halved = apply_scenario(OmegaConf.to_object(compose(["tcp=bhr", "scenario.provider_lead_factor=0.5"])))
    (component,) = halved.tcp.discharge.provider_lead.components
    shipped = base.tcp.discharge.provider_lead.components[0]
    assert (component.mean, component.sd) == pytest.approx((shipped.mean / 2, shipped.sd / 2))
    assert halved.tcp.discharge.funding_delay.components[0].mean == base.tcp.discharge.funding_delay.components[0].mean
    spec = build_spec(compose(["scenario.provider_lead_factor=0"]))
    assert spec.tcps[0].discharge.provider_lead is None


# ------------------------------------------------------------------------------- behaviour (small runs)


def totals(scenario: str) -> pd.Series:
    """Mean over 20 replications (Numba engine, the default seed) of each metric summed over the run."""
    cfg = compose([f"scenario={scenario}", "tcp=bhr", "run.replications=20", "run.progress=false", "run.engine=numba"])
    return run(cfg).monthly.groupby("replication").sum(numeric_only=True).mean()


@pytest.fixture(scope="module")
def base_totals() -> pd.Series:
    return totals("baseline")


def test_full_ctr_coverage_averts_more(base_totals):
    """Full CTR coverage, same seed (common random numbers): more CTRs and averted admissions, fewer admissions."""
    t = totals("full_ctr_coverage")
    assert t["ctrs_pre_admission"] > base_totals["ctrs_pre_admission"]
    assert t["admissions_averted"] >= base_totals["admissions_averted"]
    assert t["admissions"] <= base_totals["admissions"]


def test_no_repatriation_repatriates_no_one(base_totals):
    """No repatriation: nobody is repatriated, where the baseline repatriates some."""
    t = totals("no_repatriation")
    assert base_totals["repatriations"] > 0
    assert t["repatriations"] == 0


def test_earlier_housing_and_faster_funding_shorten_their_delays(base_totals):
    """Housing a year earlier cuts bed-days delayed for housing; faster funding those delayed for funding."""
    assert totals("housing_brought_forward")["delayed_bed_days_housing"] < base_totals["delayed_bed_days_housing"]
    assert totals("faster_funding")["delayed_bed_days_funding"] < base_totals["delayed_bed_days_funding"]
