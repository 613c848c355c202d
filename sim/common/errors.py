"""Every error marketsim raises on purpose, under one base class that carries its exit code.

Why one module at the bottom of the layers: the command line maps errors to exit codes
for every command without importing the modules that raise them (pandas, the model), and
a library user can catch :class:`MarketsimError` alone.

>>> issubclass(ScenarioError, UserError) and ScenarioError.exit_code
2
>>> RunsFailed.exit_code
3
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

__all__ = [
    "DaskError",
    "DesignError",
    "ExperimentError",
    "GraphFileError",
    "MarketsimError",
    "ResultsFolderError",
    "RunsFailed",
    "ScenarioError",
    "Terminated",
    "UserError",
]


class MarketsimError(Exception):
    """Base of marketsim's own errors; ``exit_code`` is what the command line returns."""

    exit_code: int = 1


class UserError(MarketsimError, ValueError):
    """A problem the user can fix: one message, no traceback, exit code 2."""

    exit_code = 2


class ScenarioError(UserError):
    """A scenario file (or a ``--set`` override) is unreadable or invalid.

    ``str(error)`` is the full, user-facing message; ``problems`` holds one line per problem.
    """

    def __init__(self, message: str, problems: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


class GraphFileError(UserError):
    """A user-supplied graph file is missing, unreadable or empty."""


class ExperimentError(UserError):
    """A problem with the experiment or its folder the user can fix."""


class DaskError(ExperimentError):
    """The Dask cluster could not be reached or started."""


class DesignError(UserError):
    """A sweep or sensitivity request the user can fix (``--param``, method, samples)."""


class ResultsFolderError(UserError):
    """The folder is not a (complete) results folder."""


class _FailedRun(Protocol):
    @property
    def index(self) -> int: ...
    @property
    def coordinates(self) -> str: ...
    @property
    def error(self) -> str | None: ...


class _Index(Protocol):
    """What :class:`RunsFailed` reads of an experiment's run index."""

    @property
    def folder(self) -> Path: ...
    @property
    def records(self) -> Sequence[object]: ...
    @property
    def failed(self) -> Sequence[_FailedRun]: ...
    @property
    def done(self) -> Sequence[object]: ...


class RunsFailed(MarketsimError, RuntimeError):
    """Some runs failed; the finished ones are on disk (``--resume`` reruns the rest)."""

    exit_code = 3

    def __init__(self, index: _Index, shown: int = 20) -> None:
        self.index = index
        failed = index.failed
        runs = index.folder / "runs"
        lines = [
            f"{len(failed)} of {len(index.records)} runs failed; the {len(index.done)} "
            f"finished runs are kept in {runs} (each error in full in {runs / 'index.json'}). "
            "Fix the cause and run the same command again with --resume to run only what "
            "is missing:"
        ]
        for r in failed[:shown]:
            last = (r.error or "").strip().splitlines()[-1:] or ["(no message)"]
            lines.append(f"  run {r.index}: {r.coordinates}: {last[0]}")
        if len(failed) > shown:
            lines.append(f"  ... and {len(failed) - shown} more")
        super().__init__("\n".join(lines))


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is (workers stopped, finished runs kept for
    ``--resume``); the command line exits with 128 + 15, as a shell reports a SIGTERM."""

    exit_code = 143
