"""The acquisition-retention trade-off moves with the market's maturity (issue 10 item 3).

Ditkowski, Libai & Muller (2005): acquisition should dominate early in a market's life
and fall as it matures. The bundled ``market_maturity`` scenario runs the splits in a
young market (5% of people buying anywhere) and a mature one (60%). Here, at its own size
(10,000 people, three years; at 5,000 people or two years the gap is noisier: measured
z = 1.2 and 2.0), on seeds 1-10, the focal firm's cumulative profit under ``acquisition_heavy`` minus ``retention_heavy``
(paired: the same seed for both policies) must be larger in the young market than in
the mature one. The markets are run on the same seeds but are different markets, so the
two mean paired differences are compared as independent means: the standard error of
their gap is sqrt(se_young^2 + se_mature^2), each the standard error of a mean paired
difference over the seeds. The gap must exceed Z_MIN of those standard errors (one-sided,
about the 2.5% level): a property that fails if maturity does not move the trade-off.

A larger base talks more: the referrals a firm's customers make grow in proportion to
its customers (F1 rates per satisfied customer), which the second test checks on the
first weeks of two markets that differ only in penetration.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.config.bundled import bundled_scenarios
from sim.config.scenario_file import apply_overrides, load_scenario
from sim.experiment.sampling import scenario_variants
from sim.model.market import MarketModel

SEEDS = tuple(range(1, 11))
N_CUSTOMERS = 10_000  # the scenario's own size (measured: gap 615,384, z = 4.5)
STEPS = 156
Z_MIN = 2.0  # standard errors of the gap (one-sided, about 2.5%)


def maturity_markets() -> dict[str, object]:
    """The young and the mature market of the bundled scenario (size and horizon as set)."""
    path = bundled_scenarios()["market_maturity"]
    sf = load_scenario(path, {"market.n_customers": N_CUSTOMERS, "simulation.steps": STEPS})
    markets = {}
    for variant in scenario_variants(sf):
        penetration = variant["market.initial_penetration"]
        name = "young" if penetration < 0.2 else "mature"
        markets[name] = apply_overrides(sf, variant)
    assert set(markets) == {"young", "mature"}
    return markets


@pytest.fixture(scope="module")
def paired_differences() -> dict[str, np.ndarray]:
    """Per market, per seed: acquisition_heavy's cumulative profit minus retention_heavy's."""
    out = {}
    for name, sf in maturity_markets().items():
        scenario = sf.to_scenario()
        policies = {p.name: p for p in sf.engine_policies()}
        profit = {
            policy: np.array(
                [
                    MarketModel(scenario, policy=policies[policy], seed=seed)
                    .run(STEPS)
                    .focal_firm.cumulative_profit
                    for seed in SEEDS
                ]
            )
            for policy in ("acquisition_heavy", "retention_heavy")
        }
        out[name] = profit["acquisition_heavy"] - profit["retention_heavy"]
    return out


@pytest.mark.slow
def test_acquisition_gains_on_retention_in_a_young_market(paired_differences):
    young, mature = paired_differences["young"], paired_differences["mature"]
    n = len(SEEDS)
    se = math.sqrt(young.var(ddof=1) / n + mature.var(ddof=1) / n)
    gap = young.mean() - mature.mean()
    assert gap > Z_MIN * se, (young.mean(), mature.mean(), se)


def test_a_larger_base_refers_more_people():
    """Referrals are proportional to the base's promoters: per promoter the same in a
    market with four times the customers (per customer they differ, since a young base
    holds more new customers, who are not yet promoters). Referral counts are Poisson sums,
    so the relative standard error of each count's rate is 1 / sqrt(count); the two rates
    must agree within 4 of those standard errors combined, and the bigger base must refer
    more than twice as many."""
    counts = {}
    for penetration in (0.1, 0.4):
        sf = load_scenario(
            bundled_scenarios()["market_maturity"],
            {"market.n_customers": N_CUSTOMERS, "market.initial_penetration": penetration},
        )
        model = MarketModel(sf.to_scenario(), policy="balanced", seed=7).run(6)
        df = model.results()
        focal = df[df["firm"] == "focal"]
        counts[penetration] = (float(focal["referrals"].sum()), float(focal["promoters"].sum()))
    (r_small, c_small), (r_big, c_big) = counts[0.1], counts[0.4]
    assert r_big > 2 * r_small
    rate_small, rate_big = r_small / c_small, r_big / c_big
    se = math.hypot(rate_small / math.sqrt(r_small), rate_big / math.sqrt(r_big))
    assert abs(rate_big - rate_small) < 4 * se
