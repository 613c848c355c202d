"""Reading scenario TOML, and the friendly messages for everything wrong in it.

A message names the file, the line (found with :class:`LineIndex`), the dotted key path,
the bad value and what was expected, with a "did you mean" for misspelt keys and names.
:func:`describe` turns one pydantic error into such a message; :func:`scenario_error`
collects them into one :class:`ScenarioError`.

>>> show("week"), show(0.25), show([1, 2])
('"week"', '0.25', '[1, 2]')
>>> range_text({"ge": 0.0, "le": 1.0}, integer=False)
'a number from 0 to 1 (a probability or share)'
"""

from __future__ import annotations

import difflib
import json
import math
import re
import tomllib
from collections.abc import Mapping
from typing import Any

from pydantic_core import PydanticCustomError

from sim.common.errors import ScenarioError
from sim.config.file_schema import ScenarioFileSchema
from sim.config.introspect import bounds, field_at, item_model, key_paths
from sim.config.keypaths import join_path
from sim.config.schema import ScenarioSections

__all__ = [
    "MAX_DEPTH",
    "MAX_KEY_LENGTH",
    "MAX_PROBLEMS",
    "MAX_SCENARIO_BYTES",
    "LineIndex",
    "check_document",
    "custom_error",
    "decode_scenario",
    "describe",
    "is_noise",
    "kind_of",
    "range_text",
    "read_toml",
    "scenario_error",
    "short_key",
    "show",
    "strip_value_error",
    "unknown_key",
]

_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")


MAX_SCENARIO_BYTES = 10 * 1024 * 1024
"""Largest scenario file read (10 MB): a real one is a few KB; a larger one is a mistake
(or an attack) whose reading and messages would take minutes and gigabytes."""

MAX_DEPTH = 64
"""Deepest nesting of tables and arrays in a scenario (a real one nests 4 deep)."""

MAX_KEY_LENGTH = 200
"""Longest key in a scenario file (the longest real key has 40 characters)."""

MAX_PROBLEMS = 20
"""Problems described one by one in a message; the rest are counted."""

_BOM = "\ufeff"


def decode_scenario(data: bytes, source: str) -> str:
    """The text of a scenario file's bytes: at most :data:`MAX_SCENARIO_BYTES`, UTF-8,
    a leading byte-order mark (as Windows editors write it) dropped.

    >>> decode_scenario(b"\\xef\\xbb\\xbfname = 'x'\\n", "s.toml")
    "name = 'x'\\n"
    """
    if len(data) > MAX_SCENARIO_BYTES:
        raise ScenarioError(_too_large(source, len(data)))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ScenarioError(
            f"{source}:{line}: not a text file in UTF-8 ({exc.reason} at byte {exc.start})"
        ) from None
    return text.removeprefix(_BOM)


def _too_large(source: str, size: int) -> str:
    return (
        f"{source}: the file is {size:,} bytes, expected at most {MAX_SCENARIO_BYTES:,} "
        "(10 MB) for a scenario file (a real one is a few KB); is it the right file?"
    )


def read_toml(text: str, source: str) -> dict[str, Any]:
    """The tables of a TOML text; a syntax error names ``source`` and the line.

    The text is at most :data:`MAX_SCENARIO_BYTES`, a leading byte-order mark is dropped,
    and nesting deeper than :data:`MAX_DEPTH` or a key longer than :data:`MAX_KEY_LENGTH`
    characters is an error naming the file (no input gives a traceback).
    """
    if len(text) > MAX_SCENARIO_BYTES:
        raise ScenarioError(_too_large(source, len(text.encode("utf-8", "surrogatepass"))))
    text = text.removeprefix(_BOM)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        where = _TOML_POS.search(msg)
        line = f":{where.group(1)}" if where else ""
        raise ScenarioError(
            f"{source}{line}: TOML syntax error: {msg}", [f"TOML syntax error: {msg}"]
        ) from None
    except RecursionError:  # arrays or inline tables nested thousands deep
        raise ScenarioError(_too_deep(source, "thousands of levels")) from None
    check_document(raw, source)
    return raw


def _too_deep(source: str, depth: str) -> str:
    return (
        f"{source}: tables and arrays are nested {depth} deep, expected at most {MAX_DEPTH} "
        "levels (a scenario nests 4 deep: [competitors.policy.retention_mix])"
    )


