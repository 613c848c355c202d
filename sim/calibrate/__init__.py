"""Calibrate a market to a firm's transaction log (``marketsim calibrate``; issue 11).

A log of purchases (customer, date, amount) is summarised to the RFM form, fitted with
pymc-marketing's customer-base models (BG/NBD or Pareto/NBD for purchases and dropout,
Gamma-Gamma for spend), mapped onto the scenario's ``[market.heterogeneity]`` and written
as a scenario file; with a hold-out period the fitted market is simulated from the firm's
actual customers and compared with what they did.

This layer sits between the view and the pipeline: it runs the model (the hold-out
simulation) and draws its own figures. PyMC is imported by :mod:`sim.calibrate.fit` only,
which the command line imports only when ``calibrate`` runs.
"""
