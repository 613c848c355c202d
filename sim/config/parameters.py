"""Numeric market parameters named by key path: what they are, and which values they take.

``[uncertainties]``, sweeps and sensitivity designs name a parameter by its dotted key
path; :func:`resolve_parameter` says whether it is a numeric market parameter, whether it
counts (whole numbers), its unit and range, all read from the schema's metadata.

>>> resolve_parameter("competitors.*.budget_per_year").label
'competitors.*.budget_per_year (money per year)'
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from sim.config.experiment_spec import SPEC_KEYS, UncertaintySpec
from sim.config.file_schema import ScenarioFileSchema
from sim.config.introspect import base_type, bounds, is_sequence, item_model
from sim.config.keypaths import expand_path, join_path, set_in, split_path
from sim.config.reader import custom_error, describe, kind_of, show, unknown_key
from sim.config.schema import Scenario
from sim.config.units import unit_of

__all__ = [
    "UNCERTAIN_SECTIONS",
    "ParameterInfo",
    "check_uncertainties",
    "flatten_uncertainties",
    "resolve_parameter",
    "value_problem_in",
]

UNCERTAIN_SECTIONS = ("market", "network", "firm", "competitors", "employees", "suppliers")
"""Sections whose numeric keys can be uncertain: the market, not the policies compared."""

_INTEGER_SPAN_CHECKED = 24  # integer ranges up to this many values are checked value by value


class ParameterInfo(NamedTuple):
    """A numeric scenario parameter named by a dotted key path."""

    path: str
    integer: bool
    description: str
    bounds: dict[str, float]
    unit: str

    @property
    def label(self) -> str:
        """An axis label with the unit, e.g. ``'network.mean_degree (count)'``."""
        return f"{self.path} ({self.unit})" if self.unit else self.path


def resolve_parameter(path: str) -> ParameterInfo:
    """The numeric market parameter ``path`` names, or a ValueError saying what is wrong.

    Entries of [[competitors]] are named by index (``competitors.0.price``) or all at
    once (``competitors.*.price``).

    >>> resolve_parameter("network.mean_degree").integer
    True
    >>> resolve_parameter("market.word_of_mouth.p_referal_conversion")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown key 'p_referal_conversion' in [market.word_of_mouth]; did you mean ...
    """
    segments = split_path(path)
    if not segments:
        raise ValueError("empty key path; expected e.g. market.word_of_mouth.p_referral_conversion")
    first = segments[0]
    if first not in UNCERTAIN_SECTIONS:
        sections = ", ".join(UNCERTAIN_SECTIONS)
        if first in ScenarioFileSchema.model_fields:
            raise ValueError(
                f"'{first}' cannot be uncertain: uncertainties are parameters of the market "
                f"in {sections} (policies are what you compare, not what you are unsure of)"
            )
        raise ValueError(
            unknown_key(str(first), list(UNCERTAIN_SECTIONS), "the sections that can be uncertain")
        )
    model: type[BaseModel] | None = Scenario
    field: FieldInfo | None = None
    want_index = False
    for depth, key in enumerate(segments):
        here = join_path(segments[:depth])
        if want_index:
            if key == "*" or isinstance(key, int):
                want_index = False
                continue
            rest = join_path(segments[depth:])
            raise ValueError(
                f"{here} is a list: name an entry before the key, e.g. {here}.*.{rest} (every "
                f"entry) or {here}.0.{rest} (the first)"
            )
        if key == "*" or isinstance(key, int):
            raise ValueError(f"'{key}' names a list entry, but {here} is not a list")
        if model is None:
            raise ValueError(f"{here} is a value, not a table, so it has no key '{key}'")
        if key not in model.model_fields:
            raise ValueError(unknown_key(str(key), list(model.model_fields), f"[{here}]"))
        field = model.model_fields[key]
        model = item_model(field.annotation)
        want_index = model is not None and is_sequence(field)
    assert field is not None
    if want_index:
        raise ValueError(f"{path} is a list: name an entry and a key, e.g. {path}.*.price")
    if model is not None:
        keys = ", ".join(model.model_fields)
        raise ValueError(f"{path} is a table, not a number; name one of its keys: {keys}")
    base = base_type(field.annotation)
    if base is bool or base not in (int, float):
        kind = {bool: "true/false", str: "text"}.get(base, "a choice of words")
        raise ValueError(
            f"{path} is {kind}, not a number: only numeric parameters can be uncertain "
            "(run one scenario file per alternative instead)"
        )
    return ParameterInfo(path, base is int, field.description or "", bounds(field), unit_of(field))


def flatten_uncertainties(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{market = {churn = {x = {low, high}}}}`` -> ``{"market.churn.x": {low, high}}``.

    >>> flatten_uncertainties({"market": {"need_per_year": {"low": 0.1, "high": 0.2}}})
    {'market.need_per_year': {'low': 0.1, 'high': 0.2}}
    """
    out: dict[str, Any] = {}
    for key, value in table.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        nested = (
            isinstance(value, Mapping)
            and bool(value)
            and not set(value) & SPEC_KEYS
            and all(isinstance(v, Mapping) for v in value.values())
        )
        if nested:
            inner = flatten_uncertainties(value, path)
        elif isinstance(value, Mapping):
            inner = {path: value}
        else:
            raise custom_error(
                f"uncertainties.{path}",
                f"got {show(value)} ({kind_of(value)}), expected a table saying how it "
                "varies, e.g. { low = 0.3, high = 0.6 } or { choices = [6, 10, 14] }",
            )
        for k, v in inner.items():
            if k in out:
                raise custom_error(
                    f"uncertainties.{k}", "written twice; keep one entry per parameter"
                )
            out[k] = v
    return out


