"""Events drawn ahead: who is due this step, and the steps of their next events (numpy or numba).

Why a kernel: the engine keeps, per customer, the next step at which they are a churn or
a purchase candidate (issue 14). Finding this step's candidates is a pass over everybody;
in numpy it is a comparison, a ``flatnonzero`` and two more comparisons on the due, each
with its own temporary, where a compiled loop reads each due step once. Writing the next
steps back is a few passes over the candidates in numpy and one loop compiled.
"""

from __future__ import annotations

import numpy as np

from sim.model.behaviour.levers import NOT_DUE, event_steps
from sim.model.kernels import numba_kernels

__all__ = ["churn_due_scan", "due_now", "due_scan", "set_event_steps"]


def due_scan(backend: str, due: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray]:
    """The people due by `step` (due <= `step`) and, among them, those whose event must
    be drawn again (due < `step`: "to be drawn at the next phase"), both ascending.

    ``due``: each person's next event step (int32). Those drawn again may come due at
    `step` itself: :func:`due_now` picks this step's candidates after the drawing.

    >>> due_scan("numpy", np.array([3, -9, 5, 3], dtype=np.int32), 3)
    (array([0, 1, 3]), array([1]))
    """
    if backend == "numba":
        pending, stale = numba_kernels().events.due_scan(due, int(step))
        return pending, stale
    pending = np.flatnonzero(due <= step)
    return pending, pending[due[pending] < step]


def due_now(backend: str, pending: np.ndarray, due: np.ndarray, step: int) -> np.ndarray:
    """Those of `pending` (ascending) who are due at `step`.

    >>> due_now("numpy", np.array([0, 1, 3]), np.array([3, 4, 5, 3], dtype=np.int32), 3)
    array([0, 3])
    """
    if backend == "numba":
        now: np.ndarray = numba_kernels().events.due_now(pending, due, int(step))
        return now
    return pending[due[pending] == step]


def churn_due_scan(
    backend: str,
    churn_due: np.ndarray,
    last_care: np.ndarray,
    firm: np.ndarray,
    step: int,
    never: int,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`due_scan` of the churn due steps, after the customers cared for at `step`
    are marked to be drawn again (their due set to `never`; care may lower satisfaction).

    >>> due = np.array([7, 3, 9], dtype=np.int32)
    >>> churn_due_scan("numpy", due, np.array([3, 0, 0]), np.array([0, 1, -1]), 3, -99)
    (array([0, 1]), array([0]))
    >>> due.tolist()
    [-99, 3, 9]
    """
    if backend == "numba":
        pending, stale = numba_kernels().events.churn_due_scan(
            churn_due, last_care, firm, int(step), int(never)
        )
        return pending, stale
    cared = np.flatnonzero(last_care == step)
    churn_due[cared[firm[cared] >= 0]] = never
    return due_scan(backend, churn_due, step)


def set_event_steps(
    backend: str,
    due: np.ndarray,
    idx: np.ndarray,
    exponentials: np.ndarray,
    rate: np.ndarray,
    first: int,
    *,
    per_person: bool = False,
) -> None:
    """``due[idx] = event_steps(exponentials, rate, first)``, in place.

    See :func:`sim.model.behaviour.levers.event_steps`; `idx` distinct. With
    `per_person`, `rate` holds everybody's rate and ``rate[idx]`` is used.

    >>> due = np.zeros(3, dtype=np.int32)
    >>> set_event_steps("numpy", due, np.array([0, 2]), np.array([1.5, 0.2]),
    ...                 np.array([1.0, 0.0]), 4)
    >>> due.tolist()
    [5, 0, 2147483647]
    """
    if backend == "numba":
        numba_kernels().events.set_event_steps(
            due,
            np.asarray(idx, dtype=np.int64),
            exponentials,
            rate,
            int(first),
            NOT_DUE,
            per_person,
        )
        return
    due[idx] = event_steps(exponentials, rate[idx] if per_person else rate, first)
