"""Stressing the assumptions behind a verdict (issue 12.4): ranges, the pair, the table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.analysis.stress import (
    ASSUMPTIONS,
    STRESS_COLUMNS,
    Assumption,
    StressPoint,
    leading_pair,
    stress_points,
    stress_sentences,
    stress_table,
    stress_variants,
)
from sim.config.parameters import resolve_parameter
from sim.config.schema import Scenario
from sim.report.verdict import recommendation_text, stress_clause

SCENARIO = Scenario().model_dump(mode="json")


def test_every_listed_assumption_is_a_numeric_market_key_or_skipped_with_a_note():
    points = stress_points(SCENARIO, {}, ASSUMPTIONS)
    assert [p.assumption for p in points] == list(ASSUMPTIONS)
    for p in points:
        try:
            resolve_parameter(p.assumption.path)
        except ValueError:
            assert not p.active and p.note.startswith("skipped")


def test_a_key_the_schema_does_not_have_is_skipped_with_a_note():
    [p] = stress_points(SCENARIO, {}, [Assumption("market.no_such_key", "nothing")])
    assert not p.active and "no_such_key" in p.note


def test_range_halves_and_raises_the_effect_by_half_within_the_bounds():
    data = {"market": {"word_of_mouth": {"p_referral_conversion": 0.8}, "levers": {}}}
    data["market"]["levers"]["member_frequency_multiplier"] = 1.2
    points = stress_points(
        data,
        {},
        [
            Assumption("market.word_of_mouth.p_referral_conversion", "conversion"),
            Assumption("market.levers.member_frequency_multiplier", "uplift", around=1.0),
        ],
    )
    assert (points[0].low, points[0].high) == (0.4, 1.0)  # 1.2 clipped to the bound 1
    assert (points[1].low, points[1].high) == pytest.approx((1.1, 1.3))


def test_the_scenarios_uncertainty_range_wins_and_no_effect_is_skipped():
    data = {"market": {"churn": {"base_per_year": 0.0, "neglect_per_year": 0.5}}}
    points = stress_points(
        data,
        {"market.churn.neglect_per_year": {"low": 0.1, "high": 2.0}},
        [
            Assumption("market.churn.base_per_year", "base"),
            Assumption("market.churn.neglect_per_year", "neglect"),
        ],
    )
    assert not points[0].active and "no effect" in points[0].note
    assert (points[1].low, points[1].high) == (0.1, 2.0)
    assert "uncertainties" in points[1].rule


def test_an_end_the_scenario_refuses_is_skipped():
    data = {"market": {"churn": {"base_per_year": 0.2}}}
    [p] = stress_points(
        data,
        {},
        [Assumption("market.churn.base_per_year", "base")],
        problem=lambda path, value: "too high" if value > 0.25 else None,
    )
    assert not p.active and "too high" in p.note


def test_leading_pair_is_best_vs_baseline_or_runner_up():
    t = pd.DataFrame(
        {"policy": ["a", "b", "c", "a"], "firm": ["f", "f", "f", "g"], "x": [1.0, 3, 2, 9]}
    )
    assert leading_pair(t, ["a", "b", "c"], "f", "x") == ("b", "a")
    assert leading_pair(t, ["b", "a", "c"], "f", "x") == ("b", "c")
    assert leading_pair(t, ["a"], "f", "x") is None


def _outcomes(diffs: list[np.ndarray]) -> pd.DataFrame:
    """Outcomes of two policies: the leader's minus the other's is diffs[s] in variant s."""
    rows = []
    for s, d in enumerate(diffs):
        for k, dk in enumerate(d):
            base = 1000.0 + 10 * k
            rows += [
                {"policy": "L", "scenario": s, "replication": k, "firm": "f",
                 "cumulative_profit": base + dk},
                {"policy": "O", "scenario": s, "replication": k, "firm": "f",
                 "cumulative_profit": base},
                {"policy": "L", "scenario": s, "replication": k, "firm": "rival",
                 "cumulative_profit": -5.0},
                {"policy": "O", "scenario": s, "replication": k, "firm": "rival",
                 "cumulative_profit": 5.0},
            ]  # fmt: skip
    return pd.DataFrame(rows)


def test_table_has_one_row_per_assumption_and_flags_a_reversal():
    points = [
        StressPoint(Assumption("a.steady", "steady"), 1.0, 0.5, 1.5, "rule"),
        StressPoint(Assumption("a.gone", "gone"), None, None, None, note="skipped: gone"),
        StressPoint(Assumption("a.flip", "flip"), 2.0, 1.0, 3.0, "rule"),
    ]
    assert stress_variants(points) == [{}, {"a.steady": 0.5}, {"a.steady": 1.5},
                                       {"a.flip": 1.0}, {"a.flip": 3.0}]  # fmt: skip
    noise = np.array([-1.0, 0.0, 1.0, 0.5])
    diffs = [
        100 + noise,  # nominal: L leads clearly
        90 + noise,  # steady low
        110 + noise,  # steady high
        120 + noise,  # flip low
        -50 + noise,  # flip high: the verdict reverses, clearly
    ]
    table = stress_table(_outcomes(diffs), points, leader="L", other="O", focal="f")
    assert list(table.columns) == list(STRESS_COLUMNS)
    assert list(table["assumption"]) == ["flip", "steady", "gone"]  # by swing, skipped last
    flip, steady, gone = (table.iloc[k] for k in range(3))
    assert flip["reverses_high"] and not flip["reverses_low"] and flip["reverses"]
    assert flip["clearly_reverses"]
    assert flip["diff_high"] == pytest.approx(-50 + noise.mean())
    assert flip["diff_high_ci_high"] < 0
    assert not steady["reverses"] and not steady["clearly_reverses"]
    assert steady["diff_nominal"] == pytest.approx(100 + noise.mean())
    assert pd.isna(gone["diff_low"]) and gone["note"] == "skipped: gone"
    words = stress_sentences(table)
    assert words[0].startswith("L beats O unless flip is near its high end (3)")
    assert "interval lies below zero" in words[0]
    assert "Not tested: a.gone" in words[-1]
    clause = stress_clause(table)
    assert "unless flip is near its high end" in clause and "clearly" in clause


def test_an_unclear_reversal_is_flagged_but_not_clearly():
    points = [StressPoint(Assumption("a.x", "x"), 1.0, 0.5, 1.5, "rule")]
    wide = np.array([-40.0, 30.0, -20.0, 10.0])  # mean -5, interval spans zero
    table = stress_table(
        _outcomes([100 + wide / 10, wide, 100 + wide / 10]), points, leader="L", other="O",
        focal="f",
    )  # fmt: skip
    row = table.iloc[0]
    assert row["reverses_low"] and not row["clearly_reverses"]
    assert "still includes no difference" in stress_sentences(table)[0]


def test_no_reversal_says_the_verdict_holds():
    points = [StressPoint(Assumption("a.x", "x"), 1.0, 0.5, 1.5, "rule")]
    table = stress_table(
        _outcomes([np.full(3, 5.0), np.full(3, 4.0), np.full(3, 6.0)]), points,
        leader="L", other="O", focal="f",
    )  # fmt: skip
    assert not table.iloc[0]["reverses"]
    assert stress_sentences(table)[0].startswith("No assumption moved across its range")
    assert "holds with each of the 1 assumptions" in stress_clause(table)


def test_recommendation_states_conditions_and_uncertainty():
    common = dict(leader="B", other="A", focal="f", label="profit", lead="+5",
                  interval="(95% interval +1 to +9)", agree=9, n=10)  # fmt: skip
    clear = recommendation_text(clear=True, **common)
    assert clear.startswith("Recommendation: prefer B to A") and "95% interval" in clear
    assert "provided the market behaves as this scenario assumes" in clear
    assert "no stress test was run" in clear
    unclear = recommendation_text(clear=False, **common)
    assert unclear.startswith("No clear recommendation") and "includes no difference" in unclear
    one = recommendation_text(clear=False, **{**common, "n": 1})
    assert one.startswith("No recommendation yet") and "one replication" in one
    robust = recommendation_text(clear=True, robust="B is best unless x < 0.2.", **common)
    assert "across the sampled markets (B is best unless x < 0.2)" in robust
