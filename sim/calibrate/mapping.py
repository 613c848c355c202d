"""Fitted customer-base parameters -> the scenario's ``[market.heterogeneity]``.

Why the conversion needs care: pymc-marketing's parameters are per time unit of the
summary (weeks by default), the scenario's are per year and in units at the list price.

- Purchase rate lambda ~ Gamma(r, alpha_u) per time unit u. A year has
  ``STEPS_PER_YEAR[u]`` of them in the model (52 weeks, 365 days: the model's own
  calendar, the one its transaction log uses), so lambda per year = lambda_u * k ~
  Gamma(r, alpha_u / k): **alpha_years = alpha_u / k**, r unchanged.
- Dropout p ~ Beta(a, b): no unit, unchanged (BG/NBD only; Pareto/NBD's exponential
  lifetimes have no slot in the scenario and are reported in the header).
- Spend: money per purchase ~ Gamma(p, nu_money), nu_money ~ Gamma(q, v). Units at price
  P are money / P, so nu_units = P * nu_money ~ Gamma(q, v / P): **gamma = v / P**, p and
  q unchanged.
- Dropout, BG/NBD (``dropout = "after_purchase"``, the default): the fitted market's
  customers lapse with chance p after each repeat purchase, BG/NBD's own process, with the
  fitted a and b. The log's dropout is all in p, so the model's churn hazards (neglect,
  dissatisfaction, unresolved complaints, price, background) and its rivals' poaching
  offers are set to 0 (:func:`hazards_off`): kept, they would count the dropout twice.
  The retention levers then act on a fitted market only through satisfaction, word of
  mouth and spend, not through churn.
- Dropout, ``dropout = "hazard"`` (and Pareto/NBD, whose exponential lifetimes have no
  per-purchase form): BG/NBD's dropout per unit of time is lambda * p, on average
  E[lambda] E[p] = (r / alpha) a / (a + b) per year (Pareto/NBD: s / beta); the model's
  churn reasons and its rivals' poaching offers are all multiplied by one factor so that
  the fitted market's customers leave (or switch) at that rate (:func:`churn_scale`,
  measured on a short run), so the levers keep their effect on churn.

- Acquisition pace (the log's first-purchase pattern): the log's new customers a week,
  counted over the second half of the calibration period (its first half also holds
  customers the firm won before the log began, seen for the first time). The fitted
  market's status-quo policy wins customers through advertising, promotions, sales
  visits, referrals and need; the chance that each makes a person consider buying
  (:data:`ACQUISITION_RESPONSES`) is multiplied by one factor so that the focal firm wins
  the log's pace (:func:`acquisition_scale`, measured on short runs), so the
  acquisition levers keep their effect. In ``after_purchase`` mode a won customer can
  leave before a first purchase only by switching to a rival a friend recommended, so new
  customers a week and first purchases a week nearly agree once the pace is steady.

>>> round(heterogeneity_values({"r": 0.75, "alpha": 3.25, "a": 2.0, "b": 6.0,
...     "p": 6.25, "q": 2.3, "v": 15.6}, "week", 50.0)["alpha"], 6)
0.0625
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.common.files import atomic_write_text
from sim.config.scenario_file import parse_scenario
from sim.config.schema import STEPS_PER_YEAR, Scenario
from sim.config.toml_writer import toml_text
from sim.model.market import MarketModel

__all__ = [
    "ACQUISITION_RESPONSES",
    "CHURN_RATES",
    "acquisition_scale",
    "churn_scale",
    "dropout_per_year",
    "hazards_off",
    "heterogeneity_values",
    "scenario_text",
    "write_scenario",
]

CHURN_RATES = (
    "base_per_year",
    "dissatisfaction_per_year",
    "neglect_per_year",
    "unresolved_complaint_per_year",
    "price_per_year",
)
"""The model's own churn hazards (per year), scaled together to the fitted dropout."""

_CHURN_PROBE_PEOPLE = 4000  # people in the short run that measures the churn level

ACQUISITION_RESPONSES = (
    ("advertising.p_consider_per_exposure", 1.0),
    ("levers.promotion_response", 1.0),
    ("word_of_mouth.p_referral_conversion", 1.0),
    ("need_per_year", None),
)
"""The ``market.*`` chances (bound 1) and rate (no bound) that make a person consider
buying from a firm, scaled together to the log's acquisition pace."""

_ACQUISITION_PROBE_PEOPLE = 20_000  # people in the short runs that measure the pace


def dropout_per_year(estimates: Mapping[str, float], time_unit: str) -> float:
    """Mean dropout hazard per year the fit implies (BG/NBD or Pareto/NBD).

    >>> round(dropout_per_year({"r": 1.0, "alpha": 52.0, "a": 1.0, "b": 3.0}, "week"), 6)
    0.25
    """
    k = STEPS_PER_YEAR[time_unit]
    if "a" in estimates:
        rate = estimates["r"] / estimates["alpha"] * k
        return rate * estimates["a"] / (estimates["a"] + estimates["b"])
    return estimates["s"] / estimates["beta"] * k


