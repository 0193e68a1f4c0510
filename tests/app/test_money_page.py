"""The Money page driven by Streamlit's AppTest: it loads, a small run of the south-east hub's pooled
budget shows spend by commissioner and by setting, the reserve and the chance it is negative, a run with
no pooled budget shows spend and says there is none, a value the config refuses is told in the command
line's one line beside its field, a run made before is not run again and a cancelled one keeps nothing."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

from sim.api import compose
from sim.app import money_page
from sim.app.exports import workbook_bytes
from sim.app.levers import Area
from sim.config import build
from sim.config.errors import user_error_line

HUB = "system=south_east_hub:pooled_budget"  # the widgets' key tag of the hub's pooled budget
BHR = "tcp=bhr:baseline"
SPEND_DOWNLOADS = {
    "Spend chart (PNG)",
    "Spend chart (SVG)",
    "Commissioners (CSV)",
    "Settings (CSV)",
    "Tables (Excel)",
    "Report (HTML)",
    "Report (Word)",
    "Overrides (YAML)",
}


def loaded(page_app: Callable[[str, str], AppTest]) -> AppTest:
    at = page_app("money_page", "money_page")
    at.run()
    assert not at.exception, at.exception
    return at


def choose(at: AppTest, area: Area, scenario: str, replications: int = 20) -> AppTest:
    """``area`` and ``scenario`` at ``replications`` over one year."""
    at.selectbox(key="money:area").set_value(area)
    at.selectbox(key="money:scenario").set_value(scenario).run()
    tag = f"{area.choice}:{scenario}"
    at.number_input(key=f"money:replications:{tag}").set_value(replications)
    at.number_input(key=f"money:years:{tag}").set_value(1.0)
    return at


def hub(at: AppTest, replications: int = 20) -> AppTest:
    return choose(at, Area("system", "south_east_hub"), "pooled_budget", replications)


def run(at: AppTest) -> AppTest:
    at.button(key="money:run").click().run()
    assert not at.exception, at.exception
    return at


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def labels(at: AppTest) -> set[str]:
    return {b.proto.label for b in at.get("download_button")}


def tables(at: AppTest) -> dict[str, Any]:
    """The page's tables by the name of their second column (commissioner, setting, line) or, for the
    chances, ``chances``."""
    out = {}
    for d in at.dataframe:
        frame = d.value
        out[frame.columns[1] if not frame.columns[1].startswith("P(") else "chances"] = frame
    return out


def adds_up(frame: Any, column: str) -> None:
    """Each year's lines add up to its ``all`` row (the means, to the tables' rounding)."""
    for _, year in frame.groupby("financial year"):
        parts = year[year[column] != "all"]["mean (£m)"].sum()
        (total,) = year[year[column] == "all"]["mean (£m)"]
        assert parts == pytest.approx(total, abs=0.002 * len(year)), year


def cli_line(overrides: list[str]) -> str:
    """What the command line says of these overrides (sim.cli prints the same one line)."""
    try:
        build(compose(overrides))
    except Exception as e:  # noqa: BLE001 - the error is what is compared
        line = user_error_line(e)
        assert line is not None, e
        return line
    raise AssertionError(f"{overrides} are not refused")


def test_page_loads(page_app: Callable[[str, str], AppTest]) -> None:
    at = loaded(page_app)
    assert at.title[0].value == "Money: spend and the pooled budget"
    assert Area("system", "south_east_hub").label in at.selectbox(key="money:area").options  # systems too
    assert any(c.value.startswith("No pooled budget in this config") for c in at.caption)  # BHR's baseline
    assert not at.image and not errors(at)
    hub(at).run()
    assert any(c.value.startswith("A pooled budget: on") for c in at.caption)


def test_a_pooled_budget_run_shows_spend_and_the_reserve(page_app: Callable[[str, str], AppTest]) -> None:
    at = run(hub(loaded(page_app)))
    assert not errors(at)
    assert len(at.image) == 2  # spend, and the reserve's fan over the chance it is negative
    found = tables(at)
    assert set(found) == {"commissioner", "setting", "line", "chances"}
    assert set(found["commissioner"]["commissioner"]) == {
        "CCGs",
        "specialised commissioning",
        "local authorities",
        "all",
    }
    adds_up(found["commissioner"], "commissioner")  # every payer is in the table, and only once
    adds_up(found["setting"], "setting")
    assert list(found["chances"]["financial year"]) == ["2016/17"]
    # the chance it has gone negative by the year's end, two ways: the table's (finance_years) and the
    # sentence's (reserve_risk)
    result = at.session_state["money:shown"][1]
    by_march = result.risk["p_negative_by_march"]["2017-03"]
    assert found["chances"]["P(reserve has gone negative by then)"].iloc[0] == pytest.approx(by_march)
    assert any(
        m.value.startswith(f"**P(the reserve has gone negative by 2017-03) = {by_march:.0%}") for m in at.markdown
    )
    assert "reserve before commissioners cover a shortfall" in set(found["line"]["line"])
    assert SPEND_DOWNLOADS | {"Reserve chart (PNG)", "Reserve chart (SVG)", "Pooled budget (CSV)"} <= labels(at)
    assert at.code[0].value.startswith("python -m sim system=south_east_hub scenario=pooled_budget")
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(money_page.sheets(result))))
    assert book.sheetnames == ["Commissioners", "Settings", "Pooled budget", "Reserve negative"]


def test_a_run_without_a_pooled_budget_shows_spend_and_says_so(page_app: Callable[[str, str], AppTest]) -> None:
    at = run(choose(loaded(page_app), Area("tcp", "bhr"), "baseline"))
    assert not errors(at)
    assert len(at.image) == 1  # spend only
    found = tables(at)
    assert set(found) == {"commissioner", "setting"}
    adds_up(found["setting"], "setting")
    assert any(i.value.startswith("This config has no pooled budget") for i in at.info)
    assert labels(at) >= SPEND_DOWNLOADS and not any(label.startswith("Reserve") for label in labels(at))


def test_a_bad_value_is_told_beside_its_field(page_app: Callable[[str, str], AppTest]) -> None:
    at = choose(loaded(page_app), Area("tcp", "bhr"), "baseline")
    at.number_input(key=f"money:replications:{BHR}").set_value(0)
    run(at)
    expected = cli_line(["tcp=bhr", "scenario=baseline", "run.replications=0"])
    assert errors(at) == [expected]
    column = next(c for c in at.columns if any(w.key == f"money:replications:{BHR}" for w in c.number_input))
    assert [e.value for e in column.error] == [expected]
    assert not at.image


def test_a_run_made_before_is_not_run_again(
    page_app: Callable[[str, str], AppTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(hub(loaded(page_app), replications=21))
    ran: list[object] = []

    def money_of(*args: object, **kwargs: object) -> None:
        ran.append(args)
        raise RuntimeError("ran again")

    monkeypatch.setattr(money_page, "money_of", money_of)
    again = run(hub(loaded(page_app), replications=21))  # another session, the same config: from the store
    assert not ran and not errors(again) and len(again.image) == 2
    other = run(hub(loaded(page_app), replications=22))  # a config not run before is run
    assert len(ran) == 1 and errors(other) == ["error: RuntimeError: ran again"]  # one line, no traceback


def test_a_cancelled_run_keeps_nothing(
    page_app: Callable[[str, str], AppTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[int, int]] = []

    def cancelled_midway(cfg: Any, on_progress: Any = None, reference: Any = None) -> None:
        import streamlit as st

        st.session_state["cancelled"] = True  # what the Cancel button's on_click does
        calls.append((10, 23))
        on_progress(10, 23)
        raise AssertionError("the run went on after Cancel")

    at = choose(loaded(page_app), Area("tcp", "bhr"), "baseline", replications=23)
    monkeypatch.setattr(money_page, "money_of", cancelled_midway)
    run(at)
    assert calls == [(10, 23)] and not errors(at)
    assert [w.value for w in at.warning] == ["The run was cancelled: nothing of it was kept."]
    assert not at.image and "money:shown" not in at.session_state
    monkeypatch.undo()
    run(at)  # the same config again: run, not answered from a store that kept nothing
    assert len(at.image) == 1 and not at.warning
