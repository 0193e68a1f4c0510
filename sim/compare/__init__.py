"""Compare scenarios with common random numbers: paired differences, their confidence intervals, and how
much narrower pairing makes them than independent seeds.

Every random number of a run is addressed by (seed, replication, stream, entity, occurrence), so two
scenarios run on the same seed see the same crises, stays and breakdowns person by person, and replication
i of one scenario is paired with replication i of the other. The difference of a metric is then estimated
from the per-replication differences (a paired t interval), whose spread leaves out most of the noise the
two scenarios share. To show what that buys, each scenario other than the baseline is also run on an
independent seed (``run.seed + 1``: another Philox key, so no draw in common) and compared with a Welch
t interval; ``variance_reduction`` is the ratio of the two half widths (independent / paired; the ratio of
variances is its square).

What is compared (``DEFAULT_METRICS``; any monthly metric can be named):

- a stock (``inpatients``, counted at month end) at the end of the run and at each planned milestone
  inside the run (the start state is the census, the same in every scenario, and is left out);
- a flow (``admissions``, ``out_of_area_placements``, ``delayed_bed_days``, ``cost_total``, pounds) summed
  over each financial year (April to March; a part year says how many months it holds) and over the run;
- an occupancy (a monthly ratio) averaged over the same periods, months weighted equally;
- for each planned milestone, P(inpatients at or under the plan): the per-replication indicator, so its
  paired difference is a difference in probability with a paired interval (``p_at_or_under_plan``; a TCP of
  a system gets ``<tcp>/p_at_or_under_plan``).

From Python::

    from sim.api import compose
    from sim.compare import compare
    cfgs = {"baseline": compose(["tcp=bhr", "run.replications=200"]),
            "full_ctr": compose(["tcp=bhr", "run.replications=200", "tcp.ctr.coverage=1.0"])}
    c = compare(cfgs, baseline="baseline")
    c.table                                  # the tidy table of comparison.csv
    c.write("outputs/compare/my-comparison")  # comparison.csv, comparison.png, manifest.json

The chart is drawn by ``sim.plots.compare``; the intervals are ``sim.results.intervals``. From the
command line (``sim.cli.compare_main``; the first scenario is the baseline, other overrides apply to
every scenario)::

    python -m sim.compare scenario=baseline,full_ctr_coverage tcp=bhr run.replications=200
"""

from __future__ import annotations

import copy
import json
import math
import sys
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig, open_dict

from sim.api import RunResult, compose, run
from sim.config import ConfigError, RunSpec, build
from sim.metrics import about, catalogue
from sim.results.intervals import paired_ci, replications_needed, welch_half_width, width_ratio

#: Compared by default: inpatients (a stock, at the end and at each milestone), then flows summed by
#: financial year and over the run. The first is the headline that the separation warning checks.
DEFAULT_METRICS: tuple[str, ...] = (
    "inpatients",
    "admissions",
    "out_of_area_placements",
    "delayed_bed_days",
    "cost_total",
)
PLAN_METRIC = "p_at_or_under_plan"  # compare's own: the chance of being at or under the planned trajectory
SEED_LIMIT = 2**32
POWER = 0.8  # the chance of separating a difference that the replication estimate aims at
COLUMNS = [
    "metric",
    "period",
    "scenario",
    "baseline",
    "mean_diff",
    "ci_low",
    "ci_high",
    "half_width_paired",
    "half_width_independent",
    "variance_reduction",
    "n",
    "baseline_mean",
    "scenario_mean",
]


#: How the chart draws a difference in a catalogue unit: its unit, and the factor from the table's.
CHART_UNITS: dict[str, tuple[str, float]] = {
    "pounds": ("£ thousand", 1e-3),
    "share": ("percentage points", 100.0),
    "yes/no": ("percentage points", 100.0),
}
#: What a compared value is, by the metric's kind (compare reads stocks at a month end, sums flows over a
#: period, and averages levels over its months).
PERIOD_WORDS = {"stock": " at month end", "flow": " in the period", "level": ", mean of months"}


def refuse_existing(out: Path) -> None:
    """Refuse a directory that already holds a comparison (earlier outputs are never overwritten): the
    command line asks before it runs anything, ``Comparison.write`` again before it writes."""
    if (out / "comparison.csv").exists():
        raise ConfigError("--out", f"{out} already holds a comparison; choose a new directory")


class CannotSeparateWarning(UserWarning):
    """A comparison's paired interval of its headline metric contains zero: more replications are needed."""


