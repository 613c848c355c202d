"""Provenance of a results folder: the resolved scenario and the manifest, written last.

Why separate from the tables: a results folder must say how it came about (every value
used, the seeds, versions, the command line) so it can be run again exactly, and the
manifest is written last so that a folder with a manifest is a complete one. These
functions take plain data (a :class:`RunFacts` of the finished experiment) and write
files; they compute nothing from the tables.

>>> question_of("Does retention pay?\\nSource: x.toml\\n\\n")
['Does retention pay?']
"""

from __future__ import annotations

import importlib.metadata
import json
import platform
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.common.files import atomic_write_text
from sim.common.seeds import replication_seeds
from sim.config.scenario_file import ScenarioFile, dump_toml
from sim.experiment.runstore import ExperimentIndex

__all__ = [
    "PACKAGES",
    "RunFacts",
    "build_manifest",
    "question_of",
    "resolved_scenario_text",
    "write_manifest",
    "write_provenance",
    "write_resolved_scenario",
]

PACKAGES = ("marketsim", "mesa", "numpy", "scipy", "pandas", "networkx", "pydantic", "matplotlib")
"""Packages whose versions the manifest records."""

_PROVENANCE = ("The resolved scenario:", "Source:", "Run it again exactly", "Replication seeds")


@dataclass(frozen=True)
class RunFacts:
    """What the manifest says of a finished experiment (plain data, no run index needed).

    ``rows``: rows per table written (``outcomes``, ``timeseries``, ..., ``summary``).
    """

    runs: int
    runs_done: int
    runs_resumed: int
    replications: int
    scenarios: int
    fingerprint: str
    executor: str | None = None
    rows: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_index(cls, index: ExperimentIndex, rows: Mapping[str, int] | None = None) -> RunFacts:
        """The facts of the experiment ``index`` describes; ``rows`` adds tables' counts."""
        meta = index.meta
        return cls(
            runs=len(index.records),
            runs_done=index.counts().get("done", 0),
            runs_resumed=index.resumed,
            replications=int(meta.get("replications", 0)),
            scenarios=int(meta.get("scenarios", 1)),
            fingerprint=index.fingerprint,
            executor=meta.get("executor"),
            rows={**meta.get("rows", {}), **(rows or {})},
        )


def question_of(header: str) -> list[str]:
    """The lines of a scenario file's header comment that ask its question.

    Provenance lines a resolved scenario added earlier are dropped, so resolving a
    resolved scenario does not repeat them; trailing blank lines go too.
    """
    question = [line for line in header.splitlines() if not line.startswith(_PROVENANCE)]
    while question and not question[-1].strip():
        question.pop()
    return question


RERUN_RUN = "marketsim run scenario.resolved.toml"
"""How a ``run`` folder's resolved scenario is run again (sweeps add their ``--param``)."""


def resolved_scenario_text(
    sf: ScenarioFile,
    *,
    replications: int,
    source: str | None = None,
    header: str = "",
    rerun: str = RERUN_RUN,
) -> str:
    """``scenario.resolved.toml``: every value used, with the question and the seeds on top.

    ``rerun`` is the command that repeats the experiment from this file.
    """
    question = question_of(header)
    seeds = replication_seeds(sf.simulation.seed, replications)
    lines = [
        *question,
        *([""] if question else []),
        "The resolved scenario: every value used, defaults filled in.",
        f"Source: {source}" if source else "Source: (built in Python)",
        f"Run it again exactly with: {rerun}",
        f"Replication seeds (numpy SeedSequence({sf.simulation.seed}).spawn): "
        + ", ".join(str(s) for s in seeds),
    ]
    return dump_toml(sf, "\n".join(lines))


