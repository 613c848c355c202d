"""Running a plan: runs, tables, summary, provenance (last) and figures, in that order."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from sim.analysis.robustness import headline as robust_headline
from sim.analysis.robustness import write_robustness
from sim.analysis.sensitivity import write_sensitivity
from sim.analysis.summary import write_summary
from sim.analysis.sweep import write_sweep
from sim.analysis.waterfall import write_waterfall
from sim.common.errors import ExperimentError
from sim.common.files import csv_text, storage_errors
from sim.config.scenario_file import (
    read_header,
)
from sim.experiment.designs import (
    sensitivity_design,
)
from sim.experiment.provenance import RunFacts, write_provenance
from sim.experiment.runner import default_workers, run_experiment
from sim.experiment.runstore import RESULT_TABLES
from sim.pipeline.folders import check_output_folder, clear_earlier_results
from sim.pipeline.plans import (
    Plan,
    PolicyLike,
    ScenarioLike,
    plan_run,
    plan_sensitivity,
    plan_sweep,
)
from sim.pipeline.results import TRANSACTIONS, Results, read_results, transactions_to_parquet
from sim.report import render_design_report, render_report
from sim.report.data import load_results
from sim.report.design_figures import draw_sensitivity_figure, draw_sweep_figures
from sim.report.html import headline
from sim.report.robustness_figures import draw_robustness_figures

__all__ = ["ProgressFn", "execute", "run_scenario", "run_sensitivity", "run_sweep"]

ProgressFn = Callable[[int, int], None]
"""Progress callback: ``(runs_finished, steps_done)`` increments since the last call."""

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
    the figures (default: the scenario's ``[outputs] plots``; ``report.html`` follows
    ``[outputs] report`` and holds the figures only when they are drawn). Returns the
    tables in memory; the folder keeps them, with provenance, for ``marketsim report``.
    """
    if scheduler and executor != "dask":
        raise ExperimentError("a scheduler address needs executor 'dask'")
    cleanup = None
    if plan.out is None:
        out = Path(tempfile.mkdtemp(prefix="marketsim-"))
        cleanup = out
    else:
        out = plan.out
        check_output_folder(out, scenario_source=plan.source)  # the folder may have changed
        if not resume:
            clear_earlier_results(out)
    workers = workers or default_workers(plan.runs)
    # A full or read-only disk, at any stage: temporary files removed, one message
    # saying to free space and --resume (sim.common.files.DiskFullError, exit 3).
    with storage_errors(out, out / "runs"):
        return _execute(
            plan, out, workers, executor, scheduler, resume, progress, plots, command_line, cleanup
        )


def _execute(
    plan: Plan,
    out: Path,
    workers: int,
    executor: Literal["local", "dask"],
    scheduler: str | None,
    resume: bool,
    progress: ProgressFn | None,
    plots: bool | None,
    command_line: Sequence[str] | None,
    cleanup: Path | None,
) -> Results:
    sf = plan.scenario
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
        tables=RESULT_TABLES if plan.kind == "run" else ("outcomes", TRANSACTIONS),
    )
    if sf.outputs.transactions and sf.outputs.transactions_format == "parquet":
        transactions_to_parquet(out)
        experiment.meta.get("rows", {}).pop(TRANSACTIONS, None)  # no longer a CSV to check
    lines: list[str] = []
    # names as the tables hold them (a formula-like name is neutralised: docs/results.md)
    policies = [csv_text(p.name) for p in sf.policies]
    focal = csv_text(sf.firm.name)
    figures = sf.outputs.plots if plots is None else plots

    def draw_with_style(draw_figures: Callable[..., object]) -> None:
        if figures:
            draw_figures(out, formats=sf.outputs.formats, dpi=sf.outputs.dpi)

    if plan.kind == "sweep":
        paths = [p.path for p in plan.parameters]
        write_sweep(out, paths, focal=focal, outcome=plan.outcome, policies=policies)
        draw_with_style(draw_sweep_figures)
    elif plan.kind == "sensitivity":
        design = sensitivity_design(sf, plan.method or "sobol", plan.samples or 0)
        write_sensitivity(
            out,
            design.names,
            design.unit,
            method=design.method,
            samples=design.samples,
            focal=focal,
            outcome=plan.outcome,
            policies=policies,
            seed=design.bootstrap_seed,
        )
        draw_with_style(draw_sensitivity_figure)
    elif sf.uncertainties:
        _, robust = write_robustness(
            out, focal=focal, outcome=sf.experiment.outcome, policies=policies
        )
        lines = robust_headline(robust)
        draw_with_style(draw_robustness_figures)
    summary = write_summary(out, policies)
    if plan.kind == "run" and len(policies) > 1:
        write_waterfall(out, focal=focal, policies=policies)
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
        if figures or sf.outputs.report:
            render_report(out, plots=figures)
        if not lines:
            lines = headline(load_results(out))
    elif sf.outputs.report:  # a sweep's or a sensitivity design's page
        render_design_report(out)
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
