"""A run's report in the STRESS-DES layout (report.md and report.html in the run directory).

STRESS-DES (Monks et al. 2019, "Strengthening the reporting of empirical simulation studies:
Introducing the STRESS guidelines", Journal of Simulation 13(1)) asks a simulation study to report its
objectives, model logic, data, experimentation, implementation and code access, so that a reader can judge
and repeat it. Each run writes that report from what it already holds: the config and its cited sources
(every value's comment in configs/), the validated spec, the manifest (seed, engine, versions, commit),
and the results (the monthly bands and the trajectory table).

``render_report`` builds the Markdown text; ``write_report`` writes it with an HTML copy (a small
converter below: headings, paragraphs, lists, tables, code, links and images; no extra dependency).
"""

from __future__ import annotations

import html
import os
import platform
import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import pandas as pd
import yaml
from omegaconf import DictConfig, OmegaConf

from sim.config import CONFIG_DIR, UNIT_TYPES, SystemSpec, scenario_changes

PROJECT_DIR = CONFIG_DIR.parent
DESIGN = PROJECT_DIR.parent / "shared" / "DESIGN.md"  # the project's shared design (../shared/DESIGN.md)
SEEDS = PROJECT_DIR.parent / "shared" / "seeds"  # the source documents the configs cite
MODEL_SOURCE = PROJECT_DIR / "sim" / "model" / "model.py"
CONFIG_DOC = PROJECT_DIR / "docs" / "config.md"

#: A comment cites a source if it names a seed document or a figure of PARAMETERS.md (``_SEED``), or
#: another dated document, "Name (Mon 2017):" or "Name 2019-20 (...):" (``_DATED``), or a web site.
_SEED = re.compile(r"seed \d{3}|seeds/|PARAMETERS\.md")
_DATED = re.compile(r"\b(?:19|20)\d\d(?:-\d\d)?\)?\s*:|\([^()]*\b(?:19|20)\d\d\)")
_WEB = re.compile(r"\b[\w-]+\.(?:uk|org|com|gov|net)\b")

#: Flows totalled per plan year in the key results, with how to show them.
TOTALS: tuple[tuple[str, str], ...] = (
    ("crises", "crises"),
    ("ctrs_pre_admission", "pre-admission CTRs"),
    ("admissions_averted", "admissions averted"),
    ("admissions", "admissions"),
    ("out_of_area_placements", "out-of-area placements"),
    ("out_of_area_full_beds", "of which for want of a bed"),
    ("repatriations", "repatriations"),
    ("discharges", "discharges"),
    ("delayed_bed_days", "delayed bed-days"),
    ("cost_ccg", "cost, CCG (£m)"),
    ("cost_specialised", "cost, specialised commissioning (£m)"),
    ("cost_la", "cost, local authority (£m)"),
    ("cost_total", "cost, total (£m)"),
)
#: Runs longer than this many years show a year's mean instead of a column a year.
MAX_YEAR_COLUMNS = 5
#: Stocks shown at the start and at the end of the run.
STOCKS: tuple[tuple[str, str], ...] = (
    ("inpatients", "inpatients"),
    ("inpatients_out_of_area", "of which out of area"),
    ("long_stayers_5y", "in hospital 5+ years"),
    ("delayed_discharges", "delayed discharges"),
    ("register", "on the register"),
    ("crisis_support", "in crisis support"),
    ("placements", "in community placements"),
    ("beds_in_area", "in-area beds open"),
)


# ------------------------------------------------------------------------------------- public calls


def write_report(
    run_dir: Path,
    cfg: DictConfig,
    spec: SystemSpec,
    manifest: dict,
    summary: pd.DataFrame,
    trajectory: pd.DataFrame,
) -> Path:
    """Write ``run_dir/report.md`` and its HTML copy ``run_dir/report.html``; return the Markdown path."""
    run_dir = Path(run_dir)
    text = render_report(cfg, spec, manifest, summary, trajectory, run_dir=run_dir)
    md = run_dir / "report.md"
    md.write_text(text)
    (run_dir / "report.html").write_text(markdown_to_html(text, title=_title(spec, cfg)))
    return md


