"""ATU capacity: the batch job behind a capacity curve (issue 5, point 5).

For each number of in-area beds of one unit type (ATU by default) the TCP's config is run with that
many beds throughout -- the unit's planned bed schedule is REPLACED by the constant number -- and the
same seed (common random numbers: the same crises and stays at every bed number). It reports, with 95%
confidence intervals, the out-of-area placement share, occupancy of the unit's beds, delayed bed-days and
cost a year, and the fewest beds whose one-sided upper confidence bound on the share is at or under the
target. It writes ``capacity.csv`` (one row a bed number) and ``capacity.png`` into the Hydra run
directory, prints a short table and the answer. Without ``capacity.beds`` the range is derived from the
chosen TCP's own planned beds (half the fewest to twice the most). A bed number below the start census's
in-area inpatients runs: the surplus starts out of area until beds free, which a note line and the
table's ``census_out_of_area`` and ``note`` columns say.

    python experiments/atu_capacity.py                                  # BHR, 1,000 replications, 3-20 beds
    python experiments/atu_capacity.py tcp=kent_medway system=single    # its range from its own beds
    python experiments/atu_capacity.py tcp=surrey capacity.max_beds=30 run.replications=500
    python experiments/atu_capacity.py capacity.measure=full_beds capacity.target_share=0.25
    python experiments/atu_capacity.py experiment=erlang_b capacity.min_beds=20 capacity.max_beds=40

Config: configs/atu_capacity.yaml (keys and their sources); the computation is sim/capacity.py, which
notebooks and tests call without Hydra (its chart drawn by sim/plots/capacity.py). A wrong value stops before
anything runs with one line naming the key and exit status 2.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import hydra
import pandas as pd
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from sim import capacity
from sim.cli import exit_on_user_error, run_app
from sim.config import CONFIG_DIR, ConfigError, build_spec
from sim.pathway import UNIT_NAMES
from sim.report.workbook import Sheet, write_workbook
from sim.runner.warm import compile_line, engine_needs_compiling

logger = logging.getLogger("atu_capacity")  # the console and the run directory's atu_capacity.log
capacity.register_schema()  # the root schema gains the `capacity` section (this process only)


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="atu_capacity")
def _hydra_main(cfg: DictConfig) -> None:
    out = Path(HydraConfig.get().runtime.output_dir)
    c = cfg.capacity
    try:
        beds = capacity.check_capacity(cfg)
    except ConfigError as e:  # one line, exit 2 (exit_on_user_error)
        exit_on_user_error(e, out)
    r = cfg.run
    logger.info(
        f"{cfg.tcp.name}: {c.unit} beds {beds[0]}..{beds[-1]} ({len(beds)} bed numbers), "
        f"{r.replications} replications each, seed {r.seed}, engine {r.engine}"
    )

    census = capacity.census_floor(cfg, c.unit)
    below = [b for b in beds if capacity.census_out_of_area(census, b) > 0]
    at = f"{below[0]}" if len(below) == 1 else f"{below[0]} to {below[-1]}" if below else ""
    census_note = (
        f"the start census holds {census} {c.unit} inpatients in area, more than {at} beds: there the surplus "
        "starts out of area until beds free (census_out_of_area and note in capacity.csv)"
        if below
        else ""
    )
    if census_note:
        logger.info(f"note: {census_note}")

    if r.engine == "numba" and engine_needs_compiling():
        logger.info(compile_line())

    def report(b: int, row: dict, seconds: float) -> None:
        if r.progress:
            logger.info(f"  {b:>4} beds: {col} {row[col]:.3f} ({seconds:.1f} s)")

    col = capacity.MEASURES[c.measure]
    table = capacity.capacity_curve(
        cfg, beds, unit=c.unit, confidence=c.confidence, target=c.target_share, measure=c.measure, on_point=report
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fewest: int | None = capacity.fewest_beds(table, c.target_share, c.confidence, c.measure)
            answer = (
                f"fewest {c.unit} beds keeping the {col} at or under {c.target_share:g} with "
                f"{c.confidence:.0%} confidence: {fewest}"
            )
        except capacity.TargetNotReached as e:
            fewest = None
            most, for_needs, for_beds = capacity.out_of_area_split(table, c.measure)
            whose = f"{c.unit} admissions" if c.measure.startswith("unit") else "admissions (every unit type)"
            answer = (
                f"target not reached: {e}. At {most} beds, {for_needs:.1%} of "
                f"{whose} go out of area for needs no local unit meets (tcp.out_of_area_need) and "
                f"{for_beds:.1%} for want of an in-area bed"
            )
    notes = [str(w.message) for w in caught] + ([census_note] if census_note else [])

    spec = build_spec(capacity.with_beds(capacity.simulator_config(cfg), c.unit, beds[0]))
    first, last_month = spec.calendar.labels[0], spec.calendar.labels[-1]
    source = (
        f"Source: tcp-sim experiments/atu_capacity.py; tcp {cfg.tcp.name}, scenario {cfg.scenario.name}, "
        f"{r.replications:,} replications a bed number, seed {r.seed} (common random numbers), {first} to "
        f"{last_month}. Each bed number is held constant over the run, replacing the planned schedule; "
        f"bands are 95% confidence intervals."
    )
    capacity.capacity_chart(
        table,
        unit=c.unit,
        title=f"In-area {UNIT_NAMES.get(c.unit, c.unit)} beds, {spec.title}: "
        "out-of-area placements, occupancy and cost",
        source=source,
        target=c.target_share,
        confidence=c.confidence,
        measure=c.measure,
        fewest=fewest,
        path=out / "capacity.png",
    )
    table.to_csv(out / "capacity.csv", index=False, float_format="%.6g")
    write_workbook(
        out / "capacity.xlsx",
        [
            Sheet(
                "Capacity",
                table,
                title=f"In-area {UNIT_NAMES.get(c.unit, c.unit)} beds, {spec.title}",
                units="shares 0 to 1; beds; pounds a year",
                source=source,
            )
        ],
    )
    _print_table(table, col)
    for n in notes:
        logger.info(f"note: {n}")
    logger.info(answer)
    logger.info(f"wrote {out / 'capacity.csv'} and {out / 'capacity.png'}")


def _print_table(table: pd.DataFrame, col: str) -> None:
    """A short table: beds, the share and its interval and bound, occupancy, delayed bed-days, cost."""
    logger.info(
        f"{'beds':>5} {'OOA share':>10} {'95% CI':>17} {'upper':>7} {'occupancy':>10} "
        f"{'delayed bd/yr':>14} {'cost/yr (£m)':>13}"
    )
    for _, row in table.iterrows():
        logger.info(
            f"{int(row['beds']):>5} {row[col]:>10.3f} {row[f'{col}_lo95']:>8.3f}-{row[f'{col}_hi95']:<8.3f} "
            f"{row[f'{col}_ucb']:>7.3f} {row['occupancy']:>10.1%} {row['delayed_bed_days_per_year']:>14,.0f} "
            f"{row['cost_per_year'] / 1e6:>13.2f}"
        )


def main() -> None:
    """Entry point: run Hydra, turning user errors into one line and exit status 2."""
    run_app(_hydra_main)


if __name__ == "__main__":
    main()
