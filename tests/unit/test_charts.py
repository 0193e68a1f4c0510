"""The board charts read at face value (issue 14, point 5): ticks at the month ends the points sit on and
labelled with their month, whole-number axes and step medians for counts of people, no second y-axis,
spend per day (a short February is no fall), legends off the data, 200 dpi PNGs with SVGs beside them and
the milestone chart with P(at or under the plan). Drawn from small synthetic tables: no simulation."""

from __future__ import annotations

import struct
from pathlib import Path
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.lines import Line2D

from sim.plots.fan import fan_chart, small_multiples, whole_median
from sim.plots.finance import per_day, plot_finance
from sim.plots.frame import BAND_50, FILE_DPI, figure, finish, month_end
from sim.plots.milestones import OVER, milestone_chart
from sim.plots.sweep import human_label

#: 2016-03 (the census) to 2019-03: the months of a BHR run.
MONTHS = [f"{y}-{m:02d}" for y in range(2016, 2020) for m in range(1, 13) if "2016-03" <= f"{y}-{m:02d}" <= "2019-03"]


def summary_of(metric: str, p50: np.ndarray, spread: float = 0.5) -> pd.DataFrame:
    """A summary table of one metric: its median each month and bands ``spread`` either side."""
    p50 = np.asarray(p50, dtype=float)
    return pd.DataFrame(
        {
            "month": MONTHS[: len(p50)],
            "metric": metric,
            "mean": p50,
            "p05": np.maximum(p50 - 2 * spread, 0),
            "p25": np.maximum(p50 - spread, 0),
            "p50": p50,
            "p75": p50 + spread,
            "p95": p50 + 2 * spread,
        }
    )


def drawn(fig: plt.Figure) -> plt.Figure:
    fig.canvas.draw()  # ticks and labels are placed at draw time
    return fig


def median_line(ax: plt.Axes) -> Line2D:
    return next(line for line in ax.get_lines() if line.get_label() == "median")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_month_ticks_sit_on_the_points_and_name_their_month():
    """Every major tick of a fan is at a point's month end and labelled with that month: March 2019's
    point (31 March) sits on the tick labelled Mar 2019, not beside one labelled Apr 2019."""
    s = summary_of("inpatients", np.linspace(26, 14, len(MONTHS)))
    fig = drawn(fan_chart(s, "inpatients", plan={"2017-03": 22, "2019-03": 14}, title="t", ylabel="y", source="s"))
    ax = fig.axes[0]
    points = set(mdates.date2num(month_end(MONTHS)))
    ticks = [(t, lab.get_text()) for t, lab in zip(ax.get_xticks(), ax.get_xticklabels())]
    shown = [(t, text) for t, text in ticks if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert shown
    for t, text in shown:
        assert t in points, f"tick {mdates.num2date(t):%Y-%m-%d} is at no point"
        assert text == f"{mdates.num2date(t):%b %Y}"
    assert (mdates.date2num(pd.Timestamp("2019-03-31")), "Mar 2019") in shown
    plan = next(line for line in ax.get_lines() if line.get_label() == "planned trajectory")
    assert mdates.date2num(pd.Timestamp("2019-03-31")) in set(mdates.date2num(plan.get_xdata()))


def test_people_axes_have_whole_number_ticks_and_step_medians():
    """A count of people near zero (CAMHS tier 4): ticks are whole numbers, the median is drawn as steps
    and is a whole number where the interpolated median was half a person; the bands too."""
    p50 = np.where(np.arange(len(MONTHS)) % 2 == 0, 0.5, 1.0)  # the interpolated median of 0 and 1: 0.5
    s = summary_of("inpatients_camhs_t4", p50, spread=0.25)
    fig = drawn(small_multiples(s, [("inpatients_camhs_t4", "CAMHS tier 4", None)], title="t", ylabel="y", source="s"))
    ax = fig.axes[0]
    ticks = [t for t in ax.get_yticks() if ax.get_ylim()[0] <= t <= ax.get_ylim()[1]]
    assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), ticks
    line = median_line(ax)
    assert line.get_drawstyle().startswith("steps")
    assert np.all(np.mod(np.asarray(line.get_ydata(), dtype=float), 1) == 0)
    assert list(line.get_ydata()[:2]) == [0.0, 1.0]  # 0.5 drawn as its lower median, 0
    for band in ax.collections:
        ys = np.concatenate([p.vertices[:, 1] for p in band.get_paths()])
        assert np.all(np.mod(ys, 1) == 0), "a band edge at a fraction of a person"


