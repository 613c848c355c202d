"""Closed-form marketing results and small statistics, as pure functions.

Symbols follow the literature they come from:

* Bass (1969) diffusion: innovation coefficient ``p``, imitation coefficient ``q``,
  cumulative adoption share ``F(t)``.
* Gupta & Lehmann (2003) customer lifetime value: margin ``m``, retention ``r``,
  discount rate ``i`` (all per period).
* Blattberg & Deighton (1996) customer equity and its optimal acquisition and retention
  spend: ceilings ``ceiling_a``, ``ceiling_r``, response rates ``k1``, ``k2``, margin
  ``m``, discount rate ``d`` (per period).
* Per-step conversions of annual probabilities, rates and discount rates.
* Net Promoter Score (Reichheld 2003).
* Replication statistics for simulation output: Student-t intervals, paired
  (common-random-numbers) intervals and a two-sample z statistic for docking engines.

Every function is pure (no state, no I/O) and validates its inputs, raising
``ValueError`` on values outside the model's domain.

Why one module of about 690 lines: the functions are short, each with its source and
doctests, and share the input checks at the top; the validation tests dock the model
against them by these names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt
from scipy import optimize, special, stats

__all__ = [
    "BassFit",
    "BassPeak",
    "EquityOptimum",
    "MeanCI",
    "PairedCI",
    "agree_within",
    "bass_cdf",
    "bass_peak",
    "clv_closed_form",
    "customer_equity",
    "customer_equity_optimum",
    "fit_bass",
    "mean_ci",
    "net_promoter_score",
    "paired_difference_ci",
    "per_step_discount_rate",
    "per_step_probability",
    "per_step_rate",
    "welch_z",
]

ArrayLike = npt.ArrayLike
FloatOrArray = float | npt.NDArray[np.float64]


# --------------------------------------------------------------------------- helpers


def _finite_scalar(name: str, value: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a real number, got {value!r}") from exc
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v


def _float_array(name: str, values: ArrayLike) -> npt.NDArray[np.float64]:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric") from exc
    return arr


def _one_d(name: str, values: ArrayLike) -> npt.NDArray[np.float64]:
    arr = _float_array(name, values)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def _out(arr: npt.NDArray[np.float64]) -> FloatOrArray:
    """Return a Python float for 0-d results, the array otherwise."""
    return float(arr) if arr.ndim == 0 else arr


def _mean_sd(x: npt.NDArray[np.float64]) -> tuple[float, float]:
    """Mean and sample sd (ddof=1) of a 1-d array with n >= 2; exact for constants.

    A constant sample returns its value and sd = 0 exactly, so rounding in the
    summation cannot make two equal constant samples look different.
    """
    if np.all(x == x[0]):
        return float(x[0]), 0.0
    return float(np.mean(x)), float(np.std(x, ddof=1))


def _check_level(level: float) -> float:
    level = _finite_scalar("level", level)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    return level


def _check_steps(steps_per_year: float) -> float:
    steps = _finite_scalar("steps_per_year", steps_per_year)
    if steps <= 0.0:
        raise ValueError(f"steps_per_year must be > 0, got {steps_per_year}")
    return steps


# --------------------------------------------------------------------------- Bass model


def _check_bass(p: float, q: float) -> tuple[float, float]:
    p = _finite_scalar("p", p)
    q = _finite_scalar("q", q)
    if p <= 0.0:
        raise ValueError(f"p must be > 0, got {p}")
    if q < 0.0:
        raise ValueError(f"q must be >= 0, got {q}")
    return p, q


def _bass_F(t: npt.NDArray[np.float64], p: float, q: float) -> npt.NDArray[np.float64]:
    """Unvalidated Bass CDF, written as p(1 - E)/(p + qE) with E = exp(-(p+q)t).

    Algebraically equal to (1 - E)/(1 + (q/p)E) but defined at p = 0 (a bound the
    optimiser may touch), and ``-expm1`` keeps precision for small (p+q)t.
    """
    x = -(p + q) * t
    num = -p * np.expm1(x)
    den = p + q * np.exp(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0.0, num / den, 0.0)


def bass_cdf(t: ArrayLike, p: float, q: float) -> FloatOrArray:
    """Bass (1969) cumulative adoption share F(t).

    F(t) = (1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t}), with innovation coefficient
    ``p > 0`` and imitation coefficient ``q >= 0`` per unit of ``t``; F(0) = 0 and
    F(t) -> 1. Vectorised over ``t`` (a scalar ``t`` gives a float).

    Source: Bass, F. M. (1969), "A New Product Growth for Model Consumer Durables",
    Management Science 15(5), 215-227, eq. (7).

    >>> bass_cdf(0.0, 0.03, 0.38)
    0.0
    >>> round(bass_cdf(10.0, 0.03, 0.38), 4)
    0.8128
    >>> bass_cdf([0.0, 1.0], 0.5, 0.0).round(4)  # q = 0: exponential 1 - e^{-pt}
    array([0.    , 0.3935])
    """
    p, q = _check_bass(p, q)
    t_arr = _float_array("t", t)
    if np.any(~(t_arr >= 0.0)):  # also catches NaN
        raise ValueError("t must be >= 0 (and not NaN)")
    return _out(_bass_F(t_arr, p, q))


class BassPeak(NamedTuple):
    """Time of peak adoption rate and the cumulative share reached at that time."""

    t_star: float
    F_star: float


def bass_peak(p: float, q: float) -> BassPeak:
    """Peak of the Bass adoption rate dF/dt: ``(t_star, F_star)``.

    For q > p: t* = ln(q/p)/(p+q) and F(t*) = (q - p)/(2q). For q <= p the
    adoption rate is decreasing from t = 0, so the peak is at the launch and
    ``(0.0, 0.0)`` is returned (the formulas' value at q = p).

    Source: Bass (1969), Management Science 15(5), 215-227; see also Mahajan,
    Muller & Bass (1990), Journal of Marketing 54(1), 1-26, Table 1.

    >>> t_star, F_star = bass_peak(0.03, 0.38)
    >>> round(t_star, 4), round(F_star, 4)
    (6.1926, 0.4605)
    >>> bass_peak(0.5, 0.1)
    BassPeak(t_star=0.0, F_star=0.0)
    """
    p, q = _check_bass(p, q)
    if q <= p:
        return BassPeak(0.0, 0.0)
    return BassPeak(math.log(q / p) / (p + q), (q - p) / (2.0 * q))


@dataclass(frozen=True, slots=True)
class BassFit:
    """Least-squares Bass estimates with standard errors from the curve_fit covariance.

    ``rmse`` is the root-mean-square residual of the fitted curve; ``n`` the number of
    observations.
    """

    p: float
    q: float
    se_p: float
    se_q: float
    rmse: float
    n: int


def fit_bass(t: ArrayLike, F: ArrayLike, p0: float = 0.03, q0: float = 0.38) -> BassFit:
    """Fit the Bass (1969) CDF to an observed cumulative adoption *share* series.

    Nonlinear least squares (``scipy.optimize.curve_fit``, trust-region reflective,
    bounds p, q >= 0) of ``F`` on ``bass_cdf(t, p, q)``; ``F`` must be a share of
    the market potential (0..1), not a count. Standard errors are the square roots
    of the diagonal of the covariance scaled by the residual variance (needs at
    least 3 points). Default starting values are the meta-analytic means
    p = 0.03, q = 0.38 of Sultan, Farley & Lehmann (1990), Journal of Marketing
    Research 27(1), 70-77. The NLS estimator is that of Srinivasan & Mason (1986),
    Marketing Science 5(2), 169-178, with the market potential fixed at 1.

    >>> fit = fit_bass([1, 2, 4, 6, 8, 10, 14], bass_cdf([1, 2, 4, 6, 8, 10, 14], 0.02, 0.5))
    >>> round(fit.p, 6), round(fit.q, 6)
    (0.02, 0.5)
    """
    t_arr = _one_d("t", t)
    F_arr = _one_d("F", F)
    if t_arr.shape != F_arr.shape:
        raise ValueError(f"t and F must have the same length, got {t_arr.size} and {F_arr.size}")
    if t_arr.size < 3:
        raise ValueError("fit_bass needs at least 3 observations")
    if not (np.all(np.isfinite(t_arr)) and np.all(np.isfinite(F_arr))):
        raise ValueError("t and F must be finite")
    if np.any(t_arr < 0.0):
        raise ValueError("t must be >= 0")
    p0 = _finite_scalar("p0", p0)
    q0 = _finite_scalar("q0", q0)
    if p0 <= 0.0 or q0 <= 0.0:
        raise ValueError("starting values p0 and q0 must be > 0 (strictly inside the bounds)")

    popt, pcov = optimize.curve_fit(
        _bass_F,
        t_arr,
        F_arr,
        p0=(p0, q0),
        bounds=([0.0, 0.0], [np.inf, np.inf]),
        method="trf",
        xtol=1e-14,
        ftol=1e-14,
        gtol=1e-14,
        max_nfev=10_000,
    )
    p_hat, q_hat = (float(v) for v in popt)
    se_p, se_q = (float(v) for v in np.sqrt(np.clip(np.diag(pcov), 0.0, None)))
    resid = F_arr - _bass_F(t_arr, p_hat, q_hat)
    rmse = float(np.sqrt(np.mean(resid**2)))
    return BassFit(p=p_hat, q=q_hat, se_p=se_p, se_q=se_q, rmse=rmse, n=int(t_arr.size))


# --------------------------------------------------------------------------- CLV


def clv_closed_form(
    m: float,
    r: float,
    i: float,
    *,
    first_margin: Literal["next_period", "immediate"] = "next_period",
) -> float:
    """Customer lifetime value with constant margin, retention and discount rate.

    With margin ``m`` per period, retention probability ``r`` per period and
    discount rate ``i`` per period, summing m r^t/(1+i)^t over an infinite horizon:

    * ``first_margin="next_period"`` (t = 1, 2, ...; the customer must first be
      retained): CLV = m r / (1 + i - r), Gupta & Lehmann's formula;
    * ``first_margin="immediate"`` (t = 0, 1, ...; a margin at acquisition):
      CLV = m (1 + i) / (1 + i - r).

    Requires 0 <= r <= 1, i > -1 and r < 1 + i (a convergent sum). ``m`` may be
    negative.

    Source: Gupta, S. & Lehmann, D. R. (2003), "Customers as Assets", Journal of
    Interactive Marketing 17(1), 9-24.

    >>> round(clv_closed_form(100.0, 0.8, 0.1), 4)
    266.6667
    >>> round(clv_closed_form(100.0, 0.8, 0.1, first_margin="immediate"), 4)
    366.6667
    """
    m = _finite_scalar("m", m)
    r = _finite_scalar("r", r)
    i = _finite_scalar("i", i)
    if not 0.0 <= r <= 1.0:
        raise ValueError(f"retention r must be in [0, 1], got {r}")
    if i <= -1.0:
        raise ValueError(f"discount rate i must be > -1, got {i}")
    if not r < 1.0 + i:
        raise ValueError(f"need r < 1 + i for a finite CLV, got r={r}, i={i}")
    if first_margin == "next_period":
        return m * r / (1.0 + i - r)
    if first_margin == "immediate":
        return m * (1.0 + i) / (1.0 + i - r)
    raise ValueError(f"first_margin must be 'next_period' or 'immediate', got {first_margin!r}")


# --------------------------------------------------------------------------- customer equity


def _check_equity_inputs(m: float, d: float, first_margin: str) -> tuple[float, float]:
    m = _finite_scalar("m", m)
    d = _finite_scalar("d", d)
    if d <= -1.0:
        raise ValueError(f"discount rate d must be > -1, got {d}")
    if first_margin not in ("immediate", "next_period"):
        raise ValueError(f"first_margin must be 'immediate' or 'next_period', got {first_margin!r}")
    return m, d


def customer_equity(
    a: float,
    r: float,
    m: float,
    acquisition_spend: float,
    retention_spend: float,
    d: float,
    *,
    first_margin: Literal["immediate", "next_period"] = "immediate",
) -> float:
    """Customer equity per prospect (Blattberg & Deighton 1996).

    A prospect costs ``acquisition_spend`` A and becomes a customer with probability
    ``a``; a customer costs ``retention_spend`` R per period and stays each period with
    probability ``r``, earning margin ``m`` per period; ``d`` discounts per period:

        CE = a m - A + a (m - R / r) r' / (1 - r'),  r' = r / (1 + d),

    which is a m - A + a (m r - R) / (1 + d - r). With ``first_margin="next_period"``
    a new customer earns nothing in the period it is won (it first buys after surviving
    one retention decision, the simulator's timing), and the a m term drops.

    Source: Blattberg, R. C. & Deighton, J. (1996), "Manage marketing by the customer
    equity test", Harvard Business Review 74(4), 136-144.

    >>> round(customer_equity(0.2, 0.6, 100.0, 5.0, 10.0, 0.1), 4)
    35.0
    >>> round(customer_equity(0.2, 0.6, 100.0, 5.0, 10.0, 0.1, first_margin="next_period"), 4)
    15.0
    """
    m, d = _check_equity_inputs(m, d, first_margin)
    a = _finite_scalar("a", a)
    r = _finite_scalar("r", r)
    if not (0.0 <= a <= 1.0 and 0.0 <= r <= 1.0):
        raise ValueError(f"a and r must be probabilities, got a={a}, r={r}")
    if not r < 1.0 + d:
        raise ValueError(f"need r < 1 + d for a finite equity, got r={r}, d={d}")
    first = m if first_margin == "immediate" else 0.0
    value = first + (m * r - retention_spend) / (1.0 + d - r)
    return a * value - acquisition_spend


@dataclass(frozen=True)
class EquityOptimum:
    """The spend that maximises customer equity, and what it buys."""

    acquisition_spend: float  # A* per prospect
    retention_spend: float  # R* per customer per period
    acquisition_rate: float  # a(A*)
    retention_rate: float  # r(R*)
    customer_value: float  # value of a customer when won (margins less retention spend)
    customer_equity: float  # per prospect, at the optimum


def _w_of_exp(log_z: float) -> float:
    """Lambert W0(z) for z = exp(log_z) > 0: the x > 0 with x + ln x = log_z (x e^x = z),
    by Newton's method on that equation (no overflow for large z)."""
    if log_z < 700.0:
        from_scipy = float(np.real(special.lambertw(math.exp(log_z))))
        return from_scipy
    x = log_z - math.log(log_z)
    for _ in range(50):
        step = (x + math.log(x) - log_z) / (1.0 + 1.0 / x)
        x -= step
        if abs(step) < 1e-14 * x:
            break
    return x


def customer_equity_optimum(
    ceiling_a: float,
    k1: float,
    ceiling_r: float,
    k2: float,
    m: float,
    d: float,
    *,
    first_margin: Literal["immediate", "next_period"] = "immediate",
) -> EquityOptimum:
    """Closed-form optimum of Blattberg & Deighton's customer equity.

    Responses: a(A) = ceiling_a (1 - e^{-k1 A}) per prospect, r(R) = ceiling_r
    (1 - e^{-k2 R}) per customer and period. Equity is a(A) V(R) - A with V(R) the value of
    a customer when won, V = m [immediate] + (m r - R) / (1 + d - r) (see
    :func:`customer_equity`), so R* maximises V alone and A* follows from V(R*).

    Retention: dV/dR = 0 gives r'(R) (m (1 + d) - R) = 1 + d - r with r' = k2 ceiling_r
    e^{-k2 R}. With u = e^{-k2 R} and c = k2 m (1 + d) - 1 this is ceiling_r u (c + ln u)
    = 1 + d - ceiling_r, so x = c + ln u solves x e^x = (1 + d - ceiling_r) e^c /
    ceiling_r, x = W0(...) (Lambert W), and

        R* = (c - W0(((1 + d - ceiling_r) / ceiling_r) e^c)) / k2   (0 if negative).

    Acquisition: dCE/dA = ceiling_a k1 e^{-k1 A} V* - 1 = 0 gives

        A* = ln(ceiling_a k1 V*) / k1   (0 if ceiling_a k1 V* <= 1).

    CE is concave in A, and V has a single stationary point in R (a maximum), so these
    are the global optimum (the tests check against a grid).

    >>> opt = customer_equity_optimum(0.5, 0.2, 0.9, 0.1, 100.0, 0.1)
    >>> round(opt.retention_spend, 3), round(opt.acquisition_spend, 3)
    (33.923, 17.488)
    >>> round(opt.customer_equity, 3) == round(customer_equity(opt.acquisition_rate,
    ...     opt.retention_rate, 100.0, opt.acquisition_spend, opt.retention_spend, 0.1), 3)
    True
    >>> customer_equity_optimum(0.5, 0.2, 0.9, 0.1, 1.0, 0.1).acquisition_spend
    0.0
    """
    m, d = _check_equity_inputs(m, d, first_margin)
    ceiling_a = _finite_scalar("ceiling_a", ceiling_a)
    ceiling_r = _finite_scalar("ceiling_r", ceiling_r)
    k1 = _finite_scalar("k1", k1)
    k2 = _finite_scalar("k2", k2)
    if not (0.0 < ceiling_a <= 1.0 and 0.0 < ceiling_r <= 1.0):
        raise ValueError(f"ceilings must be in (0, 1], got {ceiling_a}, {ceiling_r}")
    if k1 <= 0.0 or k2 <= 0.0:
        raise ValueError(f"response rates k1, k2 must be > 0, got {k1}, {k2}")
    if not ceiling_r < 1.0 + d:
        raise ValueError(f"need ceiling_r < 1 + d for a finite equity, got {ceiling_r}, {d}")
    c = k2 * m * (1.0 + d) - 1.0
    x = _w_of_exp(math.log((1.0 + d - ceiling_r) / ceiling_r) + c)
    retention_spend = max((c - x) / k2, 0.0)
    r = ceiling_r * -math.expm1(-k2 * retention_spend)
    first = m if first_margin == "immediate" else 0.0
    value = first + (m * r - retention_spend) / (1.0 + d - r)
    push = ceiling_a * k1 * value
    acquisition_spend = math.log(push) / k1 if push > 1.0 else 0.0
    a = ceiling_a * -math.expm1(-k1 * acquisition_spend)
    return EquityOptimum(
        acquisition_spend=acquisition_spend,
        retention_spend=retention_spend,
        acquisition_rate=a,
        retention_rate=r,
        customer_value=value,
        customer_equity=a * value - acquisition_spend,
    )


# --------------------------------------------------------------------------- per-step conversions


def per_step_probability(p_per_year: ArrayLike, steps_per_year: float) -> FloatOrArray:
    """Per-step probability with the same annual total: 1 - (1 - p)^(1/steps).

    Assumes a constant hazard within the year, so that ``steps_per_year``
    independent steps compound back to ``p_per_year``. Vectorised over
    ``p_per_year`` (each in [0, 1]).

    Source: Fleurence, R. L. & Hollenbeak, C. S. (2007), "Rates and Probabilities in
    Economic Modelling", PharmacoEconomics 25(1), 3-6.

    >>> round(per_step_probability(0.2, 12), 6)
    0.018423
    >>> round(1 - (1 - per_step_probability(0.2, 12)) ** 12, 12)
    0.2
    """
    steps = _check_steps(steps_per_year)
    p = _float_array("p_per_year", p_per_year)
    if np.any(~((p >= 0.0) & (p <= 1.0))):
        raise ValueError("p_per_year must be in [0, 1]")
    with np.errstate(divide="ignore"):
        out = -np.expm1(np.log1p(-p) / steps)  # p = 1 -> log1p = -inf -> 1.0
    return _out(out)


def per_step_rate(rate_per_year: ArrayLike, steps_per_year: float) -> FloatOrArray:
    """Per-step rate (expected events per step) of a Poisson rate: rate / steps.

    Vectorised over ``rate_per_year`` (each >= 0).

    Source: Fleurence & Hollenbeak (2007), PharmacoEconomics 25(1), 3-6 (rates are
    additive over time, probabilities are not).

    >>> per_step_rate(52.0, 52)
    1.0
    """
    steps = _check_steps(steps_per_year)
    rate = _float_array("rate_per_year", rate_per_year)
    if np.any(~((rate >= 0.0) & np.isfinite(rate))):
        raise ValueError("rate_per_year must be finite and >= 0")
    return _out(rate / steps)


def per_step_discount_rate(i_per_year: ArrayLike, steps_per_year: float) -> FloatOrArray:
    """Per-step discount rate equivalent to an annual one: (1 + i)^(1/steps) - 1.

    Vectorised over ``i_per_year`` (each > -1, finite).

    Source: standard compound-interest equivalence, e.g. Brealey, Myers & Allen,
    Principles of Corporate Finance, ch. 2 (effective rates).

    >>> round(per_step_discount_rate(0.1, 12), 6)
    0.007974
    """
    steps = _check_steps(steps_per_year)
    i = _float_array("i_per_year", i_per_year)
    if np.any(~((i > -1.0) & np.isfinite(i))):
        raise ValueError("i_per_year must be finite and > -1")
    return _out(np.expm1(np.log1p(i) / steps))


# --------------------------------------------------------------------------- NPS


def net_promoter_score(ltr: ArrayLike) -> float:
    """Net Promoter Score from likelihood-to-recommend answers on the 0..10 scale.

    NPS = 100 * (share of promoters (9-10) - share of detractors (0-6)), in
    percentage points, from -100 to 100; passives (7-8) count only in the
    denominator. Scores must be integers in 0..10. NaN for an empty input.

    Source: Reichheld, F. F. (2003), "The One Number You Need to Grow", Harvard
    Business Review 81(12), 46-54.

    >>> net_promoter_score([10, 9, 8, 7, 6, 0])
    0.0
    >>> net_promoter_score([10, 10, 9, 5])
    50.0
    >>> net_promoter_score([])
    nan
    """
    s = _float_array("ltr", ltr).ravel()
    if s.size == 0:
        return math.nan
    if np.any(~((s >= 0.0) & (s <= 10.0))) or np.any(s != np.round(s)):
        raise ValueError("ltr scores must be integers in 0..10")
    promoters = np.count_nonzero(s >= 9.0)
    detractors = np.count_nonzero(s <= 6.0)
    return 100.0 * float(promoters - detractors) / s.size


# --------------------------------------------------------------------------- replication statistics


class MeanCI(NamedTuple):
    """Mean, sample standard deviation (ddof=1) and Student-t interval bounds."""

    mean: float
    sd: float
    lo: float
    hi: float


class PairedCI(NamedTuple):
    """Mean paired difference, its Student-t interval and the count of a > b."""

    mean_diff: float
    lo: float
    hi: float
    n_a_better: int


def mean_ci(x: ArrayLike, level: float = 0.95) -> MeanCI:
    """Student-t confidence interval for a mean across independent replications.

    mean +- t_{1-(1-level)/2, n-1} * sd / sqrt(n), with sd the sample standard
    deviation (ddof=1). NaN-safe for small samples: n = 0 gives all NaN; n = 1
    gives the value as the mean and NaN for sd, lo and hi. NaN entries propagate
    (the result is NaN), they are not dropped.

    Source: Law, A. M. (2015), Simulation Modeling and Analysis, 5th ed., sec. 4.5
    and 9.4.1 (fixed-sample-size replication procedure).

    >>> mean_ci([1.0, 2.0, 3.0])  # doctest: +ELLIPSIS
    MeanCI(mean=2.0, sd=1.0, lo=-0.484137711..., hi=4.484137711...)
    >>> mean_ci([5.0])
    MeanCI(mean=5.0, sd=nan, lo=nan, hi=nan)
    """
    level = _check_level(level)
    a = _one_d("x", x)
    n = a.size
    if n == 0:
        return MeanCI(math.nan, math.nan, math.nan, math.nan)
    if n < 2:
        return MeanCI(float(a[0]), math.nan, math.nan, math.nan)
    mean, sd = _mean_sd(a)
    half = float(stats.t.ppf(0.5 + level / 2.0, df=n - 1)) * sd / math.sqrt(n)
    return MeanCI(mean, sd, mean - half, mean + half)


def paired_difference_ci(a: ArrayLike, b: ArrayLike, level: float = 0.95) -> PairedCI:
    """Paired-t interval of mean(a - b) for runs paired by replication (CRN).

    ``a[k]`` and ``b[k]`` must come from the same replication (same random
    numbers), so the interval uses the differences d_k = a_k - b_k: mean(d) +-
    t_{n-1} * sd(d)/sqrt(n). Also returns how many replications had a > b (ties
    count for neither). Same small-sample NaN rules as :func:`mean_ci`.

    Source: Law, A. M. (2015), Simulation Modeling and Analysis, 5th ed., sec. 10.2.1
    (paired-t confidence interval) and 11.2 (common random numbers).

    >>> paired_difference_ci([3.0, 5.0, 4.0], [2.0, 3.0, 4.0])  # doctest: +ELLIPSIS
    PairedCI(mean_diff=1.0, lo=-1.484137711..., hi=3.484137711..., n_a_better=2)
    """
    xa = _one_d("a", a)
    xb = _one_d("b", b)
    if xa.shape != xb.shape:
        raise ValueError(f"a and b must be paired (same length), got {xa.size} and {xb.size}")
    ci = mean_ci(xa - xb, level)
    return PairedCI(ci.mean, ci.lo, ci.hi, int(np.count_nonzero(xa > xb)))


def welch_z(mean1: float, se1: float, mean2: float, se2: float) -> float:
    """Two-sample z statistic with unequal variances: (m1 - m2) / sqrt(se1^2 + se2^2).

    Standard errors must be >= 0. If both are 0 the statistic is 0 for equal means
    and +-inf otherwise. Large-sample (normal) form of Welch's statistic, without
    the Welch-Satterthwaite degrees of freedom.

    Source: Welch, B. L. (1947), "The Generalization of 'Student's' Problem when
    Several Different Population Variances are Involved", Biometrika 34, 28-35.

    >>> welch_z(10.0, 0.3, 9.0, 0.4)
    2.0
    """
    mean1 = _finite_scalar("mean1", mean1)
    mean2 = _finite_scalar("mean2", mean2)
    se1 = _finite_scalar("se1", se1)
    se2 = _finite_scalar("se2", se2)
    if se1 < 0.0 or se2 < 0.0:
        raise ValueError("standard errors must be >= 0")
    diff = mean1 - mean2
    se = math.hypot(se1, se2)
    if se == 0.0:
        return 0.0 if diff == 0.0 else math.copysign(math.inf, diff)
    return diff / se


def agree_within(sample1: ArrayLike, sample2: ArrayLike, n_se: float = 3.0) -> bool:
    """Whether two samples' means agree within ``n_se`` standard errors of the difference.

    Uses |welch_z| <= n_se with se_k = sd_k / sqrt(n_k) (ddof=1). Intended for
    docking two engines on replicated outputs (independent samples). Each sample
    needs at least 2 finite values. Two constant, equal samples agree; two constant,
    different samples do not.

    Source: Axtell, Axelrod, Epstein & Cohen (1996), "Aligning Simulation Models: A
    Case Study and Results", Computational and Mathematical Organization Theory 1(2),
    123-141 (distributional equivalence); Welch (1947), Biometrika 34, 28-35.

    >>> agree_within([1.0, 2.0, 3.0], [1.5, 2.5, 3.5])
    True
    >>> agree_within([1.0, 1.0], [2.0, 2.0])
    False
    """
    n_se = _finite_scalar("n_se", n_se)
    if n_se <= 0.0:
        raise ValueError(f"n_se must be > 0, got {n_se}")
    x1 = _one_d("sample1", sample1)
    x2 = _one_d("sample2", sample2)
    for name, x in (("sample1", x1), ("sample2", x2)):
        if x.size < 2:
            raise ValueError(f"{name} needs at least 2 values, got {x.size}")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{name} must be finite")
    (m1, sd1), (m2, sd2) = _mean_sd(x1), _mean_sd(x2)
    se1 = sd1 / math.sqrt(x1.size)
    se2 = sd2 / math.sqrt(x2.size)
    return bool(abs(welch_z(m1, se1, m2, se2)) <= n_se)
