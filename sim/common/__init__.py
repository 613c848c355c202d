"""Leaves every layer may use: errors, atomic files, seeds, the outcomes registry, formatting.

Nothing here imports another part of ``sim``, so each module can be imported on its own
at no cost (the command line reads the outcomes registry and the errors at start-up).
"""
