"""The passes of the firms' actions over their customers and prospects (numpy or numba).

Why kernels: each action looked at every customer of a firm (care, loyalty) or every
person (awareness forgetting, acquisition offers) with several numpy passes and
temporaries per firm, at a million people about 25 ms a step together. The numba forms
do one pass each, reading a person once, and give the numpy forms' bytes: the random
draws, exponentials and logarithms stay in numpy, in the same order, and the compiled
loops do only comparisons, counts, gathers and ``+ - *`` in the numpy order
(``tests/unit/test_kernels_actions.py``). Draws depend only on how many candidates there
are, so a kernel can count first and find the people drawn afterwards.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.model.behaviour.economies import forget as forget_reference
from sim.model.behaviour.levers import enrolment_probability, select_longest_waiting
from sim.model.kernels import kernel_backend, numba_kernels

__all__ = [
    "AWARE_BLOCK",
    "CEILING_LEVELS",
    "Prospects",
    "apply_care",
    "complaint_cases",
    "find_prospects",
    "forget",
    "loyalty_acceptors",
    "select_for_care",
    "split_members",
]

CEILING_LEVELS = np.arange(256) / 255.0
"""The values of a uint8 enrolment ceiling (:func:`sim.model.actions.enrolment_ceiling`):
step q stands for q / 255."""

FORGET_CHUNK = 8192
"""People per chunk of the forgetting walks: their aware, firm and former-firm lines
(64 KiB) stay in the core's cache while every firm's walk passes through."""

GEOMETRIC_BY_INVERSION = 1.0 / 3.0
"""numpy draws a geometric variate below this p as ceil(E / -log1p(-p)), E standard
exponential (``random_geometric_inversion``); above, by a search with other draws."""


def forget(
    aware: np.ndarray,
    firm: np.ndarray,
    former_firm: np.ndarray,
    p_forget: float,
    rng: np.random.Generator,
    backend: str | None = None,
) -> np.ndarray:
    """:func:`sim.model.behaviour.economies.forget` (the reference), fused (numba).

    Why the same bytes: numpy draws Geometric(p), for p below 1/3, as ceil(E / -log1p(-p))
    with E its ziggurat standard exponential, so drawing the exponentials
    (``rng.standard_exponential``, the same stream) and dividing by the same rate
    (``math.log1p``, the C library's, as numpy's C code uses) gives the same gaps; the
    compiled loop walks them, clearing awareness where the reference would, with no
    position array, all firms' walks through each chunk of people in turn (its memory is
    read once, not once per firm). Above 1/3 the reference runs. (An exponential of
    exactly 0 as a firm's first draw, chance 2**-53, puts the reference at position -1,
    the last person; the walk skips it.)
    """
    n, n_firms = aware.shape
    backend = backend or kernel_backend(n)
    if backend != "numba" or not 0.0 < p_forget < GEOMETRIC_BY_INVERSION or n == 0:
        return forget_reference(aware, firm, former_firm, p_forget, rng)
    rate = -math.log1p(-p_forget)
    expected = n * p_forget
    batch = int(expected + 6.0 * np.sqrt(expected) + 16)  # as bernoulli_positions draws
    kernels = numba_kernels().actions
    drawn: list[np.ndarray] = []
    starts = np.zeros(n_firms + 1, dtype=np.int64)
    for f in range(n_firms):  # each firm's batches, in the reference's order
        position, done = -1, False
        while not done:
            drawn.append(rng.standard_exponential(batch))
            position, done = kernels.gaps_reach(drawn[-1], rate, position, n)
        starts[f + 1] = len(drawn) * batch
    gone: np.ndarray = kernels.forget_walks(
        np.concatenate(drawn), starts, rate, aware, firm, former_firm, FORGET_CHUNK
    )
    return gone


def select_for_care(
    backend: str,
    mine: np.ndarray,
    last_care: np.ndarray,
    tier: np.ndarray,
    now: int,
    weeks_per_step: float,
    min_interval_weeks: float,
    key_only: bool,
    excluded: np.ndarray,
    k: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Positions in `mine` of the k candidates who waited longest since their last care
    contact (:func:`~sim.model.behaviour.levers.select_longest_waiting`: ties at random).

    Candidates: every position not in `excluded`, or with `key_only` the key accounts
    (tier 0 or 1) not cared for within `min_interval_weeks`. The wait is ``now -
    last_care`` in steps.
    """
    if backend == "numba":
        above, ties, everyone, all_taken = numba_kernels().actions.longest_waiting(
            mine,
            last_care,
            tier,
            now,
            weeks_per_step,
            min_interval_weeks,
            key_only,
            np.asarray(excluded, dtype=np.int64),
            k,
        )
        if all_taken:
            return everyone
        if above.size + ties.size == 0:
            return above
        return np.concatenate([above, rng.choice(ties, size=k - above.size, replace=False)])
    waits = now - last_care[mine]
    if key_only:
        tiers = tier[mine]
        waited = waits * weeks_per_step >= min_interval_weeks
        candidates = np.flatnonzero((tiers >= 0) & (tiers <= 1) & waited)
    elif np.size(excluded):
        left = np.ones(mine.size, dtype=bool)
        left[excluded] = False
        candidates = np.flatnonzero(left)
    else:
        candidates = np.arange(mine.size)
    if candidates.size < mine.size:
        waits = waits[candidates]
    return select_longest_waiting(candidates, waits, k, rng)


