"""Figures of sweeps and sensitivity designs: outcome lines, heatmaps and tornados.

Drawn from the results folder's tables only (``sweep.csv``, ``sensitivity.csv``), so
``marketsim report`` redraws them. Heatmaps use cividis, a colour map readable with any
colour vision (Nuñez, Anderton & Renslow 2018).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.common.files import read_table
from sim.common.outcomes import outcome_label
from sim.report.labels import (
    NOISE_FLOOR,
    format_outcome_axis,
    is_money,
    outcome_axis,
    parameter_axis,
    parameter_name,
)
from sim.report.style import (
    MONEY,
    NEUTRAL,
    OKABE_ITO,
    grid_figure,
    policy_colors,
    save_figure,
    style_context,
)

__all__ = [
    "draw_sensitivity_figure",
    "draw_sweep_figures",
    "fig_sensitivity",
    "fig_sweep_heatmaps",
    "fig_sweep_lines",
    "sweep_parameters",
]


# --------------------------------------------------------------------------- sweeps


def fig_sweep_lines(
    sweep: pd.DataFrame, parameter: str, policies: Sequence[str], outcome: str
) -> Figure:
    """Outcome against one swept parameter: a line per policy with its 95% interval."""
    colors = policy_colors(policies)
    fig = Figure(figsize=(7.0, 4.4), layout="constrained")
    ax = fig.subplots()
    for policy in policies:
        mine = sweep[sweep["policy"] == policy].sort_values(parameter)
        x = mine[parameter].to_numpy(float)
        ax.plot(x, mine["mean"], color=colors[policy], lw=1.8, marker="o", ms=3.5, label=policy)
        if mine["ci_low"].notna().any():
            ax.fill_between(
                x, mine["ci_low"], mine["ci_high"], color=colors[policy], alpha=0.18, lw=0
            )
    ax.set_xlabel(parameter_axis(parameter, wrap=70))
    ax.set_ylabel(outcome_axis(outcome))
    format_outcome_axis(ax, outcome)
    ax.legend(loc="best")
    title = f"{outcome_label(outcome)} as one parameter varies: {parameter_name(parameter)}"
    ax.set_title(
        textwrap.fill(title, 70) + "\n(mean over replications, band: 95% interval)", loc="left"
    )
    return fig


def _edges(values: np.ndarray) -> np.ndarray:
    """Cell edges around sorted grid values (midpoints; half a step beyond the ends)."""
    if values.size == 1:
        return np.array([values[0] - 0.5, values[0] + 0.5])
    mid = (values[1:] + values[:-1]) / 2.0
    return np.concatenate([[2 * values[0] - mid[0]], mid, [2 * values[-1] - mid[-1]]])


def fig_sweep_heatmaps(
    sweep: pd.DataFrame, parameters: tuple[str, str], policies: Sequence[str], outcome: str
) -> Figure:
    """Two swept parameters: one heatmap of the mean outcome per policy, and the winner map."""
    px, py = parameters
    xs = np.sort(np.unique(sweep[px].to_numpy(float)))
    ys = np.sort(np.unique(sweep[py].to_numpy(float)))
    grids = {}
    for policy in policies:
        wide = sweep[sweep["policy"] == policy].pivot_table(
            index=py, columns=px, values="mean", aggfunc="first"
        )
        grids[policy] = wide.reindex(index=ys, columns=xs).to_numpy(float)
    finite = np.concatenate([g[np.isfinite(g)] for g in grids.values()] or [np.zeros(0)])
    vmin, vmax = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    fig, axes = grid_figure(len(policies) + 1, height=3.8)
    ex, ey = _edges(xs), _edges(ys)
    mesh = None
    for k, (ax, policy) in enumerate(zip(axes, policies, strict=False)):
        mesh = ax.pcolormesh(ex, ey, grids[policy], cmap="cividis", vmin=vmin, vmax=vmax)
        ax.set_title(policy)
        ax.set_xlabel(parameter_axis(px, wrap=True))
        ax.set_ylabel(parameter_axis(py, wrap=True) if k % 3 == 0 else "")
        ax.grid(False)
    if mesh is not None:
        bar = fig.colorbar(mesh, ax=list(axes[: len(policies)]), shrink=0.9)
        bar.set_label(outcome_axis(outcome))
        if is_money(outcome):
            bar.formatter = MONEY
            bar.update_ticks()
    ax = axes[len(policies)]
    stack = np.stack([np.where(np.isfinite(grids[p]), grids[p], -np.inf) for p in policies])
    winner = np.argmax(stack, axis=0).astype(float)  # ties: the earlier policy
    winner[~np.isfinite(stack).any(axis=0)] = np.nan
    palette = [OKABE_ITO[k % len(OKABE_ITO)] for k in range(len(policies))]
    cmap = ListedColormap(palette)
    norm = BoundaryNorm(np.arange(len(policies) + 1) - 0.5, len(policies))
    ax.pcolormesh(ex, ey, winner, cmap=cmap, norm=norm)
    ax.set_title("best policy at each grid point")
    ax.set_xlabel(parameter_axis(px, wrap=True))
    ax.set_ylabel(parameter_axis(py, wrap=True) if len(policies) % 3 == 0 else "")
    ax.grid(False)
    handles = [
        Patch(color=palette[k], label=p) for k, p in enumerate(policies) if np.any(winner == k)
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.suptitle(
        f"{outcome_label(outcome)} over two parameters\n"
        f"across: {textwrap.shorten(parameter_name(px), 90)}\n"
        f"up: {textwrap.shorten(parameter_name(py), 90)}",
        fontweight="bold",
    )
    return fig


def sweep_parameters(sweep: pd.DataFrame) -> list[str]:
    """The swept parameters of a sweep table: its columns between ``point`` and ``policy``.

    >>> sweep_parameters(pd.DataFrame(columns=["point", "a.b", "c", "policy", "mean"]))
    ['a.b', 'c']
    """
    columns = list(sweep.columns)
    return columns[columns.index("point") + 1 : columns.index("policy")]


def draw_sweep_figures(
    folder: str | Path, *, formats: Iterable[str] = ("png",), dpi: int = 110
) -> list[Path]:
    """The sweep's line plot (one parameter) or heatmaps and winner map (two), from
    ``folder/sweep.csv`` into ``folder/plots``; nothing when there is no sweep table."""
    folder = Path(folder)
    sweep = read_table(folder / "sweep.csv", missing_ok=True)
    if sweep.empty:
        return []
    parameters = sweep_parameters(sweep)
    policies = [str(p) for p in pd.unique(sweep["policy"])]
    outcome = str(sweep["outcome"].iloc[0])
    formats = tuple(formats)
    with style_context():
        if len(parameters) == 1:
            fig = fig_sweep_lines(sweep, parameters[0], policies, outcome)
            return save_figure(fig, folder / "plots", "sweep_lines", formats, dpi)
        fig = fig_sweep_heatmaps(sweep, (parameters[0], parameters[1]), policies, outcome)
        return save_figure(fig, folder / "plots", "sweep_heatmaps", formats, dpi)


# --------------------------------------------------------------------------- sensitivity


def fig_sensitivity(sensitivity: pd.DataFrame, outcome: str) -> Figure:
    """Tornado of the indices per policy (and policy difference), with confidence bars.

    Sobol: first-order (S1) and total (ST) indices; Morris: mu* with its interval and sigma.
    """
    method = str(sensitivity["method"].iloc[0])
    groups = list(
        sensitivity.fillna({"compared_with": ""}).groupby(["policy", "compared_with"], sort=False)
    )
    height = 0.42 * sensitivity["parameter"].nunique() + 1.3
    fig = Figure(figsize=(9.0, height * len(groups) + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(groups), 1, sharex=True)).ravel()
    for ax, ((policy, versus), block) in zip(axes, groups, strict=False):
        key = "ST" if method == "sobol" else "mu_star"
        block = block.sort_values(key, ascending=True, na_position="first")
        y = np.arange(len(block))
        names = [parameter_axis(p, wrap=44) for p in block["parameter"]]
        floor = block["parameter"].to_numpy() == NOISE_FLOOR
        if method == "sobol":
            ax.barh(
                y + 0.2,
                block["ST"],
                height=0.38,
                xerr=block["ST_conf"],
                color=OKABE_ITO[0],
                label="total (ST)",
                error_kw={"lw": 0.8},
            )
            ax.barh(
                y - 0.2,
                block["S1"],
                height=0.38,
                xerr=block["S1_conf"],
                color=OKABE_ITO[3],
                label="first order (S1)",
                error_kw={"lw": 0.8},
            )
            ax.set_xlabel("Sobol index (share of the outcome's variance)")
            ax.axvline(0.0, color=NEUTRAL, lw=0.8)
        else:
            ax.barh(
                y,
                block["mu_star"],
                height=0.6,
                xerr=block["mu_star_conf"],
                color=OKABE_ITO[0],
                label="mu* (mean absolute effect)",
                error_kw={"lw": 0.8},
            )
            ax.scatter(
                block["sigma"],
                y,
                marker="D",
                s=22,
                color=OKABE_ITO[1],
                zorder=3,
                label="sigma (interactions, non-linearity)",
            )
            ax.set_xlabel(outcome_axis(outcome, "elementary effect on ") + " per full range")
            format_outcome_axis(ax, outcome, axis="x")
        if floor.any():  # the noise floor's bars in grey: what noise alone gives
            for bar in ax.patches:
                if abs(bar.get_y() + bar.get_height() / 2 - y[floor][0]) < 0.45:
                    bar.set_color(NEUTRAL)
        ax.set_yticks(y, names)
        ax.set_ylabel("parameter")
        ax.set_title(str(policy) if not versus else f"{policy} minus {versus}", loc="left")
        ax.grid(axis="y", visible=False)
    for ax in axes[:-1]:
        ax.set_xlabel("")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(handles))
    name = "Sobol'" if method == "sobol" else "Morris"
    fig.suptitle(
        f"What drives {outcome_label(outcome)}: {name} indices of the uncertain parameters",
        fontweight="bold",
    )
    return fig


def draw_sensitivity_figure(
    folder: str | Path, *, formats: Iterable[str] = ("png",), dpi: int = 110
) -> list[Path]:
    """The sensitivity tornado from ``folder/sensitivity.csv`` into ``folder/plots``
    as ``sensitivity.<format>``; nothing when there is no sensitivity table."""
    folder = Path(folder)
    table = read_table(folder / "sensitivity.csv", missing_ok=True)
    if table.empty:
        return []
    outcome = str(table["outcome"].iloc[0])
    with style_context():
        fig = fig_sensitivity(table, outcome)
        return save_figure(fig, folder / "plots", "sensitivity", tuple(formats), dpi)
