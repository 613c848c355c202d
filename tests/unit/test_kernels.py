"""The numpy and numba kernels of the vectorized engine give the same bytes (issue 14)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest

from sim.config.schema import Scenario
from sim.model.engines.kernels import (
    KERNELS_ENV,
    MIN_PEOPLE_FOR_NUMBA,
    kernel_backend,
    refresh_recommendations,
)
from sim.model.market import MarketModel

numba_missing = pytest.mark.skipif(
    importlib.util.find_spec("numba") is None,
    reason="numba is not installed (optional: pip install marketsim[fast])",
)


def test_backend_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KERNELS_ENV, "numpy")
    assert kernel_backend(10**7) == "numpy"
    monkeypatch.setenv(KERNELS_ENV, "fortran")
    with pytest.raises(ValueError, match="choose one of"):
        kernel_backend(10)
    monkeypatch.delenv(KERNELS_ENV)
    assert kernel_backend(10**7) == "numpy"  # the default
    monkeypatch.setenv(KERNELS_ENV, "auto")
    # auto: small markets never pay numba's import and compilation
    assert kernel_backend(MIN_PEOPLE_FOR_NUMBA - 1) == "numpy"


def _people(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    satisfaction = rng.random(n)
    ltr_bias = rng.normal(0.0, 1.5, n)  # pushes scores past both ends of 0..10
    # scores on the boundaries between two answers, and just below them, without a bias
    edges = np.arange(12) / 11
    edges = np.concatenate([edges, np.nextafter(edges, 0.0)])
    k = min(n, edges.size)
    satisfaction[:k], ltr_bias[:k] = edges[:k], 0.0
    return {
        "firm": np.where(np.arange(n) < k, 0, rng.integers(-1, 4, n)).astype(np.int16),
        "satisfaction": satisfaction,
        "ltr_bias": ltr_bias,
        "ltr": rng.integers(0, 11, n).astype(np.int8),
        "in_detractor_episode": rng.random(n) < 0.3,
    }


@numba_missing
@pytest.mark.parametrize("n", [0, 1, 7, 10_001])
def test_recommendation_kernels_agree(n: int) -> None:
    out = {}
    for backend in ("numpy", "numba"):
        people = _people(n, seed=n)
        newly, promoters = refresh_recommendations(
            backend,
            people["firm"],
            people["satisfaction"],
            people["ltr_bias"],
            people["ltr"],
            people["in_detractor_episode"],
            6,
            9,
        )
        out[backend] = (newly, promoters, people["ltr"], people["in_detractor_episode"])
    for a, b in zip(out["numpy"], out["numba"], strict=True):
        assert a.dtype.kind == b.dtype.kind
        np.testing.assert_array_equal(a, b)
    if n > 1000:  # the test exercises every branch: new detractors, promoters, closed episodes
        assert out["numpy"][0].size > 0 and out["numpy"][1].size > 0


def _run(monkeypatch: pytest.MonkeyPatch, backend: str) -> MarketModel:
    monkeypatch.setenv(KERNELS_ENV, backend)
    scenario = Scenario.default().with_updates({"market.n_customers": 4000, "simulation.steps": 15})
    model = MarketModel(scenario, policy="loyalty_program", seed=11).run()
    assert getattr(model.engine, "kernels", None) == backend
    return model


@numba_missing
def test_a_run_is_identical_with_either_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = _run(monkeypatch, "numpy"), _run(monkeypatch, "numba")
    pd.testing.assert_frame_equal(a.results(), b.results(), check_exact=True)
    for name in a.population.field_names():
        np.testing.assert_array_equal(
            getattr(a.population, name), getattr(b.population, name), err_msg=name
        )