def value_problem_in(base: dict[str, Any], path: str, value: float) -> str | None:
    """Why setting ``path = value`` in ``base`` (a Scenario as JSON data) would make it
    invalid (range or cross-checks), or None; ``*`` paths set every entry."""
    data = copy.deepcopy(base)
    try:
        concrete = expand_path(data, split_path(path))
    except ValueError as exc:
        return str(exc)
    for segments in concrete:
        set_in(data, segments, value)
    try:
        Scenario.model_validate(data)
    except ValidationError as exc:
        problems = [describe(e, data) for e in exc.errors(include_url=False)]
        own = {join_path(s) for s in concrete}
        return "; ".join(text if where in own else f"{where}: {text}" for where, text in problems)
    return None


def _values_to_check(spec: UncertaintySpec, integer: bool) -> list[tuple[str, float]]:
    """(name, value) of every value a sample can reach at its ends (all, for short int ranges)."""
    if spec.choices is not None:
        return [("choices", int(v) if integer else v) for v in spec.choices]
    assert spec.low is not None and spec.high is not None
    if integer:
        low, high = int(spec.low), int(spec.high)
        if high - low < _INTEGER_SPAN_CHECKED:
            return [
                ("low" if v == low else "high" if v == high else "value", v)
                for v in range(low, high + 1)
            ]
        return [("low", low), ("high", high)]
    return [("low", spec.low), ("high", spec.high)]


def check_uncertainties(uncertainties: Mapping[str, UncertaintySpec], scenario: Scenario) -> None:
    """Every key path names a numeric market parameter of ``scenario`` and every value a
    sample can reach is valid for it (raised as a validator's error naming the entry)."""
    if not uncertainties:
        return
    base = scenario.model_dump(mode="json")
    claimed: dict[str, str] = {}
    for key, spec in uncertainties.items():
        where = f"uncertainties.{key}"
        try:
            info = resolve_parameter(key)
            concrete = expand_path(base, split_path(key))
        except ValueError as exc:
            raise custom_error(where, str(exc)) from None
        if not concrete:
            raise custom_error(where, f"{key} names no parameter: the list it refers to is empty")
        for segments in concrete:
            path = join_path(segments)
            if path in claimed:
                raise custom_error(
                    where, f"{path} is varied twice (also by '{claimed[path]}'); keep one entry"
                )
            claimed[path] = key
        if info.integer:
            ends = (
                {"choices": spec.choices or ()}
                if spec.choices
                else {"low": (spec.low,), "high": (spec.high,)}
            )
            for name, values in ends.items():
                for v in values:
                    if v is not None and not float(v).is_integer():
                        raise custom_error(
                            where, f"got {name} = {v:g}, expected a whole number ({key} counts)"
                        )
        for name, value in _values_to_check(spec, info.integer):
            problem = value_problem_in(base, key, value)
            if problem and name == "value":
                raise custom_error(
                    where,
                    f"the range includes {show(value)}, which {key} cannot take ({problem}); "
                    "list the values it can take with choices = [...] instead",
                )
            if problem:
                raise custom_error(
                    where, f"{name} = {show(value)} is outside what {key} accepts: {problem}"
                )
