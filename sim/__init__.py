"""marketsim: an agent-based market simulator for acquisition vs. retention strategy.

The library entry point is :func:`run_scenario`: a scenario file, a bundled scenario's
name or a :class:`Scenario` built in Python in, a :class:`Results` of pandas DataFrames
out (``.write(folder)`` and ``.report(folder)`` give the same results folder as the
``marketsim`` command). :class:`MarketModel` is the Mesa model itself, for stepping one
market by hand or with ``mesa.batch_run``.

>>> import sim
>>> res = sim.run_scenario(
...     "retention_vs_acquisition",
...     policies=["balanced", "retention_heavy"],
...     replications=2, steps=4, overrides={"market.n_customers": 300},
... )
>>> list(res.summary.columns[:3])
['policy', 'firm', 'outcome']

The public names are imported on first use (PEP 562), so ``marketsim --help`` and
``marketsim list`` start without loading pandas, Mesa and the engines.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.config.presets import PRESETS, get_policy
    from sim.config.scenario_file import ScenarioFile, load_scenario
    from sim.config.schema import Policy, Scenario
    from sim.model.market import MarketModel
    from sim.pipeline import (
        Results,
        read_results,
        run_scenario,
        run_sensitivity,
        run_sweep,
    )

__all__ = [
    "PRESETS",
    "MarketModel",
    "Policy",
    "Results",
    "Scenario",
    "ScenarioFile",
    "get_policy",
    "load_scenario",
    "read_results",
    "run_scenario",
    "run_sensitivity",
    "run_sweep",
]
__version__ = "0.1.0"

_HOME = {
    "MarketModel": "sim.model.market",
    "PRESETS": "sim.config.presets",
    "get_policy": "sim.config.presets",
    "Policy": "sim.config.schema",
    "Scenario": "sim.config.schema",
    "ScenarioFile": "sim.config.scenario_file",
    "load_scenario": "sim.config.scenario_file",
    "Results": "sim.pipeline",
    "read_results": "sim.pipeline",
    "run_scenario": "sim.pipeline",
    "run_sensitivity": "sim.pipeline",
    "run_sweep": "sim.pipeline",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        value = getattr(import_module(_HOME[name]), name)
        globals()[name] = value  # later lookups skip this hook
        return value
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOME])
