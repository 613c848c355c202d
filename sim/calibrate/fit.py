"""RFM summary and the customer-base fits, with pymc-marketing (imports PyMC: slow).

Why pymc-marketing rather than a likelihood of our own: it is the field's maintained
implementation of BG/NBD (Fader, Hardie & Lee 2005), Pareto/NBD (Schmittlein, Morrison &
Colombo 1987) and Gamma-Gamma (Fader, Hardie & Lee 2005; Colombo & Jiang 1999), the
library a strategist's analysts already use, so the simulator's parameters are theirs.

For the default fit (``method="map"``) priors are flat on every parameter (``HalfFlat``),
so the optimum is the maximum-likelihood estimate of the literature; its uncertainty is
the Laplace approximation: the curvature of the log-likelihood at the optimum in
log-parameter space, computed by finite differences of PyMC's compiled gradient.
``method="mcmc"`` samples the full posterior (NUTS, pymc-marketing's default priors) and
reports its median, standard deviation and 94% interval.
Parameters are per time unit of the summary (weeks by default): mapping them onto the
scenario's years is :mod:`sim.calibrate.mapping`'s job.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr
from pymc_extras.prior import Prior
from pymc_marketing.clv import BetaGeoModel, GammaGammaModel, ParetoNBDModel
from pymc_marketing.clv.utils import rfm_summary

from sim.calibrate.logs import LogError, TransactionLog

__all__ = [
    "FIT_METHODS",
    "MODELS",
    "PURCHASE_PARAMS",
    "TIME_UNITS",
    "Z_95",
    "Fit",
    "fit_log",
    "summarise",
]

MODELS = ("bgnbd", "paretonbd")
"""Purchase-and-dropout models: BG/NBD (default) or Pareto/NBD."""
FIT_METHODS = ("map", "mcmc")
"""Maximum a posteriori (flat priors: maximum likelihood) with Laplace uncertainty, or NUTS."""
TIME_UNITS = {"day": "D", "week": "W"}
"""Time units of the summary (pandas period codes), named as the scenario's step_length."""

PURCHASE_PARAMS = {"bgnbd": ("r", "alpha", "a", "b"), "paretonbd": ("r", "alpha", "s", "beta")}
"""The purchase model's parameters, by model."""
_SPEND_PARAMS = ("p", "q", "v")
Z_95 = 1.959963984540054
"""The normal distribution's 97.5% quantile (95% intervals)."""

for _name in ("pymc", "pytensor", "pymc_marketing", "arviz"):
    logging.getLogger(_name).setLevel(logging.ERROR)


@dataclass
class Fit:
    """A fitted log: the RFM table, the models and the parameter table.

    ``parameters``: one row per parameter: model, name, estimate, sd, lower, upper (95%
    for MAP + Laplace, 94% highest-density for MCMC), per ``time_unit`` where it has one;
    for MCMC also r_hat and ess (bulk), the chains' convergence diagnostics.
    ``draws``: parameter draws (Laplace normal in log space, or posterior draws) for
    forecasts that carry the fit's uncertainty.
    """

    model: str
    method: str
    time_unit: str
    rfm: pd.DataFrame
    purchase: Any
    spend: Any
    parameters: pd.DataFrame
    draws: dict[str, np.ndarray] = field(default_factory=dict)

    def estimate(self, name: str) -> float:
        """The point estimate of one parameter."""
        row = self.parameters.loc[self.parameters["name"] == name, "estimate"]
        return float(row.iloc[0])


def summarise(log: TransactionLog, end: pd.Timestamp, time_unit: str = "week") -> pd.DataFrame:
    """frequency, recency, T, monetary_value per customer of the log up to ``end``
    (pymc-marketing's :func:`rfm_summary`; repeat purchases in distinct periods)."""
    frame = log.frame[log.frame["date"] <= end]
    if frame.empty:
        raise LogError(f"{log.path}: no purchases on or before {end.date()}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rfm = rfm_summary(
            frame,
            "customer_id",
            "date",
            "amount",
            observation_period_end=end,
            time_unit=TIME_UNITS[time_unit],
        )
    rfm = rfm[rfm["T"] > 0].reset_index(drop=True)
    if rfm.empty:
        raise LogError(
            f"{log.path}: every customer's first purchase falls in the last {time_unit} of the "
            "fitting period; the log is too short to fit"
        )
    if int((rfm["frequency"] > 0).sum()) == 0:
        raise LogError(
            f"{log.path}: no customer bought twice in different {time_unit}s before "
            f"{end.date()}; a log with no repeat purchases cannot be fitted"
        )
    if len(rfm) < 20:
        raise LogError(
            f"{log.path}: only {len(rfm)} customers before {end.date()}; at least 20 are "
            "needed to fit the spread of purchase rates"
        )
    return rfm


def _flat(names: tuple[str, ...]) -> dict[str, Any]:
    return {n: Prior("HalfFlat") for n in names}


