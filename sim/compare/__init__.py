"""Compare scenarios with common random numbers: paired differences, their confidence intervals, how much
the paired differences spread across replications, the chance the scenario does better, and how much
narrower pairing makes the intervals than independent seeds.

Every random number of a run is addressed by (seed, replication, stream, entity, occurrence), so two
scenarios run on the same seed see the same crises, stays and breakdowns person by person, and replication
i of one scenario is paired with replication i of the other. The difference of a metric is then estimated
from the per-replication differences (a paired t interval), whose spread leaves out most of the noise the
two scenarios share. Beside the interval of the *mean* difference (how sure we are of the average effect)
the table gives how the differences spread (their 5th and 95th percentiles: what one future can look
like) and P(better), the share of paired replications in which the scenario does better than the baseline
(the catalogue says which way is better for each metric: fewer inpatients, fewer out of area, less spent;
P(at or under the plan) higher). To show what pairing buys, each scenario other than the baseline is also
run on an independent seed (``run.seed + 1``: another Philox key, so no draw in common) and compared with a
Welch t interval: ``ci_width_ratio`` is the ratio of the two half widths (independent / paired),
``variance_ratio`` its square (the ratio of the variances of the estimated difference).

A difference smaller than the *smallest difference that matters* (``smallest_difference``: per metric, a
scenario file's ``scenario.smallest_difference`` or the defaults ``SMALLEST_BY_UNIT``: half a person, 1% of
the baseline's pounds or bed-days, five percentage points of a probability) is reported as "smaller than
matters", never as a reason to run more replications.

What is compared (each scenario's ``scenario.headline`` metrics first, then ``DEFAULT_METRICS``; any monthly
metric can be named):

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
command line (a Hydra app, ``sim.compare.__main__``, configs/compare.yaml; the first scenario is the
baseline, other overrides apply to every scenario)::

    python -m sim.compare scenario=baseline,full_ctr_coverage tcp=bhr run.replications=200
"""

from __future__ import annotations

import copy
import json
import math
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig, open_dict

from sim.api import RunResult, compose, run
from sim.config import ConfigError, RunSpec, build
from sim.config.scenario import scenario_headline, smallest_difference
from sim.metrics import about, catalogue
from sim.report.workbook import Sheet, write_workbook
from sim.results.intervals import paired_ci, replications_needed, welch_half_width, width_ratio

#: Compared by default, after the scenarios' headline metrics: inpatients (a stock, at the end and at
#: each milestone), then flows summed by financial year and over the run.
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
SPREAD = (5.0, 95.0)  # the percentiles of the paired differences the table and chart give
COLUMNS = [
    "metric",
    "label",
    "period",
    "scenario",
    "baseline",
    "better",
    "mean_diff",
    "ci_low",
    "ci_high",
    "diff_p05",
    "diff_p95",
    "p_better",
    "p_worse",
    "smallest_difference",
    "verdict",
    "half_width_paired",
    "half_width_independent",
    "ci_width_ratio",
    "variance_ratio",
    "n",
    "baseline_mean",
    "scenario_mean",
]

#: The smallest difference that matters, by the catalogue unit of a metric with none configured: (size,
#: relative), relative sizes a share of the baseline's value. Assumptions, each the least a planner would
#: act on: half a person (or bed, or housing unit) is the rounding of a count of people; a person per
#: million is about half a person in a TCP of half a million adults; 1% of the baseline's spend or bed-days
#: (the issue 14 default for pounds); a percentage point of occupancy; five percentage points of a
#: probability (P(at or under the plan), a yes/no metric).
SMALLEST_BY_UNIT: dict[str, tuple[float, bool]] = {
    "people": (0.5, False),
    "beds": (0.5, False),
    "units": (0.5, False),
    "people per million": (1.0, False),
    "pounds": (0.01, True),
    "bed-days": (0.01, True),
    "person-days": (0.01, True),
    "share": (0.01, False),
    "yes/no": (0.05, False),
}
SMALLER_THAN_MATTERS = "smaller than matters"
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
        raise ConfigError("compare.out", f"{out} already holds a comparison; choose a new directory")


class CannotSeparateWarning(UserWarning):
    """A comparison's paired interval of a headline metric contains zero while its mean difference is one
    that matters (or the scenarios never differ): more replications are needed to tell."""


