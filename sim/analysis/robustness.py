"""Robust policy choice: which policy does well across many plausible markets.

A policy's *regret* in a sampled market (scenario) is the shortfall of its mean outcome
from the best policy's mean outcome in that market (Savage 1951; the minimax-regret
criterion of robust decision making, Lempert, Popper & Bankes 2003). Means are over the
scenario's replications, for the focal firm; every policy ran on the same seeds in a
scenario (common random numbers), so the paired interval of a regret says whether the
shortfall is real or noise of the replications.

This module reads only the results tables (``outcomes.csv``, ``scenarios.csv``), never
the model, and draws nothing: :func:`write_robustness` adds ``regret.csv`` and
``robustness.csv`` to a results folder; :mod:`sim.report.robustness_figures` draws them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.analysis.discovery import write_discovery
from sim.analysis.statistics import paired_difference_ci
from sim.common.files import atomic_write_bytes, csv_bytes, read_table
from sim.common.formatting import format_number
from sim.common.outcomes import outcome_label

__all__ = [
    "headline",
    "leading_pair",
    "load_experiment_tables",
    "rank_parameters",
    "regret_table",
    "robustness_table",
    "scenario_means",
    "write_robustness",
]


def load_experiment_tables(out_dir: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``outcomes.csv`` and ``scenarios.csv`` of a results folder.

    A folder without ``scenarios.csv`` (no uncertainties) has one scenario, number 0;
    an ``outcomes.csv`` without a ``scenario`` column likewise.
    """
    folder = Path(out_dir)
    outcomes = read_table(folder / "outcomes.csv")
    if "scenario" not in outcomes:
        outcomes.insert(0, "scenario", 0)
    path = folder / "scenarios.csv"
    if path.is_file():
        scenarios = read_table(path)
    else:
        scenarios = pd.DataFrame({"scenario": sorted(pd.unique(outcomes["scenario"]))})
    return outcomes, scenarios


def scenario_means(
    outcomes: pd.DataFrame, *, focal: str, outcome: str, policies: Sequence[str]
) -> pd.DataFrame:
    """Mean ``outcome`` of the focal firm per (scenario, policy), with the replication count.

    Columns: ``scenario, policy, replications, mean`` in scenario then policy order.
    """
    if outcome not in outcomes:
        raise ValueError(f"outcomes.csv has no column '{outcome}'")
    mine = outcomes[outcomes["firm"] == focal]
    grouped = mine.groupby(["scenario", "policy"], sort=False)[outcome]
    table = pd.DataFrame({"replications": grouped.count(), "mean": grouped.mean()}).reset_index()
    order = {p: k for k, p in enumerate(policies)}
    table = table[table["policy"].isin(order)]
    table = table.assign(_order=table["policy"].map(order))
    return table.sort_values(["scenario", "_order"]).drop(columns="_order").reset_index(drop=True)


def regret_table(
    outcomes: pd.DataFrame, *, focal: str, outcome: str, policies: Sequence[str]
) -> pd.DataFrame:
    """Each policy's regret in each scenario on ``outcome`` (higher outcomes are better).

    One row per (scenario, policy): ``scenario, policy, outcome, replications, mean,
    best_policy, best_mean, regret, regret_pct, regret_ci_low, regret_ci_high, is_best``.
    ``regret = best_mean - mean`` (0 for the best policy); ``regret_pct`` is it in % of
    ``|best_mean|``; the interval is the paired-t 95% interval of (best - this) over the
    replications both ran (common random numbers), empty with fewer than 2. The best
    policy is the one with the highest mean; ties go to the earlier policy in file order.
    """
    means = scenario_means(outcomes, focal=focal, outcome=outcome, policies=policies)
    mine = outcomes[outcomes["firm"] == focal]
    rows = []
    for scenario, block in means.groupby("scenario", sort=True):
        valid = block.dropna(subset=["mean"])
        if valid.empty:
            best, best_mean = None, math.nan
        else:
            best_row = valid.iloc[int(np.argmax(valid["mean"].to_numpy(float)))]  # first maximum
            best, best_mean = str(best_row["policy"]), float(best_row["mean"])
        runs = mine[mine["scenario"] == scenario].pivot_table(
            index="replication", columns="policy", values=outcome, aggfunc="first"
        )
        for _, r in block.iterrows():
            policy = str(r["policy"])
            regret = best_mean - r["mean"] if best is not None else math.nan
            lo = hi = math.nan
            if best is not None and policy != best and {policy, best} <= set(runs.columns):
                pair = runs[[best, policy]].dropna()
                ci = paired_difference_ci(pair[best], pair[policy])
                lo, hi = ci.lo, ci.hi
            elif policy == best:
                lo = hi = 0.0 if int(r["replications"]) >= 2 else math.nan
            pct = (
                100.0 * regret / abs(best_mean)
                if best_mean and not math.isnan(best_mean)
                else math.nan
            )
            rows.append(
                {
                    "scenario": scenario,
                    "policy": policy,
                    "outcome": outcome,
                    "replications": int(r["replications"]),
                    "mean": r["mean"],
                    "best_policy": best if best is not None else "",
                    "best_mean": best_mean,
                    "regret": regret,
                    "regret_pct": pct,
                    "regret_ci_low": lo,
                    "regret_ci_high": hi,
                    "is_best": policy == best,
                }
            )
    return pd.DataFrame(rows)