def write_resolved_scenario(
    folder: str | Path,
    sf: ScenarioFile,
    *,
    replications: int,
    source: str | None = None,
    header: str = "",
    rerun: str = RERUN_RUN,
) -> Path:
    """Write ``folder/scenario.resolved.toml`` (see :func:`resolved_scenario_text`)."""
    path = Path(folder) / "scenario.resolved.toml"
    text = resolved_scenario_text(
        sf, replications=replications, source=source, header=header, rerun=rerun
    )
    atomic_write_text(path, text)
    return path


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _git_revision() -> dict[str, Any]:
    """The marketsim checkout's git revision; None for an installed wheel.

    Only a folder that is marketsim's own checkout (its pyproject.toml names the project)
    is asked, so a wheel installed in a virtual environment inside someone else's
    repository does not record that repository's revision.
    """
    root = Path(__file__).resolve().parents[2]
    pyproject = root / "pyproject.toml"
    try:
        if 'name = "marketsim"' not in pyproject.read_text(encoding="utf-8"):
            return {"revision": None}
    except OSError:
        return {"revision": None}
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5
        )
        if rev.returncode != 0:
            return {"revision": None}
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return {"revision": rev.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"revision": None}


def build_manifest(
    sf: ScenarioFile,
    facts: RunFacts,
    *,
    source: str | None = None,
    header: str = "",
    command_line: Sequence[str] | None = None,
    workers: int | None = None,
    started: float | None = None,
    finished: float | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The manifest's content: the scenario, the runs, the seeds, timings and versions.

    ``started``/``finished`` are ``time.time()`` values (default: now); ``extra`` keys
    (e.g. the experiment's kind and design) come last.
    """
    finished = time.time() if finished is None else finished
    started = finished if started is None else started
    return {
        "scenario": sf.name,
        "scenario_file": source,
        "question": "\n".join(question_of(header)),
        "policies": [p.name for p in sf.policies],
        "firms": list(sf.to_scenario().firm_names),
        "seed": sf.simulation.seed,
        "replications": facts.replications,
        "replication_seeds": replication_seeds(sf.simulation.seed, facts.replications),
        "scenarios": facts.scenarios,
        "steps": sf.simulation.steps,
        "step_length": sf.simulation.step_length,
        "steps_per_year": sf.simulation.steps_per_year,
        "engine": sf.simulation.engine,
        "runs": facts.runs,
        "runs_resumed": facts.runs_resumed,
        "runs_done": facts.runs_done,
        "run_index": "runs/index.json",
        "fingerprint": facts.fingerprint,
        "executor": facts.executor,
        "workers": workers,
        "rows": dict(facts.rows),
        "command_line": list(command_line if command_line is not None else sys.argv),
        "started": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        "finished": datetime.fromtimestamp(finished, UTC).isoformat(timespec="seconds"),
        "wall_time_s": round(finished - started, 3),
        "versions": _versions(),
        "git": _git_revision(),
        "platform": platform.platform(),
        **(extra or {}),
    }


def write_manifest(folder: str | Path, manifest: Mapping[str, Any]) -> Path:
    """Write ``folder/manifest.json``: the last file of a complete results folder."""
    path = Path(folder) / "manifest.json"
    atomic_write_text(path, json.dumps(dict(manifest), indent=2) + "\n")
    return path


def write_provenance(
    folder: str | Path,
    sf: ScenarioFile,
    facts: RunFacts,
    *,
    source: str | None = None,
    header: str = "",
    command_line: Sequence[str] | None = None,
    workers: int | None = None,
    started: float | None = None,
    extra: Mapping[str, Any] | None = None,
    rerun: str = RERUN_RUN,
) -> dict[str, Any]:
    """Write ``scenario.resolved.toml`` then ``manifest.json`` (last); return the manifest.

    Call it after every table of the folder (summary included) is written. ``extra`` keys
    join the manifest (the pipeline records the kind of experiment and its design).
    """
    write_resolved_scenario(
        folder, sf, replications=facts.replications, source=source, header=header, rerun=rerun
    )
    manifest = build_manifest(
        sf,
        facts,
        source=source,
        header=header,
        command_line=command_line,
        workers=workers,
        started=started,
        extra=extra,
    )
    write_manifest(folder, manifest)
    return manifest
