"""Experiments: designs, the runner, executors, the run store and provenance.

A design (:mod:`~sim.experiment.designs`) says which scenario variants every policy runs
on; the runner (:mod:`~sim.experiment.runner`) runs every policy x variant x replication
with common random numbers on an executor (:mod:`~sim.experiment.executors`), persists
each run (:mod:`~sim.experiment.runstore`) and assembles the tables;
:mod:`~sim.experiment.provenance` writes the resolved scenario and the manifest.
"""
