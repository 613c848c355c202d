"""Why customers leave: competing churn hazards, and switching to a rival's offer."""

from __future__ import annotations

import numpy as np

__all__ = [
    "CHURN_REASONS",
    "OWN_CHURN_REASONS",
    "REASON_COMPETITOR",
    "REASON_LAPSED",
    "churn_hazards_per_year",
    "churn_modifier",
    "draw_churn",
    "draw_churn_thinned",
    "draw_lapses",
    "hazard_bound_per_year",
    "switch_probability",
    "total_hazard",
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


def churn_modifier(
    proneness: np.ndarray | float,
    member: np.ndarray | bool,
    referred: np.ndarray | bool,
    promotion_won: np.ndarray | bool,
    *,
    member_reduction: float,
    referred_multiplier: float,
    promotion_multiplier: float,
) -> np.ndarray:
    """Multiplier of every churn hazard: the person's own proneness (dropout propensity
    and engagement, drawn once), membership, referred and promotion-won customers.

    >>> churn_modifier(np.array([1.0, 2.0]), np.array([True, False]), True, False,
    ...                member_reduction=0.5, referred_multiplier=0.5,
    ...                promotion_multiplier=3.0).tolist()
    [0.25, 1.0]
    """
    return (
        np.asarray(proneness, dtype=float)
        * (1.0 - member_reduction * np.asarray(member))
        * np.where(referred, referred_multiplier, 1.0)
        * np.where(promotion_won, promotion_multiplier, 1.0)
    )


def total_hazard(hazards_per_year: np.ndarray) -> np.ndarray:
    """Each row's sum of the reasons' hazards.

    Added reason by reason, in the order ``h.sum(axis=1)`` adds them, but over contiguous
    columns when h is reason-major (:func:`churn_hazards_per_year`).

    >>> total_hazard(np.array([[0.5, 0.25, 0.0, 0.25]])).tolist()
    [1.0]
    """
    h = np.atleast_2d(hazards_per_year)
    total = h[:, 0].copy()
    for k in range(1, h.shape[1]):
        total += h[:, k]
    return total


def _reasons(h: np.ndarray, total: np.ndarray, u: np.ndarray, p_leave: np.ndarray) -> np.ndarray:
    """Reason index of each row with u < p_leave (-1 for the others): u / p_leave is uniform
    on [0, 1) given that the row leaves, and picks a reason in proportion to its hazard."""
    leaves = u < p_leave
    reasons = np.full(total.shape, -1, dtype=np.int8)
    if leaves.any():
        share = np.cumsum(h[leaves], axis=1) / total[leaves, None]
        pick = (u[leaves] / p_leave[leaves])[:, None]
        reasons[leaves] = (pick >= share).sum(axis=1).clip(max=h.shape[1] - 1)
    return reasons


def draw_churn(
    hazards_per_year: np.ndarray, steps_per_year: int, rng: np.random.Generator
) -> np.ndarray:
    """Draw who leaves this step and why: reason index, or -1 for staying.

    The step's leaving probability is 1 - exp(-sum of hazards / steps per year); the
    reason is drawn in proportion to each hazard (competing risks).
    """
    h = np.atleast_2d(hazards_per_year)
    total = total_hazard(h)
    p_leave = -np.expm1(-total / steps_per_year)
    return _reasons(h, total, rng.random(total.shape), p_leave)


def hazard_bound_per_year(
    satisfaction: np.ndarray,
    unresolved_complaint: np.ndarray,
    price_ratio_cap: float,
    modifier_bound: np.ndarray,
    **churn_kwargs: float,
) -> np.ndarray:
    """An upper bound of each customer's total yearly hazard that holds until their
    satisfaction falls or a complaint of theirs is left unresolved.

    The hazards of :func:`churn_hazards_per_year` with the neglect factor at its limit 1
    (care long ago), every firm's price at most `price_ratio_cap` times the reference and
    `modifier_bound` no smaller than the churn modifier (a member's is the non-member's
    times 1 - reduction). Each term is monotone in what it bounds, so the bound holds in
    floating point too, not only in exact arithmetic.
    """
    return total_hazard(
        churn_hazards_per_year(
            satisfaction,
            np.inf,
            unresolved_complaint,
            price_ratio_cap,
            modifier_bound,
            **churn_kwargs,
        )
    )


def draw_churn_thinned(
    hazards_per_year: np.ndarray,
    bound_per_year: np.ndarray,
    steps_per_year: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """:func:`draw_churn` for candidates drawn at a bound on their hazard (thinning).

    Why: a customer is a candidate at a step with probability q = 1 - exp(-bound / steps
    per year), drawn ahead as a geometric wait (:func:`next_event_steps`), so only the
    candidates' hazards are computed, a few customers in a hundred a week. A candidate
    leaves with probability p / q, p = 1 - exp(-hazard / steps per year) <= q: over the
    step, q * p / q = p, the law of :func:`draw_churn`; the reason is drawn in proportion
    to each hazard as there (u uniform on [0, q), u < p, then u / p).
    """
    h = np.atleast_2d(hazards_per_year)
    total = total_hazard(h)
    p_leave = -np.expm1(-total / steps_per_year)
    q = -np.expm1(-np.asarray(bound_per_year, dtype=float) / steps_per_year)
    return _reasons(h, total, rng.random(total.shape) * q, p_leave)


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
