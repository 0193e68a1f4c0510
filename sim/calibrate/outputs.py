"""The files a calibration writes into its directory (issue 13, point 4):

- ``waves.csv``: per wave and target, the points, the share of the space kept and the least implausibility;
- ``posterior.parquet``: the weighted draws (``run.parameters=<file>`` runs them), ``parameters.csv`` their
  medians and intervals;
- ``calibrated/<name>.yaml``: an override any run applies (``--config-dir <dir> +calibrated=<name>``): the
  posterior medians, and ``run.parameters`` naming the posterior so each replication takes a draw;
- ``fit.csv``: each target observed beside the posterior predictive's median and bands, inside or not;
- ``predictive.csv``, ``posterior_predictive.png`` (fans with the observed points), ``posterior_pairs.png``;
- ``report.html``: the STRESS-DES data and validation sections; ``manifest.json``.

When no point survives, the report and the manifest say so and name the targets no point could meet.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from sim.calibrate.result import CalibrationResult
from sim.calibrate.targets import HOLDOUT
from sim.config.parameters import set_values, write_posterior
from sim.config.spec import SystemSpec
from sim.metrics import about
from sim.plots import calibration as charts


def write_outputs(result: CalibrationResult, spec: SystemSpec, model: DictConfig) -> list[Path]:
    """Write every output of ``result`` into its directory; returns the files written."""
    out = result.out_dir
    assert out is not None
    cal = result.calibration
    files = [out / "waves.csv"]
    result.waves_table.to_csv(files[0], index=False, float_format="%.6g")
    source = (
        f"Source: tcp-sim calibration {cal.name} of {spec.name} to {cal.observed.name}; "
        f"{result.manifest['simulations']:,} simulations, seed {result.manifest['seed']}, method seed {cal.method.seed}"
    )
    if result.posterior is not None and result.fit is not None and result.parameters is not None:
        posterior = out / "posterior.parquet"
        write_posterior(posterior, result.posterior, system=spec.name, calibration=cal.name)
        result.parameters.to_csv(out / "parameters.csv", index=False, float_format="%.6g")
        result.fit.to_csv(out / "fit.csv", index=False, float_format="%.6g")
        files += [posterior, out / "parameters.csv", out / "fit.csv", write_override(result, model, posterior)]
        if result.predictive is not None:
            result.predictive.to_csv(out / "predictive.csv", index=False, float_format="%.6g")
            files.append(out / "predictive.csv")
            files.append(_predictive_chart(result, spec, source, out / "posterior_predictive.png"))
        files.append(_pairs_chart(result, source, out / "posterior_pairs.png"))
    (out / "manifest.json").write_text(json.dumps(result.manifest, indent=2, default=str) + "\n")
    report = out / "report.html"
    report.write_text(report_html(result, spec))
    return files + [out / "manifest.json", report]


def override_values(result: CalibrationResult, model: DictConfig) -> dict:
    """The posterior medians as a nested override: each key's top-most mapping (a key inside a list, such
    as a stay component's mean, writes the whole list, as a YAML override replaces lists whole)."""
    assert result.parameters is not None
    updated = OmegaConf.masked_copy(model, [str(k) for k in model if k != "run"])
    medians = [
        float(np.round(m)) if p.integer else float(m)
        for m, p in zip(result.parameters["median"], result.calibration.priors)
    ]
    set_values(updated, result.calibration.keys, medians)
    out: dict = {}
    for key in result.calibration.keys:
        parts = key.split(".")
        cut = next((i for i, p in enumerate(parts) if p.isdigit()), len(parts))
        path = parts[:cut]
        node = OmegaConf.select(updated, ".".join(path))
        if isinstance(node, DictConfig) or OmegaConf.is_list(node):
            node = _without_nulls(OmegaConf.to_container(node, resolve=True))
        level = out
        for p in path[:-1]:
            level = level.setdefault(p, {})
        level[path[-1]] = node
    return out


