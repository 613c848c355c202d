"""The live page of ``marketsim view``: watch and steer a market in the browser (issue 13).

The top layer beside the command line: it runs :class:`sim.model.market.MarketModel`
through its public API and draws with Solara. Importing this package imports no Solara;
:mod:`sim.view.server` and :mod:`sim.view.app` do. See ``docs/view.md``.
"""

__all__: list[str] = []
