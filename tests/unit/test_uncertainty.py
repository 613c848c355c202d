"""[uncertainties] and [experiment]: the schema, key paths, and the sampled markets.

Sampling checks are exact where the Latin hypercube makes them exact (one point per
stratum), and use tolerances from the sampling variance elsewhere.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim.common.outcomes import HEADLINES
from sim.config.experiment_spec import OUTCOMES, UncertaintySpec
from sim.config.scenario_file import (
    ScenarioError,
    apply_overrides,
    dump_toml,
    parse_scenario,
    resolve_parameter,
    value_problem,
)
from sim.experiment.sampling import (
    UncertainParameter,
    replications_per_scenario,
    sampling_seed,
    scenario_variants,
    uncertain_parameters,
    unit_sample,
    variants_from_unit,
)
from sim.report.labels import parameter_label

WOM = "market.word_of_mouth.p_referral_conversion"

FILE = f"""
[simulation]
seed = 7
replications = 4

[uncertainties]
"{WOM}" = {{ low = 0.3, high = 0.6 }}
"network.weak_tie_share" = {{ low = 0.2, mode = 0.3, high = 0.8 }}
"market.value_sensitivity" = {{ mean = 5.0, sd = 1.0, low = 4.0, high = 7.0 }}
"network.mean_degree" = {{ choices = [6, 10, 14] }}
"employees.per_firm" = {{ low = 10, high = 15 }}
"competitors.*.reaction.advertising_step_up" = {{ low = 0.0, high = 0.5 }}

