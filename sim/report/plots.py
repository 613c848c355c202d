"""The report's figures, drawn from a results folder's tables (never from a model).

Eight figures, one consistent style: the Okabe-Ito colour-blind-safe palette (Okabe &
Ito 2008), units on every axis, the focal firm's outcomes unless a figure says
otherwise. A figure whose columns the results lack (e.g. staff measures of an engine
without employees) is skipped with a note instead of failing, and appears by itself
once the columns are there.

Figures are drawn on ``matplotlib.figure.Figure`` objects (no pyplot state, no backend
switch), so drawing is safe in any process.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from sim.common.files import atomic_write_bytes
from sim.report.data import ResultsData

__all__ = [
    "FIGURES",
    "OKABE_ITO",
    "PlotResult",
    "Skipped",
    "churn_reasons",
    "render_plots",
]

OKABE_ITO = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#E69F00",  # orange
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)
"""Okabe & Ito (2008), 'Color Universal Design': distinguishable with any colour vision."""
NEUTRAL = "#BBBBBB"

STYLE = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#E5E5E5",
    "grid.linewidth": 0.6,
    "axes.prop_cycle": cycler(color=OKABE_ITO),
    "legend.frameon": False,
    "legend.fontsize": 8,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "svg.hashsalt": "marketsim",
    "text.parse_math": False,  # policy names are user text: "$" must not start mathtext
}

TIER_ORDER = ("top", "big", "medium", "small", "inactive")


@dataclass(frozen=True)
class Skipped:
    """A figure that could not be drawn from these results, and why."""

    reason: str


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


# --------------------------------------------------------------------------- helpers


def _reserve_top(fig: Figure, rect: tuple[float, float, float, float]) -> None:
    """Keep the constrained layout inside ``rect`` (room for a figure legend on top)."""
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.set(rect=rect)  # type: ignore[call-arg]


def _colors(names: Sequence[str]) -> dict[str, str]:
    return {n: OKABE_ITO[k % len(OKABE_ITO)] for k, n in enumerate(names)}


def _money(x: float, _pos: object = None) -> str:
    a = abs(x)
    if a >= 1e9:
        return f"{x / 1e9:.3g}B"
    if a >= 1e6:
        return f"{x / 1e6:.3g}M"
    if a >= 1e3:
        return f"{x / 1e3:.3g}k"
    return f"{x:.3g}"


MONEY = FuncFormatter(_money)


def _per_step(data: ResultsData) -> str:
    return f"per {data.step_length}"


def _years(steps: np.ndarray | pd.Series, data: ResultsData) -> np.ndarray:
    return np.asarray(steps, dtype=float) / data.steps_per_year


def _missing(df: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    return [c for c in columns if c not in df.columns]


def _wide(
    df: pd.DataFrame, column: str, smooth: int = 1
) -> pd.DataFrame:  # index step, columns replication
    wide = df.pivot_table(index="step", columns="replication", values=column, aggfunc="first")
    if smooth > 1:
        wide = wide.rolling(smooth, min_periods=1).mean()
    return wide


def _band_plot(
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
    colors = _colors(data.policies)
    lo_q, hi_q = (1.0 - band) / 2.0, 1.0 - (1.0 - band) / 2.0
    for policy in data.policies:
        mine = series[series["policy"] == policy]
        if mine.empty:
            continue
        if callable(column):
            mine = mine.assign(_value=column(mine))
            wide = _wide(mine, "_value", smooth)
        else:
            wide = _wide(mine, column, smooth)
        x = _years(wide.index.to_numpy(), data)
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


def _policy_legend(fig: Figure, data: ResultsData, **kwargs: object) -> None:
    colors = _colors(data.policies)
    handles = [mpl.lines.Line2D([], [], color=colors[p], lw=2.5, label=p) for p in data.policies]
    fig.legend(
        handles=handles,
        loc="upper center",
        ncol=min(len(handles), 4),
        bbox_to_anchor=(0.5, 1.0),
        **kwargs,
    )


def _annual_retention(mine: pd.DataFrame, data: ResultsData) -> pd.Series:
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


def _label(name: str) -> str:
    return name.replace("_", " ")


def _quarterly(steps: pd.Series, data: ResultsData) -> pd.Series:
    return (steps - 1) // max(1, data.steps_per_year // 4)


# --------------------------------------------------------------------------- figures


def fig_policies_over_time(data: ResultsData, band: float) -> Figure | Skipped:
    """1. Customers, revenue, profit, cumulative profit, NPS, retention: policies over time."""
    panels = [
        ("customers", "customers", "customers (people)", None),
        ("revenue", "revenue", f"revenue (money {_per_step(data)})", MONEY),
        ("profit", "profit", f"profit (money {_per_step(data)})", MONEY),
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
            _band_plot(ax, data, lambda m: _annual_retention(m, data), band)
            ylabel += ", rolling quarter"
        elif column in ("revenue", "profit"):
            _band_plot(ax, data, column, band, smooth=smooth)
            title += " (monthly average)" if smooth > 1 else ""
        else:
            _band_plot(ax, data, column, band)
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        if fmt is not None:
            ax.yaxis.set_major_formatter(fmt)
    for ax in axes[len(present) :]:
        ax.set_visible(False)
    _reserve_top(fig, (0, 0, 1, 0.94))
    _policy_legend(fig, data)
    return fig


def fig_final_outcomes(data: ResultsData, band: float) -> Figure | Skipped:
    """2. Final outcome distributions per policy with the winner marked."""
    outcomes = data.outcomes
    if outcomes is None or outcomes.empty:
        return Skipped("outcomes.csv is missing")
    panels = [
        ("cumulative_profit", "cumulative profit", "money", MONEY),
        ("customers", "customers at the end", "people", None),
        ("clv", "lifetime value of customers won", "money per customer", MONEY),
    ]
    panels = [p for p in panels if p[0] in outcomes and outcomes[p[0]].notna().any()]
    if not panels:
        return Skipped("outcomes.csv has no cumulative_profit, customers or clv values")
    focal = outcomes[outcomes["firm"] == data.focal]
    colors = _colors(data.policies)
    fig = Figure(figsize=(10.5, 3.9), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    rng = np.random.default_rng(0)  # jitter only; fixed so the figure is reproducible
    for ax, (column, title, unit, fmt) in zip(axes, panels, strict=True):
        means = {}
        for k, policy in enumerate(data.policies):
            values = focal.loc[focal["policy"] == policy, column].dropna().to_numpy(float)
            if values.size == 0:
                continue
            means[policy] = values.mean()
            jitter = rng.uniform(-0.12, 0.12, values.size)
            ax.scatter(
                np.full(values.size, k) + jitter,
                values,
                s=16,
                color=colors[policy],
                alpha=0.65,
                lw=0,
                zorder=3,
            )
            ax.hlines(values.mean(), k - 0.3, k + 0.3, color=colors[policy], lw=2.5, zorder=4)
            if values.size > 1:
                lo, hi = np.quantile(values, [(1 - band) / 2, 1 - (1 - band) / 2])
                ax.vlines(k + 0.34, lo, hi, color=colors[policy], lw=1.2)
        if means:
            winner = max(means, key=lambda p: means[p])
            k = data.policies.index(winner)
            ax.annotate(
                "★ best",
                xy=(k, means[winner]),
                xytext=(0, 12),
                textcoords="offset points",
                ha="center",
                fontsize=9,
                fontweight="bold",
                color="#000000",
                zorder=5,
            )
        ax.set_xticks(range(len(data.policies)), data.policies, rotation=20, ha="right")
        ax.set_xlim(-0.6, len(data.policies) - 0.4)
        ax.set_title(title)
        ax.set_ylabel(f"{title} ({unit})")
        ax.set_xlabel("policy")
        ax.grid(axis="x", visible=False)
        if fmt is not None:
            ax.yaxis.set_major_formatter(fmt)
    return fig


def fig_economics(data: ResultsData, band: float) -> Figure | Skipped:
    """3. Cost per new vs. retained customer, payback time, and the leaky bucket."""
    ts = data.focal_series()
    need = ["acquisition_spend", "retention_spend", "customers", "churned", "new_customers"]
    missing = _missing(ts, need)
    if missing:
        return Skipped(f"the results lack {', '.join(missing)}")
    spy = data.steps_per_year
    paid = [
        c
        for c in ("new_advertising", "new_promotion", "new_sales_visit", "new_switched_in")
        if c in ts
    ] or ["new_customers"]
    colors = _colors(data.policies)
    rows = []
    for policy in data.policies:
        mine = ts[ts["policy"] == policy]
        per_rep = mine.groupby("replication")
        acq = per_rep["acquisition_spend"].sum()
        won = per_rep[paid].sum().sum(axis=1)
        ret = per_rep["retention_spend"].sum()
        kept_years = (per_rep["customers"].sum() - per_rep["churned"].sum()) / spy
        cac = (acq / won.replace(0, np.nan)).mean()
        crc = (ret / kept_years.replace(0, np.nan)).mean()
        payback = math.nan
        if {"first_year_margin", "first_year_customers"} <= set(mine.columns):
            margin = per_rep["first_year_margin"].sum() / (
                per_rep["first_year_customers"].sum() / spy
            ).replace(0, np.nan)
            payback = (acq / won.replace(0, np.nan) / margin.replace(0, np.nan)).mean()
        rows.append((policy, cac, crc, payback))
    n = len(data.policies)
    fig = Figure(figsize=(10.5, 6.6), layout="constrained")
    grid = fig.add_gridspec(2, max(n, 2))
    ax_cost = fig.add_subplot(grid[0, : max(n, 2) // 2 + (max(n, 2) % 2)])
    ax_pay = fig.add_subplot(grid[0, max(n, 2) // 2 + (max(n, 2) % 2) :])
    x = np.arange(n)
    width = 0.38
    ax_cost.bar(
        x - width / 2, [r[1] for r in rows], width, color=OKABE_ITO[1], label="per new customer"
    )
    ax_cost.bar(
        x + width / 2,
        [r[2] for r in rows],
        width,
        color=OKABE_ITO[2],
        label="per retained customer-year",
    )
    ax_cost.set_xticks(x, data.policies, rotation=15, ha="right")
    ax_cost.set_ylabel("marketing spend (money per customer)")
    ax_cost.set_title("cost to win vs. cost to keep")
    ax_cost.yaxis.set_major_formatter(MONEY)
    tallest = np.nanmax([[r[1], r[2]] for r in rows] + [[1.0, 1.0]])
    ax_cost.set_ylim(0, 1.3 * tallest)
    ax_cost.legend(loc="upper right", ncol=2)
    ax_cost.grid(axis="x", visible=False)
    if all(math.isnan(r[3]) for r in rows):
        ax_pay.text(
            0.5,
            0.5,
            "payback needs first_year_margin\nand first_year_customers",
            ha="center",
            va="center",
            transform=ax_pay.transAxes,
        )
        ax_pay.set_axis_off()
    else:
        ax_pay.bar(x, [r[3] for r in rows], 0.6, color=[colors[p] for p in data.policies])
        ax_pay.set_xticks(x, data.policies, rotation=15, ha="right")
        ax_pay.set_ylabel("payback time (years)")
        ax_pay.set_title("payback of a paid new customer")
        ax_pay.grid(axis="x", visible=False)
    # The leaky bucket: customers won and lost each quarter, one panel per policy.
    bottom: list[Axes] = []
    for k in range(n):
        bottom.append(fig.add_subplot(grid[1, k], sharey=bottom[0] if bottom else None))
    for ax, policy in zip(bottom, data.policies, strict=True):
        mine = ts[ts["policy"] == policy]
        q = mine.assign(quarter=_quarterly(mine["step"], data))
        per = q.groupby(["replication", "quarter"])[["new_customers", "churned"]].sum()
        mean = per.groupby("quarter").mean()
        xq = (mean.index.to_numpy() + 1) / 4.0
        ax.bar(xq, mean["new_customers"], width=0.2, color=OKABE_ITO[2], label="won")
        ax.bar(xq, -mean["churned"], width=0.2, color=OKABE_ITO[1], label="lost")
        ax.plot(
            xq,
            mean["new_customers"] - mean["churned"],
            color="#000000",
            lw=1.2,
            marker="o",
            ms=2.5,
            label="net",
        )
        ax.axhline(0, color="#666666", lw=0.8)
        ax.set_title(f"leaky bucket: {policy}")
        ax.set_xlabel("time (years)")
        ax.set_ylabel("customers per quarter (people)")
    handles, labels = bottom[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3)
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
        _band_plot(ax, data, column, band, smooth=smooth)
        ax.set_title(title + (" (monthly average)" if smooth > 1 else ""))
        ax.set_ylabel(f"people {_per_step(data)}")
    _reserve_top(fig, (0, 0, 1, 0.88))
    _policy_legend(fig, data)
    return fig


def fig_pyramid(data: ResultsData, band: float) -> Figure | Skipped:
    """5. The customer pyramid: tier counts over time, stacked, per policy."""
    tiers = [t for t in TIER_ORDER if f"tier_{t}" in data.timeseries]
    if not tiers:
        return Skipped(
            "the results have no customer-pyramid columns (tier_top, tier_big, tier_medium, "
            "tier_small, tier_inactive)"
        )
    ts = data.focal_series()
    n = len(data.policies)
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(10.5, 3.4 * rows + 0.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, sharey=True)).ravel()
    tier_colors = {
        "top": OKABE_ITO[0],
        "big": OKABE_ITO[5],
        "medium": OKABE_ITO[2],
        "small": OKABE_ITO[3],
        "inactive": NEUTRAL,
    }
    for ax, policy in zip(axes, data.policies, strict=False):
        mine = ts[ts["policy"] == policy]
        mean = mine.groupby("step")[[f"tier_{t}" for t in tiers]].mean()
        x = _years(mean.index.to_numpy(), data)
        ax.stackplot(
            x,
            *[mean[f"tier_{t}"].to_numpy() for t in tiers],
            labels=[_label(t) for t in tiers],
            colors=[tier_colors[t] for t in tiers],
            alpha=0.9,
            lw=0,
        )
        ax.set_title(policy)
        ax.set_xlabel("time (years)")
        ax.set_ylabel("people")
    for ax in axes[n:]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    _reserve_top(fig, (0, 0, 1, 0.9 if rows == 1 else 0.95))
    fig.legend(
        handles[::-1], labels[::-1], loc="upper center", ncol=len(tiers), bbox_to_anchor=(0.5, 1.0)
    )
    return fig


def fig_churn_reasons(data: ResultsData, band: float) -> Figure | Skipped:
    """6. Why customers leave: churn by reason per policy."""
    reasons = churn_reasons(list(data.timeseries.columns))
    if not reasons:
        return Skipped("the results have no churn-by-reason columns (churned_<reason>)")
    ts = data.focal_series()
    years = ts["step"].max() / data.steps_per_year
    per = ts.groupby(["policy", "replication"])[reasons].sum().groupby("policy").mean()
    per = per.reindex(data.policies) / max(years, 1e-9)
    fig = Figure(figsize=(10.5, 1.2 + 0.55 * len(data.policies)), layout="constrained")
    ax = fig.subplots()
    left = np.zeros(len(per))
    y = np.arange(len(per))[::-1]
    for k, reason in enumerate(reasons):
        values = per[reason].fillna(0).to_numpy()
        ax.barh(
            y,
            values,
            left=left,
            color=OKABE_ITO[k % len(OKABE_ITO)],
            height=0.6,
            label=_label(reason.removeprefix("churned_")),
        )
        left += values
    ax.set_yticks(y, per.index)
    ax.set_xlabel("customers lost (people per year, mean over replications)")
    ax.set_title("why customers leave")
    ax.xaxis.set_major_formatter(MONEY)
    ax.grid(axis="y", visible=False)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.08), ncol=len(reasons))
    return fig


def fig_network(data: ResultsData, band: float) -> Figure | Skipped:
    """7. A sample of the social graph at the start and end, coloured by firm."""
    nodes, edges = data.nodes, data.edges
    if nodes is None or nodes.empty:
        return Skipped("no network snapshot in the results (outputs.network_sample = 0?)")
    import networkx as nx

    sample = np.sort(nodes["node"].unique())
    graph = nx.Graph()
    graph.add_nodes_from(sample.tolist())
    if edges is not None and not edges.empty:
        graph.add_edges_from(edges[["source", "target"]].itertuples(index=False, name=None))
    pos = nx.spring_layout(graph, seed=7, iterations=60)
    xy = np.array([pos[v] for v in sample])
    firm_colors = _colors(data.firms)
    panels = [("start", data.policies[0], "start (all policies)")]
    panels += [("end", p, f"end: {p}") for p in data.policies]
    cols = min(len(panels), 4)
    rows = math.ceil(len(panels) / cols)
    fig = Figure(figsize=(10.5, 2.9 * rows + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    segments = (
        np.array([[pos[u], pos[v]] for u, v in graph.edges()]) if graph.number_of_edges() else None
    )
    for ax, (moment, policy, title) in zip(axes, panels, strict=False):
        state = nodes[(nodes["moment"] == moment) & (nodes["policy"] == policy)]
        state = state.set_index("node").reindex(sample)
        if segments is not None:
            ax.add_collection(
                mpl.collections.LineCollection(
                    segments,  # type: ignore[arg-type]
                    colors="#CCCCCC",
                    linewidths=0.4,
                    zorder=1,
                )
            )
        firm = state["firm"].fillna("").to_numpy()
        sat = state["satisfaction"].to_numpy(float)
        colors = [firm_colors.get(f, NEUTRAL) if f else NEUTRAL for f in firm]
        sizes = np.where(np.isnan(sat), 6.0, 6.0 + 34.0 * np.nan_to_num(sat))
        ax.scatter(xy[:, 0], xy[:, 1], s=sizes, c=colors, lw=0.3, edgecolors="white", zorder=2)
        ax.set_title(title)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("layout position (no unit)")
        ax.grid(False)
        ax.set_aspect("equal", adjustable="datalim")
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    handles = [
        mpl.lines.Line2D([], [], ls="", marker="o", ms=6, color=firm_colors[f], label=f)
        for f in data.firms
    ]
    handles.append(
        mpl.lines.Line2D([], [], ls="", marker="o", ms=6, color=NEUTRAL, label="buys from no firm")
    )
    handles.append(
        mpl.lines.Line2D(
            [], [], ls="", marker="o", ms=3, color="#666666", label="small dot = low satisfaction"
        )
    )
    handles.append(
        mpl.lines.Line2D(
            [], [], ls="", marker="o", ms=7, color="#666666", label="large dot = high satisfaction"
        )
    )
    _reserve_top(fig, (0, 0, 1, 0.9 if rows == 1 else 0.94))
    fig.legend(
        handles=handles, loc="upper center", ncol=min(len(handles), 5), bbox_to_anchor=(0.5, 1.0)
    )
    return fig


def _trailing(mine: pd.DataFrame, column: str, window: int) -> pd.Series:
    """Mean of ``column`` over the trailing ``window`` steps, within each replication."""
    return mine.groupby("replication")[column].transform(
        lambda s: s.rolling(window, min_periods=1).mean()
    )


def _turnover(data: ResultsData) -> Callable[[pd.DataFrame], pd.Series] | None:
    """Staff quitting, % of staff per year over the trailing year."""
    spy = data.steps_per_year
    if "staff_turnover" in data.timeseries:
        return lambda m: 100.0 * m["staff_turnover"]
    per_firm = data.scenario.get("employees", {}).get("per_firm")
    if "staff_quits" in data.timeseries and per_firm:
        return lambda m: 100.0 * _trailing(m, "staff_quits", spy) * spy / per_firm
    return None


def _min_span(ax: Axes, span: float) -> None:
    """Widen the y-range to at least ``span`` so flat lines do not look like big swings."""
    lo, hi = ax.get_ylim()
    if hi - lo < span:
        mid = (lo + hi) / 2.0
        ax.set_ylim(mid - span / 2.0, mid + span / 2.0)


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
                lambda m: _trailing(m, "supply_failures", quarter),
                "supply failures (trailing quarter)",
                f"purchases hit ({_per_step(data)})",
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
        _band_plot(ax, data, column, band)
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        if "(0-1)" in ylabel:
            _min_span(ax, 0.1)
    for ax in axes[len(usable) :]:
        ax.set_visible(False)
    _reserve_top(fig, (0, 0, 1, 0.9 if rows == 1 else 0.94))
    _policy_legend(fig, data)
    return fig


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
        "The focal firm's customers by tier (top 1%, big 4%, medium 15%, small; and former "
        "customers), mean over replications.",
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
)
"""(file stem, title, caption, drawing function) of every figure, in report order."""


def render_plots(
    data: ResultsData,
    out_dir: str | Path | None = None,
    *,
    formats: Sequence[str] = ("png", "svg"),
    dpi: int = 110,
    band: float = 0.9,
) -> list[PlotResult]:
    """Draw every figure; write each to ``out_dir`` in ``formats`` (if given).

    Returns one :class:`PlotResult` per figure, skipped ones included (with the reason),
    each drawn figure with its PNG bytes for embedding in the report.
    """
    results = []
    folder = Path(out_dir) if out_dir is not None else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    for stem, title, caption, draw in FIGURES:
        result = PlotResult(stem, title, caption.format(band=band))
        with mpl.rc_context(STYLE):  # type: ignore[arg-type]
            try:
                fig = draw(data, band)
            except (KeyError, ValueError, IndexError) as exc:  # degrade, never kill the report
                fig = Skipped(f"could not draw it from these results ({exc})")
            if isinstance(fig, Skipped):
                result.skipped = fig.reason
                results.append(result)
                continue
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
            result.png = buffer.getvalue()
            if folder is not None:
                for fmt in formats:
                    path = folder / f"{stem}.{fmt}"
                    if fmt == "png":
                        payload = result.png
                    else:
                        out = io.BytesIO()
                        fig.savefig(out, format=fmt, metadata={"Date": None})
                        payload = out.getvalue()
                    atomic_write_bytes(path, payload)
                    result.files.append(path)
        results.append(result)
    return results
