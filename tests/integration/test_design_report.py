"""report.html of sweep and sensitivity folders (issue 12.5): like a run's, from the files."""

from __future__ import annotations

import pandas as pd

from sim.cli import commands as cli
from sim.report.design_report import design_headline
from tests.integration.test_sweep_sensitivity import _write


def test_a_sweep_folder_gets_a_report_naming_the_swept_parameter(tmp_path, capsys):
    scenario = _write(tmp_path, 300, 4, 2)
    out = tmp_path / "sweep"
    param = "market.word_of_mouth.p_referral_conversion=0.2:0.6:2"
    args = ["sweep", str(scenario), "--param", param, "--out", str(out), "--workers", "1", "-q"]
    assert cli.main(args) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<h1>small: a sweep of market.word_of_mouth.p_referral_conversion" in html
    assert "data:image/png;base64," in html and "Across the 2 grid points" in html
    (out / "report.html").unlink()
    capsys.readouterr()
    assert cli.main(["report", str(out)]) == 0  # redrawn from the folder alone
    assert "report: " in capsys.readouterr().out
    assert (out / "report.html").is_file()


def test_sweep_headline_names_the_best_policy_along_the_grid():
    table = pd.DataFrame(
        {
            "point": [0, 0, 1, 1, 2, 2],
            "a.b": [0.1, 0.1, 0.2, 0.2, 0.3, 0.3],
            "policy": ["P", "Q"] * 3,
            "outcome": "cumulative_profit",
            "is_best": [True, False, True, False, False, True],
        }
    )
    lines = design_headline("sweep", table)
    assert "P at 2, Q at 1" in lines[0]
    assert lines[1].endswith("best: P for 0.1 to 0.2; Q for 0.3.")


def test_sensitivity_headline_ranks_parameters_above_the_noise_floor():
    table = pd.DataFrame(
        {
            "policy": ["P"] * 3,
            "compared_with": [None] * 3,
            "parameter": ["x.y", "x.z", "noise_floor"],
            "outcome": "cumulative_profit",
            "method": "sobol",
            "ST": [0.6, 0.2, 0.01],
        }
    )
    [line] = design_headline("sensitivity", table)
    assert line.startswith("P: cumulative profit depends most on x.y (total Sobol' index 0.6")
    assert "noise floor" in line
