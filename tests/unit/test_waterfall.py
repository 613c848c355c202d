"""The profit waterfall (issue 12.2): named sources that sum exactly to the difference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.analysis.waterfall import run_accounts, shapley3, waterfall, waterfall_table
from sim.report.figures_waterfall import _headline_first

WON = ("new_advertising", "new_referral", "new_organic")
LOST = ("churned_price", "churned_dissatisfaction")
SPEND = ("advertising_spend", "care_contacts_spend")


def _run(policy: str, replication: int, rng: np.random.Generator, steps: int = 20) -> list[dict]:
    """One run's focal rows with the model's books: stock-flow and profit identities hold."""
    customers = 100.0 + 10 * replication
    cumulative = 0.0
    rows = []
    ad = 500.0 if policy == "base" else 300.0 + 50 * replication
    for step in range(1, steps + 1):
        won = {c: float(rng.integers(0, 8)) for c in WON}
        lost = {c: float(rng.integers(0, 6)) for c in LOST}
        new, churned = sum(won.values()), sum(lost.values())
        customers += new - churned
        units = customers * rng.uniform(0.5, 1.5)
        price, unit_cost = rng.uniform(20, 30), rng.uniform(8, 12)
        spend = {"advertising_spend": ad, "care_contacts_spend": rng.uniform(100, 300)}
        revenue, cogs = price * units, unit_cost * units
        fixed, staff = 200.0, rng.uniform(400, 600)
        profit = revenue - cogs - sum(spend.values()) - fixed - staff
        cumulative += profit
        rows.append(
            {"policy": policy, "scenario": 0, "replication": replication, "step": step,
             "firm": "focal", "customers": customers, "new_customers": new, **won,
             "churned": churned, **lost, "churned_top_tiers": 1.0, "units": units,
             "price": price, "revenue": revenue, "cogs": cogs, **spend,
             "acquisition_spend": spend["advertising_spend"],
             "retention_spend": spend["care_contacts_spend"], "fixed_cost": fixed,
             "staff_cost": staff, "supplier_investment": 0.0, "profit": profit,
             "cumulative_profit": cumulative}
        )  # fmt: skip
    return rows


def _timeseries(replications: int = 4, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for policy in ("base", "other", "third"):
        for k in range(replications):
            rows += _run(policy, k, rng)
    rival = pd.DataFrame(rows).assign(firm="rival", customers=1.0)
    return pd.concat([pd.DataFrame(rows), rival], ignore_index=True)


def test_shapley_split_of_a_product_is_exact():
    rng = np.random.default_rng(7)
    a, b = rng.uniform(-5, 5, (3, 50)), rng.uniform(-5, 5, (3, 50))
    parts = shapley3(tuple(a), tuple(b))
    np.testing.assert_allclose(sum(parts), a.prod(axis=0) - b.prod(axis=0), rtol=1e-12)


def test_sources_sum_to_the_difference_in_cumulative_profit():
    ts = _timeseries()
    table = waterfall_table(ts, focal="focal", policies=["base", "other", "third"])
    assert set(table["policy"]) == {"other", "third"} and set(table["baseline"]) == {"base"}
    end = ts[(ts.firm == "focal") & (ts.step == 20)].set_index(["policy", "replication"])
    for policy, block in table.groupby("policy"):
        total = block[block.source == "total"].iloc[0]
        truth = (end.loc[policy, "cumulative_profit"] - end.loc["base", "cumulative_profit"]).mean()
        assert total["mean"] == pytest.approx(truth, rel=1e-12)
        sources = block[block.source != "total"]
        assert sources["mean"].sum() == pytest.approx(total["mean"], rel=1e-9, abs=1e-6)
        assert "not_itemised" not in set(sources.source)  # every column is itemised
        assert {"won_advertising", "kept_price", "spend_per_customer", "price",
                "cost_of_goods_per_unit", "advertising_spend"} <= set(sources.source)  # fmt: skip
        assert (block["replications"] == 4).all()
        assert (block["ci_low"] <= block["mean"]).all() and (
            block["mean"] <= block["ci_high"]
        ).all()


def test_identity_holds_in_every_replication_not_only_on_average():
    ts = _timeseries(replications=3)
    accounts = run_accounts(ts, "focal")
    for k in range(3):
        one = accounts[accounts.replication == k]
        table = waterfall(one, policy="other", baseline="base")
        sources = table[table.source != "total"]["mean"].sum()
        assert sources == pytest.approx(table[table.source == "total"]["mean"].iloc[0], rel=1e-9)
        assert table["ci_low"].isna().all()  # one replication: no interval


def test_a_policy_that_only_spends_less_on_advertising_shows_only_that():
    ts = _timeseries(replications=2)
    base = ts[ts.policy == "base"]
    cheaper = base.assign(
        policy="cheaper",
        advertising_spend=base["advertising_spend"] - 100.0,
        profit=base["profit"] + 100.0,
        cumulative_profit=base["cumulative_profit"] + 100.0 * base["step"],
    )
    table = waterfall(
        run_accounts(pd.concat([base, cheaper]), "focal"), policy="cheaper", baseline="base"
    )
    assert table["source"].tolist() == ["advertising_spend", "total"]
    assert table["mean"].tolist() == pytest.approx([2000.0, 2000.0])


def test_unknown_cost_lines_are_not_itemised_but_still_sum():
    ts = _timeseries(replications=2)
    ts.loc[ts.policy == "other", "cumulative_profit"] -= 5_000.0  # a cost no column names
    table = waterfall_table(ts, focal="focal", policies=["base", "other"])
    row = table[table.source == "not_itemised"].iloc[0]
    assert row["mean"] == pytest.approx(-5_000.0)
    sources = table[table.source != "total"]["mean"].sum()
    assert sources == pytest.approx(table[table.source == "total"]["mean"].iloc[0], rel=1e-9)


def test_the_report_panel_of_the_headline_pair_comes_first():
    # the headline names the policy with the largest difference from the baseline (or
    # the next best when the baseline leads): its panel must come first, whatever the
    # order of the policies in the scenario
    rows = [
        ("balanced", "acq", "total", 337.0),
        ("balanced", "acq", "price", 10.0),
        ("retention", "acq", "total", 434.0),
        ("loyalty", "acq", "total", -50.0),
    ]
    table = pd.DataFrame(rows, columns=["policy", "baseline", "source", "mean"])
    assert _headline_first(table) == [
        ("retention", "acq"),
        ("balanced", "acq"),
        ("loyalty", "acq"),
    ]
    behind = table.assign(mean=-table["mean"].abs())  # the baseline leads: next best first
    assert _headline_first(behind) == [
        ("loyalty", "acq"),
        ("balanced", "acq"),
        ("retention", "acq"),
    ]
