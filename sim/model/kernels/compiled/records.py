"""The numba form of :mod:`sim.model.kernels.records`."""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["assign_tiers", "close_pass", "group_customers", "order_statistics", "pairwise_sum"]

_BLOCK = 128  # numpy's PW_BLOCKSIZE


@numba.njit(cache=True, nogil=True)
def _leaf(values: np.ndarray, idx: np.ndarray, lo: int, n: int) -> float:  # pragma: no cover
    # a block of numpy's pairwise summation (n <= 128): eight accumulators, then the rest
    if n < 8:
        res = -0.0
        for j in range(lo, lo + n):
            res += values[idx[j]]
        return res
    r0, r1 = values[idx[lo]], values[idx[lo + 1]]
    r2, r3 = values[idx[lo + 2]], values[idx[lo + 3]]
    r4, r5 = values[idx[lo + 4]], values[idx[lo + 5]]
    r6, r7 = values[idx[lo + 6]], values[idx[lo + 7]]
    i = 8
    end = n - n % 8
    while i < end:
        j = lo + i
        r0 += values[idx[j]]
        r1 += values[idx[j + 1]]
        r2 += values[idx[j + 2]]
        r3 += values[idx[j + 3]]
        r4 += values[idx[j + 4]]
        r5 += values[idx[j + 5]]
        r6 += values[idx[j + 6]]
        r7 += values[idx[j + 7]]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += values[idx[lo + i]]
        i += 1
    return res


@numba.njit(cache=True, nogil=True)
def _pairwise(values: np.ndarray, idx: np.ndarray, lo: int, n: int) -> float:  # pragma: no cover
    # numpy's pairwise summation (loops_utils.h.src: pairwise_sum) of values[idx[lo:lo + n]],
    # step for step: what values[idx].sum() adds, in the same order. numpy recurses (halves
    # rounded down to a multiple of 8, left + right); here an explicit stack does the same
    # (numba's cache does not keep recursive functions reliably)
    if n <= _BLOCK:
        return _leaf(values, idx, lo, n)
    stack_lo = np.empty(128, dtype=np.int64)
    stack_n = np.empty(128, dtype=np.int64)
    stage = np.empty(128, dtype=np.int64)  # 0: left to do, 1: right to do, 2: add them
    left = np.empty(128, dtype=np.float64)
    stack_lo[0], stack_n[0], stage[0] = lo, n, 0
    depth = 1
    ret = 0.0
    while depth > 0:
        k = depth - 1
        m = stack_n[k]
        if m <= _BLOCK:
            ret = _leaf(values, idx, stack_lo[k], m)
            depth -= 1
            continue
        half = m // 2
        half -= half % 8
        if stage[k] == 0:
            stage[k] = 1
            stack_lo[depth], stack_n[depth], stage[depth] = stack_lo[k], half, 0
            depth += 1
        elif stage[k] == 1:
            left[k] = ret
            stage[k] = 2
            stack_lo[depth], stack_n[depth], stage[depth] = stack_lo[k] + half, m - half, 0
            depth += 1
        else:
            ret = left[k] + ret
            depth -= 1
    return ret


@numba.njit(cache=True, nogil=True)
def pairwise_sum(values: np.ndarray, idx: np.ndarray) -> float:  # pragma: no cover - compiled
    """``values[idx].sum()``, bit for bit (0.0 plus numpy's pairwise sum), without the
    gather."""
    return 0.0 + _pairwise(values, idx, 0, idx.shape[0])


@numba.njit(cache=True, nogil=True)
def _count_by_firm(firm: np.ndarray, n_firms: int) -> np.ndarray:  # pragma: no cover
    # people per firm id (last slot: everybody without one); with few firms, one
    # comparison loop per firm (vectorised, no dependency between people), else a histogram
    n = firm.shape[0]
    counts = np.zeros(n_firms + 1, dtype=np.int64)
    if n_firms <= 8:
        for f in range(n_firms):
            c = 0
            for i in range(n):
                c += firm[i] == f
            counts[f] = c
    else:
        for i in range(n):
            f = firm[i]
            counts[f if f >= 0 else n_firms] += 1
    return counts


