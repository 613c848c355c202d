"""Helpers of the execution tests: a small experiment, the command with injected faults.

The experiment is the integration tests' tiny market, cut to 6 weeks and 3 replications
(2 policies: 6 runs, well under a second each), without pictures.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.integration.cli_helpers import CSV_TABLES, ROOT
from tests.integration.faults import FAULTS_ENV

SMALL = ("--steps", "6", "--replications", "3")
NO_PICTURES = ("--set", "outputs.plots=false", "--set", "outputs.report=false", "--quiet")
RESULT_CSVS = (*CSV_TABLES, "scenarios.csv")


def cli_env(faults: str | None = None) -> dict[str, str]:
    """The environment of a ``python -m sim`` child: this checkout first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop(FAULTS_ENV, None)
    if faults:
        env[FAULTS_ENV] = faults
    return env


def sim_command(*args: str, faults: str | None = None) -> list[str]:
    """``python -m sim ARGS``, or with faults the test launcher that injects them."""
    module = "tests.integration.faulty_sim" if faults else "sim"
    return [sys.executable, "-m", module, *args]


def run_sim(
    *args: str, faults: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """``python -m sim ARGS`` in a fresh interpreter, optionally with injected faults."""
    return subprocess.run(
        sim_command(*args, faults=faults),
        cwd=ROOT,
        env=cli_env(faults),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_same_tables(a: Path, b: Path, tables: tuple[str, ...] = RESULT_CSVS) -> None:
    """The two results folders' tables are byte-identical."""
    for name in tables:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def kill_group(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """Stop a child started with ``start_new_session=True`` and everything it started."""
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        pgid = proc.pid
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, grace)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        # the leader is gone; its group may still hold children: make sure
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        break
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=grace)


def run_files(out: Path) -> list[Path]:
    """The finished run files in an experiment folder."""
    folder = out / "runs"
    return sorted(folder.glob("run-*.zip")) if folder.is_dir() else []
