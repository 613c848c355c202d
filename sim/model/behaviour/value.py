"""Customer delivered value and choice among firms (Kotler; multinomial logit)."""

from __future__ import annotations

import numpy as np

__all__ = [
    "N_VALUE_PARTS",
    "VALUE_PARTS",
    "choice_utilities",
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


def draw_value_weights(
    n: int, concentration: float, rng: np.random.Generator, dtype: type = np.float64
) -> np.ndarray:
    """Per-customer weights of the value parts: benefits and costs each sum to 1.

    Different customers weigh the parts differently (age, income, circumstances; F4).
    Written straight into one (n, 8) array of `dtype` (the population stores float32):
    the same values as stacking the two draws and converting, without two copies of the
    whole array (about a second at ten million people).
    """
    alpha = np.full(4, concentration)
    weights: np.ndarray = np.empty((n, 2 * len(alpha)), dtype=dtype)
    weights[:, :4] = rng.dirichlet(alpha, size=n)
    weights[:, 4:] = rng.dirichlet(alpha, size=n)
    return weights


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


def choice_utilities(
    values: np.ndarray,
    deterred: np.ndarray,
    offered: np.ndarray,
    visited: np.ndarray,
    aware: np.ndarray,
    sensitivities: tuple[float, float, float, float],
) -> np.ndarray:
    """Logit utilities of the firms a person knows (-inf for the others).

    `sensitivities`: utility per unit of delivered value, of deterrence, of a promotion
    offer and of a sales visit. A Python float times the float32 `deterred` is computed
    in float32 (numpy's promotion rules), which the compiled form repeats.

    >>> choice_utilities(np.array([[1.0, 2.0]]), np.zeros((1, 2), np.float32),
    ...                  np.array([[True, False]]), np.zeros((1, 2), bool),
    ...                  np.array([[True, False]]), (2.0, 1.0, 0.5, 1.0)).tolist()
    [[2.5, -inf]]
    """
    value_sensitivity, deterrence, promotion, visit = sensitivities
    u = value_sensitivity * values - deterrence * deterred + promotion * offered + visit * visited
    return np.where(aware, u, -np.inf)


def choose_firm(
    utilities: np.ndarray, outside_utility: float, rng: np.random.Generator
) -> np.ndarray:
    """Multinomial-logit choice; -1 means the outside option.

    utilities: (n, F) with -inf for firms not in the consideration set.
    Exactly reproduces logit probabilities exp(u_f) / (exp(u_0) + sum_g exp(u_g)): one
    uniform per person placed on the cumulated probabilities (inverse CDF), the same law
    as the Gumbel-max trick with one draw per person and option, drawn with 1 / (F + 1)
    of the random numbers (issue 14). A firm with probability 0 (utility -inf) is never
    chosen: its cumulated probability equals its predecessor's.
    """
    u = np.atleast_2d(utilities)
    n, n_firms = u.shape
    weight = np.empty((n, n_firms + 1))
    weight[:, :n_firms] = u
    weight[:, n_firms] = outside_utility
    weight -= weight.max(axis=1, keepdims=True)  # the largest is exp(0) = 1: no overflow
    np.exp(weight, out=weight)
    cum = np.cumsum(weight, axis=1)
    r = rng.random(n) * cum[:, -1]
    best = (r[:, None] >= cum).sum(axis=1).clip(max=n_firms)
    return np.where(best == n_firms, -1, best)
