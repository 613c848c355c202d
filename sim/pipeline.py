"""Scenario -> experiment -> results folder -> report: one pipeline for run, sweep and sensitivity.

The command line and the notebook API (:func:`sim.run_scenario`) are thin layers over
this module, so a folder written from Python and one written by ``marketsim run`` are the
same files. Each entry point first *plans* (resolves the scenario, the scenario variants
and the number of runs, so a caller can show what will happen and size a progress bar),
then :func:`execute` runs the plan:

1. the runs, persisted one file each in ``<out>/runs/`` and assembled into the tables
   (:mod:`sim.experiment`);
2. the analysis of those tables: summary, robustness across sampled markets, the sweep
   or sensitivity table (:mod:`sim.analysis`);
3. the provenance (resolved scenario, manifest), written last;
4. the figures and the HTML report (:mod:`sim.report`), from the files alone.

>>> plan = plan_run("retention_vs_acquisition", overrides={"market.n_customers": 400})
>>> plan.kind, plan.runs, [p.name for p in plan.scenario.policies][:2]
('run', 30, ['acquisition_heavy', 'balanced'])
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from sim.analysis.robustness import headline as robust_headline
from sim.analysis.robustness import write_robustness
from sim.analysis.sensitivity import write_sensitivity
from sim.analysis.summary import write_summary
from sim.analysis.sweep import write_sweep
from sim.common.errors import ExperimentError, ResultsFolderError, ScenarioError
from sim.common.files import read_table
from sim.config.bundled import resolve_scenario_path
from sim.config.presets import PRESETS
from sim.config.scenario_file import (
    PolicyEntry,
    ScenarioFile,
    apply_overrides,
    load_scenario,
    read_header,
)
from sim.config.schema import Policy, Scenario
from sim.experiment.designs import (
    DEFAULT_SAMPLES,
    SweepParameter,
    sensitivity_design,
    sweep_design,
)
from sim.experiment.provenance import RunFacts, write_provenance
from sim.experiment.runner import default_workers, plan_runs, run_experiment
from sim.experiment.runstore import RESULT_TABLES
from sim.experiment.sampling import scenario_variants
from sim.report import render_report
from sim.report.data import load_results
from sim.report.design_figures import draw_sensitivity_figure, draw_sweep_figures
from sim.report.html import headline
from sim.report.robustness_figures import draw_robustness_figures

__all__ = [
    "Plan",
    "ProgressFn",
    "Results",
    "ScenarioLike",
    "execute",
    "load_scenario_like",
    "plan_run",
    "plan_sensitivity",
    "plan_sweep",
    "read_results",
    "redraw",
    "run_scenario",
    "run_sensitivity",
    "run_sweep",
]

ScenarioLike = str | os.PathLike[str] | ScenarioFile | Scenario
"""A scenario file's path, a bundled scenario's name, or a scenario built in Python."""

PolicyLike = str | Policy
"""A preset's name (see :data:`sim.config.presets.PRESETS`) or a :class:`Policy`."""

ProgressFn = Callable[[int, int], None]
"""Progress callback: ``(runs_finished, steps_done)`` increments since the last call."""

Kind = Literal["run", "sweep", "sensitivity"]


# --------------------------------------------------------------------------- scenarios


def _policy_entry(policy: PolicyLike) -> PolicyEntry:
    if isinstance(policy, Policy):
        return PolicyEntry.model_validate(policy.model_dump())
    if policy not in PRESETS:
        raise ExperimentError(
            f"policies: unknown preset {policy!r}; expected a Policy or one of {', '.join(PRESETS)}"
        )
    return PolicyEntry.model_validate({"preset": policy})


def load_scenario_like(
    scenario: ScenarioLike,
    overrides: Mapping[str, Any] | None = None,
    *,
    policies: Sequence[PolicyLike] | None = None,
) -> tuple[ScenarioFile, Path | None]:
    """A validated :class:`ScenarioFile` and the file it came from (None if built in Python).

    ``overrides`` are dotted key paths as ``--set`` takes them (``{"market.n_customers":
    5000}``); ``policies`` replaces the file's ``[[policies]]`` (preset names or Policy
    objects; the first is the baseline). A :class:`Scenario` gets the default policies.
    """
    source: Path | None = None
    if isinstance(scenario, ScenarioFile):
        sf = scenario
    elif isinstance(scenario, Scenario):
        sf = ScenarioFile.model_validate(scenario.model_dump())
    else:
        source = resolve_scenario_path(scenario)
        sf = load_scenario(source)
    if policies is not None:
        entries = [_policy_entry(p).model_dump() for p in policies]
        if not entries:
            raise ExperimentError("policies: expected at least one policy, got none")
        sf = ScenarioFile.model_validate({**sf.model_dump(), "policies": entries})
    if overrides:
        sf = apply_overrides(sf, overrides)
    return sf, source


