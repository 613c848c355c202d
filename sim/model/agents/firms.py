"""Firms: the focal firm acting on its policy, and competitors with a reaction rule."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import mesa
import numpy as np

from sim.config.schema import CompetitorSpec, FirmSpec, Policy, Scenario
from sim.model.agents.employees import Staff, StaffReport
from sim.model.agents.suppliers import Supplier, step_suppliers
from sim.model.behaviour.budget import reallocate_unplaced
from sim.model.behaviour.economies import experience_cost_factor, prior_experience_units
from sim.model.behaviour.levers import (
    draw_capacity,
    exposure_probability,
    saturated_intensity,
    service_gain,
)
from sim.model.behaviour.value import signed_offer
from sim.model.state import discount_per_step

__all__ = [
    "ACQUISITION_LEVERS",
    "RETENTION_LEVERS",
    "Competitor",
    "Firm",
    "firm_offers",
    "introduce_rivals",
]

ACQUISITION_LEVERS = ("advertising", "promotions", "sales_visits")
RETENTION_LEVERS = (
    "care_contacts",
    "loyalty_program",
    "complaint_handling",
    "service_level",
    "upgrades",
)


class Firm(mesa.Agent):
    """A firm: an offer (value parts and price), a budget split by its policy, its books.

    Each step it turns its policy into spend on each lever and into the offer customers
    see. Product, service and personnel quality come from `quality_inputs`: the
    scenario's inputs, moved by its supplier and employee agents when they are modelled.
    A firm knows the scenario and Mesa's model (its clock and random generator), not the
    market model around it.
    """

    def __init__(
        self, model: mesa.Model, scenario: Scenario, spec: FirmSpec, policy: Policy, index: int
    ) -> None:
        super().__init__(model)
        self.params = scenario
        self.steps_per_year = scenario.simulation.steps_per_year
        self.discount_factor = discount_per_step(
            scenario.market.discount_rate_per_year, self.steps_per_year
        )
        self.spec = spec
        self.name = spec.name
        self.policy = policy
        self.index = index
        self.base_price = spec.price * (1.0 + policy.price_change)
        self.price = self.base_price
        self.advertising_multiplier = 1.0
        self.spend: dict[str, float] = dict.fromkeys(ACQUISITION_LEVERS + RETENTION_LEVERS, 0.0)
        # equal spend (issue 10, item 4): this step's plan before money passed on, what
        # the levers could not place, and what goes to the next step's levers
        self.planned: dict[str, float] = dict(self.spend)
        self.unplaced: dict[str, float] = {}
        self.short: set[str] = set()
        self.carried: dict[str, float] = {}
        self.carried_in = 0.0
        self.customers_at_plan = 0
        self.cumulative_profit = 0.0
        self.discounted_profit = 0.0
        self.n_customers = 0
        self.unit_cost = spec.unit_cost
        # scale economies: cumulative volume sold since the start, and before it
        self.cumulative_units = 0.0
        self.prior_units = self._prior_units(scenario, spec)
        self.staff: Staff | None = None
        self.staff_report: StaffReport | None = None
        self.suppliers: mesa.agentset.AgentSet[Supplier] = mesa.agentset.AgentSet(
            [], random=model.random
        )
        self.supplier_failed = np.zeros(0, dtype=bool)
        self.rivals: list[Firm] = []
        self.update_offer(n_customers=0)

    def equip(self, rng: np.random.Generator) -> None:
        """Hire the initial staff and contract the suppliers (drawn from `rng`)."""
        scenario = self.params
        if scenario.employees.enabled:
            self.staff = Staff(self, self.policy, scenario.employees, rng, self.steps_per_year)
        if scenario.suppliers.enabled:
            spec = scenario.suppliers
            self.suppliers = mesa.agentset.AgentSet(
                [
                    Supplier(self.model, self, self.policy, spec, self.steps_per_year)
                    for _ in range(spec.per_firm)
                ],
                random=self.model.random,
            )
            self.supplier_failed = np.zeros(len(self.suppliers), dtype=bool)
        self.operate(deliver=False)

    def operate(self, deliver: bool = True) -> None:
        """Suppliers deliver and staff work: the quality the firm can offer this step."""
        if self.suppliers and deliver:
            step_suppliers(list(self.suppliers), self.model.rng)  # each Supplier.step
            self.supplier_failed = np.array([s.failed for s in self.suppliers])
        supplied = (
            float(np.mean([s.cost_factor for s in self.suppliers])) if self.suppliers else 1.0
        )
        self.unit_cost = self.spec.unit_cost * supplied * self.experience_factor
        if self.staff is not None and deliver:
            self.staff_report = self.staff.work(self.n_customers)

    # -- scale economies -------------------------------------------------------------------
    @staticmethod
    def _prior_units(scenario: Scenario, spec: FirmSpec) -> float:
        """Experience at the start: `prior_years` of the firm's expected starting volume.

        Expected, not drawn: the firm's share of the penetrated market times the mean
        purchase rate and units per purchase; at least one average customer-year a year.
        """
        m = scenario.market
        shares = scenario.firm.initial_share + sum(c.initial_share for c in scenario.competitors)
        customers = m.n_customers * m.initial_penetration * spec.initial_share / max(shares, 1e-12)
        customer_year = m.heterogeneity.mean_rate * m.heterogeneity.mean_spend
        years = m.experience.prior_years
        return prior_experience_units(customers * customer_year, years, customer_year * years)

    @property
    def experience_factor(self) -> float:
        """Unit cost relative to the start from the experience curve (1 with no sales)."""
        return experience_cost_factor(
            self.cumulative_units, self.prior_units, self.params.market.experience.learning_rate
        )

    def gain_experience(self, units: float) -> None:
        """Add a step's volume sold; the next step's unit cost follows the curve."""
        self.cumulative_units += units

    # -- policy -> spend and offer ---------------------------------------------------------
    @property
    def budget_per_year(self) -> float:
        """Marketing budget per year: the policy's, or the firm's own."""
        b = self.policy.budget_per_year
        return self.spec.budget_per_year if b is None else b

    def quality_inputs(self) -> tuple[float, float, float]:
        """(product, service, personnel) quality before service spend.

        The scenario's inputs, moved by the suppliers' input quality (product) and by the
        staff's skill and morale (service and personnel) when those agents are modelled.
        """
        spec, scenario = self.spec, self.params
        product, service, personnel = (
            spec.product_quality,
            spec.service_quality,
            spec.personnel_quality,
        )
        if self.suppliers:
            sup = scenario.suppliers
            quality = float(np.mean([s.quality for s in self.suppliers]))
            product += sup.quality_effect * (quality - sup.reference_quality)
        if self.staff is not None:
            emp = scenario.employees
            report = self.staff_report or self.staff.work_preview()
            service += emp.quality_effect * (report.service_quality - emp.reference_quality)
            personnel += emp.quality_effect * (report.personnel_quality - emp.reference_quality)
        return (
            float(np.clip(product, 0.0, 1.0)),
            float(np.clip(service, 0.0, 1.0)),
            float(np.clip(personnel, 0.0, 1.0)),
        )

    def plan(self) -> None:
        """Split this step's budget over the levers (F6) and refresh the offer.

        Money the levers could not place last step (:meth:`place`) is added to the levers
        :func:`~sim.model.behaviour.budget.reallocate_unplaced` chose in :meth:`book`.
        """
        spy = self.steps_per_year
        budget = self.budget_per_year / spy
        acq = budget * self.policy.acquisition_share
        ret = budget - acq
        amix, rmix = self.policy.acquisition_mix, self.policy.retention_mix
        self.spend = {
            "advertising": acq * amix.advertising * self.advertising_multiplier,
            "promotions": acq * amix.promotions,
            "sales_visits": acq * amix.sales_visits,
            "care_contacts": ret * rmix.care_contacts,
            "loyalty_program": ret * rmix.loyalty_program,
            "complaint_handling": ret * rmix.complaint_handling,
            "service_level": ret * rmix.service_level,
            "upgrades": ret * rmix.upgrades,
        }
        self.planned = dict(self.spend)
        for lever, money in self.carried.items():
            self.spend[lever] = max(self.spend[lever] + money, 0.0)
        self.carried_in = sum(self.carried.values())
        self.carried, self.unplaced, self.short = {}, {}, set()
        self.customers_at_plan = self.n_customers
        self.update_offer(self.n_customers)

    def update_offer(self, n_customers: int) -> None:
        """The offer customers see this step, and what the acquisition spend reaches."""
        market = self.params.market
        spec = self.spec
        product, service, personnel = self.quality_inputs()
        per_customer_year = self.spend["service_level"] * self.steps_per_year / max(n_customers, 1)
        gain = service_gain(
            per_customer_year,
            market.levers.service_per_customer_year,
            market.levers.service_max_gain,
        )
        self.service_quality = min(service + gain, 1.0)
        gain_share = gain / market.levers.service_max_gain if market.levers.service_max_gain else 0
        self.p_failure = spec.p_service_failure * (1.0 - 0.7 * gain_share)
        if self.staff is not None:
            emp = self.params.employees
            report = self.staff_report or self.staff.work_preview()
            shortfall = emp.reference_quality - report.service_quality
            self.p_failure = float(
                np.clip(self.p_failure * (1.0 + emp.failure_effect * shortfall), 0.0, 1.0)
            )
        self.price_ratio = self.price / market.reference_price
        self.offer = signed_offer(
            product,
            self.service_quality,
            personnel,
            spec.image,
            self.price_ratio,
            spec.time_cost,
            spec.effort_cost,
            spec.psychic_cost,
            market.cost_weight,
        )
        ads = market.advertising
        bought_per_year = (
            self.spend["advertising"]
            * self.steps_per_year
            / (ads.cost_per_exposure * market.n_customers)
        )
        # wear-out: exposures bought act as a saturating number of effective exposures
        exposures = (
            saturated_intensity(bought_per_year, ads.saturation_exposures_per_year)
            / self.steps_per_year
        )
        self.p_aware_ad = exposure_probability(exposures, market.advertising.p_aware_per_exposure)
        self.p_consider_ad = exposure_probability(
            exposures, market.advertising.p_consider_per_exposure
        )

    @property
    def acquisition_spend_per_year(self) -> float:
        """Acquisition spend at this step's rate, per year (drives poaching pressure)."""
        return sum(self.spend[k] for k in ACQUISITION_LEVERS) * self.steps_per_year

    def capacity(self, lever: str, unit_cost: float) -> int:
        """Units a lever's spend buys this step (offers, visits, contacts, members)."""
        return draw_capacity(self.spend[lever], unit_cost, self.model.rng)

    def place(self, lever: str, capacity: int, placed: int, unit_cost: float) -> float:
        """Money a lever placed: ``placed`` of the ``capacity`` whole units bought, at ``unit_cost``.

        Placing fewer than bought (too few complaints, prospects, customers or takers) makes
        the lever short and leaves the rest of its spend unplaced; :meth:`book` passes it on.
        A lever that placed all it bought still differs from its spend by the rounding to
        whole units (negative when it rounded up); that difference is passed on too, so over
        a run the levers spend the budget to the unit.
        """
        money = placed * unit_cost
        if placed < capacity:
            self.short.add(lever)
        rest = self.spend[lever] - money
        if rest:
            self.unplaced[lever] = self.unplaced.get(lever, 0.0) + rest
        return money

    # -- books ---------------------------------------------------------------------------
    def book(self, revenue: float, cogs: float, spent: dict[str, float]) -> dict[str, float]:
        """Book one step: revenue, cost of goods, each spend line, profit, the budget's use.

        Money the levers could not place goes to the next step's levers
        (:func:`~sim.model.behaviour.budget.reallocate_unplaced`); what none can take is
        ``budget_unspent``, kept (and reported), never hidden in profit silently.
        """
        spy = self.steps_per_year
        acquisition = sum(spent[k] for k in ACQUISITION_LEVERS)
        retention = sum(spent[k] for k in RETENTION_LEVERS)
        fixed = self.spec.fixed_cost_per_year / spy
        customer_cost = self.spec.cost_per_customer_year / spy * self.customers_at_plan
        staff = self.staff_report.cost if self.staff_report is not None else 0.0
        partnership = self.policy.supplier_investment_per_year / spy if self.suppliers else 0.0
        profit = (
            revenue - cogs - acquisition - retention - fixed - customer_cost - staff - partnership
        )
        self.carried, unspent = reallocate_unplaced(
            self.unplaced, self.planned, (ACQUISITION_LEVERS, RETENTION_LEVERS), self.short
        )
        self.cumulative_profit += profit
        self.discounted_profit += profit * self.discount_factor**self.model.steps
        return {
            "revenue": revenue,
            "cogs": cogs,
            "acquisition_spend": acquisition,
            "retention_spend": retention,
            "fixed_cost": fixed,
            "customer_cost": customer_cost,
            "staff_cost": staff,
            "supplier_investment": partnership,
            "profit": profit,
            "cumulative_profit": self.cumulative_profit,
            "discounted_profit": self.discounted_profit,
            "marketing_budget": sum(self.planned.values()),
            "budget_carried_in": self.carried_in,
            "budget_unplaced": sum(self.unplaced.values()),
            "budget_unspent": unspent,
            **{f"{k}_spend": v for k, v in spent.items()},
        }

    def react(self) -> None:
        """The focal firm follows its policy and does not react."""


