"""The scenarios that ship with marketsim (package data in ``sim/scenarios/``).

Why in ``config``: a scenario is named either by a path or by a bundled name, and every
entry point (the command line, :func:`sim.run_scenario`, the report) resolves it one way.

>>> "retention_vs_acquisition" in bundled_scenarios()
True
>>> resolve_scenario_path("retention_vs_acquisition").name
'retention_vs_acquisition.toml'
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["FLAGSHIP", "bundled_scenarios", "resolve_scenario_path", "scenarios_dir"]

FLAGSHIP = "retention_vs_acquisition"
"""The bundled scenario of the README's first command: acquisition vs. retention."""

SCENARIOS_ENV = "MARKETSIM_SCENARIOS"
"""Environment variable naming another folder of bundled scenarios (tests, site installs)."""


def scenarios_dir() -> Path:
    """The bundled scenarios' folder (``MARKETSIM_SCENARIOS`` overrides it).

    The files are package data of ``sim``, so this is the same folder in a checkout and
    in an installed wheel.
    """
    env = os.environ.get(SCENARIOS_ENV)
    return Path(env) if env else Path(__file__).resolve().parents[1] / "scenarios"


def bundled_scenarios() -> dict[str, Path]:
    """Bundled scenario name -> file, sorted by name (empty if the folder is missing)."""
    folder = scenarios_dir()
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.toml"))}


def resolve_scenario_path(text: str | os.PathLike[str]) -> Path:
    """A path as given, or the file of the bundled scenario called ``text``.

    Anything that exists, ends in ``.toml`` or contains a path separator is a path; a bare
    name is looked up among the bundled scenarios (and returned unchanged if unknown, so
    the reader's "file not found" names what the user typed).
    """
    text = os.fspath(text)
    path = Path(text)
    if path.exists() or path.suffix == ".toml" or os.sep in text:
        return path
    return bundled_scenarios().get(text, path)
