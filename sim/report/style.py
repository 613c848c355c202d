"""The figures' one style: palette, policy colours and legends, axis formats, saving.

Why one module: the report's figures and the experiment figures (robustness, sweeps,
sensitivity) must give a policy the same colour and the same legend, or a reader
comparing two figures is misled. The palette is Okabe & Ito's (2008) colour-blind-safe
one; figures are ``matplotlib.figure.Figure`` objects (no pyplot state, no backend
switch), so drawing is safe in any process.

>>> policy_colors(["a", "b"])
{'a': '#0072B2', 'b': '#D55E00'}
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator

from sim.common.files import atomic_write_bytes
from sim.common.formatting import format_number

__all__ = [
    "HATCHES",
    "MONEY",
    "NEUTRAL",
    "NO_STAMP",
    "OKABE_ITO",
    "PNG_COMPRESS_LEVEL",
    "SHADES",
    "STYLE",
    "few_ticks",
    "figure_bytes",
    "grid_figure",
    "policy_colors",
    "policy_legend",
    "save_figure",
    "style_context",
]

OKABE_ITO = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#E69F00",  # orange
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)
"""Okabe & Ito (2008), 'Color Universal Design': distinguishable with any colour vision."""

NEUTRAL = "#BBBBBB"
"""Grey for what belongs to no policy (no firm, the noise floor, zero lines)."""

SHADES = ("#222222", "#666666", "#999999", "#C4C4C4", "#E2E2E2")
"""Greys, dark to light, for meanings other than a policy (tiers, reasons, won and lost):
the palette's hues belong to the policies, so a colour never means two things."""

HATCHES = ("", "//", "..", "xx", "\\\\", "--", "++", "oo")
"""Hatch patterns that tell apart more categories than the shades can."""

STYLE: dict[Any, Any] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#E5E5E5",
    "grid.linewidth": 0.6,
    "axes.prop_cycle": cycler(color=OKABE_ITO),
    "legend.frameon": False,
    "legend.fontsize": 8,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "svg.hashsalt": "marketsim",
    "text.parse_math": False,  # policy names are user text: "$" must not start mathtext
}
"""Matplotlib settings of every figure (``mpl.rc_context(STYLE)``)."""

MONEY = FuncFormatter(lambda x, _pos=None: format_number(x, compact=True))
"""Axis ticks of money: 1.5B, 2.3M, 12k."""


def policy_colors(names: Sequence[str]) -> dict[str, str]:
    """Each name's colour, in order (the palette repeats after eight)."""
    return {n: OKABE_ITO[k % len(OKABE_ITO)] for k, n in enumerate(names)}


def policy_legend(
    fig: Figure, policies: Sequence[str], *, marker: bool = False, outside: bool = True
) -> None:
    """One legend entry per policy across the top of ``fig``.

    ``outside``: in the constrained layout's own room above the axes; otherwise at the
    top edge (the figure keeps room with its layout's ``rect``).
    """
    colors = policy_colors(policies)
    handles = [
        Line2D(
            [], [], color=colors[p], lw=0 if marker else 2.5, marker="o" if marker else "", label=p
        )
        for p in policies
    ]
    ncol = min(len(handles), 4)
    if outside:
        fig.legend(handles=handles, loc="outside upper center", ncol=ncol)
    else:
        fig.legend(handles=handles, loc="upper center", ncol=ncol, bbox_to_anchor=(0.5, 1.0))


PNG_COMPRESS_LEVEL = 3
"""zlib level of the figures' PNG files: measured on the report's figures, 3 encodes in
about two thirds of the time of the default 6 for files 4% larger."""


NO_STAMP: dict[str, Any] = {"Software": None}
"""PNG metadata: no software version (the same figure, the same bytes on any install)."""


def figure_bytes(fig: Figure, fmt: str = "png", dpi: int = 110) -> bytes:
    """``fig`` in ``fmt`` without a date or software stamp (the same figure, the same bytes).

    A PNG is laid out once and drawn once. Why: ``savefig`` on a figure with a layout
    engine (all of the report's) first draws the whole figure without rendering, only
    to run the layout, then draws it again; drawing it once on an Agg canvas (the layout
    runs at the start of that draw, at the PNG's resolution) and writing the pixels as
    ``savefig`` writes them (:func:`matplotlib.image.imsave`) gives the same bytes for
    about a fifth less work. Other formats go through ``savefig``.
    """
    buffer = io.BytesIO()
    if fmt == "png":
        canvas = FigureCanvasAgg(fig)
        fig.set_dpi(dpi)
        face, edge = mpl.rcParams["savefig.facecolor"], mpl.rcParams["savefig.edgecolor"]
        if not (isinstance(face, str) and face == "auto"):  # as savefig paints the figure
            fig.set_facecolor(face)
        if not (isinstance(edge, str) and edge == "auto"):
            fig.set_edgecolor(edge)
        canvas.draw()
        mpl.image.imsave(
            buffer,
            canvas.buffer_rgba(),
            format="png",
            origin="upper",
            dpi=dpi,
            metadata=NO_STAMP,
            pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL},
        )
    else:
        fig.savefig(buffer, format=fmt, dpi=dpi, metadata={"Date": None})
    return buffer.getvalue()


def save_figure(
    fig: Figure, folder: Path, stem: str, formats: Iterable[str] = ("png",), dpi: int = 110
) -> list[Path]:
    """Write ``fig`` as ``folder/stem.<format>`` for each format, atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        path = folder / f"{stem}.{fmt}"
        atomic_write_bytes(path, figure_bytes(fig, fmt, dpi))
        written.append(path)
    return written


def style_context() -> Any:
    """``with style_context():`` draws in :data:`STYLE`."""
    return mpl.rc_context(STYLE)


def grid_figure(n: int, width: float = 10.5, height: float = 3.2) -> tuple[Figure, Any]:
    """A figure of ``n`` panels, three to a row (the last row may be short).

    Returns the figure and a flat array of its axes.
    """
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(width, height * rows + 0.5), layout="constrained")
    grid = fig.add_gridspec(rows, cols)
    # only the panels drawn are made: a hidden panel cost as much to make as a drawn one
    axes = np.empty(n, dtype=object)
    for k in range(n):
        axes[k] = fig.add_subplot(grid[k // cols, k % cols])
    return fig, axes


def few_ticks(ax: Axes, axis: str = "y", n: int = 5) -> None:
    """At most about ``n`` round ticks on ``ax``'s ``axis`` (1, 2, 2.5 or 5 times a power
    of ten apart).

    Why: every tick is a handful of Matplotlib objects laid out and drawn one by one, and
    the ticks and their labels were the largest part of drawing the report's figures;
    five labels read as well on a panel a third of a page wide.
    """
    locator = MaxNLocator(nbins=n, steps=[1, 2, 2.5, 5, 10])
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_locator(locator)