# --------------------------------------------------------------------------------------------------
# Per-replication outcomes


def outcomes(result: RunResult, metrics: Sequence[str] = DEFAULT_METRICS) -> pd.DataFrame:
    """One row a replication, one column a (metric, period): the quantities a comparison pairs (see the
    module docstring for what each kind of metric gives)."""
    monthly = result.monthly
    start = result.spec.calendar.start_label
    reported = list(result.spec.calendar.labels)
    missing = [m for m in metrics if m not in monthly.columns]
    if missing:
        known = ", ".join(c for c in monthly.columns if c not in ("replication", "month"))
        raise ConfigError("metrics", f"no metric {', '.join(map(repr, missing))} (known: {known})")
    plan = result.trajectory
    plan = plan[plan["month"] > start]  # the start state is the census: the same in every scenario
    system_milestones = sorted(plan.loc[plan["metric"] == "inpatients", "month"])
    columns: dict[tuple[str, str], pd.Series] = {}
    for metric in metrics:
        wide = monthly.pivot(index="replication", columns="month", values=metric)
        is_stock = wide[start].notna().any() if start in wide.columns else False
        if is_stock:
            for month in sorted({*system_milestones, reported[-1]}):
                columns[(metric, month)] = wide[month]
        else:
            for period, months in result.spec.calendar.plan_periods().items():
                part = wide[months]
                columns[(metric, period)] = (
                    part.mean(axis=1) if metric.startswith("occupancy") else part.sum(axis=1, min_count=1)
                )
    for row in plan.itertuples(index=False):
        values = monthly.loc[monthly["month"] == row.month].set_index("replication")[row.metric]
        name = PLAN_METRIC if row.metric == "inpatients" else row.metric.replace("inpatients", PLAN_METRIC)
        columns[(name, row.month)] = (values <= row.planned).astype(np.float64)
    out = pd.DataFrame(columns)
    out.columns = pd.MultiIndex.from_tuples(out.columns, names=["metric", "period"])
    return out.sort_index()


# --------------------------------------------------------------------------------------------------
# The comparison


