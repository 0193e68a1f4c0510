"""The notebooks of notebooks/ (issue 5, point 7): each runs top to bottom in a Jupyter kernel with few
replications and no error, writing nothing; each is saved as it should be, without outputs and with a
``parameters`` cell (papermill's convention) whose replication count the test can shrink."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = {"01_trajectory_bands", "02_scenario_comparison", "03_atu_capacity", "04_south_east_hub"}
REPLICATIONS = 20  # enough to run every cell; far too few to read the answers
CELL_TIMEOUT = 300  # seconds a cell may take (a cold Numba cache compiles the engine first, about 30 s)


def _code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


def _ids(path: Path) -> str:
    return path.stem


def test_the_notebooks_are_there():
    assert {p.stem for p in NOTEBOOKS} >= EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_saved_without_outputs_and_with_parameters(path: Path):
    """No outputs, no execution counts or timings, a python3 kernelspec; the first code cell is the one
    tagged ``parameters`` and takes its replication count from TCP_SIM_REPLICATIONS; a markdown cell comes
    first (the planning question)."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    assert nb.cells and nb.cells[0].cell_type == "markdown"
    code = _code_cells(nb)
    for i, cell in enumerate(code):
        where = f"{path.name}, code cell {i + 1} ({cell.source.splitlines()[0] if cell.source else 'empty'!r})"
        assert cell.outputs == [], f"{where} is saved with outputs: clear them before saving"
        assert cell.execution_count is None, f"{where} is saved with an execution count"
        assert "execution" not in cell.metadata, f"{where} is saved with execution timings"
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: {len(tagged)} cells tagged 'parameters', need exactly one"
    assert tagged[0] is code[0], f"{path.name}: the 'parameters' cell must be the first code cell"
    assert "TCP_SIM_REPLICATIONS" in tagged[0].source and "REPLICATIONS" in tagged[0].source


def _kernel_manager() -> AsyncKernelManager:
    """A manager for ipykernel's own (native) kernelspec, which runs this interpreter (sys.executable),
    whatever kernelspecs the machine has installed (an empty search path leaves only the native one)."""
    km = AsyncKernelManager(kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[]))
    assert km.kernel_spec.argv[0] == sys.executable
    return km


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_runs(path: Path, tmp_path: Path):
    """Every cell runs without error at 20 replications, in a kernel whose working directory is an empty
    temporary directory that stays empty (a notebook writes no files), and the charts reach the notebook."""
    nb = nbformat.read(path, as_version=4)
    work = tmp_path / "cwd"
    work.mkdir()
    client = NotebookClient(
        nb,
        km=_kernel_manager(),
        timeout=CELL_TIMEOUT,
        startup_timeout=120,
        allow_errors=False,
        resources={"metadata": {"path": str(work)}},
    )
    # without MPLBACKEND: importing streamlit (the app's tests, in the same worker) sets it to Agg for the
    # whole process, and a kernel started with it draws no chart inline
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env.update({"TCP_SIM_REPLICATIONS": str(REPLICATIONS), "IPYTHONDIR": str(tmp_path / "ipython")})
    client.execute(env=env, cleanup_kc=True)  # raises CellExecutionError, with the cell's traceback
    outputs = [o for c in _code_cells(nb) for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{path.name} drew no chart inline"
    assert list(work.iterdir()) == [], f"{path.name} wrote files into its working directory"