def render_report(
    cfg: DictConfig,
    spec: SystemSpec,
    manifest: dict,
    summary: pd.DataFrame,
    trajectory: pd.DataFrame,
    run_dir: Path | None = None,
) -> str:
    """The report as Markdown: the six STRESS-DES sections and the key results. ``run_dir`` (if given)
    makes links relative to it and shows the fan chart if the run wrote one."""
    where = Path(run_dir) if run_dir is not None else PROJECT_DIR
    parts = [
        f"# {_title(spec, cfg)}",
        f"Simulation report in the STRESS-DES layout (Monks et al. 2019). Run of {manifest.get('started', '?')}, "
        f"status {manifest.get('status', '?')}; tcp-sim at commit `{manifest.get('git_commit', 'unknown')}`.",
        _objectives(cfg, spec),
        _logic(cfg, spec, where),
        _data(cfg, spec, where),
        _experimentation(cfg, spec, manifest),
        _implementation(manifest),
        _code_access(cfg, spec, manifest, where),
        _results(spec, manifest, summary, trajectory, run_dir),
    ]
    return "\n\n".join(p.strip() for p in parts if p) + "\n"


# ----------------------------------------------------------------------------------------- sections


def _title(spec: SystemSpec, cfg: DictConfig) -> str:
    return f"{spec.title}: scenario {cfg.scenario.name}"


def _objectives(cfg: DictConfig, spec: SystemSpec) -> str:
    question = " ".join(str(cfg.scenario.question or "").split()) or "(the scenario states no question)"
    tcps = ", ".join(f"{t.title} (`{t.name}`)" for t in spec.tcps)
    changes = scenario_changes(cfg.scenario)
    change_text = (
        "; ".join(f"`scenario.{k}` = {v}" for k, v in changes.items()) + " (applied to every TCP)"
        if changes
        else "none through `scenario.*` keys (a scenario file may set other keys: see its file)"
    )
    plan = spec.trajectory()
    plan_text = ", ".join(f"{v:g} at the end of {m}" for m, v in plan.items()) or "none configured"
    compare = (
        "This is the baseline the other scenarios are compared with."
        if cfg.scenario.name == "baseline"
        else "Compare with `scenario=baseline` on the same seed (common random numbers)."
    )
    return f"""
## 1. Objectives

**1.1 Purpose.** {question}

System: {spec.title} (`{spec.name}`), TCPs: {tcps}; GP-registered population {spec.population:,}.
Planned inpatients (the trajectory the run is checked against): {plan_text}.

**1.2 Outputs.** Monthly bands across replications (mean and 5th-95th percentiles) of stocks at month
end (inpatients by unit, area and commissioner, delayed discharges, register, placements), flows within
the month (crises, CTRs, admissions, admissions averted, out-of-area placements, discharges, breakdowns)
and spend by payer; for each planned milestone the probability of being at or under it.

**1.3 Experimentation aims.** Scenario `{cfg.scenario.name}`; changes: {change_text}. {compare}
"""


