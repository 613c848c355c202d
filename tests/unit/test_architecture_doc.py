"""docs/architecture.md stays true to the code: it names every module, and only modules."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"


def _modules() -> set[str]:
    sim = ROOT / "sim"
    found = {p.relative_to(sim).as_posix() for p in sim.rglob("*.py")}
    # a package's __init__ is named by its folder; the root's own modules are listed
    return {m for m in found if not m.endswith("/__init__.py")}


def _tree_block() -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"## The tree\n+```\n(.*?)```", text, re.S)
    assert match, "docs/architecture.md needs a '## The tree' section with a code block"
    return match.group(1)


def _named_in_tree() -> set[str]:
    named: set[str] = set()
    folders: list[str] = []
    for line in _tree_block().splitlines():
        m = re.match(r"^( *)(\S+)", line)
        if not m:
            continue
        depth, name = len(m.group(1)) // 2, m.group(2)
        folders = folders[:depth]
        if name.endswith("/"):
            folders.append(name.rstrip("/"))
        elif name.endswith(".py"):
            named.add("/".join([*folders[1:], name]))  # folders[0] is sim/
    return named


def test_every_module_is_in_the_tree_and_every_listed_module_exists():
    modules, named = _modules(), _named_in_tree()
    assert not modules - named, (
        f"modules missing from docs/architecture.md: {sorted(modules - named)}"
    )
    assert not named - modules, (
        f"docs/architecture.md lists missing modules: {sorted(named - modules)}"
    )


def test_the_layer_contract_in_the_doc_is_the_enforced_one():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    block = pyproject.split('type = "layers"', 1)[1].split("]", 1)[0]
    layers = re.findall(r'"(sim\.[a-z_.]+)"', block)
    doc = DOC.read_text(encoding="utf-8")
    assert " > ".join(name.removeprefix("sim.") for name in layers) in doc