def check_document(raw: Mapping[str, Any], source: str) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH` and keys longer than
    :data:`MAX_KEY_LENGTH` (walked without recursion, so any depth is safe).

    >>> check_document({"a": [[[1]]]}, "s.toml")
    >>> check_document({"k" * 300: 1}, "s.toml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sim.common.errors.ScenarioError: s.toml: key 'kkkkkkkkkkkk...kkkkkkkkkkkk' (300 characters) ...
    """
    stack: list[tuple[Any, int, str]] = [(raw, 1, "")]
    while stack:
        node, depth, path = stack.pop()
        if depth > MAX_DEPTH:
            raise ScenarioError(_too_deep(source, f"more than {MAX_DEPTH}") + f" (at {path})")
        if isinstance(node, Mapping):
            for key, value in node.items():
                key = str(key)
                if len(key) > MAX_KEY_LENGTH:
                    where = f" in [{short_key(path)}]" if path else ""
                    raise ScenarioError(
                        f"{source}: key '{short_key(key)}' ({len(key):,} characters){where} is "
                        f"longer than {MAX_KEY_LENGTH} characters; no scenario key is that long"
                    )
                if isinstance(value, (Mapping, list, tuple)):
                    stack.append((value, depth + 1, f"{path}.{key}" if path else key))
        elif isinstance(node, (list, tuple)):
            for k, value in enumerate(node):
                if isinstance(value, (Mapping, list, tuple)):
                    stack.append((value, depth + 1, f"{short_key(path)}[{k}]"))


def short_key(key: str, limit: int = 30) -> str:
    """A key shortened for a message: its start and end around an ellipsis.

    >>> short_key("a" * 10), short_key("b" * 100, 10)
    ('aaaaaaaaaa', 'bbb...bbb')
    """
    if len(key) <= limit:
        return key
    half = (limit - 3) // 2
    return key[:half] + "..." + key[-half:]


def custom_error(path: str, message: str) -> PydanticCustomError:
    """An error raised inside a validator whose message and key path are final."""
    return PydanticCustomError("scenario", "{message}", {"message": message, "path": path})


def scenario_error(
    source: str, problems: list[tuple[str, str]], lines: LineIndex | None
) -> ScenarioError:
    """One error listing every (key path, problem), each with its line where known."""
    out = []
    for path, problem in problems[:MAX_PROBLEMS]:
        line = lines.find(path) if lines else None
        where = f"{source}:{line}" if line else source
        out.append(f"{where}: {path or '(scenario)'}: {problem}")
    n = len(problems)
    head = f"invalid scenario {source}: {n} problem{'s' if n != 1 else ''}"
    tail = [f"  ... and {n - MAX_PROBLEMS} more"] if n > MAX_PROBLEMS else []
    return ScenarioError("\n".join([head, *(f"  {o}" for o in out), *tail]), out)


def strip_value_error(msg: str) -> str:
    """A validator's message without pydantic's "Value error, " prefix."""
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            return msg[len(prefix) :]
    return msg


def _num(x: float) -> str:
    if float(x).is_integer() and abs(x) < 1e15:
        return f"{int(x):,}" if abs(x) >= 10_000 else f"{int(x)}"
    return f"{x:,g}" if abs(x) >= 10_000 else f"{x:g}"


def range_text(b: Mapping[str, float], integer: bool) -> str:
    """What a value in the range ``b`` (``ge``/``gt``/``le``/``lt``) is, in words."""
    kind = "a whole number" if integer else "a number"
    lo = ("ge", b["ge"]) if "ge" in b else ("gt", b["gt"]) if "gt" in b else None
    hi = ("le", b["le"]) if "le" in b else ("lt", b["lt"]) if "lt" in b else None
    if lo and hi and lo[0] == "ge" and hi[0] == "le":
        text = f"{kind} from {_num(lo[1])} to {_num(hi[1])}"
        if (lo[1], hi[1]) == (0.0, 1.0) and not integer:
            text += " (a probability or share)"
        return text
    parts = []
    if lo:
        parts.append(("at least " if lo[0] == "ge" else "greater than ") + _num(lo[1]))
    if hi:
        parts.append(("at most " if hi[0] == "le" else "less than ") + _num(hi[1]))
    if lo == ("ge", 0.0) and not hi:
        return f"{kind} >= 0 (not negative)"
    return f"{kind} " + " and ".join(parts)


def show(value: Any, limit: int = 60) -> str:
    """A value as it would be written in TOML, shortened."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, float) and not math.isfinite(value):
        text = "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    elif isinstance(value, (int, float)):
        text = repr(value)
    elif isinstance(value, Mapping):
        text = "{ " + ", ".join(f"{k} = {show(v, limit)}" for k, v in value.items()) + " }"
        if not value:
            text = "{}"
    elif isinstance(value, (list, tuple)):
        text = "[" + ", ".join(show(v, limit) for v in value) + "]"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def kind_of(value: Any) -> str:
    """The TOML kind of a value, in words ("a whole number", "text", "a table")."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, (list, tuple)):
        return "an array"
    return type(value).__name__


def unknown_key(key: str, valid: list[str], where: str) -> str:
    """The message for a key ``where`` does not have: a key of another section, a
    top-level key written below a header, or a close spelling."""
    guess = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    if not guess:  # typos in the middle of long names: compare case-insensitively, looser
        lowered = {v.lower(): v for v in valid}
        hit = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.5)
        guess = [lowered[hit[0]]] if hit else []
    text = f"unknown key '{key}' in {where}"
    elsewhere = _key_elsewhere(key) if key not in valid else None
    if elsewhere and not re.search(r"[.\[]", elsewhere):
        text += (
            f"; '{key}' is a top-level key: in TOML every key written after a [section] "
            "header belongs to that section, so move it above the first [section]"
        )
    elif elsewhere:
        section = elsewhere.rsplit(".", 1)[0]
        text += f"; did you mean '{elsewhere}'? ('{key}' is a key of [{section}])"
    elif guess:
        text += f"; did you mean '{guess[0]}'?"
    if not text.endswith(("?", ".")):
        text += "."
    listing = ", ".join(valid)
    text += (
        f" Valid keys there: {listing}."
        if len(valid) <= 12
        else (" See docs/scenario-reference.md for the valid keys.")
    )
    return text


def _key_elsewhere(key: str) -> str | None:
    """The dotted path of a key of that name in another section, if exactly one exists."""
    paths = sorted({p for k, p in key_paths(ScenarioFileSchema) if k == key})
    if len(paths) > 1:  # e.g. replications: the market's [simulation] before [experiment]
        paths = [p for p in paths if re.split(r"[.\[]", p)[0] in ScenarioSections.model_fields]
    return paths[0] if len(paths) == 1 else None


def _section_name(loc: tuple[Any, ...]) -> str:
    return f"[{join_path(loc)}]" if loc else "the top level"


def is_noise(err: Mapping[str, Any], raw: Mapping[str, Any]) -> bool:
    """A missing policy name next to a misspelt preset: the preset error says it all."""
    loc = tuple(err["loc"])
    return (
        err["type"] == "missing"
        and loc[-1:] == ("name",)
        and "policies" in loc
        and _preset_of(raw, loc) is not None
    )


def describe(err: Mapping[str, Any], raw: Mapping[str, Any]) -> tuple[str, str]:
    """(dotted key path, problem text) for one pydantic error of a scenario file."""
    loc = tuple(err["loc"])
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    path = join_path(loc)
    if kind == "scenario":
        return ctx.get("path", path), ctx.get("message", err["msg"])
    parent_model, field = field_at(ScenarioFileSchema, loc)
    got = f"got {show(value)}"
    if kind == "extra_forbidden":
        valid = list(parent_model.model_fields) if parent_model else []
        return path, unknown_key(str(loc[-1]), valid, _section_name(loc[:-1]))
    if kind == "missing":
        if loc and loc[-1] == "name" and "policies" in loc:
            return path, "missing: every policy needs a name (or a preset to start from)"
        return path, "missing: this key is required"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        integer = isinstance(value, int) and not isinstance(value, float)
        return path, f"{got}, expected {range_text(bounds(field, ctx), integer)}"
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        options = re.findall(r"'([^']*)'", expected)
        text = f"{got}, expected one of {expected}"
        guess = difflib.get_close_matches(str(value), options, n=1, cutoff=0.5)
        if guess and isinstance(value, str):
            text += f"; did you mean '{guess[0]}'?"
        return path, text
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return path, f"{got} ({kind_of(value)}), expected a whole number"
    if kind == "finite_number":
        return path, (
            f"{got}, expected a finite number (nan, inf and -inf are valid TOML but no value "
            "of a market)"
        )
    if kind in ("float_type", "float_parsing"):
        return path, f"{got} ({kind_of(value)}), expected a number"
    if kind in ("bool_type", "bool_parsing"):
        return path, f"{got} ({kind_of(value)}), expected true or false"
    if kind in ("string_type",):
        return path, f"{got} ({kind_of(value)}), expected text in quotes"
    if kind == "string_too_short":
        return path, f"{got}, expected a non-empty text"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return path, f"{got} ({kind_of(value)}), expected a table ([{path}] section)"
    if kind in ("tuple_type", "list_type", "too_short", "too_long"):
        if field is not None and item_model(field.annotation) is not None:
            expected = f"an array of tables ([[{loc[-1]}]] entries)"
        else:
            expected = 'an array, e.g. ["png", "svg"]'
        if kind == "too_short":
            expected = "a non-empty array"
        return path, f"{got} ({kind_of(value)}), expected {expected}"
    if kind in ("value_error", "assertion_error"):
        text = strip_value_error(err["msg"])
        path = join_path([*loc, key]) if (key := _key_named_in(text, loc)) else path
        if "policies" in loc and isinstance(raw, Mapping):
            preset = _preset_of(raw, loc)
            if preset and "shares must sum" in text:
                text += f" (keys not written in the file come from preset '{preset}')"
        return path, text
    return path, f"{got}: {err['msg']}"


def _key_named_in(text: str, loc: tuple[Any, ...]) -> str | None:
    """The one key of the table at ``loc`` a table-level message is about, if clear."""
    field = field_at(ScenarioFileSchema, loc)[1]
    model = item_model(field.annotation) if field is not None else None
    if model is None:
        return None
    keys = list(model.model_fields)
    for pattern in (r"'{}'", r"\b{}\b"):
        hits = [k for k in keys if re.search(pattern.format(re.escape(k)), text)]
        if len(hits) == 1:
            return hits[0]
        if hits:
            return None
    return None


def _preset_of(raw: Mapping[str, Any], loc: tuple[Any, ...]) -> str | None:
    try:
        entry = raw["policies"][loc[loc.index("policies") + 1]]
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    preset = entry.get("preset") if isinstance(entry, Mapping) else None
    return preset if isinstance(preset, str) else None


class LineIndex:
    """Best-effort map from dotted key paths to line numbers of a TOML text.

    >>> LineIndex("[market]\\nn_customers = 5\\n").find("market.n_customers")
    2
    """

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"'. ]+?)\s*=")

    def __init__(self, text: str) -> None:
        self.lines: dict[str, int] = {}
        current: list[str | int] = []
        counts: dict[str, int] = {}
        in_multiline = False
        for number, line in enumerate(text.splitlines(), start=1):
            if in_multiline:
                if line.count('"""') % 2 or line.count("'''") % 2:
                    in_multiline = False
                continue
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            header = self._HEADER.match(line)
            if header:
                names = self._keys(header.group(2))
                if header.group(1) == "[[":
                    segments = [*self._resolve(names[:-1], counts), names[-1]]
                    table = join_path(segments)
                    self.lines.setdefault(table, number)
                    counts[table] = counts.get(table, -1) + 1
                    segments = [*segments, counts[table]]
                else:
                    segments = self._resolve(names, counts)
                current = segments
                self.lines.setdefault(join_path(current), number)
                continue
            key = self._KEY.match(line)
            if key:
                path = join_path([*current, *self._keys(key.group(1))])
                self.lines.setdefault(path, number)
                rest = line[key.end() :]
                if rest.count('"""') % 2 or rest.count("'''") % 2:
                    in_multiline = True

    @staticmethod
    def _keys(text: str) -> list[str | int]:
        return [k.strip().strip("\"'") for k in text.split(".")]

    @staticmethod
    def _resolve(names: list[str | int], counts: dict[str, int]) -> list[str | int]:
        """Sub-tables of an array-of-tables entry ([policies.mix] after [[policies]])."""
        out: list[str | int] = []
        for name in names:
            out.append(name)
            table = join_path(out)
            if table in counts:
                out.append(counts[table])
        return out

    def find(self, path: str) -> int | None:
        """Line of ``path`` or of its nearest written parent (None if none is written)."""
        while path:
            if path in self.lines:
                return self.lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return None
