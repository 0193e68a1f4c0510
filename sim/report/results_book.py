"""A run's results.xlsx: the tables behind its report, each sheet headed by its units and source
(``sim.report.workbook``), for a finance or performance lead to work with rather than copy from the report.

Sheets: the run (what was run), the summary (every metric's monthly bands, with its label and unit), the
trajectory (each planned milestone with P(at or under) and its 95% interval), the assumptions, the
validation against recorded figures when the run has it, and the finance tables when the run wrote them
(``finance_monthly.csv`` and ``finance_years.csv`` of a system with a pooled budget).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from sim.config import SystemSpec
from sim.metrics import about
from sim.report.workbook import Sheet, write_workbook
from sim.results.disclosure import SUPPRESSED, TRAJECTORY_COUNTS, Disclosure

WORKBOOK = "results.xlsx"
#: The finance tables a run with a pooled budget writes (sim/finance/outputs.py), and their sheets.
FINANCE_TABLES: tuple[tuple[str, str, str], ...] = (
    ("finance_monthly.csv", "Finance by month", "The pooled budget and spend: bands across replications by month"),
    (
        "finance_years.csv",
        "Finance by year",
        "The pooled budget and spend: bands across replications by financial year",
    ),
)
BANDS = "mean and 5th to 95th percentiles across replications"


def write_results_workbook(
    run_dir: Path,
    spec: SystemSpec,
    manifest: dict,
    summary: pd.DataFrame,
    trajectory: pd.DataFrame,
    context: dict[str, Any],
) -> Path:
    """Write ``run_dir/results.xlsx`` from the run's tables and the report's context (its assumptions and
    validation sections); return its path."""
    return write_workbook(Path(run_dir) / WORKBOOK, run_sheets(run_dir, spec, manifest, summary, trajectory, context))


def run_sheets(
    run_dir: Path | None,
    spec: SystemSpec,
    manifest: dict,
    summary: pd.DataFrame,
    trajectory: pd.DataFrame,
    context: dict[str, Any],
) -> list[Sheet]:
    """The sheets of a run's results.xlsx, in order (finance sheets only if ``run_dir`` holds their
    tables; validation only if the report's context has the run against recorded figures)."""
    source = run_source(spec, manifest)
    rule: Disclosure = context["disclosure"]["rule"]  # run.disclosure: the tables' rounding, if any
    summary = rule.frame(_board_rows(summary, spec), parts=summary)  # the rows the sheet shows
    trajectory = rule.frame(trajectory, columns=TRAJECTORY_COUNTS)
    run = pd.concat([run_table(spec, manifest), pd.DataFrame([("disclosure", rule.line())], columns=["item", "value"])])
    sheets = [
        Sheet(
            "Run",
            run.reset_index(drop=True),
            title=context["header"]["title"],
            units="none (text; months as YYYY-MM)",
            source=source,
        ),
        Sheet(
            "Summary",
            summary_table(summary),
            title=_summary_title(spec),
            units="each row's unit column (people are counted at month end for stocks, within the month for flows)",
            source=f"{source}; summary.csv",
        ),
        Sheet(
            "Trajectory",
            trajectory.reset_index(drop=True),
            title="The planned milestones: the probability of being at or under each",
            units={
                "planned, mean, p05, p50, p95": "people at month end",
                "p_at_or_under": "probability (share of replications at or under the plan)",
                "p_low, p_high": "its 95% Monte Carlo interval",
            },
            source=f"{source}; trajectory.csv",
        ),
    ]
    rows = context["assumptions"]["rows"]
    sheets.append(
        Sheet(
            "Assumptions",
            pd.DataFrame(rows, columns=["file", "key", "value", "comment"]),
            title="Every value the run's config files mark as an assumption, with the value this run used",
            units="as each key's documentation (docs/config.md): times in years, rates per year, money in pounds",
            source=f"the config files under configs/ (their comments); values from the run's config.yaml; {source}",
        )
    )
    observed = context["validation"]["observed"]
    if observed:
        sheets.append(
            Sheet(
                "Validation",
                pd.DataFrame(
                    observed["rows"], columns=["figure", "observed", "median", "p05", "p95", "inside", "source"]
                ),
                title="This run against the figures recorded for its area (inside: within the 90% band)",
                units="each figure's own (people, or a share 0 to 1); median and band across replications",
                source=f"{', '.join(observed['files'])} (each row's source); {source}",
            )
        )
    calibration = context["validation"]["calibration"]
    if calibration:
        sheets.append(
            Sheet(
                "Calibration fit",
                pd.DataFrame(
                    calibration["rows"],
                    columns=["target", "role", "observed", "median", "p05", "p95", "inside", "source"],
                ),
                title="The calibration's posterior predictive against its targets (not this run's simulations)",
                units="each target's own (people, or a share 0 to 1)",
                source=calibration["file"],
            )
        )
    for name, sheet, title in FINANCE_TABLES:
        path = Path(run_dir) / name if run_dir is not None else None
        if path is not None and path.is_file():
            sheets.append(
                Sheet(
                    sheet,
                    _numbers(pd.read_csv(path)),  # a disclosed table's "*" beside numbers
                    title=title,
                    units="pounds (spend, flows and balances); the mean of a *_negative metric is a probability",
                    source=f"{source}; {name} (sim/finance/outputs.py)",
                )
            )
    return sheets


