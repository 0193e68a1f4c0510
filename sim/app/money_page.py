"""The Money page (Streamlit): what a run spends, by commissioner and by setting, each financial year with
its bands across replications, and, when the config has a pooled budget, the pool's reserve as a fan and
the chance it is negative each year; ``money_page`` draws it.

The figures are ``sim.finance``'s: ``finance_years`` (bands per financial year of the spend lines and the
pooled budget's ledger), ``reserve_risk`` (when the reserve first goes negative) and ``plot_finance`` (the
reserve's chart, as ``finance_reserve.png`` of a run directory); the page adds no arithmetic of its own
but the change of units to £ million. Whether a run has a pooled budget is its spec's
(``spec.pooled_budget``: ``system.pooled_budget.enabled``), as for ``write_finance``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import streamlit as st
from omegaconf import DictConfig, OmegaConf

from sim.app.common import (
    checked_run,
    choose_area,
    choose_scenario,
    offer,
    one_line,
    show_command,
    was_cancelled,
)
from sim.app.exports import chart_downloads, run_downloads, run_files, table_downloads
from sim.app.levers import RUN_KEYS, Area, Checked, base_config, overrides, run_choices, run_settings
from sim.app.page import reference_of
from sim.app.page import stores as run_stores
from sim.app.results import Progress, Store, png, replications_of
from sim.config.errors import user_error_line
from sim.config.spec import SystemSpec
from sim.finance import finance_monthly, finance_years, plot_finance, reserve_risk
from sim.pathway import PAYER_NAMES, PAYERS
from sim.plots.finance import SETTINGS
from sim.plots.frame import GREY, finish, grid, units
from sim.report.results_book import run_source
from sim.report.sections import label_of
from sim.report.workbook import Sheet

#: How many runs the page's store keeps (each its tables, two charts and the finance bands).
CACHED_RUNS = 32
#: Spend by commissioner and by setting: the label of each spend line (metric) in the tables, and the
#: label of their total. The settings are the finance chart's (``sim.plots.finance.SETTINGS``); both add
#: up to ``cost_total``.
COMMISSIONERS: dict[str, str] = {f"cost_{p}": PAYER_NAMES[p] for p in PAYERS}
BY_SETTING: dict[str, str] = {metric: label for label, metric in SETTINGS}
TOTAL = "all"
#: The pooled budget's lines each financial year (pounds): flows over the year, stocks at its last month.
POOL_LINES: tuple[str, ...] = (
    "pool_inflow",
    "pool_outflow",
    "pool_reserve",
    "pool_balance",
    "shortfall_ccg",
    "shortfall_la",
    "shortfall_specialised",
    "shortfall_total",
)
#: The pool's lines named as the reserve's chart names them (``sim.plots.finance``); the rest by the catalogue.
POOL_LABELS: dict[str, str] = {
    "pool_reserve": "reserve (commissioners cover what it cannot pay: never below zero)",
    "pool_balance": "reserve before commissioners cover a shortfall",
}
#: The chance the reserve is negative: at the year's last month, and at any month by then (the mean of a
#: yes/no stock across replications).
CHANCES: dict[str, str] = {
    "pool_balance_negative": "P(reserve negative at the year's last month)",
    "pool_ever_negative": "P(reserve has gone negative by then)",
}
#: The bands' columns of a money table (``finance_years``' quantiles, in £ million).
BANDS: dict[str, str] = {
    "mean": "mean (£m)",
    "p05": "5th percentile (£m)",
    "p50": "median (£m)",
    "p95": "95th percentile (£m)",
}
#: The page's charts: name -> caption.
CHARTS = {
    "spend": "Spend by commissioner and by setting, each financial year",
    "reserve": "The pooled budget's reserve and the chance it is negative",
}


# ------------------------------------------------------------------------------------ without Streamlit


@dataclass
class MoneyRun:
    """What the page shows of one run: spend by commissioner and by setting each financial year, the
    pooled budget's lines and chances (None without one) and when its reserve first goes negative
    (``reserve_risk``), the charts (name -> PNG at screen resolution) and what they are drawn from."""

    title: str
    source: str
    replications: int
    seconds: float
    spec: SystemSpec
    commissioners: pd.DataFrame
    settings: pd.DataFrame
    years: pd.DataFrame  # finance_years: every finance line, each financial year
    monthly: pd.DataFrame  # finance_monthly: the bands of the finance lines, month by month
    pool: pd.DataFrame | None = None
    chances: pd.DataFrame | None = None
    risk: dict[str, Any] | None = None
    charts: dict[str, bytes] = field(default_factory=dict)


def year_label(year: str, months: int) -> str:
    """A financial year as a table row names it: ``2016/17``, or ``2016/17 (7 months)`` for a part year."""
    return year if months == 12 else f"{year} ({months} months)"


def money_table(
    years: pd.DataFrame, lines: dict[str, str], column: str, total: str | None = None, *, measured: bool = False
) -> pd.DataFrame:
    """Bands in £ million of the ``lines`` (metric -> label, in the column ``column``) each financial
    year, from ``finance_years``; ``total`` adds ``cost_total``'s row under that label; ``measured`` says
    of each line whether it is over the year (a flow) or at its last month (a stock)."""
    names = {**lines, **({"cost_total": total} if total else {})}
    rows = years[years["metric"].isin(names)].copy()
    rows["_k"] = rows["metric"].map(list(names).index)
    rows = rows.sort_values(["year", "_k"], kind="stable")
    out = pd.DataFrame(
        {
            "financial year": [year_label(y, m) for y, m in zip(rows["year"], rows["months"])],
            column: rows["metric"].map(names).to_numpy(),
        }
    )
    if measured:  # finance_years' kind: "flow: sum over the year" or "stock: at the year's last month"
        out["measured"] = rows["kind"].str.split(": ", n=1).str[1].to_numpy()
    for q, head in BANDS.items():
        out[head] = (rows[q] / 1e6).round(3).to_numpy()
    return out


def pool_table(years: pd.DataFrame) -> pd.DataFrame:
    """The pooled budget's money each financial year (£ million bands): into and out of the pool, its
    reserve and balance at the year's last month, and the shortfalls the commissioners carry."""
    lines = {m: POOL_LABELS.get(m) or label_of(m).removesuffix(" (£m)") for m in POOL_LINES}
    return money_table(years, lines, "line", measured=True)


