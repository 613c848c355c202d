"""Where results may go: refuse impossible or dangerous output folders before any work.

A results folder is one experiment's: before a fresh run writes into a folder that holds
an earlier experiment's results, those are removed (the manifest first, so the folder never
looks complete in between); a folder holding anything else is refused rather than mixed
with. Checked while planning, so nothing runs, and nothing is written, for a folder the
results could not reach.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from sim.common.errors import UserError

__all__ = ["OutputFolderError", "check_output_folder", "clear_earlier_results", "is_results_folder"]

SYSTEM_FOLDERS = tuple(
    Path(p)
    for p in (
        "/proc",
        "/sys",
        "/dev",
        "/run",
        "/boot",
        "/etc",
        "/bin",
        "/sbin",
        "/lib",
        "/lib32",
        "/lib64",
        "/usr",
        "/var/lib",
        "/var/run",
    )
)
"""Folders of the operating system: results never go there, or below them."""

_RESULT_FILES = ("report.html", "scenario.resolved.toml", "transactions.parquet")
_RESULT_DIRS = ("plots",)
_MARKERS = ("manifest.json", "runs/index.json")


class OutputFolderError(UserError):
    """The results folder cannot or must not be written (exit code 2)."""


def is_results_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a marketsim results folder (a manifest or a run index)."""
    return any((folder / marker).is_file() for marker in _MARKERS)


def _existing_ancestor(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists() or candidate.is_symlink():
            return candidate
    return Path(path.anchor or "/")


def check_output_folder(out: Path, *, scenario_source: Path | None = None) -> Path:
    """Refuse an ``out`` the results cannot or must not go to; return it resolved.

    Refused: the file-system root; a system folder or anything below one (``/proc``,
    ``/etc``, ``/usr``, ...); an existing file, or a path below a file; the scenario file's
    own folder (results would mix with the scenarios); a folder that exists, is not empty
    and is not a results folder; a place the process cannot write (permissions or a
    read-only file system).

    >>> check_output_folder(Path("/"))
    Traceback (most recent call last):
    ...
    sim.pipeline.folders.OutputFolderError: --out /: the file-system root cannot hold results; choose a folder of its own, e.g. results/my_run
    """
    given = out
    resolved = Path(os.path.abspath(os.path.expanduser(out)))
    try:
        resolved = resolved.resolve(strict=False)
    except (OSError, RuntimeError) as exc:  # a symlink loop on the way
        raise OutputFolderError(f"--out {given}: cannot be resolved ({exc})") from None
    if resolved == Path(resolved.anchor):
        raise OutputFolderError(
            f"--out {given}: the file-system root cannot hold results; choose a folder of its "
            "own, e.g. results/my_run"
        )
    for system in SYSTEM_FOLDERS:
        if resolved == system or system in resolved.parents:
            raise OutputFolderError(
                f"--out {given}: {system} is a system folder; results go to a folder of "
                "your own, e.g. results/my_run"
            )
    if scenario_source is not None:
        scenario_folder = Path(os.path.abspath(scenario_source)).resolve().parent
        if resolved == scenario_folder:
            raise OutputFolderError(
                f"--out {given}: that is the folder of the scenario file itself; results "
                f"would mix with the scenarios there (choose e.g. {given}/results)"
            )
    anchor = _existing_ancestor(resolved)
    if anchor != resolved and not anchor.is_dir():
        raise OutputFolderError(
            f"--out {given}: {anchor} is a file, so no folder can be made below it"
        )
    if anchor == resolved:
        if not resolved.is_dir():
            raise OutputFolderError(f"--out {given}: exists and is not a folder")
        if any(resolved.iterdir()) and not is_results_folder(resolved):
            raise OutputFolderError(
                f"--out {given}: the folder holds files that are not a marketsim results "
                "folder; choose a new or empty folder so nothing of yours is mixed up or "
                "overwritten"
            )
    if not os.access(anchor, os.W_OK | os.X_OK) or _read_only(anchor):
        raise OutputFolderError(
            f"--out {given}: cannot write in {anchor} (permission denied or a read-only "
            "file system); choose a folder you can write to"
        )
    return resolved


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _unfinished_runs(folder: Path) -> bool:
    """Whether the folder's run index lists runs not done (the runner will refuse it)."""
    index = folder / "runs" / "index.json"
    if not index.is_file():
        return False
    try:
        runs = json.loads(index.read_text(encoding="utf-8")).get("runs", [])
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return True  # unreadable: leave everything for the runner to report
    return any(isinstance(r, dict) and r.get("status") != "done" for r in runs)


def clear_earlier_results(folder: Path) -> list[str]:
    """Remove an earlier experiment's results from ``folder`` (a fresh, not resumed, run).

    Only a results folder is touched: its manifest goes first, then its tables
    (``*.csv`` at the top), figures and report. The ``runs/`` store is left to the runner,
    which refuses an unfinished experiment and clears finished runs itself. Returns the
    names removed.
    """
    if not folder.is_dir() or not is_results_folder(folder) or _unfinished_runs(folder):
        return []
    removed: list[str] = []
    manifest = folder / "manifest.json"
    if manifest.is_file():
        manifest.unlink()
        removed.append(manifest.name)
    for path in sorted(folder.glob("*.csv")) + [folder / n for n in _RESULT_FILES]:
        if path.is_file():
            path.unlink()
            removed.append(path.name)
    for name in _RESULT_DIRS:
        path = folder / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
            removed.append(f"{name}/")
    return removed
