"""The hold-out check: the fitted market simulated from the firm's customers vs what they did.

Why: a fit that matches the period it saw can still forecast badly; the standard check of
a customer-base model (Fader, Hardie & Lee 2005, the tracking plot) fits on the early part
of the log and compares the forecast of repeat transactions in the rest. Here the forecast
is the simulator's: the fitted market's people are the calibration period's customers,
each with traits drawn from their posterior given their own history (BG/NBD: purchase rate
Gamma(r + x, alpha + T), alive with the fitted P(alive), dropout Beta(a, b + x); spend rate
Gamma(q + p x, v + x m)), one parameter draw of the fit per replication so the band carries
the fit's uncertainty. The pure BG/NBD (or Pareto/NBD) forecast stands beside it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from sim.calibrate.fit import PURCHASE_PARAMS, Z_95, Fit
from sim.calibrate.logs import TransactionLog
from sim.calibrate.mapping import scenario_text
from sim.config.scenario_file import parse_scenario
from sim.config.schema import STEPS_PER_YEAR
from sim.model.behaviour.spend import Traits, churn_proneness
from sim.model.market import MarketModel
from sim.model.population import NO_FIRM

__all__ = ["BAND_CUSTOMERS", "BAND_DRAWS", "HISTOGRAM_MAX", "Holdout", "run_holdout"]

_SIM_START = "2025-01-01"  # the hold-out simulation's own calendar (steps are read back from it)

BAND_DRAWS = 100
"""Parameter draws behind the band of the pure model's forecast."""
BAND_CUSTOMERS = 20_000
"""Customers (a fixed random sample, scaled up) whose expectations give the band's spread."""

HISTOGRAM_MAX = 7
"""Purchases per customer in the hold-out are counted 0..6 and '7+'."""


@dataclass
class Holdout:
    """The comparison: ``table`` (calibration_fit.csv), ``histogram``, error figures."""

    table: pd.DataFrame
    histogram: pd.DataFrame
    mape_simulated: float
    mape_model: float
    revenue_actual: float
    revenue_simulated: float
    revenue_low: float
    revenue_high: float
    cumulative: np.ndarray  # (replications, periods): each replication's cumulative repeats


def _actual(
    log: TransactionLog, rfm: pd.DataFrame, cal_end: pd.Timestamp, periods: int, unit: str
) -> tuple[np.ndarray, np.ndarray, float]:
    frame = log.frame
    later = frame[(frame["date"] > cal_end) & frame["customer_id"].isin(rfm["customer_id"])]
    # whole periods after the calibration's last day: days 1-7 after it are week 1
    days = (later["date"] - cal_end).dt.days.to_numpy()
    k = (days - 1) // (7 if unit == "week" else 1) + 1
    later = later.assign(period=k)[(k >= 1) & (k <= periods)]
    # one repeat transaction per customer and period, as the RFM summary counts them
    distinct = later.drop_duplicates(["customer_id", "period"])
    weekly = np.bincount(distinct["period"].to_numpy(), minlength=periods + 1)[1:]
    per_customer = distinct.groupby("customer_id").size().reindex(rfm["customer_id"], fill_value=0)
    return weekly.astype(float), per_customer.to_numpy(), float(later["amount"].sum())


