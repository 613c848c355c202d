"""Experiment designs: which scenario variants every policy runs on.

One protocol (:class:`Design`, as EMA Workbench's samplers produce the experiments of a
model) for the three kinds of experiment marketsim runs:

* :class:`SampledMarkets`: the markets sampled from a scenario's ``[uncertainties]``
  (:mod:`sim.experiment.sampling`; without uncertainties, the file itself);
* :class:`SweepGrid`: every point of a grid of one or two parameters (``--param``);
* :class:`SensitivityDesign`: a SALib Sobol' or Morris design over the uncertainties.

A design gives the runner its variants (one dict of dotted key path -> value each, see
:func:`sim.experiment.runner.run_experiment`) and says what it varied; the analysis of
the results (:mod:`sim.analysis.sweep`, :mod:`sim.analysis.sensitivity`) reads tables
only and gets what it needs of the design (key paths, the unit design) as plain data.

SALib draws a sensitivity design on the unit hypercube and each coordinate is mapped
through its parameter's quantile function (:meth:`~sim.experiment.sampling.
UncertainParameter.values`), the same mapping the sampled markets use. The design
carries one extra parameter, ``noise_floor``, that changes nothing (a dummy parameter,
Zadeh et al. 2017): its index is what noise between runs alone produces.

>>> grid = SweepGrid((SweepParameter("a", (1, 2)), SweepParameter("b", (0.5,))))
>>> grid.kind, grid.paths, grid.variants()
('sweep', ('a', 'b'), [{'a': 1, 'b': 0.5}, {'a': 2, 'b': 0.5}])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import product
from typing import Any, Protocol, runtime_checkable

import numpy as np
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from sim.common.errors import DesignError
from sim.config.scenario_file import ScenarioFile, resolve_parameter, value_problem
from sim.experiment.sampling import (
    sampling_seed,
    scenario_variants,
    uncertain_parameters,
    variants_from_unit,
)

__all__ = [
    "DEFAULT_SAMPLES",
    "MAX_POINTS",
    "METHODS",
    "MORRIS_LEVELS",
    "NOISE_FLOOR",
    "Design",
    "SampledMarkets",
    "SensitivityDesign",
    "SensitivityError",
    "SweepError",
    "SweepGrid",
    "SweepParameter",
    "check_parameters",
    "check_samples",
    "design",
    "design_size",
    "grid_variants",
    "parse_param",
    "problem",
    "sampled_markets",
    "sensitivity_design",
    "sensitivity_seed",
    "sweep_design",
    "sweep_parameter",
    "unit_design",
]


@runtime_checkable
class Design(Protocol):
    """What the runner needs of an experiment design.

    ``kind`` is ``markets``, ``sweep`` or ``sensitivity``; ``paths`` the key paths it
    varies; :meth:`variants` one override dict per scenario variant, in order (the
    variant's position is its ``scenario`` number in the tables).
    """

    @property
    def kind(self) -> str: ...

    @property
    def paths(self) -> tuple[str, ...]: ...

    def variants(self) -> list[dict[str, Any]]: ...


# --------------------------------------------------------------------------- sampled markets


@dataclass(frozen=True)
class SampledMarkets:
    """The markets sampled from ``[uncertainties]`` (one, the file itself, without)."""

    overrides: tuple[dict[str, Any], ...]
    paths: tuple[str, ...] = ()
    kind: str = field(default="markets", init=False)

    def variants(self) -> list[dict[str, Any]]:
        """One override dict per sampled market."""
        return [dict(v) for v in self.overrides]


def sampled_markets(sf: ScenarioFile) -> SampledMarkets:
    """The sampled markets of ``sf`` (:func:`sim.experiment.sampling.scenario_variants`)."""
    paths = tuple(p.path for p in uncertain_parameters(sf))
    return SampledMarkets(tuple(scenario_variants(sf)), paths)


# --------------------------------------------------------------------------- sweeps


MAX_POINTS = 400
"""Most points one parameter may have (a grid of two has at most this squared)."""

EXAMPLE = "market.word_of_mouth.p_referral_conversion=0.2:0.6:5"


class SweepError(DesignError):
    """A ``--param`` specification the user can fix."""


@dataclass(frozen=True)
class SweepParameter:
    """One swept parameter: its key path and the values of its grid."""

    path: str
    values: tuple[int | float, ...]


def _number(text: str, what: str, option: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise SweepError(f"--param {option}: {what} '{text}' is not a number") from None
    if not math.isfinite(value):
        raise SweepError(f"--param {option}: {what} must be a finite number, got '{text}'")
    return value


def parse_param(option: str) -> tuple[str, float, float, int]:
    """``"key.path=start:stop:count"`` -> ``(key.path, start, stop, count)``.

    >>> parse_param("network.weak_tie_share=0.1:0.9:5")
    ('network.weak_tie_share', 0.1, 0.9, 5)
    """
    path, sep, spec = option.partition("=")
    path = path.strip()
    parts = spec.split(":")
    if not sep or not path or len(parts) != 3:
        raise SweepError(f"--param {option}: expected KEY.PATH=START:STOP:COUNT, e.g. {EXAMPLE}")
    start = _number(parts[0].strip(), "START", option)
    stop = _number(parts[1].strip(), "STOP", option)
    count_text = parts[2].strip()
    if not count_text.isdigit() or int(count_text) < 2:
        raise SweepError(
            f"--param {option}: COUNT must be a whole number of at least 2 (the grid points "
            f"from START to STOP), got '{count_text}'"
        )
    count = int(count_text)
    if count > MAX_POINTS:
        raise SweepError(f"--param {option}: COUNT must be at most {MAX_POINTS}, got {count}")
    if start == stop:
        raise SweepError(
            f"--param {option}: START and STOP are equal ({start:g}); to fix a value use "
            f"--set {path}={start:g}"
        )
    return path, start, stop, count


def sweep_parameter(sf: ScenarioFile, option: str) -> SweepParameter:
    """A validated swept parameter: a numeric market parameter and values it accepts."""
    path, start, stop, count = parse_param(option)
    try:
        info = resolve_parameter(path)
    except ValueError as exc:
        raise SweepError(f"--param {option}: {exc}") from None
    grid = np.linspace(start, stop, count)
    values: tuple[int | float, ...]
    if info.integer:
        if not (start.is_integer() and stop.is_integer()):
            raise SweepError(
                f"--param {option}: {path} is a whole number, so START and STOP must be "
                "whole numbers"
            )
        whole = [int(v) for v in np.rint(grid)]
        if len(set(whole)) < len(whole):
            most = int(abs(stop - start)) + 1
            raise SweepError(
                f"--param {option}: {count} points from {start:g} to {stop:g} repeat whole "
                f"numbers ({path} is a whole number); use a COUNT of at most {most}"
            )
        values = tuple(whole)
    else:
        values = tuple(float(f"{v:.12g}") for v in grid)  # 0.30000000000000004 -> 0.3
    for value in values:
        problem = value_problem(sf, path, value)
        if problem:
            raise SweepError(f"--param {option}: {path} = {value:g} is not accepted: {problem}")
    return SweepParameter(path, values)


def check_parameters(parameters: Sequence[SweepParameter]) -> None:
    """One or two parameters, each named once."""
    if not 1 <= len(parameters) <= 2:
        raise SweepError(
            f"a sweep takes one or two --param options (a line or a grid), got {len(parameters)}"
        )
    paths = [p.path for p in parameters]
    if len(set(paths)) != len(paths):
        raise SweepError(f"--param {paths[0]} is given twice; sweep two different parameters")


def grid_variants(parameters: Sequence[SweepParameter]) -> list[dict[str, int | float]]:
    """One override dict per grid point; the first parameter changes slowest.

    >>> grid_variants([SweepParameter("a", (1, 2)), SweepParameter("b", (0.5, 0.7))])
    [{'a': 1, 'b': 0.5}, {'a': 1, 'b': 0.7}, {'a': 2, 'b': 0.5}, {'a': 2, 'b': 0.7}]
    """
    check_parameters(parameters)
    paths = [p.path for p in parameters]
    return [
        dict(zip(paths, point, strict=True)) for point in product(*(p.values for p in parameters))
    ]


@dataclass(frozen=True)
class SweepGrid:
    """Every point of a grid of one or two parameters; the first changes slowest."""

    parameters: tuple[SweepParameter, ...]
    kind: str = field(default="sweep", init=False)

    @property
    def paths(self) -> tuple[str, ...]:
        """The swept key paths (the sweep table's parameter columns)."""
        return tuple(p.path for p in self.parameters)

    def variants(self) -> list[dict[str, Any]]:
        """One override dict per grid point."""
        return [dict(v) for v in grid_variants(self.parameters)]


def sweep_design(sf: ScenarioFile, options: Sequence[str]) -> SweepGrid:
    """The grid of ``--param`` options (``KEY.PATH=START:STOP:COUNT``), validated for ``sf``."""
    parameters = tuple(sweep_parameter(sf, option) for option in options)
    check_parameters(parameters)
    return SweepGrid(parameters)


# --------------------------------------------------------------------------- sensitivity


METHODS = ("sobol", "morris")
NOISE_FLOOR = "noise_floor"
"""The dummy parameter of every design: it changes nothing, its index is the noise level."""
DEFAULT_SAMPLES = {"sobol": 32, "morris": 10}
"""Sobol': base samples N (a power of 2); Morris: trajectories."""
MORRIS_LEVELS = 4
SENSITIVITY_KEY = 0x5EA5_1717
"""Spawn key of the design's and the bootstrap's stream (apart from every model stream)."""


class SensitivityError(DesignError):
    """A sensitivity request the user can fix (method, samples, missing ranges)."""


def problem(names: Sequence[str]) -> dict[str, Any]:
    """SALib's problem on the unit hypercube: one [0, 1] dimension per parameter."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def sensitivity_seed(seed: int) -> int:
    """The seed of the design's (and the bootstrap's) stream, from the experiment seed."""
    state = np.random.SeedSequence(seed, spawn_key=(SENSITIVITY_KEY,)).generate_state(1)
    return int(state[0])


def check_samples(method: str, samples: int) -> None:
    """Sobol' needs a power of 2 (its sequence's balance); both need at least 2."""
    if method not in METHODS:
        raise SensitivityError(f"unknown method '{method}', expected one of {', '.join(METHODS)}")
    if samples < 2:
        raise SensitivityError(f"--samples must be at least 2, got {samples}")
    if method == "sobol" and samples & (samples - 1):
        lower = 1 << (samples.bit_length() - 1)
        raise SensitivityError(
            f"--samples {samples}: Sobol' sampling needs a power of 2, e.g. {lower} or {lower * 2}"
        )


def design_size(method: str, samples: int, d: int) -> int:
    """Markets a design of ``d`` uncertain parameters holds (the noise floor included):
    N (d + 3) for Sobol' (first and total order), r (d + 2) for Morris."""
    return samples * (d + 3) if method == "sobol" else samples * (d + 2)


