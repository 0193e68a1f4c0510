"""The Forecast page's work, without Streamlit: the calibrations there are (``calibrated/<name>.yaml`` of
configs/ or of an area's config directory, each read for the area it applies to, its posterior and the
figures it was fitted to), a calibrated area's forecast run in memory, the published figures of the area
(data/observed/<tcp>.csv) as points to draw over the fan and set beside the run's bands, and the tables.

Which area a calibration applies to is the system its posterior was fitted on: its manifest's ``system``
(``manifest.json`` beside the posterior, as ``sim.calibrate`` writes it), else the posterior file's own
metadata. Which figures were fitted and which held out is the manifest's ``targets`` and ``held_out``
(labels of ``sim.observed.Observation``): a figure the fit never saw (held out, or not among its targets)
is drawn hollow. No figure is added here: the points are the area's observed file, as the report reads it.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import yaml
from omegaconf import DictConfig

from sim.app.levers import Area
from sim.app.results import Progress, png, replications_of
from sim.config import ConfigError
from sim.config.build import parameters_file
from sim.config.errors import user_error_line
from sim.config.parameters import read_posterior
from sim.config.provenance import hydra_value
from sim.config.spec import SystemSpec
from sim.config.store import CONFIG_DIR
from sim.observed import Observation, read_observed
from sim.plots.calibration import predictive_chart
from sim.plots.fan import HELD_OUT, fan_chart, is_count, whole_median
from sim.report.sections import OBSERVED_DIR, label_of

#: The config group a calibration's override is in (``+calibrated=<name>``).
GROUP = "calibrated"
#: The role of a figure the fit was made to (``HELD_OUT``: one it never saw; ``UNKNOWN``: no manifest says).
FITTED, UNKNOWN = "train", "unknown"
#: How the tables name each role.
ROLE_NAMES = {FITTED: "fitted", HELD_OUT: "held out (the fit never saw it)", UNKNOWN: "not known (no manifest)"}
#: The metric the forecast is of: the one the plans count.
METRIC = "inpatients"
#: The charts of a forecast, by name (the downloads' file names): what each shows.
CHARTS = {
    "forecast_inpatients": "Inpatients: the forecast, the published figures and the plan",
    "forecast_observed": "The other published figures against the forecast",
}


@dataclass(frozen=True)
class Calibrated:
    """One calibration a run can apply (``+calibrated=<name>``): its file, the directory it is in (None:
    the shipped configs/), the system it was fitted to (the area it applies to), its posterior file and
    the labels of the figures it was fitted to and held out; ``problem`` says why it cannot be used."""

    name: str
    file: Path
    config_dir: str | None = None
    system: str | None = None
    posterior: Path | None = None
    draws: int = 0
    fitted: tuple[str, ...] = ()
    held_out: tuple[str, ...] = ()
    problem: str | None = None

    @property
    def override(self) -> str:
        return f"+{GROUP}={self.name}"

    def applies_to(self, area: Area) -> bool:
        """Whether ``area``'s runs can apply it: fitted to its system, and of the same config directory (a
        shipped calibration to the shipped area, one of a config directory to that directory's: an area of
        the same name elsewhere is not the area it was fitted to)."""
        return self.problem is None and self.system == area.name and self.config_dir == area.config_dir

    def role(self, label: str) -> str:
        """A figure's role (by its label): ``FITTED`` if the fit was made to it, else ``HELD_OUT``;
        ``UNKNOWN`` when no manifest lists the calibration's targets (drawn as a fitted figure is)."""
        if not self.fitted:
            return UNKNOWN
        return FITTED if label in self.fitted and label not in self.held_out else HELD_OUT

    @property
    def label(self) -> str:
        """What it is, in a line: its name, its posterior's draws and the figures fitted and held out."""
        fitted = len(set(self.fitted) - set(self.held_out))
        if not self.fitted:
            return f"{self.name}: a posterior of {self.draws:,} draws (no manifest says what it was fitted to)"
        figures = "figure" if fitted == 1 else "figures"
        held = f"{len(self.held_out)} held out" if self.held_out else "none held out"
        return f"{self.name}: a posterior of {self.draws:,} draws fitted to {fitted} published {figures}, {held}"


