"""Unit tests of the pure behaviour rules in sim.model.behaviour, each rule on its own.

Stochastic rules are checked against their exact distribution on many draws from a
fixed seed, with tolerances of a few standard errors of the estimate (binomial or
Poisson), or a chi-square goodness-of-fit p-value.
"""

from __future__ import annotations

import doctest
import itertools
import math

import numpy as np
import pytest
from scipy import stats

from sim.config.schema import HeterogeneitySpec
from sim.model.behaviour import churn, levers, satisfaction, spend, supply, value, word_of_mouth
from sim.model.behaviour.churn import (
    CHURN_REASONS,
    OWN_CHURN_REASONS,
    churn_hazards_per_year,
    draw_churn,
    draw_lapses,
    switch_probability,
)
from sim.model.behaviour.levers import (
    bernoulli_successes,
    care_effect,
    draw_capacity,
    exposure_probability,
    select_longest_waiting,
    select_random,
    service_gain,
)
from sim.model.behaviour.satisfaction import (
    likelihood_to_recommend,
    transaction_satisfaction,
    update_toward,
)
from sim.model.behaviour.spend import (
    Traits,
    churn_proneness,
    draw_purchases,
    draw_traits,
    draw_units,
    tenure_spend_multiplier,
)
from sim.model.behaviour.supply import draw_supply_failures
from sim.model.behaviour.value import (
    N_VALUE_PARTS,
    choose_firm,
    delivered_value,
    draw_value_weights,
    signed_offer,
)
from sim.model.behaviour.word_of_mouth import (
    decay_per_step,
    draw_tellings,
    pick_contacts,
    referral_converts,
)
from sim.model.network import SocialGraph, build_graph

K_SE = 4.0  # standard errors allowed between a Monte Carlo estimate and its exact value
P_MIN = 1e-4  # smallest goodness-of-fit p-value accepted from a fixed seed
N_DRAWS = 100_000


def binomial_tolerance(p: float, n: int, k: float = K_SE) -> float:
    """k standard errors of a proportion estimated from n Bernoulli(p) trials."""
    return k * math.sqrt(p * (1.0 - p) / n)


def assert_proportion(successes: float, n: int, p: float) -> None:
    """The observed share of successes is within K_SE binomial errors of p."""
    assert abs(successes / n - p) <= binomial_tolerance(p, n), (successes / n, p)


def assert_chisquare(counts: np.ndarray, probabilities: np.ndarray) -> None:
    """Counts fit the probabilities (chi-square goodness of fit at P_MIN)."""
    expected = np.asarray(probabilities) / np.sum(probabilities) * np.sum(counts)
    result = stats.chisquare(counts, expected)
    assert result.pvalue > P_MIN, (counts, expected, result)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240611)


@pytest.mark.parametrize("module", [value, satisfaction, spend, levers, word_of_mouth, supply])
def test_doctests_pass(module) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize(
    "module", [value, satisfaction, spend, levers, word_of_mouth, churn, supply]
)
def test_all_names_exist(module) -> None:
    for name in module.__all__:
        assert hasattr(module, name)


# ---------------------------------------------------------------------------- value


