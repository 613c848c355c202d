"""The default market reproduces the source facts (FACTS F1-F3) within the fixed bands."""

from __future__ import annotations

import pytest

from sim import MarketModel, Scenario
from sim.model.calibration import TARGETS


@pytest.mark.slow
@pytest.mark.parametrize("seed", [11, 12])
def test_default_scenario_passes_every_calibration_row(seed: int) -> None:
    model = MarketModel(Scenario.default(), policy="balanced", seed=seed).run(156)
    table = model.calibration()
    assert list(table["name"]) == [t.name for t in TARGETS]
    failing = table[~table["ok"]]
    assert failing.empty, (
        "calibration rows outside their band:\n"
        + failing[["name", "measured", "low", "high"]].to_string()
    )


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
