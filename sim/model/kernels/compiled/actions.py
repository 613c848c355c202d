"""The numba form of :mod:`sim.model.kernels.actions` (the firms' actions of a step)."""

from __future__ import annotations

import numba
import numpy as np

__all__ = [
    "apply_care",
    "aware_blocks",
    "aware_blocks_packed",
    "cases_by_firm",
    "find_prospects",
    "find_prospects_packed",
    "forget_walks",
    "gaps_reach",
    "longest_waiting",
    "offered_below_ceiling",
    "pick_aware",
    "split_members",
]


@numba.njit(cache=True, nogil=True)
def gaps_reach(
    exponentials: np.ndarray, rate: float, position: int, n: int
) -> tuple[int, bool]:  # pragma: no cover - compiled
    """Walk the gaps ceil(E / rate) from `position`: (the last position before `n`, whether
    the walk passed the end). Reads no person: how many batches a firm's walk draws."""
    for j in range(exponentials.shape[0]):
        gap = np.ceil(exponentials[j] / rate)
        if gap >= n - position:
            return position, True
        position += int(gap)
    return position, False


@numba.njit(cache=True, nogil=True)
def forget_walks(
    exponentials: np.ndarray,
    starts: np.ndarray,
    rate: float,
    aware: np.ndarray,
    firm: np.ndarray,
    former_firm: np.ndarray,
    chunk: int,
) -> np.ndarray:  # pragma: no cover - compiled
    """Each firm f's walk (gaps ceil(E / rate) over exponentials[starts[f]:starts[f + 1]])
    clears awareness of f where the person neither buys from f nor left it; returns how
    many forgot each firm.

    Why in chunks of people: the walks of all firms go through each chunk before the
    next, so the lines of `firm`, `former_firm` and `aware` a chunk needs are read from
    memory once for all firms, not once per firm. Firms' outcomes do not interact (each
    clears its own column), so the order changes nothing. No branch on a person: the next
    reads need not wait for this one's outcome.
    """
    n, n_firms = aware.shape
    gone = np.zeros(n_firms, dtype=np.int64)
    position = np.full(n_firms, -1, dtype=np.int64)
    following = starts[:n_firms].copy()  # the next exponential of each walk
    ended = np.zeros(n_firms, dtype=np.bool_)
    previous_gone = np.zeros(n_firms, dtype=np.bool_)
    for end in range(chunk, n + chunk, chunk):
        for f in range(n_firms):
            if ended[f]:
                continue
            at = position[f]
            j = following[f]
            was_gone = previous_gone[f]
            count = gone[f]
            while j < starts[f + 1]:
                gap = np.ceil(exponentials[j] / rate)
                if gap >= n - at:
                    ended[f] = True
                    break
                if gap == 0.0:  # E exactly 0: the same person drawn twice, decided as before
                    count += was_gone
                    j += 1
                    continue
                if at + int(gap) >= end:
                    break
                at += int(gap)
                j += 1
                knows = aware[at, f]
                was_gone = knows & (firm[at] != f) & (former_firm[at] != f)
                aware[at, f] = knows ^ was_gone  # cleared if gone (gone implies knows)
                count += was_gone
            position[f] = at
            following[f] = j
            previous_gone[f] = was_gone
            gone[f] = count
    return gone


@numba.njit(cache=True, nogil=True)
def _kth_largest(
    values: np.ndarray, k: int, low: int, high: int
) -> tuple[int, int, int]:  # pragma: no cover - compiled
    """The k-th largest of `values` (between `low` and `high`), how many are above it and
    how many equal it: counted when the range is small (waits in whole steps), else
    sorted."""
    m = values.shape[0]
    if high - low <= 4 * m:
        width = high - low + 1
        counts = np.zeros(4 * width, dtype=np.int64)  # four tallies: no chain of updates
        for j in range(m):
            counts[(j & 3) * width + values[j] - low] += 1
        at_least = 0
        for b in range(width - 1, -1, -1):
            here = counts[b] + counts[width + b] + counts[2 * width + b] + counts[3 * width + b]
            if at_least + here >= k:
                return low + b, at_least, here
            at_least += here
    ordered = np.sort(values)
    threshold = ordered[m - k]
    above = 0
    ties = 0
    for j in range(m):
        above += values[j] > threshold
        ties += values[j] == threshold
    return int(threshold), above, ties


