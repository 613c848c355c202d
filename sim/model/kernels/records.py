"""The passes over everybody that close a step's books (numpy or numba, same bytes).

Why: closing a step groups the customers by firm, ages them by a step, counts and sums
per firm what the record reports (satisfaction boxes, recommend scores, members, first
year customers, the pyramid around each firm) and ranks each firm's customers into tiers
by revenue. In numpy each of those is a gather and a comparison per firm, some thirty
passes over the people at a million of them. The compiled form places each customer
once (a count, then one placement pass that also keeps the revenues at or above a floor
for the tier quantiles), ages everybody and encodes each person's firm and seven yes/no
answers as one small integer in one vectorised pass, counts those codes in one histogram
(every count of the record at once), and gathers satisfaction (for its sum) and revenue
(for the tiers) firm by firm (issue 14). Every count is an exact integer; the one
floating-point sum per firm (satisfaction) is numpy's pairwise sum of the firm's customers
in ascending order, redone step for step in the compiled form, and tier revenue is summed
in ascending order of the people in both, as ``np.bincount`` does.
"""

from __future__ import annotations

import numpy as np

from sim.model.kernels import numba_kernels

__all__ = [
    "TALLIES",
    "GroupedCustomers",
    "assign_tiers",
    "close_pass",
    "group_customers",
    "order_statistics",
]

_FEW_FIRMS = 8
"""Up to this many firms, the numpy form groups customers by one comparison per firm."""

TALLIES = (
    "customers",
    "satisfaction_sum",
    "top_box",
    "satisfied",
    "promoters",
    "detractors",
    "members",
    "first_year",
    "returned",
    "former",
    "aware",
)
"""Rows of :func:`close_pass`' table, one column per firm. ``satisfied``: customers at
or above the satisfied threshold, top box included; ``returned``: customers whose former
firm is their firm now; ``former``: everybody whose former firm it is; ``aware``:
everybody aware of it."""


class GroupedCustomers(list[np.ndarray]):
    """Each firm's customers, one index array per firm, and the one array they are views
    of: ``flat`` (every customer, firm by firm) and ``offsets`` (where each firm starts,
    then the total), which the compiled passes read instead of the list."""

    def __init__(self, flat: np.ndarray, offsets: np.ndarray) -> None:
        super().__init__(flat[offsets[f] : offsets[f + 1]] for f in range(offsets.size - 1))
        self.flat, self.offsets = flat, offsets


