"""Word of mouth of a step: who tells, whom they reach, and what the telling does
(numpy or numba).

The random draws are numpy's, in the order of :func:`draw_tellings` and
:func:`pick_contacts_with_ties` (the reference); the numba form replaces only the passes
between them (counting tellings per speaker, the graph gathers, the filters and the
scatters into the population), so both give the same bytes for a seed (issue 14).
"""

from __future__ import annotations

import numpy as np

from sim.model.behaviour.word_of_mouth import (
    conversion_probability,
    draw_tellings,
    pick_contacts_with_ties,
    referral_converts,
)
from sim.model.kernels import numba_kernels
from sim.model.network import SocialGraph

__all__ = ["deter", "intend", "refer", "spread"]


def spread(
    backend: str,
    speakers: np.ndarray,
    mean_tellings: float,
    graph: SocialGraph,
    weak_tie_share: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each telling of this step: its speaker, the contact it reaches, whether by a weak tie.

    `speakers` ascending; each tells a Poisson(`mean_tellings`) number of people
    (:func:`draw_tellings`), each reached as in :func:`pick_contacts_with_ties`.
    Tellings come in the speakers' order.
    """
    speakers = np.asarray(speakers, dtype=np.int64)
    simple = graph.implicit_complete or graph.indices.size == 0 or graph.n <= 1
    if backend != "numba" or simple:
        tellers = draw_tellings(speakers, mean_tellings, rng)
        contacts, weak = pick_contacts_with_ties(tellers, graph, weak_tie_share, rng)
        return np.asarray(tellers, dtype=np.int64), contacts, weak
    kernels = numba_kernels().word_of_mouth
    # draw_tellings: one Poisson total, each telling given to a uniform speaker
    if speakers.size == 0:
        tellers = speakers[:0]
    else:
        total = int(rng.poisson(mean_tellings * speakers.size))
        tellers = kernels.repeat_picked(speakers, rng.integers(0, speakers.size, size=total))
    # pick_contacts_with_ties: weak or strong first, a neighbour for the strong ones
    # (graph.sample_neighbors), a uniform other person for the weak ones
    u = rng.random(tellers.shape)
    strong, start, deg = kernels.strong_degrees(tellers, u, float(weak_tie_share), graph.indptr)
    pos = rng.integers(0, np.maximum(deg, 1))
    contacts, weak, weak_at = kernels.neighbours(
        u, float(weak_tie_share), strong, start, deg, pos, graph.indices
    )
    if weak_at.size:
        others = rng.integers(0, graph.n - 1, size=weak_at.size)
        kernels.place_others(tellers, contacts, weak_at, others)
    return tellers, contacts, weak


def refer(
    backend: str,
    tellers: np.ndarray,
    contacts: np.ndarray,
    weak: np.ndarray,
    firm: np.ndarray,
    aware: np.ndarray,
    n_firms: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Promoters' tellings that reach someone not already with the promoter's firm.

    Makes those contacts aware of the firm (in place); returns the contacts, the firms,
    whether by a weak tie, and the number of such referrals per firm.
    """
    if backend == "numba":
        result: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] = (
            numba_kernels().word_of_mouth.refer(tellers, contacts, weak, firm, aware, n_firms)
        )
        return result
    firms = firm[tellers].astype(np.intp)
    potential = firm[contacts] != firms
    contacts, firms, weak = contacts[potential], firms[potential], weak[potential]
    aware[contacts, firms] = True
    return contacts, firms, weak, np.bincount(firms, minlength=n_firms)


def deter(
    backend: str,
    tellers: np.ndarray,
    contacts: np.ndarray,
    firm: np.ndarray,
    deterred: np.ndarray,
    n_firms: int,
) -> np.ndarray:
    """New detractors' tellings deter their contacts from the detractor's firm (in place:
    ``deterred[contact, firm] = 1``); returns the number of tellings per firm."""
    if backend == "numba":
        counts: np.ndarray = numba_kernels().word_of_mouth.deter(
            tellers, contacts, firm, deterred, n_firms
        )
        return counts
    firms = firm[tellers].astype(np.intp)
    deterred[contacts, firms] = 1.0
    return np.bincount(firms, minlength=n_firms)


def intend(
    backend: str,
    contacts: np.ndarray,
    firms: np.ndarray,
    weak: np.ndarray,
    deterred: np.ndarray,
    p_conversion: float,
    weak_ratio: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """The referrals whose contact intends to convert: the contacts and firms kept.

    A strong tie converts with `p_conversion`, a weak one with `weak_ratio` times that
    (:func:`conversion_probability`), both lowered by the contact's deterrence from the
    firm (:func:`referral_converts`); one uniform per referral.
    """
    if backend == "numba":
        u = rng.random(np.shape(contacts))
        kept: tuple[np.ndarray, np.ndarray] = numba_kernels().word_of_mouth.intend(
            contacts, firms, weak, deterred, u, float(p_conversion), float(weak_ratio)
        )
        return kept
    p_convert = conversion_probability(weak, p_conversion, weak_ratio)
    intends = referral_converts(deterred[contacts, firms], p_convert, rng)
    return contacts[intends], firms[intends]
