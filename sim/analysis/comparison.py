"""Honest comparisons of two policies: money first, percentages only where they mean something.

Why: a percentage change of a quantity that can be negative or close to zero says nothing
("805% more profit" than a baseline that lost money in one replication), and an interval
made by dividing the difference's interval by the baseline's mean is far too narrow. So:

* the difference leads, in the outcome's own unit, paired by (scenario, replication),
  with its paired-t 95% interval and the count of replications that agree with its sign;
* a ratio (a percentage change, a share of revenue) is computed *per replication* and
  its interval is the Student-t interval of those ratios (never an interval divided by
  a mean);
* a percentage change is shown only when :func:`percent_reason` finds no reason against
  it: never for an outcome that can be negative and is not money (NPS); for money that
  can be negative (profit) only when the baseline is positive in every replication and
  at least :data:`MIN_SHARE_OF_REVENUE` of its revenue; for any other outcome only when
  the baseline is positive in every replication.

One replication gives a difference without an interval.

>>> percent_reason("nps", [10.0, 12.0])
'nps can be negative (points): a percentage change of it is not meaningful'
>>> percent_reason("cumulative_profit", [100.0, -5.0], [1000.0, 1000.0])
'the baseline lost money in 1 of 2 replications'
>>> percent_reason("cumulative_profit", [100.0, 20.0], [1000.0, 1000.0])
"the baseline's cumulative profit is under 5% of its revenue in 1 of 2 replications"
>>> percent_reason("customers", [100.0, 120.0]) is None
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from sim.analysis.statistics import MeanCI, PairedCI, mean_ci, paired_difference_ci
from sim.common.formatting import format_number, format_percent
from sim.common.outcomes import OUTCOMES, outcome_label

__all__ = [
    "MIN_SHARE_OF_REVENUE",
    "UNSPENT_FLAG_SHARE",
    "Comparison",
    "compare_policies",
    "percent_reason",
    "ratio_ci",
    "run_revenue",
    "unspent_budget",
    "unspent_sentence",
]

MIN_SHARE_OF_REVENUE = 0.05
"""A baseline profit under this share of its revenue is too small to be a denominator."""

PAIR = ("scenario", "replication")

UNSPENT_FLAG_SHARE = 0.005
"""A policy that leaves more than this share of its marketing budget unplaced over a run is
flagged: it was not compared at equal spend. The model passes money a lever cannot place
to the others (sim.model.behaviour.budget), so what remains is money no lever could take
plus the last step's carry-over, a few tenths of a percent at most otherwise."""


def _plural(n: int) -> str:
    return "replication" if n == 1 else "replications"


def percent_reason(
    outcome: str,
    baseline: Sequence[float] | npt.NDArray[np.float64],
    revenue: Sequence[float] | npt.NDArray[np.float64] | None = None,
) -> str | None:
    """Why a percentage change of ``outcome`` from ``baseline`` is not meaningful (None: it is).

    ``baseline``: the baseline's value in each paired replication; ``revenue``: the
    baseline's revenue over the run in the same replications (only used for money that
    can be negative, e.g. profit; without it no percentage is given for such money).
    """
    b = np.asarray(baseline, dtype=float)
    n = int(b.size)
    if n == 0:
        return "no paired replications"
    known = OUTCOMES.get(outcome)
    label = known.label if known else outcome_label(outcome)
    if known is not None and known.can_be_negative and not known.is_money:
        return (
            f"{outcome} can be negative ({known.unit}): a percentage change of it is not meaningful"
        )
    if np.isnan(b).any():
        return f"the baseline has no value in {int(np.isnan(b).sum())} of {n} {_plural(n)}"
    bad = int(np.count_nonzero(b <= 0.0))
    if known is not None and known.can_be_negative:
        if bad:
            return f"the baseline lost money in {bad} of {n} {_plural(n)}"
        if known.unit != "money":
            return None
        if revenue is None:
            return "no revenue to judge the baseline's size against"
        r = np.asarray(revenue, dtype=float)
        small = int(np.count_nonzero(~(b >= MIN_SHARE_OF_REVENUE * r)))
        if small:
            return (
                f"the baseline's {label} is under {MIN_SHARE_OF_REVENUE:.0%} of its revenue "
                f"in {small} of {n} {_plural(n)}"
            )
        return None
    if bad:
        return f"the baseline is zero or below in {bad} of {n} {_plural(n)}"
    return None


