"""The data each section of the run report shows, computed from the config, spec, manifest, summary and
trajectory: pure functions returning dicts and table rows, numbers left unformatted.

The wording and the number formats are in ``templates/report.md.j2``; keeping the values apart from the
prose lets the template be read as the report reads, and a test check the values without parsing text.
``report_context`` gathers every section into the one dict the template is rendered with.
"""

from __future__ import annotations

import math
import os
import platform
import re
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from omegaconf import DictConfig

from sim.config import CONFIG_DIR, UNIT_TYPES, SystemSpec
from sim.config.scenario import scenario_changes
from sim.config.spec import DAYS_PER_YEAR
from sim.metrics import about
from sim.observed import read_observed
from sim.report import sources
from sim.results.disclosure import TRAJECTORY_COUNTS, Disclosure, Shown
from sim.results.summary import ChunkGrid
from sim.runner.runner import chunk_files

PROJECT_DIR = CONFIG_DIR.parent
MODEL_SOURCE = PROJECT_DIR / "sim" / "model" / "model.py"
CONFIG_DOC = PROJECT_DIR / "docs" / "config.md"

#: Flows totalled per financial year in the key results (labelled by the metric catalogue).
TOTALS: tuple[str, ...] = (
    "crises",
    "ctrs_pre_admission",
    "admissions_averted",
    "admissions",
    "out_of_area_placements",
    "out_of_area_full_beds",
    "out_of_area_no_local_unit",
    "repatriations",
    "discharges",
    "delayed_bed_days",
    "cost_ccg",
    "cost_specialised",
    "cost_la",
    "cost_total",
)
#: Runs over more financial years than this show a year's mean instead of a column a year.
MAX_YEAR_COLUMNS = 5
#: Stocks shown at the start and at the end of the run (labelled by the metric catalogue).
STOCKS: tuple[str, ...] = (
    "inpatients",
    "inpatients_out_of_area",
    "long_stayers_5y",
    "delayed_discharges",
    "register",
    "crisis_support",
    "placements",
    "beds_in_area",
)
#: How a table shows money: in £ million.
MILLION = 1e-6
#: The pooled budget's month-end bands shown at each March (metric, label).
POOL_BANDS: tuple[tuple[str, str], ...] = (
    ("pool_reserve", "reserve held"),
    ("pool_balance", "balance (reserve less shortfalls it could not meet)"),
)
#: What each engine is, as the implementation section names it.
ENGINES = {
    "numba": "the Numba engine (`sim/engine`, a compiled event loop over arrays)",
    "simpy": "the SimPy reference model (`sim/model`)",
}
#: The recorded figures of an area, data/observed/<area>.csv (sim/observed.py reads them).
OBSERVED_DIR = PROJECT_DIR / "data" / "observed"
#: A calibration's outputs for an area: configs/calibrated/<area>/fit.csv (sim/calibrate/outputs.py).
CALIBRATED_DIR = CONFIG_DIR / "calibrated"
#: The charts a run directory may hold, in the order the report shows them, with their captions; any
#: other PNG of the directory follows under its file name.
CHARTS: dict[str, str] = {
    "fan_inpatients.png": "Inpatients: median, 50% and 90% bands, and the planned trajectory",
    "milestones.png": "The planned milestones: the probability of being at or under each",
    "fan_by_unit.png": "Inpatients by unit type",
    "fan_by_area.png": "Inpatients in and out of area",
    "fan_per_million.png": "Inpatients per million (adults and children)",
    "finance_reserve.png": "The pooled budget: the pool's balance and spend by setting",
}
#: Text of a value longer than this in the assumptions table is cut (the run's config.yaml has it whole).
VALUE_CHARS = 120

Band = dict[str, Shown]  # a float, or under a disclosure rule a rounded count (int) or "*"


