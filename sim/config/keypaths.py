"""Dotted key paths (``market.churn.base_per_year``, ``competitors[0].price``): the one
implementation of reading ``--set`` options and of setting values by key path.

``Scenario.with_updates``, ``apply_overrides`` and the checks of ``[uncertainties]`` all
update plain data (a model dump) here and re-validate it themselves, so a path means the
same everywhere.

>>> split_path("policies[1].price_change")
['policies', 1, 'price_change']
>>> join_path(["competitors", 0, "price"])
'competitors[0].price'
>>> data = {"competitors": ({"price": 50.0}, {"price": 55.0})}
>>> set_in(data, ["competitors", 1, "price"], 42.0)
>>> data["competitors"][1]
{'price': 42.0}
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from sim.common.errors import ScenarioError
from sim.config.introspect import item_model

__all__ = [
    "KeyPathError",
    "UnknownKeyError",
    "expand_path",
    "join_path",
    "parse_set_option",
    "set_in",
    "set_path",
    "split_path",
]

_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_BARE_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")


class KeyPathError(ValueError):
    """A key path that does not fit the data: no such entry, or a value is not a table."""


class UnknownKeyError(KeyPathError):
    """A key the table at ``where`` does not have; ``valid`` lists the keys it has."""

    def __init__(self, key: str, valid: list[str], where: str) -> None:
        super().__init__(f"unknown key '{key}' in {where}")
        self.key, self.valid, self.where = key, valid, where


def split_path(path: str) -> list[str | int]:
    """``"policies[1].price_change"`` or ``"policies.1.price_change"`` -> segments."""
    out: list[str | int] = []
    for name, index in _SEGMENT.findall(path):
        if index:
            out.append(int(index))
        elif name.isdigit():
            out.append(int(name))
        else:
            out.append(name)
    return out


def join_path(segments: Iterable[str | int]) -> str:
    """Segments -> a dotted key path, list entries as ``[k]``."""
    out = ""
    for s in segments:
        if isinstance(s, int):
            out += f"[{s}]"
        else:
            out += f".{s}" if out else str(s)
    return out


def parse_set_option(option: str) -> tuple[str, Any]:
    """``"market.n_customers=5000"`` -> ``("market.n_customers", 5000)``.

    The value is read as a TOML value (``0.3``, ``true``, ``"text"``, ``[1, 2]``); a
    bare word that is not TOML is taken as text, so ``network.kind=erdos_renyi`` works.

    >>> parse_set_option("network.kind=erdos_renyi")
    ('network.kind', 'erdos_renyi')
    """
    key, sep, value = option.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ScenarioError(
            f"--set {option}: expected KEY.PATH=VALUE, e.g. market.n_customers=5000"
        )
    value = value.strip()
    try:
        parsed = tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        if not _BARE_WORD.fullmatch(value):
            raise ScenarioError(
                f"--set {option}: cannot read the value '{value}' (write text in quotes, "
                'e.g. name="my study")'
            ) from None
        parsed = value
    return key, parsed


def set_in(data: dict[str, Any], segments: list[str | int], value: Any) -> None:
    """Set ``value`` at a path of ``data`` whose parents all exist."""
    node: Any = data
    for key in segments[:-1]:
        node = node[key]
    node[segments[-1]] = value


def expand_path(data: Any, segments: list[str | int]) -> list[list[str | int]]:
    """Concrete paths of a path with ``*`` entries (``competitors.*.price``) in ``data``."""
    out: list[list[str | int]] = [[]]
    for key in segments:
        grown: list[list[str | int]] = []
        for done in out:
            node: Any = data
            for k in done:
                if isinstance(node, dict):
                    node = node.get(k, {})
                elif isinstance(node, (list, tuple)) and isinstance(k, int):
                    node = node[k]
                else:  # below a value: nothing there
                    node = {}
            here = join_path(done) or "the scenario"
            if key == "*":
                if not isinstance(node, (list, tuple)):
                    raise ValueError(
                        f"'*' stands for every entry of a list such as competitors, but {here} "
                        "is not a list"
                    )
                grown += [[*done, k] for k in range(len(node))]
            elif isinstance(key, int) and isinstance(node, (list, tuple)) and key >= len(node):
                raise ValueError(
                    f"{here} has {len(node)} entries"
                    + (f" (0 to {len(node) - 1})" if node else "")
                    + f", no entry {key}"
                )
            else:
                grown.append([*done, key])
        out = grown
    return out


def set_path(
    data: dict[str, Any], segments: list[str | int], value: Any, model: type[BaseModel] | None
) -> None:
    """Set ``value`` at ``segments`` in ``data``, a dump of ``model``, checking each key
    against the schema (a table left out of the dump is created).

    Raises :class:`UnknownKeyError` for a key the schema does not have and
    :class:`KeyPathError` for a missing list entry or a key below a value.
    """
    if not segments:
        raise KeyPathError("empty key path")
    node: Any = data
    for depth, key in enumerate(segments):
        here = join_path(segments[:depth]) or "the scenario"
        last = depth == len(segments) - 1
        if isinstance(node, (list, tuple)):
            if not isinstance(key, int) or key >= len(node):
                raise KeyPathError(
                    f"{here} has {len(node)} entries (0 to {len(node) - 1}), no entry '{key}'"
                )
            if last:
                node = list(node)
                node[key] = value
                set_in(data, segments[:depth], node)
            else:
                node = node[key]
            continue
        if not isinstance(node, dict):
            raise KeyPathError(f"{here} is a value, not a table")
        valid = list(model.model_fields) if model else list(node)
        if isinstance(key, int) or key not in valid:
            raise UnknownKeyError(str(key), valid, here)
        field = model.model_fields[key] if model else None
        model = item_model(field.annotation) if field else None
        if last:
            node[key] = value
        else:
            node = node.setdefault(key, {})