def _logic(cfg: DictConfig, spec: SystemSpec, where: Path) -> str:
    rules = pathway_rules()
    rule_text = "\n".join(f"{i}. {r}" for i, r in enumerate(rules, start=1)) or "(see the model's docstring)"
    links = [f"[{p.name}]({_rel(p, where)})" for p in (DESIGN, MODEL_SOURCE) if p.is_file()]
    pools = [
        "| pool | unit type | TCPs | beds at the start | beds at the last step |",
        "|---|---|---|---|---|",
    ]
    for p in spec.pools:
        last = (
            f"{int(p.step_beds[-1])} from {_day_label(spec, float(p.step_days[-1]))}" if len(p.step_beds) > 1 else "-"
        )
        pools.append(
            f"| {p.name} | {UNIT_TYPES[p.unit]} | {', '.join(spec.tcps[t].name for t in p.tcps)} | "
            f"{p.beds_at(0.0)} | {last} |"
        )
    changes = scenario_changes(cfg.scenario)
    scenario_logic = (
        f"The scenario changes parameters only ({', '.join(f'`{k}`' for k in changes)}), not the rules."
        if changes
        else "The scenario changes no rule; any change is in the parameters of its file."
    )
    return f"""
## 2. Logic

**2.1 Overview.** People move between the dynamic support register (rated red, amber, green), crisis
support, hospital (a bed of a unit type, in or out of area; delayed once clinically ready), community
placements and leaving. Time is continuous (days); results are reported by calendar month. The
pathway is described in {" and ".join(links) or "DESIGN.md section 2"} (section 2 of DESIGN.md).

**2.2 Base model logic.** The event rules, named as in DESIGN.md (each one method of the SimPy model):

{rule_text}

Simultaneous events are ordered by rule (month-end record, scheduled changes, departures, progress,
crises, joins), then by entity number.

**2.3 Scenario logic.** {scenario_logic}

**2.4 Algorithms.** Durations are drawn by inverse CDF from their configured distributions (finite
mixtures of exponential, lognormal, Weibull, uniform, fixed or empirical components); people in the start
census get their remaining stay conditional on the stay so far. Crisis and arrival hazards are Poisson
or, on the register, a continuous-time Markov chain by RAG rating.

**2.5 Components.** Entities: people (census inpatients, register members, people not on a register).
Resources: in-area bed pools (below; a bed the schedule closes goes only once empty), crisis-support
places and housing units of each TCP. Queues: ready inpatients waiting for housing (policy
`fifo` or `longest_stay`), out-of-area inpatients waiting for an in-area bed (repatriation).

{chr(10).join(pools)}
"""


def _data(cfg: DictConfig, spec: SystemSpec, where: Path) -> str:
    files = config_files(cfg)
    out = ["## 3. Data", ""]
    out.append(
        "**3.1 Data sources.** Each value in the config files carries a comment naming its source (a seed "
        'document or a published figure, PARAMETERS.md) or saying "assumption" and why. The values run are '
        "in the run's `config.yaml`; the comments below are those of the files, for the values that cite a "
        "source. Seed documents:"
    )
    out.append("")
    cited_seeds: set[str] = set()
    tables: list[str] = []
    n_assumed = 0
    for path in files:
        comments = config_comments(path)
        cited = [(k, c) for k, c in comments if cites_source(c)]
        n_assumed += sum(1 for _, c in comments if "assumption" in c.lower())
        for _, c in comments:
            cited_seeds.update(re.findall(r"seed (\d{3})", c))
            cited_seeds.update(re.findall(r"seeds/(\d{3})_", c))
        link = f"[{_display(path)}]({_rel(path, where)})"
        if cited:
            n = len(cited)
            tables += [f"**{link}**: {n} comment{'s cite' if n > 1 else ' cites'} a source.", ""]
            tables += ["| key | source (the value's comment) |", "|---|---|"]
            tables += [f"| `{k}` | {_cell(c)} |" for k, c in cited]
        else:
            tables.append(f"**{link}**: no comment cites a source.")
        tables.append("")
    seeds = seed_documents()
    for number in sorted(cited_seeds):
        name, what = seeds.get(number, (f"seed {number}", ""))
        out.append(f"- seed {number}: `{name}`{': ' + what if what else ''}")
    if not cited_seeds:
        out.append("- (no seed document is cited)")
    out.append("")
    out += tables
    census = []
    for name, t in _tcp_configs(cfg):
        if t.get("census"):
            path = Path(str(t["census"]))
            path = path if path.is_absolute() else CONFIG_DIR / path
            head = " ".join(census_comments(path)) or "(no comment lines)"
            census.append(f"- `{name}`: [{_display(path)}]({_rel(path, where)}). {head}")
        else:
            census.append(f"- `{name}`: no census (an empty start)")
    out.append("**3.2 Pre-processing.** The start census (one row per inpatient; its comment lines give its sources):")
    out.append("")
    out += census
    out.append("")
    out.append(
        f"**3.3 Input parameters.** Every key, its unit and default: [config.md]({_rel(CONFIG_DOC, where)}); "
        "the values of this run: `config.yaml` in the run directory."
    )
    out.append("")
    out.append(
        f"**3.4 Assumptions.** {n_assumed} comments in the files above mark a value as an assumption and give "
        "the reason (see the files). Calibrated values are explained in docs/calibration.md."
    )
    return "\n".join(out)