# --------------------------------------------------------------------------- plans


@dataclass(frozen=True)
class Plan:
    """What an experiment will run: the scenario, its variants and where results go.

    ``kind`` is ``run`` (every policy x sampled market x replication), ``sweep`` (a grid
    of one or two parameters) or ``sensitivity`` (a SALib design over the uncertainties).
    """

    kind: Kind
    scenario: ScenarioFile
    source: Path | None
    out: Path | None
    variants: tuple[Mapping[str, Any], ...]
    runs: int
    outcome: str
    parameters: tuple[SweepParameter, ...] = ()
    method: str | None = None
    samples: int | None = None

    @property
    def n_policies(self) -> int:
        """Policies compared (the first is the baseline)."""
        return len(self.scenario.policies)

    @property
    def replications(self) -> int:
        """Replications per policy and scenario variant."""
        return self.runs // (self.n_policies * len(self.variants))

    @property
    def total_steps(self) -> int:
        """Steps over all runs (for a progress bar)."""
        return self.runs * self.scenario.simulation.steps

    def rerun_command(self) -> str:
        """The command that repeats this experiment from its ``scenario.resolved.toml``."""
        if self.kind == "sweep":
            grid = " ".join(
                f"--param {p.path}={p.values[0]!r}:{p.values[-1]!r}:{len(p.values)}"
                for p in self.parameters
            )
            return f"marketsim sweep scenario.resolved.toml {grid}"
        if self.kind == "sensitivity":
            return (
                f"marketsim sensitivity scenario.resolved.toml --method {self.method} "
                f"--samples {self.samples}"
            )
        return "marketsim run scenario.resolved.toml"

    def describe(self, workers: int | None = None, where: str | None = None) -> str:
        """One line: policies x variants x replications = runs, size, and destination."""
        sf = self.scenario
        what = {"run": "scenarios", "sweep": "grid points", "sensitivity": "sampled markets"}
        variants = (
            f" x {len(self.variants)} {what[self.kind]}"
            if len(self.variants) > 1 or self.kind != "run"
            else ""
        )
        on = f", on {where}" if where else (f", on {workers} worker(s)" if workers else "")
        dest = f" -> {self.out}/" if self.out else ""
        return (
            f"{sf.name}: {self.n_policies} policies{variants} x {self.replications} "
            f"replication{'s' if self.replications != 1 else ''} = {self.runs} runs of "
            f"{sf.simulation.steps} {sf.simulation.step_length}s, "
            f"{sf.market.n_customers:,} people{on}{dest}"
        )


def _plan(
    kind: Kind,
    sf: ScenarioFile,
    source: Path | None,
    out: str | os.PathLike[str] | None,
    variants: Sequence[Mapping[str, Any]],
    outcome: str | None,
    **design_info: Any,
) -> Plan:
    runs = len(plan_runs(sf, list(variants)))
    return Plan(
        kind=kind,
        scenario=sf,
        source=source,
        out=Path(out) if out is not None else None,
        variants=tuple(variants),
        runs=runs,
        outcome=outcome or sf.experiment.outcome,
        **design_info,
    )


def plan_run(
    scenario: ScenarioLike,
    *,
    policies: Sequence[PolicyLike] | None = None,
    replications: int | None = None,
    seed: int | None = None,
    steps: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    out: str | os.PathLike[str] | None = None,
) -> Plan:
    """Plan every policy x sampled market x replication of a scenario."""
    merged = _with_counts(overrides, "simulation.replications", replications, seed, steps)
    sf, source = load_scenario_like(scenario, merged, policies=policies)
    return _plan("run", sf, source, out, scenario_variants(sf), None)


