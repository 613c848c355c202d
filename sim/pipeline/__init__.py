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

from sim.pipeline.execution import ProgressFn, execute, run_scenario, run_sensitivity, run_sweep
from sim.pipeline.plans import (
    Plan,
    PlanOptions,
    PolicyLike,
    ScenarioLike,
    load_scenario_like,
    plan_run,
    plan_sensitivity,
    plan_sweep,
)
from sim.pipeline.results import Results, read_results
from sim.report.redraw import redraw

__all__ = [
    "Plan",
    "PlanOptions",
    "PolicyLike",
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
