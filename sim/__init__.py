"""marketsim: an agent-based market simulator for acquisition vs. retention strategy.

>>> from sim import MarketModel, Scenario
>>> model = MarketModel(Scenario.default(), policy="balanced", seed=7)  # doctest: +SKIP
>>> model.run(156).results()  # doctest: +SKIP

The public names are imported on first use (PEP 562), so ``marketsim --help`` and
``marketsim validate`` start without loading Mesa and the engines.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.config.presets import PRESETS, get_policy
    from sim.config.schema import Policy, Scenario
    from sim.model.market import MarketModel

__all__ = ["PRESETS", "MarketModel", "Policy", "Scenario", "get_policy"]
__version__ = "0.1.0"

_HOME = {
    "MarketModel": "sim.model.market",
    "PRESETS": "sim.config.presets",
    "get_policy": "sim.config.presets",
    "Policy": "sim.config.schema",
    "Scenario": "sim.config.schema",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        value = getattr(import_module(_HOME[name]), name)
        globals()[name] = value  # later lookups skip this hook
        return value
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOME])
