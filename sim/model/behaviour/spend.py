"""Purchases and how spend grows with tenure (F2: loyal customers spend 2-4x)."""

from __future__ import annotations

import numpy as np

__all__ = ["draw_base_spend", "draw_purchases", "tenure_spend_multiplier"]


def draw_base_spend(n: int, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Lognormal basic units per purchase with mean 1; sigma sets the 80/20 skew."""
    return rng.lognormal(mean=-0.5 * sigma**2, sigma=sigma, size=n)


def tenure_spend_multiplier(
    tenure_years: np.ndarray, loyal_multiplier: float, ramp_years: float
) -> np.ndarray:
    """Spend relative to a new customer: rises linearly to `loyal_multiplier` over the ramp.

    >>> tenure_spend_multiplier(np.array([0.0, 1.5, 3.0, 9.0]), 3.0, 3.0).tolist()
    [1.0, 2.0, 3.0, 3.0]
    """
    ramp = np.minimum(np.asarray(tenure_years) / ramp_years, 1.0)
    return 1.0 + (loyal_multiplier - 1.0) * ramp


def draw_purchases(
    expected_per_step: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Whether each customer buys this step, and how many purchases that is.

    Below one expected purchase per step a customer buys once with that probability;
    above it they buy every step that many times. Either way the mean is exact.
    """
    lam = np.asarray(expected_per_step, dtype=float)
    bought = rng.random(lam.shape) < lam
    quantity = np.where(bought, np.maximum(lam, 1.0), 0.0)
    return bought, quantity
