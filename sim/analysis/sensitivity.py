"""Global sensitivity analysis with SALib: which uncertain parameters the outcome hinges on.

The design is drawn by :func:`sim.experiment.designs.sensitivity_design`: SALib's design on
the unit hypercube (``bounds`` [0, 1] for every parameter), each coordinate mapped through
the parameter's own quantile function, the same mapping the robustness experiment
samples with. This module analyses the outcomes of a design's markets (tables and the
unit design as plain data). That is what SALib's ``dists`` option does for the
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

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze

from sim.analysis.robustness import load_experiment_tables
from sim.common.errors import DesignError
from sim.common.files import atomic_write_bytes, csv_bytes

__all__ = [
    "COLUMNS",
    "MORRIS_LEVELS",
    "analyze",
    "scenario_outcome",
    "sensitivity_table",
    "write_sensitivity",
]

MORRIS_LEVELS = 4
"""Grid levels of a Morris design (the design's own, ``sim.experiment.designs.MORRIS_LEVELS``)."""

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


def analyze(
    method: str,
    names: Sequence[str],
    x: np.ndarray,
    y: np.ndarray,
    seed: int = 0,
    *,
    levels: int = MORRIS_LEVELS,
) -> pd.DataFrame:
    """Indices of one outcome vector ``y`` (one value per design row) with 95% intervals.

    Columns: ``parameter, S1, S1_conf, ST, ST_conf`` (sobol) or ``parameter, mu_star,
    mu_star_conf, mu, sigma`` (morris). ``seed`` seeds the bootstrap of the intervals
    (:attr:`sim.experiment.designs.SensitivityDesign.bootstrap_seed`); ``levels`` is the
    Morris design's grid levels.
    """
    y = np.asarray(y, dtype=float)
    if not np.isfinite(y).all():
        raise DesignError(
            f"the outcome is undefined in {int((~np.isfinite(y)).sum())} of {y.size} markets "
            "(e.g. no customers to measure it on); choose another --outcome"
        )
    prob = {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}
    if method == "sobol":
        res = sobol_analyze.analyze(prob, y, calc_second_order=False, conf_level=0.95, seed=seed)
        keys = ("S1", "S1_conf", "ST", "ST_conf")
    else:
        res = morris_analyze.analyze(prob, x, y, conf_level=0.95, num_levels=levels, seed=seed)
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
    levels: int = MORRIS_LEVELS,
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
        table = analyze(method, names, x, y, seed, levels=levels)
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
    folder: str | Path,
    names: Sequence[str],
    x: np.ndarray,
    *,
    method: str,
    samples: int,
    focal: str,
    outcome: str,
    policies: Sequence[str],
    seed: int = 0,
    levels: int = MORRIS_LEVELS,
) -> pd.DataFrame:
    """Add ``sensitivity.csv`` to the results folder of a finished design; return the table.

    ``names`` and ``x`` are the design's parameters and unit design, ``seed`` its
    bootstrap seed (all three from :class:`sim.experiment.designs.SensitivityDesign`).
    """
    folder = Path(folder)
    outcomes, _ = load_experiment_tables(folder)
    table = sensitivity_table(
        outcomes,
        names,
        x,
        method=method,
        samples=samples,
        focal=focal,
        outcome=outcome,
        policies=policies,
        seed=seed,
        levels=levels,
    )
    atomic_write_bytes(folder / "sensitivity.csv", csv_bytes(table))
    return table
