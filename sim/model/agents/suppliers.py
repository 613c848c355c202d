"""Suppliers: input quality, reliability and unit cost from a relationship (F8).

Supplier loyalty is a condition for customer loyalty: a partner that trusts the firm
delivers better inputs, fails less often and shares cost savings. Trust climbs a
ladder (transaction -> repeat -> long-term -> partnership -> strategic alliance) when
the firm pays fairly and invests in the relationship; squeezing erodes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.model.behaviour.supply import (
    RELATIONSHIP_LEVELS,
    relationship_level,
    supplier_terms,
    trust_after_step,
)

if TYPE_CHECKING:
    from sim.config.schema import SupplierSpec
    from sim.model.agents.firms import Firm

__all__ = ["Supplier"]


class Supplier(mesa.Agent):
    """One supplier of one firm."""

    def __init__(self, model: mesa.Model, firm: Firm, spec: SupplierSpec, trust: float) -> None:
        super().__init__(model)
        self.firm = firm
        self.spec = spec
        self.trust = trust
        self.failed = False
        self._refresh_terms()

    def _refresh_terms(self) -> None:
        policy = self.firm.policy
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
        model = self.model
        policy = self.firm.policy
        n = max(len(self.firm.suppliers), 1)
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
                steps_per_year=model.steps_per_year,
            )
        )
        self._refresh_terms()
        self.failed = bool(model.rng.random() >= self.reliability)
