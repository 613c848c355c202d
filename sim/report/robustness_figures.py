"""The robustness figures: how each policy fares across the sampled markets.

Drawn from the results folder's tables only (``regret.csv``, ``robustness.csv``,
``scenarios.csv``, written by :func:`sim.analysis.robustness.write_robustness`), so
``marketsim report`` redraws them; in the report's style (:mod:`sim.report.style`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from sim.analysis.robustness import leading_pair, rank_parameters
from sim.common.files import read_table
from sim.report.labels import format_outcome_axis, outcome_axis, parameter_axis
from sim.report.style import (
    NEUTRAL,
    grid_figure,
    policy_colors,
    policy_legend,
    save_figure,
    style_context,
)

__all__ = [
    "ROBUSTNESS_FIGURES",
    "draw_robustness_figures",
    "fig_discovery",
    "fig_outcome_by_parameter",
    "fig_regret",
    "fig_winner_map",
    "robustness_figures",
]

MAX_PARAMETER_PANELS = 9

ROBUSTNESS_FIGURES = (
    (
        "robustness_regret",
        "Regret of each policy across the sampled markets",
        "Each dot is one sampled market: how far the policy's mean {outcome} fell short of the "
        "best policy's in that market (0 = it was the best). The box spans the middle half; "
        "the diamond marks the 90th percentile, the cross the worst case.",
    ),
    (
        "robustness_outcome_by_parameter",
        "Outcome against each uncertain parameter",
        "Each dot is one policy's mean {outcome} in one sampled market, against the value the "
        "market drew for each uncertain parameter; lines join the means of equal-count bins.",
    ),
    (
        "robustness_winner_map",
        "Where in parameter space each policy wins",
        "Each sampled market at its values of the two parameters that most change the gap "
        "between the leading policies, coloured by the policy with the best mean {outcome}.",
    ),
    (
        "robustness_discovery",
        "Where the leading policy loses (scenario discovery)",
        "Each sampled market at its values of the parameters PRIM's box restricts (one "
        "parameter: against the policy's regret): a dot in the policy's colour where it is "
        "the best, a black cross where another policy beats it; the dashed box is the range "
        "found (discovery.csv).",
    ),
)
"""(file stem in plots/, title, caption) of the robustness figures, in report order."""


def fig_regret(regret: pd.DataFrame, policies: Sequence[str], outcome: str) -> Figure:
    """Regret per policy over the scenarios: dots, a box, the 90th percentile and the worst."""
    colors = policy_colors(policies)
    fig = Figure(figsize=(max(5.0, 1.6 * len(policies) + 2.5), 4.0), layout="constrained")
    ax = fig.subplots()
    rng = np.random.default_rng(0)  # jitter only; fixed so the figure is reproducible
    for k, policy in enumerate(policies):
        r = regret.loc[regret["policy"] == policy, "regret"].dropna().to_numpy(float)
        if r.size == 0:
            continue
        ax.boxplot(
            r,
            positions=[k],
            widths=0.5,
            showfliers=False,
            patch_artist=True,
            boxprops={"facecolor": "none", "edgecolor": "#555555"},
            medianprops={"color": "#555555"},
            whiskerprops={"color": "#999999"},
            capprops={"color": "#999999"},
        )
        ax.scatter(
            k + rng.uniform(-0.18, 0.18, r.size),
            r,
            s=14,
            color=colors[policy],
            alpha=0.7,
            lw=0,
            zorder=3,
        )
        ax.scatter([k + 0.32], [np.quantile(r, 0.9)], marker="D", s=28, color="#000000", zorder=4)
        ax.scatter([k + 0.32], [r.max()], marker="X", s=44, color="#000000", zorder=4)
    ax.axhline(0.0, color=NEUTRAL, lw=1.0, zorder=1)
    ax.set_xticks(range(len(policies)), policies, rotation=20, ha="right")
    ax.set_xlim(-0.6, len(policies) - 0.4)
    ax.set_xlabel("policy")
    ax.set_ylabel(outcome_axis(outcome, "regret on "))
    ax.grid(axis="x", visible=False)
    format_outcome_axis(ax, outcome)
    ax.scatter([], [], marker="D", s=28, color="#000000", label="90th percentile")
    ax.scatter([], [], marker="X", s=44, color="#000000", label="worst case")
    ax.legend(loc="best")
    ax.set_title("regret = best policy's mean in the market minus this policy's")
    return fig


def _binned(x: np.ndarray, y: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Means of y in equal-count bins of x (one bin per value when x has few values)."""
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size == 0:
        return x, y
    values = np.unique(x)
    if values.size <= bins:
        return values, np.array([y[x == v].mean() for v in values])
    edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)))
    which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, edges.size - 2)
    used = np.unique(which)
    return (
        np.array([x[which == b].mean() for b in used]),
        np.array([y[which == b].mean() for b in used]),
    )


