"""``marketsim calibrate`` from start to end: log -> fit -> scenario (-> hold-out page).

The command line only parses and prints; this is the whole job, callable from Python.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Literal

import pandas as pd

from sim.calibrate.fit import Fit, fit_log, summarise
from sim.calibrate.holdout import Holdout, run_holdout
from sim.calibrate.logs import Columns, LogError, read_log
from sim.calibrate.mapping import (
    acquisition_scale,
    churn_scale,
    dropout_per_year,
    hazards_off,
    scenario_text,
    write_scenario,
)
from sim.calibrate.page import draw_histogram, draw_tracking, write_page
from sim.common.files import atomic_write_bytes, csv_bytes
from sim.config.schema import STEPS_PER_YEAR, FirmSpec, MarketSpec

__all__ = ["Calibration", "calibrate"]

_MODEL_NAMES = {"bgnbd": "BG/NBD", "paretonbd": "Pareto/NBD"}


@dataclass
class Calibration:
    """What a calibration wrote and found."""

    scenario: Path
    fit: Fit
    holdout: Holdout | None
    folder: Path | None
    lines: list[str]
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    # the log's acquisition pace (new customers a week) and the new customers the run
    # that set the fitted market's acquisition counted (the factor's error, 1 / sqrt)
    new_per_week: float = 0.0
    acquisition_probe_count: float = 0.0


def calibrate(
    log_path: str | Path,
    out: str | Path,
    *,
    columns: Columns | None = None,
    model: Literal["bgnbd", "paretonbd"] = "bgnbd",
    method: Literal["map", "mcmc"] = "map",
    time_unit: Literal["day", "week"] = "week",
    dropout: Literal["after_purchase", "hazard"] = "after_purchase",
    holdout_weeks: int = 0,
    replications: int = 5,
    report_dir: str | Path | None = None,
    seed: int = 0,
) -> Calibration:
    """Fit a log and write the fitted market's scenario (and, with a hold-out, the check).

    ``dropout``: how the fitted market's customers leave (:mod:`sim.calibrate.mapping`):
    BG/NBD's lapse after repeat purchases with the fitted a, b and no churn hazards
    (default), or the model's churn hazards scaled to the fitted rate; Pareto/NBD always
    uses the hazards.
    """
    clock = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = now - clock
        clock = now

    log = read_log(log_path, columns)
    lap("read")
    cal_end = log.end - pd.Timedelta(weeks=holdout_weeks)
    holdout_periods = holdout_weeks * (7 if time_unit == "day" else 1)
    if holdout_weeks and cal_end <= log.start:
        raise LogError(
            f"{log.path}: a hold-out of {holdout_weeks} weeks is as long as the whole "
            f"log ({log.start.date()} to {log.end.date()}); give a shorter --holdout-weeks"
        )
    rfm = summarise(log, cal_end, time_unit)
    lap("summarise")
    fit = fit_log(rfm, model=model, method=method, time_unit=time_unit, seed=seed)
    lap("fit")
    price = float(FirmSpec().price)
    estimates = dict(zip(fit.parameters["name"], fit.parameters["estimate"], strict=True))
    alive = fit.purchase.expected_probability_alive(
        data=rfm[["customer_id", "frequency", "recency", "T"]]
    )
    expected_alive = float(alive.mean(("chain", "draw")).sum())
    # the acquisition pace: first purchases a week in the calibration period's second half
    # (its first half also holds customers won before the log began, seen the first time)
    first = log.frame.groupby("customer_id")["date"].min()
    half = log.start + (cal_end - log.start) / 2
    half_weeks = max((cal_end - half).days / 7, 1.0)
    new_in_half = int(((first > half) & (first <= cal_end)).sum())
    new_per_week = new_in_half / half_weeks
    name = _MODEL_NAMES[model]
    mode = dropout if model == "bgnbd" else "hazard"
    held_out = (
        [f"hold-out: {holdout_periods} {time_unit}s after {cal_end.date()} (not fitted)"]
        if holdout_periods
        else []
    )
    lines = [
        f"{row['name']} = {row['estimate']:.4g} (sd {row['sd']:.3g}; "
        f"{'94' if method == 'mcmc' else '95'}% {row['lower']:.4g} "
        f"to {row['upper']:.4g})"
        + (f" {row['unit']}" if row["unit"] else "")
        + (f"; r_hat {row['r_hat']:.3f}, ess {row['ess']:.0f}" if "r_hat" in row else "")
        for row in fit.parameters.to_dict("records")
    ]
    header = [
        f"Fitted by marketsim calibrate to {log.path.name}",
        f"period: {log.start.date()} to {cal_end.date()} ({len(rfm):,} customers, "
        f"{int((log.frame['date'] <= cal_end).sum()):,} purchases)",
        *held_out,
        f"model: {name} + Gamma-Gamma (pymc-marketing, fit {method}, time unit {time_unit})",
        "set from the fit: market.heterogeneity r, alpha (per year = per "
        f"{time_unit} / {STEPS_PER_YEAR[time_unit]}), "
        + ("a, b, " if model == "bgnbd" else "")
        + f"p, q, gamma (= v / price {price:g})",
        f"market.n_customers: the {expected_alive:,.0f} customers expected alive at the end, "
        "over the default penetration and focal share",
        f"first purchases in the log: {new_per_week:.1f} new customers a week from "
        f"{half.date()} to {cal_end.date()} ({new_in_half:,} in {half_weeks:.0f} weeks); "
        "market.advertising.p_consider_per_exposure, levers.promotion_response, "
        "word_of_mouth.p_referral_conversion and need_per_year: scaled by one factor so "
        "the focal firm's status-quo policy wins them at that pace",
        *(
            [
                "market.heterogeneity.dropout = after_purchase: customers lapse with chance "
                "p ~ Beta(a, b) after each repeat purchase, as BG/NBD; market.churn and "
                "poaching_offers_per_year set to 0 so the dropout is not counted twice (the "
                "retention levers act through satisfaction, word of mouth and spend only)",
            ]
            if mode == "after_purchase"
            else [
                "market.churn and poaching_offers_per_year: scaled by one factor so customers "
                f"leave or switch at the fitted {dropout_per_year(estimates, time_unit):.3g} "
                "a year (the model's hazards scale with each person's dropout; the fit's "
                "lambda * p link is not kept)",
            ]
        ),
        "left at defaults: competitors, policies, word of mouth, satisfaction, staff, "
        "suppliers, prices",
        "fitted (per time unit of the log; "
        + (
            "posterior median, 94% interval, R-hat and bulk effective sample size of 2 "
            "NUTS chains):"
            if method == "mcmc"
            else "95% intervals):"
        ),
        *(f"  {line}" for line in lines),
    ]
    if model == "paretonbd":
        header.append(
            f"Pareto/NBD dropout: s = {estimates['s']:.4g}, beta = {estimates['beta']:.4g} "
            f"{time_unit}s (no scenario key; heterogeneity a, b left at defaults)"
        )
    focal_share = MarketSpec().initial_penetration * FirmSpec().initial_share
    sf_people = max(round(expected_alive / focal_share), 100)
    fitted = partial(
        scenario_text,
        name=f"fitted to {log.path.name}",
        estimates=estimates,
        time_unit=time_unit,
        price=price,
        n_customers=sf_people,
        start_date=(cal_end + pd.Timedelta(days=1)).date(),
        steps=holdout_periods or STEPS_PER_YEAR[time_unit],
        header=header,
        dropout=mode,
    )
    churn = (
        hazards_off()
        if mode == "after_purchase"
        else churn_scale(fitted(), dropout_per_year(estimates, time_unit), seed)
    )
    spy = STEPS_PER_YEAR[time_unit]
    probe_steps = max(min(round(half_weeks * spy / 52), spy // 2), 4)
    acquisition, probe_count = acquisition_scale(
        fitted(churn=churn), new_per_week, probe_steps, seed
    )
    text = fitted(churn={**churn, **acquisition})
    scenario = write_scenario(out, text)
    lap("scenario")
    holdout = None
    folder = None
    if holdout_periods:
        holdout = run_holdout(
            log,
            fit,
            cal_end,
            holdout_periods,
            price=price,
            churn=churn,
            dropout=mode,
            replications=replications,
            seed=seed,
        )
        folder = Path(report_dir) if report_dir else scenario.with_suffix("")
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(folder / "calibration_fit.csv", csv_bytes(holdout.table))
        atomic_write_bytes(folder / "holdout_histogram.csv", csv_bytes(holdout.histogram))
        atomic_write_bytes(folder / "parameters.csv", csv_bytes(fit.parameters))
        figures = [
            draw_tracking(holdout, name, time_unit, folder / "tracking.png"),
            draw_histogram(holdout, folder / "holdout_histogram.png"),
        ]
        lines.append(
            f"hold-out MAPE of cumulative repeat transactions: simulated market "
            f"{holdout.mape_simulated:.1f}%, {name} {holdout.mape_model:.1f}%"
        )
        write_page(
            folder,
            log_name=log.path.name,
            parameters=fit.parameters,
            holdout=holdout,
            figures=figures,
            lines=header,
        )
        lap("holdout")
    return Calibration(scenario, fit, holdout, folder, lines, timings, new_per_week, probe_count)
