"""What every page of the app shares (Streamlit): the engine's warm-up, the choice of an area and a
scenario, a run cancelled or its progress shown, the download buttons, the command line that redoes a
page's work, and errors in one line (never a traceback)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import streamlit as st
from omegaconf import DictConfig, OmegaConf

from sim.api import compose, run
from sim.app.exports import Download, overrides_download
from sim.app.levers import Area, Checked, areas, check, refusal, scenarios
from sim.config.provenance import rerun_command

#: The warm-up run the app makes when it starts, so the first click does not compile the engine.
WARM_UP = ("tcp=bhr", "run.replications=1", "run.years=1", "run.progress=false")
#: The session key of the user's own areas (an uploaded zip, unpacked by sim.app.upload): a list of Area.
OWN_AREAS = "own_areas"
#: The session key of the flag Cancel sets (``mark_cancelled``, ``was_cancelled``).
CANCELLED = "cancelled"
#: The session key of the areas of the server's ``--config-dir`` (sim.app.__main__): a list of Area.
SERVER_AREAS = "server_areas"


T = TypeVar("T")
Progress = Callable[[int, int], None]


class Cancelled(Exception):
    """A run the user cancelled: raised from its progress callback, so nothing of it is kept."""


@st.cache_resource(show_spinner="Loading the simulation engine (compiled once, when the app starts)")
def warm_engine() -> float:
    """Run one replication, so Numba compiles the engine (or loads it from its cache) now; its seconds."""
    result = run(compose(list(WARM_UP)), progress=False)
    return float(result.manifest["wall_seconds"])


def every_area() -> list[Area]:
    """The shipped areas, then the server's ``--config-dir`` areas, then this session's uploads."""
    return [*areas(), *st.session_state.get(SERVER_AREAS, []), *st.session_state.get(OWN_AREAS, [])]


def choose_area(page: str, *, systems: bool = True) -> Area | None:
    """The area box of a page (``page``: its widgets' key prefix); ``systems=False`` offers TCPs only."""
    options = [a for a in every_area() if systems or a.kind == "tcp"]
    return st.selectbox("Area", options, format_func=lambda a: a.label, key=f"{page}:area")


def choose_scenario(page: str, label: str = "Scenario") -> str | None:
    """The scenario box of a page."""
    return st.selectbox(label, scenarios(), key=f"{page}:scenario")


def offer(downloads: Sequence[Download], key: str, per_row: int = 4) -> None:
    """A row of download buttons (a file made on demand is made when its button is clicked)."""
    for start in range(0, len(downloads), per_row):
        cols = st.columns(per_row)
        for col, d in zip(cols, downloads[start : start + per_row]):
            col.download_button(
                d.label, d.data, file_name=d.file_name, mime=d.mime, key=f"{key}:{d.file_name}", on_click="ignore"
            )


def show_command(ovr: Sequence[str], key: str, config_dirs: Sequence[str] = (), program: str = "sim") -> None:
    """The equivalent command line, and the overrides as YAML to download."""
    command = rerun_command(list(ovr), config_dirs, program=program)
    st.markdown("**The same from the command line**")
    st.code(command, language="bash")
    offer([overrides_download(ovr, command)], key)


def progress_bar(what: str = "replications") -> tuple[Callable[[int, int], None], Callable[[], None]]:
    """A progress bar and a Cancel button for a run: ``(on_progress, done)``. ``on_progress(done, total)``
    moves the bar, and raises ``Cancelled`` once Cancel is clicked (Streamlit also stops the script at
    the bar's next move when any widget is used); ``done()`` removes both."""
    bar = st.progress(0.0, text=f"starting the {what}")
    stop = st.empty()
    stop.button("Cancel the run", key=f"cancel:{id(bar)}", on_click=_cancel)
    st.session_state[CANCELLED] = False

    def on_progress(done: int, total: int) -> None:
        if st.session_state.get(CANCELLED):
            raise Cancelled
        bar.progress(min(done / max(total, 1), 1.0), text=f"{done:,} of {total:,} {what}")

    def finished() -> None:
        bar.empty()
        stop.empty()

    return on_progress, finished


def _cancel() -> None:
    mark_cancelled()


def mark_cancelled() -> None:
    """Record that this session's run was cancelled (the Cancel button, or a page that caught ``Cancelled``),
    for the page to say so once (``was_cancelled``)."""
    st.session_state[CANCELLED] = True


def was_cancelled() -> bool:
    """Whether this session's last run was cancelled; said once (the flag is cleared). Only one page runs
    in a session at a time, so the flag is the session's, not a page's."""
    return bool(st.session_state.pop(CANCELLED, False))


def checked_run(
    ovr: Sequence[str],
    fields: dict[str, str | None],
    config_dir: str | None,
    run: Callable[[str, DictConfig, Progress], T],
) -> tuple[Checked, T | None]:
    """Compose the overrides and ``run(resolved YAML, config, on_progress)`` them under a progress bar with
    Cancel (the run's ``prepare`` is the config's validation); a refusal as the command line's one line
    with its field, anything else in one line; a cancelled run gives no result and no error."""
    try:
        checked = check(ovr, fields, validate=False, config_dir=config_dir)
        if checked.cfg is None:
            return checked, None
        on_progress, finished = progress_bar()
        try:
            return checked, run(OmegaConf.to_yaml(checked.cfg, resolve=True), checked.cfg, on_progress)
        except Cancelled:
            mark_cancelled()  # said by the page (``was_cancelled``)
            return Checked(tuple(ovr)), None
        except Exception as e:  # noqa: BLE001 - the user's mistake is told with its field; refusal raises the rest
            return refusal(e, ovr, fields), None
        finally:
            finished()
    except Exception as e:  # noqa: BLE001 - not the user's mistake, but still one line, no traceback
        return Checked(tuple(ovr), error=one_line(e)), None


def one_line(e: BaseException) -> str:
    """An unexpected error in one line (no traceback for the user)."""
    return f"error: {type(e).__name__}: {' '.join(str(e).split())}"


def shown(key: str) -> Any:
    """What a page keeps of its last result in this session (each browser tab has its own session)."""
    return st.session_state.get(key)


__all__ = [
    "Cancelled",
    "choose_area",
    "checked_run",
    "choose_scenario",
    "every_area",
    "mark_cancelled",
    "offer",
    "one_line",
    "progress_bar",
    "show_command",
    "warm_engine",
    "was_cancelled",
]
