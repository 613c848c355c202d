"""The report's figures of results: final outcomes, economics, pyramid, churn, network.

Each reads the results tables of the focal firm (and the network snapshot) and is
skipped with the reason when the results lack its columns.
"""

from __future__ import annotations

import math

import matplotlib as mpl
import networkx as nx
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.report.data import ResultsData
from sim.report.panels import (
    TIER_ORDER,
    Skipped,
    churn_reasons,
    in_years,
    missing_columns,
    quarterly,
    readable,
    reserve_top,
)
from sim.report.style import (
    HATCHES,
    MONEY,
    NEUTRAL,
    SHADES,
    few_ticks,
    grid_figure,
    policy_colors,
    policy_legend,
)

__all__ = [
    "fig_churn_reasons",
    "fig_economics",
    "fig_final_outcomes",
    "fig_network",
    "fig_pyramid",
]


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
    colors = policy_colors(data.policies)
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
        label = f"{title} ({unit})"  # a long one on two lines, or it is cut off at the top
        ax.set_ylabel(label.replace(" (", "\n(") if len(label) > 40 else label)
        ax.set_xlabel("policy")
        ax.grid(axis="x", visible=False)
        few_ticks(ax)
        if fmt is not None:
            ax.yaxis.set_major_formatter(fmt)
    return fig


def fig_economics(data: ResultsData, band: float) -> Figure | Skipped:
    """3. Cost per new vs. retained customer, payback time, and the leaky bucket."""
    ts = data.focal_series()
    need = ["acquisition_spend", "retention_spend", "customers", "churned", "new_customers"]
    missing = missing_columns(ts, need)
    if missing:
        return Skipped(f"the results lack {', '.join(missing)}")
    spy = data.steps_per_year
    paid = [
        c
        for c in ("new_advertising", "new_promotion", "new_sales_visit", "new_switched_in")
        if c in ts
    ] or ["new_customers"]
    colors = policy_colors(data.policies)
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
        x - width / 2, [r[1] for r in rows], width, color=SHADES[0], label="per new customer"
    )
    ax_cost.bar(
        x + width / 2,
        [r[2] for r in rows],
        width,
        color=SHADES[3],
        hatch="//",
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
        q = mine.assign(quarter=quarterly(mine["step"], data))
        per = q.groupby(["replication", "quarter"])[["new_customers", "churned"]].sum()
        mean = per.groupby("quarter").mean()
        xq = (mean.index.to_numpy() + 1) / 4.0
        ax.bar(xq, mean["new_customers"], width=0.2, color=SHADES[1], label="won")
        ax.bar(xq, -mean["churned"], width=0.2, color=SHADES[3], label="lost")
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
        few_ticks(ax)
        few_ticks(ax, "x", 6)
    handles, labels = bottom[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3)
    return fig


def fig_pyramid(data: ResultsData, band: float) -> Figure | Skipped:
    """5. The customer pyramid: one panel per tier, each policy a line in its colour.

    One panel per tier (not a stack) so the top tiers, a few percent of the customers,
    get an axis of their own scale and show.
    """
    tiers = [t for t in TIER_ORDER if f"tier_{t}" in data.timeseries]
    if not tiers:
        return Skipped(
            "the results have no customer-pyramid columns (tier_top, tier_big, tier_medium, "
            "tier_small, tier_inactive)"
        )
    columns = [f"tier_{t}" for t in tiers]
    means = {  # per policy: the mean over replications at each step, every tier at once
        p: data.focal_policy(p).groupby("step")[columns].mean() for p in data.policies
    }
    colors = policy_colors(data.policies)
    fig, axes = grid_figure(len(tiers), height=2.9)
    for ax, tier in zip(axes, tiers, strict=False):
        for policy in data.policies:
            mean = means[policy][f"tier_{tier}"].dropna()
            if not mean.empty:
                x = in_years(mean.index.to_numpy(), data)
                ax.plot(x, mean.to_numpy(float), color=colors[policy])
        ax.set_title(f"{readable(tier)} tier")
        ax.set_xlabel("time (years)")
        ax.set_ylabel("customers (people)")
        ax.set_ylim(bottom=0)
        few_ticks(ax)
        few_ticks(ax, "x", 6)
    policy_legend(fig, data.policies)
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
            color=SHADES[k % len(SHADES)],
            hatch=HATCHES[(k // len(SHADES)) % len(HATCHES)],
            edgecolor="white",
            height=0.6,
            label=readable(reason.removeprefix("churned_")),
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
    sample = np.sort(nodes["node"].unique())
    graph = nx.Graph()
    graph.add_nodes_from(sample.tolist())
    if edges is not None and not edges.empty:
        graph.add_edges_from(edges[["source", "target"]].itertuples(index=False, name=None))
    pos = nx.spring_layout(graph, seed=7, iterations=60)
    xy = np.array([pos[v] for v in sample])
    firm_colors = policy_colors(data.firms)
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
                    list(segments),
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
    reserve_top(fig, (0, 0, 1, 0.9 if rows == 1 else 0.94))
    fig.legend(
        handles=handles, loc="upper center", ncol=min(len(handles), 5), bbox_to_anchor=(0.5, 1.0)
    )
    return fig