def chance_table(years: pd.DataFrame) -> pd.DataFrame:
    """The chance the pool's reserve is negative at each financial year's last month, and that it has
    gone negative by then (``finance_years``: the mean across replications of a yes/no)."""
    rows = years[years["metric"].isin(CHANCES)]
    wide = rows.pivot(index=["year", "months"], columns="metric", values="mean").reset_index()
    out = pd.DataFrame({"financial year": [year_label(y, m) for y, m in zip(wide["year"], wide["months"])]})
    for metric, head in CHANCES.items():
        out[head] = wide[metric].to_numpy()
    return out


def money_of(cfg: DictConfig, on_progress: Progress | None = None, reference: DictConfig | None = None) -> MoneyRun:
    """Run ``cfg`` in memory (``sim.app.results.replications_of``) and make what the page shows of it."""
    clock = time.perf_counter()
    result = replications_of(cfg, on_progress, reference)
    seconds = time.perf_counter() - clock
    spec = result.spec
    years = finance_years(result.monthly, spec)
    r = MoneyRun(
        title=f"{spec.title}, scenario {spec.scenario}",
        source=f"Source: {run_source(spec, result.manifest)}",
        replications=int(result.manifest["replications"]),
        seconds=seconds,
        spec=spec,
        commissioners=money_table(years, COMMISSIONERS, "commissioner", TOTAL),
        settings=money_table(years, BY_SETTING, "setting", TOTAL),
        years=years,
        monthly=finance_monthly(result.summary),
    )
    if spec.pooled_budget is not None:
        r.pool, r.chances, r.risk = pool_table(years), chance_table(years), reserve_risk(result.monthly, spec)
    r.charts = {name: png(draw(r, name)) for name in CHARTS if name != "reserve" or r.risk is not None}
    return r


def draw(r: MoneyRun, name: str) -> plt.Figure:
    """One of the run's charts (``CHARTS``), drawn anew."""
    if name == "spend":
        return spend_chart(r)
    if name == "reserve" and r.risk is not None:
        return plot_finance(r.monthly, r.spec, r.risk, r.source)
    raise KeyError(name)


