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
from sim.report.style import few_ticks, policy_colors

__all__ = [
    "TIER_ORDER",
    "Skipped",
    "annual_retention",
    "band_plot",
    "churn_reasons",
    "in_years",
    "median_and_band",
    "min_span",
    "missing_columns",
    "per_step",
    "quarterly",
    "readable",
    "reserve_top",
    "step_by_replication",
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


def step_by_replication(
    df: pd.DataFrame, values: np.ndarray, smooth: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """The steps, and ``values`` (one per row of ``df``) as an array of one row per step
    and one column per replication, as ``pivot_table(aggfunc="first")`` lays them out.

    The first non-missing value of a (step, replication) counts (rows of several sampled
    markets share it); steps and replications without any value are left out; ``smooth``
    is a trailing mean over that many steps. Why not ``pivot_table``: it took most of the
    time of building the figures over time.

    >>> df = pd.DataFrame({"step": [1, 2, 1, 2], "replication": [0, 0, 1, 1]})
    >>> step_by_replication(df, np.array([1.0, 3.0, 2.0, np.nan]), smooth=2)[1].tolist()
    [[1.0, 2.0], [2.0, 2.0]]
    """
    ok = ~np.isnan(values)
    step_of = df["step"].to_numpy()[ok]
    rep_of = df["replication"].to_numpy()[ok]
    steps, si = np.unique(step_of, return_inverse=True)
    reps, ri = np.unique(rep_of, return_inverse=True)
    cells, first = np.unique(si * reps.size + ri, return_index=True)  # each cell's first row
    flat = np.full(steps.size * reps.size, np.nan)
    flat[cells] = values[ok][first]
    wide: np.ndarray = flat.reshape(steps.size, reps.size)
    if smooth > 1 and wide.size:
        wide = pd.DataFrame(wide).rolling(smooth, min_periods=1).mean().to_numpy()
    return steps, wide


def median_and_band(
    wide: np.ndarray, lo_q: float, hi_q: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's median and its ``lo_q`` and ``hi_q`` quantiles, missing values left out.

    The same numbers as ``np.nanmedian`` and ``np.nanquantile`` along ``axis=1``. Why not
    those alone: with an axis, ``nanquantile`` works one row at a time in Python (about
    0.3 s for the report's figures over time); a table without missing values, the usual
    case, takes the vectorised ``median`` and ``quantile``.

    >>> wide = np.array([[1.0, 2.0, 4.0], [3.0, np.nan, 5.0]])
    >>> [v.tolist() for v in median_and_band(wide, 0.25, 0.75)]
    [[2.0, 4.0], [1.5, 3.5], [3.0, 4.5]]
    """
    if np.isnan(wide).any():
        mid = np.nanmedian(wide, axis=1)
        lo, hi = np.nanquantile(wide, [lo_q, hi_q], axis=1)
    else:
        mid = np.median(wide, axis=1)
        lo, hi = np.quantile(wide, [lo_q, hi_q], axis=1)
    return mid, lo, hi


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
    colors = policy_colors(data.policies)
    lo_q, hi_q = (1.0 - band) / 2.0, 1.0 - (1.0 - band) / 2.0
    for policy in data.policies:
        mine = data.focal_policy(policy)
        if mine.empty:
            continue
        values = column(mine) if callable(column) else mine[column]
        steps, wide = step_by_replication(mine, np.asarray(values, dtype=float), smooth)
        if not steps.size:
            continue
        x = in_years(steps, data)
        mid, lo, hi = median_and_band(wide, lo_q, hi_q)
        ax.plot(x, mid, color=colors[policy], lw=1.6, label=policy if label_policies else None)
        if wide.shape[1] > 1:
            ax.fill_between(x, lo, hi, color=colors[policy], alpha=0.18, lw=0)
    ax.set_xlabel("time (years)")
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    few_ticks(ax)


def annual_retention(mine: pd.DataFrame, data: ResultsData) -> pd.Series:
    """Per-step retention as % kept per year over a rolling quarter."""
    window = max(1, data.steps_per_year // 4)
    logs = np.log(mine["retention_rate"].clip(lower=1e-12))
    rolled = _rolling_mean_within(logs, mine["replication"], window)
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
    return _rolling_mean_within(mine[column], mine["replication"], window)


def _rolling_mean_within(values: pd.Series, groups: pd.Series, window: int) -> pd.Series:
    """``values``' trailing mean over ``window`` rows within each group, in ``values``' order.

    The numbers of ``groupby(...).transform(lambda s: s.rolling(...).mean())``; why not
    that: it calls back into Python for every replication of every policy (about 0.15 s
    of the staff and retention panels); a grouped rolling window does it in one pass.

    >>> s = pd.Series([1.0, 3.0, 10.0, 20.0, 5.0], index=[4, 5, 6, 7, 8])
    >>> _rolling_mean_within(s, pd.Series([0, 0, 1, 1, 0], index=s.index), 2).tolist()
    [1.0, 2.0, 10.0, 15.0, 4.0]
    """
    rolled = (
        values.groupby(groups.to_numpy(), sort=False)
        .rolling(window, min_periods=1)
        .mean()
        .droplevel(0)
    )
    return rolled.reindex(values.index)


def min_span(ax: Axes, span: float) -> None:
    """Widen the y-range to at least ``span`` so flat lines do not look like big swings."""
    lo, hi = ax.get_ylim()
    if hi - lo < span:
        mid = (lo + hi) / 2.0
        ax.set_ylim(mid - span / 2.0, mid + span / 2.0)
