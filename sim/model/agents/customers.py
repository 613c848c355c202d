"""Customers: each person a Mesa agent that is a view on a row of the population arrays.

:class:`sim.model.population.CustomerPopulation` holds the state of every person as a
struct of arrays, which the vectorized engine updates in bulk. :class:`Customer` is a
``mesa.Agent`` whose attributes read and write that person's row, so Mesa's AgentSet
and DataCollector work; its phase methods are the readable per-customer reference used
by the ``agent`` engine. A customer reads and changes the market through the
:class:`sim.model.state.MarketState` it is given, never through the model, and what a
phase produces for the engine (a purchase, a new detractor, referrals) is returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import mesa
import numpy as np

from sim.model.behaviour.churn import (
    REASON_COMPETITOR,
    churn_hazards_per_year,
    draw_churn,
    draw_lapses,
    switch_probability,
)
from sim.model.behaviour.levers import upgrade_multiplier
from sim.model.behaviour.satisfaction import (
    likelihood_to_recommend,
    transaction_satisfaction,
    update_toward,
)
from sim.model.behaviour.spend import draw_purchases, draw_units, tenure_spend_multiplier
from sim.model.behaviour.value import choose_firm, delivered_value
from sim.model.behaviour.word_of_mouth import (
    conversion_probability,
    draw_tellings,
    pick_contacts,
    pick_contacts_with_ties,
    referral_converts,
)
from sim.model.population import NO_FIRM, CustomerPopulation
from sim.model.state import MarketState

# NO_FIRM and CustomerPopulation are re-exported: they lived here before sim.model.population.
__all__ = ["NO_FIRM", "Customer", "CustomerPopulation", "Purchase"]


@dataclass(frozen=True, slots=True)
class Purchase:
    """One customer's purchase this step, as the per-agent engine collects it."""

    index: int
    failed: bool
    complained: bool
    supply_failed: bool
    lapses: bool = False  # leaves after this step's purchase (dropout = "after_purchase")


def _row_attribute(name: str, doc: str) -> property:
    """A property reading and writing this customer's row of a population array."""

    def get(self: Customer) -> Any:
        value = getattr(self.state.population, name)[self.index]
        return value.item() if isinstance(value, np.generic) else value

    def set_(self: Customer, value: Any) -> None:
        getattr(self.state.population, name)[self.index] = value

    return property(get, set_, doc=doc)


