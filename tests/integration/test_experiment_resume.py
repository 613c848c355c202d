"""Loss-free and resumable: kill the command midway, resume, get the uninterrupted tables.

The reference is the session's uninterrupted ``tiny_run`` (4 runs). Runs are made to
hang or fail with the test-only faults of :mod:`tests.integration.faults`, so the kill lands midway
every time, whatever the machine's speed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess

import pytest

from sim.cli import commands as cli
from tests.integration.cli_helpers import CSV_TABLES, ROOT
from tests.integration.experiment_helpers import (
    NO_PICTURES,
    assert_same_tables,
    cli_env,
    kill_group,
    run_files,
    run_sim,
    sim_command,
    wait_for,
)
from tests.integration.faults import inject


def _index(out):
    return json.loads((out / "runs" / "index.json").read_text())


def test_sigkill_midway_then_resume_gives_the_uninterrupted_tables(
    tiny_scenario, tiny_run, tmp_path
):
    reference, _ = tiny_run
    out = tmp_path / "killed"
    args = ["run", str(tiny_scenario), "--out", str(out), "--workers", "2", *NO_PICTURES]
    proc = subprocess.Popen(
        sim_command(*args, faults="hang:2:120"),
        cwd=ROOT,
        env=cli_env("hang:2:120"),  # run 2 never ends: the kill lands midway
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: len(run_files(out)) >= 3 or proc.poll() is not None, 120, "3 runs")
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        os.kill(proc.pid, signal.SIGKILL)  # the parent only, as `kill -9 PID` would
        proc.wait(timeout=30)
    finally:
        kill_group(proc)  # and its orphaned workers (one is stuck in run 2)
        if proc.stderr:
            proc.stderr.close()
    before = {p.name: p.stat().st_mtime_ns for p in run_files(out)}
    assert len(before) == 3  # runs 0, 1, 3 finished; run 2 did not
    assert not any((out / t).exists() for t in CSV_TABLES)  # no table that looks complete

    again = run_sim(*args, "--resume")
    assert again.returncode == 0, again.stderr
    assert_same_tables(reference, out, CSV_TABLES)
    for name, mtime in before.items():  # finished runs were kept, not redone
        assert (out / "runs" / name).stat().st_mtime_ns == mtime
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["runs_resumed"] == 3 and manifest["runs"] == 4
    assert _index(out)["counts"] == {"done": 4, "failed": 0, "not_started": 0}
    assert not [p for p in out.rglob(".*") if p.name.endswith(".tmp")]


def test_resume_with_more_replications_runs_only_the_new_ones(tiny_scenario, tiny_run, tmp_path):
    reference, _ = tiny_run
    out = tmp_path / "grow"
    base = ["run", str(tiny_scenario), "--out", str(out), "--workers", "1", *NO_PICTURES]
    assert cli.main([*base, "--replications", "1"]) == 0
    assert cli.main([*base, "--resume"]) == 0  # the scenario's 2 replications
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["runs_resumed"] == 2 and manifest["runs"] == 4
    assert_same_tables(reference, out, CSV_TABLES)


def test_resume_refuses_another_experiment(tiny_scenario, tmp_path, capsys):
    out = tmp_path / "other"
    base = ["run", str(tiny_scenario), "--out", str(out), "--workers", "1", *NO_PICTURES]
    assert cli.main([*base, "--steps", "2", "--replications", "1"]) == 0
    capsys.readouterr()
    assert cli.main([*base, "--steps", "2", "--replications", "1", "--seed", "7", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "different experiment" in err and "Traceback" not in err


def test_resume_needs_an_experiment_and_a_fresh_start_keeps_an_unfinished_one(
    tiny_scenario, tmp_path, capsys, monkeypatch
):
    out = tmp_path / "fresh"
    base = ["run", str(tiny_scenario), "--out", str(out), "--workers", "1", *NO_PICTURES]
    assert cli.main([*base, "--resume"]) == 2
    assert "no experiment to resume" in capsys.readouterr().err
    # an experiment that failed half-way is not thrown away by a forgotten --resume
    inject(monkeypatch, "raise:3")
    assert cli.main(base) == cli.EXIT_RUNS_FAILED
    monkeypatch.undo()
    capsys.readouterr()
    assert cli.main(base) == 2
    assert "add --resume" in capsys.readouterr().err
    assert len(run_files(out)) == 3  # the finished runs are still there
    assert cli.main([*base, "--resume"]) == 0


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_run_that_raises_is_reported_with_its_coordinates_and_resumed(
    tiny_scenario, tiny_run, tmp_path, workers
):
    reference, _ = tiny_run
    out = tmp_path / "raises"
    args = ["run", str(tiny_scenario), "--out", str(out), "--workers", workers, *NO_PICTURES]
    failed = run_sim(*args, faults="raise:1")
    assert failed.returncode == cli.EXIT_RUNS_FAILED, failed.stderr
    seed = _index(out)["runs"][1]["seed"]
    assert "1 of 4 runs failed" in failed.stderr
    assert f"run 1: policy '<script>alert(1)</script>', scenario 0, replication 0, seed {seed}" in (
        failed.stderr
    )
    assert "RuntimeError: injected failure of run 1" in failed.stderr
    assert "--resume" in failed.stderr and "Traceback" not in failed.stderr
    index = _index(out)
    assert index["counts"] == {"done": 3, "failed": 1, "not_started": 0}
    bad = index["runs"][1]
    assert bad["status"] == "failed" and "Traceback" in bad["error"]  # the full story
    assert not any((out / t).exists() for t in CSV_TABLES)

    again = run_sim(*args, "--resume")
    assert again.returncode == 0, again.stderr
    assert_same_tables(reference, out, CSV_TABLES)


def test_a_worker_that_dies_is_retried(tiny_scenario, tiny_run, tmp_path):
    reference, _ = tiny_run
    out = tmp_path / "killed_once"
    marker = tmp_path / "killed.marker"
    args = ["run", str(tiny_scenario), "--out", str(out), "--workers", "2", *NO_PICTURES]
    proc = run_sim(*args, faults=f"kill:1:{marker}")
    assert proc.returncode == 0, proc.stderr
    assert marker.exists()  # the worker running run 1 was killed once
    assert_same_tables(reference, out, CSV_TABLES)
    attempts = [r["attempts"] for r in _index(out)["runs"]]
    assert attempts == [1, 2, 1, 1]


def test_a_run_that_keeps_killing_its_worker_fails_after_bounded_retries(tiny_scenario, tmp_path):
    out = tmp_path / "killed_always"
    args = ["run", str(tiny_scenario), "--out", str(out), "--workers", "2", *NO_PICTURES]
    proc = run_sim(*args, faults="kill:1")
    assert proc.returncode == cli.EXIT_RUNS_FAILED, proc.stderr
    assert "worker process running it died 3 times (last: killed by signal SIGKILL)" in proc.stderr
    index = _index(out)
    assert index["counts"] == {"done": 3, "failed": 1, "not_started": 0}
    assert index["runs"][1]["attempts"] == 3
