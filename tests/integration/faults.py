"""Test-only fault injection: make chosen runs of an experiment raise, hang or kill their worker.

Faults are written ``ACTION:RUN_INDEX[:ARG]``, several separated by ``;``: ``raise:3``
makes run 3 raise; ``kill:3`` kills the worker process running run 3 (every attempt),
``kill:3:PATH`` only while the file PATH does not exist yet (it is created first: a
kill once); ``hang:3[:SECONDS]`` makes run 3 sleep (default 600 s).

How the faults reach the runs, without a line of test code in the package:

* in this process, :class:`FaultyRun` is the ``task`` of
  :func:`sim.experiment.runner.run_experiment` (or replaces the runner's
  ``execute_run`` through :func:`inject`, for commands run in-process);
* in a child process, ``python -m tests.integration.faulty_sim ARGS`` runs the command
  line with the faults of the :data:`FAULTS_ENV` environment variable installed.

A :class:`FaultyRun` pickles by reference to this module, so it travels to local pool
workers and to Dask workers (whose ``PYTHONPATH`` holds the checkout) like the runner's
own function, and it carries its faults with it.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from sim.experiment import runner
from sim.experiment.runner import RunContext, RunSpec, execute_run

__all__ = ["FAULTS_ENV", "FaultyRun", "inject", "install", "parse_faults"]

FAULTS_ENV = "MARKETSIM_TEST_FAULTS"
"""The faults of a ``tests.integration.faulty_sim`` child process."""

Fault = tuple[str, int, str]


def parse_faults(text: str | None) -> tuple[Fault, ...]:
    """``"raise:3;kill:1:/tmp/x"`` -> ``(("raise", 3, ""), ("kill", 1, "/tmp/x"))``."""
    faults = []
    for item in filter(None, (text or "").split(";")):
        action, _, rest = item.partition(":")
        index, _, arg = rest.partition(":")
        if action not in ("raise", "kill", "hang") or not index.isdigit():
            raise ValueError(f"{FAULTS_ENV}: cannot read {item!r} (ACTION:RUN_INDEX[:ARG])")
        faults.append((action, int(index), arg))
    return tuple(faults)


@dataclass(frozen=True)
class FaultyRun:
    """The runner's task with faults injected before chosen runs."""

    faults: tuple[Fault, ...]

    @classmethod
    def of(cls, text: str) -> FaultyRun:
        """The task with the faults written in ``text``."""
        return cls(parse_faults(text))

    def __call__(
        self,
        context: RunContext,
        spec: RunSpec,
        variant: Mapping[str, Any],
        report: Callable[[int], None] | None = None,
    ) -> bytes:
        for action, index, arg in self.faults:
            if index != spec.index:
                continue
            if action == "raise":
                raise RuntimeError(f"injected failure of run {index} ({FAULTS_ENV})")
            if action == "hang":
                time.sleep(float(arg or 600))
            if action == "kill":
                if arg:
                    try:
                        os.close(os.open(arg, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
                    except FileExistsError:
                        continue
                os.kill(os.getpid(), signal.SIGKILL)
        return execute_run(context, spec, variant, report)


def install(text: str) -> None:
    """Make every experiment of this process run with the faults in ``text``."""
    runner.execute_run = FaultyRun.of(text)  # type: ignore[assignment]


def inject(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    """:func:`install` for one test (undone when the test ends)."""
    monkeypatch.setattr(runner, "execute_run", FaultyRun.of(text))
