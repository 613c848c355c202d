"""The numba form of :mod:`sim.model.kernels.choice` (exp and the draws stay numpy's)."""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["logit_choice", "logit_weights", "mark_aware", "non_customers", "win"]


@numba.njit(cache=True, nogil=True)
def non_customers(firm: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """``np.flatnonzero(firm < 0)``: counted first, then filled without branches."""
    n = firm.shape[0]
    count = 0
    for i in range(n):
        count += firm[i] < 0
    out = np.empty(count + 1, dtype=np.int64)
    k = 0
    for i in range(n):
        out[k] = i
        k += firm[i] < 0
    return out[:count]


@numba.njit(cache=True, nogil=True)
def mark_aware(aware: np.ndarray, people: np.ndarray, firm: int) -> None:  # pragma: no cover
    """``aware[people, firm] = True``."""
    for j in range(people.shape[0]):
        aware[people[j], firm] = True


@numba.njit(cache=True, nogil=True)
def logit_weights(
    who: np.ndarray,
    flat: np.ndarray,
    offsets: np.ndarray,
    values: np.ndarray,
    aware: np.ndarray,
    deterred: np.ndarray,
    value_sensitivity: float,
    deterrence: float,
    promotion: float,
    visit: float,
    outside: float,
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """The flags (ad, offer, visit) per person and firm, and each person's logit
    weights before exp: utilities (choice_utilities) and the outside option, less
    the row's largest (choose_firm)."""
    k, n_firms = values.shape
    flags = np.zeros((3, k, n_firms), dtype=np.bool_)
    for lst in range(offsets.shape[0] - 1):
        kind = lst // n_firms
        f = lst % n_firms
        rows = np.searchsorted(who, flat[offsets[lst] : offsets[lst + 1]])
        for r in rows:
            flags[kind, r, f] = True
    weight = np.empty((k, n_firms + 1), dtype=np.float64)
    deterrence32 = np.float32(deterrence)  # a Python float times float32: float32
    for j in range(k):
        i = who[j]
        for f in range(n_firms):
            if aware[i, f]:
                d = np.float64(deterrence32 * deterred[i, f])
                u = value_sensitivity * values[j, f] - d
                u = u + promotion * (1.0 if flags[1, j, f] else 0.0)
                u = u + visit * (1.0 if flags[2, j, f] else 0.0)
                weight[j, f] = u
            else:
                weight[j, f] = -np.inf
        weight[j, n_firms] = outside
        top = weight[j, 0]
        for f in range(1, n_firms + 1):
            if weight[j, f] > top:
                top = weight[j, f]
        for f in range(n_firms + 1):
            weight[j, f] = weight[j, f] - top
    return weight, flags


@numba.njit(cache=True, nogil=True)
def logit_choice(
    weight: np.ndarray, r: np.ndarray, flags: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """The choice by inverse CDF on the cumulated weights, and its channel code."""
    k, width = weight.shape
    n_firms = width - 1
    choice = np.empty(k, dtype=np.int64)
    channel = np.full(k, -1, dtype=np.int64)
    for j in range(k):
        cum = weight[j, 0]
        total = cum
        for f in range(1, width):
            total = total + weight[j, f]
        x = r[j] * total
        best = 0
        cum = 0.0
        for f in range(width):
            cum = weight[j, f] if f == 0 else cum + weight[j, f]
            if x >= cum:
                best += 1
        best = min(best, n_firms)
        if best == n_firms:
            choice[j] = -1
        else:
            choice[j] = best
            if flags[2, j, best]:
                channel[j] = 0
            elif flags[1, j, best]:
                channel[j] = 1
            elif flags[0, j, best]:
                channel[j] = 2
            else:
                channel[j] = 3
    return choice, channel


@numba.njit(cache=True, nogil=True)
def win(
    idx: np.ndarray,
    firms: np.ndarray,
    own_value: np.ndarray,
    step: int,
    referred_flag: bool,
    promotion_flag: bool,
    new_satisfaction: float,
    never: int,
    firm: np.ndarray,
    aware: np.ndarray,
    tenure: np.ndarray,
    acquired_step: np.ndarray,
    last_care: np.ndarray,
    referred: np.ndarray,
    promotion_won: np.ndarray,
    member: np.ndarray,
    has_purchased: np.ndarray,
    unresolved: np.ndarray,
    satisfaction: np.ndarray,
    expectation: np.ndarray,
    ltr: np.ndarray,
    ltr_bias: np.ndarray,
    in_episode: np.ndarray,
    revenue_with_firm: np.ndarray,
    tier: np.ndarray,
    churn_due: np.ndarray,
    purchase_due: np.ndarray,
) -> np.ndarray:  # pragma: no cover - compiled
    """See :func:`sim.model.kernels.choice.win`."""
    counts = np.zeros(aware.shape[1], dtype=np.int64)
    for j in range(idx.shape[0]):
        i = idx[j]
        f = firms[j]
        counts[f] += 1
        firm[i] = f
        aware[i, f] = True
        tenure[i] = 0
        acquired_step[i] = step
        last_care[i] = step
        referred[i] = referred_flag
        promotion_won[i] = promotion_flag
        member[i] = False
        has_purchased[i] = False
        unresolved[i] = False
        satisfaction[i] = new_satisfaction
        expectation[i] = own_value[j]
        raw = np.floor(11.0 * satisfaction[i] + ltr_bias[i])
        ltr[i] = np.int8(min(max(raw, 0.0), 10.0))
        in_episode[i] = False
        revenue_with_firm[i] = 0.0
        tier[i] = -1
        churn_due[i] = never
        purchase_due[i] = never
    return counts