def report_context(
    cfg: DictConfig,
    spec: SystemSpec,
    manifest: dict,
    summary: pd.DataFrame,
    trajectory: pd.DataFrame,
    run_dir: Path | None = None,
) -> dict[str, Any]:
    """Everything the report template shows, one dict per section. ``run_dir`` (if given) makes links
    relative to it and shows the run's charts if it wrote them; else links are relative to the project."""
    where = Path(run_dir) if run_dir is not None else PROJECT_DIR
    rule = disclosure_rule(str(cfg.run.get("disclosure") or "none"), spec)
    return {
        "header": header(cfg, spec, manifest, rule),
        "disclosure": {"on": rule.on, "line": rule.line(), "rule": rule},
        "objectives": objectives(cfg, spec, manifest, rule),
        "logic": logic(cfg, spec, where),
        "data": data(cfg, where, manifest, rule),
        "experimentation": experimentation(spec, manifest, rule),
        "implementation": implementation(manifest),
        "code_access": code_access(cfg, manifest, where),
        "results": results(spec, summary, trajectory, run_dir, rule),
        "documents": documents(cfg),
        "validation": validation(cfg, spec, run_dir, summary, rule),
        "assumptions": assumptions(cfg, [Path(d) for d in manifest.get("config_dirs") or []]),
        "charts": charts(run_dir),
    }


def metric_unit(metric: str) -> str | None:
    """A metric's unit from the whole catalogue (the ledger's metrics too), for the disclosure rule."""
    known = about(metric)
    return None if known is None else known.unit


def disclosure_rule(rule: str, spec: SystemSpec) -> Disclosure:
    """The disclosure rule (``run.disclosure``) of a run of ``spec``'s published tables."""
    return Disclosure.of(rule, spec, metric_unit)


def title(spec: SystemSpec, cfg: DictConfig, manifest: dict | None = None) -> str:
    """The report's title: the system and the scenario, and how many values the run changed from the
    scenario's files (the manifest's ``changes``), so a changed run never reads as the scenario."""
    changed = (manifest or {}).get("changes") or []
    n = len(changed)
    return f"{spec.title}: scenario {cfg.scenario.name}" + (f", {n} value{'s' if n > 1 else ''} changed" if n else "")


def header(cfg: DictConfig, spec: SystemSpec, manifest: dict, rule: Disclosure | None = None) -> dict[str, Any]:
    """The title and the run's identity (start time, status, commit); under a disclosure rule the start
    state's notes have their counts of people rounded (the build's note of a census over its beds counts
    the census's inpatients, sim/config/build.py)."""
    notes = [str(n) for n in manifest.get("notes") or []]  # the start state's warnings (sim.config.provenance)
    if rule is not None and rule.on:
        notes = [_OVER_BEDS.sub(lambda m: _rounded_note(m, rule), n) for n in notes]
    return {
        "title": title(spec, cfg, manifest),
        "started": manifest.get("started", "?"),
        "status": manifest.get("status", "?"),
        "commit": manifest.get("git_commit", "unknown"),
        "notes": notes,
    }


#: The build's note of a census holding more inpatients than a pool's beds (sim/config/build.py): its
#: counts of people are the groups "held" and "moved".
_OVER_BEDS = re.compile(r"holds (?P<held>\d+) (?P<what>.+?) inpatients in area, (?P<beds>.+?): (?P<moved>\d+) start")


def _rounded_note(m: re.Match[str], rule: Disclosure) -> str:
    """The note's counts of people under the disclosure rule (its beds as they are)."""
    held, moved = (rule.count(float(m.group(k))) for k in ("held", "moved"))
    return f"holds {held} {m.group('what')} inpatients in area, {m.group('beds')}: {moved} start"