def robustness_table(regret: pd.DataFrame, policies: Sequence[str]) -> pd.DataFrame:
    """How each policy fares across the scenarios: wins and the distribution of its regret.

    One row per policy (file order): ``policy, outcome, scenarios, wins, win_share,
    clearly_worse, mean_outcome, mean_regret, median_regret, p90_regret, max_regret,
    max_regret_pct, worst_scenario, least_worst_regret``. ``clearly_worse`` counts the
    scenarios where the paired interval of its regret lies above 0; ``least_worst_regret``
    marks the policy with the smallest worst-case regret (the minimax-regret choice).
    """
    rows = []
    outcome = str(regret["outcome"].iloc[0]) if len(regret) else ""
    for policy in policies:
        mine = regret[(regret["policy"] == policy) & regret["regret"].notna()]
        r = mine["regret"].to_numpy(float)
        n = int(r.size)
        worst = int(np.argmax(r)) if n else -1
        rows.append(
            {
                "policy": policy,
                "outcome": outcome,
                "scenarios": n,
                "wins": int(mine["is_best"].sum()),
                "win_share": float(mine["is_best"].mean()) if n else math.nan,
                "clearly_worse": int((mine["regret_ci_low"] > 0).sum()),
                "mean_outcome": float(mine["mean"].mean()) if n else math.nan,
                "mean_regret": float(r.mean()) if n else math.nan,
                "median_regret": float(np.median(r)) if n else math.nan,
                "p90_regret": float(np.quantile(r, 0.9)) if n else math.nan,
                "max_regret": float(r[worst]) if n else math.nan,
                "max_regret_pct": float(mine["regret_pct"].iloc[worst]) if n else math.nan,
                "worst_scenario": int(mine["scenario"].iloc[worst]) if n else -1,
            }
        )
    table = pd.DataFrame(rows)
    finite = table["max_regret"].dropna()
    table["least_worst_regret"] = False
    if not finite.empty:
        table.loc[finite.idxmin(), "least_worst_regret"] = True
    return table


def rank_parameters(
    means: pd.DataFrame, scenarios: pd.DataFrame, parameters: Sequence[str], pair: tuple[str, str]
) -> list[str]:
    """Parameters ordered by how strongly they move the gap between two policies.

    The gap is ``mean(pair[0]) - mean(pair[1])`` per scenario; the measure is the absolute
    Spearman rank correlation of each parameter with it (a parameter that never varies, or
    a gap that never varies, ranks last).
    """
    wide = means.pivot_table(index="scenario", columns="policy", values="mean", aggfunc="first")
    if not set(pair) <= set(wide.columns):
        return list(parameters)
    gap = (wide[pair[0]] - wide[pair[1]]).rename("gap")
    table = scenarios.set_index("scenario").join(gap, how="inner").dropna(subset=["gap"])
    strength = {}
    for p in parameters:
        x, y = table[p].to_numpy(float), table["gap"].to_numpy(float)
        if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
            strength[p] = -1.0
            continue
        rho = stats.spearmanr(x, y).statistic
        strength[p] = abs(float(rho)) if np.isfinite(rho) else -1.0
    return sorted(parameters, key=lambda p: -strength[p])