class Competitor(Firm):
    """A rival with its own policy and a reaction rule.

    It matches a rival's price cut (down to a floor above unit cost) and raises
    advertising while it is losing customers, relaxing back when it is not.
    """

    def __init__(
        self, model: mesa.Model, scenario: Scenario, spec: CompetitorSpec, index: int
    ) -> None:
        super().__init__(model, scenario, spec, spec.policy, index)
        self.reaction = spec.reaction
        lookback = max(round(spec.reaction.lookback_weeks * self.steps_per_year / 52), 1)
        self._history: deque[int] = deque(maxlen=lookback + 1)

    def react(self) -> None:
        """Apply the reaction rule after this step's books are closed."""
        r = self.reaction
        rivals = self.rivals
        if r.match_price_cuts and rivals:
            cheapest = min(f.price for f in rivals)
            floor = self.spec.unit_cost * (1.0 + r.min_margin)
            if cheapest < self.price * (1.0 - r.price_tolerance):
                self.price = max(cheapest, floor)
            elif cheapest >= self.base_price and self.price < self.base_price:
                self.price = self.base_price  # the cut was withdrawn: return to list price
        self._history.append(self.n_customers)
        if len(self._history) == self._history.maxlen:
            old = self._history[0]
            loss = (old - self.n_customers) / old if old > 0 else 0.0
            if loss > r.share_loss_trigger:
                self.advertising_multiplier = min(
                    self.advertising_multiplier * (1.0 + r.advertising_step_up),
                    r.max_advertising_multiplier,
                )
            elif loss <= 0:
                self.advertising_multiplier = max(1.0, self.advertising_multiplier * 0.98)


def introduce_rivals(firms: Sequence[Firm]) -> None:
    """Tell each firm who its rivals are (a competitor's reaction watches their prices)."""
    for firm in firms:
        firm.rivals = [f for f in firms if f is not firm]


def firm_offers(firms: Sequence[Firm]) -> np.ndarray:
    """Stack the firms' signed offers into an (F, 8) array."""
    return np.vstack([f.offer for f in firms])
