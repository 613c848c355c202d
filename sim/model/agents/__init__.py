"""Mesa agents of the market: customers (array-backed) and firms."""

from sim.model.agents.customers import Customer, CustomerPopulation
from sim.model.agents.firms import Competitor, Firm

__all__ = ["Competitor", "Customer", "CustomerPopulation", "Firm"]
