"""The numba form of :mod:`sim.model.kernels.churn`.

Each loop repeats the arithmetic of the numpy form in the same order (the comments name
the numpy lines); pow, exp and expm1 are applied by the caller in numpy between loops.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = [
    "bounds",
    "candidate_hazards",
    "candidate_terms",
    "choose_reasons",
    "floor_terms",
    "lose",
]


@numba.njit(cache=True, nogil=True)
def floor_terms(
    idx: np.ndarray, satisfaction: np.ndarray, churn_floor: np.ndarray, margin: float
) -> np.ndarray:  # pragma: no cover - compiled
    """Store each floor (float32) and return clip(1 - floor, 0, 1) in float64."""
    out = np.empty(idx.shape[0])
    for j in range(idx.shape[0]):
        i = idx[j]
        floor = np.float32(max(satisfaction[i] - margin, 0.0))
        churn_floor[i] = floor
        out[j] = min(max(1.0 - np.float64(floor), 0.0), 1.0)
    return out


@numba.njit(cache=True, nogil=True)
def _modifier(
    proneness: float,
    member_factor: float,
    referred: bool,
    promotion_won: bool,
    referred_multiplier: float,
    promotion_multiplier: float,
) -> float:  # pragma: no cover - compiled
    # churn_modifier: proneness * (1 - reduction * member) * where(...) * where(...)
    m = np.float64(proneness) * member_factor
    m = m * (referred_multiplier if referred else 1.0)
    return m * (promotion_multiplier if promotion_won else 1.0)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def bounds(
    idx: np.ndarray,
    indifference: np.ndarray,
    convex: np.ndarray,
    unresolved: np.ndarray,
    referred: np.ndarray,
    promotion_won: np.ndarray,
    proneness: np.ndarray,
    churn_bound: np.ndarray,
    care_factor: float,
    price: float,
    member_factor: float,
    steps_per_year: int,
    neglect: float,
    unresolved_per_year: float,
    dissatisfaction: float,
    base: float,
    member_reduction: float,
    referred_multiplier: float,
    promotion_multiplier: float,
) -> np.ndarray:  # pragma: no cover - compiled
    """Store each hazard bound; return -bound / steps per year (expm1's argument)."""
    out = np.empty(idx.shape[0])
    for j in range(idx.shape[0]):
        i = idx[j]
        care = neglect * indifference[j] * care_factor
        care = care + unresolved_per_year * (1.0 if unresolved[i] else 0.0)
        modifier = _modifier(
            proneness[i],
            member_factor,
            referred[i],
            promotion_won[i],
            referred_multiplier,
            promotion_multiplier,
        )
        total = care * modifier
        total += (dissatisfaction * convex[j]) * modifier
        total += price * modifier
        total += base * modifier
        churn_bound[i] = total
        out[j] = -total / steps_per_year
    return out


@numba.njit(cache=True, nogil=True, error_model="numpy")
def candidate_terms(
    candidates: np.ndarray,
    step: int,
    satisfaction: np.ndarray,
    last_care: np.ndarray,
    weeks_per_step: float,
    neglect_weeks: float,
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """clip(1 - satisfaction, 0, 1) and -weeks since care / neglect weeks (exp's argument)."""
    k = candidates.shape[0]
    x = np.empty(k)
    weeks = np.empty(k)
    for j in range(k):
        i = candidates[j]
        x[j] = min(max(1.0 - satisfaction[i], 0.0), 1.0)
        weeks[j] = -(np.float64(step - last_care[i]) * weeks_per_step) / neglect_weeks
    return x, weeks


@numba.njit(cache=True, nogil=True, error_model="numpy")
def candidate_hazards(
    candidates: np.ndarray,
    indifference: np.ndarray,
    recency: np.ndarray,
    convex: np.ndarray,
    unresolved: np.ndarray,
    firm: np.ndarray,
    price_ratio: np.ndarray,
    member: np.ndarray,
    referred: np.ndarray,
    promotion_won: np.ndarray,
    proneness: np.ndarray,
    churn_bound: np.ndarray,
    price_per_year: float,
    steps_per_year: int,
    neglect: float,
    unresolved_per_year: float,
    dissatisfaction: float,
    base: float,
    member_reduction: float,
    referred_multiplier: float,
    promotion_multiplier: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """The candidates' hazards (k x 4, with their total in a fifth column), and
    expm1's arguments for the chance of leaving and for the bound's chance."""
    k = candidates.shape[0]
    hazards = np.empty((k, 5))
    leave_arg = np.empty(k)
    bound_arg = np.empty(k)
    for j in range(k):
        i = candidates[j]
        care = neglect * indifference[j] * (1.0 - recency[j])
        care = care + unresolved_per_year * (1.0 if unresolved[i] else 0.0)
        price = price_per_year * max(price_ratio[firm[i]] - 1.0, 0.0)
        member_factor = 1.0 - member_reduction * (1.0 if member[i] else 0.0)
        modifier = _modifier(
            proneness[i],
            member_factor,
            referred[i],
            promotion_won[i],
            referred_multiplier,
            promotion_multiplier,
        )
        h0 = care * modifier
        h1 = (dissatisfaction * convex[j]) * modifier
        h2 = price * modifier
        h3 = base * modifier
        total = h0 + h1
        total += h2
        total += h3
        hazards[j, 0] = h0
        hazards[j, 1] = h1
        hazards[j, 2] = h2
        hazards[j, 3] = h3
        hazards[j, 4] = total
        leave_arg[j] = -total / steps_per_year
        bound_arg[j] = -churn_bound[i] / steps_per_year
    return hazards, leave_arg, bound_arg


@numba.njit(cache=True, nogil=True, error_model="numpy")
def choose_reasons(
    candidates: np.ndarray,
    hazards: np.ndarray,
    expm1_leave: np.ndarray,
    expm1_bound: np.ndarray,
    u: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """draw_churn_thinned's choice: who leaves (u q < p) and for which reason (the
    cumulated hazards' shares against u q / p); the leavers, reasons and stayers."""
    k = candidates.shape[0]
    leaving = np.empty(k, dtype=candidates.dtype)
    reasons = np.empty(k, dtype=np.int8)
    staying = np.empty(k, dtype=candidates.dtype)
    n_leave = 0
    n_stay = 0
    for j in range(k):
        p_leave = -expm1_leave[j]
        draw = u[j] * -expm1_bound[j]
        if draw < p_leave:
            total = hazards[j, 4]
            pick = draw / p_leave
            cum = 0.0
            reason = 0
            for r in range(4):
                cum = hazards[j, r] if r == 0 else cum + hazards[j, r]
                if pick >= cum / total:
                    reason += 1
            leaving[n_leave] = candidates[j]
            reasons[n_leave] = min(reason, 3)
            n_leave += 1
        else:
            staying[n_stay] = candidates[j]
            n_stay += 1
    return leaving[:n_leave].copy(), reasons[:n_leave].copy(), staying[:n_stay].copy()


@numba.njit(cache=True, nogil=True)
def lose(
    idx: np.ndarray,
    reasons: np.ndarray,
    firm: np.ndarray,
    satisfaction: np.ndarray,
    tier: np.ndarray,
    former_firm: np.ndarray,
    member: np.ndarray,
    unresolved: np.ndarray,
    in_episode: np.ndarray,
    tenure: np.ndarray,
    revenue_with_firm: np.ndarray,
    churn_due: np.ndarray,
    purchase_due: np.ndarray,
    n_reasons: int,
    n_firms: int,
    top_box: float,
    satisfied: float,
    no_firm: int,
    not_due: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """See :func:`sim.model.kernels.churn.lose_customers`: counts first, then resets."""
    by_reason = np.zeros((n_reasons, n_firms), dtype=np.int64)
    top_counts = np.zeros(n_firms, dtype=np.int64)
    satisfied_counts = np.zeros(n_firms, dtype=np.int64)
    valuable = np.zeros(n_firms, dtype=np.int64)
    for j in range(idx.shape[0]):
        i = idx[j]
        f = np.int64(firm[i])
        by_reason[reasons[j], f] += 1
        s = satisfaction[i]
        if s >= top_box:
            top_counts[f] += 1
        elif s >= satisfied:
            satisfied_counts[f] += 1
        if 0 <= tier[i] <= 1:
            valuable[f] += 1
    for j in range(idx.shape[0]):  # after all counts: a repeated index counts twice
        i = idx[j]
        former_firm[i] = firm[i]
    for j in range(idx.shape[0]):
        i = idx[j]
        firm[i] = no_firm
        member[i] = False
        unresolved[i] = False
        in_episode[i] = False
        tenure[i] = 0
        revenue_with_firm[i] = 0.0
        tier[i] = -1
        churn_due[i] = not_due
        purchase_due[i] = not_due
    return by_reason, top_counts, satisfied_counts, valuable