@dataclass
class Comparison:
    """What ``compare`` gives back: the tidy table, the per-replication outcomes behind it, and warnings."""

    table: pd.DataFrame  # COLUMNS, one row a (metric, period, scenario)
    baseline: str
    scenarios: list[str]  # every scenario, the baseline first
    outcomes: dict[str, pd.DataFrame]  # scenario -> outcomes() on the common seed
    independent_outcomes: dict[str, pd.DataFrame]  # non-baseline scenario -> outcomes() on the independent seed
    seed: int
    independent_seed: int | None  # None: independent widths estimated from the common-seed runs' variances
    replications: int
    level: float
    headline: str
    system: str
    title: str
    engine: str
    warnings: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0

    def headline_rows(self) -> pd.DataFrame:
        """The headline metric's last period (end of run, or the whole run for a flow), one row a scenario."""
        return headline_rows(self.table, self.headline)

    def write(self, out_dir: str | Path, *, command: Sequence[str] | None = None) -> Path:
        """Write comparison.csv, comparison.png and manifest.json into ``out_dir`` (which must not already
        hold a comparison: earlier outputs are never overwritten)."""
        out = Path(out_dir)
        refuse_existing(out)
        out.mkdir(parents=True, exist_ok=True)
        self.table.to_csv(out / "comparison.csv", index=False, float_format="%.6g")
        forest_chart(self, out / "comparison.png")
        manifest = {
            "system": self.system,
            "baseline": self.baseline,
            "scenarios": self.scenarios,
            "seed": self.seed,
            "independent_seed": self.independent_seed,
            "replications": self.replications,
            "level": self.level,
            "engine": self.engine,
            "headline": self.headline,
            "warnings": self.warnings,
            "wall_seconds": round(self.wall_seconds, 3),
            "command": list(command if command is not None else sys.argv),
            "created": datetime.now().isoformat(timespec="seconds"),
        }
        (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        return out


def independent_seed_of(seed: int) -> int:
    """The seed of the independent-seeds runs: the next one (a different Philox key, no draw shared)."""
    return (int(seed) + 1) % SEED_LIMIT


def _with_seed(cfg: DictConfig, seed: int) -> DictConfig:
    cfg = copy.deepcopy(cfg)
    with open_dict(cfg):
        cfg.run.seed = seed
    return cfg


def _check_pairable(cfgs: Mapping[str, DictConfig], settings: Mapping[str, RunSpec], baseline: str) -> None:
    """Scenarios pair replication by replication only on the same seed, replications, months and posterior
    (run.parameters: replication i of each runs the same draw)."""
    if len(cfgs) < 2:
        raise ConfigError(
            "scenario", f"a comparison needs two or more scenarios, got {len(cfgs)}: {', '.join(cfgs) or 'none'}"
        )
    if baseline not in cfgs:
        raise ConfigError("baseline", f"'{baseline}' is not one of the scenarios compared ({', '.join(cfgs)})")
    replications = settings[baseline].replications
    if replications is None:
        raise ConfigError("run.replications", "auto: a comparison pairs replications, so give every scenario a number")
    if replications < 2:
        raise ConfigError("run.replications", f"{replications}: a comparison needs at least 2 replications")
    ref = cfgs[baseline].run
    for name, cfg in cfgs.items():
        for key in ("seed", "replications", "start", "years", "warmup_years", "parameters"):
            if cfg.run[key] != ref[key]:
                raise ConfigError(
                    f"run.{key}",
                    f"scenario '{name}' has {cfg.run[key]}, baseline '{baseline}' has "
                    f"{ref[key]}: paired scenarios must share it",
                )


def compare(
    cfgs: Mapping[str, DictConfig],
    baseline: str | None = None,
    *,
    metrics: Sequence[str] = DEFAULT_METRICS,
    level: float = 0.95,
    independent: bool = True,
    headline: str | None = None,
    progress: bool | None = False,
    warn: bool = True,
) -> Comparison:
    """Run each scenario of ``cfgs`` (name -> composed config) on the same seed and compare each with
    ``baseline`` (default: the first): per (metric, period) the mean paired difference (scenario - baseline),
    its t interval at ``level``, the interval half width with independent seeds and their ratio.

    ``independent=True`` runs each non-baseline scenario again on ``run.seed + 1`` for the independent
    widths; ``False`` saves those runs and estimates them from the common-seed runs' variances instead
    (Welch's formula, what independent runs would give on average). ``headline`` (default: the first
    metric) is checked at its last period: if its paired interval contains zero, a warning says so and how
    many replications would separate the scenarios; it is kept in ``Comparison.warnings`` and, with
    ``warn``, issued as a ``CannotSeparateWarning``."""
    t0 = time.perf_counter()
    baseline = baseline if baseline is not None else next(iter(cfgs), "")
    built = {name: build(cfg) for name, cfg in cfgs.items()}  # every config checked before any run
    _check_pairable(cfgs, {name: b.run for name, b in built.items()}, baseline)
    if not 0 < level < 1:
        raise ConfigError("level", f"{level} must be between 0 and 1")
    metrics = list(dict.fromkeys(metrics))
    if not metrics:
        raise ConfigError("metrics", "name at least one metric")
    headline = headline or metrics[0]
    if headline not in metrics:
        raise ConfigError("headline", f"'{headline}' is not one of the metrics compared ({', '.join(metrics)})")
    specs = {name: b.system for name, b in built.items()}
    for spec in specs.values():
        _check_metrics(spec, metrics)
    labels = {spec.calendar.labels for spec in specs.values()}
    if len(labels) > 1:
        raise ConfigError("run.start", "the scenarios report different months; paired scenarios must share them")
    names = [baseline, *[n for n in cfgs if n != baseline]]
    seed = built[baseline].run.seed
    seed2 = independent_seed_of(seed) if independent else None
    results = {baseline: run(cfgs[baseline], progress=progress)}
    common = {baseline: outcomes(results[baseline], metrics)}
    for name in names[1:]:
        results[name] = run(cfgs[name], progress=progress)
        common[name] = outcomes(results[name], metrics)
    apart = (
        {name: outcomes(run(_with_seed(cfgs[name], seed2), progress=progress), metrics) for name in names[1:]}
        if seed2 is not None
        else {}
    )
    table = paired_table(common, baseline, independent=apart if independent else None, level=level, order=metrics)
    spec = specs[baseline]
    comparison = Comparison(
        table=table,
        baseline=baseline,
        scenarios=names,
        outcomes=common,
        independent_outcomes=apart,
        seed=seed,
        independent_seed=seed2,
        replications=int(cfgs[baseline].run.replications),
        level=level,
        headline=headline,
        system=spec.name,
        title=spec.title,
        engine=str(cfgs[baseline].run.engine),
    )
    comparison.warnings = separation_warnings(table, common, baseline, headline, level)
    comparison.wall_seconds = time.perf_counter() - t0
    if warn:
        for message in comparison.warnings:
            warnings.warn(message, CannotSeparateWarning, stacklevel=2)
    return comparison


def paired_table(
    common: Mapping[str, pd.DataFrame],
    baseline: str,
    *,
    independent: Mapping[str, pd.DataFrame] | None = None,
    level: float = 0.95,
    order: Sequence[str] = (),
) -> pd.DataFrame:
    """The tidy comparison table (``COLUMNS``) from per-replication outcomes (``outcomes()``: one row a
    replication, one column a (metric, period)) on the common seed, scenario name -> frame, and optionally
    each non-baseline scenario's outcomes on an independent seed. Without those, the independent half width
    is Welch's on the common-seed samples (their variances as if they were independent). Rows follow
    ``order`` (metric names), then the plan milestones, then the scenarios as given."""
    names = [baseline, *[n for n in common if n != baseline]]
    base = common[baseline]
    rows = []
    for name in names[1:]:
        other = common[name]
        for key in base.columns:
            if key not in other.columns:  # a milestone or period one scenario lacks cannot be paired
                continue
            b, s = base[key], other[key].reindex(base.index)  # paired by replication number
            diff = s - b
            mean, low, high, half = paired_ci(diff.to_numpy(), level)
            indep = independent[name][key] if independent is not None and key in independent[name].columns else s
            half_ind = welch_half_width(indep.to_numpy(), b.to_numpy(), level)
            rows.append(
                {
                    "metric": key[0],
                    "period": key[1],
                    "scenario": name,
                    "baseline": baseline,
                    "mean_diff": mean,
                    "ci_low": low,
                    "ci_high": high,
                    "half_width_paired": half,
                    "half_width_independent": half_ind,
                    "variance_reduction": width_ratio(half_ind, half),
                    "n": int(diff.notna().sum()),
                    "baseline_mean": float(b.mean()),
                    "scenario_mean": float(s.mean()),
                }
            )
    table = pd.DataFrame(rows, columns=COLUMNS)
    rank = {m: i for i, m in enumerate([*order, PLAN_METRIC])}
    table["_m"] = table["metric"].map(lambda m: rank.get(m, len(rank)))
    table["_s"] = table["scenario"].map(names.index)  # the scenarios in the order given
    return table.sort_values(["_m", "_s"], kind="stable").drop(columns=["_m", "_s"]).reset_index(drop=True)


def _check_metrics(spec, metrics: Sequence[str]) -> None:
    """Refuse unknown metric names before anything runs (the names of an empty record of ``spec``)."""
    with np.errstate(all="ignore"):
        known = list(catalogue(spec))
    missing = [m for m in metrics if m not in known]
    if missing:
        raise ConfigError(
            "metrics",
            f"no metric {', '.join(map(repr, missing))} in system {spec.name} "
            f"(the README lists them; e.g. {', '.join(DEFAULT_METRICS)})",
        )


def headline_rows(table: pd.DataFrame, headline: str) -> pd.DataFrame:
    """The rows of ``headline`` at its last period (end of run, or the whole run for a flow)."""
    rows = table[table["metric"] == headline]
    return rows[rows["period"] == rows["period"].iloc[-1]] if not rows.empty else rows


def separation_warnings(
    table: pd.DataFrame, common: Mapping[str, pd.DataFrame], baseline: str, headline: str, level: float = 0.95
) -> list[str]:
    """One message per scenario whose headline paired interval contains zero, with the replications that
    would separate the scenarios (``replications_needed``), or saying that they never differ."""
    out = []
    for row in headline_rows(table, headline).itertuples(index=False):
        if not (row.ci_low <= 0.0 <= row.ci_high):
            continue
        what = f"{row.metric} ({row.period})"
        key = (row.metric, row.period)
        diff = (common[row.scenario][key].reindex(common[baseline].index) - common[baseline][key]).to_numpy()
        if row.half_width_paired == 0.0 and row.mean_diff == 0.0:
            out.append(
                f"{row.scenario} and {baseline} give the same {what} in every one of {row.n} paired "
                "replications: no number of replications separates them on it"
            )
            continue
        need = replications_needed(diff, level, POWER)
        more = (
            f"about {need:,} replications would separate a difference of {row.mean_diff:+.3g} with "
            f"{POWER:.0%} probability"
            if need
            else "the mean difference is 0, so no number of replications can be estimated"
        )
        out.append(
            f"bands too wide to separate {row.scenario} from {baseline} on {what}: the paired difference "
            f"{row.mean_diff:+.3g} has a {level:.0%} CI of {row.ci_low:+.3g} to {row.ci_high:+.3g}, which "
            f"contains 0, with {row.n} replications; {more}"
        )
    return out


# --------------------------------------------------------------------------------------------------
# Chart (drawn by sim.plots.compare)


def chart_label(metric: str) -> tuple[str, str, float]:
    """A compared metric's panel title, the unit its difference is drawn in and the factor from the
    table's units to it, from the metric catalogue (``sim.metrics.about``)."""
    if metric.endswith(PLAN_METRIC):
        return f"P({metric[: -len(PLAN_METRIC)]}inpatients at or under the plan)", "percentage points", 100.0
    known = about(metric)
    if known is None:
        return metric.replace("_", " ").capitalize(), "", 1.0
    unit, scale = CHART_UNITS.get(known.unit, (known.unit, 1.0))
    tcp = f"{metric.rsplit('/', 1)[0]}: " if "/" in metric else ""
    return f"{tcp}{known.label[:1].upper()}{known.label[1:]}{PERIOD_WORDS[known.kind]}", unit, scale


def chart_labels(metrics: Sequence[str]) -> dict[str, tuple[str, str, float]]:
    """Each metric's panel title, unit and display scale, as ``sim.plots.compare.forest_chart`` takes them."""
    return {m: chart_label(m) for m in metrics}


def forest_chart(c: Comparison, path: Path | None = None) -> Any:
    """The comparison chart of ``c`` (``sim.plots.compare.forest_chart``), written to ``path`` if given;
    matplotlib loads only when a chart is drawn."""
    from sim.plots.compare import forest_chart as draw

    return draw(c, chart_labels(list(dict.fromkeys(c.table["metric"]))), path)


# --------------------------------------------------------------------------------------------------
# Printed table


def _num(x: float) -> str:
    if not math.isfinite(x):
        return "inf" if x == math.inf else "-"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.2f}" if abs(x) >= 1 else f"{x:.3f}"


