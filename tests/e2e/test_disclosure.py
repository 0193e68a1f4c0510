"""Publication safety (issue 16, point 9): with ``run.disclosure=nhs`` the tables meant to leave the building
(summary.csv, trajectory.csv, the report, results.xlsx, the finance tables) show counts of people under 5
as ``*`` and others rounded to the nearest 5, England's own figures unrounded, money and probabilities as
run; the census's comments are never copied and the report says which rule was applied; an event log is
refused with it; and a run with the rule off writes what it wrote before."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from sim.api import compose, run
from sim.config import ConfigError, build_spec
from sim.metrics import about
from sim.report.sections import data, experimentation, header
from sim.report.sources import census_comments, census_file, tcp_configs
from sim.report.workbook import HEADER_ROW
from sim.results.disclosure import SUPPRESSED, Disclosure, as_text, numeric

SURREY = ["tcp=surrey", "run.replications=6", "run.years=1", "run.progress=false"]


def unit(metric: str) -> str | None:
    known = about(metric)
    return None if known is None else known.unit


def is_count(metric: str) -> bool:
    return unit(metric) in ("people", "units", "bed-days", "person-days")


def disclosed(text: object) -> bool:
    """Whether a shown count is safe: ``*`` or a whole multiple of 5 not under 5."""
    if text == SUPPRESSED:
        return True
    value = float(str(text))
    return value >= 5 and value % 5 == 0


# ------------------------------------------------------------------------------------------ the rule


def test_the_rule_on_a_synthetic_frame() -> None:
    """Counts: 2 is *, 7 is 5, 8 is 10, 12.5 is 15 (halves up), 4.99 and 0 are *; money as it is; a share
    is suppressed when its numerator is under 5 and kept otherwise; a rate is that of its rounded count."""
    rule = Disclosure("nhs", populations={"": (1_000_000.0, 200_000.0)})
    frame = pd.DataFrame(
        {
            "month": ["2016-03"] * 8 + ["2016-04"] * 2,
            "metric": [
                "inpatients",
                "admissions",
                "delayed_discharges",
                "long_stayers_5y",
                "cost_total",
                "long_stay_share_5y",
                "inpatients_per_million",
                "beds_in_area",
                "long_stayers_5y",
                "long_stay_share_5y",
            ],
            "mean": [2.0, 7.0, 8.0, 3.0, 1234.567, 3 / 36, 36.3, 3.0, 9.0, 0.25],
            "p05": [12.5, 4.99, 0.0, 3.0, 7.0, 0.05, 2.0, 3.0, 9.0, 0.2],
        }
    )
    frame.loc[len(frame)] = ["2016-04", "inpatients", 36.0, 30.0]
    out = rule.frame(frame, columns=["mean", "p05"])
    assert out["mean"].tolist()[:4] == ["*", 5, 10, "*"]
    assert out["p05"].tolist()[:3] == [15, "*", "*"]
    assert out["mean"][4] == 1234.567 and out["p05"][4] == 7.0  # money: not a count of people
    assert out["mean"][5] == SUPPRESSED and out["p05"][5] == SUPPRESSED  # its numerator (3) is under 5
    assert out["mean"][6] == pytest.approx(35.0) and out["p05"][6] == SUPPRESSED  # 36.3 people a million
    assert out["mean"][7] == 3.0  # beds: capacity, not people
    # 9 of 36 (both parts 5 or more): the share of the rounded counts, 10 of 35 (and 7.2 of 36, 5 of 35)
    assert out["mean"][9] == pytest.approx(10 / 35) and out["p05"][9] == pytest.approx(5 / 35)
    text = as_text(out, columns=["mean", "p05"])
    assert text["mean"].tolist()[:5] == ["*", "5", "10", "*", "1234.57"]
    assert math.isnan(numeric(out, columns=["mean"])["mean"][0])


def test_no_rule_gives_the_frame_back_and_england_is_not_rounded() -> None:
    """run.disclosure=none changes nothing; England's own rows are not rounded, its TCPs' are."""
    frame = pd.DataFrame({"month": ["m", "m"], "metric": ["inpatients", "kent/inpatients"], "mean": [2.0, 7.0]})
    assert Disclosure().frame(frame, columns=["mean"]) is frame
    england = build_spec(compose(["experiment=england", "run.replications=2"]))
    rule = Disclosure.of("nhs", england, unit)
    assert rule.frame(frame, columns=["mean"])["mean"].tolist() == [2.0, 5]
    assert rule.value("inpatients", 2612.0) == 2612.0 and rule.value("kent/admissions", 12.5) == 15
    with pytest.raises(ValueError, match="unknown disclosure rule"):
        Disclosure("rounded")


def test_an_unknown_rule_and_an_event_log_are_refused() -> None:
    """A rule that is not one is a ConfigError naming run.disclosure; an event log beside the rule one
    naming run.event_log (its rows are people)."""
    with pytest.raises(ConfigError) as e:
        build_spec(compose([*SURREY, "run.disclosure=rounded"]))
    assert e.value.key == "run.disclosure"
    with pytest.raises(ConfigError) as e:
        build_spec(compose([*SURREY, "run.disclosure=nhs", "run.event_log=true"]))
    assert e.value.key == "run.event_log" and "disclosure" in str(e.value)


# ------------------------------------------------------------------------------------------ a run


@pytest.fixture(scope="module")
def surrey(tmp_path_factory):
    """Surrey (a 36-person synthetic census: 2 CAMHS tier 4, 7 long stayers) run with run.disclosure=nhs."""
    cfg = compose([*SURREY, "run.disclosure=nhs"])
    return run(cfg, out_dir=tmp_path_factory.mktemp("nhs") / "r")


def test_summary_csv_shows_no_count_under_5(surrey) -> None:
    """Every count row of summary.csv is * or a multiple of 5 in every value column, the start month's
    too (which the census fixes); money rows are the run's own numbers."""
    shown = pd.read_csv(surrey.run_dir / "summary.csv", dtype=str)
    counts = shown[shown["metric"].map(is_count)]
    assert len(counts) > 100
    for column in ("mean", "p05", "p25", "p50", "p75", "p95"):
        assert counts[column].map(disclosed).all(), counts[~counts[column].map(disclosed)][["metric", column]]
    start = shown[shown["month"] == surrey.spec.calendar.start_label].set_index("metric")
    assert start.loc["inpatients_camhs_t4", "mean"] == SUPPRESSED  # 2 in the census
    assert start.loc["long_stayers_5y", "mean"] == "5"  # 7 in the census
    assert start.loc["inpatients", "mean"] == "35"  # 36 in the census
    assert float(start.loc["long_stay_share_5y", "mean"]) == pytest.approx(5 / 35)  # not 7/36
    raw = surrey.summary.set_index(["month", "metric"])
    money = shown[shown["metric"].map(unit) == "pounds"].head(20)
    for _, row in money.iterrows():
        assert float(row["mean"]) == pytest.approx(raw.loc[(row["month"], row["metric"]), "mean"], rel=1e-5)
    trajectory = pd.read_csv(surrey.run_dir / "trajectory.csv", dtype=str)
    assert trajectory[["planned", "mean", "p05", "p50", "p95"]].map(disclosed).all().all()
    assert float(trajectory["p_at_or_under"].iloc[0]) == 1.0  # a probability: as run