def _experimentation(cfg: DictConfig, spec: SystemSpec, manifest: dict) -> str:
    cal = spec.calendar
    r = cfg.run
    n_census = len(spec.census)
    if n_census:
        start = (
            f"from the census of {cal.start_label} ({n_census} inpatients at the start of {cal.labels[0]}) "
            "and the register at its configured size; no warm-up"
        )
    else:
        warmup = float(r.warmup_years)
        start = f"from empty, with a warm-up of {warmup:g} years before {cal.labels[0]}, left out of the results"
    done = manifest.get("replications_done", manifest.get("replications"))
    return f"""
## 4. Experimentation

**4.1 Initialisation.** The run starts {start}.

**4.2 Run length.** {cal.n_months} months, {cal.labels[0]} to {cal.labels[-1]} ({float(r.years):g} years);
the row {cal.start_label} is the start state.

**4.3 Estimation approach.** {manifest.get("replications")} replications asked, {done} done; seed
{manifest.get("seed", r.seed)}. Bands are quantiles across replications (5th, 25th, 50th, 75th, 95th) and
their mean; a probability of meeting a milestone is the share of replications at or under it.
Common random numbers: every random draw is addressed by (seed, replication, stream, entity,
occurrence) of a counter-based generator, so scenarios run on the same seed share random numbers person
by person and differences between them are measured with less noise. Replications run in chunks of
{int(r.chunk_size)} (each written as it finishes), on {manifest.get("workers", r.workers)} worker(s) with
the `{manifest.get("backend", r.backend)}` backend; the results do not depend on the chunking or the workers.
"""


def _implementation(manifest: dict) -> str:
    versions = manifest.get("versions", {})
    rows = ["| package | version |", "|---|---|"] + [f"| {k} | {v} |" for k, v in versions.items()]
    engine = manifest.get("engine", "?")
    what = {
        "numba": "the Numba engine (`sim/engine`, a compiled event loop over arrays)",
        "simpy": "the SimPy reference model (`sim/model`)",
    }.get(engine, f"`{engine}`")
    return f"""
## 5. Implementation

**5.1 Software.** Python {manifest.get("python", platform.python_version())}; packages:

{chr(10).join(rows)}

**5.2 Random sampling.** Philox4x32-10 counter-based random numbers (checked against Random123's
known-answer vectors), addressed by (seed, replication, stream, entity, occurrence); inverse-CDF samplers.

**5.3 Model execution.** Engine: {what}. Both engines run the same rules and give the same monthly record
on the same config and seed (tested in tests/equivalence). Continuous-time discrete-event simulation with
events ordered by a documented priority.

**5.4 System specification.** {manifest.get("platform", platform.platform())}, {os.cpu_count()} CPU(s);
wall time {manifest.get("wall_seconds", "?")} s.
"""


def _code_access(cfg: DictConfig, spec: SystemSpec, manifest: dict, where: Path) -> str:
    overrides = _overrides(cfg, where)
    return f"""
## 6. Code access

The model is tcp-sim (this project: `sim/` the package, `configs/` the configs, `tests/` its tests), at
git commit `{manifest.get("git_commit", "unknown")}` (`+dirty`: the working tree had uncommitted changes).
The run's resolved config is `config.yaml` and its manifest `manifest.json`, beside this report. To run it
again:

```
python -m sim {" ".join(overrides)}
```
"""