def _flat(customers_of: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``flat`` and ``offsets`` of `customers_of` (:class:`GroupedCustomers`)."""
    if isinstance(customers_of, GroupedCustomers):
        return customers_of.flat, customers_of.offsets
    offsets = np.zeros(len(customers_of) + 1, dtype=np.int64)
    np.cumsum([c.size for c in customers_of], out=offsets[1:])
    flat = np.concatenate([np.empty(0, dtype=np.int64), *customers_of]).astype(np.int64)
    return flat, offsets


def group_customers(
    backend: str, firm: np.ndarray, n_firms: int, tenure: np.ndarray | None = None
) -> list[np.ndarray]:
    """Indices (int64, ascending) of each firm's customers, one array per firm.

    With `tenure`, every customer (firm >= 0) also ages by one step in the same call
    (``tenure += firm >= 0``). The numba form counts each firm's customers, places them
    in one pass and returns a :class:`GroupedCustomers`.

    >>> [c.tolist() for c in group_customers("numpy", np.array([1, -1, 0, 1]), 3)]
    [[2], [0, 3], []]
    """
    if backend == "numba":
        age = tenure if tenure is not None else np.empty(0, dtype=np.int32)
        flat, offsets = numba_kernels().records.group_customers(
            firm, n_firms, age, tenure is not None
        )
        return GroupedCustomers(flat, offsets)
    if tenure is not None:
        tenure += firm >= 0
    if n_firms <= _FEW_FIRMS:
        return [np.flatnonzero(firm == f).astype(np.int64, copy=False) for f in range(n_firms)]
    active = np.flatnonzero(firm >= 0)
    ids = firm[active]
    order = np.argsort(ids, kind="stable")
    grouped = active[order].astype(np.int64, copy=False)
    bounds = np.searchsorted(ids[order], np.arange(n_firms + 1))
    return [grouped[bounds[f] : bounds[f + 1]] for f in range(n_firms)]


def close_pass(
    backend: str,
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
    thresholds: tuple[float, float, int, int, int],
) -> tuple[list[np.ndarray], np.ndarray, list[np.ndarray], list[np.ndarray] | None]:
    """Group the customers by firm, age them by a step, and tally what the record counts.

    Ages every customer (``tenure += firm >= 0``) first. `thresholds`: the top box and
    satisfied satisfaction levels, the promoters' lowest and the detractors' highest
    score, and the steps of the first year. Returns each firm's customers (as
    :func:`group_customers`), the table of :data:`TALLIES` (float64, one column per firm),
    per firm its customers' revenues at or above ``revenue_floor[f]`` in ascending order of
    the people (what the quantiles of tier ranking need:
    :func:`sim.model.metrics.tier_thresholds`), and from the numpy form each firm's
    customers' revenues (gathered once, for :func:`assign_tiers`; None from numba's).
    """
    top_box, satisfied_min, promoter_min, detractor_max, first_year_steps = thresholds
    if backend == "numba":
        flat, offsets, table, high, starts = numba_kernels().records.close_pass(
            firm,
            n_firms,
            tenure,
            satisfaction,
            ltr,
            member,
            former_firm,
            aware,
            annual_revenue,
            revenue_floor,
            top_box,
            satisfied_min,
            promoter_min,
            detractor_max,
            first_year_steps,
        )
        by_firm = [high[starts[f] : starts[f + 1]] for f in range(n_firms)]
        return GroupedCustomers(flat, offsets), table, by_firm, None
    customers_of = group_customers(backend, firm, n_firms, tenure=tenure)
    table = np.zeros((len(TALLIES), n_firms))
    high, revenue_of = [], []
    for f, idx in enumerate(customers_of):
        sat = satisfaction[idx]
        scores = ltr[idx]
        rev = annual_revenue[idx]
        table[:, f] = (
            idx.size,
            sat.sum(),
            np.count_nonzero(sat >= top_box),
            np.count_nonzero(sat >= satisfied_min),
            np.count_nonzero(scores >= promoter_min),
            np.count_nonzero(scores <= detractor_max),
            np.count_nonzero(member[idx]),
            np.count_nonzero(tenure[idx] < first_year_steps),
            np.count_nonzero(former_firm[idx] == f),
            np.count_nonzero(former_firm == f),
            np.count_nonzero(aware[:, f]),
        )
        high.append(np.compress(rev >= revenue_floor[f], rev))
        revenue_of.append(rev)
    return customers_of, table, high, revenue_of


def order_statistics(backend: str, values: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """The values at ascending `ranks` (0-based) of sorted `values` (no NaN).

    numpy: ``np.partition``; numba: a radix step on the float bits and a sort of the few
    values that share a bin with a rank (a pass or three over the values instead of
    partitioning them around each rank). An order statistic is a value, so both give the
    same bytes.

    >>> order_statistics("numpy", np.array([3.0, 1.0, 2.0, 5.0]), np.array([1, 3])).tolist()
    [2.0, 5.0]
    """
    if backend == "numba":
        result: np.ndarray = numba_kernels().records.order_statistics(values, ranks)
        return result
    return np.partition(values, ranks)[ranks]


def assign_tiers(
    backend: str,
    customers_of: list[np.ndarray],
    annual_revenue: np.ndarray,
    old_tier: np.ndarray,
    thresholds: np.ndarray,
    revenue_of: list[np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Each customer's tier from the revenue thresholds of its firm; per-firm sums.

        ``thresholds[f]``: firm f's lower revenue bounds of the tiers above the last one,
        highest tier first; a customer's tier is the first whose bound its revenue reaches
        (else the last). `customers_of`: each firm's customers (:func:`group_customers`). Returns ``tier``
        (every person's, int8, -1 for non-customers), and per firm ``revenue`` and
        ``counts`` of each tier (float, shape (tiers, firms), revenue summed in ascending
        order of the people), ``upgrades`` and ``downgrades`` (customers who had a tier in
        `old_tier` and moved up or down). `revenue_of`: the customers' revenues in the order
    of `customers_of` when at hand (:func:`close_pass`), which the numba form reads instead
    of gathering them.

        >>> r = assign_tiers("numpy", [np.array([0, 1, 2])], np.array([5.0, 1.0, 2.0, 0.0]),
        ...                  np.array([3, 0, -1, -1]),
        ...                  np.array([[4.0, 2.0, 2.0]]))
        >>> r["tier"].tolist(), r["revenue"][:, 0].tolist(), r["upgrades"], r["downgrades"]
        ([0, 3, 1, -1], [5.0, 2.0, 0.0, 1.0], array([1.]), array([1.]))
    """
    thresholds = np.asarray(thresholds, dtype=np.float64)
    n_firms, n_upper = len(customers_of), thresholds.shape[1]
    if backend == "numba":
        flat, offsets = _flat(customers_of)
        tier, revenue, counts, moves = numba_kernels().records.assign_tiers(
            flat, offsets, annual_revenue, old_tier, thresholds
        )
        return {
            "tier": tier,
            "revenue": revenue,
            "counts": counts,
            "upgrades": moves[0],
            "downgrades": moves[1],
        }
    n_tiers = n_upper + 1
    tier = np.full(annual_revenue.shape[0], -1, dtype=np.int8)
    revenue, counts = np.zeros((n_tiers, n_firms)), np.zeros((n_tiers, n_firms))
    upgrades, downgrades = np.zeros(n_firms), np.zeros(n_firms)
    for f, mine in enumerate(customers_of):
        if mine.size == 0:
            continue
        rev = annual_revenue[mine] if revenue_of is None else revenue_of[f]
        bounds = thresholds[f]
        t = np.full(mine.size, n_upper, dtype=np.int8)
        high = np.flatnonzero(rev >= bounds.min())  # the others are in the last tier
        rev_high = rev[high]
        t_high = np.full(high.size, n_upper, dtype=np.int8)
        for k in range(n_upper - 1, -1, -1):
            t_high[rev_high >= bounds[k]] = k
        t[high] = t_high
        tier[mine] = t
        revenue[:, f] = np.bincount(t, weights=rev, minlength=n_tiers)
        counts[:, f] = np.bincount(t_high, minlength=n_tiers)[:n_tiers]
        counts[-1, f] += mine.size - high.size
        old = old_tier[mine]
        kept = old >= 0
        upgrades[f] = np.count_nonzero(kept & (t < old))
        downgrades[f] = np.count_nonzero(kept & (t > old))
    return {
        "tier": tier,
        "revenue": revenue,
        "counts": counts,
        "upgrades": upgrades,
        "downgrades": downgrades,
    }
