"""Parameter sweeps: every policy's outcome at every point of the grid, with intervals.

The grid itself is a design (:class:`sim.experiment.designs.SweepGrid`); each grid point
is one scenario variant of the experiment, so every policy runs on it with the same
seeds (common random numbers) and ``sweep.csv`` holds the mean outcome of the focal firm
with its 95% interval over the replications. This module reads tables only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.robustness import load_experiment_tables
from sim.analysis.statistics import PairedCI, mean_ci, paired_difference_ci
from sim.common.files import atomic_write_bytes, csv_bytes

__all__ = ["summarize_sweep", "write_sweep"]


def summarize_sweep(
    outcomes: pd.DataFrame,
    scenarios: pd.DataFrame,
    parameters: Sequence[str],
    *,
    focal: str,
    outcome: str,
    policies: Sequence[str],
) -> pd.DataFrame:
    """Mean outcome and 95% interval per grid point and policy (the focal firm's).

    Columns: ``point``, the parameters, ``policy, outcome, replications, mean, sd,
    ci_low, ci_high, diff, diff_ci_low, diff_ci_high, is_best``. ``diff`` is the mean
    difference from the first (baseline) policy with its paired 95% interval over the
    replications both ran (common random numbers: much narrower than the policies' own
    intervals); ``is_best`` marks the highest mean at the point (ties: the earlier policy).
    """
    mine = outcomes[outcomes["firm"] == focal]
    base = policies[0]
    rows = []
    for point in scenarios["scenario"]:
        at = mine[mine["scenario"] == point]
        values = scenarios.loc[scenarios["scenario"] == point, list(parameters)].iloc[0]
        runs = at.pivot_table(
            index="replication", columns="policy", values=outcome, aggfunc="first"
        )
        block = []
        for policy in policies:
            x = at.loc[at["policy"] == policy, outcome].dropna().to_numpy(float)
            ci = mean_ci(x)
            diff = PairedCI(0.0, 0.0, 0.0, 0) if policy == base else None
            if diff is None and {policy, base} <= set(runs.columns):
                pair = runs[[policy, base]].dropna()
                diff = paired_difference_ci(pair[policy], pair[base])
            block.append(
                {
                    "point": int(point),
                    **{p: values[p] for p in parameters},
                    "policy": policy,
                    "outcome": outcome,
                    "replications": int(x.size),
                    "mean": ci.mean,
                    "sd": ci.sd,
                    "ci_low": ci.lo,
                    "ci_high": ci.hi,
                    "diff": diff.mean_diff if diff else math.nan,
                    "diff_ci_low": diff.lo if diff else math.nan,
                    "diff_ci_high": diff.hi if diff else math.nan,
                }
            )
        means = [r["mean"] if np.isfinite(r["mean"]) else -np.inf for r in block]
        best = int(np.argmax(means)) if np.isfinite(max(means)) else -1
        for k, r in enumerate(block):
            r["is_best"] = k == best
        rows += block
    return pd.DataFrame(rows)


def write_sweep(
    folder: str | Path,
    parameters: Sequence[str],
    *,
    focal: str,
    outcome: str,
    policies: Sequence[str],
) -> pd.DataFrame:
    """Add ``sweep.csv`` to the results folder of a finished sweep; return the table.

    ``parameters`` are the swept key paths (columns of ``scenarios.csv``), in grid order.
    """
    folder = Path(folder)
    outcomes, scenarios = load_experiment_tables(folder)
    table = summarize_sweep(
        outcomes, scenarios, list(parameters), focal=focal, outcome=outcome, policies=policies
    )
    atomic_write_bytes(folder / "sweep.csv", csv_bytes(table))
    return table
