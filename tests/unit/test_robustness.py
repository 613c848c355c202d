"""Regret, robustness tables, the parameter ranking, the headline and the files written.

Outcomes are built by hand, so every regret, win and percentile is known exactly.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.analysis.robustness import (
    headline,
    leading_pair,
    load_experiment_tables,
    rank_parameters,
    regret_table,
    robustness_table,
    write_robustness,
)
from sim.analysis.statistics import paired_difference_ci
from sim.config.scenario_file import parse_scenario
from sim.report.data import ResultsData
from sim.report.html import robustness_section
from sim.report.robustness_figures import draw_robustness_figures


def _write_robustness(folder, sf):
    """What the pipeline does for a run with [uncertainties]: tables, headline, figures."""
    policies = [p.name for p in sf.policies]
    _, robust = write_robustness(
        folder, focal=sf.firm.name, outcome=sf.experiment.outcome, policies=policies
    )
    draw_robustness_figures(folder, formats=sf.outputs.formats, dpi=sf.outputs.dpi)
    return headline(robust)


POLICIES = ["a", "b", "c"]


def _outcomes(values: dict[tuple[int, str], list[float]], focal: str = "focal") -> pd.DataFrame:
    """Rows of the focal firm (and a rival with other numbers) from {(scenario, policy): reps}."""
    rows = []
    for (scenario, policy), reps in values.items():
        for k, v in enumerate(reps):
            rows.append(
                {"policy": policy, "scenario": scenario, "replication": k, "firm": focal, "x": v}
            )
            rows.append(
                {
                    "policy": policy,
                    "scenario": scenario,
                    "replication": k,
                    "firm": "rival",
                    "x": 1e9,
                }
            )
    return pd.DataFrame(rows)


VALUES = {
    (0, "a"): [10.0, 12.0],  # mean 11
    (0, "b"): [14.0, 16.0],  # mean 15: best
    (0, "c"): [9.0, 9.0],  # mean 9
    (1, "a"): [20.0, 22.0],  # mean 21: best
    (1, "b"): [5.0, 7.0],  # mean 6
    (1, "c"): [19.0, 21.0],  # mean 20
    (2, "a"): [3.0, 3.0],  # mean 3: tie with b, a is earlier: best
    (2, "b"): [2.0, 4.0],  # mean 3
    (2, "c"): [1.0, 1.0],  # mean 1
}


@pytest.fixture
def regret() -> pd.DataFrame:
    return regret_table(_outcomes(VALUES), focal="focal", outcome="x", policies=POLICIES)


def test_regret_is_the_shortfall_from_the_best_mean_of_the_focal_firm(regret):
    r = regret.set_index(["scenario", "policy"])
    expected = {(0, "a"): 4, (0, "b"): 0, (0, "c"): 6, (1, "a"): 0, (1, "b"): 15, (1, "c"): 1}
    for key, value in expected.items():
        assert r.loc[key, "regret"] == pytest.approx(value)
    assert list(regret["policy"][:3]) == POLICIES  # file order within a scenario
    assert r.loc[(0, "c"), "regret_pct"] == pytest.approx(100 * 6 / 15)
    assert r.loc[(1, "b"), "best_policy"] == "a"
    assert (regret["replications"] == 2).all()


def test_a_tie_goes_to_the_earlier_policy_and_each_scenario_has_one_winner(regret):
    assert regret.groupby("scenario")["is_best"].sum().tolist() == [1, 1, 1]
    r = regret.set_index(["scenario", "policy"])
    assert r.loc[(2, "a"), "is_best"] and not r.loc[(2, "b"), "is_best"]
    assert r.loc[(2, "b"), "regret"] == 0.0


def test_the_regret_interval_is_paired_by_replication(regret):
    r = regret.set_index(["scenario", "policy"])
    ci = paired_difference_ci([14.0, 16.0], [10.0, 12.0])
    assert r.loc[(0, "a"), "regret_ci_low"] == pytest.approx(ci.lo)
    assert r.loc[(0, "a"), "regret_ci_high"] == pytest.approx(ci.hi)
    assert r.loc[(0, "b"), "regret_ci_low"] == 0.0  # the best policy itself
    # with 2 replications a shortfall of 5 then 7 is not yet clear (t with 1 df)
    assert r.loc[(0, "c"), "regret_ci_low"] < 0 < r.loc[(0, "c"), "regret_ci_high"]


def test_a_consistent_shortfall_is_clearly_worse():
    values = {(0, "a"): [10.0, 11.0, 12.0, 13.0], (0, "b"): [5.0, 5.0, 5.0, 7.0]}
    regret = regret_table(_outcomes(values), focal="focal", outcome="x", policies=["a", "b"])
    assert regret.iloc[1]["regret_ci_low"] > 0
    assert robustness_table(regret, ["a", "b"])["clearly_worse"].tolist() == [0, 1]


def test_missing_values_are_left_out_not_counted_as_zero():
    values = {**VALUES, (1, "b"): [math.nan, math.nan]}
    regret = regret_table(_outcomes(values), focal="focal", outcome="x", policies=POLICIES)
    row = regret[(regret["scenario"] == 1) & (regret["policy"] == "b")].iloc[0]
    assert math.isnan(row["regret"]) and not row["is_best"]
    robust = robustness_table(regret, POLICIES).set_index("policy")
    assert robust.loc["b", "scenarios"] == 2


def test_robustness_table_counts_wins_and_summarises_regret(regret):
    robust = robustness_table(regret, POLICIES).set_index("policy")
    assert robust["wins"].to_dict() == {"a": 2, "b": 1, "c": 0}
    assert robust.loc["a", "win_share"] == pytest.approx(2 / 3)
    assert robust.loc["b", "max_regret"] == pytest.approx(15)
    assert robust.loc["b", "worst_scenario"] == 1
    assert robust.loc["c", "mean_regret"] == pytest.approx((6 + 1 + 2) / 3)
    assert robust.loc["c", "p90_regret"] == pytest.approx(np.quantile([6, 1, 2], 0.9))
    assert robust.loc["a", "mean_outcome"] == pytest.approx((11 + 21 + 3) / 3)
    # worst cases: a 4, b 15, c 6 -> a is the minimax-regret choice
    assert robust["least_worst_regret"].to_dict() == {"a": True, "b": False, "c": False}
    assert leading_pair(robust.reset_index()) == ("a", "b")


def test_a_parameter_that_drives_the_gap_ranks_first():
    rng = np.random.default_rng(4)
    n = 40
    driver = rng.uniform(0, 1, n)
    scenarios = pd.DataFrame(
        {"scenario": range(n), "noise": rng.uniform(0, 1, n), "drives": driver, "fixed": 1.0}
    )
    means = pd.concat(
        [
            pd.DataFrame({"scenario": range(n), "policy": "a", "mean": 10.0}),
            pd.DataFrame({"scenario": range(n), "policy": "b", "mean": 5.0 + 10.0 * driver}),
        ]
    )
    ranked = rank_parameters(means, scenarios, ["noise", "fixed", "drives"], ("a", "b"))
    assert ranked == ["drives", "noise", "fixed"]


def test_headline_names_the_winner_its_share_and_worst_regret(regret):
    robust = robustness_table(regret, POLICIES)
    lines = headline(robust, "profit")
    assert lines[0].startswith("a wins in 67% of 3 sampled markets (2 of 3); its worst regret is 4")
    assert "(27% of the best policy's profit in that market)" in lines[0]
    assert "a also has the smallest worst-case regret" in lines[1]
    assert any(line.startswith("b: wins in 1 of 3") for line in lines)


def test_headline_when_one_policy_wins_everywhere():
    values = {
        (s, p): [v + (5 if p == "b" else 0)] * 2 for s in range(4) for p, v in [("a", 1), ("b", 1)]
    }
    robust = robustness_table(
        regret_table(_outcomes(values), focal="focal", outcome="x", policies=["a", "b"]), ["a", "b"]
    )
    assert headline(robust)[0] == (
        "b wins in all 4 sampled markets: no other policy did better in any of them."
    )


SCENARIO = """
[firm]
name = "focal"

