"""The numpy and numba kernels of the vectorized engine give the same bytes (issue 14)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim.model.kernels as kernels
from sim.config.schema import Scenario
from sim.model.behaviour.churn import hazard_bound_per_year
from sim.model.behaviour.satisfaction import likelihood_to_recommend
from sim.model.kernels import KERNELS_ENV, MIN_PEOPLE_FOR_NUMBA, kernel_backend
from sim.model.kernels.recommend import refresh_recommendations
from sim.model.market import MarketModel
from sim.model.population import NEVER


def test_backend_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KERNELS_ENV, "numpy")
    assert kernel_backend(10**7) == "numpy"
    monkeypatch.setenv(KERNELS_ENV, "fortran")
    with pytest.raises(ValueError, match="choose one of"):
        kernel_backend(10)
    monkeypatch.delenv(KERNELS_ENV)
    # the default, auto: small markets never pay numba's import and compilation
    assert kernel_backend(MIN_PEOPLE_FOR_NUMBA - 1) == "numpy"
    assert kernel_backend(MIN_PEOPLE_FOR_NUMBA) == "numba"
    monkeypatch.setenv(KERNELS_ENV, "auto")
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
        # whose satisfaction changed: the boundary cases and most others
        "touched": np.flatnonzero((np.arange(n) < k) | (rng.random(n) < 0.7)),
    }


@pytest.mark.parametrize("n", [0, 1, 7, 10_001])
def test_recommendation_refresh_scores_the_touched_customers(n: int) -> None:
    """The refresh sets the touched customers' scores from their satisfaction (boundary
    scores included), opens episodes for new detractors only, and lists every promoter."""
    people = _people(n, seed=n)
    before = people["in_detractor_episode"].copy()
    newly, promoters = refresh_recommendations(
        people["touched"],
        people["firm"],
        people["satisfaction"],
        people["ltr_bias"],
        people["ltr"],
        people["in_detractor_episode"],
        6,
        9,
    )
    active = people["touched"][people["firm"][people["touched"]] >= 0]
    score = likelihood_to_recommend(people["satisfaction"][active], people["ltr_bias"][active])
    np.testing.assert_array_equal(people["ltr"][active], score)
    np.testing.assert_array_equal(newly, active[(score <= 6) & ~before[active]])
    expected = np.flatnonzero((people["ltr"] >= 9) & (people["firm"] >= 0))
    np.testing.assert_array_equal(promoters, expected)
    if n > 1000:  # the test exercises every branch: new detractors, promoters, closed episodes
        assert newly.size > 0 and promoters.size > 0


def _run(monkeypatch: pytest.MonkeyPatch, backend: str) -> MarketModel:
    monkeypatch.setenv(KERNELS_ENV, backend)
    scenario = Scenario.default().with_updates({"market.n_customers": 4000, "simulation.steps": 15})
    model = MarketModel(scenario, policy="loyalty_program", seed=11).run()
    assert getattr(model.engine, "kernels", None) == backend
    return model


def test_a_run_is_identical_with_either_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = _run(monkeypatch, "numpy"), _run(monkeypatch, "numba")
    pd.testing.assert_frame_equal(a.results(), b.results(), check_exact=True)
    for name in a.population.field_names():
        np.testing.assert_array_equal(
            getattr(a.population, name), getattr(b.population, name), err_msg=name
        )


def test_what_the_engine_keeps_between_steps_stays_valid() -> None:
    # Issue 14: the vectorized engine refreshes recommend scores only where satisfaction
    # changed, and draws churn candidates ahead at a bound on each customer's hazard. After
    # each step every customer's score must still be the one their satisfaction gives, and
    # every bound still pending must hold at the customer's state now (else the candidate
    # would have had to be drawn again: churn_due == NEVER).
    scenario = Scenario.default().with_updates({"market.n_customers": 3000, "simulation.steps": 12})
    model = MarketModel(scenario, policy="loyalty_program", seed=4)
    pop, state = model.population, model.state
    checked = 0
    for _ in range(12):
        model.step()
        active = np.flatnonzero(pop.firm >= 0)
        np.testing.assert_array_equal(
            pop.ltr[active], likelihood_to_recommend(pop.satisfaction[active], pop.ltr_bias[active])
        )
        pending = active[pop.churn_due[active] != NEVER]
        bound_now = hazard_bound_per_year(
            pop.satisfaction[pending],
            pop.unresolved_complaint[pending],
            model.engine._price_ratio_cap,  # type: ignore[attr-defined]
            state.churn_modifier(
                False,
                pop.referred[pending],
                pop.promotion_won[pending],
                pop.churn_proneness[pending],
            ),
            **state.churn_kwargs,
        )
        assert np.all(bound_now <= pop.churn_bound[pending])
        assert np.all(pop.churn_due[pending] > state.step)
        checked += pending.size
    assert checked > 10_000


def test_loading_the_compiled_kernels_keeps_the_loader() -> None:
    """Importing the subpackage `compiled` binds that name on sim.model.kernels; the loader
    has another name, so a kernel module imported after the first load still finds it."""
    module = kernels.numba_kernels()
    assert module.__name__ == "sim.model.kernels.compiled"
    assert callable(kernels.numba_kernels) and kernels.numba_kernels() is module
