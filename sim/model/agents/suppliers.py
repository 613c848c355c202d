"""Suppliers: input quality, reliability and unit cost from a relationship (F8).

Supplier loyalty is a condition for customer loyalty: a partner that trusts the firm
delivers better inputs, fails less often and shares cost savings. Trust climbs a
ladder (transaction -> repeat -> long-term -> partnership -> strategic alliance) when
the firm pays fairly and invests in the relationship; squeezing erodes it.
"""

from __future__ import annotations

from collections.abc import Sequence

import mesa
import numpy as np

from sim.config.schema import Policy, SupplierSpec
from sim.model.behaviour.supply import (
    RELATIONSHIP_LEVELS,
    relationship_level,
    supplier_terms,
    trust_after_step,
)

__all__ = ["Supplier", "step_suppliers"]


class Supplier(mesa.Agent):
    """One supplier of one firm (`firm`, whose `policy` sets how it treats its suppliers).

    It starts at the scenario's initial trust; the firm's investment is shared equally
    among its `spec.per_firm` suppliers.
    """

    def __init__(
        self,
        model: mesa.Model,
        firm: mesa.Agent,
        policy: Policy,
        spec: SupplierSpec,
        steps_per_year: int,
    ) -> None:
        super().__init__(model)
        self.firm = firm
        self.policy = policy
        self.spec = spec
        self.steps_per_year = steps_per_year
        self.trust = spec.initial_trust
        self.failed = False
        self._refresh_terms()

    def _refresh_terms(self) -> None:
        policy = self.policy
        self.level = int(relationship_level(np.array(self.trust)))
        quality, reliability, cost = supplier_terms(
            np.array(self.level),
            policy.supplier_price_pressure,
            base_quality=self.spec.base_quality,
            quality_per_level=self.spec.quality_per_level,
            base_reliability=self.spec.base_reliability,
            reliability_per_level=self.spec.reliability_per_level,
            cost_saving_per_level=self.spec.cost_saving_per_level,
        )
        self.quality, self.reliability, self.cost_factor = (
            float(quality),
            float(reliability),
            float(cost),
        )

    @property
    def relationship(self) -> str:
        """Name of the current rung of the relationship ladder."""
        return RELATIONSHIP_LEVELS[self.level]

    def step(self) -> None:
        """Deal with the firm for one step, then deliver (or fail to)."""
        policy = self.policy
        n = max(self.spec.per_firm, 1)
        self.trust = float(
            trust_after_step(
                np.array(self.trust),
                policy.supplier_investment_per_year / n,
                self.spec.investment_reference_per_year,
                policy.supplier_price_pressure,
                fair_dealing_per_year=self.spec.fair_dealing_per_year,
                investment_gain_per_year=self.spec.investment_gain_per_year,
                squeeze_loss_per_year=self.spec.squeeze_loss_per_year,
                decay_per_year=self.spec.trust_decay_per_year,
                steps_per_year=self.steps_per_year,
            )
        )
        self._refresh_terms()
        self.failed = bool(self.model.rng.random() >= self.reliability)


def step_suppliers(suppliers: Sequence[Supplier], rng: np.random.Generator) -> None:
    """One :meth:`Supplier.step` for each of one firm's `suppliers`, in their order, as
    array operations: the same numbers (the same element-wise arithmetic, one uniform
    each from `rng` in the same order) without a dozen numpy calls per supplier (issue 14).

    The suppliers share their firm's policy and spec (:meth:`Firm.equip` contracts them).
    """
    if not suppliers:
        return
    first = suppliers[0]
    policy, spec = first.policy, first.spec
    trust = trust_after_step(
        np.array([s.trust for s in suppliers], dtype=float),
        policy.supplier_investment_per_year / max(spec.per_firm, 1),
        spec.investment_reference_per_year,
        policy.supplier_price_pressure,
        fair_dealing_per_year=spec.fair_dealing_per_year,
        investment_gain_per_year=spec.investment_gain_per_year,
        squeeze_loss_per_year=spec.squeeze_loss_per_year,
        decay_per_year=spec.trust_decay_per_year,
        steps_per_year=first.steps_per_year,
    )
    level = relationship_level(trust)
    quality, reliability, cost = supplier_terms(
        level,
        policy.supplier_price_pressure,
        base_quality=spec.base_quality,
        quality_per_level=spec.quality_per_level,
        base_reliability=spec.base_reliability,
        reliability_per_level=spec.reliability_per_level,
        cost_saving_per_level=spec.cost_saving_per_level,
    )
    failed = rng.random(len(suppliers)) >= reliability
    for j, supplier in enumerate(suppliers):
        supplier.trust = float(trust[j])
        supplier.level = int(level[j])
        supplier.quality = float(quality[j])
        supplier.reliability = float(reliability[j])
        supplier.cost_factor = float(cost[j])
        supplier.failed = bool(failed[j])
