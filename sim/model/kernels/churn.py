"""Churn candidates and leavers: bounds drawn ahead, the candidates' draw, the books of a
loss (numpy or numba, the same bytes).

Why kernels: each of these is a dozen numpy passes over the customers concerned (tens of
thousands a step at a million people), a gather, a product or a comparison each with its
own temporary. The compiled twins make one pass for the exact arithmetic; pow, exp,
expm1 and log1p stay numpy's in both forms (:mod:`sim.model.kernels`), applied to the
same arrays, so the forms give the same bytes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.model.behaviour.churn import (
    churn_hazards_per_year,
    churn_modifier,
    draw_churn_thinned,
    hazard_bound_per_year,
)
from sim.model.behaviour.levers import geometric_rates, next_event_steps
from sim.model.kernels import numba_kernels
from sim.model.kernels.events import set_event_steps

__all__ = ["draw_candidates", "lose_customers", "schedule_churn"]


def _constants(
    churn_kwargs: dict[str, Any], modifier_kwargs: dict[str, float]
) -> tuple[float, ...]:
    """The scalars of the hazards, in the compiled kernels' order."""
    kw, mk = churn_kwargs, modifier_kwargs
    return (
        float(kw["neglect_per_year"]),
        float(kw["unresolved_per_year"]),
        float(kw["dissatisfaction_per_year"]),
        float(kw["base_per_year"]),
        float(mk["member_reduction"]),
        float(mk["referred_multiplier"]),
        float(mk["promotion_multiplier"]),
    )


def schedule_churn(
    backend: str,
    population: Any,
    idx: np.ndarray,
    first: int,
    *,
    margin: float,
    price_ratio_cap: float,
    steps_per_year: int,
    churn_kwargs: dict[str, Any],
    modifier_kwargs: dict[str, float],
    rng: np.random.Generator,
) -> None:
    """Draw customers `idx`'s next churn candidate step from step `first` on.

    The bound on the yearly hazard (:func:`hazard_bound_per_year`) assumes satisfaction
    `margin` below now (the floor, kept in ``churn_floor``), so that it still holds after
    most small falls; it is kept in ``churn_bound``, the step in ``churn_due``. One
    standard exponential per customer (:func:`next_event_steps`). `idx` distinct.
    """
    if idx.size == 0:
        return
    p = population
    kw = churn_kwargs
    if backend == "numba":
        c = numba_kernels().churn
        x = c.floor_terms(idx, p.satisfaction, p.churn_floor, float(margin))
        indifference = (x / 0.3) ** kw["neglect_satisfaction_exponent"]
        convex = x ** kw["satisfaction_convexity"]
        # the terms of churn_hazards_per_year at weeks since care = inf and the price cap
        care_factor = float(1.0 - np.exp(-np.asarray(np.inf) / kw["neglect_weeks"]))
        price = float(kw["price_per_year"] * np.maximum(np.asarray(price_ratio_cap) - 1.0, 0.0))
        member_factor = float(1.0 - modifier_kwargs["member_reduction"] * np.asarray(False))
        arg = c.bounds(
            idx,
            indifference,
            convex,
            p.unresolved_complaint,
            p.referred,
            p.promotion_won,
            p.churn_proneness,
            p.churn_bound,
            care_factor,
            price,
            member_factor,
            int(steps_per_year),
            *_constants(kw, modifier_kwargs),
        )
        chance = np.expm1(arg)
        rate = geometric_rates(np.negative(chance, out=chance))
        waits = rng.standard_exponential(idx.size)
        set_event_steps(backend, p.churn_due, idx, waits, rate, first)
        return
    floor = np.maximum(p.satisfaction[idx] - margin, 0.0).astype(np.float32)
    p.churn_floor[idx] = floor
    bound = hazard_bound_per_year(
        floor.astype(float),
        p.unresolved_complaint[idx],
        price_ratio_cap,
        churn_modifier(
            p.churn_proneness[idx], False, p.referred[idx], p.promotion_won[idx], **modifier_kwargs
        ),
        **kw,
    )
    p.churn_bound[idx] = bound
    chance = -np.expm1(-bound / steps_per_year)
    p.churn_due[idx] = next_event_steps(chance, first, rng)


