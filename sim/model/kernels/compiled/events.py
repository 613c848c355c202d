"""The numba form of :mod:`sim.model.kernels.events`."""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["churn_due_scan", "due_now", "due_scan", "set_event_steps"]


@numba.njit(cache=True, nogil=True)
def due_scan(due: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """See :func:`sim.model.kernels.events.due_scan`.

    A count (a vectorised loop), then one pass that writes each index to both lists and
    advances each by its comparison (no branch to mispredict): the index stays when the
    person is due, and is overwritten by the next one when not.
    """
    n_pending = 0
    for i in range(due.shape[0]):
        n_pending += due[i] <= step
    pending = np.empty(n_pending + 1, dtype=np.int64)  # + 1: the last write may miss
    stale = np.empty(n_pending + 1, dtype=np.int64)
    k = 0
    n_stale = 0
    for i in range(due.shape[0]):
        d = due[i]
        pending[k] = i
        stale[n_stale] = i
        k += d <= step
        n_stale += d < step
    return pending[:n_pending], stale[:n_stale].copy()


@numba.njit(cache=True, nogil=True)
def due_now(pending: np.ndarray, due: np.ndarray, step: int) -> np.ndarray:  # pragma: no cover
    """See :func:`sim.model.kernels.events.due_now`."""
    now = np.empty(pending.shape[0], dtype=np.int64)
    n = 0
    for j in range(pending.shape[0]):
        i = pending[j]
        if due[i] == step:
            now[n] = i
            n += 1
    return now[:n].copy()


@numba.njit(cache=True, nogil=True)
def churn_due_scan(
    churn_due: np.ndarray, last_care: np.ndarray, firm: np.ndarray, step: int, never: int
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """See :func:`sim.model.kernels.events.churn_due_scan`."""
    for i in range(churn_due.shape[0]):
        if last_care[i] == step and firm[i] >= 0:
            churn_due[i] = never
    return due_scan(churn_due, step)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def set_event_steps(
    due: np.ndarray,
    idx: np.ndarray,
    exponentials: np.ndarray,
    rate: np.ndarray,
    first: int,
    not_due: int,
    per_person: bool,
) -> None:  # pragma: no cover - compiled
    """See :func:`sim.model.kernels.events.set_event_steps` (the arithmetic of
    :func:`sim.model.behaviour.levers.event_steps`, element by element)."""
    offset = float(first - 1)
    cap = float(not_due)
    for j in range(idx.shape[0]):
        wait = np.ceil(exponentials[j] / (rate[idx[j]] if per_person else rate[j]))
        if wait != wait:  # 0 / 0: no event ahead
            step = cap
        else:
            step = max(wait, 1.0) + offset
            if step > cap:  # also inf: p = 0
                step = cap
        due[idx[j]] = np.int32(step)
