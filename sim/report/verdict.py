"""The end of the report: the stress section and one recommendation sentence.

Why apart from :mod:`sim.report.html`: the recommendation gathers what the report found
(the headline comparison, the robustness and discovery result, the stress test) into one
sentence that states its conditions and its uncertainty, and its rules are easier to read
and test as plain functions of those findings than inside the page's template.

>>> print(recommendation_text(leader="B", other="A", focal="f", label="cumulative profit",
...     lead="+1.2M", interval="(95% interval +0.8M to +1.6M)", agree=9, n=10, clear=True))
Recommendation: prefer B to A for f's cumulative profit: it leads by +1.2M (95% interval +0.8M to +1.6M), ahead in 9 of 10 paired replications, provided the market behaves as this scenario assumes; no stress test was run (marketsim run --stress tests which assumptions could reverse it).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from html import escape

import pandas as pd

from sim.report.plots import PlotResult
from sim.report.stress_report import STRESS_FIGURE, stress_rows, stress_table_rows

__all__ = ["recommendation_text", "stress_clause", "stress_section"]


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def stress_clause(table: pd.DataFrame | None) -> str:
    """What the stress test says about the verdict, as a clause (plain text).

    >>> t = pd.DataFrame({"assumption": ["x"], "low": [1.0], "high": [2.0],
    ...     "diff_low": [-1.0], "reverses": [True], "clearly_reverses": [False],
    ...     "reverses_low": [True], "reverses_high": [False]})
    >>> stress_clause(t)
    'and unless x is near its low end (1) (the stress test: there the lead reverses, though within its interval)'
    """
    if table is None or table.empty:
        return (
            "no stress test was run (marketsim run --stress tests which assumptions could "
            "reverse it)"
        )
    rows = stress_rows(table)
    if rows.empty:
        return "the stress test could test no assumption (see stress.csv)"
    flips = rows[rows["reverses"].astype(str) == "True"]
    if flips.empty:
        return (
            f"and it holds with each of the {len(rows)} assumptions stressed at both ends of "
            "its range (stress.csv)"
        )
    parts = []
    for _, r in flips.iterrows():
        ends = [
            f"{end} end ({r[end]:g})"
            for end in ("low", "high")
            if str(r[f"reverses_{end}"]) == "True"
        ]
        parts.append(f"{r['assumption']} is near its {' or '.join(ends)}")
    sure = (
        "clearly"
        if (flips["clearly_reverses"].astype(str) == "True").any()
        else "though within its interval"
    )
    return f"and unless {'; or '.join(parts)} (the stress test: there the lead reverses, {sure})"


def recommendation_text(
    *,
    leader: str,
    other: str,
    focal: str,
    label: str,
    lead: str,
    interval: str,
    agree: int,
    n: int,
    clear: bool,
    robust: str | None = None,
    stress: pd.DataFrame | None = None,
) -> str:
    """One sentence: what to choose, by how much, how sure, and on which conditions.

    ``lead`` and ``interval`` are the formatted paired difference and its interval;
    ``robust`` a sentence on the sampled markets (robustness or discovery) when the
    experiment sampled any; ``stress`` the stress table when one was run.
    """
    if n < 2:
        return (
            f"No recommendation yet: {leader} leads {other} by {lead} in {focal}'s {label}, "
            "but from one replication there is no interval; run more replications before "
            "deciding."
        )
    if not clear:
        return (
            f"No clear recommendation: {leader} leads {other} by {lead} in {focal}'s {label} "
            f"{interval}, ahead in {agree} of {n} paired replications, but the interval "
            "includes no difference; run more replications, or treat the two as equal on "
            "this outcome and decide on other grounds."
        )
    conditions = "provided the market behaves as this scenario assumes"
    if robust:
        conditions = f"across the sampled markets ({robust.rstrip('.')})"
    return (
        f"Recommendation: prefer {leader} to {other} for {focal}'s {label}: it leads by "
        f"{lead} {interval}, ahead in {agree} of {n} paired replications, {conditions}; "
        f"{stress_clause(stress)}."
    )


def stress_section(
    plots: Sequence[PlotResult],
    table: pd.DataFrame,
    sentences: Sequence[str],
    currency: str | None,
    figure: Callable[[int, PlotResult], str] | None = None,
) -> str:
    """The report's section "Which assumptions could reverse the verdict" (HTML)."""
    if table.empty:
        return ""
    stem = STRESS_FIGURE[0]
    images = []
    for p in plots:
        if p.name == stem and p.png is not None:
            if figure is not None:
                images.append(figure(0, p))
            else:
                src = "data:image/png;base64," + base64.b64encode(p.png).decode("ascii")
                images.append(f"<img src='{src}' alt='{_e(p.title)}'>")
    head = (
        "<tr><th>assumption</th><th>key</th><th>range tested</th>"
        "<th>difference at the low end (95% interval)</th>"
        "<th>difference at the high end (95% interval)</th><th>reverses the verdict</th></tr>"
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='num'>{_e(c)}</td>" if 2 <= k <= 4 else f"<td>{_e(c)}</td>"
            for k, c in enumerate(cells)
        )
        + "</tr>"
        for cells in stress_table_rows(table, currency)
    )
    r = table.iloc[0]
    return (
        "<h2 id='stress'>Which assumptions could reverse the verdict</h2>"
        f"<p id='stress-headline'><strong>{_e(sentences[0]) if sentences else ''}</strong></p>"
        f"<ul class='details'>{''.join(f'<li>{_e(x)}</li>' for x in sentences[1:])}</ul>"
        f"<p class='note'>{_e(r['leader'])} and {_e(r['other'])} reran with each assumption "
        "moved to the low and the high end of its range, one at a time, on the nominal market "
        "(both policies on the same seeds at each end). Range: the scenario's "
        "[uncertainties] range where it gives one, else the assumption's effect halved and "
        "raised by half, within the schema's bounds. The verdict reverses where the mean "
        "difference falls below zero, clearly so where its whole 95% interval does. Tables: "
        "<code>stress.csv</code>, <code>stress/outcomes.csv</code>.</p>"
        + "".join(images)
        + f"<table>{head}{body}</table>"
    )
