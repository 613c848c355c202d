"""Hold-out runs: the incremental acquisition rows of the calibration table.

Why its own module: the incremental acquisition cost and payback (issue 10, item 5) need
runs the experiment did not plan: the same seed with the focal firm's acquisition spend
removed, all of it and one channel at a time
(:func:`sim.model.calibration.holdout_policy`). With common random numbers the run and
its hold-out meet the same people on the same graph, so their difference is the spend's
effect, as a sweep of that spend would show it. Four extra runs for one run of the
experiment: the runner makes them for the baseline policy (the first) in the first
``[outputs] incremental_replications`` replications (default 1) of the first scenario
variant. The difference of two runs is noisy: at 10,000 customers one seed's incremental
acquisition cost varies by about 20% between seeds (the hold-out and its run diverge
as customers' choices differ), so more replications give a firmer figure.
"""

from __future__ import annotations

import pandas as pd

from sim.config.schema import Policy, Scenario
from sim.model.calibration import (
    HOLDOUT_CHANNELS,
    holdout_policy,
    incremental_table,
    serving_cost_per_customer_year,
)
from sim.model.market import MarketModel
from sim.model.network import SocialGraph

__all__ = ["calibration_with_holdouts", "holdout_rows", "holdout_runs"]


def holdout_runs(replications: int, incremental_replications: int) -> int:
    """Hold-out runs a ``marketsim run`` of ``replications`` makes beyond its plan, so that
    the time estimate and the progress bar count them.

    >>> holdout_runs(10, 1), holdout_runs(2, 5), holdout_runs(10, 0)
    (4, 8, 0)
    """
    return len(HOLDOUT_CHANNELS) * min(max(0, replications), max(0, incremental_replications))


def holdout_rows(
    scenario: Scenario,
    policy: Policy,
    seed: int,
    results: pd.DataFrame,
    graph: SocialGraph | None = None,
) -> pd.DataFrame:
    """The incremental rows for ``results``, the run of ``policy`` on ``scenario`` and
    ``seed`` over ``scenario.simulation.steps`` steps: one hold-out run per channel of
    :data:`~sim.model.calibration.HOLDOUT_CHANNELS` (``graph``: the run's social graph,
    reused, as the same seed would build it)."""
    steps = int(results["step"].max()) if not results.empty else scenario.simulation.steps
    holdouts = {}
    for channel in HOLDOUT_CHANNELS:
        held = holdout_policy(policy, scenario.firm.budget_per_year, channel)
        model = MarketModel(scenario, policy=held, seed=seed, graph=graph)
        holdouts[channel] = model.run(steps).results()
        graph = model.graph
    return incremental_table(
        results,
        holdouts,
        steps_per_year=scenario.simulation.steps_per_year,
        serving_cost=serving_cost_per_customer_year(scenario),
    )


def calibration_with_holdouts(
    scenario: Scenario, policy: Policy, seed: int, steps: int | None = None
) -> pd.DataFrame:
    """The whole calibration table of one run: the model's rows and the incremental rows
    (five runs of ``steps``, default the scenario's)."""
    model = MarketModel(scenario, policy=policy, seed=seed).run(steps or scenario.simulation.steps)
    results = model.results()
    extra = holdout_rows(scenario, policy, seed, results, graph=model.graph)
    return pd.concat([model.calibration(), extra], ignore_index=True)
