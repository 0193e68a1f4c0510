"""The Compare page (Streamlit): two or more scenarios of one area on common random numbers, each against
the baseline; ``compare_page`` draws it. The comparison is ``sim.compare.compare`` (what ``python -m
sim.compare`` runs), its chart ``sim.compare.forest_chart`` and its files ``Comparison.write``; this module
adds the widgets, the progress, the cache and the headline metrics read out in words (``readings``, with
no Streamlit in it).

The page's overrides are the command line's: ``scenario=<baseline>,<other>[,...]`` first (the baseline is
the first listed), then the area and the run settings every scenario shares, and
``compare.independent=false`` when the independent-seed runs are left out.
"""

from __future__ import annotations

import math
import shlex
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
from omegaconf import DictConfig, OmegaConf

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
from sim.app.exports import Download, chart_downloads
from sim.app.levers import RUN_KEYS, Area, Checked, refusal, run_choices, scenarios
from sim.app.page import shipped
from sim.app.results import Progress, Store, png
from sim.compare import PLAN_METRIC, Comparison, compare, display_table, forest_chart, headline_rows
from sim.compare import variance_reduction_lines as pairing_lines
from sim.compare.__main__ import parse_scenarios
from sim.config.errors import user_error_line
from sim.config.provenance import hydra_value, rerun_command
from sim.metrics import about
from sim.plots.compare import spoken_period, spoken_scenario

#: How many comparisons the cache keeps (each its runs' per-replication outcomes and a chart).
CACHED_COMPARISONS = 16
#: The key that leaves out the independent-seed runs (configs/compare.yaml), as the command line says it.
INDEPENDENT_KEY = "compare.independent"
#: The page's fields, each the config key its errors name (``sim.app.levers.field_of``).
FIELDS: dict[str, str | None] = {"scenarios": "scenario", **RUN_KEYS}
#: The files of a comparison offered to download (of those ``Comparison.write`` writes), with their labels.
TABLE_FILES = {"comparison.csv": "Table (CSV)", "comparison.xlsx": "Table (Excel)"}
CANCELLED = "The comparison was cancelled: nothing of it was kept."
MINUS = "\u2212"
#: The catalogue units whose differences are told in percentage points (a probability, a share).
POINTS = frozenset({"yes/no", "share"})
#: Catalogue units counted in whole things (fewer, more); the rest are amounts (lower, higher).
COUNTED = frozenset({"people", "people per million", "units", "beds", "bed-days", "person-days"})
#: The verdicts of ``sim.compare.verdict`` as a reading ends (the smallest difference is added to its own).
VERDICT_WORDS = {
    "not separated": "not separated (the interval contains zero)",
    "smaller than matters": "smaller than matters",
}


# --------------------------------------------------------------------------------------------------
# The readings: each headline metric in words (no Streamlit)


def scenario_words(name: str, capital: bool = False) -> str:
    """A scenario's name in a sentence: ``the baseline`` for the shipped baseline, else its words."""
    if name == "baseline":
        return "The baseline" if capital else "the baseline"
    return spoken_scenario(name, capital)


def when(period: str) -> str:
    """A compared period in a sentence: a month (a stock's) is its end, a span ``from .. to ..``, a
    financial year ``in 2016/17``."""
    spoken = spoken_period(period)
    if len(period) == 7 and period[4] == "-":
        return f"at the end of {spoken}"
    return f"from {spoken}" if " to " in period else f"in {spoken}"


def amounts(values: Sequence[float], unit: str) -> list[str]:
    """Signed differences in a metric's unit, to the same decimals (three figures of the largest, at most
    two decimals): pounds with £, probabilities and shares in percentage points (``POINTS`` says so)."""
    scale = 100.0 if unit in POINTS else 1.0
    prefix = "£" if unit == "pounds" else ""
    shown = [v * scale for v in values]
    largest = max((abs(v) for v in shown if math.isfinite(v)), default=0.0)
    decimals = 0 if largest == 0 else min(2, max(0, 2 - math.floor(math.log10(largest))))
    out = []
    for v in shown:
        if not math.isfinite(v):
            out.append("–")
        elif round(v, decimals) == 0:
            out.append("0")
        else:
            out.append(f"{'+' if v > 0 else MINUS}{prefix}{abs(v):,.{decimals}f}")
    return out


