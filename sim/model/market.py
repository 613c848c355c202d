"""MarketModel: the wiring of agents, the social graph and the order of a step.

A step (one period) runs in this order, for both engines:

1. deterrence and the awareness of firms people neither buy from nor left fade (the
   awareness stock decays); firms operate (suppliers deliver, staff work) and plan:
   each splits its budget over the levers and sets its offer;
2. firms care for customers (care contacts, loyalty enrolment, upgrade offers);
3. customers stay, leave (with a reason) or switch to a rival's better offer;
4. customers buy, meet service failures and complain; firms handle complaints;
5. customers update satisfaction (expectation-disconfirmation) and their 0-10 score;
6. promoters refer contacts, newly dissatisfied customers deter contacts;
7. firms send promotions and sales visits; non-customers act on referrals, ads,
   offers, visits and need, and choose among firms by delivered value;
8. firms book revenue, costs and profit; competitors react; measures are recorded.

Firms act through a Mesa AgentSet (``model.firms.do("plan")``), their suppliers and
employees through their own AgentSets. Customers, engines and firm actions share a
:class:`sim.model.state.MarketState`, never the model. Customer agents are created on
first use (``model.customers``, the per-agent engine): the vectorized engine never
needs them. The model does no file I/O and no plotting.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

import mesa
import numpy as np
import pandas as pd

from sim.config.presets import get_policy
from sim.config.schema import Policy, Scenario
from sim.model.actions import (
    care_for_customers,
    enrolment_ceiling,
    handle_complaints,
    run_loyalty_programs,
    sell_upgrades,
    send_acquisition_offers,
)
from sim.model.agents.customers import Customer
from sim.model.agents.firms import Competitor, Firm, introduce_rivals
from sim.model.behaviour.economies import forgetting_probability
from sim.model.behaviour.spend import tenure_spend_multiplier
from sim.model.calibration import calibration_table, serving_cost_per_customer_year
from sim.model.engines import Engine, make_engine
from sim.model.kernels import kernel_backend
from sim.model.kernels.actions import forget
from sim.model.kernels.records import group_customers
from sim.model.metrics import Ledger, margin_per_step
from sim.model.network import SocialGraph, build_graph
from sim.model.population import CustomerPopulation
from sim.model.records import close_step
from sim.model.state import MarketState, poaching_rates
from sim.model.transactions import PurchaseLog

__all__ = ["CUSTOMER_REPORTERS", "FIRM_REPORTERS", "FOCAL_REPORTERS", "MarketModel"]

# The focal firm's measures that the DataCollector reports each step, as Mesa model
# reporters named focal_<measure> (batch_run puts them beside each firm's agent reporters).
FOCAL_REPORTERS = (
    "customers",
    "new_customers",
    "churned",
    "revenue",
    "profit",
    "cumulative_profit",
    "discounted_profit",
    "nps",
    "mean_satisfaction",
    "retention_rate",
)
# Each firm's state at the end of a step (agent reporters of Firm and Competitor).
FIRM_REPORTERS = {
    "firm": "name",
    "customers": "n_customers",
    "price": "price",
    "service_quality": "service_quality",
    "advertising_multiplier": "advertising_multiplier",
    "cumulative_profit": "cumulative_profit",
}
# Each customer's state (agent reporters of Customer; rows only once customers exist).
CUSTOMER_REPORTERS = {
    "firm_index": "firm",
    "satisfaction": "satisfaction",
    "ltr": "ltr",
    "tenure": "tenure",
    "member": "member",
}


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


def _focal(measure: str) -> Callable[[MarketModel], float]:
    """A Mesa model reporter: the focal firm's `measure` in the latest step's record."""

    def report(model: MarketModel) -> float:
        return float(model.records[-1][measure][0]) if model.records else float("nan")

    report.__name__ = f"focal_{measure}"
    return report


class MarketModel(mesa.Model):
    """A market of customers on a social graph, a focal firm and its competitors.

    Every argument is a keyword that ``mesa.batch_run`` can pass. batch_run adds
    ``seed``: give it ``rng=[1, 2, ...]`` for replications (with ``iterations`` it passes
    ``seed=None``, the scenario's seed, so every iteration would repeat one run). Pass a
    scenario to batch_run in a list (``scenario=[s]``): a pydantic model is itself iterable.

    Args:
        scenario: the validated scenario (defaults to ``Scenario.default()``).
        policy: the focal firm's policy, a preset name or a Policy.
        seed: seed of the model's only random generator (defaults to the scenario's).
        engine: "vectorized" (default) or "agent" (the per-customer reference).
        graph: an already built social graph to reuse (common random numbers across
            policies); by default one is built from the scenario with the model's rng.
        rng: Mesa's name for an integer seed; give `seed` or `rng`, not both.
    """

    def __init__(
        self,
        scenario: Scenario | None = None,
        policy: str | Policy = "balanced",
        seed: int | None = None,
        engine: Literal["vectorized", "agent"] | None = None,
        graph: SocialGraph | None = None,
        *,
        rng: int | None = None,
    ) -> None:
        if seed is not None and rng is not None and int(seed) != int(rng):
            raise ValueError("give seed or rng, not both")
        scenario = Scenario.default() if scenario is None else scenario
        seed = rng if seed is None else seed
        seed = scenario.simulation.seed if seed is None else int(seed)
        super().__init__(rng=np.random.default_rng(seed))
        self.seed = seed
        self.params = scenario
        self.policy = get_policy(policy)
        self.engine_name = engine or scenario.simulation.engine
        market = scenario.market
        self.steps_per_year = scenario.simulation.steps_per_year
        self.p_forget = forgetting_probability(
            market.advertising.awareness_half_life_weeks, self.steps_per_year
        )

        # Separate, seeded streams so that the graph and the initial market are the same
        # for every policy run with this seed (common random numbers).
        graph_rng, population_rng, self.rng = (
            np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3)
        )
        net = scenario.network
        graph = graph or build_graph(
            net.kind,
            market.n_customers,
            graph_rng,
            mean_degree=net.mean_degree,
            rewire_p=net.rewire_p,
            path=net.path,
        )
        if graph.n != market.n_customers:
            raise ValueError(
                f"the social graph has {graph.n} nodes but market.n_customers is "
                f"{market.n_customers}"
            )

        firms: list[Firm] = [Firm(self, scenario, scenario.firm, self.policy, 0)]
        firms += [Competitor(self, scenario, c, k + 1) for k, c in enumerate(scenario.competitors)]
        introduce_rivals(firms)
        self._firm_list = tuple(firms)
        self.firms: mesa.agentset.AgentSet[Firm] = mesa.agentset.AgentSet(firms, random=self.random)
        for firm in firms:
            firm.equip(population_rng)
            firm.update_offer(n_customers=0)
        offers = np.vstack([f.offer for f in firms])
        population = CustomerPopulation.create(scenario, offers, population_rng)
        self.state = MarketState.create(
            scenario, population, graph, self.rng, firms, tuple(f.name for f in firms)
        )
        self._initial_revenue()
        counts = np.bincount(population.firm[population.firm >= 0], minlength=len(firms))
        for firm, n in zip(firms, counts, strict=True):
            firm.n_customers = int(n)
        self.records: list[dict[str, np.ndarray]] = []
        self.spent: list[dict[str, float]] = []
        # Upper bounds of each person's loyalty enrolment chance, from traits drawn once;
        # set at the first step, after anyone (the calibration hold-out) has set traits.
        self._enrol_ceiling: np.ndarray | None = None
        # Each firm's customers when the last step closed: the next step starts with them
        # (nothing between steps changes who buys where; before the first step, anyone
        # may set the population, so the first step groups the customers itself).
        self._customers_at_close: list[np.ndarray] | None = None
        self._customers: mesa.agentset.AbstractAgentSet[Customer] | None = None
        self._customer_agents: list[Customer] = []
        # numpy or numba for the step's own passes over everybody (same bytes either way)
        self.kernels = kernel_backend(population.n)
        self.engine: Engine = make_engine(self.engine_name, self.state, self._customer_list)
        self.datacollector = mesa.DataCollector(
            model_reporters={f"focal_{name}": _focal(name) for name in FOCAL_REPORTERS},
            agenttype_reporters={
                Firm: FIRM_REPORTERS,
                Competitor: FIRM_REPORTERS,
                Customer: CUSTOMER_REPORTERS,
            },
        )

    # -- views of the market state ---------------------------------------------------------
    @property
    def population(self) -> CustomerPopulation:
        """Every person's state, one row each."""
        return self.state.population

    @property
    def graph(self) -> SocialGraph:
        """The social graph people talk over."""
        return self.state.graph

    @property
    def ledger(self) -> Ledger:
        """Event counts and money of the current (or last) step."""
        return self.state.ledger

    @property
    def firm_names(self) -> tuple[str, ...]:
        """Names of the firms, the focal firm first."""
        return self.state.firm_names

    @property
    def n_firms(self) -> int:
        """Firms in the market."""
        return self.state.n_firms

    @property
    def focal_firm(self) -> Firm:
        """The firm whose policy is being tested (the first firm)."""
        return self._firm_list[0]

    @property
    def customers(self) -> mesa.agentset.AbstractAgentSet[Customer] | None:
        """Every person as a Mesa agent (an AgentSet), created on first use; None if nobody.

        The agents are views on the population arrays, so creating them late changes
        nothing in the run; the vectorized engine never needs them. Until this is first
        read (or the per-agent engine runs), Mesa's ``model.agents`` and
        ``model.agents_by_type`` hold the firms, suppliers and employees only.
        """
        self._customer_list()
        return self._customers

    def customer(self, index: int) -> Customer:
        """The Customer agent of person `index` (creates the customer agents on first use)."""
        return self._customer_list()[index]

    def _customer_list(self) -> list[Customer]:
        """The Customer agents, person `i` at position `i`, created on the first call."""
        if self._customers is None and self.state.population.n:
            with _cyclic_gc_paused():
                self._customer_agents = [
                    Customer(self, self.state, i) for i in range(self.state.population.n)
                ]
            self._customers = self.agents_by_type[Customer]
        return self._customer_agents

    def _initial_revenue(self) -> None:
        """Revenue history of the initial customers, at their current spend rate."""
        pop = self.state.population
        active = np.flatnonzero(pop.firm >= 0)
        m = self.params.market
        yearly = (
            pop.base_spend[active]
            * tenure_spend_multiplier(
                pop.tenure[active] / self.steps_per_year,
                m.tenure_spend_gain,
                m.spend_ramp_years,
            )
            * pop.purchase_rate[active]
            * self.state.prices[pop.firm[active]]
        )
        pop.annual_revenue[active] = yearly
        pop.revenue_with_firm[active] = yearly * pop.tenure[active] / self.steps_per_year

    # -- the step -------------------------------------------------------------------------
    def step(self) -> None:
        """Advance the market by one period (see the module docstring for the order)."""
        state, firms = self.state, self.firms
        pop = state.population
        state.step = self.steps
        state.ledger = Ledger(state.n_firms)
        customers_of = self._customers_at_close
        if customers_of is None:
            customers_of = group_customers(self.kernels, pop.firm, state.n_firms)
        state.ledger.customers_at_start = np.array([c.size for c in customers_of], dtype=float)
        pop.deterred *= np.float32(state.deterrence_decay)
        forget(pop.aware, pop.firm, pop.former_firm, self.p_forget, state.rng)

        pop.annual_revenue *= 1.0 - 1.0 / self.steps_per_year
        for firm, mine in zip(firms, customers_of, strict=True):
            firm.n_customers = mine.size
        firms.do("operate")
        firms.do("plan")
        state.see_firms(firms)
        state.poaching_rates = poaching_rates(self.params.market, firms)
        self.spent = [
            {"advertising": firm.spend["advertising"], "service_level": firm.spend["service_level"]}
            for firm in firms
        ]

        care_for_customers(state, firms, customers_of, self.spent)
        if self._enrol_ceiling is None:
            self._enrol_ceiling = enrolment_ceiling(state)
        run_loyalty_programs(state, firms, customers_of, self.spent, self._enrol_ceiling)
        sell_upgrades(state, firms, customers_of, self.spent)
        self.engine.stay_or_leave()
        buyers, failed, complained, supply_failed = self.engine.buy()
        outcome = handle_complaints(state, firms, buyers, complained, self.spent)
        state.ledger.service_failures += np.bincount(
            pop.firm[buyers[failed]].astype(np.intp), minlength=state.n_firms
        )
        state.ledger.supply_failures += np.bincount(
            pop.firm[buyers[supply_failed]].astype(np.intp), minlength=state.n_firms
        )
        self.engine.feel(buyers, failed, outcome, supply_failed)
        self.engine.talk()
        promotion_targets, visit_targets = send_acquisition_offers(state, firms, self.spent)
        self.engine.consider(promotion_targets, visit_targets)

        # customers age by a step in the pass that groups them by firm and counts them
        customers_of, record = close_step(state, firms, self.spent, self.kernels)
        self._customers_at_close = customers_of
        self.records.append(record)
        firms.do("react")
        self.running = self.steps < self.params.simulation.steps
        self.datacollector.collect(self)

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
        columns: dict[str, Any] = {
            "step": np.repeat(np.arange(1, n + 1), self.n_firms),
            "firm": np.tile(np.array(self.firm_names, dtype=object), n),
        }
        for key in self.records[0]:
            columns[key] = np.concatenate([r[key] for r in self.records])
        return pd.DataFrame(columns)

    def record_transactions(
        self, keep: np.ndarray | None = None, firms: np.ndarray | None = None
    ) -> None:
        """Log every purchase from now on (for :meth:`transactions`).

        ``keep``: a boolean mask of the people to log (a sample; None = everybody);
        ``firms``: indices of the firms whose purchases are logged (None = every firm).
        Off unless called, so runs that write no log pay nothing.
        """
        self.state.purchase_log = PurchaseLog(keep, firms)

    def transactions(self) -> pd.DataFrame:
        """The purchases logged since :meth:`record_transactions`: customer_id, date,
        amount (money), firm; dates from ``simulation.start_date`` and ``step_length``."""
        log = self.state.purchase_log or PurchaseLog(None, np.empty(0, dtype=np.intp))
        sim = self.params.simulation
        return log.frame(self.firm_names, sim.start_date, sim.step_length)

    def calibration(self, burn_in_steps: int | None = None) -> pd.DataFrame:
        """The source facts measured on this run: name, measured, target, band, ok, method."""
        pop = self.state.population
        return calibration_table(
            self.results(),
            steps_per_year=self.steps_per_year,
            tenure=pop.tenure,
            firm=pop.firm,
            annual_revenue=pop.annual_revenue,
            revenue_with_firm=pop.revenue_with_firm,
            burn_in_steps=burn_in_steps,
            serving_cost=serving_cost_per_customer_year(self.params),
        )

    def cohort_clv(self) -> pd.DataFrame:
        """Each acquisition cohort's value per firm: realised within the horizon, and its
        expected lifetime value ``clv`` (realised plus the survivors' expected remaining
        margin: their current margin per step, kept at the firm's retention per step
        measured over the last year, discounted; :meth:`CohortValue.remaining`)."""
        state, pop = self.state, self.state.population
        recent = [r["retention_rate"] for r in self.records[-self.steps_per_year :]]
        with np.errstate(divide="ignore", invalid="ignore"):
            rates = np.clip(np.array(recent, dtype=float), 1e-12, 1.0)
            retention = np.exp(np.log(rates).mean(axis=0)) if recent else np.zeros(state.n_firms)
            share = np.where(state.prices > 0, 1.0 - state.unit_costs / state.prices, 0.0)
        active = np.flatnonzero(pop.firm >= 0)
        firm = pop.firm[active].astype(np.intp)
        margin = margin_per_step(
            pop.tenure[active],
            pop.annual_revenue[active],
            pop.revenue_with_firm[active],
            share[firm] if share.size else np.zeros(firm.size),
            self.steps_per_year,
        )
        remaining = state.cohorts.remaining(
            firm, pop.acquired_step[active], margin, retention, self.steps
        )
        return state.cohorts.table(self.firm_names, self.steps, remaining)
