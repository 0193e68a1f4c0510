"""A run writes its board charts as 200 dpi PNGs with SVGs beside them, and the milestone chart
(milestones.png) when its plan has a milestone after the start, not otherwise."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from helpers import loss_cfg

from sim.api import run


def png_dpi(path: Path) -> float:
    """The dots per inch of a PNG's pHYs chunk (0 if it has none)."""
    data = path.read_bytes()
    at = 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        if kind == b"pHYs":
            ppu, _, unit = struct.unpack(">IIB", data[at + 8 : at + 17])
            return ppu * 0.0254 if unit == 1 else 0.0
        at += 12 + length
    return 0.0


def small_run(out: Path, **updates) -> Path:
    """The loss-system TCP for a year at 4 replications, written to ``out``."""
    run(loss_cfg(**{"run.replications": 4, "run.years": 1, **updates}), out_dir=out)
    return out


@pytest.fixture(scope="module")
def planned(tmp_path_factory) -> Path:
    plan = [{"date": "2016-03", "inpatients": 0}, {"date": "2016-12", "inpatients": 10}]
    return small_run(tmp_path_factory.mktemp("planned") / "run", **{"tcp.trajectory": plan})


def test_a_run_with_a_plan_writes_the_milestone_chart(planned):
    assert (planned / "milestones.png").is_file() and (planned / "milestones.svg").is_file()


def test_every_chart_is_a_200_dpi_png_with_an_svg_beside_it(planned):
    pngs = sorted(planned.glob("*.png"))
    assert {p.name for p in pngs} >= {"fan_inpatients.png", "fan_by_unit.png", "milestones.png"}
    for png in pngs:
        assert png_dpi(png) == pytest.approx(200, abs=0.1), png.name
        assert png.with_suffix(".svg").is_file(), png.name


def test_a_run_without_a_plan_writes_no_milestone_chart(tmp_path):
    out = small_run(tmp_path / "run")  # configs/tcp/loss_system.yaml plans nothing
    assert (out / "fan_inpatients.png").is_file()
    assert not (out / "milestones.png").exists() and not (out / "milestones.svg").exists()


def test_a_plan_of_the_census_alone_writes_no_milestone_chart(tmp_path):
    """The start census is met by definition: no distribution to draw."""
    out = small_run(tmp_path / "run", **{"tcp.trajectory": [{"date": "2016-03", "inpatients": 0}]})
    assert not (out / "milestones.png").exists()