def objectives(
    cfg: DictConfig, spec: SystemSpec, manifest: dict | None = None, rule: Disclosure | None = None
) -> dict[str, Any]:
    """1. Objectives: the scenario's question, the system and its TCPs, the planned trajectory, the
    scenario's changes and every value the run changed from the files it was composed from (the
    manifest's ``changes``: None when they could not be compared). Only a run of the baseline file with
    no value changed is called the baseline."""
    manifest = manifest or {}
    changed = manifest.get("changes")
    overridden = [
        {"key": c["key"], "value": _shown(c["value"]), "shipped": _shown(c["shipped"])} for c in changed or []
    ]
    return {
        "question": " ".join(str(cfg.scenario.question or "").split()),
        "system": {
            "title": spec.title,
            "name": spec.name,
            "adults": spec.population.adults,
            "children": spec.population.children,
        },
        "tcps": [{"title": t.title, "name": t.name} for t in spec.tcps],
        # a plan's figures are counts of people (a baseline is often the census): rounded under a rule
        "plan": [
            {"month": m, "planned": (rule or Disclosure()).value("inpatients", v)} for m, v in spec.trajectory().items()
        ],
        "scenario": cfg.scenario.name,
        "changes": [{"key": k, "value": v} for k, v in scenario_changes(cfg.scenario).items()],
        "overridden": overridden,
        "compared": changed is not None,
        "is_baseline": cfg.scenario.name == "baseline" and changed is not None and not changed,
    }


def logic(cfg: DictConfig, spec: SystemSpec, where: Path) -> dict[str, Any]:
    """2. Logic: the model's event rules, a link to the model, the bed pools (with what a bed costs: its
    price a year and the share of it paid whether or not it is occupied) and the keys the scenario
    changes."""
    pools = []
    for p in spec.pools:
        stepped = len(p.step_beds) > 1
        pools.append(
            {
                "name": p.name,
                "unit": UNIT_TYPES[p.unit],
                "tcps": [spec.tcps[t].name for t in p.tcps],
                "beds_start": p.beds_at(0.0),
                "beds_last": int(p.step_beds[-1]) if stepped else None,
                "last_from": _day_label(spec, float(p.step_days[-1])) if stepped else None,
                "bed_per_year": round(p.bed_per_day * DAYS_PER_YEAR),  # pounds (the config's figure)
                "fixed_share": p.fixed_share,
            }
        )
    return {
        "rules": sources.pathway_rules(),
        "model": _link(MODEL_SOURCE, where) if MODEL_SOURCE.is_file() else None,
        "pools": pools,
        "changed_keys": list(scenario_changes(cfg.scenario)),
    }


def data(cfg: DictConfig, where: Path, manifest: dict | None = None, rule: Disclosure | None = None) -> dict[str, Any]:
    """3. Data: the seed documents cited, each config file's comments that cite a source (a value the run
    changed is shown with the value it ran instead of its file's comment, which is not its source), the
    start census of each TCP, and how many comments mark an assumption. A census's comment lines are shown
    only for a census shipped under configs/ (synthetic: its comments are its method) and only without a
    disclosure rule: a census given elsewhere is a planner's, maybe real, whose comments may name people or
    counts; for it the report gives its file and its rows (rounded under a rule) instead."""
    rule = rule or Disclosure()
    files = []
    every_comment: list[str] = []
    n_assumed = 0
    dirs = [Path(d) for d in (manifest or {}).get("config_dirs") or []]
    changed = {c["key"]: c for c in (manifest or {}).get("changes") or []}
    for path in sources.config_files(cfg, dirs):
        comments = sources.config_comments(path)
        every_comment += [c for _, c in comments]
        n_assumed += sum(1 for _, c in comments if sources.is_assumption(c))
        prefix = sources.run_prefix(cfg, path, dirs)
        cited = []
        for k, c in comments:
            if sources.cites_source(c):
                run_key = f"{prefix}{k}"
                if run_key in changed:
                    value, shipped = _shown(changed[run_key]["value"]), _shown(changed[run_key]["shipped"])
                    c = f"not this run's value: it ran {value} (the file's {shipped} is the one its source gives)"
                cited.append({"key": k, "comment": c})
        files.append({**_link(path, where), "cited": cited})
    known = sources.seed_documents()
    seeds = []
    for number in sorted(sources.cited_seeds(every_comment)):
        name, what = known.get(number, (f"seed {number}", ""))
        seeds.append({"number": number, "file": name, "what": what})
    census: list[dict[str, Any]] = []
    for name, tcp in sources.tcp_configs(cfg):
        census_path = sources.census_file(tcp)
        if census_path is None:
            census.append({"tcp": name, "file": None, "comments": []})
        elif not rule.on and _inside(census_path, CONFIG_DIR):
            census.append(
                {"tcp": name, "file": _link(census_path, where), "comments": sources.census_comments(census_path)}
            )
        else:
            rows = sources.census_rows(census_path)
            census.append(
                {
                    "tcp": name,
                    "file": _link(census_path, where),
                    "comments": [],
                    "rows": rows if rows is None or not rule.on or name in rule.national else rule.count(float(rows)),
                    "withheld": "under run.disclosure" if rule.on else "a census given outside configs/",
                }
            )
    return {
        "seeds": seeds,
        "files": files,
        "census": census,
        "config_doc": _link(CONFIG_DOC, where),
        "n_assumed": n_assumed,
    }


