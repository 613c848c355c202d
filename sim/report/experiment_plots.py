"""Figures of experiments over many markets: robustness, sweeps and sensitivity.

Drawn from tables only (regret, sweep and sensitivity frames), in the report's style:
the Okabe-Ito palette, units on every axis, ``Figure`` objects without pyplot state.
Heatmaps use cividis, a colour map readable with any colour vision (Nuñez, Anderton &
Renslow 2018).
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure

from sim.common.files import atomic_write_bytes
from sim.report.html import OUTCOME_LABELS
from sim.report.plots import MONEY, NEUTRAL, OKABE_ITO, STYLE

__all__ = [
    "draw_robustness_figures",
    "draw_sensitivity_figure",
    "draw_sweep_figures",
    "fig_outcome_by_parameter",
    "fig_regret",
    "fig_sensitivity",
    "fig_sweep_heatmaps",
    "fig_sweep_lines",
    "fig_winner_map",
    "outcome_axis",
    "save_figure",
]

MAX_PARAMETER_PANELS = 9


# --------------------------------------------------------------------------- helpers


def outcome_axis(outcome: str, prefix: str = "mean ") -> str:
    """An axis label with the unit, e.g. 'mean cumulative profit (money)'."""
    label, unit = OUTCOME_LABELS.get(outcome, (outcome.replace("_", " "), "value"))
    return f"{prefix}{label} ({unit})"


def _is_money(outcome: str) -> bool:
    return "money" in OUTCOME_LABELS.get(outcome, ("", ""))[1]


def _colors(names: Sequence[str]) -> dict[str, str]:
    return {n: OKABE_ITO[k % len(OKABE_ITO)] for k, n in enumerate(names)}


def _label(path: str, wrap: bool = False) -> str:
    from sim.experiment.sampling import parameter_label

    if path == "noise_floor":  # sim.analysis.sensitivity.NOISE_FLOOR, the dummy parameter
        return "noise floor (a parameter\nwith no effect)" if wrap else "noise floor (no effect)"
    label = parameter_label(path)
    return label.replace(" (", "\n(", 1) if wrap else label


def _format_outcome(ax: Axes, outcome: str, axis: str = "y") -> None:
    if _is_money(outcome):
        (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(MONEY)


def _policy_legend(fig: Figure, policies: Sequence[str], marker: bool = False) -> None:
    colors = _colors(policies)
    handles = [
        mpl.lines.Line2D(
            [],
            [],
            color=colors[p],
            lw=0 if marker else 2.5,
            marker="o" if marker else "",
            label=p,
        )
        for p in policies
    ]
    fig.legend(handles=handles, loc="outside upper center", ncol=min(len(handles), 4))


def save_figure(
    fig: Figure, folder: Path, stem: str, formats: Iterable[str] = ("png",), dpi: int = 110
) -> list[Path]:
    """Write ``fig`` as ``folder/stem.<format>`` for each format, atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        buffer = io.BytesIO()
        meta = {"Software": None} if fmt == "png" else {"Date": None}
        fig.savefig(buffer, format=fmt, dpi=dpi, metadata=meta)
        path = folder / f"{stem}.{fmt}"
        atomic_write_bytes(path, buffer.getvalue())
        written.append(path)
    return written


def _grid(n: int, width: float = 10.5, height: float = 3.2) -> tuple[Figure, np.ndarray]:
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(width, height * rows + 0.5), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes


# --------------------------------------------------------------------------- robustness


def fig_regret(regret: pd.DataFrame, policies: Sequence[str], outcome: str) -> Figure:
    """Regret per policy over the scenarios: dots, a box, the 90th percentile and the worst."""
    colors = _colors(policies)
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
    _format_outcome(ax, outcome)
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
    colors = _colors(policies)
    # about 1.5 sqrt(n) markets per bin: 12 markets -> 2 bins, 50 -> 5, 200+ -> 8
    bins = int(np.clip(round(math.sqrt(scenarios.shape[0]) / 1.5), 2, 8))
    fig, axes = _grid(len(parameters))
    for ax, p in zip(axes, parameters, strict=False):
        for policy in policies:
            mine = table[table["policy"] == policy]
            x, y = mine[p].to_numpy(float), mine["mean"].to_numpy(float)
            ax.scatter(x, y, s=12, color=colors[policy], alpha=0.55, lw=0)
            bx, by = _binned(x, y, bins)
            ax.plot(bx, by, color=colors[policy], lw=1.8)
        ax.set_xlabel(_label(p, wrap=True))
        ax.set_ylabel(outcome_axis(outcome))
        _format_outcome(ax, outcome)
    _policy_legend(fig, policies)
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
    colors = _colors(policies)
    fig = Figure(figsize=(6.4, 4.8), layout="constrained")
    ax = fig.subplots()
    x_param = parameters[0]
    if len(parameters) >= 2:
        y_param = parameters[1]
        y_values = table[y_param].to_numpy(float)
        ax.set_ylabel(_label(y_param))
    else:
        second = regret[~regret["is_best"]].groupby("scenario")["mean"].max().rename("runner_up")
        table = table.join(best[["best_mean"]]).join(second)
        y_values = (table["best_mean"] - table["runner_up"]).to_numpy(float)
        ax.set_ylabel(outcome_axis(outcome, "winner's lead in "))
        _format_outcome(ax, outcome)
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
    ax.set_xlabel(_label(x_param))
    fig.legend(loc="outside upper center", ncol=min(3, len(policies)))
    return fig


