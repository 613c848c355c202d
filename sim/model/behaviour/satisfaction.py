"""Satisfaction by expectation-disconfirmation, likelihood to recommend, NPS classes (F5)."""

from __future__ import annotations

import numpy as np

__all__ = [
    "likelihood_to_recommend",
    "transaction_satisfaction",
    "update_toward",
]


def transaction_satisfaction(
    performance: np.ndarray | float,
    expectation: np.ndarray | float,
    desired: float,
    expectation_weight: float,
    desire_weight: float,
    baseline: float,
) -> np.ndarray:
    """Satisfaction (0-1) with one purchase.

    Perceived performance is compared with what the customer expected (expectation
    congruency) and with what they desire (desire congruency); both feed overall
    satisfaction (Oliver 1980; Spreng, MacKenzie & Olshavsky 1996).
    """
    z = (
        baseline
        + expectation_weight * (performance - expectation)
        + desire_weight * (performance - desired)
    )
    return 1.0 / (1.0 + np.exp(-z))


def update_toward(
    current: np.ndarray | float, target: np.ndarray | float, rate: float
) -> np.ndarray | float:
    """Exponential smoothing: move `current` a share `rate` of the way to `target`.

    >>> update_toward(0.5, 1.0, 0.25)
    0.625
    """
    return current + rate * (target - current)


def likelihood_to_recommend(satisfaction: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """The 0-10 'would you recommend us' answer implied by satisfaction and a personal bias.

    >>> likelihood_to_recommend(np.array([0.0, 0.5, 1.0]), np.zeros(3)).tolist()
    [0, 5, 10]
    """
    raw = np.floor(11.0 * np.asarray(satisfaction) + bias)
    return np.clip(raw, 0, 10).astype(np.int8)