def draw_candidates(
    backend: str,
    population: Any,
    candidates: np.ndarray,
    step: int,
    *,
    price_ratio: np.ndarray,
    steps_per_year: int,
    churn_kwargs: dict[str, Any],
    modifier_kwargs: dict[str, float],
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which churn `candidates` leave this step, and why (:func:`draw_churn_thinned`).

    Returns the leavers, their reason indices (int8) and the candidates who stay, each
    in the order of `candidates`. One uniform per candidate.
    """
    p = population
    kw = churn_kwargs
    weeks_per_step = 52.0 / steps_per_year
    if backend == "numba":
        c = numba_kernels().churn
        x, weeks_arg = c.candidate_terms(
            candidates,
            int(step),
            p.satisfaction,
            p.last_care,
            weeks_per_step,
            float(kw["neglect_weeks"]),
        )
        indifference = (x / 0.3) ** kw["neglect_satisfaction_exponent"]
        recency = np.exp(weeks_arg)
        convex = x ** kw["satisfaction_convexity"]
        hazards, leave_arg, bound_arg = c.candidate_hazards(
            candidates,
            indifference,
            recency,
            convex,
            p.unresolved_complaint,
            p.firm,
            np.asarray(price_ratio, dtype=float),
            p.member,
            p.referred,
            p.promotion_won,
            p.churn_proneness,
            p.churn_bound,
            float(kw["price_per_year"]),
            int(steps_per_year),
            *_constants(kw, modifier_kwargs),
        )
        p_leave = np.expm1(leave_arg)
        q = np.expm1(bound_arg)
        u = rng.random(candidates.size)
        leaving, reasons, staying = c.choose_reasons(candidates, hazards, p_leave, q, u)
        return leaving, reasons, staying
    firm = p.firm[candidates].astype(np.intp)
    hazards = churn_hazards_per_year(
        p.satisfaction[candidates],
        (step - np.asarray(p.last_care[candidates])) * weeks_per_step,
        p.unresolved_complaint[candidates],
        np.asarray(price_ratio)[firm],
        churn_modifier(
            p.churn_proneness[candidates],
            p.member[candidates],
            p.referred[candidates],
            p.promotion_won[candidates],
            **modifier_kwargs,
        ),
        **kw,
    )
    reasons = draw_churn_thinned(hazards, p.churn_bound[candidates], steps_per_year, rng)
    leaving = reasons >= 0
    return candidates[leaving], reasons[leaving], candidates[~leaving]


def lose_customers(
    backend: str,
    population: Any,
    idx: np.ndarray,
    reasons: np.ndarray,
    *,
    n_reasons: int,
    n_firms: int,
    top_box: float,
    satisfied: float,
    no_firm: int,
    not_due: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Customers `idx` leave their firm: their state is reset, and the counts returned.

    Returns per firm (int64): leavers by reason (n_reasons x n_firms), leavers who were
    top-box satisfied, satisfied (below top box), and in the two top tiers. The counts
    are taken before any reset, so a repeated index counts twice in both forms.
    """
    pop = population
    idx = np.asarray(idx, dtype=np.intp)
    if backend == "numba":
        counts: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] = numba_kernels().churn.lose(
            idx,
            np.asarray(reasons, dtype=np.int64),
            pop.firm,
            pop.satisfaction,
            pop.tier,
            pop.former_firm,
            pop.member,
            pop.unresolved_complaint,
            pop.in_detractor_episode,
            pop.tenure,
            pop.revenue_with_firm,
            pop.churn_due,
            pop.purchase_due,
            int(n_reasons),
            int(n_firms),
            float(top_box),
            float(satisfied),
            int(no_firm),
            int(not_due),
        )
        return counts
    firms = pop.firm[idx].astype(np.intp)
    by_reason = np.bincount(
        np.asarray(reasons, dtype=np.intp) * n_firms + firms, minlength=n_reasons * n_firms
    ).reshape(n_reasons, n_firms)
    sat = pop.satisfaction[idx]
    top = sat >= top_box
    top_counts = np.bincount(firms[top], minlength=n_firms)
    satisfied_counts = np.bincount(firms[(sat >= satisfied) & ~top], minlength=n_firms)
    tier = pop.tier[idx]
    valuable = np.bincount(firms[(tier <= 1) & (tier >= 0)], minlength=n_firms)
    pop.former_firm[idx] = firms
    pop.firm[idx] = no_firm
    pop.member[idx] = False
    pop.unresolved_complaint[idx] = False
    pop.in_detractor_episode[idx] = False
    pop.tenure[idx] = 0
    pop.revenue_with_firm[idx] = 0.0
    pop.tier[idx] = -1
    pop.churn_due[idx] = not_due
    pop.purchase_due[idx] = not_due
    return by_reason, top_counts, satisfied_counts, valuable