def unit_design(method: str, names: Sequence[str], samples: int, seed: int) -> np.ndarray:
    """SALib's design on the unit hypercube (rows: markets, columns: parameters)."""
    check_samples(method, samples)
    prob = problem(names)
    if method == "sobol":
        return sobol_sample.sample(
            prob, samples, calc_second_order=False, seed=sensitivity_seed(seed)
        )
    return morris_sample.sample(
        prob, samples, num_levels=MORRIS_LEVELS, seed=sensitivity_seed(seed)
    )


def design(
    sf: ScenarioFile, method: str, samples: int
) -> tuple[list[str], np.ndarray, list[dict[str, int | float]]]:
    """(parameter names, unit design, one override dict per market) for ``sf``'s ranges.

    The last name and column are :data:`NOISE_FLOOR`, which no market uses.
    """
    parameters = uncertain_parameters(sf)
    if not parameters:
        raise SensitivityError(
            "the scenario has no [uncertainties] section: a sensitivity analysis varies "
            "the uncertain parameters over their ranges, e.g.\n  [uncertainties]\n"
            '  "market.word_of_mouth.p_referral_conversion" = { low = 0.3, high = 0.6 }'
        )
    names = [p.path for p in parameters] + [NOISE_FLOOR]
    x = unit_design(method, names, samples, sampling_seed(sf))
    return names, x, variants_from_unit(parameters, x[:, : len(parameters)])


