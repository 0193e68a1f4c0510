"""The Run page (Streamlit): the widgets, the run with its progress, the charts and tables; ``run_page``
draws it. What it offers and asks for is ``sim.app.levers``; what a run gives it, ``sim.app.results``."""

from __future__ import annotations

from functools import partial
from typing import Any

import pandas as pd
import streamlit as st
from omegaconf import DictConfig, OmegaConf

from sim.app.common import (
    checked_run,
    choose_area,
    choose_scenario,
    offer,
    one_line,
    show_command,
    was_cancelled,
)
from sim.app.exports import chart_downloads, run_downloads, run_files, table_downloads
from sim.app.levers import (
    BEDS_KEY,
    RUN_KEYS,
    Area,
    Checked,
    Lever,
    TableError,
    base_config,
    bed_overrides,
    bed_table,
    levers,
    overrides,
    run_choices,
    run_settings,
)
from sim.app.results import CHARTS, AppRun, Progress, Store, draw, simulate
from sim.config.errors import user_error_line
from sim.pathway import UNIT_TYPES
from sim.report.workbook import Sheet

#: How many results the cache keeps (each a few hundred kB of charts and tables).
CACHED_RUNS = 64


@st.cache_data(show_spinner=False)
def shipped(area: Area, scenario: str) -> tuple[dict[str, Lever], pd.DataFrame | None, dict[str, Any]]:
    """An area and scenario as shipped: its levers, its bed table and its run settings."""
    cfg = base_config(area, scenario)
    return levers(cfg), bed_table(cfg), run_settings(area, cfg)


@st.cache_resource(show_spinner=False)
def reference_of(area: Area, scenario: str) -> DictConfig:
    """The config of an area's and scenario's files with no value changed, which a run's manifest
    compares its values with (held here so a click does not compose it again: 1 s for the hub). Shared
    by every session: only read."""
    return base_config(area, scenario)


@st.cache_resource
def stores() -> tuple[Store, Store]:
    """The app's results (``CACHED_RUNS`` runs) and the files made of them (the last 8), shared by every
    session."""
    return Store(CACHED_RUNS), Store(8)


def cached_run(
    config_yaml: str, cfg: DictConfig, on_progress: Progress | None = None, reference: DictConfig | None = None
) -> AppRun:
    """The run of a resolved config (``config_yaml``, its key: the same config is never run twice)."""
    return stores()[0].made(config_yaml, lambda: simulate(cfg, on_progress, reference))


def run_page() -> None:
    """The Run page."""
    st.title("Run a scenario")
    area = choose_area("run")
    scenario = choose_scenario("run")
    if area is None or scenario is None:  # both have options and no empty choice: for the type checker
        return
    try:
        shipped_levers, beds, settings = shipped(area, scenario)
    except Exception as e:  # noqa: BLE001 - a shipped file that does not compose is told, not traced
        st.error(user_error_line(e) or one_line(e))
        return
    # the widgets' keys: each area and scenario starts from its own values
    tag = f"{area.choice}{'@' + area.config_dir if area.config_dir else ''}:{scenario}"
    beside: dict[str, Any] = {}  # field -> the place under it for its error (filled once the overrides are known)

    st.subheader("Levers")
    chosen = lever_widgets(shipped_levers, tag, beside)
    bed_ovr: list[str] = []
    table_error = None
    if beds is not None:
        st.markdown("**Beds by unit type** (each step of a unit's schedule: from the month, that many beds)")
        edited = st.data_editor(
            beds,
            key=f"beds:{tag}",
            num_rows="dynamic",
            hide_index=True,
            column_config={
                "unit": st.column_config.SelectboxColumn("unit", options=list(UNIT_TYPES), required=True),
                "date": st.column_config.TextColumn("from (YYYY-MM)", required=True),
                "beds": st.column_config.NumberColumn("beds", step=1, format="%d", required=True),
            },
        )
        beside["beds"] = st.empty()
        try:
            bed_ovr = bed_overrides(beds, edited)
        except TableError as e:  # told at once: the table cannot be read into a schedule
            table_error = str(e)
            beside["beds"].error(table_error)
        st.caption("A scenario's own bed changes (scenario.schedule_months_earlier, close_occupied) apply on top.")
    else:
        st.caption("Beds: a system's beds are its TCPs' and shared pools' own files (not offered here yet).")

    st.subheader("Run settings")
    cols = st.columns(4)
    run_chosen = {
        "replications": cols[0].number_input(
            "Replications", value=settings["replications"], step=100, key=f"replications:{tag}"
        ),
        "seed": cols[1].number_input("Seed", value=settings["seed"], step=1, key=f"seed:{tag}"),
        "years": cols[2].number_input("Years", value=float(settings["years"]), step=1.0, key=f"years:{tag}"),
        "start": cols[3].text_input(
            "Start (YYYY-MM)",
            value=settings["start"],
            key=f"start:{tag}",
            help="the first month run; the census is the state at its start (run.start)",
        ),
    }
    beside |= {name: col.empty() for name, col in zip(RUN_KEYS, cols)}
    run_ovr = run_choices(run_chosen, settings)
    ovr = overrides(area, scenario, shipped_levers, chosen, run_ovr, bed_ovr)
    fields: dict[str, str | None] = {name: lever.key for name, lever in shipped_levers.items()}
    fields |= {"beds": BEDS_KEY, **RUN_KEYS}

    clicked = st.button("Run", type="primary", disabled=table_error is not None)
    by_button = st.empty()
    if clicked:
        checked = attempt(ovr, fields, area, scenario)
        st.session_state["request"] = {"overrides": checked.overrides, "error": checked.error, "field": checked.field}
    if was_cancelled():  # Cancel clicked: this run (or the one it stopped) kept nothing
        by_button.warning("The run was cancelled: nothing of it was kept.")
    request: dict[str, Any] | None = st.session_state.get("request")
    if request is not None and request["error"] and tuple(ovr) == request["overrides"]:  # not once changed
        beside.get(request["field"], by_button).error(request["error"])
    show_command(ovr, "run:command", area.config_dirs)
    shown: tuple[tuple[str, ...], AppRun, DictConfig] | None = st.session_state.get("shown")
    if shown is not None and shown[0] == tuple(ovr):
        show_result(shown[1], shown[2])
    elif shown is not None:
        st.info("The choices have changed since the last run: Run to see theirs (a run made before shows at once).")