def _results(
    spec: SystemSpec, manifest: dict, summary: pd.DataFrame, trajectory: pd.DataFrame, run_dir: Path | None
) -> str:
    cal = spec.calendar
    first, last = cal.start_label, cal.labels[-1]
    out = ["## 7. Key results", ""]
    plan = spec.trajectory()
    end = _band(summary, "inpatients", last)
    if end is not None:
        line = (
            f"Inpatients at the end of {last}: mean {end['mean']:.1f} "
            f"(90% of replications {end['p05']:.0f} to {end['p95']:.0f})"
        )
        if last in plan:
            row = trajectory[(trajectory["metric"] == "inpatients") & (trajectory["month"] == last)]
            p = f", P(at or under) {_pct(float(row['p_at_or_under'].iloc[0]))}" if len(row) else ""
            line += f", against a plan of {plan[last]:g}{p}."
        else:
            line += "." + (f" Last planned milestone: {plan[max(plan)]:g} at {max(plan)}." if plan else "")
        out += [line, ""]
    if run_dir is not None and (Path(run_dir) / "fan_inpatients.png").is_file():
        out += ["![Inpatients: median, 50% and 90% bands, and the planned trajectory](fan_inpatients.png)", ""]
    out += ["**Planned milestones.** The probability of being at or under each (with a 95% Monte Carlo interval):", ""]
    out += [
        "| metric | month | planned | P(at or under) | 95% interval | mean | 5th-95th percentile |",
        "|---|---|---|---|---|---|---|",
    ]
    for _, t in trajectory.iterrows():
        p = float(t["p_at_or_under"])
        out.append(
            f"| {t['metric']} | {t['month']} | {t['planned']:g} | {_pct(p)} | "
            f"{_pct(t['p_low'])} to {_pct(t['p_high'])} | "
            f"{t['mean']:.1f} | {t['p05']:.1f} to {t['p95']:.1f} |"
        )
    if trajectory.empty:
        out.append("| (no planned milestone inside the run) | | | | | | |")
    out += ["", f"**Stocks** at the start ({first}) and the end ({last}): mean (5th to 95th percentile).", ""]
    out += ["| | start | end |", "|---|---|---|"]
    metrics = list(STOCKS) + [
        (f"{t.name}/inpatients", f"inpatients, {t.name}") for t in spec.tcps if len(spec.tcps) > 1
    ]
    for metric, label in metrics:
        a, b = _band(summary, metric, first), _band(summary, metric, last)
        if a is None and b is None:
            continue
        out.append(f"| {label} | {_fmt_band(a)} | {_fmt_band(b)} |")
    periods = _periods(cal.labels)
    by_year = len(periods) <= MAX_YEAR_COLUMNS  # a long run: a year's mean instead of a column a year
    out += [
        "",
        "**Flows and spend**: the mean over replications of "
        + ("each plan year's total and the whole run's." if by_year else "the total a year and the whole run's."),
        "",
    ]
    heads = [p[0] for p in periods] if by_year else [f"a year (mean of {len(cal.labels) / 12:g})"]
    out.append("| | " + " | ".join(heads) + " | whole run |")
    out.append("|---" * (len(heads) + 2) + "|")
    for metric, label in TOTALS:
        rows = summary[summary["metric"] == metric]
        if rows.empty:
            continue
        by_month = dict(zip(rows["month"], rows["mean"]))
        scale = 1e-6 if metric.startswith("cost_") else 1.0
        fmt = "{:.2f}" if scale != 1.0 else "{:.1f}"
        total = sum(by_month.get(m, 0.0) for m in cal.labels) * scale
        if by_year:
            values = [sum(by_month.get(m, 0.0) for m in months) * scale for _, months in periods]
        else:
            values = [total * 12 / len(cal.labels)]
        out.append(f"| {label} | " + " | ".join(fmt.format(v) for v in values) + f" | {fmt.format(total)} |")
    if spec.pooled_budget is not None:
        out += [
            "",
            "**Pooled budget** (`system.pooled_budget`; the ledger of `sim/finance/ledger.py`, details in "
            "`finance_years.csv`), £ million at month end: mean (5th to 95th percentile).",
            "",
        ]
        out += [
            "| | " + " | ".join(m for m in _marches(cal.labels)) + " |",
            "|---" * (len(_marches(cal.labels)) + 1) + "|",
        ]
        for metric, label in (
            ("pool_reserve", "reserve held"),
            ("pool_balance", "balance (reserve less shortfalls it could not meet)"),
        ):
            cells = [_band(summary, metric, m) for m in _marches(cal.labels)]
            out.append(
                f"| {label} | "
                + " | ".join(
                    f"{c['mean'] / 1e6:.2f} ({c['p05'] / 1e6:.2f} to {c['p95'] / 1e6:.2f})" if c else "-" for c in cells
                )
                + " |"
            )
        cells = [_band(summary, "pool_balance_negative", m) for m in _marches(cal.labels)]
        out.append("| P(balance negative) | " + " | ".join(_pct(c["mean"]) if c else "-" for c in cells) + " |")
        if run_dir is not None and (Path(run_dir) / "finance_reserve.png").is_file():
            out += ["", "![The pool's balance and spend by setting](finance_reserve.png)"]
    return "\n".join(out)