def direction(metric: str) -> str:
    """Which way ``metric`` is better: "lower", "higher" or "" (the catalogue's ``better``; P(at or under
    the plan) higher)."""
    if metric.endswith(PLAN_METRIC):
        return "higher"
    known = about(metric)
    return known.better if known is not None else ""


def unit_of(metric: str) -> str:
    """A compared metric's catalogue unit (P(at or under the plan) is yes/no); "" if it is no metric's."""
    if metric.endswith(PLAN_METRIC):
        return "yes/no"
    known = about(metric)
    return known.unit if known is not None else ""


def smallest_for(
    metric: str, baseline_mean: float, scenario_mean: float, given: Mapping[str, tuple[float, bool]] | None = None
) -> float:
    """The smallest difference that matters for ``metric`` in its unit: ``given`` (metric -> (size,
    relative), by full name or, for a TCP's ``<tcp>/<name>``, its system-wide name) or ``SMALLEST_BY_UNIT``;
    a relative size is a share of the baseline's mean (of the scenario's when the baseline's is 0). 0 when
    no rule applies (every difference then matters)."""
    given = given or {}
    base = metric.rsplit("/", 1)[-1]
    rule = given.get(metric) or given.get(base) or SMALLEST_BY_UNIT.get(unit_of(metric))
    if rule is None:
        return 0.0
    size, relative = rule
    if not relative:
        return size
    ref = abs(baseline_mean) if math.isfinite(baseline_mean) and baseline_mean != 0 else abs(scenario_mean)
    return size * ref if math.isfinite(ref) else 0.0


def verdict(mean: float, low: float, high: float, smallest: float, better: str, all_zero: bool) -> str:
    """What a row says in words: the same in every replication; smaller than matters (the mean difference
    is under the smallest that matters); better or worse (by the metric's direction; higher or lower when it
    has none) when the interval excludes zero; else not separated."""
    if all_zero:
        return "same in every replication"
    if not math.isfinite(mean):
        return "-"
    if abs(mean) < smallest:
        return SMALLER_THAN_MATTERS
    if not (math.isfinite(low) and math.isfinite(high)) or low <= 0.0 <= high:
        return "not separated"
    if better:
        return "better" if (mean < 0) == (better == "lower") else "worse"
    return "higher" if mean > 0 else "lower"


def shares_better(diff: np.ndarray, better: str) -> tuple[float, float]:
    """P(better), P(worse): the shares of the finite paired differences (scenario - baseline) in which the
    scenario does strictly better or worse; ties are neither. NaN for a metric with no direction."""
    d = diff[np.isfinite(diff)]
    if not better or len(d) == 0:
        return math.nan, math.nan
    lower, higher = float(np.mean(d < 0)), float(np.mean(d > 0))
    return (lower, higher) if better == "lower" else (higher, lower)


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
    headline: str  # the first headline metric
    system: str
    title: str
    engine: str
    warnings: list[str] = field(default_factory=list)  # headline differences that matter but are not separated
    wall_seconds: float = 0.0
    headlines: list[str] = field(default_factory=list)  # every headline metric (the scenarios' or the first)
    notes: list[str] = field(default_factory=list)  # headline differences smaller than matters
    tcp_titles: dict[str, str] = field(default_factory=dict)  # each TCP's name -> title, for labels

    def headline_rows(self) -> pd.DataFrame:
        """Each headline metric's last period (end of run, or the whole run for a flow), one row a
        (metric, scenario)."""
        return headline_rows(self.table, self.headlines or [self.headline])

    def write(self, out_dir: str | Path, *, command: Sequence[str] | None = None) -> Path:
        """Write comparison.csv (and the same table as comparison.xlsx, headed by its units and source),
        comparison.png and manifest.json into ``out_dir`` (which must not already hold a comparison:
        earlier outputs are never overwritten)."""
        out = Path(out_dir)
        refuse_existing(out)
        out.mkdir(parents=True, exist_ok=True)
        self.table.to_csv(out / "comparison.csv", index=False, float_format="%.6g")
        write_workbook(
            out / "comparison.xlsx",
            [
                Sheet(
                    "Comparison",
                    self.table,
                    title=f"{self.system}: each scenario minus {self.baseline}, replication by replication",
                    units="each row in its metric's unit (see label): people, bed-days, pounds; probabilities 0 to 1",
                    source=f"tcp-sim compare, scenarios {', '.join(self.scenarios)}, common random numbers",
                )
            ],
        )
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
            "headline": self.headlines or [self.headline],
            "warnings": self.warnings,
            "notes": self.notes,
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


