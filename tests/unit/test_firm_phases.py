"""The firm-side and bookkeeping phases made cheaper for issue 14 keep their results.

Exact rewrites are compared with the plain computation they replace; rewrites that draw
differently are checked for the same law (fixed seeds, tolerances from the variance).
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.config.schema import Scenario
from sim.model.actions import _acceptors, enrolment_ceiling
from sim.model.behaviour.economies import forget
from sim.model.behaviour.levers import (
    bernoulli_positions,
    closeness_to_next_tier,
    enrolment_probability,
    select_longest_waiting,
    select_random,
)
from sim.model.kernels.actions import CEILING_LEVELS
from sim.model.market import MarketModel
from sim.model.metrics import rank_tiers, upper_quantiles
from sim.model.state import MarketState

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


def _small_state(n: int = 3_000) -> MarketState:
    scenario = Scenario.default().with_updates({"market.n_customers": n})
    return MarketModel(scenario, seed=4).state


def test_enrolment_ceiling_bounds_every_chance() -> None:
    """At any satisfaction in [0, 1] a person's enrolment chance is below their ceiling."""
    state = _small_state()
    pop, lev = state.population, state.scenario.market.levers
    ceiling = enrolment_ceiling(state)
    for satisfaction in (np.zeros(pop.n), np.ones(pop.n), pop.satisfaction):
        p = enrolment_probability(
            pop.purchase_rate / state.mean_purchase_rate,
            pop.base_spend / state.mean_spend,
            satisfaction,
            log_odds=lev.enrol_log_odds,
            rate_weight=lev.enrol_rate_weight,
            spend_weight=lev.enrol_spend_weight,
            satisfaction_weight=lev.enrol_satisfaction_weight,
        )
        assert (p < CEILING_LEVELS[ceiling]).all()


def test_acceptors_same_with_and_without_the_ceiling() -> None:
    """The ceiling only skips computing chances that cannot be met: the same acceptors."""
    state = _small_state()
    offered = np.flatnonzero(state.population.firm == 0)
    ceiling = enrolment_ceiling(state)
    for seed in range(5):
        state.rng = np.random.default_rng(seed)
        with_ceiling = _acceptors(state, offered, ceiling)
        state.rng = np.random.default_rng(seed)
        without = _acceptors(state, offered, None)
        np.testing.assert_array_equal(with_ceiling, without)
        assert with_ceiling.size > 0


def test_enrolment_when_oversubscribed_has_the_law_of_offers_in_random_order() -> None:
    """Random acceptors filling the places: each person's chance of joining is the same
    as when offers go out in a random order and the first acceptors join (before issue 14).

    20 people, 2 places, 20,000 steps each way; every person's joining frequency agrees
    within 4.5 standard errors of the difference of two binomial proportions.
    """
    state = _small_state()
    pop = state.population
    offered = np.flatnonzero(pop.firm == 0)[:20]
    pop.satisfaction[offered] = np.linspace(0.75, 1.0, offered.size)
    pop.purchase_rate[offered] = state.mean_purchase_rate * np.linspace(1.0, 6.0, offered.size)
    places, reps = 2, 20_000
    ceiling = enrolment_ceiling(state)
    lev = state.scenario.market.levers
    p = enrolment_probability(
        pop.purchase_rate[offered] / state.mean_purchase_rate,
        pop.base_spend[offered] / state.mean_spend,
        pop.satisfaction[offered],
        log_odds=lev.enrol_log_odds,
        rate_weight=lev.enrol_rate_weight,
        spend_weight=lev.enrol_spend_weight,
        satisfaction_weight=lev.enrol_satisfaction_weight,
    )
    assert p.sum() > 2 * places  # oversubscribed: the choice among acceptors matters
    state.rng = np.random.default_rng(11)
    now = np.zeros(offered.size)
    for _ in range(reps):
        joined = select_random(_acceptors(state, offered, ceiling), places, state.rng)
        now += np.isin(offered, joined)
    rng = np.random.default_rng(12)
    before = np.zeros(offered.size)
    for _ in range(reps):
        order = rng.permutation(offered.size)
        took = order[rng.random(offered.size) < p[order]][:places]
        before[took] += 1
    a, b = now / reps, before / reps
    se = np.sqrt((a * (1 - a) + b * (1 - b)) / reps)
    assert (np.abs(a - b) <= 4.5 * se + 1e-12).all()
    assert a.min() > 0.0 and a.max() < 1.0


