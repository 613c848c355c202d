"""Fused passes over the population: numpy, or compiled by numba, with the same bytes.

Why: in numpy a phase makes one pass over the customers per operation (gather, compare,
combine, scatter), each with its own temporary array; at millions of people those passes,
not the arithmetic, are the cost. A compiled kernel reads each person once. Both backends
must give byte-identical results for a seed (``tests/unit/test_kernels*.py``), so only work
whose arithmetic is exact in both is compiled: comparisons, floor, integer counts, and
``+``/``*`` in the same order (numba contracts nothing into fused multiply-adds unless
asked). Transcendental functions (exp, log, pow) stay in numpy: numpy's SIMD versions and
the C library that numba calls differ in the last bit for about one argument in twenty.
Random draws stay in numpy too (the model's one seeded Generator).

Layout: each module of this package holds the numpy form of the kernels of one part of a
step and dispatches on the backend; :mod:`sim.model.kernels.compiled` holds their numba
twins, module for module, and is imported only when the numba backend runs.

Which backend runs: the environment variable ``MARKETSIM_KERNELS`` = ``auto`` (the
default: numba when the market has at least :data:`MIN_PEOPLE_FOR_NUMBA` people; below
that, importing numba and loading its compiled kernels, about half a second and 100 MB per
process, costs more than it saves), ``numpy`` or ``numba``. Both give the same bytes, so
the choice changes speed only (benchmarks/README.md, issue 14).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

import numpy as np
from threadpoolctl import ThreadpoolController

__all__ = [
    "KERNELS_ENV",
    "KERNEL_BACKENDS",
    "MIN_PEOPLE_FOR_NUMBA",
    "kernel_backend",
    "numba_kernels",
    "single_threaded_blas",
    "sorted_unique",
]

KERNEL_BACKENDS = ("numpy", "numba")
KERNELS_ENV = "MARKETSIM_KERNELS"
MIN_PEOPLE_FOR_NUMBA = 200_000
"""With ``MARKETSIM_KERNELS=auto`` (the default), markets at least this large use numba."""


def kernel_backend(n_people: int) -> str:
    """The backend for a market of `n_people`: ``numpy`` or ``numba`` (see the module doc)."""
    choice = os.environ.get(KERNELS_ENV, "auto").strip().lower() or "auto"
    if choice not in (*KERNEL_BACKENDS, "auto"):
        raise ValueError(
            f"{KERNELS_ENV}={choice!r}: choose one of {', '.join(KERNEL_BACKENDS)} or auto"
        )
    installed = importlib.util.find_spec("numba") is not None
    if choice == "numba" and not installed:
        raise ValueError(f"{KERNELS_ENV}=numba but numba is not installed (pip install numba)")
    if choice == "auto":
        return "numba" if installed and n_people >= MIN_PEOPLE_FOR_NUMBA else "numpy"
    return choice


_THREADPOOLS = ThreadpoolController()  # the BLAS numpy loaded (found once, at import)


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run the enclosed matrix products on one BLAS thread.

    Why: delivered value is a product of (people x 8) weights with (8 x firms) offers, too
    thin to share between threads; OpenBLAS's threads cost four times the CPU time of one
    thread (30 against 7 ms for 150,000 people) and compete with other work on a loaded
    machine. Each entry is computed the same way whatever the number of threads, so the
    results are the same bytes. The previous thread count is restored on exit.
    """
    with _THREADPOOLS.limit(limits=1, user_api="blas"):
        yield


def numba_kernels() -> ModuleType:
    """The numba kernels (:mod:`sim.model.kernels.compiled`), imported on first use.

    Not named ``compiled``: importing the subpackage binds that name on this package, so a
    function of the same name would be replaced by the module after the first call.

    Why lazily: importing numba and loading the cached compiled code takes about half a
    second and 100 MB, which only large markets win back.
    """
    return importlib.import_module("sim.model.kernels.compiled")


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct values of a 1-d integer array, ascending: ``np.unique(values)``.

    Why not np.unique: numpy 2 finds the distinct values of an integer array by hashing
    and then sorts them, several times slower than one sort and a comparison of
    neighbours (16 against 2.4 ms for 60,000 people).

    >>> sorted_unique(np.array([5, 1, 5, 3, 1])).tolist()
    [1, 3, 5]
    """
    ordered = np.sort(values)
    keep = np.empty(ordered.size, dtype=bool)
    keep[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]
