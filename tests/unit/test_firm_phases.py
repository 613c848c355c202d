"""The firm-side and bookkeeping phases made cheaper for issue 14 keep their results.

Exact rewrites are compared with the plain computation they replace; rewrites that draw
differently are checked for the same law (fixed seeds, tolerances from the variance).
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.behaviour.levers import select_longest_waiting
from sim.model.metrics import rank_tiers, upper_quantiles

Q = 1.0 - np.cumsum((0.01, 0.04, 0.15))


def _values(kind: int, n: int, rng: np.random.Generator) -> np.ndarray:
    if kind == 0:
        return rng.gamma(1.0, 100.0, n)
    if kind == 1:  # heavy ties
        return rng.integers(0, 5, n).astype(float)
    if kind == 2:  # sorted: the fixed stride sees a biased sample
        return np.sort(rng.gamma(1.0, 100.0, n))
    v = np.zeros(n)  # mostly zeros (new customers), a few spenders
    spenders = rng.random(n) < 0.1
    v[spenders] = rng.gamma(1.0, 100.0, np.count_nonzero(spenders))
    return v


@pytest.mark.parametrize("n", [1, 2, 3, 17, 16_383, 16_384, 40_000, 170_000])
@pytest.mark.parametrize("kind", [0, 1, 2, 3])
def test_upper_quantiles_equal_numpy_bit_for_bit(n: int, kind: int) -> None:
    """Same bits as np.quantile, on both paths (the sample bound and the fallback)."""
    rng = np.random.default_rng(100 * n + kind)
    for _ in range(3):
        v = _values(kind, n, rng)
        np.testing.assert_array_equal(upper_quantiles(v, Q), np.quantile(v, Q))
    if n >= 16_384:  # the fixed stride lands on the largest values: the fallback runs
        v = _values(kind, n, rng)
        v[:: n // 4096] += 1e6
        np.testing.assert_array_equal(upper_quantiles(v, Q), np.quantile(v, Q))


def test_rank_tiers_match_the_plain_definition() -> None:
    """Tiers, tier revenue, tier counts and moves as a direct computation gives them."""
    rng = np.random.default_rng(7)
    n, n_firms = 120_000, 3
    firm = rng.integers(-1, n_firms, n)
    revenue = _values(0, n, rng)
    revenue[rng.random(n) < 0.05] = 0.0
    old = rng.integers(-1, 4, n).astype(np.int8)
    customers_of = [np.flatnonzero(firm == f) for f in range(n_firms)]
    got = rank_tiers(customers_of, revenue, old)
    for f, mine in enumerate(customers_of):
        rev = revenue[mine]
        thresholds = np.quantile(rev, Q)
        t = np.full(mine.size, 3, dtype=np.int8)
        for k in (2, 1, 0):
            t[rev >= thresholds[k]] = k
        np.testing.assert_array_equal(got["tier"][mine], t)
        np.testing.assert_array_equal(got["revenue"][:, f], np.bincount(t, rev, 4))
        np.testing.assert_array_equal(got["counts"][:, f], np.bincount(t, minlength=4))
        kept = old[mine] >= 0
        assert got["upgrades"][f] == np.count_nonzero(kept & (t < old[mine]))
        assert got["downgrades"][f] == np.count_nonzero(kept & (t > old[mine]))
    assert (got["tier"][firm < 0] == -1).all()


def _longest_waiting_by_partition(candidates, waiting, k, rng):  # type: ignore[no-untyped-def]
    """select_longest_waiting as it was before issue 14 (a partition, boolean masks)."""
    if k >= candidates.size:
        return candidates
    if k <= 0:
        return candidates[:0]
    threshold = np.partition(waiting, waiting.size - k)[waiting.size - k]
    above = candidates[waiting > threshold]
    ties = candidates[waiting == threshold]
    return np.concatenate([above, rng.choice(ties, size=k - above.size, replace=False)])


@pytest.mark.parametrize("spread", [3, 200, 10**7])
@pytest.mark.parametrize("k", [1, 50, 4_999, 5_000])
def test_select_longest_waiting_same_as_by_partition(spread: int, k: int) -> None:
    """Counting whole-step waits picks the same people with the same draws as a partition."""
    data = np.random.default_rng(spread + k)
    candidates = np.sort(data.choice(1_000_000, 5_000, replace=False))
    for waiting in (
        data.integers(0, spread, candidates.size).astype(np.int32),
        data.integers(0, spread, candidates.size) * 0.5,
    ):
        a = select_longest_waiting(candidates, waiting, k, np.random.default_rng(1))
        b = _longest_waiting_by_partition(candidates, waiting, k, np.random.default_rng(1))
        np.testing.assert_array_equal(a, b)