def experimentation(spec: SystemSpec, manifest: dict, rule: Disclosure | None = None) -> dict[str, Any]:
    """4. Experimentation: the start state, the run length, replications, seed, chunks and workers, as the
    spec and the run's manifest record them (the validated settings, not the raw config); the census's
    inpatients under the disclosure rule."""
    cal = spec.calendar
    rule = rule or Disclosure()
    return {
        "has_census": len(spec.census) > 0,
        "n_census": len(spec.census) if rule.kind("inpatients") == "keep" else rule.count(float(len(spec.census))),
        "census_month": cal.start_label,
        "warmup_years": float(manifest["warmup_years"]),
        "n_months": cal.n_months,
        "first": cal.labels[0],
        "last": cal.labels[-1],
        "years": cal.n_months / 12,
        "start_label": cal.start_label,
        "replications": manifest.get("replications"),
        "done": manifest.get("replications_done", manifest.get("replications")),
        "seed": manifest["seed"],
        "chunk_size": manifest["chunk_size"],
        "workers": manifest["workers"],
        "backend": manifest["backend"],
        "parameters": manifest.get("parameters"),  # run.parameters: the posterior whose draws the replications ran
    }


def implementation(manifest: dict) -> dict[str, Any]:
    """5. Implementation: Python and package versions, the engine, the platform and the wall time."""
    engine = manifest.get("engine", "?")
    return {
        "python": manifest.get("python", platform.python_version()),
        "versions": [{"package": k, "version": v} for k, v in manifest.get("versions", {}).items()],
        "engine": ENGINES.get(engine, f"`{engine}`"),
        "platform": manifest.get("platform", platform.platform()),
        "cpus": os.cpu_count(),
        "wall_seconds": manifest.get("wall_seconds", "?"),
    }


def code_access(cfg: DictConfig, manifest: dict, where: Path) -> dict[str, Any]:
    """6. Code access: the commit (``+dirty`` if tracked files had changes) and the command that runs it
    again (the manifest's ``rerun``: with the user's config directories and every override), else one
    rebuilt from the overrides."""
    commit = str(manifest.get("git_commit", "unknown"))
    rerun = manifest.get("rerun") or "python -m sim " + " ".join(overrides(cfg, where))
    return {"commit": commit, "dirty": commit.endswith("+dirty"), "rerun": rerun}


