"""The Capacity page (Streamlit): a unit's capacity curve for one TCP, and the fewest in-area beds that
keep the out-of-area share at or under a target with a stated confidence; ``capacity_page`` draws it.

The sweep is ``sim.capacity``'s (the batch job ``experiments/atu_capacity.py`` runs the same functions):
each bed number one run of the chosen TCP and scenario with that many beds of the unit throughout, the
same seed for every bed number. The page's choices are the batch job's overrides (``capacity.*`` and
``run.*``), checked by ``sim.capacity.check_capacity`` before anything runs, so a refusal is the command
line's own line, and the command shown runs the same sweep. The ``capacity`` section is not registered
in the app's schema (``register_schema`` would change every config the app composes afterwards): the
simulator's config is composed as usual and the section, typed by ``CapacityConfig``, set on it.
"""

from __future__ import annotations

import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import streamlit as st
from omegaconf import DictConfig, OmegaConf, open_dict

from sim.app.common import (
    Cancelled,
    choose_area,
    choose_scenario,
    mark_cancelled,
    offer,
    one_line,
    progress_bar,
    show_command,
    was_cancelled,
)
from sim.app.exports import Download, chart_downloads, figure_bytes, table_downloads
from sim.app.levers import RUN_KEYS, Area, Checked, base_config, refusal, run_choices, run_settings
from sim.app.results import Progress, Store, png
from sim.capacity import (
    MEASURES,
    CapacityConfig,
    TargetNotReached,
    bed_range_step,
    capacity_chart,
    capacity_curve,
    check_capacity,
    default_range,
    fewest_beds,
    out_of_area_split,
    simulator_config,
    with_beds,
)
from sim.config import build_spec
from sim.config.errors import user_error_line
from sim.config.provenance import hydra_value, rerun_command
from sim.config.store import CONFIG_DIR
from sim.pathway import UNIT_NAMES, UNIT_TYPES
from sim.plots.capacity import percent
from sim.report import markdown_to_html
from sim.report.word import write_docx
from sim.report.workbook import Sheet

#: The batch job the page's command line runs (``python -m experiments.atu_capacity`` from the
#: repository, as ``python experiments/atu_capacity.py``), and the file of its ``capacity`` defaults.
PROGRAM = "experiments.atu_capacity"
CAPACITY_FILE = CONFIG_DIR / "atu_capacity.yaml"
#: The page's fields, by name: the config keys their values set (a refusal names one, and is shown
#: beside its field).
FIELDS: dict[str, str | None] = {
    "unit": "capacity.unit",
    "from": "capacity.min_beds",
    "to": "capacity.max_beds",
    "step": "capacity.step",
    "measure": "capacity.measure",
    "target": "capacity.target_share",
    "confidence": "capacity.confidence",
    **RUN_KEYS,
}
#: What each share counts (``sim.capacity.MEASURES``), in words; ``{unit}`` is the unit type's name.
MEASURE_WORDS = {
    "unit_full_beds": "{unit} admissions placed out of area for want of an in-area bed",
    "unit": "{unit} admissions placed out of area (for any reason)",
    "full_beds": "admissions (every unit type) placed out of area for want of an in-area bed",
    "all": "admissions (every unit type) placed out of area (for any reason)",
}
#: How many sweeps the page's store keeps (each a table and a chart), and the reports made of them.
CACHED_SWEEPS = 32
CACHED_REPORTS = 8


# ------------------------------------------------------------------------------------ without Streamlit


def shipped_capacity() -> DictConfig:
    """The ``capacity`` section as configs/atu_capacity.yaml ships it, typed by ``CapacityConfig``."""
    section = OmegaConf.merge(OmegaConf.structured(CapacityConfig), OmegaConf.load(CAPACITY_FILE).capacity)
    assert isinstance(section, DictConfig)
    return section


def measure_words(measure: str, unit: str) -> str:
    """What the ``measure`` share of ``unit`` counts, for a sentence."""
    return MEASURE_WORDS[measure].format(unit=UNIT_NAMES.get(unit, unit))


def units_of(cfg: DictConfig) -> list[str]:
    """The unit types the TCP has in-area bed pools of (``tcp.beds``), in ``UNIT_TYPES`` order."""
    return [u for u in UNIT_TYPES if u in cfg.tcp.beds]


