"""Pyramid upgrades (issue 10 item 9): cross-/up-selling moves customers up Curry's pyramid.

The pure rules (who is targeted, how often an offer succeeds, what a success does) are
tested on small arrays; the lever itself in a quiet one-firm market where nobody comes or
goes, so the same customers are compared with and without it on the same seeds.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.config.presets import PRESETS
from sim.config.schema import Policy, RetentionMix, Scenario
from sim.model.behaviour.levers import (
    closeness_to_next_tier,
    saturated_intensity,
    upgrade_eligible,
    upgrade_multiplier,
    upgrade_success_probability,
)
from sim.model.market import MarketModel

ONLY_UPGRADES = RetentionMix(
    care_contacts=0.0, loyalty_program=0.0, complaint_handling=0.0, service_level=0.0, upgrades=1.0
)


def upgrade_policy(budget_per_year: float) -> Policy:
    """The whole budget on upgrade offers."""
    return Policy(
        name=f"upgrades_{budget_per_year:g}",
        budget_per_year=budget_per_year,
        acquisition_share=0.0,
        retention_mix=ONLY_UPGRADES,
    )


def quiet_market(
    n_customers: int = 3_000, steps: int = 78, engine: str = "vectorized", **levers: float
) -> Scenario:
    """One firm that has everybody as a customer from the start and keeps them: no churn,
    no acquisition, no word of mouth, no staff or suppliers; customers differ (the pyramid)."""
    return Scenario(
        simulation={"steps": steps, "engine": engine},
        market={
            "n_customers": n_customers,
            "initial_penetration": 1.0,
            "need_per_year": 0.0,
            "poaching_offers_per_year": 0.0,
            "word_of_mouth": {"referrals_per_year": 0.0, "peers_deterred_per_episode": 0.0},
            "churn": {
                "base_per_year": 0.0,
                "dissatisfaction_per_year": 0.0,
                "neglect_per_year": 0.0,
                "unresolved_complaint_per_year": 0.0,
                "price_per_year": 0.0,
            },
            "levers": levers,
        },
        network={"kind": "erdos_renyi", "mean_degree": 0},
        firm={"initial_share": 1.0},
        competitors=(),
        employees={"enabled": False},
        suppliers={"enabled": False},
    )


# -- the pure rules -------------------------------------------------------------------------


def test_closeness_is_revenue_over_the_next_tiers_entry():
    revenue = np.array([100.0, 50.0, 40.0, 30.0, 10.0, 27.0])
    tier = np.array([0, 1, 1, 2, 3, 3])
    near = closeness_to_next_tier(revenue, tier)
    assert near.tolist() == pytest.approx([0.0, 0.5, 0.4, 0.75, 1 / 3, 0.9])
    # an empty tier above: nobody below it is near anything
    assert closeness_to_next_tier(np.array([5.0, 1.0]), np.array([3, 3])).tolist() == [0.0, 0.0]


def test_eligibility_excludes_the_top_the_upgraded_and_the_recently_offered():
    now, interval = 100, 26
    tier = np.array([0, 1, 2, 3, 3, 3, 3, -1])
    acquired = np.array([0, 0, 0, 0, 0, 90, 0, 0])
    upgraded = np.array([-1, -1, 50, -1, -1, 80, -1, -1])  # #2 upgraded in this relationship
    offered = np.array([-1, -1, -1, 90, 74, 85, 60, -1])  # #3 offered 10 steps ago
    ok = upgrade_eligible(tier, upgraded, offered, acquired, now, interval)
    # #5 was upgraded and offered by a firm it left: a new relationship starts afresh
    assert ok.tolist() == [False, True, False, False, True, True, True, False]


def test_success_saturates_like_every_lever():
    success, scale = 0.1, 0.5
    assert upgrade_success_probability(0.0, success, scale) == success
    xs = np.linspace(0.01, 5.0, 50)
    p = np.array([upgrade_success_probability(x, success, scale) for x in xs])
    assert np.all(np.diff(p) < 0)  # a smaller share of each extra offer succeeds
    wins = p * xs  # successes per customer-year
    assert wins == pytest.approx([success * saturated_intensity(x, scale) for x in xs])
    assert np.all(wins < success * scale)  # never more than the ceiling


def test_a_success_raises_spend_only_in_the_current_relationship():
    m = upgrade_multiplier(np.array([10, 10, -5]), np.array([3, 12, 0]), 0.5)
    assert m.tolist() == [1.5, 1.0, 1.0]


def test_presets_spend_nothing_on_upgrades():
    # the presets' verdicts (README, docs) stay those of the mixes they were built with
    assert all(p.retention_mix.upgrades == 0.0 for p in PRESETS.values())
    assert RetentionMix().upgrades == 0.0


# -- both engines apply a success the same way ----------------------------------------------


@pytest.mark.parametrize("engine", ["vectorized", "agent"])
def test_engines_raise_an_upgraded_customers_units_by_the_gain(engine):
    # Everybody buys exactly once a step, 1.5 units (means only, no tenure ramp, no
    # members), nobody leaves: a step's units are 1.5 (customers + gain x upgraded so far),
    # the upgrades of a step coming before its purchases.
    gain = 0.5
    scenario = quiet_market(300, 20, engine, upgrade_spend_gain=gain, upgrade_success=0.5)
    scenario = scenario.with_updates(
        {
            "simulation.step_length": "week",
            "market.heterogeneity.enabled": False,
            "market.heterogeneity.r": 52.0,
            "market.heterogeneity.alpha": 1.0,
            "market.tenure_spend_gain": 0.0,
        }
    )
    model = MarketModel(scenario, policy=upgrade_policy(20_000.0), seed=5)
    # past revenue that differs (so there is a pyramid); everyone then earns the same per
    # step, so the order, and with it the tiers, change only through upgrades
    model.population.annual_revenue[:] = np.linspace(100.0, 1_000.0, 300)
    df = model.run().results()
    upgraded = df["upgrades"].cumsum()
    assert upgraded.iloc[-1] > 10  # the check below is not about nothing
    assert (df["purchases"] == 300).all()
    expected = 1.5 * (df["customers"] + gain * upgraded)
    # rtol 1e-6: the spend rate is stored as float32 (issue 14), so 1.5 units come out
    # as 1.5 to about 7 digits
    np.testing.assert_allclose(df["units"], expected, rtol=1e-6)
    assert df["upgrades_spend"].sum() == pytest.approx(25.0 * df["upgrade_offers"].sum())


# -- the lever moves customers up the pyramid ------------------------------------------------

SEEDS = (1, 2, 3)
Z_MIN = 3.0


def top_tiers_share(model: MarketModel) -> float:
    """Share of the focal firm's revenue over about the last year earned by its top 20%
    (the top, big and medium tiers)."""
    last = model.results().iloc[-1]
    parts = [last[f"tier_revenue_{t}"] for t in ("top", "big", "medium", "small")]
    return float(sum(parts[:3]) / sum(parts))


@pytest.fixture(scope="module")
def paired() -> pd.DataFrame:
    """Each seed without and with a strong upgrade programme, on the same customers."""
    scenario = quiet_market(upgrade_success=0.3, upgrade_spend_gain=1.0)
    rows = []
    for seed in SEEDS:
        row = {}
        models = {}
        for arm, budget in (("without", 0.0), ("with", 40_000.0)):
            model = MarketModel(scenario, policy=upgrade_policy(budget), seed=seed).run()
            models[arm] = model
            df = model.results()
            row |= {
                f"{arm}_share": top_tiers_share(model),
                f"{arm}_revenue": float(df["revenue"].sum()),
                f"{arm}_upgrades": float(df["upgrades"].sum()),
            }
        # the same people (same seed: same traits) in both arms: where the upgraded ones
        # stand at the end with and without the programme (tier 0 = top, so up = lower)
        pop = models["with"].population
        upgraded = pop.upgraded_step > pop.acquired_step
        for arm, model in models.items():
            row[f"{arm}_rank_of_upgraded"] = -float(model.population.tier[upgraded].mean())
        rows.append(row)
    return pd.DataFrame(rows, index=pd.Index(SEEDS, name="seed"))


def assert_paired_rise(paired: pd.DataFrame, what: str) -> None:
    """The paired difference (with - without) is more than Z_MIN standard errors above 0
    (the standard error from the spread of the paired differences over the seeds)."""
    d = (paired[f"with_{what}"] - paired[f"without_{what}"]).to_numpy()
    se = d.std(ddof=1) / math.sqrt(d.size)
    assert d.mean() > Z_MIN * se and (d > 0).all(), (what, d.tolist())


def test_upgrades_happen_only_with_the_lever(paired):
    assert (paired["without_upgrades"] == 0).all()
    assert (paired["with_upgrades"] > 0).all()


def test_upgrades_raise_the_top_tiers_revenue_share(paired):
    assert_paired_rise(paired, "share")


def test_upgrades_move_customers_up_and_raise_revenue(paired):
    assert_paired_rise(paired, "rank_of_upgraded")
    assert_paired_rise(paired, "revenue")
