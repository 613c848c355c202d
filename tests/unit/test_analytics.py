"""Unit tests for sim.analysis.statistics: closed forms against brute force / Monte Carlo, stats coverage."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from scipy import stats

from sim.analysis import statistics as analytics
from sim.analysis.statistics import (
    BassFit,
    agree_within,
    bass_cdf,
    bass_peak,
    clv_closed_form,
    fit_bass,
    mean_ci,
    net_promoter_score,
    paired_difference_ci,
    per_step_discount_rate,
    per_step_probability,
    per_step_rate,
    welch_z,
)

P, Q = 0.03, 0.38  # Sultan, Farley & Lehmann (1990) means


def _binomial_tolerance(prob: float, n: int, k: float = 4.0) -> float:
    """k binomial standard errors of a proportion estimated from n trials."""
    return k * math.sqrt(prob * (1.0 - prob) / n)


def test_doctests() -> None:
    result = doctest.testmod(analytics, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_all_is_exported() -> None:
    for name in analytics.__all__:
        assert hasattr(analytics, name)


# --------------------------------------------------------------------------- Bass


def test_bass_cdf_zero_monotone_limit() -> None:
    t = np.linspace(0.0, 200.0, 4001)
    F = bass_cdf(t, P, Q)
    assert isinstance(F, np.ndarray)
    assert F.shape == t.shape
    assert F[0] == 0.0
    assert np.all(np.diff(F) >= 0.0)
    assert np.all((F >= 0.0) & (F <= 1.0))
    assert F[-1] == pytest.approx(1.0, abs=1e-12)
    assert bass_cdf(np.inf, P, Q) == 1.0


def test_bass_cdf_scalar_and_matches_textbook_form() -> None:
    t = np.array([0.5, 1.0, 3.0, 7.0, 15.0])
    e = np.exp(-(P + Q) * t)
    textbook = (1.0 - e) / (1.0 + (Q / P) * e)
    np.testing.assert_allclose(bass_cdf(t, P, Q), textbook, rtol=1e-13)
    value = bass_cdf(2.0, P, Q)
    assert isinstance(value, float)
    e2 = math.exp(-(P + Q) * 2.0)
    assert value == pytest.approx((1.0 - e2) / (1.0 + (Q / P) * e2), rel=1e-13)


def test_bass_cdf_q_zero_is_exponential() -> None:
    t = np.array([0.0, 1.0, 10.0])
    np.testing.assert_allclose(bass_cdf(t, 0.2, 0.0), 1.0 - np.exp(-0.2 * t), rtol=1e-14)


def test_bass_cdf_solves_bass_ode() -> None:
    # dF/dt = (p + q F)(1 - F)  (Bass 1969, eq. 4)
    t = np.linspace(0.1, 30.0, 300)
    h = 1e-6
    dF = (bass_cdf(t + h, P, Q) - bass_cdf(t - h, P, Q)) / (2 * h)
    F = bass_cdf(t, P, Q)
    np.testing.assert_allclose(dF, (P + Q * F) * (1.0 - F), rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize(("p", "q"), [(0.03, 0.38), (0.01, 0.5), (0.1, 0.3), (0.002, 0.9)])
def test_bass_peak_matches_numerical_argmax(p: float, q: float) -> None:
    t = np.linspace(0.0, 60.0, 600_001)  # step 1e-4
    F = bass_cdf(t, p, q)
    f = np.gradient(F, t)
    k = int(np.argmax(f))
    t_star, F_star = bass_peak(p, q)
    assert t_star == pytest.approx(t[k], abs=2e-4)
    assert F_star == pytest.approx(F[k], abs=1e-4)
    assert F_star == pytest.approx(bass_cdf(t_star, p, q), abs=1e-12)


def test_bass_peak_at_launch_when_q_le_p() -> None:
    assert bass_peak(0.5, 0.1) == (0.0, 0.0)
    assert bass_peak(0.2, 0.2) == (0.0, 0.0)
    assert bass_peak(0.2, 0.0) == (0.0, 0.0)
    # the adoption rate is indeed decreasing from t = 0
    t = np.linspace(0.0, 20.0, 2001)
    assert np.all(np.diff(np.gradient(bass_cdf(t, 0.5, 0.1), t)) < 0.0)


def test_fit_bass_recovers_exact_curve() -> None:
    t = np.arange(0.0, 21.0)
    for p, q in [(0.03, 0.38), (0.01, 0.6), (0.08, 0.2)]:
        fit = fit_bass(t, bass_cdf(t, p, q))
        assert isinstance(fit, BassFit)
        assert fit.p == pytest.approx(p, abs=1e-6)
        assert fit.q == pytest.approx(q, abs=1e-6)
        assert fit.rmse < 1e-9
        assert fit.n == t.size
    # far-off starting values
    fit = fit_bass(t, bass_cdf(t, 0.03, 0.38), p0=0.2, q0=0.05)
    assert (fit.p, fit.q) == pytest.approx((0.03, 0.38), abs=1e-6)


def test_fit_bass_is_frozen() -> None:
    t = np.arange(0.0, 10.0)
    fit = fit_bass(t, bass_cdf(t, P, Q))
    with pytest.raises(AttributeError):
        fit.p = 0.5  # type: ignore[misc]


def _linearised_se(t: np.ndarray, p: float, q: float, sigma: float) -> np.ndarray:
    """Asymptotic NLS standard errors sigma^2 (J'J)^-1 with a finite-difference Jacobian."""
    h = 1e-7
    jp = (bass_cdf(t, p + h, q) - bass_cdf(t, p - h, q)) / (2 * h)
    jq = (bass_cdf(t, p, q + h) - bass_cdf(t, p, q - h)) / (2 * h)
    J = np.column_stack([jp, jq])
    return np.sqrt(np.diag(sigma**2 * np.linalg.inv(J.T @ J)))


def test_fit_bass_noisy_within_noise_tolerance() -> None:
    rng = np.random.default_rng(20240611)
    t = np.arange(0.0, 21.0)
    sigma = 0.01
    F = bass_cdf(t, P, Q) + rng.normal(0.0, sigma, t.size)
    fit = fit_bass(t, F)
    se_p, se_q = _linearised_se(t, P, Q, sigma)
    assert abs(fit.p - P) < 4 * se_p
    assert abs(fit.q - Q) < 4 * se_q
    # reported standard errors are on the scale implied by the noise
    assert 0.5 * se_p < fit.se_p < 2.0 * se_p
    assert 0.5 * se_q < fit.se_q < 2.0 * se_q
    assert fit.rmse == pytest.approx(sigma, rel=0.5)


def test_fit_bass_standard_errors_are_calibrated() -> None:
    rng = np.random.default_rng(7)
    t = np.arange(0.0, 21.0)
    sigma = 0.01
    F0 = bass_cdf(t, P, Q)
    fits = [fit_bass(t, F0 + rng.normal(0.0, sigma, t.size)) for _ in range(200)]
    est = np.array([(f.p, f.q) for f in fits])
    se = np.array([(f.se_p, f.se_q) for f in fits])
    # empirical sd of the estimates vs. mean reported se (sd of an sd from 200 draws ~ 5 %)
    np.testing.assert_allclose(est.std(axis=0, ddof=1), se.mean(axis=0), rtol=0.2)
    # unbiased to within a few Monte Carlo standard errors
    mc_se = est.std(axis=0, ddof=1) / math.sqrt(len(fits))
    assert np.all(np.abs(est.mean(axis=0) - (P, Q)) < 4 * mc_se + 1e-4)


# --------------------------------------------------------------------------- CLV


def _brute_force_clv(m: float, r: float, i: float, first: int, periods: int = 5000) -> float:
    t = np.arange(first, periods)
    return float(np.sum(m * (r / (1.0 + i)) ** t))


@pytest.mark.parametrize(
    ("m", "r", "i"),
    [(100.0, 0.8, 0.1), (25.0, 0.95, 0.01), (-3.0, 0.5, 0.2), (10.0, 0.0, 0.1), (10.0, 1.0, 0.05)],
)
def test_clv_equals_brute_force_sum(m: float, r: float, i: float) -> None:
    assert clv_closed_form(m, r, i) == pytest.approx(_brute_force_clv(m, r, i, 1), rel=1e-10)
    assert clv_closed_form(m, r, i, first_margin="immediate") == pytest.approx(
        _brute_force_clv(m, r, i, 0), rel=1e-10
    )


def test_clv_immediate_minus_next_is_one_margin() -> None:
    m, r, i = 40.0, 0.7, 0.08
    diff = clv_closed_form(m, r, i, first_margin="immediate") - clv_closed_form(m, r, i)
    assert diff == pytest.approx(m)


def test_clv_monte_carlo_within_4_se() -> None:
    rng = np.random.default_rng(12345)
    m, r, i = 50.0, 0.8, 0.1
    n = 200_000
    d = 1.0 / (1.0 + i)
    # K = number of periods the customer is retained: P(K >= t) = r^t
    K = rng.geometric(1.0 - r, size=n) - 1
    next_period = m * d * (1.0 - d**K) / (1.0 - d)  # margins at t = 1..K
    immediate = m + next_period  # plus a margin at t = 0
    for values, timing in [(next_period, "next_period"), (immediate, "immediate")]:
        se = values.std(ddof=1) / math.sqrt(n)
        assert abs(values.mean() - clv_closed_form(m, r, i, first_margin=timing)) < 4 * se


@pytest.mark.parametrize(
    ("m", "r", "i", "kwargs"),
    [
        (1.0, -0.1, 0.1, {}),
        (1.0, 1.1, 0.5, {}),
        (1.0, 1.0, 0.0, {}),  # r = 1 + i: divergent
        (1.0, 0.5, -1.0, {}),
        (1.0, 0.5, -0.6, {}),  # r >= 1 + i
        (math.nan, 0.5, 0.1, {}),
        (1.0, 0.5, math.inf, {}),
        (1.0, 0.5, 0.1, {"first_margin": "later"}),
    ],
)
def test_clv_invalid(m: float, r: float, i: float, kwargs: dict) -> None:
    with pytest.raises(ValueError):
        clv_closed_form(m, r, i, **kwargs)


# --------------------------------------------------------------------------- per-step conversions


@pytest.mark.parametrize("steps", [1, 4, 12, 52, 365, 2.5])
def test_per_step_probability_compounds_back(steps: float) -> None:
    p = np.array([0.0, 1e-9, 0.05, 0.2, 0.5, 0.99, 1.0])
    ps = per_step_probability(p, steps)
    assert isinstance(ps, np.ndarray)
    np.testing.assert_allclose(1.0 - (1.0 - ps) ** steps, p, rtol=1e-12, atol=1e-13)
    with np.errstate(divide="ignore"):  # same check in log space, exact for tiny p too
        np.testing.assert_allclose(-np.expm1(steps * np.log1p(-ps)), p, rtol=1e-12)
    assert np.all(ps <= p + 1e-15)


def test_per_step_probability_small_p_accuracy() -> None:
    # for tiny p, 1 - (1 - p)^(1/n) ~ p/n; the expm1/log1p form keeps full precision
    assert per_step_probability(1e-12, 1000) == pytest.approx(1e-15, rel=1e-9)


@pytest.mark.parametrize("steps", [1, 12, 52, 365])
def test_per_step_rate_adds_back(steps: int) -> None:
    rate = np.array([0.0, 0.3, 12.0])
    np.testing.assert_allclose(per_step_rate(rate, steps) * steps, rate)
    assert isinstance(per_step_rate(0.3, steps), float)


@pytest.mark.parametrize("steps", [1, 4, 12, 52, 365])
def test_per_step_discount_rate_compounds_back(steps: int) -> None:
    i = np.array([-0.5, 0.0, 0.03, 0.1, 1.0])
    i_step = per_step_discount_rate(i, steps)
    np.testing.assert_allclose((1.0 + i_step) ** steps - 1.0, i, rtol=1e-12, atol=1e-15)


def test_per_step_clv_consistency() -> None:
    # annual CLV with annual margin/retention/discount equals the weekly CLV when the
    # weekly quantities are the per-step conversions and margins accrue annually.
    r_step = 1.0 - per_step_probability(1.0 - 0.8, 52)
    i_step = per_step_discount_rate(0.1, 52)
    assert (r_step / (1.0 + i_step)) ** 52 == pytest.approx(0.8 / 1.1, rel=1e-12)


@pytest.mark.parametrize(
    ("func", "value", "steps"),
    [
        (per_step_probability, -0.1, 12),
        (per_step_probability, 1.5, 12),
        (per_step_probability, math.nan, 12),
        (per_step_probability, 0.1, 0),
        (per_step_probability, 0.1, -12),
        (per_step_probability, 0.1, math.inf),
        (per_step_rate, -1.0, 12),
        (per_step_rate, math.inf, 12),
        (per_step_rate, 1.0, 0),
        (per_step_discount_rate, -1.0, 12),
        (per_step_discount_rate, math.nan, 12),
        (per_step_discount_rate, 0.1, 0),
    ],
)
def test_per_step_invalid(func, value: float, steps: float) -> None:
    with pytest.raises(ValueError):
        func(value, steps)


# --------------------------------------------------------------------------- NPS


@pytest.mark.parametrize(
    ("ltr", "expected"),
    [
        ([10, 9, 8, 7, 6, 0], 0.0),
        ([10, 10, 9, 5], 50.0),
        ([9, 10], 100.0),
        ([0, 6, 3], -100.0),
        ([7, 8, 8], 0.0),
        ([9, 8, 6, 10, 1, 7, 9, 9, 10, 5], 20.0),  # 5 promoters, 3 detractors
        (np.array([[9, 9], [0, 7]]), 25.0),
    ],
)
def test_nps_known(ltr, expected: float) -> None:
    s = np.asarray(ltr).ravel()
    manual = 100.0 * (np.mean(s >= 9) - np.mean(s <= 6))
    assert net_promoter_score(ltr) == pytest.approx(manual)
    assert net_promoter_score(ltr) == pytest.approx(expected)


def test_nps_empty_is_nan() -> None:
    assert math.isnan(net_promoter_score([]))
    assert math.isnan(net_promoter_score(np.array([], dtype=int)))


@pytest.mark.parametrize("ltr", [[11], [-1], [5.5], [math.nan], ["a"]])
def test_nps_invalid(ltr) -> None:
    with pytest.raises(ValueError):
        net_promoter_score(ltr)


# --------------------------------------------------------------------------- mean_ci


def test_mean_ci_matches_scipy() -> None:
    x = np.array([3.1, 2.7, 4.4, 3.9, 2.2, 3.3])
    mean, sd, lo, hi = mean_ci(x, level=0.9)
    assert mean == pytest.approx(x.mean())
    assert sd == pytest.approx(x.std(ddof=1))
    ref = stats.ttest_1samp(x, 0.0).confidence_interval(confidence_level=0.9)
    assert (lo, hi) == pytest.approx((ref.low, ref.high))


def test_mean_ci_small_samples() -> None:
    r0 = mean_ci([])
    assert all(math.isnan(v) for v in r0)
    r1 = mean_ci([4.0])
    assert r1.mean == 4.0
    assert all(math.isnan(v) for v in (r1.sd, r1.lo, r1.hi))
    r2 = mean_ci([0.1, 0.1, 0.1])
    assert r2 == (0.1, 0.0, 0.1, 0.1)
    assert math.isnan(mean_ci([1.0, math.nan, 2.0]).mean)


def test_mean_ci_coverage() -> None:
    rng = np.random.default_rng(2024)
    n_rep, n, mu, level = 2000, 5, 3.0, 0.95
    samples = rng.normal(mu, 2.0, size=(n_rep, n))
    covered = 0
    for x in samples:
        _, _, lo, hi = mean_ci(x, level)
        covered += lo <= mu <= hi
    assert abs(covered / n_rep - level) < _binomial_tolerance(level, n_rep)


@pytest.mark.parametrize("level", [0.0, 1.0, -0.5, 1.5, math.nan])
def test_mean_ci_invalid_level(level: float) -> None:
    with pytest.raises(ValueError):
        mean_ci([1.0, 2.0], level)


def test_mean_ci_rejects_2d() -> None:
    with pytest.raises(ValueError):
        mean_ci([[1.0, 2.0], [3.0, 4.0]])


# --------------------------------------------------------------------------- paired_difference_ci


def test_paired_difference_ci_matches_scipy_ttest_rel() -> None:
    a = np.array([10.2, 11.0, 9.8, 10.5, 10.9, 10.1])
    b = np.array([10.0, 10.4, 9.9, 10.1, 10.2, 9.6])
    mean_diff, lo, hi, n_a_better = paired_difference_ci(a, b)
    assert mean_diff == pytest.approx(np.mean(a - b))
    ref = stats.ttest_rel(a, b).confidence_interval(confidence_level=0.95)
    assert (lo, hi) == pytest.approx((ref.low, ref.high))
    assert n_a_better == 5


def test_paired_difference_ci_crn_is_tighter_and_covers() -> None:
    # common random numbers: a shared replication effect cancels in the differences
    rng = np.random.default_rng(99)
    n_rep, n, delta = 2000, 8, 0.5
    covered = 0
    for _ in range(n_rep):
        common = rng.normal(0.0, 5.0, n)
        a = common + delta + rng.normal(0.0, 0.5, n)
        b = common + rng.normal(0.0, 0.5, n)
        res = paired_difference_ci(a, b)
        covered += res.lo <= delta <= res.hi
    assert abs(covered / n_rep - 0.95) < _binomial_tolerance(0.95, n_rep)
    # on the last replication the paired interval is far narrower than the unpaired ones
    unpaired = mean_ci(a).hi - mean_ci(a).lo + mean_ci(b).hi - mean_ci(b).lo
    assert res.hi - res.lo < 0.5 * unpaired


def test_paired_difference_ci_edge_cases() -> None:
    res = paired_difference_ci([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert res == (0.0, 0.0, 0.0, 0)
    res1 = paired_difference_ci([2.0], [1.0])
    assert res1.mean_diff == 1.0
    assert math.isnan(res1.lo) and math.isnan(res1.hi)
    assert res1.n_a_better == 1
    with pytest.raises(ValueError):
        paired_difference_ci([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError):
        paired_difference_ci([1.0, 2.0], [1.0, 2.0], level=1.0)


# --------------------------------------------------------------------------- welch_z / agree_within


def test_welch_z_values() -> None:
    assert welch_z(10.0, 0.3, 9.0, 0.4) == pytest.approx(2.0)
    assert welch_z(9.0, 0.3, 10.0, 0.4) == pytest.approx(-2.0)
    assert welch_z(1.0, 0.0, 1.0, 0.0) == 0.0
    assert welch_z(2.0, 0.0, 1.0, 0.0) == math.inf
    assert welch_z(1.0, 0.0, 2.0, 0.0) == -math.inf
    with pytest.raises(ValueError):
        welch_z(1.0, -0.1, 1.0, 0.1)
    with pytest.raises(ValueError):
        welch_z(math.nan, 0.1, 1.0, 0.1)


def test_agree_within_basic() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(10.0, 1.0, 200)
    y = rng.normal(10.0, 2.0, 300)
    assert agree_within(x, y)
    assert not agree_within(x, y + 1.0)
    assert agree_within([0.1, 0.1, 0.1], [0.1] * 7)  # constant and equal
    assert not agree_within([0.1, 0.1], [0.2, 0.2])  # constant and different


def test_agree_within_false_alarm_rate() -> None:
    # same distribution: |z| > 3 should be rare (normal tail 0.27 %, a bit more with t tails)
    rng = np.random.default_rng(11)
    n_rep = 2000
    agree = sum(
        agree_within(rng.normal(0.0, 1.0, 30), rng.normal(0.0, 3.0, 40)) for _ in range(n_rep)
    )
    assert agree / n_rep > 0.985


@pytest.mark.parametrize(
    ("s1", "s2", "n_se"),
    [
        ([1.0], [1.0, 2.0], 3.0),
        ([1.0, 2.0], [], 3.0),
        ([1.0, math.nan], [1.0, 2.0], 3.0),
        ([1.0, 2.0], [1.0, 2.0], 0.0),
        ([1.0, 2.0], [1.0, 2.0], -1.0),
    ],
)
def test_agree_within_invalid(s1, s2, n_se: float) -> None:
    with pytest.raises(ValueError):
        agree_within(s1, s2, n_se)


# --------------------------------------------------------------------------- Bass validation


@pytest.mark.parametrize(("p", "q"), [(0.0, 0.3), (-0.01, 0.3), (0.03, -0.1), (math.nan, 0.3)])
def test_bass_invalid_params(p: float, q: float) -> None:
    with pytest.raises(ValueError):
        bass_cdf(1.0, p, q)
    with pytest.raises(ValueError):
        bass_peak(p, q)


def test_bass_invalid_t_and_fit_inputs() -> None:
    with pytest.raises(ValueError):
        bass_cdf([-1.0, 2.0], P, Q)
    with pytest.raises(ValueError):
        bass_cdf([math.nan], P, Q)
    t = np.arange(5.0)
    with pytest.raises(ValueError):
        fit_bass(t, bass_cdf(t, P, Q)[:4])  # length mismatch
    with pytest.raises(ValueError):
        fit_bass(t[:2], bass_cdf(t[:2], P, Q))  # too few points
    with pytest.raises(ValueError):
        fit_bass(t, np.full(5, math.nan))
    with pytest.raises(ValueError):
        fit_bass(t, bass_cdf(t, P, Q), p0=0.0)


# -- customer equity (Blattberg & Deighton 1996) ------------------------------------------


def _brute_force_equity(a, r, m, A, R, d, first: int, periods: int = 4000) -> float:
    """a x (the margins and retention spend of one customer, period by period) - A."""
    t = np.arange(1, periods)
    later = np.sum(r ** (t - 1) * (m * r - R) / (1.0 + d) ** t)
    return a * (m * (first == 0) + later) - A


@pytest.mark.parametrize(
    ("a", "r", "m", "A", "R", "d"),
    [
        (0.2, 0.6, 100.0, 5.0, 10.0, 0.1),
        (0.9, 0.95, 20.0, 1.0, 0.5, 0.01),
        (0.5, 0.0, 10.0, 1.0, 2.0, 0.1),
    ],
)
def test_customer_equity_equals_brute_force_sum(a, r, m, A, R, d) -> None:
    for first, timing in ((0, "immediate"), (1, "next_period")):
        assert analytics.customer_equity(a, r, m, A, R, d, first_margin=timing) == pytest.approx(
            _brute_force_equity(a, r, m, A, R, d, first), rel=1e-9, abs=1e-9
        )


@pytest.mark.parametrize(
    "params",
    [
        (0.5, 0.2, 0.9, 0.1, 100.0, 0.1),
        (0.3, 1.0, 0.4, 0.2, 72.0, 0.024),
        (0.8, 0.05, 0.95, 0.02, 500.0, 0.05),
        (0.5, 0.2, 0.9, 0.1, 2_000.0, 0.1),  # a huge Lambert W argument (e^c overflows)
    ],
)
@pytest.mark.parametrize("timing", ["immediate", "next_period"])
def test_customer_equity_optimum_beats_a_dense_grid(params, timing) -> None:
    ca, k1, cr, k2, m, d = params
    opt = analytics.customer_equity_optimum(ca, k1, cr, k2, m, d, first_margin=timing)

    def equity(A, R):
        a = ca * -np.expm1(-k1 * A)
        r = cr * -np.expm1(-k2 * R)
        first = m if timing == "immediate" else 0.0
        return a * (first + (m * r - R) / (1.0 + d - r)) - A

    A = np.linspace(0.0, 4.0 * opt.acquisition_spend + 1.0, 801)
    R = np.linspace(0.0, 4.0 * opt.retention_spend + 1.0, 801)
    grid = equity(A[:, None], R[None, :])
    assert opt.customer_equity >= grid.max() - 1e-9 * abs(grid.max())
    assert opt.customer_equity == pytest.approx(equity(opt.acquisition_spend, opt.retention_spend))
    i, j = np.unravel_index(grid.argmax(), grid.shape)
    assert abs(A[i] - opt.acquisition_spend) <= A[1] and abs(R[j] - opt.retention_spend) <= R[1]


def test_customer_equity_optimum_spends_nothing_when_it_does_not_pay() -> None:
    # margin below what one unit of retention response is worth: keep nobody, win nobody
    opt = analytics.customer_equity_optimum(0.5, 0.2, 0.9, 0.1, 1.0, 0.1)
    assert opt.retention_spend == 0.0 and opt.acquisition_spend == 0.0
    assert opt.retention_rate == 0.0 and opt.customer_equity == 0.0
    # retention pays but winning customers does not (a weak acquisition response)
    opt = analytics.customer_equity_optimum(0.01, 0.001, 0.9, 0.1, 100.0, 0.1)
    assert opt.retention_spend > 0.0 and opt.acquisition_spend == 0.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"ceiling_a": 0.0},
        {"ceiling_r": 1.5},
        {"k1": 0.0},
        {"k2": -1.0},
        {"d": -1.0},
        {"m": float("nan")},
        {"first_margin": "later"},
    ],
)
def test_customer_equity_optimum_invalid(kwargs) -> None:
    args = {"ceiling_a": 0.5, "k1": 0.2, "ceiling_r": 0.9, "k2": 0.1, "m": 100.0, "d": 0.1}
    first = kwargs.pop("first_margin", "immediate")
    args |= kwargs
    with pytest.raises(ValueError):
        analytics.customer_equity_optimum(**args, first_margin=first)
