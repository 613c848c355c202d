"""The results folder: tidy tables written atomically, a summary, and provenance.

The folder is a stable contract (documented in docs/results.md):

* ``timeseries.csv``: one row per (policy, scenario, replication, step, firm): those
  keys then every metric of the engine;
* ``outcomes.csv``: one row per (policy, scenario, replication, firm), with the run's
  seed: the headline outcomes at the end of the horizon;
* ``summary.csv``: per policy, firm and outcome: mean, sd and 95% interval across runs,
  and the paired difference from the first policy (paired by scenario and replication)
  with its own interval and the count of pairs in which the policy beat the first;
* ``calibration.csv``, ``cohorts.csv``, ``network_nodes.csv``, ``network_edges.csv``;
* ``scenario.resolved.toml`` (every value used) and ``manifest.json`` (provenance).

The per-run tables are assembled by :mod:`sim.experiment.runstore` from the experiment's run
files; this module writes what is computed from them (summary) and the provenance.
Every file is written to a temporary file in the same folder and moved into place with
``os.replace`` only when complete, so an interrupted run never leaves a half-written
table under a final name.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.analysis.statistics import mean_ci, paired_difference_ci
from sim.common.files import atomic_write_bytes, atomic_write_text, csv_bytes
from sim.common.outcomes import HEADLINES
from sim.common.seeds import replication_seeds
from sim.config.scenario_file import ScenarioFile, dump_toml

if TYPE_CHECKING:  # the report imports this module for its file helpers: keep the model out
    from sim.experiment.runstore import ExperimentIndex

__all__ = [
    "ResultsInfo",
    "summarize",
    "write_results",
]


_PROVENANCE = ("The resolved scenario:", "Source:", "Run it again exactly", "Replication seeds")

PACKAGES = ("marketsim", "mesa", "numpy", "scipy", "pandas", "networkx", "pydantic", "matplotlib")




# --------------------------------------------------------------------------- outcomes


def summarize(outcomes: pd.DataFrame, policies: Sequence[str] | None = None) -> pd.DataFrame:
    """Mean, sd and 95% interval of each outcome per policy and firm, and paired differences.

    ``outcomes``: one row per (policy, scenario, replication, firm) with the
    :data:`HEADLINES` columns (``scenario`` may be absent). The first policy (of
    ``policies``, default: order of appearance) is the baseline; each policy's difference
    from it is paired by (scenario, replication), the unit that shares its random numbers
    across policies, with a paired-t interval and the number of pairs in which the policy
    was higher (all headline outcomes are better when higher).
    """
    policies = list(policies or pd.unique(outcomes["policy"]))
    pair = [c for c in ("scenario", "replication") if c in outcomes]
    baseline = policies[0]
    firms = list(pd.unique(outcomes["firm"]))
    measures = [m for m in HEADLINES if m in outcomes]
    rows = []
    for policy in policies:
        mine = outcomes[outcomes["policy"] == policy]
        for firm in firms:
            a = mine[mine["firm"] == firm].set_index(pair).sort_index()
            b = outcomes[(outcomes["policy"] == baseline) & (outcomes["firm"] == firm)]
            b = b.set_index(pair).sort_index()
            common = a.index.intersection(b.index)
            for m in measures:
                ci = mean_ci(a[m].to_numpy(float))
                base = mean_ci(b[m].to_numpy(float)).mean
                d = paired_difference_ci(
                    a.loc[common, m].to_numpy(float), b.loc[common, m].to_numpy(float)
                )
                scale = abs(base) if base and math.isfinite(base) else math.nan
                rows.append(
                    {
                        "policy": policy,
                        "firm": firm,
                        "outcome": m,
                        "n": int(a[m].notna().sum()),
                        "mean": ci.mean,
                        "sd": ci.sd,
                        "ci_low": ci.lo,
                        "ci_high": ci.hi,
                        "baseline": baseline,
                        "diff_mean": d.mean_diff,
                        "diff_ci_low": d.lo,
                        "diff_ci_high": d.hi,
                        "diff_pct": 100.0 * d.mean_diff / scale,
                        "diff_pct_low": 100.0 * d.lo / scale,
                        "diff_pct_high": 100.0 * d.hi / scale,
                        "wins_vs_baseline": d.n_a_better,
                        "replications": len(common),
                    }
                )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- provenance


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _git_revision() -> dict[str, Any]:
    root = Path(__file__).resolve().parents[2]
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


@dataclass
class ResultsInfo:
    """What :func:`write_results` wrote: the folder, its tables' row counts, timings."""

    folder: Path
    rows: dict[str, int] = field(default_factory=dict)
    runs: int = 0
    wall_s: float = 0.0
    manifest: dict[str, Any] = field(default_factory=dict)


