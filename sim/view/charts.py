"""Live charts as small SVG strings, each carrying its numbers in a ``data-values`` attribute.

Why SVG text and not Matplotlib or Altair: a page that updates ten or more times a second
cannot redraw a Matplotlib figure per update (tens of milliseconds each), and Altair needs
Vega in the browser; a polyline of a few hundred points is written in well under a
millisecond and needs nothing but the browser. The numbers each chart draws are also in
its ``data-values`` attribute (JSON), so a test or a user's script reads exactly what is
shown. Colours are the report's palette (:mod:`sim.report.style`).

>>> svg = line_chart("nps", "NPS", [1, 2], [("baseline", [10.0, 12.0], "#000")], "points")
>>> 'data-chart="nps"' in svg and "<polyline" in svg
True
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from sim.common.formatting import format_number
from sim.report.style import NEUTRAL, OKABE_ITO

__all__ = [
    "POLICY_COLORS",
    "bar_compare",
    "data_attribute",
    "graph_edges",
    "graph_nodes",
    "line_chart",
    "pyramid_chart",
]

POLICY_COLORS = ("#555555", OKABE_ITO[0])
"""Baseline (dark grey) and edited (blue) policy."""

Numbers = Sequence[float] | npt.NDArray[np.floating[Any]] | npt.NDArray[Any]
"""A series of numbers: a list or a numpy array."""

_W, _H = 440, 190
_PAD_L, _PAD_R, _PAD_T, _PAD_B = 52, 10, 38, 22


def _clean(values: Any) -> Any:
    """JSON-ready numbers: floats kept exactly, NaN and infinities as null."""
    if isinstance(values, Mapping):
        return {str(k): _clean(v) for k, v in values.items()}
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiu":
        out = values.tolist()
        if values.dtype.kind == "f" and not np.isfinite(values).all():
            out = [v if math.isfinite(v) else None for v in out]
        return out
    if isinstance(values, np.ndarray):
        values = values.tolist()
    if isinstance(values, list | tuple):
        return [_clean(v) for v in values]
    if isinstance(values, float | np.floating):
        v = float(values)
        return v if math.isfinite(v) else None
    if isinstance(values, np.integer):
        return int(values)
    return values


def data_attribute(values: Any) -> str:
    """``values`` as an escaped JSON attribute value (floats round-trip exactly).

    >>> data_attribute({"a": [1.5, float("nan")]})
    '{&quot;a&quot;: [1.5, null]}'
    """
    return html.escape(json.dumps(_clean(values)), quote=True)


def _ticks(lo: float, hi: float, n: int = 4) -> list[float]:
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    start = math.ceil(lo / step) * step
    return [start + k * step for k in range(int((hi - start) / step + 1e-9) + 1)]


def _range(arrays: Sequence[Numbers], zero: bool = False) -> tuple[float, float]:
    finite = [float(v) for a in arrays for v in a if v is not None and math.isfinite(float(v))]
    if not finite:
        return 0.0, 1.0
    lo, hi = min(finite), max(finite)
    if zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo < 1e-12:
        lo, hi = lo - 1.0, hi + 1.0
    pad = 0.05 * (hi - lo)
    return lo - (0 if zero and lo == 0 else pad), hi + pad


def _frame(chart_id: str, title: str, values: Any, body: str, unit: str = "") -> str:
    title_text = f"{title} ({unit})" if unit else title
    return (
        f'<div class="mv-chart" id="chart-{chart_id}" data-chart="{chart_id}" '
        f'data-values="{data_attribute(values)}">'
        f'<svg viewBox="0 0 {_W} {_H}" width="100%" role="img" aria-label="{html.escape(title)}">'
        f'<text x="4" y="15" font-size="12" font-weight="bold">{html.escape(title_text)}</text>'
        f"{body}</svg></div>"
    )


def line_chart(
    chart_id: str,
    title: str,
    x: Numbers,
    series: Sequence[tuple[str, Numbers, str]],
    unit: str = "",
    *,
    x_max: float | None = None,
    y_range: tuple[float, float] | None = None,
    zero: bool = False,
) -> str:
    """Lines over steps, one per (label, values, colour), with axes and a legend."""
    xs = np.asarray(x, dtype=float)
    x_hi = float(x_max) if x_max else float(xs[-1]) if xs.size else 1.0
    x_lo = 0.0
    lo, hi = y_range or _range([s[1] for s in series], zero=zero)
    pw, ph = _W - _PAD_L - _PAD_R, _H - _PAD_T - _PAD_B

    def px(v: Any) -> Any:
        return _PAD_L + (v - x_lo) / max(x_hi - x_lo, 1e-12) * pw

    def py(v: Any) -> Any:
        return _PAD_T + (1 - (v - lo) / (hi - lo)) * ph

    parts: list[str] = []
    for t in _ticks(lo, hi):
        y = py(t)
        parts.append(
            f'<line x1="{_PAD_L}" x2="{_W - _PAD_R}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e5e5"/>'
            f'<text x="{_PAD_L - 4}" y="{y + 3:.1f}" font-size="10" text-anchor="end">'
            f"{format_number(t, compact=True)}</text>"
        )
    parts.append(
        f'<text x="{_W - _PAD_R}" y="{_H - 6}" font-size="10" text-anchor="end">step '
        f"{int(xs[-1]) if xs.size else 0} of {int(x_hi)}</text>"
    )
    legend_x = float(_PAD_L)
    for label, values, color in series:
        ys = np.asarray(values, dtype=float)
        ok = np.isfinite(ys)
        pxs, pys = px(xs[ok]).tolist(), py(ys[ok]).tolist()
        pts = " ".join([f"{a:.1f},{b:.1f}" for a, b in zip(pxs, pys, strict=True)])
        parts.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="1.6" points="{pts}"/>'
            f'<text x="{legend_x:.0f}" y="30" font-size="10" fill="{color}">'
            f"■ {html.escape(label)}</text>"
        )
        legend_x += 16 + 5.6 * len(label)
    shown = {"x": xs, "series": {label: vals for label, vals, _ in series}}
    return _frame(chart_id, title, shown, "".join(parts), unit)


def bar_compare(
    chart_id: str,
    title: str,
    categories: Sequence[str],
    groups: Sequence[tuple[str, Mapping[str, float], str]],
    unit: str = "",
) -> str:
    """Horizontal bars per category, one bar per (policy, values, colour) side by side."""
    vmax = max([v for _, vals, _ in groups for v in vals.values()] + [1e-9])
    n = max(len(categories), 1)
    band = (_H - _PAD_T - 6) / n
    bh = band * 0.8 / max(len(groups), 1)
    label_w, pw = 120, _W - 120 - 50
    parts: list[str] = []
    for i, cat in enumerate(categories):
        y0 = _PAD_T + i * band
        parts.append(
            f'<text x="{label_w - 4}" y="{y0 + band / 2 + 3:.1f}" font-size="10" '
            f'text-anchor="end">{html.escape(cat.replace("_", " "))}</text>'
        )
        for g, (_, vals, color) in enumerate(groups):
            v = float(vals.get(cat, 0.0))
            w = max(v, 0.0) / vmax * pw
            y = y0 + band * 0.1 + g * bh
            parts.append(
                f'<rect x="{label_w}" y="{y:.1f}" width="{w:.1f}" height="{bh - 1:.1f}" '
                f'fill="{color}"/><text x="{label_w + w + 3:.1f}" y="{y + bh - 2:.1f}" '
                f'font-size="9">{format_number(v, compact=True)}</text>'
            )
    legend = "".join(
        f'<text x="{label_w + 180 * g}" y="30" font-size="10" fill="{c}">■ {html.escape(name)}</text>'
        for g, (name, _, c) in enumerate(groups)
    )
    values = {name: dict(vals) for name, vals, _ in groups}
    return _frame(chart_id, title, values, legend + "".join(parts), unit)


def pyramid_chart(
    chart_id: str,
    title: str,
    tiers: Sequence[str],
    left: tuple[str, Mapping[str, float], str],
    right: tuple[str, Mapping[str, float], str],
) -> str:
    """The customer pyramid, baseline to the left and edited to the right, top tier first."""
    vmax = max([*left[1].values(), *right[1].values(), 1e-9])
    n = max(len(tiers), 1)
    band = (_H - _PAD_T - 6) / n
    mid, half = _W / 2, _W / 2 - 60
    parts: list[str] = []
    for i, tier in enumerate(tiers):
        y = _PAD_T + i * band + band * 0.1
        h = band * 0.8
        a, b = float(left[1].get(tier, 0.0)), float(right[1].get(tier, 0.0))
        wa, wb = a / vmax * half, b / vmax * half
        parts.append(
            f'<rect x="{mid - 24 - wa:.1f}" y="{y:.1f}" width="{wa:.1f}" height="{h:.1f}" '
            f'fill="{left[2]}"/><rect x="{mid + 24:.1f}" y="{y:.1f}" width="{wb:.1f}" '
            f'height="{h:.1f}" fill="{right[2]}"/>'
            f'<text x="{mid}" y="{y + h / 2 + 3:.1f}" font-size="9" text-anchor="middle">'
            f"{html.escape(tier)}</text>"
            f'<text x="{mid - 28 - wa:.1f}" y="{y + h / 2 + 3:.1f}" font-size="9" '
            f'text-anchor="end">{format_number(a, compact=True)}</text>'
            f'<text x="{mid + 28 + wb:.1f}" y="{y + h / 2 + 3:.1f}" font-size="9">'
            f"{format_number(b, compact=True)}</text>"
        )
    legend = (
        f'<text x="{mid - 30}" y="30" font-size="10" fill="{left[2]}" text-anchor="end">'
        f'{html.escape(left[0])} ■</text><text x="{mid + 30}" y="30" font-size="10" '
        f'fill="{right[2]}">■ {html.escape(right[0])}</text>'
    )
    values = {left[0]: dict(left[1]), right[0]: dict(right[1])}
    return _frame(chart_id, title, values, legend + "".join(parts), "people")


_GW, _GH = 300, 240


def graph_edges(xy: np.ndarray, edges: np.ndarray) -> str:
    """The sampled graph's edges (drawn once per layout: they do not change while running)."""
    pts = xy * np.array([_GW - 16, _GH - 16]) + 8
    lines = "".join(
        f'<line x1="{pts[a, 0]:.1f}" y1="{pts[a, 1]:.1f}" x2="{pts[b, 0]:.1f}" '
        f'y2="{pts[b, 1]:.1f}"/>'
        for a, b in edges
    )
    return (
        f'<svg viewBox="0 0 {_GW} {_GH}" width="100%" style="position:absolute;left:0;top:0">'
        f'<g stroke="#d0d0d0" stroke-width="0.6">{lines}</g></svg>'
    )