def headlines_of(cfgs: Mapping[str, DictConfig]) -> tuple[list[str], dict[str, tuple[float, bool]]]:
    """The union of the scenarios' headline metrics (``scenario.headline``, in the order the scenarios are
    given) and their smallest differences that matter (``scenario.smallest_difference``; where two
    scenarios name the same metric, the first given wins)."""
    names: list[str] = []
    smallest: dict[str, tuple[float, bool]] = {}
    for cfg in cfgs.values():
        listed, given = scenario_headline(cfg.scenario)
        names += [n for n in listed if n not in names]
        smallest = {**given, **smallest}
    return names, smallest


def compare(
    cfgs: Mapping[str, DictConfig],
    baseline: str | None = None,
    *,
    metrics: Sequence[str] | None = None,
    level: float = 0.95,
    independent: bool = True,
    headline: str | Sequence[str] | None = None,
    smallest: Mapping[str, Any] | None = None,
    progress: bool | None = False,
    warn: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
) -> Comparison:
    """Run each scenario of ``cfgs`` (name -> composed config) on the same seed and compare each with
    ``baseline`` (default: the first): per (metric, period) the mean paired difference (scenario - baseline)
    and its t interval at ``level``, the 5th-95th percentiles of the paired differences, P(better), the
    verdict against the smallest difference that matters, the interval half width with independent seeds
    and the ratios of widths and of variances.

    ``metrics`` (default: the scenarios' ``scenario.headline`` metrics that every scenario has, then
    ``DEFAULT_METRICS``) are the monthly metrics compared (``p_at_or_under_plan`` always is).
    ``independent=True`` runs each non-baseline scenario again on ``run.seed + 1`` for the independent
    widths; ``False`` saves those runs and estimates them from the common-seed runs' variances instead
    (Welch's formula, what independent runs would give on average). ``headline`` (default: the scenarios'
    headlines, else the first metric) is checked at its last period: an interval containing zero for a
    difference that matters gives a warning with the replications that would separate it (kept in
    ``Comparison.warnings`` and, with ``warn``, issued as a ``CannotSeparateWarning``); a difference smaller
    than matters gives a note instead (``Comparison.notes``). ``smallest`` (metric -> a number in its unit,
    or "N%" of the baseline's value) overrides the scenario files' ``scenario.smallest_difference`` and the
    defaults (``SMALLEST_BY_UNIT``). ``on_progress(done, total)`` is called after each chunk of
    replications, counted over all the comparison's runs (the app's progress bar; what it raises stops the
    comparison)."""
    t0 = time.perf_counter()
    baseline = baseline if baseline is not None else next(iter(cfgs), "")
    built = {name: build(cfg) for name, cfg in cfgs.items()}  # every config checked before any run
    _check_pairable(cfgs, {name: b.run for name, b in built.items()}, baseline)
    if not 0 < level < 1:
        raise ConfigError("level", f"{level} must be between 0 and 1")
    listed, rules = headlines_of({baseline: cfgs[baseline], **cfgs})
    rules = {**rules, **{str(m): smallest_difference(f"smallest.{m}", v) for m, v in (smallest or {}).items()}}
    specs = {name: b.system for name, b in built.items()}
    if metrics is None:  # the scenarios' headlines that every scenario has, then the defaults
        metrics = [*[n for n in listed if all(_known(spec, n) for spec in specs.values())], *DEFAULT_METRICS]
    order = list(dict.fromkeys(metrics))
    if not order:
        raise ConfigError("metrics", "name at least one metric")
    monthly = [m for m in order if not m.endswith(PLAN_METRIC)]  # the plan's are always compared
    if isinstance(headline, str):
        headlines = [headline]
    elif headline is not None:
        headlines = list(headline)
    else:
        headlines = [n for n in listed if n in order] or order[:1]
    outside = [h for h in headlines if h not in order]
    if outside or not headlines:
        raise ConfigError("headline", f"'{', '.join(outside)}' is not one of the metrics compared ({', '.join(order)})")
    for spec in specs.values():
        _check_metrics(spec, monthly)
    labels = {spec.calendar.labels for spec in specs.values()}
    if len(labels) > 1:
        raise ConfigError("run.start", "the scenarios report different months; paired scenarios must share them")
    names = [baseline, *[n for n in cfgs if n != baseline]]
    seed = built[baseline].run.seed
    seed2 = independent_seed_of(seed) if independent else None
    runs = len(names) + (len(names) - 1 if seed2 is not None else 0)

    def run_one(cfg: DictConfig, k: int) -> pd.DataFrame:
        """The outcomes of the comparison's run ``k`` (of ``runs``), its progress told as a part of all theirs."""
        tell = None if on_progress is None else (lambda done, total: on_progress(k * total + done, runs * total))
        return outcomes(run(cfg, progress=progress, on_progress=tell), monthly)

    common = {name: run_one(cfgs[name], k) for k, name in enumerate(names)}
    apart = (
        {name: run_one(_with_seed(cfgs[name], seed2), len(names) + k) for k, name in enumerate(names[1:])}
        if seed2 is not None
        else {}
    )
    table = paired_table(
        common, baseline, independent=apart if independent else None, level=level, order=order, smallest=rules
    )
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
        headline=headlines[0],
        system=spec.name,
        title=spec.title,
        engine=str(cfgs[baseline].run.engine),
        headlines=headlines,
        tcp_titles={t.name: t.title for t in spec.tcps},
    )
    table["label"] = table["metric"].map(lambda m: chart_label(m, comparison.tcp_titles)[0])
    comparison.warnings = separation_warnings(table, common, baseline, headlines, level)
    comparison.notes = smaller_than_matters_notes(table, baseline, headlines, level)
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
    smallest: Mapping[str, tuple[float, bool]] | None = None,
) -> pd.DataFrame:
    """The tidy comparison table (``COLUMNS``) from per-replication outcomes (``outcomes()``: one row a
    replication, one column a (metric, period)) on the common seed, scenario name -> frame, and optionally
    each non-baseline scenario's outcomes on an independent seed. Without those, the independent half width
    is Welch's on the common-seed samples (their variances as if they were independent). ``smallest``
    (metric -> (size, relative)) sets the smallest differences that matter (``smallest_for``). Rows follow
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
            diff = (s - b).to_numpy(dtype=np.float64)
            mean, low, high, half = paired_ci(diff, level)
            indep = independent[name][key] if independent is not None and key in independent[name].columns else s
            half_ind = welch_half_width(indep.to_numpy(), b.to_numpy(), level)
            ratio = width_ratio(half_ind, half)
            finite = diff[np.isfinite(diff)]
            p05, p95 = np.percentile(finite, SPREAD) if len(finite) else (math.nan, math.nan)
            better = direction(key[0])
            p_better, p_worse = shares_better(diff, better)
            b_mean, s_mean = float(b.mean()), float(s.mean())
            least = smallest_for(key[0], b_mean, s_mean, smallest)
            rows.append(
                {
                    "metric": key[0],
                    "label": chart_label(key[0])[0],
                    "period": key[1],
                    "scenario": name,
                    "baseline": baseline,
                    "better": better,
                    "mean_diff": mean,
                    "ci_low": low,
                    "ci_high": high,
                    "diff_p05": float(p05),
                    "diff_p95": float(p95),
                    "p_better": p_better,
                    "p_worse": p_worse,
                    "smallest_difference": least,
                    "verdict": verdict(mean, low, high, least, better, len(finite) > 0 and not finite.any()),
                    "half_width_paired": half,
                    "half_width_independent": half_ind,
                    "ci_width_ratio": ratio,
                    "variance_ratio": ratio**2,
                    "n": len(finite),
                    "baseline_mean": b_mean,
                    "scenario_mean": s_mean,
                }
            )
    table = pd.DataFrame(rows, columns=COLUMNS)
    rank = {m: i for i, m in enumerate(dict.fromkeys([*order, PLAN_METRIC]))}
    table["_m"] = table["metric"].map(lambda m: rank.get(m, len(rank)))
    table["_s"] = table["scenario"].map(names.index)  # the scenarios in the order given
    return table.sort_values(["_m", "_s"], kind="stable").drop(columns=["_m", "_s"]).reset_index(drop=True)


def _known(spec: Any, metric: str) -> bool:
    """Whether ``spec``'s runs have ``metric`` (a monthly metric of its catalogue, or a plan's chance)."""
    if metric.endswith(PLAN_METRIC):
        return True
    with np.errstate(all="ignore"):
        return metric in catalogue(spec)


def _check_metrics(spec: Any, metrics: Sequence[str]) -> None:
    """Refuse unknown metric names before anything runs (the names of an empty record of ``spec``)."""
    missing = [m for m in metrics if not _known(spec, m)]
    if missing:
        raise ConfigError(
            "metrics",
            f"no metric {', '.join(map(repr, missing))} in system {spec.name} "
            f"(the README lists them; e.g. {', '.join(DEFAULT_METRICS)})",
        )


def headline_rows(table: pd.DataFrame, headline: str | Sequence[str]) -> pd.DataFrame:
    """The rows of each headline metric at its last period (end of run, or the whole run for a flow)."""
    names = [headline] if isinstance(headline, str) else list(headline)
    parts = []
    for name in names:
        rows = table[table["metric"] == name]
        if not rows.empty:
            parts.append(rows[rows["period"] == rows["period"].iloc[-1]])
    return pd.concat(parts) if parts else table.iloc[:0]


def _what(row: Any) -> str:
    """A row's metric and period in words, for a sentence."""
    label = str(row.label)
    return f"{label[:1].lower() + label[1:] if label[1:2].islower() else label} ({row.period})"


