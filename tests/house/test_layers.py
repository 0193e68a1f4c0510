"""The house imports one way: each layer of sim/ imports only the layers below it, there is no import
circle, and the compiled engine's import chain loads no SimPy (docs/architecture.md)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SIM = Path(__file__).resolve().parents[2] / "sim"

#: Layers, lowest first. A module may import its own layer and those listed before it, never after.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("sim.pathway", "sim.sampling"),
    ("sim.arithmetic",),
    ("sim.config",),
    (
        "sim.results",
        "sim.results.record",
        "sim.results.catalogue",
        "sim.results.monthly",
        "sim.results.summary",
        "sim.results.analytic",
        "sim.results.intervals",
        "sim.results.chunks",
        "sim.results.disclosure",
    ),
    ("sim.model", "sim.engine"),
    ("sim.finance.ledger",),
    ("sim.metrics",),
    ("sim.observed",),
    ("sim.runner",),
    ("sim.plots",),
    ("sim.finance",),
    ("sim.report",),
    ("sim.api",),
    ("sim.compare", "sim.capacity", "sim.sweep", "sim.calibrate", "sim.new_area"),
    (
        "sim.cli",
        "sim.__main__",
        "sim.compare.__main__",
        "sim.calibrate.__main__",
        "sim.new_area.__main__",
        "sim.app",  # the web app: the Run page over sim.api, the charts of sim.plots
    ),
)


def layer_of(module: str) -> int:
    """The layer of a module: that of the longest listed prefix."""
    best, rank = -1, -1
    for i, names in enumerate(LAYERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and len(name) > best:
                best, rank = len(name), i
    assert rank >= 0, f"{module} is in no layer of tests/house/test_layers.py (add it)"
    return rank


def sim_modules() -> dict[str, Path]:
    out = {}
    for path in SIM.rglob("*.py"):
        parts = path.relative_to(SIM.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imports_of(path: Path, module: str) -> set[str]:
    """The sim modules a module imports at its top level or in functions (not those for type checking)."""
    tree = ast.parse(path.read_text())
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    typing_only = {  # imports under ``if TYPE_CHECKING:`` name a type for the checker and run nothing
        id(n)
        for branch in ast.walk(tree)
        if isinstance(branch, ast.If) and isinstance(branch.test, ast.Name) and branch.test.id == "TYPE_CHECKING"
        for n in ast.walk(branch)
    }
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("sim")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            if base.startswith("sim"):
                if base != "sim":  # ``from sim import pathway`` imports the submodule, not the package's code
                    found.add(base)
                found |= {f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in sim_modules()}
    return found


def test_every_import_goes_down() -> None:
    """No module imports a layer above its own (so no import circle can form between layers)."""
    upward = []
    for module, path in sim_modules().items():
        for target in imports_of(path, module):
            if target in sim_modules() and layer_of(target) > layer_of(module):
                upward.append(f"{module} imports {target}")
    assert not upward, "\n".join(sorted(upward))


def test_no_import_circle() -> None:
    """Between modules too, within a layer: the import graph of sim/ has no cycle."""
    modules = sim_modules()
    graph = {m: {t for t in imports_of(p, m) if t in modules and t != m} for m, p in modules.items()}
    # a package imports its own submodules to export them; that is not a circle
    graph = {m: {t for t in ts if not (t.startswith(m + "."))} for m, ts in graph.items()}
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for t in graph[m]:
            if state.get(t) == 1:
                raise AssertionError("import circle: " + " -> ".join([*path[path.index(t) :], t]))
            if t not in state:
                visit(t, [*path, t])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [m])


def test_engine_loads_no_simpy() -> None:
    """Importing the compiled engine (and the runner's Numba path) does not import simpy."""
    code = "import sys, sim.engine; assert 'simpy' not in sys.modules, 'simpy loaded'; print('ok')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr
