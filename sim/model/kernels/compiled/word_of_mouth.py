"""The numba form of :mod:`sim.model.kernels.word_of_mouth` (the draws stay numpy's)."""

from __future__ import annotations

import numba
import numpy as np

__all__ = [
    "deter",
    "intend",
    "neighbours",
    "place_others",
    "refer",
    "repeat_picked",
    "strong_degrees",
]


@numba.njit(cache=True, nogil=True)
def repeat_picked(speakers: np.ndarray, picks: np.ndarray) -> np.ndarray:  # pragma: no cover
    """``np.repeat(speakers, np.bincount(picks, minlength=speakers.size))``."""
    counts = np.zeros(speakers.shape[0], dtype=np.int64)
    for j in range(picks.shape[0]):
        counts[picks[j]] += 1
    out = np.empty(picks.shape[0], dtype=np.int64)
    k = 0
    for s in range(speakers.shape[0]):
        who = speakers[s]
        for _ in range(counts[s]):
            out[k] = who
            k += 1
    return out


@numba.njit(cache=True, nogil=True)
def strong_degrees(
    tellers: np.ndarray, u: np.ndarray, share: float, indptr: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """The tellings by a strong tie (u >= share), their speakers' first CSR positions and
    degrees."""
    k = tellers.shape[0]
    strong = np.empty(k, dtype=np.int64)
    n_strong = 0
    for j in range(k):
        strong[n_strong] = j
        n_strong += not (u[j] < share)
    start = np.empty(n_strong, dtype=np.int64)
    deg = np.empty(n_strong, dtype=np.int64)
    for m in range(n_strong):
        s = tellers[strong[m]]
        start[m] = indptr[s]
        deg[m] = indptr[s + 1] - start[m]
    return strong[:n_strong], start, deg


@numba.njit(cache=True, nogil=True)
def neighbours(
    u: np.ndarray,
    share: float,
    strong: np.ndarray,
    start: np.ndarray,
    deg: np.ndarray,
    pos: np.ndarray,
    indices: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Contacts of the strong tellings (-1: no neighbour, then a weak tie), whether each
    telling is weak, and the weak ones' positions."""
    k = u.shape[0]
    contacts = np.full(k, -1, dtype=np.int64)
    weak = np.empty(k, dtype=np.bool_)
    for j in range(k):
        weak[j] = u[j] < share
    for m in range(strong.shape[0]):
        j = strong[m]
        if deg[m] > 0:
            contacts[j] = indices[start[m] + pos[m]]
        else:
            weak[j] = True
    weak_at = np.empty(k, dtype=np.int64)
    n_weak = 0
    for j in range(k):
        weak_at[n_weak] = j
        n_weak += weak[j]
    return contacts, weak, weak_at[:n_weak]


@numba.njit(cache=True, nogil=True)
def place_others(
    tellers: np.ndarray, contacts: np.ndarray, weak_at: np.ndarray, others: np.ndarray
) -> None:  # pragma: no cover - compiled
    """The weak tellings' contacts: uniform draws over the others (skipping oneself)."""
    for m in range(weak_at.shape[0]):
        j = weak_at[m]
        o = others[m]
        contacts[j] = o + (o >= tellers[j])


@numba.njit(cache=True, nogil=True)
def refer(
    tellers: np.ndarray,
    contacts: np.ndarray,
    weak: np.ndarray,
    firm: np.ndarray,
    aware: np.ndarray,
    n_firms: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """See :func:`sim.model.kernels.word_of_mouth.refer`."""
    k = tellers.shape[0]
    out_contacts = np.empty(k, dtype=tellers.dtype)
    out_firms = np.empty(k, dtype=np.intp)
    out_weak = np.empty(k, dtype=np.bool_)
    counts = np.zeros(n_firms, dtype=np.int64)
    n = 0
    for j in range(k):
        f = firm[tellers[j]]
        c = contacts[j]
        if firm[c] != f:
            out_contacts[n] = c
            out_firms[n] = f
            out_weak[n] = weak[j]
            n += 1
            aware[c, f] = True
            counts[f] += 1
    return out_contacts[:n].copy(), out_firms[:n].copy(), out_weak[:n].copy(), counts


@numba.njit(cache=True, nogil=True)
def deter(
    tellers: np.ndarray, contacts: np.ndarray, firm: np.ndarray, deterred: np.ndarray, n_firms: int
) -> np.ndarray:  # pragma: no cover - compiled
    """See :func:`sim.model.kernels.word_of_mouth.deter`."""
    counts = np.zeros(n_firms, dtype=np.int64)
    for j in range(tellers.shape[0]):
        f = firm[tellers[j]]
        deterred[contacts[j], f] = 1.0
        counts[f] += 1
    return counts


@numba.njit(cache=True, nogil=True)
def intend(
    contacts: np.ndarray,
    firms: np.ndarray,
    weak: np.ndarray,
    deterred: np.ndarray,
    u: np.ndarray,
    p_conversion: float,
    weak_ratio: float,
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """See :func:`sim.model.kernels.word_of_mouth.intend` (`u`: the uniforms drawn)."""
    p_weak = p_conversion * weak_ratio
    k = contacts.shape[0]
    kept_contacts = np.empty(k, dtype=contacts.dtype)
    kept_firms = np.empty(k, dtype=firms.dtype)
    n = 0
    for j in range(k):
        c = contacts[j]
        f = firms[j]
        p = p_weak if weak[j] else p_conversion
        if u[j] < p * (1.0 - np.float64(deterred[c, f])):
            kept_contacts[n] = c
            kept_firms[n] = f
            n += 1
    return kept_contacts[:n].copy(), kept_firms[:n].copy()
