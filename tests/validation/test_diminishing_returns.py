"""Diminishing returns: doubling a lever's spend gains less than the first unit did (issue 10).

Two layers, so the suite stays short:

1. The response rules, as pure functions at the default scenario's parameters: for every
   lever, over a range of spend x, the gain from x to 2x is smaller than the gain from 0 to
   x (f(2x) - f(x) < f(x) - f(0)). Every lever responds with the exponential saturating
   form s (1 - e^{-x/s}) of Blattberg & Deighton (1996) (advertising also through the
   chance that an exposure acts, the service level through its own ceiling); the loyalty
   program through self-selection: heavy buyers accept first, so the members a larger
   budget adds buy less.
2. One paired-seed model check per lever: the same seeds with the lever at 0, x and 2x,
   every other lever held fixed, and the lever's own response counted in the run
   (customers won by ads, promotions and visits; care contacts that landed; the purchase
   rate the program's members bring, the base of its causal uplift; complaints resolved;
   service quality; upgrades sold). Per seed, the second difference y(2x) - 2 y(x) + y(0)
   must be negative by more than Z_MIN standard errors of its mean over the seeds (the
   standard error estimated from the spread of the paired differences; under a linear
   response the mean over S = 16 seeds would fall below -2.5 SE with probability about
   1.2%, Student t with 15 degrees of freedom). Why 16 seeds: with 4 (and -3 SE) the
   weakest responses passed only about half the time under the model's own law (16 seeds
   measured promotions' second difference at -20 with a per-seed SD of 11-16, complaint
   handling's at -10 with SD 6.5: a noncentral t of -2.6 and -3.1 at 4 seeds), so any
   change of the random stream could fail them; at 16 seeds and -2.5 SE each passes with
   probability above 99%. The doses put each lever where its saturation
   bites (about one saturation scale per person-year), so the first unit is clearly
   concave; the three acquisition channels are doubled one at a time (they compete for the
   same prospects, so doubling them together would show concavity even for a linear one);
   the five retention levers, whose own responses do not share a pool, are doubled
   together to save runs. The market is the default one scaled to 2,000 people over half
   a year of weeks; upgrades succeed more often there (success 0.3, saturation 1 offer per
   customer-year) so that half a year has enough of them to count.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.config.schema import AdvertisingSpec, LeverCosts, Policy, Scenario
from sim.model.agents.firms import ACQUISITION_LEVERS, RETENTION_LEVERS
from sim.model.behaviour.levers import (
    enrolment_probability,
    exposure_probability,
    saturated_intensity,
    service_gain,
    upgrade_success_probability,
)
from sim.model.behaviour.spend import draw_traits
from sim.model.market import MarketModel
from sim.model.network import build_graph

LEV = LeverCosts()
ADS = AdvertisingSpec()
XS = np.geomspace(0.01, 20.0, 40)  # spend as multiples of each lever's saturation scale


def assert_concave(f, xs: np.ndarray = XS) -> None:
    """f(2x) - f(x) < f(x) - f(0) at every x: doubling gains less than the first unit."""
    for x in xs:
        first, second = f(x) - f(0.0), f(2 * x) - f(x)
        assert first > 0.0 and second < first, (x, first, second)


# -- 1. the response rules -----------------------------------------------------------------


def test_advertising_reach_is_concave_in_spend():
    steps_per_year, people = 52, 10_000

    def p_aware(multiple: float) -> float:  # as Firm.update_offer turns spend into reach
        spend_per_year = (
            multiple * ADS.saturation_exposures_per_year * ADS.cost_per_exposure * people
        )
        bought = spend_per_year / (ADS.cost_per_exposure * people)
        exposures = saturated_intensity(bought, ADS.saturation_exposures_per_year)
        return exposure_probability(exposures / steps_per_year, ADS.p_aware_per_exposure)

    assert_concave(p_aware)


@pytest.mark.parametrize(
    ("lever", "scale"),
    [
        ("promotions", LEV.promotion_saturation_per_year),
        ("sales_visits", LEV.sales_visit_saturation_per_year),
        ("care_contacts", LEV.care_saturation_per_year),
        ("complaint_handling", LEV.complaint_saturation_per_year),
    ],
)
def test_units_that_take_effect_are_concave_in_units_bought(lever, scale):
    # x units per person-year bought, s (1 - e^{-x/s}) act (offers reached, contacts landed,
    # complaints handled well)
    assert_concave(lambda m: saturated_intensity(m * scale, scale))


def test_upgrades_sold_are_concave_in_offers():
    scale = LEV.upgrade_saturation_per_year

    def sold(m: float) -> float:
        x = m * scale
        return x * upgrade_success_probability(x, LEV.upgrade_success, scale)

    assert_concave(sold)


def test_service_gain_is_concave_in_spend():
    scale = LEV.service_per_customer_year
    assert_concave(lambda m: service_gain(m * scale, scale, LEV.service_max_gain))


def test_loyalty_members_added_by_more_budget_buy_less():
    """Members fill a program of K places by accepting offers over the weeks; heavy,
    high-spend buyers accept sooner, so the first K members' purchase rate (what the causal
    uplift multiplies) exceeds that of the next K, once K is more than the customers who
    accept in one week (about 4% of them at the defaults). Below that both K are random
    draws from the same week's acceptors: the program's returns are constant there (a
    finding, not an oversight: a program is not saturated by the first members it buys)."""
    het = Scenario.default().market.heterogeneity
    rng = np.random.default_rng(7)
    traits = draw_traits(20_000, het, rng)
    p_accept = enrolment_probability(
        traits.purchase_rate / het.mean_rate,
        (het.p / traits.spend_rate) / het.mean_spend,
        np.full(traits.purchase_rate.size, 0.8),
        log_odds=LEV.enrol_log_odds,
        rate_weight=LEV.enrol_rate_weight,
        spend_weight=LEV.enrol_spend_weight,
        satisfaction_weight=LEV.enrol_satisfaction_weight,
    )
    # the week each person would accept (offered every week until they do), ties random
    week = rng.geometric(np.clip(p_accept, 1e-12, 1.0))
    order = np.lexsort((rng.random(week.size), week))
    rate_of_first = np.concatenate([[0.0], np.cumsum(traits.purchase_rate[order])])
    week_one = int(np.count_nonzero(week == 1))
    assert 0.01 * week.size < week_one < 0.15 * week.size
    for k in (week_one, 2 * week_one, 4 * week_one):
        first, second = rate_of_first[k], rate_of_first[2 * k] - rate_of_first[k]
        assert second < 0.95 * first, (k, first, second)
    small = week_one // 4  # constant returns below one week's acceptors
    assert rate_of_first[2 * small] - rate_of_first[small] > 0.8 * rate_of_first[small]


# -- 2. one paired-seed model check per lever ------------------------------------------------

N_CUSTOMERS = 2_000
STEPS = 26
SEEDS = tuple(range(1, 17))
Z_MIN = 2.5
# yearly spend x per lever: about one saturation scale per person-year in this market
# (2,000 people, about 1,000 prospects of whom 300 aware, and 500 customers per firm)
# (acquisition doses in units bought, so a change of unit cost keeps them at the same place)
DOSE = {
    "advertising": 300 * N_CUSTOMERS * ADS.cost_per_exposure,  # 300 exposures per person-year
    "promotions": 3 * 1_000 * LEV.promotion_offer,  # 3 offers per prospect-year
    "sales_visits": 300 * LEV.sales_visit,  # 1 visit per aware prospect-year
    "care_contacts": 30_000.0,  # 4 contacts per customer-year
    "loyalty_program": 6_000.0,  # 150 places, 30% of the customers (far above a week's takers)
    "complaint_handling": 4_500.0,  # half the complaints, so 2x handles them all
    "service_level": 20_000.0,  # 40 per customer-year
    "upgrades": 12_500.0,  # 1 offer per customer-year
}


def market(make_small_scenario) -> Scenario:
    scenario = make_small_scenario(N_CUSTOMERS, STEPS)
    return scenario.with_updates(
        {"market.levers.upgrade_success": 0.3, "market.levers.upgrade_saturation_per_year": 1.0}
    )


def spend_only(spend: dict[str, float]) -> Policy:
    """A policy that spends exactly `spend` (yearly, per lever) and nothing else."""
    acquisition = sum(spend.get(k, 0.0) for k in ACQUISITION_LEVERS)
    retention = sum(spend.get(k, 0.0) for k in RETENTION_LEVERS)
    total = acquisition + retention
    data: dict[str, object] = {
        "name": "+".join(f"{k}={v:g}" for k, v in spend.items()) or "nothing",
        "budget_per_year": total,
        "acquisition_share": acquisition / total if total else 0.0,
    }
    if acquisition:
        data["acquisition_mix"] = {k: spend.get(k, 0.0) / acquisition for k in ACQUISITION_LEVERS}
    if retention:
        data["retention_mix"] = {k: spend.get(k, 0.0) / retention for k in RETENTION_LEVERS}
    return Policy.model_validate(data)


def responses(model: MarketModel) -> dict[str, float]:
    """Each lever's own response over the run, for the focal firm."""
    df = model.results()
    f = df[df["firm"] == model.firm_names[0]]
    pop = model.population
    return {
        "advertising": float(f["new_advertising"].sum()),
        "promotions": float(f["new_promotion"].sum()),
        "sales_visits": float(f["new_sales_visit"].sum()),
        "care_contacts": float(f["care_contacts"].sum()),
        "loyalty_program": float(pop.purchase_rate[pop.member & (pop.firm == 0)].sum()),
        "complaint_handling": float(f["complaints_resolved"].sum()),
        "service_level": float(f["service_quality"].mean()),
        "upgrades": float(f["upgrades"].sum()),
    }


