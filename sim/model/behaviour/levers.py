"""What money buys: exposures, offers, visits, contacts, members and service (F6)."""

from __future__ import annotations

import numpy as np

__all__ = [
    "NOT_DUE",
    "bernoulli_positions",
    "bernoulli_successes",
    "care_effect",
    "closeness_to_next_tier",
    "draw_capacity",
    "enrolment_probability",
    "event_steps",
    "exposure_probability",
    "geometric_rates",
    "next_event_steps",
    "saturated_intensity",
    "saturation_share",
    "select_longest_waiting",
    "select_random",
    "service_gain",
    "upgrade_eligible",
    "upgrade_multiplier",
    "upgrade_success_probability",
]


def draw_capacity(spend: float, unit_cost: float, rng: np.random.Generator) -> int:
    """How many units (offers, visits, contacts) a spend buys, rounded stochastically.

    The mean equals spend / unit_cost exactly, so small budgets are not rounded away.
    """
    units = max(spend, 0.0) / unit_cost
    whole = int(units)
    return whole + int(rng.random() < units - whole)


def exposure_probability(exposures_per_person: float, p_per_exposure: float) -> float:
    """Chance at least one of a Poisson number of exposures has an effect.

    >>> round(exposure_probability(0.0, 0.5), 3)
    0.0
    """
    return float(-np.expm1(-exposures_per_person * p_per_exposure))


def saturated_intensity(intensity: float, scale: float) -> float:
    """What `intensity` units per person-year act as: scale * (1 - exp(-intensity / scale)).

    The exponential saturating response of Blattberg & Deighton (1996): concave from the
    first unit (Simon & Arndt 1980), so doubling a lever's spend gains less than the first
    unit did.

    >>> round(saturated_intensity(1.0, 4.0), 4), round(saturated_intensity(2.0, 4.0), 4)
    (0.8848, 1.5739)
    """
    x = max(intensity, 0.0)
    return float(scale * -np.expm1(-x / scale))


def saturation_share(intensity: float, scale: float) -> float:
    """Share of the units bought at `intensity` per person-year that take effect (1 at 0).

    >>> saturation_share(0.0, 4.0), round(saturation_share(4.0, 4.0), 4)
    (1.0, 0.6321)
    """
    if intensity <= 0.0:
        return 1.0
    return saturated_intensity(intensity, scale) / intensity


def enrolment_probability(
    rate_ratio: np.ndarray,
    spend_ratio: np.ndarray,
    satisfaction: np.ndarray,
    *,
    log_odds: float,
    rate_weight: float,
    spend_weight: float,
    satisfaction_weight: float,
) -> np.ndarray:
    """Chance a customer accepts a loyalty-program offer this step: members select themselves.

    Rises with the purchase rate and mean spend relative to the market's (heavy buyers earn
    most rewards) and with satisfaction (Leenheer et al. 2007; Liu 2007).

    >>> enrolment_probability(np.ones(1), np.ones(1), np.full(1, 0.7), log_odds=0.0,
    ...     rate_weight=1, spend_weight=1, satisfaction_weight=1).tolist()
    [0.5]
    """
    z = (
        log_odds
        + rate_weight * np.log(np.maximum(rate_ratio, 1e-12))
        + spend_weight * np.log(np.maximum(spend_ratio, 1e-12))
        + satisfaction_weight * (np.asarray(satisfaction) - 0.7)
    )
    return 1.0 / (1.0 + np.exp(-z))


def service_gain(spend_per_customer_year: float, scale: float, max_gain: float) -> float:
    """Rise in service quality bought by service spend, with diminishing returns."""
    return float(max_gain * -np.expm1(-max(spend_per_customer_year, 0.0) / scale))