def results(
    spec: SystemSpec,
    summary: pd.DataFrame,
    trajectory: pd.DataFrame,
    run_dir: Path | None,
    rule: Disclosure | None = None,
) -> dict[str, Any]:
    """7. Key results: the inpatients at the end against the plan, the milestones' probabilities, the
    stocks at the start and the end, the flows and spend per plan year, and the pooled budget if any;
    counts under the disclosure rule (probabilities and money as run)."""
    rule = rule or Disclosure()
    cal = spec.calendar
    first, last = cal.start_label, cal.labels[-1]
    per_tcp = [f"{t.name}/inpatients" for t in spec.tcps if len(spec.tcps) > 1]
    at_ends = summary["month"].isin([first, last]) & summary["metric"].isin(["inpatients", *STOCKS, *per_tcp])
    shown = rule.frame(summary[at_ends], parts=summary)  # the rows the tables show (a national summary is long)
    bands = rule.frame(trajectory, columns=TRAJECTORY_COUNTS)
    plan = spec.trajectory()
    end: dict[str, Any] | None = None
    band = _band(shown, "inpatients", last)
    if band is not None:
        end = {
            "month": last,
            **band,
            "planned": None if last not in plan else rule.value("inpatients", plan[last]),
            "p_at_or_under": None,
            "last_milestone": None,
        }
        if last in plan:
            row = trajectory[(trajectory["metric"] == "inpatients") & (trajectory["month"] == last)]
            if len(row):
                end["p_at_or_under"] = float(row["p_at_or_under"].iloc[0])
        elif plan:
            end["last_milestone"] = {"month": max(plan), "planned": rule.value("inpatients", plan[max(plan)])}
    milestones = [
        {
            "metric": t["metric"],
            "month": t["month"],
            "planned": _number(t["planned"]),
            "p_at_or_under": float(t["p_at_or_under"]),
            "p_low": float(t["p_low"]),
            "p_high": float(t["p_high"]),
            "mean": _number(t["mean"]),
            "p05": _number(t["p05"]),
            "p95": _number(t["p95"]),
        }
        for _, t in bands.iterrows()
    ]
    stocks = []
    for metric in [*STOCKS, *per_tcp]:
        a, b = _band(shown, metric, first), _band(shown, metric, last)
        if a is not None or b is not None:
            stocks.append({"label": label_of(metric), "start": a, "end": b})
    return {
        "first": first,
        "last": last,
        "end": end,
        "fan_chart": _has(run_dir, "fan_inpatients.png"),
        "milestones": milestones,
        "stocks": stocks,
        "flows": flows(spec, summary, rule),
        "pooled_budget": pooled_budget(spec, summary, run_dir),
    }


def label_of(metric: str) -> str:
    """A metric's label in the report's tables: the catalogue's, with money in £ million; a TCP's own
    metric named with its TCP."""
    known = about(metric)
    if known is None:
        return metric
    tcp = f"{metric.rsplit('/', 1)[0]}: " if "/" in metric else ""
    return tcp + known.label + (" (£m)" if known.unit == "pounds" else "")


def flows(spec: SystemSpec, summary: pd.DataFrame, rule: Disclosure | None = None) -> dict[str, Any]:
    """The flows and spend of ``TOTALS``: the mean over replications of each financial year's total (or,
    for a run over more than ``MAX_YEAR_COLUMNS`` of them, the total a year) and the whole run's; money in
    £ million (``digits`` 2, else 1). Each total of a count is put through the disclosure rule (from the
    unrounded means: a total of rounded months would add their rounding)."""
    rule = rule or Disclosure()
    labels = spec.calendar.labels
    periods = list(spec.calendar.plan_periods().items())
    years = periods[:-1] or periods  # the financial years (a run inside one: the run itself)
    by_year = len(years) <= MAX_YEAR_COLUMNS
    rows = []
    for metric in TOTALS:
        found = summary[summary["metric"] == metric]
        if found.empty:
            continue
        by_month = dict(zip(found["month"], found["mean"]))
        known = about(metric)
        scale = MILLION if known is not None and known.unit == "pounds" else 1.0
        total = sum(by_month.get(m, 0.0) for m in labels) * scale
        if by_year:
            values = [sum(by_month.get(m, 0.0) for m in months) * scale for _, months in years]
        else:
            values = [total * 12 / len(labels)]
        if scale == 1.0 and rule.on:
            values, total = [rule.value(metric, v) for v in values], rule.value(metric, total)
        rows.append({"label": label_of(metric), "values": values, "total": total, "digits": 2 if scale != 1.0 else 1})
    heads = [name for name, _ in years] if by_year else None
    return {"by_year": by_year, "heads": heads, "years": len(labels) / 12, "rows": rows}