@dataclass(frozen=True, eq=False)
class SensitivityDesign:
    """A SALib design over the uncertainties: its unit design and one market per row.

    ``names`` are the design's parameters, :data:`NOISE_FLOOR` last (no market uses it);
    ``unit`` the design on the unit hypercube (rows: markets, columns: ``names``);
    ``seed`` the experiment's sampling seed.
    """

    method: str
    samples: int
    names: tuple[str, ...]
    unit: np.ndarray
    overrides: tuple[dict[str, Any], ...]
    seed: int
    kind: str = field(default="sensitivity", init=False)

    @property
    def paths(self) -> tuple[str, ...]:
        """The uncertain key paths (the design's names without the noise floor)."""
        return self.names[:-1]

    @property
    def bootstrap_seed(self) -> int:
        """The seed the analysis bootstraps its intervals with (the design's stream)."""
        return sensitivity_seed(self.seed)

    def variants(self) -> list[dict[str, Any]]:
        """One override dict per market of the design."""
        return [dict(v) for v in self.overrides]


def sensitivity_design(sf: ScenarioFile, method: str, samples: int) -> SensitivityDesign:
    """The ``method`` design of ``samples`` (Sobol' base samples, Morris trajectories)."""
    names, x, overrides = design(sf, method, samples)
    return SensitivityDesign(method, samples, tuple(names), x, tuple(overrides), sampling_seed(sf))
