"""The layers of ``sim`` stay one-way, and no import is hidden to dodge a cycle.

The contract itself lives in pyproject.toml ([tool.importlinter]) and ``lint-imports``
checks it. Import-linter sees every import, but it cannot tell an import that was moved
into a function or under ``if TYPE_CHECKING:`` to break a cycle from an honest one; these
tests forbid those two hiding places outside the few modules that need lazy imports.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SIM = ROOT / "sim"

# Modules whose imports inside functions are lazy loading on purpose: `marketsim --help`
# and `marketsim validate` start without Mesa, matplotlib or the engines (sim/cli/**), and
# `import sim` loads its public names on first use (PEP 562).
LAZY_MODULES = ("sim/__init__.py", "sim/cli/")

# (module, imported package) -> why that module imports it inside a function. Only optional
# heavy dependencies belong here, imported on the one rarely used path that needs them.
FUNCTION_IMPORT_ALLOWLIST: dict[tuple[str, str], str] = {
    # Dask (dask.distributed): only a run with --executor dask pays for importing it
    # (about a second and a few threads); dask_executor.py imports it at its top.
    ("sim/experiment/executors.py", "sim.experiment.dask_executor"): "optional: Dask",
    # EMA Workbench (PRIM for scenario discovery): only a folder with sampled markets pays
    # for importing it (about a second); prim_boxes.py imports it at its top.
    ("sim/analysis/discovery.py", "sim.analysis.prim_boxes"): "sampled markets only: PRIM",
    # numba (compiled kernels): only a large market pays for importing it (about half a
    # second and 100 MB); the modules of sim/model/kernels/compiled/ import it at their top.
    ("sim/model/kernels/__init__.py", "sim.model.kernels.compiled"): "large markets: numba",
}


def allowlisted(module: str, imported: list[str]) -> tuple[str, str] | None:
    """The allowlist entry that permits this import, if any."""
    for name in imported:
        for entry in FUNCTION_IMPORT_ALLOWLIST:
            if entry[0] == module and (name == entry[1] or name.startswith(entry[1] + ".")):
                return entry
    return None


def sim_modules() -> list[Path]:
    return sorted(p for p in SIM.rglob("*.py") if "__pycache__" not in p.parts)


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(node: ast.Import | ast.ImportFrom, importer: Path) -> list[str]:
    """Absolute names of the modules an import statement reads (relative ones resolved)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level == 0:
        base = node.module or ""
    else:
        package = module_name(importer).split(".")
        if importer.name != "__init__.py":
            package = package[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, *([node.module] if node.module else [])])
    # `from sim.x import y` may import the module sim.x.y: name both, the layer check
    # resolves each to its package.
    return [base, *(f"{base}.{a.name}" for a in node.names if a.name != "*")]


def dynamic_import(node: ast.AST) -> str | None:
    """The module named by ``import_module("x")``, ``importlib.import_module("x")`` or
    ``__import__("x")``: an import statement in disguise."""
    if not (isinstance(node, ast.Call) and node.args):
        return None
    func = node.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    first = node.args[0]
    if name in {"import_module", "__import__"}:
        return first.value if isinstance(first, ast.Constant) else "<computed>"
    return None


def imports_inside_functions(tree: ast.AST, path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, source, modules) of every import in a function body, nested ones included;
    ``importlib.import_module`` calls count as imports."""
    found: dict[int, tuple[int, str, list[str]]] = {}
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(fn):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    modules = imported_modules(node, path)
                elif (target := dynamic_import(node)) is not None:
                    modules = [target]
                else:
                    continue
                found[id(node)] = (node.lineno, ast.unparse(node), modules)
    return sorted(found.values())


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def type_checking_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for block in ast.walk(tree):
        if isinstance(block, ast.If) and is_type_checking(block.test):
            for stmt in block.body:
                for node in ast.walk(stmt):
                    if isinstance(node, ast.Import | ast.ImportFrom):
                        yield node


def layer_orders() -> list[list[set[str]]]:
    """Every layers contract of pyproject.toml (the one source of truth), one order per
    container, top first; each layer the set of its modules ("a | b" are siblings)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    orders = []
    for contract in config["tool"]["importlinter"]["contracts"]:
        if contract["type"] != "layers":
            continue
        for container in contract.get("containers", [None]):
            order = []
            for layer in contract["layers"]:
                names = {n.strip().strip("()") for n in layer.split("|")}
                order.append({f"{container}.{n}" if container else n for n in names})
            orders.append(order)
    return orders


