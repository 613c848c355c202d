"""The ``runs/`` folder of an experiment: one file per finished run and an index.

Why a folder of files: an experiment of thousands of runs must survive a crash or a
SIGKILL without losing finished work, and must not hold every run's tables in memory.
Each finished run is one zip file (CSV members we render ourselves; never pickle),
written atomically under a name made of its coordinates, so a file that exists is a
complete run. ``index.json`` (rewritten atomically, at most about once a second and at
the end) lists every planned run with its coordinates, seed and status: ``done``,
``failed`` (with its error) or ``not_started``. Resuming trusts the run files, not the
index, so a crash between the two loses nothing; but it trusts no file blindly: a run file
whose stored fingerprint or coordinates are not this experiment's (copied in from another
folder), or that is damaged, is named, set aside (renamed ``*.foreign`` or ``*.corrupt``)
and run again.

The big tables are assembled afterwards by streaming the run files one at a time, in
coordinate order (policy, scenario, replication): the output does not depend on the order
runs finished in, and memory does not grow with the number of runs.

This module knows files only (no model), so the report layer may use it.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import time
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.common.errors import ExperimentError
from sim.common.files import (
    TableStream,
    atomic_write_bytes,
    atomic_write_text,
    remove_temporary_files,
)

__all__ = [
    "DONE",
    "FAILED",
    "INDEX_FORMAT",
    "NOT_STARTED",
    "RESULT_TABLES",
    "ExperimentError",
    "ExperimentIndex",
    "RunRecord",
    "RunStore",
    "check_run_file",
    "decode_run",
    "encode_run",
    "fingerprint",
    "set_aside",
]

DONE, FAILED, NOT_STARTED = "done", "failed", "not_started"
INDEX_FORMAT = "marketsim-runs/1"
RESULT_TABLES = (
    "outcomes",
    "timeseries",
    "cohorts",
    "calibration",
    "network_nodes",
    "network_edges",
    "transactions",
)
"""Tables a run file may hold, in the order they are assembled (``<name>.csv`` members)."""

_ONCE = ("network_edges",)  # the same for every run that has it (one graph, CRN): keep the first
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed member times: the same run gives the same file
_INDEX_EVERY_S = 1.0
_DAMAGED = (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, ValueError, EOFError, OSError)
"""What reading a damaged run file raises (JSONDecodeError and UnicodeDecodeError are
ValueErrors; a member missing is a KeyError)."""

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- one run file


def encode_run(meta: Mapping[str, Any], tables: Mapping[str, tuple[str, int]]) -> bytes:
    """A run file's bytes: ``meta.json`` and one CSV member per table.

    ``tables`` maps a table name to (CSV text with its header line, row count).
    """
    buffer = io.BytesIO()
    rows = {name: n for name, (_, n) in tables.items()}
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        info = zipfile.ZipInfo("meta.json", _ZIP_TIME)
        zf.writestr(info, json.dumps({**meta, "rows": rows}, sort_keys=True), zipfile.ZIP_STORED)
        for name, (text, _) in tables.items():
            info = zipfile.ZipInfo(f"{name}.csv", _ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text.encode("utf-8"), compresslevel=1)
    return buffer.getvalue()


def decode_run(data: bytes | Path) -> tuple[dict[str, Any], dict[str, str]]:
    """(meta, {table: CSV text}) of a run file's bytes or path."""
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    with zipfile.ZipFile(source) as zf:
        meta = json.loads(zf.read("meta.json"))
        tables = {
            n.removesuffix(".csv"): zf.read(n).decode("utf-8")
            for n in zf.namelist()
            if n.endswith(".csv")
        }
    return meta, tables


def check_run_file(path: Path, expected: Mapping[str, Any]) -> str | None:
    """Why the run file at ``path`` cannot be used as the run ``expected`` describes
    (its fingerprint and coordinates), or None when it can: it is a whole zip whose every
    member has its checksum, with a ``meta.json`` that names this very run."""
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
            if bad is not None:
                return f"damaged: member {bad} fails its checksum"
            meta = json.loads(zf.read("meta.json"))
    except _DAMAGED as exc:
        return f"damaged: {type(exc).__name__}: {exc}"
    if not isinstance(meta, dict):
        return "damaged: meta.json is not a JSON object"
    for key, want in expected.items():
        if meta.get(key) != want:
            if key == "fingerprint":
                return (
                    f"a run of another experiment (fingerprint {str(meta.get(key))[:12]}, "
                    f"this one is {str(want)[:12]})"
                )
            return f"a run of another experiment ({key} {meta.get(key)!r}, expected {want!r})"
    return None


