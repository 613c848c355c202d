"""Errors of the execution layer, in a module the command line can import at no cost.

Why its own module: ``marketsim`` maps these to exit codes for every command, and the
modules that raise them import pandas and the model (about a second), which ``marketsim
list`` should not pay for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.experiment.runstore import ExperimentIndex

__all__ = ["DaskError", "ExperimentError", "RunsFailed"]


class ExperimentError(ValueError):
    """A problem with the experiment or its folder the user can fix (exit code 2)."""


class DaskError(ExperimentError):
    """The Dask cluster could not be reached or started."""


class RunsFailed(RuntimeError):
    """Some runs failed; the finished ones are on disk (``--resume`` reruns the rest)."""

    def __init__(self, index: ExperimentIndex, shown: int = 20) -> None:
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
