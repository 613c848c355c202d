"""Incremental acquisition rows: hold-out policies and the rows computed from two runs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.config.presets import PRESETS
from sim.config.schema import Policy
from sim.model.calibration import (
    HOLDOUT_CHANNELS,
    INCREMENTAL_TARGETS,
    holdout_policy,
    incremental_table,
)

CHANNELS = ("advertising", "promotions", "sales_visits")
RETENTION = ("care_contacts", "loyalty_program", "complaint_handling", "service_level")


def _spend(policy: Policy, own_budget: float) -> dict[str, float]:
    """Spend per year of every line, as Firm.plan splits the budget."""
    budget = own_budget if policy.budget_per_year is None else policy.budget_per_year
    acq = budget * policy.acquisition_share
    ret = budget - acq
    out = {k: acq * getattr(policy.acquisition_mix, k) for k in CHANNELS}
    out |= {k: ret * getattr(policy.retention_mix, k) for k in RETENTION}
    return out


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("channel", HOLDOUT_CHANNELS)
def test_a_holdout_removes_one_channel_and_keeps_every_other_line(preset, channel):
    policy = PRESETS[preset]
    before = _spend(policy, 200_000.0)
    after = _spend(holdout_policy(policy, 200_000.0, channel), 200_000.0)
    removed = CHANNELS if channel == "all" else (channel,)
    for line, value in before.items():
        expected = 0.0 if line in removed else value
        assert after[line] == pytest.approx(expected, abs=1e-6), line


def test_an_unknown_channel_is_refused():
    with pytest.raises(ValueError, match="unknown acquisition channel"):
        holdout_policy(Policy(), 1.0, "radio")


def _run(spend: float, won: float, profit: float, firms=("focal", "rival")) -> pd.DataFrame:
    """Two steps of a two-firm run; the focal firm's totals are spend, won and profit."""
    rows = []
    for step in (1, 2):
        for f in firms:
            mine = f == "focal"
            rows.append(
                {
                    "step": step,
                    "firm": f,
                    "acquisition_spend": spend / 2 if mine else 999.0,
                    "new_customers": won / 2 if mine else 7.0,
                    "profit": profit / 2 if mine else 5.0,
                    "customers": 100.0,
                    "churned": 10.0,
                    "retention_spend": 45.0,  # 90 for 180 retained customer-steps
                    "first_year_margin": 30.0,  # 60 for 40 first-year customer-steps
                    "first_year_customers": 20.0,
                }
            )
    return pd.DataFrame(rows)


def test_incremental_rows_are_differences_against_the_holdout():
    base = _run(spend=1000.0, won=30.0, profit=500.0)
    holdouts = {"all": _run(0.0, 20.0, 600.0), "advertising": _run(600.0, 25.0, 450.0)}
    table = incremental_table(base, holdouts, steps_per_year=1, burn_in_steps=0).set_index("name")
    cac = 1000.0 / 10.0  # incremental spend / incremental customers
    retention_cost = 90.0 / 180.0  # focal retention spend / customer-years retained
    first_year_margin = 60.0 / 40.0
    ratio, payback = (t.name for t in INCREMENTAL_TARGETS)
    assert table.loc[ratio, "measured"] == pytest.approx(cac / retention_cost)
    assert table.loc[payback, "measured"] == pytest.approx(
        cac / (first_year_margin - retention_cost)
    )
    served = incremental_table(
        base, holdouts, steps_per_year=1, burn_in_steps=0, serving_cost=0.5
    ).set_index("name")
    contribution = first_year_margin - retention_cost - 0.5  # less the cost of serving
    assert served.loc[payback, "measured"] == pytest.approx(cac / contribution)
    assert table.loc["incremental cost per customer won: advertising", "measured"] == 80.0
    name = "profit per unit of spend over the horizon, incremental: advertising"
    assert table.loc[name, "measured"] == pytest.approx(50.0 / 400.0)
    assert table.loc["profit per unit of spend over the horizon, incremental: all acquisition",
                     "measured"] == pytest.approx(-0.1)  # fmt: skip
    # only the two targets have a band; the diagnostics have none and no verdict
    banded = table.dropna(subset=["low"])
    assert list(banded.index) == [ratio, payback]
    assert table.loc[table["low"].isna(), "ok"].isna().all()
    assert "promotions" not in " ".join(table.index)  # no hold-out, no row


def test_no_incremental_customers_gives_no_cost():
    base = _run(spend=1000.0, won=20.0, profit=500.0)
    table = incremental_table(base, {"all": _run(0.0, 20.0, 600.0)}, steps_per_year=1)
    cac = table.set_index("name").loc["incremental cost per customer won: all acquisition"]
    assert math.isnan(cac["measured"])
    assert not np.any(table["ok"].fillna(False))  # NaN is never on target
