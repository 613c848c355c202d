"""Every bundled scenario runs: briefly in the default test run, fully in the slow tier."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from sim.cli import commands as cli
from sim.config.scenario_file import load_scenario, read_header
from sim.experiment.sampling import scenario_variants

BUNDLED = cli.bundled_scenarios()
REQUIRED = {
    "retention_vs_acquisition",
    "leaky_bucket",
    "loyalty_program",
    "service_profit_chain",
    "supplier_partnership",
    "price_war",
    "bass_docking",
    "robust_policy",
}


def test_the_issue_s_scenarios_are_bundled():
    assert set(BUNDLED) >= REQUIRED


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_bundled_scenario_runs_a_few_steps(name, tmp_path):
    path = BUNDLED[name]
    assert read_header(path), f"{name} has no comment header saying what it answers"
    out = tmp_path / name
    pictures = [] if name == cli.FLAGSHIP else ["--set", "outputs.plots=false"]
    args = ["run", str(path), "--out", str(out), "--steps", "4", "--replications", "2"]
    assert cli.main([*args, "--workers", "1", "--quiet", *pictures]) == 0
    sf = load_scenario(path)
    ts = pd.read_csv(out / "timeseries.csv", keep_default_na=False, na_values=[""])
    markets = len(scenario_variants(sf))  # sampled from [uncertainties]; 1 without
    assert len(ts) == len(sf.policies) * markets * 2 * 4 * (1 + len(sf.competitors))
    assert (out / "summary.csv").is_file() and (out / "report.html").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_bundled_scenario_runs_in_under_a_minute_with_its_defaults(name, tmp_path):
    started = time.perf_counter()
    assert cli.main(["run", str(BUNDLED[name]), "--out", str(tmp_path / name), "--quiet"]) == 0
    elapsed = time.perf_counter() - started
    print(f"{name}: {elapsed:.1f} s")
    assert elapsed < 60
