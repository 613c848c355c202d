"""Reading a results folder back: the tables and the provenance, nothing else.

The report layer never imports the model; everything it shows comes from these files.
What it reads is checked against the results contract first (:func:`check_results_folder`):
a manifest that is a JSON object, tables in UTF-8 that parse, with their required columns
and types and the manifest's row counts, ending with a whole line, and a resolved scenario
that validates. A damaged folder gets a :class:`ResultsFolderError` naming the file and the
problem (exit code 2); nothing is drawn from a truncated or hand-broken table.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from sim.common.errors import ResultsFolderError
from sim.common.files import TEXT_COLUMNS, csv_text, read_table
from sim.config.file_schema import OutputsSpec

__all__ = [
    "CONTRACT",
    "ResultsData",
    "ResultsFolderError",
    "TableContract",
    "check_results_folder",
    "load_results",
    "read_checked_table",
]

REQUIRED = ("timeseries.csv", "summary.csv")


@dataclass(frozen=True)
class TableContract:
    """What a results table must hold: text columns, whole-number columns, number columns.

    Other columns are free, but a column of numbers with one cell that is not a number
    (a hand edit, a damaged file) is refused in any table.
    """

    text: tuple[str, ...] = ()
    integer: tuple[str, ...] = ()
    number: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        """Every required column."""
        return (*self.text, *self.integer, *self.number)


_RUN = ("scenario", "replication")
CONTRACT: dict[str, TableContract] = {
    "timeseries": TableContract(("policy", "firm"), (*_RUN, "step"), ("customers", "profit")),
    "outcomes": TableContract(("policy", "firm"), _RUN),
    "cohorts": TableContract(("policy", "firm"), (*_RUN, "cohort_step")),
    "calibration": TableContract(("policy", "name"), _RUN, ("measured",)),
    "network_nodes": TableContract(("policy", "moment"), (*_RUN, "node")),
    "network_edges": TableContract((), ("source", "target")),
    "summary": TableContract(("policy", "firm", "outcome"), (), ("n", "mean")),
}
"""The results contract of the tables ``marketsim report`` reads (docs/results.md)."""

_MAX_PROBLEM_CELLS = 3  # bad cells quoted in one message


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
    _memo: dict[Any, pd.DataFrame] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def policies(self) -> list[str]:
        """Policies in run order (the first is the baseline), named as the tables name them
        (a name a spreadsheet would execute is neutralised there: :func:`csv_text`)."""
        listed = self.manifest.get("policies")
        if listed:
            return [csv_text(str(p)) for p in listed]
        return list(pd.unique(self.timeseries["policy"]))

    @property
    def firms(self) -> list[str]:
        """Firms, the focal firm first (named as the tables name them)."""
        listed = self.manifest.get("firms")
        if listed:
            return [csv_text(str(f)) for f in listed]
        return list(pd.unique(self.timeseries["firm"]))

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
        """Timeseries rows of the focal firm (selected once; treat it as read-only)."""
        if "focal" not in self._memo:
            self._memo["focal"] = self.timeseries[self.timeseries["firm"] == self.focal]
        return self._memo["focal"]

    def focal_policy(self, policy: str) -> pd.DataFrame:
        """Timeseries rows of the focal firm under ``policy`` (selected once, read-only).

        Why kept: every panel over time draws each policy, and selecting the rows again
        for each was a good part of drawing the report's figures.
        """
        key = ("policy", policy)
        if key not in self._memo:
            series = self.focal_series()
            self._memo[key] = series[series["policy"] == policy]
        return self._memo[key]


def _read_csv(path: Path, rows: Mapping[str, int] | None = None) -> pd.DataFrame | None:
    """The table at ``path``, checked (:func:`read_checked_table`); None when absent."""
    return read_checked_table(path, rows) if path.is_file() else None


def _ends_with_a_whole_line(path: Path) -> bool:
    with path.open("rb") as fh:
        fh.seek(0, 2)
        if fh.tell() == 0:
            return True
        fh.seek(-1, 2)
        return fh.read(1) == b"\n"


def _cells(values: pd.Series) -> str:
    shown = [repr(str(v))[:60] for v in values.head(_MAX_PROBLEM_CELLS)]
    more = len(values) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _not_numbers(df: pd.DataFrame, column: str) -> pd.Series:
    """The cells of ``column`` that are not numbers, by line number of the file."""
    values = df[column]
    parsed = pd.to_numeric(values, errors="coerce")
    bad = values[parsed.isna() & values.notna()]
    bad.index = bad.index + 2  # line numbers: the header is line 1
    return bad


def read_checked_table(path: Path, rows: Mapping[str, int] | None = None) -> pd.DataFrame:
    """The results table at ``path``, refused with a message naming the file when it is not
    UTF-8, does not parse, ends in the middle of a line, lacks a column of its contract,
    has text where numbers belong, or has another number of rows than the manifest says
    (``rows``: the manifest's row counts by table name)."""
    name = path.stem
    try:
        if not _ends_with_a_whole_line(path):
            raise ResultsFolderError(
                f"{path}: ends in the middle of a line (a truncated or damaged table); "
                "run the experiment again to rewrite it"
            )
        df = read_table(path)
    except ResultsFolderError:
        raise
    except UnicodeDecodeError as exc:
        raise ResultsFolderError(
            f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason}); a results table is UTF-8 CSV"
        ) from None
    except (pd.errors.ParserError, ValueError, OSError, MemoryError) as exc:
        reason = str(exc).strip().splitlines()[-1:] or [type(exc).__name__]
        raise ResultsFolderError(f"{path}: not a readable CSV table ({reason[0]})") from None
    if df.columns.empty:
        raise ResultsFolderError(f"{path}: empty (no header line); the table is damaged")
    if not isinstance(df.index, pd.RangeIndex):  # pandas took extra cells as an index
        raise ResultsFolderError(
            f"{path}: rows have more cells than the header has columns (a damaged table)"
        )
    contract = CONTRACT.get(name, TableContract())
    missing = [c for c in contract.columns if c not in df.columns]
    if missing:
        raise ResultsFolderError(
            f"{path}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(has {', '.join(map(str, df.columns[:8]))}{', ...' if len(df.columns) > 8 else ''})"
        )
    for column in contract.text:
        if pd.api.types.is_numeric_dtype(df[column]):
            df[column] = df[column].astype(str)
    numeric = [*contract.integer, *contract.number]
    for column in df.columns:
        if column in contract.text or pd.api.types.is_numeric_dtype(df[column]):
            continue
        if column in TEXT_COLUMNS and column not in numeric:  # names may look like numbers
            continue
        if pd.api.types.is_bool_dtype(df[column]):
            continue
        bad = _not_numbers(df, str(column))
        if bad.empty:
            continue
        if column in numeric or len(bad) < df[column].notna().sum():
            where = ", ".join(f"line {i}" for i in bad.index[:_MAX_PROBLEM_CELLS])
            raise ResultsFolderError(
                f"{path}: column {column} holds text where numbers belong ({where}: {_cells(bad)})"
            )
    for column in contract.integer:
        values = df[column].dropna()
        if len(values) and not (values == values.round()).all():
            raise ResultsFolderError(f"{path}: column {column} must hold whole numbers")
    expected = (rows or {}).get(name)
    if expected is not None and len(df) != expected:
        raise ResultsFolderError(
            f"{path}: {len(df)} rows, but the manifest says {expected} were written (a "
            "truncated or edited table); run the experiment again to rewrite it"
        )
    return df


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    if not path.is_file():
        return {}
    try:
        manifest = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ResultsFolderError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ResultsFolderError(f"{path} is not valid JSON: {exc}") from None
    except OSError as exc:
        raise ResultsFolderError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not isinstance(manifest, dict):
        raise ResultsFolderError(
            f"{path}: expected a JSON object (keys and values), got a {type(manifest).__name__}"
        )
    rows = manifest.get("rows", {})
    if not isinstance(rows, dict) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in rows.values()
    ):
        raise ResultsFolderError(
            f"{path}: 'rows' must map each table to its number of rows, got {str(rows)[:80]}"
        )
    for key in ("policies", "firms"):
        listed = manifest.get(key)
        if listed is not None and (
            not isinstance(listed, list) or not all(isinstance(x, str) for x in listed)
        ):
            raise ResultsFolderError(f"{path}: '{key}' must be a list of names, got {listed!r:.80}")
    per_year = manifest.get("steps_per_year")
    if per_year is not None and (
        not isinstance(per_year, int) or isinstance(per_year, bool) or not 1 <= per_year <= 366
    ):
        raise ResultsFolderError(
            f"{path}: 'steps_per_year' must be a whole number from 1 to 366, got {per_year!r:.40}"
        )
    return manifest