def reading(row: Mapping[str, Any], level: float = 0.95, tcps: Mapping[str, str] | None = None) -> str:
    """One row of a comparison table (``sim.compare.COLUMNS``) in words: the share of paired replications
    in which the scenario does better than the baseline (by the metric's direction; worse first when it
    is more often worse), then the other and the same, the mean difference with its interval, and the
    verdict."""
    metric, period, verdict = str(row["metric"]), when(str(row["period"])), str(row["verdict"])
    tcp, _, base = metric.rpartition("/")
    where = f" in {(tcps or {}).get(tcp) or tcp.replace('_', ' ').title()}" if tcp else ""
    who, baseline = str(row["scenario"]), scenario_words(str(row["baseline"]))
    plan = base == PLAN_METRIC
    known = about(base)
    unit = "yes/no" if plan else (known.unit if known is not None else "")
    if plan:
        noun = f"being at or under the plan{where}"
    else:
        noun = (known.label if known is not None else base.replace("_", " ")) + where
    if verdict == "same in every replication":
        return f"{scenario_words(who, True)} and {baseline} do not differ on {noun} {period} in any replication."
    mean, low, high = amounts([row["mean_diff"], row["ci_low"], row["ci_high"]], unit)
    points = " percentage points" if unit in POINTS else ""
    mean += points
    figures = f"{level:.0%} CI {low} to {high}"
    ends = VERDICT_WORDS.get(verdict, verdict)
    if verdict == "smaller than matters":
        ends += f" (under ±{amounts([row['smallest_difference']], unit)[0].lstrip('+')}{points})"
    better, p_better, p_worse = str(row["better"] or ""), float(row["p_better"]), float(row["p_worse"])
    if not better or not math.isfinite(p_better):  # no better way: the difference alone
        said = f"{scenario_words(who, True)} against {baseline}, {noun} {period}"
        return f"{said}: mean difference {mean} ({figures}). Verdict: {ends}."
    ahead = p_better >= p_worse  # the reading leads with the more common of better and worse
    first, second = (p_better, p_worse) if ahead else (p_worse, p_better)
    if plan:
        if ahead:
            says = f"is at or under the plan{where} {period} where {baseline} is not"
        else:
            says = f"is over the plan{where} {period} where {baseline} is at or under it"
        others = [f"the reverse in {second:.0%}"] if second > 0 else []
        difference = "difference in the chance"
    else:
        good, bad = ("fewer", "more") if unit in COUNTED else ("lower", "higher")
        if better == "higher":
            good, bad = bad, good
        word, other_word = (good, bad) if ahead else (bad, good)
        same = 1.0 - p_better - p_worse
        says = f"has {word} {noun} than {baseline} {period}"
        others = [f"{other_word} in {second:.0%}"] if second > 0 else []
        others += [f"the same in {same:.0%}"] if round(same, 9) > 0 else []
        difference = "mean difference"
    rest = "".join(f", {o}" for o in others)
    return (
        f"In {first:.0%} of replications {scenario_words(who)} {says}{rest} ({difference} {mean}, {figures}). "
        f"Verdict: {ends}."
    )


def readings(
    table: pd.DataFrame, headlines: Sequence[str], level: float = 0.95, tcps: Mapping[str, str] | None = None
) -> list[str]:
    """Each headline metric at its last period (``sim.compare.headline_rows``), one reading a scenario."""
    return [reading(row, level, tcps) for _, row in headline_rows(table, headlines).iterrows()]


def comparison_readings(c: Comparison) -> list[str]:
    """The readings of a comparison's headline metrics."""
    return readings(c.table, c.headlines or [c.headline], c.level, c.tcp_titles)


# --------------------------------------------------------------------------------------------------
# The comparison and its files (no Streamlit)


@dataclass
class AppComparison:
    """What the page shows of one comparison: the comparison, its chart (PNG at screen resolution) and
    its key (the resolved configs compared, for the files made of it)."""

    comparison: Comparison
    chart: bytes
    key: str


def compare_key(cfgs: Mapping[str, DictConfig], independent: bool) -> str:
    """A comparison's key: each scenario's resolved config in order (the first the baseline), and whether
    the independent-seed runs are made (the same key is never run twice)."""
    parts = [f"# scenario {name}\n{OmegaConf.to_yaml(cfg, resolve=True)}" for name, cfg in cfgs.items()]
    return "\n".join([*parts, f"# {INDEPENDENT_KEY}: {independent}"])