def pooled_budget(spec: SystemSpec, summary: pd.DataFrame, run_dir: Path | None) -> dict[str, Any] | None:
    """The pooled budget's reserve and balance bands (£ million) and the probability of a negative balance
    at each March of the run; None if the system has no pooled budget."""
    if spec.pooled_budget is None:
        return None
    marches = spec.calendar.year_ends()
    rows = []
    for metric, label in POOL_BANDS:
        bands = [_band(summary, metric, m) for m in marches]
        cells = [None if b is None else {k: v * MILLION for k, v in b.items()} for b in bands]
        rows.append({"label": label, "cells": cells})
    negative = [_band(summary, "pool_balance_negative", m) for m in marches]
    return {
        "marches": marches,
        "rows": rows,
        "p_negative": [None if c is None else c["mean"] for c in negative],
        "chart": _has(run_dir, "finance_reserve.png"),
    }


def overrides(cfg: DictConfig, where: Path) -> list[str]:
    """The run's command-line overrides (Hydra's record, if the run came from the command line), else the
    main choices rebuilt from the config."""
    record = where / ".hydra" / "overrides.yaml"
    if record.is_file():
        try:
            saved = yaml.safe_load(record.read_text()) or []
            return [str(o) for o in saved]
        except yaml.YAMLError:
            pass
    main = [f"system={cfg.system.name}"] if cfg.system.tcps else [f"tcp={cfg.tcp.name}"] if cfg.tcp is not None else []
    return main + [
        f"scenario={cfg.scenario.name}",
        f"run.replications={cfg.run.replications}",
        f"run.seed={cfg.run.seed}",
        f"run.engine={cfg.run.engine}",
    ]


def documents(cfg: DictConfig) -> dict[str, Any]:
    """The documents the run's configs cite, named so a reader can find them without the project's files:
    each seed document by its title, publisher and date (``seed_documents.yaml``), and whether a comment
    cites PARAMETERS.md, the project's notes of published figures (each comment names the publication)."""
    comments = [c for path in sources.config_files(cfg) for _, c in sources.config_comments(path)]
    known = sources.seed_document_details()
    seeds = []
    for number in sorted(sources.cited_seeds(comments)):
        found = known.get(number)
        if found is None:
            seeds.append({"number": number, "title": f"seed {number}", "publisher": "not stated", "date": "not stated"})
        else:
            seeds.append({"number": number, **{k: found[k] for k in ("title", "publisher", "date", "what")}})
    return {"seeds": seeds, "parameters_notes": any("PARAMETERS.md" in c for c in comments)}


def assumptions(cfg: DictConfig, config_dirs: list[Path] | None = None) -> dict[str, Any]:
    """9. Assumptions: every value a config file of the run marks "assumption", with the value the run
    used (text, cut at ``VALUE_CHARS``) and the comment giving the reason (``sources.assumed_values``)."""
    rows = [{**a, "value": _value_text(a["value"])} for a in sources.assumed_values(cfg, config_dirs or [])]
    return {"rows": rows, "files": list(dict.fromkeys(r["file"] for r in rows))}


def validation(
    cfg: DictConfig,
    spec: SystemSpec,
    run_dir: Path | None,
    summary: pd.DataFrame | None = None,
    rule: Disclosure | None = None,
) -> dict[str, Any]:
    """8. Verification and validation: this run against the figures recorded for its area inside its
    months (data/observed/<area>.csv, from the run's chunk files), and the calibration's fit if the run
    draws its parameters from a calibration or one exists for its area (configs/calibrated/<area>/fit.csv).
    The analytic checks are the test suite's (the template states them); none is run here. The run's
    simulated figures are put through the disclosure rule (``disclosed_fit``)."""
    observed = observed_fit(spec, run_dir)
    if observed is not None and rule is not None and rule.on and summary is not None:
        observed = disclosed_fit(observed, summary, rule)
    return {
        "observed": observed,
        "calibration": calibration_fit(cfg, spec),
        "uses_posterior": bool(cfg.run.get("parameters")),
    }