def _marches(labels: Iterable[str]) -> list[str]:
    """The financial year ends (March) inside the run."""
    return [m for m in labels if m.endswith("-03")]


# ------------------------------------------------------------------------------------- sources


def pathway_rules() -> list[str]:
    """The numbered event rules of the SimPy model's docstring (each named as in DESIGN.md), one line each."""
    import sim.model.model as model  # the readable reference model documents the rules it implements

    doc = model.__doc__ or ""
    items = re.findall(r"^(\d+)\.\s+(.*?)(?=^\d+\.\s|\n\s*\n|\Z)", doc, flags=re.M | re.S)
    return [" ".join(text.split()).replace("``", "`") for _, text in items]


def config_files(cfg: DictConfig) -> list[Path]:
    """The config files of this run whose comments cite sources: each TCP's file, the system's file and
    the scenario's file (those that exist)."""
    files = [tcp_file(name) for name, _ in _tcp_configs(cfg)]
    files.append(CONFIG_DIR / "system" / f"{cfg.system.name}.yaml")
    files.append(CONFIG_DIR / "scenario" / f"{cfg.scenario.name}.yaml")
    seen: list[Path] = []
    for f in files:
        if f is not None and f.is_file() and f not in seen:
            seen.append(f)
    return seen


def tcp_file(name: str) -> Path | None:
    """configs/tcp/<name>.yaml, or the TCP file whose ``name:`` is ``name``; None if there is none."""
    path = CONFIG_DIR / "tcp" / f"{name}.yaml"
    if path.is_file():
        return path
    for p in sorted((CONFIG_DIR / "tcp").glob("*.yaml")):
        if re.search(rf"^name:\s*['\"]?{re.escape(name)}['\"]?\s*(#.*)?$", p.read_text(), flags=re.M):
            return p
    return None


def cites_source(comment: str) -> bool:
    """Whether a value's comment names a source (see ``_SEED``), not only an assumption."""
    return any(p.search(comment) for p in (_SEED, _DATED, _WEB))


def config_comments(path: Path) -> list[tuple[str, str]]:
    """(key, comment) for each commented key of a YAML config file, in file order: a key's inline comment
    and the comment lines just above it, joined; list items are keyed ``key[i]``. The comment block at the
    top of the file is keyed ``(file)``; Hydra's ``@package`` line is left out."""
    out: list[tuple[str, str]] = []
    stack: list[tuple[int, str, bool]] = []  # (indent, segment, is a list item)
    counts: dict[str, int] = {}
    pending: list[str] = []
    seen_key = False
    for raw in path.read_text().splitlines():
        stripped = raw.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            text = stripped.lstrip("#").strip()
            if not text.startswith("@package"):
                pending.append(text)
            continue
        if not seen_key and pending:
            out.append(("(file)", " ".join(pending)))
            pending = []
        seen_key = True
        indent = len(raw) - len(raw.lstrip())
        body, inline = _split_comment(stripped)
        item = re.match(r"^-\s*(.*)$", body)
        if item:
            while stack and (stack[-1][0] > indent or (stack[-1][0] == indent and stack[-1][2])):
                stack.pop()
            parent = _path(stack)
            counts[parent] = counts.get(parent, -1) + 1
            stack.append((indent, f"[{counts[parent]}]", True))
            body = item.group(1)
            key = re.match(r"^([A-Za-z_][\w]*)\s*:(?!\S)", body)
            if key:  # a mapping item: "- name: value"
                stack.append((indent + 2, key.group(1), False))
        else:
            key = re.match(r"^([A-Za-z_][\w]*)\s*:(?!\S)", body)
            if not key:  # a continuation of a value: keep its comment with the pending ones
                if inline:
                    pending.append(inline)
                continue
            while stack and stack[-1][0] >= indent:
                stack.pop()
            stack.append((indent, key.group(1), False))
        comment = " ".join(pending + ([inline] if inline else []))
        pending = []
        if comment:
            out.append((_path(stack), comment))
    return out


