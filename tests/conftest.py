"""Shared fixtures: small markets that keep the default market's proportions.

The default scenario describes 10,000 people; tests run 2,000-3,000 to stay fast. Money
that is spent per market (marketing budgets, the poaching reference spend) and the staff
that serve it are scaled with the market, so that spend per person, advertising
exposures per person and workload per employee match the default market's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sim.config.schema import Scenario
from sim.model.market import MarketModel


def small_scenario(
    n_customers: int = 2_000,
    steps: int = 52,
    *,
    engine: str = "vectorized",
    competitor_prices: dict[int, float] | None = None,
    market: dict[str, Any] | None = None,
) -> Scenario:
    """The default scenario scaled down to `n_customers` people and `steps` steps.

    Built from a JSON dump rather than ``Scenario.with_updates`` so competitors can be
    edited by position. `competitor_prices` maps a competitor's position to its price;
    `market` overrides top-level market fields (e.g. the discount rate).
    """
    default = Scenario.default()
    scale = n_customers / default.market.n_customers
    data = default.model_dump(mode="json")
    data["simulation"]["steps"] = steps
    data["simulation"]["engine"] = engine
    data["market"]["n_customers"] = n_customers
    data["firm"]["budget_per_year"] *= scale
    for competitor in data["competitors"]:
        competitor["budget_per_year"] *= scale
    if "employees" in data:
        data["employees"]["per_firm"] = max(1, round(data["employees"]["per_firm"] * scale))
    for k, price in (competitor_prices or {}).items():
        data["competitors"][k]["price"] = price
    data["market"].update(market or {})
    return Scenario.model_validate(data)


def initial_customers(model: MarketModel) -> np.ndarray:
    """Customers of each firm in the model's current state (before a run: the start)."""
    firm = model.population.firm
    return np.bincount(firm[firm >= 0], minlength=model.n_firms).astype(float)


@pytest.fixture(scope="session")
def make_small_scenario():
    """Factory of scaled-down default scenarios (see :func:`small_scenario`)."""
    return small_scenario


@pytest.fixture(scope="session", params=["vectorized", "agent"])
def finished_run(request) -> tuple[MarketModel, np.ndarray]:
    """A finished run of each engine and each firm's customers at its start.

    The per-agent engine is slow, so its market is smaller and its run shorter. The
    discount rate is 0 so cohort values can be checked against undiscounted margins.
    """
    if request.param == "vectorized":
        scenario = small_scenario(2_000, 52, market={"discount_rate_per_year": 0.0})
    else:
        scenario = small_scenario(300, 20, engine="agent", market={"discount_rate_per_year": 0.0})
    model = MarketModel(scenario, policy="balanced", seed=11)
    start = initial_customers(model)
    model.run()
    return model, start
