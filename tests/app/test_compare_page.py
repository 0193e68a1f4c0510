"""The Compare page: its readings in words (on hand-made tables), and the page driven by Streamlit's
AppTest: it loads, a small BHR comparison shows its readings, chart, table and downloads, the command shown
is the command line's same comparison, fewer than two scenarios and values the config refuses are told in
the command line's one line beside their field (never a traceback), a cancelled comparison keeps nothing,
and a comparison made before is not made again in another session."""

from __future__ import annotations

import io
import math
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from sim.api import compose
from sim.app import compare_page
from sim.app.common import Cancelled
from sim.app.compare_page import (
    CANCELLED,
    AppComparison,
    amounts,
    compare_key,
    comparison_files,
    make_comparison,
    reading,
    readings,
    table_files,
    when,
)
from sim.app.levers import Area
from sim.compare import COLUMNS
from sim.compare.__main__ import main as cli
from sim.compare.__main__ import parse_scenarios

BHR = "tcp=bhr"  # the run settings' key tag of BHR
OTHERS = "compare:others:baseline"  # the scenarios compared with the baseline, when it is "baseline"
NAN = math.nan


# --------------------------------------------------------------------------------------------------
# The readings, on rows written by hand


def row(**given: Any) -> dict[str, Any]:
    """A comparison table's row (``sim.compare.COLUMNS``): full CTR coverage against the baseline."""
    base = dict.fromkeys(COLUMNS, NAN)
    base |= {"scenario": "full_ctr_coverage", "baseline": "baseline", "smallest_difference": 0.5}
    return base | given


def test_when_says_a_month_end_a_span_and_a_financial_year() -> None:
    assert when("2019-03") == "at the end of Mar 2019"
    assert when("2016-04 to 2019-03") == "from Apr 2016 to Mar 2019"
    assert when("2016/17") == "in 2016/17"
    assert when("2019/20 (6 months)") == "in 2019/20 (6 months)"


def test_amounts_share_their_decimals_and_say_their_unit() -> None:
    assert amounts([-0.93, -1.02, -0.83], "people") == ["\u22120.93", "\u22121.02", "\u22120.83"]
    assert amounts([21.04, -43.49, 1.6], "bed-days") == ["+21.0", "\u221243.5", "+1.6"]
    assert amounts([-12345.6, -20000.4, 4690.2], "pounds") == ["\u2212£12,346", "\u2212£20,000", "+£4,690"]
    assert amounts([0.1, -0.0139], "yes/no") == ["+10.0", "\u22121.4"]  # percentage points
    assert amounts([0.001, 0.5], "people") == ["0", "+0.50"]  # at most two decimals: 0.001 is 0
    assert amounts([0.0, NAN], "people") == ["0", "–"]


def test_a_count_better_lower_with_worse_and_ties() -> None:
    r = row(
        metric="inpatients_out_of_area",
        period="2019-03",
        scenario="hub_pooling",
        baseline="separate_pools",
        better="lower",
        mean_diff=-0.93,
        ci_low=-1.02,
        ci_high=-0.83,
        p_better=0.83,
        p_worse=0.05,
        verdict="better",
    )
    assert reading(r) == (
        "In 83% of replications hub pooling has fewer inpatients out of area than separate pools at the end of "
        "Mar 2019, more in 5%, the same in 12% (mean difference \u22120.93, 95% CI \u22121.02 to \u22120.83). "
        "Verdict: better."
    )


def test_more_often_worse_is_said_first() -> None:
    r = row(
        metric="inpatients_out_of_area",
        period="2019-03",
        scenario="no_repatriation",
        baseline="separate_pools",
        better="lower",
        mean_diff=5.1,
        ci_low=4.13,
        ci_high=6.07,
        p_better=0.0,
        p_worse=1.0,
        verdict="worse",
    )
    assert reading(r) == (
        "In 100% of replications no repatriation has more inpatients out of area than separate pools at the end "
        "of Mar 2019 (mean difference +5.10, 95% CI +4.13 to +6.07). Verdict: worse."
    )
    plan = row(
        metric="p_at_or_under_plan",
        period="2017-03",
        better="higher",
        mean_diff=-0.2,
        ci_low=-0.3,
        ci_high=-0.1,
        p_better=0.05,
        p_worse=0.25,
        verdict="worse",
    )
    assert reading(plan) == (
        "In 25% of replications full CTR coverage is over the plan at the end of Mar 2017 where the baseline is "
        "at or under it, the reverse in 5% (difference in the chance −20.0 percentage points, 95% CI "
        "−30.0 to −10.0). Verdict: worse."
    )