def make_comparison(
    cfgs: Mapping[str, DictConfig], independent: bool, key: str, on_progress: Progress | None = None
) -> AppComparison:
    """Compare ``cfgs`` (the first the baseline), as ``python -m sim.compare`` does, and draw its chart."""
    c = compare(cfgs, next(iter(cfgs)), independent=independent, progress=False, warn=False, on_progress=on_progress)
    return AppComparison(c, png(forest_chart(c)), key)


def comparison_files(c: Comparison, command: str) -> dict[str, bytes]:
    """The files ``python -m sim.compare`` writes of ``c`` (comparison.csv, .xlsx, .png, manifest.json with
    ``command``), written into a temporary directory (removed after): name -> bytes."""
    with tempfile.TemporaryDirectory(prefix="tcp-sim-app-") as tmp:
        out = c.write(Path(tmp) / "comparison", command=shlex.split(command))
        return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}


def table_files(files: Callable[[], dict[str, bytes]]) -> list[Download]:
    """The comparison's table as the command line writes it (CSV and Excel), made on the first click."""

    def one(name: str) -> Callable[[], bytes]:
        return lambda: files()[name]

    return [Download(label, name, one(name)) for name, label in TABLE_FILES.items()]


def compare_overrides(
    area: Area, names: Sequence[str], run: Mapping[str, Any], independent: bool = True
) -> tuple[list[str], list[str]]:
    """The page's choices as the command line's arguments (``scenario=a,b`` first), and the overrides
    every scenario's config is composed with (the area and the run settings)."""
    shared = [area.choice, *(f"{RUN_KEYS[k]}={hydra_value(v)}" for k, v in run.items())]
    ovr = [f"scenario={','.join(names)}", *shared]
    if not independent:
        ovr.append(f"{INDEPENDENT_KEY}=false")
    return ovr, shared


# --------------------------------------------------------------------------------------------------
# The page


@st.cache_resource
def compare_stores() -> tuple[Store, Store]:
    """The app's comparisons (``CACHED_COMPARISONS``) and the files made of them (the last 8), shared by
    every session."""
    return Store(CACHED_COMPARISONS), Store(8)


def cached_compare(
    cfgs: Mapping[str, DictConfig], independent: bool, on_progress: Progress | None = None
) -> AppComparison:
    """The comparison of ``cfgs`` (from the cache if made before, in any session; a cancelled one is not
    kept)."""
    key = compare_key(cfgs, independent)
    return compare_stores()[0].made(key, lambda: make_comparison(cfgs, independent, key, on_progress))


def compare_page() -> None:
    """The Compare page."""
    st.title("Compare scenarios")
    st.caption(
        "Each scenario runs on the same seed as the baseline (common random numbers): replication i of one "
        "sees the same crises, stays and breakdowns as replication i of the other, so their paired "
        "differences show what the scenario changes."
    )
    area = choose_area("compare")
    baseline = choose_scenario("compare", "Baseline")
    if area is None or baseline is None:  # both have options and no empty choice: for the type checker
        return
    others = st.multiselect(  # keyed by the baseline: its options are every other scenario
        "Compared with the baseline",
        [s for s in scenarios() if s != baseline],
        key=f"compare:others:{baseline}",
        placeholder="choose one or more scenarios",
    )
    beside: dict[str, Any] = {"scenarios": st.empty()}
    try:
        settings = shipped(area, baseline)[2]
    except Exception as e:  # noqa: BLE001 - a shipped file that does not compose is told, not traced
        st.error(user_error_line(e) or one_line(e))
        return
    tag = f"{area.choice}{'@' + area.config_dir if area.config_dir else ''}"
    st.subheader("Run settings")
    cols = st.columns(3)
    chosen = {
        "replications": cols[0].number_input(
            "Replications", value=settings["replications"], step=100, key=f"compare:replications:{tag}"
        ),
        "seed": cols[1].number_input("Seed", value=settings["seed"], step=1, key=f"compare:seed:{tag}"),
        "years": cols[2].number_input("Years", value=float(settings["years"]), step=1.0, key=f"compare:years:{tag}"),
    }
    beside |= {name: col.empty() for name, col in zip(RUN_KEYS, cols)}
    independent = st.toggle(
        "Also run each scenario on an independent seed (one more run each: how much narrower pairing makes "
        "the intervals)",
        value=True,
        key="compare:independent",
    )
    run_ovr = run_choices(chosen, settings)
    ovr, shared = compare_overrides(area, [baseline, *others], run_ovr, independent)

    clicked = st.button("Compare", type="primary")
    by_button = st.empty()
    if clicked:
        checked = attempt(area, ovr, shared, independent)
        st.session_state["compare:request"] = {
            "overrides": checked.overrides,
            "error": checked.error,
            "field": checked.field,
        }
    if was_cancelled():  # Cancel clicked (this run is its rerun) or seen by the bar
        by_button.warning(CANCELLED)
    request: dict[str, Any] | None = st.session_state.get("compare:request")
    if request is not None and request["error"] and tuple(ovr) == request["overrides"]:  # not once changed
        beside.get(request["field"], by_button).error(request["error"])
    command = rerun_command(ovr, area.config_dirs, program="sim.compare")
    show_command(ovr, "compare:command", area.config_dirs, program="sim.compare")
    shown: tuple[tuple[str, ...], AppComparison] | None = st.session_state.get("compare:shown")
    if shown is not None and shown[0] == tuple(ovr):
        show_result(shown[1], command)
    elif shown is not None:
        st.info(
            "The choices have changed since the last comparison: Compare to see theirs (one made before shows at once)."
        )


