"""The fingerprint of an experiment: what decides every run's content, hashed.

A results folder holds one experiment: ``--resume`` continues only an experiment whose
fingerprint matches, and each run file carries the fingerprint it was made under. The
fingerprint covers the resolved scenario, its variants, the content of every input file
and the code's version, so a replaced graph file or an edited model is another experiment.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from sim.common.errors import ExperimentError
from sim.config.graph_files import FILE_GRAPH_KINDS
from sim.config.scenario_file import ScenarioFile
from sim.experiment.runstore import (
    fingerprint,
)

__all__ = ["code_version", "experiment_fingerprint", "input_files"]


_CODE_SUFFIXES = (".py",)


@lru_cache(maxsize=1)
def code_version() -> str:
    """The version of the code that runs: the installed version and a SHA-256 of the
    package's Python sources (paths and contents, in sorted order; ``sim/__init__.py``
    holds ``__version__``, so the hash covers it too).

    Why the sources rather than the git revision: a wheel or a copy has no git history,
    and a checkout with uncommitted edits has an unchanged revision yet other code; the
    sources are what runs, in every kind of install, and hashing them takes milliseconds.
    Any change of code, a comment included, therefore makes another experiment: resuming
    never mixes runs of two versions of the model.
    """
    root = Path(__file__).resolve().parents[1]  # the sim package
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in _CODE_SUFFIXES and "__pycache__" not in path.parts:
            digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0")
            digest.update(path.read_bytes() + b"\0")
    try:
        version = importlib.metadata.version("marketsim")
    except importlib.metadata.PackageNotFoundError:  # a copy of the sources on the path
        version = "unknown"
    return f"{version}+{digest.hexdigest()[:16]}"


def _file_digest(path: str) -> str:
    """SHA-256 of a file's content (read in blocks: graph files may be large)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise ExperimentError(
            f"{path}: cannot read the input file ({exc.strerror or exc})"
        ) from None
    return digest.hexdigest()


def input_files(sf: ScenarioFile) -> dict[str, str]:
    """Every file an experiment reads besides the scenario, with its content's SHA-256."""
    net = sf.network
    if net.kind in FILE_GRAPH_KINDS and net.path:
        return {"network.path": _file_digest(net.path)}
    return {}


def experiment_fingerprint(sf: ScenarioFile, variants: Sequence[Mapping[str, Any]]) -> str:
    """What decides every run's content, hashed: the scenario (less what changes no run's
    tables: the number of replications and the report settings; the hold-out runs of
    ``incremental_replications`` add calibration rows, so they count), the variants, the
    content of every input file (a graph file replaced at the same path is another
    experiment) and the code's version (:func:`code_version`)."""
    data = sf.model_dump(mode="json")
    data.get("simulation", {}).pop("replications", None)
    out = sf.outputs
    data["outputs"] = {
        "network_sample": out.network_sample,
        "incremental_replications": out.incremental_replications,
    }
    if out.transactions:  # what the run files hold (the file format is the assembly's)
        data["outputs"].update(
            transactions_firms=out.transactions_firms, transactions_sample=out.transactions_sample
        )
    data["inputs"] = input_files(sf)
    data["code"] = code_version()
    return fingerprint(data, [dict(v) for v in variants])
