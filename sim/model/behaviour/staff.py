"""Employees: training, morale, quitting, and the service they give (service-profit chain, F7)."""

from __future__ import annotations

import numpy as np

__all__ = [
    "PAR_PROMOTION_OPPORTUNITY",
    "morale_target",
    "paid_headcount",
    "promotion_pay_factor",
    "quit_probability",
    "skill_after_training",
    "staff_quality",
]

PAR_PROMOTION_OPPORTUNITY = 0.3
"""The market's usual promotion opportunity: morale and the market wage are set at it."""


def skill_after_training(
    skill: np.ndarray,
    training_per_year: float,
    training_reference: float,
    training_gain_per_year: float,
    on_the_job_per_year: float,
    steps_per_year: int,
) -> np.ndarray:
    """Skill after one step of learning: on the job, plus training with diminishing returns.

    Training spend at the reference level closes `training_gain_per_year` of the gap to
    full skill per year; twice the spend does less than twice as much.
    """
    s = np.asarray(skill, dtype=float)
    from_training = training_gain_per_year * -np.expm1(
        -max(training_per_year, 0.0) / training_reference
    )
    rate = (from_training + on_the_job_per_year) / steps_per_year
    return s + min(rate, 1.0) * (1.0 - s)


def morale_target(
    pay_level: float,
    promotion_opportunity: float,
    overload: float,
    *,
    baseline: float,
    pay_weight: float,
    promotion_weight: float,
    overload_weight: float,
) -> float:
    """Morale (0-1) staff settle at under the firm's working conditions.

    Pay relative to the market, promotion opportunities and workload beyond capacity
    (Heskett et al. 1994: internal service quality drives employee satisfaction).
    """
    z = (
        baseline
        + pay_weight * (pay_level - 1.0)
        + promotion_weight * (promotion_opportunity - PAR_PROMOTION_OPPORTUNITY)
        - overload_weight * max(overload, 0.0)
    )
    return float(1.0 / (1.0 + np.exp(-z)))


def quit_probability(
    morale: np.ndarray, base_per_year: float, sensitivity: float, steps_per_year: int
) -> np.ndarray:
    """Chance an employee quits this step: low morale raises the hazard exponentially.

    >>> float(quit_probability(np.array([0.5]), 0.0, 3.0, 52)[0])
    0.0
    """
    hazard = base_per_year * np.exp(-sensitivity * (np.asarray(morale) - 0.5))
    return -np.expm1(-hazard / steps_per_year)


def staff_quality(skill: np.ndarray, morale: np.ndarray, skill_weight: float) -> float:
    """Quality of the service the staff give: a mix of skill and attitude (morale)."""
    s = np.asarray(skill)
    if s.size == 0:
        return 0.0
    return float(skill_weight * s.mean() + (1.0 - skill_weight) * np.asarray(morale).mean())


def paid_headcount(
    n_staff: int, n_customers: float, customers_per_employee: float, fixed_share: float
) -> float:
    """Employees the payroll pays for: a fixed core plus hours that follow the customers served.

    ``fixed_share`` of the team is paid whatever the workload; the rest of the labour is
    bought in proportion to the customers served (part-time hours, seasonal staff), so staff
    cost is a fixed part plus a cost per customer served and a firm that doubles with its
    market doubles its payroll (Anderson, Banker & Janakiraman 2003: overheads rise about
    0.55% per 1% of activity). At the team's capacity it is the team.

    >>> paid_headcount(12, 2400, 200.0, 0.45), paid_headcount(12, 0, 200.0, 0.45)
    (12.0, 5.4)
    """
    return fixed_share * n_staff + (1.0 - fixed_share) * n_customers / customers_per_employee


def promotion_pay_factor(
    opportunity: float, raise_per_promotion: float, par: float = PAR_PROMOTION_OPPORTUNITY
) -> float:
    """Payroll relative to the market's when a share ``opportunity`` of staff are promoted.

    Promoted staff earn ``raise_per_promotion`` more; the market wage already pays for the
    usual share ``par``, so promotion opportunity beyond it costs payroll (and below it
    saves some): more promotions are not free morale.

    >>> round(promotion_pay_factor(0.6, 0.1), 4), promotion_pay_factor(0.3, 0.1)
    (1.0291, 1.0)
    """
    return (1.0 + raise_per_promotion * opportunity) / (1.0 + raise_per_promotion * par)
