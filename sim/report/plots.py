"""The report's figures, drawn from a results folder's tables (never from a model).

Eight figures, one consistent style (:mod:`sim.report.style`): the Okabe-Ito colour-blind
safe palette, units on every axis, the focal firm's outcomes unless a figure says
otherwise. A figure whose columns the results lack (e.g. staff measures of an engine
without employees) is skipped with a note instead of failing, and appears by itself
once the columns are there. The figures themselves live in
:mod:`sim.report.figures_time` and :mod:`sim.report.figures_outcomes`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from matplotlib.figure import Figure

from sim.common.files import atomic_write_bytes
from sim.report.data import ResultsData
from sim.report.figures_outcomes import (
    fig_churn_reasons,
    fig_economics,
    fig_final_outcomes,
    fig_network,
    fig_pyramid,
)
from sim.report.figures_time import fig_policies_over_time, fig_staff_suppliers, fig_word_of_mouth
from sim.report.figures_waterfall import fig_waterfall
from sim.report.panels import Skipped, churn_reasons
from sim.report.style import figure_bytes, style_context

__all__ = [
    "FIGURES",
    "PlotResult",
    "Skipped",
    "churn_reasons",
    "render_plots",
]


@dataclass
class PlotResult:
    """One figure: its files, its PNG bytes for embedding, or why it was skipped."""

    name: str
    title: str
    caption: str
    files: list[Path] = field(default_factory=list)
    png: bytes | None = None
    skipped: str | None = None
    notes: list[str] = field(default_factory=list)


FigureFn = Callable[[ResultsData, float], Figure | Skipped]

FIGURES: tuple[tuple[str, str, str, FigureFn], ...] = (
    (
        "1_policies_over_time",
        "Policies over time",
        "The focal firm under each policy: median across replications (line) and the band "
        "holding {band:.0%} of them.",
        fig_policies_over_time,
    ),
    (
        "2_final_outcomes",
        "Final outcomes per policy",
        "Each dot is one replication at the end of the horizon; the bar is the mean, the thin "
        "line the {band:.0%} range; ★ marks the policy with the highest mean.",
        fig_final_outcomes,
    ),
    (
        "3_acquisition_vs_retention",
        "Acquisition vs. retention economics",
        "Top: marketing spend per customer won by paid channels vs. per customer-year retained, "
        "and the years a paid new customer's margin takes to repay its cost. Bottom: the leaky "
        "bucket, customers won and lost each quarter (mean over replications).",
        fig_economics,
    ),
    (
        "4_word_of_mouth",
        "Word of mouth",
        "Referrals told by promoters, referrals that became customers, and peers deterred by "
        "dissatisfied customers (median and {band:.0%} band).",
        fig_word_of_mouth,
    ),
    (
        "5_customer_pyramid",
        "The customer pyramid",
        "The focal firm's customers in each tier (top 1%, big 4%, medium 15%, small; and "
        "former customers), one panel per tier so the small top tiers show; mean over "
        "replications.",
        fig_pyramid,
    ),
    (
        "6_churn_reasons",
        "Why customers leave",
        "Customers the focal firm lost per year, by reason (mean over replications).",
        fig_churn_reasons,
    ),
    (
        "7_network",
        "The social network",
        "A snowball sample of the social graph (first replication): colour = the firm each "
        "person buys from, size = satisfaction; at the start (the same for every policy) and "
        "at the end of each policy's run.",
        fig_network,
    ),
    (
        "8_staff_and_suppliers",
        "Staff and suppliers",
        "The focal firm's staff morale, turnover and skill, and its suppliers' quality and "
        "failures (median and {band:.0%} band).",
        fig_staff_suppliers,
    ),
    (
        "9_profit_waterfall",
        "Where the difference in profit comes from",
        "Each policy's difference in the focal firm's cumulative profit from the baseline, "
        "split exactly into its sources (waterfall.csv): customers won by each channel, "
        "customers kept (fewer lost, by reason), spend per customer, price and cost of "
        "goods, and each cost line. Dark bars add profit, light bars take it away; the "
        "coloured bar is the total; thin lines are 95% intervals across the paired "
        "replications.",
        fig_waterfall,
    ),
)
"""(file stem, title, caption, drawing function) of every figure, in report order."""


def render_plots(
    data: ResultsData,
    out_dir: str | Path | None = None,
    *,
    formats: Sequence[str] = ("png",),
    dpi: int = 110,
    band: float = 0.9,
    figures: Sequence[tuple[str, str, str, FigureFn]] = FIGURES,
) -> list[PlotResult]:
    """Draw every figure of ``figures``; write each to ``out_dir`` in ``formats`` (if given).

    Returns one :class:`PlotResult` per figure, skipped ones included (with the reason),
    each drawn figure with its PNG bytes for embedding in the report.
    """
    results = []
    folder = Path(out_dir) if out_dir is not None else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    for stem, title, caption, draw in figures:
        result = PlotResult(stem, title, caption.format(band=band))
        with style_context():
            try:
                fig = draw(data, band)
            except (KeyError, ValueError, IndexError) as exc:  # degrade, never kill the report
                fig = Skipped(f"could not draw it from these results ({exc})")
            if isinstance(fig, Skipped):
                result.skipped = fig.reason
                results.append(result)
                continue
            result.png = figure_bytes(fig, "png", dpi)
            if folder is not None:
                for fmt in formats:
                    path = folder / f"{stem}.{fmt}"
                    payload = result.png if fmt == "png" else figure_bytes(fig, fmt, dpi)
                    atomic_write_bytes(path, payload)
                    result.files.append(path)
        results.append(result)
    return results
