"""Docking with Blattberg & Deighton (1996): the simulator's best spend is the closed form's.

Issue 10: "in a reduced setting (one firm, no network effects, exponential response
curves), the simulator's profit-maximising acquisition and retention spend found by a
sweep lands within 10% of the closed-form optimum of Blattberg & Deighton's customer-equity
model, and its customer equity within 2%."

The model (:func:`sim.analysis.statistics.customer_equity_optimum`): a prospect on whom A
is spent becomes a customer with probability a = ceiling_a (1 - e^{-k1 A}); a customer on
whom R is spent in a period stays with probability r = ceiling_r (1 - e^{-k2 R}) and earns
margin m; customer equity per prospect is a V(R) - A with V the discounted value of a
customer when won.

The reduced market (quarterly steps, one B&D period each). One firm, no competitors, no
word of mouth, no need-driven or advertising-driven purchases, no staff, suppliers, loyalty
members, experience curve or forgetting of the firm (B&D's prospects are the same
pool every campaign); everyone identical (heterogeneity off), buying one unit per
step at margin m, so only the two levers act:

- acquisition is promotions alone. Of k offers sent to P prospects, a share
  s(1 - e^{-x/s})/x lands, x = k * 4 / P offers per prospect-year (the simulator's
  saturating response), every landed offer makes its receiver consider buying
  (promotion_response 1) and a considering person always buys (outside option -50). Each
  prospect is offered at most once a step, so per step a = (s/4)(1 - e^{-x/s}) exactly:
  B&D's curve with ceiling_a = s/4 and k1 = 4 / (s * offer cost), A being money per
  prospect per step.
- retention is care contacts alone, and lack of care is the only churn reason, made a
  deadline: neglect_per_year 10,000 with neglect_weeks 0.5, so a customer whose contact
  did not land this quarter leaves for sure and one whose contact landed stays (every other
  hazard 0, the neglect hazard does not depend on satisfaction). With k contacts for C
  customers a share s(1 - e^{-x/s})/x lands, x = k * 4 / C, so r = (s/4)(1 - e^{-x/s}):
  B&D's curve with ceiling_r = s/4 and k2 = 4 / (s * contact cost).

What the scenario cannot express, and how this test bridges it. (1) B&D's controls are
spend per prospect and per customer, the simulator's budget is money per year: before each
step the test sets the focal firm's policy to a budget of A per prospect expected at the
campaign (those without the firm at the start, plus the customers expected to lapse at
last step's retention) and R per customer, as a manager applying B&D's rule would. The
realised spend per prospect is measured, not assumed. (2) B&D value one campaign on one
pool of prospects; the test repeats the campaign for 16 quarters on whoever is a prospect
(never won, or lapsed) and divides the discounted profit by the discounted prospects
campaigned to. Every prospect is alike, so each campaign is one B&D problem and the ratio
estimates customer equity per prospect with 16 times the sample, and 10 quarters after the
last campaign leave (r*)^10 < 2e-5 of its value untaken. (3) Timing: a customer won in a
step first buys in the next, after surviving that step's retention decision (churn comes
before purchases, acquisition after them), so the simulator has no margin in the period of
acquisition: B&D's a m term is absent (``first_margin="next_period"``). R* is the same
either way; A* is the optimum of the simulator's timing. (4) At most one offer per prospect
and one contact per customer per step: spend beyond A = offer cost or R = contact cost
cannot be placed, so the optimum must lie below those caps (it does: 61% and 72% of them),
and retention per quarter cannot exceed ceiling_r (1 - e^{-1/ceiling_r}) = 0.37 here.

The sweep. Retention spend R is swept first on 7 values at a fixed A (R* does not depend
on A), a quadratic fitted to customer equity against R, its vertex R^; then A on 7 values
at R^, the vertex A^ and the fitted maximum CE^. Each sweep point is one run of 100,000
people on its own seed.

Tolerances. The noise of each point's customer equity is estimated from the quadratic
fit's residuals; the standard errors of the vertex and of the fitted maximum follow by the
delta method from the fit's covariance. The quadratic itself is biased for an exponential
curve: fitting it to B&D's exact curve at the same points moves the vertex (the bias is
printed and, with four standard errors, must leave the 10% and 2% bands meaningful). A
point's customer equity has a standard deviation of about 8 times its mean per prospect
(binomial acquisition, geometric lifetimes, and a customer's value being margin less
retention spend), so about 1.1 million prospect-campaigns per point give about 0.8%.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from scipy import optimize

from sim.analysis.statistics import customer_equity, customer_equity_optimum
from sim.config.schema import Policy, Scenario
from sim.model.market import MarketModel

SPY = 4  # quarterly steps: one B&D period each
N = 100_000
CAMPAIGNS = 16
STEPS = CAMPAIGNS + 10
D = 1.1**0.25 - 1.0  # 10% a year, per quarter
OFFER_COST, CONTACT_COST = 2.5, 15.0
CEILING_A, CEILING_R = 0.3, 0.4
S_PROMOTION, S_CARE = CEILING_A * SPY, CEILING_R * SPY  # saturation, per person-year
K1 = SPY / (OFFER_COST * S_PROMOTION)
K2 = SPY / (CONTACT_COST * S_CARE)
MARGIN = 72.0  # per purchase, one purchase a quarter
PRICE = 100.0
A_FIXED = 1.5  # acquisition spend per prospect while R is swept
R_GRID = np.linspace(7.5, 13.5, 7)
A_GRID = np.linspace(0.9, 2.1, 7)
N_SE = 4.0

OPTIMUM = customer_equity_optimum(
    CEILING_A, K1, CEILING_R, K2, MARGIN, D, first_margin="next_period"
)


def reduced_scenario() -> Scenario:
    """One firm whose only levers are promotions and care, with B&D's response curves."""
    return Scenario(
        simulation={"step_length": "quarter", "steps": STEPS},
        market={
            "n_customers": N,
            "initial_penetration": 0.0,
            "need_per_year": 0.0,
            "outside_option_utility": -50.0,
            "poaching_offers_per_year": 0.0,
            "heterogeneity": {
                "enabled": False,
                "r": float(SPY),  # one purchase a step
                "alpha": 1.0,
                "p": 1.0,  # of one unit
                "q": 2.0,
                "gamma": 1.0,
            },
            "tenure_spend_gain": 0.0,
            "discount_rate_per_year": (1.0 + D) ** SPY - 1.0,
            "word_of_mouth": {"referrals_per_year": 0.0, "peers_deterred_per_episode": 0.0},
            "churn": {
                "base_per_year": 0.0,
                "dissatisfaction_per_year": 0.0,
                "neglect_per_year": 10_000.0,
                "neglect_weeks": 0.5,
                "neglect_satisfaction_exponent": 0.0,
                "unresolved_complaint_per_year": 0.0,
                "price_per_year": 0.0,
            },
            "experience": {"learning_rate": 1.0},
            "advertising": {"awareness_half_life_weeks": 0.0},  # B&D's prospects never forget
            "levers": {
                "promotion_offer": OFFER_COST,
                "promotion_response": 1.0,
                "promotion_saturation_per_year": S_PROMOTION,
                "care_contact": CONTACT_COST,
                "care_saturation_per_year": S_CARE,
            },
        },
        network={"kind": "erdos_renyi", "mean_degree": 0},
        firm={
            "price": PRICE,
            "unit_cost": PRICE - MARGIN,
            "initial_share": 1.0,
            "budget_per_year": 0.0,
        },
        competitors=(),
        employees={"enabled": False},
        suppliers={"enabled": False},
    )