def plan_sweep(
    scenario: ScenarioLike,
    parameters: Sequence[str],
    *,
    outcome: str | None = None,
    policies: Sequence[PolicyLike] | None = None,
    replications: int | None = None,
    seed: int | None = None,
    steps: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    out: str | os.PathLike[str] | None = None,
) -> Plan:
    """Plan every policy on a grid of one or two parameters (``"KEY.PATH=START:STOP:COUNT"``).

    ``replications`` sets ``experiment.replications`` (per grid point).
    """
    merged = _with_counts(overrides, "experiment.replications", replications, seed, steps)
    sf, source = load_scenario_like(scenario, merged, policies=policies)
    grid = sweep_design(sf, parameters)
    return _plan("sweep", sf, source, out, grid.variants(), outcome, parameters=grid.parameters)


def plan_sensitivity(
    scenario: ScenarioLike,
    *,
    method: Literal["sobol", "morris"] = "sobol",
    samples: int | None = None,
    outcome: str | None = None,
    policies: Sequence[PolicyLike] | None = None,
    replications: int | None = None,
    seed: int | None = None,
    steps: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    out: str | os.PathLike[str] | None = None,
) -> Plan:
    """Plan a SALib Sobol' or Morris design over the scenario's ``[uncertainties]``.

    ``replications`` sets ``experiment.replications`` (per sampled market).
    """
    merged = _with_counts(overrides, "experiment.replications", replications, seed, steps)
    sf, source = load_scenario_like(scenario, merged, policies=policies)
    samples = samples or DEFAULT_SAMPLES[method]
    variants = sensitivity_design(sf, method, samples).variants()
    return _plan("sensitivity", sf, source, out, variants, outcome, method=method, samples=samples)


def _with_counts(
    overrides: Mapping[str, Any] | None,
    replications_key: str,
    replications: int | None,
    seed: int | None,
    steps: int | None,
) -> dict[str, Any]:
    merged = dict(overrides or {})
    for key, value in ((replications_key, replications), ("simulation.seed", seed)):
        if value is not None:
            merged[key] = value
    if steps is not None:
        merged["simulation.steps"] = steps
    return merged


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

    def __getattr__(self, name: str) -> pd.DataFrame | None:
        tables = self.__dict__.get("tables", {})
        if name in _TABLE_ATTRS:
            return tables.get(_TABLE_ATTRS[name])
        raise AttributeError(name)

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
        if target.resolve() == self.folder.resolve():
            return target
        if target.exists() and not target.is_dir():
            raise ExperimentError(f"{target}: exists and is not a folder")
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


_TABLE_ATTRS = {
    "timeseries": "timeseries",
    "outcomes": "outcomes",
    "summary": "summary",
    "calibration": "calibration",
    "cohorts": "cohorts",
    "scenarios": "scenarios",
    "network_nodes": "network_nodes",
    "network_edges": "network_edges",
    "sweep": "sweep",
    "sensitivity": "sensitivity",
    "robustness": "robustness",
    "regret": "regret",
}


def read_results(folder: str | os.PathLike[str]) -> Results:
    """A results folder written by :func:`execute` (or ``marketsim run``) back in memory."""
    folder = Path(folder)
    manifest = _manifest(folder)
    tables = {p.stem: read_table(p) for p in sorted(folder.glob("*.csv"))}
    return Results(folder, str(manifest.get("kind", "run")), tables, manifest)


# --------------------------------------------------------------------------- execution


