"""``marketsim report``: re-draw a results folder's figures and report from its files alone.

Why in ``report``: a folder must be redrawable without the model, the runner or the
scenario file it came from. The folder is checked against the results contract first
(nothing is drawn from a damaged table); a run's robustness tables are recomputed from
its outcomes by :mod:`sim.analysis` (judged on the folder's own resolved scenario); a
sweep or sensitivity folder is redrawn from the kind and design its manifest records.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from sim.analysis.robustness import write_robustness
from sim.common.errors import ResultsFolderError, ScenarioError
from sim.common.files import csv_text
from sim.config.scenario_file import ScenarioFile, load_scenario
from sim.report import render_report
from sim.report.data import check_results_folder
from sim.report.design_figures import draw_sensitivity_figure, draw_sweep_figures
from sim.report.design_report import render_design_report
from sim.report.robustness_figures import draw_robustness_figures

__all__ = ["read_manifest", "redraw"]


def redraw(
    folder: str | os.PathLike[str], *, quiet: bool = True
) -> tuple[int, list[tuple[str, str]], Path | None]:
    """Re-draw the figures (and the report of a run) of a results folder from its files.

    Returns the number of figures drawn, the skipped ones with the reason, and the
    report's path (None where there is none).
    """
    folder = Path(folder)
    check_results_folder(folder)  # the results contract: nothing drawn from a damaged table
    manifest = read_manifest(folder)
    kind = str(manifest.get("kind", "run"))
    if kind == "run":
        _redraw_robustness(folder, quiet)
        path, plots = render_report(folder)
        drawn = sum(1 for p in plots if p.png is not None)
        return drawn, [(p.name, p.skipped) for p in plots if p.skipped], path
    sf = _resolved(folder)
    table_name = "sweep" if kind == "sweep" else "sensitivity"
    path = folder / f"{table_name}.csv"
    if not path.is_file():
        raise ResultsFolderError(f"{folder}: no {table_name}.csv (is the {kind} finished?)")
    draw_figures = draw_sweep_figures if kind == "sweep" else draw_sensitivity_figure
    files = draw_figures(folder, formats=sf.outputs.formats, dpi=sf.outputs.dpi)
    return len({f.stem for f in files}), [], render_design_report(folder)


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    if not path.is_file():
        return {}
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultsFolderError(f"{path}: not a readable manifest ({exc})") from None
    if not isinstance(loaded, dict):
        raise ResultsFolderError(f"{path}: expected a JSON object, got {type(loaded).__name__}")
    return loaded


def _resolved(folder: Path) -> ScenarioFile:
    path = folder / "scenario.resolved.toml"
    if not path.is_file():
        raise ResultsFolderError(f"{folder}: no scenario.resolved.toml (not a results folder?)")
    return load_scenario(path)


def _redraw_robustness(folder: Path, quiet: bool) -> None:
    """Re-draw the robustness tables and figures of a folder that has them.

    They are judged on the folder's own ``scenario.resolved.toml`` (policies, outcome,
    focal firm), so ``marketsim report`` needs nothing but the folder.
    """
    if not (folder / "robustness.csv").is_file():
        return
    try:
        sf = _resolved(folder)
    except (ScenarioError, ResultsFolderError) as exc:  # e.g. a graph file that has moved
        if not quiet:
            print(f"robustness figures kept as they were: {exc}", file=sys.stderr)
        return
    policies = [csv_text(p.name) for p in sf.policies]  # as the tables name them
    write_robustness(
        folder, focal=csv_text(sf.firm.name), outcome=sf.experiment.outcome, policies=policies
    )
    if sf.outputs.plots:
        draw_robustness_figures(folder, formats=sf.outputs.formats, dpi=sf.outputs.dpi)