def test_report_has_the_rule_and_no_census_comment(surrey) -> None:
    """report.md says which rule was applied, copies no comment line of the census, and shows the start
    stocks rounded (the 36 inpatients of the census as 35, its 7 long stayers as 5)."""
    text = (surrey.run_dir / "report.md").read_text()
    assert "Disclosure control (`run.disclosure=nhs`)" in text and "Assuring Transformation" in text
    [(_, tcp)] = tcp_configs(compose(SURREY))
    comments = census_comments(census_file(tcp))
    assert comments and not any(c in text for c in comments if len(c) > 20)
    assert "synthetic census" not in text and "its comment lines are not copied" in text
    assert "(35 inpatients at the start" in text
    assert "checked against): 35 at the end of 2016-03" in text  # the plan's baseline is the census's 36
    assert "| inpatients in hospital 5+ years | 5 (5 to 5) |" in text
    docx_text = _docx_text(surrey.run_dir / "report.docx")
    assert "Disclosure control" in docx_text and "synthetic census" not in docx_text


def test_results_xlsx_summary_is_disclosed(surrey) -> None:
    """results.xlsx's Summary sheet: every count * or a multiple of 5 (numbers as numbers); its Run sheet
    names the rule."""
    book = openpyxl.load_workbook(surrey.run_dir / "results.xlsx")
    rows = list(book["Summary"].iter_rows(min_row=HEADER_ROW, values_only=True))
    table = pd.DataFrame(rows[1:], columns=rows[0])
    counts = table[table["metric"].map(is_count)]
    assert len(counts) > 100 and counts["mean"].map(disclosed).all() and counts["p95"].map(disclosed).all()
    assert any(isinstance(v, int) for v in counts["mean"])  # a rounded count is a number, not text
    run_rows = {r[0]: r[1] for r in book["Run"].iter_rows(min_row=HEADER_ROW + 1, values_only=True)}
    assert "run.disclosure=nhs" in run_rows["disclosure"]


