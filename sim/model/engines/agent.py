"""The per-agent reference engine: each customer's phases in plain Mesa style.

Slow but readable: every customer runs its own phase methods, one at a time, in a
fresh random order each phase (drawn from the model's generator). Phases are
synchronous like the vectorized engine's: what customers say this step is heard by
the others in the next phase, so both engines run the same stochastic process.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.model.agents.customers import Customer
    from sim.model.market import MarketModel

__all__ = ["AgentEngine"]


class AgentEngine:
    """Customer phases as one method call per customer (engine='agent')."""

    name = "agent"

    def __init__(self, model: MarketModel) -> None:
        self.model = model

    def _in_random_order(self) -> list[Customer]:
        agents = self.model.customers.to_list()
        return [agents[i] for i in self.model.rng.permutation(len(agents))]

    def stay_or_leave(self) -> None:
        """Each customer decides to stay, leave or switch."""
        for customer in self._in_random_order():
            customer.stay_or_leave()

    def buy(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Each customer buys or not; returns (buyers, failed, complained, supply_failed)."""
        model = self.model
        model.purchase_log = []
        for customer in self._in_random_order():
            customer.buy()
        log = model.purchase_log
        buyers = np.array([row[0] for row in log], dtype=np.intp)
        failed = np.array([row[1] for row in log], dtype=bool)
        complained = np.array([row[2] for row in log], dtype=bool)
        supply_failed = np.array([row[3] for row in log], dtype=bool)
        return buyers, failed, complained, supply_failed

    def feel(
        self, buyers: np.ndarray, failed: np.ndarray, outcome: np.ndarray, supply_failed: np.ndarray
    ) -> None:
        """Buyers update satisfaction; every customer refreshes their recommend score."""
        model = self.model
        agents = model.customers.to_list()
        rows = zip(
            buyers.tolist(), failed.tolist(), outcome.tolist(), supply_failed.tolist(), strict=True
        )
        for i, f, o, sf in rows:
            agents[i].feel(f, o, sf)
        model.new_detractors = []
        for customer in self._in_random_order():
            customer.update_ltr()
        pop = model.population
        for i in model.new_detractors:
            model.ledger.detractor_episodes[pop.firm[i]] += 1
        model.venting = set(model.new_detractors)

    def talk(self) -> None:
        """Promoters and new detractors talk to their contacts."""
        self.model.agent_inbox = defaultdict(list)
        for customer in self._in_random_order():
            customer.talk()

    def consider(self) -> None:
        """Non-customers act on what reached them and may choose a firm."""
        for customer in self._in_random_order():
            customer.consider()
