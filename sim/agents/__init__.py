"""Mesa agents of the market: customers (array-backed) and firms."""

from sim.agents.customers import Customer, CustomerPopulation
from sim.agents.firms import Competitor, Firm

__all__ = ["Competitor", "Customer", "CustomerPopulation", "Firm"]
