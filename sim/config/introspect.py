"""Walking a pydantic schema: which model sits under a key, its bounds, its item type.

Messages, key-path checks, parameter lookups and the scenario reference all ask the same
questions of the schema; they ask them here, of any root model they are given.

>>> from sim.config.schema import Scenario
>>> item_model(Scenario.model_fields["competitors"].annotation).__name__
'CompetitorSpec'
>>> bounds(Scenario.model_fields["market"].annotation.model_fields["n_customers"])
{'ge': 1, 'le': 2147483647}
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Union

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.config.units import field_markers

__all__ = [
    "base_type",
    "bounds",
    "field_at",
    "is_sequence",
    "item_model",
    "key_paths",
    "mapping_model",
    "min_length",
]

_BOUNDS = {"ge": annotated_types.Ge, "gt": annotated_types.Gt}
_BOUNDS |= {"le": annotated_types.Le, "lt": annotated_types.Lt}


def base_type(annotation: Any) -> Any:
    """Strip ``X | None``, ``Annotated[...]`` and ``tuple[X, ...]`` down to the item type.

    >>> base_type(tuple[int, ...] | None)
    <class 'int'>
    """
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        elif origin in (tuple, list):
            args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
            if not args:
                return annotation
            annotation = args[0]
        else:
            return annotation


def item_model(annotation: Any) -> type[BaseModel] | None:
    """The model of a table or array-of-tables field (None for a value)."""
    inner = base_type(annotation)
    return inner if isinstance(inner, type) and issubclass(inner, BaseModel) else None


def mapping_model(field: FieldInfo) -> type[BaseModel] | None:
    """The value model of a ``dict[str, Model]`` field (its keys are the user's names)."""
    if typing.get_origin(field.annotation) is not dict:
        return None
    value = typing.get_args(field.annotation)[1]
    return value if isinstance(value, type) and issubclass(value, BaseModel) else None


def is_sequence(field: FieldInfo) -> bool:
    """Whether the field holds an array (``tuple[...]`` or ``list[...]``, maybe optional)."""
    annotation = field.annotation
    while typing.get_origin(annotation) in (Union, types.UnionType, Annotated):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    return typing.get_origin(annotation) in (tuple, list)


def field_at(
    root: type[BaseModel], loc: tuple[Any, ...]
) -> tuple[type[BaseModel] | None, FieldInfo | None]:
    """The model holding the last key of ``loc`` (a pydantic error location) and that
    key's field, where known."""
    model: type[BaseModel] | None = root
    field: FieldInfo | None = None
    user_key = False  # the next key is a name the user chose (a key of a dict field)
    for k, key in enumerate(loc):
        if isinstance(key, int) or user_key:
            user_key = False
            continue
        if model is None or key not in model.model_fields:
            return (model if k == len(loc) - 1 else None), None
        field = model.model_fields[key]
        mapped = mapping_model(field)
        user_key = mapped is not None
        if k < len(loc) - 1:
            model = mapped or item_model(field.annotation)
    return model, field


def key_paths(
    model: type[BaseModel], prefix: str = "", depth: int = 0
) -> Iterable[tuple[str, str]]:
    """(key, dotted path) of every key in the schema below ``model``; arrays of tables
    show as ``competitors[]``."""
    for name, field in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        yield name, path
        sub = item_model(field.annotation)
        if sub is not None and depth < 6:
            yield from key_paths(sub, path + ("[]" if is_sequence(field) else ""), depth + 1)


def bounds(field: FieldInfo | None, ctx: Mapping[str, Any] | None = None) -> dict[str, float]:
    """The range of a numeric field (``ge``/``gt``/``le``/``lt``); ``ctx`` (a pydantic
    error's context) wins where it names one."""
    out: dict[str, float] = {}
    for m in field_markers(field) if field is not None else []:
        for name, kind in _BOUNDS.items():
            if isinstance(m, kind):
                out[name] = getattr(m, name)
    for name in _BOUNDS:
        if ctx and name in ctx:
            out[name] = ctx[name]
    return out


def min_length(field: FieldInfo) -> int | None:
    """The least number of items (or characters) the field takes, if it sets one."""
    for m in field_markers(field):
        if isinstance(m, annotated_types.MinLen):
            return int(m.min_length)
    return None
