"""Scenario files: loading, presets, overrides, the TOML writer and friendly errors.

Every broken file under tests/data/bad_*.toml must fail with a message that names the
file, the line where there is one, the dotted key path, the bad value and what was
expected, with a "did you mean" for misspelt keys and names.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from sim.config.introspect import item_model
from sim.config.parameters import UNCERTAIN_SECTIONS, resolve_parameter
from sim.config.presets import PRESETS
from sim.config.scenario_file import (
    ScenarioError,
    ScenarioFile,
    apply_overrides,
    dump_toml,
    load_scenario,
    parse_scenario,
    parse_set_option,
    read_header,
)
from sim.config.schema import Scenario

DATA = Path(__file__).resolve().parents[1] / "data"
SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

# file -> (line the message points at, or None; substrings the message must contain)
BAD_FILES: dict[str, tuple[int | None, list[str]]] = {
    "bad_syntax.toml": (4, ["TOML syntax error", "Expected '='"]),
    "bad_duplicate_key.toml": (4, ["TOML syntax error", "Cannot overwrite a value"]),
    "bad_not_utf8.toml": (None, ["not a text file in UTF-8"]),
    "bad_unknown_section.toml": (2, ["markt:", "unknown key 'markt'", "did you mean 'market'?"]),
    "bad_unknown_key_market.toml": (
        3,
        ["market.n_custommers:", "unknown key 'n_custommers' in [market]", "'n_customers'?"],
    ),
    "bad_unknown_key_nested.toml": (
        4,
        [
            "market.word_of_mouth.p_referal_conversion:",
            "did you mean 'p_referral_conversion'?",
            "Valid keys there: referrals_per_year",
        ],
    ),
    "bad_key_in_wrong_section.toml": (
        3,
        ["replications:", "unknown key 'replications'", "did you mean 'simulation.replications'?"],
    ),
    "bad_top_level_key_in_table.toml": (
        5,
        ["firm.competitors:", "'competitors' is a top-level key", "above the first [section]"],
    ),
    "bad_probability.toml": (
        3,
        [
            "market.word_of_mouth.p_referral_conversion:",
            "got 1.3",
            "expected a number from 0 to 1 (a probability or share)",
        ],
    ),
    "bad_negative_budget.toml": (
        4,
        ["firm.budget_per_year:", "got -50000.0", "expected a number >= 0 (not negative)"],
    ),
    "bad_policy_negative_budget.toml": (
        4,
        ["policies[0].budget_per_year:", "got -1.0", "expected a number >= 0"],
    ),
    "bad_acquisition_mix_sum.toml": (
        7,
        ["policies[1].acquisition_mix:", "must sum to 1, got 1.2", "advertising=0.7"],
    ),
    "bad_retention_mix_preset.toml": (
        5,
        [
            "policies[0].retention_mix:",
            "must sum to 1, got 1.4",
            "care_contacts=0.8",
            "come from preset 'retention_heavy'",
        ],
    ),
    "bad_unknown_preset.toml": (
        3,
        ["policies[0].preset:", 'got "retension_heavy"', "did you mean 'retention_heavy'?"],
    ),
    "bad_duplicate_policy_names.toml": (
        6,
        ["policies[1].name:", 'got "balanced"', "expected a name not used before"],
    ),
    "bad_no_policies.toml": (2, ["policies:", "expected at least one [[policies]] entry"]),
    "bad_policy_without_name.toml": (2, ["policies[0].name:", "every policy needs a name"]),
    "bad_policy_unknown_key.toml": (
        4,
        ["policies[0].acquisition_shares:", "did you mean 'acquisition_share'?"],
    ),
    "bad_price_change_range.toml": (
        4,
        ["policies[0].price_change:", "got -1.5", "expected a number from -0.9 to 5"],
    ),
    "bad_employee_range.toml": (
        4,
        ["policies[0].pay_level:", "got 3.0", "expected a number from 0.5 to 2"],
    ),
    "bad_steps_zero.toml": (
        3,
        ["simulation.steps:", "got 0", "a whole number from 1 to 1,000,000"],
    ),
    "bad_steps_text.toml": (3, ["simulation.steps:", 'got "156" (text)', "a whole number"]),
    "bad_steps_fraction.toml": (3, ["simulation.steps:", "got 52.5", "a whole number"]),
    "bad_seed_negative.toml": (3, ["simulation.seed:", "got -1", "whole number >= 0"]),
    "bad_step_length.toml": (
        3,
        ["simulation.step_length:", 'got "weak"', "'quarter'", "did you mean 'week'?"],
    ),
    "bad_engine.toml": (
        3,
        ["simulation.engine:", 'got "vectorised"', "did you mean 'vectorized'?"],
    ),
    "bad_network_kind.toml": (
        3,
        ["network.kind:", 'got "small_world"', "expected one of 'watts_strogatz'"],
    ),
    "bad_missing_graph_file.toml": (
        7,
        [
            "network.path:",
            "got 'no_such_graph.edges'",
            "expected an existing graph file",
            str(DATA / "no_such_graph.edges"),
        ],
    ),
    "bad_graph_without_path.toml": (2, ["network.path:", "needs a 'path'"]),
    "bad_graph_size_mismatch.toml": (
        3,
        ["market.n_customers:", "got 500, expected 12", "small_graph.edges' has 12 nodes"],
    ),
    "bad_odd_degree.toml": (4, ["network.mean_degree:", "even mean_degree", "got 7"]),
    "bad_too_many_competitors.toml": (
        5,
        ["competitors:", "got 3 competitors", "market.n_customers = 3", "cannot hold 4 firms"],
    ),
    "bad_initial_shares.toml": (
        3,
        [
            "firm.initial_share:",
            "sum to 1.2",
            "expected at most 1",
            "competitors[0].initial_share = 0.7",
        ],
    ),
    "bad_duplicate_firm_names.toml": (
        6,
        ["competitors[1].name:", 'got "rival"', "competitors[0].name is also"],
    ),
    "bad_competitors_as_table.toml": (
        2,
        ["competitors:", "(a table)", "expected an array of tables ([[competitors]] entries)"],
    ),
    "bad_competitor_unknown_key.toml": (
        7,
        ["competitors[1].prise:", "unknown key 'prise'", "did you mean 'price'?"],
    ),
    "bad_competitor_policy_mix.toml": (
        8,
        ["competitors[0].policy.retention_mix:", "must sum to 1, got 0.5"],
    ),
    "bad_bool_type.toml": (3, ["employees.enabled:", 'got "yes" (text)', "true or false"]),
    "bad_supplier_key.toml": (3, ["suppliers.per_frim:", "did you mean 'per_firm'?"]),
    "bad_outputs_format.toml": (
        3,
        ["outputs.formats[1]:", 'got "pdf"', "expected one of 'png' or 'svg'"],
    ),
    "bad_outputs_unknown_key.toml": (3, ["outputs.plot:", "did you mean 'plots'?"]),
    "bad_section_as_value.toml": (
        2,
        ["market:", "got 5000 (a whole number)", "expected a table ([market] section)"],
    ),
    "bad_empty_name.toml": (2, ["name:", 'got ""', "expected a non-empty text"]),
    "bad_ltr_range.toml": (
        3,
        ["market.satisfaction.promoter_min_ltr:", "got 11", "a whole number from 0 to 10"],
    ),
    "bad_n_customers_zero.toml": (
        3,
        ["market.n_customers:", "got 0", "a whole number from 1 to 2,147,483,647"],
    ),
    "bad_uncertainty_unknown_key.toml": (
        3,
        [
            "uncertainties.market.word_of_mouth.p_referal_conversion:",
            "did you mean 'p_referral_conversion'?",
        ],
    ),
    "bad_uncertainty_low_above_high.toml": (
        3,
        ["uncertainties.network.weak_tie_share:", "'low' (0.8) must be less than 'high' (0.2)"],
    ),
    "bad_uncertainty_out_of_range.toml": (
        4,
        [
            "uncertainties.market.word_of_mouth.p_referral_conversion:",
            "high = 1.2 is outside what",
            "expected a number from 0 to 1",
        ],
    ),
    "bad_uncertainty_not_numeric.toml": (
        3,
        ["uncertainties.network.kind:", "not a number", "only numeric parameters"],
    ),
    "bad_uncertainty_spec_key.toml": (
        3,
        ["uncertainties.market.value_sensitivity.lo:", "unknown key 'lo'", "did you mean 'low'?"],
    ),
    "bad_uncertainty_policy_lever.toml": (
        6,
        ["uncertainties.policies.0.acquisition_share:", "'policies' cannot be uncertain"],
    ),
    "bad_uncertainty_odd_degree.toml": (
        6,
        ["uncertainties.network.mean_degree:", "the range includes 7", "even mean_degree"],
    ),
    "bad_uncertainty_fraction_for_integer.toml": (
        3,
        ["uncertainties.employees.per_firm:", "got high = 12.5", "expected a whole number"],
    ),
    "bad_uncertainty_not_a_table.toml": (
        3,
        ["uncertainties.market.value_sensitivity:", "got 5.0 (a number)", "{ low = 0.3"],
    ),
    "bad_uncertainty_triangular_without_mode.toml": (
        3,
        ["uncertainties.market.churn.price_per_year:", "'mode' is missing"],
    ),
    "bad_uncertainty_wildcard_section.toml": (
        3,
        ["competitors is a list", "competitors.*.reaction.advertising_step_up (every entry)"],
    ),
    "bad_experiment_outcome.toml": (
        3,
        ["experiment.outcome:", '"cumulative_proft"', "did you mean 'cumulative_profit'?"],
    ),
    "bad_experiment_unknown_key.toml": (
        3,
        ["experiment.scenario:", "did you mean 'scenarios'?"],
    ),
    "bad_several_problems.toml": (
        None,
        [
            "3 problems",
            "bad_several_problems.toml:3: simulation.steps: got -3",
            'bad_several_problems.toml:6: market.n_customers: got "many" (text)',
            "bad_several_problems.toml:9: firm.pricee: unknown key 'pricee' in [firm]; "
            "did you mean 'price'?",
        ],
    ),
}


def test_there_are_at_least_thirty_distinct_bad_files():
    assert len(BAD_FILES) >= 30
    texts = {(DATA / name).read_bytes() for name in BAD_FILES}
    assert len(texts) == len(BAD_FILES)


def test_every_bad_file_has_a_checked_message():
    on_disk = {p.name for p in DATA.glob("bad_*.toml")}
    assert on_disk == set(BAD_FILES), "a bad_*.toml fixture without expectations (or vice versa)"


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_fails_with_a_friendly_message(name):
    line, expected = BAD_FILES[name]
    path = DATA / name
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert str(path) in message  # the file
    where = f"{path}:{line}:" if line else str(path)
    assert where in message, message  # the line
    for text in expected:  # key path, value, expectation, did you mean
        assert text in message, f"{text!r} not in:\n{message}"
    assert "Traceback" not in message
    assert "pydantic" not in message.lower()  # no library jargon or links
    assert "errors.pydantic.dev" not in message


def test_problems_are_listed_one_per_line():
    with pytest.raises(ScenarioError) as info:
        load_scenario(DATA / "bad_several_problems.toml")
    assert len(info.value.problems) == 3
    assert all(p.startswith(str(DATA / "bad_several_problems.toml")) for p in info.value.problems)


def test_missing_file_and_folder():
    with pytest.raises(ScenarioError, match="scenario file not found"):
        load_scenario(DATA / "nope.toml")
    with pytest.raises(ScenarioError, match="not a file"):
        load_scenario(DATA)


# --------------------------------------------------------------------------- valid files


def test_empty_file_is_the_default_scenario_with_the_balanced_policy():
    sf = parse_scenario("")
    assert sf.to_scenario() == Scenario.default()
    assert [p.name for p in sf.policies] == ["balanced"]
    assert sf.policies[0].to_policy() == PRESETS["balanced"]
    assert sf.outputs.plots and sf.outputs.formats == (
        "png",
    )  # SVG on request: it doubled drawing time


def test_preset_then_overrides_merge_key_by_key():
    sf = parse_scenario(
        """
        [[policies]]
        preset = "loyalty_program"
        name = "lp_cheaper"
        price_change = -0.05
        [policies.retention_mix]
        care_contacts = 0.3
        loyalty_program = 0.5
        """
    )
    p = sf.policies[0].to_policy()
    preset = PRESETS["loyalty_program"]
    assert p.name == "lp_cheaper"
    assert p.price_change == -0.05
    assert p.acquisition_share == preset.acquisition_share
    assert p.retention_mix.care_contacts == 0.3
    assert p.retention_mix.loyalty_program == 0.5
    assert p.retention_mix.complaint_handling == preset.retention_mix.complaint_handling


def test_policy_from_scratch_takes_schema_defaults():
    sf = parse_scenario('[[policies]]\nname = "mine"\nacquisition_share = 0.4\n')
    p = sf.policies[0].to_policy()
    assert p.acquisition_share == 0.4
    assert p.retention_mix == PRESETS["balanced"].retention_mix
    assert sf.engine_policies() == (p,)


def test_ints_are_accepted_for_numbers_but_not_text():
    sf = parse_scenario("[market]\nreference_price = 40\n")
    assert sf.market.reference_price == 40.0
    with pytest.raises(ScenarioError, match="expected a number"):
        parse_scenario('[market]\nreference_price = "40"\n')


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.stem)
def test_bundled_scenarios_load_and_say_what_they_answer(path):
    sf = load_scenario(path)
    assert len(sf.policies) >= 2  # each bundled scenario is a comparison
    header = read_header(path)
    assert header.splitlines()[0].endswith("?") or "?" in header.splitlines()[0]
    assert sf.name == path.stem


def test_graph_file_path_is_resolved_against_the_scenario_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "g.edges").write_text((DATA / "small_graph.edges").read_text())
    scenario = tmp_path / "sub" / "s.toml"
    scenario.write_text(
        '[market]\nn_customers = 12\n[network]\nkind = "edge_list"\npath = "g.edges"\n'
        "[[competitors]]\nname = 'r'\n"
    )
    sf = load_scenario(scenario)
    assert Path(sf.network.path) == (tmp_path / "sub" / "g.edges").resolve()
    assert Path(sf.network.path).is_absolute()


# --------------------------------------------------------------------------- overrides


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("market.n_customers=5000", ("market.n_customers", 5000)),
        (
            "market.word_of_mouth.p_referral_conversion=0.3",
            ("market.word_of_mouth.p_referral_conversion", 0.3),
        ),
        ("outputs.plots=false", ("outputs.plots", False)),
        ('name="my study"', ("name", "my study")),
        ("network.kind=erdos_renyi", ("network.kind", "erdos_renyi")),
        ('outputs.formats=["png"]', ("outputs.formats", ["png"])),
        (" simulation.seed = 7 ", ("simulation.seed", 7)),
    ],
)
def test_parse_set_option(option, expected):
    assert parse_set_option(option) == expected


@pytest.mark.parametrize("option", ["market.n_customers", "=5", "name=two words"])
def test_parse_set_option_errors(option):
    with pytest.raises(ScenarioError, match="--set"):
        parse_set_option(option)


def test_overrides_apply_and_revalidate():
    sf = parse_scenario(
        '[[policies]]\npreset = "balanced"\n[[policies]]\npreset = "retention_heavy"\n'
    )
    new = apply_overrides(
        sf,
        {
            "market.n_customers": 2000,
            "policies.1.price_change": -0.1,
            "policies[0].acquisition_share": 0.6,
            "competitors.0.price": 45.0,
        },
    )
    assert new.market.n_customers == 2000
    assert new.policies[1].price_change == -0.1
    assert new.policies[0].acquisition_share == 0.6
    assert new.competitors[0].price == 45.0
    assert sf.market.n_customers == 10_000  # the original is untouched (immutable)


@pytest.mark.parametrize(
    ("updates", "expected"),
    [
        ({"market.n_custmers": 5}, ["--set market.n_custmers=5", "did you mean 'n_customers'?"]),
        ({"simulation.steps": 0}, ["--set simulation.steps=0", "simulation.steps: got 0"]),
        ({"policies.3.price_change": 0.1}, ["policies has 1 entries", "no entry '3'"]),
        ({"market.n_customers.x": 1}, ["market.n_customers is a value, not a table"]),
        (
            {"market.word_of_mouth.p_referral_conversion": 1.5},
            ["p_referral_conversion: got 1.5, expected a number from 0 to 1"],
        ),
    ],
)
def test_override_errors_are_friendly(updates, expected):
    with pytest.raises(ScenarioError) as info:
        apply_overrides(parse_scenario(""), updates)
    for text in expected:
        assert text in str(info.value), str(info.value)


# --------------------------------------------------------------------------- writing TOML


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.stem)
def test_resolved_toml_round_trips_to_an_equal_scenario(path):
    sf = load_scenario(path)
    text = dump_toml(sf, "a header\nwith two lines")
    again = parse_scenario(text)
    assert again == sf
    assert dump_toml(again, "a header\nwith two lines") == text
    assert text.startswith("# a header\n# with two lines\n")


def test_round_trip_of_awkward_values():
    sf = parse_scenario(
        """
        name = "quotes \\" and \\\\ backslash, unicode é 中文"
        [market]
        outside_option_utility = -1e-7
        poaching_reference_spend_per_person = 1e12
        [[competitors]]
        name = "<script>alert(1)</script>"
        [[policies]]
        name = "tab\\there"
        budget_per_year = 0.0
        [[policies]]
        name = "$100 plan"
        """
    )
    again = parse_scenario(dump_toml(sf))
    assert again == sf
    assert again.policies[0].budget_per_year == 0.0
    assert again.policies[1].budget_per_year is None
    assert again.market.outside_option_utility == -1e-7


def test_written_toml_has_every_section():
    text = dump_toml(parse_scenario(""))
    for header in (
        "[simulation]",
        "[market]",
        "[market.word_of_mouth]",
        "[network]",
        "[firm]",
        "[[competitors]]",
        "[competitors.policy.acquisition_mix]",
        "[employees]",
        "[suppliers]",
        "[[policies]]",
        "[outputs]",
    ):
        assert f"\n{header}\n" in text, header


def test_no_competitors_round_trip():
    sf = parse_scenario("competitors = []\n[firm]\ninitial_share = 1.0\n")
    assert sf.competitors == ()
    assert "competitors = []" in dump_toml(sf)
    assert parse_scenario(dump_toml(sf)) == sf


def test_read_header(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("# Question?\n#\n# More text.\n\n# not header\nname = 'x'\n")
    assert read_header(path) == "Question?\n\nMore text."
    path.write_text("name = 'x'\n")
    assert read_header(path) == ""


def test_scenario_file_is_frozen():
    sf = parse_scenario("")
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises its own frozen error
        sf.name = "x"
    assert isinstance(sf, ScenarioFile)
    assert not math.isnan(sf.market.discount_rate_per_year)


def _numeric_parameters(model, prefix):
    for name, field in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        sub = item_model(field.annotation)
        if sub is not None:
            yield from _numeric_parameters(sub, f"{path}.*" if name == "competitors" else path)
            continue
        try:
            yield resolve_parameter(path)
        except ValueError:  # text, choices, true/false, or not a market section
            continue


def test_every_market_parameter_knows_its_unit_and_whether_it_counts():
    infos = list(_numeric_parameters(Scenario, ""))
    assert len(infos) > 100
    assert {i.path.split(".")[0] for i in infos} == set(UNCERTAIN_SECTIONS)
    assert all(i.unit for i in infos), [i.path for i in infos if not i.unit]
    units = {i.path: i.unit for i in infos}
    assert units["firm.price"] == "money"
    assert units["competitors.*.policy.budget_per_year"] == "money per year"
    assert units["market.satisfaction.promoter_min_ltr"] == "points, 0-10"
    assert units["network.mean_degree"] == "count"
    assert units["market.initial_penetration"] == "share, 0-1"
    counts = {i.path for i in infos if i.integer}
    assert "employees.per_firm" in counts and "firm.price" not in counts
    assert resolve_parameter("firm.price").label == "firm.price (money)"


def test_with_updates_and_overrides_read_key_paths_alike():
    by_engine = Scenario.default().with_updates({"competitors.1.price": 40.0})
    by_file = apply_overrides(parse_scenario(""), {"competitors[1].price": 40.0})
    assert by_engine.competitors[1].price == by_file.to_scenario().competitors[1].price == 40.0
    with pytest.raises(KeyError, match="competitors has 3 entries"):
        Scenario.default().with_updates({"competitors.5.price": 40.0})
    with pytest.raises(ScenarioError, match="competitors has 3 entries"):
        apply_overrides(parse_scenario(""), {"competitors.5.price": 40.0})