def observed_fit(spec: SystemSpec, run_dir: Path | None) -> dict[str, Any] | None:
    """Each recorded figure of the run's areas (data/observed/<tcp>.csv) whose months lie inside the run,
    beside the run's 5th, 50th and 95th percentiles across replications; inside the 90% band when the
    figure's rounding interval meets it (as experiments/bhr_backtest.py decides). None if no figure
    applies or the run directory holds no chunk files (a report written from memory)."""
    if run_dir is None:
        return None
    months = set(spec.calendar.labels)
    figures = []
    files = []
    for t in spec.tcps:
        path = OBSERVED_DIR / f"{t.name}.csv"
        if path.is_file():
            inside = [f for f in read_observed(path) if f.start in months and f.month in months]
            figures += inside
            if inside:
                files.append(path.relative_to(PROJECT_DIR).as_posix())
    if not figures:
        return None
    if not chunk_files(run_dir):
        return None
    names = sorted({n for f in figures for n in (*f.metric, *f.denominator)})
    # only these metrics from the first figure's month to the last, a grid read column by column: no
    # frame of every replication's rows (20,000 replications of 3 years are 740,000 of them)
    grid = ChunkGrid(chunk_files(run_dir))
    labels = list(grid.months)
    span = slice(min(labels.index(f.start) for f in figures), max(labels.index(f.month) for f in figures) + 1)
    cube = grid.cube(names, span)
    series = {n: np.ascontiguousarray(cube[:, :, j]).T for j, n in enumerate(names)}  # as Observation.simulated
    del cube
    where = {m: i for i, m in enumerate(labels[span])}
    rows = []
    for f in figures:
        values = f.of_series(series, where)
        values = values[~pd.isna(values)]
        if not len(values):
            continue
        p05, p50, p95 = (float(q) for q in pd.Series(values).quantile([0.05, 0.5, 0.95]))
        half = f.rounding / 2
        rows.append(
            {
                "figure": f.label,
                "observed": f.value,
                "median": p50,
                "p05": p05,
                "p95": p95,
                "inside": bool(p05 <= f.value + half and f.value - half <= p95),
                "source": sources.portable(f.source),
            }
        )
    return {"files": files, "rows": rows, "n_inside": sum(r["inside"] for r in rows)}


def disclosed_fit(observed: dict[str, Any], summary: pd.DataFrame, rule: Disclosure) -> dict[str, Any]:
    """``observed_fit``'s table with the run's median and band under the disclosure rule: a count figure's
    (all its metrics counts) rounded as counts, a share's suppressed when the run's mean numerator or
    denominator (summed over the figure's months, from the summary) is under 5. The recorded figures are
    published ones and are shown as they are. A figure the rule cannot judge is suppressed."""
    figures = {f.label: f for name in observed["files"] for f in read_observed(PROJECT_DIR / name)}
    means = summary.set_index(["metric", "month"])["mean"]
    rows = []
    for row in observed["rows"]:
        f = figures.get(row["figure"])
        cells = {k: row[k] for k in ("median", "p05", "p95")}
        if f is None:
            cells = dict.fromkeys(cells, "*")
        elif f.denominator:
            months = [m for m in summary["month"].unique() if f.start <= m <= f.month]
            parts = (_summed(means, f.metric, months), _summed(means, f.denominator, months))
            metric = "long_stay_share_5y"  # any share the rule knows: it is judged by its parts
            cells = {k: rule.value(metric, v, parts) for k, v in cells.items()}
        else:
            names = f.metric
            count = all(rule.kind(n) in ("count", "keep") for n in names)
            cells = {k: rule.value(names[0], v) if count else "*" for k, v in cells.items()}
        rows.append({**row, **cells})
    return {**observed, "rows": rows}


def _summed(means: pd.Series, names: tuple[str, ...], months: list[str]) -> float:
    """The sum of the metrics' means over the months (NaN if one is missing: the share is suppressed)."""
    return float(sum(means.get((n, m), math.nan) for n in names for m in months))