def test_without_the_rule_summary_csv_is_as_before(tmp_path: Path) -> None:
    """run.disclosure=none (the default): summary.csv is the run's summary as written before the rule
    existed, the census's comments are in the report, which says no rule was applied."""
    result = run(compose(SURREY), out_dir=tmp_path / "r")
    written = (tmp_path / "r" / "summary.csv").read_text()
    assert written == result.summary.to_csv(index=False, float_format="%.6g")
    start = result.summary[result.summary["month"] == result.spec.calendar.start_label].set_index("metric")
    assert start.loc["inpatients_camhs_t4", "mean"] == 2 and start.loc["long_stayers_5y", "mean"] == 7
    text = (tmp_path / "r" / "report.md").read_text()
    assert "Disclosure control: none" in text and "synthetic census" in text
    assert np.isclose(start.loc["inpatients", "mean"], 36)


def _docx_text(path: Path) -> str:
    import docx

    return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)


# ------------------------------------------------------------------------------------------ the report's parts


def test_a_census_outside_configs_is_never_quoted(tmp_path: Path) -> None:
    """A census given outside configs/ (a planner's, maybe real) has its file and rows in the report's data
    section but none of its comment lines, with the rule off too; a shipped one's comments are quoted only
    with the rule off."""
    census = tmp_path / "real_2016-03.csv"
    census.write_text("# Ward 7: Mr A, admitted after the fire\nunit,area,admitted\n" + "atu,in,2015-01-01\n" * 7)
    cfg = compose([*SURREY, f"tcp.census={census}"])
    [entry] = data(cfg, tmp_path)["census"]
    assert entry["comments"] == [] and entry["rows"] == 7 and "outside configs/" in entry["withheld"]
    [entry] = data(cfg, tmp_path, rule=Disclosure("nhs"))["census"]
    assert entry["comments"] == [] and entry["rows"] == 5
    shipped = compose(SURREY)
    assert data(shipped, tmp_path)["census"][0]["comments"]
    assert data(shipped, tmp_path, rule=Disclosure("nhs"))["census"][0]["comments"] == []


def test_the_notes_and_the_census_size_are_rounded() -> None:
    """The build's note of a census over a pool's beds has its counts of people rounded (its beds not);
    the census's size in the experimentation section too, except England's."""
    cfg = compose(SURREY)
    spec = build_spec(cfg)
    note = "the start census holds 12 CAMHS tier 4 inpatients in area, more than the 10 beds of p: 2 start out of area"
    manifest = {"notes": [note], "warmup_years": 0, "seed": 1, "chunk_size": 1, "workers": 1, "backend": "x"}
    shown = header(cfg, spec, manifest, Disclosure.of("nhs", spec, unit))["notes"]
    assert shown == [note.replace("holds 12", "holds 10").replace(": 2 start", ": * start")]
    assert header(cfg, spec, manifest)["notes"] == [note]
    assert experimentation(spec, manifest, Disclosure.of("nhs", spec, unit))["n_census"] == 35  # 36
    england = build_spec(compose(["experiment=england", "run.replications=2"]))
    n = len(england.census)
    assert experimentation(england, manifest, Disclosure.of("nhs", england, unit))["n_census"] == n


def test_finance_tables_round_people_not_money(tmp_path: Path) -> None:
    """With a pooled budget under the rule: the finance CSVs' count of people (pool_cohort) is * or a
    multiple of 5, their money is the run's own; results.xlsx's finance sheets hold numbers, not text."""
    pooled = ["tcp=bhr", "scenario=pooled_budget", "run.replications=4", "run.years=1", "run.progress=false"]
    result = run(compose([*pooled, "run.disclosure=nhs"]), out_dir=tmp_path / "r")
    monthly = pd.read_csv(tmp_path / "r" / "finance_monthly.csv", dtype=str)
    cohort = monthly[monthly["metric"] == "pool_cohort"]
    assert len(cohort) and cohort["mean"].map(disclosed).all() and (cohort["mean"] == SUPPRESSED).any()
    spend = monthly[monthly["metric"] == "cost_total"].dropna(subset=["mean"]).iloc[0]
    raw = result.summary.set_index(["month", "metric"]).loc[(spend["month"], "cost_total"), "mean"]
    assert float(spend["mean"]) == pytest.approx(raw, rel=1e-9)
    book = openpyxl.load_workbook(tmp_path / "r" / "results.xlsx")
    rows = list(book["Finance by month"].iter_rows(min_row=HEADER_ROW + 1, values_only=True))
    assert all(isinstance(r[2], (int, float)) for r in rows if r[1] == "pool_cohort" and r[2] != SUPPRESSED)
    assert any(isinstance(r[2], int) for r in rows if r[1] == "pool_cohort")
