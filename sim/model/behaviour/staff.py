"""Employees: training, morale, quitting, and the service they give (service-profit chain, F7)."""

from __future__ import annotations

import numpy as np

__all__ = ["morale_target", "quit_probability", "skill_after_training", "staff_quality"]


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
        + promotion_weight * (promotion_opportunity - 0.3)
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
