"""Every bundled scenario runs: briefly in the default test run, fully in the slow tier.

How long a full run takes is measured by ``benchmarks/bundled.py``, not asserted here: a
wall-clock limit fails on a loaded machine without anything being wrong.
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from sim.cli import commands as cli
from sim.config.bundled import FLAGSHIP, bundled_scenarios
from sim.config.scenario_file import load_scenario, read_header
from sim.experiment.sampling import scenario_variants

BUNDLED = bundled_scenarios()
REQUIRED = {
    "retention_vs_acquisition",
    "leaky_bucket",
    "loyalty_program",
    "service_profit_chain",
    "supplier_partnership",
    "price_war",
    "bass_docking",
    "robust_policy",
    "market_maturity",
}


def test_the_issue_s_scenarios_are_bundled():
    assert set(BUNDLED) >= REQUIRED


def assert_complete_results(out, name):
    """The folder of a finished run: every run done, a summary row for every policy."""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["scenario"] == name
    assert manifest["runs_done"] == manifest["runs"] > 0
    assert len(manifest["policies"]) == len(load_scenario(BUNDLED[name]).policies)
    summary = pd.read_csv(out / "summary.csv", keep_default_na=False, na_values=[""])
    assert set(summary["policy"]) == set(manifest["policies"])
    profit = summary[summary["outcome"] == "cumulative_profit"]
    assert set(profit["policy"]) == set(manifest["policies"])
    assert all(math.isfinite(x) for x in profit["mean"])
    assert (out / "report.html").is_file()
    return manifest


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_bundled_scenario_runs_a_few_steps(name, tmp_path):
    path = BUNDLED[name]
    assert read_header(path), f"{name} has no comment header saying what it answers"
    out = tmp_path / name
    pictures = [] if name == FLAGSHIP else ["--set", "outputs.plots=false"]
    args = ["run", str(path), "--out", str(out), "--steps", "4", "--replications", "2"]
    assert cli.main([*args, "--workers", "1", "--quiet", *pictures]) == 0
    sf = load_scenario(path)
    ts = pd.read_csv(out / "timeseries.csv", keep_default_na=False, na_values=[""])
    markets = len(scenario_variants(sf))  # sampled from [uncertainties]; 1 without
    assert len(ts) == len(sf.policies) * markets * 2 * 4 * (1 + len(sf.competitors))
    assert_complete_results(out, name)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_bundled_scenario_runs_with_its_defaults(name, tmp_path):
    out = tmp_path / name
    assert cli.main(["run", str(BUNDLED[name]), "--out", str(out), "--quiet"]) == 0
    manifest = assert_complete_results(out, name)
    sf = load_scenario(BUNDLED[name])
    assert manifest["steps"] == sf.simulation.steps