def step_policy(acquisition: float, retention: float) -> Policy:
    """This step's spend (money per step) on promotions and on care contacts, as a policy."""
    total = acquisition + retention
    return Policy(
        name="customer_equity",
        budget_per_year=total * SPY,
        acquisition_share=acquisition / total if total > 0 else 0.0,
        acquisition_mix={"advertising": 0.0, "promotions": 1.0, "sales_visits": 0.0},
        retention_mix={
            "care_contacts": 1.0,
            "loyalty_program": 0.0,
            "complaint_handling": 0.0,
            "service_level": 0.0,
        },
    )


@dataclass(frozen=True)
class Point:
    """One sweep point: what was spent and what it bought, per prospect and per customer."""

    acquisition_spend: float  # realised, per prospect campaigned to
    retention_spend: float  # realised, per customer and step
    acquisition_rate: float  # won per prospect campaigned to
    retention_rate: float  # kept per customer and step
    equity: float  # discounted profit per discounted prospect campaigned to
    prospects: float  # prospect-campaigns counted
    customer_steps: float  # customers at the start of a step, summed over the steps


def run_point(a_spend: float, r_spend: float, seed: int) -> Point:
    """Run the reduced market spending A per prospect and R per customer each step."""
    scenario = reduced_scenario()
    model = MarketModel(scenario, policy=step_policy(0.0, 0.0), seed=seed)
    firm = model.focal_firm
    kept_share = 0.0
    profit = prospects_w = promo = won = care = at_start = kept = prospects = 0.0
    for t in range(1, STEPS + 1):
        customers = firm.n_customers
        campaign = t <= CAMPAIGNS
        expected_prospects = N - customers * kept_share
        firm.policy = step_policy(
            a_spend * expected_prospects if campaign else 0.0, r_spend * customers
        )
        model.step()
        rec = {k: float(v[0]) for k, v in model.records[-1].items()}
        discount = (1.0 + D) ** -t
        profit += rec["profit"] * discount
        if campaign:  # prospects when the offers went out: not customers after the churn
            offered_to = N - customers + rec["churned"]
            prospects_w += offered_to * discount
            prospects += offered_to
            promo += rec["promotions_spend"]
            won += rec["new_customers"]
        if customers:
            at_start += customers
            kept += customers - rec["churned"]
            care += rec["care_contacts_spend"]
        kept_share = (customers - rec["churned"]) / customers if customers else 0.0
    return Point(
        acquisition_spend=promo / prospects,
        retention_spend=care / at_start,
        acquisition_rate=won / prospects,
        retention_rate=kept / at_start,
        equity=profit / prospects_w,
        prospects=prospects,
        customer_steps=at_start,
    )