def apply_care(
    backend: str,
    targets: np.ndarray,
    satisfaction: np.ndarray,
    last_care: np.ndarray,
    unresolved_complaint: np.ndarray,
    now: int,
    weeks_per_step: float,
    *,
    boost: float,
    min_interval_weeks: float,
    spam_penalty: float,
) -> int:
    """Care contacts land on `targets` (distinct people): satisfaction moves by
    :func:`~sim.model.behaviour.levers.care_effect`, the contact is dated and an open
    complaint closed. Returns how many contacts came within the minimum interval (pushy).
    """
    if backend == "numba":
        pushy: int = numba_kernels().actions.apply_care(
            targets,
            satisfaction,
            last_care,
            unresolved_complaint,
            now,
            weeks_per_step,
            boost,
            min_interval_weeks,
            spam_penalty,
        )
        return pushy
    weeks = (now - last_care[targets]) * weeks_per_step
    s = satisfaction[targets]
    helpful = weeks >= min_interval_weeks
    satisfaction[targets] = np.where(
        helpful, s + boost * (1.0 - s), np.maximum(s - spam_penalty, 0.0)
    )
    last_care[targets] = now
    unresolved_complaint[targets] = False
    return int(np.count_nonzero(weeks < min_interval_weeks))


def split_members(
    backend: str, mine: np.ndarray, member: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The members and the non-members among `mine`, each in `mine`'s order."""
    if backend == "numba":
        members, others = numba_kernels().actions.split_members(mine, member)
        return members, others
    is_member = member[mine]
    return np.compress(is_member, mine), np.compress(~is_member, mine)


def loyalty_acceptors(
    backend: str,
    offered: np.ndarray,
    u: np.ndarray,
    ceiling: np.ndarray,
    purchase_rate: np.ndarray,
    base_spend: np.ndarray,
    satisfaction: np.ndarray,
    *,
    mean_purchase_rate: float,
    mean_spend: float,
    log_odds: float,
    rate_weight: float,
    spend_weight: float,
    satisfaction_weight: float,
) -> np.ndarray:
    """The people of `offered` whose uniform `u` falls below their enrolment probability.

    The probability (:func:`~sim.model.behaviour.levers.enrolment_probability`, in numpy)
    is computed only where `u` falls below the person's ceiling, an upper bound of it
    stored in steps of :data:`CEILING_LEVELS` (``ceiling`` holds the step, uint8); the
    numba form finds those people and gathers their traits in one pass.
    """
    if backend == "numba":
        below, rate, spend, sat = numba_kernels().actions.offered_below_ceiling(
            offered, u, ceiling, CEILING_LEVELS, purchase_rate, base_spend, satisfaction
        )
    else:
        below = np.flatnonzero(u < CEILING_LEVELS[ceiling[offered]])
        who = offered[below]
        rate, spend, sat = purchase_rate[who], base_spend[who], satisfaction[who]
    p_accept = enrolment_probability(
        rate / mean_purchase_rate,
        spend / mean_spend,
        sat,
        log_odds=log_odds,
        rate_weight=rate_weight,
        spend_weight=spend_weight,
        satisfaction_weight=satisfaction_weight,
    )
    return offered[below[u[below] < p_accept]]


def complaint_cases(
    backend: str, buyers: np.ndarray, complained: np.ndarray, firm: np.ndarray, n_firms: int
) -> list[np.ndarray]:
    """Per firm, the positions (in `buyers`, ascending) of the buyers who complained."""
    if backend == "numba":
        flat, starts = numba_kernels().actions.cases_by_firm(buyers, complained, firm, n_firms)
        return [flat[starts[f] : starts[f + 1]] for f in range(n_firms)]
    buyer_firms = firm[buyers]
    return [np.flatnonzero(complained & (buyer_firms == f)) for f in range(n_firms)]


AWARE_BLOCK = 32
"""Prospects per block of the table that finds the k-th prospect aware of a firm."""

_PACKED_ROWS = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}
"""With this many firms a person's aware row (bytes of 0 or 1) reads as one integer."""


