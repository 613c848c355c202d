"""The levers of the market issue move their outcomes the intended way, beyond noise.

Each comparison runs two policies that differ in one lever on the same seeds (common
random numbers: same graph, same initial market, same streams), and asserts that the
mean paired difference of the outcome lies more than three standard errors of that
difference on the intended side of zero.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd
import pytest

from sim import MarketModel, Policy, Scenario
from sim.config.schema import RetentionMix

SEEDS = range(24)  # customers who differ and small causal effects (issue 10) need more pairs
STEPS = 104
SCENARIO = Scenario.default().with_updates({"market.n_customers": 6000})
WINDOW = 78  # measure over the last 78 weeks: enough churn events to see a few-% effect


def focal_last_year(df: pd.DataFrame) -> pd.DataFrame:
    """The focal firm's rows of the measurement window at the end of the run."""
    return df[(df["firm"] == "focal") & (df["step"] > STEPS - WINDOW)]


def paired_runs(
    low: Policy, high: Policy, seeds: Iterable[int] = SEEDS
) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """Results of both policies on each seed (common random numbers)."""
    return [
        (
            MarketModel(SCENARIO, policy=low, seed=seed).run(STEPS).results(),
            MarketModel(SCENARIO, policy=high, seed=seed).run(STEPS).results(),
        )
        for seed in seeds
    ]


def paired_z(
    runs: list[tuple[pd.DataFrame, pd.DataFrame]], outcome: Callable[[pd.DataFrame], float]
) -> tuple[float, float]:
    """Mean paired difference (high - low) of an outcome over seeds, and its z score."""
    d = np.asarray([outcome(b) - outcome(a) for a, b in runs])
    se = d.std(ddof=1) / np.sqrt(d.size)
    return float(d.mean()), float(d.mean() / se) if se > 0 else float(np.sign(d.mean()) * np.inf)


def mean_of(column: str) -> Callable[[pd.DataFrame], float]:
    return lambda df: float(focal_last_year(df)[column].mean())


def per_customer(column: str) -> Callable[[pd.DataFrame], float]:
    def f(df: pd.DataFrame) -> float:
        last = focal_last_year(df)
        return float(last[column].sum() / last["customers"].sum())

    return f


def check(effect: tuple[float, float], direction: int, what: str) -> None:
    mean, z = effect
    assert direction * z > 3.0, f"{what}: mean paired difference {mean:.4g}, z = {z:.2f}"


@pytest.mark.slow
def test_training_raises_skill_service_satisfaction_and_retention() -> None:
    low = Policy(name="no_training", training_per_employee_year=0.0)
    high = Policy(name="training", training_per_employee_year=10_000.0)
    runs = paired_runs(low, high)
    check(paired_z(runs, mean_of("staff_skill")), +1, "staff skill")
    check(paired_z(runs, mean_of("service_quality")), +1, "service quality")
    check(paired_z(runs, mean_of("mean_satisfaction")), +1, "satisfaction")
    check(paired_z(runs, per_customer("churned")), -1, "churn per customer")


@pytest.mark.slow
def test_working_conditions_lower_turnover() -> None:
    low = Policy(name="poor_conditions", pay_level=0.8, promotion_opportunity=0.1)
    high = Policy(name="good_conditions", pay_level=1.3, promotion_opportunity=0.6)
    runs = paired_runs(low, high)
    check(paired_z(runs, mean_of("staff_morale")), +1, "staff morale")
    check(paired_z(runs, mean_of("staff_quits")), -1, "staff quits per step")


@pytest.mark.slow
def test_supplier_partnership_raises_quality_and_cuts_failures() -> None:
    low = Policy(name="transactional", supplier_investment_per_year=0.0)
    high = Policy(name="partnership", supplier_investment_per_year=100_000.0)
    runs = paired_runs(low, high)
    check(paired_z(runs, mean_of("supplier_level")), +1, "relationship level")
    check(paired_z(runs, mean_of("supplier_quality")), +1, "input quality")
    check(paired_z(runs, mean_of("product_quality")), +1, "product quality")
    check(paired_z(runs, per_customer("supply_failures")), -1, "supply failures")


@pytest.mark.slow
def test_squeezing_suppliers_lowers_cost_but_erodes_the_relationship() -> None:
    fair = Policy(name="fair")
    squeeze = Policy(name="squeeze", supplier_price_pressure=0.15)
    runs = paired_runs(fair, squeeze)
    check(paired_z(runs, mean_of("unit_cost")), -1, "unit cost")
    check(paired_z(runs, mean_of("supplier_level")), -1, "relationship level")


@pytest.mark.slow
def test_loyalty_program_raises_frequency_and_spend() -> None:
    mix_low = RetentionMix(
        care_contacts=0.5, loyalty_program=0.0, complaint_handling=0.25, service_level=0.25
    )
    mix_high = RetentionMix(
        care_contacts=0.2, loyalty_program=0.6, complaint_handling=0.1, service_level=0.1
    )
    low = Policy(name="no_program", acquisition_share=0.3, retention_mix=mix_low)
    high = Policy(name="program", acquisition_share=0.3, retention_mix=mix_high)
    runs = paired_runs(low, high)
    check(paired_z(runs, mean_of("loyalty_members")), +1, "members")
    check(paired_z(runs, per_customer("purchases")), +1, "purchases per customer")
    check(
        paired_z(
            runs,
            lambda df: float(
                focal_last_year(df)["revenue"].sum() / focal_last_year(df)["purchases"].sum()
            ),
        ),
        +1,
        "revenue per purchase",
    )


@pytest.mark.slow
def test_complaint_handling_means_fewer_detractors() -> None:
    mix_low = RetentionMix(
        care_contacts=0.5, loyalty_program=0.25, complaint_handling=0.0, service_level=0.25
    )
    mix_high = RetentionMix(
        care_contacts=0.3, loyalty_program=0.15, complaint_handling=0.4, service_level=0.15
    )
    low = Policy(name="ignore_complaints", retention_mix=mix_low)
    high = Policy(name="handle_complaints", retention_mix=mix_high)
    runs = paired_runs(low, high)
    check(paired_z(runs, per_customer("complaints_resolved")), +1, "resolved complaints")
    check(paired_z(runs, per_customer("detractor_episodes")), -1, "detractor episodes")


@pytest.mark.slow
def test_key_account_care_protects_the_top_tiers() -> None:
    low = Policy(name="care_by_waiting", key_account_share=0.0)
    high = Policy(name="key_accounts", key_account_share=0.6)

    # The effect is small: about -5e-4 top-tier churn per customer-week, z -2.0 to -3.6
    # over sets of 24 seeds (measured on seeds 0-23, 24-47 and 48 more, before and after
    # the issue-14 stream change), so 24 seeds pass only about half the time. 96 seeds
    # put the expected z near -5 (twice 24 seeds' -2.5), beyond the -3 asserted.
    runs = paired_runs(low, high, seeds=range(96))

    def top_tier_churn_rate(df: pd.DataFrame) -> float:
        last = focal_last_year(df)
        return float(last["churned_top_tiers"].sum() / (last["tier_top"] + last["tier_big"]).sum())

    check(paired_z(runs, top_tier_churn_rate), -1, "churn rate of top-tier customers")
