"""Global sensitivity analysis with SALib: which uncertain parameters the outcome hinges on.

SALib draws its design on the unit hypercube (``bounds`` [0, 1] for every parameter) and
each coordinate is mapped through the parameter's own quantile function
(:meth:`sim.experiment.sampling.UncertainParameter.values`), the same mapping the robustness
experiment samples with. That is what SALib's ``dists`` option does for the
distributions it knows; doing it here also covers cut normals, choices and whole
numbers. Sobol' indices are unchanged by this reparametrisation (they are shares of the
outcome's variance under the parameters' distributions); Morris' elementary effects are
per unit of the unit scale, i.e. the change of the outcome when a parameter moves across
its whole range (from its lowest to its highest quantile).

Methods: Sobol' first-order and total indices with Saltelli's design (Saltelli 2002;
Saltelli et al. 2010), and Morris' elementary effects (Morris 1991; mu* of Campolongo,
Cariboni & Saltelli 2007), both with bootstrap 95% confidence intervals.

Every sampled market runs on its own seeds, so part of any index is noise between runs.
The design therefore carries one extra parameter, ``noise_floor``, that changes nothing
(a dummy parameter, Zadeh et al. 2017): its index is what noise alone produces, and a
parameter whose index is not clearly above it cannot be told apart from noise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from sim.common.errors import DesignError
from sim.config.scenario_file import ScenarioFile
from sim.experiment.sampling import sampling_seed, uncertain_parameters, variants_from_unit

__all__ = [
    "COLUMNS",
    "DEFAULT_SAMPLES",
    "METHODS",
    "MORRIS_LEVELS",
    "NOISE_FLOOR",
    "SensitivityError",
    "analyze",
    "design",
    "design_size",
    "problem",
    "sensitivity_table",
    "write_sensitivity",
]

METHODS = ("sobol", "morris")
NOISE_FLOOR = "noise_floor"
"""The dummy parameter of every design: it changes nothing, its index is the noise level."""
DEFAULT_SAMPLES = {"sobol": 32, "morris": 10}
"""Sobol': base samples N (a power of 2); Morris: trajectories."""
MORRIS_LEVELS = 4
SENSITIVITY_KEY = 0x5EA5_1717
"""Spawn key of the design's and the bootstrap's stream (apart from every model stream)."""

COLUMNS = (
    "policy",
    "compared_with",
    "outcome",
    "parameter",
    "method",
    "S1",
    "S1_conf",
    "ST",
    "ST_conf",
    "mu_star",
    "mu_star_conf",
    "mu",
    "sigma",
    "samples",
    "scenarios",
)


class SensitivityError(DesignError):
    """A sensitivity request the user can fix (method, samples, missing ranges)."""


def problem(names: Sequence[str]) -> dict[str, Any]:
    """SALib's problem on the unit hypercube: one [0, 1] dimension per parameter."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def _seed(seed: int) -> int:
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
        return sobol_sample.sample(prob, samples, calc_second_order=False, seed=_seed(seed))
    return morris_sample.sample(prob, samples, num_levels=MORRIS_LEVELS, seed=_seed(seed))


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


def analyze(
    method: str, names: Sequence[str], x: np.ndarray, y: np.ndarray, seed: int = 0
) -> pd.DataFrame:
    """Indices of one outcome vector ``y`` (one value per design row) with 95% intervals.

    Columns: ``parameter, S1, S1_conf, ST, ST_conf`` (sobol) or ``parameter, mu_star,
    mu_star_conf, mu, sigma`` (morris).
    """
    y = np.asarray(y, dtype=float)
    if not np.isfinite(y).all():
        raise SensitivityError(
            f"the outcome is undefined in {int((~np.isfinite(y)).sum())} of {y.size} markets "
            "(e.g. no customers to measure it on); choose another --outcome"
        )
    prob = problem(names)
    if method == "sobol":
        res = sobol_analyze.analyze(
            prob, y, calc_second_order=False, conf_level=0.95, seed=_seed(seed)
        )
        keys = ("S1", "S1_conf", "ST", "ST_conf")
    else:
        res = morris_analyze.analyze(
            prob, x, y, conf_level=0.95, num_levels=MORRIS_LEVELS, seed=_seed(seed)
        )
        keys = ("mu_star", "mu_star_conf", "mu", "sigma")
    table = pd.DataFrame({k: np.asarray(res[k], dtype=float) for k in keys})
    table.insert(0, "parameter", list(names))
    return table


def scenario_outcome(
    outcomes: pd.DataFrame, n_scenarios: int, *, focal: str, outcome: str, policy: str
) -> np.ndarray:
    """Mean outcome of the focal firm under ``policy`` in each design market (NaN if none)."""
    mine = outcomes[(outcomes["firm"] == focal) & (outcomes["policy"] == policy)]
    means = mine.groupby("scenario")[outcome].mean()
    return means.reindex(range(n_scenarios)).to_numpy(float)


def sensitivity_table(
    outcomes: pd.DataFrame,
    names: Sequence[str],
    x: np.ndarray,
    *,
    method: str,
    samples: int,
    focal: str,
    outcome: str,
    policies: Sequence[str],
    seed: int = 0,
) -> pd.DataFrame:
    """Indices per policy, and per policy minus the first (baseline) policy.

    The difference tells which assumptions decide whether a policy beats the baseline,
    which is often the question rather than what drives each policy's outcome alone.
    """
    n = x.shape[0]
    ys = {
        p: scenario_outcome(outcomes, n, focal=focal, outcome=outcome, policy=p) for p in policies
    }
    targets: list[tuple[str, str, np.ndarray]] = [(p, "", ys[p]) for p in policies]
    base = policies[0]
    targets += [(p, base, ys[p] - ys[base]) for p in policies[1:]]
    frames = []
    for policy, versus, y in targets:
        table = analyze(method, names, x, y, seed)
        table.insert(0, "policy", policy)
        table.insert(1, "compared_with", versus)
        table.insert(2, "outcome", outcome)
        table.insert(4, "method", method)
        frames.append(table)
    out = pd.concat(frames, ignore_index=True)
    out["samples"] = samples
    out["scenarios"] = n
    for column in COLUMNS:
        if column not in out:
            out[column] = math.nan
    return out[list(COLUMNS)]


def write_sensitivity(
    out_dir: Path, sf: ScenarioFile, method: str, samples: int, outcome: str
) -> pd.DataFrame:
    """``sensitivity.csv`` and its figure for a finished design run in ``out_dir``."""
    from sim.analysis.robustness import load_experiment_tables
    from sim.common.files import atomic_write_text
    from sim.report.experiment_plots import draw_sensitivity_figure

    out_dir = Path(out_dir)
    names, x, _ = design(sf, method, samples)
    outcomes, _ = load_experiment_tables(out_dir)
    table = sensitivity_table(
        outcomes,
        names,
        x,
        method=method,
        samples=samples,
        focal=sf.firm.name,
        outcome=outcome,
        policies=[p.name for p in sf.policies],
        seed=sampling_seed(sf),
    )
    atomic_write_text(out_dir / "sensitivity.csv", table.to_csv(index=False, lineterminator="\n"))
    if sf.outputs.plots:
        draw_sensitivity_figure(
            table,
            out_dir / "plots",
            outcome=outcome,
            formats=sf.outputs.formats,
            dpi=sf.outputs.dpi,
        )
    return table
