"""report.html of a sweep or a sensitivity folder: what was varied, what it changed.

Like a run's report, one self-contained page from the folder's files alone (manifest,
``sweep.csv`` or ``sensitivity.csv``, the figures in plots/): a plain-language headline,
the figure, the table and the provenance. User text is escaped.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from sim.common.files import atomic_write_text, read_table
from sim.common.formatting import format_number
from sim.common.outcomes import outcome_label
from sim.report.design_figures import sweep_parameters
from sim.report.html import CSS
from sim.report.labels import NOISE_FLOOR, parameter_label

__all__ = ["DESIGN_FIGURES", "design_headline", "render_design_report"]

DESIGN_FIGURES = {
    "sweep": (
        ("sweep_lines", "The outcome as the parameter varies"),
        ("sweep_heatmaps", "The outcome over the grid, and the best policy at each point"),
    ),
    "sensitivity": (("sensitivity", "Which uncertain parameters drive the outcome"),),
}
"""(file stem, title) of the figures a sweep or a sensitivity report embeds when drawn."""

MAX_ROWS = 300
"""Rows of the table shown on the page (the CSV keeps every one)."""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _winners_1d(sweep: pd.DataFrame, parameter: str) -> str:
    """'P is best for x from a to b, Q from c to d' along a one-parameter grid."""
    best = sweep[sweep["is_best"].astype(str) == "True"].sort_values(parameter)
    runs: list[tuple[str, float, float]] = []
    for _, r in best.iterrows():
        x = float(r[parameter])
        if runs and runs[-1][0] == r["policy"]:
            runs[-1] = (runs[-1][0], runs[-1][1], x)
        else:
            runs.append((str(r["policy"]), x, x))
    parts = [f"{p} for {a:g}" + (f" to {b:g}" if b != a else "") for p, a, b in runs]
    return "best: " + "; ".join(parts)


def design_headline(kind: str, table: pd.DataFrame) -> list[str]:
    """Plain-language sentences (not escaped) on a sweep or a sensitivity table."""
    if table.empty:
        return [f"No {kind} table in this folder."]
    outcome = outcome_label(str(table["outcome"].iloc[0]))
    if kind == "sweep":
        parameters = sweep_parameters(table)
        points = table["point"].nunique()
        names = " and ".join(parameter_label(p) for p in parameters)
        wins = table[table["is_best"].astype(str) == "True"]["policy"].value_counts()
        text = (
            f"Across the {points} grid points of {names}, the policy with the most {outcome} "
            "is " + ", ".join(f"{p} at {n}" for p, n in wins.items()) + "."
        )
        out = [text]
        if len(parameters) == 1:
            out.append(
                f"Along {parameter_label(parameters[0])}, {_winners_1d(table, parameters[0])}."
            )
        return out
    method = str(table["method"].iloc[0])
    key, what = ("ST", "total Sobol' index") if method == "sobol" else ("mu_star", "mu*")
    out = []
    frame = table.fillna({"compared_with": ""})
    for (policy, versus), block in frame.groupby(["policy", "compared_with"], sort=False):
        floor = block.loc[block["parameter"] == NOISE_FLOOR, key]
        real = block[block["parameter"] != NOISE_FLOOR].sort_values(key, ascending=False)
        if real.empty:
            continue
        who = f"{policy} minus {versus}" if versus else str(policy)
        top = [
            f"{parameter_label(r['parameter'])} ({what} {format_number(r[key])})"
            for _, r in real.head(2).iterrows()
        ]
        noise = (
            f"; the noise floor (a parameter with no effect) gets {format_number(floor.iloc[0])}"
            if not floor.empty and not math.isnan(float(floor.iloc[0]))
            else ""
        )
        out.append(f"{who}: {outcome} depends most on " + ", then ".join(top) + noise + ".")
    return out or ["No sensitivity indices in this folder."]


def _table(table: pd.DataFrame) -> str:
    shown = table.head(MAX_ROWS)
    head = "".join(f"<th>{_e(c)}</th>" for c in shown.columns)
    body = []
    for _, r in shown.iterrows():
        cells = []
        for v in r:
            if isinstance(v, float):
                cells.append(f"<td class='num'>{_e(format_number(v))}</td>")
            else:
                cells.append(f"<td>{_e(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = (
        f"<p class='note'>First {MAX_ROWS} of {len(table)} rows; the CSV holds all.</p>"
        if len(table) > MAX_ROWS
        else ""
    )
    return f"<table><tr>{head}</tr>{''.join(body)}</table>{more}"


def _figures(folder: Path, kind: str) -> str:
    out = []
    for stem, title in DESIGN_FIGURES.get(kind, ()):
        png = folder / "plots" / f"{stem}.png"
        if png.is_file():
            src = "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii")
            out.append(
                f"<section class='figure' id='{_e(stem)}'><h3>{_e(title)}</h3>"
                f"<img src='{src}' alt='{_e(title)}'></section>"
            )
    return "".join(out) or "<p class='note'>No figures drawn (plots are switched off).</p>"


def _manifest(folder: Path) -> dict[str, Any]:
    try:
        loaded = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def render_design_report(folder: str | Path, facts: Sequence[str] = ()) -> Path | None:
    """Write ``folder/report.html`` for a sweep or a sensitivity folder; None for another kind.

    ``facts``: the manifest keys listed at the end (default: file, policies, counts, seed).
    """
    folder = Path(folder)
    m = _manifest(folder)
    kind = str(m.get("kind", ""))
    if kind not in ("sweep", "sensitivity"):
        return None
    table = read_table(folder / f"{kind}.csv", missing_ok=True)
    lines = design_headline(kind, table)
    design = m.get("design", {}) or {}
    if kind == "sweep":
        varied = ", ".join(parameter_label(p) for p in design.get("parameters", []))
        title = f"{m.get('scenario', '')}: a sweep of {varied}"
        note = (
            "Every policy ran at every grid point on the same seeds (common random numbers); "
            "the bands and intervals are 95% intervals across replications. Table: "
            "<code>sweep.csv</code> (one row per grid point and policy)."
        )
    else:
        title = f"{m.get('scenario', '')}: what drives the outcome ({design.get('method', '')})"
        note = (
            "A SALib design over the scenario's [uncertainties]; the noise floor is a "
            "parameter that changes nothing, so an index at or below it is noise. Table: "
            "<code>sensitivity.csv</code>."
        )
    keys = facts or ("scenario_file", "policies", "replications", "steps", "seed", "finished")
    items = "".join(
        f"<li>{_e(k)}: <code>{_e(', '.join(map(str, v)) if isinstance(v, list) else v)}</code></li>"
        for k in keys
        if (v := m.get(k)) not in (None, "")
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title><style>{CSS}</style></head>
<body>
<header><h1>{_e(title)}</h1><p class="question">{_e(m.get("question", ""))}</p></header>
<p id="headline">{_e(lines[0])}</p>
<ul class="details">{"".join(f"<li>{_e(x)}</li>" for x in lines[1:])}</ul>
<p class="note">{note}</p>
<h2>Figures</h2>
{_figures(folder, kind)}
<h2>The {_e(kind)} table</h2>
{_table(table)}
<footer><h3>Provenance</h3><ul>{items}</ul>
<p>Every value used: <code>scenario.resolved.toml</code>; versions and command line:
<code>manifest.json</code>.</p></footer>
</body></html>
"""
    path = folder / "report.html"
    atomic_write_text(path, page)
    return path