def execute(
    plan: Plan,
    *,
    workers: int | None = None,
    executor: Literal["local", "dask"] = "local",
    scheduler: str | None = None,
    resume: bool = False,
    progress: ProgressFn | None = None,
    plots: bool | None = None,
    command_line: Sequence[str] | None = None,
) -> Results:
    """Run a plan into its folder (a temporary one if ``plan.out`` is None) and analyse it.

    ``workers``: processes (default: one per core, at most one per run); ``plots``: draw
    the figures and the report (default: the scenario's ``[outputs]``). Returns the
    tables in memory; the folder keeps them, with provenance, for ``marketsim report``.
    """
    if scheduler and executor != "dask":
        raise ExperimentError("a scheduler address needs executor 'dask'")
    sf = plan.scenario
    cleanup = None
    if plan.out is None:
        out = Path(tempfile.mkdtemp(prefix="marketsim-"))
        cleanup = out
    else:
        out = plan.out
        if out.exists() and not out.is_dir():
            raise ExperimentError(f"{out}: exists and is not a folder")
    workers = workers or default_workers(plan.runs)
    command = list(command_line) if command_line else ["sim.run_scenario"]
    started = time.time()
    out.mkdir(parents=True, exist_ok=True)
    experiment = run_experiment(
        sf,
        out,
        variants=plan.variants,
        workers=workers,
        executor=executor,
        scheduler=scheduler,
        resume=resume,
        progress=progress,
        tables=RESULT_TABLES if plan.kind == "run" else ("outcomes",),
    )
    lines: list[str] = []
    draw = (sf.outputs.plots or sf.outputs.report) if plots is None else plots
    policies = [p.name for p in sf.policies]
    figures = sf.outputs.plots if plots is None else plots
    style = {"formats": sf.outputs.formats, "dpi": sf.outputs.dpi}
    if plan.kind == "sweep":
        paths = [p.path for p in plan.parameters]
        write_sweep(out, paths, focal=sf.firm.name, outcome=plan.outcome, policies=policies)
        if figures:
            draw_sweep_figures(out, **style)
    elif plan.kind == "sensitivity":
        design = sensitivity_design(sf, plan.method or "sobol", plan.samples or 0)
        write_sensitivity(
            out,
            design.names,
            design.unit,
            method=design.method,
            samples=design.samples,
            focal=sf.firm.name,
            outcome=plan.outcome,
            policies=policies,
            seed=design.bootstrap_seed,
        )
        if figures:
            draw_sensitivity_figure(out, **style)
    elif sf.uncertainties:
        _, robust = write_robustness(
            out, focal=sf.firm.name, outcome=sf.experiment.outcome, policies=policies
        )
        lines = robust_headline(robust)
        if figures:
            draw_robustness_figures(out, **style)
    summary = write_summary(out, policies)
    write_provenance(
        out,
        sf,
        RunFacts.from_index(experiment, rows={"summary": len(summary)}),
        source=str(plan.source) if plan.source else None,
        header=read_header(plan.source) if plan.source else "",
        command_line=command,
        workers=min(workers, plan.runs),
        started=started,
        extra=_design_record(plan),
        rerun=plan.rerun_command(),
    )
    if plan.kind == "run":
        if draw:
            render_report(out)
        if not lines:
            lines = headline(load_results(out))
    results = read_results(out)
    results.headline = lines
    if cleanup is not None:
        results._cleanup = weakref.finalize(results, shutil.rmtree, cleanup, True)
    return results


def _design_record(plan: Plan) -> dict[str, Any]:
    """What kind of experiment wrote the folder, and its design, for the manifest.

    ``marketsim report`` redraws a sweep or a sensitivity folder from this alone.
    """
    design_info: dict[str, Any] = {"outcome": plan.outcome}
    if plan.kind == "sweep":
        design_info["parameters"] = [p.path for p in plan.parameters]
        design_info["grid"] = {p.path: list(p.values) for p in plan.parameters}
    elif plan.kind == "sensitivity":
        design_info.update(method=plan.method, samples=plan.samples)
    return {"kind": plan.kind, "design": design_info}


def _draw(folder: Path, kind: str, *, plots: bool, report: bool) -> Path | None:
    if kind == "run":
        path, _ = render_report(folder, plots=plots, report=report)
        return path
    redraw(folder)
    return None


def redraw(
    folder: str | os.PathLike[str], *, quiet: bool = True
) -> tuple[int, list[tuple[str, str]], Path | None]:
    """Re-draw the figures (and the report of a run) of a results folder from its files.

    Returns the number of figures drawn, the skipped ones with the reason, and the
    report's path (None where there is none).
    """
    folder = Path(folder)
    manifest = _manifest(folder)
    kind = str(manifest.get("kind", "run"))
    if kind == "run":
        _redraw_robustness(folder, quiet)
        path, plots = render_report(folder)
        drawn = sum(1 for p in plots if p.png is not None)
        return drawn, [(p.name, p.skipped) for p in plots if p.skipped], path
    sf = _resolved(folder)
    table_name = "sweep" if kind == "sweep" else "sensitivity"
    path = folder / f"{table_name}.csv"
    if not path.is_file():
        raise ResultsFolderError(f"{folder}: no {table_name}.csv (is the {kind} finished?)")
    draw_figures = draw_sweep_figures if kind == "sweep" else draw_sensitivity_figure
    files = draw_figures(folder, formats=sf.outputs.formats, dpi=sf.outputs.dpi)
    return len({f.stem for f in files}), [], None


