"""Employees: a firm's staff as arrays, each employee still a Mesa agent (F7).

Skilled, happy staff give better service and personnel value (the service-profit
chain, Heskett et al. 1994). Training raises skill; pay and promotion opportunities
raise morale; overload lowers it; low morale makes staff quit, and quitters are
replaced by unskilled hires who cost recruiting. Payroll is a fixed core plus labour
that follows the customers served, and promotions cost raises (issue 10, item 4).
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

from sim.config.schema import EmployeeSpec, Policy
from sim.model.behaviour.staff import (
    morale_target,
    paid_headcount,
    promotion_pay_factor,
    quit_probability,
    skill_after_training,
    staff_quality,
)

__all__ = ["Employee", "Staff", "StaffReport"]


@dataclass(frozen=True)
class StaffReport:
    """What the staff did this step."""

    service_quality: float  # staff part of service quality (0-1)
    personnel_quality: float  # staff part of personnel value (0-1)
    quits: int
    cost: float  # wages + training + recruiting this step
    mean_skill: float
    mean_morale: float
    headcount: float = 0.0  # employees the payroll paid for this step (core + variable)


class Staff:
    """A firm's employees as arrays (skill, morale, tenure), one row per position.

    Learning and morale move as array operations; each employee then decides whether to
    quit (:meth:`Employee.consider_quitting`'s rule: one draw from the model's generator
    per position, in position order), the decisions drawn for the whole staff at once.
    """

    def __init__(
        self,
        firm: mesa.Agent,
        policy: Policy,
        spec: EmployeeSpec,
        rng: np.random.Generator,
        steps_per_year: int,
    ) -> None:
        self.firm = firm
        self.policy = policy
        self.spec = spec
        self.steps_per_year = steps_per_year
        n = spec.per_firm
        self.skill = rng.uniform(spec.hire_skill, spec.initial_skill_max, size=n)
        self.morale = np.full(n, 0.6)
        self.tenure = rng.integers(0, 3 * 52, size=n).astype(np.int32)
        self.quitting = np.zeros(n, dtype=bool)
        self.agents: mesa.agentset.AgentSet[Employee] = mesa.agentset.AgentSet(
            [Employee(firm.model, self, i) for i in range(n)], random=firm.model.random
        )

    @property
    def size(self) -> int:
        """Positions on the staff."""
        return self.skill.size

    def work_preview(self) -> StaffReport:
        """The staff's quality now, without a step of work (used before the first step)."""
        spec = self.spec
        return StaffReport(
            service_quality=staff_quality(self.skill, self.morale, spec.skill_weight),
            personnel_quality=staff_quality(self.skill, self.morale, 0.5),
            quits=0,
            cost=0.0,
            mean_skill=float(self.skill.mean()) if self.size else 0.0,
            mean_morale=float(self.morale.mean()) if self.size else 0.0,
        )

    def work(self, n_customers: int) -> StaffReport:
        """One step: learn, adjust morale to conditions, quit and be replaced."""
        spec, policy = self.spec, self.policy
        spy = self.steps_per_year
        n = self.size
        if n == 0:
            return StaffReport(0.0, 0.0, 0, 0.0, 0.0, 0.0)
        self.skill = skill_after_training(
            self.skill,
            policy.training_per_employee_year,
            spec.training_reference_per_year,
            spec.training_gain_per_year,
            spec.on_the_job_per_year,
            spy,
        )
        # the payroll buys the core team plus hours in proportion to the customers served;
        # the workload is measured against what it pays for
        headcount = paid_headcount(
            n, n_customers, spec.customers_per_employee, spec.fixed_payroll_share
        )
        capacity = headcount * spec.customers_per_employee
        overload = n_customers / capacity - 1.0 if capacity > 0 else 0.0
        target = morale_target(
            policy.pay_level,
            policy.promotion_opportunity,
            overload,
            baseline=spec.morale_baseline,
            pay_weight=spec.morale_pay_weight,
            promotion_weight=spec.morale_promotion_weight,
            overload_weight=spec.morale_overload_weight,
        )
        self.morale += (target - self.morale) * min(spec.morale_adjustment_per_year / spy, 1.0)
        p_quit = quit_probability(
            self.morale, spec.quit_per_year, spec.quit_morale_sensitivity, spy
        )
        # Each employee's own decision (Employee.consider_quitting) drawn for all at once:
        # the same uniforms in position order as the AgentSet's calls, without 200
        # Python calls a firm and step (issue 14)
        np.less(self.firm.model.rng.random(n), p_quit, out=self.quitting)
        quits = self.quitting
        k = int(quits.sum())
        self.skill[quits] = spec.hire_skill
        self.morale[quits] = target
        self.tenure[quits] = 0
        self.tenure += 1
        pay = (
            policy.pay_level
            * promotion_pay_factor(policy.promotion_opportunity, spec.promotion_raise)
            * spec.wage_per_year
            / spy
            * headcount
        )
        training = policy.training_per_employee_year / spy * n
        quality = staff_quality(self.skill, self.morale, spec.skill_weight)
        attitude = staff_quality(self.skill, self.morale, 0.5)
        return StaffReport(
            service_quality=quality,
            personnel_quality=attitude,
            quits=k,
            cost=pay + training + k * spec.recruiting_cost,
            mean_skill=float(self.skill.mean()),
            mean_morale=float(self.morale.mean()),
            headcount=headcount,
        )


class Employee(mesa.Agent):
    """One position on a firm's staff: a view on its row of the staff arrays."""

    def __init__(self, model: mesa.Model, staff: Staff, index: int) -> None:
        super().__init__(model)
        self.staff = staff
        self.index = index

    @property
    def firm(self) -> mesa.Agent:
        """The employer."""
        return self.staff.firm

    def consider_quitting(self, p_quit: np.ndarray) -> None:
        """Quit this step with probability `p_quit[index]` (one draw from the model's rng)."""
        self.staff.quitting[self.index] = self.model.rng.random() < p_quit[self.index]

    @property
    def skill(self) -> float:
        """Knowledge and skill (0-1); hires start low, training raises it."""
        return float(self.staff.skill[self.index])

    @property
    def morale(self) -> float:
        """Job satisfaction (0-1); low morale makes staff quit."""
        return float(self.staff.morale[self.index])

    @property
    def tenure(self) -> int:
        """Steps in this position since the last hire."""
        return int(self.staff.tenure[self.index])