def _model_forecast(fit: Fit, periods: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pure model's forecast: expected repeat transactions per period (pymc-marketing's
    ``expected_purchases`` at the fit), and a 95% band of the cumulative count.

    The band carries the fit's uncertainty and the count's own noise: the cumulative
    expectation at each of :data:`BAND_DRAWS` parameter draws (Laplace or posterior, as
    :attr:`Fit.draws`; over at most :data:`BAND_CUSTOMERS` customers, scaled up) gives
    its spread over the parameters; the count around its
    expectation is taken as Poisson (a sum of many customers' counts; each customer's is
    over-dispersed, so this is the narrow side); normal approximation,
    mean +/- 1.96 sqrt(var over draws + mean).
    """
    data = fit.rfm[["customer_id", "frequency", "recency", "T"]]
    names = PURCHASE_PARAMS[fit.model]
    n_draws = min(BAND_DRAWS, len(fit.draws[names[0]]))
    posterior = xr.Dataset(
        {n: (("chain", "draw"), fit.draws[n][None, :n_draws]) for n in names},
        coords={"chain": [0], "draw": np.arange(n_draws)},
    )
    drawn = copy.copy(fit.purchase)  # the fitted model, evaluated at the draws instead
    drawn.idata = xr.DataTree.from_dict({"posterior": posterior})
    # the spread over draws from a fixed sample of customers, scaled up: the parameters
    # move every customer's expectation together, so a large sample shows it (cost)
    sample = data
    if len(data) > BAND_CUSTOMERS:
        pick = np.random.default_rng(0).choice(len(data), BAND_CUSTOMERS, replace=False)
        sample = data.iloc[np.sort(pick)]
    scale = len(data) / len(sample)
    cumulative, spread = [], []
    for t in range(1, periods + 1):
        expected = fit.purchase.expected_purchases(data=data, future_t=t)
        cumulative.append(float(expected.mean(("chain", "draw")).sum()))
        totals = drawn.expected_purchases(data=sample, future_t=t).sum("customer_id")
        spread.append(float(np.var(np.asarray(totals, dtype=float) * scale)))
    mean = np.array(cumulative)
    half = Z_95 * np.sqrt(np.array(spread) + mean)
    return np.diff(np.concatenate([[0.0], mean])), np.maximum(mean - half, 0.0), mean + half


def _simulate(
    fit: Fit,
    draw: int,
    price: float,
    periods: int,
    seed: int,
    churn: Mapping[str, float],
    dropout: str,
) -> tuple[np.ndarray, np.ndarray, float]:
    """One replication: the fitted market (parameter draw ``draw``) from the customers."""
    rfm = fit.rfm
    n = len(rfm)
    unit = fit.time_unit
    k = STEPS_PER_YEAR[unit]
    est = {name: float(values[draw]) for name, values in fit.draws.items()}
    text = scenario_text(
        name="holdout",
        estimates=est,
        time_unit=unit,
        price=price,
        n_customers=max(n, 20),
        start_date=pd.Timestamp(_SIM_START).date(),
        steps=periods,
        header=[],
        churn=churn,
        dropout=dropout,
    )
    scenario = parse_scenario(text).to_scenario()
    model = MarketModel(scenario, seed=seed)
    rng = np.random.default_rng(seed)
    x = rfm["frequency"].to_numpy(dtype=float)
    t_total = rfm["T"].to_numpy(dtype=float)
    mbar = rfm["monetary_value"].to_numpy(dtype=float)
    alive_p = fit.purchase.expected_probability_alive(
        data=rfm[["customer_id", "frequency", "recency", "T"]]
    )
    alive_p = np.asarray(alive_p.mean(("chain", "draw")), dtype=float)
    pop = model.population
    alive = rng.random(n) < alive_p
    pop.firm[:n] = np.where(alive, 0, NO_FIRM)
    pop.former_firm[:n] = np.where(alive, NO_FIRM, 0)
    pop.purchase_rate[:n] = rng.gamma(est["r"] + x, 1.0 / (est["alpha"] + t_total)) * k
    if "a" in est:
        pop.dropout[:n] = rng.beta(est["a"], est["b"] + x)
    nu_money = rng.gamma(est["q"] + est["p"] * x, 1.0 / (est["v"] + x * mbar))
    pop.spend_rate[:n] = nu_money * price
    pop.base_spend[:n] = est["p"] / pop.spend_rate[:n]
    pop.tenure[:n] = np.where(alive, t_total, 0).astype(np.int32)
    pop.has_purchased[:n] = alive
    het = scenario.market.heterogeneity
    pop.churn_proneness[:] = churn_proneness(
        Traits(pop.purchase_rate, pop.dropout, pop.spend_rate), het
    )
    for firm in model.firms:
        firm.n_customers = int(np.count_nonzero(pop.firm == firm.index))
    model.record_transactions(keep=np.arange(pop.n) < n, firms=np.array([0]))
    # A purchase counts if its buyer has been the firm's customer since the start: one who
    # lapsed (or was not alive) and is won back by the simulated firm's acquisition is a
    # new relationship, which BG/NBD's forecast (dead is dead) does not hold either.
    still = alive.copy()
    with_firm = np.empty((periods, n), dtype=bool)
    for step in range(periods):
        with_firm[step] = still  # purchases come before the step's lapses and acquisitions
        model.step()
        still &= pop.firm[:n] == 0
    log = model.transactions()
    days = (pd.to_datetime(log["date"]) - pd.Timestamp(_SIM_START)).dt.days.to_numpy()
    steps = days // (7 if unit == "week" else 1) + 1
    counted = with_firm[steps - 1, log["customer_id"].to_numpy()]
    log, steps = log[counted], steps[counted]
    people = log["customer_id"].to_numpy()
    amount = log["amount"].to_numpy()
    weekly = np.bincount(np.asarray(steps, dtype=np.int64), minlength=periods + 1)[1 : periods + 1]
    per_customer = np.bincount(np.asarray(people, dtype=np.int64), minlength=n)[:n]
    return weekly.astype(float), per_customer, float(np.sum(amount))


def run_holdout(
    log: TransactionLog,
    fit: Fit,
    cal_end: pd.Timestamp,
    periods: int,
    *,
    price: float,
    churn: Mapping[str, float] | None = None,
    dropout: str = "hazard",
    replications: int = 5,
    seed: int = 0,
) -> Holdout:
    """Compare the hold-out period's repeat transactions: actual, simulated, the model's."""
    weekly, per_customer, revenue = _actual(log, fit.rfm, cal_end, periods, fit.time_unit)
    model_weekly, model_low, model_high = _model_forecast(fit, periods)
    n_draws = len(next(iter(fit.draws.values())))
    sims = [
        _simulate(fit, (rep * 7919) % n_draws, price, periods, seed + rep, churn or {}, dropout)
        for rep in range(replications)
    ]
    sim_weekly = np.array([s[0] for s in sims])
    sim_cum = np.cumsum(sim_weekly, axis=1)
    act_cum = np.cumsum(weekly)
    mod_cum = np.cumsum(model_weekly)
    table = pd.DataFrame(
        {
            "period": np.arange(1, periods + 1),
            "actual": weekly,
            "simulated": sim_weekly.mean(axis=0),
            "model": model_weekly,
            "cumulative_actual": act_cum,
            "cumulative_simulated": sim_cum.mean(axis=0),
            "cumulative_simulated_low": np.quantile(sim_cum, 0.025, axis=0),
            "cumulative_simulated_high": np.quantile(sim_cum, 0.975, axis=0),
            "cumulative_model": mod_cum,
            "cumulative_model_low": model_low,
            "cumulative_model_high": model_high,
        }
    )
    ok = act_cum > 0
    mape_sim = float(np.mean(np.abs(sim_cum.mean(axis=0)[ok] - act_cum[ok]) / act_cum[ok]) * 100)
    mape_mod = float(np.mean(np.abs(mod_cum[ok] - act_cum[ok]) / act_cum[ok]) * 100)
    bins = np.arange(HISTOGRAM_MAX + 1)

    def counts(v: np.ndarray) -> np.ndarray:
        return np.bincount(np.minimum(v, HISTOGRAM_MAX), minlength=HISTOGRAM_MAX + 1)

    histogram = pd.DataFrame(
        {
            "purchases": [str(b) for b in bins[:-1]] + [f"{HISTOGRAM_MAX}+"],
            "actual": counts(per_customer),
            "simulated": np.mean([counts(s[1]) for s in sims], axis=0),
        }
    )
    revenues = np.array([s[2] for s in sims])
    return Holdout(
        table,
        histogram,
        mape_sim,
        mape_mod,
        revenue,
        float(revenues.mean()),
        float(np.quantile(revenues, 0.025)),
        float(np.quantile(revenues, 0.975)),
        sim_cum,
    )