[outputs]
formats = ["png"]
dpi = 50

[[policies]]
name = "a"

[[policies]]
name = "<b>b</b>"

[uncertainties]
"market.word_of_mouth.p_referral_conversion" = { low = 0.2, high = 0.6 }
"network.mean_degree" = { choices = [6, 10] }

[experiment]
outcome = "customers"
"""


def test_write_robustness_writes_tables_and_figures_from_the_folder(tmp_path):
    sf = parse_scenario(SCENARIO)
    rng = np.random.default_rng(2)
    n = 12
    conv = rng.uniform(0.2, 0.6, n)
    pd.DataFrame(
        {
            "scenario": range(n),
            "market.word_of_mouth.p_referral_conversion": conv,
            "network.mean_degree": rng.choice([6, 10], n),
        }
    ).to_csv(tmp_path / "scenarios.csv", index=False)
    rows = []
    for s in range(n):
        for k in range(2):
            for policy, value in (("a", 100.0), ("<b>b</b>", 60.0 + 100.0 * conv[s])):
                for firm in ("focal", "rival_1"):
                    rows.append(
                        {
                            "policy": policy,
                            "scenario": s,
                            "replication": k,
                            "seed": k,
                            "firm": firm,
                            "customers": value + k,
                            "cumulative_profit": 0.0,
                        }
                    )
    pd.DataFrame(rows).to_csv(tmp_path / "outcomes.csv", index=False)
    lines = _write_robustness(tmp_path, sf)
    assert lines[0].startswith(("a wins", "<b>b</b> wins")) and "customers at the end" in lines[0]
    regret = pd.read_csv(tmp_path / "regret.csv", keep_default_na=False, na_values=[""])
    robust = pd.read_csv(tmp_path / "robustness.csv", keep_default_na=False, na_values=[""])
    assert len(regret) == 2 * n and set(regret["outcome"]) == {"customers"}
    assert robust["policy"].tolist() == ["a", "<b>b</b>"]
    b_wins = int((60.0 + 100.0 * conv > 100.0).sum())
    assert robust["wins"].tolist() == [n - b_wins, b_wins]
    stems = ("robustness_regret", "robustness_outcome_by_parameter", "robustness_winner_map")
    for stem in (*stems, "robustness_discovery"):
        png = (tmp_path / "plots" / f"{stem}.png").read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 2000
    data = ResultsData(folder=tmp_path, timeseries=pd.DataFrame(), summary=pd.DataFrame())
    html = robustness_section(data)
    assert "Robustness" in html and "&lt;b&gt;b&lt;/b&gt;" in html and "<b>b</b>" not in html
    assert html.count("data:image/png;base64,") == 4
    box = pd.read_csv(tmp_path / "discovery.csv")  # where the leading policy loses (PRIM)
    assert box["parameter"].tolist() == ["market.word_of_mouth.p_referral_conversion"]
    assert "is best unless market.word_of_mouth.p_referral_conversion" in html


def test_no_robustness_table_no_section(tmp_path):
    data = ResultsData(folder=tmp_path, timeseries=pd.DataFrame(), summary=pd.DataFrame())
    assert robustness_section(data) == ""


def test_a_folder_without_scenarios_is_one_scenario(tmp_path):
    pd.DataFrame({"policy": ["a"], "replication": [0], "firm": ["focal"], "customers": [5]}).to_csv(
        tmp_path / "outcomes.csv", index=False
    )
    outcomes, scenarios = load_experiment_tables(tmp_path)
    assert outcomes["scenario"].tolist() == [0]
    assert scenarios["scenario"].tolist() == [0]


@pytest.mark.parametrize("parameters", [0, 1])
def test_figures_with_one_or_no_uncertain_parameter(tmp_path, parameters):
    """One parameter: the winner map plots the winner's lead; none: only the regret figure."""
    sf = parse_scenario(
        '[outputs]\nformats = ["png"]\ndpi = 50\n[[policies]]\nname = "a"\n'
        '[[policies]]\nname = "b"\n'
    )
    n = 6 if parameters else 1
    if parameters:
        pd.DataFrame({"scenario": range(n), "firm.price": np.linspace(40, 60, n)}).to_csv(
            tmp_path / "scenarios.csv", index=False
        )
    rows = [
        {"policy": p, "scenario": s, "replication": k, "firm": "focal", "cumulative_profit": v}
        for s in range(n)
        for k in range(2)
        for p, v in (("a", 10.0 + s + k), ("b", 12.0 - s + k))
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "outcomes.csv", index=False)
    _write_robustness(tmp_path, sf)
    drawn = sorted(p.stem for p in (tmp_path / "plots").glob("*.png"))
    if parameters:
        assert drawn == [
            "robustness_outcome_by_parameter",
            "robustness_regret",
            "robustness_winner_map",
        ]
    else:
        assert drawn == ["robustness_regret"]