def read_calibrated(path: Path, config_dir: str | None = None) -> Calibrated:
    """The calibration of ``calibrated/<name>.yaml`` (``path``): its ``run.parameters`` resolved as a run
    resolves it, the manifest beside that posterior; a file that cannot be used says why (``problem``)."""
    name = path.stem
    try:
        data = yaml.safe_load(path.read_text()) or {}
        run = data.get("run") if isinstance(data, dict) else None
        given = run.get("parameters") if isinstance(run, dict) else None
        if not given:
            return Calibrated(name, path, config_dir, problem=f"{path.name} sets no run.parameters (no posterior)")
        posterior = parameters_file(given, key=f"{GROUP}/{path.name}: run.parameters")
        manifest_file = posterior.parent / "manifest.json"
        manifest = json.loads(manifest_file.read_text()) if manifest_file.is_file() else {}
        read = read_posterior(posterior, key=f"{GROUP}/{path.name}: run.parameters")
    except (OSError, ValueError, yaml.YAMLError, ConfigError) as e:
        return Calibrated(name, path, config_dir, problem=user_error_line(e) or " ".join(str(e).split()))
    return Calibrated(
        name,
        path,
        config_dir,
        system=str(manifest.get("system") or read.system or "") or None,
        posterior=posterior,
        draws=len(read.weights),
        fitted=tuple(manifest.get("targets", ())),
        held_out=tuple(manifest.get("held_out", ())),
    )


def calibrations(config_dirs: Sequence[str] = ()) -> list[Calibrated]:
    """Every calibration of each of ``config_dirs`` and of the shipped configs/ (``calibrated/*.yaml``)."""
    out = []
    for d in dict.fromkeys(config_dirs):
        out += [read_calibrated(p, d) for p in sorted((Path(d) / GROUP).glob("*.yaml"))]
    return out + [read_calibrated(p) for p in sorted((CONFIG_DIR / GROUP).glob("*.yaml"))]


def applying(found: Sequence[Calibrated], area: Area) -> list[Calibrated]:
    """The calibrations ``area``'s runs can apply."""
    return [c for c in found if c.applies_to(area)]


def forecast_overrides(
    area: Area, scenario: str, calibrated: Calibrated, uncertainty: bool, run: dict[str, object]
) -> list[str]:
    """The page's choices as overrides: the area, the scenario, the calibration, ``run.parameters=null``
    without parameter uncertainty (the posterior medians only), and the run settings (key -> value)."""
    out = [area.choice, f"scenario={scenario}", calibrated.override]
    if not uncertainty:
        out.append("run.parameters=null")
    return out + [f"{key}={hydra_value(value)}" for key, value in run.items()]


def default_years(cfg: DictConfig, spec: SystemSpec, observations: Sequence[Observation]) -> int:
    """The horizon a forecast is offered with: whole years from the run's start to a year past the later
    of the plan's last milestone and the last published figure (never shorter than the config's)."""
    start = str(cfg.run.start)
    last = max([*spec.trajectory(), *(o.month for o in observations)], default=start)
    months = (int(last[:4]) - int(start[:4])) * 12 + int(last[5:7]) - int(start[5:7]) + 1
    return max(math.ceil(float(cfg.run.years)), math.ceil(months / 12) + 1)


def observed_of(spec: SystemSpec) -> tuple[list[Observation], list[str]]:
    """The published figures of the run's areas (data/observed/<tcp>.csv, as the report reads them), their
    metrics named as the run names them (``<tcp>/<metric>`` in a system of several), and the files read."""
    figures, files = [], []
    for t in spec.tcps:
        path = OBSERVED_DIR / f"{t.name}.csv"
        if not path.is_file():
            continue
        files.append(f"data/observed/{path.name}")
        for o in read_observed(path):
            if len(spec.tcps) > 1:
                o = _scoped(o, t.name)
            figures.append(o)
    return figures, files


def _scoped(o: Observation, tcp: str) -> Observation:
    return replace(
        o, metric=tuple(f"{tcp}/{m}" for m in o.metric), denominator=tuple(f"{tcp}/{m}" for m in o.denominator)
    )


def inside(o: Observation, months: Sequence[str]) -> bool:
    """Whether a figure lies in the run's reported months (the start month's figures are the start state:
    inputs the census was built from, not figures to test a run against)."""
    return o.start in months and o.month in months