def test_a_count_better_higher_none_worse() -> None:
    r = row(
        metric="admissions_averted",
        period="2016-04 to 2019-03",
        better="higher",
        mean_diff=3.2,
        ci_low=2.1,
        ci_high=4.3,
        p_better=1.0,
        p_worse=0.0,
        verdict="better",
    )
    assert reading(r, level=0.9) == (
        "In 100% of replications full CTR coverage has more admissions averted than the baseline from Apr 2016 "
        "to Mar 2019 (mean difference +3.20, 90% CI +2.10 to +4.30). Verdict: better."
    )


def test_pounds_smaller_than_matters() -> None:
    r = row(
        metric="cost_total",
        period="2017/18",
        better="lower",
        mean_diff=-12345.6,
        ci_low=-20000.4,
        ci_high=-4690.2,
        p_better=0.6,
        p_worse=0.4,
        smallest_difference=100000.0,
        verdict="smaller than matters",
    )
    assert reading(r) == (
        "In 60% of replications full CTR coverage has lower spend by all payers than the baseline in 2017/18, "
        "higher in 40% (mean difference \u2212£12,346, 95% CI \u2212£20,000 to \u2212£4,690). "
        "Verdict: smaller than matters (under ±£100,000)."
    )


def test_the_chance_of_meeting_the_plan_in_percentage_points() -> None:
    r = row(
        metric="p_at_or_under_plan",
        period="2017-03",
        better="higher",
        mean_diff=0.1,
        ci_low=-0.0139,
        ci_high=0.2139,
        p_better=0.15,
        p_worse=0.05,
        smallest_difference=0.05,
        verdict="not separated",
    )
    assert reading(r) == (
        "In 15% of replications full CTR coverage is at or under the plan at the end of Mar 2017 where the "
        "baseline is not, the reverse in 5% (difference in the chance +10.0 percentage points, 95% CI \u22121.4 "
        "to +21.4). Verdict: not separated (the interval contains zero)."
    )


def test_a_tcp_of_a_system_by_its_title() -> None:
    r = row(
        metric="kent_medway/inpatients",
        period="2019-03",
        better="lower",
        mean_diff=-2.0,
        ci_low=-3.0,
        ci_high=-1.0,
        p_better=0.9,
        p_worse=0.1,
        verdict="better",
    )
    said = reading(r, tcps={"kent_medway": "Kent and Medway"})
    assert said.startswith("In 90% of replications full CTR coverage has fewer inpatients in Kent and Medway than")
    assert "inpatients in Kent Medway" in reading(r)  # no title given: the name in words


def test_no_difference_and_no_direction() -> None:
    same = row(metric="inpatients", period="2017-03", better="lower", verdict="same in every replication")
    assert reading(same) == (
        "Full CTR coverage and the baseline do not differ on inpatients at the end of Mar 2017 in any replication."
    )
    none = row(
        metric="discharges", period="2016/17", better="", mean_diff=2.0, ci_low=0.5, ci_high=3.5, verdict="higher"
    )
    assert reading(none) == (
        "Full CTR coverage against the baseline, discharges in 2016/17: mean difference +2.00 "
        "(95% CI +0.50 to +3.50). Verdict: higher."
    )


def test_readings_are_the_headline_metrics_at_their_last_period() -> None:
    """One reading per headline metric and scenario, at the metric's last period; other metrics unread."""
    common = {"better": "lower", "mean_diff": -1.5, "ci_low": -2.0, "ci_high": -1.0, "p_worse": 0.0}
    common["verdict"] = "better"
    rows = [
        row(metric="admissions", period="2016/17", p_better=0.4, **common),
        row(metric="admissions", period="2016-04 to 2018-03", p_better=0.7, **common),
        row(metric="admissions", period="2016-04 to 2018-03", scenario="no_repatriation", p_better=0.2, **common),
        row(metric="inpatients", period="2018-03", p_better=0.9, **common),
    ]
    said = readings(pd.DataFrame(rows), ["admissions"])
    assert [s[:60] for s in said] == [
        "In 70% of replications full CTR coverage has fewer admission",
        "In 20% of replications no repatriation has fewer admissions ",
    ]
    assert all("from Apr 2016 to Mar 2018" in s for s in said)


def test_progress_counts_every_run_of_the_comparison() -> None:
    """The progress a comparison tells runs once from the first chunk to all its runs' replications (here
    the baseline and the scenario, no independent runs), and its chart is drawn."""
    shared = ["tcp=bhr", "run.replications=8", "run.years=1"]
    cfgs = {n: compose([*shared, f"scenario={n}"]) for n in ("baseline", "full_ctr_coverage")}
    seen: list[tuple[int, int]] = []
    made = make_comparison(cfgs, False, "key", lambda done, total: seen.append((done, total)))
    assert {total for _, total in seen} == {16}
    done = [d for d, _ in seen]
    assert done == sorted(set(done)) and 0 < done[0] <= 8 and done[-1] == 16 and 8 in done
    assert made.chart.startswith(b"\x89PNG") and made.comparison.scenarios == ["baseline", "full_ctr_coverage"]


