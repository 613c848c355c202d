"""The numba form of :mod:`sim.model.kernels.recommend`."""

from __future__ import annotations

import numba
import numpy as np

__all__ = [
    "felt",
    "offer_values",
    "purchase_performance",
    "refresh_recommendations",
]


@numba.njit(cache=True, nogil=True)
def _refresh(
    touched: np.ndarray,
    firm: np.ndarray,
    satisfaction: np.ndarray,
    ltr_bias: np.ndarray,
    ltr: np.ndarray,
    in_episode: np.ndarray,
    detractor_max: int,
    promoter_min: int,
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    newly = np.empty(touched.shape[0], dtype=np.int64)
    n_new = 0
    for j in range(touched.shape[0]):
        i = touched[j]
        if firm[i] < 0:
            continue
        # likelihood_to_recommend: floor(11 * satisfaction + bias) clipped to 0..10
        raw = np.floor(11.0 * satisfaction[i] + ltr_bias[i])
        score = np.int8(min(max(raw, 0.0), 10.0))
        ltr[i] = score
        detractor = score <= detractor_max
        episode = in_episode[i]
        if detractor and not episode:
            newly[n_new] = i
            n_new += 1
        in_episode[i] = (episode or detractor) and score < promoter_min
    n = firm.shape[0]
    promoters = np.empty(n, dtype=np.int64)
    n_promoters = 0
    for i in range(n):
        if firm[i] >= 0 and ltr[i] >= promoter_min:
            promoters[n_promoters] = i
            n_promoters += 1
    return newly[:n_new].copy(), promoters[:n_promoters].copy()


def refresh_recommendations(
    touched: np.ndarray,
    firm: np.ndarray,
    satisfaction: np.ndarray,
    ltr_bias: np.ndarray,
    ltr: np.ndarray,
    in_detractor_episode: np.ndarray,
    detractor_max_ltr: int,
    promoter_min_ltr: int,
) -> tuple[np.ndarray, np.ndarray]:
    """See :func:`sim.model.kernels.recommend.refresh_recommendations`."""
    result: tuple[np.ndarray, np.ndarray] = _refresh(
        touched,
        firm,
        satisfaction,
        ltr_bias,
        ltr,
        in_detractor_episode,
        int(detractor_max_ltr),
        int(promoter_min_ltr),
    )
    return result


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
