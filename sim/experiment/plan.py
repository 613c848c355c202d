"""The plan of an experiment: every run's coordinates and seed, computed, never listed.

Why its own module: the pipeline counts and describes an experiment (and the resource
check sizes it) from the plan alone, without the machinery that executes runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, overload

from sim.common.seeds import run_seed
from sim.config.scenario_file import ScenarioFile
from sim.config.schema import Policy
from sim.experiment.designs import sampled_markets
from sim.experiment.executors import (
    usable_cores,
)
from sim.experiment.sampling import replications_per_scenario

__all__ = ["RunPlan", "RunSpec", "default_workers", "plan_runs"]


@dataclass(frozen=True)
class RunSpec:
    """Coordinates of one run: policy, scenario variant, replication, and its seed.

    ``index`` is the run's position in the plan (round-robin order).
    """

    index: int
    policy_index: int
    policy: Policy
    scenario_index: int
    replication: int
    seed: int

    @property
    def policy_name(self) -> str:
        """The policy's name (a results column)."""
        return self.policy.name


def _variants_of(sf: ScenarioFile) -> list[dict[str, Any]]:
    return sampled_markets(sf).variants()


class RunPlan(Sequence[RunSpec]):
    """Every run of an experiment, computed from its index when asked, never listed.

    Why lazy: an experiment of a billion runs is planned in no time and no memory (the
    resource check in :mod:`sim.config.limits` decides up front whether it can run), and
    ``len(plan)`` is the count :func:`sim.config.limits.runs_of` gives. Run ``i`` is
    replication ``i // (S * P)``, scenario ``(i // P) % S`` and policy ``i % P``.
    """

    def __init__(self, policies: Sequence[Policy], scenarios: int, replications: int, seed: int):
        self.policies = tuple(policies)
        self.scenarios = int(scenarios)
        self.replications = int(replications)
        self.seed = seed

    def __len__(self) -> int:
        return len(self.policies) * self.scenarios * self.replications

    @overload
    def __getitem__(self, i: int) -> RunSpec: ...
    @overload
    def __getitem__(self, i: slice) -> list[RunSpec]: ...
    def __getitem__(self, i: int | slice) -> RunSpec | list[RunSpec]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self)
        index = i + n if i < 0 else i
        if not 0 <= index < n:
            raise IndexError(f"run {i} of a plan of {n} runs")
        per_replication = len(self.policies) * self.scenarios
        k, rest = divmod(index, per_replication)
        s, p = divmod(rest, len(self.policies))
        seed = run_seed(self.seed, s, k)
        return RunSpec(index, p, self.policies[p], s, k, seed)

    def __iter__(self) -> Iterator[RunSpec]:
        for i in range(len(self)):
            yield self[i]


def plan_runs(sf: ScenarioFile, variants: Sequence[Mapping[str, Any]] | None = None) -> RunPlan:
    """Every run of the experiment, round-robin: for each replication, each scenario, each policy.

    ``variants`` (default :func:`sim.experiment.sampling.scenario_variants`) are the scenario
    variants' overrides; each runs ``sim.experiment.sampling.replications_per_scenario(sf)``
    replications. Any prefix of the plan holds every policy equally often, so an
    interrupted experiment is still balanced. The plan is a lazy sequence (:class:`RunPlan`).
    """
    n_scenarios = len(_variants_of(sf) if variants is None else variants)
    return RunPlan(
        sf.engine_policies(), n_scenarios, replications_per_scenario(sf), sf.simulation.seed
    )


def default_workers(n_runs: int) -> int:
    """min(usable cores, runs), at least 1."""
    return max(1, min(usable_cores(), n_runs))
