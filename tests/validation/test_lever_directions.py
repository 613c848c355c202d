"""Each marketing lever moves its intended outcome the intended way, beyond sampling noise.

Issue: "raising retention budget, care contacts, loyalty program, complaint handling,
advertising or price moves its intended outcome the intended way beyond sampling noise;
a competitor's price cut pulls customers from the focal firm".

Design: for each lever, a control and a treated arm that differ only in that lever. For
the spend levers the treated arm spends more on that one lever and exactly as much as
the control on every other lever (the budget grows by the extra spend and the shares are
recomputed), so the comparison is not confounded by money taken from another lever.
Both arms run on the same seeds (common random numbers: the same social graph and
initial market), and the test asks the mean paired difference to exceed Z_MIN standard
errors of the paired differences across the seeds, in the intended direction.

The market is the default one scaled down to 3,000 people (budgets, poaching pressure
and staff scaled with it, see tests/conftest.py) over two years of weeks.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from sim.config.schema import Policy, Scenario
from sim.model.agents.firms import ACQUISITION_LEVERS, RETENTION_LEVERS
from sim.model.market import MarketModel

pytestmark = pytest.mark.slow

N_CUSTOMERS = 3_000
STEPS = 104
SEEDS = tuple(range(1, 21))  # 20: customers who differ (issue 10) add between-seed variance
Z_MIN = 3.0  # standard errors of the paired difference the effect must exceed


def lever_spend(policy: Policy) -> dict[str, float]:
    """Yearly spend on each lever under `policy` (its budget must be set)."""
    budget = policy.budget_per_year
    assert budget is not None
    acquisition = budget * policy.acquisition_share
    retention = budget - acquisition
    amix, rmix = policy.acquisition_mix.model_dump(), policy.retention_mix.model_dump()
    return {
        **{k: acquisition * amix[k] for k in ACQUISITION_LEVERS},
        **{k: retention * rmix[k] for k in RETENTION_LEVERS},
    }


def with_spend(policy: Policy, name: str, **per_year: float) -> Policy:
    """`policy` with the given levers' yearly spend set, every other lever's unchanged."""
    spend = lever_spend(policy) | per_year
    acquisition = sum(spend[k] for k in ACQUISITION_LEVERS)
    retention = sum(spend[k] for k in RETENTION_LEVERS)
    budget = acquisition + retention
    data = policy.model_dump()
    data.update(name=name, budget_per_year=budget, acquisition_share=acquisition / budget)
    if acquisition > 0:
        data["acquisition_mix"] = {k: spend[k] / acquisition for k in ACQUISITION_LEVERS}
    if retention > 0:
        data["retention_mix"] = {k: spend[k] / retention for k in RETENTION_LEVERS}
    return Policy.model_validate(data)


def focal_outcomes(model: MarketModel) -> dict[str, float]:
    """The outcomes the levers aim at, for the focal firm over the whole run."""
    df = model.results()
    f = df[df["firm"] == model.firm_names[0]]
    return {
        "churned": f["churned"].sum(),
        "churn_per_customer": f["churned"].sum() / f["customers"].sum(),
        "retention_rate": f["retention_rate"].mean(),
        "churned_insufficient_care": f["churned_insufficient_care"].sum(),
        "loyalty_members": f["loyalty_members"].mean(),
        "purchases_per_customer": f["purchases"].sum() / f["customers"].sum(),
        # log of (purchases per member-step) / (purchases per other customer-step)
        "log_member_purchase_ratio": math.log(
            (f["member_purchases"].sum() / f["loyalty_members"].sum())
            / (
                (f["purchases"].sum() - f["member_purchases"].sum())
                / (f["customers"].sum() - f["loyalty_members"].sum())
            )
        ),
        "complaints_resolved": f["complaints_resolved"].sum(),
        "detractor_episodes": f["detractor_episodes"].sum(),
        "detractor_episodes_per_customer": f["detractor_episodes"].sum() / f["customers"].sum(),
        "new_advertising": f["new_advertising"].sum(),
        "awareness": float(model.population.aware[:, 0].mean()),
        "new_customers": f["new_customers"].sum(),
        "churned_price": f["churned_price"].sum(),
        "revenue_per_unit": f["revenue"].sum() / f["units"].sum(),
        "customers_at_end": f["customers"].iloc[-1],
        "share_at_end": f["customers"].iloc[-1]
        / df.loc[df["step"] == df["step"].max(), "customers"].sum(),
        "switched_out": f["switched_out"].sum(),
    }


@pytest.fixture(scope="module")
def arms(make_small_scenario) -> dict[str, tuple[Scenario, Policy]]:
    """Every arm: a scenario and the focal firm's policy."""
    scenario = make_small_scenario(N_CUSTOMERS, STEPS)
    base = Policy(name="base", budget_per_year=scenario.firm.budget_per_year)
    spend = lever_spend(base)
    complaint_default = spend["complaint_handling"]
    no_complaints = with_spend(base, "no_complaint_handling", complaint_handling=0.0)
    # a 30% cut: a price war. With a 20% cut the switching it causes was +17 to +31
    # customers over 20 seeds, z 2.8 to 5.8 between seed sets (too close to Z_MIN to
    # pass reliably); with 30%, +27 to +41, z 6.9 and 10.0 on seeds 1-20 and 21-40
    rival_price = 0.7 * scenario.competitors[0].price
    return {
        "base": (scenario, base),
        # the retention budget doubled, split as before; acquisition spend unchanged
        "more_retention": (
            scenario,
            with_spend(base, "more_retention", **{k: 2 * spend[k] for k in RETENTION_LEVERS}),
        ),
        "more_care": (
            scenario,
            with_spend(base, "more_care", care_contacts=2 * spend["care_contacts"]),
        ),
        "more_loyalty": (
            scenario,
            with_spend(base, "more_loyalty", loyalty_program=2 * spend["loyalty_program"]),
        ),
        # from no complaint handling to four times the default: every complaint handled,
        # even in busy weeks
        "no_complaint_handling": (scenario, no_complaints),
        "complaint_handling": (
            scenario,
            with_spend(
                no_complaints, "complaint_handling", complaint_handling=4 * complaint_default
            ),
        ),
        "more_advertising": (
            scenario,
            with_spend(base, "more_advertising", advertising=3 * spend["advertising"]),
        ),
        "price_up": (scenario, base.model_copy(update={"name": "price_up", "price_change": 0.15})),
        "rival_price_cut": (
            make_small_scenario(N_CUSTOMERS, STEPS, competitor_prices={0: rival_price}),
            base,
        ),
    }