def churn_scale(text: str, target_per_year: float, seed: int = 0) -> dict[str, float]:
    """The ``market.*`` keys that make the scenario ``text``'s focal firm lose its customers
    at ``target_per_year``: every churn reason and the rivals' poaching offers times one
    factor, measured on half a year of a market of a few thousand people (churn here
    includes switching to a rival)."""
    sf = parse_scenario(text, source="<fitted scenario>")
    spy = sf.simulation.steps_per_year
    scenario = sf.to_scenario()
    people = min(scenario.market.n_customers, _CHURN_PROBE_PEOPLE)
    scenario = scenario.with_updates({"market.n_customers": people, "simulation.steps": spy // 2})
    model = MarketModel(scenario, seed=seed)
    for _ in range(spy // 2):
        model.step()
    res = model.results()
    focal = res[res["firm"] == scenario.firm.name]
    years = len(focal) / spy
    customers = max(float(focal["customers"].mean()), 1.0)
    measured = float(focal["churned"].sum()) / customers / years
    factor = target_per_year / measured if measured > 0 else 1.0
    market = scenario.market
    keys = {f"churn.{name}": getattr(market.churn, name) * factor for name in CHURN_RATES}
    keys["poaching_offers_per_year"] = market.poaching_offers_per_year * factor
    return {k: float(f"{v:.6g}") for k, v in keys.items()}


def _new_per_week(scenario: Scenario, steps: int, seed: int) -> tuple[float, float]:
    """The focal firm's new customers a week in ``steps`` steps of ``scenario`` (scaled
    back to its own size), and how many the run counted."""
    full = scenario.market.n_customers
    people = min(full, _ACQUISITION_PROBE_PEOPLE)
    probe = scenario.with_updates({"market.n_customers": people, "simulation.steps": steps})
    model = MarketModel(probe, seed=seed)
    for _ in range(steps):
        model.step()
    res = model.results()
    counted = float(res.loc[res["firm"] == probe.firm.name, "new_customers"].sum())
    weeks = steps * 52 / probe.simulation.steps_per_year
    return counted / weeks * full / people, counted


def acquisition_scale(
    text: str, target_per_week: float, steps: int, seed: int = 0
) -> tuple[dict[str, float], float]:
    """The ``market.*`` keys that make the scenario ``text``'s focal firm win
    ``target_per_week`` new customers a week under its status-quo policy: every
    consideration chance of :data:`ACQUISITION_RESPONSES` times one factor (chances capped
    at 1). The factor is measured on a run of ``steps`` steps of at most 20,000 people
    (budgets scale with the size), then corrected once on a second run. Returns the keys
    and the new customers the second run counted (its relative error, 1 / sqrt(count),
    is the factor's)."""
    scenario = parse_scenario(text, source="<fitted scenario>").to_scenario()
    market = scenario.market

    def keys(factor: float) -> dict[str, float]:
        out: dict[str, float] = {}
        for key, bound in ACQUISITION_RESPONSES:
            value: Any = market
            for part in key.split("."):
                value = getattr(value, part)
            scaled = float(value) * factor
            out[key] = float(f"{min(scaled, bound) if bound else scaled:.6g}")
        return out

    factor = 1.0
    counted = 0.0
    for attempt in range(2):
        trial = scenario.with_updates({f"market.{k}": v for k, v in keys(factor).items()})
        pace, counted = _new_per_week(trial, steps, seed + attempt)
        if pace <= 0:
            break
        factor *= target_per_week / pace
    return keys(factor), counted


def hazards_off() -> dict[str, float]:
    """The ``market.*`` keys that turn off every churn hazard and the rivals' poaching
    offers: in ``after_purchase`` mode the fitted p carries all the dropout.

    >>> sorted(hazards_off().items())[0]
    ('churn.base_per_year', 0.0)
    """
    keys = {f"churn.{name}": 0.0 for name in CHURN_RATES}
    keys["poaching_offers_per_year"] = 0.0
    return keys


def heterogeneity_values(
    estimates: Mapping[str, float], time_unit: str, price: float
) -> dict[str, float]:
    """The scenario's heterogeneity keys from fitted estimates (see the module's rules)."""
    k = STEPS_PER_YEAR[time_unit]
    values = {"r": estimates["r"], "alpha": estimates["alpha"] / k}
    if "a" in estimates and "b" in estimates:
        values.update(a=estimates["a"], b=estimates["b"])
    values.update(p=estimates["p"], q=estimates["q"], gamma=estimates["v"] / price)
    return {key: float(f"{v:.6g}") for key, v in values.items()}


def scenario_text(
    *,
    name: str,
    estimates: Mapping[str, float],
    time_unit: str,
    price: float,
    n_customers: int,
    start_date: dt.date,
    steps: int,
    header: list[str],
    churn: Mapping[str, float] | None = None,
    dropout: str = "hazard",
) -> str:
    """The scenario file of a fitted market (validated by parsing it back)."""
    het: dict[str, Any] = heterogeneity_values(estimates, time_unit, price)
    if dropout != "hazard":
        het["dropout"] = dropout
    # BG/NBD and Pareto/NBD take purchase rate and dropout as independent: no link of
    # churn to spend in the fitted market, and no tenure ramp (Gamma-Gamma has none).
    het["engagement_churn_elasticity"] = 0.0
    data: dict[str, Any] = {
        "name": name,
        "simulation": {
            "step_length": time_unit,
            "start_date": start_date.isoformat(),
            "steps": steps,
        },
        "market": {
            "n_customers": n_customers,
            "tenure_spend_gain": 0.0,
            "heterogeneity": het,
        },
        "firm": {"price": price},
    }
    for key, value in (churn or {}).items():  # "churn.neglect_per_year" -> [market.churn]
        *tables, last = key.split(".")
        target = data["market"]
        for t in tables:
            target = target.setdefault(t, {})
        target[last] = value
    text = toml_text(data, header="\n".join(header))
    parse_scenario(text, source="<fitted scenario>")  # a file marketsim run accepts
    return text


def write_scenario(path: str | Path, text: str) -> Path:
    """Write the scenario file atomically."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target, text)
    return target
