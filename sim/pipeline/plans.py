"""What an experiment will run: the scenario resolved, its variants, the number of runs.

Planning is separate from running so a caller (the command line, a notebook) can show
what will happen, size a progress bar or refuse a plan before any run starts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypedDict, Unpack

from sim.common.errors import ExperimentError
from sim.config.bundled import resolve_scenario_path
from sim.config.limits import ResourceEstimate, check_resources, runs_of
from sim.config.presets import PRESETS
from sim.config.scenario_file import (
    PolicyEntry,
    ScenarioFile,
    apply_overrides,
    load_scenario,
)
from sim.config.schema import Policy, Scenario
from sim.experiment.designs import (
    DEFAULT_SAMPLES,
    SweepParameter,
    check_samples,
    design_size,
    sensitivity_design,
    sweep_design,
)
from sim.experiment.executors import usable_cores
from sim.experiment.holdout import holdout_runs
from sim.experiment.sampling import scenario_variants
from sim.pipeline.folders import check_output_folder

__all__ = [
    "Kind",
    "Plan",
    "PlanOptions",
    "PolicyLike",
    "ScenarioLike",
    "load_scenario_like",
    "plan_run",
    "plan_sensitivity",
    "plan_sweep",
]

ScenarioLike = str | os.PathLike[str] | ScenarioFile | Scenario
"""A scenario file's path, a bundled scenario's name, or a scenario built in Python."""

PolicyLike = str | Policy
"""A preset's name (see :data:`sim.config.presets.PRESETS`) or a :class:`Policy`."""

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
    resources: ResourceEstimate | None = None

    @property
    def n_policies(self) -> int:
        """Policies compared (the first is the baseline)."""
        return len(self.scenario.policies)

    @property
    def replications(self) -> int:
        """Replications per policy and scenario variant."""
        return self.runs // (self.n_policies * len(self.variants))

    @property
    def holdout_runs(self) -> int:
        """Runs a ``run`` makes beyond the plan: the hold-outs of the incremental
        calibration rows (:func:`sim.experiment.holdout.holdout_runs`); none for sweeps and
        sensitivity designs, which write no calibration table."""
        if self.kind != "run":
            return 0
        return holdout_runs(self.replications, self.scenario.outputs.incremental_replications)

    @property
    def total_steps(self) -> int:
        """Steps over all runs, hold-outs included (for a progress bar)."""
        return (self.runs + self.holdout_runs) * self.scenario.simulation.steps

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
        extra = (
            f" (+ {self.holdout_runs} hold-out runs for the calibration rows)"
            if self.holdout_runs
            else ""
        )
        return (
            f"{sf.name}: {self.n_policies} policies{variants} x {self.replications} "
            f"replication{'s' if self.replications != 1 else ''} = {self.runs} runs{extra} of "
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
    folder = Path(out) if out is not None else None
    if folder is not None:
        check_output_folder(folder, scenario_source=source)
    runs = runs_of(sf, len(variants))
    return Plan(
        kind=kind,
        scenario=sf,
        source=source,
        out=folder,
        variants=tuple(variants),
        runs=runs,
        outcome=outcome or sf.experiment.outcome,
        **design_info,
    )


class PlanOptions(TypedDict, total=False):
    """Options every plan takes (all optional), as keyword arguments.

    ``policies`` replaces the scenario's policies (preset names or Policy objects, the
    first is the baseline); ``replications``, ``seed`` and ``steps`` override the file's
    (a run's replications are ``simulation.replications``, a sweep's or a sensitivity
    design's are ``experiment.replications``, per variant); ``overrides`` are dotted key
    paths as ``--set`` takes them; ``out`` is the results folder (checked now); ``workers``
    (runs kept in memory at once) enters the up-front resource check.
    """

    policies: Sequence[PolicyLike] | None
    replications: int | None
    seed: int | None
    steps: int | None
    overrides: Mapping[str, Any] | None
    out: str | os.PathLike[str] | None
    workers: int | None


def _load(
    scenario: ScenarioLike, options: PlanOptions, replications_key: str
) -> tuple[ScenarioFile, Path | None]:
    merged = dict(options.get("overrides") or {})
    for key, value in (
        (replications_key, options.get("replications")),
        ("simulation.seed", options.get("seed")),
        ("simulation.steps", options.get("steps")),
    ):
        if value is not None:
            merged[key] = value
    return load_scenario_like(scenario, merged, policies=options.get("policies"))


def plan_run(scenario: ScenarioLike, **options: Unpack[PlanOptions]) -> Plan:
    """Plan every policy x sampled market x replication of a scenario (see :class:`PlanOptions`)."""
    sf, source = _load(scenario, options, "simulation.replications")
    reps = sf.simulation.replications
    extra = holdout_runs(reps, sf.outputs.incremental_replications)
    resources = _check_resources(sf, source, options.get("workers"), extra_runs=extra)
    variants = scenario_variants(sf)
    return _plan("run", sf, source, options.get("out"), variants, None, resources=resources)


def plan_sweep(
    scenario: ScenarioLike,
    parameters: Sequence[str],
    *,
    outcome: str | None = None,
    **options: Unpack[PlanOptions],
) -> Plan:
    """Plan every policy on a grid of one or two parameters (``"KEY.PATH=START:STOP:COUNT"``).

    The resource check uses the grid's largest point (a swept market size counts at its
    largest). ``options``: see :class:`PlanOptions`.
    """
    sf, source = _load(scenario, options, "experiment.replications")
    grid = sweep_design(sf, parameters)
    largest = {p.path: max(p.values) for p in grid.parameters}
    resources = _check_resources(
        apply_overrides(sf, largest), source, options.get("workers"), len(grid.variants())
    )
    return _plan(
        "sweep",
        sf,
        source,
        options.get("out"),
        grid.variants(),
        outcome,
        parameters=grid.parameters,
        resources=resources,
    )


def plan_sensitivity(
    scenario: ScenarioLike,
    *,
    method: Literal["sobol", "morris"] = "sobol",
    samples: int | None = None,
    outcome: str | None = None,
    **options: Unpack[PlanOptions],
) -> Plan:
    """Plan a SALib Sobol' or Morris design over the scenario's ``[uncertainties]``.

    ``samples``: Sobol' base samples (a power of 2) or Morris trajectories (default 32 and
    10); ``options``: see :class:`PlanOptions`.
    """
    sf, source = _load(scenario, options, "experiment.replications")
    samples = samples or DEFAULT_SAMPLES[method]
    check_samples(method, samples)
    markets = design_size(method, samples, len(sf.uncertainties))
    resources = _check_resources(sf, source, options.get("workers"), markets)
    variants = sensitivity_design(sf, method, samples).variants()
    return _plan(
        "sensitivity",
        sf,
        source,
        options.get("out"),
        variants,
        outcome,
        method=method,
        samples=samples,
        resources=resources,
    )


def _check_resources(
    sf: ScenarioFile,
    source: Path | None,
    workers: int | None,
    variants: int | None = None,
    extra_runs: int = 0,
) -> ResourceEstimate:
    """Refuse up front an experiment this machine cannot hold (see :mod:`sim.config.limits`)."""
    in_flight = min(workers or usable_cores(), runs_of(sf, variants))
    return check_resources(
        sf,
        in_flight,
        variants=variants,
        source=str(source) if source else None,
        extra_runs=extra_runs,
    )