def calibration_fit(cfg: DictConfig, spec: SystemSpec) -> dict[str, Any] | None:
    """The calibration's fit table (each target: observed, median, 90% band, inside): beside the posterior
    the run draws from (``run.parameters``), else configs/calibrated/<tcp>/fit.csv of one of its TCPs;
    None if there is none. The calibration's own posterior predictive, not this run."""
    candidates = []
    if cfg.run.get("parameters"):
        posterior = Path(str(cfg.run.parameters))
        candidates.append((posterior if posterior.is_absolute() else CONFIG_DIR / posterior).parent / "fit.csv")
    candidates += [CALIBRATED_DIR / t.name / "fit.csv" for t in spec.tcps]
    path = next((c for c in candidates if c.is_file()), None)
    if path is None:
        return None
    fit = pd.read_csv(path)
    rows = [
        {
            "target": str(r["target"]),
            "role": str(r.get("role", "")),
            "observed": float(r["observed"]),
            "median": float(r["median"]),
            "p05": float(r["p05"]),
            "p95": float(r["p95"]),
            "inside": bool(r["inside_90"]),
            "source": sources.portable(str(r.get("source", ""))),
        }
        for _, r in fit.iterrows()
    ]
    try:
        name = path.resolve().relative_to(PROJECT_DIR).as_posix()
    except ValueError:
        name = path.name
    return {"file": name, "rows": rows, "n_inside": sum(r["inside"] for r in rows)}


def charts(run_dir: Path | None) -> list[dict[str, str]]:
    """The run directory's charts (PNG), the known ones (``CHARTS``) first in their order, each with its
    caption; empty without a run directory. The report shows each; its HTML copy embeds them."""
    if run_dir is None:
        return []
    found = sorted(p.name for p in Path(run_dir).glob("*.png"))
    order = [n for n in CHARTS if n in found] + [n for n in found if n not in CHARTS]
    return [{"file": n, "caption": CHARTS.get(n, Path(n).stem.replace("_", " "))} for n in order]


# ------------------------------------------------------------------------------------------ helpers


def _shown(value: Any) -> str:
    """A config value as the report shows it: null for none, else its plain text."""
    return "null" if value is None else str(value)


def _value_text(value: Any) -> str:
    """A config value as the assumptions table shows it: a number in its shortest form, a list or mapping
    in YAML's one-line form (cut at ``VALUE_CHARS``), "(not set in this run)" for None."""
    if value is None:
        return "(not set in this run)"
    if isinstance(value, bool) or not isinstance(value, (int, float, dict, list)):
        return str(value)
    if isinstance(value, float):
        return f"{value:g}" if math.isfinite(value) else str(value)
    if isinstance(value, int):
        return str(value)
    text = yaml.safe_dump(_without_none(value), default_flow_style=True, width=10**6, sort_keys=False).strip()
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 3] + "..."


def _without_none(value: Any) -> Any:
    """Plain config data without the keys whose value is None (the schema's unset fields)."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


def _band(summary: pd.DataFrame, metric: str, month: str) -> Band | None:
    """A metric's mean, 5th and 95th percentiles at a month's end, or None if the summary lacks it; a
    disclosed summary's rounded counts and ``*`` as they are."""
    rows = summary[(summary["metric"] == metric) & (summary["month"] == month)]
    return None if rows.empty else {k: _number(rows[k].iloc[0]) for k in ("mean", "p05", "p95")}


def _number(value: Any) -> Shown:
    """A table's value for the template: a float, a rounded count (int) or ``*`` as they are."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return int(value)
    return float(value)


def _inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` lies under ``folder`` (both resolved)."""
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _day_label(spec: SystemSpec, day: float) -> str:
    """The month (``YYYY-MM``) of a day of the run; day 0 is the first reported month."""
    start = spec.calendar.start
    d = date.fromordinal(start.toordinal() + int(round(day)))
    return f"{d.year:04d}-{d.month:02d}" if day > 0 else spec.calendar.labels[0]


def _has(run_dir: Path | None, name: str) -> bool:
    """Whether the run directory holds a file (a chart the run wrote)."""
    return run_dir is not None and (Path(run_dir) / name).is_file()


def _link(path: Path, where: Path) -> dict[str, str]:
    """A file as the report links it: shown relative to the project (``name``), linked relative to the
    report's directory (``href``, absolute if on another drive)."""
    try:
        href = Path(os.path.relpath(path, where)).as_posix()
    except ValueError:
        href = path.as_posix()
    try:
        name = path.resolve().relative_to(PROJECT_DIR).as_posix()
    except ValueError:
        name = path.as_posix()
    return {"name": name, "href": href}
