"""The numpy and numba kernels of the firms' actions give the same bytes (issue 14).

Each kernel runs on the same inputs with both backends (and the same seed where it
draws); outputs, arrays changed in place and the generator's state afterwards must be
identical. Edge cases: nobody, one person, everybody taken, k of 0, ties at the k-th
wait, waits too spread for counting, exclusions, duplicate ranks of uniforms on a ceiling.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from sim.config.schema import Scenario
from sim.model.agents.suppliers import Supplier, step_suppliers
from sim.model.behaviour.economies import forget as forget_reference
from sim.model.kernels.actions import (
    CEILING_LEVELS,
    apply_care,
    complaint_cases,
    find_prospects,
    forget,
    loyalty_acceptors,
    select_for_care,
    split_members,
)
from sim.model.market import MarketModel

BACKENDS = ("numpy", "numba")


def _both(run: Callable[[str], Any]) -> None:
    """Run `run(backend)` for both backends and require identical results."""
    results = [run(b) for b in BACKENDS]
    _same(results[0], results[1])


def _same(a: Any, b: Any) -> None:
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()
    else:
        assert a == b


def _people(n: int, n_firms: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "firm": rng.integers(-1, n_firms, n).astype(np.int16),
        "former_firm": rng.integers(-1, n_firms, n).astype(np.int16),
        "aware": rng.random((n, n_firms)) < 0.6,
    }


@pytest.mark.parametrize(
    ("n", "p"), [(0, 0.05), (1, 0.3), (50, 0.2), (20_000, 0.026), (5_000, 0.5)]
)
def test_forget_matches_the_reference(n: int, p: float) -> None:
    """The walk over exponentials forgets exactly what economies.forget does (p 0.5 runs
    the reference itself), and leaves the generator at the same state."""
    outcomes = []
    for backend in BACKENDS:
        people = _people(n, 4, seed=n)
        rng = np.random.default_rng(9)
        gone = forget(people["aware"], people["firm"], people["former_firm"], p, rng, backend)
        outcomes.append((gone, people["aware"], rng.random(3)))
    _same(outcomes[0], outcomes[1])
    people = _people(n, 4, seed=n)  # and the numpy backend is the reference itself
    rng = np.random.default_rng(9)
    gone = forget_reference(people["aware"], people["firm"], people["former_firm"], p, rng)
    _same((gone, people["aware"], rng.random(3)), outcomes[0])
    if n >= 20_000:
        assert outcomes[0][0].min() > 0


def test_forget_walks_through_several_chunks_and_batches() -> None:
    """A market bigger than a chunk, with a rate whose first batch falls short of the end
    now and then (several batches): same bytes as the reference."""
    for seed in range(6):
        results = []
        for backend in BACKENDS:
            people = _people(30_000, 3, seed=seed)
            rng = np.random.default_rng(seed)
            gone = forget(
                people["aware"], people["firm"], people["former_firm"], 2e-4, rng, backend
            )
            results.append((gone, people["aware"], rng.random(2)))
        _same(results[0], results[1])


def _care_inputs(n: int, spread: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "mine": np.sort(rng.choice(max(n * 3, 1), size=n, replace=False)),
        "last_care": (-rng.integers(0, spread, max(n * 3, 1))).astype(np.int32),
        "tier": rng.integers(-1, 4, max(n * 3, 1)).astype(np.int8),
    }


@pytest.mark.parametrize("n", [0, 1, 9, 3_000])
@pytest.mark.parametrize("spread", [1, 30, 10**6])  # all tied; whole steps; sorted, not counted
@pytest.mark.parametrize("k", [0, 1, 40, 10**9])
def test_select_for_care_agrees(n: int, spread: int, k: int) -> None:
    data = _care_inputs(n, spread, seed=n + spread)
    excluded = np.arange(0, n, 7)
    for key_only, skip in ((False, excluded[:0]), (True, excluded[:0]), (False, excluded)):

        def run(backend: str, key_only: bool = key_only, skip: np.ndarray = skip) -> Any:
            rng = np.random.default_rng(3)
            chosen = select_for_care(
                backend, data["mine"], data["last_care"], data["tier"], 5, 1.0, 4.0,
                key_only, skip, k, rng,
            )  # fmt: skip
            return chosen, rng.random(2)

        _both(run)


def test_apply_care_agrees_on_helpful_and_pushy_contacts() -> None:
    rng = np.random.default_rng(2)
    n = 2_000
    base = {
        "satisfaction": rng.random(n),
        "last_care": rng.integers(-20, 6, n).astype(np.int32),
        "unresolved": rng.random(n) < 0.3,
    }
    base["satisfaction"][:3] = [0.0, 1.0, 0.05]  # spam penalty clipped at 0
    targets = np.concatenate([[0, 1, 2], rng.choice(np.arange(3, n), 500, replace=False)])

    def run(backend: str) -> Any:
        arrays = {k: v.copy() for k, v in base.items()}
        pushy = apply_care(
            backend, targets, arrays["satisfaction"], arrays["last_care"],
            arrays["unresolved"], 6, 52.0 / 52, boost=0.2, min_interval_weeks=4.0,
            spam_penalty=0.1,
        )  # fmt: skip
        return pushy, arrays["satisfaction"], arrays["last_care"], arrays["unresolved"]

    _both(run)
    assert 0 < run("numpy")[0] < targets.size


@pytest.mark.parametrize("n", [0, 1, 5_000])
def test_membership_split_and_acceptors_agree(n: int) -> None:
    rng = np.random.default_rng(n)
    size = max(3 * n, 1)
    member = rng.random(size) < 0.4
    mine = np.sort(rng.choice(size, size=n, replace=False))
    ceiling = rng.integers(0, 256, size).astype(np.uint8)
    traits = {
        "purchase_rate": rng.gamma(2.0, 2.0, size).astype(np.float32),
        "base_spend": rng.gamma(3.0, 1.0, size).astype(np.float32),
        "satisfaction": rng.random(size),
    }
    u_all = rng.random(size)
    if size > 20:  # uniforms exactly on a ceiling level: not below it
        u_all[:10] = CEILING_LEVELS[ceiling[:10]]

    def run(backend: str) -> Any:
        members, others = split_members(backend, mine, member)
        u = u_all[: others.size]
        accepted = loyalty_acceptors(
            backend, others, u, ceiling, traits["purchase_rate"], traits["base_spend"],
            traits["satisfaction"], mean_purchase_rate=4.0, mean_spend=3.0, log_odds=-1.0,
            rate_weight=1.0, spend_weight=0.5, satisfaction_weight=3.0,
        )  # fmt: skip
        return members, others, accepted

    _both(run)
    if n > 100:  # the test reaches acceptors
        assert run("numpy")[2].size > 0


@pytest.mark.parametrize("n", [0, 1, 4_000])
def test_complaint_cases_agree(n: int) -> None:
    people = _people(n, 3, seed=n + 1)
    rng = np.random.default_rng(n)
    buyers = np.sort(rng.choice(max(n, 1), size=n // 2, replace=False)) if n else np.zeros(0, int)
    complained = rng.random(buyers.size) < 0.4
    _both(lambda b: complaint_cases(b, buyers, complained, people["firm"], 3))


def _prospects(backend: str, people: dict[str, np.ndarray], ranks: list[np.ndarray]) -> Any:
    found = find_prospects(backend, people["firm"], people["aware"])
    picked = [found.aware_at(people["aware"], f, r) for f, r in enumerate(ranks)]
    return found.people, found.n_aware, picked


@pytest.mark.parametrize("n", [0, 1, 128, 130, 4_000])
@pytest.mark.parametrize("n_firms", [3, 4])  # 4: rows read as one integer each
def test_prospects_aware_of_a_firm_found_by_rank(n: int, n_firms: int) -> None:
    """The k-th prospect aware of each firm, for ranks at both ends, inside and across
    blocks of the numba form's table, repeated and in any order: the numpy lists' entries."""
    people = _people(n, n_firms, seed=n + 2)
    people["aware"][: n // 3, 1] = False  # a firm nobody near the start knows: empty blocks
    found = find_prospects("numpy", people["firm"], people["aware"])
    rng = np.random.default_rng(n)
    ranks = []
    for total in found.n_aware:
        r = rng.integers(0, total, size=min(total, 50)) if total else np.zeros(0, np.int64)
        ranks.append(np.concatenate([r, [0, total - 1]] if total else [r]).astype(np.int64))
    _both(lambda b: _prospects(b, people, ranks))
    assert found.n_aware.tolist() == [
        int(np.count_nonzero(people["aware"][people["firm"] < 0, f])) for f in range(n_firms)
    ]


def test_suppliers_stepped_together_as_each_in_turn() -> None:
    """step_suppliers gives each supplier the numbers of its own Supplier.step."""
    scenario = Scenario.default().with_updates({"market.n_customers": 500})
    model = MarketModel(scenario, policy="supplier_partnership", seed=3)
    firm = model.focal_firm
    suppliers: list[Supplier] = list(firm.suppliers)
    assert len(suppliers) > 1
    start = [s.trust for s in suppliers]
    model.rng = np.random.default_rng(5)
    for _ in range(3):
        for supplier in suppliers:
            supplier.step()
    one_by_one = [
        (s.trust, s.level, s.quality, s.reliability, s.cost_factor, s.failed) for s in suppliers
    ]
    after_one = model.rng.random()
    for supplier, trust in zip(suppliers, start, strict=True):
        supplier.trust = trust
    model.rng = np.random.default_rng(5)
    for _ in range(3):
        step_suppliers(suppliers, model.rng)
    together = [
        (s.trust, s.level, s.quality, s.reliability, s.cost_factor, s.failed) for s in suppliers
    ]
    assert together == one_by_one
    assert model.rng.random() == after_one


def test_staff_quit_decisions_are_each_employees_draw() -> None:
    """The staff's quit decisions drawn at once are Employee.consider_quitting's, in order."""
    scenario = Scenario.default().with_updates({"market.n_customers": 500})
    model = MarketModel(scenario, seed=3)
    staff = model.focal_firm.staff
    assert staff is not None and staff.size > 1
    p_quit = np.linspace(0.0, 1.0, staff.size)
    model.rng = np.random.default_rng(8)
    staff.agents.do("consider_quitting", p_quit)
    each = staff.quitting.copy()
    model.rng = np.random.default_rng(8)
    at_once = model.rng.random(staff.size) < p_quit
    np.testing.assert_array_equal(each, at_once)
    assert 0 < each.sum() < staff.size
