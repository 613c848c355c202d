"""The numba form of :mod:`sim.model.kernels.recommend`."""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["refresh_recommendations"]


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
