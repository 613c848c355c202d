"""Writing TOML (``tomllib`` only reads it), and reading a file's comment header.

Enough of TOML for scenario files: scalars, arrays, inline tables for mappings inside
arrays, ``[section]`` tables and ``[[array]]`` tables, in that order in each table.

>>> print(toml_text({"name": "x", "market": {"n_customers": 500}}, header="A study"), end="")
# A study
<BLANKLINE>
name = "x"
<BLANKLINE>
[market]
n_customers = 500
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["read_header", "toml_key", "toml_text", "toml_value"]

_BARE = re.compile(r"^[A-Za-z0-9_\-]+$")


def toml_key(key: str) -> str:
    """A key, quoted only where TOML needs it.

    >>> toml_key("market"), toml_key("market.n_customers")
    ('market', '"market.n_customers"')
    """
    return key if _BARE.match(key) else json.dumps(key, ensure_ascii=False)


def toml_value(value: Any) -> str:
    """A value as TOML text (floats keep a decimal point).

    >>> toml_value(2.0), toml_value([1, "a"]), toml_value(float("inf"))
    ('2.0', '[1, "a"]', 'inf')
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        text = repr(value)
        return text if any(c in text for c in ".eE") else text + ".0"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _is_table_array(value: Any) -> bool:
    return (
        isinstance(value, (list, tuple))
        and bool(value)
        and all(isinstance(v, Mapping) for v in value)
    )


def _emit(table: Mapping[str, Any], prefix: list[str], out: list[str]) -> None:
    scalars = [
        (k, v)
        for k, v in table.items()
        if v is not None and not isinstance(v, Mapping) and not _is_table_array(v)
    ]
    for k, v in scalars:
        out.append(f"{toml_key(k)} = {toml_value(v)}")
    for k, v in table.items():
        if isinstance(v, Mapping):
            name = ".".join(toml_key(p) for p in [*prefix, k])
            out.extend(["", f"[{name}]"])
            _emit(v, [*prefix, k], out)
    for k, v in table.items():
        if _is_table_array(v):
            name = ".".join(toml_key(p) for p in [*prefix, k])
            for item in v:
                out.extend(["", f"[[{name}]]"])
                _emit(item, [*prefix, k], out)


def toml_text(data: Mapping[str, Any], header: str = "") -> str:
    """``data`` as a TOML document (None values left out); ``header`` lines come first
    as comments."""
    out = [f"# {line}".rstrip() for line in header.splitlines()]
    if out:
        out.append("")
    _emit(data, [], out)
    return "\n".join(out).lstrip("\n") + "\n"


def read_header(path: str | Path) -> str:
    """The comment block at the top of a TOML file, without the ``#`` marks."""
    lines = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            lines.append(stripped.lstrip("#").strip())
        elif stripped or lines:
            break
    return "\n".join(lines).strip()