def test_a_rate_is_drawn_as_a_line():
    """Not every metric counts people: inpatients per million is drawn as is, joined by a line."""
    s = summary_of("inpatients_per_million", np.linspace(44.5, 24.2, len(MONTHS)))
    fig = drawn(fan_chart(s, "inpatients_per_million", title="t", ylabel="y", source="s"))
    line = median_line(fig.axes[0])
    assert line.get_drawstyle() == "default"
    assert line.get_ydata()[0] == pytest.approx(44.5)


def test_whole_median_is_the_lower_median():
    assert list(whole_median(np.array([0.5, 1.0, 13.5, 14.0]))) == [0, 1, 13, 14]


def test_legends_are_the_figures_and_clear_of_the_panels():
    """The fan's legend is the figure's, above the panel, not over its data."""
    s = summary_of("inpatients", np.linspace(26, 14, len(MONTHS)))
    fig = drawn(fan_chart(s, "inpatients", plan={"2019-03": 14}, title="t", ylabel="y", source="s"))
    ax = fig.axes[0]
    assert ax.get_legend() is None and len(fig.legends) == 1
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    box, panel = fig.legends[0].get_window_extent(renderer), ax.get_window_extent(renderer)
    assert box.y0 >= panel.y1  # wholly above the panel


def test_fan_chart_gives_p_at_or_under_at_each_milestone():
    """The main fan chart says P(at or under the plan) at each milestone after the census."""
    s = summary_of("inpatients", np.linspace(26, 14, len(MONTHS)))
    odds = pd.DataFrame(
        {
            "month": ["2016-03", "2017-03", "2019-03"],
            "metric": "inpatients",
            "planned": [26, 22, 14],
            "p_at_or_under": [1.0, 0.42, 0.1],
            "p_low": [0.9, 0.29, 0.04],
            "p_high": [1.0, 0.58, 0.23],
        }
    )
    fig = fan_chart(s, "inpatients", plan={"2017-03": 22, "2019-03": 14}, title="t", ylabel="y", source="s", odds=odds)
    fig = drawn(fig)
    figure_text = " ".join(t.get_text() for t in fig.texts)
    assert "Mar 2017 42% (29% to 58%)" in figure_text and "Mar 2019 10% (4% to 23%)" in figure_text
    assert "Mar 2016" not in figure_text  # the census is met by definition
    notes = [t.get_text() for t in fig.axes[0].texts]
    assert notes == ["42%", "10%"]


def fake_spec() -> SimpleNamespace:
    return SimpleNamespace(calendar=SimpleNamespace(labels=MONTHS[1:]), title="Test", scenario="pooled")


def finance_summary(daily: float) -> pd.DataFrame:
    """A pooled budget's summary whose in-area beds cost ``daily`` pounds every day of every month."""
    days = pd.to_datetime(pd.Series(MONTHS), format="%Y-%m").dt.days_in_month.to_numpy()
    spend = summary_of("cost_beds_in_area", daily * days, spread=0.0)
    balance = summary_of("pool_balance", np.linspace(0, 1e6, len(MONTHS)), spread=2e5)
    negative = summary_of("pool_balance_negative", np.linspace(0, 0.4, len(MONTHS)), spread=0.0)
    return pd.concat([spend, balance, negative], ignore_index=True)


RISK = {"end": "2019-03", "p_negative_by_end": 0.6, "first_month_median": None}


def test_spend_per_day_has_no_february_dip():
    """A constant daily spend is a flat line per day; per month it dipped every February (28 days)."""
    s = finance_summary(1000.0)
    means = s[s["metric"] == "cost_beds_in_area"].set_index("month")[["mean"]]
    assert means.loc["2017-02", "mean"] < means.loc["2017-01", "mean"]  # the dip, per month
    assert np.allclose(per_day(means)["mean"], 1000.0)
    fig = drawn(plot_finance(s, fake_spec(), RISK, "s"))  # type: ignore[arg-type]
    spend = next(ax for ax in fig.axes if "a day" in ax.get_ylabel())
    stack = [c for c in spend.collections if isinstance(c, PolyCollection)]
    top = np.concatenate([p.vertices[:, 1] for p in stack[-1].get_paths()])
    assert np.allclose(top[top > 0.5], 1.0)  # £1,000 a day is 1 (£ thousand) every month