def ratio_ci(numerator: npt.ArrayLike, denominator: npt.ArrayLike) -> MeanCI:
    """Mean and Student-t 95% interval of ``numerator / denominator``, one ratio per replication.

    >>> round(ratio_ci([10.0, 20.0, 30.0], [100.0, 100.0, 100.0]).mean, 6)
    0.2
    """
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(den != 0.0, num / np.where(den != 0.0, den, 1.0), np.nan)
    return mean_ci(ratios)


def run_revenue(timeseries: pd.DataFrame) -> pd.DataFrame:
    """Revenue summed over each run: one row per (policy, scenario, replication, firm).

    Empty when the timeseries has no ``revenue`` column.
    """
    keys = [c for c in ("policy", *PAIR, "firm") if c in timeseries]
    if "revenue" not in timeseries or timeseries.empty:
        return pd.DataFrame(columns=[*keys, "revenue"])
    return timeseries.groupby(keys, sort=False)["revenue"].sum().reset_index()


@dataclass(frozen=True)
class Comparison:
    """One policy against the baseline on one outcome of the focal firm, pair by pair.

    ``diff`` is the paired difference (policy - baseline) with its interval;
    ``agree`` counts the pairs whose difference has the sign of the mean difference;
    ``per_year`` is the difference over ``years``; ``share_of_revenue`` the difference as
    a fraction of the baseline's revenue, per replication (None without revenue);
    ``pct`` the percentage change per replication (None with ``pct_reason`` saying why).
    """

    policy: str
    baseline: str
    outcome: str
    n: int
    diff: PairedCI
    agree: int
    years: float
    share_of_revenue: MeanCI | None
    pct: MeanCI | None
    pct_reason: str | None

    @property
    def per_year(self) -> PairedCI:
        """The difference and its interval per year of the horizon."""
        y = self.years if self.years > 0 else math.nan
        d = self.diff
        return PairedCI(d.mean_diff / y, d.lo / y, d.hi / y, d.n_a_better)

    @property
    def clear(self) -> bool:
        """Whether the 95% interval of the difference excludes zero."""
        lo, hi = self.diff.lo, self.diff.hi
        return not (math.isnan(lo) or math.isnan(hi)) and (lo > 0 or hi < 0)


def _paired(outcomes: pd.DataFrame, policy: str, firm: str, outcome: str) -> pd.Series:
    pair = [c for c in PAIR if c in outcomes]
    mine = outcomes[(outcomes["policy"] == policy) & (outcomes["firm"] == firm)]
    return mine.set_index(pair)[outcome].astype(float).sort_index()


def compare_policies(
    outcomes: pd.DataFrame,
    *,
    policy: str,
    baseline: str,
    focal: str,
    outcome: str = "cumulative_profit",
    years: float = 1.0,
    revenue: pd.DataFrame | None = None,
) -> Comparison:
    """``policy`` against ``baseline`` on ``outcome`` of firm ``focal``, paired by replication.

    ``outcomes``: outcomes.csv rows; ``revenue``: :func:`run_revenue` rows (for the share
    of revenue and the size test of a percentage of profit); ``years``: the horizon.
    """
    a = _paired(outcomes, policy, focal, outcome)
    b = _paired(outcomes, baseline, focal, outcome)
    common = a.index.intersection(b.index)
    av, bv = a.loc[common].to_numpy(float), b.loc[common].to_numpy(float)
    diff = paired_difference_ci(av, bv)
    d = av - bv
    sign = np.sign(diff.mean_diff) if np.isfinite(diff.mean_diff) else 0.0
    agree = int(np.count_nonzero(np.sign(d) == sign)) if sign else 0
    rev = None
    if revenue is not None and not revenue.empty:
        base_rev = _paired(revenue, baseline, focal, "revenue")
        if common.isin(base_rev.index).all():
            rev = base_rev.loc[common].to_numpy(float)
    known = OUTCOMES.get(outcome)
    total_money = known is not None and known.unit == "money"
    share = ratio_ci(d, rev) if rev is not None and total_money else None
    reason = percent_reason(outcome, bv, rev)
    pct = ratio_ci(100.0 * d, bv) if reason is None else None
    return Comparison(
        policy=policy,
        baseline=baseline,
        outcome=outcome,
        n=len(common),
        diff=diff,
        agree=agree,
        years=years,
        share_of_revenue=share,
        pct=pct,
        pct_reason=reason,
    )


