"""Who buys how often and how much: latent traits drawn once, purchases, spend with tenure.

Customers differ (BG/NBD and Gamma-Gamma, Fader, Hardie & Lee 2005): each person has a
purchase rate, a dropout propensity and a spend rate of their own. Loyal customers spend
more than casual ones (F2) mostly because heavy, high-spend, low-dropout people stay; a
modest causal share-of-wallet ramp with tenure remains as its own parameter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.config.schema import HeterogeneitySpec

__all__ = [
    "Traits",
    "churn_proneness",
    "draw_purchases",
    "draw_purchases_thinned",
    "draw_traits",
    "draw_units",
    "tenure_spend_multiplier",
]

ENGAGEMENT_FLOOR = 0.1
"""Lowest expected spend relative to the mean used in churn proneness, so a person who
almost never buys has a large but finite hazard."""


@dataclass(frozen=True)
class Traits:
    """Each person's latent traits, one entry per person."""

    purchase_rate: np.ndarray  # purchases per year while a customer (lambda)
    dropout: np.ndarray  # BG/NBD dropout propensity p
    spend_rate: np.ndarray  # Gamma-Gamma nu: mean units per purchase are p / nu


def draw_traits(n: int, spec: HeterogeneitySpec, rng: np.random.Generator) -> Traits:
    """Draw every person's traits (means only when heterogeneity is off).

    >>> spec = HeterogeneitySpec(enabled=False)
    >>> t = draw_traits(3, spec, np.random.default_rng(0))
    >>> t.purchase_rate.tolist(), (spec.p / t.spend_rate).round(6).tolist()
    ([12.0, 12.0, 12.0], [1.5, 1.5, 1.5])
    """
    if not spec.enabled:
        return Traits(
            np.full(n, spec.mean_rate),
            np.full(n, spec.mean_dropout),
            np.full(n, spec.p / spec.mean_spend),
        )
    return Traits(
        rng.gamma(spec.r, 1.0 / spec.alpha, size=n),
        rng.beta(spec.a, spec.b, size=n),
        rng.gamma(spec.q, 1.0 / spec.gamma, size=n),
    )


def churn_proneness(traits: Traits, spec: HeterogeneitySpec) -> np.ndarray:
    """Multiplier of a person's churn hazards: dropout propensity and engagement.

    (p / E[p]) * (expected yearly spend / its mean) ** -elasticity, normalised to mean 1
    over the people drawn, so the churn hazards keep their meaning for the average person.
    With ``dropout = "after_purchase"`` the factor p / E[p] is 1: p acts through the lapse
    after each purchase instead (:func:`sim.model.behaviour.churn.draw_lapses`).

    >>> t = Traits(np.array([6.0, 24.0]), np.array([0.25, 0.25]), np.array([6.25, 6.25]))
    >>> churn_proneness(t, HeterogeneitySpec(a=1, b=3, engagement_churn_elasticity=1)).tolist()
    [1.6, 0.4]
    """
    if not spec.enabled:
        return np.ones(traits.purchase_rate.shape)
    engagement = traits.purchase_rate * spec.p / traits.spend_rate
    relative = np.maximum(engagement / max(engagement.mean(), 1e-12), ENGAGEMENT_FLOOR)
    dropout = traits.dropout / spec.mean_dropout if spec.dropout == "hazard" else 1.0
    prone = dropout * relative**-spec.engagement_churn_elasticity
    return prone / max(prone.mean(), 1e-12)


def draw_units(
    quantity: np.ndarray, spend_rate: np.ndarray, p: float, enabled: bool, rng: np.random.Generator
) -> np.ndarray:
    """Units bought in `quantity` purchases: Gamma(p * quantity, nu) (Gamma-Gamma), or the
    person's mean p * quantity / nu when heterogeneity is off."""
    quantity = np.asarray(quantity, dtype=float)
    nu = np.asarray(spend_rate, dtype=float)
    if not enabled:
        return p * quantity / nu
    # rng.gamma(shape, scale) is scale * standard_gamma(shape), element by element: the
    # same draws and bytes, without broadcasting a second parameter (a tenth faster);
    # most buyers make one purchase, and a single shape is drawn faster still (issue 14)
    single = quantity.size > 0 and quantity.min() == quantity.max()
    shape = p * quantity[0] if single else p * quantity
    units = rng.standard_gamma(shape, size=quantity.shape)
    units *= 1.0 / nu
    return units


def tenure_spend_multiplier(tenure_years: np.ndarray, gain: float, ramp_years: float) -> np.ndarray:
    """Spend relative to a new customer: rises linearly by `gain` over the ramp.

    >>> tenure_spend_multiplier(np.array([0.0, 1.5, 3.0, 9.0]), 0.2, 3.0).tolist()
    [1.0, 1.1, 1.2, 1.2]
    """
    ramp = np.minimum(np.asarray(tenure_years) / ramp_years, 1.0)
    return 1.0 + gain * ramp


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


def draw_purchases_thinned(
    expected_per_step: np.ndarray, bound_per_step: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`draw_purchases` for candidates drawn at a higher chance (thinning).

    A candidate was drawn with probability q = min(1, bound) >= p = min(1, expected); it
    buys with probability p / q (u uniform on [0, q), u < p), so its chance of buying this
    step is p as in :func:`draw_purchases`; the quantity is the same.

    >>> draw_purchases_thinned(np.array([2.0, 0.0]), np.array([3.0, 1.0]), np.random.default_rng(0))
    (array([ True, False]), array([2., 0.]))
    """
    lam = np.asarray(expected_per_step, dtype=float)
    q = np.minimum(np.asarray(bound_per_step, dtype=float), 1.0)
    bought = rng.random(lam.shape) * q < lam
    quantity = np.where(bought, np.maximum(lam, 1.0), 0.0)
    return bought, quantity