@dataclass(frozen=True)
class Fit:
    """A quadratic fitted to customer equity over one sweep, and its optimum."""

    vertex: float
    vertex_se: float
    maximum: float
    maximum_se: float
    residual_sd: float


def fit_quadratic(x: np.ndarray, y: np.ndarray) -> Fit:
    """Least-squares quadratic, its vertex and value there, with delta-method errors."""
    coef, cov = np.polyfit(x, y, 2, cov="unscaled")
    resid = y - np.polyval(coef, x)
    sigma2 = float(resid @ resid) / (x.size - 3)
    cov = cov * sigma2
    c2, c1, _c0 = coef
    v = -c1 / (2.0 * c2)
    grad_v = np.array([c1 / (2.0 * c2**2), -1.0 / (2.0 * c2), 0.0])
    grad_max = np.array([v**2, v, 1.0])  # value at the vertex: its gradient there
    return Fit(
        vertex=float(v),
        vertex_se=float(math.sqrt(grad_v @ cov @ grad_v)),
        maximum=float(np.polyval(coef, v)),
        maximum_se=float(math.sqrt(grad_max @ cov @ grad_max)),
        residual_sd=math.sqrt(sigma2),
    )


def exact_equity(a_spend: float, r_spend: float) -> float:
    """B&D's customer equity at (A, R), in the simulator's timing."""
    a = CEILING_A * -math.expm1(-K1 * a_spend)
    r = CEILING_R * -math.expm1(-K2 * r_spend)
    return customer_equity(a, r, MARGIN, a_spend, r_spend, D, first_margin="next_period")


@pytest.fixture(scope="module")
def sweeps() -> dict[str, object]:
    """The two sweeps: R at a fixed A, then A at the R found."""
    r_points = [run_point(A_FIXED, r, seed) for seed, r in enumerate(R_GRID, start=1)]
    r_fit = fit_quadratic(R_GRID, np.array([p.equity for p in r_points]))
    a_points = [run_point(a, r_fit.vertex, seed) for seed, a in enumerate(A_GRID, start=101)]
    a_fit = fit_quadratic(A_GRID, np.array([p.equity for p in a_points]))
    return {"r_points": r_points, "r_fit": r_fit, "a_points": a_points, "a_fit": a_fit}


def test_closed_form_is_the_optimum_of_the_equity():
    # the closed form against a numerical search on B&D's equity, in both timings
    for first in ("immediate", "next_period"):
        opt = customer_equity_optimum(CEILING_A, K1, CEILING_R, K2, MARGIN, D, first_margin=first)

        def loss(x: np.ndarray, first: str = first) -> float:
            a_spend, r_spend = np.abs(x)
            a = CEILING_A * -math.expm1(-K1 * a_spend)
            r = CEILING_R * -math.expm1(-K2 * r_spend)
            return -customer_equity(a, r, MARGIN, a_spend, r_spend, D, first_margin=first)

        best = optimize.minimize(
            loss, [1.0, 5.0], method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-12}
        )
        assert np.abs(best.x) == pytest.approx(
            [opt.acquisition_spend, opt.retention_spend], rel=1e-5
        )
        assert -best.fun == pytest.approx(opt.customer_equity, rel=1e-9)


