"""The numba-compiled twins of :mod:`sim.model.kernels`' modules, module for module.

Imported only when the numba backend runs (:func:`sim.model.kernels.numba_kernels`). Each
kernel is one pass over the people with the exact arithmetic of its numpy form in the
same order; the numpy form is the reference and ``tests/unit/test_kernels*.py`` check
that both give the same bytes. Compiled code is cached next to the modules
(``cache=True``), so a process pays the compilation once per installation, not per run.
"""

from sim.model.kernels.compiled import (
    actions,
    choice,
    churn,
    events,
    purchases,
    recommend,
    records,
    word_of_mouth,
)

__all__ = [
    "actions",
    "choice",
    "churn",
    "events",
    "purchases",
    "recommend",
    "records",
    "word_of_mouth",
]