def _laplace(model: Any, names: tuple[str, ...], estimate: np.ndarray) -> np.ndarray:
    """Covariance of the log-parameters at the optimum: inverse of minus the Hessian of
    the log-likelihood, by central differences of PyMC's compiled gradient."""
    pm_model = model.model
    value_vars = [pm_model.rvs_to_values[pm_model[n]] for n in names]
    dlogp = pm_model.compile_dlogp(vars=[pm_model[n] for n in names], jacobian=False)
    x0 = np.log(estimate)

    def grad(x: np.ndarray) -> np.ndarray:
        point = {v.name: np.asarray(val) for v, val in zip(value_vars, x, strict=True)}
        return np.asarray(dlogp(point), dtype=float)

    k = len(names)
    hessian = np.empty((k, k))
    step = 1e-4
    for i in range(k):
        e = np.zeros(k)
        e[i] = step
        hessian[:, i] = (grad(x0 + e) - grad(x0 - e)) / (2 * step)
    hessian = (hessian + hessian.T) / 2
    try:
        return np.asarray(np.linalg.inv(-hessian))
    except np.linalg.LinAlgError:
        return np.full((k, k), np.nan)


def _rows(
    model_name: str,
    names: tuple[str, ...],
    fitted: Any,
    method: str,
    rng: np.random.Generator,
    n_draws: int,
) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    post = fitted.idata.posterior
    rows: list[dict[str, Any]] = []
    draws: dict[str, np.ndarray] = {}
    if method == "map":
        est = np.array([float(post[n].values.ravel()[0]) for n in names])
        cov = _laplace(fitted, names, est)
        sd_log = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        ok = np.isfinite(cov).all() and np.all(np.linalg.eigvalsh(cov) > 0)
        if ok:
            log_draws = rng.multivariate_normal(np.log(est), cov, size=n_draws)
        else:
            log_draws = np.tile(np.log(est), (n_draws, 1))
        for j, n in enumerate(names):
            draws[n] = np.exp(log_draws[:, j])
            rows.append(
                {
                    "model": model_name,
                    "name": n,
                    "estimate": est[j],
                    "sd": est[j] * sd_log[j],
                    "lower": est[j] * np.exp(-Z_95 * sd_log[j]),
                    "upper": est[j] * np.exp(Z_95 * sd_log[j]),
                }
            )
        return rows, draws
    for n in names:
        chains = xr.Dataset({n: post[n]})
        values = np.asarray(post[n].values, dtype=float).ravel()
        draws[n] = rng.choice(values, size=n_draws)
        lo, hi = np.quantile(values, [0.03, 0.97])
        rows.append(
            {
                "model": model_name,
                "name": n,
                "estimate": float(np.median(values)),  # a/b's posteriors can be heavy-tailed
                "sd": float(values.std(ddof=1)),
                "lower": float(lo),
                "upper": float(hi),
                # convergence: split rank-normalised R-hat (below 1.01 is the usual bar)
                # and bulk effective sample size (Vehtari et al. 2021), ArviZ's
                "r_hat": float(az.rhat(chains)[n]),
                "ess": float(az.ess(chains)[n]),
            }
        )
    return rows, draws


def fit_log(
    rfm: pd.DataFrame,
    *,
    model: Literal["bgnbd", "paretonbd"] = "bgnbd",
    method: Literal["map", "mcmc"] = "map",
    time_unit: str = "week",
    seed: int = 0,
    draws: int = 200,
) -> Fit:
    """Fit the purchase model to all customers and Gamma-Gamma to the repeat buyers."""
    names = PURCHASE_PARAMS[model]
    data = rfm[["customer_id", "frequency", "recency", "T"]]
    cls = BetaGeoModel if model == "bgnbd" else ParetoNBDModel
    # MAP: flat priors, so the optimum is the likelihood's; MCMC: pymc-marketing's default
    # (weakly informative) priors, which NUTS samples far better than improper flat ones
    flat = method == "map"
    purchase = cls(model_config=_flat(names) if flat else None)
    spend_data = rfm.loc[rfm["frequency"] > 0, ["customer_id", "frequency", "monetary_value"]]
    spend = GammaGammaModel(model_config=_flat(_SPEND_PARAMS) if flat else None)
    kwargs: dict[str, Any] = {"progressbar": False, "random_seed": seed}
    if method == "mcmc":
        kwargs.update(chains=2, draws=500, tune=500, cores=1)
    # pymc-marketing recomputes the deterministics after NUTS with PyMC's progress bar on,
    # whatever `progressbar` says; its "Computing ..." line would land in our stdout
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        purchase.fit(data, method=method, **kwargs)
        spend.fit(spend_data.reset_index(drop=True), method=method, **kwargs)
    rng = np.random.default_rng(seed)
    rows, purchase_draws = _rows(model, names, purchase, method, rng, draws)
    spend_rows, spend_draws = _rows("gammagamma", _SPEND_PARAMS, spend, method, rng, draws)
    table = pd.DataFrame(rows + spend_rows)
    table.insert(2, "unit", [_unit(n, time_unit) for n in table["name"]])
    return Fit(
        model, method, time_unit, rfm, purchase, spend, table, {**purchase_draws, **spend_draws}
    )


def _unit(name: str, time_unit: str) -> str:
    """The unit of a fitted parameter: the scale parameters are per time unit or money."""
    if name in ("alpha", "beta"):
        return f"{time_unit}s"
    if name == "v":
        return "money"
    return ""