def _signed(x: float) -> str:
    """A signed difference for a sentence: thousands separated, else three significant figures."""
    return f"{x:+,.0f}" if abs(x) >= 1000 else f"{x:+.3g}"


def separation_warnings(
    table: pd.DataFrame,
    common: Mapping[str, pd.DataFrame],
    baseline: str,
    headline: str | Sequence[str],
    level: float = 0.95,
) -> list[str]:
    """One message per (headline metric, scenario) at the metric's last period whose paired interval
    contains zero though the mean difference is one that matters (at least ``smallest_difference``), with
    the replications that would separate it (``replications_needed``); or saying that the scenarios never
    differ on it. A difference smaller than matters gets no message here (``smaller_than_matters_notes``)."""
    out = []
    for row in headline_rows(table, headline).itertuples(index=False):
        if not (row.ci_low <= 0.0 <= row.ci_high):
            continue
        what = _what(row)
        key = (row.metric, row.period)
        diff = (common[row.scenario][key].reindex(common[baseline].index) - common[baseline][key]).to_numpy()
        if row.half_width_paired == 0.0 and row.mean_diff == 0.0:
            out.append(
                f"{row.scenario} and {baseline} give the same {what} in every one of {row.n} paired "
                "replications: no number of replications separates them on it"
            )
            continue
        if abs(row.mean_diff) < row.smallest_difference:
            continue  # smaller than matters: no replications to suggest
        need = replications_needed(diff, level, POWER)
        more = (
            f"about {need:,} replications would separate a difference of {_signed(row.mean_diff)} with "
            f"{POWER:.0%} probability"
            if need
            else "the mean difference is 0, so no number of replications can be estimated"
        )
        out.append(
            f"bands too wide to separate {row.scenario} from {baseline} on {what}: the paired difference "
            f"{_signed(row.mean_diff)} has a {level:.0%} CI of {_signed(row.ci_low)} to {_signed(row.ci_high)}, which "
            f"contains 0, with {row.n} replications; {more}"
        )
    return out


