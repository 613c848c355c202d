"""Parameter sweeps: every policy at every point of a one- or two-parameter grid.

``--param market.word_of_mouth.p_referral_conversion=0.2:0.6:5`` asks for 5 evenly
spaced values from 0.2 to 0.6; two ``--param`` options make a grid of every pair. Each
grid point is one scenario variant of the experiment, so every policy runs on it with the
same seeds (common random numbers) and ``sweep.csv`` holds the mean outcome of the focal
firm with its 95% interval over the replications.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.statistics import PairedCI, mean_ci, paired_difference_ci
from sim.common.errors import DesignError
from sim.config.scenario_file import ScenarioFile, resolve_parameter, value_problem

__all__ = [
    "MAX_POINTS",
    "SweepError",
    "SweepParameter",
    "grid_variants",
    "parse_param",
    "summarize_sweep",
    "sweep_parameter",
    "write_sweep",
]

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


def summarize_sweep(
    outcomes: pd.DataFrame,
    scenarios: pd.DataFrame,
    parameters: Sequence[str],
    *,
    focal: str,
    outcome: str,
    policies: Sequence[str],
) -> pd.DataFrame:
    """Mean outcome and 95% interval per grid point and policy (the focal firm's).

    Columns: ``point``, the parameters, ``policy, outcome, replications, mean, sd,
    ci_low, ci_high, diff, diff_ci_low, diff_ci_high, is_best``. ``diff`` is the mean
    difference from the first (baseline) policy with its paired 95% interval over the
    replications both ran (common random numbers: much narrower than the policies' own
    intervals); ``is_best`` marks the highest mean at the point (ties: the earlier policy).
    """
    mine = outcomes[outcomes["firm"] == focal]
    base = policies[0]
    rows = []
    for point in scenarios["scenario"]:
        at = mine[mine["scenario"] == point]
        values = scenarios.loc[scenarios["scenario"] == point, list(parameters)].iloc[0]
        runs = at.pivot_table(
            index="replication", columns="policy", values=outcome, aggfunc="first"
        )
        block = []
        for policy in policies:
            x = at.loc[at["policy"] == policy, outcome].dropna().to_numpy(float)
            ci = mean_ci(x)
            diff = PairedCI(0.0, 0.0, 0.0, 0) if policy == base else None
            if diff is None and {policy, base} <= set(runs.columns):
                pair = runs[[policy, base]].dropna()
                diff = paired_difference_ci(pair[policy], pair[base])
            block.append(
                {
                    "point": int(point),
                    **{p: values[p] for p in parameters},
                    "policy": policy,
                    "outcome": outcome,
                    "replications": int(x.size),
                    "mean": ci.mean,
                    "sd": ci.sd,
                    "ci_low": ci.lo,
                    "ci_high": ci.hi,
                    "diff": diff.mean_diff if diff else math.nan,
                    "diff_ci_low": diff.lo if diff else math.nan,
                    "diff_ci_high": diff.hi if diff else math.nan,
                }
            )
        means = [r["mean"] if np.isfinite(r["mean"]) else -np.inf for r in block]
        best = int(np.argmax(means)) if np.isfinite(max(means)) else -1
        for k, r in enumerate(block):
            r["is_best"] = k == best
        rows += block
    return pd.DataFrame(rows)


def write_sweep(
    out_dir: Path, sf: ScenarioFile, parameters: Sequence[SweepParameter], outcome: str
) -> pd.DataFrame:
    """``sweep.csv`` and the sweep figures of a finished sweep in ``out_dir``."""
    from sim.analysis.robustness import load_experiment_tables
    from sim.common.files import atomic_write_text
    from sim.report.experiment_plots import draw_sweep_figures

    out_dir = Path(out_dir)
    outcomes, scenarios = load_experiment_tables(out_dir)
    paths = [p.path for p in parameters]
    policies = [p.name for p in sf.policies]
    table = summarize_sweep(
        outcomes, scenarios, paths, focal=sf.firm.name, outcome=outcome, policies=policies
    )
    atomic_write_text(out_dir / "sweep.csv", table.to_csv(index=False, lineterminator="\n"))
    if sf.outputs.plots:
        draw_sweep_figures(
            table,
            paths,
            out_dir / "plots",
            policies=policies,
            outcome=outcome,
            formats=sf.outputs.formats,
            dpi=sf.outputs.dpi,
        )
    return table
