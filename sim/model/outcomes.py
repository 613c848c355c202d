"""A run's headline outcomes (see :mod:`sim.common.outcomes`) from its tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["outcomes_of_run"]


def outcomes_of_run(
    timeseries: pd.DataFrame, cohorts: pd.DataFrame, steps_per_year: int
) -> pd.DataFrame:
    """Headline outcomes of one run at the end of its horizon, one row per firm.

    ``retention_rate`` is the share of customers kept over the last year: the product
    of the per-step retention rates of the last ``steps_per_year`` steps (annualised
    when the run is shorter). ``clv`` is the expected lifetime value of the customers won
    during the run (cohort step >= 1): the discounted margin they realised within the
    horizon plus the survivors' expected remaining margin (``remaining_margin`` of the
    cohort table), per customer won; ``realised_value`` is the realised part alone, the
    horizon-truncated value (equal to ``clv`` for a cohort table without
    ``remaining_margin``).
    """
    keys = [c for c in ("policy", "scenario", "replication") if c in timeseries] + ["firm"]
    last_step = timeseries["step"].max()
    window = timeseries[timeseries["step"] > last_step - steps_per_year]
    end = timeseries[timeseries["step"] == last_step].set_index(keys)
    out = pd.DataFrame(index=end.index)
    for col in ("customers", "cumulative_profit", "discounted_profit", "nps"):
        out[col] = end.get(col, np.nan)
    if "retention_rate" in window:
        logs = window.assign(_log=np.log(window["retention_rate"].clip(lower=1e-12)))
        grouped = logs.groupby(keys, sort=False)["_log"]
        annual = np.exp(grouped.sum() * (steps_per_year / grouped.count()))
        out["retention_rate"] = annual.reindex(out.index)
    else:
        out["retention_rate"] = np.nan
    won = cohorts[cohorts["cohort_step"] >= 1]
    if "remaining_margin" not in won:
        won = won.assign(remaining_margin=0.0)
    columns = ["discounted_margin", "remaining_margin", "customers_won"]
    totals = won.groupby(keys, sort=False)[columns].sum()
    realised = totals["discounted_margin"] / totals["customers_won"]
    remaining = totals["remaining_margin"] / totals["customers_won"]
    out["clv"] = (realised + remaining).reindex(out.index)
    out["realised_value"] = realised.reindex(out.index)
    return out.reset_index()