def _without_nulls(node):
    """A plain config value without its null entries (a stay component lists every family's keys)."""
    if isinstance(node, dict):
        return {k: _without_nulls(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [_without_nulls(v) for v in node]
    return node


def write_override(result: CalibrationResult, model: DictConfig, posterior: Path) -> Path:
    """``calibrated/<name>.yaml``: the medians, and ``run.parameters`` for the whole posterior."""
    assert result.out_dir is not None
    path = result.out_dir / "calibrated" / f"{result.calibration.name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    values = override_values(result, model)
    values["run"] = {"parameters": str(posterior.resolve())}
    head = (
        "# @package _global_\n"
        f"# Calibrated by sim.calibrate (calibration {result.calibration.name}, {result.manifest['finished']}):\n"
        "# the posterior medians of the fitted keys, and run.parameters, so that each replication of a run takes\n"
        "# its own draw of the posterior (fans then include parameter uncertainty). Apply it with\n"
        f"#   python -m sim --config-dir {result.out_dir.resolve()} +calibrated={result.calibration.name} [overrides]\n"
    )
    path.write_text(head + OmegaConf.to_yaml(OmegaConf.create(values)))
    return path


def _label(metric: str) -> str:
    """A panel's title: the catalogue's label of a metric (its name if it has none)."""
    known = about(metric)
    return known.label if known is not None else metric.replace("+", " + ")


def _predictive_chart(result: CalibrationResult, spec: SystemSpec, source: str, path: Path) -> Path:
    assert result.predictive is not None and result.fit is not None
    rows = []
    for t in result.selection.targets:
        o = t.observation
        if o.denominator or len(o.metric) != 1:
            continue
        low, high = t.bounds
        if o.kind == "flow":
            continue  # a flow over months is not a month-end point of the monthly fan
        rows.append(
            {"metric": o.metric[0], "month": o.month, "value": o.value, "low": low, "high": high, "role": t.role}
        )
    observed = pd.DataFrame(rows, columns=["metric", "month", "value", "low", "high", "role"])
    shown = [m for m in dict.fromkeys(observed["metric"]) if (result.predictive["metric"] == m).any()]
    if not shown:
        shown = list(dict.fromkeys(result.predictive["metric"]))[:4]
    panels = [(m, _label(m)) for m in shown[:6]]
    charts.predictive_chart(
        result.predictive,
        observed,
        panels,
        title=f"{spec.title}: the calibrated model ({result.calibration.method.predictive} posterior draws) "
        "and the observed figures",
        source=source,
        path=path,
    )
    return path


def _pairs_chart(result: CalibrationResult, source: str, path: Path) -> Path:
    assert result.posterior is not None
    labels = [(k, re.sub(r"^tcp\.", "", k)) for k in result.calibration.keys]
    charts.pairs_chart(
        result.posterior,
        labels,
        title=f"Posterior of calibration {result.calibration.name} (points sized by weight)",
        source=source,
        path=path,
    )
    return path


def _table(frame: pd.DataFrame, columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for _, row in frame.iterrows():
        cells = []
        for c in columns:
            v = row[c]
            text = f"{v:.4g}" if isinstance(v, (float, np.floating)) else str(v)
            cells.append(f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def report_html(result: CalibrationResult, spec: SystemSpec) -> str:
    """The calibration's report: STRESS-DES section 3 (data) and section 6 (validation), self-contained."""
    cal, man = result.calibration, result.manifest
    m = cal.method
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Calibration {html.escape(cal.name)}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}"
        "table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #ccc;padding:2px 6px}</style>",
        "</head><body>",
        f"<h1>Calibration {html.escape(cal.name)}: {html.escape(spec.title)}</h1>",
        "<h2>Data (STRESS-DES 3)</h2>",
        f"<p>Observed figures: <code>{html.escape(cal.observed.name)}</code>, {len(result.selection.targets)} used "
        f"({sum(t.role == HOLDOUT for t in result.selection.targets)} held out"
        + (f" after {html.escape(cal.train_until)}" if cal.train_until else "")
        + "). Observation model: a figure's rounding r gives variance r&sup2;/12; model discrepancy sd "
        f"{cal.observation.discrepancy:g} of the figure (at least {cal.observation.floor:g});"
        + "".join(
            f" basis '{html.escape(b)}' adds sd {v:g} of the figure;" for b, v in cal.observation.revision.items()
        )
        + "</p>",
    ]
    if result.selection.skipped:
        parts.append("<p>Rows not used:</p><ul>")
        parts += [f"<li>{html.escape(label)}: {html.escape(why)}</li>" for label, why in result.selection.skipped]
        parts.append("</ul>")
    parts += [
        "<h2>Method</h2>",
        f"<p>History matching by direct simulation: {m.waves} waves ({m.design} designs, scipy.stats.qmc; after "
        "the first, pushed through normal kernels around the survivors), replications on common random numbers, "
        f"cut-off {m.cutoff:g} on the ranked implausibility over the training targets (the table gives each wave's "
        "rank and points); the posterior is every wave's points that meet every target, each weighted by its "
        "synthetic Gaussian likelihood (the targets' correlation within a run pooled over the points) over the "
        "density of all the waves' designs together (adaptive multiple importance sampling). "
        f"{man['simulations']:,} simulations, {man.get('simulations_per_second') or 'an unknown number of'} "
        "simulations a second.</p>",
        "<h2>Waves</h2>",
        _table(
            result.waves_table.drop_duplicates("wave"),
            ["wave", "points", "simulations", "rank", "kept", "all_targets_met", "share_of_space_kept"],
        ),
        "<h2>Validation (STRESS-DES 6)</h2>",
    ]
    if result.unmet:
        parts.append(
            "<p><strong>No point survived.</strong> No parameter set within the priors brings these targets "
            "within the cut-off: a finding about the model (or the priors), not a fit:</p><ul>"
            + "".join(f"<li>{html.escape(t)}</li>" for t in result.unmet)
            + "</ul>"
        )
    if result.parameters is not None:
        parts += [
            "<h3>Fitted parameters (posterior median and 90% interval)</h3>",
            _table(result.parameters, ["parameter", "prior", "p05", "median", "p95"]),
        ]
        parts.append(f"<p>Effective sample size of the weights: {man.get('effective_sample_size', 0):.1f}.</p>")
    if result.fit is not None:
        parts += [
            "<h3>Fit: each target against the posterior predictive</h3>",
            _table(result.fit, ["target", "role", "observed", "p05", "median", "p95", "inside_90"]),
        ]
        if (result.out_dir / "posterior_predictive.png").exists():  # type: ignore[operator]
            parts.append(
                "<p><img src='posterior_predictive.png' style='max-width:100%' alt='posterior predictive'></p>"
            )
    if result.scores is not None:
        s = result.scores
        parts.append(
            f"<h3>Held-out scores</h3><p>{s['held_out_targets']} held-out targets: "
            f"{s['share_inside_50']:.0%} inside the "
            f"50% band, {s['share_inside_90']:.0%} inside the 90% band; mean relative interval score (90%) "
            f"{s['mean_relative_interval_score_90']:.3g}.</p>"
        )
    parts.append("</body></html>\n")
    return "\n".join(parts)
