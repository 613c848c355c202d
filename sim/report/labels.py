"""Axis labels with units: outcomes from the outcomes registry, parameters from the schema.

Why here: every figure names what its axes measure and in which unit, and a label must
read the same in the report, the sweep and the sensitivity figures.

>>> outcome_axis("cumulative_profit")
'mean cumulative profit (money)'
>>> parameter_label("market.word_of_mouth.p_referral_conversion")
'market.word_of_mouth.p_referral_conversion (share, 0-1)'
>>> parameter_axis("market.word_of_mouth.p_referral_conversion")
'chance a person not buying anywhere, told by a close contact (share, 0-1)'

Text (the report's sentences, tables) names a parameter by its key path, which a reader
can put in a scenario file; a figure's axes and titles name it in the schema's words
(:func:`parameter_axis`, :func:`parameter_name`), never by a dotted key.
"""

from __future__ import annotations

import re
import textwrap

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
    "parameter_axis",
    "parameter_label",
    "parameter_name",
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


_CLAUSE_END = re.compile(r"\s\(|[;:]\s|\.\s|\.$")
"""Where a description's first clause ends: a parenthesis, a colon or semicolon, a full stop."""

_NAME_LIMIT = 60  # characters of a parameter's name before it is cut at a word
_WRAP = 34  # characters per line of a wrapped name (a panel a third of a figure wide)

_PROPER = frozenset({"Beta", "Gamma", "Dirichlet", "Weibull", "Bass", "Poisson", "Watts"})
"""First words a name keeps capitalised (names of distributions and people)."""

_SECTION_WORDS = {"firm": "focal firm", "employees": "employees", "suppliers": "suppliers"}
"""How a name says which part of the scenario a parameter belongs to (the market and the
network need no word: their parameters say what they are)."""


def _first_clause(description: str) -> str:
    """The description up to its first parenthesis, colon, semicolon or full stop, cut at a
    word after :data:`_NAME_LIMIT` characters, the first word in lower case.

    >>> _first_clause("Price per unit (money).")
    'price per unit'
    >>> _first_clause("Gamma-Gamma p: shape of one purchase's spend")
    'Gamma-Gamma p'
    """
    text = description.strip()
    end = _CLAUSE_END.search(text)
    if end:
        text = text[: end.start()]
    text = text.strip().rstrip(".,;:")
    if len(text) > _NAME_LIMIT:
        text = text[: text.rfind(" ", 0, _NAME_LIMIT)].rstrip(",;:") + "…"
    first = text.split(" ", 1)[0]
    if first[1:] == first[1:].lower() and first not in _PROPER and "-" not in first:
        text = text[:1].lower() + text[1:]
    return text


def _whose(path: str) -> str:
    """Which firm or part of the scenario ``path`` belongs to ('' for the market)."""
    head, _, rest = path.partition(".")
    if head == "competitors":
        index = rest.partition(".")[0]
        return f"competitor {int(index) + 1}" if index.isdigit() else "every competitor"
    return _SECTION_WORDS.get(head, "")


def parameter_name(path: str) -> str:
    """What a parameter is, in the schema's words: the first clause of its description,
    with the firm it belongs to (no unit). An unknown path is its own name.

    >>> parameter_name("market.tenure_spend_gain")
    'causal rise of spend per purchase with tenure'
    >>> parameter_name("competitors.*.price")
    'every competitor: price per unit'
    >>> parameter_name("suppliers.base_quality")
    'suppliers: input quality at the first rung'
    >>> parameter_name("noise_floor")
    'noise floor'
    """
    if path == NOISE_FLOOR:
        return "noise floor"
    try:
        info = resolve_parameter(path)
    except ValueError:
        return path
    name = _first_clause(info.description) if info.description else path.rsplit(".", 1)[-1]
    whose = _whose(path)
    if whose and whose.split()[-1] not in name.lower():
        name = f"{whose}: {name}"
    return name


def parameter_axis(path: str, wrap: bool | int = False) -> str:
    """A figure's label for a parameter: its name (:func:`parameter_name`) and its unit.

    ``wrap`` breaks it into lines of at most 34 characters (or ``wrap`` characters), the
    unit on the last line or on one of its own (narrow panels, tick labels of a tornado).

    >>> parameter_axis("network.mean_degree")
    'mean number of close contacts per customer (count)'
    >>> print(parameter_axis("network.mean_degree", wrap=True))
    mean number of close contacts per
    customer (count)
    >>> parameter_axis("noise_floor")
    'noise floor (no effect)'
    """
    if path == NOISE_FLOOR:
        return "noise floor (a parameter\nwith no effect)" if wrap else "noise floor (no effect)"
    name = parameter_name(path)
    try:
        unit = resolve_parameter(path).unit
    except ValueError:
        unit = ""
    if not wrap:
        return f"{name} ({unit})" if unit else name
    width = _WRAP if wrap is True else int(wrap)
    lines = textwrap.wrap(name, width, break_on_hyphens=False) or [name]
    if unit and len(lines[-1]) + len(unit) + 3 <= width:
        lines[-1] += f" ({unit})"
    elif unit:
        lines.append(f"({unit})")
    return "\n".join(lines)
