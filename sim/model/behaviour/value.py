"""Customer delivered value and choice among firms (Kotler; multinomial logit)."""

from __future__ import annotations

import numpy as np

__all__ = [
    "N_VALUE_PARTS",
    "VALUE_PARTS",
    "choose_firm",
    "delivered_value",
    "draw_value_weights",
    "signed_offer",
]

VALUE_PARTS = (
    "product",
    "service",
    "personnel",
    "image",
    "price",
    "time",
    "effort",
    "psychic",
)
N_VALUE_PARTS = len(VALUE_PARTS)


def draw_value_weights(n: int, concentration: float, rng: np.random.Generator) -> np.ndarray:
    """Per-customer weights of the value parts: benefits and costs each sum to 1.

    Different customers weigh the parts differently (age, income, circumstances; F4).
    """
    alpha = np.full(4, concentration)
    benefits = rng.dirichlet(alpha, size=n)
    costs = rng.dirichlet(alpha, size=n)
    return np.hstack([benefits, costs])


def signed_offer(
    product: float,
    service: float,
    personnel: float,
    image: float,
    price_ratio: float,
    time: float,
    effort: float,
    psychic: float,
    cost_weight: float,
) -> np.ndarray:
    """One firm's offer as a vector whose dot product with weights is delivered value.

    Delivered value = total customer value - total customer cost (Kotler), with price
    expressed relative to the market's reference price.
    """
    c = -cost_weight
    return np.array(
        [product, service, personnel, image, c * price_ratio, c * time, c * effort, c * psychic]
    )


def delivered_value(weights: np.ndarray, offers: np.ndarray) -> np.ndarray:
    """Delivered value of each offer to each customer.

    weights: (n, 8) or (8,); offers: (F, 8) signed offers. Returns (n, F) or (F,).

    >>> w = np.array([0.25] * 8)
    >>> float(delivered_value(w, np.array([[1, 1, 1, 1, 1, 1, 1, 1.0]]))[0])
    2.0
    """
    return weights @ offers.T


def choose_firm(
    utilities: np.ndarray, outside_utility: float, rng: np.random.Generator
) -> np.ndarray:
    """Multinomial-logit choice by the Gumbel-max trick; -1 means the outside option.

    utilities: (n, F) with -inf for firms not in the consideration set.
    Exactly reproduces logit probabilities exp(u_f) / (exp(u_0) + sum_g exp(u_g)).
    """
    u = np.atleast_2d(utilities)
    n, n_firms = u.shape
    noisy = np.empty((n, n_firms + 1))
    noisy[:, :n_firms] = u
    noisy[:, n_firms] = outside_utility
    noisy += rng.gumbel(size=noisy.shape)
    best = noisy.argmax(axis=1)
    return np.where(best == n_firms, -1, best)
