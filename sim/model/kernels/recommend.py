"""How buyers feel (numpy or numba), and recommend scores and detractor episodes after
satisfaction changed (numpy)."""

from __future__ import annotations

import numpy as np

from sim.model.behaviour.satisfaction import likelihood_to_recommend
from sim.model.kernels import numba_kernels

__all__ = [
    "feel_purchases",
    "offer_values",
    "refresh_after_feel",
    "refresh_recommendations",
]


def refresh_recommendations(
    touched: np.ndarray,
    firm: np.ndarray,
    satisfaction: np.ndarray,
    ltr_bias: np.ndarray,
    ltr: np.ndarray,
    in_detractor_episode: np.ndarray,
    detractor_max_ltr: int,
    promoter_min_ltr: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The 0-10 recommend scores of the people `touched` from satisfaction; new detractors
    and every promoter.

    Updates `ltr` and `in_detractor_episode` in place for the customers (firm >= 0) among
    `touched` (ascending indices): the people whose satisfaction may have changed since
    the last refresh. For everybody else the refresh would change nothing (a score is a
    function of satisfaction and the bias, and the episode update is idempotent for an
    unchanged score), so skipping them gives the same state (issue 14).
    A customer opens a detractor episode when the score falls to the detractor band and
    no episode is open; the episode closes only when the score reaches the promoter band
    (hovering around the threshold does not make a customer vent again and again).
    Returns the indices (ascending) of the customers who opened an episode this step and
    of all customers who are promoters now.

    numpy for both backends: its passes measured faster than compiled loops here (3.0
    against 3.2-4.4 ms at 1M people, 110k buyers; scattered rows, benchmarks/README.md).
    """
    touched = np.asarray(touched, dtype=np.int64)
    active = touched[firm[touched] >= 0]
    score = likelihood_to_recommend(satisfaction[active], ltr_bias[active])
    ltr[active] = score
    detractor = score <= detractor_max_ltr
    episode = in_detractor_episode[active]
    newly = active[detractor & ~episode]
    in_detractor_episode[active] = (episode | detractor) & (score < promoter_min_ltr)
    promoters = np.flatnonzero((ltr >= promoter_min_ltr) & (firm >= 0))
    return newly, promoters


def offer_values(
    backend: str, weights: np.ndarray, people: np.ndarray, offers: np.ndarray, firms: np.ndarray
) -> np.ndarray:
    """Delivered value of firm ``firms[j]``'s offer to person ``people[j]`` (float64).

    The dot product of the person's 8 weights with the offer, summed left to right in
    float64: an order numba can repeat exactly (einsum and BLAS sum in SIMD lanes whose
    order is their own; issue 14 moved to this order, which changes the last bit of
    some values, not their law).

    >>> w = np.array([[0.5, 0.25, 0, 0, 0, 0, 0, 0.25]], dtype=np.float32)
    >>> offer_values("numpy", w, np.array([0]), np.array([[1.0, 2, 0, 0, 0, 0, 0, -4]]),
    ...              np.array([0])).tolist()
    [0.0]
    """
    people = np.asarray(people, dtype=np.int64)
    firms = np.asarray(firms, dtype=np.int64)
    if backend == "numba":
        rows = np.take(weights, people, axis=0)  # gathered by numpy (see feel_purchases)
        result: np.ndarray = numba_kernels().recommend.offer_values(rows, offers, firms)
        return result
    # the products in one pass (float32 weights widen exactly), then summed column by
    # column, left to right
    products = np.take(offers, firms, axis=0)
    products *= np.take(weights, people, axis=0)
    value = products[:, 0].copy()
    for k in range(1, products.shape[1]):
        value += products[:, k]
    return value


def feel_purchases(
    backend: str,
    buyers: np.ndarray,
    failed: np.ndarray,
    outcome: np.ndarray,
    supply_failed: np.ndarray,
    noise: np.ndarray,
    people: dict[str, np.ndarray],
    offers: np.ndarray,
    params: tuple[float, ...],
) -> None:
    """Expectation-disconfirmation after this step's purchases, in place.

    `buyers` (distinct) bought; `failed`, `supply_failed` and `outcome` (0 no complaint,
    1 resolved, 2 unresolved) per buyer; `noise` their performance noise. `people` holds
    the population arrays firm, weights, satisfaction, expectation, disposition,
    unresolved_complaint, churn_floor and churn_due; `params` = (failure penalty, supply
    failure penalty, baseline, desired value, expectation weight, desire weight, learning
    rate, expectation learning rate, recovery bonus, unresolved penalty, NEVER).
    Satisfaction moves toward the purchase's logistic satisfaction
    (:func:`transaction_satisfaction`), or jumps on a complaint's outcome; expectation
    moves toward performance; a buyer whose churn bound no longer holds is drawn again.
    Two compiled passes around numpy's exp (bytes: see :mod:`sim.model.kernels`).
    """
    (fail_pen, supply_pen, baseline, desired, ew, dw, lr, elr, bonus, penalty, never) = params
    buyers = np.asarray(buyers, dtype=np.int64)
    failed = np.asarray(failed, dtype=bool)
    supply_failed = np.asarray(supply_failed, dtype=bool)
    outcome = np.asarray(outcome, dtype=np.int8)
    noise = np.asarray(noise, dtype=float)
    firm = people["firm"]
    if backend == "numba":
        kernels = numba_kernels().recommend
        # the gathers in numpy: its fancy indexing gathers rows several times faster than
        # a compiled loop does on the machines measured (benchmarks/README.md)
        expectation = people["expectation"][buyers]
        performance, z = kernels.purchase_performance(
            np.take(people["weights"], buyers, axis=0), firm[buyers], failed, supply_failed,
            noise, offers, expectation, people["disposition"][buyers],
            fail_pen, supply_pen, baseline, desired, ew, dw,
        )  # fmt: skip
        np.negative(z, out=z)
        np.exp(z, out=z)
        new, expected, redraw = kernels.felt(
            outcome, performance, z, people["satisfaction"][buyers], expectation,
            people["churn_floor"][buyers], lr, elr, bonus, penalty,
        )  # fmt: skip
        people["satisfaction"][buyers] = new
        people["unresolved_complaint"][buyers[outcome == 1]] = False
        people["unresolved_complaint"][buyers[outcome == 2]] = True
        people["expectation"][buyers] = expected
        people["churn_due"][buyers[redraw]] = never
        return
    value = offer_values(backend, people["weights"], buyers, offers, firm[buyers])
    performance = value + noise
    performance = performance - fail_pen * failed
    performance = performance - supply_pen * supply_failed
    expectation = people["expectation"][buyers].astype(float)
    base = baseline + people["disposition"][buyers].astype(float)
    z = base + ew * (performance - expectation) + dw * (performance - desired)
    felt = 1.0 / (1.0 + np.exp(-z))
    satisfaction = people["satisfaction"]
    old = satisfaction[buyers]
    new = old + lr * (felt - old)
    new = np.where(outcome == 1, np.minimum(old + bonus, 1.0), new)
    new = np.where(outcome == 2, np.maximum(new - penalty, 0.0), new)
    satisfaction[buyers] = new
    people["unresolved_complaint"][buyers[outcome == 1]] = False
    people["unresolved_complaint"][buyers[outcome == 2]] = True
    people["expectation"][buyers] = expectation + elr * (performance - expectation)
    floor = people["churn_floor"][buyers]
    people["churn_due"][buyers[(new < floor) | (outcome == 2)]] = never


def refresh_after_feel(
    step: int,
    buyers: np.ndarray,
    last_care: np.ndarray,
    acquired_step: np.ndarray,
    firm: np.ndarray,
    satisfaction: np.ndarray,
    ltr_bias: np.ndarray,
    ltr: np.ndarray,
    in_detractor_episode: np.ndarray,
    detractor_max_ltr: int,
    promoter_min_ltr: int,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`refresh_recommendations` for the people whose satisfaction may have changed
    this step: `buyers`, customers cared for this step (last_care == step) and customers
    won since the last refresh (acquired_step >= step - 1).
    """
    buyers = np.asarray(buyers, dtype=np.int64)
    touched = (last_care == step) | (acquired_step >= step - 1)
    touched[buyers] = True
    return refresh_recommendations(
        np.flatnonzero(touched),
        firm,
        satisfaction,
        ltr_bias,
        ltr,
        in_detractor_episode,
        detractor_max_ltr,
        promoter_min_ltr,
    )
