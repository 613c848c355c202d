"""Axis labels with units: outcomes from the outcomes registry, parameters from the schema.

Why here: every figure names what its axes measure and in which unit, and a label must
read the same in the report, the sweep and the sensitivity figures.

>>> outcome_axis("cumulative_profit")
'mean cumulative profit (money)'
>>> parameter_label("market.word_of_mouth.p_referral_conversion")
'market.word_of_mouth.p_referral_conversion (share, 0-1)'
"""

from __future__ import annotations

from matplotlib.axes import Axes

from sim.common.formatting import format_number
from sim.common.outcomes import OUTCOMES, outcome_label
from sim.config.parameters import resolve_parameter
from sim.report.style import MONEY

__all__ = [
    "CURRENCY_SYMBOLS",
    "NOISE_FLOOR",
    "format_outcome_axis",
    "is_money",
    "money",
    "outcome_axis",
    "outcome_unit",
    "parameter_label",
]

NOISE_FLOOR = "noise_floor"
"""The sensitivity design's dummy parameter as the tables name it (it changes nothing)."""


CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF "}
"""ISO codes written as a symbol; any other code is written before the number with a space."""


def money(x: float, currency: str | None = None, *, signed: bool = False) -> str:
    """An amount of money for a reader, with the scenario's currency when it names one.

    >>> money(1_520_000.0, "EUR", signed=True), money(-12_345.0, "USD"), money(250.0)
    ('+€1.52M', '-$12,345', '250')
    >>> money(5.0, "SEK")
    'SEK 5'
    """
    text = format_number(abs(x))
    if text == "-":
        return text
    if currency:
        symbol = CURRENCY_SYMBOLS.get(currency.upper(), f"{currency} ")
        text = symbol + text
    sign = "-" if x < 0 else ("+" if signed and x > 0 else "")
    return sign + text


def outcome_unit(outcome: str) -> str:
    """The outcome's unit from the registry ('value' for an unknown one).

    >>> outcome_unit("nps"), outcome_unit("profit_per_week")
    ('points', 'value')
    """
    known = OUTCOMES.get(outcome)
    return known.unit if known else "value"


def is_money(outcome: str) -> bool:
    """Whether the outcome is an amount of money (its axis gets the money ticks)."""
    known = OUTCOMES.get(outcome)
    return bool(known and known.is_money)


def outcome_axis(outcome: str, prefix: str = "mean ") -> str:
    """An axis label with the unit, e.g. 'mean cumulative profit (money)'."""
    return f"{prefix}{outcome_label(outcome)} ({outcome_unit(outcome)})"


def format_outcome_axis(ax: Axes, outcome: str, axis: str = "y") -> None:
    """Money ticks (12k, 1.5M) on the outcome's axis when it is money."""
    if is_money(outcome):
        (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(MONEY)


def parameter_label(path: str, wrap: bool = False) -> str:
    """An axis label with a unit for a parameter's key path, e.g. 'network.mean_degree (count)'.

    The unit is the schema's metadata (:func:`sim.config.parameters.resolve_parameter`).
    ``wrap`` puts the unit on a second line (narrow panels). The sensitivity design's
    noise floor gets a label that says it has no effect; an unknown path is its own label.

    >>> parameter_label("competitors.*.budget_per_year")
    'competitors.*.budget_per_year (money per year)'
    >>> parameter_label("noise_floor")
    'noise floor (no effect)'
    """
    if path == NOISE_FLOOR:
        return "noise floor (a parameter\nwith no effect)" if wrap else "noise floor (no effect)"
    try:
        info = resolve_parameter(path)
    except ValueError:
        return path
    return info.label.replace(" (", "\n(", 1) if wrap else info.label
