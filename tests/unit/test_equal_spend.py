"""Fair comparison (issue 10, item 4): equal spend, staff cost per customer, promotion pay.

Policies are compared at equal spend: money a lever cannot place is passed to the levers
that can (sim.model.behaviour.budget) or reported as unspent and named in the headline;
payroll is a fixed core plus labour per customer served; promotion opportunity costs raises.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis.comparison import (
    UNSPENT_FLAG_SHARE,
    run_revenue,
    unspent_budget,
    unspent_sentence,
)
from sim.analysis.summary import summarize
from sim.config.presets import get_policy
from sim.config.schema import AcquisitionMix, Policy, RetentionMix, Scenario
from sim.model.behaviour.budget import reallocate_unplaced
from sim.model.behaviour.staff import paid_headcount, promotion_pay_factor
from sim.model.market import MarketModel
from sim.report.data import ResultsData
from sim.report.html import headline

SIDES = (("ads", "promo", "visits"), ("care", "loyalty", "complaints", "service"))
PLANNED = {
    "ads": 50.0,
    "promo": 30.0,
    "visits": 20.0,
    "care": 40.0,
    "loyalty": 20.0,
    "complaints": 20.0,
    "service": 20.0,
}


# -- the reallocation rule -------------------------------------------------------------------
def test_unplaced_money_goes_to_the_same_side_in_proportion_to_the_policy_shares():
    extra, unspent = reallocate_unplaced({"complaints": 12.0}, PLANNED, SIDES)
    assert unspent == 0.0
    # care 40, loyalty 20, service 20 placed all: 12 split 2:1:1
    assert extra == pytest.approx({"care": 6.0, "loyalty": 3.0, "service": 3.0})
    assert sum(extra.values()) == pytest.approx(12.0)


def test_a_side_without_takers_passes_its_money_to_the_other_side():
    short = {"care", "loyalty", "complaints", "service"}
    unplaced = {"care": 1.0, "loyalty": 2.0, "complaints": 3.0, "service": 4.0}
    extra, unspent = reallocate_unplaced(unplaced, PLANNED, SIDES, short)
    assert unspent == 0.0
    assert extra == pytest.approx({"ads": 5.0, "promo": 3.0, "visits": 2.0})


def test_a_lever_the_policy_gave_nothing_gets_nothing_and_no_taker_leaves_it_unspent():
    planned = {**PLANNED, "ads": 0.0, "promo": 0.0, "visits": 10.0}
    extra, unspent = reallocate_unplaced({"visits": 10.0}, planned, SIDES)
    assert "ads" not in extra and "promo" not in extra  # shares of 0 stay 0
    assert sum(extra.values()) == pytest.approx(10.0)  # the retention side took it
    everything_short = {k: 1.0 for k in PLANNED}
    extra, unspent = reallocate_unplaced(everything_short, PLANNED, SIDES)
    assert extra == {} and unspent == pytest.approx(7.0)


def test_rounding_beyond_the_spend_is_given_back_by_the_takers():
    # care bought one contact more than its spend paid for (stochastic rounding): -3
    extra, unspent = reallocate_unplaced({"care": -3.0}, PLANNED, SIDES, short=set())
    assert sum(extra.values()) == pytest.approx(-3.0) and unspent == 0.0


# -- the books of a run ------------------------------------------------------------------------
def _focal(policy: str | Policy, n: int = 2000, steps: int = 26, **updates: object) -> pd.DataFrame:
    scenario = Scenario.default().with_updates(
        {"market.n_customers": n, "simulation.steps": steps, **updates}
    )
    df = MarketModel(scenario, policy, seed=3).run().results()
    return df[df["firm"] == "focal"].reset_index(drop=True)


def _budget_identity(f: pd.DataFrame) -> tuple[float, float]:
    """(budget, placed + unspent + what the last step passes on): equal to the cent."""
    placed = (f["acquisition_spend"] + f["retention_spend"]).sum()
    carried_out = f["budget_unplaced"].iloc[-1] - f["budget_unspent"].iloc[-1]
    return f["marketing_budget"].sum(), placed + f["budget_unspent"].sum() + carried_out


def test_a_policy_spends_its_budget_the_unplaced_money_going_to_other_levers():
    # 2,000 people and the default 200,000 a year: far more complaint handling and loyalty
    # money than complaints and joiners, so levers are short every step
    f = _focal("retention_heavy")
    budget, accounted = _budget_identity(f)
    assert budget == pytest.approx(200_000.0 * 26 / 52)
    assert accounted == pytest.approx(budget, rel=1e-9)
    assert f["budget_carried_in"].sum() > 0.05 * budget  # a real share was passed on
    assert f["budget_unspent"].sum() == 0.0  # care, ads and service could take it all
    # what one step could not place is what the next step's levers received
    passed = (f["budget_unplaced"] - f["budget_unspent"]).to_numpy()[:-1]
    assert f["budget_carried_in"].to_numpy()[1:] == pytest.approx(passed, abs=1e-6)
    # all but the last step's carry-over is placed: less than one step's budget
    placed = (f["acquisition_spend"] + f["retention_spend"]).sum()
    assert 0 <= budget - placed < f["marketing_budget"].iloc[-1]


def test_money_no_lever_can_place_is_reported_unspent_and_kept_out_of_nothing():
    # only sales visits and complaint handling, with a budget far beyond the aware
    # prospects and the complaints: neither side can place it
    policy = Policy(
        name="unplaceable",
        budget_per_year=10_000_000.0,
        acquisition_share=0.5,
        acquisition_mix=AcquisitionMix(advertising=0.0, promotions=0.0, sales_visits=1.0),
        retention_mix=RetentionMix(
            care_contacts=0.0, loyalty_program=0.0, complaint_handling=1.0, service_level=0.0
        ),
    )
    f = _focal(policy, steps=8)
    budget, accounted = _budget_identity(f)
    assert accounted == pytest.approx(budget, rel=1e-9)
    assert f["budget_unspent"].sum() > 0.5 * budget
    table = unspent_budget(f.assign(policy="unplaceable"), "focal")
    assert table["unspent_share"].iloc[0] > 0.5
    assert "unplaceable left" in (unspent_sentence(table) or "")


# -- the headline ------------------------------------------------------------------------------
def _results(unspent: dict[str, float]) -> ResultsData:
    """Two policies over 52 steps and 3 replications; `unspent`: each one's unplaced share."""
    rows, ts = [], []
    for k in range(3):
        for policy, profit in (("base", 100_000.0 + k), ("other", 150_000.0 + 2 * k)):
            rows.append({"policy": policy, "scenario": 0, "replication": k, "firm": "focal",
                         "customers": 100.0, "cumulative_profit": profit})  # fmt: skip
            for step in range(1, 53):
                ts.append({"policy": policy, "scenario": 0, "replication": k, "step": step,
                           "firm": "focal", "revenue": 20_000.0, "marketing_budget": 1000.0,
                           "acquisition_spend": 500.0,
                           "retention_spend": 500.0 * (1 - 2 * unspent[policy])})  # fmt: skip
    outcomes, timeseries = pd.DataFrame(rows), pd.DataFrame(ts)
    summary = summarize(outcomes, ["base", "other"], run_revenue(timeseries))
    manifest = {"policies": ["base", "other"], "firms": ["focal"], "steps_per_year": 52}
    return ResultsData(Path("."), timeseries, summary, outcomes=outcomes, manifest=manifest)


