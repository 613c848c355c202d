"""A real Dask cluster on loopback: one ``dask scheduler`` and two ``dask worker`` processes.

The experiment run through it must give the local tables byte for byte, a worker killed
mid-run must be replaced and its run retried, and the cluster must be torn down whatever
happens (each process runs in its own session and is killed with its children).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sim.common.errors import DaskError
from sim.experiment.dask_executor import DaskExecutor
from sim.experiment.executors import Task
from tests.integration.cli_helpers import CSV_TABLES, ROOT
from tests.integration.experiment_helpers import (
    NO_PICTURES,
    assert_same_tables,
    cli_env,
    kill_group,
    run_sim,
    wait_for,
)


def _dask(*args: str) -> list[str]:
    """The ``dask`` command of this interpreter's environment."""
    return [str(Path(sys.executable).with_name("dask")), *args]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """(scheduler address, log folder) of a scheduler and two single-threaded workers."""
    pytest.importorskip("distributed")
    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    procs: list[subprocess.Popen] = []
    logs = []

    def start(name: str, *args: str) -> None:
        log = (folder / f"{name}.log").open("w")
        logs.append(log)
        command = _dask(*args)
        env = cli_env()
        procs.append(
            subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    try:
        start(
            "scheduler", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
            "--dashboard-address", "127.0.0.1:0",
            "--scheduler-file", str(scheduler_file),
        )  # fmt: skip
        wait_for(lambda: scheduler_file.is_file() and scheduler_file.stat().st_size > 0, 60,
                 "the scheduler")  # fmt: skip
        address = json.loads(scheduler_file.read_text())["address"]
        for k in range(2):
            start(
                f"worker{k}", "worker", address, "--nworkers", "1", "--nthreads", "1",
                "--host", "127.0.0.1", "--no-dashboard", "--name", f"w{k}",
            )  # fmt: skip
        from distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        yield address, folder
    finally:
        for proc in procs[::-1]:  # workers first, then the scheduler
            kill_group(proc)
        for log in logs:
            log.close()


def test_results_through_a_real_cluster_equal_the_local_ones(
    tiny_scenario, tiny_run, cluster, tmp_path
):
    reference, _ = tiny_run
    address, _ = cluster
    out = tmp_path / "dask"
    proc = run_sim(
        "run", str(tiny_scenario), "--out", str(out), "--executor", "dask",
        "--scheduler", address, *NO_PICTURES,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert_same_tables(reference, out, CSV_TABLES)
    manifest = json.loads((out / "manifest.json").read_text())
    assert address in manifest["executor"]


def test_a_dask_worker_killed_mid_run_is_replaced_and_the_run_retried(
    tiny_scenario, tiny_run, cluster, tmp_path
):
    reference, _ = tiny_run
    address, _ = cluster
    out = tmp_path / "dask_killed"
    marker = tmp_path / "killed.marker"
    proc = run_sim(
        "run", str(tiny_scenario), "--out", str(out), "--executor", "dask",
        "--scheduler", address, *NO_PICTURES, faults=f"kill:2:{marker}",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert marker.exists()  # a worker process really died running run 2
    assert_same_tables(reference, out, CSV_TABLES)


def test_a_run_that_raises_on_dask_is_reported_not_retried(tiny_scenario, cluster, tmp_path):
    address, _ = cluster
    out = tmp_path / "dask_raises"
    proc = run_sim(
        "run", str(tiny_scenario), "--out", str(out), "--executor", "dask",
        "--scheduler", address, "--steps", "2", *NO_PICTURES, faults="raise:3",
    )  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    assert "run 3: policy '<script>alert(1)</script>', scenario 0, replication 1" in proc.stderr
    index = json.loads((out / "runs" / "index.json").read_text())
    assert index["counts"] == {"done": 3, "failed": 1, "not_started": 0}


def test_an_unreachable_scheduler_is_a_clear_error():
    executor = DaskExecutor(1, "tcp://127.0.0.1:9", timeout_s=1)
    with pytest.raises(DaskError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"):
        list(executor.map(len, None, [Task(0, ())], lambda steps: None))


def test_without_an_address_a_local_dask_cluster_gives_the_same_tables(tiny_scenario, tmp_path):
    from sim.config.scenario_file import load_scenario
    from sim.experiment.runner import run_experiment
    from sim.experiment.runstore import RESULT_TABLES

    sf = load_scenario(tiny_scenario, {"simulation.steps": 2, "outputs.transactions": True})
    local = run_experiment(sf, tmp_path / "local", workers=1, tables=RESULT_TABLES)
    dask = run_experiment(sf, tmp_path / "dask", workers=2, executor="dask", tables=RESULT_TABLES)
    assert local.complete and dask.complete
    assert "local Dask cluster of 2" in dask.meta["executor"]
    tables = tuple(f"{t}.csv" for t in RESULT_TABLES)
    assert_same_tables(tmp_path / "local", tmp_path / "dask", tables)


def test_a_scheduler_address_needs_the_dask_executor(tiny_scenario, tmp_path, capsys):
    from sim.cli import commands as cli

    args = ["run", str(tiny_scenario), "--out", str(tmp_path), "--scheduler", "tcp://h:1"]
    assert cli.main(args) == cli.EXIT_USER
    err = capsys.readouterr().err
    assert "--scheduler needs --executor dask" in err and "Traceback" not in err