def bernoulli_successes(n: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """Positions (0..n-1, in random order) of the successes of n independent Bernoulli(p) trials.

    Drawn as a Binomial(n, p) count and that many distinct uniform positions: the same
    distribution as `np.flatnonzero(rng.random(n) < p)`, but O(successes) rather than O(n)
    when p is small (advertising reaches a few hundred of a million people a week).
    """
    if n <= 0 or p <= 0.0:
        return np.empty(0, dtype=np.int64)
    k = int(rng.binomial(n, min(p, 1.0)))
    return rng.choice(n, size=k, replace=False)


NOT_DUE = int(np.iinfo(np.int32).max)
"""A step that never comes: the due step of someone with no event ahead (int32)."""


def next_event_steps(p_per_step: np.ndarray, first: int, rng: np.random.Generator) -> np.ndarray:
    """The first step from `first` on at which each person's Bernoulli(p) trial succeeds.

    Each step the person succeeds with probability p, independently of other steps, so the
    wait is geometric: ``first + Geometric(p) - 1``, or :data:`NOT_DUE` when p is 0. The
    same law as drawing one uniform per person and step and comparing it with p, drawn
    once per event instead of once per step (issue 14). Because the wait is memoryless, a
    pending step may be thrown away and drawn again from any later step, with a new p, as
    long as the decision to redraw does not look at the pending step.

    >>> next_event_steps(np.array([1.0, 0.0]), 5, np.random.default_rng(0)).tolist()
    [5, 2147483647]
    """
    rate = geometric_rates(p_per_step)
    return event_steps(rng.standard_exponential(rate.shape), rate, first)


def geometric_rates(p_per_step: np.ndarray) -> np.ndarray:
    """-log(1 - p) of each chance p per step (capped at 1): the rate of the exponential
    whose ceiling is the Geometric(p) wait (:func:`event_steps`); inf at p = 1, 0 at p = 0.

    >>> geometric_rates(np.array([0.0, 0.5, 1.0, 2.0])).round(6).tolist()
    [0.0, 0.693147, inf, inf]
    """
    p = np.minimum(np.asarray(p_per_step, dtype=float), 1.0)
    with np.errstate(divide="ignore"):
        rate = np.log1p(-p)
    return np.negative(rate, out=rate)


def event_steps(exponentials: np.ndarray, rate: np.ndarray, first: int) -> np.ndarray:
    """``first - 1 + ceil(E / rate)`` (at least `first`) as int32 steps, :data:`NOT_DUE`
    where the wait is infinite or undefined (rate 0).

    Geometric(p) by inversion with E standard exponential and rate = -log(1 - p)
    (:func:`geometric_rates`): P(wait > j) = P(E > j rate) = (1 - p) ** j. Faster than
    rng.geometric on an array of p (a ziggurat exponential and one log1p per draw); at
    least 1 (p = 1). The numba twin (:mod:`sim.model.kernels.events`) does the same
    arithmetic element by element.

    >>> event_steps(np.array([0.5, 0.5, 3.0, 0.0]), np.array([np.inf, 0.0, 1.0, 0.0]), 5).tolist()
    [5, 2147483647, 7, 2147483647]
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        wait = np.ceil(np.divide(exponentials, rate))
    np.maximum(wait, 1.0, out=wait)  # NaN (0 / 0) stays NaN
    wait += first - 1
    np.fmin(wait, NOT_DUE, out=wait)  # NaN and inf: no event ahead
    return wait.astype(np.int32)


def bernoulli_positions(n: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """Ascending positions (0..n-1) of the successes of n independent Bernoulli(p) trials.

    Drawn as geometric gaps between successes (the waiting time to the next success of
    Bernoulli trials is geometric), so the same distribution as
    `np.flatnonzero(rng.random(n) < p)` in O(successes), without the index array of
    `rng.choice` (8 bytes per trial); ascending, so gathers at them run in memory order.

    >>> bernoulli_positions(5, 1.0, np.random.default_rng(0)).tolist()
    [0, 1, 2, 3, 4]
    >>> bernoulli_positions(5, 0.0, np.random.default_rng(0)).size
    0
    """
    if n <= 0 or p <= 0.0:
        return np.empty(0, dtype=np.int64)
    if p >= 1.0:
        return np.arange(n, dtype=np.int64)
    expected = n * p
    m = int(expected + 6.0 * np.sqrt(expected) + 16)
    positions = np.cumsum(rng.geometric(p, size=m)) - 1
    while positions[-1] < n:  # more successes than drawn for (rare): draw more gaps
        more = positions[-1] + np.cumsum(rng.geometric(p, size=m))
        positions = np.concatenate([positions, more])
    return positions[: np.searchsorted(positions, n)]


def select_random(candidates: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Up to k distinct candidates drawn uniformly."""
    candidates = np.asarray(candidates)
    if k >= candidates.size:
        return candidates
    return rng.choice(candidates, size=k, replace=False)


def select_longest_waiting(
    candidates: np.ndarray, waiting: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """The k candidates who waited longest, at random among ties: care goes to the neglected.

    O(n): one partition finds the k-th longest wait; everyone above it is taken and the
    remaining places are drawn at random among those exactly at it.
    """
    candidates = np.asarray(candidates)
    if k >= candidates.size:
        return candidates
    if k <= 0:
        return candidates[:0]
    w = np.asarray(waiting)
    threshold = _kth_largest(w, k)
    above = np.compress(w > threshold, candidates)
    ties = np.compress(w == threshold, candidates)
    return np.concatenate([above, rng.choice(ties, size=k - above.size, replace=False)])


def _kth_largest(values: np.ndarray, k: int) -> np.ndarray:
    """The k-th largest of `values` (1 <= k <= size), as `np.partition` finds it.

    Waits in whole steps span a few hundred values for hundreds of thousands of
    customers: counting them (one `bincount`) finds the value without a partition.

    >>> int(_kth_largest(np.array([4, 9, 1, 9, 3]), 3)), float(_kth_largest(np.array([0.5, 2.0]), 1))
    (4, 2.0)
    """
    if values.dtype.kind in "iu" and values.size > 1024:
        low, high = int(values.min()), int(values.max())
        if high - low <= 4 * values.size:
            at_least = np.cumsum(np.bincount(values - low)[::-1])  # count >= high, high - 1, ...
            return values.dtype.type(high - int(np.searchsorted(at_least, k)))
    return np.partition(values, values.size - k)[values.size - k]


def care_effect(
    satisfaction: np.ndarray,
    weeks_since_care: np.ndarray,
    *,
    boost: float,
    min_interval_weeks: float,
    spam_penalty: float,
) -> np.ndarray:
    """Satisfaction after a care contact: helpful if spaced out, annoying if pushy (F1)."""
    s = np.asarray(satisfaction, dtype=float)
    helpful = np.asarray(weeks_since_care) >= min_interval_weeks
    return np.where(helpful, s + boost * (1.0 - s), np.maximum(s - spam_penalty, 0.0))


def closeness_to_next_tier(revenue: np.ndarray, tier: np.ndarray) -> np.ndarray:
    """How near each customer of one firm is to the next tier up of Curry's pyramid.

    Revenue over the entry revenue of the tier above (the lowest revenue in it), so 1 is
    at the threshold; 0 for the top tier, untiered customers and below an empty tier.
    Cross-/up-selling aims at the customers just below the next tier (F3): the same
    extra spend moves them up, where it would leave a customer deep in a tier where it is.

    >>> closeness_to_next_tier(np.array([90.0, 40.0, 30.0, 20.0, 15.0]),
    ...                        np.array([0, 1, 2, 2, 3])).round(2).tolist()
    [0.0, 0.44, 0.75, 0.5, 0.75]
    """
    revenue = np.asarray(revenue, dtype=float)
    tier = np.asarray(tier)
    entry = np.full(5, np.inf)  # by tier + 1; revenue / inf is 0 (top, untiered, no entry)
    for t in (1, 2, 3):
        above = np.compress(tier == t - 1, revenue)
        if above.size and above.min() > 0:
            entry[t + 1] = above.min()
    return revenue / entry[tier.astype(np.intp) + 1]


def upgrade_eligible(
    tier: np.ndarray,
    upgraded_step: np.ndarray,
    offered_step: np.ndarray,
    acquired_step: np.ndarray,
    now: int,
    interval_steps: float,
) -> np.ndarray:
    """Who may receive an upgrade offer: a tier below the top, not yet upgraded in this
    relationship, and not offered one within the interval (offers from an earlier
    relationship do not count).

    >>> upgrade_eligible(np.array([0, 1, 2, 3, 3, -1]), np.array([-9, -9, 5, -9, -9, -9]),
    ...     np.array([-9, -9, -9, 8, 1, -9]), np.zeros(6, int), now=10,
    ...     interval_steps=4).tolist()
    [False, True, False, False, True, False]
    """
    tier = np.asarray(tier)
    acquired = np.asarray(acquired_step)
    offered = np.asarray(offered_step)
    waited = (offered <= acquired) | (now - offered >= interval_steps)
    return (tier >= 1) & (tier <= 3) & (np.asarray(upgraded_step) <= acquired) & waited


def upgrade_success_probability(
    offers_per_customer_year: float, success: float, saturation_per_year: float
) -> float:
    """Chance one upgrade offer succeeds: the base success rate times the share of offers
    that still land at this intensity (the saturating response of every lever).

    >>> upgrade_success_probability(0.0, 0.1, 0.5)
    0.1
    >>> round(upgrade_success_probability(0.5, 0.1, 0.5), 4)
    0.0632
    """
    return success * saturation_share(offers_per_customer_year, saturation_per_year)


def upgrade_multiplier(
    upgraded_step: np.ndarray, acquired_step: np.ndarray, gain: float
) -> np.ndarray:
    """Spend per purchase relative to before an upgrade: 1 + gain for customers upgraded
    since their current firm won them (a durable rise in share of wallet), else 1.

    >>> upgrade_multiplier(np.array([5, -9, 2]), np.array([0, 0, 2]), 0.5).tolist()
    [1.5, 1.0, 1.0]
    """
    return np.where(np.asarray(upgraded_step) > np.asarray(acquired_step), 1.0 + gain, 1.0)
