"""The market state that customers, engines and firm actions share, and its transitions.

Why a separate object: customers and the engines need the population arrays, what the
firms offer this step, the social graph, the step's books, the random generator and a
few rates derived from the scenario, but not the model that wires them together. They
receive a :class:`MarketState` instead of the model, so imports run one way
(market > engines > agents > state) and every input of a customer phase is visible here.

The state transitions that both engines share (a customer is lost, won, or buys) are
methods of the state, so the vectorized engine and the per-customer reference book
events identically.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from sim.config.schema import MarketSpec, Scenario
from sim.model.behaviour.churn import CHURN_REASONS, churn_modifier
from sim.model.behaviour.value import choice_utilities
from sim.model.behaviour.word_of_mouth import decay_per_step
from sim.model.kernels import kernel_backend
from sim.model.kernels.choice import WON_FIELDS, win
from sim.model.kernels.churn import lose_customers
from sim.model.kernels.purchases import book_sales
from sim.model.metrics import SATISFIED, TOP_BOX, CohortValue, Ledger
from sim.model.network import SocialGraph
from sim.model.population import NEVER, NO_FIRM, NOT_DUE, CustomerPopulation
from sim.model.transactions import PurchaseLog

__all__ = [
    "NEW_CUSTOMER_SATISFACTION",
    "FirmView",
    "MarketState",
    "discount_per_step",
    "poaching_rates",
]

NEW_CUSTOMER_SATISFACTION = 0.7


class FirmView(Protocol):
    """What the market state reads from a firm after it has planned its step."""

    offer: np.ndarray
    price: float
    unit_cost: float
    price_ratio: float
    p_failure: float
    p_aware_ad: float
    p_consider_ad: float
    supplier_failed: np.ndarray

    @property
    def acquisition_spend_per_year(self) -> float: ...


def discount_per_step(rate_per_year: float, steps_per_year: int) -> float:
    """Discount factor of one step at a yearly discount rate.

    >>> round(discount_per_step(0.1, 1), 6)
    0.909091
    >>> round(discount_per_step(0.1, 52) ** 52, 6)
    0.909091
    """
    return 1.0 / (1.0 + rate_per_year) ** (1.0 / steps_per_year)


def poaching_rates(market: MarketSpec, firms: Sequence[FirmView]) -> np.ndarray:
    """Poaching offers per year that each firm's acquisition spend sends to each rival's customer.

    Spend per person in the market is the reference, so a market scaled with its budgets
    keeps its pressure.
    """
    reference = market.poaching_reference_spend_per_person * market.n_customers
    return np.array(
        [
            market.poaching_offers_per_year
            / max(len(firms) - 1, 1)
            * f.acquisition_spend_per_year
            / reference
            for f in firms
        ]
    )


def _firm_array(firms: Sequence[FirmView], name: str) -> np.ndarray:
    return np.array([getattr(f, name) for f in firms])


@dataclass(eq=False)
class MarketState:
    """Everything a customer phase reads or changes, without the model around it.

    Build it with :meth:`create`; the model refreshes the firms' side with
    :meth:`see_firms` after they plan, sets :attr:`step` at the start of each step and
    opens a new :attr:`ledger` for it.
    """

    scenario: Scenario
    population: CustomerPopulation
    graph: SocialGraph
    rng: np.random.Generator
    firm_names: tuple[str, ...]
    cohorts: CohortValue
    ledger: Ledger
    step: int = 0
    # the firms' side of the market this step, one entry per firm (see_firms)
    offers: np.ndarray = field(default_factory=lambda: np.empty((0, 8)))
    prices: np.ndarray = field(default_factory=lambda: np.empty(0))
    unit_costs: np.ndarray = field(default_factory=lambda: np.empty(0))
    price_ratio: np.ndarray = field(default_factory=lambda: np.empty(0))
    p_failure: np.ndarray = field(default_factory=lambda: np.empty(0))
    p_aware_ad: np.ndarray = field(default_factory=lambda: np.empty(0))
    p_consider_ad: np.ndarray = field(default_factory=lambda: np.empty(0))
    supplier_failed: list[np.ndarray] = field(default_factory=list)
    poaching_rates: np.ndarray = field(default_factory=lambda: np.empty(0))
    # every purchase booked, when the run records its transaction log (None: not recorded)
    purchase_log: PurchaseLog | None = None

    @classmethod
    def create(
        cls,
        scenario: Scenario,
        population: CustomerPopulation,
        graph: SocialGraph,
        rng: np.random.Generator,
        firms: Sequence[FirmView],
        firm_names: tuple[str, ...],
    ) -> MarketState:
        """The state at the start: the initial customers form the step-0 cohorts."""
        n_firms = len(firm_names)
        discount = discount_per_step(
            scenario.market.discount_rate_per_year, scenario.simulation.steps_per_year
        )
        cohorts = CohortValue(n_firms, discount, capacity=scenario.simulation.steps + 1)
        cohorts.add_members(population.firm[population.firm >= 0].astype(np.intp), 0)
        state = cls(scenario, population, graph, rng, firm_names, cohorts, Ledger(n_firms))
        state.see_firms(firms)
        return state

    # -- rates derived once from the scenario ------------------------------------------
    def __post_init__(self) -> None:
        m = self.scenario.market
        spy = self.steps_per_year
        # numpy or numba for the state's fused transitions (sim.model.kernels)
        self.kernels = kernel_backend(self.population.n)
        het = m.heterogeneity
        self.mean_purchase_rate = het.mean_rate
        self.mean_spend = het.mean_spend
        self.spend_shape = het.p
        self.heterogeneous = het.enabled
        # BG/NBD's dropout: a lapse with chance p after each purchase (draw_lapses)
        self.lapse_after_purchase = het.dropout == "after_purchase"
        self.referrals_per_step = m.word_of_mouth.referrals_per_year / spy
        self.weak_tie_share = self.scenario.network.weak_tie_share
        self.p_need = float(-np.expm1(-m.need_per_year / spy))
        self.outside_utility = m.outside_option_utility
        self.member_switching_cost = m.levers.member_switching_cost
        self.spend_ramp = (m.tenure_spend_gain, m.spend_ramp_years)
        self.deterrence_decay = decay_per_step(m.word_of_mouth.deterrence_half_life_weeks, spy)
        c = m.churn
        self.churn_kwargs: dict[str, Any] = {
            "neglect_per_year": c.neglect_per_year,
            "neglect_weeks": c.neglect_weeks,
            "neglect_satisfaction_exponent": c.neglect_satisfaction_exponent,
            "unresolved_per_year": c.unresolved_complaint_per_year,
            "dissatisfaction_per_year": c.dissatisfaction_per_year,
            "satisfaction_convexity": c.satisfaction_convexity,
            "price_per_year": c.price_per_year,
            "base_per_year": c.base_per_year,
        }
        self.modifier_kwargs: dict[str, float] = {
            "member_reduction": c.member_churn_reduction,
            "referred_multiplier": m.word_of_mouth.referred_churn_multiplier,
            "promotion_multiplier": c.promotion_churn_multiplier,
        }
        # utility per unit of value, deterrence, promotion offer, sales visit (choice)
        self.choice_sensitivities = (
            m.value_sensitivity,
            m.word_of_mouth.deterrence_utility,
            m.levers.promotion_utility,
            m.levers.sales_visit_utility,
        )
        self.switch_kwargs: dict[str, Any] = {
            "value_sensitivity": m.value_sensitivity,
            "satisfaction_stickiness": m.satisfaction_stickiness,
            "deterrence_utility": m.word_of_mouth.deterrence_utility,
        }

    @property
    def steps_per_year(self) -> int:
        """Steps (periods) per simulated year."""
        return self.scenario.simulation.steps_per_year

    @property
    def n_firms(self) -> int:
        """Firms in the market, the focal firm first."""
        return len(self.firm_names)

    def see_firms(self, firms: Sequence[FirmView]) -> None:
        """Take this step's offers, prices and odds from the firms (after they planned)."""
        self.offers = np.vstack([f.offer for f in firms])
        self.prices = _firm_array(firms, "price")
        self.unit_costs = _firm_array(firms, "unit_cost")
        self.price_ratio = _firm_array(firms, "price_ratio")
        self.p_failure = _firm_array(firms, "p_failure")
        self.p_aware_ad = _firm_array(firms, "p_aware_ad")
        self.p_consider_ad = _firm_array(firms, "p_consider_ad")
        self.supplier_failed = [f.supplier_failed for f in firms]

    # -- small conversions shared by both engines ----------------------------------------
    def weeks_since(self, step: np.ndarray | int) -> np.ndarray:
        """Weeks between `step` and now."""
        return (self.step - np.asarray(step)) * (52.0 / self.steps_per_year)

    def years(self, steps: np.ndarray | int) -> np.ndarray:
        """Convert a number of steps to years."""
        return np.asarray(steps) / self.steps_per_year

    def churn_modifier(
        self, member: Any, referred: Any, promotion_won: Any, proneness: Any
    ) -> np.ndarray:
        """Multiplier of every churn hazard (:func:`~sim.model.behaviour.churn.churn_modifier`)."""
        return churn_modifier(proneness, member, referred, promotion_won, **self.modifier_kwargs)

    def choice_utilities(
        self,
        values: np.ndarray,
        deterred: np.ndarray,
        offered: np.ndarray,
        visited: np.ndarray,
        aware: np.ndarray,
    ) -> np.ndarray:
        """Logit utilities of the firms a person knows (-inf for the others)."""
        return choice_utilities(
            values, deterred, offered, visited, aware, self.choice_sensitivities
        )

    # -- state transitions shared by both engines ----------------------------------------
    def lose_customers(self, idx: np.ndarray, reasons: np.ndarray) -> None:
        """Customers `idx` leave their firm, each for the given reason index."""
        by_reason, top_box, satisfied, top_tiers = lose_customers(
            self.kernels,
            self.population,
            idx,
            reasons,
            n_reasons=len(CHURN_REASONS),
            n_firms=self.n_firms,
            top_box=TOP_BOX,
            satisfied=SATISFIED,
            no_firm=NO_FIRM,
            not_due=NOT_DUE,
        )
        for r, reason in enumerate(CHURN_REASONS):
            self.ledger.churn[reason] += by_reason[r]
        self.ledger.churned_top_box += top_box
        self.ledger.churned_satisfied += satisfied
        self.ledger.churned_top_tiers += top_tiers

    def lose_customer(self, index: int, reason: int) -> None:
        """One customer leaves (the per-agent form of lose_customers)."""
        self.lose_customers(np.array([index]), np.array([reason]))

    def win_customers(
        self, idx: np.ndarray, firms: np.ndarray, channel: str, own_value: np.ndarray
    ) -> None:
        """People `idx` become customers of `firms` through `channel`."""
        idx = np.asarray(idx, dtype=np.intp)
        firms = np.broadcast_to(np.asarray(firms, dtype=np.intp), idx.shape)
        self.cohorts.add_members(firms, self.step)
        self.ledger.new[channel] += win(
            self.kernels,
            idx,
            firms,
            own_value,
            {name: getattr(self.population, name) for name in WON_FIELDS},
            self.step,
            (channel == "referral", channel == "promotion"),
            NEW_CUSTOMER_SATISFACTION,
            NEVER,  # drawn at the next stay_or_leave and buy
        )

    def win_customer(self, index: int, firm: int, channel: str, own_value: float) -> None:
        """One person becomes a customer (the per-agent form of win_customers)."""
        self.win_customers(np.array([index]), np.array([firm]), channel, np.array([own_value]))

    def book_sales(
        self,
        idx: np.ndarray,
        firms: np.ndarray,
        units: np.ndarray,
        repeat: np.ndarray,
        member: np.ndarray,
    ) -> None:
        """Book purchases: revenue, cost of goods, the cohorts' realised margin, and what
        loyalty members bought (the observed member/non-member ratios)."""
        pop = self.population
        firms = np.asarray(firms, dtype=np.intp)
        sums, purchases, revenue, margin, cohort = book_sales(
            self.kernels,
            idx,
            firms,
            units,
            repeat,
            member,
            self.prices,
            self.unit_costs,
            pop,
            self.steps_per_year,
            self.n_firms,
        )
        led = self.ledger
        led.first_year_margin += sums[0]
        led.revenue += sums[1]
        led.cogs += sums[2]
        led.units += sums[3]
        led.purchases += purchases
        led.repeat_purchases += sums[4]
        led.member_purchases += sums[5]
        led.member_revenue += sums[6]
        self.cohorts.add_margin(firms, cohort, margin, self.step)
        if self.purchase_log is not None:
            self.purchase_log.add(self.step, np.asarray(idx), firms, revenue)

    def book_sale(self, index: int, firm: int, units: float, repeat: bool, member: bool) -> None:
        """Book one purchase (the per-agent form of book_sales)."""
        self.book_sales(
            np.array([index]),
            np.array([firm]),
            np.array([units]),
            np.array([repeat]),
            np.array([member]),
        )
