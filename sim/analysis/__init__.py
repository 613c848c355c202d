"""Analysis of results tables: summary, robustness, sweeps, sensitivity, statistics.

Reads tables (pandas DataFrames, the CSV files of a results folder) and returns tables;
never runs or imports the model or the runner, never draws (:mod:`sim.report` does).
"""