@pytest.fixture(scope="module")
def outcomes(arms) -> Callable[[str], pd.DataFrame]:
    """Outcomes of an arm, one row per seed (each arm is run once, on first use)."""
    cache: dict[str, pd.DataFrame] = {}

    def get(arm: str) -> pd.DataFrame:
        if arm not in cache:
            scenario, policy = arms[arm]
            rows = [
                focal_outcomes(MarketModel(scenario, policy=policy, seed=seed).run())
                for seed in SEEDS
            ]
            cache[arm] = pd.DataFrame(rows, index=pd.Index(SEEDS, name="seed"))
        return cache[arm]

    return get


def assert_moves(
    outcomes: Callable[[str], pd.DataFrame],
    control: str,
    treated: str,
    metric: str,
    direction: int,
) -> None:
    """The paired mean difference (treated - control) has the intended sign beyond Z_MIN SE."""
    diff = (outcomes(treated)[metric] - outcomes(control)[metric]).to_numpy(dtype=float)
    mean = diff.mean()
    se = diff.std(ddof=1) / math.sqrt(diff.size)
    detail = (
        f"{metric}: {treated} - {control} = {mean:.4g} (se {se:.3g}, "
        f"z {mean / se if se > 0 else math.copysign(math.inf, mean):.3g}) over {diff.size} seeds"
    )
    if se == 0:  # a deterministic effect: every seed must show it
        assert direction * mean > 0, detail
    else:
        assert direction * mean > Z_MIN * se, detail


UP, DOWN = 1, -1