def spend_chart(r: MoneyRun) -> plt.Figure:
    """Spend each financial year, stacked by commissioner and by setting (the means, which add up to the
    mean total), with the 5th to 95th percentiles of the total; a part year's bar is its months only."""
    fig, axes = grid(1, 2, size=(12.5, 5.6), sharey=True)
    for ax, (table, column, heading) in zip(
        axes.flat, ((r.commissioners, "commissioner", "By commissioner"), (r.settings, "setting", "By setting"))
    ):
        means = table.pivot(index="financial year", columns=column, values=BANDS["mean"])
        order = [label for label in dict.fromkeys(table[column]) if label != TOTAL]
        years = list(dict.fromkeys(table["financial year"]))
        x = np.arange(len(years))
        bottom = np.zeros(len(years))
        for label in order:
            heights = means.loc[years, label].fillna(0).to_numpy()
            ax.bar(x, heights, bottom=bottom, width=0.6, label=label)
            bottom += heights
        total = table[table[column] == TOTAL].set_index("financial year").loc[years]
        mean, low, high = (total[BANDS[q]].to_numpy() for q in ("mean", "p05", "p95"))
        ax.errorbar(
            x,
            mean,
            yerr=[mean - low, high - mean],
            fmt="none",
            ecolor=GREY,
            capsize=5,
            lw=1.2,
            label="total: 5th to 95th percentile",
        )
        ax.set_xticks(x, [y.replace(" (", "\n(") for y in years])
        ax.set_title(heading, loc="left", fontsize=10)
        ax.set_ylim(0, float(np.nanmax(high)) * 1.45 if len(high) else 1.0)
        ax.legend(loc="upper left", ncol=2, frameon=False, fontsize=7.5)
        ax.grid(axis="y", alpha=0.3)
        units(ax, "£ million over the year")
    return finish(
        fig,
        f"Spend each financial year, {r.title}: by commissioner and by setting (mean over replications)",
        r.source,
    )


def sheets(r: MoneyRun) -> list[Sheet]:
    """The page's tables as workbook sheets (and CSVs): spend by commissioner and by setting, and with a
    pooled budget its lines and chances."""
    source = r.source.removeprefix("Source: ")
    out = [
        Sheet(
            "Commissioners",
            r.commissioners,
            f"{r.title}: spend by commissioner each financial year",
            "£ million",
            source,
        ),
        Sheet("Settings", r.settings, f"{r.title}: spend by setting each financial year", "£ million", source),
    ]
    if r.pool is not None and r.chances is not None:
        out += [
            Sheet("Pooled budget", r.pool, f"{r.title}: the pooled budget each financial year", "£ million", source),
            Sheet(
                "Reserve negative", r.chances, f"{r.title}: the chance the reserve is negative", "probability", source
            ),
        ]
    return out


def risk_sentence(risk: dict[str, Any]) -> str:
    """When the reserve goes negative, in a sentence (``reserve_risk``'s figures)."""
    said = f"P(the reserve has gone negative by {risk['end']}) = {risk['p_negative_by_end']:.0%}"
    if risk["first_month_median"]:
        said += (
            f"; where it does, it first goes negative in {risk['first_month_median']} (median; 90% of them "
            f"{risk['first_month_p05']} to {risk['first_month_p95']})"
        )
    return said + "."


# ------------------------------------------------------------------------------------------ the page


@st.cache_resource
def stores() -> Store:
    """The page's runs, by resolved config, shared by every session."""
    return Store(CACHED_RUNS)


@st.cache_data(show_spinner=False)
def shipped(area: Area, scenario: str) -> tuple[dict[str, Any], bool]:
    """An area's and scenario's run settings as shipped, and whether it has a pooled budget."""
    cfg = base_config(area, scenario)
    return run_settings(area, cfg), bool(cfg.system.pooled_budget.enabled)