def sweep_config(area: Area, ovr: Sequence[str]) -> DictConfig:
    """The batch job's config of the overrides ``ovr``: the simulator's config of every override but the
    ``capacity.*`` ones, composed with the area's config directory, and the ``capacity`` section of the
    shipped file with those set (typed: a value of the wrong type is refused naming its key). Nothing
    is checked beyond the types (``check_capacity`` does that)."""
    own = [o for o in ovr if o.startswith("capacity.")]
    cfg = area.compose([o for o in ovr if not o.startswith("capacity.")])
    section = OmegaConf.create({"capacity": shipped_capacity()})
    section.merge_with_dotlist(own)
    with open_dict(cfg):
        cfg.capacity = section.capacity
    return cfg


def sweep_overrides(
    area: Area, scenario: str, capacity: dict[str, Any], run: dict[str, Any], default_years: Any
) -> list[str]:
    """The page's choices as the batch job's overrides: the area and scenario, each ``capacity.<key>``
    (``capacity``: key -> value), the replications and seed, the horizon when it is changed."""
    out = [area.choice, f"scenario={scenario}"]
    out += [f"capacity.{k}={hydra_value(v)}" for k, v in capacity.items()]
    out += [f"{RUN_KEYS[k]}={hydra_value(v)}" for k, v in run.items() if k != "years" or v != default_years]
    return out


@dataclass
class CapacityRun:
    """What the page shows of one sweep: the table (``sim.capacity.capacity_curve``'s, one row a bed
    number), the answer, the notes, the chart (PNG at screen resolution) and what it is drawn from."""

    title: str
    source: str
    unit: str
    measure: str
    target: float
    confidence: float
    replications: int
    seconds: float
    table: pd.DataFrame
    fewest: int | None
    answer: str
    notes: list[str] = field(default_factory=list)
    chart: bytes = b""


def answer_of(
    table: pd.DataFrame, unit: str, target: float, confidence: float, measure: str
) -> tuple[int | None, str, list[str]]:
    """The fewest beds (``sim.capacity.fewest_beds``) and the sentence that says it, or None and what to
    do when no bed number of the table reaches the target; and the warnings of a noisy curve."""
    name, what = UNIT_NAMES.get(unit, unit), measure_words(measure, unit)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fewest: int | None = fewest_beds(table, target, confidence, measure)
        except TargetNotReached:
            fewest = None
    noisy = [str(w.message) for w in caught]
    if fewest is not None:
        return (
            fewest,
            f"The fewest {name} beds for at most {percent(target)} of {what}, with {confidence:.0%} confidence, "
            f"is {fewest}.",
            noisy,
        )
    beds = table["beds"]
    bounds = table[f"{MEASURES[measure]}_ucb"]
    said = (
        f"No number of {name} beds from {beds.min()} to {beds.max()} keeps {what} at or under "
        f"{percent(target)} with {confidence:.0%} confidence"
    )
    if bounds.notna().any():
        best = bounds.idxmin()
        said += f": the lowest upper bound is {bounds[best]:.1%}, at {beds[best]} beds"
    most, for_needs, for_beds = out_of_area_split(table, measure)
    whose = f"{name} admissions" if measure.startswith("unit") else "admissions (every unit type)"
    said += (
        f". At {most} beds, {for_needs:.1%} of {whose} go out of area for needs no local unit meets "
        f"(tcp.out_of_area_need), which more beds do not change, and {for_beds:.1%} for want of an in-area bed. "
        "To reach it: try more beds (raise 'To'), a target above what beds cannot lower, a lower confidence, "
        "or more replications (a tighter bound)."
    )
    return None, said, noisy


def sweep(cfg: DictConfig, beds: Sequence[int], on_progress: Progress | None = None) -> CapacityRun:
    """Run the capacity curve of a checked config (``check_capacity``'s ``beds``), calling
    ``on_progress(done, total)`` as each bed number finishes (it may raise ``Cancelled``: nothing is
    kept), and draw what the page shows of it."""
    c = cfg.capacity
    clock = time.perf_counter()

    done = 0

    def point(_beds: int, _row: dict, _seconds: float) -> None:
        nonlocal done
        done += 1
        if on_progress is not None:
            on_progress(done, len(beds))

    table = capacity_curve(
        cfg,
        beds,
        unit=c.unit,
        confidence=float(c.confidence),
        target=float(c.target_share),
        measure=c.measure,
        on_point=point,
    )
    seconds = time.perf_counter() - clock
    fewest, answer, notes = answer_of(table, c.unit, float(c.target_share), float(c.confidence), c.measure)
    notes += sorted({n for n in table["note"] if n})  # what the runs' builds changed (a census over the beds)
    spec = build_spec(with_beds(simulator_config(cfg), c.unit, int(beds[0])))
    name, labels = UNIT_NAMES.get(c.unit, c.unit), spec.calendar.labels
    r = cfg.run
    result = CapacityRun(
        title=f"In-area {name} beds, {spec.title}: out-of-area placements, occupancy and cost",
        source=(
            f"Source: tcp-sim (python -m {PROGRAM}); tcp {cfg.tcp.name}, scenario {cfg.scenario.name}, "
            f"{int(r.replications):,} replications a bed number, seed {r.seed} (common random numbers), "
            f"{labels[0]} to {labels[-1]}. Each bed number is held constant over the run, replacing the planned "
            "schedule; bands are 95% confidence intervals."
        ),
        unit=c.unit,
        measure=c.measure,
        target=float(c.target_share),
        confidence=float(c.confidence),
        replications=int(r.replications),
        seconds=seconds,
        table=table,
        fewest=fewest,
        answer=answer,
        notes=notes,
    )
    result.chart = png(draw(result))
    return result


