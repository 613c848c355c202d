"""The one number formatter: how marketsim writes a number for a person to read.

Why one: the terminal, the HTML report, figure axes and error messages used to round
numbers each their own way, so the same profit read "12,345" in one place and "12k" in
another. Every printed number goes through :func:`format_number`; the results tables
(CSV) never do: they keep every digit.

>>> format_number(1_234_567.0), format_number(12_345.6), format_number(0.012345)
('1.23M', '12,346', '0.0123')
>>> format_number(0.1234, "share"), format_number(-3.0, "points", signed=True)
('12.3%', '-3.0')
>>> format_number(25_000.0, compact=True), format_number(12_500.0, exact=True)
('25k', '12,500')
"""

from __future__ import annotations

import math

__all__ = ["format_number", "format_percent"]


def _missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def format_number(
    x: float | None,
    unit: str = "",
    *,
    signed: bool = False,
    compact: bool = False,
    exact: bool = False,
) -> str:
    """``x`` for a reader: about three significant digits, thousands separated.

    ``unit``: ``share`` (a fraction, shown in %; a signed share is a change in
    percentage points) or ``points`` (one decimal, always signed); any other unit reads as
    a plain amount. ``signed`` puts ``+`` before positive numbers (differences);
    ``compact`` writes axis ticks (``1.5B``, ``2.3M``, ``12k``); ``exact`` writes the
    value as given, rounding nothing (bounds in messages). A missing value reads ``-``.

    >>> format_number(float("nan")), format_number(250.0, signed=True)
    ('-', '+250')
    >>> format_number(0.021, "share", signed=True), format_number(42.0, "points")
    ('+2.1 pts', '+42.0')
    >>> format_number(3.4e9, compact=True), format_number(0.5, exact=True)
    ('3.4B', '0.5')
    """
    if _missing(x):
        return "-"
    assert x is not None
    x = float(x)
    if exact:
        return f"{x:,g}" if abs(x) >= 10_000 else f"{x:g}"
    if compact:
        a = abs(x)
        for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if a >= size:
                return f"{x / size:.3g}{suffix}"
        return f"{x:.3g}"
    if unit == "share":
        return f"{100 * x:+.1f} pts" if signed else f"{100 * x:.1f}%"
    if unit == "points":
        return f"{x:+.1f}" if signed or abs(x) < 1e3 else f"{x:,.0f}"
    a = abs(x)
    if a >= 1e6:
        text = f"{x / 1e6:,.2f}M"
    elif a >= 100:
        text = f"{x:,.0f}"
    else:
        text = f"{x:.3g}"
    return "+" + text if signed and x > 0 else text


def format_percent(x: float, *, signed: bool = False) -> str:
    """A percentage (already in %): whole numbers from 1% up, one decimal below.

    Unsigned, it is a size (the sign is said in words: "12% more").

    >>> format_percent(-12.4), format_percent(0.25), format_percent(3.0, signed=True)
    ('12%', '0.2%', '+3%')
    """
    if signed:
        return f"{x:+.0f}%" if abs(x) >= 1 else f"{x:+.1f}%"
    return f"{abs(x):.0f}%" if abs(x) >= 1 else f"{abs(x):.1f}%"