# --------------------------------------------------------------------------------------------------
# The page in AppTest


@pytest.fixture
def loaded(page_app: Callable[[str, str], AppTest]) -> Callable[[], AppTest]:
    """The Compare page alone, run once (no comparison yet)."""

    def load() -> AppTest:
        at = page_app("compare_page", "compare_page")
        at.run()
        assert not at.exception, at.exception
        return at

    return load


def small(at: AppTest, replications: int = 30, others: tuple[str, ...] = ("full_ctr_coverage",)) -> AppTest:
    """BHR's baseline against ``others``, ``replications`` over one year (its 2017-03 milestone)."""
    at.multiselect(key=OTHERS).set_value(list(others))
    at.number_input(key=f"compare:replications:{BHR}").set_value(replications)
    at.number_input(key=f"compare:years:{BHR}").set_value(1.0)
    return at


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def downloads(at: AppTest) -> dict[str, str]:
    """The download buttons: label -> file name (the end of the button's key, ``offer``'s)."""
    return {b.proto.label: b.proto.id.rsplit(":", 1)[-1] for b in at.get("download_button")}


def cli_line(args: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> str:
    """What ``python -m sim.compare`` says of these arguments: its one line, exit 2, nothing written."""
    capsys.readouterr()
    assert cli([*args, f"compare.out={tmp_path / 'refused'}"]) == 2
    line = capsys.readouterr().err.strip()
    assert len(line.splitlines()) == 1 and not (tmp_path / "refused").exists(), line
    return line


def test_page_loads(loaded: Callable[[], AppTest]) -> None:
    at = loaded()
    assert at.title[0].value == "Compare scenarios"
    assert [s.label for s in at.selectbox] == ["Area", "Baseline"]
    assert at.selectbox(key="compare:area").value == Area("tcp", "bhr")
    assert at.selectbox(key="compare:scenario").value == "baseline"
    others = at.multiselect(key=OTHERS)
    assert others.value == [] and "full_ctr_coverage" in others.options and "baseline" not in others.options
    assert {w.label for w in at.number_input} == {"Replications", "Seed", "Years"}
    assert at.toggle(key="compare:independent").value is True
    assert [b.label for b in at.button] == ["Compare"]
    assert not at.image and not at.dataframe and not errors(at)
    assert at.code[0].value.startswith("python -m sim.compare scenario=baseline tcp=bhr run.replications=")


def test_fewer_than_two_scenarios_are_refused_beside_the_list(
    loaded: Callable[[], AppTest], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    at = loaded()
    at.button[0].click().run()
    assert not at.exception
    expected = cli_line(["scenario=baseline", "tcp=bhr"], capsys, tmp_path)
    assert errors(at) == [expected]
    assert expected.startswith("config error: scenario: 'baseline': name two or more scenarios")
    main = list(at.main.children.values())
    where = next(i for i, e in enumerate(main) if getattr(e, "key", None) == OTHERS)
    assert main[where + 1].type == "error"  # under the scenarios' box, not by the button
    assert not at.image and "compare:shown" not in at.session_state
    at.multiselect(key=OTHERS).set_value(["full_ctr_coverage"]).run()  # corrected: the message goes
    assert not errors(at) and not at.exception


def test_a_small_comparison_shows_its_readings_chart_table_and_downloads(loaded: Callable[[], AppTest]) -> None:
    at = small(loaded())
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert not errors(at)
    assert len(at.image) == 1  # the forest chart
    (table,) = (d.value for d in at.dataframe)
    assert {"difference", "95% CI (paired)", "5-95% of replications", "P(better)", "verdict"} <= set(table.columns)
    assert "Admissions in the period" in set(table["metric"])  # the catalogue's labels, not the names
    said = next(m.value for m in at.markdown if m.value.startswith("- In "))
    lines = said.split("\n")
    # full_ctr_coverage's headline metrics: admissions averted, admissions, P(at or under the plan)
    assert len(lines) == 3
    assert all(line.startswith("- In ") for line in lines)
    assert "full CTR coverage has more admissions averted than the baseline" in lines[0]
    assert "full CTR coverage has fewer admissions than the baseline from Apr 2016 to Mar 2017" in lines[1]
    assert "is at or under the plan at the end of Mar 2017 where the baseline is not" in lines[2]
    assert all("95% CI" in line and "Verdict: " in line for line in lines)
    assert any(c.value.startswith("30 paired replications on seed") for c in at.caption)
    assert downloads(at) == {
        "Overrides (YAML)": "overrides.yaml",
        "Chart (PNG)": "comparison.png",
        "Chart (SVG)": "comparison.svg",
        "Table (CSV)": "comparison.csv",
        "Table (Excel)": "comparison.xlsx",
    }
    command = at.code[0].value
    assert command.startswith("python -m sim.compare scenario=baseline,full_ctr_coverage tcp=bhr")
    assert "run.replications=30" in command and "run.years=1.0" in command
    at.number_input(key=f"compare:seed:{BHR}").set_value(7).run()  # changed: the old result is not shown
    assert not at.image and any("choices have changed" in i.value for i in at.info)


def test_the_command_line_makes_the_same_comparison(
    loaded: Callable[[], AppTest], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command shown, run by ``python -m sim.compare``, writes the table the page offers, byte for
    byte (the page's files are Comparison.write's)."""
    at = small(loaded(), replications=20)
    at.toggle(key="compare:independent").set_value(False)
    at.button[0].click().run()
    assert not at.exception and not errors(at)
    shown: AppComparison = at.session_state["compare:shown"][1]
    command = at.code[0].value
    words = shlex.split(command)
    assert words[:3] == ["python", "-m", "sim.compare"] and "compare.independent=false" in words
    monkeypatch.chdir(tmp_path)  # Hydra's record of the call goes here, not into the checkout
    assert cli([*words[3:], f"compare.out={tmp_path / 'cli'}"]) == 0
    page_files = comparison_files(shown.comparison, command)
    assert (tmp_path / "cli" / "comparison.csv").read_bytes() == page_files["comparison.csv"]
    offered = {d.file_name: d.content() for d in table_files(lambda: page_files)}
    assert offered["comparison.csv"] == page_files["comparison.csv"]
    book = pd.read_excel(io.BytesIO(offered["comparison.xlsx"]), header=None)
    assert "each scenario minus baseline" in str(book.iloc[0, 0])  # the CLI's workbook, headed by its title


@pytest.mark.parametrize(
    "field, value, arg",
    [("replications", 1, "run.replications=1"), ("seed", -1, "run.seed=-1")],
)
def test_a_refused_run_setting_is_told_beside_it(
    loaded: Callable[[], AppTest],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    field: str,
    value: int,
    arg: str,
) -> None:
    at = small(loaded())
    at.number_input(key=f"compare:{field}:{BHR}").set_value(value)
    at.button[0].click().run()
    assert not at.exception
    expected = cli_line(["scenario=baseline,full_ctr_coverage", "tcp=bhr", arg], capsys, tmp_path)
    assert expected.startswith(f"config error: run.{field}: ")
    assert errors(at) == [expected]
    column = next(c for c in at.columns if any(w.key == f"compare:{field}:{BHR}" for w in c.number_input))
    assert [e.value for e in column.error] == [expected]
    assert not at.image


def test_a_cancelled_comparison_keeps_nothing(loaded: Callable[[], AppTest], monkeypatch: pytest.MonkeyPatch) -> None:
    """Cancel seen at the first chunk: no result shown or cached, the page says so."""
    seen: list[tuple[int, int]] = []

    def progress_bar(what: str) -> tuple[Callable[[int, int], None], Callable[[], None]]:
        def on_progress(done: int, total: int) -> None:
            seen.append((done, total))
            raise Cancelled

        return on_progress, lambda: None

    monkeypatch.setattr(compare_page, "progress_bar", progress_bar)
    at = small(loaded(), replications=24)
    at.button[0].click().run()
    assert not at.exception and not errors(at)
    assert [w.value for w in at.warning] == [CANCELLED]
    assert not at.image and "compare:shown" not in at.session_state
    assert len(seen) == 1 and seen[0][1] == 3 * 24  # baseline, the scenario, and it on an independent seed
    names, shared = parse_scenarios(shlex.split(at.code[0].value)[3:])  # the command's, as the CLI reads it
    cfgs = {n: compose([*shared, f"scenario={n}"]) for n in names}
    assert compare_page.compare_stores()[0].get(compare_key(cfgs, True)) is None


def test_a_comparison_made_before_is_not_made_again(
    loaded: Callable[[], AppTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    at = small(loaded(), replications=26)
    at.button[0].click().run()
    assert len(at.image) == 1 and not errors(at)
    made: list[object] = []

    def compare(*args: object, **kwargs: object) -> None:
        made.append(args)
        raise RuntimeError("compared again")

    monkeypatch.setattr(compare_page, "compare", compare)
    again = small(loaded(), replications=26)  # another session, the same configs: from the cache
    again.button[0].click().run()
    assert not again.exception and not made and not errors(again)
    assert len(again.image) == 1
    other = small(loaded(), replications=26)  # the same configs without the independent runs: not made before
    other.toggle(key="compare:independent").set_value(False)
    other.button[0].click().run()
    assert len(made) == 1 and not other.exception
    assert errors(other) == ["error: RuntimeError: compared again"]  # one line, no traceback
    assert not other.image
