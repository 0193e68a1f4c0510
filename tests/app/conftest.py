"""Helpers of the app's tests: a page of the app on its own in Streamlit's AppTest."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

#: Seconds an AppTest run may take (a cold first run compiles the engine: about 20 s on 2 cores).
TIMEOUT = 180


def one_page(module: str, function: str) -> AppTest:
    """An AppTest of one page (``sim.app.<module>.<function>``) as the app serves it: charts to bytes, the
    engine warmed first. Not yet run."""
    script = (
        "from sim.plots import files_only\n"
        "files_only()\n"
        "from sim.app.common import warm_engine\n"
        "warm_engine()\n"
        f"from sim.app.{module} import {function}\n"
        f"{function}()\n"
    )
    return AppTest.from_string(script, default_timeout=TIMEOUT)


@pytest.fixture
def page_app() -> Callable[[str, str], AppTest]:
    """``page_app("compare_page", "compare_page")``: an AppTest of that page alone (``one_page``)."""
    return one_page
