"""Recommend scores and detractor episodes after satisfaction changed (numpy or numba)."""

from __future__ import annotations

import numpy as np

from sim.model.behaviour.satisfaction import likelihood_to_recommend
from sim.model.kernels import compiled

__all__ = ["refresh_recommendations"]


def refresh_recommendations(
    backend: str,
    touched: np.ndarray,
    firm: np.ndarray,
    satisfaction: np.ndarray,
    ltr_bias: np.ndarray,
    ltr: np.ndarray,
    in_detractor_episode: np.ndarray,
    detractor_max_ltr: int,
    promoter_min_ltr: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The 0-10 recommend scores of the people `touched` from satisfaction; new detractors
    and every promoter.

    Updates `ltr` and `in_detractor_episode` in place for the customers (firm >= 0) among
    `touched` (ascending indices): the people whose satisfaction may have changed since
    the last refresh. For everybody else the refresh would change nothing (a score is a
    function of satisfaction and the bias, and the episode update is idempotent for an
    unchanged score), so skipping them gives the same state (issue 14).
    A customer opens a detractor episode when the score falls to the detractor band and
    no episode is open; the episode closes only when the score reaches the promoter band
    (hovering around the threshold does not make a customer vent again and again).
    Returns the indices (ascending) of the customers who opened an episode this step and
    of all customers who are promoters now.
    """
    touched = np.asarray(touched, dtype=np.int64)
    if backend == "numba":
        newly, promoters = compiled().recommend.refresh_recommendations(
            touched,
            firm,
            satisfaction,
            ltr_bias,
            ltr,
            in_detractor_episode,
            detractor_max_ltr,
            promoter_min_ltr,
        )
        return newly, promoters
    active = touched[firm[touched] >= 0]
    score = likelihood_to_recommend(satisfaction[active], ltr_bias[active])
    ltr[active] = score
    detractor = score <= detractor_max_ltr
    episode = in_detractor_episode[active]
    newly = active[detractor & ~episode]
    in_detractor_episode[active] = (episode | detractor) & (score < promoter_min_ltr)
    promoters = np.flatnonzero((ltr >= promoter_min_ltr) & (firm >= 0))
    return newly, promoters
