"""Running experiments locally: the plan, common random numbers, the runs/ folder, memory.

Results must not depend on the worker count or the order runs finish in; every policy of
one (scenario, replication) must share its seed; every run must be in the index; and the
parent must not hold finished runs' tables in memory.
"""

from __future__ import annotations

import gc
import json
import tracemalloc
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from sim.analysis.summary import write_summary
from sim.config.scenario_file import apply_overrides, load_scenario, parse_scenario
from sim.experiment.executors import LocalPool, Task, _Pending
from sim.experiment.provenance import RunFacts, write_provenance
from sim.experiment.runner import (
    load_outcomes,
    plan_runs,
    replication_seeds,
    run_experiment,
    run_seed,
)
from sim.experiment.runstore import RESULT_TABLES, RunStore, decode_run
from sim.model.calibration import INCREMENTAL_TARGETS
from sim.report import render_report
from tests.integration.faults import FaultyRun

VARIANTS = [{}, {"market.value_sensitivity": 2.5}, {"network.rewire_p": 0.3}]
TABLES = [f"{t}.csv" for t in RESULT_TABLES] + ["scenarios.csv"]


@pytest.fixture(scope="module")
def small(tiny_scenario):
    """The tiny scenario cut to 4 weeks, 2 replications, 300 people, logging purchases."""
    return load_scenario(
        tiny_scenario,
        {
            "simulation.steps": 4,
            "simulation.replications": 2,
            "market.n_customers": 300,
            "outputs.network_sample": 40,
            "outputs.transactions": True,  # the transaction log is one of the tables compared
        },
    )


@pytest.fixture(scope="module")
def serial(small, tmp_path_factory):
    """The reference: three scenario variants run in this process."""
    out = tmp_path_factory.mktemp("serial")
    index = run_experiment(small, out, variants=VARIANTS, workers=1, tables=RESULT_TABLES)
    return out, index


# --------------------------------------------------------------------------- the plan


def test_plan_is_round_robin_and_seeds_come_from_coordinates(small):
    runs = plan_runs(small, VARIANTS)
    assert len(runs) == 2 * 3 * 2
    assert [r.index for r in runs] == list(range(12))
    coords = [(r.replication, r.scenario_index, r.policy_index) for r in runs]
    assert coords == sorted(coords)  # replication, then scenario, then policy
    for n in range(1, len(runs) + 1):  # every prefix is balanced across policies
        counts = Counter(r.policy_index for r in runs[:n])
        assert max(counts.values()) - min(counts.values(), default=0) <= 1
    by_cell: dict[tuple[int, int], set[int]] = {}
    for r in runs:
        by_cell.setdefault((r.scenario_index, r.replication), set()).add(r.seed)
        assert r.seed == run_seed(small.simulation.seed, r.scenario_index, r.replication)
    assert all(len(seeds) == 1 for seeds in by_cell.values())  # common random numbers
    assert len({s.pop() for s in by_cell.values()}) == 6  # distinct across cells
    # scenario 0 keeps the seeds experiments without variants always had
    assert [run_seed(42, 0, k) for k in range(3)] == replication_seeds(42, 3)
    children = np.random.SeedSequence(42).spawn(3)
    assert replication_seeds(42, 3) == [
        int(c.generate_state(1, np.uint64)[0] >> 1) for c in children
    ]


def test_default_plan_has_one_scenario(small):
    runs = plan_runs(small)
    assert {r.scenario_index for r in runs} == {0}
    assert len(runs) == 2 * 2


# --------------------------------------------------------------------------- determinism


@pytest.mark.parametrize("workers", [2, 3])
def test_tables_are_identical_for_any_worker_count_and_finishing_order(
    small, serial, workers, tmp_path, monkeypatch
):
    reference, _ = serial
    # run 0 finishes last: the tables must still come out in coordinate order
    index = run_experiment(
        small,
        tmp_path,
        variants=VARIANTS,
        workers=workers,
        tables=RESULT_TABLES,
        task=FaultyRun.of("hang:0:1.5"),
    )
    assert index.complete
    for name in TABLES:
        assert (tmp_path / name).read_bytes() == (reference / name).read_bytes(), name


