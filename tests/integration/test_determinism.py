"""Same scenario + same seed = byte-identical tables, whatever the worker count.

Also the common-random-numbers design: replication k of every policy starts from the
same market on the same graph, and a different seed gives a different run.
"""

from __future__ import annotations

import pandas as pd
import pytest

from sim.config.scenario_file import load_scenario
from sim.experiment.runner import plan_runs, replication_seeds, run_experiment
from sim.experiment.runstore import RESULT_TABLES
from tests.integration.cli_helpers import CSV_TABLES, TINY_POLICIES, run_cli

NO_PICTURES = ("--set", "outputs.plots=false", "--set", "outputs.report=false", "--quiet")


@pytest.fixture(scope="module")
def two_worker_run(tiny_scenario, tmp_path_factory):
    out = tmp_path_factory.mktemp("determinism") / "w2"
    proc = run_cli("run", str(tiny_scenario), "--out", str(out), "--workers", "2", *NO_PICTURES)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.mark.parametrize("table", CSV_TABLES)
def test_tables_are_byte_identical_for_any_worker_count(tiny_run, two_worker_run, table):
    one_worker, _ = tiny_run
    assert (one_worker / table).read_bytes() == (two_worker_run / table).read_bytes()


def test_the_resolved_scenario_repeats_the_run_exactly(tiny_run, tmp_path):
    first, _ = tiny_run
    again = tmp_path / "again"
    proc = run_cli(
        "run", str(first / "scenario.resolved.toml"), "--out", str(again), "--workers", "1",
        *NO_PICTURES,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    for table in CSV_TABLES:
        assert (first / table).read_bytes() == (again / table).read_bytes(), table


def test_another_seed_gives_another_run(tiny_scenario, tiny_run, tmp_path):
    first, _ = tiny_run
    other = tmp_path / "other"
    proc = run_cli(
        "run", str(tiny_scenario), "--out", str(other), "--seed", "43", "--workers", "1",
        *NO_PICTURES,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (first / "timeseries.csv").read_bytes() != (other / "timeseries.csv").read_bytes()


def test_policies_share_each_replications_market_and_graph(tiny_run):
    out, _ = tiny_run
    nodes = pd.read_csv(out / "network_nodes.csv", keep_default_na=False, na_values=[""])
    start = nodes[nodes["moment"] == "start"]
    by_policy = [
        start[start["policy"] == p][["node", "firm", "satisfaction"]].reset_index(drop=True)
        for p in TINY_POLICIES
    ]
    pd.testing.assert_frame_equal(by_policy[0], by_policy[1])
    end = nodes[nodes["moment"] == "end"]
    assert (
        not end[end["policy"] == TINY_POLICIES[0]]["firm"]
        .reset_index(drop=True)
        .equals(end[end["policy"] == TINY_POLICIES[1]]["firm"].reset_index(drop=True))
    )


def test_seeds_come_from_coordinates(tiny_scenario):
    sf = load_scenario(tiny_scenario)
    runs = plan_runs(sf)
    seeds = replication_seeds(42, 2)
    # round-robin plan: replication k of every policy in turn, on the same seed
    assert [(r.replication, r.policy_index) for r in runs] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert [r.seed for r in runs] == [seeds[0], seeds[0], seeds[1], seeds[1]]
    assert seeds[0] != seeds[1]
    assert replication_seeds(42, 5)[:2] == seeds  # more replications keep the first ones


def test_in_process_and_pool_write_the_same_tables(tiny_scenario, tmp_path):
    sf = load_scenario(
        tiny_scenario,
        {"simulation.steps": 3, "market.n_customers": 400, "outputs.network_sample": 0},
    )
    ticks = {"runs": 0, "steps": 0}

    def progress(runs, steps):
        ticks["runs"] += runs
        ticks["steps"] += steps

    serial = run_experiment(sf, tmp_path / "serial", workers=1, tables=RESULT_TABLES)
    pooled = run_experiment(
        sf, tmp_path / "pooled", workers=2, progress=progress, tables=RESULT_TABLES
    )
    assert serial.complete and pooled.complete
    for table in ("timeseries.csv", "outcomes.csv", "cohorts.csv", "calibration.csv"):
        assert (tmp_path / "serial" / table).read_bytes() == (
            tmp_path / "pooled" / table
        ).read_bytes()
    # 4 runs of 3 steps, and the 4 hold-out runs of the baseline's first replication,
    # which make the calibration table's incremental rows (counted since they exist)
    assert ticks == {"runs": 4, "steps": (4 + 4) * 3}
