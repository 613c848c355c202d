"""Purchases: the candidates' chances and draw, what buyers spend, the books of a sale and
the service and supply failures (numpy or numba, the same bytes).

Why kernels: a step has about a hundred thousand purchase candidates per million people;
in numpy each product, comparison, gather and per-firm sum is one more pass over them
with its own temporary, where a compiled loop reads each buyer once and adds the firms'
totals in the same loop (as ``np.bincount`` adds them: in the buyers' order). Random
draws (uniforms, exponentials, the Gamma spend) and log1p stay numpy's in both forms.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from sim.model.behaviour.levers import event_steps, geometric_rates, upgrade_multiplier
from sim.model.behaviour.spend import tenure_spend_multiplier
from sim.model.behaviour.supply import flat_suppliers, supply_failures
from sim.model.kernels import numba_kernels

__all__ = [
    "N_SALES_SUMS",
    "Bought",
    "book_sales",
    "bound_rates",
    "draw_purchases",
    "service_failures",
    "spend_units",
]

N_SALES_SUMS = 7
"""Rows of :func:`book_sales`' per-firm sums: first-year margin, revenue, cost of goods,
units, repeat purchases, member purchases, member revenue."""


def bound_rates(
    purchase_rate: np.ndarray, steps_per_year: int, frequency_bound: float
) -> np.ndarray:
    """Each person's geometric rate -log(1 - q) of the chance q = min(1, rate / steps per
    year * `frequency_bound`) at which purchase candidates are drawn (:func:`draw_purchases`).

    Why once per person: q depends on the person's purchase rate alone, a trait drawn
    once, so its log1p is taken once for everybody instead of for each candidate at each
    step (numpy's log1p gives each element the same bytes wherever it sits in an array).

    >>> bound_rates(np.array([0.0, 26.0, 104.0]), 52, 1.0).round(6).tolist()
    [0.0, 0.693147, inf]
    """
    return geometric_rates(purchase_rate.astype(float) / steps_per_year * frequency_bound)


class Bought(NamedTuple):
    """This step's buyers (ascending) and what :func:`draw_purchases` gathered for them."""

    buyers: np.ndarray  # int64 person indices
    quantity: np.ndarray  # float: purchases (1, or the expected number when above 1)
    firm: np.ndarray  # intp
    member: np.ndarray  # bool: in the firm's loyalty program
    repeat: np.ndarray  # bool: had bought from the firm before
    spend_rate: np.ndarray  # float: Gamma-Gamma nu


def draw_purchases(
    backend: str,
    candidates: np.ndarray,
    u: np.ndarray,
    exponentials: np.ndarray,
    population: Any,
    rates: np.ndarray,
    first: int,
    *,
    steps_per_year: int,
    frequency_bound: float,
    member_multiplier: float,
) -> Bought:
    """Which purchase `candidates` buy, and their next candidate steps from `first` on.

    A candidate expects rate / steps per year purchases (a member's times
    `member_multiplier`) and was drawn at the bound rate / steps per year *
    `frequency_bound`; it buys as in :func:`sim.model.behaviour.spend.draw_purchases_thinned`
    with its uniform `u`. Every candidate's next step is :func:`event_steps` of its
    exponential and its geometric rate (`rates`, per person: :func:`bound_rates`),
    written to ``purchase_due``. The buyers are marked as having purchased (``repeat``
    keeps whether they had before).
    """
    pop = population
    if backend == "numba":
        buyers, quantity, firm, member, repeat, nu = numba_kernels().purchases.draw_purchases(
            np.asarray(candidates, dtype=np.int64),
            u,
            exponentials,
            pop.purchase_rate,
            pop.member,
            pop.firm,
            pop.has_purchased,
            pop.spend_rate,
            rates,
            pop.purchase_due,
            int(first),
            int(steps_per_year),
            float(frequency_bound),
            float(member_multiplier),
        )
        return Bought(buyers, quantity, firm, member, repeat, nu)
    rate = pop.purchase_rate[candidates].astype(float) / steps_per_year
    member = pop.member[candidates]
    expected = rate * np.where(member, member_multiplier, 1.0)
    buys = u * np.minimum(rate * frequency_bound, 1.0) < expected
    pop.purchase_due[candidates] = event_steps(exponentials, rates[candidates], first)
    buyers = candidates[buys]
    repeat = pop.has_purchased[buyers]
    pop.has_purchased[buyers] = True
    return Bought(
        buyers,
        np.maximum(expected[buys], 1.0),
        pop.firm[buyers].astype(np.intp),
        member[buys],
        repeat,
        pop.spend_rate[buyers].astype(float),
    )


def spend_units(
    backend: str,
    buyers: np.ndarray,
    drawn: np.ndarray,
    population: Any,
    *,
    steps_per_year: int,
    tenure_gain: float,
    ramp_years: float,
    basket_multiplier: float,
    upgrade_gain: float,
) -> np.ndarray:
    """Units bought: the units `drawn` (Gamma-Gamma) times the tenure ramp
    (:func:`tenure_spend_multiplier`), a member's basket multiplier and an upgraded
    customer's gain (:func:`upgrade_multiplier`), in that order."""
    pop = population
    if backend == "numba":
        units: np.ndarray = numba_kernels().purchases.spend_units(
            np.asarray(buyers, dtype=np.int64),
            np.asarray(drawn, dtype=float),
            pop.tenure,
            pop.member,
            pop.upgraded_step,
            pop.acquired_step,
            int(steps_per_year),
            float(tenure_gain),
            float(ramp_years),
            float(basket_multiplier),
            float(1.0 + upgrade_gain),
        )
        return units
    return (
        drawn
        * tenure_spend_multiplier(
            np.asarray(pop.tenure[buyers]) / steps_per_year, tenure_gain, ramp_years
        )
        * np.where(pop.member[buyers], basket_multiplier, 1.0)
        * upgrade_multiplier(pop.upgraded_step[buyers], pop.acquired_step[buyers], upgrade_gain)
    )


def book_sales(
    backend: str,
    idx: np.ndarray,
    firms: np.ndarray,
    units: np.ndarray,
    repeat: np.ndarray,
    member: np.ndarray,
    prices: np.ndarray,
    unit_costs: np.ndarray,
    population: Any,
    steps_per_year: int,
    n_firms: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Revenue and cost of the purchases (people `idx`, distinct, from `firms`), added
    to each buyer's annual revenue and revenue with the firm.

    Returns the per-firm sums (:data:`N_SALES_SUMS` x n_firms, float, each added in the
    buyers' order as ``np.bincount`` adds), the purchases per firm (int64), and each
    purchase's revenue, margin (revenue - cost of goods) and cohort (the buyer's
    acquired step, intp).
    """
    pop = population
    firms = np.asarray(firms, dtype=np.intp)
    if backend == "numba":
        booked: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray] = (
            numba_kernels().purchases.book_sales(
                np.asarray(idx, dtype=np.int64),
                firms,
                np.asarray(units, dtype=float),
                np.asarray(repeat, dtype=bool),
                np.asarray(member, dtype=bool),
                np.asarray(prices, dtype=float),
                np.asarray(unit_costs, dtype=float),
                pop.annual_revenue,
                pop.revenue_with_firm,
                pop.tenure,
                pop.acquired_step,
                int(steps_per_year),
                int(n_firms),
            )
        )
        return booked
    units = np.asarray(units, dtype=float)
    revenue = units * prices[firms]
    cogs = units * unit_costs[firms]
    pop.annual_revenue[idx] += revenue
    pop.revenue_with_firm[idx] += revenue
    first_year = pop.tenure[idx] < steps_per_year
    margin = revenue - cogs
    member = np.asarray(member, dtype=float)
    sums = np.vstack(
        [
            np.bincount(firms, weights=margin * first_year, minlength=n_firms),
            np.bincount(firms, weights=revenue, minlength=n_firms),
            np.bincount(firms, weights=cogs, minlength=n_firms),
            np.bincount(firms, weights=units, minlength=n_firms),
            np.bincount(firms, weights=repeat, minlength=n_firms),
            np.bincount(firms, weights=member, minlength=n_firms),
            np.bincount(firms, weights=revenue * member, minlength=n_firms),
        ]
    )
    cohort = pop.acquired_step[idx].astype(np.intp)
    return sums, np.bincount(firms, minlength=n_firms), revenue, margin, cohort


def service_failures(
    backend: str,
    firm: np.ndarray,
    p_failure: np.ndarray,
    p_complain: float,
    u_failure: np.ndarray,
    u_complaint: np.ndarray,
    u_supply: np.ndarray,
    supplier_failed: list[np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each purchase's service failure (u < its firm's p_failure), complaint after a
    failure (u < p_complain) and supply failure
    (:func:`sim.model.behaviour.supply.supply_failures`), from one uniform each.

    >>> service_failures("numpy", np.array([0, 1]), np.array([0.5, 0.0]), 1.0,
    ...                  np.array([0.4, 0.4]), np.array([0.3, 0.3]), np.array([0.0, 0.0]),
    ...                  [np.array([True]), np.zeros(0, bool)])
    (array([ True, False]), array([ True, False]), array([ True, False]))
    """
    firm = np.asarray(firm, dtype=np.intp)
    if backend == "numba":
        counts, starts, flat = flat_suppliers(supplier_failed)
        failures: tuple[np.ndarray, np.ndarray, np.ndarray] = (
            numba_kernels().purchases.service_failures(
                firm,
                np.asarray(p_failure, dtype=float),
                float(p_complain),
                u_failure,
                u_complaint,
                u_supply,
                counts,
                starts,
                flat,
            )
        )
        return failures
    failed = u_failure < p_failure[firm]
    complained = failed & (u_complaint < p_complain)
    return failed, complained, supply_failures(firm, supplier_failed, u_supply)