def draw(r: CapacityRun) -> plt.Figure:
    """The sweep's chart (``sim.capacity.capacity_chart``), drawn anew."""
    return capacity_chart(
        r.table,
        unit=r.unit,
        title=r.title,
        source=r.source,
        target=r.target,
        confidence=r.confidence,
        measure=r.measure,
        fewest=r.fewest,
    )


def shown_table(r: CapacityRun) -> pd.DataFrame:
    """The table as the page shows it: for each bed number the target's share with its 95% interval and
    one-sided bound, whether it meets the target, occupancy, delayed bed-days and cost a year, and the
    census inpatients who start out of area."""
    t, col = r.table.sort_values("beds"), MEASURES[r.measure]
    return pd.DataFrame(
        {
            "beds": t["beds"],
            "share out of area": t[col].map("{:.1%}".format),
            "95% interval": [f"{lo:.1%} to {hi:.1%}" for lo, hi in zip(t[f"{col}_lo95"], t[f"{col}_hi95"])],
            f"upper bound ({r.confidence:.0%})": t[f"{col}_ucb"].map("{:.1%}".format),
            "meets the target": t[f"{col}_ucb"] <= r.target,
            "occupancy": t["occupancy"].map("{:.0%}".format),
            "delayed bed-days a year": t["delayed_bed_days_per_year"].round(0).astype(int),
            "cost a year (£m)": (t["cost_per_year"] / 1e6).round(2),
            "start out of area": t["census_out_of_area"],
        }
    ).reset_index(drop=True)


def sheet(r: CapacityRun) -> Sheet:
    """The whole table (every share, with its intervals), as the batch job's capacity.xlsx has it."""
    return Sheet(
        "Capacity",
        r.table,
        title=r.title,
        units="shares 0 to 1; beds; pounds a year",
        source=r.source.removeprefix("Source: "),
    )


def pipe_table(frame: pd.DataFrame) -> str:
    """A table as Markdown's pipe table (the report's tables)."""

    def cell(v: Any) -> str:
        return ("yes" if v else "no") if isinstance(v, bool) else str(v).replace("|", "\\|")

    rows = [[cell(c) for c in frame.columns], ["---"] * len(frame.columns)]
    rows += [[cell(v) for v in row] for row in frame.itertuples(index=False)]
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def report_text(r: CapacityRun, command: str) -> str:
    """The sweep's report in Markdown: the answer, the notes, the chart (``capacity.png``), the table,
    the source and the command line that makes it again."""
    notes = "".join(f"- {n}\n" for n in r.notes)
    return (
        f"# {r.title}\n\n"
        f"**{r.answer}**\n\n"
        + (f"{notes}\n" if notes else "")
        + f"The target applies to {measure_words(r.measure, r.unit)}, its one-sided upper confidence bound at "
        f"{r.confidence:.0%}. {r.replications:,} replications at each bed number.\n\n"
        "![The capacity curve](capacity.png)\n\n"
        f"{pipe_table(shown_table(r))}\n\n"
        f"{r.source}\n\n"
        f"The same from the command line:\n\n    {command}\n"
    )


def report_files(r: CapacityRun, command: str) -> dict[str, bytes]:
    """The sweep's report as a self-contained HTML page and a Word document, the chart embedded in both
    (at the files' resolution): name -> bytes."""
    text = report_text(r, command)
    with tempfile.TemporaryDirectory(prefix="tcp-sim-app-") as tmp:
        where = Path(tmp)
        fig = draw(r)
        try:
            (where / "capacity.png").write_bytes(figure_bytes(fig, "png"))
        finally:
            plt.close(fig)
        html = markdown_to_html(text, title=r.title, images_from=where).encode()
        docx = write_docx(where / "capacity_report.docx", text, where, r.title).read_bytes()
    return {"capacity_report.html": html, "capacity_report.docx": docx}


# ------------------------------------------------------------------------------------------ the page


