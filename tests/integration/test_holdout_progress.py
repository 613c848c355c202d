"""The hold-out runs of the calibration rows are counted: in the plan's description, its
time estimate and the progress bar's steps (they used to run uncounted, so the bar reached
its end and then waited)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.pipeline import execute, plan_run

SMALL = {
    "market.n_customers": 600,
    "simulation.steps": 5,
    "simulation.replications": 2,
    "outputs.plots": False,
    "outputs.report": False,
    "outputs.network_sample": 0,
}


@pytest.mark.parametrize("incremental", [0, 1, 3])
def test_the_progress_bar_counts_every_step_run(tmp_path: Path, incremental: int) -> None:
    plan = plan_run(
        "leaky_bucket",
        out=tmp_path / "out",
        overrides={**SMALL, "outputs.incremental_replications": incremental},
    )
    # four hold-out runs (all acquisition, then each channel) per replication that has
    # them, in at most the 2 replications of the run
    assert plan.holdout_runs == 4 * min(incremental, 2)
    ticks: list[tuple[int, int]] = []
    execute(plan, workers=1, progress=lambda runs, steps: ticks.append((runs, steps)))
    assert sum(r for r, _ in ticks) == plan.runs
    assert sum(s for _, s in ticks) == plan.total_steps == (plan.runs + plan.holdout_runs) * 5
    assert ("hold-out runs" in plan.describe()) == (incremental > 0)


def test_the_time_estimate_counts_the_hold_out_runs() -> None:
    with_rows = plan_run("leaky_bucket", overrides={**SMALL, "outputs.incremental_replications": 1})
    without = plan_run("leaky_bucket", overrides={**SMALL, "outputs.incremental_replications": 0})
    assert with_rows.resources is not None and without.resources is not None
    assert with_rows.resources.runs == without.resources.runs + 4