class Customer(mesa.Agent):
    """One person in the market: a view on row `index` of the population arrays.

    The phase methods (`stay_or_leave`, `buy`, `feel`, `update_ltr`, `talk`, `consider`)
    are the per-customer reference rules; the vectorized engine does the same in bulk.
    """

    firm = _row_attribute("firm", "Index of the firm the customer buys from, -1 for none.")
    satisfaction = _row_attribute("satisfaction", "Satisfaction with the current firm (0-1).")
    expectation = _row_attribute("expectation", "Expected delivered value of a purchase.")
    ltr = _row_attribute("ltr", "Likelihood to recommend, 0-10.")
    tenure = _row_attribute("tenure", "Steps with the current firm.")
    base_spend = _row_attribute("base_spend", "Mean units per purchase as a new customer.")
    purchase_rate = _row_attribute("purchase_rate", "Purchases per year while a customer.")
    spend_rate = _row_attribute("spend_rate", "Gamma-Gamma nu of this person's spend.")
    dropout = _row_attribute("dropout", "BG/NBD dropout propensity p.")
    churn_proneness = _row_attribute("churn_proneness", "Multiplier of own churn hazards.")
    switching_cost = _row_attribute("switching_cost", "Utility a rival's offer must beat.")
    last_care = _row_attribute("last_care", "Step of the last care contact.")
    member = _row_attribute("member", "In the current firm's loyalty program.")
    referred = _row_attribute("referred", "Won through a referral.")
    promotion_won = _row_attribute("promotion_won", "Won through a promotion.")
    acquired_step = _row_attribute("acquired_step", "Step the current firm won this customer.")
    unresolved_complaint = _row_attribute("unresolved_complaint", "Has an unresolved complaint.")
    in_detractor_episode = _row_attribute("in_detractor_episode", "Has vented, not recovered.")
    has_purchased = _row_attribute("has_purchased", "Bought from the current firm before.")
    upgraded_step = _row_attribute("upgraded_step", "Step of the last successful upgrade.")

    def __init__(self, model: mesa.Model, state: MarketState, index: int) -> None:
        super().__init__(model)
        self.state = state
        self.index = index

    # -- read-only views -------------------------------------------------------------
    @property
    def weights(self) -> np.ndarray:
        """Weights of the parts of delivered value (benefits, then costs)."""
        return self.state.population.weights[self.index]

    @property
    def deterred(self) -> np.ndarray:
        """How deterred this person is from each firm (0-1)."""
        return self.state.population.deterred[self.index]

    @property
    def aware(self) -> np.ndarray:
        """Which firms this person knows."""
        return self.state.population.aware[self.index]

    @property
    def firm_name(self) -> str | None:
        """Name of the current firm, None for a non-customer."""
        return None if self.firm < 0 else self.state.firm_names[self.firm]

    @property
    def is_customer(self) -> bool:
        """Buys from some firm."""
        return bool(self.firm >= 0)

    # -- the per-customer reference rules (engine="agent") ------------------------------
    def stay_or_leave(self) -> None:
        """Leave for one of the own reasons, or switch to a rival's better offer."""
        state, f = self.state, self.firm
        if f < 0:
            return
        rng = state.rng
        hazards = churn_hazards_per_year(
            self.satisfaction,
            state.weeks_since(self.last_care),
            self.unresolved_complaint,
            float(state.price_ratio[f]),
            state.churn_modifier(
                self.member, self.referred, self.promotion_won, self.churn_proneness
            ),
            **state.churn_kwargs,
        )
        reason = int(draw_churn(hazards, state.steps_per_year, rng)[0])
        if reason >= 0:
            state.lose_customer(self.index, reason)
            return
        rates = state.poaching_rates.copy()
        rates[f] = 0.0
        total = rates.sum()
        if total <= 0 or rng.random() >= -np.expm1(-total / state.steps_per_year):
            return
        rival = int(rng.choice(rates.size, p=rates / total))
        self.aware[rival] = True
        values = delivered_value(self.weights, state.offers)
        p_switch = switch_probability(
            values[rival] - values[f],
            self.satisfaction,
            self.switching_cost + state.member_switching_cost * self.member,
            self.deterred[rival],
            **state.switch_kwargs,
        )
        if rng.random() < p_switch:
            state.lose_customer(self.index, REASON_COMPETITOR)
            state.win_customer(self.index, rival, "switched_in", values[rival])

    def buy(self) -> Purchase | None:
        """Buy with the customer's frequency; book revenue; meet a service failure or not."""
        state, f = self.state, self.firm
        if f < 0:
            return None
        rng = state.rng
        market = state.scenario.market
        levers = market.levers
        expected = (
            self.purchase_rate
            / state.steps_per_year
            * (levers.member_frequency_multiplier if self.member else 1.0)
        )
        bought, quantity = draw_purchases(np.array([expected]), rng)
        if not bought[0]:
            return None
        drawn = draw_units(
            quantity[:1], np.array([self.spend_rate]), state.spend_shape, state.heterogeneous, rng
        )
        units = (
            float(drawn[0])
            * float(tenure_spend_multiplier(state.years(self.tenure), *state.spend_ramp))
            * (levers.member_basket_multiplier if self.member else 1.0)
            * float(
                upgrade_multiplier(
                    self.upgraded_step, self.acquired_step, levers.upgrade_spend_gain
                )
            )
        )
        repeat = bool(self.has_purchased)
        state.book_sale(self.index, f, units, repeat=repeat, member=self.member)
        self.has_purchased = True
        failed = bool(rng.random() < float(state.p_failure[f]))
        complained = failed and bool(rng.random() < market.complaints.p_complain)
        suppliers = state.supplier_failed[f]
        supply_failed = bool(suppliers[rng.integers(suppliers.size)]) if suppliers.size else False
        lapses = state.lapse_after_purchase and bool(
            draw_lapses(np.array([self.dropout]), np.array([repeat]), rng)[0]
        )
        return Purchase(self.index, failed, complained, supply_failed, lapses)

    def feel(self, failed: bool, complaint_outcome: int, supply_failed: bool = False) -> None:
        """Update satisfaction and expectation after a purchase (expectation-disconfirmation).

        complaint_outcome: 0 no complaint, 1 resolved, 2 not resolved.
        """
        state = self.state
        sat = state.scenario.market.satisfaction
        comp = state.scenario.market.complaints
        value = float(delivered_value(self.weights, state.offers[self.firm]))
        noise = state.rng.normal(0.0, sat.performance_noise) if sat.performance_noise > 0 else 0.0
        performance = (
            value
            + noise
            - comp.failure_penalty * failed
            - state.scenario.suppliers.failure_penalty * supply_failed
        )
        old = self.satisfaction
        felt = transaction_satisfaction(
            performance,
            self.expectation,
            sat.desired_value,
            sat.expectation_weight,
            sat.desire_weight,
            sat.baseline + float(state.population.disposition[self.index]),
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

    def update_ltr(self) -> bool:
        """Refresh the 0-10 recommend score; True when a detractor episode opens (to vent)."""
        state = self.state
        if self.firm < 0:
            return False
        ltr = int(likelihood_to_recommend(self.satisfaction, state.population.ltr_bias[self.index]))
        self.ltr = ltr
        sat = state.scenario.market.satisfaction
        if ltr <= sat.detractor_max_ltr and not self.in_detractor_episode:
            self.in_detractor_episode = True  # vents once, in talk()
            return True
        if ltr >= sat.promoter_min_ltr:
            self.in_detractor_episode = False  # won back: a later relapse is a new episode
        return False

    def talk(self, venting: bool) -> list[tuple[int, bool]]:
        """Promoters tell contacts about their firm; a new detractor (`venting`) warns contacts.

        Returns the contacts referred to this customer's firm, in the order told, each with
        whether it was reached through a weak tie.
        """
        state, f = self.state, self.firm
        if f < 0:
            return []
        rng, pop = state.rng, state.population
        market = state.scenario.market
        referred: list[tuple[int, bool]] = []
        if self.ltr >= market.satisfaction.promoter_min_ltr:
            told = draw_tellings(np.array([self.index]), state.referrals_per_step, rng)
            contacts, weak = pick_contacts_with_ties(told, state.graph, state.weak_tie_share, rng)
            for contact, is_weak in zip(contacts.tolist(), weak.tolist(), strict=True):
                if pop.firm[contact] != f:
                    state.ledger.referrals[f] += 1
                    pop.aware[contact, f] = True
                    referred.append((int(contact), bool(is_weak)))
        if venting:
            told = draw_tellings(
                np.array([self.index]), market.word_of_mouth.peers_deterred_per_episode, rng
            )
            for contact in pick_contacts(told, state.graph, state.weak_tie_share, rng):
                state.ledger.peers_deterred[f] += 1
                pop.deterred[contact, f] = 1.0
        return referred

    def consider(
        self,
        referrals: Sequence[tuple[int, bool]],
        offered_by: np.ndarray,
        visited_by: np.ndarray,
    ) -> None:
        """Act on referrals; a non-customer also on ads, offers, visits or need.

        `referrals` are the firms referred to this person this step, in the order told,
        each with whether the teller is a weak tie;
        `offered_by` and `visited_by` mark the firms that sent a promotion and a sales visit.
        """
        state = self.state
        rng = state.rng
        wom = state.scenario.market.word_of_mouth
        for f, weak in referrals:
            values = delivered_value(self.weights, state.offers)
            own = self.firm
            p_accept = 1.0
            if own >= 0:  # a rival's customer: the referred offer must beat switching cost
                p_accept = float(
                    switch_probability(
                        values[f] - values[own],
                        self.satisfaction,
                        self.switching_cost
                        + state.member_switching_cost * self.member
                        - wom.referral_trust_utility,
                        0.0,
                        **state.switch_kwargs,
                    )
                )
            p_convert = conversion_probability(
                weak, wom.p_referral_conversion, wom.weak_tie_conversion_ratio
            )
            converts = referral_converts(self.deterred[f], p_convert, rng)
            if converts and rng.random() < p_accept:
                state.ledger.referral_conversions[f] += 1
                if own >= 0:
                    state.lose_customer(self.index, REASON_COMPETITOR)
                state.win_customer(self.index, f, "referral", values[f])
                return
        if self.firm >= 0:
            return
        aware = self.aware
        n_firms = aware.size
        ad_consider = np.zeros(n_firms, dtype=bool)
        for f in range(n_firms):
            if rng.random() < state.p_aware_ad[f]:
                aware[f] = True
            if rng.random() < state.p_consider_ad[f]:
                aware[f] = True
                ad_consider[f] = True
        offered = offered_by & (
            rng.random(n_firms) < state.scenario.market.levers.promotion_response
        )
        visited = visited_by
        aware |= offered | visited
        triggered = ad_consider | offered | visited
        if not triggered.any() and (not aware.any() or rng.random() >= state.p_need):
            return
        values = delivered_value(self.weights, state.offers)
        utilities = state.choice_utilities(values, self.deterred, offered, visited, aware)
        choice = int(choose_firm(utilities, state.outside_utility, rng)[0])
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
            state.win_customer(self.index, choice, channel, values[choice])
