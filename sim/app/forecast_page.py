"""The Forecast page (Streamlit): an area with a calibrated posterior run forward, each replication on its
own posterior draw (or on the posterior medians), with the published figures drawn over the fan and set
beside its bands; ``forecast_page`` draws it. What it reads and runs is ``sim.app.forecast``."""

from __future__ import annotations

from functools import partial
from typing import Any, TypeVar

import streamlit as st
from omegaconf import DictConfig, OmegaConf

from sim.app.common import checked_run, choose_scenario, every_area, offer, one_line, show_command, was_cancelled
from sim.app.exports import chart_downloads, run_downloads, run_files, table_downloads
from sim.app.forecast import (
    CHARTS,
    ROLE_NAMES,
    Calibrated,
    Forecast,
    applying,
    calibrations,
    default_years,
    draw,
    forecast,
    forecast_overrides,
    observed_of,
)
from sim.app.levers import RUN_KEYS, Area
from sim.app.results import Progress, Store
from sim.config import build
from sim.config.errors import user_error_line
from sim.config.store import CONFIG_DIR
from sim.plots.fan import HELD_OUT
from sim.report.workbook import Sheet

#: The page's fields and the config keys their errors name (the toggle's is the posterior's).
FIELDS: dict[str, str | None] = {**RUN_KEYS, "uncertainty": "run.parameters"}
#: Session keys: the last request (its overrides and any refusal) and the result shown.
REQUEST, SHOWN = "forecast:request", "forecast:shown"

#: The units of the published figures' table: people, or a share (0 to 1) where the figure is one.
FIGURE_UNITS = "people (a count) or a share from 0 to 1 (a figure with a '/' in its name)"

T = TypeVar("T")


@st.cache_resource
def stores() -> tuple[Store, Store]:
    """The forecasts made (the last 16) and the run files made of them (the last 4), shared by every
    session: a forecast's value holds its tables and charts, not its replications."""
    return Store(16), Store(4)


@st.cache_data(show_spinner=False)
def settings_of(area: Area, calibrated: Calibrated, scenario: str) -> dict[str, Any]:
    """The run settings a forecast is offered with: the config's replications and seed, and the horizon
    of ``default_years`` (a year past the plan's last milestone or the last published figure)."""
    cfg = area.compose([area.choice, f"scenario={scenario}", calibrated.override])
    spec = build(cfg).system
    observations, _ = observed_of(spec)
    return {
        "replications": int(cfg.run.replications),
        "seed": int(cfg.run.seed),
        "years": default_years(cfg, spec, observations),
        "start": str(cfg.run.start),
    }


def forecast_page() -> None:
    """The Forecast page."""
    st.title("Forecast")
    st.caption(
        "An area whose unpublished parameters were fitted to its published figures (python -m sim.calibrate), "
        "run forward: each replication on its own draw of the calibration's posterior, so the bands carry "
        "the parameters' uncertainty as well as chance; the published figures drawn over them."
    )
    options = every_area()
    found = calibrations([a.config_dir for a in options if a.config_dir is not None])
    calibrated_areas = [a for a in options if applying(found, a)]
    if calibrated_areas:
        st.markdown(
            "**Areas with a calibrated posterior:** "
            + "; ".join(f"{a.label} ({', '.join(c.label for c in applying(found, a))})" for a in calibrated_areas)
        )
    else:
        st.info("No area has a calibrated posterior yet. " + how_to_make_one())
    for c in found:
        if c.problem is not None:
            st.warning(f"{c.file}: cannot be used: {c.problem}")
    ordered = calibrated_areas + [a for a in options if a not in calibrated_areas]
    area = st.selectbox(
        "Area",
        ordered,
        format_func=lambda a: a.label + (" (calibrated)" if a in calibrated_areas else ""),
        key="forecast:area",
    )
    if area is None:
        return
    usable = applying(found, area)
    if not usable:
        st.info(f"No calibration applies to {area.label}: there is no forecast of it to show. {how_to_make_one(area)}")
        return
    cols = st.columns(2)
    with cols[0]:
        calibrated = st.selectbox(
            "Calibration", usable, format_func=lambda c: c.label, key=f"forecast:calibration:{area.choice}"
        )
    with cols[1]:
        scenario = choose_scenario("forecast")
    if calibrated is None or scenario is None:
        return
    try:
        shipped = settings_of(area, calibrated, scenario)
    except Exception as e:  # noqa: BLE001 - a shipped file that does not compose is told, not traced
        st.error(user_error_line(e) or one_line(e))
        return
    tag = f"{area.choice}{'@' + area.config_dir if area.config_dir else ''}:{calibrated.name}:{scenario}"
    ovr, beside = settings(shipped, calibrated, area, scenario, tag)
    forecast_run(ovr, beside, area, calibrated)


def how_to_make_one(area: Area | None = None) -> str:
    """How to calibrate an area (and make its forecast possible): the calibration command, its file."""
    own = area is not None and (CONFIG_DIR / "calibration" / f"{area.name}.yaml").is_file()
    name = area.name if area is not None and own else "<name>"
    line = (
        f"A calibration fits the area's unpublished parameters to its published figures: "
        f"`python -m sim.calibrate calibration={name}`"
        + (f" (configs/calibration/{name}.yaml fits this area)" if own else " with a file of configs/calibration/")
        + "; put the `calibrated/<name>.yaml` it writes into configs/calibrated/ (or the area's config "
        "directory) and the area is offered here. The method and its files: docs/calibration.md."
    )
    return line


