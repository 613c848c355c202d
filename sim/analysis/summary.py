"""The summary of a results folder: each outcome per policy and firm, with paired differences.

``summary.csv`` holds, per policy, firm and outcome: mean, sd and 95% interval across
runs, and the paired difference from the first policy (paired by scenario and
replication) with its own interval and the count of pairs in which the policy beat the
first. The percentage change (``diff_pct*``) is the mean and Student-t interval of the
per-replication ratios, and only where it means something (the rules of
:func:`sim.analysis.comparison.percent_reason`); elsewhere it is blank and
``diff_pct_note`` says why. It is computed from ``outcomes.csv`` (and the revenue of
``timeseries.csv``, the yardstick of a profit's size); the folder's contract is
documented in docs/results.md; the provenance (resolved scenario, manifest) is written
by :mod:`sim.experiment.provenance`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from sim.analysis.comparison import percent_reason, ratio_ci, run_revenue
from sim.analysis.statistics import mean_ci, paired_difference_ci
from sim.common.files import atomic_write_bytes, csv_bytes, read_table
from sim.common.outcomes import HEADLINES

__all__ = ["summarize", "write_summary"]


def summarize(
    outcomes: pd.DataFrame,
    policies: Sequence[str] | None = None,
    revenue: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Mean, sd and 95% interval of each outcome per policy and firm, and paired differences.

    ``outcomes``: one row per (policy, scenario, replication, firm) with the
    :data:`HEADLINES` columns (``scenario`` may be absent). The first policy (of
    ``policies``, default: order of appearance) is the baseline; each policy's difference
    from it is paired by (scenario, replication), the unit that shares its random numbers
    across policies, with a paired-t interval and the number of pairs in which the policy
    was higher (all headline outcomes are better when higher). ``revenue``: each run's
    revenue (:func:`sim.analysis.comparison.run_revenue`), which a profit must be a
    sizeable share of before a percentage change of it is given.
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
            rev = _revenue_of(revenue, baseline, firm, pair, common)
            for m in measures:
                ci = mean_ci(a[m].to_numpy(float))
                av = a.loc[common, m].to_numpy(float)
                bv = b.loc[common, m].to_numpy(float)
                d = paired_difference_ci(av, bv)
                note = percent_reason(m, bv, rev)
                pct = ratio_ci(100.0 * (av - bv), bv) if note is None else None
                if pct is not None and len(common) == 1:
                    note = "one replication: no interval"
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
                        "diff_pct": pct.mean if pct else math.nan,
                        "diff_pct_low": pct.lo if pct else math.nan,
                        "diff_pct_high": pct.hi if pct else math.nan,
                        "wins_vs_baseline": d.n_a_better,
                        "replications": len(common),
                        "diff_pct_note": note or "",
                    }
                )
    return pd.DataFrame(rows)


def _revenue_of(
    revenue: pd.DataFrame | None, baseline: str, firm: str, pair: list[str], common: pd.Index
) -> npt.NDArray[np.float64] | None:
    """The baseline's revenue in the ``common`` pairs (None if some pair has none)."""
    if revenue is None or revenue.empty or not set(pair) <= set(revenue):
        return None
    mine = revenue[(revenue["policy"] == baseline) & (revenue["firm"] == firm)]
    series = mine.set_index(pair)["revenue"].astype(float)
    if not common.isin(series.index).all():
        return None
    return np.asarray(series.loc[common], dtype=np.float64)


def write_summary(folder: str | Path, policies: Sequence[str] | None = None) -> pd.DataFrame:
    """Add ``summary.csv`` (from ``outcomes.csv``) to a results folder; return the table.

    ``policies`` in the order to compare them, the first the baseline (default: their
    order in outcomes.csv). A folder without outcomes gets an empty summary; one without
    timeseries.csv (sweeps, sensitivity) gives no percentage change of profit.
    """
    folder = Path(folder)
    outcomes = read_table(folder / "outcomes.csv", missing_ok=True)
    timeseries = read_table(folder / "timeseries.csv", missing_ok=True)
    revenue = run_revenue(timeseries) if not timeseries.empty else None
    summary = summarize(outcomes, policies, revenue) if not outcomes.empty else pd.DataFrame()
    atomic_write_bytes(folder / "summary.csv", csv_bytes(summary))
    return summary
