"""The report's figures, drawn from a results folder's tables (never from a model).

Eight figures, one consistent style (:mod:`sim.report.style`): the Okabe-Ito colour-blind
safe palette, units on every axis, the focal firm's outcomes unless a figure says
otherwise. A figure whose columns the results lack (e.g. staff measures of an engine
without employees) is skipped with a note instead of failing, and appears by itself
once the columns are there. The figures themselves live in
:mod:`sim.report.figures_time` and :mod:`sim.report.figures_outcomes`.
"""

from __future__ import annotations

import gc
import math
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from sim.common.files import atomic_write_bytes
from sim.report.data import ResultsData
from sim.report.figures_outcomes import (
    fig_churn_reasons,
    fig_economics,
    fig_final_outcomes,
    fig_network,
    fig_pyramid,
)
from sim.report.figures_time import fig_policies_over_time, fig_staff_suppliers, fig_word_of_mouth
from sim.report.figures_waterfall import fig_waterfall
from sim.report.panels import Skipped, churn_reasons
from sim.report.style import figure_bytes, policy_colors, style_context

__all__ = [
    "FIGURES",
    "PlotResult",
    "Skipped",
    "churn_reasons",
    "coinciding_panels",
    "drawing_processes",
    "idle_cores",
    "render_plots",
]


@dataclass
class PlotResult:
    """One figure: its files, its PNG bytes for embedding, or why it was skipped."""

    name: str
    title: str
    caption: str
    files: list[Path] = field(default_factory=list)
    png: bytes | None = None
    skipped: str | None = None
    notes: list[str] = field(default_factory=list)


FigureFn = Callable[[ResultsData, float], Figure | Skipped]

FigureSpec = tuple[str, str, str, FigureFn]
"""(file stem, title, caption, drawing function) of one figure."""

FIGURES: tuple[FigureSpec, ...] = (
    (
        "1_policies_over_time",
        "Policies over time",
        "The focal firm under each policy: median across replications (line) and the band "
        "holding {band:.0%} of them.",
        fig_policies_over_time,
    ),
    (
        "2_final_outcomes",
        "Final outcomes per policy",
        "Each dot is one replication at the end of the horizon; the bar is the mean, the thin "
        "line the {band:.0%} range; ★ marks the policy with the highest mean.",
        fig_final_outcomes,
    ),
    (
        "3_acquisition_vs_retention",
        "Acquisition vs. retention economics",
        "Top: marketing spend per customer won by paid channels vs. per customer-year retained, "
        "and the years a paid new customer's margin takes to repay its cost. Bottom: the leaky "
        "bucket, customers won and lost each quarter (mean over replications).",
        fig_economics,
    ),
    (
        "4_word_of_mouth",
        "Word of mouth",
        "Referrals told by promoters, referrals that became customers, and peers deterred by "
        "dissatisfied customers (median and {band:.0%} band).",
        fig_word_of_mouth,
    ),
    (
        "5_customer_pyramid",
        "The customer pyramid",
        "The focal firm's customers in each tier (top 1%, big 4%, medium 15%, small; and "
        "former customers), one panel per tier so the small top tiers show; mean over "
        "replications.",
        fig_pyramid,
    ),
    (
        "6_churn_reasons",
        "Why customers leave",
        "Customers the focal firm lost per year, by reason (mean over replications).",
        fig_churn_reasons,
    ),
    (
        "7_network",
        "The social network",
        "A snowball sample of the social graph (first replication): colour = the firm each "
        "person buys from, size = satisfaction; at the start (the same for every policy) and "
        "at the end of each policy's run.",
        fig_network,
    ),
    (
        "8_staff_and_suppliers",
        "Staff and suppliers",
        "The focal firm's staff morale, turnover and skill, and its suppliers' quality and "
        "failures (median and {band:.0%} band).",
        fig_staff_suppliers,
    ),
    (
        "9_profit_waterfall",
        "Where the difference in profit comes from",
        "Each policy's difference in the focal firm's cumulative profit from the baseline, "
        "split exactly into its sources (waterfall.csv): customers won by each channel, "
        "customers kept (fewer lost, by reason), spend per customer, price and cost of "
        "goods, and each cost line. Dark bars add profit, light bars take it away; the "
        "coloured bar is the total; thin lines are 95% intervals across the paired "
        "replications.",
        fig_waterfall,
    ),
)
"""(file stem, title, caption, drawing function) of every figure, in report order."""


_JOB: tuple[ResultsData, float, tuple[str, ...], int, Sequence[FigureSpec]] | None = None
"""What the drawing processes draw: set before they fork, read by :func:`_draw_one`."""


def coinciding_panels(fig: Figure, policies: Sequence[str]) -> list[str]:
    """Titles of the panels of ``fig`` where every policy's line is the same line.

    A panel whose lines do not differ between policies says nothing about the choice;
    the figure's caption says so rather than let a reader look for a difference. Lines
    are told apart by the policy colours (:func:`sim.report.style.policy_colors`).
    """
    colours = {c.lower(): p for p, c in policy_colors(policies).items()}
    out = []
    for k, ax in enumerate(fig.axes):
        if not ax.get_visible():
            continue
        lines: dict[str, np.ndarray] = {}
        for line in ax.get_lines():
            colour = str(line.get_color()).lower()
            if colour in colours and colours[colour] not in lines:
                lines[colours[colour]] = np.asarray(line.get_ydata(), dtype=float)
        if len(lines) < 2 or len(lines) < len(policies):
            continue
        first, *rest = lines.values()
        if first.size and all(
            r.shape == first.shape and np.allclose(r, first, equal_nan=True) for r in rest
        ):
            out.append(ax.get_title() or ax.get_title(loc="left") or f"panel {k + 1}")
    return out


