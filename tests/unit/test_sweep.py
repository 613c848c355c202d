"""--param specifications, grids (the sweep design) and the sweep table (its analysis)."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.analysis.statistics import mean_ci, paired_difference_ci
from sim.analysis.sweep import summarize_sweep, write_sweep
from sim.config.scenario_file import parse_scenario
from sim.experiment.designs import (
    Design,
    SweepError,
    SweepParameter,
    check_parameters,
    grid_variants,
    parse_param,
    sweep_design,
    sweep_parameter,
)
from sim.report.design_figures import draw_sweep_figures

WOM = "market.word_of_mouth.p_referral_conversion"


@pytest.fixture(scope="module")
def sf():
    return parse_scenario("")


def test_a_parameter_gets_evenly_spaced_clean_values(sf):
    p = sweep_parameter(sf, f"{WOM}=0.2:0.6:5")
    assert p == SweepParameter(WOM, (0.2, 0.3, 0.4, 0.5, 0.6))
    assert sweep_parameter(sf, "network.mean_degree=4:12:5").values == (4, 6, 8, 10, 12)
    assert all(isinstance(v, int) for v in sweep_parameter(sf, "employees.per_firm=5:8:4").values)
    every = sweep_parameter(sf, "competitors.*.price=40:60:3")
    assert every.values == (40.0, 50.0, 60.0)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (WOM, "expected KEY.PATH=START:STOP:COUNT, e.g."),
        (f"{WOM}=0.2:0.6", "expected KEY.PATH=START:STOP:COUNT"),
        (f"{WOM}=low:0.6:5", "START 'low' is not a number"),
        (f"{WOM}=0.2:nan:5", "STOP must be a finite number"),
        (f"{WOM}=0.2:0.6:1", "COUNT must be a whole number of at least 2"),
        (f"{WOM}=0.2:0.6:2.5", "COUNT must be a whole number of at least 2"),
        (f"{WOM}=0.3:0.3:4", "START and STOP are equal"),
        (f"{WOM}=0.2:1.4:4", "= 1.4 is not accepted: got 1.4, expected a number from 0 to 1"),
        ("market.word_of_mouth.p_referal_conversion=0.2:0.6:5", "did you mean"),
        ("network.kind=1:2:2", "not a number"),
        ("network.mean_degree=4:6:5", "repeat whole numbers"),
        ("network.mean_degree=4.5:8:3", "must be whole numbers"),
    ],
)
def test_bad_specifications_say_what_is_wrong(sf, option, message):
    with pytest.raises(SweepError) as info:
        sweep_parameter(sf, option)
    assert message in str(info.value)
    assert str(info.value).startswith(f"--param {option}:")


def test_odd_degrees_of_a_small_world_are_refused(sf):
    with pytest.raises(SweepError, match="even mean_degree"):
        sweep_parameter(sf, "network.mean_degree=4:7:4")


def test_one_or_two_different_parameters(sf):
    a = sweep_parameter(sf, f"{WOM}=0.2:0.6:3")
    b = sweep_parameter(sf, "network.weak_tie_share=0.1:0.9:2")
    with pytest.raises(SweepError, match="one or two --param"):
        check_parameters([a, b, a])
    with pytest.raises(SweepError, match="given twice"):
        check_parameters([a, a])
    grid = grid_variants([a, b])
    assert len(grid) == 6
    assert grid[:3] == [
        {WOM: 0.2, "network.weak_tie_share": 0.1},
        {WOM: 0.2, "network.weak_tie_share": 0.9},
        {WOM: 0.4, "network.weak_tie_share": 0.1},
    ]


def test_parse_param_reads_the_three_parts():
    assert parse_param(" firm.price = 40 : 60 : 3 ") == ("firm.price", 40.0, 60.0, 3)


def test_summary_gives_each_policy_its_mean_interval_and_the_best():
    scenarios = pd.DataFrame({"scenario": [0, 1], "x": [1.0, 2.0]})
    rows = []
    data = {(0, "a"): [1.0, 2.0, 3.0], (0, "b"): [5.0, 5.0, 8.0], (1, "a"): [9.0, 9.0, 9.0]}
    data[(1, "b")] = [4.0, 6.0, 8.0]
    for (s, p), values in data.items():
        for k, v in enumerate(values):
            rows += [
                {"policy": p, "scenario": s, "replication": k, "firm": "focal", "y": v},
                {"policy": p, "scenario": s, "replication": k, "firm": "rival", "y": 100.0},
            ]
    table = summarize_sweep(
        pd.DataFrame(rows), scenarios, ["x"], focal="focal", outcome="y", policies=["a", "b"]
    )
    assert list(table.columns) == [
        "point", "x", "policy", "outcome", "replications", "mean", "sd", "ci_low", "ci_high",
        "diff", "diff_ci_low", "diff_ci_high", "is_best",
    ]  # fmt: skip
    row = table[(table["point"] == 0) & (table["policy"] == "b")].iloc[0]
    ci = mean_ci([5.0, 5.0, 8.0])
    assert (row["mean"], row["ci_low"], row["ci_high"]) == pytest.approx((ci.mean, ci.lo, ci.hi))
    diff = paired_difference_ci([5.0, 5.0, 8.0], [1.0, 2.0, 3.0])  # paired by replication
    assert (row["diff"], row["diff_ci_low"], row["diff_ci_high"]) == pytest.approx(
        (diff.mean_diff, diff.lo, diff.hi)
    )
    assert table[table["policy"] == "a"]["diff"].tolist() == [0.0, 0.0]
    assert table["is_best"].tolist() == [False, True, True, False]
    assert table["x"].tolist() == [1.0, 1.0, 2.0, 2.0]


def test_the_sweep_design_gives_the_grid_and_its_folder_gets_table_and_figure(sf, tmp_path):
    grid = sweep_design(sf, [f"{WOM}=0.2:0.6:3"])
    assert isinstance(grid, Design) and grid.kind == "sweep" and grid.paths == (WOM,)
    variants = grid.variants()
    assert variants == [{WOM: 0.2}, {WOM: 0.4}, {WOM: 0.6}]
    pd.DataFrame({"scenario": range(3), WOM: [v[WOM] for v in variants]}).to_csv(
        tmp_path / "scenarios.csv", index=False
    )
    rows = [
        {"policy": p, "scenario": s, "replication": k, "firm": "focal", "customers": s + k + b}
        for s in range(3)
        for k in range(2)
        for p, b in (("a", 0.0), ("b", 0.5))
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "outcomes.csv", index=False)
    table = write_sweep(
        tmp_path, grid.paths, focal="focal", outcome="customers", policies=["a", "b"]
    )
    assert (tmp_path / "sweep.csv").read_bytes() == table.to_csv(
        index=False, lineterminator="\n"
    ).encode()
    files = draw_sweep_figures(tmp_path, formats=("png",), dpi=40)
    assert [f.name for f in files] == ["sweep_lines.png"]
