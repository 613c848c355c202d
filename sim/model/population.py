"""Every person's state as a struct of numpy arrays, one row per person.

Why arrays: the vectorized engine updates a million people in a few numpy operations
per phase, and the per-customer :class:`sim.model.agents.customers.Customer` agents are
thin views on the same rows, so both engines share one state. This module sits below
the agents and the market state, so both can hold a population without importing the
model.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from sim.config.schema import Scenario
from sim.model.behaviour.satisfaction import likelihood_to_recommend
from sim.model.behaviour.spend import churn_proneness, draw_traits
from sim.model.behaviour.value import delivered_value, draw_value_weights

__all__ = ["NEVER", "NO_FIRM", "CustomerPopulation"]

NO_FIRM = -1
NEVER = -(10**6)  # a step long before the start: "never cared for"


@dataclass(eq=False)
class CustomerPopulation:
    """Every person's state, one row each (firm index -1 = buys from no firm)."""

    firm: np.ndarray  # int16: current firm or -1
    former_firm: np.ndarray  # int16: last firm left, -1 if none
    aware: np.ndarray  # bool (n, F): knows the firm's offer
    satisfaction: np.ndarray  # float (0-1) with the current or last firm
    expectation: np.ndarray  # float: expected delivered value of a purchase
    ltr: np.ndarray  # int8 0-10: likelihood to recommend (for NPS)
    ltr_bias: np.ndarray  # float: personal offset on the 0-10 scale
    disposition: np.ndarray  # float: personal log-odds offset of satisfaction
    in_detractor_episode: np.ndarray  # bool: has vented and not yet recovered
    tenure: np.ndarray  # int32: steps with the current firm
    base_spend: np.ndarray  # float: mean units per purchase of a new customer (p / nu)
    purchase_rate: np.ndarray  # float: purchases per year while a customer (lambda)
    spend_rate: np.ndarray  # float: Gamma-Gamma nu (one purchase's units ~ Gamma(p, nu))
    dropout: np.ndarray  # float: BG/NBD dropout propensity p
    churn_proneness: np.ndarray  # float: multiplier of own churn hazards (mean 1)
    switching_cost: np.ndarray  # float: utility a rival must beat
    weights: np.ndarray  # float (n, 8): weights of the parts of delivered value
    deterred: np.ndarray  # float32 (n, F): how deterred from each firm (0-1)
    last_care: np.ndarray  # int32: step of the firm's last care contact
    unresolved_complaint: np.ndarray  # bool
    member: np.ndarray  # bool: in the current firm's loyalty program
    referred: np.ndarray  # bool: won through a referral
    promotion_won: np.ndarray  # bool: won through a promotion
    acquired_step: np.ndarray  # int32: step the current firm won them (cohort)
    has_purchased: np.ndarray  # bool: bought from the current firm before
    annual_revenue: np.ndarray  # float: revenue over about the last year (exponential window)
    revenue_with_firm: np.ndarray  # float: revenue since the current firm won them
    tier: np.ndarray  # int8: pyramid tier with the current firm (see sim.model.metrics.TIERS)
    upgrade_offered_step: np.ndarray  # int32: step of the last upgrade offer (NEVER if none)
    upgraded_step: np.ndarray  # int32: step of the last successful upgrade (NEVER if none)

    @property
    def n(self) -> int:
        """People in the market."""
        return int(self.firm.shape[0])

    @classmethod
    def create(
        cls, scenario: Scenario, offers: np.ndarray, rng: np.random.Generator
    ) -> CustomerPopulation:
        """Draw the initial market: who buys from whom, for how long, how satisfied."""
        market = scenario.market
        n, n_firms = market.n_customers, offers.shape[0]
        spy = scenario.simulation.steps_per_year
        shares = np.array(
            [scenario.firm.initial_share, *(c.initial_share for c in scenario.competitors)]
        )
        # Each person is a customer of firm f with probability penetration * share_f,
        # normalised so the shares of all firms split the penetrated part of the market.
        p_firm = market.initial_penetration * shares / max(shares.sum(), 1e-12)
        p_firm = np.append(p_firm, 1.0 - p_firm.sum())
        firm = rng.choice(n_firms + 1, size=n, p=p_firm).astype(np.int16)
        firm[firm == n_firms] = NO_FIRM
        active = firm >= 0

        aware = rng.random((n, n_firms)) < market.initial_awareness
        aware[np.flatnonzero(active), firm[active]] = True

        weights = draw_value_weights(n, market.weight_concentration, rng)
        value = delivered_value(weights, offers)
        own_value = np.where(active, value[np.arange(n), np.maximum(firm, 0)], 0.0)

        disposition = rng.normal(0.0, market.satisfaction.disposition_sd, size=n)
        start = rng.beta(7.0, 3.0, size=n)
        satisfaction = 1.0 / (1.0 + np.exp(-(np.log(start / (1.0 - start)) + disposition)))
        ltr_bias = rng.normal(0.0, market.satisfaction.ltr_noise, size=n)
        ltr = likelihood_to_recommend(satisfaction, ltr_bias)

        mean_tenure_steps = market.initial_tenure_years * spy
        tenure = np.where(
            active,
            rng.geometric(1.0 / (1.0 + mean_tenure_steps), size=n) - 1
            if mean_tenure_steps > 0
            else 0,
            0,
        ).astype(np.int32)
        care_gap = rng.integers(0, max(int(spy / 2), 1), size=n)
        het = market.heterogeneity
        traits = draw_traits(n, het, rng)
        return cls(
            firm=firm,
            former_firm=np.full(n, NO_FIRM, dtype=np.int16),
            aware=aware,
            satisfaction=satisfaction,
            expectation=own_value.copy(),
            ltr=ltr,
            ltr_bias=ltr_bias,
            disposition=disposition,
            in_detractor_episode=active & (ltr <= market.satisfaction.detractor_max_ltr),
            tenure=tenure,
            base_spend=het.p / traits.spend_rate,
            purchase_rate=traits.purchase_rate,
            spend_rate=traits.spend_rate,
            dropout=traits.dropout,
            churn_proneness=churn_proneness(traits, het),
            switching_cost=rng.exponential(market.switching_cost_mean, size=n)
            if market.switching_cost_mean > 0
            else np.zeros(n),
            weights=weights,
            deterred=np.zeros((n, n_firms), dtype=np.float32),
            last_care=np.where(active, -care_gap, NEVER).astype(np.int32),
            unresolved_complaint=np.zeros(n, dtype=bool),
            member=np.zeros(n, dtype=bool),
            referred=np.zeros(n, dtype=bool),
            promotion_won=np.zeros(n, dtype=bool),
            acquired_step=np.where(active, 0, NEVER).astype(np.int32),
            has_purchased=active.copy(),
            annual_revenue=np.zeros(n),
            revenue_with_firm=np.zeros(n),
            tier=np.full(n, -1, dtype=np.int8),
            upgrade_offered_step=np.full(n, NEVER, dtype=np.int32),
            upgraded_step=np.full(n, NEVER, dtype=np.int32),
        )

    def field_names(self) -> list[str]:
        """Names of the state arrays."""
        return [f.name for f in fields(self)]
