"""A finished experiment's tables in memory, and the redrawing of a folder's figures.

Both read the results folder only (its contract is docs/results.md), so a folder written
by ``marketsim run`` and one written from Python are read and redrawn the same way.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from sim.common.files import STORAGE_ERRNOS, DiskFullError, read_table
from sim.pipeline.folders import check_output_folder, clear_earlier_results
from sim.report import render_report
from sim.report.redraw import read_manifest, redraw

__all__ = ["TRANSACTIONS", "Results", "read_results", "redraw", "transactions_to_parquet"]

TRANSACTIONS = "transactions"
"""The transaction log's table (``[outputs] transactions``): large, so read on demand."""

# --------------------------------------------------------------------------- results


@dataclass
class Results:
    """The tables of a finished experiment, in memory, and the folder they were written to.

    ``timeseries`` (one row per policy, scenario, replication, step and firm), ``outcomes``
    (per run and firm), ``summary`` (per policy, firm and outcome, with paired differences
    from the baseline) and the optional tables are pandas DataFrames, read back from the
    results folder whose contract docs/results.md documents. ``tables`` holds every CSV of
    the folder by name (``sweep``, ``sensitivity``, ``robustness``, ``regret``, ...).
    """

    folder: Path
    kind: str
    tables: dict[str, pd.DataFrame]
    manifest: dict[str, Any]
    headline: list[str] = field(default_factory=list)
    _cleanup: Any = field(default=None, repr=False)

    @property
    def timeseries(self) -> pd.DataFrame | None:
        """``timeseries.csv``: one row per policy, scenario, replication, step and firm."""
        return self.tables.get("timeseries")

    @property
    def outcomes(self) -> pd.DataFrame | None:
        """``outcomes.csv``: the headline outcomes per run and firm."""
        return self.tables.get("outcomes")

    @property
    def summary(self) -> pd.DataFrame | None:
        """``summary.csv``: per policy, firm and outcome: mean, interval, paired difference from the baseline."""
        return self.tables.get("summary")

    @property
    def calibration(self) -> pd.DataFrame | None:
        """``calibration.csv``: the calibration table of each run (None for sweeps and sensitivity)."""
        return self.tables.get("calibration")

    @property
    def cohorts(self) -> pd.DataFrame | None:
        """``cohorts.csv``: value of each cohort of customers won."""
        return self.tables.get("cohorts")

    @property
    def scenarios(self) -> pd.DataFrame | None:
        """``scenarios.csv``: the sampled scenario variants (None without variants)."""
        return self.tables.get("scenarios")

    @property
    def network_nodes(self) -> pd.DataFrame | None:
        """``network_nodes.csv``: the network snapshot's people."""
        return self.tables.get("network_nodes")

    @property
    def network_edges(self) -> pd.DataFrame | None:
        """``network_edges.csv``: the network snapshot's ties."""
        return self.tables.get("network_edges")

    @property
    def sweep(self) -> pd.DataFrame | None:
        """``sweep.csv``: per grid point and policy (sweeps only)."""
        return self.tables.get("sweep")

    @property
    def sensitivity(self) -> pd.DataFrame | None:
        """``sensitivity.csv``: sensitivity indices (sensitivity designs only)."""
        return self.tables.get("sensitivity")

    @property
    def robustness(self) -> pd.DataFrame | None:
        """``robustness.csv``: per policy across sampled markets: wins, mean and worst regret."""
        return self.tables.get("robustness")

    @property
    def regret(self) -> pd.DataFrame | None:
        """``regret.csv``: per sampled market and policy."""
        return self.tables.get("regret")

    @property
    def transactions(self) -> pd.DataFrame | None:
        """``transactions.csv`` or ``.parquet``: the runs' purchases (read when asked for)."""
        parquet = self.folder / f"{TRANSACTIONS}.parquet"
        if parquet.is_file():
            return pd.read_parquet(parquet)
        path = self.folder / f"{TRANSACTIONS}.csv"
        return read_table(path) if path.is_file() else None

    @property
    def policies(self) -> list[str]:
        """Policies in the order they were compared (the first is the baseline)."""
        return list(self.manifest.get("policies", []))

    def write(self, folder: str | os.PathLike[str]) -> Path:
        """Copy the results folder (tables, provenance, figures) to ``folder``.

        Files are written atomically; the per-run files under ``runs/`` stay behind (they
        serve ``--resume`` of the original folder only).
        """
        target = Path(folder)
        if target.exists() and target.resolve() == self.folder.resolve():
            return target
        check_output_folder(target)
        clear_earlier_results(target)
        target.mkdir(parents=True, exist_ok=True)
        for src in sorted(self.folder.rglob("*")):
            rel = src.relative_to(self.folder)
            if rel.parts[0] == "runs" or not src.is_file():
                continue
            dst = target / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            tmp = dst.with_name(f".{dst.name}.copy.tmp")
            shutil.copyfile(src, tmp)
            os.replace(tmp, dst)
        return target

    def report(self, folder: str | os.PathLike[str] | None = None) -> Path | None:
        """Draw the figures and write ``report.html`` (into ``folder`` if given, after :meth:`write`)."""
        target = self.write(folder) if folder is not None else self.folder
        return _draw(target, self.kind, plots=True, report=True)


def read_results(folder: str | os.PathLike[str]) -> Results:
    """A results folder written by :func:`execute` (or ``marketsim run``) back in memory."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    tables = {p.stem: read_table(p) for p in sorted(folder.glob("*.csv")) if p.stem != TRANSACTIONS}
    return Results(folder, str(manifest.get("kind", "run")), tables, manifest)


def _draw(folder: Path, kind: str, *, plots: bool, report: bool) -> Path | None:
    if kind == "run":
        path, _ = render_report(folder, plots=plots, report=report)
        return path
    return redraw(folder)[2]


def transactions_to_parquet(folder: str | os.PathLike[str]) -> Path | None:
    """Turn the folder's ``transactions.csv`` into ``transactions.parquet`` (atomically:
    a temporary file moved into place, then the CSV removed); None if there is no log.

    Read and written by pyarrow in column batches, so a log of millions of rows converts
    in seconds; names stay text (a firm called "1" is not a number).
    """
    folder = Path(folder)
    source = folder / f"{TRANSACTIONS}.csv"
    if not source.is_file():
        return None
    target = folder / f"{TRANSACTIONS}.parquet"
    text = {c: pa.string() for c in ("policy", "firm", "date")}
    table = pa_csv.read_csv(source, convert_options=pa_csv.ConvertOptions(column_types=text))
    tmp = folder / f".{target.name}.tmp"
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, target)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS:
            raise DiskFullError(target, exc) from None
        raise
    source.unlink()
    return target