def layers() -> list[str]:
    """The top-level layers (sim.cli ... sim.common), top first."""
    (top,) = [o for o in layer_orders() if "sim.cli" in o[0]]
    return [name for layer in top for name in sorted(layer)]


def layer_rank(module: str, order: list[set[str]]) -> int | None:
    """0 for the top layer, growing downwards; -1 for ``sim`` itself (above every layer:
    the public API); None outside the layers."""
    if module == "sim":
        return -1
    for rank, names in enumerate(order):
        if any(module == n or module.startswith(n + ".") for n in names):
            return rank
    return None


def test_the_scan_sees_every_module():
    assert len(sim_modules()) > 20
    order = layers()
    assert order[0] == "sim.cli" and order[-1] == "sim.common"
    assert all(len(o) > 1 for o in layer_orders())


def test_no_imports_inside_functions_outside_the_lazy_modules():
    found = []
    for path in sim_modules():
        name = rel(path)
        if name.startswith(LAZY_MODULES):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=name)
        for line, source, modules in imports_inside_functions(tree, path):
            if not allowlisted(name, modules):
                found.append(f"{name}:{line}: {source}")
    assert not found, (
        "imports inside functions (move them to the top of the module; if that makes a "
        "cycle, the code is in the wrong layer):\n" + "\n".join(found)
    )


def test_the_allowlist_names_only_imports_that_exist():
    """A stale allowlist entry would silently allow the next hidden import."""
    used = set()
    for path in sim_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for _, _, modules in imports_inside_functions(tree, path):
            used.add(allowlisted(rel(path), modules))
    assert set(FUNCTION_IMPORT_ALLOWLIST) <= used, sorted(set(FUNCTION_IMPORT_ALLOWLIST) - used)


def test_no_type_checking_import_from_a_higher_layer():
    orders = layer_orders()
    found = []
    for path in sim_modules():
        name = rel(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=name)
        hidden = [(node, imported_modules(node, path)) for node in type_checking_imports(tree)]
        for order in orders:
            own = layer_rank(module_name(path), order)
            if own is None or own < 0:
                continue  # not in this contract (sim/__init__.py sits above every layer)
            for node, targets in hidden:
                ranks = [layer_rank(t, order) for t in targets]
                if any(r is not None and r < own for r in ranks):
                    found.append(f"{name}:{node.lineno}: {ast.unparse(node)}")
    assert not found, (
        "`if TYPE_CHECKING:` imports from a higher layer (a cycle hidden from the "
        "interpreter; move the shared type down a layer):\n" + "\n".join(sorted(set(found)))
    )


def test_the_layer_contract_holds():
    exe = Path(sys.executable).with_name("lint-imports")
    command = str(exe) if exe.exists() else shutil.which("lint-imports")
    if command is None:
        pytest.fail("lint-imports is not installed (pip install -e '.[dev]')")
    done = subprocess.run(
        [command], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-2000:]


def test_the_scanners_find_hidden_imports():
    """The checks above pass because the code is clean, not because the scanners are blind."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "import typing\n"
        "if TYPE_CHECKING:\n"
        "    from sim.report.html import render_html\n"
        "if typing.TYPE_CHECKING:\n"
        "    from ..cli import commands\n"
        "def f():\n"
        "    import networkx\n"
        "    class C:\n"
        "        def g(self):\n"
        "            from . import spend\n"
        "    return importlib.import_module('sim.experiment.runner')\n"
    )
    path = SIM / "model" / "agents" / "customers.py"
    tree = ast.parse(source)
    inside = imports_inside_functions(tree, path)
    assert [modules[0] for _, _, modules in inside] == [
        "networkx",
        "sim.model.agents",
        "sim.experiment.runner",
    ]
    hidden = [imported_modules(node, path)[0] for node in type_checking_imports(tree)]
    assert hidden == ["sim.report.html", "sim.model.cli"]
    (top,) = [o for o in layer_orders() if "sim.cli" in o[0]]
    assert layer_rank("sim.report.html", top) < layer_rank("sim.model.agents", top)
