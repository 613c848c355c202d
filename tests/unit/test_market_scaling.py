"""A new market size scales budgets, fixed costs and staff with it (issue 10, item 4).

``--set market.n_customers=N`` (and a sweep or a sampled market size, which apply their
values the same way) multiplies every firm's and policy's budget, fixed cost and the staff
per firm by N / the file's size, unless ``market.scale_with_size`` is false; a key set
explicitly keeps the value given.
"""

from __future__ import annotations

import pytest

from sim.config.bundled import resolve_scenario_path
from sim.config.scaling import SCALED_PATHS, scale_with_market, scaled_staff
from sim.config.scenario_file import apply_overrides, load_scenario, parse_scenario

FLAGSHIP = resolve_scenario_path("retention_vs_acquisition")

TEXT = """
[market]
n_customers = 4000
[firm]
budget_per_year = 80000.0
fixed_cost_per_year = 10000.0
[[competitors]]
name = "rival"
budget_per_year = 60000.0
[competitors.policy]
budget_per_year = 50000.0
[employees]
per_firm = 6
[[policies]]
preset = "balanced"
[[policies]]
name = "own budget"
budget_per_year = 40000.0
"""


def test_a_bigger_market_gets_proportionally_more_budget_and_staff():
    base = load_scenario(FLAGSHIP)
    big = load_scenario(FLAGSHIP, {"market.n_customers": 2 * base.market.n_customers})
    assert big.firm.budget_per_year == pytest.approx(2 * base.firm.budget_per_year)
    for mine, theirs in zip(big.competitors, base.competitors, strict=True):
        assert mine.budget_per_year == pytest.approx(2 * theirs.budget_per_year)
    assert big.employees.per_firm == 2 * base.employees.per_firm
    # amounts per person, per employee or per unit stay as they are
    assert big.employees.wage_per_year == base.employees.wage_per_year
    assert big.market.levers == base.market.levers
    assert big.policies == base.policies


def test_every_scaled_key_of_a_file_scales_and_none_else():
    sf = parse_scenario(TEXT)
    half = apply_overrides(sf, {"market.n_customers": 2000})
    assert half.firm.budget_per_year == 40000.0
    assert half.firm.fixed_cost_per_year == 5000.0
    assert half.competitors[0].budget_per_year == 30000.0
    assert half.competitors[0].policy.budget_per_year == 25000.0
    assert half.employees.per_firm == 3
    assert half.policies[0].budget_per_year is None  # the firm's own budget: scaled there
    assert half.policies[1].budget_per_year == 20000.0
    assert half.competitors[0].fixed_cost_per_year == 0.0
    assert half.policies[1].training_per_employee_year == sf.policies[1].training_per_employee_year


def test_an_explicit_key_keeps_its_value():
    sf = parse_scenario(TEXT)
    out = apply_overrides(
        sf,
        {
            "market.n_customers": 8000,
            "firm.budget_per_year": 1234.0,
            "competitors.*.budget_per_year": 999.0,
            "employees.per_firm": 7,
        },
    )
    assert out.firm.budget_per_year == 1234.0
    assert out.competitors[0].budget_per_year == 999.0
    assert out.employees.per_firm == 7
    assert out.firm.fixed_cost_per_year == 20000.0  # not given: scaled
    assert out.policies[1].budget_per_year == 80000.0


def test_the_switch_keeps_absolute_values_from_the_file_or_the_command_line():
    sf = parse_scenario(TEXT)
    off = apply_overrides(sf, {"market.n_customers": 8000, "market.scale_with_size": False})
    assert off.market.n_customers == 8000 and off.market.scale_with_size is False
    assert off.firm.budget_per_year == 80000.0 and off.employees.per_firm == 6
    in_file = parse_scenario(
        TEXT.replace("n_customers = 4000", "n_customers = 4000\nscale_with_size = false")
    )
    kept = apply_overrides(in_file, {"market.n_customers": 8000})
    assert kept.firm.budget_per_year == 80000.0 and kept.employees.per_firm == 6
    # and the file's switch can be turned back on from the command line
    on = apply_overrides(in_file, {"market.n_customers": 8000, "market.scale_with_size": True})
    assert on.firm.budget_per_year == 160000.0


def test_overrides_without_a_new_size_change_nothing_else():
    sf = parse_scenario(TEXT)
    assert apply_overrides(sf, {"market.n_customers": 4000}) == sf
    out = apply_overrides(sf, {"simulation.steps": 10})
    assert out.firm == sf.firm and out.employees == sf.employees


def test_staff_round_and_never_vanish():
    assert scaled_staff(12, 0.25) == 3
    assert scaled_staff(12, 0.01) == 1  # a tiny market still has someone serving it
    assert scaled_staff(0, 10.0) == 0  # staff not modelled stays so
    sf = parse_scenario(TEXT)
    assert apply_overrides(sf, {"market.n_customers": 20}).employees.per_firm == 1


def test_the_scaling_rule_leaves_its_input_alone_and_lists_its_keys():
    data = {"firm": {"budget_per_year": 10.0}, "policies": [{"name": "a"}]}
    out = scale_with_market(data, 3.0)
    assert out["firm"]["budget_per_year"] == 30.0 and data["firm"]["budget_per_year"] == 10.0
    assert out["policies"] == [{"name": "a"}]  # no budget of its own: nothing to scale
    assert "employees.per_firm" in SCALED_PATHS
