"""The numpy and numba forms of the step's record kernels give the same bytes (issue 14).

Edge cases: firms without customers, a firm with one customer, nobody at all, revenues
tied at the tier thresholds, satisfaction exactly at the box thresholds and scores at the
promoter and detractor bounds, and the fallback of the quantile floor (a floor too high).
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.kernels import numba_kernels
from sim.model.kernels.records import (
    TALLIES,
    GroupedCustomers,
    assign_tiers,
    close_pass,
    group_customers,
    order_statistics,
)
from sim.model.metrics import (
    SATISFIED,
    TIER_SHARES,
    TOP_BOX,
    CohortValue,
    revenue_floors,
    tier_thresholds,
)

pytest.importorskip("numba")

Q = 1.0 - np.cumsum(TIER_SHARES)
LIMITS = (TOP_BOX, SATISFIED, 9, 6, 52)


def _people(n: int, n_firms: int, seed: int, kind: str = "plain") -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    # firm n_firms - 1 never has customers; firm 0 has exactly one when kind == "one"
    firm = rng.integers(-1, max(n_firms - 1, 0), n).astype(np.int16)
    if kind == "one" and n:
        firm[firm == 0] = -1
        firm[n // 2] = 0
    satisfaction = rng.random(n)
    edges = np.array([TOP_BOX, SATISFIED, np.nextafter(TOP_BOX, 0), np.nextafter(SATISFIED, 0)])
    pick = rng.random(n) < 0.2
    satisfaction[pick] = rng.choice(edges, np.count_nonzero(pick))
    revenue = rng.gamma(1.0, 100.0, n)
    revenue[rng.random(n) < 0.3] = 0.0  # new customers: many ties at zero
    if kind == "ties":  # a few values only: ties at every threshold
        revenue = rng.integers(0, 4, n).astype(float) * 50.0
    return {
        "firm": firm,
        "tenure": rng.integers(0, 120, n).astype(np.int32),
        "satisfaction": satisfaction,
        "ltr": rng.integers(0, 11, n).astype(np.int8),
        "member": rng.random(n) < 0.3,
        "former_firm": rng.integers(-1, n_firms, n).astype(np.int16),
        "aware": rng.random((n, n_firms)) < 0.6,
        "annual_revenue": revenue,
        "tier": rng.integers(-1, 4, n).astype(np.int8),
    }


def _close(backend: str, p: dict[str, np.ndarray], n_firms: int, floors: np.ndarray) -> tuple:
    return close_pass(
        backend,
        p["firm"],
        n_firms,
        p["tenure"],
        p["satisfaction"],
        p["ltr"],
        p["member"],
        p["former_firm"],
        p["aware"],
        p["annual_revenue"],
        floors,
        LIMITS,
    )


def _same(a: np.ndarray, b: np.ndarray) -> None:
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize(
    ("n", "n_firms", "kind"),
    [
        (0, 3, "plain"),
        (1, 2, "plain"),
        (9, 3, "one"),
        (5_000, 4, "ties"),
        (60_001, 4, "plain"),
        (60_000, 5, "one"),
        (20_000, 12, "plain"),
    ],
)
def test_the_close_pass_and_tiers_agree(n: int, n_firms: int, kind: str) -> None:
    base = _people(n, n_firms, seed=n + n_firms, kind=kind)
    floors = revenue_floors(base["firm"], base["annual_revenue"], n_firms, float(Q.min()))
    out = {}
    for backend in ("numpy", "numba"):
        p = {k: v.copy() for k, v in base.items()}
        customers_of, table, high, revenue_of = _close(backend, p, n_firms, floors)
        thresholds = tier_thresholds(customers_of, p["annual_revenue"], high, backend=backend)
        ranked = assign_tiers(
            backend, customers_of, p["annual_revenue"], p["tier"], thresholds, revenue_of
        )
        out[backend] = (customers_of, table, high, thresholds, ranked, p["tenure"])
    (c0, t0, h0, q0, r0, a0), (c1, t1, h1, q1, r1, a1) = out["numpy"], out["numba"]
    assert len(c0) == len(c1) == n_firms
    for x, y in zip(c0, c1, strict=True):
        _same(x, y)
    _same(t0, t1)
    for x, y in zip(h0, h1, strict=True):
        _same(x, y)
    _same(q0, q1)
    for key in r0:
        _same(r0[key], r1[key])
    _same(a0, a1)  # customers aged by one step in both
    # the tallies are what they say, and the thresholds are np.quantile's
    firm = base["firm"]
    np.testing.assert_array_equal(a0, base["tenure"] + (firm >= 0))
    for f in range(n_firms):
        mine = np.flatnonzero(firm == f)
        np.testing.assert_array_equal(c0[f], mine)
        row = dict(zip(TALLIES, t0[:, f], strict=True))
        assert row["customers"] == mine.size
        assert row["satisfaction_sum"] == base["satisfaction"][mine].sum()
        assert row["top_box"] == np.count_nonzero(base["satisfaction"][mine] >= TOP_BOX)
        assert row["promoters"] == np.count_nonzero(base["ltr"][mine] >= 9)
        assert row["first_year"] == np.count_nonzero(a0[mine] < 52)
        assert row["former"] == np.count_nonzero(base["former_firm"] == f)
        assert row["aware"] == np.count_nonzero(base["aware"][:, f])
        if mine.size:
            _same(q0[f], np.quantile(base["annual_revenue"][mine], Q))
        else:
            assert np.isnan(q0[f]).all()
    assert (r0["tier"][firm < 0] == -1).all()


def test_a_floor_too_high_falls_back_to_every_value() -> None:
    p = _people(50_000, 3, seed=5)
    floors = np.full(3, np.inf)  # nobody reaches it: every quantile from the whole firm
    for backend in ("numpy", "numba"):
        q = {k: v.copy() for k, v in p.items()}
        customers_of, _, high, _ = _close(backend, q, 3, floors)
        assert all(h.size == 0 for h in high)
        thresholds = tier_thresholds(customers_of, q["annual_revenue"], high, backend=backend)
        for f, mine in enumerate(customers_of):
            if mine.size:
                _same(thresholds[f], np.quantile(q["annual_revenue"][mine], Q))


@pytest.mark.parametrize("n_firms", [0, 1, 4, 9])
def test_grouping_agrees_and_ages(n_firms: int) -> None:
    rng = np.random.default_rng(n_firms)
    firm = rng.integers(-1, max(n_firms, 1), 10_001).astype(np.int16)
    if n_firms == 0:
        firm[:] = -1
    groups = {}
    for backend in ("numpy", "numba"):
        tenure = np.arange(firm.size, dtype=np.int32)
        groups[backend] = group_customers(backend, firm, n_firms, tenure=tenure)
        np.testing.assert_array_equal(tenure, np.arange(firm.size) + (firm >= 0))
    assert isinstance(groups["numba"], GroupedCustomers)
    for a, b in zip(groups["numpy"], groups["numba"], strict=True):
        _same(a, b)


def test_pairwise_sum_is_numpys_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    for n in [*range(0, 300), 1_000, 4_097, 65_537, 250_001]:
        values = rng.random(3 * n + 1) * 10.0 ** rng.uniform(-3, 3, 3 * n + 1)
        idx = np.sort(rng.choice(values.size, n, replace=False)).astype(np.int64)
        assert numba_kernels().records.pairwise_sum(values, idx) == values[idx].sum()


@pytest.mark.parametrize("kind", ["gamma", "ties", "outliers", "negative", "one", "zeros"])
def test_order_statistics_agree(kind: str) -> None:
    rng = np.random.default_rng(len(kind))
    n = 1 if kind == "one" else 30_001
    values = rng.gamma(1.0, 100.0, n)
    if kind == "ties":
        values = rng.integers(0, 3, n) * 25.0
    if kind == "outliers":  # far beyond the last bin of the radix step
        values[::97] = 10.0 ** rng.uniform(10, 300, values[::97].size)
    if kind == "negative":  # signed values and -0.0: the sort fallback
        values -= 100.0
        values[::5] = -0.0
    if kind == "zeros":
        values[:] = 0.0
    ranks = np.unique(rng.integers(0, n, 7))
    expected = np.partition(values, ranks)[ranks]
    for backend in ("numpy", "numba"):
        _same(order_statistics(backend, values, ranks), expected)


@pytest.mark.parametrize("discount", [0.9981669, 0.95, 0.999999])
def test_cohort_margins_equal_a_power_per_buyer(discount: float) -> None:
    # add_margin gathers the discount factor's powers from a table of one per cohort:
    # the same bytes as a power per buyer (issue 14)
    rng = np.random.default_rng(int(discount * 1000))
    cohorts = CohortValue(3, discount, capacity=4)
    expected = np.zeros((3, 200))
    for step in (0, 1, 7, 63, 150):
        n = int(rng.integers(1, 50_000))
        firm = rng.integers(0, 3, n)
        cohort = rng.integers(-5, step + 1, n)
        margin = rng.gamma(1.0, 10.0, n)
        cohorts.add_margin(firm, cohort, margin, step)
        c = np.maximum(cohort, 0)
        width = cohorts.value.shape[1]
        flat = np.bincount(firm * width + c, margin * discount ** (step - c), 3 * width)
        expected[:, :width] += flat.reshape(3, width)
        _same(cohorts.value, expected[:, :width])
