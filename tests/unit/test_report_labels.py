"""Figures name parameters in the schema's words (issue 12.5): no raw dotted key on a figure.

Every experiment figure that shows a parameter (sweep lines and heatmaps, the sensitivity
tornado, the robustness figures) is drawn from small made-up tables and each of its texts
(axis labels, titles, the suptitle, tick labels, colour-bar labels) is read back.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from sim.analysis.robustness import regret_table, robustness_table
from sim.config.parameters import resolve_parameter
from sim.report.design_figures import fig_sensitivity, fig_sweep_heatmaps, fig_sweep_lines
from sim.report.labels import NOISE_FLOOR, parameter_axis, parameter_name
from sim.report.robustness_figures import robustness_figures

DOTTED_KEY = re.compile(r"\b(market|network|firm|competitors|employees|suppliers)\.\S")
"""A scenario key path as a file writes it (``market.churn.base_per_year``)."""

P1 = "market.word_of_mouth.p_referral_conversion"
P2 = "competitors.*.price"
P3 = "employees.wage_per_year"
POLICIES = ["acquisition_heavy", "retention_heavy"]


def texts(fig: Figure) -> list[str]:
    """Every visible text of ``fig`` that is not empty."""
    fig.canvas.draw()  # tick labels get their text when the figure is drawn
    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


def assert_no_dotted_key(fig: Figure, parameters: list[str]) -> list[str]:
    shown = texts(fig)
    for text in shown:
        assert not DOTTED_KEY.search(text), f"raw key path on the figure: {text!r}"
    for p in parameters:
        assert any(parameter_name(p) in " ".join(t.split()) for t in shown), p
    return shown


@pytest.mark.parametrize("path", [P1, P2, P3, "competitors.1.budget_per_year"])
def test_parameter_names_come_from_the_schema_description(path):
    name = parameter_name(path)
    assert "." not in name and "_" not in name
    first_words = resolve_parameter(path).description.split("(")[0].split()[:3]
    assert " ".join(first_words).lower() in name.lower()
    assert parameter_axis(path).endswith(f"({resolve_parameter(path).unit})")
    wrapped = parameter_axis(path, wrap=True)
    assert max(len(line) for line in wrapped.splitlines()) <= 34


def test_names_say_whose_parameter_it_is():
    assert parameter_name("firm.price").startswith("focal firm: ")
    assert parameter_name("competitors.*.price").startswith("every competitor: ")
    assert parameter_name("competitors.0.price").startswith("competitor 1: ")
    assert parameter_name("firm.price") != parameter_name("competitors.*.price")
    assert parameter_name("employees.per_firm") == "employees per firm"  # no doubled word
    assert parameter_axis(NOISE_FLOOR) == "noise floor (no effect)"


def test_sweep_line_figure_names_the_swept_parameter():
    grid = np.linspace(0.1, 0.5, 5)
    sweep = pd.DataFrame(
        [
            {P1: x, "policy": p, "mean": 1000.0 * x + k, "ci_low": 900.0 * x, "ci_high": 1100 * x}
            for x in grid
            for k, p in enumerate(POLICIES)
        ]
    )
    fig = fig_sweep_lines(sweep, P1, POLICIES, "cumulative_profit")
    assert_no_dotted_key(fig, [P1])
    ax = fig.axes[0]
    assert parameter_name(P1) in " ".join(ax.get_title(loc="left").split())
    assert ax.get_xlabel().replace("\n", " ") == parameter_axis(P1)


def test_sweep_heatmaps_name_both_parameters():
    rows = [
        {P1: x, P2: y, "policy": p, "mean": x * y * (k + 1)}
        for x in (0.1, 0.3, 0.5)
        for y in (4.0, 5.0, 6.0)
        for k, p in enumerate(POLICIES)
    ]
    fig = fig_sweep_heatmaps(pd.DataFrame(rows), (P1, P2), POLICIES, "cumulative_profit")
    shown = assert_no_dotted_key(fig, [P1, P2])
    suptitle = " ".join(fig.get_suptitle().split())
    assert parameter_name(P1) in suptitle and parameter_name(P2) in suptitle
    assert any("(money)" in t for t in shown)  # the price's unit is on its axis


@pytest.mark.parametrize("method", ["sobol", "morris"])
def test_sensitivity_tornado_names_parameters_in_words(method):
    params = [P1, P2, P3, NOISE_FLOOR]
    rows = []
    for policy in POLICIES:
        for k, p in enumerate(params):
            rows.append(
                {
                    "method": method,
                    "policy": policy,
                    "compared_with": None,
                    "parameter": p,
                    "ST": 0.1 * k,
                    "ST_conf": 0.02,
                    "S1": 0.05 * k,
                    "S1_conf": 0.02,
                    "mu_star": 10.0 * k,
                    "mu_star_conf": 2.0,
                    "sigma": 5.0,
                }
            )
    fig = fig_sensitivity(pd.DataFrame(rows), "cumulative_profit")
    shown = assert_no_dotted_key(fig, [P1, P2, P3])
    assert any(t.startswith("noise floor") for t in shown)


def test_robustness_figures_name_the_uncertain_parameters():
    rng = np.random.default_rng(3)
    n = 24
    scenarios = pd.DataFrame(
        {"scenario": range(n), P1: rng.uniform(0.1, 0.5, n), P3: rng.uniform(2e4, 4e4, n)}
    )
    rows = []
    for s in range(n):
        edge = scenarios.loc[s, P1] - 0.3  # retention_heavy wins where referrals convert well
        for r in range(3):
            for k, p in enumerate(POLICIES):
                value = 1e5 + (k * 2 - 1) * edge * 1e5 + rng.normal(0, 1e3)
                rows.append(
                    {"scenario": s, "policy": p, "firm": "focal", "replication": r, "cp": value}
                )
    outcomes = pd.DataFrame(rows)
    regret = regret_table(outcomes, focal="focal", outcome="cp", policies=POLICIES)
    robust = robustness_table(regret, POLICIES)
    box = pd.DataFrame(
        {
            "policy": "retention_heavy",
            "parameter": [P1, P3],
            "low": [0.1, 2e4],
            "high": [0.3, 4e4],
            "restricted": ["high", "both"],
        }
    )
    figures = robustness_figures(
        regret, robust, scenarios, policies=POLICIES, outcome="cp", box=box
    )
    assert set(figures) == {
        "robustness_regret",
        "robustness_outcome_by_parameter",
        "robustness_winner_map",
        "robustness_discovery",
    }
    for stem, fig in figures.items():
        assert_no_dotted_key(fig, [] if stem == "robustness_regret" else [P1, P3])