@numba.njit(cache=True, nogil=True)
def longest_waiting(
    mine: np.ndarray,
    last_care: np.ndarray,
    tier: np.ndarray,
    now: int,
    weeks_per_step: float,
    min_interval_weeks: float,
    key_only: bool,
    excluded: np.ndarray,
    k: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:  # pragma: no cover - compiled
    """Positions in `mine` of the candidates above the k-th longest wait, those at it, and
    every candidate (when k covers them all: `everyone` is True)."""
    m = mine.shape[0]
    waits = np.empty(m, dtype=np.int64)
    low = np.iinfo(np.int64).max
    high = np.iinfo(np.int64).min
    if not key_only and excluded.shape[0] == 0:  # everybody: positions are 0..m-1
        positions = np.arange(m)
        for p in range(m):
            wait = now - int(last_care[mine[p]])
            waits[p] = wait
            low = min(low, wait)
            high = max(high, wait)
        c = m
    else:
        left = np.ones(m, dtype=np.bool_)
        for p in excluded:
            left[p] = False
        positions = np.empty(m, dtype=np.int64)
        c = 0
        for p in range(m):  # branchless: write each, keep the candidates
            i = mine[p]
            wait = now - int(last_care[i])
            keep = left[p]
            if key_only:
                t = tier[i]
                keep &= (t >= 0) & (t <= 1) & (wait * weeks_per_step >= min_interval_weeks)
            positions[c] = p
            waits[c] = wait
            c += keep
            low = min(low, wait) if keep else low
            high = max(high, wait) if keep else high
    empty = np.empty(0, dtype=np.int64)
    if k >= c:
        return empty, empty, positions[:c].copy(), True
    if k <= 0:
        return empty, empty, empty, False
    threshold, n_above, n_ties = _kth_largest(waits[:c], k, low, high)
    above = np.empty(n_above, dtype=np.int64)
    ties = np.empty(n_ties, dtype=np.int64)
    a = 0
    t = 0
    for j in range(c):  # a few in a hundred are taken: the branches are predictable
        if waits[j] >= threshold:
            if waits[j] > threshold:
                above[a] = positions[j]
                a += 1
            else:
                ties[t] = positions[j]
                t += 1
    return above, ties, empty, False


@numba.njit(cache=True, nogil=True)
def apply_care(
    targets: np.ndarray,
    satisfaction: np.ndarray,
    last_care: np.ndarray,
    unresolved: np.ndarray,
    now: int,
    weeks_per_step: float,
    boost: float,
    min_interval_weeks: float,
    spam_penalty: float,
) -> int:  # pragma: no cover - compiled
    """Care contacts land on `targets`; returns how many were pushy (too soon)."""
    pushy = 0
    for i in targets:
        weeks = (now - int(last_care[i])) * weeks_per_step
        s = satisfaction[i]
        if weeks >= min_interval_weeks:
            s = s + boost * (1.0 - s)
        else:
            pushy += 1
            s = s - spam_penalty
            if s < 0.0:
                s = 0.0
        satisfaction[i] = s
        last_care[i] = now
        unresolved[i] = False
    return pushy


@numba.njit(cache=True, nogil=True)
def split_members(
    mine: np.ndarray, member: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """`mine`'s members and non-members, each in `mine`'s order."""
    m = mine.shape[0]
    members = np.empty(m, dtype=mine.dtype)
    others = np.empty(m, dtype=mine.dtype)
    a = 0
    b = 0
    for i in mine:  # branchless: membership is unpredictable
        is_member = member[i]
        members[a] = i
        others[b] = i
        a += is_member
        b += not is_member
    return members[:a], others[:b]


@numba.njit(cache=True, nogil=True)
def offered_below_ceiling(
    offered: np.ndarray,
    u: np.ndarray,
    ceiling: np.ndarray,
    levels: np.ndarray,
    purchase_rate: np.ndarray,
    base_spend: np.ndarray,
    satisfaction: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Positions (in `offered`) whose uniform falls below the ceiling (`levels[ceiling]`),
    and their traits."""
    m = offered.shape[0]
    below = np.empty(m, dtype=np.int64)
    c = 0
    for j in range(m):  # branchless: one in eight falls below, unpredictably
        below[c] = j
        c += u[j] < levels[ceiling[offered[j]]]
    rate = np.empty(c, dtype=purchase_rate.dtype)
    spend = np.empty(c, dtype=base_spend.dtype)
    sat = np.empty(c, dtype=satisfaction.dtype)
    for j in range(c):
        i = offered[below[j]]
        rate[j] = purchase_rate[i]
        spend[j] = base_spend[i]
        sat[j] = satisfaction[i]
    return below[:c], rate, spend, sat


@numba.njit(cache=True, nogil=True)
def cases_by_firm(
    buyers: np.ndarray, complained: np.ndarray, firm: np.ndarray, n_firms: int
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Positions (in `buyers`) of the complaints, grouped by firm: (flat, start offsets)."""
    counts = np.zeros(n_firms + 1, dtype=np.int64)
    for j in range(buyers.shape[0]):
        if complained[j]:
            f = firm[buyers[j]]
            if f >= 0 and f < n_firms:
                counts[f + 1] += 1
    for f in range(n_firms):
        counts[f + 1] += counts[f]
    flat = np.empty(counts[n_firms], dtype=np.int64)
    fill = counts[:n_firms].copy()
    for j in range(buyers.shape[0]):
        if complained[j]:
            f = firm[buyers[j]]
            if f >= 0 and f < n_firms:
                flat[fill[f]] = j
                fill[f] += 1
    return flat, counts


@numba.njit(cache=True, nogil=True)
def find_prospects(firm: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """The prospects (firm < 0), ascending. Branchless: each index is written and the
    count advances when it belongs (who is a prospect is unpredictable, a mispredicted
    branch per person costs more than the write)."""
    n = firm.shape[0]
    prospects = np.empty(n, dtype=np.int64)
    c = 0
    for i in range(n):
        prospects[c] = i
        c += firm[i] < 0
    return prospects[:c]  # a view: the untouched tail of the buffer costs no memory


@numba.njit(cache=True, nogil=True)
def aware_blocks(
    prospects: np.ndarray, aware: np.ndarray, block: int
) -> np.ndarray:  # pragma: no cover - compiled
    """``table[f, b]``: prospects aware of firm f before prospect ``b * block``; the last
    column holds each firm's total."""
    n_firms = aware.shape[1]
    m = prospects.shape[0]
    n_blocks = (m + block - 1) // block
    table = np.zeros((n_firms, n_blocks + 1), dtype=np.int64)
    for f in range(n_firms):
        c = 0
        for b in range(n_blocks):
            table[f, b] = c
            for j in range(b * block, min((b + 1) * block, m)):
                c += aware[prospects[j], f]
        table[f, n_blocks] = c
    return table


@numba.njit(cache=True, nogil=True)
def aware_blocks_packed(
    prospects: np.ndarray, rows: np.ndarray, n_firms: int, block: int
) -> np.ndarray:  # pragma: no cover - compiled
    """:func:`aware_blocks` with each person's aware row read as one unsigned integer
    (byte f = aware of firm f, little-endian): the rows of a block add up byte by byte
    (a block of at most 255 cannot carry into the next byte), one addition per prospect
    for all firms."""
    m = prospects.shape[0]
    n_blocks = (m + block - 1) // block
    table = np.zeros((n_firms, n_blocks + 1), dtype=np.int64)
    for b in range(n_blocks):
        acc = np.uint64(0)
        for j in range(b * block, min((b + 1) * block, m)):
            acc += np.uint64(rows[prospects[j]])
        for f in range(n_firms):
            table[f, b + 1] = table[f, b] + ((acc >> np.uint64(8 * f)) & np.uint64(255))
    return table


@numba.njit(cache=True, nogil=True)
def find_prospects_packed(
    firm: np.ndarray, rows: np.ndarray, n_firms: int, block: int
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """:func:`find_prospects` and :func:`aware_blocks_packed` in one pass over the people
    in index order (the rows are read in memory order, not gathered)."""
    n = firm.shape[0]
    prospects = np.empty(n, dtype=np.int64)
    table = np.zeros((n_firms, n // block + 2), dtype=np.int64)
    acc = np.uint64(0)
    c = 0
    to_go = block  # prospects until the current block is complete (no division per person)
    for i in range(n):
        is_prospect = firm[i] < 0
        prospects[c] = i
        acc += np.uint64(rows[i]) & (np.uint64(0) - np.uint64(is_prospect))  # row or 0
        c += is_prospect
        to_go -= is_prospect
        if to_go == 0:  # a block complete: one branch, rarely taken
            b = c // block
            for f in range(n_firms):
                table[f, b] = table[f, b - 1] + ((acc >> np.uint64(8 * f)) & np.uint64(255))
            acc = np.uint64(0)
            to_go = block
    n_blocks = (c + block - 1) // block
    if c % block:
        for f in range(n_firms):
            table[f, n_blocks] = table[f, n_blocks - 1] + (
                (acc >> np.uint64(8 * f)) & np.uint64(255)
            )
    return prospects[:c], table[:, : n_blocks + 1].copy()  # a view (see find_prospects)


@numba.njit(cache=True, nogil=True)
def pick_aware(
    prospects: np.ndarray,
    aware: np.ndarray,
    table: np.ndarray,
    block: int,
    f: int,
    ranks: np.ndarray,
) -> np.ndarray:  # pragma: no cover - compiled
    """The prospect at each rank among those aware of firm f (ranks below the total)."""
    counts = table[f]
    out = np.empty(ranks.shape[0], dtype=np.int64)
    for q in range(ranks.shape[0]):
        r = ranks[q]
        b = np.searchsorted(counts, r, side="right") - 1  # the block holding rank r
        c = counts[b]
        j = b * block
        while True:
            p = prospects[j]
            if aware[p, f]:
                if c == r:
                    out[q] = p
                    break
                c += 1
            j += 1
    return out