def smaller_than_matters_notes(
    table: pd.DataFrame, baseline: str, headline: str | Sequence[str], level: float = 0.95
) -> list[str]:
    """One line per (headline metric, scenario) at its last period whose mean difference is smaller than
    the smallest that matters: said so, with whether its interval also stays inside that margin."""
    out = []
    for row in headline_rows(table, headline).itertuples(index=False):
        if row.verdict != SMALLER_THAN_MATTERS:
            continue
        least = row.smallest_difference
        inside = -least < row.ci_low and row.ci_high < least
        out.append(
            f"{row.scenario} against {baseline} on {_what(row)}: the difference {_signed(row.mean_diff)} is smaller "
            f"than matters (±{_signed(least)[1:]}); its {level:.0%} CI {_signed(row.ci_low)} to {_signed(row.ci_high)} "
            + ("lies inside that margin" if inside else "reaches beyond it: a difference that matters is not ruled out")
        )
    return out


# --------------------------------------------------------------------------------------------------
# Chart (drawn by sim.plots.compare)


def chart_label(metric: str, tcps: Mapping[str, str] | None = None) -> tuple[str, str, float]:
    """A compared metric's panel title, the unit its difference is drawn in and the factor from the
    table's units to it, from the metric catalogue (``sim.metrics.about``); a TCP's own metric
    (``<tcp>/<name>``) is headed by the TCP's title from ``tcps`` (name -> title) or its name in words."""
    tcp, _, base = metric.rpartition("/")
    who = f"{(tcps or {}).get(tcp) or tcp.replace('_', ' ').title()}: " if tcp else ""
    if base == PLAN_METRIC:
        return f"{who}P(inpatients at or under the plan)", "percentage points", 100.0
    known = about(metric)
    if known is None:
        return who + base.replace("_", " ").capitalize(), "", 1.0
    unit, scale = CHART_UNITS.get(known.unit, (known.unit, 1.0))
    return f"{who}{known.label[:1].upper()}{known.label[1:]}{PERIOD_WORDS[known.kind]}", unit, scale


