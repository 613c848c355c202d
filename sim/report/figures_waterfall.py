"""The profit waterfall: where each policy's difference in profit from the baseline comes from.

Drawn from ``waterfall.csv`` (:mod:`sim.analysis.waterfall`), or computed from the
timeseries of an older folder without one. Bars run from the running total before a
source to the running total after it: dark grey where the source adds profit, light grey
where it takes some away; the last bar, the total, is in the policy's colour (the one
colour a policy has in every figure). The thin line on a bar is the 95% interval of that
source across the paired replications. The many small sources are lumped into one bar
so the figure stays readable; the table keeps every one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.analysis.waterfall import waterfall_table
from sim.common.files import read_table
from sim.report.data import ResultsData
from sim.report.panels import Skipped
from sim.report.style import MONEY, NEUTRAL, policy_colors

__all__ = ["GAIN", "LOSS", "MAX_BARS", "fig_waterfall", "waterfall_of"]

GAIN = "#555555"
"""A source that adds profit (grey shades: colours belong to the policies)."""
LOSS = "#C8C8C8"
"""A source that takes profit away."""
MAX_BARS = 10
"""Sources drawn one by one; the rest share one bar."""


def waterfall_of(data: ResultsData) -> pd.DataFrame:
    """The folder's waterfall.csv, or the waterfall computed from its timeseries."""
    path = data.folder / "waterfall.csv"
    if path.is_file():
        from_file = read_table(path)
        if not from_file.empty:
            return from_file.astype({"policy": str, "baseline": str})
    if len(data.policies) < 2 or "cumulative_profit" not in data.timeseries:
        return pd.DataFrame()
    return waterfall_table(data.timeseries, focal=data.focal, policies=data.policies)


def _bars(block: pd.DataFrame) -> pd.DataFrame:
    """The largest sources by size, the rest lumped into one, then the total."""
    sources = block[block["source"] != "total"]
    order = sources["mean"].abs().sort_values(ascending=False, kind="stable").index
    top = sources.loc[order[:MAX_BARS]]
    rest = sources.loc[order[MAX_BARS:]]
    rows = [top]
    if not rest.empty:
        lumped = {
            "label": f"{len(rest)} smaller sources",
            "mean": rest["mean"].sum(),
            "ci_low": np.nan,
            "ci_high": np.nan,
            "source": "rest",
        }
        rows.append(pd.DataFrame([lumped]))
    rows.append(block[block["source"] == "total"])
    return pd.concat(rows, ignore_index=True)


def _headline_first(table: pd.DataFrame) -> list[tuple[str, str]]:
    """The (policy, baseline) pairs, the largest total difference first: the pair the
    headline names (the best policy against the baseline, or the next best when the
    baseline leads), so the report's first panel explains its first sentence."""
    pairs = list(dict.fromkeys(zip(table["policy"], table["baseline"], strict=True)))
    totals = table[table["source"] == "total"].set_index(["policy", "baseline"])["mean"]
    return sorted(pairs, key=lambda pair: -float(totals.get(pair, -np.inf)))


def fig_waterfall(data: ResultsData, band: float) -> Figure | Skipped:
    """The waterfall of each policy against the baseline, one panel per policy."""
    table = waterfall_of(data)
    if table.empty:
        return Skipped("one policy only, or no profit columns in timeseries.csv")
    pairs = _headline_first(table)
    colors = policy_colors(data.policies)
    heights = [0.32 * (len(_bars(table[table["policy"] == p])) + 2) for p, _ in pairs]
    fig = Figure(figsize=(9.5, sum(heights) + 0.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(pairs), 1, height_ratios=heights))
    currency = data.scenario.get("outputs", {}).get("currency")
    for ax, (policy, baseline) in zip(axes, pairs, strict=True):
        block = table[(table["policy"] == policy) & (table["baseline"] == baseline)]
        bars = _bars(block)
        y = np.arange(len(bars))[::-1]
        before = np.concatenate([[0.0], np.cumsum(bars["mean"].to_numpy(float)[:-1])])
        is_total = (bars["source"] == "total").to_numpy()
        before[is_total] = 0.0
        means = bars["mean"].to_numpy(float)
        after = before + means
        fill = [
            colors.get(policy, NEUTRAL) if t else (GAIN if m >= 0 else LOSS)
            for t, m in zip(is_total, means, strict=True)
        ]
        ax.barh(y, means, left=before, color=fill, height=0.7, zorder=3)
        lo = bars["ci_low"].to_numpy(float) - means
        hi = bars["ci_high"].to_numpy(float) - means
        has = np.isfinite(lo) & np.isfinite(hi)
        ax.hlines(y[has], after[has] + lo[has], after[has] + hi[has], color="black", lw=1, zorder=4)
        ax.axvline(0.0, color=NEUTRAL, lw=0.8, zorder=2)
        ax.margins(x=0.04)
        ax.set_yticks(y, bars["label"].tolist())
        ax.xaxis.set_major_formatter(MONEY)
        ax.set_title(f"{policy} minus {baseline}: cumulative profit of {data.focal}", loc="left")
        ax.grid(axis="y", visible=False)
    unit = f"money, {currency}" if currency else "money"
    axes[-1].set_xlabel(f"difference in cumulative profit over the run ({unit})")
    return fig
