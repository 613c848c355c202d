"""The market model: Mesa agents on a social graph, two engines for the customer phases.

Modules, top to bottom (pyproject's import-linter contract keeps imports one-way):

- ``market``: :class:`~sim.model.market.MarketModel`, the wiring and the order of a step,
  its DataCollector and results tables;
- ``engines`` (vectorized, per-agent), ``actions`` (what firms do to people each step)
  and ``records`` (the step's measures), side by side;
- ``agents``: customers (views on the population arrays), firms and competitors, their
  suppliers and employees;
- ``state``: :class:`~sim.model.state.MarketState`, what agents, engines and actions
  share instead of the model, and the state transitions both engines use;
- ``population`` (every person's state as arrays) and ``metrics`` (ledger, measures,
  cohort value);
- ``behaviour``: the behaviour rules, pure functions of arrays, parameters and a generator;
- ``network`` (social graphs), ``calibration`` and ``outcomes`` (computed from results).

Nothing is imported here, so ``import sim.model.network`` does not load Mesa.
"""