def format_table(c: Comparison) -> str:
    """The comparison as a compact text table (differences with their paired CI, the independent half
    width, and the ratio of widths)."""
    t = c.table
    lines = pd.DataFrame(
        {
            "metric": t["metric"],
            "period": t["period"],
            "scenario": t["scenario"],
            "difference": t["mean_diff"].map(_num),
            f"{c.level:.0%} CI (paired)": [f"{_num(lo)} to {_num(hi)}" for lo, hi in zip(t["ci_low"], t["ci_high"])],
            "± independent": t["half_width_independent"].map(_num),
            "± paired": t["half_width_paired"].map(_num),
            "width ratio": t["variance_reduction"].map(lambda x: f"{x:.1f}x" if math.isfinite(x) else _num(x)),
        }
    )
    if len(c.scenarios) == 2:  # one scenario against the baseline: said in the heading
        lines = lines.drop(columns="scenario")
    return lines.to_string(index=False)


def variance_reduction_lines(c: Comparison) -> list[str]:
    """One line per scenario: how many times narrower the paired intervals are than independent seeds'."""
    out = []
    for name in c.scenarios[1:]:
        t = c.table[c.table["scenario"] == name]
        ratios = t["variance_reduction"].replace([np.inf, -np.inf], np.nan).dropna()
        head = c.headline_rows()
        head = head[head["scenario"] == name]
        if ratios.empty:
            out.append(f"{name}: no variance reduction to report (no differing metric)")
            continue
        text = (
            f"{name} vs {c.baseline}: paired CIs are {ratios.median():.1f} times narrower than with independent "
            f"seeds (median of {len(ratios)} rows, range {ratios.min():.1f} to {ratios.max():.1f})"
        )
        if not head.empty and math.isfinite(head["variance_reduction"].iloc[0]):
            text += (
                f"; headline {c.headline} ({head['period'].iloc[0]}): {head['variance_reduction'].iloc[0]:.1f} times"
            )
        out.append(text)
    return out


def compose_scenarios(names: Sequence[str], overrides: Sequence[str]) -> dict[str, DictConfig]:
    """Compose configs/config.yaml once per scenario, with the shared overrides."""
    return {name: compose([*overrides, f"scenario={name}"]) for name in names}
