"""Scale economies and the awareness stock (issue 10 item 3): the pure rules and the firm.

The rules are in sim/model/behaviour/economies.py; the firm applies the experience curve
to its unit cost each step, the market makes people forget firms they do not buy from.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.config.schema import Policy, Scenario
from sim.model.behaviour.economies import (
    experience_cost_factor,
    forget,
    forgetting_probability,
    learning_exponent,
    prior_experience_units,
)
from sim.model.market import MarketModel


def test_each_doubling_multiplies_cost_by_the_learning_rate():
    for rate in (0.7, 0.8, 0.9, 0.95):
        prior = 1_000.0
        factors = [experience_cost_factor(prior * (2**k - 1), prior, rate) for k in range(6)]
        assert factors == pytest.approx([rate**k for k in range(6)])
        assert learning_exponent(rate) == pytest.approx(-math.log2(rate))


def test_no_learning_and_no_sales_leave_cost_unchanged():
    assert experience_cost_factor(1e9, 10.0, 1.0) == 1.0
    assert experience_cost_factor(0.0, 10.0, 0.8) == 1.0
    assert experience_cost_factor(-5.0, 10.0, 0.8) == 1.0  # volume never negative


def test_cost_falls_faster_for_a_firm_with_little_prior_experience():
    # the same volume sold halves a small firm's cost more than a big one's
    small = experience_cost_factor(9_000.0, 1_000.0, 0.9)
    big = experience_cost_factor(9_000.0, 100_000.0, 0.9)
    assert small < big < 1.0


@pytest.mark.parametrize("rate", [0.0, -0.1, 1.01])
def test_a_learning_rate_outside_0_1_is_refused(rate):
    with pytest.raises(ValueError, match="learning_rate"):
        learning_exponent(rate)


def test_prior_experience_has_a_floor_for_an_entrant():
    assert prior_experience_units(100.0, 5.0, 18.0) == 500.0
    assert prior_experience_units(0.0, 5.0, 90.0) == 90.0
    with pytest.raises(ValueError, match="prior_units"):
        experience_cost_factor(1.0, 0.0, 0.9)


def test_forgetting_halves_awareness_over_the_half_life():
    for spy, half_life in ((52, 26.0), (12, 26.0), (365, 8.0)):
        p = forgetting_probability(half_life, spy)
        steps = half_life * spy / 52
        assert (1.0 - p) ** steps == pytest.approx(0.5)
    assert forgetting_probability(0.0, 52) == 0.0  # 0 turns forgetting off


def test_customers_and_former_customers_never_forget_their_firm():
    rng = np.random.default_rng(3)
    n = 20_000
    firm = rng.integers(-1, 2, size=n)
    former = np.where(firm < 0, rng.integers(-1, 2, size=n), -1)
    aware = np.ones((n, 2), dtype=bool)
    p = 0.3
    candidates = [(firm != f) & (former != f) for f in range(2)]
    forgot = forget(aware, firm, former, p, rng)
    for f in range(2):
        keep = ~candidates[f]
        assert aware[keep, f].all()  # customers and former customers remember
        m = int(candidates[f].sum())
        # binomial count: 4 standard deviations either side of m p
        sd = math.sqrt(m * p * (1 - p))
        assert abs(forgot[f] - m * p) < 4 * sd
        assert forgot[f] == m - int(aware[candidates[f], f].sum())


def test_no_half_life_means_no_draws():
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    aware = np.ones((10, 2), dtype=bool)
    assert forget(aware, np.full(10, -1), np.full(10, -1), 0.0, rng).tolist() == [0, 0]
    assert aware.all() and rng.bit_generator.state == state


def _small(**market: object) -> Scenario:
    return Scenario.default().with_updates(
        {"market.n_customers": 2_000, "suppliers.enabled": False, **market}
    )


def test_the_firm_s_unit_cost_follows_its_cumulative_volume():
    """With suppliers off, unit cost is the scenario's times the experience factor of the
    units the firm sold in the steps before."""
    scenario = _small(**{"market.experience.learning_rate": 0.8})
    model = MarketModel(scenario, policy="balanced", seed=5).run(20)
    df = model.results()
    focal = df[df["firm"] == "focal"].reset_index(drop=True)
    sold_before = np.concatenate([[0.0], np.cumsum(focal["units"].to_numpy())[:-1]])
    firm = model.focal_firm
    expected = [
        scenario.firm.unit_cost * experience_cost_factor(q, firm.prior_units, 0.8)
        for q in sold_before
    ]
    assert focal["unit_cost"].to_numpy() == pytest.approx(expected, rel=1e-12)
    assert focal["unit_cost"].iloc[-1] < scenario.firm.unit_cost
    assert focal["cogs"].to_numpy() == pytest.approx(
        focal["units"].to_numpy() * focal["unit_cost"].to_numpy()
    )


def test_learning_rate_1_keeps_the_scenario_s_unit_cost():
    scenario = _small(**{"market.experience.learning_rate": 1.0})
    df = MarketModel(scenario, seed=5).run(10).results()
    assert (df.groupby("firm")["unit_cost"].nunique() == 1).all()


def test_awareness_decays_without_advertising_and_customers_remember():
    """No marketing at all: the awareness stock of people who never bought from a firm
    halves about every half-life, while every customer stays aware of their firm."""
    half_life = 8.0
    scenario = _small(
        **{
            "market.advertising.awareness_half_life_weeks": half_life,
            "market.word_of_mouth.referrals_per_year": 0.0,
            "market.poaching_offers_per_year": 0.0,
        }
    ).with_updates({"competitors": []})
    model = MarketModel(scenario, policy=Policy(name="silent", budget_per_year=0.0), seed=2)
    pop = model.population
    knew = (pop.firm < 0) & pop.aware[:, 0]  # aware of the firm without buying from it
    model.run(16)  # two half-lives of weekly steps
    pop = model.population
    still = knew & (pop.firm < 0) & (pop.former_firm < 0)
    share = pop.aware[still, 0].mean()
    assert still.sum() > 200
    # binomial share of the people left: 4 standard deviations around 1/4
    assert abs(share - 0.25) < 4 * math.sqrt(0.25 * 0.75 / still.sum())
    assert not pop.aware[(pop.firm < 0) & ~knew & (pop.former_firm < 0), 0].any()  # no ads
    assert pop.aware[pop.firm == 0, 0].all()