def fig_outcome_by_parameter(
    means: pd.DataFrame,
    scenarios: pd.DataFrame,
    parameters: Sequence[str],
    policies: Sequence[str],
    outcome: str,
) -> Figure | None:
    """One panel per uncertain parameter: each policy's scenario means against its value."""
    parameters = list(parameters)[:MAX_PARAMETER_PANELS]
    if not parameters:
        return None
    table = means.merge(scenarios, on="scenario", how="inner")
    colors = policy_colors(policies)
    # about 1.5 sqrt(n) markets per bin: 12 markets -> 2 bins, 50 -> 5, 200+ -> 8
    bins = int(np.clip(round(math.sqrt(scenarios.shape[0]) / 1.5), 2, 8))
    fig, axes = grid_figure(len(parameters))
    for ax, p in zip(axes, parameters, strict=False):
        for policy in policies:
            mine = table[table["policy"] == policy]
            x, y = mine[p].to_numpy(float), mine["mean"].to_numpy(float)
            ax.scatter(x, y, s=12, color=colors[policy], alpha=0.55, lw=0)
            bx, by = _binned(x, y, bins)
            ax.plot(bx, by, color=colors[policy], lw=1.8)
        ax.set_xlabel(parameter_axis(p, wrap=True))
        ax.set_ylabel(outcome_axis(outcome))
        format_outcome_axis(ax, outcome)
    policy_legend(fig, policies)
    return fig


def fig_winner_map(
    regret: pd.DataFrame,
    scenarios: pd.DataFrame,
    parameters: Sequence[str],
    policies: Sequence[str],
    outcome: str,
) -> Figure | None:
    """Each scenario at its two most influential parameters, coloured by the winning policy.

    With one parameter: the winner's margin over the runner-up against that parameter.
    """
    if not parameters:
        return None
    best = regret[regret["is_best"]].set_index("scenario")
    table = scenarios.set_index("scenario").join(best[["best_policy"]], how="inner")
    if table.empty:
        return None
    colors = policy_colors(policies)
    fig = Figure(figsize=(6.4, 4.8), layout="constrained")
    ax = fig.subplots()
    x_param = parameters[0]
    if len(parameters) >= 2:
        y_param = parameters[1]
        y_values = table[y_param].to_numpy(float)
        ax.set_ylabel(parameter_axis(y_param, wrap=50))
    else:
        second = regret[~regret["is_best"]].groupby("scenario")["mean"].max().rename("runner_up")
        table = table.join(best[["best_mean"]]).join(second)
        y_values = (table["best_mean"] - table["runner_up"]).to_numpy(float)
        ax.set_ylabel(outcome_axis(outcome, "winner's lead in "))
        format_outcome_axis(ax, outcome)
    x_values = table[x_param].to_numpy(float)
    winners = table["best_policy"].to_numpy(str)
    for policy in policies:
        hit = winners == policy
        if hit.any():
            ax.scatter(
                x_values[hit],
                y_values[hit],
                s=36,
                color=colors[policy],
                lw=0.4,
                edgecolors="white",
                label=f"{policy} wins ({int(hit.sum())})",
            )
    ax.set_xlabel(parameter_axis(x_param, wrap=60))
    fig.legend(loc="outside upper center", ncol=min(3, len(policies)))
    return fig


