"""Why customers leave: competing churn hazards, and switching to a rival's offer."""

from __future__ import annotations

import numpy as np

__all__ = [
    "CHURN_REASONS",
    "OWN_CHURN_REASONS",
    "REASON_COMPETITOR",
    "REASON_LAPSED",
    "churn_hazards_per_year",
    "draw_churn",
    "draw_lapses",
    "switch_probability",
]

CHURN_REASONS = ("insufficient_care", "dissatisfaction", "price", "other", "competitor")
"""Reasons a churn event carries; 'competitor' is a switch to a rival's better offer."""
OWN_CHURN_REASONS = CHURN_REASONS[:4]
REASON_COMPETITOR = CHURN_REASONS.index("competitor")
REASON_LAPSED = CHURN_REASONS.index("other")
"""A lapse after a repeat purchase (BG/NBD's dropout: the need ended) is booked as 'other'."""


def churn_hazards_per_year(
    satisfaction: np.ndarray | float,
    weeks_since_care: np.ndarray | float,
    unresolved_complaint: np.ndarray | bool,
    price_ratio: np.ndarray | float,
    modifier: np.ndarray | float,
    *,
    neglect_per_year: float,
    neglect_weeks: float,
    neglect_satisfaction_exponent: float,
    unresolved_per_year: float,
    dissatisfaction_per_year: float,
    satisfaction_convexity: float,
    price_per_year: float,
    base_per_year: float,
) -> np.ndarray:
    """Yearly churn hazard of each own reason, shape (..., 4) in OWN_CHURN_REASONS order.

    - insufficient care grows with time since the firm last cared for the customer and
      jumps while a complaint is unresolved (F2: two thirds leave for lack of care); the
      less satisfied a neglected customer is, the sooner they drift away (scaled by
      ((1 - satisfaction) / 0.3) ** exponent, 1 at satisfaction 0.7);
    - dissatisfaction is convex: (1 - satisfaction)^k, so very satisfied customers
      almost never leave for it (Heskett et al. 1994, the Xerox finding);
    - price grows with the price above the reference price;
    - other is a constant background (moving away, no longer needing the product).
    `modifier` scales every hazard (loyalty membership, referred or promotion-won customers).
    """
    s = np.asarray(satisfaction, dtype=float)
    indifference = (np.clip(1.0 - s, 0.0, 1.0) / 0.3) ** neglect_satisfaction_exponent
    care = (
        neglect_per_year
        * indifference
        * (1.0 - np.exp(-np.asarray(weeks_since_care) / neglect_weeks))
    )
    care = care + unresolved_per_year * np.asarray(unresolved_complaint)
    dissatisfaction = (
        dissatisfaction_per_year * np.clip(1.0 - s, 0.0, 1.0) ** satisfaction_convexity
    )
    price = price_per_year * np.maximum(np.asarray(price_ratio) - 1.0, 0.0)
    modifier = np.asarray(modifier)
    # Reason-major storage (each reason's hazards contiguous, returned as a (..., 4) view):
    # four multiplications into place instead of a stack and a broadcast product over an
    # interleaved (n, 4) array, with the same values (issue 14).
    hazards = np.empty((len(OWN_CHURN_REASONS), *np.broadcast(s, modifier).shape))
    np.multiply(care, modifier, out=hazards[0, ...])
    np.multiply(dissatisfaction, modifier, out=hazards[1, ...])
    np.multiply(price, modifier, out=hazards[2, ...])
    np.multiply(base_per_year, modifier, out=hazards[3, ...])
    return np.moveaxis(hazards, 0, -1)


def draw_churn(
    hazards_per_year: np.ndarray, steps_per_year: int, rng: np.random.Generator
) -> np.ndarray:
    """Draw who leaves this step and why: reason index, or -1 for staying.

    The step's leaving probability is 1 - exp(-sum of hazards / steps per year); the
    reason is drawn in proportion to each hazard (competing risks).
    """
    h = np.atleast_2d(hazards_per_year)
    # the row sums added reason by reason, in the order h.sum(axis=1) adds them, but
    # over contiguous columns when h is reason-major (churn_hazards_per_year)
    total = h[:, 0].copy()
    for k in range(1, h.shape[1]):
        total += h[:, k]
    p_leave = -np.expm1(-total / steps_per_year)
    u = rng.random(total.shape)
    leaves = u < p_leave
    reasons = np.full(total.shape, -1, dtype=np.int8)
    if leaves.any():
        share = np.cumsum(h[leaves], axis=1) / total[leaves, None]
        pick = (u[leaves] / p_leave[leaves])[:, None]
        reasons[leaves] = (pick >= share).sum(axis=1).clip(max=h.shape[1] - 1)
    return reasons


def draw_lapses(dropout: np.ndarray, repeat: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Which buyers lapse right after this step's purchase: after a repeat purchase, each
    with its own chance p.

    BG/NBD's dropout (Fader, Hardie & Lee 2005): after any repeat transaction a customer
    becomes inactive with probability p, p ~ Beta(a, b) across people; the first (trial)
    purchase is never followed by a dropout (its likelihood has the customer alive until
    the first repeat). ``repeat``: the buyer had bought from the firm before. One draw per
    buyer and step (drawn for every buyer, so the stream does not depend on ``repeat``): a
    step's purchases count as one transaction, as the RFM summary counts purchases in
    distinct periods. Used when ``market.heterogeneity.dropout = "after_purchase"``.

    >>> draw_lapses(np.array([0.0, 1.0, 1.0]), np.array([True, True, False]),
    ...             np.random.default_rng(0)).tolist()
    [False, True, False]
    """
    p = np.asarray(dropout, dtype=float)
    return (rng.random(p.shape) < p) & np.asarray(repeat, dtype=bool)


def switch_probability(
    value_gain: np.ndarray | float,
    satisfaction: np.ndarray | float,
    switching_cost: np.ndarray | float,
    deterred_from_rival: np.ndarray | float,
    *,
    value_sensitivity: float,
    satisfaction_stickiness: float,
    deterrence_utility: float,
) -> np.ndarray:
    """Chance that a customer who hears a rival's offer switches to it.

    The rival must beat the customer's switching cost (technical and psychological
    barriers, F5): logit of value_sensitivity * (rival value - own value), less
    attachment from satisfaction, less the switching cost and any deterrence.
    """
    z = (
        value_sensitivity * np.asarray(value_gain)
        - satisfaction_stickiness * (np.asarray(satisfaction) - 0.7)
        - np.asarray(switching_cost)
        - deterrence_utility * np.asarray(deterred_from_rival)
    )
    return 1.0 / (1.0 + np.exp(-z))
