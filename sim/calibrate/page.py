"""The hold-out's figures (tracking plot, purchases-per-customer histogram) and its page.

Why a page: the strategist who ran ``marketsim calibrate`` wants to see at a glance
whether the fitted market forecasts the period it did not see; the page holds the two
standard figures of customer-base analysis and the error figures, every user-supplied
text (the log's name) escaped.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from sim.calibrate.holdout import Holdout
from sim.common.files import atomic_write_bytes, atomic_write_text

__all__ = ["draw_histogram", "draw_tracking", "write_page"]

_ACTUAL, _SIM, _MODEL = "#222222", "#1f77b4", "#d62728"


def _save(fig: plt.Figure, path: Path) -> Path:
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(path, tmp.read_bytes())
    tmp.unlink()
    return path


def draw_tracking(h: Holdout, model_name: str, unit: str, path: Path) -> Path:
    """Weekly and cumulative repeat transactions: actual, simulated and model (95% bands)."""
    t = h.table
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ax1.plot(t["period"], t["actual"], color=_ACTUAL, label="actual")
    ax1.plot(t["period"], t["simulated"], color=_SIM, label="simulated market (mean)")
    ax1.plot(t["period"], t["model"], color=_MODEL, ls="--", label=f"{model_name} forecast")
    ax1.set_xlabel(f"{unit}s after the calibration period")
    ax1.set_ylabel(f"repeat transactions per {unit}")
    ax1.legend(frameon=False)
    ax2.fill_between(
        t["period"],
        t["cumulative_simulated_low"],
        t["cumulative_simulated_high"],
        color=_SIM,
        alpha=0.2,
        label="simulated 95% band",
    )
    if "cumulative_model_low" in t:
        ax2.fill_between(
            t["period"],
            t["cumulative_model_low"],
            t["cumulative_model_high"],
            color=_MODEL,
            alpha=0.12,
            label=f"{model_name} 95% band",
        )
    ax2.plot(t["period"], t["cumulative_actual"], color=_ACTUAL, label="actual")
    ax2.plot(t["period"], t["cumulative_simulated"], color=_SIM, label="simulated market (mean)")
    ax2.plot(t["period"], t["cumulative_model"], color=_MODEL, ls="--", label=f"{model_name}")
    ax2.set_xlabel(f"{unit}s after the calibration period")
    ax2.set_ylabel("cumulative repeat transactions")
    ax2.legend(frameon=False)
    fig.suptitle("Hold-out tracking (Fader, Hardie & Lee 2005)")
    return _save(fig, path)


def draw_histogram(h: Holdout, path: Path) -> Path:
    """Customers by repeat transactions in the hold-out: actual vs simulated."""
    d = h.histogram
    fig, ax = plt.subplots(figsize=(6, 4))
    x = range(len(d))
    ax.bar([i - 0.2 for i in x], d["actual"], width=0.4, color=_ACTUAL, label="actual")
    ax.bar([i + 0.2 for i in x], d["simulated"], width=0.4, color=_SIM, label="simulated (mean)")
    ax.set_xticks(list(x), list(d["purchases"]))
    ax.set_xlabel("repeat transactions in the hold-out")
    ax.set_ylabel("customers")
    ax.legend(frameon=False)
    return _save(fig, path)


def write_page(
    folder: Path,
    *,
    log_name: str,
    parameters: pd.DataFrame,
    holdout: Holdout | None,
    figures: list[Path],
    lines: list[str],
) -> Path:
    """calibration.html: parameters, error figures and figures (images embedded)."""
    parts = [
        "<!doctype html><meta charset='utf-8'><title>marketsim calibrate</title>",
        f"<h1>Calibration to {html.escape(log_name)}</h1>",
        "<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in lines) + "</ul>",
        "<h2>Fitted parameters</h2>",
        parameters.to_html(index=False, float_format=lambda v: f"{v:.4g}", escape=True),
    ]
    if holdout is not None:
        parts.append(
            "<h2>Hold-out</h2><p>"
            + html.escape(
                f"MAPE of cumulative repeat transactions: simulated market "
                f"{holdout.mape_simulated:.1f}%, pure model {holdout.mape_model:.1f}%. "
                f"Revenue in the hold-out: actual {holdout.revenue_actual:,.0f}, simulated "
                f"{holdout.revenue_simulated:,.0f} (95% {holdout.revenue_low:,.0f} to "
                f"{holdout.revenue_high:,.0f})."
            )
            + "</p>"
        )
    for fig in figures:
        data = base64.b64encode(fig.read_bytes()).decode("ascii")
        parts.append(
            f"<p><img alt='{html.escape(fig.stem)}' src='data:image/png;base64,{data}'></p>"
        )
    path = folder / "calibration.html"
    atomic_write_text(path, "\n".join(parts) + "\n")
    return path