def census_comments(path: Path) -> list[str]:
    """The '#' lines at the top of a census CSV (its sources), without the column notes."""
    lines = []
    if not path.is_file():
        return [f"(file {path} not found)"]
    for line in path.read_text().splitlines():
        if not line.lstrip().startswith("#"):
            break
        text = line.lstrip().lstrip("#").strip()
        if text.startswith("columns:") or (lines and lines[-1].startswith("columns:")):
            lines.append("columns:")  # marker: drop the column notes and their continuation
            continue
        lines.append(text)
    return [t for t in lines if t != "columns:"]


def seed_documents() -> dict[str, tuple[str, str]]:
    """Seed number -> (file name, what it is), from the seeds' README table if it is there."""
    readme = SEEDS / "README.md"
    out: dict[str, tuple[str, str]] = {}
    if readme.is_file():
        for line in readme.read_text().splitlines():
            m = re.match(r"^\|\s*((\d{3})_\w+\.txt)\s*\|\s*([^|]*)\|", line)
            if m:
                out[m.group(2)] = (m.group(1), m.group(3).strip())
    return out


# ------------------------------------------------------------------------------------------ helpers


def _tcp_configs(cfg: DictConfig) -> list[tuple[str, dict]]:
    """(name, plain config) of each TCP of the run."""
    tcps = OmegaConf.to_container(cfg.system.tcps, resolve=True) if cfg.system.tcps else {}
    if tcps:
        return [(str(t.get("name", k)), t) for k, t in tcps.items()]
    if cfg.tcp is None:
        return []
    t = OmegaConf.to_container(cfg.tcp, resolve=True)
    return [(str(t.get("name")), t)]


def _overrides(cfg: DictConfig, where: Path) -> list[str]:
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


def _path(stack: list[tuple[int, str, bool]]) -> str:
    text = ""
    for _, seg, _ in stack:
        text += seg if seg.startswith("[") or not text else f".{seg}"
    return text


def _split_comment(text: str) -> tuple[str, str]:
    """A YAML line's value and its inline comment (a '#' after whitespace, outside quotes)."""
    quote = None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1].isspace()):
            return text[:i].rstrip(), text[i + 1 :].strip()
    return text, ""


def _band(summary: pd.DataFrame, metric: str, month: str) -> dict[str, float] | None:
    rows = summary[(summary["metric"] == metric) & (summary["month"] == month)]
    return None if rows.empty else {k: float(rows[k].iloc[0]) for k in ("mean", "p05", "p95")}


def _fmt_band(b: dict[str, float] | None) -> str:
    return "-" if b is None else f"{b['mean']:.1f} ({b['p05']:.0f} to {b['p95']:.0f})"


def _pct(p: float) -> str:
    """A probability as a percentage, one decimal (the form the tests look for)."""
    return f"{100 * p:.1f}%"


def _periods(labels: Iterable[str]) -> list[tuple[str, list[str]]]:
    """Reported months in 12-month periods from the first (plan years when the run starts in April)."""
    labels = list(labels)
    out = []
    for i in range(0, len(labels), 12):
        months = labels[i : i + 12]
        out.append((f"{months[0]} to {months[-1]}", months))
    return out


