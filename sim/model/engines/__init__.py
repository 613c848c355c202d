"""Engines that run the customer phases of a step: vectorized (default) or per-agent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.model.engines.agent import AgentEngine
from sim.model.engines.vectorized import VectorizedEngine

if TYPE_CHECKING:
    from sim.model.market import MarketModel

__all__ = ["ENGINES", "AgentEngine", "VectorizedEngine", "make_engine"]

ENGINES = {"vectorized": VectorizedEngine, "agent": AgentEngine}


def make_engine(name: str, model: MarketModel) -> VectorizedEngine | AgentEngine:
    """The engine called `name`, bound to `model`."""
    try:
        return ENGINES[name](model)
    except KeyError:
        raise ValueError(f"unknown engine '{name}'; choose one of {sorted(ENGINES)}") from None