ARMS = {
    "zero": {},
    **{f"{k}_x": {k: DOSE[k]} for k in ACQUISITION_LEVERS},
    **{f"{k}_2x": {k: 2 * DOSE[k]} for k in ACQUISITION_LEVERS},
    "retention_x": {k: DOSE[k] for k in RETENTION_LEVERS},
    "retention_2x": {k: 2 * DOSE[k] for k in RETENTION_LEVERS},
}


@pytest.fixture(scope="module")
def runs(make_small_scenario) -> dict[str, pd.DataFrame]:
    """Every arm's responses, one row per seed (one social graph per seed for all arms)."""
    scenario = market(make_small_scenario)
    net = scenario.network
    rows: dict[str, list[dict[str, float]]] = {arm: [] for arm in ARMS}
    for seed in SEEDS:
        graph = build_graph(
            net.kind,
            N_CUSTOMERS,
            np.random.default_rng(np.random.SeedSequence(seed).spawn(3)[0]),
            mean_degree=net.mean_degree,
            rewire_p=net.rewire_p,
        )
        for arm, spend in ARMS.items():
            model = MarketModel(scenario, policy=spend_only(spend), seed=seed, graph=graph)
            rows[arm].append(responses(model.run()))
    return {arm: pd.DataFrame(r, index=pd.Index(SEEDS, name="seed")) for arm, r in rows.items()}


@pytest.mark.parametrize("lever", [*ACQUISITION_LEVERS, *RETENTION_LEVERS])
def test_doubling_a_levers_spend_gains_less_than_the_first_unit(runs, lever):
    group = lever if lever in ACQUISITION_LEVERS else "retention"
    y0 = runs["zero"][lever]
    y1 = runs[f"{group}_x"][lever]
    y2 = runs[f"{group}_2x"][lever]
    first, second = y1 - y0, y2 - y1
    d = (second - first).to_numpy()
    se = d.std(ddof=1) / math.sqrt(d.size)
    detail = (
        f"{lever}: first unit {first.mean():.4g}, doubling {second.mean():.4g} "
        f"(second difference {d.mean():.4g}, se {se:.3g}) over {d.size} seeds"
    )
    print(detail)
    assert first.mean() > 0, detail  # the lever works at all
    assert d.mean() < -Z_MIN * se, detail
