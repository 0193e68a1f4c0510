"""The experiments that are scripts (experiments/erlang_check.py, bhr_backtest.py, pooled_budget.py) show
progress and write their table beside the printed one, into a new directory each time (issue 14, point 7)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]


def script(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """An experiment run as a user runs it, from ``cwd`` (its outputs/ go there)."""
    return subprocess.run(
        [sys.executable, str(ROOT / "experiments" / name), *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def written(p: subprocess.CompletedProcess, cwd: Path, name: str) -> pd.DataFrame:
    """The table the run says it wrote (its last line), in a directory of its own under outputs/experiments."""
    assert p.returncode == 0, p.stderr
    last = p.stdout.strip().splitlines()[-1]
    assert last.startswith("wrote outputs/experiments/"), last
    path = cwd / last.removeprefix("wrote ")
    assert path.name == f"{name}.csv" and path.parent.parent == cwd / "outputs" / "experiments" / name
    return pd.read_csv(path)


def test_erlang_check_says_each_case_and_writes_its_figures(tmp_path):
    p = script("erlang_check.py", "2", cwd=tmp_path)
    assert "case 1 of 2:" in p.stdout and "case 2 of 2:" in p.stdout
    table = written(p, tmp_path, "erlang_check")
    assert len(table) == 2 and {"ooa_share", "erlang_b", "occupied_beds"} <= set(table.columns)
    again = script("erlang_check.py", "2", cwd=tmp_path)  # a second run: a new directory, the first kept
    written(again, tmp_path, "erlang_check")
    assert len(list((tmp_path / "outputs" / "experiments" / "erlang_check").iterdir())) == 2


def test_bhr_backtest_writes_its_table_and_refuses_a_bad_override_in_one_line(tmp_path):
    p = script("bhr_backtest.py", "run.replications=4", cwd=tmp_path)
    assert "summarising 4 replications" in p.stdout  # the run's own lines, through logging
    table = written(p, tmp_path, "bhr_backtest")
    assert {"figure", "recorded", "mean", "p05", "p95", "inside_90"} <= set(table.columns)
    assert table["recorded"].notna().sum() >= 4 and table["recorded"].isna().any()
    bad = script("bhr_backtest.py", "run.replications=0", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.strip().startswith("config error: run.replications")
    assert len(bad.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_pooled_budget_says_each_scenario_and_writes_its_table(tmp_path):
    p = script("pooled_budget.py", "run.replications=2", cwd=tmp_path)
    assert "scenario 1 of " in p.stdout
    table = written(p, tmp_path, "pooled_budget")
    assert set(table["month"]) == {"2019-03", "2021-03"} and table["scenario"].nunique() >= 2