def settings(
    shipped: dict[str, Any], calibrated: Calibrated, area: Area, scenario: str, tag: str
) -> tuple[list[str], dict[str, Any]]:
    """The run settings' widgets (each with a place under it for its error) and the page's overrides."""
    st.subheader("Run settings")
    cols = st.columns(4)
    chosen = {
        "years": cols[0].number_input(
            "Years (from the start census)",
            value=float(shipped["years"]),
            step=1.0,
            key=f"years:{tag}",
            help=f"run.years: the horizon from {shipped['start']}",
        ),
        "replications": cols[1].number_input(
            "Replications", value=shipped["replications"], step=100, key=f"replications:{tag}"
        ),
        "seed": cols[2].number_input("Seed", value=shipped["seed"], step=1, key=f"seed:{tag}"),
    }
    uncertainty = cols[3].toggle(
        "With parameter uncertainty",
        value=True,
        key=f"uncertainty:{tag}",
        help="on: each replication takes its own draw of the posterior (run.parameters); off: every replication "
        "runs the posterior medians (run.parameters=null), so the bands are chance alone",
    )
    beside = {name: col.empty() for name, col in zip(("years", "replications", "seed", "uncertainty"), cols)}
    years = chosen["years"]
    run = {
        RUN_KEYS["replications"]: chosen["replications"],
        RUN_KEYS["seed"]: chosen["seed"],
        RUN_KEYS["years"]: int(years) if float(years).is_integer() else years,  # run.years=10, as the README
    }
    return forecast_overrides(area, scenario, calibrated, uncertainty, run), beside


def forecast_run(ovr: list[str], beside: dict[str, Any], area: Area, calibrated: Calibrated) -> None:
    """The Run button, the run with its progress and Cancel, a refusal beside its field, the command
    line, and the forecast once made (while the choices are the ones it was made of)."""
    clicked = st.button("Run the forecast", type="primary")
    by_button = st.empty()
    if clicked:
        run = partial(cached_forecast, calibrated=calibrated)
        checked, result = checked_run(ovr, FIELDS, area.config_dir, run)
        if result is not None and checked.cfg is not None:
            st.session_state[SHOWN] = (checked.overrides, result, checked.cfg)
        st.session_state[REQUEST] = {"overrides": checked.overrides, "error": checked.error, "field": checked.field}
    if was_cancelled():  # Cancel clicked: this run (or the one it stopped) kept nothing
        by_button.warning("The run was cancelled: nothing of it was kept.")
    request: dict[str, Any] | None = st.session_state.get(REQUEST)
    if request is not None and request["error"] and tuple(ovr) == request["overrides"]:  # not once changed
        beside.get(request["field"], by_button).error(request["error"])
    show_command(ovr, "forecast:command", area.config_dirs)
    shown: tuple[tuple[str, ...], Forecast, DictConfig] | None = st.session_state.get(SHOWN)
    if shown is not None and shown[0] == tuple(ovr):
        show_forecast(shown[1], shown[2])
    elif shown is not None:
        st.info("The choices have changed since the last forecast: Run to see theirs (one made before shows at once).")


def cached_forecast(config_yaml: str, cfg: DictConfig, on_progress: Progress, *, calibrated: Calibrated) -> Forecast:
    """The forecast of a resolved config (``config_yaml``, its key: the same config is never run twice)."""
    return stores()[0].made(config_yaml, lambda: forecast(cfg, calibrated, on_progress))


def show_forecast(f: Forecast, cfg: DictConfig) -> None:
    """The forecast's charts and tables, each with its downloads, and the run's own files made on demand."""
    st.subheader(f.title)
    how = "each on its own posterior draw" if f.uncertainty else "all on the posterior medians"
    st.caption(f"{f.replications:,} replications ({how}) in {f.seconds:.1f} s. {f.source}")
    for name, caption in CHARTS.items():
        if name in f.charts:
            st.image(f.charts[name], caption=caption)
            offer(chart_downloads(name, partial(draw, f, name)), f"forecast:{name}")
    if (f.points["role"] == HELD_OUT).any():
        st.caption(f"Hollow points: figures the calibration never saw ({ROLE_NAMES[HELD_OUT]}).")
    st.markdown("**Inpatients at the end of each March and of each month with a published figure**")
    st.dataframe(f.bands, hide_index=True)
    st.markdown("**Each published figure inside the run against it** (5th to 95th percentile across replications)")
    st.dataframe(f.figures, hide_index=True)
    if not len(f.figures):
        st.caption("No published figure of the area falls inside the run's months.")
    sheets = [
        Sheet("Bands", f.bands, f"{f.title}: inpatients, the forecast and the published figures", "people", f.source),
        Sheet(
            "Published figures", f.figures, f"{f.title}: the published figures against the run", FIGURE_UNITS, f.source
        ),
    ]
    offer(table_downloads("forecast_tables", sheets, "Forecast tables"), "forecast:tables")
    st.markdown("**The run's files** (report, workbook and tables as the command line writes them; made when asked)")
    yaml_key, files = OmegaConf.to_yaml(cfg, resolve=True), stores()[1]  # the store taken here, in the page
    offer(run_downloads(lambda: files.made(yaml_key, lambda: run_files(cfg))), "forecast:files")


__all__ = ["forecast_page", "settings_of", "stores"]