def test_forgetting_acts_on_aware_non_customers_with_its_chance() -> None:
    """Drawn over everybody, forgetting still hits each person who can forget with
    p_forget, independently, and nobody else (before issue 14 it was drawn among them).

    200 steps of 3,000 people: each firm's count of forgetters over the steps is a
    binomial total, within 4 standard deviations of (people who can forget) x p.
    """
    rng = np.random.default_rng(21)
    n, p = 3_000, 0.05
    firm = rng.integers(-1, 3, n)
    former = np.where(firm < 0, rng.integers(-1, 3, n), -1)
    expected, counted = np.zeros(3), np.zeros(3)
    for _ in range(200):
        aware = rng.random((n, 3)) < 0.6
        can = aware & (firm[:, None] != np.arange(3)) & (former[:, None] != np.arange(3))
        before = aware.copy()
        forgot = forget(aware, firm, former, p, rng)
        assert not (aware & ~before).any()  # nobody becomes aware
        assert ((aware == before) | can).all()  # only those who can forget do
        np.testing.assert_array_equal(forgot, (before & ~aware).sum(axis=0))
        expected += can.sum(axis=0) * p
        counted += forgot
    assert (np.abs(counted - expected) < 4 * np.sqrt(expected * (1 - p))).all()


@pytest.mark.parametrize(("n", "p"), [(1_000, 0.3), (100_000, 0.01), (50, 0.9), (7, 0.5)])
def test_bernoulli_positions_have_the_law_of_independent_trials(n: int, p: float) -> None:
    """Counts binomial, positions equally likely (4 SE), ascending and distinct."""
    rng = np.random.default_rng(n)
    reps = max(400, 200_000 // n)
    hits = np.zeros(n)
    counts = np.empty(reps)
    for r in range(reps):
        pos = bernoulli_positions(n, p, rng)
        assert (np.diff(pos) > 0).all() and (pos.size == 0 or (pos[0] >= 0 and pos[-1] < n))
        hits[pos] += 1
        counts[r] = pos.size
    sd = np.sqrt(n * p * (1 - p))
    assert abs(counts.mean() - n * p) < 4 * sd / np.sqrt(reps)
    assert abs(counts.std() - sd) < 4 * sd / np.sqrt(2 * reps)  # SE of an SD
    bins = min(n, 10)  # every tenth of the positions hit as often (4 SE each)
    trials = reps * np.diff(np.linspace(0, n, bins + 1).astype(int))
    share = np.add.reduceat(hits, np.linspace(0, n, bins + 1).astype(int)[:-1]) / trials
    assert (np.abs(share - p) < 4 * np.sqrt(p * (1 - p) / trials)).all()


def _closeness_by_masks(revenue: np.ndarray, tier: np.ndarray) -> np.ndarray:
    """closeness_to_next_tier as it was before issue 14."""
    out = np.zeros(revenue.shape)
    for t in (1, 2, 3):
        above = revenue[tier == t - 1]
        here = tier == t
        if above.size and here.any():
            entry = float(above.min())
            out[here] = revenue[here] / entry if entry > 0 else 0.0
    return out


def test_closeness_to_next_tier_same_as_by_masks() -> None:
    """Entry revenues looked up per tier give the same bits, empty and zero tiers too."""
    rng = np.random.default_rng(3)
    for n in (0, 1, 5, 1_000):
        for tiers in ((-1, 0, 1, 2, 3), (2, 3), (-1, 1, 3), (0, 3)):
            tier = rng.choice(tiers, n).astype(np.int8)
            revenue = rng.gamma(1.0, 50.0, n)
            revenue[rng.random(n) < 0.2] = 0.0
            np.testing.assert_array_equal(
                closeness_to_next_tier(revenue, tier), _closeness_by_masks(revenue, tier)
            )
