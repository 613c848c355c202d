"""What every ``marketsim`` command shares: exit codes, argument types, messages, progress.

Why this module imports so little: ``marketsim --help``, ``--version`` and ``list`` should
start in milliseconds, so the commands import the pipeline (pandas, Mesa, the model) only
when they run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = [
    "EXIT_BUG",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_RUNS_FAILED",
    "EXIT_USER",
    "Progress",
    "add_scenario_arguments",
    "capped_workers",
    "error",
    "execution_options",
    "non_negative_int",
    "overrides_of",
    "positive_int",
    "resume_hint",
    "write_crash_log",
]

EXIT_OK = 0
EXIT_BUG = 1
EXIT_USER = 2
EXIT_RUNS_FAILED = 3
EXIT_INTERRUPTED = 130


def _whole_number(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, got {value}")
    return value


def positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1.

    >>> positive_int("3")
    3
    """
    return _whole_number(text, 1)


def non_negative_int(text: str) -> int:
    """An argparse type: a whole number >= 0.

    >>> non_negative_int("0")
    0
    """
    return _whole_number(text, 0)


def execution_options(args: argparse.Namespace) -> dict[str, Any]:
    """Where and how runs execute, from the options every running command shares."""
    return {
        "executor": args.executor,
        "scheduler": args.scheduler,
        "resume": args.resume,
        "plots": False if args.no_plots else None,
    }


def add_scenario_arguments(
    p: argparse.ArgumentParser, replications_help: str | None = None
) -> None:
    """SCENARIO, --set, --replications, --seed and --steps (every command that runs one)."""
    p.add_argument("scenario", metavar="SCENARIO", help="scenario .toml file or bundled name")
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY.PATH=VALUE",
        help="override one value, e.g. --set market.n_customers=5000 (repeatable)",
    )
    p.add_argument("--replications", type=positive_int, metavar="R", help=replications_help)
    p.add_argument("--seed", type=non_negative_int, metavar="S", help="simulation.seed")
    p.add_argument("--steps", type=positive_int, metavar="T", help="simulation.steps")


def overrides_of(args: argparse.Namespace) -> dict[str, Any]:
    """The ``--set KEY.PATH=VALUE`` options as overrides by key path."""
    from sim.config.scenario_file import parse_set_option  # lazy: pydantic

    out: dict[str, Any] = {}
    for option in getattr(args, "set", None) or []:
        key, value = parse_set_option(option)
        out[key] = value
    return out


def capped_workers(args: argparse.Namespace) -> int | None:
    """``--workers``, capped at this machine's cores for local workers (with a note).

    More local processes than cores only add memory and switching; a remote Dask
    scheduler's workers are not this machine's, so they are left as asked.
    """
    asked: int | None = getattr(args, "workers", None)
    if asked is None or getattr(args, "scheduler", None):
        return asked
    from sim.experiment.executors import usable_cores  # lazy: psutil, multiprocessing

    cores = usable_cores()
    if asked > cores:
        if not getattr(args, "quiet", False):
            print(
                f"note: --workers {asked} is more than the {cores} usable cores; using {cores}",
                file=sys.stderr,
            )
        return cores
    return asked


def write_crash_log() -> Path | None:
    """Write the traceback of the exception being handled to a log file; return its path.

    A bug should not greet a user with a screen of traceback, but its traceback must not
    be lost: it goes to ``$MARKETSIM_LOG_DIR`` (default: ``marketsim-logs`` in the
    temporary folder). None if no log could be written.
    """
    import os  # lazy, like everything on the error path
    import tempfile
    import time
    import traceback

    folder = Path(
        os.environ.get("MARKETSIM_LOG_DIR") or Path(tempfile.gettempdir()) / "marketsim-logs"
    )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
        path.write_text(
            f"marketsim {' '.join(sys.argv[1:])}\n\n{traceback.format_exc()}", encoding="utf-8"
        )
    except OSError:
        return None
    return path


def error(message: str) -> None:
    """Print ``marketsim: error: message`` on standard error."""
    print(f"marketsim: error: {message}", file=sys.stderr)


class Progress:
    """A rich progress bar on standard error: runs done, steps done, time left."""

    def __init__(self, total_runs: int, total_steps: int, quiet: bool) -> None:
        self.bar: Any = None
        self.task: Any = None
        self.runs = 0
        self.total_runs = total_runs
        if quiet:
            return
        from rich.console import Console  # lazy: only when a bar is shown
        from rich.progress import (
            BarColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichProgress

        self.bar = RichProgress(
            TextColumn("[bold]simulating"),
            BarColumn(),
            TextColumn("runs {task.fields[runs]}/{task.fields[total_runs]}"),
            TextColumn("steps {task.completed:,.0f}/{task.total:,.0f}"),
            TextColumn("elapsed"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self.task = self.bar.add_task("runs", total=total_steps, runs=0, total_runs=total_runs)

    def __call__(self, runs: int, steps: int) -> None:
        if self.bar is None:
            return
        self.runs += runs
        self.bar.update(self.task, advance=steps, runs=self.runs)

    def __enter__(self) -> Progress:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


@contextmanager
def resume_hint(out: Path) -> Iterator[None]:
    """On Ctrl-C, say that the finished runs are kept and how to continue."""
    try:
        yield
    except KeyboardInterrupt:
        error(
            f"the finished runs are kept in {out / 'runs'}: run the same command again "
            "with --resume to continue where it stopped"
        )
        raise
