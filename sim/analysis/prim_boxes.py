"""PRIM boxes through EMA Workbench: the one module that imports it (about a second).

:func:`sim.analysis.discovery.write_discovery` imports this module only when a folder has
sampled markets, so a run without ``[uncertainties]`` never pays for the import. The
peeling and pasting are EMA Workbench's maintained implementation
(``ema_workbench.analysis.prim``, Friedman & Fisher 1999; Bryant & Lempert 2010).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.analysis.discovery import COLUMNS, MAX_QUASI_P, MIN_MARKETS

with warnings.catch_warnings():  # "ipyparallel not installed": we use none of its evaluators
    warnings.simplefilter("ignore")
    from ema_workbench.analysis import prim

__all__ = ["discover"]


def _choose(trajectory: pd.DataFrame) -> int:
    """The box of the trajectory with the best balance of coverage and density.

    The largest harmonic mean of the two (fewest restricted parameters on ties): peeling
    on trades coverage for density, and a box that is dense but covers few losses, or
    covers them all by covering everything, explains little.
    """
    cov, den = trajectory["coverage"].astype(float), trajectory["density"].astype(float)
    score = (2 * cov * den / (cov + den)).where(cov + den > 0, 0.0)
    order = pd.DataFrame({"score": score.round(12), "res_dim": trajectory["res_dim"]})
    order = order.sort_values(["score", "res_dim"], ascending=[False, True], kind="stable")
    return int(order.index[0])


def discover(
    x: pd.DataFrame,
    loses: Sequence[bool] | np.ndarray,
    *,
    policy: str = "",
) -> pd.DataFrame:
    """The PRIM box of the markets where ``policy`` loses, one row per restricted parameter.

    ``x``: one row per sampled market, one column per uncertain parameter (columns with
    an empty cell are left out); ``loses``: whether the policy lost in that market. An
    empty table (with :data:`COLUMNS`) when there are too few markets, no losses, only
    losses, or no box better than the whole space.
    """
    y = np.asarray(loses, dtype=bool)
    x = x.reset_index(drop=True)
    x = x[[c for c in x.columns if x[c].notna().all() and x[c].nunique() > 1]]
    empty = pd.DataFrame(columns=COLUMNS)
    if len(x) < MIN_MARKETS or x.shape[1] == 0 or y.all() or not y.any():
        return empty
    numeric = x.select_dtypes(np.number).columns
    x = x.astype({c: float for c in numeric})
    with warnings.catch_warnings():  # EMA Workbench's own pandas deprecations, not ours
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        finder = prim.Prim(x, y, peel_alpha=0.05, paste_alpha=0.05, mass_min=0.05)
        box = finder.find_box()
    if box is None:
        return empty
    i = _choose(box.peeling_trajectory)
    box.select(i)
    for dim, qp in box.p_values[i].items():  # Bryant & Lempert's quasi-p of each limit
        if all(q < 0 or q > MAX_QUASI_P for q in qp):
            box.drop_restriction(dim)  # adds the box without it to the trajectory
    stats = box.peeling_trajectory.iloc[-1]
    limits, start = box.box_lims[-1], finder.box_init
    rows = []
    for column in limits.columns:
        low, high = limits[column].iloc[0], limits[column].iloc[1]
        low0, high0 = start[column].iloc[0], start[column].iloc[1]
        if column in numeric:
            if low == low0 and high == high0:
                continue
            restricted = (
                "both" if (low != low0 and high != high0) else "low" if low != low0 else "high"
            )
            values = ""
        else:
            if set(low) == set(low0):
                continue
            restricted, values = "values", "|".join(sorted(str(v) for v in low))
            low = high = math.nan
        rows.append(
            {
                "policy": policy,
                "parameter": column,
                "low": float(low),
                "high": float(high),
                "restricted": restricted,
                "values": values,
                "coverage": float(stats["coverage"]),
                "density": float(stats["density"]),
                "markets_in_box": int(stats["n"]),
                "losses": int(y.sum()),
                "markets": int(y.size),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS) if rows else empty