def set_aside(path: Path, reason: str) -> Path:
    """Rename an unusable run file out of the way (``*.corrupt`` or ``*.foreign``), say so.

    Kept, not deleted: it may be someone's only copy of a run of another experiment.
    """
    suffix = ".corrupt" if reason.startswith("damaged") else ".foreign"
    target = path.with_name(path.name + suffix)
    path.replace(target)
    log.warning(
        "marketsim: note: %s is %s; set aside as %s, the run is done again",
        path,
        reason,
        target.name,
    )
    return target


# --------------------------------------------------------------------------- the index


@dataclass
class RunRecord:
    """One planned run in the index: coordinates, seed, status and what happened."""

    index: int
    policy: str
    policy_index: int
    scenario: int
    replication: int
    seed: int
    status: str = NOT_STARTED
    file: str | None = None
    attempts: int = 0
    wall_s: float | None = None
    error: str | None = None

    @property
    def coordinates(self) -> str:
        """Policy, scenario, replication and seed in words (for messages)."""
        return (
            f"policy {self.policy!r}, scenario {self.scenario}, replication "
            f"{self.replication}, seed {self.seed}"
        )


@dataclass
class ExperimentIndex:
    """Every planned run of an experiment and its status (``runs/index.json``).

    ``records`` are in plan order (round-robin: replication, then scenario, then policy).
    """

    folder: Path
    fingerprint: str
    records: list[RunRecord]
    meta: dict[str, Any] = field(default_factory=dict)
    resumed: int = 0  # runs found finished on disk when the experiment (re)started

    def with_status(self, status: str) -> list[RunRecord]:
        """The records with ``status`` (plan order)."""
        return [r for r in self.records if r.status == status]

    @property
    def done(self) -> list[RunRecord]:
        """Finished runs."""
        return self.with_status(DONE)

    @property
    def failed(self) -> list[RunRecord]:
        """Runs that raised or whose worker died too often."""
        return self.with_status(FAILED)

    @property
    def complete(self) -> bool:
        """Every planned run is done."""
        return all(r.status == DONE for r in self.records)

    def counts(self) -> dict[str, int]:
        """Runs per status."""
        out = {DONE: 0, FAILED: 0, NOT_STARTED: 0}
        for r in self.records:
            out[r.status] = out.get(r.status, 0) + 1
        return out

    def in_table_order(self) -> list[RunRecord]:
        """Records in the tables' order: policy, scenario, replication."""
        return sorted(self.records, key=lambda r: (r.policy_index, r.scenario, r.replication))

    def to_json(self) -> str:
        """The index file's text."""
        body = {
            "format": INDEX_FORMAT,
            "fingerprint": self.fingerprint,
            **self.meta,
            "counts": self.counts(),
            "updated": datetime.now(UTC).isoformat(timespec="seconds"),
            "runs": [asdict(r) for r in self.records],
        }
        return json.dumps(body, indent=1) + "\n"


