"""Reading a results folder back: the tables and the provenance, nothing else.

The report layer never imports the model; everything it shows comes from these files.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.common.errors import ResultsFolderError
from sim.common.files import read_table

__all__ = ["ResultsData", "ResultsFolderError", "load_results"]

REQUIRED = ("timeseries.csv", "summary.csv")


@dataclass
class ResultsData:
    """The tables of one results folder (optional tables are None when absent)."""

    folder: Path
    timeseries: pd.DataFrame
    summary: pd.DataFrame
    outcomes: pd.DataFrame | None = None
    calibration: pd.DataFrame | None = None
    cohorts: pd.DataFrame | None = None
    nodes: pd.DataFrame | None = None
    edges: pd.DataFrame | None = None
    manifest: dict[str, Any] = field(default_factory=dict)
    scenario: dict[str, Any] = field(default_factory=dict)

    @property
    def policies(self) -> list[str]:
        """Policies in run order (the first is the baseline)."""
        listed = self.manifest.get("policies")
        return list(listed) if listed else list(pd.unique(self.timeseries["policy"]))

    @property
    def firms(self) -> list[str]:
        """Firms, the focal firm first."""
        listed = self.manifest.get("firms")
        return list(listed) if listed else list(pd.unique(self.timeseries["firm"]))

    @property
    def focal(self) -> str:
        """The focal firm (the one the policies steer)."""
        return self.firms[0]

    @property
    def steps_per_year(self) -> int:
        """Steps in one year (from the manifest, else the scenario's step length)."""
        if "steps_per_year" in self.manifest:
            return int(self.manifest["steps_per_year"])
        length = self.scenario.get("simulation", {}).get("step_length", "week")
        return {"day": 365, "week": 52, "month": 12, "quarter": 4}.get(length, 52)

    @property
    def step_length(self) -> str:
        """'week', 'month', ... (a word for axis labels)."""
        return str(
            self.manifest.get("step_length")
            or self.scenario.get("simulation", {}).get("step_length", "step")
        )

    @property
    def scenario_name(self) -> str:
        """The scenario's name (user text: escape it before showing it in HTML)."""
        return str(self.manifest.get("scenario") or self.scenario.get("name") or "scenario")

    def focal_series(self) -> pd.DataFrame:
        """Timeseries rows of the focal firm."""
        return self.timeseries[self.timeseries["firm"] == self.focal]


def _read_csv(path: Path) -> pd.DataFrame | None:
    """The table at ``path``, None when the folder has none."""
    return read_table(path) if path.is_file() else None


def _number_runs(df: pd.DataFrame | None) -> None:
    """With several scenario variants, make ``replication`` number the runs of a policy.

    The figures draw one line or dot per replication of a policy; replication ``k`` of
    two scenario variants is two runs, so in memory ``replication`` becomes
    ``scenario * replications + replication`` (the files keep both columns). With one
    scenario nothing changes.
    """
    if df is None or "scenario" not in df or "replication" not in df:
        return
    if df["scenario"].nunique() <= 1:
        return
    per = int(df["replication"].max()) + 1
    df["replication"] = df["scenario"].astype("int64") * per + df["replication"]


def load_results(folder: str | Path) -> ResultsData:
    """Read a results folder written by ``marketsim run``.

    Raises :class:`ResultsFolderError` if the required tables are missing.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ResultsFolderError(f"{folder}: no such results folder")
    missing = [name for name in REQUIRED if not (folder / name).is_file()]
    if missing:
        raise ResultsFolderError(
            f"{folder}: not a complete results folder (missing {', '.join(missing)}); "
            "run `marketsim run SCENARIO.toml --out DIR` first"
        )
    timeseries = _read_csv(folder / "timeseries.csv")
    summary = _read_csv(folder / "summary.csv")
    assert timeseries is not None and summary is not None
    if timeseries.empty or "policy" not in timeseries:
        raise ResultsFolderError(f"{folder}/timeseries.csv has no rows")
    manifest: dict[str, Any] = {}
    if (folder / "manifest.json").is_file():
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ResultsFolderError(f"{folder}/manifest.json is not valid JSON: {exc}") from None
    scenario: dict[str, Any] = {}
    if (folder / "scenario.resolved.toml").is_file():
        try:
            scenario = tomllib.loads((folder / "scenario.resolved.toml").read_text("utf-8"))
        except tomllib.TOMLDecodeError:
            scenario = {}
    outcomes = _read_csv(folder / "outcomes.csv")
    calibration = _read_csv(folder / "calibration.csv")
    cohorts = _read_csv(folder / "cohorts.csv")
    for table in (timeseries, outcomes, calibration, cohorts):
        _number_runs(table)
    # Text columns must stay text ("" = no firm in the network snapshot).
    nodes = _read_csv(folder / "network_nodes.csv")
    if nodes is not None and "firm" in nodes:
        nodes["firm"] = nodes["firm"].fillna("").astype(str)
    return ResultsData(
        folder=folder,
        timeseries=timeseries,
        summary=summary,
        outcomes=outcomes,
        calibration=calibration,
        cohorts=cohorts,
        nodes=nodes,
        edges=_read_csv(folder / "network_edges.csv"),
        manifest=manifest,
        scenario=scenario,
    )