def test_run_files_index_and_tables(small, serial):
    out, _ = serial
    data = json.loads((out / "runs" / "index.json").read_text())
    assert data["counts"] == {"done": 12, "failed": 0, "not_started": 0}
    assert [r["index"] for r in data["runs"]] == list(range(12))  # plan order
    for r in data["runs"]:
        assert r["status"] == "done" and r["error"] is None and r["attempts"] == 1
        meta, tables = decode_run(out / "runs" / r["file"])
        assert (meta["policy"], meta["scenario"], meta["replication"], meta["seed"]) == (
            r["policy"], r["scenario"], r["replication"], r["seed"],
        )  # fmt: skip
        assert {"outcomes", "timeseries", "cohorts", "calibration"} <= set(tables)
    outcomes = load_outcomes(out)
    assert list(outcomes.columns[:5]) == ["policy", "scenario", "replication", "seed", "firm"]
    assert len(outcomes) == 12 * 3  # runs x firms
    keys = outcomes[["policy", "scenario", "replication"]].drop_duplicates()
    assert keys.to_numpy().tolist() == [
        [p, s, k] for p in [x.name for x in small.policies] for s in range(3) for k in range(2)
    ]  # coordinate order
    scenarios = pd.read_csv(out / "scenarios.csv")
    assert list(scenarios.columns) == ["scenario", "market.value_sensitivity", "network.rewire_p"]
    assert scenarios["market.value_sensitivity"].tolist()[1] == 2.5
    assert np.isnan(scenarios["market.value_sensitivity"].tolist()[0])  # not varied there
    # the incremental (hold-out) rows: the baseline policy, scenario 0, replication 0 only
    cal = pd.read_csv(out / "calibration.csv")
    incremental = cal[cal["name"].isin([t.name for t in INCREMENTAL_TARGETS])]
    where = {tuple(r) for r in incremental[["policy", "scenario", "replication"]].to_numpy()}
    assert where == {(small.policies[0].name, 0, 0)}
    assert len(incremental) == len(INCREMENTAL_TARGETS)
    # the network snapshot: scenario 0, replication 0 of each policy only
    nodes = pd.read_csv(out / "network_nodes.csv", keep_default_na=False, na_values=[""])
    assert set(zip(nodes["scenario"], nodes["replication"], strict=True)) == {(0, 0)}


def test_variants_change_the_market_and_policies_share_each_cells_market(serial):
    out, _ = serial
    ts = pd.read_csv(out / "timeseries.csv", keep_default_na=False, na_values=[""])
    first = ts[ts["step"] == 1]
    focal = first[first["firm"] == "focal"]
    # scenario and replication change the run; within a cell the first step's market is
    # shared by all policies up to what the policy itself changed (common random numbers)
    by_scenario = focal.groupby("scenario")["customers"].apply(list)
    assert by_scenario[0] != by_scenario[1]
    ends = load_outcomes(out)
    focal_end = ends[ends["firm"] == "focal"].set_index(["policy", "scenario", "replication"])
    assert focal_end["seed"].groupby(level=[1, 2]).nunique().eq(1).all()


def test_results_folder_and_report_of_several_scenarios(small, serial, tmp_path):
    import shutil

    source, index = serial
    out = tmp_path / "multi"
    shutil.copytree(source, out)
    index.folder = out
    sf = small.model_copy(
        update={"outputs": small.outputs.model_copy(update={"formats": ("png",)})}
    )
    write_summary(out, [p.name for p in sf.policies])
    write_provenance(out, sf, RunFacts.from_index(index), source="test")
    summary = pd.read_csv(out / "summary.csv", keep_default_na=False, na_values=[""])
    assert (summary["replications"] == 6).all()  # (scenario, replication) pairs
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenarios"] == 3 and manifest["runs"] == 12
    report, plots = render_report(out, formats=("png",), dpi=40)
    assert report is not None and report.is_file()
    assert not [p.name for p in plots if p.skipped and "network" not in p.name]


# --------------------------------------------------------------------------- memory


def _peak_traced_bytes(sf, out, replications: int) -> int:
    sf = sf.model_copy(
        update={"simulation": sf.simulation.model_copy(update={"replications": replications})}
    )
    # Collect the older generations at every collection while measuring. The runner's
    # per-task collection (executors.task_garbage_collected) freezes what was alive before
    # the task, so cyclic garbage that dies during it waits for Python's rare full
    # collection (a few tens of kB a run): with the default thresholds the peak depends on
    # when one came, not on what the runner keeps (checked: with a plain collection per
    # task instead of the freeze, the default thresholds pass too).
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], 1, 1)
    tracemalloc.start()
    try:
        run_experiment(sf, out, workers=1, tables=RESULT_TABLES)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        gc.set_threshold(*thresholds)


