"""Customers: state as numpy arrays, each customer still a Mesa agent.

:class:`CustomerPopulation` holds the state of every person in the market as a
struct of arrays (one row per person), which the vectorized engine updates in bulk.
:class:`Customer` is a ``mesa.Agent`` whose attributes read and write that person's
row, so Mesa's AgentSet and DataCollector work; its phase methods are the readable
per-customer reference used by the ``agent`` engine.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.model.behaviour.churn import (
    REASON_COMPETITOR,
    churn_hazards_per_year,
    draw_churn,
    switch_probability,
)
from sim.model.behaviour.satisfaction import (
    likelihood_to_recommend,
    transaction_satisfaction,
    update_toward,
)
from sim.model.behaviour.spend import draw_purchases, tenure_spend_multiplier
from sim.model.behaviour.value import choose_firm, delivered_value, draw_value_weights
from sim.model.behaviour.word_of_mouth import draw_tellings, pick_contacts, referral_converts

if TYPE_CHECKING:
    from sim.config.schema import Scenario
    from sim.model.market import MarketModel

__all__ = ["NO_FIRM", "Customer", "CustomerPopulation"]

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
    in_detractor_episode: np.ndarray  # bool: has vented and not yet recovered
    tenure: np.ndarray  # int32: steps with the current firm
    base_spend: np.ndarray  # float: units per purchase of a new customer
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

        satisfaction = rng.beta(7.0, 3.0, size=n)
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
        return cls(
            firm=firm,
            former_firm=np.full(n, NO_FIRM, dtype=np.int16),
            aware=aware,
            satisfaction=satisfaction,
            expectation=own_value.copy(),
            ltr=ltr,
            ltr_bias=ltr_bias,
            in_detractor_episode=active & (ltr <= market.satisfaction.detractor_max_ltr),
            tenure=tenure,
            base_spend=_base_spend(n, market.spend_sigma, rng),
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
        )

    def field_names(self) -> list[str]:
        """Names of the state arrays."""
        return [f.name for f in fields(self)]


def _base_spend(n: int, sigma: float, rng: np.random.Generator) -> np.ndarray:
    from sim.model.behaviour.spend import draw_base_spend

    return draw_base_spend(n, sigma, rng)


def _row_attribute(name: str, doc: str) -> property:
    """A property reading and writing this customer's row of a population array."""

    def get(self: Customer):
        value = getattr(self.model.population, name)[self.index]
        return value.item() if isinstance(value, np.generic) else value

    def set_(self: Customer, value) -> None:
        getattr(self.model.population, name)[self.index] = value

    return property(get, set_, doc=doc)


