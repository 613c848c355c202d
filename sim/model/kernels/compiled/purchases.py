"""The numba form of :mod:`sim.model.kernels.purchases` (same arithmetic, same order)."""

from __future__ import annotations

import numba
import numpy as np

__all__ = [
    "book_sales",
    "draw_purchases",
    "service_failures",
    "spend_units",
]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def draw_purchases(
    candidates: np.ndarray,
    u: np.ndarray,
    exponentials: np.ndarray,
    purchase_rate: np.ndarray,
    member: np.ndarray,
    firm: np.ndarray,
    has_purchased: np.ndarray,
    spend_rate: np.ndarray,
    rates: np.ndarray,
    purchase_due: np.ndarray,
    first: int,
    steps_per_year: int,
    frequency_bound: float,
    member_multiplier: float,
) -> tuple[
    np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray
]:  # pragma: no cover - compiled
    """See :func:`sim.model.kernels.purchases.draw_purchases`."""
    k = candidates.shape[0]
    buyers = np.empty(k, dtype=np.int64)
    quantity = np.empty(k)
    firms = np.empty(k, dtype=np.intp)
    members = np.empty(k, dtype=np.bool_)
    repeat = np.empty(k, dtype=np.bool_)
    nu = np.empty(k)
    n = 0
    offset = float(first - 1)
    cap = float(np.iinfo(np.int32).max)
    for j in range(k):
        i = candidates[j]
        rate = np.float64(purchase_rate[i]) / steps_per_year
        is_member = member[i]
        expected = rate * (member_multiplier if is_member else 1.0)
        if u[j] * min(rate * frequency_bound, 1.0) < expected:
            buyers[n] = i
            quantity[n] = max(expected, 1.0)
            firms[n] = firm[i]
            members[n] = is_member
            repeat[n] = has_purchased[i]
            has_purchased[i] = True
            nu[n] = spend_rate[i]
            n += 1
        # event_steps, as in sim.model.kernels.compiled.events.set_event_steps
        wait = np.ceil(exponentials[j] / rates[i])
        if wait != wait:
            step = cap
        else:
            step = max(wait, 1.0) + offset
            if step > cap:
                step = cap
        purchase_due[i] = np.int32(step)
    return (
        buyers[:n].copy(),
        quantity[:n].copy(),
        firms[:n].copy(),
        members[:n].copy(),
        repeat[:n].copy(),
        nu[:n].copy(),
    )


@numba.njit(cache=True, nogil=True, error_model="numpy")
def spend_units(
    buyers: np.ndarray,
    drawn: np.ndarray,
    tenure: np.ndarray,
    member: np.ndarray,
    upgraded_step: np.ndarray,
    acquired_step: np.ndarray,
    steps_per_year: int,
    tenure_gain: float,
    ramp_years: float,
    basket_multiplier: float,
    upgrade_factor: float,
) -> np.ndarray:  # pragma: no cover - compiled
    """See :func:`sim.model.kernels.purchases.spend_units`."""
    k = buyers.shape[0]
    units = np.empty(k)
    for j in range(k):
        i = buyers[j]
        ramp = min((tenure[i] / steps_per_year) / ramp_years, 1.0)
        u = drawn[j] * (1.0 + tenure_gain * ramp)
        u = u * (basket_multiplier if member[i] else 1.0)
        units[j] = u * (upgrade_factor if upgraded_step[i] > acquired_step[i] else 1.0)
    return units


@numba.njit(cache=True, nogil=True)
def book_sales(
    idx: np.ndarray,
    firms: np.ndarray,
    units: np.ndarray,
    repeat: np.ndarray,
    member: np.ndarray,
    prices: np.ndarray,
    unit_costs: np.ndarray,
    annual_revenue: np.ndarray,
    revenue_with_firm: np.ndarray,
    tenure: np.ndarray,
    acquired_step: np.ndarray,
    steps_per_year: int,
    n_firms: int,
) -> tuple[
    np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray
]:  # pragma: no cover - compiled
    """See :func:`sim.model.kernels.purchases.book_sales`."""
    k = idx.shape[0]
    sums = np.zeros((7, n_firms))
    purchases = np.zeros(n_firms, dtype=np.int64)
    revenue = np.empty(k)
    margin = np.empty(k)
    cohort = np.empty(k, dtype=np.intp)
    for j in range(k):
        i = idx[j]
        f = firms[j]
        r = units[j] * prices[f]
        c = units[j] * unit_costs[f]
        annual_revenue[i] += r
        revenue_with_firm[i] += r
        m = r - c
        revenue[j] = r
        margin[j] = m
        is_member = 1.0 if member[j] else 0.0
        sums[0, f] += m * (1.0 if tenure[i] < steps_per_year else 0.0)
        sums[1, f] += r
        sums[2, f] += c
        sums[3, f] += units[j]
        sums[4, f] += 1.0 if repeat[j] else 0.0
        sums[5, f] += is_member
        sums[6, f] += r * is_member
        purchases[f] += 1
        cohort[j] = acquired_step[i]
    return sums, purchases, revenue, margin, cohort


@numba.njit(cache=True, nogil=True)
def service_failures(
    firm: np.ndarray,
    p_failure: np.ndarray,
    p_complain: float,
    u_failure: np.ndarray,
    u_complaint: np.ndarray,
    u_supply: np.ndarray,
    counts: np.ndarray,
    starts: np.ndarray,
    flat: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """See :func:`sim.model.kernels.purchases.service_failures`."""
    k = firm.shape[0]
    failed = np.empty(k, dtype=np.bool_)
    complained = np.empty(k, dtype=np.bool_)
    supply = np.zeros(k, dtype=np.bool_)
    for j in range(k):
        f = firm[j]
        fail = u_failure[j] < p_failure[f]
        failed[j] = fail
        complained[j] = fail and u_complaint[j] < p_complain
        n = counts[f]
        if n > 0:
            s = min(np.intp(u_supply[j] * n), n - 1)
            supply[j] = flat[starts[f] + s]
    return failed, complained, supply
