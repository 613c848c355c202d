"""Engines that run the customer phases of a step: vectorized (default) or per-agent.

Both work on a :class:`sim.model.state.MarketState`; the per-agent engine also gets the
Customer agents, which the vectorized engine never needs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from sim.model.agents.customers import Customer
from sim.model.engines.agent import AgentEngine
from sim.model.engines.vectorized import VectorizedEngine
from sim.model.state import MarketState

__all__ = ["ENGINES", "AgentEngine", "Engine", "VectorizedEngine", "make_engine"]

ENGINES = ("vectorized", "agent")


class Engine(Protocol):
    """The customer phases of a step, in the order the model calls them."""

    name: str

    def stay_or_leave(self) -> None: ...

    def buy(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]: ...

    def feel(
        self, buyers: np.ndarray, failed: np.ndarray, outcome: np.ndarray, supply_failed: np.ndarray
    ) -> None: ...

    def talk(self) -> None: ...

    def consider(
        self, promotion_targets: Sequence[np.ndarray], visit_targets: Sequence[np.ndarray]
    ) -> None: ...


def make_engine(
    name: str, state: MarketState, customers: Callable[[], Sequence[Customer]]
) -> Engine:
    """The engine called `name` on `state`; `customers` is called only by the per-agent engine."""
    if name == "vectorized":
        return VectorizedEngine(state)
    if name == "agent":
        return AgentEngine(state, customers())
    raise ValueError(f"unknown engine '{name}'; choose one of {sorted(ENGINES)}")
