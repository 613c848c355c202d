"""The vectorized engine: every customer phase as a few numpy operations over arrays.

Each phase applies the same behaviour rules as the per-customer reference
(:class:`sim.state.agents.customers.Customer`) to all customers at once. It works on
the :class:`sim.state.state.MarketState` alone: no Customer agent is needed, so none
is created.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.model.behaviour.churn import (
    REASON_COMPETITOR,
    REASON_LAPSED,
    draw_lapses,
    switch_probability,
)
from sim.model.behaviour.levers import bernoulli_successes
from sim.model.behaviour.spend import (
    draw_units,
)
from sim.model.behaviour.value import delivered_value
from sim.model.kernels import kernel_backend, single_threaded_blas, sorted_unique
from sim.model.kernels.choice import CHANNELS, choose, mark_aware, non_customers
from sim.model.kernels.churn import draw_candidates, schedule_churn
from sim.model.kernels.events import churn_due_scan, due_now, due_scan, set_event_steps
from sim.model.kernels.purchases import (
    bound_rates,
    draw_purchases,
    service_failures,
    spend_units,
)
from sim.model.kernels.recommend import feel_purchases, refresh_after_feel
from sim.model.kernels.word_of_mouth import deter, intend, refer, spread
from sim.model.population import NEVER, NOT_DUE
from sim.model.state import MarketState

__all__ = ["CHURN_FLOOR_MARGIN", "VectorizedEngine"]

CHURN_FLOOR_MARGIN = 0.05
"""How far below a customer's satisfaction the churn bound is drawn: a wider margin means
fewer draws again after a fall of satisfaction, a looser bound more candidates (issue 14)."""


class VectorizedEngine:
    """Customer phases over whole arrays (the default engine)."""

    name = "vectorized"

    def __init__(self, state: MarketState, kernels: str | None = None) -> None:
        self.state = state
        # numpy or numba for the fused passes (sim.model.kernels); same results
        self.kernels = kernels or kernel_backend(state.population.n)
        # what one phase leaves for a later phase of the same step
        self._referral_contacts = np.empty(0, dtype=np.int64)
        self._referral_firms = np.empty(0, dtype=np.intp)
        self._referral_weak = np.empty(0, dtype=bool)
        self._new_detractors = np.empty(0, dtype=np.intp)
        self._promoters = np.empty(0, dtype=np.intp)
        self._lapsing = np.empty(0, dtype=np.intp)  # buyers who lapse after this step's purchase
        # churn candidates are drawn at a hazard bound that assumes prices at most this
        # times the reference (raised, and everybody drawn again, when a price exceeds it)
        self._price_ratio_cap = 1.0
        lev = state.scenario.market.levers
        self._frequency_bound = max(1.0, lev.member_frequency_multiplier)
        self._drawn_ahead = False  # set at the first stay_or_leave
        self._bound_rates: np.ndarray | None = None  # set at the first buy

    def stay_or_leave(self) -> None:
        """Own churn with a reason, then switching to rivals' offers (poaching).

        Only the churn candidates of this step are looked at (thinning, issue 14): each
        customer's next candidate step is drawn ahead at an upper bound of their hazard
        (:func:`hazard_bound_per_year`), and a candidate leaves with the ratio of the
        step's leaving chances at the hazard and at the bound (:func:`draw_churn_thinned`),
        which keeps each customer's chance of leaving this step 1 - exp(-hazard / steps
        per year). The bound holds while satisfaction does not fall, no complaint is left
        unresolved and no price rises above the cap, so a customer is drawn again when one
        of those happens: a purchase that lowered satisfaction (:meth:`feel`), a care
        contact (it may lower satisfaction), a price above the cap (everybody).
        """
        state, pop, rng = self.state, self.state.population, self.state.rng
        step = state.step
        if not self._drawn_ahead:
            # The waits are drawn from the population as the first step finds it, so a
            # market set up by hand after construction (the calibration hold-out sets
            # who is a customer) starts right: every customer drawn now, nobody else due.
            first = np.where(pop.firm >= 0, NEVER, NOT_DUE)
            pop.churn_due[:] = first
            pop.purchase_due[:] = first
            self._drawn_ahead = True
        if state.price_ratio.size and state.price_ratio.max() > self._price_ratio_cap:
            excess = max(float(state.price_ratio.max()) - 1.0, 0.0)
            self._price_ratio_cap = 1.0 + 2.0 * excess  # headroom: rarely drawn again
            pop.churn_due[pop.firm >= 0] = NEVER
        # this step's cared-for customers are drawn again, all of them: keeping the waits
        # of those whose satisfaction stayed above the floor halved the measured effect of
        # key-account care on top-tier churn (tests/validation/test_market_levers.py), for
        # a reason not found; drawing again is exact whatever the reason (memoryless waits)
        due, stale = churn_due_scan(
            self.kernels, pop.churn_due, pop.last_care, pop.firm, step, NEVER
        )
        self._schedule_churn(stale, step)  # some of them come due now
        candidates = due_now(self.kernels, due, pop.churn_due, step)
        if candidates.size:
            leaving, reasons, staying = draw_candidates(
                self.kernels,
                pop,
                candidates,
                step,
                price_ratio=state.price_ratio,
                steps_per_year=state.steps_per_year,
                churn_kwargs=state.churn_kwargs,
                modifier_kwargs=state.modifier_kwargs,
                rng=rng,
            )
            state.lose_customers(leaving, reasons)
            self._schedule_churn(staying, step + 1)
        self._poach()

    def _schedule_churn(self, idx: np.ndarray, first: int) -> None:
        """Draw customers `idx`'s next churn candidate step from step `first` on.

        The bound assumes satisfaction a margin lower than now, so that it still holds
        after most small falls (drawn again only below the floor).
        """
        state = self.state
        schedule_churn(
            self.kernels,
            state.population,
            idx,
            first,
            margin=CHURN_FLOOR_MARGIN,
            price_ratio_cap=self._price_ratio_cap,
            steps_per_year=state.steps_per_year,
            churn_kwargs=state.churn_kwargs,
            modifier_kwargs=state.modifier_kwargs,
            rng=state.rng,
        )

    def _poach(self) -> None:
        """Rivals' offers reach customers; some switch.

        A customer of firm f hears an offer this step with p_f = 1 - exp(-(rivals' poaching
        rates) / steps per year). Drawn by thinning: the positions of successes at the
        largest p_f among all people (`bernoulli_successes`), kept for the customers of f
        with probability p_f / max p (issue 14; the same law as one uniform per customer).
        """
        state, pop, rng = self.state, self.state.population, self.state.rng
        rates = state.poaching_rates
        if state.n_firms < 2 or rates.sum() <= 0:
            return
        # the chance of a rival's offer depends on one's firm only: once per firm
        p_offer = -np.expm1(-(rates.sum() - rates) / state.steps_per_year)
        p_max = float(p_offer.max())
        who = np.sort(bernoulli_successes(pop.n, p_max, rng))
        who = who[pop.firm[who] >= 0]  # customers (those who left this step are not)
        own = pop.firm[who].astype(np.intp)
        hit = rng.random(who.size) * p_max < p_offer[own]
        who, own = who[hit], own[hit]
        if who.size == 0:
            return
        # a rival other than one's own firm, in proportion to its poaching rate
        weights = np.tile(rates, (who.size, 1))
        weights[np.arange(who.size), own] = 0.0
        cum = np.cumsum(weights, axis=1)
        u = rng.random(who.size) * cum[:, -1]
        rival = (u[:, None] >= cum).sum(axis=1).clip(max=state.n_firms - 1)
        pop.aware[who, rival] = True
        with single_threaded_blas():
            values = delivered_value(np.take(pop.weights, who, axis=0), state.offers)
        rows = np.arange(who.size)
        p_switch = switch_probability(
            values[rows, rival] - values[rows, own],
            pop.satisfaction[who],
            pop.switching_cost[who] + state.member_switching_cost * pop.member[who],
            pop.deterred[who, rival],
            **state.switch_kwargs,
        )
        switch = rng.random(who.size) < p_switch
        state.lose_customers(who[switch], np.full(int(switch.sum()), REASON_COMPETITOR))
        state.win_customers(who[switch], rival[switch], "switched_in", values[rows, rival][switch])

    def buy(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Purchases, revenue, service failures and complaints of this step.

        Only this step's purchase candidates are looked at (issue 14): each customer's next
        candidate step is drawn ahead (geometric waits, :func:`next_event_steps`) at the
        chance min(1, rate / steps per year * max(1, member multiplier)), which depends on
        the person alone; a candidate buys with the ratio of their chance now to it
        (:func:`draw_purchases_thinned`), so the chance of buying this step is as before.
        """
        state, pop, rng = self.state, self.state.population, self.state.rng
        lev = state.scenario.market.levers
        step = state.step
        due, stale = due_scan(self.kernels, pop.purchase_due, step)
        self._schedule_purchases(stale, step)  # some of them come due now
        candidates = due_now(self.kernels, due, pop.purchase_due, step)
        rates = self._purchase_rates()
        # draw_purchases_thinned's uniforms, then next_event_steps' exponentials
        u = rng.random(candidates.size)
        waits = rng.standard_exponential(candidates.size)
        buyers, quantity, firm, member, repeat, spend_rate = draw_purchases(
            self.kernels,
            candidates,
            u,
            waits,
            pop,
            rates,
            step + 1,
            steps_per_year=state.steps_per_year,
            frequency_bound=self._frequency_bound,
            member_multiplier=lev.member_frequency_multiplier,
        )
        drawn = draw_units(quantity, spend_rate, state.spend_shape, state.heterogeneous, rng)
        units = spend_units(
            self.kernels,
            buyers,
            drawn,
            pop,
            steps_per_year=state.steps_per_year,
            tenure_gain=state.spend_ramp[0],
            ramp_years=state.spend_ramp[1],
            basket_multiplier=lev.member_basket_multiplier,
            upgrade_gain=lev.upgrade_spend_gain,
        )
        state.book_sales(buyers, firm, units, repeat, member)
        # Each purchase draws on one of its own firm's suppliers; a failed delivery spoils it.
        u_failure = rng.random(buyers.size)
        u_complaint = rng.random(buyers.size)
        u_supply = rng.random(buyers.size)
        failed, complained, supply_failed = service_failures(
            self.kernels,
            firm,
            state.p_failure,
            state.scenario.market.complaints.p_complain,
            u_failure,
            u_complaint,
            u_supply,
            state.supplier_failed,
        )
        if state.lapse_after_purchase:  # they leave at consider(), once it is felt and told
            self._lapsing = buyers[draw_lapses(pop.dropout[buyers], repeat, rng)]
        return buyers, failed, complained, supply_failed

    def _schedule_purchases(self, idx: np.ndarray, first: int) -> None:
        """Draw customers `idx`'s next purchase candidate step from step `first` on."""
        if idx.size == 0:
            return
        waits = self.state.rng.standard_exponential(idx.size)
        set_event_steps(
            self.kernels,
            self.state.population.purchase_due,
            idx,
            waits,
            self._purchase_rates(),
            first,
            per_person=True,
        )

    def _purchase_rates(self) -> np.ndarray:
        """Each person's geometric rate of purchase candidates (:func:`bound_rates`).

        Taken at the first purchase phase, when the traits are final (the calibration
        hold-out sets purchase rates after construction), and kept: a trait drawn once.
        """
        if self._bound_rates is None:
            state = self.state
            self._bound_rates = bound_rates(
                state.population.purchase_rate, state.steps_per_year, self._frequency_bound
            )
        return self._bound_rates

    def feel(
        self, buyers: np.ndarray, failed: np.ndarray, outcome: np.ndarray, supply_failed: np.ndarray
    ) -> None:
        """Expectation-disconfirmation for buyers; recommend scores for all customers."""
        state, pop, rng = self.state, self.state.population, self.state.rng
        sat = state.scenario.market.satisfaction
        comp = state.scenario.market.complaints
        noise = (
            rng.normal(0.0, sat.performance_noise, buyers.size)
            if sat.performance_noise > 0
            else np.zeros(buyers.size)
        )
        feel_purchases(
            self.kernels,
            buyers,
            failed,
            outcome,
            supply_failed,
            noise,
            {
                "firm": pop.firm,
                "weights": pop.weights,
                "satisfaction": pop.satisfaction,
                "expectation": pop.expectation,
                "disposition": pop.disposition,
                "unresolved_complaint": pop.unresolved_complaint,
                "churn_floor": pop.churn_floor,
                "churn_due": pop.churn_due,
            },
            state.offers,
            (
                comp.failure_penalty,
                state.scenario.suppliers.failure_penalty,
                sat.baseline,
                sat.desired_value,
                sat.expectation_weight,
                sat.desire_weight,
                sat.learning_rate,
                sat.expectation_learning_rate,
                comp.recovery_bonus,
                comp.unresolved_penalty,
                NEVER,  # where their churn bound no longer holds: drawn again
            ),
        )
        # Scores change only where satisfaction did: this step's buyers and cared-for
        # customers, and customers won since the last refresh (their episode may open).
        # An episode closes only when the customer is won back to promoter (see
        # refresh_recommendations). Promoters are kept for talk().
        newly, self._promoters = refresh_after_feel(
            state.step,
            buyers,
            pop.last_care,
            pop.acquired_step,
            pop.firm,
            pop.satisfaction,
            pop.ltr_bias,
            pop.ltr,
            pop.in_detractor_episode,
            sat.detractor_max_ltr,
            sat.promoter_min_ltr,
        )
        self._new_detractors = newly
        state.ledger.detractor_episodes += np.bincount(
            pop.firm[newly].astype(np.intp), minlength=state.n_firms
        )

    def talk(self) -> None:
        """Promoters refer contacts to their firm; new detractors deter contacts from it."""
        state, pop, rng = self.state, self.state.population, self.state.rng
        wom = state.scenario.market.word_of_mouth
        speakers, contacts, weak = spread(
            self.kernels,
            self._promoters,
            state.referrals_per_step,
            state.graph,
            state.weak_tie_share,
            rng,
        )
        contacts, firm, weak, referrals = refer(
            self.kernels, speakers, contacts, weak, pop.firm, pop.aware, state.n_firms
        )
        state.ledger.referrals += referrals
        self._referral_contacts, self._referral_firms = contacts, firm
        self._referral_weak = weak

        venters, deterred, _ = spread(
            self.kernels,
            self._new_detractors,
            wom.peers_deterred_per_episode,
            state.graph,
            state.weak_tie_share,
            rng,
        )
        state.ledger.peers_deterred += deter(
            self.kernels, venters, deterred, pop.firm, pop.deterred, state.n_firms
        )

    def consider(
        self, promotion_targets: Sequence[np.ndarray], visit_targets: Sequence[np.ndarray]
    ) -> None:
        """Non-customers act on referrals, ads, offers, visits and need, and choose.

        `promotion_targets` and `visit_targets` hold, per firm, the people it sent a
        promotion or a sales visit this step.
        """
        state, pop, rng = self.state, self.state.population, self.state.rng
        if self._lapsing.size:
            state.lose_customers(self._lapsing, np.full(self._lapsing.size, REASON_LAPSED))
            self._lapsing = np.empty(0, dtype=np.intp)
        wom = state.scenario.market.word_of_mouth
        # Referral conversions: a told person may convert (a rival's customer only if the
        # referred firm's offer also beats their switching cost); first success wins.
        # The conversion intention is drawn first and the offer's value weighed only for
        # those who intend to convert (issue 14: independent draws, the same law as
        # weighing every told person's offer first).
        contacts, firms = intend(
            self.kernels,
            self._referral_contacts,
            self._referral_firms,
            self._referral_weak,
            pop.deterred,
            wom.p_referral_conversion,
            wom.weak_tie_conversion_ratio,
            rng,
        )
        values = np.einsum(
            "ij,ij->i",
            np.take(pop.weights, contacts, axis=0),
            np.take(state.offers, firms, axis=0),
        )
        own = pop.firm[contacts].astype(np.intp)
        p_accept = np.ones(contacts.size)
        rows = np.flatnonzero(own >= 0)
        c = contacts[rows]
        own_value = np.einsum(
            "ij,ij->i", np.take(pop.weights, c, axis=0), np.take(state.offers, own[rows], axis=0)
        )
        p_accept[rows] = switch_probability(
            values[rows] - own_value,
            pop.satisfaction[c],
            pop.switching_cost[c]
            + state.member_switching_cost * pop.member[c]
            - wom.referral_trust_utility,
            0.0,
            **state.switch_kwargs,
        )
        ok = rng.random(contacts.size) < p_accept
        contacts, firms, values = contacts[ok], firms[ok], values[ok]
        if contacts.size:
            order = rng.permutation(contacts.size)
            first = np.unique(contacts[order], return_index=True)[1]
            pick = order[first]
            contacts, firms, values = contacts[pick], firms[pick], values[pick]
            state.ledger.referral_conversions += np.bincount(firms, minlength=state.n_firms)
            switching = pop.firm[contacts] >= 0
            state.lose_customers(
                contacts[switching], np.full(int(switching.sum()), REASON_COMPETITOR)
            )
            state.win_customers(contacts, firms, "referral", values)

        self._choose(non_customers(self.kernels, pop.firm), promotion_targets, visit_targets)

    def _choose(
        self,
        people: np.ndarray,
        promotion_targets: Sequence[np.ndarray],
        visit_targets: Sequence[np.ndarray],
    ) -> None:
        """Non-customers `people` act on ads, offers, visits and need, and may choose a firm.

        Per firm, a person becomes aware through an ad with probability p_aware_ad and
        considers buying with p_consider_ad; a promotion offer makes its receiver consider
        with promotion_response; a sales visit always does; an aware person also considers
        with p_need. These events are rare at scale, so they are drawn as the positions of
        the successes (`bernoulli_successes`, the same distribution as one uniform draw per
        person and firm) and only the few considering people are gathered.
        """
        state, pop, rng = self.state, self.state.population, self.state.rng
        n_firms, m = state.n_firms, people.size
        response = state.scenario.market.levers.promotion_response
        ads: list[np.ndarray] = []
        offers: list[np.ndarray] = []
        visits: list[np.ndarray] = []
        for f in range(n_firms):
            told = people[bernoulli_successes(m, float(state.p_aware_ad[f]), rng)]
            mark_aware(self.kernels, pop.aware, told, f)
            ad = people[bernoulli_successes(m, float(state.p_consider_ad[f]), rng)]
            sent = promotion_targets[f]
            sent = sent[pop.firm[sent] < 0]  # some took up a referral this step
            took = sent[rng.random(sent.size) < response]
            seen = visit_targets[f]
            seen = seen[pop.firm[seen] < 0]
            for events, who in ((ads, ad), (offers, took), (visits, seen)):
                mark_aware(self.kernels, pop.aware, who, f)
                events.append(who)
        need = people[bernoulli_successes(m, state.p_need, rng)]
        need = need[pop.aware[need].any(axis=1)]  # only aware people consider on their own
        who = sorted_unique(np.concatenate([*ads, *offers, *visits, need]))
        if who.size == 0:
            return
        with single_threaded_blas():
            values = delivered_value(np.take(pop.weights, who, axis=0), state.offers)
        choice, channel = choose(
            self.kernels,
            who,
            (ads, offers, visits),
            values,
            pop.aware,
            pop.deterred,
            state.choice_sensitivities,
            state.outside_utility,
            rng,
        )
        for code, name in enumerate(CHANNELS):
            pick = np.flatnonzero(channel == code)
            state.win_customers(who[pick], choice[pick], name, values[pick, choice[pick]])