@numba.njit(cache=True, nogil=True)
def _group(
    firm: np.ndarray, n_firms: int, tenure: np.ndarray, age: bool
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    # without branches on the firm (unpredictable): non-customers write to a spare slot
    # after the customers that the next one overwrites
    n = firm.shape[0]
    counts = _count_by_firm(firm, n_firms)
    offsets = np.zeros(n_firms + 1, dtype=np.int64)
    for f in range(n_firms):
        offsets[f + 1] = offsets[f] + counts[f]
    total = offsets[n_firms]
    at = np.empty(n_firms + 1, dtype=np.int64)
    at[:n_firms] = offsets[:n_firms]
    at[n_firms] = total
    flat = np.empty(total + 1, dtype=np.int64)
    for i in range(n):
        f = firm[i]
        customer = f >= 0
        slot = f if customer else n_firms
        flat[at[slot]] = i
        at[slot] += customer
    if age:
        for i in range(n):
            tenure[i] += firm[i] >= 0
    return flat[:total], offsets


def group_customers(
    firm: np.ndarray, n_firms: int, tenure: np.ndarray, age: bool
) -> tuple[np.ndarray, np.ndarray]:
    """See :func:`sim.model.kernels.records.group_customers`: the grouped indices, firm by
    firm, and where each firm's start (n_firms + 1 offsets)."""
    result: tuple[np.ndarray, np.ndarray] = _group(firm, int(n_firms), tenure, bool(age))
    return result


@numba.njit(cache=True, nogil=True)
def _column_counts(flags: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    # True values in each column of a C-ordered (people x firms) bool array. With 1, 2, 4
    # or 8 columns, eight bytes at a time: sums of at most 255 words never carry from one
    # byte into the next, and byte b of each word belongs to column b % m
    n, m = flags.shape
    out = np.zeros(m, dtype=np.int64)
    if m == 0 or 8 % m != 0:
        for g in range(m):
            c = 0
            for i in range(n):
                c += flags[i, g]
            out[g] = c
        return out
    flat = flags.reshape(n * m)
    n_words = (n * m) // 8
    words = flat[: n_words * 8].view(np.uint64)
    i = 0
    while i < n_words:
        end = min(i + 255, n_words)
        acc = np.uint64(0)
        for j in range(i, end):
            acc += words[j]
        for b in range(8):
            out[b % m] += (acc >> np.uint64(8 * b)) & np.uint64(255)
        i = end
    for j in range(n_words * 8, n * m):
        out[j % m] += flat[j]
    return out


_BITS = 7  # the yes/no answers of a customer in a tally key (see _close)


@numba.njit(cache=True, nogil=True)
def _keys(
    firm: np.ndarray,
    n_firms: int,
    tenure: np.ndarray,
    satisfaction: np.ndarray,
    ltr: np.ndarray,
    member: np.ndarray,
    former_firm: np.ndarray,
    top_box: float,
    satisfied_min: float,
    promoter_min: int,
    detractor_max: int,
    first_year_steps: int,
) -> np.ndarray:  # pragma: no cover - compiled
    # ages every customer by a step, and gives each person's firm (n_firms: none) and the
    # seven yes/no answers the record counts as one integer: one vectorised pass over
    # everybody, no gathers, no branches
    n = firm.shape[0]
    keys = np.empty(n, dtype=np.int32)
    for i in range(n):
        f = firm[i]
        customer = f >= 0
        slot = np.int32(f) if customer else np.int32(n_firms)
        age = tenure[i] + np.int32(customer)
        tenure[i] = age
        s = satisfaction[i]
        score = ltr[i]
        keys[i] = (
            (slot << _BITS)
            | np.int32(s >= top_box)
            | (np.int32(s >= satisfied_min) << 1)
            | (np.int32(score >= promoter_min) << 2)
            | (np.int32(score <= detractor_max) << 3)
            | (np.int32(member[i]) << 4)
            | (np.int32(age < first_year_steps) << 5)
            | (np.int32(former_firm[i] == f) << 6)
        )
    return keys


@numba.njit(cache=True, nogil=True)
def _histogram(keys: np.ndarray, n_bins: int) -> np.ndarray:  # pragma: no cover - compiled
    # four interleaved histograms: equal keys in a row do not wait for each other
    n = keys.shape[0]
    h = np.zeros((4, n_bins), dtype=np.int64)
    m = n - n % 4
    for i in range(0, m, 4):
        h[0, keys[i]] += 1
        h[1, keys[i + 1]] += 1
        h[2, keys[i + 2]] += 1
        h[3, keys[i + 3]] += 1
    for i in range(m, n):
        h[0, keys[i]] += 1
    out = np.zeros(n_bins, dtype=np.int64)
    for k in range(4):
        for b in range(n_bins):
            out[b] += h[k, b]
    return out


@numba.njit(cache=True, nogil=True)
def _table(
    hist: np.ndarray, offsets: np.ndarray, satisfaction: np.ndarray, flat: np.ndarray
) -> np.ndarray:  # pragma: no cover - compiled
    # rows 0 and 2..8 of TALLIES from the histogram, row 1 (satisfaction) summed as numpy
    n_firms = offsets.shape[0] - 1
    width = 1 << _BITS
    table = np.zeros((11, n_firms), dtype=np.float64)
    for f in range(n_firms):
        for code in range(width):
            c = hist[f * width + code]
            for bit in range(_BITS):  # rows 2..8: top box .. returned
                if code >> bit & 1:
                    table[2 + bit, f] += c  # exact: integers far below 2**53
        start, end = offsets[f], offsets[f + 1]
        table[0, f] = end - start
        table[1, f] = 0.0 + _pairwise(satisfaction, flat, start, end - start)
    return table


@numba.njit(cache=True, nogil=True)
def _group_high(
    firm: np.ndarray, n_firms: int, annual_revenue: np.ndarray, revenue_floor: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    # _group, and in the same pass every customer's revenue at or above their firm's
    # floor, in order of the people (one running position, no branches), then split firm
    # by firm keeping that order
    n = firm.shape[0]
    counts = _count_by_firm(firm, n_firms)
    offsets = np.zeros(n_firms + 1, dtype=np.int64)
    for f in range(n_firms):
        offsets[f + 1] = offsets[f] + counts[f]
    total = offsets[n_firms]
    at = np.empty(n_firms + 1, dtype=np.int64)
    at[:n_firms] = offsets[:n_firms]
    at[n_firms] = total
    floor = np.full(n_firms + 1, np.inf)  # the spare slot: nobody's firm
    floor[:n_firms] = revenue_floor
    flat = np.empty(total + 1, dtype=np.int64)
    values = np.empty(total + 1, dtype=np.float64)
    slots = np.empty(total + 1, dtype=np.int32)
    k = 0
    for i in range(n):
        f = firm[i]
        customer = f >= 0
        slot = f if customer else n_firms
        flat[at[slot]] = i
        at[slot] += customer
        r = annual_revenue[i]
        values[k] = r
        slots[k] = slot
        k += customer & (r >= floor[slot])
    per_firm = np.zeros(n_firms + 1, dtype=np.int64)
    for j in range(k):
        per_firm[slots[j]] += 1
    starts = np.zeros(n_firms + 1, dtype=np.int64)
    for f in range(n_firms):
        starts[f + 1] = starts[f] + per_firm[f]
    high = np.empty(k, dtype=np.float64)
    place = starts[:n_firms].copy()
    for j in range(k):
        f = slots[j]
        high[place[f]] = values[j]
        place[f] += 1
    return flat[:total], offsets, high, starts


_SELECT_SHIFT = 44  # keep sign, exponent and 8 mantissa bits: 256 bins an octave
_SELECT_BINS = 4096


@numba.njit(cache=True, nogil=True)
def _select(values: np.ndarray, ranks: np.ndarray) -> np.ndarray:  # pragma: no cover
    # the values at ascending `ranks` of sorted `values` (non-negative, no NaN): a radix
    # step on the float bits (their order for non-negative floats), 256 bins an octave
    # above the smallest value; then only the few bins holding the ranks are sorted.
    # Order statistics are values, so any exact selection gives np.partition's.
    n = values.shape[0]
    out = np.empty(ranks.shape[0], dtype=np.float64)
    if n == 0:
        return out
    bits = values.view(np.int64)
    low = bits[0]
    for i in range(n):
        b = bits[i]
        if b < 0:  # a negative value or -0.0: not this method's; sort everything
            ordered = np.sort(values)
            for k in range(ranks.shape[0]):
                out[k] = ordered[ranks[k]]
            return out
        low = min(low, b)
    low >>= _SELECT_SHIFT
    hist = np.zeros(_SELECT_BINS, dtype=np.int64)
    for i in range(n):
        hist[min((bits[i] >> _SELECT_SHIFT) - low, _SELECT_BINS - 1)] += 1
    first = np.zeros(_SELECT_BINS + 1, dtype=np.int64)  # rank of each bin's first value
    for b in range(_SELECT_BINS):
        first[b + 1] = first[b] + hist[b]
    k = 0
    while k < ranks.shape[0]:
        b = np.searchsorted(first, ranks[k], side="right") - 1
        members = np.empty(hist[b], dtype=np.float64)
        m = 0
        for i in range(n):
            if min((bits[i] >> _SELECT_SHIFT) - low, _SELECT_BINS - 1) == b:
                members[m] = values[i]
                m += 1
        members.sort()
        while k < ranks.shape[0] and ranks[k] < first[b + 1]:
            out[k] = members[ranks[k] - first[b]]
            k += 1
    return out


def order_statistics(values: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """See :func:`sim.model.kernels.records.order_statistics`."""
    result: np.ndarray = _select(
        np.ascontiguousarray(values, dtype=np.float64), np.asarray(ranks, dtype=np.int64)
    )
    return result


@numba.njit(cache=True, nogil=True)
def _close(
    firm: np.ndarray,
    n_firms: int,
    tenure: np.ndarray,
    satisfaction: np.ndarray,
    ltr: np.ndarray,
    member: np.ndarray,
    former_firm: np.ndarray,
    aware: np.ndarray,
    annual_revenue: np.ndarray,
    revenue_floor: np.ndarray,
    top_box: float,
    satisfied_min: float,
    promoter_min: int,
    detractor_max: int,
    first_year_steps: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    # each step its own loop: one that vectorises stays apart from one that scatters
    # (fused into one loop, the same work took twice as long)
    flat, offsets, high, starts = _group_high(firm, n_firms, annual_revenue, revenue_floor)
    keys = _keys(
        firm,
        n_firms,
        tenure,
        satisfaction,
        ltr,
        member,
        former_firm,
        top_box,
        satisfied_min,
        promoter_min,
        detractor_max,
        first_year_steps,
    )
    hist = _histogram(keys, (n_firms + 1) << _BITS)
    table = _table(hist, offsets, satisfaction, flat)
    former = _count_by_firm(former_firm, n_firms)
    aware_n = _column_counts(aware)
    for f in range(n_firms):
        table[9, f] = former[f]
        table[10, f] = aware_n[f] if f < aware_n.shape[0] else 0
    return flat, offsets, table, high, starts


def close_pass(
    firm: np.ndarray,
    n_firms: int,
    tenure: np.ndarray,
    satisfaction: np.ndarray,
    ltr: np.ndarray,
    member: np.ndarray,
    former_firm: np.ndarray,
    aware: np.ndarray,
    annual_revenue: np.ndarray,
    revenue_floor: np.ndarray,
    top_box: float,
    satisfied_min: float,
    promoter_min: int,
    detractor_max: int,
    first_year_steps: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """See :func:`sim.model.kernels.records.close_pass`: the customers firm by firm and
    where each firm starts, the tallies, and the high revenues firm by firm and where each
    firm's start."""
    result: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray] = _close(
        firm,
        int(n_firms),
        tenure,
        satisfaction,
        ltr,
        member,
        former_firm,
        aware,
        annual_revenue,
        np.asarray(revenue_floor, dtype=np.float64),
        float(top_box),
        float(satisfied_min),
        int(promoter_min),
        int(detractor_max),
        int(first_year_steps),
    )
    return result


@numba.njit(cache=True, nogil=True)
def _assign(
    flat: np.ndarray,
    offsets: np.ndarray,
    annual_revenue: np.ndarray,
    old_tier: np.ndarray,
    thresholds: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    # firm by firm, customers ascending: tier sums in the order np.bincount adds them
    n_firms, n_upper = offsets.shape[0] - 1, thresholds.shape[1]
    tier = np.full(old_tier.shape[0], -1, dtype=np.int8)
    sums = np.zeros((n_upper + 1, n_firms), dtype=np.float64)
    tally = np.zeros((n_upper + 1, n_firms), dtype=np.int64)
    moves = np.zeros((2, n_firms), dtype=np.float64)
    for f in range(n_firms):
        up = down = 0
        for j in range(offsets[f], offsets[f + 1]):
            i = flat[j]
            r = annual_revenue[i]
            t = n_upper
            for k in range(n_upper - 1, -1, -1):  # the highest tier reached wins
                t = k if r >= thresholds[f, k] else t
            tier[i] = t
            sums[t, f] += r
            tally[t, f] += 1
            old = old_tier[i]
            up += (old >= 0) & (t < old)
            down += (old >= 0) & (t > old)
        moves[0, f] = up
        moves[1, f] = down
    return tier, sums, tally.astype(np.float64), moves


def assign_tiers(
    flat: np.ndarray,
    offsets: np.ndarray,
    annual_revenue: np.ndarray,
    old_tier: np.ndarray,
    thresholds: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """See :func:`sim.model.kernels.records.assign_tiers`: tier, revenue and counts by
    tier, and the moves (upgrades, downgrades) per firm."""
    result: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] = _assign(
        flat, offsets, annual_revenue, old_tier, thresholds
    )
    return result