@dataclass(frozen=True)
class Prospects:
    """The people who buy from no firm (ascending), how many know each firm, and what
    finds the k-th of them that knows a firm (:meth:`aware_at`).

    Why not a list per firm: a firm visits a few hundred of a few hundred thousand aware
    prospects, and a random choice of k of a list draws the same numbers whatever the
    list holds (only its length matters), so the draws are made on ranks and only the
    prospects drawn are found. The numba form keeps a count per block of 32 prospects and
    scans one block per rank; the numpy form keeps the lists.
    """

    people: np.ndarray
    n_aware: np.ndarray
    backend: str
    lookup: Any

    def aware_at(self, aware: np.ndarray, f: int, ranks: np.ndarray) -> np.ndarray:
        """The prospects at `ranks` (0-based, ascending order of index) among those aware
        of firm `f`."""
        ranks = np.asarray(ranks, dtype=np.int64)
        if self.backend == "numba":
            people: np.ndarray = numba_kernels().actions.pick_aware(
                self.people, aware, self.lookup, AWARE_BLOCK, f, ranks
            )
            return people
        return np.asarray(self.lookup[f][ranks])


def find_prospects(backend: str, firm: np.ndarray, aware: np.ndarray) -> Prospects:
    """The prospects (firm < 0) and those aware of each firm (:class:`Prospects`)."""
    if backend == "numba":
        kernels = numba_kernels().actions
        packed = _PACKED_ROWS.get(aware.shape[1])
        if packed is not None and aware.flags.c_contiguous and sys.byteorder == "little":
            rows = aware.view(packed).reshape(aware.shape[0])
            people, table = kernels.find_prospects_packed(firm, rows, aware.shape[1], AWARE_BLOCK)
        else:
            people = kernels.find_prospects(firm)
            table = kernels.aware_blocks(people, aware, AWARE_BLOCK)
        return Prospects(people, table[:, -1].copy(), backend, table)
    people = np.flatnonzero(firm < 0)
    # whom each firm's prospects know, gathered once (rows; np.take is the fast gather)
    known = np.take(aware, people, axis=0)
    lists = [np.compress(known[:, f], people) for f in range(aware.shape[1])]
    return Prospects(people, np.array([x.size for x in lists], dtype=np.int64), backend, lists)
