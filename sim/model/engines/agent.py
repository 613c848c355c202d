"""The per-agent reference engine: each customer's phases in plain Mesa style.

Slow but readable: every customer runs its own phase methods, one at a time, in a
fresh random order each phase (drawn from the market's generator). Phases are
synchronous like the vectorized engine's: what customers say this step is heard by
the others in the next phase, so both engines run the same stochastic process.

What one phase hands to a later phase of the same step (who bought, who vents, who was
referred to which firm) is this engine's scratch, passed to the customers' methods and
collected from their return values; the market model holds none of it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from sim.model.agents.customers import Customer
from sim.model.behaviour.churn import REASON_LAPSED
from sim.model.state import MarketState

__all__ = ["AgentEngine"]


class AgentEngine:
    """Customer phases as one method call per customer (engine='agent').

    `customers` are the Customer agents, customer `i` at position `i`.
    """

    name = "agent"

    def __init__(self, state: MarketState, customers: Sequence[Customer]) -> None:
        self.state = state
        self.customers = list(customers)
        # scratch of the current step, from one phase to the next
        self._venting: set[int] = set()
        self._inbox: defaultdict[int, list[tuple[int, bool]]] = defaultdict(list)
        self._lapsing: list[int] = []  # buyers who lapse after this step's purchase

    def _in_random_order(self) -> list[Customer]:
        agents = self.customers
        return [agents[i] for i in self.state.rng.permutation(len(agents))]

    def stay_or_leave(self) -> None:
        """Each customer decides to stay, leave or switch."""
        for customer in self._in_random_order():
            customer.stay_or_leave()

    def buy(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Each customer buys or not; returns (buyers, failed, complained, supply_failed)."""
        log = [p for c in self._in_random_order() if (p := c.buy()) is not None]
        buyers = np.array([p.index for p in log], dtype=np.intp)
        failed = np.array([p.failed for p in log], dtype=bool)
        complained = np.array([p.complained for p in log], dtype=bool)
        supply_failed = np.array([p.supply_failed for p in log], dtype=bool)
        self._lapsing = [p.index for p in log if p.lapses]  # they leave before consider()
        return buyers, failed, complained, supply_failed

    def feel(
        self, buyers: np.ndarray, failed: np.ndarray, outcome: np.ndarray, supply_failed: np.ndarray
    ) -> None:
        """Buyers update satisfaction; every customer refreshes their recommend score."""
        state, agents = self.state, self.customers
        rows = zip(
            buyers.tolist(), failed.tolist(), outcome.tolist(), supply_failed.tolist(), strict=True
        )
        for i, f, o, sf in rows:
            agents[i].feel(f, o, sf)
        new_detractors = [c.index for c in self._in_random_order() if c.update_ltr()]
        firm = state.population.firm
        for i in new_detractors:
            state.ledger.detractor_episodes[firm[i]] += 1
        self._venting = set(new_detractors)

    def talk(self) -> None:
        """Promoters and new detractors talk to their contacts."""
        self._inbox = defaultdict(list)
        for customer in self._in_random_order():
            firm = customer.firm
            for contact, weak in customer.talk(venting=customer.index in self._venting):
                self._inbox[contact].append((firm, weak))

    def consider(
        self, promotion_targets: Sequence[np.ndarray], visit_targets: Sequence[np.ndarray]
    ) -> None:
        """Non-customers act on what reached them and may choose a firm.

        `promotion_targets` and `visit_targets` hold, per firm, the people it sent a
        promotion or a sales visit this step.
        """
        for i in self._lapsing:
            self.state.lose_customer(i, REASON_LAPSED)
        self._lapsing = []
        n_firms, n = self.state.n_firms, len(self.customers)
        offered = np.zeros((n_firms, n), dtype=bool)
        visited = np.zeros((n_firms, n), dtype=bool)
        for f in range(n_firms):
            offered[f, promotion_targets[f]] = True
            visited[f, visit_targets[f]] = True
        inbox = self._inbox
        for customer in self._in_random_order():
            i = customer.index
            customer.consider(inbox.get(i, ()), offered[:, i], visited[:, i])
