"""The default market reproduces the source facts (FACTS F1-F3, F6, Jones & Sasser,
Heskett et al.) within the fixed bands: every row of the calibration table, the
incremental (hold-out) acquisition rows included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import MarketModel, Scenario
from sim.config.schema import Policy
from sim.model.calibration import (
    INCREMENTAL_TARGETS,
    TARGETS,
    holdout_policy,
    incremental_table,
    serving_cost_per_customer_year,
)

SEEDS = (11, 12, 13, 14, 15, 16)
ROW_SEEDS = (11, 12)  # the one-run rows vary little between seeds (sd under 5% of the band)


@pytest.fixture(scope="module")
def default_runs() -> dict[int, tuple[pd.DataFrame, pd.DataFrame]]:
    """Per seed: the default scenario's calibration table (balanced policy, 156 weeks) and
    its incremental rows against the hold-out run without acquisition spend."""
    scenario = Scenario.default()
    held = holdout_policy(Policy(), scenario.firm.budget_per_year, "all")
    out = {}
    for seed in SEEDS:
        model = MarketModel(scenario, policy="balanced", seed=seed).run(156)
        holdout = MarketModel(scenario, policy=held, seed=seed, graph=model.graph).run(156)
        rows = incremental_table(
            model.results(),
            {"all": holdout.results()},
            steps_per_year=52,
            serving_cost=serving_cost_per_customer_year(scenario),
        ).set_index("name")
        out[seed] = (model.calibration(), rows)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("seed", ROW_SEEDS)
def test_default_scenario_passes_every_calibration_row(seed: int, default_runs) -> None:
    table = default_runs[seed][0]
    assert list(table["name"]) == [t.name for t in TARGETS]
    banded = table["low"].notna()
    assert banded.sum() == len(TARGETS) - 2  # the attributed acquisition rows are diagnostics
    assert table.loc[~banded, "ok"].isna().all()
    failing = table[banded & (table["ok"] != True)]  # noqa: E712 (object column: True/None)
    assert failing.empty, (
        "calibration rows outside their band:\n"
        + failing[["name", "measured", "low", "high"]].to_string()
    )


@pytest.mark.slow
def test_default_scenario_passes_the_incremental_rows(default_runs) -> None:
    """The incremental acquisition cost ratio and payback, averaged over six seeds.

    One seed's hold-out difference is noisy (sd about 20% of the value at 10,000
    customers: the run and its hold-out diverge), so the rows are judged on the mean of
    six seeds, whose standard error is sd / sqrt(6); the mean must lie in the band.
    """
    for target in INCREMENTAL_TARGETS:
        values = np.array([rows.loc[target.name, "measured"] for _, rows in default_runs.values()])
        mean, se = values.mean(), values.std(ddof=1) / np.sqrt(values.size)
        print(f"{target.name}: mean {mean:.3f} (se {se:.3f}), per seed {np.round(values, 3)}")
        assert target.low <= mean <= target.high, (target.name, mean, se)


def test_calibration_rows_are_measured_not_assumed() -> None:
    """Changing the word-of-mouth inputs moves the measured rows accordingly."""
    base = Scenario.default().with_updates({"market.n_customers": 3000})
    quiet = base.with_updates({"market.word_of_mouth.peers_deterred_per_episode": 5.0})
    t_base = MarketModel(base, seed=5).run(60).calibration().set_index("name")["measured"]
    t_quiet = MarketModel(quiet, seed=5).run(60).calibration().set_index("name")["measured"]
    row = "peers deterred per dissatisfied customer"
    # Poisson(mean) tellings per episode: the measured mean tracks the input.
    assert t_base[row] == pytest.approx(25.0, rel=0.1)
    assert t_quiet[row] == pytest.approx(5.0, rel=0.15)
