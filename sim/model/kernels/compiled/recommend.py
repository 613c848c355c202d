"""The numba form of :mod:`sim.model.kernels.recommend`."""

from __future__ import annotations

import numba
import numpy as np

__all__ = [
    "felt",
    "offer_values",
    "purchase_performance",
]


@numba.njit(cache=True, nogil=True)
def _dot(weights: np.ndarray, i: int, offers: np.ndarray, f: int) -> float:  # pragma: no cover
    # left to right in float64, as offer_values' numpy form
    value = np.float64(weights[i, 0]) * offers[f, 0]
    for k in range(1, weights.shape[1]):
        value += np.float64(weights[i, k]) * offers[f, k]
    return value


@numba.njit(cache=True, nogil=True)
def offer_values(
    weights: np.ndarray, offers: np.ndarray, firms: np.ndarray
) -> np.ndarray:  # pragma: no cover - compiled
    """See :func:`sim.model.kernels.recommend.offer_values` (the people's weights gathered)."""
    out = np.empty(weights.shape[0], dtype=np.float64)
    for j in range(weights.shape[0]):
        out[j] = _dot(weights, j, offers, firms[j])
    return out


@numba.njit(cache=True, nogil=True)
def purchase_performance(
    weights: np.ndarray,
    firm: np.ndarray,
    failed: np.ndarray,
    supply_failed: np.ndarray,
    noise: np.ndarray,
    offers: np.ndarray,
    expectation: np.ndarray,
    disposition: np.ndarray,
    fail_pen: float,
    supply_pen: float,
    baseline: float,
    desired: float,
    ew: float,
    dw: float,
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Each buyer's perceived performance and the logit z of their satisfaction (the
    buyers' rows of weights, firm, expectation and disposition gathered)."""
    k = weights.shape[0]
    performance = np.empty(k, dtype=np.float64)
    z = np.empty(k, dtype=np.float64)
    for j in range(k):
        p = _dot(weights, j, offers, firm[j]) + noise[j]
        p = p - fail_pen * (1.0 if failed[j] else 0.0)
        p = p - supply_pen * (1.0 if supply_failed[j] else 0.0)
        e = np.float64(expectation[j])
        base = baseline + np.float64(disposition[j])
        performance[j] = p
        z[j] = base + ew * (p - e) + dw * (p - desired)
    return performance, z


@numba.njit(cache=True, nogil=True)
def felt(
    outcome: np.ndarray,
    performance: np.ndarray,
    exp_minus_z: np.ndarray,
    old: np.ndarray,
    expectation: np.ndarray,
    churn_floor: np.ndarray,
    lr: float,
    elr: float,
    bonus: float,
    penalty: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """The buyers' new satisfaction and expectation, and whose churn wait is drawn again."""
    k = outcome.shape[0]
    new = np.empty(k, dtype=np.float64)
    expected = np.empty(k, dtype=np.float64)
    redraw = np.empty(k, dtype=np.bool_)
    for j in range(k):
        s = old[j]
        value = s + lr * (1.0 / (1.0 + exp_minus_z[j]) - s)
        o = outcome[j]
        if o == 1:
            value = min(s + bonus, 1.0)
        elif o == 2:
            value = max(value - penalty, 0.0)
        new[j] = value
        e = np.float64(expectation[j])
        expected[j] = e + elr * (performance[j] - e)
        redraw[j] = value < np.float64(churn_floor[j]) or o == 2
    return new, expected, redraw
