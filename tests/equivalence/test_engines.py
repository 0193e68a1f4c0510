"""The Numba engine against the SimPy model: same config, same seed, the same monthly record.

Counts must be equal exactly; time integrals (bed-days, person-days, hence costs) to 1e-9 relative. The
first test to run pays the engine's compile (cached afterwards in sim/engine/__pycache__).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import loss_cfg, make_cfg, system_cfg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.config import CONFIG_DIR, build_spec
from sim.engine import Engine
from sim.model import run_replication
from sim.results.events import event_frame, rows_frame


def assert_same_record(spec, replications) -> None:
    """Every array of MonthlyArrays equal between the engines, replication by replication, with the event
    log off and on (it changes nothing), and the per-person event logs equal row for row."""
    engine, logging = Engine(spec), Engine(spec, event_log=True)
    for r in replications:
        fast, fast_logged = engine.run(r), logging.run(r)
        ref, log = run_replication(spec, r, event_log=True)
        for name, values in ref.as_dict().items():
            for got in (getattr(fast, name), getattr(fast_logged, name)):
                if values.dtype.kind == "f":
                    np.testing.assert_allclose(got, values, rtol=1e-9, atol=1e-9, err_msg=f"replication {r}: {name}")
                else:
                    np.testing.assert_array_equal(got, values, err_msg=f"replication {r}: {name}")
        assert_same_log(rows_frame(log or []), event_frame(logging.log()), r)


def assert_same_log(ref: pd.DataFrame, fast: pd.DataFrame, r: int) -> None:
    """The engines' event logs of replication r: the same events in the same order, with the same codes
    and times (to 1e-9 days: the engines' clocks are the same sums, up to rounding)."""
    assert len(fast) == len(ref), f"replication {r}: {len(fast)} events against the model's {len(ref)}"
    for name in ref.columns:
        if name == "time":
            np.testing.assert_allclose(fast[name], ref[name], rtol=0, atol=1e-9, err_msg=f"replication {r}: time")
        else:
            np.testing.assert_array_equal(fast[name], ref[name], err_msg=f"replication {r}: {name}")


CONFIGS = {
    "loss_system": lambda: loss_cfg(
        beds=25,
        rate=20.0,
        los=[{"family": "lognormal", "weight": 1.0, "mean": 1.5, "sd": 2.0}],
        **{"run.years": 5, "run.warmup_years": 10},
    ),
    "bhr": lambda: make_cfg(),
    "bhr_longest_stay_no_repatriation": lambda: make_cfg(
        ["tcp.discharge.policy=longest_stay", "tcp.discharge.repatriation=false"]
    ),
    # fewer ATU beds than the census's 9 in-area inpatients: 4 start out of area (fit_census), repatriated
    "bhr_beds_below_census": lambda: make_cfg(**{"tcp.beds.atu.schedule": [{"date": "2016-03", "beds": 5}]}),
    "south_east_hub": lambda: make_cfg(["system=south_east_hub", "run.years=2"]),
    "hub_separate_pools": lambda: make_cfg(["system=south_east_hub", "scenario=separate_pools", "run.years=2"]),
    "shared_pool_system": lambda: system_cfg(**{"run.years": 3, "run.warmup_years": 2}),
    "hub_planned_closures": lambda: make_cfg(["system=south_east_hub", "scenario=planned_closures", "run.years=2"]),
    # the "or wait" policy: a shared pool and a TCP's own pool wait, beds closing under the waiting
    "hub_or_wait": lambda: make_cfg(
        [
            "system=south_east_hub",
            "scenario=planned_closures",
            "run.years=2",
            "system.shared_pools.0.wait_months=1",
            "system.shared_pools.1.wait_months=3",
            "system.tcps.surrey.beds.atu.wait_months=0.5",
        ]
    ),
}
# every scenario file on BHR (hub_pooling and separate_pools are the hub's, above)
CONFIGS.update(
    {
        f"bhr_{p.stem}": (lambda name=p.stem: make_cfg([f"scenario={name}"]))
        for p in sorted((CONFIG_DIR / "scenario").glob("*.yaml"))
        if p.stem not in ("baseline", "hub_pooling", "separate_pools")
    }
)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_engines_agree_on_shipped_and_test_configs(name):
    """Each shipped system (and the test systems) gives the same record in both engines."""
    assert_same_record(build_spec(CONFIGS[name]()), range(4))


@st.composite
def random_overrides(draw: st.DrawFn) -> list[str]:
    """Overrides of a small random BHR-like config: every rule switched on with random parameters. Each
    parameter is its own strategy, so a failing config shrinks towards the simplest one that still fails
    (Hypothesis prints it as the list of overrides)."""

    def u(lo: float, hi: float) -> str:
        return f"{draw(st.floats(lo, hi, allow_nan=False)):.3f}"

    def i(lo: int, hi: int) -> int:  # lo <= i < hi, as rng.integers drew them
        return draw(st.integers(lo, hi - 1))

    def b() -> str:
        return "true" if draw(st.booleans()) else "false"

    def split(key: str, first: str, second: str) -> list[str]:  # two shares summing to 1
        k = i(0, 1001)
        return [f"{key}.{first}={k / 1000:.3f}", f"{key}.{second}={(1000 - k) / 1000:.3f}"]

    return [
        "run.years=2",
        f"tcp.crisis.unregistered_rate={u(2, 30)}",
        f"tcp.crisis.child_share={u(0, 0.3)}",
        f"tcp.register.join_child_share={u(0, 0.3)}",
        f"tcp.register.children.amber={i(0, 5)}",
        f"tcp.children.age_low={u(10, 17.9)}",
        f"tcp.children.to_adult_unit={u(0, 1)}",
        f"tcp.transfers.step_down_rate.medium_secure={u(0, 3)}",
        f"tcp.transfers.step_down_rate.low_secure={u(0, 3)}",
        *split("tcp.transfers.step_down_to.medium_secure", "low_secure", "atu"),
        f"tcp.transfers.step_up_rate.atu={u(0, 3)}",
        f"tcp.transfers.step_up_rate.low_secure={u(0, 3)}",
        *split("tcp.transfers.step_up_to.atu", "low_secure", "medium_secure"),
        f"tcp.ctr.coverage={u(0, 1)}",
        f"tcp.ctr.avert={u(0, 1)}",
        f"tcp.ctr.ready_prob={u(0, 0.5)}",
        f"tcp.ctr.long_stay_years={u(0, 3)}",
        f"tcp.ctr.ready_prob_long={u(0, 0.2)}",
        f"tcp.crisis_support.places={i(0, 4)}",
        f"tcp.register.join_rate={u(0, 20)}",
        f"tcp.register.leave_rate={u(0, 0.5)}",
        f"tcp.discharge.dispute_prob={u(0, 1)}",
        f"tcp.discharge.policy={draw(st.sampled_from(['fifo', 'longest_stay']))}",
        f"tcp.discharge.repatriation={b()}",
        f"tcp.discharge.housing.shared.units={i(0, 5)}",
        f"tcp.discharge.housing.shared.supply_rate={u(0, 15)}",
        f"tcp.discharge.housing.shared.offer_months={u(0, 6)}",
        f"tcp.discharge.planning_lead_years={u(0, 1)}",
        f"tcp.community.breakdown_rate_first_year={u(0, 1)}",
        f"tcp.community.settle_years={u(0, 2)}",
        f"tcp.community.settled_leave_rate={u(0, 1)}",
        f"tcp.community.settled_register_rate={u(0, 1)}",
        f"tcp.community.death_rate={u(0, 0.2)}",
        f"tcp.community.hospital_death_rate={u(0, 0.2)}",
        f"tcp.out_of_area_need.atu={u(0, 0.5)}",
        f"tcp.costs.initial_months={u(0, 12)}",
        f"tcp.beds.atu.schedule=[{{date:'2000-01',beds:{i(9, 14)}}},{{date:'2016-10',beds:{i(2, 9)}}}]",
        f"tcp.beds.atu.wait_months={u(0, 3)}",
        f"tcp.beds.low_secure.wait_months={u(0, 3)}",
        f"scenario.close_occupied={b()}",
    ]


@settings(
    max_examples=6,  # as many configs as the seeded cases this replaced; each costs a compose and 2 runs
    deadline=None,  # a config composes and runs in seconds, more on a loaded machine
    derandomize=True,  # the same examples on every run, so CI is reproducible
    database=None,  # and none remembered from an earlier run (nor a .hypothesis/ directory written)
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(overrides=random_overrides())
def test_engines_agree_on_random_configs(overrides):
    """Property test: on random small configs (every rule on, random parameters), the engines agree."""
    assert_same_record(build_spec(make_cfg(overrides)), range(2))


def test_a_replication_does_not_depend_on_the_ones_run_before_it_on_the_same_engine():
    """The engine reuses its arrays from one replication to the next: replication 5 after 0-4 is the
    replication 5 of a fresh engine, array for array (hub system: every rule in play, several TCPs)."""
    spec = build_spec(make_cfg(["system=south_east_hub", "run.years=2"]))
    used = Engine(spec)
    for r in range(5):
        used.run(r)
    after, fresh = used.run(5).as_dict(), Engine(spec).run(5).as_dict()
    for name, values in fresh.items():
        np.testing.assert_array_equal(after[name], values, err_msg=name)


def test_the_kernel_can_set_scalar_fields_of_its_struct_but_not_array_fields():
    """The kernel's view of its struct lends it the arrays without reference counts (sim/engine/structs.py),
    safe only while the kernel never stores an array into the struct: setting an array field through the
    view does not compile; setting a scalar does, and reaches the struct."""
    import numba
    from numba.core.errors import NumbaError

    from sim.engine.structs import view

    engine = Engine(build_spec(loss_cfg()))

    @numba.njit
    def set_clock(state, value):
        st = view(state)
        st.clock = value
        return st.clock

    @numba.njit
    def set_array(state):
        st = view(state)
        st.pool_occupied = st.pool_scheduled

    assert set_clock(engine.state, 12.5) == 12.5
    with pytest.raises(NumbaError, match="scalar fields"):
        set_array(engine.state)


def test_run_without_a_copy_gives_the_engines_own_record_until_its_next_run():
    """copy=False hands out the engine's own record: the same numbers as a copy, and overwritten by the
    engine's next run (a copy is not)."""
    engine = Engine(build_spec(loss_cfg()))
    copied = engine.run(3)
    own = engine.run(3, copy=False)
    for name, values in copied.as_dict().items():
        np.testing.assert_array_equal(own.as_dict()[name], values, err_msg=name)
    admissions = own.admissions.copy()
    engine.run(4)
    assert own is engine.record and not np.array_equal(own.admissions, admissions)
    np.testing.assert_array_equal(copied.admissions, admissions)


def test_a_choice_is_sure_only_when_one_category_has_all_the_probability():
    """The engine skips a draw whose answer is known: ``sure_choice`` names the category every uniform
    picks, or -1 when the uniform matters (then the draw is made)."""
    import numba

    from sim.engine.loop import sure_choice
    from sim.sampling import choice

    @numba.njit
    def sure(cum):
        return sure_choice(cum)

    for cum, expected in (
        ([0.0, 0.0, 1.0], 2),
        ([1.0, 1.0, 1.0], 0),
        ([0.0, 1.0, 1.0, 1.0], 1),
        ([0.3, 1.0, 1.0], -1),
        ([0.0, 0.5, 1.0], -1),
        ([0.999999, 1.0], -1),
    ):
        cum = np.array(cum)
        assert sure(cum) == expected, cum
        if expected >= 0:  # what the draw would have picked, for any uniform
            assert {choice(u, cum) for u in (1e-12, 0.25, 0.5, 0.999999999)} == {expected}
