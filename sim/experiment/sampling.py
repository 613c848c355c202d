"""Uncertain futures: the markets (scenarios) an experiment runs every policy on.

A scenario file's ``[uncertainties]`` gives each uncertain market parameter a range, a
distribution or a list of choices; ``[experiment]`` says how many markets to sample and
how. Sampling happens on the unit hypercube (a Latin hypercube by default, McKay,
Beckman & Conover 1979, via ``scipy.stats.qmc``; or independent uniform draws) and each
coordinate is mapped through its parameter's quantile function (inverse transform), so
the same machinery serves the robustness experiment and SALib's sensitivity designs. The
sampling stream is seeded from the experiment seed alone: the same file gives the same
markets, in the same order, on any machine.

>>> from sim.config.scenario_file import parse_scenario
>>> sf = parse_scenario('''
... [uncertainties]
... "network.weak_tie_share" = { low = 0.2, high = 0.8 }
... [experiment]
... scenarios = 3
... ''')
>>> [round(v["network.weak_tie_share"], 3) for v in scenario_variants(sf)]
[0.369, 0.795, 0.512]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats
from scipy.stats import qmc

from sim.config.experiment_spec import UncertaintySpec
from sim.config.scenario_file import ScenarioFile, resolve_parameter

__all__ = [
    "UncertainParameter",
    "replications_per_scenario",
    "sampling_seed",
    "scenario_variants",
    "uncertain_parameters",
    "unit_sample",
    "variants_from_unit",
]

SAMPLING_KEY = 0x5CE7_A210
"""Spawn key of the market-sampling stream (kept apart from every model stream)."""


@dataclass(frozen=True)
class UncertainParameter:
    """One ``[uncertainties]`` entry: its key path, its distribution, whole numbers or not."""

    path: str
    spec: UncertaintySpec
    integer: bool

    def values(self, u: np.ndarray) -> np.ndarray:
        """Quantile function: points ``u`` of [0, 1) -> the parameter's values.

        Uniform whole-number ranges give every whole number from low to high the same
        chance; other whole-number distributions are rounded (and kept inside low..high).
        Choices are equally likely.
        """
        u = np.clip(np.asarray(u, dtype=float), 0.0, np.nextafter(1.0, 0.0))
        s = self.spec
        if s.choices is not None:
            picks = np.asarray(s.choices, dtype=float)
            out = picks[np.minimum((u * picks.size).astype(np.int64), picks.size - 1)]
            return out.astype(np.int64) if self.integer else out
        assert s.low is not None and s.high is not None
        low, high = s.low, s.high
        if self.integer and s.distribution == "uniform":
            lo, hi = math.ceil(low), math.floor(high)
            return np.clip(stats.randint(lo, hi + 1).ppf(u), lo, hi).astype(np.int64)
        scale = high - low
        if s.distribution == "uniform":
            x = stats.uniform(loc=low, scale=scale).ppf(u)
        elif s.distribution == "triangular":
            assert s.mode is not None
            x = stats.triang((s.mode - low) / scale, loc=low, scale=scale).ppf(u)
        else:  # normal, cut to low..high
            assert s.mean is not None and s.sd is not None
            a, b = (low - s.mean) / s.sd, (high - s.mean) / s.sd
            x = stats.truncnorm(a, b, loc=s.mean, scale=s.sd).ppf(u)
        x = np.clip(x, low, high)
        if self.integer:
            return np.clip(np.rint(x), math.ceil(low), math.floor(high)).astype(np.int64)
        return x


def uncertain_parameters(sf: ScenarioFile) -> list[UncertainParameter]:
    """The scenario's uncertain parameters, in file order."""
    return [
        UncertainParameter(path, spec, resolve_parameter(path).integer)
        for path, spec in sf.uncertainties.items()
    ]


def sampling_seed(sf: ScenarioFile) -> int:
    """``experiment.seed``, or ``simulation.seed`` when it is not set."""
    seed = sf.experiment.seed
    return sf.simulation.seed if seed is None else seed


def unit_sample(n: int, d: int, seed: int, sampling: str = "lhs") -> np.ndarray:
    """``n`` points of the unit hypercube [0, 1)^d: a Latin hypercube or independent draws.

    The stream is ``SeedSequence(seed, spawn_key=(SAMPLING_KEY,))``, so it never coincides
    with a model's streams (which spawn from the replication seeds).
    """
    if n < 1 or d < 0:
        raise ValueError(f"expected n >= 1 points in d >= 0 dimensions, got n={n}, d={d}")
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(SAMPLING_KEY,)))
    if d == 0:
        return np.zeros((n, 0))
    if sampling == "lhs":
        return qmc.LatinHypercube(d=d, rng=rng).random(n)
    if sampling == "random":
        return rng.random((n, d))
    raise ValueError(f"unknown sampling '{sampling}', expected 'lhs' or 'random'")


def _plain(value: Any) -> int | float:
    """numpy scalars -> Python numbers (strict validation wants int for whole numbers)."""
    return int(value) if isinstance(value, (np.integer, int)) else float(value)


def variants_from_unit(
    parameters: list[UncertainParameter], u: np.ndarray
) -> list[dict[str, int | float]]:
    """One override dict per row of ``u`` (rows: points, columns: parameters in order)."""
    u = np.atleast_2d(np.asarray(u, dtype=float))
    if u.shape[1] != len(parameters):
        raise ValueError(f"expected {len(parameters)} columns, got {u.shape[1]}")
    columns = [p.values(u[:, k]) for k, p in enumerate(parameters)]
    return [
        {p.path: _plain(col[i]) for p, col in zip(parameters, columns, strict=True)}
        for i in range(u.shape[0])
    ]


def scenario_variants(sf: ScenarioFile) -> list[dict[str, Any]]:
    """One override dict (dotted key path -> value) per sampled scenario.

    Without an ``[uncertainties]`` section there is one scenario: the file itself.
    """
    parameters = uncertain_parameters(sf)
    if not parameters:
        return [{}]
    exp = sf.experiment
    u = unit_sample(exp.scenarios, len(parameters), sampling_seed(sf), exp.sampling)
    return variants_from_unit(parameters, u)


def replications_per_scenario(sf: ScenarioFile) -> int:
    """Replications run for each sampled scenario (``experiment.replications`` or the
    scenario's ``simulation.replications``)."""
    reps = sf.experiment.replications
    return sf.simulation.replications if reps is None else reps