def attempt(area: Area, ovr: list[str], shared: list[str], independent: bool) -> Checked:
    """Check the scenario list as the command line does, compose each scenario and compare them (from the
    cache if compared before; ``compare`` validates every config before it runs any), keeping the result
    for the page; a refusal in the command line's one line with its field. A cancelled comparison keeps
    nothing and leaves the last result as it was."""
    try:
        try:
            names, _ = parse_scenarios(ovr)  # the command line's rules of a scenario list (two or more...)
            cfgs = {name: area.compose([*shared, f"scenario={name}"]) for name in names}
        except Exception as e:  # noqa: BLE001 - the user's mistake is told with its field; refusal raises the rest
            return refusal(e, ovr, FIELDS)
        on_progress, finished = progress_bar("replications, every scenario's runs together")
        try:
            result = cached_compare(cfgs, independent, on_progress)
        except Cancelled:
            mark_cancelled()  # told by the button (the bar's session key, as Cancel sets it)
            return Checked(tuple(ovr))
        except Exception as e:  # noqa: BLE001 - as above
            return refusal(e, ovr, FIELDS)
        finally:
            finished()
    except Exception as e:  # noqa: BLE001 - not the user's mistake, but still one line, no traceback
        return Checked(tuple(ovr), error=one_line(e))
    st.session_state["compare:shown"] = (tuple(ovr), result)
    return Checked(tuple(ovr))


def show_result(r: AppComparison, command: str) -> None:
    """The readings of the headline metrics, the chart, the table and their downloads."""
    c = r.comparison
    against = ", ".join(scenario_words(n, True) for n in c.scenarios[1:])
    st.subheader(f"{against} against {scenario_words(c.baseline)}: {c.title}")
    st.caption(
        f"{c.replications:,} paired replications on seed {c.seed} (common random numbers), "
        f"compared in {c.wall_seconds:.1f} s."
    )
    st.markdown("**What it says** (each headline metric at the end of the run; P(better) by the metric's direction)")
    st.markdown("\n".join(f"- {line}" for line in comparison_readings(c)))
    for note in c.notes:
        st.info(note)
    for message in c.warnings:
        st.warning(message)
    st.image(
        r.chart,
        caption="Each scenario minus the baseline: the thick bar the CI of the mean difference, the thin line "
        "5–95% of the paired differences, the grey band differences smaller than matter",
    )
    offer(chart_downloads("comparison", lambda: forest_chart(c)), "compare:chart")
    st.markdown("**The paired differences** (each scenario minus the baseline, replication by replication)")
    table = display_table(c)
    table["metric"] = c.table["label"]
    st.dataframe(table, hide_index=True)
    for line in pairing_lines(c):
        st.caption(line)
    files = compare_stores()[1]  # the store taken here, in the page
    offer(
        table_files(lambda: files.made(f"{r.key}\n# {command}", lambda: comparison_files(c, command))), "compare:tables"
    )


__all__ = [
    "AppComparison",
    "amounts",
    "cached_compare",
    "compare_key",
    "compare_overrides",
    "compare_page",
    "comparison_files",
    "comparison_readings",
    "make_comparison",
    "reading",
    "readings",
    "when",
]
