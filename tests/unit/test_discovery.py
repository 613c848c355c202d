"""Scenario discovery (issue 12.3): PRIM finds the known box where a policy loses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.analysis.discovery import MIN_MARKETS, discovery_sentence, write_discovery
from sim.common.files import atomic_write_bytes, csv_bytes, read_table

PARAMS = ["market.initial_penetration", "market.word_of_mouth.p_referral_conversion",
          "market.churn.neglect_per_year", "network.mean_degree"]  # fmt: skip


def _folder(tmp_path, n: int = 300, seed: int = 4, noise: float = 0.0):
    """regret.csv and scenarios.csv where 'steady' loses exactly when x0 < 0.3 and x1 > 0.6."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, (n, len(PARAMS)))
    x[:, 3] = rng.integers(2, 20, n)  # a whole-number parameter
    loses = (x[:, 0] < 0.3) & (x[:, 1] > 0.6)
    loses ^= rng.uniform(0, 1, n) < noise
    scenarios = pd.DataFrame(x, columns=PARAMS)
    scenarios.insert(0, "scenario", np.arange(n))
    rows = []
    for k, lost in enumerate(loses):
        for policy in ("steady", "bold"):
            best = (policy == "bold") == bool(lost)
            rows.append({"scenario": k, "policy": policy, "outcome": "cumulative_profit",
                         "replications": 2, "mean": 1.0 if best else 0.0,
                         "best_policy": "bold" if lost else "steady", "best_mean": 1.0,
                         "regret": 0.0 if best else 1.0, "is_best": best})  # fmt: skip
    atomic_write_bytes(tmp_path / "regret.csv", csv_bytes(pd.DataFrame(rows)))
    atomic_write_bytes(tmp_path / "scenarios.csv", csv_bytes(scenarios))
    return loses


@pytest.mark.parametrize("noise", [0.0, 0.02])
def test_prim_recovers_the_known_box(tmp_path, noise):
    loses = _folder(tmp_path, noise=noise)
    _box, sentence = write_discovery(tmp_path, "steady")
    assert (tmp_path / "discovery.csv").is_file()
    table = read_table(tmp_path / "discovery.csv").set_index("parameter")
    assert set(table.index) == set(PARAMS[:2])  # the two that matter, nothing else
    first, second = table.loc[PARAMS[0]], table.loc[PARAMS[1]]
    assert first["restricted"] == "high" and first["high"] == pytest.approx(0.3, abs=0.05)
    assert second["restricted"] == "low" and second["low"] == pytest.approx(0.6, abs=0.05)
    assert first["coverage"] >= 0.7 and first["density"] >= 0.8
    assert first["losses"] == loses.sum() and first["markets"] == 300
    assert sentence.startswith(
        "steady is best unless market.initial_penetration < 0.3"
    ) or sentence.startswith("steady is best unless market.initial_penetration < 0.2")
    assert "and market.word_of_mouth.p_referral_conversion > 0." in sentence
    assert f"of the {loses.sum()} sampled markets (of 300) where it loses" in sentence


def test_discovery_is_deterministic(tmp_path):
    _folder(tmp_path, noise=0.02)
    write_discovery(tmp_path, "steady")
    first = (tmp_path / "discovery.csv").read_bytes()
    write_discovery(tmp_path, "steady")
    assert (tmp_path / "discovery.csv").read_bytes() == first


def test_a_policy_that_always_wins_or_too_few_markets_gives_no_box(tmp_path):
    _folder(tmp_path)
    box, _sentence = write_discovery(tmp_path, "steady")
    assert not box.empty
    empty = pd.DataFrame(columns=box.columns)
    assert discovery_sentence(empty, "a", losses=0, markets=40) == (
        "a is best in all 40 sampled markets: there is no range where it loses."
    )
    few = discovery_sentence(empty, "a", losses=2, markets=MIN_MARKETS - 1)
    assert few.startswith(f"Only {MIN_MARKETS - 1} sampled markets: too few")
    assert "spread over" in discovery_sentence(empty, "a", losses=5, markets=40)
    small = tmp_path / "small"
    small.mkdir()
    _folder(small, n=MIN_MARKETS - 1)
    box, _ = write_discovery(small, "steady")
    assert box.empty and list(read_table(small / "discovery.csv").columns) == list(box.columns)