def test_finance_chart_has_one_y_axis_a_panel():
    """No twinx: each panel has its own place in the figure, and the chance of a negative reserve is a
    panel of its own."""
    fig = drawn(plot_finance(finance_summary(1000.0), fake_spec(), RISK, "s"))  # type: ignore[arg-type]
    boxes = [tuple(np.round(ax.get_position().bounds, 4)) for ax in fig.axes]
    assert len(fig.axes) == 3 and len(set(boxes)) == len(boxes)
    assert any("negative" in ax.get_title(loc="left") for ax in fig.axes)
    for ax in fig.axes:
        assert len(ax.get_shared_x_axes().get_siblings(ax)) == 1  # twinx shares x with its twin


def png_dpi_and_size(path: Path) -> tuple[float, tuple[int, int]]:
    """The dots per inch a PNG's pHYs chunk records, and its width and height in pixels."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    at, dpi = 8, 0.0
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        if kind == b"pHYs":
            ppu, _, unit = struct.unpack(">IIB", data[at + 8 : at + 17])
            assert unit == 1  # per metre
            dpi = ppu * 0.0254
        at += 12 + length
    return dpi, (width, height)


def test_finish_writes_a_200_dpi_png_and_an_svg_beside_it(tmp_path):
    fig, ax = figure(size=(9, 5))
    ax.plot([0, 1], [0, 1])
    finish(fig, "t", "s", tmp_path / "chart.png")
    dpi, size = png_dpi_and_size(tmp_path / "chart.png")
    assert FILE_DPI == 200 and dpi == pytest.approx(200, abs=0.1) and size == (1800, 1000)
    svg = (tmp_path / "chart.svg").read_text()
    assert "<svg" in svg and "<dc:date>" not in svg  # no date: the same chart writes the same file
    assert not plt.get_fignums()


def test_milestone_chart_marks_the_bars_at_or_under_the_plan():
    """One panel a milestone: bars at or under the plan blue, over it grey, P(at or under) in the titles."""
    rng = np.random.default_rng(1)
    values = pd.DataFrame(
        {
            "replication": np.tile(np.arange(200), 2),
            "month": np.repeat(["2017-03", "2019-03"], 200),
            "inpatients": np.concatenate([rng.integers(15, 30, 200), rng.integers(10, 25, 200)]),
        }
    )
    odds = pd.DataFrame(
        {
            "month": ["2017-03", "2019-03"],
            "planned": [22.0, 14.0],
            "p_at_or_under": [0.5, 0.27],
            "p_low": [0.43, 0.21],
            "p_high": [0.57, 0.33],
        }
    )
    fig = drawn(milestone_chart(values, odds, metric="inpatients", title="Inpatients", source="s"))
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 2
    for ax, planned in zip(panels, (22, 14)):
        for bar in ax.patches:
            at = bar.get_x() + bar.get_width() / 2
            colour = BAND_50 if round(at) <= planned else OVER
            assert mcolors.to_hex(bar.get_facecolor()) == colour, at
        heights = sum(bar.get_height() for bar in ax.patches)
        assert heights == pytest.approx(1.0)
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert all(float(t).is_integer() for t in ticks)
    assert "P(at or under) = 27% (21% to 33%)" in panels[1].get_title(loc="left")
    heading = fig.texts[0].get_text()
    assert "P(at or under the plan): Mar 2017 50%, Mar 2019 27%" in heading


def test_sweep_labels_read_as_words():
    assert human_label("tcp.ctr.coverage=0.6") == "CTR coverage 0.6"
    assert human_label("tcp.crisis.unregistered_rate=3, scenario=housing_first") == (
        "crisis unregistered rate 3; scenario housing first"
    )
    assert human_label("scenario=full_ctr_coverage") == "scenario full CTR coverage"
    assert human_label("job 3") == "job 3"