def graph_nodes(
    chart_id: str,
    xy: np.ndarray,
    firm: np.ndarray,
    referral: np.ndarray,
    deterred: np.ndarray,
    step: int,
) -> str:
    """The sampled people coloured by firm (grey: none); rings light up people won by a
    referral (green) or deterred by a detractor (red) since the last frame."""
    pts = xy * np.array([_GW - 16, _GH - 16]) + 8
    parts: list[str] = []
    for k in range(pts.shape[0]):
        f = int(firm[k])
        color = NEUTRAL if f < 0 else OKABE_ITO[f % len(OKABE_ITO)]
        ring = ""
        if referral[k]:
            ring = ' stroke="#00B050" stroke-width="3"'
        elif deterred[k]:
            ring = ' stroke="#E00000" stroke-width="3"'
        parts.append(
            f'<circle cx="{pts[k, 0]:.1f}" cy="{pts[k, 1]:.1f}" r="4" fill="{color}"{ring}/>'
        )
    values = {
        "step": step,
        "referral": np.flatnonzero(referral),
        "deterred": np.flatnonzero(deterred),
    }
    return (
        f'<div class="mv-graph-nodes" id="graph-{chart_id}" data-values="{data_attribute(values)}"'
        f' style="position:absolute;left:0;top:0;width:100%">'
        f'<svg viewBox="0 0 {_GW} {_GH}" width="100%">{"".join(parts)}</svg></div>'
    )