def _day_label(spec: SystemSpec, day: float) -> str:
    start = spec.calendar.start
    d = date.fromordinal(start.toordinal() + int(round(day)))
    return f"{d.year:04d}-{d.month:02d}" if day > 0 else spec.calendar.labels[0]


def _rel(path: Path, where: Path) -> str:
    """A link to ``path`` relative to the report's directory (absolute if on another drive)."""
    try:
        return Path(os.path.relpath(path, where)).as_posix()
    except ValueError:
        return path.as_posix()


def _display(path: Path) -> str:
    """A path shown relative to the project if it is inside it."""
    try:
        return path.resolve().relative_to(PROJECT_DIR).as_posix()
    except ValueError:
        return path.as_posix()


def _cell(text: str) -> str:
    """Text for a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


# --------------------------------------------------------------------------------- Markdown to HTML


def markdown_to_html(text: str, title: str = "report") -> str:
    """A standalone HTML page from the Markdown this module writes: headings, paragraphs, bullet and
    numbered lists, pipe tables, fenced code, and inline code, bold, links and images."""
    lines = text.splitlines()
    body: list[str] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            body.append(f"<p>{_inline(' '.join(para))}</p>")
            para.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            flush()
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            body.append("<pre><code>" + html.escape("\n".join(lines[i + 1 : j])) + "</code></pre>")
            i = j + 1
            continue
        heading = re.match(r"^(#{1,6})\s+(.*)$", line)
        if heading:
            flush()
            n = len(heading.group(1))
            body.append(f"<h{n}>{_inline(heading.group(2))}</h{n}>")
        elif line.startswith("|"):
            flush()
            j = i
            while j < len(lines) and lines[j].startswith("|"):
                j += 1
            body.append(_table(lines[i:j]))
            i = j
            continue
        elif re.match(r"^(\s*[-*]|\d+\.)\s+", line):
            flush()
            ordered = bool(re.match(r"^\d+\.", line))
            items: list[str] = []
            while i < len(lines) and lines[i].strip():
                m = re.match(r"^(\s*[-*]|\d+\.)\s+(.*)$", lines[i])
                if m:
                    items.append(m.group(2))
                elif items:
                    items[-1] += " " + lines[i].strip()
                i += 1
            tag = "ol" if ordered else "ul"
            body.append(f"<{tag}>" + "".join(f"<li>{_inline(t)}</li>" for t in items) + f"</{tag}>")
            continue
        elif not line.strip():
            flush()
        else:
            para.append(line.strip())
        i += 1
    flush()
    style = (
        "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;line-height:1.45}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:.2em .5em;"
        "vertical-align:top}th{background:#eee}code{background:#f4f4f4}pre{background:#f4f4f4;padding:.5em}"
        "img{max-width:100%}"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{style}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _table(rows: list[str]) -> str:
    def cells(row: str) -> list[str]:
        parts = re.split(r"(?<!\\)\|", row.strip())
        return [c.strip().replace("\\|", "|") for c in parts[1:-1]]

    head = cells(rows[0])
    body = [cells(r) for r in rows[1:] if not re.match(r"^\|[\s\-:|]+\|$", r.strip())]
    out = ["<table>", "<tr>" + "".join(f"<th>{_inline(c)}</th>" for c in head) + "</tr>"]
    out += ["<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in body]
    out.append("</table>")
    return "\n".join(out)


def _inline(text: str) -> str:
    """Escape HTML, then code spans, images, links and bold."""
    codes: list[str] = []

    def keep(m: re.Match) -> str:
        codes.append(f"<code>{html.escape(m.group(1))}</code>")
        return f"\x00{len(codes) - 1}\x00"

    text = re.sub(r"`([^`]+)`", keep, text)
    text = html.escape(text, quote=False)
    text = re.sub(
        r"!\[([^\]]*)\]\(([^)\s]+)\)", lambda m: f'<img src="{html.escape(m.group(2))}" alt="{m.group(1)}">', text
    )
    text = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", lambda m: f'<a href="{html.escape(m.group(2))}">{m.group(1)}</a>', text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"\x00(\d+)\x00", lambda m: codes[int(m.group(1))], text)
