"""Plots and the self-contained HTML report, drawn from a results folder's files only.

:func:`render_report` draws a run's figures and report.html; the experiment figures
(:func:`draw_robustness_figures`, :func:`draw_sweep_figures`,
:func:`draw_sensitivity_figure`) are drawn from the tables the analysis wrote.

>>> from sim.report import render_report  # doctest: +SKIP
>>> render_report("results/retention_vs_acquisition")  # doctest: +SKIP
PosixPath('results/retention_vs_acquisition/report.html')
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sim.common.files import atomic_write_text
from sim.report.data import ResultsData, ResultsFolderError, load_results
from sim.report.design_figures import draw_sensitivity_figure, draw_sweep_figures
from sim.report.design_report import render_design_report
from sim.report.html import headline, render_html
from sim.report.plots import FIGURES, PlotResult, render_plots
from sim.report.robustness_figures import draw_robustness_figures
from sim.report.stress_report import STRESS_FIGURE, fig_stress

STRESS_FIGURES = ((*STRESS_FIGURE, fig_stress),)
"""The stress tornado, drawn when the folder has a stress.csv (``marketsim run --stress``)."""

__all__ = [
    "FIGURES",
    "PlotResult",
    "ResultsData",
    "ResultsFolderError",
    "draw_robustness_figures",
    "draw_sensitivity_figure",
    "draw_sweep_figures",
    "headline",
    "load_results",
    "render_design_report",
    "render_html",
    "render_plots",
    "render_report",
]


def render_report(
    folder: str | Path,
    *,
    plots: bool | None = None,
    report: bool | None = None,
    formats: Sequence[str] | None = None,
    dpi: int | None = None,
    band: float | None = None,
) -> tuple[Path | None, list[PlotResult]]:
    """(Re-)draw ``folder/plots/`` and write ``folder/report.html`` from the folder's files.

    Settings default to the folder's ``[outputs]`` (from scenario.resolved.toml). Returns
    the report's path (None if the report is switched off) and the figures.
    """
    data = load_results(folder)
    outputs = data.scenario.get("outputs", {})
    plots = outputs.get("plots", True) if plots is None else plots
    report = outputs.get("report", True) if report is None else report
    formats = tuple(formats or outputs.get("formats", ("png",)))
    dpi = int(dpi or outputs.get("dpi", 110))
    band = float(band or outputs.get("band", 0.9))
    folder = Path(folder)
    results: list[PlotResult] = []
    plot_dir = folder / "plots"
    if plots:
        stressed = STRESS_FIGURES if (folder / "stress.csv").is_file() else ()
        results = render_plots(
            data, plot_dir, formats=formats, dpi=dpi, band=band, figures=(*FIGURES, *stressed)
        )
    written = {p for r in results for p in r.files}
    for stem, *_ in (*FIGURES, *STRESS_FIGURES):  # figures an earlier rendering drew, not this
        for suffix in (".png", ".svg"):
            stale = plot_dir / f"{stem}{suffix}"
            if stale not in written and stale.is_file():
                stale.unlink()
    path = None
    if report:
        if not plots:
            results = [PlotResult(stem, title, caption) for stem, title, caption, _ in FIGURES]
        path = folder / "report.html"
        atomic_write_text(path, render_html(data, results))
    return path, results