def read_outcomes(path: str | Path) -> pd.DataFrame:
    """An outcomes.csv back, text as text and floats exactly as written."""
    return pd.read_csv(
        path,
        dtype={"policy": str, "firm": str},
        keep_default_na=False,
        na_values=[""],
    )


def write_results(
    sf: ScenarioFile,
    experiment: ExperimentIndex,
    *,
    source: str | None = None,
    header: str = "",
    command_line: Sequence[str] | None = None,
    workers: int | None = None,
    started: float | None = None,
) -> ResultsInfo:
    """Write summary.csv, scenario.resolved.toml and manifest.json (last) of a finished run.

    The tables themselves were assembled by :func:`sim.experiment.runner.run_experiment` from
    the experiment's run files into ``experiment.folder``; this adds what is computed from
    them and the provenance. Plots and the report are drawn separately (``sim.report``),
    from the files alone.
    """

    started = time.time() if started is None else started
    folder = Path(experiment.folder)
    info = ResultsInfo(folder)
    info.rows = dict(experiment.meta.get("rows", {}))
    info.runs = len(experiment.records)
    policies = [p.name for p in sf.policies]
    path = folder / "outcomes.csv"
    outcomes = read_outcomes(path) if path.is_file() else pd.DataFrame()
    summary = summarize(outcomes, policies) if not outcomes.empty else pd.DataFrame()
    atomic_write_bytes(folder / "summary.csv", csv_bytes(summary))
    info.rows["summary"] = len(summary)

    seeds = replication_seeds(sf.simulation.seed, int(experiment.meta.get("replications", 0)))
    question = [line for line in header.splitlines() if not line.startswith(_PROVENANCE)]
    while question and not question[-1].strip():
        question.pop()
    lines = [
        *question,
        *([""] if question else []),
        "The resolved scenario: every value used, defaults filled in.",
        f"Source: {source}" if source else "Source: (built in Python)",
        "Run it again exactly with: marketsim run scenario.resolved.toml",
        f"Replication seeds (numpy SeedSequence({sf.simulation.seed}).spawn): "
        + ", ".join(str(s) for s in seeds),
    ]
    atomic_write_text(folder / "scenario.resolved.toml", dump_toml(sf, "\n".join(lines)))

    finished = time.time()
    info.wall_s = finished - started
    counts = experiment.counts()
    info.manifest = {
        "scenario": sf.name,
        "scenario_file": source,
        "question": "\n".join(question),
        "policies": policies,
        "firms": list(sf.to_scenario().firm_names),
        "seed": sf.simulation.seed,
        "replications": int(experiment.meta.get("replications", 0)),
        "replication_seeds": seeds,
        "scenarios": int(experiment.meta.get("scenarios", 1)),
        "steps": sf.simulation.steps,
        "step_length": sf.simulation.step_length,
        "steps_per_year": sf.simulation.steps_per_year,
        "engine": sf.simulation.engine,
        "runs": info.runs,
        "runs_resumed": experiment.resumed,
        "runs_done": counts.get("done", 0),
        "run_index": "runs/index.json",
        "fingerprint": experiment.fingerprint,
        "executor": experiment.meta.get("executor"),
        "workers": workers,
        "rows": info.rows,
        "command_line": list(command_line if command_line is not None else sys.argv),
        "started": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        "finished": datetime.fromtimestamp(finished, UTC).isoformat(timespec="seconds"),
        "wall_time_s": round(finished - started, 3),
        "versions": _versions(),
        "git": _git_revision(),
        "platform": platform.platform(),
    }
    atomic_write_text(folder / "manifest.json", json.dumps(info.manifest, indent=2) + "\n")
    return info
