"""The page's controls, read from the schema: range, unit and description of each key.

Why from the schema: the model gains keys while it grows; a control built from the field's
metadata (bounds, :class:`~sim.config.units.Unit` marker, description) needs no page code
when a lever or an assumption is added. Every numeric key of :class:`Policy` is a lever;
the market assumptions are a chosen list of key paths (:data:`MARKET_PATHS`), and a path
the schema does not have (yet) is skipped rather than breaking the page.

>>> spec = lever_controls()[0]
>>> spec.path, spec.low, spec.high
('budget_per_year', 0.0, 1000000.0)
>>> market_control("network.weak_tie_share").unit
'share, 0-1'
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.config.introspect import base_type, bounds, is_sequence, item_model
from sim.config.keypaths import split_path
from sim.config.presets import PRESETS
from sim.config.schema import Policy, Scenario
from sim.config.units import unit_of

__all__ = [
    "MARKET_PATHS",
    "MIXES",
    "ControlSpec",
    "apply_levers",
    "lever_controls",
    "lever_values",
    "market_control",
    "market_controls",
    "market_values",
    "nice_ceiling",
]

MARKET_PATHS: tuple[str, ...] = (
    "market.n_customers",
    "market.initial_penetration",
    "market.word_of_mouth.referrals_per_year",
    "market.word_of_mouth.p_referral_conversion",
    "market.word_of_mouth.peers_deterred_per_episode",
    "market.churn.base_per_year",
    "market.churn.dissatisfaction_per_year",
    "market.churn.neglect_per_year",
    "market.churn.price_per_year",
    "market.churn.unresolved_complaint_per_year",
    "network.weak_tie_share",
    "network.mean_degree",
)
"""The main market assumptions shown as controls (both policies share them)."""

MIXES = ("acquisition_mix", "retention_mix")
"""Policy tables whose shares must sum to 1: the page rescales them before use."""

_OPEN_SPAN = 4.0  # an unbounded control reaches this many times its default value


def nice_ceiling(x: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is at least ``x`` (> 0).

    >>> nice_ceiling(160_000.0), nice_ceiling(0.3), nice_ceiling(4.0)
    (200000.0, 0.5, 5.0)
    """
    if x <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(x))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if m * power >= x * (1 - 1e-12):
            return float(m * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


@dataclass(frozen=True)
class ControlSpec:
    """One slider: the key it sets, its range and step, unit, description and default."""

    path: str
    label: str
    unit: str
    description: str
    low: float
    high: float
    step: float
    integer: bool
    default: float
    bounded_above: bool

    @property
    def slug(self) -> str:
        """A CSS-safe name for the control (``acquisition_mix.advertising`` ->
        ``acquisition_mix-advertising``)."""
        return self.path.replace(".", "-").replace("*", "all")

    def clamp(self, value: float) -> float:
        """``value`` inside the slider's range (and whole if the key counts)."""
        v = min(max(float(value), self.low), self.high)
        return float(round(v)) if self.integer else v


def _field(model: type[BaseModel], path: str) -> FieldInfo | None:
    """The field a dotted path names below ``model`` (list entries by index), or None."""
    field: FieldInfo | None = None
    current: type[BaseModel] | None = model
    for key in split_path(path):
        if isinstance(key, int):
            continue
        if current is None or key not in current.model_fields:
            return None
        field = current.model_fields[key]
        current = item_model(field.annotation)
    return field if current is None else None


def _spec(
    path: str, field: FieldInfo, default: float, reference: float = 0.0
) -> ControlSpec | None:
    """A slider for a numeric field, or None for text, choices and true/false keys.

    A key without an upper bound reaches ``_OPEN_SPAN`` times the larger of its value and
    ``reference`` (e.g. the largest value a preset uses), rounded up to a round number.
    """
    base = base_type(field.annotation)
    if base is bool or base not in (int, float):
        return None
    limits = bounds(field)
    low = float(limits.get("ge", limits.get("gt", 0.0 if default >= 0 else -abs(default))))
    upper = limits.get("le", limits.get("lt"))
    bounded = upper is not None
    scale = max(abs(default), abs(reference)) or 1.0
    high = float(upper) if upper is not None else nice_ceiling(_OPEN_SPAN * scale)
    integer = base is int
    span = high - low
    step = nice_ceiling(span / 400.0) if span > 0 else 1.0
    if not integer and 0 < span <= 1.0:
        step = 0.01  # shares move in whole percent
    if integer:
        step = max(1.0, float(round(step)))
    description = field.description or ""
    unit = unit_of(field)
    label = path.rsplit(".", 1)[-1].replace("_", " ")
    return ControlSpec(
        path, label, unit, description, low, high, step, integer, float(default), bounded
    )


def _numeric_paths(model: type[BaseModel], prefix: str = "") -> Iterable[tuple[str, FieldInfo]]:
    """(dotted path, field) of every key below ``model``, tables walked, lists skipped."""
    for name, field in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        sub = item_model(field.annotation)
        if sub is None:
            yield path, field
        elif not is_sequence(field):
            yield from _numeric_paths(sub, path)


def _get(data: Mapping[str, Any], path: str) -> Any:
    value: Any = data
    for key in split_path(path):
        value = value[key]
    return value


def lever_controls(policy: Policy | None = None) -> list[ControlSpec]:
    """A slider for every numeric key of the focal firm's policy (defaults from ``policy``).

    A key without a value (``budget_per_year`` empty = the firm's own budget) starts at the
    firm's budget of the default scenario, so the slider has a place to start.
    """
    policy = policy or Policy()
    data = policy.model_dump()
    out: list[ControlSpec] = []
    for path, field in _numeric_paths(Policy):
        value = _get(data, path)
        if value is None:
            value = _fallback(path)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        spec = _spec(path, field, float(value), _preset_max(path))
        if spec is not None:
            out.append(spec)
    return out


def _preset_max(path: str) -> float:
    """The largest magnitude any preset gives the lever (a scale for open-ended sliders)."""
    values = [_get(p.model_dump(), path) for p in PRESETS.values()]
    return max((abs(float(v)) for v in values if isinstance(v, int | float)), default=0.0)


def _fallback(path: str) -> float:
    """A starting value for an empty optional lever: the default firm's value of that key."""
    firm = Scenario.default().firm.model_dump()
    value = firm.get(path)
    return float(value) if isinstance(value, int | float) else 0.0


def market_control(path: str, scenario: Scenario | None = None) -> ControlSpec | None:
    """The slider for a scenario key path (its value in ``scenario``), or None if the schema
    has no such numeric key."""
    field = _field(Scenario, path)
    if field is None:
        return None
    data = (scenario or Scenario.default()).model_dump()
    try:
        value = _get(data, path)
    except (KeyError, IndexError, TypeError):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    default_value = _get(Scenario.default().model_dump(), path)
    reference = float(default_value) if isinstance(default_value, int | float) else 0.0
    spec = _spec(path, field, float(value), reference)
    if spec is None:
        return None
    if path == "market.n_customers":  # the live page is for markets a browser can follow
        spec = ControlSpec(
            spec.path, spec.label, spec.unit, spec.description, 100.0,
            max(100_000.0, float(value)), 100.0, True, spec.default, False,
        )  # fmt: skip
    return spec


def market_controls(
    scenario: Scenario | None = None, paths: Iterable[str] = MARKET_PATHS
) -> list[ControlSpec]:
    """Sliders for the market assumptions that the schema has (unknown paths skipped)."""
    return [s for p in paths if (s := market_control(p, scenario)) is not None]


def _normalised(shares: Mapping[str, float]) -> dict[str, float]:
    total = sum(max(0.0, float(v)) for v in shares.values())
    if total <= 0:
        n = len(shares)
        return {k: 1.0 / n for k in shares}
    return {k: max(0.0, float(v)) / total for k, v in shares.items()}


def apply_levers(policy: Policy, values: Mapping[str, float], name: str = "edited") -> Policy:
    """``policy`` with lever values set by dotted path; mixes rescaled to sum to 1.

    >>> p = apply_levers(Policy(), {"acquisition_mix.advertising": 1.0})
    >>> round(p.acquisition_mix.advertising, 3), p.name
    (0.667, 'edited')
    """
    data = policy.model_dump()
    for path, value in values.items():
        keys = [str(k) for k in split_path(path)]  # policy keys are names, never list indices
        target = data
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    for mix in MIXES:
        if isinstance(data.get(mix), dict):
            data[mix] = _normalised(data[mix])
    data["name"] = name
    return Policy.model_validate(data)


def lever_values(policy: Policy, specs: Iterable[ControlSpec]) -> dict[str, float]:
    """The current value of each lever in ``policy`` (empty optional keys at their fallback)."""
    data = policy.model_dump()
    out: dict[str, float] = {}
    for spec in specs:
        value = _get(data, spec.path)
        out[spec.path] = spec.default if value is None else float(value)
    return out


def market_values(scenario: Scenario, specs: Iterable[ControlSpec]) -> dict[str, float]:
    """The current value of each market assumption in ``scenario``."""
    data = scenario.model_dump()
    return {s.path: float(_get(data, s.path)) for s in specs}
