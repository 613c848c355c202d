"""Shared pieces of the report's figures: what a skipped figure says, time axes, bands.

Every figure of the report reads a :class:`~sim.report.data.ResultsData` and shows the
focal firm per policy; these helpers give them one time axis (years), one way of
showing the spread over replications (median and a band) and one legend.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.ticker import MaxNLocator

from sim.report.data import ResultsData
from sim.report.style import policy_colors

__all__ = [
    "TIER_ORDER",
    "Skipped",
    "annual_retention",
    "band_plot",
    "churn_reasons",
    "in_years",
    "min_span",
    "missing_columns",
    "per_replication",
    "per_step",
    "quarterly",
    "readable",
    "reserve_top",
    "trailing",
]

TIER_ORDER = ("top", "big", "medium", "small", "inactive")


@dataclass(frozen=True)
class Skipped:
    """A figure that could not be drawn from these results, and why."""

    reason: str


def reserve_top(fig: Figure, rect: tuple[float, float, float, float]) -> None:
    """Keep the constrained layout inside ``rect`` (room for a figure legend on top)."""
    engine = fig.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):
        engine.set(rect=rect)


def per_step(data: ResultsData) -> str:
    return f"per {data.step_length}"


def in_years(steps: np.ndarray | pd.Series, data: ResultsData) -> np.ndarray:
    return np.asarray(steps, dtype=float) / data.steps_per_year


def missing_columns(df: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    return [c for c in columns if c not in df.columns]


def per_replication(df: pd.DataFrame, column: str, smooth: int = 1) -> pd.DataFrame:
    """``column`` with one row per step and one column per replication."""
    wide = df.pivot_table(index="step", columns="replication", values=column, aggfunc="first")
    if smooth > 1:
        wide = wide.rolling(smooth, min_periods=1).mean()
    return wide


def band_plot(
    ax: Axes,
    data: ResultsData,
    column: str | Callable[[pd.DataFrame], pd.Series],
    band: float,
    *,
    smooth: int = 1,
    label_policies: bool = False,
) -> None:
    """Median line and a band holding ``band`` of the replications, per policy."""
    series = data.focal_series()
    colors = policy_colors(data.policies)
    lo_q, hi_q = (1.0 - band) / 2.0, 1.0 - (1.0 - band) / 2.0
    for policy in data.policies:
        mine = series[series["policy"] == policy]
        if mine.empty:
            continue
        if callable(column):
            mine = mine.assign(_value=column(mine))
            wide = per_replication(mine, "_value", smooth)
        else:
            wide = per_replication(mine, column, smooth)
        x = in_years(wide.index.to_numpy(), data)
        mid = wide.median(axis=1)
        ax.plot(x, mid, color=colors[policy], lw=1.6, label=policy if label_policies else None)
        if wide.shape[1] > 1:
            ax.fill_between(
                x,
                wide.quantile(lo_q, axis=1),
                wide.quantile(hi_q, axis=1),
                color=colors[policy],
                alpha=0.18,
                lw=0,
            )
    ax.set_xlabel("time (years)")
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))


def annual_retention(mine: pd.DataFrame, data: ResultsData) -> pd.Series:
    """Per-step retention as % kept per year over a rolling quarter."""
    window = max(1, data.steps_per_year // 4)
    logs = np.log(mine["retention_rate"].clip(lower=1e-12))
    rolled = logs.groupby(mine["replication"]).transform(
        lambda s: s.rolling(window, min_periods=1).mean()
    )
    return 100.0 * np.exp(rolled * data.steps_per_year)


def churn_reasons(columns: Sequence[str]) -> list[str]:
    """The churn-by-reason columns (``churned_<reason>``), without aggregates.

    >>> churn_reasons(["churned", "churned_price", "churned_top_tiers", "churned_other"])
    ['churned_price', 'churned_other']
    """
    return [c for c in columns if c.startswith("churned_") and c != "churned_top_tiers"]


def readable(name: str) -> str:
    return name.replace("_", " ")


def quarterly(steps: pd.Series, data: ResultsData) -> pd.Series:
    return (steps - 1) // max(1, data.steps_per_year // 4)


def trailing(mine: pd.DataFrame, column: str, window: int) -> pd.Series:
    """Mean of ``column`` over the trailing ``window`` steps, within each replication."""
    return mine.groupby("replication")[column].transform(
        lambda s: s.rolling(window, min_periods=1).mean()
    )


def min_span(ax: Axes, span: float) -> None:
    """Widen the y-range to at least ``span`` so flat lines do not look like big swings."""
    lo, hi = ax.get_ylim()
    if hi - lo < span:
        mid = (lo + hi) / 2.0
        ax.set_ylim(mid - span / 2.0, mid + span / 2.0)
