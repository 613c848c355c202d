"""The churn, purchase and due-step kernels give the same bytes with numpy and numba.

Each kernel runs on two copies of the same population, one per backend, with inputs that
reach its edge cases (issue 14): nobody or everybody due, people cared for who are not
customers, chances of 0 and 1, waits beyond the last step, satisfaction at and below the
floor's margin, prices above the reference, hazards of zero, repeated leavers, negative
margins, firms without suppliers. Every output and every array written must match.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from sim.config.schema import Scenario
from sim.model.behaviour.churn import (
    CHURN_REASONS,
    churn_hazards_per_year,
    churn_modifier,
    total_hazard,
)
from sim.model.behaviour.levers import NOT_DUE
from sim.model.kernels import numba_kernels
from sim.model.kernels.churn import draw_candidates, lose_customers, schedule_churn
from sim.model.kernels.events import churn_due_scan, due_now, due_scan, set_event_steps
from sim.model.kernels.purchases import (
    book_sales,
    bound_rates,
    draw_purchases,
    service_failures,
    spend_units,
)
from sim.model.market import MarketModel
from sim.model.population import NEVER, NO_FIRM, CustomerPopulation

BACKENDS = ("numpy", "numba")
STEP = 30
SPY = 52


def _same(a: Any, b: Any, what: str) -> None:
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype, f"{what}: {a.dtype} != {b.dtype}"
    assert a.shape == b.shape, f"{what}: {a.shape} != {b.shape}"
    assert a.tobytes() == b.tobytes(), f"{what}: values differ"


def _same_population(a: CustomerPopulation, b: CustomerPopulation) -> None:
    for name in a.field_names():
        _same(getattr(a, name), getattr(b, name), name)


@pytest.fixture(scope="module")
def market() -> MarketModel:
    scenario = Scenario.default().with_updates({"market.n_customers": 3000, "simulation.steps": 4})
    return MarketModel(scenario, policy="loyalty_program", seed=8).run(2)


def _population(market: MarketModel, seed: int) -> CustomerPopulation:
    """A copy of the market's people with states that reach the kernels' edge cases."""
    pop = copy.deepcopy(market.population)
    rng = np.random.default_rng(seed)
    n = pop.n
    pop.firm[:] = np.where(rng.random(n) < 0.8, rng.integers(0, 4, n), NO_FIRM)
    sat = rng.random(n)
    sat[:40] = [0.0, 0.05, 0.0499999, 0.05000001, 1.0, 0.7, 0.9, 0.3] * 5
    pop.satisfaction[:] = sat
    pop.last_care[:] = rng.choice([STEP, STEP - 1, STEP - 30, NEVER, 0], n)
    pop.unresolved_complaint[:] = rng.random(n) < 0.2
    pop.member[:] = rng.random(n) < 0.3
    pop.referred[:] = rng.random(n) < 0.2
    pop.promotion_won[:] = rng.random(n) < 0.2
    prone = rng.gamma(1.0, 1.0, n)
    prone[40:60] = 0.0  # no hazard at all
    pop.churn_proneness[:] = prone
    pop.tier[:] = rng.integers(-1, 4, n)
    pop.tenure[:] = rng.choice([0, SPY - 1, SPY, 300], n)
    rate = rng.gamma(0.8, 15.0, n)
    rate[60:80] = 0.0  # never buys
    rate[80:100] = 400.0  # more than one purchase a step
    pop.purchase_rate[:] = rate
    pop.acquired_step[:] = rng.integers(0, STEP, n)
    pop.upgraded_step[:] = np.where(rng.random(n) < 0.3, rng.integers(0, STEP, n), NEVER)
    pop.has_purchased[:] = rng.random(n) < 0.6
    due = rng.integers(STEP - 3, STEP + 3, n)
    due[rng.random(n) < 0.1] = NEVER
    due[rng.random(n) < 0.1] = NOT_DUE
    pop.churn_due[:] = due
    pop.purchase_due[:] = rng.permutation(due)
    pop.churn_bound[:] = rng.gamma(2.0, 1.0, n)
    pop.churn_bound[100:120] = 0.0
    return pop


def _both(market: MarketModel, seed: int) -> dict[str, CustomerPopulation]:
    return {b: _population(market, seed) for b in BACKENDS}


@pytest.mark.parametrize("step", [STEP, -(10**7), 2**31 - 2])
def test_due_scans_agree(market: MarketModel, step: int) -> None:
    # step far before everybody (nobody due) and just below NOT_DUE (everybody due)
    people = _both(market, seed=1)
    out = {}
    for backend, pop in people.items():
        pending, stale = churn_due_scan(
            backend, pop.churn_due, pop.last_care, pop.firm, step, NEVER
        )
        out[backend] = (pending, stale, due_now(backend, pending, pop.churn_due, step))
        out[backend] += due_scan(backend, pop.purchase_due, step)
    for i, (a, b) in enumerate(zip(out["numpy"], out["numba"], strict=True)):
        _same(a, b, f"output {i}")
    _same_population(people["numpy"], people["numba"])
    if step == STEP:  # the cared-for customers were marked, not the cared-for others
        pop = people["numpy"]
        cared = pop.last_care == STEP
        assert np.all(pop.churn_due[cared & (pop.firm >= 0)] == NEVER)
        assert out["numpy"][2].size > 0 and out["numpy"][1].size > 0


def test_event_steps_agree_at_the_edges() -> None:
    rng = np.random.default_rng(3)
    k = 2000
    waits = rng.standard_exponential(k)
    rate = rng.gamma(1.0, 0.2, k)
    rate[:4] = [0.0, np.inf, 0.0, 1e-300]  # no event, at once, 0/0, beyond the last step
    waits[2] = 0.0
    idx = np.sort(rng.choice(3 * k, k, replace=False))
    per_person = np.zeros(3 * k)
    per_person[idx] = rate
    out = {}
    for backend in BACKENDS:
        due = np.zeros(3 * k, dtype=np.int32)
        set_event_steps(backend, due, idx, waits, rate, 7)
        other = np.zeros(3 * k, dtype=np.int32)
        set_event_steps(backend, other, idx, waits, per_person, 7, per_person=True)
        out[backend] = due, other
    _same(out["numpy"][0], out["numba"][0], "due")
    _same(out["numpy"][1], out["numba"][1], "due (per person)")
    _same(out["numpy"][0], out["numpy"][1], "per person = per index")
    assert out["numpy"][0][idx[:4]].tolist() == [NOT_DUE, 7, NOT_DUE, NOT_DUE]
    assert out["numpy"][0][idx].min() >= 7


@pytest.mark.parametrize("price_ratio_cap", [1.0, 1.6])
def test_schedule_churn_agrees(market: MarketModel, price_ratio_cap: float) -> None:
    people = _both(market, seed=2)
    state = market.state
    idx = np.flatnonzero(people["numpy"].firm >= 0)
    for backend, pop in people.items():
        schedule_churn(
            backend,
            pop,
            idx,
            STEP,
            margin=0.05,
            price_ratio_cap=price_ratio_cap,
            steps_per_year=SPY,
            churn_kwargs=state.churn_kwargs,
            modifier_kwargs=state.modifier_kwargs,
            rng=np.random.default_rng(5),
        )
        schedule_churn(  # nobody: nothing drawn, nothing written
            backend,
            pop,
            idx[:0],
            STEP,
            margin=0.05,
            price_ratio_cap=price_ratio_cap,
            steps_per_year=SPY,
            churn_kwargs=state.churn_kwargs,
            modifier_kwargs=state.modifier_kwargs,
            rng=np.random.default_rng(5),
        )
    _same_population(people["numpy"], people["numba"])
    pop = people["numpy"]
    low = idx[pop.satisfaction[idx] <= 0.05]  # satisfaction at or below the margin
    assert low.size > 0 and np.all(pop.churn_floor[low] == 0.0)
    assert np.any(pop.churn_due[idx] == NOT_DUE)  # no hazard: no candidate step ahead
    assert np.all(pop.churn_due[idx] >= STEP)


def test_churn_candidates_agree(market: MarketModel) -> None:
    people = _both(market, seed=3)
    state = market.state
    candidates = np.flatnonzero(people["numpy"].firm >= 0)
    price_ratio = np.array([1.0, 1.4, 0.8, 2.5])
    out = {}
    for backend, pop in people.items():
        out[backend] = draw_candidates(
            backend,
            pop,
            candidates,
            STEP,
            price_ratio=price_ratio,
            steps_per_year=SPY,
            churn_kwargs=state.churn_kwargs,
            modifier_kwargs=state.modifier_kwargs,
            rng=np.random.default_rng(6),
        )
    for what, a, b in zip(("leaving", "reasons", "staying"), *out.values(), strict=True):
        _same(a, b, what)
    _same_population(people["numpy"], people["numba"])
    leaving, reasons, staying = out["numpy"]
    assert leaving.size + staying.size == candidates.size
    assert set(np.unique(reasons).tolist()) == {0, 1, 2, 3}  # every own reason occurs


def test_lose_customers_agrees_with_repeated_leavers(market: MarketModel) -> None:
    people = _both(market, seed=4)
    customers = np.flatnonzero(people["numpy"].firm >= 0)
    rng = np.random.default_rng(7)
    idx = np.concatenate([customers[:500], customers[:3]])  # three leave twice
    reasons = rng.integers(0, len(CHURN_REASONS), idx.size)
    out = {}
    for backend, pop in people.items():
        out[backend] = lose_customers(
            backend,
            pop,
            idx,
            reasons,
            n_reasons=len(CHURN_REASONS),
            n_firms=4,
            top_box=0.9,
            satisfied=0.7,
            no_firm=NO_FIRM,
            not_due=NOT_DUE,
        )
    for i, (a, b) in enumerate(zip(out["numpy"], out["numba"], strict=True)):
        _same(a, b, f"count {i}")
    _same_population(people["numpy"], people["numba"])
    by_reason = out["numpy"][0]
    assert by_reason.sum() == idx.size and out["numpy"][1].sum() > 0
    assert np.all(people["numpy"].firm[idx] == NO_FIRM)


def test_purchase_kernels_agree(market: MarketModel) -> None:
    people = _both(market, seed=5)
    state = market.state
    candidates = np.flatnonzero(people["numpy"].firm >= 0)
    rng = np.random.default_rng(8)
    u = rng.random(candidates.size)
    waits = rng.standard_exponential(candidates.size)
    drawn = rng.gamma(2.0, 1.0, candidates.size)
    prices = np.array([10.0, 9.0, 11.0, 2.0])
    unit_costs = np.array([6.0, 6.0, 6.0, 3.0])  # the last firm sells at a loss
    p_failure = np.array([0.1, 0.0, 1.0, 0.3])
    failed_suppliers = [
        np.array([True, False, False]),
        np.zeros(0, dtype=bool),  # no suppliers
        np.array([True]),
        np.array([False, True]),
    ]
    out: dict[str, list[Any]] = {}
    for backend, pop in people.items():
        rates = bound_rates(pop.purchase_rate, SPY, 1.15)
        bought = draw_purchases(
            backend,
            candidates,
            u,
            waits,
            pop,
            rates,
            STEP + 1,
            steps_per_year=SPY,
            frequency_bound=1.15,
            member_multiplier=1.15,
        )
        buyers = bought.buyers
        units = spend_units(
            backend,
            buyers,
            drawn[: buyers.size],
            pop,
            steps_per_year=SPY,
            tenure_gain=0.2,
            ramp_years=3.0,
            basket_multiplier=1.1,
            upgrade_gain=0.3,
        )
        booked = book_sales(
            backend,
            buyers,
            bought.firm,
            units,
            bought.repeat,
            bought.member,
            prices,
            unit_costs,
            pop,
            SPY,
            4,
        )
        k = buyers.size
        failures = service_failures(
            backend,
            bought.firm,
            p_failure,
            state.scenario.market.complaints.p_complain,
            u[:k],
            u[::-1][:k].copy(),
            np.concatenate([[0.0, np.nextafter(1.0, 0.0)], u[2:k]]),
            failed_suppliers,
        )
        out[backend] = [*bought, units, *booked, *failures]
    for i, (a, b) in enumerate(zip(out["numpy"], out["numba"], strict=True)):
        _same(a, b, f"output {i}")
    _same_population(people["numpy"], people["numba"])
    bought = out["numpy"]
    assert 0 < bought[0].size < candidates.size
    assert bought[1].max() > 1.0  # some buy more than once a step
    pop = people["numpy"]
    never = candidates[pop.purchase_rate[candidates] == 0.0]
    assert np.all(pop.purchase_due[never] == NOT_DUE)
    sums = out["numpy"][7]
    assert sums[0, 3] < 0.0  # first-year margin of a firm selling at a loss
    supply_failed = out["numpy"][-1]
    assert not supply_failed[out["numpy"][2] == 1].any()


def test_compiled_candidate_hazards_are_the_numpy_hazards(market: MarketModel) -> None:
    # The candidates' draw returns decisions only, which a last-bit difference in a hazard
    # rarely flips: compare the compiled hazards themselves with the behaviour functions.
    pop = _population(market, seed=9)
    state = market.state
    kw, mk = state.churn_kwargs, state.modifier_kwargs
    c = np.flatnonzero(pop.firm >= 0)
    price_ratio = np.array([1.0, 1.4, 0.8, 2.5])
    hazards = churn_hazards_per_year(
        pop.satisfaction[c],
        (STEP - np.asarray(pop.last_care[c])) * (52.0 / SPY),
        pop.unresolved_complaint[c],
        price_ratio[pop.firm[c]],
        churn_modifier(
            pop.churn_proneness[c], pop.member[c], pop.referred[c], pop.promotion_won[c], **mk
        ),
        **kw,
    )
    total = total_hazard(hazards)
    kernels = numba_kernels().churn
    x, weeks = kernels.candidate_terms(
        c, STEP, pop.satisfaction, pop.last_care, 52.0 / SPY, float(kw["neglect_weeks"])
    )
    got, leave_arg, bound_arg = kernels.candidate_hazards(
        c,
        (x / 0.3) ** kw["neglect_satisfaction_exponent"],
        np.exp(weeks),
        x ** kw["satisfaction_convexity"],
        pop.unresolved_complaint,
        pop.firm,
        price_ratio,
        pop.member,
        pop.referred,
        pop.promotion_won,
        pop.churn_proneness,
        pop.churn_bound,
        float(kw["price_per_year"]),
        SPY,
        *(float(kw[k]) for k in ("neglect_per_year", "unresolved_per_year")),
        *(float(kw[k]) for k in ("dissatisfaction_per_year", "base_per_year")),
        *(float(v) for v in mk.values()),
    )
    _same(got[:, :4], hazards, "hazards")
    _same(got[:, 4], total, "total")
    _same(leave_arg, -total / SPY, "leaving chance's argument")
    _same(bound_arg, -pop.churn_bound[c] / SPY, "bound chance's argument")
