"""The ``marketsim`` command line: a thin layer over :mod:`sim.pipeline`."""

from sim.cli.commands import main

__all__ = ["main"]