def _draw_one(k: int) -> tuple[dict[str, bytes], str | None, list[str]]:
    """Figure ``k`` of the job: its bytes in each format (PNG always), or why it is
    skipped, and the panels whose lines coincide for every policy."""
    assert _JOB is not None
    data, band, formats, dpi, figures = _JOB
    draw = figures[k][3]
    with style_context():
        try:
            fig = draw(data, band)
        except (KeyError, ValueError, IndexError) as exc:  # degrade, never kill the report
            fig = Skipped(f"could not draw it from these results ({exc})")
        if isinstance(fig, Skipped):
            return {}, fig.reason, []
        out = {"png": figure_bytes(fig, "png", dpi)}
        for fmt in formats:
            if fmt not in out:
                out[fmt] = figure_bytes(fig, fmt, dpi)
        return out, None, coinciding_panels(fig, data.policies)


def idle_cores(cores: int, load_1m: float, runnable: int | None) -> int:
    """Cores that other programs leave idle, this process not counted as a user.

    ``load_1m``: the one-minute load average (which counts this process too if it has
    been busy, e.g. running the model just before); ``runnable``: processes running or
    ready now, this one included (``/proc/loadavg``), None if unknown. The busier reading
    wins: a program that just started shows in ``runnable``, one that just paused in the
    load average.

    >>> idle_cores(2, 0.9, 1)  # a quiet machine after this process ran the model
    2
    >>> idle_cores(2, 0.1, 2)  # another program running now
    1
    >>> idle_cores(2, 8.5, 10), idle_cores(16, 3.2, None)
    (0, 14)
    """
    others = max(0.0, load_1m - 1.0)
    if runnable is not None:
        others = max(others, float(runnable - 1))
    return max(0, cores - math.ceil(others - 0.25))


def _runnable() -> int | None:
    try:
        return int(Path("/proc/loadavg").read_text().split()[3].split("/")[0])
    except (OSError, IndexError, ValueError):
        return None


def drawing_processes(figures: int) -> int:
    """Processes that draw the figures at once: one per idle core (at most one per figure)
    where forking is safe (Linux, no other thread running, not itself a pool worker);
    else 1, this process.

    Why processes: Matplotlib holds the GIL while it lays out and renders, so threads
    would not help; forked processes share the loaded tables at no cost. Why only idle
    cores (:func:`idle_cores`): on a busy two-core machine two drawing processes were
    measured slower than one (each redoes the text-layout caches the other has), so
    parallel drawing is kept for machines with at least two cores nobody else uses.
    """
    if sys.platform != "linux" or figures < 2 or threading.active_count() > 1:
        return 1
    if multiprocessing.current_process().daemon:
        return 1
    idle = idle_cores(len(os.sched_getaffinity(0)), os.getloadavg()[0], _runnable())
    return max(1, min(figures, idle)) if idle >= 2 else 1


def _draw_all(n: int, workers: int) -> list[tuple[dict[str, bytes], str | None, list[str]]]:
    if workers > 1:
        try:
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(workers, mp_context=context) as pool:
                return list(pool.map(_draw_one, range(n)))
        except (BrokenProcessPool, OSError):  # a worker died or none could start: draw here
            pass
    return [_draw_one(k) for k in range(n)]


def render_plots(
    data: ResultsData,
    out_dir: str | Path | None = None,
    *,
    formats: Sequence[str] = ("png",),
    dpi: int = 110,
    band: float = 0.9,
    figures: Sequence[FigureSpec] = FIGURES,
    workers: int | None = None,
) -> list[PlotResult]:
    """Draw every figure of ``figures``; write each to ``out_dir`` in ``formats`` (if given).

    Returns one :class:`PlotResult` per figure, skipped ones included (with the reason),
    each drawn figure with its PNG bytes for embedding in the report. ``workers``: drawing
    processes (default :func:`drawing_processes`); the bytes are the same either way.
    """
    global _JOB
    folder = Path(out_dir) if out_dir is not None else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    _JOB = (data, band, tuple(formats), dpi, tuple(figures))
    # No cyclic garbage collection while drawing, one young collection after it: the
    # collector's full passes scanned every table, module and cache already loaded (about
    # 0.4 s per drawing of the report's figures, measured with gc.callbacks); the young
    # pass frees the figures' cycles in about 0.1 s. Forked drawing processes inherit it.
    collecting = gc.isenabled()
    gc.disable()
    try:
        drawn = _draw_all(len(figures), workers or drawing_processes(len(figures)))
    finally:
        _JOB = None
        if collecting:
            gc.enable()
            gc.collect(0)
    results = []
    for (stem, title, caption, _), (payloads, skipped, same) in zip(figures, drawn, strict=True):
        result = PlotResult(stem, title, caption.format(band=band), skipped=skipped)
        if same:
            result.notes.append(
                "The policies' lines coincide in "
                + ", ".join(f"'{t}'" for t in same)
                + ": the policies do not differ there."
            )
        result.png = payloads.get("png")
        if folder is not None and skipped is None:
            for fmt in formats:
                path = folder / f"{stem}.{fmt}"
                atomic_write_bytes(path, payloads[fmt])
                result.files.append(path)
        results.append(result)
    return results