class TestValue:
    def test_delivered_value_shapes(self, rng) -> None:
        weights = draw_value_weights(5, 8.0, rng)
        offers = rng.random((3, N_VALUE_PARTS))
        assert delivered_value(weights, offers).shape == (5, 3)
        assert delivered_value(weights[0], offers).shape == (3,)

    def test_delivered_value_is_weighted_sum(self, rng) -> None:
        weights = draw_value_weights(4, 8.0, rng)
        offers = rng.normal(size=(2, N_VALUE_PARTS))
        expected = [
            [sum(w[k] * o[k] for k in range(N_VALUE_PARTS)) for o in offers] for w in weights
        ]
        np.testing.assert_allclose(delivered_value(weights, offers), expected)

    def test_value_weights_are_two_simplices(self, rng) -> None:
        w = draw_value_weights(1_000, 8.0, rng)
        assert w.shape == (1_000, N_VALUE_PARTS)
        assert (w >= 0).all()
        np.testing.assert_allclose(w[:, :4].sum(axis=1), 1.0)
        np.testing.assert_allclose(w[:, 4:].sum(axis=1), 1.0)

    def test_value_weights_concentration_controls_spread(self, rng) -> None:
        alike = draw_value_weights(5_000, 100.0, rng)
        varied = draw_value_weights(5_000, 1.0, rng)
        assert alike.std(axis=0).max() < varied.std(axis=0).min()

    def test_signed_offer_value_parts(self) -> None:
        offer = signed_offer(0.7, 0.6, 0.5, 0.4, 1.2, 0.3, 0.2, 0.1, cost_weight=2.0)
        np.testing.assert_allclose(offer, [0.7, 0.6, 0.5, 0.4, -2.4, -0.6, -0.4, -0.2])

    def test_value_falls_with_price_and_rises_with_quality(self, rng) -> None:
        w = draw_value_weights(100, 8.0, rng)

        def offer(product: float, price_ratio: float) -> np.ndarray:
            return signed_offer(product, 0.6, 0.6, 0.6, price_ratio, 0.3, 0.3, 0.2, 1.0)

        base = delivered_value(w, offer(0.7, 1.0)[None])[:, 0]
        assert (delivered_value(w, offer(0.7, 1.1)[None])[:, 0] < base).all()
        assert (delivered_value(w, offer(0.8, 1.0)[None])[:, 0] > base).all()

    def test_choose_firm_reproduces_logit_probabilities(self, rng) -> None:
        u = np.array([0.5, 0.0, -1.0])
        outside = 0.2
        choice = choose_firm(np.tile(u, (N_DRAWS, 1)), outside, rng)
        expu = np.exp(np.append(u, outside))
        p = expu / expu.sum()
        counts = np.array([np.count_nonzero(choice == f) for f in (0, 1, 2, -1)])
        assert_chisquare(counts, p)
        for c, pk in zip(counts, p, strict=True):
            assert_proportion(c, N_DRAWS, pk)

    def test_choose_firm_per_row_utilities(self, rng) -> None:
        # two kinds of customers in one call: each row is its own logit
        u = np.array([[2.0, 0.0], [0.0, 2.0]])
        rows = np.repeat(u, N_DRAWS // 2, axis=0)
        choice = choose_firm(rows, 0.0, rng)
        p_first = math.exp(2.0) / (math.exp(2.0) + 2.0)
        half = N_DRAWS // 2
        assert_proportion(np.count_nonzero(choice[:half] == 0), half, p_first)
        assert_proportion(np.count_nonzero(choice[half:] == 1), half, p_first)

    def test_choose_firm_never_picks_unconsidered_firms(self, rng) -> None:
        u = np.array([5.0, -np.inf, 0.0, -np.inf])
        choice = choose_firm(np.tile(u, (N_DRAWS, 1)), -3.0, rng)
        assert not np.isin(choice, [1, 3]).any()
        assert set(np.unique(choice)) <= {-1, 0, 2}

    def test_choose_firm_outside_when_nothing_considered(self, rng) -> None:
        u = np.full((1_000, 3), -np.inf)
        assert (choose_firm(u, 0.0, rng) == -1).all()

    def test_choose_firm_single_row(self, rng) -> None:
        choice = choose_firm(np.array([0.0, 1.0]), 0.0, rng)
        assert choice.shape == (1,)
        assert choice[0] in (-1, 0, 1)


# --------------------------------------------------------------------- satisfaction


SAT = {"desired": 0.15, "expectation_weight": 4.0, "desire_weight": 3.0, "baseline": 1.6}


class TestSatisfaction:
    def test_increasing_in_performance(self) -> None:
        performance = np.linspace(-1.0, 1.0, 201)
        s = transaction_satisfaction(performance, np.full(201, 0.2), **SAT)
        assert (np.diff(s) > 0).all()
        assert ((s > 0) & (s < 1)).all()

    def test_decreasing_in_expectation(self) -> None:
        expectation = np.linspace(-1.0, 1.0, 201)
        s = transaction_satisfaction(np.full(201, 0.2), expectation, **SAT)
        assert (np.diff(s) < 0).all()

    def test_baseline_when_performance_meets_expectation_and_desire(self) -> None:
        s = transaction_satisfaction(np.array([0.15]), np.array([0.15]), **SAT)
        assert s[0] == pytest.approx(1.0 / (1.0 + math.exp(-SAT["baseline"])))

    def test_update_toward_endpoints_and_share(self) -> None:
        current, target = np.array([0.2, 0.9]), np.array([0.6, 0.1])
        np.testing.assert_allclose(update_toward(current, target, 0.0), current)
        np.testing.assert_allclose(update_toward(current, target, 1.0), target)
        np.testing.assert_allclose(update_toward(current, target, 0.25), [0.3, 0.7])

    def test_update_toward_closes_gap_geometrically(self) -> None:
        x, target, rate = 0.0, 1.0, 0.25
        for _ in range(10):
            x = update_toward(x, target, rate)
        assert x == pytest.approx(1.0 - (1.0 - rate) ** 10)

    def test_likelihood_to_recommend_bounds(self, rng) -> None:
        s = rng.random(N_DRAWS)
        bias = rng.normal(0.0, 3.0, N_DRAWS)
        ltr = likelihood_to_recommend(s, bias)
        assert ltr.min() == 0
        assert ltr.max() == 10
        assert np.issubdtype(ltr.dtype, np.integer)

    def test_likelihood_to_recommend_monotone_in_satisfaction(self) -> None:
        s = np.linspace(0.0, 1.0, 501)
        for bias in (-1.5, 0.0, 0.7):
            ltr = likelihood_to_recommend(s, np.full(s.size, bias))
            assert (np.diff(ltr.astype(int)) >= 0).all()


# ---------------------------------------------------------------------------- spend


class TestSpend:
    def test_tenure_multiplier_endpoints(self) -> None:
        m = tenure_spend_multiplier(np.array([0.0, 1.5, 3.0, 30.0]), 0.2, 3.0)
        np.testing.assert_allclose(m, [1.0, 1.1, 1.2, 1.2])

    def test_tenure_multiplier_monotone(self) -> None:
        m = tenure_spend_multiplier(np.linspace(0, 10, 101), 1.0, 4.0)
        assert (np.diff(m) >= 0).all()
        assert m.min() == 1.0
        assert m.max() == 2.0

    def test_no_ramp_when_gain_is_zero(self) -> None:
        np.testing.assert_allclose(tenure_spend_multiplier(np.arange(10.0), 0.0, 3.0), 1.0)

    @pytest.mark.parametrize("lam", [0.05, 0.3, 0.9])
    def test_draw_purchases_below_one(self, rng, lam) -> None:
        bought, quantity = draw_purchases(np.full(N_DRAWS, lam), rng)
        assert set(np.unique(quantity)) <= {0.0, 1.0}
        np.testing.assert_array_equal(bought, quantity > 0)
        assert_proportion(bought.sum(), N_DRAWS, lam)

    @pytest.mark.parametrize("lam", [1.0, 1.7, 4.0])
    def test_draw_purchases_at_or_above_one_is_exact(self, rng, lam) -> None:
        bought, quantity = draw_purchases(np.full(1_000, lam), rng)
        assert bought.all()
        np.testing.assert_allclose(quantity, lam)

    def test_draw_purchases_zero(self, rng) -> None:
        bought, quantity = draw_purchases(np.zeros(1_000), rng)
        assert not bought.any()
        assert (quantity == 0).all()

    def test_traits_follow_bg_nbd_and_gamma_gamma(self, rng) -> None:
        """Purchase rate ~ Gamma(r, alpha), dropout ~ Beta(a, b), nu ~ Gamma(q, gamma)."""
        spec = HeterogeneitySpec()
        t = draw_traits(N_DRAWS, spec, rng)
        rate_sd = math.sqrt(spec.r) / spec.alpha
        assert abs(t.purchase_rate.mean() - spec.mean_rate) <= K_SE * rate_sd / math.sqrt(N_DRAWS)
        assert stats.kstest(t.dropout, stats.beta(spec.a, spec.b).cdf).pvalue > 1e-3
        nu = stats.gamma(spec.q, scale=1.0 / spec.gamma)
        assert stats.kstest(t.spend_rate, nu.cdf).pvalue > 1e-3

    def test_mean_units_per_purchase_is_the_gamma_gamma_mean(self, rng) -> None:
        spec = HeterogeneitySpec()
        t = draw_traits(N_DRAWS, spec, rng)
        units = draw_units(np.ones(N_DRAWS), t.spend_rate, spec.p, True, rng)
        # heavy-tailed across people: compare medians of a robust statistic instead of means
        expected = spec.p / t.spend_rate
        assert np.median(units / expected) == pytest.approx(
            stats.gamma(spec.p, scale=1 / spec.p).median(), rel=0.02
        )

    def test_traits_off_gives_everyone_the_means(self, rng) -> None:
        spec = HeterogeneitySpec(enabled=False)
        t = draw_traits(10, spec, rng)
        np.testing.assert_allclose(t.purchase_rate, spec.mean_rate)
        np.testing.assert_allclose(spec.p / t.spend_rate, spec.mean_spend)
        np.testing.assert_allclose(churn_proneness(t, spec), 1.0)
        units = draw_units(np.full(10, 2.0), t.spend_rate, spec.p, False, rng)
        np.testing.assert_allclose(units, 2.0 * spec.mean_spend)

    def test_proneness_falls_with_engagement_and_rises_with_dropout(self) -> None:
        spec = HeterogeneitySpec(engagement_churn_elasticity=1.0)
        nu = np.full(3, spec.p)
        light_heavy = churn_proneness(
            Traits(np.array([2.0, 12.0, 48.0]), np.full(3, 0.25), nu), spec
        )
        assert light_heavy[0] > light_heavy[1] > light_heavy[2]
        assert light_heavy.mean() == pytest.approx(1.0)
        prone = churn_proneness(
            Traits(np.full(2, 12.0), np.array([0.1, 0.4]), np.full(2, 1.0)), spec
        )
        assert prone[1] == pytest.approx(4 * prone[0])


# ---------------------------------------------------------------------------- churn


HAZ = {
    "neglect_per_year": 0.35,
    "neglect_weeks": 26.0,
    "neglect_satisfaction_exponent": 1.0,
    "unresolved_per_year": 0.5,
    "dissatisfaction_per_year": 0.6,
    "satisfaction_convexity": 2.5,
    "price_per_year": 0.6,
    "base_per_year": 0.02,
}
CARE, DISSATISFACTION, PRICE, OTHER = range(4)


def hazards(
    satisfaction=0.8, weeks=0.0, unresolved=False, price_ratio=1.0, modifier=1.0, **kw
) -> np.ndarray:
    """Hazards of arrays broadcast from the given values (defaults for the others)."""
    s = np.atleast_1d(np.asarray(satisfaction, dtype=float))
    shape = np.broadcast_shapes(
        s.shape,
        np.shape(weeks),
        np.shape(unresolved),
        np.shape(price_ratio),
        np.shape(modifier),
    )

    def full(x):
        return np.broadcast_to(np.asarray(x), shape)

    return churn_hazards_per_year(
        full(s),
        full(weeks),
        full(unresolved),
        full(price_ratio),
        full(modifier),
        **{**HAZ, **kw},
    )


class TestChurnHazards:
    def test_shape_and_reason_order(self) -> None:
        h = hazards(np.full((3, 5), 0.5))
        assert h.shape == (3, 5, len(OWN_CHURN_REASONS))
        columns = ("insufficient_care", "dissatisfaction", "price", "other")
        assert [OWN_CHURN_REASONS.index(r) for r in columns] == [
            CARE,
            DISSATISFACTION,
            PRICE,
            OTHER,
        ]
        assert set(OWN_CHURN_REASONS) < set(CHURN_REASONS)
        assert CHURN_REASONS[churn.REASON_COMPETITOR] == "competitor"

    def test_dissatisfaction_decreasing_and_convex(self) -> None:
        s = np.linspace(0.0, 1.0, 101)
        d = hazards(s)[:, DISSATISFACTION]
        assert d[0] == pytest.approx(HAZ["dissatisfaction_per_year"])
        assert d[-1] == 0.0
        assert (np.diff(d) < 0).all()
        assert (np.diff(d, 2) > -1e-12).all()  # convex: very satisfied customers rarely leave

    def test_neglect_grows_with_time_since_care(self) -> None:
        weeks = np.linspace(0.0, 260.0, 261)
        care = hazards(0.7, weeks=weeks)[:, CARE]
        assert care[0] == 0.0
        assert (np.diff(care) > 0).all()
        assert care[-1] < HAZ["neglect_per_year"]
        # at satisfaction 0.7 the neglect hazard is its nominal size
        at_scale = hazards(0.7, weeks=HAZ["neglect_weeks"])[0, CARE]
        assert at_scale == pytest.approx(HAZ["neglect_per_year"] * (1 - math.exp(-1)))

    def test_satisfaction_protects_against_neglect(self) -> None:
        s = np.linspace(0.0, 1.0, 101)
        care = hazards(s, weeks=52.0)[:, CARE]
        assert (np.diff(care) < 0).all()
        assert care[-1] == 0.0
        flat = hazards(s, weeks=52.0, neglect_satisfaction_exponent=0.0)[:, CARE]
        np.testing.assert_allclose(flat, flat[0])

    def test_unresolved_complaint_adds_to_care(self) -> None:
        weeks = np.array([0.0, 10.0, 100.0])
        without = hazards(0.8, weeks=weeks, unresolved=False)
        with_ = hazards(0.8, weeks=weeks, unresolved=True)
        np.testing.assert_allclose(with_[:, CARE] - without[:, CARE], HAZ["unresolved_per_year"])
        np.testing.assert_allclose(with_[:, 1:], without[:, 1:])

    def test_price_only_above_reference(self) -> None:
        ratio = np.array([0.5, 0.9, 1.0, 1.1, 1.5])
        p = hazards(0.8, price_ratio=ratio)[:, PRICE]
        np.testing.assert_allclose(p, HAZ["price_per_year"] * np.array([0, 0, 0, 0.1, 0.5]))

    def test_other_is_constant(self) -> None:
        h = hazards(np.linspace(0, 1, 11), weeks=50.0, price_ratio=1.3)
        np.testing.assert_allclose(h[:, OTHER], HAZ["base_per_year"])

    def test_modifier_scales_every_hazard(self) -> None:
        args = {"weeks": 30.0, "unresolved": True, "price_ratio": 1.2}
        one = hazards(0.4, **args)
        np.testing.assert_allclose(hazards(0.4, modifier=0.7, **args), 0.7 * one)
        np.testing.assert_allclose(hazards(0.4, modifier=0.0, **args), 0.0)


class TestDrawChurn:
    def test_leave_rate_and_reasons(self, rng) -> None:
        h = np.array([0.9, 0.6, 0.3, 0.15])  # per year
        spy = 12
        reasons = draw_churn(np.tile(h, (N_DRAWS, 1)), spy, rng)
        p_leave = 1.0 - math.exp(-h.sum() / spy)
        leaves = reasons >= 0
        assert_proportion(leaves.sum(), N_DRAWS, p_leave)
        counts = np.bincount(reasons[leaves], minlength=4)
        assert_chisquare(counts, h / h.sum())

    def test_weekly_leave_rate(self, rng) -> None:
        h = np.array([0.35, 0.1, 0.0, 0.02])
        reasons = draw_churn(np.tile(h, (4 * N_DRAWS, 1)), 52, rng)
        assert_proportion((reasons >= 0).sum(), 4 * N_DRAWS, 1.0 - math.exp(-h.sum() / 52))
        assert not (reasons == 2).any()  # a zero hazard is never the reason

    def test_heterogeneous_rows(self, rng) -> None:
        rows = np.repeat(np.array([[2.0, 0, 0, 0], [0, 0, 0, 6.0]]), N_DRAWS // 2, axis=0)
        reasons = draw_churn(rows, 4, rng)
        first, second = reasons[: N_DRAWS // 2], reasons[N_DRAWS // 2 :]
        assert set(np.unique(first)) <= {-1, 0}
        assert set(np.unique(second)) <= {-1, 3}
        assert_proportion((first == 0).sum(), first.size, 1 - math.exp(-2.0 / 4))
        assert_proportion((second == 3).sum(), second.size, 1 - math.exp(-6.0 / 4))

    def test_no_hazard_no_churn(self, rng) -> None:
        reasons = draw_churn(np.zeros((1_000, 4)), 52, rng)
        assert (reasons == -1).all()

    def test_one_customer(self, rng) -> None:
        reasons = draw_churn(np.array([1e6, 0.0, 0.0, 0.0]), 52, rng)
        assert reasons.tolist() == [0]


SWITCH = {"value_sensitivity": 5.0, "satisfaction_stickiness": 3.0, "deterrence_utility": 2.0}


def p_switch(gain=0.0, sat=0.7, cost=0.0, deterred=0.0) -> np.ndarray:
    return switch_probability(
        np.asarray(gain, dtype=float),
        np.asarray(sat, dtype=float),
        np.asarray(cost, dtype=float),
        np.asarray(deterred, dtype=float),
        **SWITCH,
    )


class TestSwitchProbability:
    def test_even_odds_at_zero_utility(self) -> None:
        assert float(p_switch()) == pytest.approx(0.5)

    def test_increasing_in_value_gain(self) -> None:
        p = p_switch(gain=np.linspace(-1, 1, 41))
        assert (np.diff(p) > 0).all()
        assert ((p > 0) & (p < 1)).all()

    def test_decreasing_in_switching_cost(self) -> None:
        assert (np.diff(p_switch(gain=0.3, cost=np.linspace(0, 5, 21))) < 0).all()

    def test_decreasing_in_satisfaction_and_deterrence(self) -> None:
        assert (np.diff(p_switch(gain=0.3, sat=np.linspace(0, 1, 21))) < 0).all()
        assert (np.diff(p_switch(gain=0.3, deterred=np.linspace(0, 1, 21))) < 0).all()

    def test_logit_form(self) -> None:
        gain, sat, cost = 0.2, 0.9, 1.0
        z = 5.0 * gain - 3.0 * (sat - 0.7) - cost
        assert float(p_switch(gain, sat, cost)) == pytest.approx(1 / (1 + math.exp(-z)))


# -------------------------------------------------------------------- word of mouth


def ring(n: int = 1_000, k: int = 4, seed: int = 1) -> SocialGraph:
    """A ring lattice: each node's neighbours are the k nearest on a circle."""
    return build_graph(
        "watts_strogatz", n, np.random.default_rng(seed), mean_degree=k, rewire_p=0.0
    )


def is_neighbour(graph: SocialGraph, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether each pair (a[i], b[i]) is an edge of the graph."""
    rows = np.repeat(np.arange(graph.n, dtype=np.int64), np.diff(graph.indptr))
    edges = rows * graph.n + graph.indices
    return np.isin(np.asarray(a, dtype=np.int64) * graph.n + b, edges)


class TestWordOfMouth:
    def test_draw_tellings_poisson_mean(self, rng) -> None:
        speakers = np.arange(N_DRAWS)
        mean = 0.4
        told = draw_tellings(speakers, mean, rng)
        assert abs(told.size / N_DRAWS - mean) <= K_SE * math.sqrt(mean / N_DRAWS)
        assert np.isin(told, speakers).all()
        counts = np.bincount(told, minlength=N_DRAWS)
        # Poisson: the variance equals the mean; the sample variance has sd ~ sqrt((m + 2m^2)/n)
        assert abs(counts.var() - mean) <= K_SE * math.sqrt((mean + 2 * mean**2) / N_DRAWS)

    def test_draw_tellings_large_mean_and_zero(self, rng) -> None:
        speakers = np.array([3, 7])
        told = draw_tellings(np.repeat(speakers, 5_000), 25.0, rng)
        assert abs(told.size / 10_000 - 25.0) <= K_SE * math.sqrt(25.0 / 10_000)
        assert draw_tellings(speakers, 0.0, rng).size == 0
        assert draw_tellings(np.array([], dtype=int), 5.0, rng).size == 0

    def test_close_contacts_only_when_no_weak_ties(self, rng) -> None:
        g = ring()
        speakers = rng.integers(0, g.n, N_DRAWS)
        contacts = pick_contacts(speakers, g, 0.0, rng)
        assert is_neighbour(g, speakers, contacts).all()

    def test_never_oneself(self, rng) -> None:
        g = ring(50)
        speakers = rng.integers(0, g.n, N_DRAWS)
        for share in (0.0, 0.5, 1.0):
            contacts = pick_contacts(speakers, g, share, rng)
            assert (contacts != speakers).all()
            assert ((contacts >= 0) & (contacts < g.n)).all()

    def test_weak_tie_share_respected(self, rng) -> None:
        g = ring(1_000, 4)
        share = 0.3
        speakers = rng.integers(0, g.n, N_DRAWS)
        contacts = pick_contacts(speakers, g, share, rng)
        # a weak tie is uniform over the other n - 1 people, so a few land on neighbours
        p_outside = share * float(np.mean((g.n - 1 - g.degree()[speakers]) / (g.n - 1)))
        outside = ~is_neighbour(g, speakers, contacts)
        assert_proportion(outside.sum(), N_DRAWS, p_outside)

    def test_weak_ties_uniform_over_others(self, rng) -> None:
        g = ring(20, 2)
        speakers = np.zeros(N_DRAWS, dtype=np.int64)
        contacts = pick_contacts(speakers, g, 1.0, rng)
        counts = np.bincount(contacts, minlength=g.n)
        assert counts[0] == 0
        assert_chisquare(counts[1:], np.ones(g.n - 1))

    def test_isolated_speakers_use_weak_ties(self, rng) -> None:
        empty = SocialGraph(n=10, indptr=np.zeros(11), indices=np.array([]), kind="empty")
        speakers = rng.integers(0, 10, 10_000)
        contacts = pick_contacts(speakers, empty, 0.0, rng)
        assert ((contacts >= 0) & (contacts < 10)).all()
        assert (contacts != speakers).all()

    @pytest.mark.parametrize("deterred", [0.0, 0.5, 1.0])
    def test_referral_converts_with_deterrence(self, rng, deterred) -> None:
        p = 0.2
        ok = referral_converts(np.full(N_DRAWS, deterred), p, rng)
        assert_proportion(ok.sum(), N_DRAWS, p * (1 - deterred))

    def test_decay_half_life(self) -> None:
        for half_life_weeks, spy in ((26.0, 52), (26.0, 12), (4.0, 365), (52.0, 4)):
            d = decay_per_step(half_life_weeks, spy)
            steps = half_life_weeks * spy / 52.0
            assert 0 < d < 1
            assert d**steps == pytest.approx(0.5)
        assert decay_per_step(10.0, 52) < decay_per_step(20.0, 52)


# --------------------------------------------------------------------------- levers


class TestLevers:
    def test_draw_capacity_mean_is_exact(self, rng) -> None:
        spend, unit = 1_000.0, 15.0
        draws = np.array([draw_capacity(spend, unit, rng) for _ in range(N_DRAWS)])
        whole, frac = divmod(spend / unit, 1.0)
        assert set(np.unique(draws)) == {whole, whole + 1}
        assert_proportion((draws == whole + 1).sum(), N_DRAWS, frac)

    def test_draw_capacity_small_budget_not_rounded_away(self, rng) -> None:
        draws = np.array([draw_capacity(3.0, 15.0, rng) for _ in range(N_DRAWS)])
        assert_proportion(draws.sum(), N_DRAWS, 0.2)

    def test_draw_capacity_whole_and_negative(self, rng) -> None:
        assert {draw_capacity(150.0, 15.0, rng) for _ in range(100)} == {10}
        assert draw_capacity(-50.0, 15.0, rng) == 0
        assert draw_capacity(0.0, 15.0, rng) == 0

    def test_select_longest_waiting(self, rng) -> None:
        candidates = np.arange(100, 120)
        waiting = rng.permutation(20)
        chosen = select_longest_waiting(candidates, waiting, 5, rng)
        assert sorted(chosen.tolist()) == sorted(candidates[waiting >= 15].tolist())

    def test_select_longest_waiting_ties_random(self, rng) -> None:
        candidates = np.arange(4)
        waiting = np.array([9, 5, 5, 1])
        picks = [select_longest_waiting(candidates, waiting, 2, rng) for _ in range(2_000)]
        assert all(0 in p for p in picks)
        second = np.array([int(set(p.tolist()) - {0} == {1}) for p in picks])
        assert_proportion(second.sum(), second.size, 0.5)

    def test_select_longest_waiting_edges(self, rng) -> None:
        candidates = np.array([4, 5, 6])
        assert select_longest_waiting(candidates, np.array([1, 2, 3]), 0, rng).size == 0
        everyone = select_longest_waiting(candidates, np.array([1, 2, 3]), 5, rng)
        assert sorted(everyone.tolist()) == [4, 5, 6]
        assert select_longest_waiting(candidates[:0], candidates[:0], 3, rng).size == 0

    def test_care_effect_helpful_vs_pushy(self) -> None:
        s = np.array([0.5, 0.5, 0.02])
        weeks = np.array([10.0, 2.0, 1.0])
        after = care_effect(s, weeks, boost=0.1, min_interval_weeks=6.0, spam_penalty=0.05)
        np.testing.assert_allclose(after, [0.55, 0.45, 0.0])

    def test_care_effect_keeps_satisfaction_in_unit_interval(self, rng) -> None:
        s = rng.random(1_000)
        weeks = rng.uniform(0, 20, 1_000)
        after = care_effect(s, weeks, boost=0.5, min_interval_weeks=6.0, spam_penalty=0.2)
        assert ((after >= 0) & (after <= 1)).all()
        helpful = weeks >= 6.0
        assert (after[helpful] >= s[helpful]).all()
        assert (after[~helpful] <= s[~helpful]).all()

    def test_service_gain_diminishing_returns(self) -> None:
        scale, top = 40.0, 0.3
        spend_levels = np.linspace(0, 400, 41)
        gain = np.array([service_gain(x, scale, top) for x in spend_levels])
        assert gain[0] == 0.0
        assert (np.diff(gain) > 0).all()
        assert (np.diff(gain, 2) < 0).all()
        assert gain.max() < top
        assert service_gain(scale, scale, top) == pytest.approx(top * (1 - math.exp(-1)))
        assert service_gain(-10.0, scale, top) == 0.0

    def test_exposure_probability(self) -> None:
        assert exposure_probability(0.0, 0.3) == 0.0
        assert exposure_probability(2.0, 0.1) == pytest.approx(1 - math.exp(-0.2))
        assert exposure_probability(1.0, 0.1) < exposure_probability(2.0, 0.1)

    def test_select_random_distinct_subset(self, rng) -> None:
        candidates = np.arange(50, 150)
        chosen = select_random(candidates, 30, rng)
        assert chosen.size == 30
        assert np.unique(chosen).size == 30
        assert np.isin(chosen, candidates).all()
        assert sorted(select_random(candidates, 500, rng).tolist()) == candidates.tolist()
        assert select_random(candidates, 0, rng).size == 0

    def test_select_random_uniform(self, rng) -> None:
        candidates = np.arange(10)
        counts = np.zeros(10)
        n = 20_000
        for _ in range(n):
            counts[select_random(candidates, 3, rng)] += 1
        for c in counts:
            assert_proportion(c, n, 0.3)


class TestBernoulliSuccesses:
    """Positions of rare successes drawn without touching every trial (the consider phase)."""

    def test_distinct_positions_in_range(self, rng) -> None:
        pos = bernoulli_successes(1_000, 0.3, rng)
        assert np.unique(pos).size == pos.size
        assert ((pos >= 0) & (pos < 1_000)).all()

    def test_count_is_binomial(self, rng) -> None:
        n, p, reps = 5_000, 0.002, 4_000
        counts = np.array([bernoulli_successes(n, p, rng).size for _ in range(reps)])
        # mean n p = 10 per draw; its standard error over reps is sqrt(n p (1 - p) / reps)
        assert abs(counts.mean() - n * p) <= K_SE * math.sqrt(n * p * (1 - p) / reps)
        assert counts.var(ddof=1) == pytest.approx(n * p * (1 - p), rel=0.1)

    def test_each_position_equally_likely(self, rng) -> None:
        n, p, reps = 20, 0.25, 20_000
        hits = np.zeros(n)
        for _ in range(reps):
            hits[bernoulli_successes(n, p, rng)] += 1
        for h in hits:  # every trial succeeds with probability p, independently of its place
            assert_proportion(h, reps, p)

    def test_edges(self, rng) -> None:
        assert bernoulli_successes(100, 0.0, rng).size == 0
        assert bernoulli_successes(0, 0.5, rng).size == 0
        assert sorted(bernoulli_successes(50, 1.0, rng).tolist()) == list(range(50))


class TestSupplyFailures:
    """A purchase meets a failure of one of its own firm's suppliers (F8)."""

    def test_rate_is_the_failed_share_of_the_firms_own_suppliers(self, rng) -> None:
        # firm 0: its single supplier failed; firm 1: one of ten failed; firm 2: no suppliers;
        # firm 3: two of four failed. A table padded to the widest firm would dilute firm 0
        # (1 in 10) and firm 3 (2 in 10).
        failed = [
            np.array([True]),
            np.array([True] + [False] * 9),
            np.zeros(0, dtype=bool),
            np.array([False, True, True, False]),
        ]
        firm = np.repeat(np.arange(4), N_DRAWS // 4)
        hit = draw_supply_failures(firm, failed, rng)
        by_firm = hit.reshape(4, -1)
        assert by_firm[0].all()
        assert_proportion(by_firm[1].sum(), by_firm[1].size, 0.1)
        assert not by_firm[2].any()
        assert_proportion(by_firm[3].sum(), by_firm[3].size, 0.5)

    def test_no_failure_no_spoilt_purchase(self, rng) -> None:
        failed = [np.zeros(3, dtype=bool), np.zeros(5, dtype=bool)]
        assert not draw_supply_failures(rng.integers(0, 2, 1_000), failed, rng).any()
        assert draw_supply_failures(np.zeros(0, dtype=int), failed, rng).size == 0


def test_select_longest_waiting_fractional_waits(rng) -> None:
    candidates = np.array([0, 1])
    waiting = np.array([0.5, 0.2])
    picks = [int(select_longest_waiting(candidates, waiting, 1, rng)[0]) for _ in range(200)]
    assert picks == [0] * 200


# ------------------------------------------------------- diminishing returns, selection, ties


class TestDiminishingReturns:
    @pytest.mark.parametrize("scale", [0.5, 1.0, 3.0, 300.0])
    @pytest.mark.parametrize("first", [0.1, 1.0, 10.0])
    def test_doubling_gains_less_than_the_first_unit(self, scale, first) -> None:
        """Every lever's response: the second `first` units add less than the first did."""
        gain_first = levers.saturated_intensity(first, scale)
        gain_second = levers.saturated_intensity(2 * first, scale) - gain_first
        assert 0 < gain_second < gain_first

    def test_share_is_one_at_zero_and_falls(self) -> None:
        shares = [levers.saturation_share(x, 2.0) for x in (0.0, 0.5, 1.0, 4.0, 40.0)]
        assert shares[0] == 1.0
        assert all(a > b for a, b in itertools.pairwise(shares))


class TestEnrolment:
    def test_heavy_high_spend_satisfied_customers_join_first(self) -> None:
        kw = {"log_odds": -4.0, "rate_weight": 2.0, "spend_weight": 1.5, "satisfaction_weight": 8.0}
        one = np.ones(1)
        base = levers.enrolment_probability(one, one, np.full(1, 0.7), **kw)[0]
        assert levers.enrolment_probability(3 * one, one, np.full(1, 0.7), **kw)[0] > base
        assert levers.enrolment_probability(one, 3 * one, np.full(1, 0.7), **kw)[0] > base
        assert levers.enrolment_probability(one, one, np.full(1, 0.95), **kw)[0] > base


class TestTieStrength:
    def test_weak_ties_convert_at_the_lower_rate(self, rng) -> None:
        weak = rng.random(N_DRAWS) < 0.5
        p = word_of_mouth.conversion_probability(weak, 0.6, 0.5)
        ok = referral_converts(np.zeros(N_DRAWS), p, rng)
        assert_proportion(ok[~weak].sum(), int((~weak).sum()), 0.6)
        assert_proportion(ok[weak].sum(), int(weak.sum()), 0.3)

    def test_pick_contacts_marks_weak_ties(self, rng) -> None:
        g = build_graph("watts_strogatz", 500, rng, mean_degree=4, rewire_p=0.0)
        speakers = rng.integers(0, 500, size=20_000)
        contacts, weak = word_of_mouth.pick_contacts_with_ties(speakers, g, 0.3, rng)
        assert_proportion(weak.sum(), weak.size, 0.3)
        gap = np.abs(contacts[~weak] - speakers[~weak])
        assert (np.minimum(gap, 500 - gap) <= 2).all()  # strong ties: ring neighbours


def test_lapses_follow_repeat_purchases_with_each_buyers_p() -> None:
    """BG/NBD's dropout: after a repeat purchase each buyer lapses with their own p; never
    after a first purchase. Two groups of 50,000 (p 0.1 and 0.4): each share within 4
    binomial standard errors."""
    n = 50_000
    p = np.repeat([0.1, 0.4], n)
    repeat = np.ones(2 * n, dtype=bool)
    lapses = draw_lapses(p, repeat, np.random.default_rng(5))
    for k, share in enumerate((0.1, 0.4)):
        got = lapses[k * n : (k + 1) * n].mean()
        assert abs(got - share) <= 4 * np.sqrt(share * (1 - share) / n), (share, got)
    assert not draw_lapses(np.ones(n), np.zeros(n, dtype=bool), np.random.default_rng(5)).any()
