"""The stress test in the report: a tornado of the verdict's difference and its section.

Drawn from ``stress.csv`` (:mod:`sim.analysis.stress`) only. Each row of the tornado is
one assumption: a bar from the leader's paired difference over the other policy at the
assumption's low end to the difference at its high end (dark grey: the high end, light
grey: the low end; colours belong to the policies), with 95% intervals as thin lines. The
dashed line is the difference on the nominal market; left of the solid zero line the
verdict reverses.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.analysis.stress import stress_sentences
from sim.common.files import read_table
from sim.common.outcomes import outcome_label
from sim.report.data import ResultsData
from sim.report.labels import is_money, money
from sim.report.panels import Skipped
from sim.report.style import MONEY, NEUTRAL, policy_colors

__all__ = ["STRESS_FIGURE", "fig_stress", "stress_of", "stress_rows"]

STRESS_FIGURE = (
    "stress_tornado",
    "Which assumptions could reverse the verdict",
    "Each bar runs from the difference at an assumption's low end (light grey) to its high "
    "end (dark grey); thin lines are 95% intervals across the paired replications; the "
    "dashed line is the difference on the nominal market. Left of the zero line the "
    "verdict reverses. Table: stress.csv.",
)
"""(file stem, title, caption) of the stress figure."""

HIGH = "#555555"
LOW = "#C8C8C8"


def stress_of(data: ResultsData) -> pd.DataFrame:
    """The folder's stress.csv (empty when there is none)."""
    return read_table(data.folder / "stress.csv", missing_ok=True)


def stress_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The tested assumptions (both ends run), most influential first."""
    if table.empty or "low" not in table:
        return table
    return table[table["low"].notna() & table["diff_low"].notna()]


def fig_stress(data: ResultsData, band: float = 0.9) -> Figure | Skipped:
    """The tornado of ``stress.csv``."""
    table = stress_of(data)
    rows = stress_rows(table)
    if rows.empty:
        return Skipped("no stress test in these results (marketsim run --stress)")
    leader, other = str(rows["leader"].iloc[0]), str(rows["other"].iloc[0])
    outcome = str(rows["outcome"].iloc[0])
    currency = data.scenario.get("outputs", {}).get("currency")
    fig = Figure(figsize=(9.0, 0.42 * len(rows) + 1.6), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(rows))[::-1]
    low = rows["diff_low"].to_numpy(float)
    high = rows["diff_high"].to_numpy(float)
    nominal = float(rows["diff_nominal"].iloc[0])
    for end, values, color, dy in (("low", low, LOW, -0.17), ("high", high, HIGH, 0.17)):
        ax.barh(y + dy, values - nominal, left=nominal, height=0.34, color=color, zorder=3)
        lo = rows[f"diff_{end}_ci_low"].to_numpy(float)
        hi = rows[f"diff_{end}_ci_high"].to_numpy(float)
        ok = np.isfinite(lo) & np.isfinite(hi)
        ax.hlines(y[ok] + dy, lo[ok], hi[ok], color="black", lw=0.9, zorder=4)
    ax.axvline(0.0, color="black", lw=1.0, zorder=2)
    lead_color = policy_colors(data.policies).get(leader, NEUTRAL)
    ax.axvline(nominal, color=lead_color, lw=1.2, ls="--")
    labels = [
        f"{r['assumption']}\n{r['low']:g} to {r['high']:g} (now {r['value']:g})"
        for _, r in rows.iterrows()
    ]
    ax.set_yticks(y, labels)
    ax.grid(axis="y", visible=False)
    if is_money(outcome):
        ax.xaxis.set_major_formatter(MONEY)
    unit = (f"money, {currency}" if currency else "money") if is_money(outcome) else ""
    ax.set_xlabel(
        f"{outcome_label(outcome)}: {leader} minus {other}" + (f" ({unit})" if unit else "")
    )
    ax.set_title(f"{leader} vs. {other}: each assumption at the ends of its range", loc="left")
    handles = [
        Patch(color=LOW, label="at the low end"),
        Patch(color=HIGH, label="at the high end"),
        Line2D([], [], color=lead_color, ls="--", label="nominal market"),
        Line2D([], [], color="black", label="no difference (left of it: reversed)"),
    ]
    fig.legend(handles=handles, loc="outside upper center", ncol=4)
    ax.margins(x=0.05)
    return fig


def _num(x: Any, outcome: str, currency: str | None) -> str:
    value = float(x)
    if math.isnan(value):
        return "-"
    return money(value, currency, signed=True) if is_money(outcome) else f"{value:+,.3g}"


def stress_table_rows(table: pd.DataFrame, currency: str | None) -> list[list[str]]:
    """Cells (plain text) of the report's stress table: one row per assumption."""
    out = []
    for _, r in table.iterrows():
        outcome = str(r["outcome"])
        if pd.isna(r["low"]) or pd.isna(r.get("diff_low")):
            out.append([str(r["assumption"]), str(r["path"]), "-", "-", "-", str(r["note"])])
            continue
        cells = [str(r["assumption"]), str(r["path"]), f"{r['low']:g} to {r['high']:g}"]
        for end in ("low", "high"):
            cells.append(
                f"{_num(r[f'diff_{end}'], outcome, currency)} ("
                f"{_num(r[f'diff_{end}_ci_low'], outcome, currency)} to "
                f"{_num(r[f'diff_{end}_ci_high'], outcome, currency)})"
            )
        verdict = "no"
        if str(r["reverses"]) == "True":
            verdict = "yes, clearly" if str(r["clearly_reverses"]) == "True" else "yes (unclear)"
        cells.append(verdict)
        out.append(cells)
    return out


def stress_summary(data: ResultsData) -> list[str]:
    """The stress test's sentences (plain text), empty without one."""
    return stress_sentences(stress_of(data))
