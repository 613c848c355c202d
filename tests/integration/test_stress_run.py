"""``marketsim run --stress`` end to end on a tiny market (issue 12.4)."""

from __future__ import annotations

import pandas as pd

from sim.analysis.stress import STRESS_COLUMNS, Assumption
from sim.pipeline import execute, plan_run
from sim.pipeline.stress import execute_stress, plan_stress
from tests.integration.cli_helpers import run_cli

TINY = {
    "market.n_customers": 300,
    "simulation.steps": 6,
    "simulation.replications": 2,
    "outputs.network_sample": 0,
}


def test_stress_writes_one_row_per_assumption_and_a_report_section(tmp_path):
    plan = plan_run(
        "retention_vs_acquisition",
        policies=["acquisition_heavy", "retention_heavy"],
        overrides=TINY,
        out=tmp_path / "res",
    )
    results = execute(plan, workers=1, plots=False)
    assumptions = [
        Assumption("market.word_of_mouth.p_referral_conversion", "referral conversion"),
        Assumption("market.no_such_assumption", "renamed away"),
    ]
    stress = plan_stress(plan, results, assumptions=assumptions)
    assert stress.runs == 2 * 3 * 2  # (nominal + 2 ends) x 2 policies x 2 replications
    lines = execute_stress(stress, workers=1, plots=True)
    table = pd.read_csv(tmp_path / "res" / "stress.csv")
    assert list(table.columns) == list(STRESS_COLUMNS)
    assert list(table["path"]) == [a.path for a in assumptions]
    tested, skipped = table.iloc[0], table.iloc[1]
    assert tested["low"] < tested["value"] < tested["high"]
    assert {tested["leader"], tested["other"]} == {"acquisition_heavy", "retention_heavy"}
    assert pd.notna(tested["diff_low"]) and pd.notna(tested["diff_high"])
    assert pd.isna(skipped["low"]) and "no_such_assumption" in skipped["note"]
    assert lines and "Not tested: market.no_such_assumption" in lines[-1]
    assert (tmp_path / "res" / "plots" / "stress_tornado.png").is_file()
    html = (tmp_path / "res" / "report.html").read_text(encoding="utf-8")
    assert "id='stress'" in html and "Which assumptions could reverse the verdict" in html
    assert 'id="recommendation-text"' in html


def test_stress_with_one_policy_is_refused_before_any_run(tmp_path):
    scenario = tmp_path / "one.toml"
    scenario.write_text(
        'name = "one"\n[simulation]\nsteps = 4\nreplications = 2\n'
        '[market]\nn_customers = 300\n[[policies]]\npreset = "balanced"\n',
        encoding="utf-8",
    )
    proc = run_cli("run", str(scenario), "--out", str(tmp_path / "out"), "--stress")
    assert proc.returncode == 2, proc.stderr
    assert "--stress" in proc.stderr and "second [[policies]]" in proc.stderr
    assert not (tmp_path / "out" / "outcomes.csv").exists()