def test_the_headline_names_a_policy_that_left_budget_unspent():
    line = headline(_results({"base": 0.0, "other": 0.1}))[0]
    assert "Not at equal spend: other left 5,200 (10%) of its marketing budget unspent" in line
    assert "base left" not in line


def test_the_headline_is_silent_at_equal_spend():
    just_under = UNSPENT_FLAG_SHARE * 0.9
    line = headline(_results({"base": 0.0, "other": just_under}))[0]
    assert "equal spend" not in line


# -- staff cost per customer served, promotion pay ----------------------------------------------
def test_payroll_is_a_fixed_core_plus_labour_per_customer_served():
    assert paid_headcount(12, 2400, 200.0, 0.45) == pytest.approx(12.0)
    assert paid_headcount(12, 4800, 200.0, 0.45) == pytest.approx(12 * 0.45 + 0.55 * 24)
    # a firm and its market twice the size: twice the payroll, whatever the share
    for share in (0.0, 0.45, 1.0):
        one = paid_headcount(12, 1800, 200.0, share)
        assert paid_headcount(24, 3600, 200.0, share) == pytest.approx(2 * one)


def test_staff_cost_follows_the_customers_served():
    model = MarketModel(Scenario.default().with_updates({"market.n_customers": 500}), seed=1)
    staff = model.focal_firm.staff
    assert staff is not None
    spec, policy = model.params.employees, model.focal_firm.policy
    for customers in (0, 2400, 4800):
        report = staff.work(customers)
        expected = paid_headcount(
            staff.size, customers, spec.customers_per_employee, spec.fixed_payroll_share
        )
        assert report.headcount == pytest.approx(expected)
        training = policy.training_per_employee_year / 52 * staff.size
        pay = report.cost - training - report.quits * spec.recruiting_cost
        assert pay == pytest.approx(spec.wage_per_year / 52 * expected)


def test_promotion_opportunity_costs_payroll():
    assert promotion_pay_factor(0.3, 0.1) == 1.0  # the market's par: the wage pays for it
    assert promotion_pay_factor(0.6, 0.1) > promotion_pay_factor(0.3, 0.1)
    generous = get_policy("balanced").model_copy(update={"promotion_opportunity": 0.6})
    free = _focal(generous, n=1000, steps=13, **{"employees.promotion_raise": 0.0})
    paid = _focal(generous, n=1000, steps=13)
    # the raise costs money and changes nothing else: the same market, step by step
    np.testing.assert_array_equal(paid["customers"], free["customers"])
    extra = paid["staff_cost"].sum() - free["staff_cost"].sum()
    assert extra > 0
    assert free["profit"].sum() - paid["profit"].sum() == pytest.approx(extra)
    # exactly the raise on the payroll: staff cost less training and recruiting
    spec = Scenario.default().employees
    training = generous.training_per_employee_year / 52 * spec.per_firm
    payroll = (free["staff_cost"] - training - free["staff_quits"] * spec.recruiting_cost).sum()
    assert extra == pytest.approx(payroll * (promotion_pay_factor(0.6, 0.1) - 1))
    # at par, the raise costs nothing extra
    par = _focal("balanced", n=1000, steps=13)
    par_free = _focal("balanced", n=1000, steps=13, **{"employees.promotion_raise": 0.0})
    assert par["staff_cost"].sum() == pytest.approx(par_free["staff_cost"].sum())
