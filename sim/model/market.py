"""MarketModel: the wiring of agents, the social graph and the order of a step.

A step (one period) runs in this order, for both engines:

1. firms plan: each splits its budget over the levers and sets its offer;
2. firms care for customers (care contacts, loyalty enrolment);
3. customers stay, leave (with a reason) or switch to a rival's better offer;
4. customers buy, meet service failures and complain; firms handle complaints;
5. customers update satisfaction (expectation-disconfirmation) and their 0-10 score;
6. promoters refer contacts, newly dissatisfied customers deter contacts;
7. firms send promotions and sales visits; non-customers act on referrals, ads,
   offers, visits and need, and choose among firms by delivered value;
8. firms book revenue, costs and profit; competitors react; measures are recorded.

The model does no file I/O and no plotting.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import mesa
import numpy as np
import pandas as pd

from sim.config.presets import get_policy
from sim.config.schema import Policy, Scenario
from sim.model.agents.customers import NO_FIRM, Customer, CustomerPopulation
from sim.model.agents.firms import Competitor, Firm, firm_offers
from sim.model.behaviour.churn import CHURN_REASONS, REASON_COMPETITOR
from sim.model.behaviour.levers import care_effect, select_longest_waiting, select_random
from sim.model.behaviour.satisfaction import likelihood_to_recommend
from sim.model.behaviour.spend import tenure_spend_multiplier
from sim.model.behaviour.word_of_mouth import decay_per_step
from sim.model.calibration import calibration_table
from sim.model.engines import make_engine
from sim.model.metrics import (
    ACQUISITION_CHANNELS,
    CohortValue,
    Ledger,
    assign_active_tiers,
    customers_by_firm,
    pyramid_counts,
    state_measures,
    tier_moves,
)
from sim.model.network import SocialGraph, build_graph

__all__ = ["MarketModel"]

NEW_CUSTOMER_SATISFACTION = 0.7


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while creating many long-lived objects.

    Creating a million Customer agents otherwise triggers collections that rescan the
    growing set of agents again and again (about a quarter of the creation time); none
    of them is garbage. The collector's previous state is restored afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class MarketModel(mesa.Model):
    """A market of customers on a social graph, a focal firm and its competitors.

    Args:
        scenario: the validated scenario (defaults to ``Scenario.default()``).
        policy: the focal firm's policy, a preset name or a Policy.
        seed: seed of the model's only random generator (defaults to the scenario's).
        engine: "vectorized" (default) or "agent" (the per-customer reference).
        graph: an already built social graph to reuse (common random numbers across
            policies); by default one is built from the scenario with the model's rng.
    """

    def __init__(
        self,
        scenario: Scenario | None = None,
        policy: str | Policy = "balanced",
        seed: int | None = None,
        engine: Literal["vectorized", "agent"] | None = None,
        graph: SocialGraph | None = None,
    ) -> None:
        scenario = Scenario.default() if scenario is None else scenario
        seed = scenario.simulation.seed if seed is None else seed
        super().__init__(rng=np.random.default_rng(seed))
        self.seed = seed
        self.params = scenario
        self.policy = get_policy(policy)
        self.engine_name = engine or scenario.simulation.engine
        market = scenario.market
        self.steps_per_year = scenario.simulation.steps_per_year
        self.discount_factor = 1.0 / (1.0 + market.discount_rate_per_year) ** (
            1.0 / self.steps_per_year
        )

        # Separate, seeded streams so that the graph and the initial market are the same
        # for every policy run with this seed (common random numbers).
        graph_rng, population_rng, self.rng = (
            np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3)
        )
        net = scenario.network
        self.graph = graph or build_graph(
            net.kind,
            market.n_customers,
            graph_rng,
            mean_degree=net.mean_degree,
            rewire_p=net.rewire_p,
            path=net.path,
        )
        if self.graph.n != market.n_customers:
            raise ValueError(
                f"the social graph has {self.graph.n} nodes but market.n_customers is "
                f"{market.n_customers}"
            )

        self.firms: list[Firm] = [Firm(self, scenario.firm, self.policy, 0)]
        self.firms += [Competitor(self, c, k + 1) for k, c in enumerate(scenario.competitors)]
        self.firm_names = tuple(f.name for f in self.firms)
        self.n_firms = len(self.firms)
        for firm in self.firms:
            firm.equip(population_rng)
            firm.update_offer(n_customers=0)
        self.offers = firm_offers(self.firms)
        self.population = CustomerPopulation.create(scenario, self.offers, population_rng)
        self._initial_revenue()
        with _cyclic_gc_paused():
            for i in range(market.n_customers):
                Customer(self, i)
        self.customers = self.agents_by_type[Customer] if market.n_customers else None
        self._derive_constants()
        self.cohorts = CohortValue(
            self.n_firms, self.discount_factor, capacity=scenario.simulation.steps + 1
        )
        counts = np.bincount(
            self.population.firm[self.population.firm >= 0], minlength=self.n_firms
        )
        self.cohorts.add_members(self.population.firm[self.population.firm >= 0].astype(np.intp), 0)
        for firm, n in zip(self.firms, counts, strict=True):
            firm.n_customers = int(n)
        self.ledger = Ledger(self.n_firms)
        self.records: list[dict[str, np.ndarray]] = []
        # this step's promotion receivers and sales-visit targets, one array per firm
        self.promotion_targets: list[np.ndarray] = []
        self.visit_targets: list[np.ndarray] = []
        n = market.n_customers
        self.promotion_offered = np.zeros((self.n_firms, n), dtype=bool)
        self.visited = np.zeros((self.n_firms, n), dtype=bool)
        self.engine = make_engine(self.engine_name, self)

    def _initial_revenue(self) -> None:
        """Revenue history of the initial customers, at their current spend rate."""
        pop = self.population
        active = np.flatnonzero(pop.firm >= 0)
        prices = np.array([f.price for f in self.firms])
        m = self.params.market
        yearly = (
            pop.base_spend[active]
            * tenure_spend_multiplier(
                pop.tenure[active] / self.steps_per_year,
                m.loyal_spend_multiplier,
                m.spend_ramp_years,
            )
            * m.purchases_per_year
            * prices[pop.firm[active]]
        )
        pop.annual_revenue[active] = yearly
        pop.revenue_with_firm[active] = yearly * pop.tenure[active] / self.steps_per_year

    # -- constants derived once from the scenario ----------------------------------------
    def _derive_constants(self) -> None:
        m = self.params.market
        spy = self.steps_per_year
        self.purchases_per_step = m.purchases_per_year / spy
        self.referrals_per_step = m.word_of_mouth.referrals_per_year / spy
        self.weak_tie_share = self.params.network.weak_tie_share
        self.p_need = float(-np.expm1(-m.need_per_year / spy))
        self.outside_utility = m.outside_option_utility
        self.member_switching_cost = m.levers.member_switching_cost
        self.spend_ramp = (m.loyal_spend_multiplier, m.spend_ramp_years)
        self.deterrence_decay = decay_per_step(m.word_of_mouth.deterrence_half_life_weeks, spy)
        c = m.churn
        self.churn_kwargs = {
            "neglect_per_year": c.neglect_per_year,
            "neglect_weeks": c.neglect_weeks,
            "neglect_satisfaction_exponent": c.neglect_satisfaction_exponent,
            "unresolved_per_year": c.unresolved_complaint_per_year,
            "dissatisfaction_per_year": c.dissatisfaction_per_year,
            "satisfaction_convexity": c.satisfaction_convexity,
            "price_per_year": c.price_per_year,
            "base_per_year": c.base_per_year,
        }
        self.switch_kwargs = {
            "value_sensitivity": m.value_sensitivity,
            "satisfaction_stickiness": m.satisfaction_stickiness,
            "deterrence_utility": m.word_of_mouth.deterrence_utility,
        }

    # -- small conversions shared by both engines ----------------------------------------
    def weeks_since(self, step: np.ndarray | int) -> np.ndarray | float:
        """Weeks between `step` and now."""
        return (self.steps - np.asarray(step)) * (52.0 / self.steps_per_year)

    def years(self, steps: np.ndarray | int) -> np.ndarray | float:
        """Convert a number of steps to years."""
        return np.asarray(steps) / self.steps_per_year

    def churn_modifier(self, member, referred, promotion_won) -> np.ndarray:
        """Multiplier of every churn hazard for members, referred and promotion-won customers."""
        m = self.params.market
        return (
            (1.0 - m.churn.member_churn_reduction * np.asarray(member))
            * np.where(referred, m.word_of_mouth.referred_churn_multiplier, 1.0)
            * np.where(promotion_won, m.churn.promotion_churn_multiplier, 1.0)
        )

    def choice_utilities(
        self,
        values: np.ndarray,
        deterred: np.ndarray,
        offered: np.ndarray,
        visited: np.ndarray,
        aware: np.ndarray,
    ) -> np.ndarray:
        """Logit utilities of the firms a person knows (-inf for the others)."""
        m = self.params.market
        u = (
            m.value_sensitivity * values
            - m.word_of_mouth.deterrence_utility * deterred
            + m.levers.promotion_utility * offered
            + m.levers.sales_visit_utility * visited
        )
        return np.where(aware, u, -np.inf)

    # -- state transitions shared by both engines ----------------------------------------
    def lose_customers(self, idx: np.ndarray, reasons: np.ndarray) -> None:
        """Customers `idx` leave their firm, each for the given reason index."""
        pop = self.population
        idx = np.asarray(idx, dtype=np.intp)
        firms = pop.firm[idx].astype(np.intp)
        flat = np.bincount(
            np.asarray(reasons, dtype=np.intp) * self.n_firms + firms,
            minlength=len(CHURN_REASONS) * self.n_firms,
        ).reshape(len(CHURN_REASONS), self.n_firms)
        for r, reason in enumerate(CHURN_REASONS):
            self.ledger.churn[reason] += flat[r]
        valuable = pop.tier[idx] <= 1
        self.ledger.churned_top_tiers += np.bincount(
            firms[valuable & (pop.tier[idx] >= 0)], minlength=self.n_firms
        )
        pop.former_firm[idx] = firms
        pop.firm[idx] = NO_FIRM
        pop.member[idx] = False
        pop.unresolved_complaint[idx] = False
        pop.in_detractor_episode[idx] = False
        pop.tenure[idx] = 0
        pop.revenue_with_firm[idx] = 0.0
        pop.tier[idx] = -1

    def lose_customer(self, index: int, reason: int) -> None:
        """One customer leaves (the per-agent form of lose_customers)."""
        self.lose_customers(np.array([index]), np.array([reason]))

    def win_customers(
        self, idx: np.ndarray, firms: np.ndarray, channel: str, own_value: np.ndarray
    ) -> None:
        """People `idx` become customers of `firms` through `channel`."""
        pop = self.population
        idx = np.asarray(idx, dtype=np.intp)
        firms = np.broadcast_to(np.asarray(firms, dtype=np.intp), idx.shape)
        self.ledger.new[channel] += np.bincount(firms, minlength=self.n_firms)
        self.cohorts.add_members(firms, self.steps)
        pop.firm[idx] = firms
        pop.aware[idx, firms] = True
        pop.tenure[idx] = 0
        pop.acquired_step[idx] = self.steps
        pop.last_care[idx] = self.steps
        pop.referred[idx] = channel == "referral"
        pop.promotion_won[idx] = channel == "promotion"
        pop.member[idx] = False
        pop.has_purchased[idx] = False
        pop.unresolved_complaint[idx] = False
        pop.satisfaction[idx] = NEW_CUSTOMER_SATISFACTION
        pop.expectation[idx] = own_value
        pop.ltr[idx] = likelihood_to_recommend(pop.satisfaction[idx], pop.ltr_bias[idx])
        pop.in_detractor_episode[idx] = False
        pop.revenue_with_firm[idx] = 0.0
        pop.tier[idx] = -1

    def win_customer(self, index: int, firm: int, channel: str, own_value: float) -> None:
        """One person becomes a customer (the per-agent form of win_customers)."""
        self.win_customers(np.array([index]), np.array([firm]), channel, np.array([own_value]))

    def book_sales(
        self, idx: np.ndarray, firms: np.ndarray, units: np.ndarray, repeat: np.ndarray
    ) -> None:
        """Book purchases: revenue, cost of goods and the cohorts' realised margin."""
        firms = np.asarray(firms, dtype=np.intp)
        units = np.asarray(units, dtype=float)
        prices = np.array([f.price for f in self.firms])
        costs = np.array([f.unit_cost for f in self.firms])
        revenue = units * prices[firms]
        cogs = units * costs[firms]
        pop = self.population
        pop.annual_revenue[idx] += revenue
        pop.revenue_with_firm[idx] += revenue
        first_year = pop.tenure[idx] < self.steps_per_year
        led = self.ledger
        led.first_year_margin += np.bincount(
            firms, weights=(revenue - cogs) * first_year, minlength=self.n_firms
        )
        led.revenue += np.bincount(firms, weights=revenue, minlength=self.n_firms)
        led.cogs += np.bincount(firms, weights=cogs, minlength=self.n_firms)
        led.units += np.bincount(firms, weights=units, minlength=self.n_firms)
        led.purchases += np.bincount(firms, minlength=self.n_firms)
        led.repeat_purchases += np.bincount(firms, weights=repeat, minlength=self.n_firms)
        self.cohorts.add_margin(
            firms, self.population.acquired_step[idx].astype(np.intp), revenue - cogs, self.steps
        )

    def book_sale(self, index: int, firm: int, units: float, repeat: bool) -> None:
        """Book one purchase (the per-agent form of book_sales)."""
        self.book_sales(np.array([index]), np.array([firm]), np.array([units]), np.array([repeat]))

    # -- firm actions (the same code for both engines) -----------------------------------
    def _customers_of(self) -> list[np.ndarray]:
        return customers_by_firm(self.population.firm, self.n_firms)

    def care_for_customers(self, customers_of: list[np.ndarray]) -> None:
        """Each firm spends its care budget on the customers it neglected longest."""
        pop = self.population
        lev = self.params.market.levers
        for f, firm in enumerate(self.firms):
            mine = customers_of[f]
            k = firm.capacity("care_contacts", lev.care_contact)
            waited = self.weeks_since(pop.last_care[mine]) >= lev.care_min_interval_weeks
            key = mine[(pop.tier[mine] >= 0) & (pop.tier[mine] <= 1) & waited]  # top, big tiers
            k_key = min(round(k * firm.policy.key_account_share), key.size)
            first = select_longest_waiting(key, self.steps - pop.last_care[key], k_key, self.rng)
            rest = mine
            if first.size:
                chosen = np.zeros(pop.n, dtype=bool)
                chosen[first] = True
                rest = mine[~chosen[mine]]
            targets = np.concatenate(
                [
                    first,
                    select_longest_waiting(
                        rest, self.steps - pop.last_care[rest], k - first.size, self.rng
                    ),
                ]
            )
            weeks = self.weeks_since(pop.last_care[targets])
            pop.satisfaction[targets] = care_effect(
                pop.satisfaction[targets],
                weeks,
                boost=lev.care_boost,
                min_interval_weeks=lev.care_min_interval_weeks,
                spam_penalty=lev.spam_penalty,
            )
            pop.last_care[targets] = self.steps
            pop.unresolved_complaint[targets] = False
            self.ledger.care_contacts[f] = targets.size
            self.ledger.pushy_contacts[f] = np.count_nonzero(weeks < lev.care_min_interval_weeks)
            self.spent[f]["care_contacts"] = targets.size * lev.care_contact

    def run_loyalty_program(self, customers_of: list[np.ndarray]) -> None:
        """Enrol or drop members so membership matches what the program budget pays for."""
        pop = self.population
        cost_per_step = self.params.market.levers.loyalty_member_per_year / self.steps_per_year
        for f, firm in enumerate(self.firms):
            mine = customers_of[f]
            capacity = int(firm.spend["loyalty_program"] / cost_per_step)
            members = mine[pop.member[mine]]
            if members.size > capacity:
                drop = select_random(members, members.size - capacity, self.rng)
                pop.member[drop] = False
            elif members.size < capacity:
                others = mine[~pop.member[mine]]
                pop.member[select_random(others, capacity - members.size, self.rng)] = True
            n_members = min(capacity, mine.size)
            self.spent[f]["loyalty_program"] = n_members * cost_per_step

    def handle_complaints(self, buyers: np.ndarray, complained: np.ndarray) -> np.ndarray:
        """Firms handle complaints up to what their budget pays for; outcome per buyer.

        Returns 0 (no complaint), 1 (handled and resolved) or 2 (not resolved).
        """
        pop = self.population
        comp = self.params.market.complaints
        lev = self.params.market.levers
        outcome = np.where(complained, 2, 0).astype(np.int8)
        firms = pop.firm[buyers]
        for f, firm in enumerate(self.firms):
            cases = np.flatnonzero(complained & (firms == f))
            k = firm.capacity("complaint_handling", lev.complaint_handling)
            handled = select_random(cases, k, self.rng)
            resolved = handled[self.rng.random(handled.size) < comp.p_recovery]
            outcome[resolved] = 1
            self.ledger.complaints[f] = cases.size
            self.ledger.complaints_resolved[f] = resolved.size
            self.spent[f]["complaint_handling"] = handled.size * lev.complaint_handling
        return outcome

    def send_acquisition_offers(self) -> None:
        """Firms send promotions to non-customers and sales visits to their prospects."""
        pop = self.population
        lev = self.params.market.levers
        prospect = pop.firm < 0
        prospects = np.flatnonzero(prospect)
        for f, firm in enumerate(self.firms):
            k = firm.capacity("promotions", lev.promotion_offer)
            offered = select_random(prospects, k, self.rng)
            self.promotion_offered[f, offered] = True
            aware = np.flatnonzero(prospect & pop.aware[:, f])
            visited = select_random(aware, firm.capacity("sales_visits", lev.sales_visit), self.rng)
            self.visited[f, visited] = True
            self.promotion_targets.append(offered)
            self.visit_targets.append(visited)
            self.ledger.promotion_offers[f] = offered.size
            self.ledger.sales_visits[f] = visited.size
            self.spent[f]["promotions"] = offered.size * lev.promotion_offer
            self.spent[f]["sales_visits"] = visited.size * lev.sales_visit

    def _clear_offers(self) -> None:
        for f, (offered, visited) in enumerate(
            zip(self.promotion_targets, self.visit_targets, strict=True)
        ):
            self.promotion_offered[f, offered] = False
            self.visited[f, visited] = False
        self.promotion_targets.clear()
        self.visit_targets.clear()

    # -- the step -------------------------------------------------------------------------
    def step(self) -> None:
        """Advance the market by one period (see the module docstring for the order)."""
        pop = self.population
        self.ledger = Ledger(self.n_firms)
        customers_of = self._customers_of()
        self.ledger.customers_at_start = np.array([c.size for c in customers_of], dtype=float)
        pop.deterred *= np.float32(self.deterrence_decay)

        pop.annual_revenue *= 1.0 - 1.0 / self.steps_per_year
        for firm, mine in zip(self.firms, customers_of, strict=True):
            firm.n_customers = mine.size
            firm.operate()
            firm.plan()
        self.offers = firm_offers(self.firms)
        self.spent = [
            {"advertising": firm.spend["advertising"], "service_level": firm.spend["service_level"]}
            for firm in self.firms
        ]
        # Spend per person in the market: a market scaled with its budgets keeps its pressure.
        market = self.params.market
        reference = market.poaching_reference_spend_per_person * market.n_customers
        self.poaching_rates = np.array(
            [
                self.params.market.poaching_offers_per_year
                / max(self.n_firms - 1, 1)
                * f.acquisition_spend_per_year
                / reference
                for f in self.firms
            ]
        )

        self.care_for_customers(customers_of)
        self.run_loyalty_program(customers_of)
        self.engine.stay_or_leave()
        buyers, failed, complained, supply_failed = self.engine.buy()
        outcome = self.handle_complaints(buyers, complained)
        self.ledger.service_failures += np.bincount(
            pop.firm[buyers[failed]].astype(np.intp), minlength=self.n_firms
        )
        self.ledger.supply_failures += np.bincount(
            pop.firm[buyers[supply_failed]].astype(np.intp), minlength=self.n_firms
        )
        self.engine.feel(buyers, failed, outcome, supply_failed)
        self.engine.talk()
        self.send_acquisition_offers()
        self.engine.consider()
        self._clear_offers()

        customers_of = self._customers_of()
        for mine in customers_of:
            pop.tenure[mine] += 1
        self._record(customers_of)
        for firm in self.firms:
            firm.react()

    def _record(self, customers_of: list[np.ndarray]) -> None:
        """Close the step's books and append its measures (over customers, not everybody)."""
        led = self.ledger
        pop = self.population
        sat = self.params.market.satisfaction
        state = state_measures(
            customers_of,
            pop.satisfaction,
            pop.ltr,
            pop.member,
            sat.promoter_min_ltr,
            sat.detractor_max_ltr,
        )
        for firm, n in zip(self.firms, state["customers"], strict=True):
            firm.n_customers = int(n)
        old_tier = pop.tier
        pop.tier = assign_active_tiers(customers_of, pop.annual_revenue, pop.n)
        upgrades, downgrades = tier_moves(customers_of, old_tier, pop.tier)
        tiers = pyramid_counts(customers_of, pop.tier, pop.former_firm, pop.aware)
        first_year = np.array(
            [np.count_nonzero(pop.tenure[mine] < self.steps_per_year) for mine in customers_of]
        )
        staff = [f.staff_report for f in self.firms]
        suppliers = [f.suppliers for f in self.firms]
        books = [
            firm.book(
                led.revenue[f], led.cogs[f], {k: self.spent[f].get(k, 0.0) for k in firm.spend}
            )
            for f, firm in enumerate(self.firms)
        ]
        new = sum(led.new.values())
        churned = sum(led.churn.values())
        with np.errstate(invalid="ignore", divide="ignore"):
            record = {
                "customers": state["customers"],
                "new_customers": new,
                **{f"new_{c}": led.new[c] for c in ACQUISITION_CHANNELS},
                "churned": churned,
                **{f"churned_{r}": led.churn[r] for r in CHURN_REASONS},
                "switched_out": led.churn[CHURN_REASONS[REASON_COMPETITOR]],
                "referrals": led.referrals,
                "referral_conversions": led.referral_conversions,
                "peers_deterred": led.peers_deterred,
                "detractor_episodes": led.detractor_episodes,
                "purchases": led.purchases,
                "repeat_purchase_rate": led.repeat_purchases / led.purchases,
                **{k: np.array([b[k] for b in books]) for k in books[0]},
                "mean_satisfaction": state["mean_satisfaction"],
                "nps": state["nps"],
                "promoters": state["promoters"],
                "detractors": state["detractors"],
                "retention_rate": 1.0 - churned / led.customers_at_start,
                "service_failures": led.service_failures,
                "complaints": led.complaints,
                "complaints_resolved": led.complaints_resolved,
                "care_contacts": led.care_contacts,
                "pushy_contacts": led.pushy_contacts,
                "loyalty_members": state["loyalty_members"],
                "promotion_offers": led.promotion_offers,
                "sales_visits": led.sales_visits,
                "units": led.units,
                "price": np.array([f.price for f in self.firms]),
                "service_quality": np.array([f.service_quality for f in self.firms]),
                "product_quality": np.array([f.offer[0] for f in self.firms]),
                "personnel_quality": np.array([f.offer[2] for f in self.firms]),
                "unit_cost": np.array([f.unit_cost for f in self.firms]),
                **tiers,
                "tier_upgrades": upgrades,
                "churned_top_tiers": led.churned_top_tiers,
                "tier_downgrades": downgrades,
                "first_year_customers": first_year.astype(float),
                "first_year_margin": led.first_year_margin,
                "staff_skill": np.array([r.mean_skill if r else np.nan for r in staff]),
                "staff_morale": np.array([r.mean_morale if r else np.nan for r in staff]),
                "staff_quits": np.array([float(r.quits) if r else np.nan for r in staff]),
                "supplier_quality": np.array(
                    [np.mean([x.quality for x in s]) if s else np.nan for s in suppliers]
                ),
                "supplier_reliability": np.array(
                    [np.mean([x.reliability for x in s]) if s else np.nan for s in suppliers]
                ),
                "supplier_level": np.array(
                    [np.mean([x.level for x in s]) if s else np.nan for s in suppliers]
                ),
                "supply_failures": led.supply_failures,
            }
        self.records.append(record)

    # -- running and results ----------------------------------------------------------------
    def run(self, steps: int | None = None) -> MarketModel:
        """Run `steps` periods (default: the scenario's horizon); returns self."""
        for _ in range(self.params.simulation.steps if steps is None else steps):
            self.step()
        return self

    def results(self) -> pd.DataFrame:
        """One row per (step, firm): every measure of every recorded step."""
        if not self.records:
            return pd.DataFrame(columns=["step", "firm"])
        n = len(self.records)
        columns = {
            "step": np.repeat(np.arange(1, n + 1), self.n_firms),
            "firm": np.tile(np.array(self.firm_names, dtype=object), n),
        }
        for key in self.records[0]:
            columns[key] = np.concatenate([r[key] for r in self.records])
        return pd.DataFrame(columns)

    def calibration(self, burn_in_steps: int | None = None) -> pd.DataFrame:
        """The source facts measured on this run: name, measured, target, band, ok, method."""
        pop = self.population
        return calibration_table(
            self.results(),
            steps_per_year=self.steps_per_year,
            tenure=pop.tenure,
            firm=pop.firm,
            annual_revenue=pop.annual_revenue,
            revenue_with_firm=pop.revenue_with_firm,
            burn_in_steps=burn_in_steps,
        )

    def cohort_clv(self) -> pd.DataFrame:
        """Customer lifetime value realised so far by each acquisition cohort and firm."""
        return self.cohorts.table(self.firm_names, self.steps)