def fingerprint(scenario: Mapping[str, Any], variants: Sequence[Mapping[str, Any]]) -> str:
    """SHA-256 of what decides every run's content: the resolved scenario and the variants.

    The caller leaves out what does not change a run (the number of replications: a run's
    seed does not depend on it, so an experiment can be resumed with more replications).
    """
    text = json.dumps(
        {"scenario": scenario, "variants": list(variants)},
        sort_keys=True,
        default=repr,
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- the folder


class RunStore:
    """The ``runs/`` folder under an experiment's output folder."""

    def __init__(self, out_dir: str | Path) -> None:
        self.out_dir = Path(out_dir)
        self.folder = self.out_dir / "runs"
        self.index_path = self.folder / "index.json"
        self._saved_at = 0.0

    @staticmethod
    def file_name(policy_index: int, scenario: int, replication: int) -> str:
        """A run file's name: its coordinates, so names sort in plan order."""
        return f"run-r{replication:05d}-s{scenario:05d}-p{policy_index:03d}.zip"

    def path_of(self, record: RunRecord) -> Path:
        """Where ``record``'s run file lives."""
        return self.folder / self.file_name(
            record.policy_index, record.scenario, record.replication
        )

    def read_index(self) -> dict[str, Any] | None:
        """The index file's content (None when there is none)."""
        if not self.index_path.is_file():
            return None
        try:
            data = json.loads(self.index_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ExperimentError(f"{self.index_path}: cannot read the run index ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != INDEX_FORMAT:
            raise ExperimentError(f"{self.index_path}: not a marketsim run index")
        return data

    def open(
        self,
        records: list[RunRecord],
        fingerprint: str,
        meta: dict[str, Any],
        *,
        resume: bool,
    ) -> ExperimentIndex:
        """Start or resume the experiment in this folder and return its index.

        Fresh start: refuses a folder whose index shows an unfinished experiment (so an
        interrupted experiment is not thrown away by a forgotten ``--resume``), then
        removes the old run files. Resume: the folder's fingerprint must match, and every
        run whose file exists is done.
        """
        previous = self.read_index()
        if resume:
            if previous is None:
                raise ExperimentError(
                    f"--resume: {self.out_dir} holds no experiment to resume (no "
                    f"{self.index_path.relative_to(self.out_dir)}); run without --resume"
                )
            if previous.get("fingerprint") != fingerprint:
                raise ExperimentError(
                    f"--resume: {self.out_dir} holds runs of a different experiment "
                    f"(scenario '{previous.get('scenario', '?')}', "
                    f"fingerprint {str(previous.get('fingerprint'))[:12]}; this one is "
                    f"{fingerprint[:12]}): the scenario, its variants or the overrides "
                    "differ. Resume with the same scenario and options, or choose another --out"
                )
        elif previous is not None:
            unfinished = [r for r in previous.get("runs", []) if r.get("status") != DONE]
            if unfinished:
                raise ExperimentError(
                    f"{self.out_dir} holds an unfinished experiment "
                    f"({len(unfinished)} of {len(previous.get('runs', []))} runs not done): "
                    f"add --resume to continue it, or delete {self.folder} to start over"
                )
        self.folder.mkdir(parents=True, exist_ok=True)
        index = ExperimentIndex(self.out_dir, fingerprint, records, meta)
        if resume:
            old = {r.get("index"): r for r in (previous or {}).get("runs", [])}
            set_aside_files: list[str] = []
            for r in records:
                path = self.path_of(r)
                if not path.is_file():
                    continue
                why = check_run_file(path, self.expected_meta(r, fingerprint))
                if why is not None:
                    set_aside_files.append(f"{set_aside(path, why).name}: {why}")
                    continue
                r.status, r.file = DONE, path.name
                before = old.get(r.index) or {}
                if isinstance(before, dict):
                    r.attempts = int(before.get("attempts") or 0)
                    r.wall_s = before.get("wall_s")
                index.resumed += 1
            if set_aside_files:
                index.meta["set_aside"] = set_aside_files
        else:
            for path in self.folder.glob("run-*.zip"):
                path.unlink()
        remove_temporary_files(self.folder, self.out_dir)  # left by a parent killed mid-write
        self.save(index)
        return index

    @staticmethod
    def expected_meta(record: RunRecord, fingerprint: str) -> dict[str, Any]:
        """What the ``meta.json`` of ``record``'s run file must say."""
        return {
            "fingerprint": fingerprint,
            "index": record.index,
            "policy_index": record.policy_index,
            "scenario": record.scenario,
            "replication": record.replication,
            "seed": record.seed,
        }

    def write_run(self, index: ExperimentIndex, record: RunRecord, data: bytes) -> None:
        """Persist a finished run at once (atomically) and mark it done."""
        path = self.path_of(record)
        atomic_write_bytes(path, data)
        record.status, record.file, record.error = DONE, path.name, None

    def save(self, index: ExperimentIndex, *, force: bool = True) -> None:
        """Rewrite the index atomically (unless ``force`` is off and it was just written)."""
        now = time.monotonic()
        if not force and now - self._saved_at < _INDEX_EVERY_S:
            return
        atomic_write_text(self.index_path, index.to_json())
        self._saved_at = now

    def assemble(
        self,
        index: ExperimentIndex,
        tables: Iterable[str] = ("outcomes",),
        *,
        folder: str | Path | None = None,
    ) -> dict[str, int]:
        """Write ``<table>.csv`` for each table from the done runs' files; return row counts.

        One pass over the run files in table order (policy, scenario, replication), one
        file in memory at a time. A table no run has gets no file.
        """
        wanted = [t for t in RESULT_TABLES if t in set(tables)]
        folder = Path(folder or self.out_dir)
        streams = {t: TableStream(folder / f"{t}.csv") for t in wanted}
        once_done: set[str] = set()
        try:
            for record in index.in_table_order():
                if record.status != DONE:
                    continue
                path = self.path_of(record)
                try:
                    meta, texts = decode_run(path)
                    rows = dict(meta.get("rows", {}))
                except _DAMAGED as exc:
                    if isinstance(exc, OSError) and not path.is_file():
                        raise ExperimentError(
                            f"{path}: a finished run's file is missing; run the same command "
                            "again with --resume to run it again"
                        ) from None
                    set_aside(path, f"damaged: {type(exc).__name__}: {exc}")
                    raise ExperimentError(
                        f"{path}: a finished run's file is damaged ({exc}); it was set aside: "
                        "run the same command again with --resume to run it again"
                    ) from None
                for name, stream in streams.items():
                    text = texts.get(name)
                    if text is None or name in once_done:
                        continue
                    stream.write_csv(text, int(rows.get(name, 0)))
                    if name in _ONCE:
                        once_done.add(name)
            counts = {name: stream.rows for name, stream in streams.items()}
            for stream in streams.values():
                stream.commit()
        except BaseException:
            for stream in streams.values():
                stream.abort()
            raise
        return counts