def unspent_budget(timeseries: pd.DataFrame, firm: str) -> pd.DataFrame:
    """Each policy's marketing budget, the spend placed and the unspent rest over a run.

    One row per policy, means over its runs: ``budget`` (the sum of ``marketing_budget``),
    ``placed`` (acquisition plus retention spend), ``unspent`` and ``unspent_share`` of
    the budget. Empty for a timeseries without ``marketing_budget`` (an older model's).

    >>> ts = pd.DataFrame({"policy": ["a", "a", "b", "b"], "firm": "f",
    ...     "marketing_budget": 100.0, "acquisition_spend": [60.0, 60.0, 50.0, 30.0],
    ...     "retention_spend": [40.0, 40.0, 20.0, 20.0]})
    >>> unspent_budget(ts, "f")[["policy", "unspent", "unspent_share"]].values.tolist()
    [['a', 0.0, 0.0], ['b', 80.0, 0.4]]
    """
    columns = ["policy", "budget", "placed", "unspent", "unspent_share"]
    need = {"policy", "firm", "marketing_budget", "acquisition_spend", "retention_spend"}
    if not need <= set(timeseries.columns):
        return pd.DataFrame(columns=columns)
    mine = timeseries[timeseries["firm"] == firm]
    keys = [c for c in ("policy", *PAIR) if c in mine]
    runs = mine.groupby(keys, sort=False)[
        ["marketing_budget", "acquisition_spend", "retention_spend"]
    ].sum()
    runs["placed"] = runs["acquisition_spend"] + runs["retention_spend"]
    runs["budget"] = runs["marketing_budget"]
    out = runs.groupby(level="policy", sort=False)[["budget", "placed"]].mean().reset_index()
    out["unspent"] = out["budget"] - out["placed"]
    out["unspent_share"] = (out["unspent"] / out["budget"]).where(out["budget"] > 0)
    return out[columns]


def unspent_sentence(table: pd.DataFrame, unit: str = "") -> str | None:
    """A sentence naming the policies that left over :data:`UNSPENT_FLAG_SHARE` unspent.

    >>> t = pd.DataFrame({"policy": ["a", "b"], "budget": [100.0, 100.0],
    ...     "placed": [100.0, 90.0], "unspent": [0.0, 10.0], "unspent_share": [0.0, 0.1]})
    >>> unspent_sentence(t)
    'Not at equal spend: b left 10 (10%) of its marketing budget unspent, money no lever could place; its profit includes that money, not spent rather than earned.'
    """
    flagged = table[table["unspent_share"] > UNSPENT_FLAG_SHARE]
    if flagged.empty:
        return None
    parts = [
        f"{policy} left {format_number(unspent, unit)} ({format_percent(100.0 * share)})"
        for policy, unspent, share in zip(
            flagged["policy"].astype(str),
            flagged["unspent"].astype(float),
            flagged["unspent_share"].astype(float),
            strict=True,
        )
    ]
    one = len(parts) == 1
    return (
        f"Not at equal spend: {', '.join(parts)} of {'its' if one else 'their'} marketing "
        f"budget unspent, money no lever could place; {'its' if one else 'their'} profit "
        "includes that money, not spent rather than earned."
    )