def observed_points(
    observations: Sequence[Observation], months: Sequence[str], role: Callable[[str], str]
) -> pd.DataFrame:
    """The figures a fan can show: stocks of one metric, no share, inside ``months``; one row each with
    its metric, month, value, rounding interval (low, high), role (``role(label)``), basis and label."""
    rows = [
        {
            "metric": o.metric[0],
            "month": o.month,
            "value": o.value,
            "low": o.value - o.rounding / 2,
            "high": o.value + o.rounding / 2,
            "role": role(o.label),
            "basis": o.basis,
            "label": o.label,
        }
        for o in observations
        if o.kind == "stock" and len(o.metric) == 1 and not o.denominator and inside(o, months)
    ]
    columns = ["metric", "month", "value", "low", "high", "role", "basis", "label"]
    return pd.DataFrame(rows, columns=columns).sort_values(["metric", "month"], kind="stable").reset_index(drop=True)


def figures_table(
    observations: Sequence[Observation], monthly: pd.DataFrame, months: Sequence[str], role: Callable[[str], str]
) -> pd.DataFrame:
    """Each published figure inside the run (stocks, flows, shares) against the run: its role, the figure
    and its rounding, the run's median and 5th to 95th percentiles across replications, and whether the
    figure's rounding interval meets that 90% band (as the report's validation section decides)."""
    shown = [o for o in observations if inside(o, months) and all(n in monthly for n in (*o.metric, *o.denominator))]
    columns = ["figure", "fit", "observed", "rounding", "median", "p05", "p95", "inside the 90% band", "source"]
    if not shown:
        return pd.DataFrame(columns=columns)
    rows = monthly.sort_values(["replication", "month"])
    order = list(dict.fromkeys(rows["month"]))
    shape = (rows["replication"].nunique(), len(order))
    names = {n for o in shown for n in (*o.metric, *o.denominator)}
    series = {n: rows[n].to_numpy().reshape(shape).T for n in names}  # [month, replication], as Observation's
    where = {m: i for i, m in enumerate(order)}
    out = []
    for o in shown:
        values = o.of_series(series, where)
        values = values[~np.isnan(values)]
        if not len(values):
            continue
        p05, p50, p95 = (float(q) for q in np.quantile(values, [0.05, 0.5, 0.95]))
        half = o.rounding / 2
        out.append(
            (
                o.label,
                ROLE_NAMES[role(o.label)],
                o.value,
                o.rounding,
                p50,
                p05,
                p95,
                bool(p05 <= o.value + half and o.value - half <= p95),
                o.source,
            )
        )
    return pd.DataFrame(out, columns=columns)


def bands_table(
    summary: pd.DataFrame, points: pd.DataFrame, trajectory: pd.DataFrame, months: Sequence[str], metric: str = METRIC
) -> pd.DataFrame:
    """The forecast of ``metric`` at the end of each March of the run and of each month with a published
    figure: the median, the 50% and 90% bands (for a count as the fan draws them: whole people, the lower
    median), the figure (one row each) with its basis and role, and at a planned milestone the plan and
    P(at or under it) with its 95% interval."""
    s = summary[summary["metric"] == metric].set_index("month")
    figures = points[points["metric"] == metric]
    plan = trajectory[trajectory["metric"] == metric].set_index("month")
    wanted = {m for m in months if m.endswith("-03")} | set(figures["month"])
    rows = []
    for month in [m for m in months if m in wanted and m in s.index]:
        q = s.loc[month, ["p05", "p25", "p50", "p75", "p95"]].astype(float)
        if is_count(metric):
            q = q.round()
            q["p50"] = float(whole_median(np.array([s.loc[month, "p50"]]))[0])
        bands = {
            "month": month,
            "median": q["p50"],
            "50% band from": q["p25"],
            "50% band to": q["p75"],
            "90% band from": q["p05"],
            "90% band to": q["p95"],
        }
        if month in plan.index:
            p = plan.loc[month]
            bands |= {
                "planned": float(p["planned"]),
                "P(at or under the plan)": f"{p['p_at_or_under']:.0%}",
                "its 95% interval": f"{p['p_low']:.0%} to {p['p_high']:.0%}",
            }
        here = figures[figures["month"] == month]
        for f in here.itertuples() if len(here) else [None]:
            seen = {"observed": f.value, "basis": f.basis, "fit": ROLE_NAMES[f.role]} if f is not None else {}
            rows.append(bands | seen)
    columns = [
        "month",
        "median",
        "50% band from",
        "50% band to",
        "90% band from",
        "90% band to",
        "observed",
        "basis",
        "fit",
        "planned",
        "P(at or under the plan)",
        "its 95% interval",
    ]
    return pd.DataFrame(rows, columns=columns)


