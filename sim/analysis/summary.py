"""The summary of a results folder: each outcome per policy and firm, with paired differences.

``summary.csv`` holds, per policy, firm and outcome: mean, sd and 95% interval across
runs, and the paired difference from the first policy (paired by scenario and
replication) with its own interval and the count of pairs in which the policy beat the
first. It is computed from ``outcomes.csv`` alone (the folder's contract is documented in
docs/results.md); the provenance (resolved scenario, manifest) is written by
:mod:`sim.experiment.provenance`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from sim.analysis.statistics import mean_ci, paired_difference_ci
from sim.common.files import atomic_write_bytes, csv_bytes, read_table
from sim.common.outcomes import HEADLINES

__all__ = ["summarize", "write_summary"]


def summarize(outcomes: pd.DataFrame, policies: Sequence[str] | None = None) -> pd.DataFrame:
    """Mean, sd and 95% interval of each outcome per policy and firm, and paired differences.

    ``outcomes``: one row per (policy, scenario, replication, firm) with the
    :data:`HEADLINES` columns (``scenario`` may be absent). The first policy (of
    ``policies``, default: order of appearance) is the baseline; each policy's difference
    from it is paired by (scenario, replication), the unit that shares its random numbers
    across policies, with a paired-t interval and the number of pairs in which the policy
    was higher (all headline outcomes are better when higher).
    """
    policies = list(policies or pd.unique(outcomes["policy"]))
    pair = [c for c in ("scenario", "replication") if c in outcomes]
    baseline = policies[0]
    firms = list(pd.unique(outcomes["firm"]))
    measures = [m for m in HEADLINES if m in outcomes]
    rows = []
    for policy in policies:
        mine = outcomes[outcomes["policy"] == policy]
        for firm in firms:
            a = mine[mine["firm"] == firm].set_index(pair).sort_index()
            b = outcomes[(outcomes["policy"] == baseline) & (outcomes["firm"] == firm)]
            b = b.set_index(pair).sort_index()
            common = a.index.intersection(b.index)
            for m in measures:
                ci = mean_ci(a[m].to_numpy(float))
                base = mean_ci(b[m].to_numpy(float)).mean
                d = paired_difference_ci(
                    a.loc[common, m].to_numpy(float), b.loc[common, m].to_numpy(float)
                )
                scale = abs(base) if base and math.isfinite(base) else math.nan
                rows.append(
                    {
                        "policy": policy,
                        "firm": firm,
                        "outcome": m,
                        "n": int(a[m].notna().sum()),
                        "mean": ci.mean,
                        "sd": ci.sd,
                        "ci_low": ci.lo,
                        "ci_high": ci.hi,
                        "baseline": baseline,
                        "diff_mean": d.mean_diff,
                        "diff_ci_low": d.lo,
                        "diff_ci_high": d.hi,
                        "diff_pct": 100.0 * d.mean_diff / scale,
                        "diff_pct_low": 100.0 * d.lo / scale,
                        "diff_pct_high": 100.0 * d.hi / scale,
                        "wins_vs_baseline": d.n_a_better,
                        "replications": len(common),
                    }
                )
    return pd.DataFrame(rows)


def write_summary(folder: str | Path, policies: Sequence[str] | None = None) -> pd.DataFrame:
    """Add ``summary.csv`` (from ``outcomes.csv``) to a results folder; return the table.

    ``policies`` in the order to compare them, the first the baseline (default: their
    order in outcomes.csv). A folder without outcomes gets an empty summary.
    """
    folder = Path(folder)
    outcomes = read_table(folder / "outcomes.csv", missing_ok=True)
    summary = summarize(outcomes, policies) if not outcomes.empty else pd.DataFrame()
    atomic_write_bytes(folder / "summary.csv", csv_bytes(summary))
    return summary