def attempt(ovr: list[str], fields: dict[str, str | None], area: Area, scenario: str) -> Checked:
    """Compose the overrides and run them (from the store if run before; the run's ``prepare`` is the
    config's validation), keeping the result for the page; a refusal in one line with its field. A
    cancelled run keeps nothing and leaves the last result as it was."""
    reference = reference_of(area, scenario)

    def made(key: str, cfg: DictConfig, on_progress: Progress) -> AppRun:
        return cached_run(key, cfg, on_progress, reference)

    checked, result = checked_run(ovr, fields, area.config_dir, made)
    if result is not None:
        st.session_state["shown"] = (checked.overrides, result, checked.cfg)
    return checked


def lever_widgets(shipped_levers: dict[str, Lever], tag: str, beside: dict[str, Any]) -> dict[str, Any]:
    """A widget for each lever, with a place under it for its error (``beside``); the values chosen."""
    chosen: dict[str, Any] = {}
    cols = st.columns(2)
    for i, (name, lever) in enumerate(shipped_levers.items()):
        with cols[i % 2]:
            key = f"{name}:{tag}"
            help_text = f"{lever.key}" if lever.key else None
            if lever.key is None:
                st.number_input(lever.label, value=None, disabled=True, key=key)
            elif name == "repatriation":
                if isinstance(lever.value, bool) and not lever.key.startswith("scenario."):
                    chosen[name] = st.toggle(lever.label, value=lever.value, key=key, help=help_text)
                else:
                    options: list[bool | None] = [None, True, False]
                    chosen[name] = st.selectbox(
                        lever.label,
                        options,
                        index=options.index(lever.value),
                        format_func=lambda v: {None: "as configured", True: "on", False: "off"}[v],
                        key=key,
                        help=help_text,
                    )
            elif isinstance(lever.value, int):
                chosen[name] = st.number_input(lever.label, value=lever.value, step=1, key=key, help=help_text)
            else:
                chosen[name] = st.number_input(
                    lever.label, value=lever.value, step=0.05, format="%.2f", key=key, help=help_text
                )
            if lever.note:
                st.caption(lever.note)
            beside[name] = st.empty()
    return chosen


def show_result(result: AppRun, cfg: DictConfig) -> None:
    """The charts, the milestones' table and the key figures of a run, each with its downloads, and the
    run's own files (report, workbook) made on demand."""
    st.subheader(result.title)
    st.caption(f"{result.replications:,} replications in {result.seconds:.1f} s. {result.source}")
    for name, caption in CHARTS.items():
        if name in result.charts:
            st.image(result.charts[name], caption=caption)
            offer(chart_downloads(name, partial(draw, result, name)), f"run:{name}")
        if name == "fan_inpatients":
            st.markdown("**P(at or under) each milestone, with its 95% interval**")
            st.dataframe(result.milestones, hide_index=True)
    st.markdown("**Key figures** (mean across replications; 5th to 95th percentile in brackets)")
    st.table(result.key_figures.set_index("figure"))
    source = result.source.removeprefix("Source: ")  # the sheet's own "Source:" heads it
    sheets = [
        Sheet("Milestones", result.milestones, f"{result.title}: P(at or under) each milestone", "people", source),
        Sheet("Key figures", result.key_figures, f"{result.title}: key figures", "people; £ million", source),
    ]
    offer(table_downloads("run_tables", sheets, "Tables"), "run:tables")
    st.markdown("**The run's files** (report, workbook and tables as the command line writes them; made when asked)")
    yaml_key, files = OmegaConf.to_yaml(cfg, resolve=True), stores()[1]  # the store taken here, in the page
    offer(run_downloads(lambda: files.made(yaml_key, lambda: run_files(cfg))), "run:files")


__all__ = ["cached_run", "run_page", "shipped", "stores"]
