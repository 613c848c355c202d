"""marketsim: an agent-based market simulator for acquisition vs. retention strategy.

>>> from sim import MarketModel, Scenario
>>> model = MarketModel(Scenario.default(), policy="balanced", seed=7)  # doctest: +SKIP
>>> model.run(156).results()  # doctest: +SKIP
"""

from sim.model import MarketModel
from sim.policies import PRESETS, get_policy
from sim.scenario import Policy, Scenario

__all__ = ["PRESETS", "MarketModel", "Policy", "Scenario", "get_policy"]
__version__ = "0.1.0"