def test_memory_does_not_grow_with_the_number_of_runs(tmp_path):
    """Ten times the runs, about the same peak: finished runs' tables are not kept."""
    sf = parse_scenario(
        'name = "memory"\n[simulation]\nsteps = 20\nseed = 3\n[market]\nn_customers = 60\n'
        "[outputs]\nnetwork_sample = 0\n"
    )
    few = _peak_traced_bytes(sf, tmp_path / "few", 2)
    many = _peak_traced_bytes(sf, tmp_path / "many", 20)
    per_run = (tmp_path / "many" / "timeseries.csv").stat().st_size / 20
    # holding every run's tables (or models) would add 18 runs' worth (a few times `few`)
    assert many - few < 4 * per_run, (few, many, per_run)
    assert many < 1.3 * few, (few, many)


def _echo(context: int, value: int, report=None) -> bytes:
    """A pool task for the test below: bytes from its argument."""
    if report is not None:
        report(1)
    return bytes([context, value])


def test_pool_holds_at_most_one_task_per_worker_and_hands_results_on_at_once():
    pool = LocalPool(2)
    steps = []
    outcomes = pool.map(_echo, 7, [Task(i, (i,)) for i in range(30)], steps.append)
    first = next(outcomes)  # a result arrives before most tasks have even started
    assert pool.peak_in_flight <= 2
    rest = list(outcomes)
    assert sorted(o.key for o in [first, *rest]) == list(range(30))
    assert all(o.payload == bytes([7, o.key]) and o.attempts == 1 for o in [first, *rest])
    assert pool.peak_in_flight == 2 and sum(steps) == 30


def test_index_lists_not_started_runs_while_running(small, tmp_path):
    store = RunStore(tmp_path)
    seen = []

    def progress(runs, steps):
        if runs:
            seen.append(json.loads(store.index_path.read_text())["counts"])

    run_experiment(small, tmp_path, workers=1, progress=progress)
    assert seen[0]["not_started"] >= 3  # the index was written before the first run ended
    final = json.loads(store.index_path.read_text())
    assert final["counts"] == {"done": 4, "failed": 0, "not_started": 0}


def test_a_free_worker_keeps_to_its_cell_so_its_policies_share_the_graph():
    # 3 cells (scenario, replication) of 4 policies each, in round-robin order
    pending = _Pending(Task(4 * c + p, (), group=(0, c)) for c in range(3) for p in range(4))
    a = pending.take(None, {None})
    b = pending.take(None, {a.group})
    assert (a.key, b.key) == (0, 4)  # two workers start on two cells
    assert [pending.take(a.group, {b.group}).key for _ in range(3)] == [1, 2, 3]
    c = pending.take(a.group, {b.group})  # cell 0 is done: the next cell nobody is on
    assert c.key == 8
    pending.put_back(b)  # worker b died: its run goes first, to whoever is free
    assert pending.take(c.group, {None}).key == 8 + 1  # ... after c's own cell
    assert pending.take(None, {c.group}).key == 4
    # nothing left but another worker's cell: share it rather than wait
    assert [pending.take(None, {c.group}).key for _ in range(3)] == [5, 6, 7]
    assert pending.take(None, {c.group}).key == 10
    assert len(pending) == 1


def test_a_variant_may_change_a_policy_lever(small, tmp_path):
    lever = {"policies.1.acquisition_share": 0.9}
    varied = run_experiment(small, tmp_path / "varied", variants=[lever], workers=1)
    changed = apply_overrides(small, lever)
    direct = run_experiment(changed, tmp_path / "direct", workers=1)
    plain = run_experiment(small, tmp_path / "plain", workers=1)
    assert varied.complete and direct.complete and plain.complete
    a, b, c = (load_outcomes(tmp_path / n) for n in ("varied", "direct", "plain"))
    pd.testing.assert_frame_equal(a, b)  # the variant's lever was used
    second = a["policy"] == small.policies[1].name
    assert not a[second].equals(c[second])  # and it matters
    pd.testing.assert_frame_equal(a[~second], c[~second])