#: A system of more TCPs than this has only its system-wide metrics in the workbook's summary (England's
#: 44 TCPs made 622,000 rows and a minute of openpyxl); summary.csv keeps every TCP's.
MAX_TCP_ROWS = 5


def _summary_title(spec: SystemSpec) -> str:
    """The summary sheet's title: what it holds, and where the rest is when each TCP's rows are left out."""
    if len(spec.tcps) <= MAX_TCP_ROWS:
        return "Every metric by month: " + BANDS
    return f"Every system metric by month: {BANDS} (each of the {len(spec.tcps)} TCPs' own metrics: summary.csv)"


def _board_rows(summary: pd.DataFrame, spec: SystemSpec) -> pd.DataFrame:
    """The summary rows the workbook shows: all of them, or for a system of many TCPs the system's own."""
    if len(spec.tcps) <= MAX_TCP_ROWS:
        return summary
    return summary[~summary["metric"].str.contains("/", regex=False)]


def _numbers(table: pd.DataFrame) -> pd.DataFrame:
    """A table read from a disclosed CSV with its numbers as numbers: a column holding ``*`` beside them
    is read as text, and would reach the workbook as text cells."""
    out = table.copy()
    for c in out.columns:
        if not pd.api.types.is_numeric_dtype(out[c]) and (out[c] == SUPPRESSED).any():
            out[c] = [v if v == SUPPRESSED or pd.isna(v) else _as_number(str(v)) for v in out[c].tolist()]
    return out


def _as_number(text: str) -> float | int | str:
    """Text as an int or a float if it is one, else as it is."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def run_source(spec: SystemSpec, manifest: dict) -> str:
    """Where a run's tables come from, as the charts' source line says it, with the commit."""
    return (
        f"tcp-sim, system {spec.name}, scenario {spec.scenario}, {manifest.get('replications')} replications, "
        f"seed {manifest.get('seed')}, engine {manifest.get('engine')}, commit {manifest.get('git_commit', 'unknown')}"
    )


def run_table(spec: SystemSpec, manifest: dict) -> pd.DataFrame:
    """What was run: system, scenario, months, replications, seed, engine, commit, start time."""
    cal = spec.calendar
    items = [
        ("system", spec.title),
        ("scenario", spec.scenario),
        ("months", f"{cal.labels[0]} to {cal.labels[-1]} ({cal.n_months} months)"),
        ("replications", manifest.get("replications_done", manifest.get("replications"))),
        ("seed", manifest.get("seed")),
        ("engine", manifest.get("engine")),
        ("commit", manifest.get("git_commit", "unknown")),
        ("started", manifest.get("started", "?")),
    ]
    return pd.DataFrame(items, columns=["item", "value"])


def summary_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary with each metric's label and unit (from the metric catalogue) after its name."""
    labels, units = {}, {}
    for metric in summary["metric"].unique():
        known = about(metric)
        labels[metric] = known.label if known is not None else metric
        units[metric] = known.unit if known is not None else ""
    out = summary.copy()
    at = list(out.columns).index("metric") + 1
    out.insert(at, "label", out["metric"].map(labels))
    out.insert(at + 1, "unit", out["metric"].map(units))
    return out