def fig_discovery(
    regret: pd.DataFrame,
    scenarios: pd.DataFrame,
    box: pd.DataFrame,
    policies: Sequence[str],
    outcome: str,
) -> Figure | None:
    """The markets where the leading policy wins and loses, with PRIM's box drawn on them."""
    numeric = box[box["restricted"] != "values"] if not box.empty else box
    if numeric.empty:
        return None
    policy = str(box["policy"].iloc[0])
    mine = regret[regret["policy"] == policy].set_index("scenario")
    table = scenarios.set_index("scenario").join(mine[["is_best", "regret"]], how="inner")
    wins = table["is_best"].astype(str).eq("True").to_numpy()
    x_param = str(numeric["parameter"].iloc[0])
    x = table[x_param].to_numpy(float)
    fig = Figure(figsize=(6.4, 4.8), layout="constrained")
    ax = fig.subplots()
    names = numeric["parameter"].astype(str).tolist()
    low = dict(zip(names, numeric["low"].to_numpy(float), strict=True))
    high = dict(zip(names, numeric["high"].to_numpy(float), strict=True))
    if len(numeric) >= 2:
        y_param = str(numeric["parameter"].iloc[1])
        y = table[y_param].to_numpy(float)
        ax.set_ylabel(parameter_axis(y_param, wrap=50))
        y_low, y_high = low[y_param], high[y_param]
    else:
        y = table["regret"].to_numpy(float)
        ax.set_ylabel(outcome_axis(outcome, f"{policy}'s regret in "))
        format_outcome_axis(ax, outcome)
        y_low, y_high = float(np.nanmin(y)), float(np.nanmax(y))
    color = policy_colors(policies).get(policy, NEUTRAL)
    ax.scatter(x[wins], y[wins], s=30, color=color, lw=0, label=f"{policy} is the best")
    ax.scatter(x[~wins], y[~wins], s=30, color="black", marker="x", lw=1.2, label="it loses")
    x_low, x_high = low[x_param], high[x_param]
    ax.add_patch(
        Rectangle(
            (x_low, y_low), x_high - x_low, y_high - y_low, fill=False, ls="--", lw=1.4, zorder=4
        )
    )
    ax.set_xlabel(parameter_axis(x_param, wrap=60))
    fig.legend(loc="outside upper center", ncol=2)
    return fig


def robustness_figures(
    regret: pd.DataFrame,
    robust: pd.DataFrame,
    scenarios: pd.DataFrame,
    *,
    policies: Sequence[str],
    outcome: str,
    box: pd.DataFrame | None = None,
) -> dict[str, Figure]:
    """The robustness figures by file stem (a figure its tables cannot show is left out)."""
    parameters = [c for c in scenarios.columns if c != "scenario"]
    means = regret[["scenario", "policy", "mean"]]
    pair = leading_pair(robust)
    ranked = rank_parameters(means, scenarios, parameters, pair) if pair else parameters
    figures = {
        "robustness_regret": fig_regret(regret, policies, outcome),
        "robustness_outcome_by_parameter": fig_outcome_by_parameter(
            means, scenarios, ranked, policies, outcome
        ),
        "robustness_winner_map": fig_winner_map(regret, scenarios, ranked[:2], policies, outcome),
        "robustness_discovery": (
            fig_discovery(regret, scenarios, box, policies, outcome) if box is not None else None
        ),
    }
    return {stem: fig for stem, fig in figures.items() if fig is not None}


def draw_robustness_figures(
    folder: str | Path, *, formats: Iterable[str] = ("png",), dpi: int = 110
) -> list[Path]:
    """Draw the robustness figures of a results folder into ``folder/plots``.

    Reads ``regret.csv`` and ``robustness.csv`` (the policies in their order, the outcome
    judged) and ``scenarios.csv`` (the sampled values; without it, one market). Returns
    the files written; none when the folder has no robustness tables.
    """
    folder = Path(folder)
    if not (folder / "robustness.csv").is_file() or not (folder / "regret.csv").is_file():
        return []
    regret = read_table(folder / "regret.csv")
    robust = read_table(folder / "robustness.csv")
    if robust.empty or regret.empty:
        return []
    scenarios = read_table(folder / "scenarios.csv", missing_ok=True)
    if scenarios.empty:
        scenarios = pd.DataFrame({"scenario": sorted(pd.unique(regret["scenario"]))})
    policies = [str(p) for p in robust["policy"]]
    outcome = str(robust["outcome"].iloc[0])
    formats = tuple(formats)
    written: list[Path] = []
    with style_context():
        box = read_table(folder / "discovery.csv", missing_ok=True)
        figures = robustness_figures(
            regret, robust, scenarios, policies=policies, outcome=outcome, box=box
        )
        for stem, fig in figures.items():
            written += save_figure(fig, folder / "plots", stem, formats, dpi)
    return written
