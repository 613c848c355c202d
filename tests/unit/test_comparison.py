"""Honest headlines (issue 12): money first, a percentage only where it means something.

Each rule of sim.analysis.comparison is tested in summary.csv and in the report's headline:
a baseline that loses money, a baseline whose profit is tiny next to its revenue, one
replication, and NPS (which can be negative).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis.comparison import (
    MIN_SHARE_OF_REVENUE,
    compare_policies,
    percent_reason,
    run_revenue,
)
from sim.analysis.statistics import mean_ci
from sim.analysis.summary import summarize
from sim.report.data import ResultsData
from sim.report.html import headline

POLICIES = ["base", "better"]


def _tables(
    base_profit: list[float],
    gain: list[float],
    revenue: float = 1_000_000.0,
    nps: tuple[float, float] = (-5.0, 10.0),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """outcomes.csv and timeseries.csv rows of two policies over 52 weekly steps."""
    rows, ts = [], []
    for k, (b, g) in enumerate(zip(base_profit, gain, strict=True)):
        for policy, profit, score in (("base", b, nps[0]), ("better", b + g, nps[1])):
            rows.append(
                {"policy": policy, "scenario": 0, "replication": k, "firm": "focal",
                 "customers": 100.0 + k, "cumulative_profit": profit, "nps": score + k}
            )  # fmt: skip
            for step in range(1, 53):
                ts.append(
                    {"policy": policy, "scenario": 0, "replication": k, "step": step,
                     "firm": "focal", "customers": 100.0, "revenue": revenue / 52}
                )  # fmt: skip
    return pd.DataFrame(rows), pd.DataFrame(ts)


def _data(outcomes: pd.DataFrame, ts: pd.DataFrame) -> ResultsData:
    summary = summarize(outcomes, POLICIES, run_revenue(ts))
    manifest = {"policies": POLICIES, "firms": ["focal"], "steps_per_year": 52}
    return ResultsData(Path("."), ts, summary, outcomes=outcomes, manifest=manifest)


def _row(summary: pd.DataFrame, outcome: str, policy: str = "better") -> pd.Series:
    hit = summary[(summary.policy == policy) & (summary.outcome == outcome)]
    return hit.iloc[0]


def test_healthy_baseline_gets_a_percentage_from_per_replication_ratios():
    base = [200_000.0, 250_000.0, 300_000.0]
    gain = [20_000.0, 50_000.0, 30_000.0]
    data = _data(*_tables(base, gain))
    row = _row(data.summary, "cumulative_profit")
    ratios = [100 * g / b for g, b in zip(gain, base, strict=True)]
    ci = mean_ci(ratios)
    assert row["diff_pct"] == pytest.approx(ci.mean)
    assert (row["diff_pct_low"], row["diff_pct_high"]) == pytest.approx((ci.lo, ci.hi))
    assert row["diff_pct_note"] == ""
    line = headline(data)[0]
    assert line.startswith("better ends the 1-year horizon with 33,333 more cumulative profit")
    assert "; 3% of base's revenue" in line
    assert "it did better in 3 of 3 replications" in line
    assert "from the ratio in each replication" in line


def test_negative_baseline_gives_no_percentage_and_says_why():
    data = _data(*_tables([200_000.0, -50_000.0, 100_000.0], [60_000.0] * 3))
    row = _row(data.summary, "cumulative_profit")
    assert math.isnan(row["diff_pct"]) and math.isnan(row["diff_pct_low"])
    assert row["diff_pct_note"] == "the baseline lost money in 1 of 3 replications"
    line = headline(data)[0]
    assert "60,000 more cumulative profit than base" in line
    assert "No percentage change is shown: the baseline lost money in 1 of 3" in line
    assert "%" not in line.split("revenue")[1].split("No percentage")[0]


def test_near_zero_baseline_gives_no_percentage():
    # 1% of revenue: positive in every replication, but too small to divide by
    small = 0.01 * 1_000_000.0
    assert small < MIN_SHARE_OF_REVENUE * 1_000_000.0
    data = _data(*_tables([small, small * 1.2, small * 0.9], [40_000.0, 45_000.0, 50_000.0]))
    row = _row(data.summary, "cumulative_profit")
    assert math.isnan(row["diff_pct"])
    assert "under 5% of its revenue in 3 of 3 replications" in row["diff_pct_note"]
    assert "No percentage change is shown" in headline(data)[0]


def test_one_replication_has_no_interval_and_a_plain_note():
    data = _data(*_tables([200_000.0], [50_000.0]))
    row = _row(data.summary, "cumulative_profit")
    assert math.isnan(row["diff_ci_low"]) and math.isnan(row["diff_pct_low"])
    assert row["diff_pct"] == pytest.approx(25.0)
    assert row["diff_pct_note"] == "one replication: no interval"
    line = headline(data)[0]
    assert "one replication, so no interval" in line
    assert "nan" not in line.lower()


def test_nps_never_gets_a_percentage():
    data = _data(*_tables([200_000.0, 210_000.0], [1.0, 2.0], nps=(20.0, 30.0)))
    for policy in POLICIES:
        row = _row(data.summary, "nps", policy)
        assert math.isnan(row["diff_pct"])
        assert "nps can be negative" in row["diff_pct_note"]
    line = headline(data, "nps")[0]
    assert "10.0 points more Net Promoter Score" in line
    assert "No percentage change is shown: nps can be negative" in line
    assert percent_reason("nps", [50.0, 60.0]) is not None  # even when positive


def test_paired_difference_agrees_and_interval_is_not_a_divided_interval():
    # one replication with a near-zero baseline makes the ratio explode: no percentage
    outcomes, ts = _tables([300_000.0, 1.0, 250_000.0], [10_000.0, 900_000.0, 5_000.0])
    c = compare_policies(
        outcomes, policy="better", baseline="base", focal="focal", years=1.0,
        revenue=run_revenue(ts),
    )  # fmt: skip
    assert c.pct is None and c.agree == 3 and c.n == 3
    assert c.share_of_revenue is not None
    assert c.share_of_revenue.mean == pytest.approx(np.mean([0.01, 0.9, 0.005]))