def leading_pair(robust: pd.DataFrame) -> tuple[str, str] | None:
    """The two policies that win most often (ties by smaller mean regret)."""
    if len(robust) < 2:
        return None
    order = robust.sort_values(["wins", "mean_regret"], ascending=[False, True], kind="stable")
    return str(order.iloc[0]["policy"]), str(order.iloc[1]["policy"])


def headline(robust: pd.DataFrame, label: str | None = None) -> list[str]:
    """Plain-language sentences (not escaped) on which policy is robust.

    ``label`` names the outcome (default: the registry's label of the table's outcome).

    >>> t = pd.DataFrame({"policy": ["a", "b"], "scenarios": [4, 4], "wins": [3, 1],
    ...     "win_share": [0.75, 0.25], "clearly_worse": [0, 2], "mean_regret": [10.0, 50.0],
    ...     "max_regret": [40.0, 90.0], "max_regret_pct": [2.0, 6.0],
    ...     "least_worst_regret": [True, False]})
    >>> print(headline(t, "cumulative profit")[0])
    a wins in 75% of 4 sampled markets (3 of 4); its worst regret is 40 (2% of the best policy's cumulative profit in that market), its mean regret 10.
    """
    if label is None:
        label = outcome_label(str(robust["outcome"].iloc[0])) if len(robust) else "outcome"
    if robust.empty or robust["scenarios"].max() == 0:
        return [f"No {label} values to compare policies on."]
    order = robust.sort_values(["wins", "mean_regret"], ascending=[False, True], kind="stable")
    top = order.iloc[0]
    n = int(top["scenarios"])
    market = "sampled market" if n == 1 else "sampled markets"

    def worst(r: pd.Series) -> str:
        pct = r["max_regret_pct"]
        share = f" ({pct:.0f}% of the best policy's {label} in that market)"
        return f"{format_number(r['max_regret'])}" + (share if np.isfinite(pct) else "")

    if int(top["wins"]) == n:
        lines = [
            f"{top['policy']} wins in all {n} {market}: no other policy did better in any of them."
        ]
    else:
        lines = [
            f"{top['policy']} wins in {100 * top['win_share']:.0f}% of {n} {market} "
            f"({int(top['wins'])} of {n}); its worst regret is {worst(top)}, its mean regret "
            f"{format_number(top['mean_regret'])}."
        ]
    minimax = robust[robust["least_worst_regret"]]
    if not minimax.empty and int(top["wins"]) < n:
        m = minimax.iloc[0]
        if m["policy"] == top["policy"]:
            lines.append(
                f"{top['policy']} also has the smallest worst-case regret of all policies: "
                "the robust choice by both counts."
            )
        else:
            lines.append(
                f"The policy with the smallest worst-case regret is {m['policy']}: at most "
                f"{worst(m)}, so a cautious strategist may prefer it."
            )
    for _, r in order.iloc[1:].iterrows():
        lines.append(
            f"{r['policy']}: wins in {int(r['wins'])} of {int(r['scenarios'])}, mean regret "
            f"{format_number(r['mean_regret'])}, worst {worst(r)}; clearly worse than the best "
            f"(95% paired interval above 0) in {int(r['clearly_worse'])}."
        )
    return lines


def write_robustness(
    folder: str | Path, *, focal: str, outcome: str, policies: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add ``regret.csv`` and ``robustness.csv`` to a results folder; return both tables.

    Reads ``outcomes.csv`` (and ``scenarios.csv`` if present) from ``folder``; judges
    ``outcome`` of the ``focal`` firm, the first of ``policies`` being the baseline.
    :func:`headline` puts the robustness table in words. With sampled markets it also
    writes ``discovery.csv``: where the leading policy loses
    (:func:`sim.analysis.discovery.write_discovery`).
    """
    folder = Path(folder)
    outcomes, _ = load_experiment_tables(folder)
    regret = regret_table(outcomes, focal=focal, outcome=outcome, policies=policies)
    robust = robustness_table(regret, policies)
    atomic_write_bytes(folder / "regret.csv", csv_bytes(regret))
    atomic_write_bytes(folder / "robustness.csv", csv_bytes(robust))
    pair = leading_pair(robust)
    if pair is not None and regret["scenario"].nunique() > 1:
        write_discovery(folder, pair[0])
    return regret, robust