@st.cache_resource
def stores() -> tuple[Store, Store]:
    """The page's sweeps (by resolved config) and the reports made of them, shared by every session."""
    return Store(CACHED_SWEEPS), Store(CACHED_REPORTS)


@st.cache_data(show_spinner=False)
def shipped(area: Area, scenario: str) -> tuple[dict[str, Any], list[str]]:
    """An area's and scenario's run settings as shipped, and the unit types it has beds of."""
    cfg = base_config(area, scenario)
    return run_settings(area, cfg), units_of(cfg)


@st.cache_data(show_spinner=False)
def bed_range(area: Area, scenario: str, unit: str) -> tuple[int, int | None, int, str | None]:
    """The bed numbers a sweep of ``unit`` tries when not told (``sim.capacity.default_range``): from, to,
    step; or, if the TCP has no beds of it to derive them from, ``to`` None and the refusal's line."""
    try:
        low, high = default_range(base_config(area, scenario), unit)
    except Exception as e:  # noqa: BLE001 - the user's (a unit with no beds): told beside the field
        line = user_error_line(e)
        if line is None:
            raise
        return 0, None, 1, line
    return low, high, bed_range_step(low, high), None


def capacity_page() -> None:
    """The Capacity page."""
    st.title("Capacity: beds against out-of-area placements")
    st.caption(
        "For one TCP: each number of in-area beds of a unit type is run with that many beds throughout "
        "(the planned schedule replaced) and the same seed, and the fewest beds whose upper confidence bound "
        "on the out-of-area share is at or under the target is the answer."
    )
    area = choose_area("capacity", systems=False)
    scenario = choose_scenario("capacity")
    if area is None or scenario is None:
        return
    try:
        settings, units = shipped(area, scenario)
    except Exception as e:  # noqa: BLE001 - a shipped file that does not compose is told, not traced
        st.error(user_error_line(e) or one_line(e))
        return
    if not units:
        st.error(f"config error: tcp.beds: {area.name} has no in-area beds of any unit type to sweep")
        return
    tag = f"{area.choice}{'@' + area.config_dir if area.config_dir else ''}:{scenario}"
    section = shipped_capacity()
    beside: dict[str, Any] = {}

    st.subheader("The question")
    cols = st.columns(3)
    unit_default = section.unit if section.unit in units else units[0]
    unit = cols[0].selectbox(
        "Unit type",
        units,
        index=units.index(unit_default),
        format_func=lambda u: UNIT_NAMES.get(u, u),
        key=f"capacity:unit:{tag}",
        help="capacity.unit",
    )
    beside["unit"] = cols[0].empty()
    if unit is None:  # the box has options and no empty choice: for the type checker
        return
    measures = list(MEASURE_WORDS)
    measure = cols[1].selectbox(
        "The share the target is for",
        measures,
        index=measures.index(section.measure),
        format_func=lambda m: measure_words(m, unit),
        key=f"capacity:measure:{tag}",
        help="capacity.measure",
    )
    beside["measure"] = cols[1].empty()
    if measure is None:
        return
    target = cols[2].number_input(
        "Target: at most this share out of area",
        value=float(section.target_share),
        step=0.01,
        format="%.3f",
        key=f"capacity:target:{tag}",
        help="capacity.target_share (0.05: 1 in 20)",
    )
    beside["target"] = cols[2].empty()
    cols = st.columns(3)
    confidence = cols[0].number_input(
        "Confidence (one-sided)",
        value=float(section.confidence),
        step=0.05,
        format="%.2f",
        key=f"capacity:confidence:{tag}",
        help="capacity.confidence",
    )
    beside["confidence"] = cols[0].empty()

    low, high, step, range_error = bed_range(area, scenario, unit)
    st.markdown(f"**In-area {UNIT_NAMES.get(unit, unit)} beds to try** (from, to, by: each one a run)")
    cols = st.columns(3)
    ukey = f"{tag}:{unit}"  # the range starts from each unit's own
    bed_values = {
        "min_beds": cols[0].number_input(
            "From", value=low, step=1, key=f"capacity:from:{ukey}", help="capacity.min_beds"
        ),
        "max_beds": cols[1].number_input("To", value=high, step=1, key=f"capacity:to:{ukey}", help="capacity.max_beds"),
        "step": cols[2].number_input("Step", value=step, step=1, key=f"capacity:step:{ukey}", help="capacity.step"),
    }
    beside |= {name: col.empty() for name, col in zip(("from", "to", "step"), cols)}
    if range_error and bed_values["max_beds"] is None:
        beside["to"].error(range_error)

    st.subheader("Run settings")
    cols = st.columns(3)
    run_chosen = {
        "replications": cols[0].number_input(
            "Replications (at each bed number)",
            value=settings["replications"],
            step=100,
            key=f"capacity:replications:{tag}",
        ),
        "seed": cols[1].number_input("Seed", value=settings["seed"], step=1, key=f"capacity:seed:{tag}"),
        "years": cols[2].number_input("Years", value=float(settings["years"]), step=1.0, key=f"capacity:years:{tag}"),
    }
    beside |= {name: col.empty() for name, col in zip(RUN_KEYS, cols)}
    chosen = {"unit": unit, **bed_values, "measure": measure, "target_share": target, "confidence": confidence}
    ovr = sweep_overrides(area, scenario, chosen, run_choices(run_chosen, settings), settings["years"])

    clicked = st.button("Run the sweep", type="primary")
    by_button = st.empty()
    if clicked:
        checked = attempt(ovr, area)
        st.session_state["capacity:request"] = {
            "overrides": checked.overrides,
            "error": checked.error,
            "field": checked.field,
        }
    if was_cancelled():  # Cancel clicked: the sweep (or the one it stopped) kept nothing
        by_button.warning("The sweep was cancelled: nothing of it was kept.")
    request: dict[str, Any] | None = st.session_state.get("capacity:request")
    if request is not None and request["error"] and tuple(ovr) == request["overrides"]:  # not once changed
        beside.get(request["field"] or "", by_button).error(request["error"])
    show_command(ovr, "capacity:command", area.config_dirs, program=PROGRAM)
    shown: tuple[tuple[str, ...], CapacityRun, str] | None = st.session_state.get("capacity:shown")
    if shown is not None and shown[0] == tuple(ovr):
        show_result(shown[1], shown[2], rerun_command(ovr, area.config_dirs, program=PROGRAM))
    elif shown is not None:
        st.info("The choices have changed since the last sweep: Run to see theirs (a sweep made before shows at once).")


