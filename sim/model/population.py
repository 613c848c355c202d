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
from sim.model.behaviour.levers import NOT_DUE
from sim.model.behaviour.satisfaction import likelihood_to_recommend
from sim.model.behaviour.spend import churn_proneness, draw_traits
from sim.model.behaviour.value import delivered_value, draw_value_weights

__all__ = ["NEVER", "NOT_DUE", "NO_FIRM", "CustomerPopulation"]

NO_FIRM = -1
NEVER = -(10**6)  # a step long before the start: "never cared for"
F32 = np.float32
"""Traits drawn once and per-person quantities only the customer phases read are stored
as float32 (issue 14): half the bytes that a pass or a dense gather over the population
moves. Their relative rounding, 6e-8, is far below any effect the model resolves; every
computation with them is carried out in float64."""


@dataclass(eq=False)
class CustomerPopulation:
    """Every person's state, one row each (firm index -1 = buys from no firm)."""

    firm: np.ndarray  # int16: current firm or -1
    former_firm: np.ndarray  # int16: last firm left, -1 if none
    aware: np.ndarray  # bool (n, F): knows the firm's offer
    satisfaction: np.ndarray  # float (0-1) with the current or last firm
    expectation: np.ndarray  # float32: expected delivered value of a purchase
    ltr: np.ndarray  # int8 0-10: likelihood to recommend (for NPS)
    ltr_bias: np.ndarray  # float32: personal offset on the 0-10 scale
    disposition: np.ndarray  # float32: personal log-odds offset of satisfaction
    in_detractor_episode: np.ndarray  # bool: has vented and not yet recovered
    tenure: np.ndarray  # int32: steps with the current firm
    base_spend: np.ndarray  # float32: mean units per purchase of a new customer (p / nu)
    purchase_rate: np.ndarray  # float32: purchases per year while a customer (lambda)
    spend_rate: np.ndarray  # float32: Gamma-Gamma nu (one purchase's units ~ Gamma(p, nu))
    dropout: np.ndarray  # float32: BG/NBD dropout propensity p
    churn_proneness: np.ndarray  # float32: multiplier of own churn hazards (mean 1)
    switching_cost: np.ndarray  # float32: utility a rival must beat
    weights: np.ndarray  # float32 (n, 8): weights of the parts of delivered value
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
    # Events drawn ahead (vectorized engine, issue 14): the next step at which a customer is
    # a churn candidate or buys, NEVER = to be drawn at the next phase, NOT_DUE = none ahead
    churn_due: np.ndarray  # int32: next step as a churn candidate
    churn_bound: np.ndarray  # float: the bound on the yearly hazard that churn_due was drawn at
    churn_floor: np.ndarray  # float32: the satisfaction that bound assumed (holds while above)
    purchase_due: np.ndarray  # int32: next step of a purchase candidate

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

        weights = draw_value_weights(n, market.weight_concentration, rng, F32)
        value = delivered_value(weights, offers)
        own_value = np.where(active, value[np.arange(n), np.maximum(firm, 0)], 0.0)

        disposition = rng.normal(0.0, market.satisfaction.disposition_sd, size=n).astype(F32)
        start = rng.beta(7.0, 3.0, size=n)
        satisfaction = 1.0 / (1.0 + np.exp(-(np.log(start / (1.0 - start)) + disposition)))
        ltr_bias = rng.normal(0.0, market.satisfaction.ltr_noise, size=n).astype(F32)
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
            expectation=own_value.astype(F32),
            ltr=ltr,
            ltr_bias=ltr_bias,
            disposition=disposition,
            in_detractor_episode=active & (ltr <= market.satisfaction.detractor_max_ltr),
            tenure=tenure,
            base_spend=(het.p / traits.spend_rate).astype(F32),
            purchase_rate=traits.purchase_rate.astype(F32),
            spend_rate=traits.spend_rate.astype(F32),
            dropout=traits.dropout.astype(F32),
            churn_proneness=churn_proneness(traits, het).astype(F32),
            switching_cost=(
                rng.exponential(market.switching_cost_mean, size=n)
                if market.switching_cost_mean > 0
                else np.zeros(n)
            ).astype(F32),
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
            churn_due=np.where(active, NEVER, NOT_DUE).astype(np.int32),
            churn_bound=np.zeros(n),
            churn_floor=np.zeros(n, dtype=np.float32),
            purchase_due=np.where(active, NEVER, NOT_DUE).astype(np.int32),
        )

    def field_names(self) -> list[str]:
        """Names of the state arrays."""
        return [f.name for f in fields(self)]