[experiment]
scenarios = 60
"""


@pytest.fixture(scope="module")
def sf():
    return parse_scenario(FILE)


def test_the_experiment_outcomes_are_the_results_headlines():
    from sim.cli import (
        experiments as cli_experiment,  # keeps its own copy so the parser imports no pydantic
    )

    assert set(OUTCOMES) == set(HEADLINES)
    assert cli_experiment.OUTCOMES == OUTCOMES


# --------------------------------------------------------------------------- schema


@pytest.mark.parametrize(
    ("table", "distribution"),
    [
        ({"low": 0.1, "high": 0.2}, "uniform"),
        ({"low": 0.1, "mode": 0.15, "high": 0.2}, "triangular"),
        ({"mean": 0.15, "sd": 0.02, "low": 0.1, "high": 0.2}, "normal"),
        ({"choices": [1, 2]}, "choices"),
    ],
)
def test_the_distribution_follows_from_the_keys(table, distribution):
    assert UncertaintySpec.model_validate(table).distribution == distribution


def test_an_explicit_distribution_must_match_its_keys():
    with pytest.raises(ValueError, match="'mode' is missing"):
        UncertaintySpec.model_validate({"distribution": "triangular", "low": 0, "high": 1})
    with pytest.raises(ValueError, match="'mode' is not used by a uniform"):
        UncertaintySpec.model_validate(
            {"distribution": "uniform", "low": 0, "mode": 0.5, "high": 1}
        )
    with pytest.raises(ValueError, match=r"'mean' .* must lie from low"):
        UncertaintySpec.model_validate({"mean": 2.0, "sd": 1.0, "low": 0.0, "high": 1.0})
    with pytest.raises(ValueError, match="lists a value twice"):
        UncertaintySpec.model_validate({"choices": [1, 1]})
    with pytest.raises(ValueError, match="finite"):
        UncertaintySpec.model_validate({"low": 0.0, "high": math.inf})


def test_unquoted_dotted_keys_are_the_same_as_quoted_ones():
    quoted = parse_scenario(f'[uncertainties]\n"{WOM}" = {{ low = 0.3, high = 0.6 }}\n')
    nested = parse_scenario(f"[uncertainties]\n{WOM} = {{ low = 0.3, high = 0.6 }}\n")
    assert quoted == nested
    assert list(nested.uncertainties) == [WOM]


def test_a_scenario_with_uncertainties_round_trips_through_toml(sf):
    assert parse_scenario(dump_toml(sf)) == sf


def test_the_same_parameter_twice_is_an_error():
    text = (
        "[uncertainties]\n"
        '"competitors.*.price" = { low = 40.0, high = 60.0 }\n'
        '"competitors.1.price" = { low = 45.0, high = 55.0 }\n'
    )
    with pytest.raises(ScenarioError, match=r"competitors\[1\].price is varied twice"):
        parse_scenario(text)


def test_a_wildcard_over_no_competitors_is_an_error():
    text = (
        'competitors = []\n[uncertainties]\n"competitors.*.price" = { low = 40.0, high = 60.0 }\n'
    )
    with pytest.raises(ScenarioError, match="names no parameter"):
        parse_scenario(text)


def test_an_index_past_the_last_competitor_is_an_error():
    text = '[uncertainties]\n"competitors.5.price" = { low = 40.0, high = 60.0 }\n'
    with pytest.raises(ScenarioError, match=r"competitors has 3 entries \(0 to 2\), no entry 5"):
        parse_scenario(text)


def test_set_with_a_wildcard_changes_every_competitor():
    sf = apply_overrides(parse_scenario(""), {"competitors.*.price": 45.0})
    assert [c.price for c in sf.competitors] == [45.0, 45.0, 45.0]
    with pytest.raises(ScenarioError, match="'\\*' stands for every entry of a list"):
        apply_overrides(parse_scenario(""), {"market.*": 1.0})


def test_resolve_parameter_knows_whole_numbers_and_rejects_non_numbers():
    assert resolve_parameter("network.mean_degree").integer
    assert not resolve_parameter(WOM).integer
    assert resolve_parameter("competitors[*].reaction.advertising_step_up").path
    for path, text in [
        ("network.kind", "not a number"),
        ("market.word_of_mouth", "is a table"),
        ("competitors.price", "competitors is a list"),
        ("simulation.steps", "cannot be uncertain"),
        ("outputs.dpi", "cannot be uncertain"),
        ("markt.n_customers", "did you mean 'market'"),
        ("employees.enabled", "true/false"),
    ]:
        with pytest.raises(ValueError, match=text):
            resolve_parameter(path)


def test_value_problem_uses_the_schema_s_own_checks(sf):
    assert value_problem(sf, WOM, 0.5) is None
    assert "from 0 to 1" in value_problem(sf, WOM, 1.5)
    assert "even mean_degree" in value_problem(sf, "network.mean_degree", 7)


# --------------------------------------------------------------------------- sampling


def test_no_uncertainties_means_one_market_the_file_itself():
    plain = parse_scenario("[simulation]\nreplications = 3\n")
    assert scenario_variants(plain) == [{}]
    assert replications_per_scenario(plain) == 3


def test_replications_and_seed_default_to_the_simulation_s(sf):
    assert replications_per_scenario(sf) == 4
    assert sampling_seed(sf) == 7
    other = apply_overrides(sf, {"experiment.replications": 2, "experiment.seed": 99})
    assert replications_per_scenario(other) == 2
    assert sampling_seed(other) == 99


def test_variants_are_deterministic_and_follow_the_seed(sf):
    first = scenario_variants(sf)
    assert first == scenario_variants(parse_scenario(FILE))
    assert len(first) == 60
    assert list(first[0]) == list(sf.uncertainties)  # file order
    reseeded = scenario_variants(apply_overrides(sf, {"simulation.seed": 8}))
    assert reseeded != first
    pinned = apply_overrides(sf, {"experiment.seed": 7, "simulation.seed": 8})
    assert scenario_variants(pinned) == first  # experiment.seed wins over simulation.seed


def test_every_variant_is_a_valid_scenario_with_python_numbers(sf):
    for variant in scenario_variants(sf):
        applied = apply_overrides(sf, variant)
        assert applied.network.mean_degree == variant["network.mean_degree"]
        assert isinstance(variant["network.mean_degree"], int)
        assert isinstance(variant["employees.per_firm"], int)
        assert isinstance(variant[WOM], float)
        steps = {c.reaction.advertising_step_up for c in applied.competitors}
        assert steps == {variant["competitors.*.reaction.advertising_step_up"]}


def test_latin_hypercube_puts_one_point_in_every_stratum(sf):
    n = 60
    u = unit_sample(n, 3, seed=5)
    for column in u.T:
        assert sorted(np.floor(column * n).astype(int)) == list(range(n))
    variants = scenario_variants(sf)
    wom = np.array([v[WOM] for v in variants])
    strata = np.floor((wom - 0.3) / 0.3 * n).astype(int)
    assert sorted(strata) == list(range(n))
    tie = np.array([v["network.weak_tie_share"] for v in variants])
    cdf = stats.triang(c=(0.3 - 0.2) / 0.6, loc=0.2, scale=0.6).cdf(tie)
    assert sorted(np.floor(cdf * n).astype(int)) == list(range(n))


def test_whole_number_ranges_and_choices_are_equally_likely(sf):
    variants = scenario_variants(sf)  # 60 markets: 6 whole numbers, 3 choices
    staff = np.array([v["employees.per_firm"] for v in variants])
    assert {int(k): int(c) for k, c in zip(*np.unique(staff, return_counts=True), strict=True)} == {
        k: 10 for k in range(10, 16)
    }
    degree = np.array([v["network.mean_degree"] for v in variants])
    assert {
        int(k): int(c) for k, c in zip(*np.unique(degree, return_counts=True), strict=True)
    } == {
        6: 20,
        10: 20,
        14: 20,
    }


def test_the_cut_normal_stays_in_bounds_and_has_its_mean():
    p = UncertainParameter(
        "market.value_sensitivity",
        UncertaintySpec.model_validate({"mean": 5.0, "sd": 1.0, "low": 4.0, "high": 7.0}),
        integer=False,
    )
    x = p.values(unit_sample(4000, 1, seed=3, sampling="random")[:, 0])
    assert x.min() >= 4.0 and x.max() <= 7.0
    law = stats.truncnorm(-1.0, 2.0, loc=5.0, scale=1.0)
    assert abs(x.mean() - law.mean()) < 4 * law.std() / math.sqrt(x.size)


def test_random_sampling_differs_from_lhs_and_is_seeded():
    a = unit_sample(20, 2, seed=1, sampling="random")
    assert np.array_equal(a, unit_sample(20, 2, seed=1, sampling="random"))
    assert not np.array_equal(a, unit_sample(20, 2, seed=1, sampling="lhs"))
    assert ((a >= 0) & (a < 1)).all()
    with pytest.raises(ValueError, match="unknown sampling"):
        unit_sample(5, 2, seed=1, sampling="sobol")


def test_ends_of_the_unit_interval_map_to_the_ends_of_the_range(sf):
    params = uncertain_parameters(sf)
    low, high = variants_from_unit(params, np.array([[0.0] * 6, [1.0] * 6]))
    assert low[WOM] == pytest.approx(0.3) and high[WOM] == pytest.approx(0.6)
    assert low["employees.per_firm"] == 10 and high["employees.per_firm"] == 15
    assert low["network.mean_degree"] == 6 and high["network.mean_degree"] == 14
    with pytest.raises(ValueError, match="expected 6 columns"):
        variants_from_unit(params, np.zeros((2, 5)))


@pytest.mark.parametrize(
    ("path", "unit"),
    [
        (WOM, "share, 0-1"),
        ("network.mean_degree", "count"),
        ("firm.price", "money"),
        ("competitors.*.budget_per_year", "money per year"),
        ("market.switching_cost_mean", "utility"),
        ("market.word_of_mouth.deterrence_half_life_weeks", "weeks"),
        ("market.value_sensitivity", "dimensionless"),
    ],
)
def test_parameter_labels_carry_a_unit(path, unit):
    assert parameter_label(path) == f"{path} ({unit})"