class Customer(mesa.Agent):
    """One person in the market: a view on row `index` of the population arrays.

    The phase methods (`stay_or_leave`, `buy`, `feel`, `talk`, `consider`) are the
    per-customer reference rules; the vectorized engine does the same in bulk.
    """

    firm = _row_attribute("firm", "Index of the firm the customer buys from, -1 for none.")
    satisfaction = _row_attribute("satisfaction", "Satisfaction with the current firm (0-1).")
    expectation = _row_attribute("expectation", "Expected delivered value of a purchase.")
    ltr = _row_attribute("ltr", "Likelihood to recommend, 0-10.")
    tenure = _row_attribute("tenure", "Steps with the current firm.")
    base_spend = _row_attribute("base_spend", "Units per purchase as a new customer.")
    switching_cost = _row_attribute("switching_cost", "Utility a rival's offer must beat.")
    last_care = _row_attribute("last_care", "Step of the last care contact.")
    member = _row_attribute("member", "In the current firm's loyalty program.")
    referred = _row_attribute("referred", "Won through a referral.")
    promotion_won = _row_attribute("promotion_won", "Won through a promotion.")
    acquired_step = _row_attribute("acquired_step", "Step the current firm won this customer.")
    unresolved_complaint = _row_attribute("unresolved_complaint", "Has an unresolved complaint.")
    in_detractor_episode = _row_attribute("in_detractor_episode", "Has vented, not recovered.")
    has_purchased = _row_attribute("has_purchased", "Bought from the current firm before.")

    def __init__(self, model: MarketModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    # -- read-only views -------------------------------------------------------------
    @property
    def weights(self) -> np.ndarray:
        """Weights of the parts of delivered value (benefits, then costs)."""
        return self.model.population.weights[self.index]

    @property
    def deterred(self) -> np.ndarray:
        """How deterred this person is from each firm (0-1)."""
        return self.model.population.deterred[self.index]

    @property
    def aware(self) -> np.ndarray:
        """Which firms this person knows."""
        return self.model.population.aware[self.index]

    @property
    def firm_name(self) -> str | None:
        """Name of the current firm, None for a non-customer."""
        return None if self.firm < 0 else self.model.firms[self.firm].name

    @property
    def is_customer(self) -> bool:
        """Buys from some firm."""
        return self.firm >= 0

    # -- the per-customer reference rules (engine="agent") ------------------------------
    def stay_or_leave(self) -> None:
        """Leave for one of the own reasons, or switch to a rival's better offer."""
        model, f = self.model, self.firm
        if f < 0:
            return
        firm = model.firms[f]
        hazards = churn_hazards_per_year(
            self.satisfaction,
            model.weeks_since(self.last_care),
            self.unresolved_complaint,
            firm.price_ratio,
            model.churn_modifier(self.member, self.referred, self.promotion_won),
            **model.churn_kwargs,
        )
        reason = int(draw_churn(hazards, model.steps_per_year, model.rng)[0])
        if reason >= 0:
            model.lose_customer(self.index, reason)
            return
        rates = model.poaching_rates.copy()
        rates[f] = 0.0
        total = rates.sum()
        if total <= 0 or model.rng.random() >= -np.expm1(-total / model.steps_per_year):
            return
        rival = int(model.rng.choice(rates.size, p=rates / total))
        self.aware[rival] = True
        values = delivered_value(self.weights, model.offers)
        p_switch = switch_probability(
            values[rival] - values[f],
            self.satisfaction,
            self.switching_cost + model.member_switching_cost * self.member,
            self.deterred[rival],
            **model.switch_kwargs,
        )
        if model.rng.random() < p_switch:
            model.lose_customer(self.index, REASON_COMPETITOR)
            model.win_customer(self.index, rival, "switched_in", values[rival])

    def buy(self) -> None:
        """Buy with the customer's frequency; book revenue; meet a service failure or not."""
        model, f = self.model, self.firm
        if f < 0:
            return
        firm = model.firms[f]
        levers = model.params.market.levers
        expected = model.purchases_per_step * (
            levers.member_frequency_multiplier if self.member else 1.0
        )
        bought, quantity = draw_purchases(np.array([expected]), model.rng)
        if not bought[0]:
            return
        units = (
            quantity[0]
            * self.base_spend
            * float(tenure_spend_multiplier(model.years(self.tenure), *model.spend_ramp))
            * (levers.member_basket_multiplier if self.member else 1.0)
        )
        model.book_sale(self.index, f, units, repeat=self.has_purchased)
        self.has_purchased = True
        failed = model.rng.random() < firm.p_failure
        complained = failed and model.rng.random() < model.params.market.complaints.p_complain
        suppliers = firm.supplier_failed
        supply_failed = (
            bool(suppliers[model.rng.integers(suppliers.size)]) if suppliers.size else False
        )
        model.purchase_log.append((self.index, failed, complained, supply_failed))

    def feel(self, failed: bool, complaint_outcome: int, supply_failed: bool = False) -> None:
        """Update satisfaction and expectation after a purchase (expectation-disconfirmation).

        complaint_outcome: 0 no complaint, 1 resolved, 2 not resolved.
        """
        model = self.model
        sat = model.params.market.satisfaction
        comp = model.params.market.complaints
        value = float(delivered_value(self.weights, model.offers[self.firm]))
        noise = model.rng.normal(0.0, sat.performance_noise) if sat.performance_noise > 0 else 0.0
        performance = (
            value
            + noise
            - comp.failure_penalty * failed
            - model.params.suppliers.failure_penalty * supply_failed
        )
        old = self.satisfaction
        felt = transaction_satisfaction(
            performance,
            self.expectation,
            sat.desired_value,
            sat.expectation_weight,
            sat.desire_weight,
            sat.baseline,
        )
        new = float(update_toward(old, felt, sat.learning_rate))
        if complaint_outcome == 1:
            new = min(old + comp.recovery_bonus, 1.0)
            self.unresolved_complaint = False
        elif complaint_outcome == 2:
            new = max(new - comp.unresolved_penalty, 0.0)
            self.unresolved_complaint = True
        self.satisfaction = new
        self.expectation = float(
            update_toward(self.expectation, performance, sat.expectation_learning_rate)
        )

    def update_ltr(self) -> None:
        """Refresh the 0-10 recommend score; open or close a detractor episode."""
        model = self.model
        if self.firm < 0:
            return
        ltr = int(likelihood_to_recommend(self.satisfaction, model.population.ltr_bias[self.index]))
        self.ltr = ltr
        sat = model.params.market.satisfaction
        if ltr <= sat.detractor_max_ltr and not self.in_detractor_episode:
            self.in_detractor_episode = True  # vents once, in talk()
            model.new_detractors.append(self.index)
        elif ltr >= sat.promoter_min_ltr:
            self.in_detractor_episode = False  # won back: a later relapse is a new episode

    def talk(self) -> None:
        """Promoters tell contacts about their firm; new detractors warn contacts off it."""
        model, f = self.model, self.firm
        if f < 0:
            return
        wom = model.params.market.word_of_mouth
        pop = model.population
        if self.ltr >= model.params.market.satisfaction.promoter_min_ltr:
            told = draw_tellings(np.array([self.index]), model.referrals_per_step, model.rng)
            for contact in pick_contacts(told, model.graph, model.weak_tie_share, model.rng):
                if pop.firm[contact] != f:
                    model.ledger.referrals[f] += 1
                    pop.aware[contact, f] = True
                    model.agent_inbox[contact].append(f)
        if self.index in model.venting:
            told = draw_tellings(np.array([self.index]), wom.peers_deterred_per_episode, model.rng)
            for contact in pick_contacts(told, model.graph, model.weak_tie_share, model.rng):
                model.ledger.peers_deterred[f] += 1
                pop.deterred[contact, f] = 1.0

    def consider(self) -> None:
        """Act on referrals; a non-customer also on ads, offers, visits or need."""
        model = self.model
        rng = model.rng
        wom = model.params.market.word_of_mouth
        for f in model.agent_inbox.get(self.index, ()):
            values = delivered_value(self.weights, model.offers)
            own = self.firm
            p_accept = 1.0
            if own >= 0:  # a rival's customer: the referred offer must beat switching cost
                p_accept = switch_probability(
                    values[f] - values[own],
                    self.satisfaction,
                    self.switching_cost
                    + model.member_switching_cost * self.member
                    - wom.referral_trust_utility,
                    0.0,
                    **model.switch_kwargs,
                )
            converts = referral_converts(self.deterred[f], wom.p_referral_conversion, rng)
            if converts and rng.random() < p_accept:
                model.ledger.referral_conversions[f] += 1
                if own >= 0:
                    model.lose_customer(self.index, REASON_COMPETITOR)
                model.win_customer(self.index, f, "referral", values[f])
                return
        if self.firm >= 0:
            return
        aware = self.aware
        n_firms = aware.size
        triggered = np.zeros(n_firms, dtype=bool)
        ad_consider = np.zeros(n_firms, dtype=bool)
        for f, firm in enumerate(model.firms):
            if rng.random() < firm.p_aware_ad:
                aware[f] = True
            if rng.random() < firm.p_consider_ad:
                aware[f] = True
                ad_consider[f] = True
        offered = model.promotion_offered[:, self.index] & (
            rng.random(n_firms) < model.params.market.levers.promotion_response
        )
        visited = model.visited[:, self.index]
        aware |= offered | visited
        triggered = ad_consider | offered | visited
        if not triggered.any() and (not aware.any() or rng.random() >= model.p_need):
            return
        values = delivered_value(self.weights, model.offers)
        utilities = model.choice_utilities(values, self.deterred, offered, visited, aware)
        choice = int(choose_firm(utilities, model.outside_utility, rng)[0])
        if choice >= 0:
            channel = (
                "sales_visit"
                if visited[choice]
                else "promotion"
                if offered[choice]
                else "advertising"
                if ad_consider[choice]
                else "organic"
            )
            model.win_customer(self.index, choice, channel, values[choice])
