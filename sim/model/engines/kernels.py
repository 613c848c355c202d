"""Fused passes over the population for the vectorized engine: numpy, or compiled by numba.

Why: in numpy a phase makes one pass over the customers per operation (gather, compare,
combine, scatter), each with its own temporary array; at millions of people those passes,
not the arithmetic, are the cost. A compiled kernel reads each person once. Both backends
must give byte-identical results for a seed (``tests/unit/test_kernels.py``), so only work
whose arithmetic is exact in both is compiled: comparisons, floor, integer counts, and
``+``/``*`` in the same order (numba contracts nothing into fused multiply-adds unless
asked). Transcendental functions (exp, log, pow) stay in numpy: numpy's SIMD versions and
the C library that numba calls differ in the last bit for about one argument in twenty.
Random draws stay in numpy too (the model's one seeded Generator).

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

from sim.model.behaviour.satisfaction import likelihood_to_recommend

__all__ = [
    "KERNELS_ENV",
    "KERNEL_BACKENDS",
    "MIN_PEOPLE_FOR_NUMBA",
    "kernel_backend",
    "refresh_recommendations",
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


def _compiled() -> ModuleType:
    """The numba kernels, imported on first use (importing numba takes about half a second)."""
    return importlib.import_module("sim.model.engines.numba_kernels")


def refresh_recommendations(
    backend: str,
    touched: np.ndarray,
    firm: np.ndarray,
    satisfaction: np.ndarray,
    ltr_bias: np.ndarray,
    ltr: np.ndarray,
    in_detractor_episode: np.ndarray,
    detractor_max_ltr: int,
    promoter_min_ltr: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The 0-10 recommend scores of the people `touched` from satisfaction; new detractors
    and every promoter.

    Updates `ltr` and `in_detractor_episode` in place for the customers (firm >= 0) among
    `touched` (ascending indices): the people whose satisfaction may have changed since
    the last refresh. For everybody else the refresh would change nothing (a score is a
    function of satisfaction and the bias, and the episode update is idempotent for an
    unchanged score), so skipping them gives the same state (issue 14).
    A customer opens a detractor episode when the score falls to the detractor band and
    no episode is open; the episode closes only when the score reaches the promoter band
    (hovering around the threshold does not make a customer vent again and again).
    Returns the indices (ascending) of the customers who opened an episode this step and
    of all customers who are promoters now.
    """
    touched = np.asarray(touched, dtype=np.int64)
    if backend == "numba":
        newly, promoters = _compiled().refresh_recommendations(
            touched,
            firm,
            satisfaction,
            ltr_bias,
            ltr,
            in_detractor_episode,
            detractor_max_ltr,
            promoter_min_ltr,
        )
        return newly, promoters
    active = touched[firm[touched] >= 0]
    score = likelihood_to_recommend(satisfaction[active], ltr_bias[active])
    ltr[active] = score
    detractor = score <= detractor_max_ltr
    episode = in_detractor_episode[active]
    newly = active[detractor & ~episode]
    in_detractor_episode[active] = (episode | detractor) & (score < promoter_min_ltr)
    promoters = np.flatnonzero((ltr >= promoter_min_ltr) & (firm >= 0))
    return newly, promoters


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
