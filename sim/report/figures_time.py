"""The report's figures over time: policies, word of mouth, staff and suppliers.

Each shows the focal firm per policy over the horizon, the median across replications
and a band holding a given share of them; a figure whose columns the results lack is
skipped with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.report.data import ResultsData
from sim.report.panels import (
    Skipped,
    annual_retention,
    band_plot,
    min_span,
    per_step,
    reserve_top,
    trailing,
)
from sim.report.style import MONEY, policy_legend

__all__ = ["fig_policies_over_time", "fig_staff_suppliers", "fig_word_of_mouth"]


def fig_policies_over_time(data: ResultsData, band: float) -> Figure | Skipped:
    """1. Customers, revenue, profit, cumulative profit, NPS, retention: policies over time."""
    panels = [
        ("customers", "customers", "customers (people)", None),
        ("revenue", "revenue", f"revenue (money {per_step(data)})", MONEY),
        ("profit", "profit", f"profit (money {per_step(data)})", MONEY),
        ("cumulative_profit", "cumulative profit", "cumulative profit (money)", MONEY),
        ("nps", "Net Promoter Score", "NPS (points, -100 to 100)", None),
        ("retention_rate", "retention", "customers kept (% per year)", None),
    ]
    present = [p for p in panels if p[0] in data.timeseries]
    if not present:
        return Skipped("the results have none of the columns customers, revenue, profit, nps")
    fig = Figure(figsize=(10.5, 6.2), layout="constrained")
    axes = fig.subplots(2, 3).ravel()
    smooth = max(1, data.steps_per_year // 13)  # about a month
    for ax, (column, title, ylabel, fmt) in zip(axes, present, strict=False):
        if column == "retention_rate":
            band_plot(ax, data, lambda m: annual_retention(m, data), band)
            ylabel += ", rolling quarter"
        elif column in ("revenue", "profit"):
            band_plot(ax, data, column, band, smooth=smooth)
            title += " (monthly average)" if smooth > 1 else ""
        else:
            band_plot(ax, data, column, band)
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        if fmt is not None:
            ax.yaxis.set_major_formatter(fmt)
    for ax in axes[len(present) :]:
        ax.set_visible(False)
    reserve_top(fig, (0, 0, 1, 0.94))
    policy_legend(fig, data.policies, outside=False)
    return fig


def fig_word_of_mouth(data: ResultsData, band: float) -> Figure | Skipped:
    """4. Referrals, referral conversions and peers deterred over time per policy."""
    panels = [
        ("referrals", "referrals told"),
        ("referral_conversions", "referral conversions"),
        ("peers_deterred", "peers deterred"),
    ]
    present = [p for p in panels if p[0] in data.timeseries]
    if not present:
        return Skipped("the results have no referrals, referral_conversions or peers_deterred")
    smooth = max(1, data.steps_per_year // 13)
    fig = Figure(figsize=(10.5, 3.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(present)))
    for ax, (column, title) in zip(axes, present, strict=True):
        band_plot(ax, data, column, band, smooth=smooth)
        ax.set_title(title + (" (monthly average)" if smooth > 1 else ""))
        ax.set_ylabel(f"people {per_step(data)}")
    reserve_top(fig, (0, 0, 1, 0.88))
    policy_legend(fig, data.policies, outside=False)
    return fig


def _turnover(data: ResultsData) -> Callable[[pd.DataFrame], pd.Series] | None:
    """Staff quitting, % of staff per year over the trailing year."""
    spy = data.steps_per_year
    if "staff_turnover" in data.timeseries:
        return lambda m: 100.0 * m["staff_turnover"]
    per_firm = data.scenario.get("employees", {}).get("per_firm")
    if "staff_quits" in data.timeseries and per_firm:
        return lambda m: 100.0 * trailing(m, "staff_quits", spy) * spy / per_firm
    return None


def fig_staff_suppliers(data: ResultsData, band: float) -> Figure | Skipped:
    """8. Staff morale, turnover and skill; supplier quality and supply failures."""
    ts = data.timeseries
    panels: list[tuple[str | Callable[[pd.DataFrame], pd.Series], str, str]] = []
    if "staff_morale" in ts:
        panels.append(("staff_morale", "staff morale", "morale (0-1)"))
    turnover = _turnover(data)
    if turnover is not None:
        panels.append((turnover, "staff turnover (trailing year)", "quits (% of staff per year)"))
    if "staff_skill" in ts:
        panels.append(("staff_skill", "staff skill", "skill (0-1)"))
    if "supplier_quality" in ts:
        panels.append(("supplier_quality", "supplier quality", "input quality (0-1)"))
    if "supply_failures" in ts:
        quarter = max(1, data.steps_per_year // 4)
        panels.append(
            (
                lambda m: trailing(m, "supply_failures", quarter),
                "supply failures (trailing quarter)",
                f"purchases hit ({per_step(data)})",
            )
        )
    usable = []
    focal = data.focal_series()
    for column, title, ylabel in panels:
        values = column(focal) if callable(column) else focal[column]
        if pd.Series(values).notna().any():
            usable.append((column, title, ylabel))
    if not usable:
        return Skipped(
            "the results have no staff or supplier measures (staff_morale, staff_turnover or "
            "staff_quits, staff_skill, supplier_quality, supply_failures), or staff and "
            "suppliers are switched off in this scenario"
        )
    cols = min(len(usable), 3)
    rows = math.ceil(len(usable) / cols)
    fig = Figure(figsize=(10.5, 3.3 * rows + 0.5), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax, (column, title, ylabel) in zip(axes, usable, strict=False):
        band_plot(ax, data, column, band)
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        if "(0-1)" in ylabel:
            min_span(ax, 0.1)
    for ax in axes[len(usable) :]:
        ax.set_visible(False)
    reserve_top(fig, (0, 0, 1, 0.9 if rows == 1 else 0.94))
    policy_legend(fig, data.policies, outside=False)
    return fig
