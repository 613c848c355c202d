"""Suppliers: the relationship ladder, and the quality, reliability and cost it yields (F5, F8)."""

from __future__ import annotations

import numpy as np

__all__ = [
    "RELATIONSHIP_LEVELS",
    "draw_supply_failures",
    "flat_suppliers",
    "relationship_level",
    "supplier_terms",
    "supply_failures",
    "trust_after_step",
]

RELATIONSHIP_LEVELS = (
    "transaction",
    "repeat",
    "long_term",
    "partnership",
    "strategic_alliance",
)


def trust_after_step(
    trust: np.ndarray,
    investment_per_year: float,
    investment_reference: float,
    price_pressure: float,
    *,
    fair_dealing_per_year: float,
    investment_gain_per_year: float,
    squeeze_loss_per_year: float,
    decay_per_year: float,
    steps_per_year: int,
) -> np.ndarray:
    """Trust (0-1) after one step of dealing with the firm.

    Paying fairly and on time slowly builds trust; investing in the partnership builds
    it faster; squeezing the supplier's price erodes it, and an unattended relationship
    slowly decays.
    """
    gain = fair_dealing_per_year + investment_gain_per_year * -np.expm1(
        -max(investment_per_year, 0.0) / investment_reference
    )
    loss = squeeze_loss_per_year * max(price_pressure, 0.0) / 0.1 + decay_per_year
    t = np.asarray(trust, dtype=float)
    t = t + (gain * (1.0 - t) - loss * t) / steps_per_year
    return np.clip(t, 0.0, 1.0)


def relationship_level(trust: np.ndarray) -> np.ndarray:
    """Rung of the ladder (0 transaction ... 4 strategic alliance) for a trust level.

    >>> relationship_level(np.array([0.0, 0.5, 0.99])).tolist()
    [0, 2, 4]
    """
    t = np.asarray(trust)
    return np.minimum((t * len(RELATIONSHIP_LEVELS)).astype(int), len(RELATIONSHIP_LEVELS) - 1)


def supplier_terms(
    level: np.ndarray,
    price_pressure: float,
    *,
    base_quality: float,
    quality_per_level: float,
    base_reliability: float,
    reliability_per_level: float,
    cost_saving_per_level: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(input quality, reliability per step, unit-cost factor) at each relationship level.

    Higher rungs bring better inputs, fewer failures and joint cost savings; squeezing
    lowers the price paid now (the cost factor) at the expense of the relationship.
    """
    lv = np.asarray(level, dtype=float)
    quality = np.clip(base_quality + quality_per_level * lv, 0.0, 1.0)
    reliability = np.clip(base_reliability + reliability_per_level * lv, 0.0, 1.0)
    cost = (1.0 - price_pressure) * (1.0 - cost_saving_per_level * lv)
    return quality, reliability, cost


def draw_supply_failures(
    firm: np.ndarray, failed_by_firm: list[np.ndarray], rng: np.random.Generator
) -> np.ndarray:
    """Whether each purchase meets a supply failure (F8).

    A purchase from firm f draws on one of f's own suppliers, uniformly, and is spoilt if
    that supplier failed to deliver this step; a firm without suppliers has none to fail.
    firm: the firm of each purchase; failed_by_firm[f]: which of f's suppliers failed.
    One uniform per purchase (:func:`supply_failures`).

    >>> draw_supply_failures(np.array([0, 1]), [np.array([True]), np.zeros(0, bool)],
    ...                      np.random.default_rng(0)).tolist()
    [True, False]
    """
    return supply_failures(firm, failed_by_firm, rng.random(np.asarray(firm).size))


def flat_suppliers(failed_by_firm: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each firm's supplier count, the offset of its first supplier, and every firm's
    failures concatenated: the lists of :func:`supply_failures` as three flat arrays.

    >>> [a.tolist() for a in flat_suppliers([np.array([True, False]), np.zeros(0, bool)])]
    [[2, 0], [0, 2], [True, False]]
    """
    counts = np.array([f.size for f in failed_by_firm], dtype=np.intp)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.intp)
    flat = np.concatenate([np.zeros(0, bool), *(np.asarray(f, dtype=bool) for f in failed_by_firm)])
    return counts, starts, flat


def supply_failures(
    firm: np.ndarray, failed_by_firm: list[np.ndarray], u: np.ndarray
) -> np.ndarray:
    """:func:`draw_supply_failures` with its uniforms `u` (one per purchase) given.

    The supplier of a purchase from a firm with n suppliers is floor(u n) (n - 1 at most).

    >>> supply_failures(np.array([0, 0]), [np.array([False, True])],
    ...                 np.array([0.49, 0.5])).tolist()
    [False, True]
    """
    firm = np.asarray(firm, dtype=np.intp)
    counts, starts, flat = flat_suppliers(failed_by_firm)
    n = counts[firm]
    supplier = np.minimum((u * n).astype(np.intp), np.maximum(n - 1, 0))
    out = np.zeros(firm.size, dtype=bool)
    has = n > 0
    out[has] = flat[starts[firm[has]] + supplier[has]]
    return out
