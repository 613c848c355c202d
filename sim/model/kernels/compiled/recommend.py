"""The numba form of :mod:`sim.model.kernels.recommend`."""

from __future__ import annotations

import numba
import numpy as np

__all__ = [
    "felt",
    "offer_values",
    "purchase_performance",
    "refresh_after_feel",
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


@numba.njit(cache=True, nogil=True)
def _refresh_one(
    i: int,
    satisfaction: np.ndarray,
    ltr_bias: np.ndarray,
    ltr: np.ndarray,
    in_episode: np.ndarray,
    detractor_max: int,
    promoter_min: int,
) -> bool:  # pragma: no cover - compiled
    # likelihood_to_recommend: floor(11 * satisfaction + bias) clipped to 0..10
    raw = np.floor(11.0 * satisfaction[i] + ltr_bias[i])
    score = np.int8(min(max(raw, 0.0), 10.0))
    ltr[i] = score
    detractor = score <= detractor_max
    episode = in_episode[i]
    in_episode[i] = (episode or detractor) and score < promoter_min
    return bool(detractor and not episode)


@numba.njit(cache=True, nogil=True)
def _refresh_after_feel(
    step: int,
    buyers: np.ndarray,
    last_care: np.ndarray,
    acquired_step: np.ndarray,
    firm: np.ndarray,
    satisfaction: np.ndarray,
    ltr_bias: np.ndarray,
    ltr: np.ndarray,
    in_episode: np.ndarray,
    detractor_max: int,
    promoter_min: int,
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    n = firm.shape[0]
    # 1. customers cared for this step or won since the last refresh (few): without
    # branches, a store at every person and a count that moves only for those wanted
    scratch = np.empty(n + 1, dtype=np.int64)
    n_cand = 0
    for i in range(n):
        scratch[n_cand] = i
        n_cand += (firm[i] >= 0) & ((last_care[i] == step) | (acquired_step[i] >= step - 1))
    # 2. refresh the buyers, then the candidates who did not buy (each person once)
    nb = buyers.shape[0]
    newly_b = np.empty(nb, dtype=np.int64)
    n_new_b = 0
    for j in range(nb):
        i = buyers[j]
        if firm[i] >= 0 and _refresh_one(
            i, satisfaction, ltr_bias, ltr, in_episode, detractor_max, promoter_min
        ):
            newly_b[n_new_b] = i
            n_new_b += 1
    newly_c = np.empty(n_cand, dtype=np.int64)
    n_new_c = 0
    b = 0
    for c in range(n_cand):
        i = scratch[c]
        while b < nb and buyers[b] < i:
            b += 1
        if b < nb and buyers[b] == i:
            continue
        if _refresh_one(i, satisfaction, ltr_bias, ltr, in_episode, detractor_max, promoter_min):
            newly_c[n_new_c] = i
            n_new_c += 1
    # the two ascending lists merged (disjoint)
    newly = np.empty(n_new_b + n_new_c, dtype=np.int64)
    b = 0
    c = 0
    for k in range(newly.shape[0]):
        if c >= n_new_c or (b < n_new_b and newly_b[b] < newly_c[c]):
            newly[k] = newly_b[b]
            b += 1
        else:
            newly[k] = newly_c[c]
            c += 1
    # 3. every promoter, again without branches
    n_promoters = 0
    for i in range(n):
        scratch[n_promoters] = i
        n_promoters += (firm[i] >= 0) & (ltr[i] >= promoter_min)
    return newly, scratch[:n_promoters].copy()


def refresh_after_feel(
    step: int,
    buyers: np.ndarray,
    last_care: np.ndarray,
    acquired_step: np.ndarray,
    firm: np.ndarray,
    satisfaction: np.ndarray,
    ltr_bias: np.ndarray,
    ltr: np.ndarray,
    in_detractor_episode: np.ndarray,
    detractor_max_ltr: int,
    promoter_min_ltr: int,
) -> tuple[np.ndarray, np.ndarray]:
    """See :func:`sim.model.kernels.recommend.refresh_after_feel` (`buyers` ascending)."""
    result: tuple[np.ndarray, np.ndarray] = _refresh_after_feel(
        step, buyers, last_care, acquired_step, firm, satisfaction, ltr_bias, ltr,
        in_detractor_episode, detractor_max_ltr, promoter_min_ltr,
    )  # fmt: skip
    return result