def chart_labels(metrics: Sequence[str], tcps: Mapping[str, str] | None = None) -> dict[str, tuple[str, str, float]]:
    """Each metric's panel title, unit and display scale, as ``sim.plots.compare.forest_chart`` takes them."""
    return {m: chart_label(m, tcps) for m in metrics}


def forest_chart(c: Comparison, path: Path | None = None) -> Any:
    """The comparison chart of ``c`` (``sim.plots.compare.forest_chart``), written to ``path`` if given;
    matplotlib loads only when a chart is drawn."""
    from sim.plots.compare import forest_chart as draw

    return draw(c, chart_labels(list(dict.fromkeys(c.table["metric"])), c.tcp_titles), path)


# --------------------------------------------------------------------------------------------------
# Printed table


def _num(x: float) -> str:
    if not math.isfinite(x):
        return "inf" if x == math.inf else "-"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.2f}" if abs(x) >= 1 else f"{x:.3f}"


def _share(x: float) -> str:
    return "-" if not math.isfinite(x) else f"{x:.0%}"


def format_table(c: Comparison) -> str:
    """The comparison as a compact text table (``display_table``)."""
    return display_table(c).to_string(index=False)


def display_table(c: Comparison) -> pd.DataFrame:
    """The comparison as its figures are read (text cells): each difference with its paired CI, the spread
    of the paired differences (5th-95th percentile), P(better), the verdict and the ratio of CI widths;
    the scenario column only when more than one scenario is compared with the baseline."""
    t = c.table
    lines = pd.DataFrame(
        {
            "metric": t["metric"],
            "period": t["period"],
            "scenario": t["scenario"],
            "difference": t["mean_diff"].map(_num),
            f"{c.level:.0%} CI (paired)": [f"{_num(lo)} to {_num(hi)}" for lo, hi in zip(t["ci_low"], t["ci_high"])],
            "5-95% of replications": [f"{_num(lo)} to {_num(hi)}" for lo, hi in zip(t["diff_p05"], t["diff_p95"])],
            "P(better)": t["p_better"].map(_share),
            "verdict": t["verdict"],
            "CI width ratio": t["ci_width_ratio"].map(lambda x: f"{x:.1f}x" if math.isfinite(x) else _num(x)),
        }
    )
    if len(c.scenarios) == 2:  # one scenario against the baseline: said in the heading
        lines = lines.drop(columns="scenario")
    return lines


def variance_reduction_lines(c: Comparison) -> list[str]:
    """One line per scenario: how many times narrower the paired intervals are than independent seeds'
    (the ratio of CI widths; the variances' ratio is its square)."""
    out = []
    for name in c.scenarios[1:]:
        t = c.table[c.table["scenario"] == name]
        ratios = t["ci_width_ratio"].replace([np.inf, -np.inf], np.nan).dropna()
        head = c.headline_rows()
        head = head[(head["scenario"] == name) & (head["metric"] == c.headline)]
        if ratios.empty:
            out.append(f"{name}: no variance reduction to report (no differing metric)")
            continue
        text = (
            f"{name} vs {c.baseline}: paired CIs are {ratios.median():.1f} times narrower than with independent "
            f"seeds, variances {ratios.median() ** 2:.0f} times smaller (median of {len(ratios)} rows, widths "
            f"{ratios.min():.1f} to {ratios.max():.1f} times)"
        )
        if not head.empty and math.isfinite(head["ci_width_ratio"].iloc[0]):
            text += f"; headline {c.headline} ({head['period'].iloc[0]}): {head['ci_width_ratio'].iloc[0]:.1f} times"
        out.append(text)
    return out


def compose_scenarios(names: Sequence[str], overrides: Sequence[str]) -> dict[str, DictConfig]:
    """Compose configs/config.yaml once per scenario, with the shared overrides."""
    return {name: compose([*overrides, f"scenario={name}"]) for name in names}