def money_page() -> None:
    """The Money page."""
    st.title("Money: spend and the pooled budget")
    area = choose_area("money")
    scenario = choose_scenario("money")
    if area is None or scenario is None:
        return
    try:
        settings, pooled = shipped(area, scenario)
    except Exception as e:  # noqa: BLE001 - a shipped file that does not compose is told, not traced
        st.error(user_error_line(e) or one_line(e))
        return
    tag = f"{area.choice}{'@' + area.config_dir if area.config_dir else ''}:{scenario}"
    st.caption(
        "A pooled budget: on (system.pooled_budget.enabled)."
        if pooled
        else "No pooled budget in this config (system.pooled_budget.enabled is false): spend only. The "
        "pooled_budget scenarios turn it on (the south-east hub's funding principles)."
    )
    st.subheader("Run settings")
    cols = st.columns(3)
    run_chosen = {
        "replications": cols[0].number_input(
            "Replications", value=settings["replications"], step=100, key=f"money:replications:{tag}"
        ),
        "seed": cols[1].number_input("Seed", value=settings["seed"], step=1, key=f"money:seed:{tag}"),
        "years": cols[2].number_input("Years", value=float(settings["years"]), step=1.0, key=f"money:years:{tag}"),
    }
    beside = {name: col.empty() for name, col in zip(RUN_KEYS, cols)}
    run_ovr = run_choices(run_chosen, settings)
    ovr = overrides(area, scenario, {}, {}, run_ovr)
    fields: dict[str, str | None] = dict(RUN_KEYS)

    clicked = st.button("Run", type="primary", key="money:run")
    by_button = st.empty()
    if clicked:
        checked = attempt(ovr, fields, area, scenario)
        st.session_state["money:request"] = {
            "overrides": checked.overrides,
            "error": checked.error,
            "field": checked.field,
        }
    if was_cancelled():  # Cancel clicked: this run (or the one it stopped) kept nothing
        by_button.warning("The run was cancelled: nothing of it was kept.")
    request: dict[str, Any] | None = st.session_state.get("money:request")
    if request is not None and request["error"] and tuple(ovr) == request["overrides"]:  # not once changed
        beside.get(request["field"] or "", by_button).error(request["error"])
    show_command(ovr, "money:command", area.config_dirs)
    shown: tuple[tuple[str, ...], MoneyRun, DictConfig] | None = st.session_state.get("money:shown")
    if shown is not None and shown[0] == tuple(ovr):
        show_result(shown[1], shown[2])
    elif shown is not None:
        st.info("The choices have changed since the last run: Run to see theirs (a run made before shows at once).")


def attempt(ovr: list[str], fields: dict[str, str | None], area: Area, scenario: str) -> Checked:
    """Compose the overrides and run them (``common.checked_run``: from the store if run before, a refusal
    in one line with its field, a cancelled run keeping nothing), keeping the result for the page."""
    reference = reference_of(area, scenario)

    def made(key: str, cfg: DictConfig, on_progress: Progress) -> MoneyRun:
        return stores().made(key, lambda: money_of(cfg, on_progress, reference))

    checked, result = checked_run(ovr, fields, area.config_dir, made)
    if result is not None:
        st.session_state["money:shown"] = (checked.overrides, result, checked.cfg)
    return checked


def show_result(r: MoneyRun, cfg: DictConfig) -> None:
    """Spend by commissioner and by setting, the pooled budget's reserve and chances (or that there is
    none), each with its downloads, and the run's own files (report, workbook) made on demand."""
    st.subheader(r.title)
    st.caption(f"{r.replications:,} replications in {r.seconds:.1f} s. {r.source}")
    st.markdown("**Spend by commissioner** (each financial year; £ million, bands across replications)")
    st.dataframe(r.commissioners, hide_index=True)
    st.markdown("**Spend by setting**")
    st.dataframe(r.settings, hide_index=True)
    st.image(r.charts["spend"], caption=CHARTS["spend"])
    offer(chart_downloads("spend", partial(draw, r, "spend"), "Spend chart"), "money:spend")
    st.subheader("The pooled budget")
    if r.risk is None or r.pool is None or r.chances is None:
        st.info(
            "This config has no pooled budget (system.pooled_budget.enabled is false), so there is no reserve "
            "to show: a pooled_budget scenario turns it on."
        )
    else:
        st.markdown(f"**{risk_sentence(r.risk)}**")
        st.image(r.charts["reserve"], caption=CHARTS["reserve"])
        offer(chart_downloads("finance_reserve", partial(draw, r, "reserve"), "Reserve chart"), "money:reserve")
        st.markdown("**The chance the reserve is negative**, each financial year")
        st.dataframe(
            r.chances,
            hide_index=True,
            column_config={h: st.column_config.NumberColumn(h, format="percent") for h in CHANCES.values()},
        )
        st.markdown("**The pool's money** (each financial year; £ million, bands across replications)")
        st.dataframe(r.pool, hide_index=True)
    offer(table_downloads("money", sheets(r), "Tables"), "money:tables")
    st.markdown("**The run's files** (report, workbook and tables as the command line writes them; made when asked)")
    yaml_key, files = OmegaConf.to_yaml(cfg, resolve=True), run_stores()[1]  # the Run page's: the same files
    offer(run_downloads(lambda: files.made(yaml_key, lambda: run_files(cfg))), "money:files")


__all__ = ["money_of", "money_page"]
