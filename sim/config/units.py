"""Units of scenario parameters, written in the schema's type annotations.

A parameter knows its own unit: the schema annotates a field with a :class:`Unit` marker
(``price: Annotated[Positive, Unit("money")]``), and :data:`Probability` carries
``"share, 0-1"``. Whole-number parameters without a marker count things. Axis labels,
the scenario reference and messages read the unit from here, never from the prose of a
description.

>>> from typing import Annotated
>>> from pydantic import BaseModel
>>> class Offer(BaseModel):
...     price: Annotated[float, Unit("money")] = 1.0
...     buyers: int = 3
...     share: Probability = 0.5
>>> [unit_of(f) for f in Offer.model_fields.values()]
['money', 'count', 'share, 0-1']
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field
from pydantic.fields import FieldInfo

__all__ = [
    "COUNT",
    "DIMENSIONLESS",
    "NonNegative",
    "Positive",
    "Probability",
    "Unit",
    "field_markers",
    "unit_of",
]

COUNT = "count"
"""The unit of a whole-number parameter that has no :class:`Unit` marker."""

DIMENSIONLESS = "dimensionless"
"""The unit of a real-number parameter that has no :class:`Unit` marker."""


@dataclass(frozen=True)
class Unit:
    """The unit of a parameter, as an ``Annotated`` marker (validation ignores it).

    ``Unit("")`` says the parameter has no unit worth printing (a seed).
    """

    name: str


Probability = Annotated[float, Field(ge=0.0, le=1.0), Unit("share, 0-1")]
"""A probability or a share: a number from 0 to 1."""

NonNegative = Annotated[float, Field(ge=0.0)]
"""A number that cannot be negative."""

Positive = Annotated[float, Field(gt=0.0)]
"""A number greater than zero."""


def field_markers(field: FieldInfo) -> list[Any]:
    """Every metadata item of ``field``: its own, and those inside ``X | None`` annotations.

    Pydantic keeps the metadata of an optional field's ``Annotated`` type inside the union,
    so bounds and units of ``budget_per_year: NonNegative | None`` are found here too.
    """
    out: list[Any] = list(field.metadata)
    for arg in typing.get_args(field.annotation):
        if typing.get_origin(arg) is Annotated:
            for m in typing.get_args(arg)[1:]:
                out.extend(m.metadata if isinstance(m, FieldInfo) else [m])
    return out


def unit_of(field: FieldInfo) -> str:
    """The unit of a numeric field: its :class:`Unit` marker, else ``count`` for whole
    numbers and ``dimensionless`` for other numbers."""
    for marker in field_markers(field):
        if isinstance(marker, Unit):
            return marker.name
    base = field.annotation
    args = [a for a in typing.get_args(base) if a is not type(None)]
    if len(args) == 1:
        base = args[0]
    if typing.get_origin(base) is Annotated:
        base = typing.get_args(base)[0]
    return COUNT if base is int else DIMENSIONLESS