def draw_robustness_figures(
    regret: pd.DataFrame,
    robust: pd.DataFrame,
    scenarios: pd.DataFrame,
    folder: Path,
    *,
    policies: Sequence[str],
    outcome: str,
    formats: Iterable[str] = ("png",),
    dpi: int = 110,
) -> list[Path]:
    """Draw the robustness figures into ``folder`` (see ``sim.analysis.robustness.ROBUSTNESS_FIGURES``)."""
    from sim.analysis.robustness import leading_pair, rank_parameters

    parameters = [c for c in scenarios.columns if c != "scenario"]
    means = regret[["scenario", "policy", "mean"]]
    pair = leading_pair(robust)
    ranked = rank_parameters(means, scenarios, parameters, pair) if pair else parameters
    formats = tuple(formats)
    written: list[Path] = []
    with mpl.rc_context(STYLE):  # type: ignore[arg-type]
        figures = {
            "robustness_regret": fig_regret(regret, policies, outcome),
            "robustness_outcome_by_parameter": fig_outcome_by_parameter(
                means, scenarios, ranked, policies, outcome
            ),
            "robustness_winner_map": fig_winner_map(
                regret, scenarios, ranked[:2], policies, outcome
            ),
        }
        for stem, fig in figures.items():
            if fig is not None:
                written += save_figure(fig, folder, stem, formats, dpi)
    return written


# --------------------------------------------------------------------------- sweeps


def fig_sweep_lines(
    sweep: pd.DataFrame, parameter: str, policies: Sequence[str], outcome: str
) -> Figure:
    """Outcome against one swept parameter: a line per policy with its 95% interval."""
    colors = _colors(policies)
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
    ax.set_xlabel(_label(parameter))
    ax.set_ylabel(outcome_axis(outcome))
    _format_outcome(ax, outcome)
    ax.legend(loc="best")
    ax.set_title("mean over replications, band: 95% interval")
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
    xs = np.sort(pd.unique(sweep[px]).astype(float))
    ys = np.sort(pd.unique(sweep[py]).astype(float))
    grids = {}
    for policy in policies:
        wide = sweep[sweep["policy"] == policy].pivot_table(
            index=py, columns=px, values="mean", aggfunc="first"
        )
        grids[policy] = wide.reindex(index=ys, columns=xs).to_numpy(float)
    finite = np.concatenate([g[np.isfinite(g)] for g in grids.values()] or [np.zeros(0)])
    vmin, vmax = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    fig, axes = _grid(len(policies) + 1, height=3.8)
    ex, ey = _edges(xs), _edges(ys)
    mesh = None
    for k, (ax, policy) in enumerate(zip(axes, policies, strict=False)):
        mesh = ax.pcolormesh(ex, ey, grids[policy], cmap="cividis", vmin=vmin, vmax=vmax)
        ax.set_title(policy)
        ax.set_xlabel(_label(px, wrap=True))
        ax.set_ylabel(_label(py, wrap=True) if k % 3 == 0 else "")
        ax.grid(False)
    if mesh is not None:
        bar = fig.colorbar(mesh, ax=list(axes[: len(policies)]), shrink=0.9)
        bar.set_label(outcome_axis(outcome))
        if _is_money(outcome):
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
    ax.set_xlabel(_label(px, wrap=True))
    ax.set_ylabel(_label(py, wrap=True) if len(policies) % 3 == 0 else "")
    ax.grid(False)
    handles = [
        mpl.patches.Patch(color=palette[k], label=p)
        for k, p in enumerate(policies)
        if np.any(winner == k)
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def draw_sweep_figures(
    sweep: pd.DataFrame,
    parameters: Sequence[str],
    folder: Path,
    *,
    policies: Sequence[str],
    outcome: str,
    formats: Iterable[str] = ("png",),
    dpi: int = 110,
) -> list[Path]:
    """Line plot (one parameter) or heatmaps and winner map (two) into ``folder``."""
    formats = tuple(formats)
    with mpl.rc_context(STYLE):  # type: ignore[arg-type]
        if len(parameters) == 1:
            fig = fig_sweep_lines(sweep, parameters[0], policies, outcome)
            return save_figure(fig, folder, "sweep_lines", formats, dpi)
        fig = fig_sweep_heatmaps(sweep, (parameters[0], parameters[1]), policies, outcome)
        return save_figure(fig, folder, "sweep_heatmaps", formats, dpi)


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
        names = [_label(p) for p in block["parameter"]]
        floor = block["parameter"].to_numpy() == "noise_floor"
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
            _format_outcome(ax, outcome, axis="x")
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
    fig.legend(handles, labels, loc="outside upper center", ncol=len(handles))
    return fig


def draw_sensitivity_figure(
    sensitivity: pd.DataFrame,
    folder: Path,
    *,
    outcome: str,
    formats: Iterable[str] = ("png",),
    dpi: int = 110,
) -> list[Path]:
    """The sensitivity tornado into ``folder`` as ``sensitivity.<format>``."""
    with mpl.rc_context(STYLE):  # type: ignore[arg-type]
        fig = fig_sensitivity(sensitivity, outcome)
        return save_figure(fig, folder, "sensitivity", tuple(formats), dpi)