@dataclass
class Forecast:
    """What the page shows of one forecast: the bands of the metrics drawn, the plan's milestones, the
    published figures (points to draw, and each against the run), the tables and the charts as PNG bytes
    (drawn again at the files' resolution, and as SVG, when downloaded)."""

    title: str
    source: str
    calibration: str
    uncertainty: bool
    replications: int
    seconds: float
    start: str
    summary: pd.DataFrame  # the metrics drawn only
    trajectory: pd.DataFrame
    plan: dict[str, float]
    points: pd.DataFrame
    bands: pd.DataFrame
    figures: pd.DataFrame
    observed_files: list[str]
    charts: dict[str, bytes] = field(default_factory=dict)


def forecast(cfg: DictConfig, calibrated: Calibrated, on_progress: Progress | None = None) -> Forecast:
    """Run ``cfg`` (an area with ``calibrated`` applied) in memory and make what the page shows of it."""
    clock = time.perf_counter()
    result = replications_of(cfg, on_progress)
    seconds = time.perf_counter() - clock
    spec, m = result.spec, result.manifest
    uncertainty = bool(m.get("parameters"))
    observations, files = observed_of(spec)
    months = list(spec.calendar.labels)
    points = observed_points(observations, months, calibrated.role)
    points = points[points["metric"].isin(set(result.summary["metric"]))].reset_index(drop=True)
    drawn = {METRIC, *points["metric"]}
    how = (
        f"each replication one draw of its posterior ({calibrated.draws:,} draws)"
        if uncertainty
        else "its posterior medians (no parameter uncertainty)"
    )
    source = (
        f"Source: tcp-sim, system {spec.name}, scenario {spec.scenario}, {m['replications']:,} replications, "
        f"seed {m['seed']}, engine {m['engine']}; calibration {calibrated.name}, {how}; published figures: "
        + (", ".join(files) or "none")
    )
    f = Forecast(
        title=f"{spec.title}, scenario {spec.scenario}",
        source=source,
        calibration=calibrated.name,
        uncertainty=uncertainty,
        replications=int(m["replications"]),
        seconds=seconds,
        start=spec.calendar.start_label,
        summary=result.summary[result.summary["metric"].isin(drawn)].reset_index(drop=True),
        trajectory=result.trajectory,
        plan=dict(spec.trajectory()),
        points=points,
        bands=bands_table(result.summary, points, result.trajectory, months),
        figures=figures_table(observations, result.monthly, months, calibrated.role),
        observed_files=files,
    )
    f.charts = {name: png(draw(f, name)) for name in CHARTS if name != "forecast_observed" or others(f)}
    return f


def others(f: Forecast) -> list[str]:
    """The metrics other than ``METRIC`` with a published figure to draw, in the order of the figures."""
    return [m for m in dict.fromkeys(f.points["metric"]) if m != METRIC]


def draw(f: Forecast, name: str) -> plt.Figure:
    """One of the forecast's charts (``CHARTS``), drawn anew."""
    with_what = "with" if f.uncertainty else "without"
    if name == "forecast_inpatients":
        return fan_chart(
            f.summary,
            METRIC,
            plan=f.plan,
            ylabel="inpatients at month end",
            source=f.source,
            title=f"Inpatients, {f.title}: the forecast of calibration {f.calibration} ({with_what} parameter "
            "uncertainty), the published figures and the plan",
            odds=f.trajectory[f.trajectory["metric"] == METRIC],
            start=f.start,
            observed=f.points,
        )
    if name == "forecast_observed":
        return predictive_chart(
            f.summary,
            f.points,
            [(metric, label_of(metric)) for metric in others(f)][:6],
            title=f"The other published figures of {f.title} against the forecast of calibration {f.calibration} "
            f"({with_what} parameter uncertainty)",
            source=f.source,
        )
    raise KeyError(name)


__all__ = [
    "CHARTS",
    "Calibrated",
    "Forecast",
    "applying",
    "bands_table",
    "calibrations",
    "default_years",
    "draw",
    "figures_table",
    "forecast",
    "forecast_overrides",
    "observed_of",
    "observed_points",
    "read_calibrated",
]
