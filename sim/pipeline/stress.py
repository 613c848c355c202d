"""``marketsim run --stress``: rerun the leading pair of policies with each assumption moved
to the ends of its range, and say which assumptions could reverse the verdict.

After the main run, :func:`plan_stress` takes the leading pair from its outcomes
(:func:`sim.analysis.stress.leading_pair`: the best policy against the baseline, or the
runner-up when the baseline is best) and resolves :data:`sim.analysis.stress.ASSUMPTIONS`
against the schema and the scenario (keys the schema no longer has are skipped with a
note). :func:`execute_stress` runs the two policies on the nominal market and on each end
through the ordinary experiment machinery (:func:`sim.experiment.runner.run_experiment`,
paired seeds: both policies of one variant and replication share their random numbers)
into ``stress/`` below the results folder, writes ``stress.csv`` and redraws the report,
which gains a tornado figure and a section "Which assumptions could reverse the verdict".

The stress runs use the nominal market: a scenario's ``[uncertainties]`` are not sampled
(their ranges serve as the assumptions' ranges instead), and no network snapshot or
transaction log is taken.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sim.analysis.stress import (
    ASSUMPTIONS,
    Assumption,
    StressPoint,
    leading_pair,
    stress_points,
    stress_sentences,
    stress_table,
    stress_variants,
    write_stress,
)
from sim.common.errors import UserError
from sim.common.files import read_table
from sim.config.scenario_file import ScenarioFile, value_problem
from sim.experiment.runner import run_experiment
from sim.experiment.sampling import replications_per_scenario
from sim.pipeline.plans import Plan
from sim.pipeline.results import Results
from sim.report import render_report

__all__ = ["STRESS_FOLDER", "StressPlan", "check_stress", "execute_stress", "plan_stress"]

STRESS_FOLDER = "stress"
"""The stress experiment's folder below the results folder (its runs and outcomes.csv)."""


class StressError(UserError):
    """A stress test that cannot be run as asked (exit code 2)."""


@dataclass(frozen=True)
class StressPlan:
    """The stress experiment: two policies, the nominal market and each assumption's ends."""

    scenario: ScenarioFile
    folder: Path
    points: tuple[StressPoint, ...]
    leader: str
    other: str
    outcome: str
    variants: tuple[dict[str, float], ...]

    @property
    def focal(self) -> str:
        """The firm whose outcome decides the verdict."""
        return self.scenario.firm.name

    @property
    def runs(self) -> int:
        """Runs of the stress experiment (2 policies x variants x replications)."""
        return 2 * len(self.variants) * replications_per_scenario(self.scenario)

    @property
    def total_steps(self) -> int:
        """Steps over all stress runs (for a progress bar)."""
        return self.runs * self.scenario.simulation.steps

    def describe(self) -> str:
        """One line: the pair, the assumptions tested and skipped, the runs."""
        active = sum(p.active for p in self.points)
        skipped = len(self.points) - active
        return (
            f"stress test: {self.leader} vs. {self.other}, {active} assumptions at their low "
            f"and high ends{f' ({skipped} skipped)' if skipped else ''} + the nominal market "
            f"= {len(self.variants)} markets x 2 policies x "
            f"{replications_per_scenario(self.scenario)} replications = {self.runs} runs "
            f"-> {self.folder}/"
        )


def check_stress(plan: Plan) -> None:
    """Refuse a stress test before the main run when it cannot be done (one policy)."""
    if plan.n_policies < 2:
        raise StressError(
            "--stress compares the leading pair of policies, but the scenario has one; add a "
            "second [[policies]] entry"
        )


def plan_stress(
    plan: Plan,
    results: Results,
    *,
    outcome: str = "cumulative_profit",
    assumptions: Sequence[Assumption] = ASSUMPTIONS,
) -> StressPlan:
    """The stress experiment after ``plan``'s main run (``results``, read from its folder)."""
    check_stress(plan)
    sf = plan.scenario
    outcomes = results.outcomes
    policies = [p.name for p in sf.policies]
    pair = None if outcomes is None else leading_pair(outcomes, policies, sf.firm.name, outcome)
    if pair is None:
        raise StressError(f"--stress: no {outcome} of two policies in {results.folder}")
    leader, other = pair
    entries = {p.name: p for p in sf.policies}
    data = sf.model_dump()
    data["policies"] = [entries[other].model_dump(), entries[leader].model_dump()]
    data["uncertainties"] = {}
    data["outputs"] = {**data["outputs"], "network_sample": 0, "transactions": False}
    stressed = ScenarioFile.model_validate(data)
    points = stress_points(
        sf.to_scenario().model_dump(mode="json"),
        {path: spec.model_dump() for path, spec in sf.uncertainties.items()},
        assumptions,
        problem=lambda path, value: value_problem(sf, path, value),
    )
    return StressPlan(
        scenario=stressed,
        folder=results.folder / STRESS_FOLDER,
        points=tuple(points),
        leader=leader,
        other=other,
        outcome=outcome,
        variants=tuple(stress_variants(points)),
    )


def execute_stress(
    splan: StressPlan,
    *,
    workers: int | None = None,
    executor: Literal["local", "dask"] = "local",
    scheduler: str | None = None,
    resume: bool = False,
    progress: Callable[[int, int], None] | None = None,
    plots: bool | None = None,
    report: bool | None = None,
) -> list[str]:
    """Run the stress experiment, write ``stress.csv`` and redraw the report.

    Returns the sentences on which assumptions could reverse the verdict (plain text).
    """
    folder = splan.folder
    folder.mkdir(parents=True, exist_ok=True)
    run_experiment(
        splan.scenario,
        folder,
        variants=splan.variants,
        workers=workers,
        executor=executor,
        scheduler=scheduler,
        resume=resume,
        progress=progress,
        tables=("outcomes",),
    )
    table = stress_table(
        read_table(folder / "outcomes.csv"),
        splan.points,
        leader=splan.leader,
        other=splan.other,
        focal=splan.focal,
        outcome=splan.outcome,
    )
    results_folder = folder.parent
    write_stress(results_folder, table)
    outputs = splan.scenario.outputs
    figures = outputs.plots if plots is None else plots
    if figures or (outputs.report if report is None else report):
        render_report(results_folder, plots=figures)
    return stress_sentences(table)
