"""Signals with several workers (issue 15.7): SIGTERM and Ctrl-C stop the workers cleanly,
say how to resume and exit 143 or 130; SIGKILL of the parent leaves no orphaned worker;
no BrokenPipe traceback; ``--resume`` then gives the uninterrupted tables byte for byte.

The command runs as a child process (``python -m sim run --workers 2``) with run 2 made
to hang (the test-only faults of :mod:`tests.integration.faults`), so the signal lands
midway whatever the machine's speed. The worker processes are captured with psutil
before the signal, so the test sees exactly the processes the command started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import psutil
import pytest

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

HANG = "hang:2:300"  # run 2 sleeps: the signal always lands while it runs


def _default_sigint() -> None:
    """In the child: Ctrl-C as a terminal gives it. A pytest-xdist worker ignores SIGINT,
    and an ignored signal stays ignored across exec, so without this the command would
    never see the SIGINT the test sends (as a job started with SIGINT ignored should not)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(tiny_scenario, out, workers: str = "2") -> tuple[subprocess.Popen, list[str]]:
    args = ["run", str(tiny_scenario), "--out", str(out), "--workers", workers, *NO_PICTURES]
    proc = subprocess.Popen(
        sim_command(*args, faults=HANG),
        cwd=ROOT,
        env=cli_env(HANG),
        start_new_session=True,
        preexec_fn=_default_sigint,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, args


def _midway(proc: subprocess.Popen, out, workers: int) -> list[psutil.Process]:
    """Wait until the runs before the hanging one are done (run 2 hangs: runs 0, 1 and,
    with a second worker, 3), return the command's descendants."""
    done = 3 if workers > 1 else 2
    wait_for(lambda: len(run_files(out)) >= done or proc.poll() is not None, 180, "runs")
    assert proc.poll() is None, proc.communicate()[1]
    children = psutil.Process(proc.pid).children(recursive=True)
    if workers > 1:
        assert len(children) >= workers  # the workers (and the forkserver)
    return children


def _running(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _none_survive(children: list[psutil.Process], timeout: float = 15.0) -> None:
    _, alive = psutil.wait_procs(children, timeout=timeout)
    alive = [p for p in alive if _running(p)]
    assert not alive, f"orphaned worker processes: {[p.pid for p in alive]}"


def _resume_equals_reference(args, out, reference, done: int = 3) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in run_files(out)}
    assert len(before) == done
    assert not any((out / t).exists() for t in CSV_TABLES)  # no table that looks complete
    again = run_sim(*args, "--resume")
    assert again.returncode == 0, again.stderr
    assert_same_tables(reference, out, CSV_TABLES)
    for name, mtime in before.items():  # finished runs kept, not redone
        assert (out / "runs" / name).stat().st_mtime_ns == mtime
    assert not [p for p in out.rglob(".*") if p.name.endswith(".tmp")]


@pytest.mark.parametrize(
    ("sig", "code", "said"),
    [
        (signal.SIGTERM, 143, "terminated (SIGTERM)"),
        (signal.SIGINT, 130, "interrupted"),
    ],
    ids=["sigterm", "sigint"],
)
def test_a_stop_signal_stops_the_workers_says_how_to_resume_and_resumes_exactly(
    tiny_scenario, tiny_run, tmp_path, sig, code, said
):
    reference, _ = tiny_run
    out = tmp_path / "stopped"
    proc, args = _start(tiny_scenario, out)
    try:
        children = _midway(proc, out, 2)
        os.kill(proc.pid, sig)  # the parent only, as `kill PID` would
        _, err = proc.communicate(timeout=60)
    finally:
        kill_group(proc)
    assert proc.returncode == code, err
    assert "Traceback" not in err and "BrokenPipe" not in err
    resume_lines = [line for line in err.splitlines() if "--resume" in line]
    assert len(resume_lines) == 1, err
    assert str(out / "runs") in resume_lines[0]
    assert said in err
    _none_survive(children)
    _resume_equals_reference(args, out, reference)


def test_sigterm_of_one_process_run_takes_the_same_path(tiny_scenario, tiny_run, tmp_path):
    reference, _ = tiny_run
    out = tmp_path / "stopped_one"
    proc, args = _start(tiny_scenario, out, workers="1")
    try:
        _midway(proc, out, 1)
        os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        kill_group(proc)
    assert proc.returncode == 143, err
    assert "Traceback" not in err and "with --resume" in err
    _resume_equals_reference(args, out, reference, done=2)


def test_sigkill_of_the_parent_leaves_no_orphaned_worker(tiny_scenario, tiny_run, tmp_path):
    reference, _ = tiny_run
    out = tmp_path / "killed"
    proc, args = _start(tiny_scenario, out)
    try:
        children = _midway(proc, out, 2)
        os.kill(proc.pid, signal.SIGKILL)  # the parent only: its workers must notice
        proc.wait(timeout=30)
        started = time.monotonic()
        _none_survive(children)
        assert time.monotonic() - started < 15
        # whatever the workers printed after the parent died (the pipe is still open)
        _, err = proc.communicate(timeout=30)
    finally:
        kill_group(proc)
    assert "Traceback" not in err and "BrokenPipe" not in err
    _resume_equals_reference(args, out, reference)