def test_spend_arms_differ_only_in_their_lever(arms) -> None:
    base = lever_spend(arms["base"][1])
    changed = {
        "more_care": {"care_contacts"},
        "more_loyalty": {"loyalty_program"},
        "no_complaint_handling": {"complaint_handling"},
        "complaint_handling": {"complaint_handling"},
        "more_advertising": {"advertising"},
        # every retention lever the base spends on (upgrades: none by default)
        "more_retention": {k for k in RETENTION_LEVERS if base[k] > 0},
    }
    for arm, levers in changed.items():
        spend = lever_spend(arms[arm][1])
        for lever, amount in spend.items():
            if lever in levers:
                assert not math.isclose(amount, base[lever]), (arm, lever)
            else:
                assert math.isclose(amount, base[lever], rel_tol=1e-9), (arm, lever)


def test_retention_budget_lowers_churn(outcomes) -> None:
    # a rate, not a count: more retention keeps a larger base, whose churn events partly
    # hide the lower hazard in a total
    assert_moves(outcomes, "base", "more_retention", "churn_per_customer", DOWN)
    assert_moves(outcomes, "base", "more_retention", "retention_rate", UP)


def test_care_contacts_lower_churn_from_neglect(outcomes) -> None:
    assert_moves(outcomes, "base", "more_care", "churned_insufficient_care", DOWN)


def test_loyalty_program_enrols_members_who_buy_more(outcomes) -> None:
    assert_moves(outcomes, "base", "more_loyalty", "loyalty_members", UP)
    # Members self-select (issue 10): the heavy buyers join, so members buy more often than
    # the other customers, beyond Z_MIN standard errors of that log ratio across seeds. The
    # program's causal effect on the average customer is not asserted: its frequency
    # uplift (1.15, Leenheer et al. 2007) acts on the few members the doubled spend adds:
    # measured +0.0025 purchases per customer-week, z 0.98 over these 20 seeds, too small
    # for this design's paired noise.
    ratio = outcomes("more_loyalty")["log_member_purchase_ratio"].to_numpy(dtype=float)
    se = ratio.std(ddof=1) / math.sqrt(ratio.size)
    assert ratio.mean() > Z_MIN * se, (
        f"log member/other purchase ratio {ratio.mean():.3g}, se {se:.3g}"
    )


def test_complaint_handling_resolves_complaints_and_prevents_detractors(outcomes) -> None:
    assert_moves(outcomes, "no_complaint_handling", "complaint_handling", "complaints_resolved", UP)
    # per customer: handling complaints also keeps more customers, whose own episodes hide
    # part of the effect in a total count (its z over these 10 seeds ranged from -2.4 to
    # -4.4 between equivalent random streams; per customer it is about -12)
    assert_moves(
        outcomes,
        "no_complaint_handling",
        "complaint_handling",
        "detractor_episodes_per_customer",
        DOWN,
    )


def test_no_complaint_handling_resolves_nothing(outcomes) -> None:
    assert (outcomes("no_complaint_handling")["complaints_resolved"] == 0).all()
    assert (outcomes("complaint_handling")["complaints_resolved"] > 0).all()


def test_advertising_wins_customers_and_awareness(outcomes) -> None:
    assert_moves(outcomes, "base", "more_advertising", "new_advertising", UP)
    assert_moves(outcomes, "base", "more_advertising", "awareness", UP)


def test_price_rise_costs_customers_and_earns_more_per_unit(outcomes) -> None:
    assert_moves(outcomes, "base", "price_up", "new_customers", DOWN)
    assert_moves(outcomes, "base", "price_up", "churned_price", UP)
    assert_moves(outcomes, "base", "price_up", "revenue_per_unit", UP)


def test_no_price_churn_at_the_reference_price(outcomes) -> None:
    assert (outcomes("base")["churned_price"] == 0).all()


def test_rival_price_cut_pulls_customers_from_the_focal_firm(outcomes) -> None:
    assert_moves(outcomes, "base", "rival_price_cut", "customers_at_end", DOWN)
    assert_moves(outcomes, "base", "rival_price_cut", "share_at_end", DOWN)
    assert_moves(outcomes, "base", "rival_price_cut", "switched_out", UP)


def test_seeds_give_different_markets(outcomes) -> None:
    """Guard for the statistics: replications must not be copies of one run."""
    assert np.unique(outcomes("base")["customers_at_end"]).size > len(SEEDS) // 2