def attempt(ovr: list[str], area: Area) -> Checked:
    """Check the sweep's overrides (``check_capacity``: nothing runs if one is refused) and run it, from
    the store if run before; the result kept for the page. A refusal in one line with its field; a
    cancelled sweep keeps nothing and leaves the last result as it was."""
    try:
        try:
            cfg = sweep_config(area, ovr)
            beds = check_capacity(cfg)
        except Exception as e:  # noqa: BLE001 - the user's mistake is told with its field; refusal raises the rest
            return refusal(e, ovr, FIELDS)
        key = OmegaConf.to_yaml(cfg, resolve=True)
        on_progress, finished = progress_bar("bed numbers")
        try:
            result = stores()[0].made(key, lambda: sweep(cfg, beds, on_progress))
        except Cancelled:
            mark_cancelled()
            return Checked(tuple(ovr))
        except Exception as e:  # noqa: BLE001 - as above
            return refusal(e, ovr, FIELDS)
        finally:
            finished()
    except Exception as e:  # noqa: BLE001 - not the user's mistake, but still one line, no traceback
        return Checked(tuple(ovr), error=one_line(e))
    st.session_state["capacity:shown"] = (tuple(ovr), result, key)
    return Checked(tuple(ovr), cfg=cfg)


def show_result(r: CapacityRun, key: str, command: str) -> None:
    """The answer, the notes, the chart and the table of a sweep, each with its downloads, and the report."""
    st.subheader(r.title)
    beds = r.table["beds"]
    st.caption(
        f"{r.replications:,} replications at each of {len(beds)} bed numbers ({beds.min()} to {beds.max()}) "
        f"in {r.seconds:.1f} s. {r.source}"
    )
    (st.success if r.fewest is not None else st.warning)(r.answer)
    for note in r.notes:
        st.info(note)
    st.image(r.chart, caption="The capacity curve")
    offer(chart_downloads("capacity", partial(draw, r)), "capacity:chart")
    st.markdown("**Each bed number** (the share the target is for; mean across replications, 95% intervals)")
    st.dataframe(shown_table(r), hide_index=True)
    offer(table_downloads("capacity", [sheet(r)], "Table"), "capacity:table")
    reports = stores()[1]  # taken here, in the page: the download is made outside its script run

    def one(name: str) -> Any:
        return lambda: reports.made(key, lambda: report_files(r, command))[name]

    offer(
        [
            Download("Report (HTML)", "capacity_report.html", one("capacity_report.html")),
            Download("Report (Word)", "capacity_report.docx", one("capacity_report.docx")),
        ],
        "capacity:report",
    )


__all__ = ["capacity_page", "sweep", "sweep_config", "sweep_overrides"]