def _read_scenario(folder: Path) -> dict[str, Any]:
    """The resolved scenario: TOML in UTF-8 whose ``[outputs]`` (what the report uses:
    formats, dpi, band) the schema accepts. The rest is not validated again: a folder
    written by an earlier version stays readable, and its graph file may have moved."""
    path = folder / "scenario.resolved.toml"
    if not path.is_file():
        return {}
    try:
        scenario = tomllib.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ResultsFolderError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise ResultsFolderError(f"{path}: not a readable scenario ({exc})") from None
    except OSError as exc:
        raise ResultsFolderError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    outputs = scenario.get("outputs", {})
    try:
        OutputsSpec.model_validate(outputs)
    except ValidationError as exc:
        problems = [
            f"outputs.{'.'.join(map(str, e['loc']))}: {e['msg']} (got {e.get('input')!r:.40})"
            for e in exc.errors(include_url=False)[:3]
        ]
        raise ResultsFolderError(
            f"{path}: the report settings are not valid: {'; '.join(problems)}"
        ) from None
    return scenario


def check_results_folder(folder: str | Path) -> dict[str, Any]:
    """Check a results folder's manifest, resolved scenario and every table the manifest
    counts; return the manifest. Raises :class:`ResultsFolderError` naming the file."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ResultsFolderError(f"{folder}: no such results folder")
    manifest = _read_manifest(folder)
    _read_scenario(folder)
    rows = manifest.get("rows", {})
    for name, count in rows.items():
        path = folder / f"{Path(str(name)).name}.csv"
        if not path.is_file():
            if count:
                raise ResultsFolderError(
                    f"{path}: missing, but the manifest says {count} rows were written"
                )
            continue
        read_checked_table(path, rows)
    return manifest


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
    manifest = _read_manifest(folder)
    scenario = _read_scenario(folder)
    rows = manifest.get("rows", {})
    timeseries = _read_csv(folder / "timeseries.csv", rows)
    summary = _read_csv(folder / "summary.csv", rows)
    assert timeseries is not None and summary is not None
    if timeseries.empty:
        raise ResultsFolderError(f"{folder}/timeseries.csv has no rows")
    if summary.empty:
        raise ResultsFolderError(f"{folder}/summary.csv has no rows")
    outcomes = _read_csv(folder / "outcomes.csv", rows)
    calibration = _read_csv(folder / "calibration.csv", rows)
    cohorts = _read_csv(folder / "cohorts.csv", rows)
    for table in (timeseries, outcomes, calibration, cohorts):
        _number_runs(table)
    # Text columns must stay text ("" = no firm in the network snapshot).
    nodes = _read_csv(folder / "network_nodes.csv", rows)
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
        edges=_read_csv(folder / "network_edges.csv", rows),
        manifest=manifest,
        scenario=scenario,
    )
