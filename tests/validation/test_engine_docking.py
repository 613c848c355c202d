"""Docking the two engines (Axtell et al. 1996): the same model, run two ways, agrees.

The vectorized engine applies each customer phase to all customers as array operations;
the agent engine is the readable per-customer Mesa reference. They do not draw the same
random numbers, so runs cannot be compared one by one; instead every headline measure's
distribution over replications is compared ("distributional equivalence").

Each engine runs the default scenario at 2,000 people for 52 weekly steps, 20
replications. The two engines use disjoint seeds, so their samples are independent, as
the two-sample z of :func:`sim.analysis.statistics.agree_within` assumes (the same seed would give
both the same graph and initial market, and the correlation would make the test
conservative). Each measure is taken for the focal firm and for its rivals together.

The measures cover the whole market state (issue 3): customers, money, word of mouth,
satisfaction, churn by reason, complaints and their recovery, service and supply
failures, the staff (skill, morale, quits), the suppliers (relationship level, input
quality) and every tier of the customer pyramid. One change to the default scenario:
an employee serves 20 customers without overload instead of 120, so the firms' staff
work near their capacity (a firm has 250-500 customers here) and morale and quits
respond to how many customers the engine leaves each firm; at 120 nobody is ever
overloaded and morale would follow the same deterministic path in every run.

Tolerance: the measures are compared at once, so the number of standard errors is the
Bonferroni bound for a 5% chance that any pair of equivalent engines fails (Student t
with 2 (n - 1) degrees of freedom, the standard errors being estimated): about 3.7 for
the measures that vary. A few measures do not vary between runs in this scenario (no firm
prices above the reference, so nobody leaves for price; the supplier ladder is
deterministic); they are listed in CONSTANT and must be equal in every run of both engines.
The top tier (the top 1% of a firm's customers by revenue) moves only when a firm's count
crosses a multiple of 100; with the model v2 economics (issue 10) the firms end near 500
customers, so it varies between runs and is compared like the rest.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.analysis.statistics import agree_within, welch_z
from sim.config.schema import Scenario
from sim.model.behaviour.churn import CHURN_REASONS
from sim.model.market import MarketModel
from sim.model.metrics import TIERS

N_CUSTOMERS = 2_000
STEPS = 52
N_RUNS = 20
SEEDS = {"agent": range(N_RUNS), "vectorized": range(1_000, 1_000 + N_RUNS)}
FAMILY_ALPHA = 0.05


def _rivals(df: pd.DataFrame) -> pd.Series:
    return df["firm"] != "focal"


def _total(column: str) -> Callable[[pd.DataFrame, pd.Series], float]:
    return lambda df, rows: float(df.loc[rows, column].sum())


def _final(column: str, how: str = "sum") -> Callable[[pd.DataFrame, pd.Series], float]:
    def measure(df: pd.DataFrame, rows: pd.Series) -> float:
        last = df.loc[rows & (df["step"] == df["step"].max()), column]
        return float(last.sum() if how == "sum" else last.mean())

    return measure


def _mean(column: str) -> Callable[[pd.DataFrame, pd.Series], float]:
    return lambda df, rows: float(df.loc[rows, column].mean())


MEASURES: dict[str, Callable[[pd.DataFrame, pd.Series], float]] = {
    "final customers": _final("customers"),
    "cumulative profit": _final("cumulative_profit"),
    "new customers": _total("new_customers"),
    "churned": _total("churned"),
    **{f"churned: {r}": _total(f"churned_{r}") for r in CHURN_REASONS},
    "referrals": _total("referrals"),
    "referral conversions": _total("referral_conversions"),
    "peers deterred": _total("peers_deterred"),
    "final mean satisfaction": _final("mean_satisfaction", "mean"),
    "final NPS": _final("nps", "mean"),
    "mean retention rate": _mean("retention_rate"),
    "mean repeat purchase rate": _mean("repeat_purchase_rate"),
    "revenue": _total("revenue"),
    "service failures": _total("service_failures"),
    "complaints": _total("complaints"),
    "complaints resolved": _total("complaints_resolved"),
    "supply failures": _total("supply_failures"),
    "final staff skill": _final("staff_skill", "mean"),
    "final staff morale": _final("staff_morale", "mean"),
    "mean staff morale": _mean("staff_morale"),
    "staff quits": _total("staff_quits"),
    "final supplier level": _final("supplier_level", "mean"),
    "final supplier quality": _final("supplier_quality", "mean"),
    **{f"final tier {t}": _final(f"tier_{t}") for t in TIERS},
    "tier upgrades": _total("tier_upgrades"),
    "tier downgrades": _total("tier_downgrades"),
}
"""Headline measures of one run: totals over the run, or the state at its end; for the
rivals, totals are summed over the three and rates, scores and staff and supplier
levels averaged over them."""

CONSTANT = {
    f"{who}: {name}"
    for who in ("focal", "rivals")
    for name in (
        "churned: price",
        "final supplier level",
        "final supplier quality",
    )
}
"""Measures that take one value in every run of this scenario (see the module docstring)."""


def scenario() -> Scenario:
    return Scenario.default().with_updates(
        {
            "market.n_customers": N_CUSTOMERS,
            "simulation.steps": STEPS,
            "employees.customers_per_employee": 20.0,
        }
    )


def run_measures(engine: str, seed: int) -> dict[str, float]:
    """Every headline measure of one run, for the focal firm and for the rivals."""
    df = MarketModel(scenario(), seed=seed, engine=engine).run(STEPS).results()
    out = {}
    for who, rows in (("focal", df["firm"] == "focal"), ("rivals", _rivals(df))):
        for name, measure in MEASURES.items():
            out[f"{who}: {name}"] = measure(df, rows)
    return out


def _workers() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 8))


def run_all() -> dict[str, pd.DataFrame]:
    """Measures of every replication of both engines (in worker processes if cores allow)."""
    jobs = [(engine, seed) for engine, seeds in SEEDS.items() for seed in seeds]
    workers = _workers()
    if workers == 1:
        results = [run_measures(*job) for job in jobs]
    else:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            results = list(pool.map(run_measures, *zip(*jobs, strict=True)))
    frames = {engine: [] for engine in SEEDS}
    for (engine, _), result in zip(jobs, results, strict=True):
        frames[engine].append(result)
    return {engine: pd.DataFrame(rows) for engine, rows in frames.items()}


def docking_table(agent: pd.DataFrame, vectorized: pd.DataFrame, n_se: float) -> pd.DataFrame:
    """Means, standard deviations and the two-sample z of each measure."""
    rows = []
    for name in agent.columns:
        a, v = agent[name].to_numpy(float), vectorized[name].to_numpy(float)
        se_a, se_v = a.std(ddof=1) / np.sqrt(a.size), v.std(ddof=1) / np.sqrt(v.size)
        rows.append(
            {
                "measure": name,
                "agent": a.mean(),
                "vectorized": v.mean(),
                "sd agent": a.std(ddof=1),
                "sd vectorized": v.std(ddof=1),
                "z": welch_z(a.mean(), se_a, v.mean(), se_v),
                "agree": agree_within(a, v, n_se=n_se),
            }
        )
    return pd.DataFrame(rows)


@pytest.mark.slow
def test_engines_agree_on_every_headline_measure():
    samples = run_all()
    agent, vectorized = samples["agent"], samples["vectorized"]
    assert agent.shape[1] == 2 * len(MEASURES)
    constant = [
        name
        for name in agent.columns
        if agent[name].nunique() == 1 and vectorized[name].nunique() == 1
    ]
    # the measures really vary between runs, so each comparison can fail; the few that
    # cannot vary in this scenario must agree exactly
    assert set(constant) == CONSTANT, set(constant) ^ CONSTANT
    for name in constant:
        assert agent[name].iloc[0] == vectorized[name].iloc[0], name
    varying = [name for name in agent.columns if name not in CONSTANT]
    n_se = float(stats.t.ppf(1.0 - FAMILY_ALPHA / (2 * len(varying)), df=2 * (N_RUNS - 1)))
    table = docking_table(agent[varying], vectorized[varying], n_se)
    with pd.option_context(
        "display.width",
        200,
        "display.max_columns",
        None,
        "display.max_rows",
        None,
        "display.float_format",
        "{:.5g}".format,
    ):
        print(
            f"\n{N_RUNS} runs per engine; agreement within {n_se:.2f} standard errors; "
            f"max |z| {table['z'].abs().max():.2f}\n{table}"
        )
    failed = table[~table["agree"]]
    assert failed.empty, f"engines disagree (|z| > {n_se:.2f}):\n{failed.to_string()}"
