"""The notebook entry point: a scenario built in Python in, DataFrames out.

``sim.run_scenario`` and ``marketsim run`` share one pipeline, so the same scenario and
seed must give the same tables byte for byte, whichever door it came through.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.cli import commands as cli
from sim.common.errors import UserError
from sim.config.scenario_file import dump_toml
from tests.conftest import small_scenario

POLICIES = ["balanced", "retention_heavy"]


@pytest.fixture(scope="module")
def notebook_run(tmp_path_factory):
    scenario = small_scenario(800, 10)
    res = sim.run_scenario(scenario, policies=POLICIES, replications=2, seed=5)
    return scenario, res


def test_run_scenario_returns_dataframes_for_every_policy_run_and_firm(notebook_run):
    scenario, res = notebook_run
    firms = [scenario.firm.name, *(c.name for c in scenario.competitors)]
    assert isinstance(res.outcomes, pd.DataFrame)
    assert len(res.outcomes) == len(POLICIES) * 2 * len(firms)
    assert list(pd.unique(res.outcomes["policy"])) == POLICIES
    assert set(res.outcomes["firm"]) == set(firms)
    assert res.timeseries["step"].max() == 10
    # the summary pairs each policy with the first by replication
    diff = res.summary.query("policy == 'retention_heavy' and outcome == 'customers'")
    assert set(diff["firm"]) == set(firms)
    focal = res.outcomes[res.outcomes["firm"] == scenario.firm.name]
    by_policy = focal.pivot(index="replication", columns="policy", values="customers")
    expected = (by_policy["retention_heavy"] - by_policy["balanced"]).mean()
    row = diff[diff["firm"] == scenario.firm.name].iloc[0]
    assert row["diff_mean"] == pytest.approx(expected)
    assert res.calibration is not None and not res.calibration.empty
    assert res.policies == POLICIES


def test_results_write_and_report_give_a_results_folder(notebook_run, tmp_path):
    _, res = notebook_run
    folder = res.write(tmp_path / "copy")
    for name in ("timeseries.csv", "outcomes.csv", "summary.csv", "manifest.json"):
        assert (folder / name).read_bytes() == (res.folder / name).read_bytes()
    assert not (folder / "runs").exists()
    report = res.report(tmp_path / "with_report")
    assert report is not None and report.is_file()
    assert "retention_heavy" in report.read_text(encoding="utf-8")
    again = sim.read_results(folder)
    pd.testing.assert_frame_equal(again.outcomes, res.outcomes)


def test_library_and_command_line_give_identical_tables(notebook_run, tmp_path):
    scenario, res = notebook_run
    sf = sim.ScenarioFile.model_validate(
        {**scenario.model_dump(), "policies": [{"preset": p} for p in POLICIES]}
    )
    path = tmp_path / "scenario.toml"
    path.write_text(dump_toml(sf), encoding="utf-8")
    out = tmp_path / "cli"
    argv = ["run", str(path), "--replications", "2", "--seed", "5", "--out", str(out), "--quiet"]
    assert cli.main(argv) == 0
    for name in ("timeseries.csv", "outcomes.csv", "summary.csv", "calibration.csv"):
        assert (out / name).read_bytes() == (res.folder / name).read_bytes(), name


def test_unknown_preset_is_a_user_error():
    with pytest.raises(UserError, match="unknown preset 'no_such'"):
        sim.run_scenario(small_scenario(200, 2), policies=["no_such"])


def test_temporary_results_folder_is_removed_with_the_results():
    res = sim.run_scenario(small_scenario(200, 2), replications=1)
    folder = Path(res.folder)
    assert folder.is_dir()
    res._cleanup()  # what garbage collection of `res` does
    assert not folder.exists()