def test_the_optimum_lies_inside_what_one_step_can_place():
    # at most one offer per prospect and one contact per customer a step
    assert OPTIMUM.acquisition_spend < 0.7 * OFFER_COST
    assert OPTIMUM.retention_spend < 0.75 * CONTACT_COST
    assert A_GRID.max() < OFFER_COST and R_GRID.max() < CONTACT_COST


def test_the_reduced_market_has_bd_response_curves(sweeps):
    # every point's acquisition and retention rate on B&D's curve at its realised spend,
    # within N_SE binomial standard errors over the prospect-campaigns and customer-steps
    for p in [*sweeps["r_points"], *sweeps["a_points"]]:
        a = CEILING_A * -math.expm1(-K1 * p.acquisition_spend)
        r = CEILING_R * -math.expm1(-K2 * p.retention_spend)
        assert abs(p.acquisition_rate - a) < N_SE * math.sqrt(a * (1 - a) / p.prospects), p
        assert abs(p.retention_rate - r) < N_SE * math.sqrt(r * (1 - r) / p.customer_steps), p


def test_sweep_finds_bd_retention_spend(sweeps):
    fit = sweeps["r_fit"]
    exact = fit_quadratic(R_GRID, np.array([exact_equity(A_FIXED, r) for r in R_GRID]))
    star = OPTIMUM.retention_spend
    print(
        f"R^ {fit.vertex:.3f} (se {fit.vertex_se:.3f}) vs R* {star:.3f}: "
        f"{100 * (fit.vertex / star - 1):+.2f}%; the fit's bias on the exact curve "
        f"{100 * (exact.vertex / star - 1):+.2f}%; residual sd {fit.residual_sd:.4f}"
    )
    assert abs(fit.vertex - star) < 0.10 * star
    # the band is not slack: the fit's bias and four standard errors fit well inside it
    assert abs(exact.vertex - star) + N_SE * fit.vertex_se < 0.10 * star


def test_sweep_finds_bd_acquisition_spend_and_equity(sweeps):
    fit, r_hat = sweeps["a_fit"], sweeps["r_fit"].vertex
    exact = fit_quadratic(A_GRID, np.array([exact_equity(a, r_hat) for a in A_GRID]))
    star, equity = OPTIMUM.acquisition_spend, OPTIMUM.customer_equity
    print(
        f"A^ {fit.vertex:.3f} (se {fit.vertex_se:.3f}) vs A* {star:.3f}: "
        f"{100 * (fit.vertex / star - 1):+.2f}%, the fit's bias on the exact curve "
        f"{100 * (exact.vertex / star - 1):+.2f}%; CE^ {fit.maximum:.4f} "
        f"(se {fit.maximum_se:.4f}) vs CE* {equity:.4f}: "
        f"{100 * (fit.maximum / equity - 1):+.2f}%, bias {100 * (exact.maximum / equity - 1):+.2f}%"
    )
    assert abs(fit.vertex - star) < 0.10 * star
    assert abs(fit.maximum - equity) < 0.02 * equity
    assert abs(exact.vertex - star) + N_SE * fit.vertex_se < 0.10 * star
    assert abs(exact.maximum - equity) + N_SE * fit.maximum_se < 0.02 * equity


def test_every_sweep_point_has_bd_equity(sweeps):
    # each point's customer equity against B&D's at the spend it realised, within N_SE of
    # a point's noise (the residual sd of the quadratic fits, which also holds any misfit)
    for points, fit in (
        (sweeps["r_points"], sweeps["r_fit"]),
        (sweeps["a_points"], sweeps["a_fit"]),
    ):
        for p in points:
            exact = exact_equity(p.acquisition_spend, p.retention_spend)
            print(
                f"A {p.acquisition_spend:.3f} R {p.retention_spend:.3f}: CE {p.equity:.4f} vs {exact:.4f}"
            )
            assert abs(p.equity - exact) < N_SE * fit.residual_sd, p
