"""The sidebar's areas of the user's own (Streamlit): a zip of an area uploaded in this session
(``sim.app.upload`` checks and unpacks it) and the areas of the server's ``--config-dir`` folders. Both
join the Area box of every page (``common.every_area``)."""

from __future__ import annotations

import hashlib
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from sim.app.common import OWN_AREAS, SERVER_AREAS, one_line
from sim.app.levers import areas_in
from sim.app.upload import MAX_BYTES, UploadRefused, read_area_zip

#: The upload widget's key.
UPLOAD_KEY = "own_area_zip"
#: The session key of the uploads already read, by their bytes' digest: what was said of each.
SEEN = "own_area_uploads"


@dataclass(frozen=True)
class Notice:
    """What the panel says of an upload: ``ok`` (its areas were added) or not, in one line."""

    ok: bool
    text: str


def take_upload(file_name: str, data: bytes, state: MutableMapping[Any, Any]) -> Notice:
    """Read an uploaded zip into the session ``state``: its areas added to ``OWN_AREAS`` (once: the same
    bytes again, as every rerun of the page hands them over, are not unpacked again), or its refusal."""
    digest = hashlib.sha256(data).hexdigest()
    seen: dict[str, Notice] = state.setdefault(SEEN, {})
    if digest in seen:
        return seen[digest]
    try:
        upload = read_area_zip(data, name=file_name)
    except UploadRefused as e:
        notice = Notice(False, f"{file_name} was not taken: {e}")
    except Exception as e:  # noqa: BLE001 - never a traceback: a bug, told in one line
        notice = Notice(False, f"{file_name} was not taken: {one_line(e)}")
    else:
        state[OWN_AREAS] = [*state.get(OWN_AREAS, []), *upload.areas]
        added = ", ".join(f"{a.name} ({'TCP' if a.kind == 'tcp' else 'system'})" for a in upload.areas)
        text = f"Added from {file_name}: {added}. Choose it in the Area box (from {upload.folder})."
        clashes = upload.clashes()
        if clashes:
            names = ", ".join(a.name for a in clashes)
            text += f" {names}: a shipped area has the same name; both are offered, yours is the one from that folder."
        notice = Notice(True, text)
    seen[digest] = notice
    return notice


def load_server_areas(config_dirs: Sequence[str], state: MutableMapping[Any, Any]) -> None:
    """The areas of the server's ``--config-dir`` folders into ``SERVER_AREAS``, listed again on each run of
    the script (a file added to the folder is offered at once). Only listed: nothing is written there."""
    state[SERVER_AREAS] = [a for d in config_dirs for a in areas_in(d)]


def areas_panel() -> None:
    """The sidebar's "Your own area (zip)": an uploaded zip's areas join the Area box, or its refusal is
    told in one line."""
    with st.sidebar:
        uploaded = st.file_uploader(
            "Your own area (zip)",
            type=["zip"],
            key=UPLOAD_KEY,
            max_upload_size=MAX_BYTES // 2**20,
            help=(
                "A zip of the folder python -m sim.new_area wrote, filled in: tcp/<name>.yaml (or "
                "system/<name>.yaml) and its census CSV. It is checked, and built as a run builds it, "
                "before it is offered; a zip that is not a valid area is refused and nothing of it is kept."
            ),
        )
        if uploaded is not None:
            notice = take_upload(uploaded.name, uploaded.getvalue(), st.session_state)
            (st.success if notice.ok else st.error)(notice.text)


__all__ = ["Notice", "areas_panel", "load_server_areas", "take_upload"]