def _manifest(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    if not path.is_file():
        return {}
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultsFolderError(f"{path}: not a readable manifest ({exc})") from None
    if not isinstance(loaded, dict):
        raise ResultsFolderError(f"{path}: expected a JSON object, got {type(loaded).__name__}")
    return loaded


def _resolved(folder: Path) -> ScenarioFile:
    path = folder / "scenario.resolved.toml"
    if not path.is_file():
        raise ResultsFolderError(f"{folder}: no scenario.resolved.toml (not a results folder?)")
    return load_scenario(path)


def _redraw_robustness(folder: Path, quiet: bool) -> None:
    """Re-draw the robustness tables and figures of a folder that has them.

    They are judged on the folder's own ``scenario.resolved.toml`` (policies, outcome,
    focal firm), so ``marketsim report`` needs nothing but the folder.
    """
    if not (folder / "robustness.csv").is_file():
        return
    try:
        sf = _resolved(folder)
    except (ScenarioError, ResultsFolderError) as exc:  # e.g. a graph file that has moved
        if not quiet:
            print(f"robustness figures kept as they were: {exc}", file=sys.stderr)
        return
    policies = [p.name for p in sf.policies]
    write_robustness(folder, focal=sf.firm.name, outcome=sf.experiment.outcome, policies=policies)
    if sf.outputs.plots:
        draw_robustness_figures(folder, formats=sf.outputs.formats, dpi=sf.outputs.dpi)


def run_scenario(
    scenario: ScenarioLike,
    *,
    policies: Sequence[PolicyLike] | None = None,
    replications: int | None = None,
    seed: int | None = None,
    steps: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    out: str | os.PathLike[str] | None = None,
    workers: int | None = 1,
    executor: Literal["local", "dask"] = "local",
    resume: bool = False,
    plots: bool = False,
    progress: ProgressFn | None = None,
) -> Results:
    """Run every policy of a scenario and return the results as DataFrames.

    ``scenario`` is a path, a bundled scenario's name, or a :class:`Scenario` /
    :class:`ScenarioFile` built in Python; ``policies`` replaces its policies (preset names
    or :class:`Policy` objects, the first is the baseline). ``out`` keeps the results folder
    (default: a temporary folder removed with the returned object; :meth:`Results.write`
    copies it). Figures are drawn only with ``plots=True`` (or later by :meth:`Results.report`).

    >>> import sim
    >>> res = sim.run_scenario(
    ...     "retention_vs_acquisition",
    ...     policies=["balanced", "retention_heavy"],
    ...     replications=2,
    ...     steps=8,
    ...     overrides={"market.n_customers": 300, "outputs.network_sample": 0},
    ... )
    >>> sorted(set(res.outcomes["policy"]))
    ['balanced', 'retention_heavy']
    >>> int(res.timeseries["step"].max())
    8
    """
    plan = plan_run(
        scenario,
        policies=policies,
        replications=replications,
        seed=seed,
        steps=steps,
        overrides=overrides,
        out=out,
    )
    return execute(
        plan, workers=workers, executor=executor, resume=resume, plots=plots, progress=progress
    )


def run_sweep(
    scenario: ScenarioLike,
    parameters: Sequence[str],
    *,
    outcome: str | None = None,
    out: str | os.PathLike[str] | None = None,
    workers: int | None = 1,
    plots: bool = False,
    **options: Any,
) -> Results:
    """Every policy at every point of a one- or two-parameter grid; ``results.sweep`` is the table.

    ``options``: ``policies``, ``replications``, ``seed``, ``steps``, ``overrides`` as for
    :func:`run_scenario`.
    """
    plan = plan_sweep(scenario, parameters, outcome=outcome, out=out, **options)
    return execute(plan, workers=workers, plots=plots)


def run_sensitivity(
    scenario: ScenarioLike,
    *,
    method: Literal["sobol", "morris"] = "sobol",
    samples: int | None = None,
    outcome: str | None = None,
    out: str | os.PathLike[str] | None = None,
    workers: int | None = 1,
    plots: bool = False,
    **options: Any,
) -> Results:
    """A SALib design over the scenario's uncertainties; ``results.sensitivity`` is the table."""
    plan = plan_sensitivity(
        scenario, method=method, samples=samples, outcome=outcome, out=out, **options
    )
    return execute(plan, workers=workers, plots=plots)
