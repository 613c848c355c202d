"""Scenario files: TOML -> a validated :class:`ScenarioFile`, with friendly errors.

This is the only code that reads scenario files. A file holds the engine's
:class:`~sim.config.schema.Scenario` sections (``[simulation]``, ``[market]``, ``[network]``,
``[firm]``, ``[[competitors]]``, ``[employees]``, ``[suppliers]``), the focal firm's
``[[policies]]`` (each built on a preset from :data:`sim.config.presets.PRESETS` or from
scratch) and ``[outputs]``. Every key has a default; unknown keys, wrong types and
out-of-range values are errors that name the file, the line, the dotted key path, the
value and what was expected, with a "did you mean" for misspelt keys
(:class:`ScenarioError`, a ``ValueError``).

>>> sf = parse_scenario('[[policies]]\\npreset = "retention_heavy"\\n')
>>> sf.policies[0].name, sf.policies[0].acquisition_share
('retention_heavy', 0.2)
"""

from __future__ import annotations

import copy
import difflib
import json
import math
import re
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NamedTuple, Self, Union

import annotated_types
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from sim.common.errors import GraphFileError, ScenarioError
from sim.config.experiment_spec import SPEC_KEYS, ExperimentSpec, UncertaintySpec
from sim.config.graph_files import FILE_GRAPH_KINDS, read_graph_file
from sim.config.presets import PRESETS
from sim.config.schema import Policy, Scenario

if TYPE_CHECKING:
    from sim.config.schema import (
        CompetitorSpec,
        EmployeeSpec,
        FirmSpec,
        MarketSpec,
        NetworkSpec,
        SimulationSpec,
        SupplierSpec,
    )

__all__ = [
    "MAX_FIRMS",
    "UNCERTAIN_SECTIONS",
    "ExperimentSpec",
    "OutputsSpec",
    "ParameterInfo",
    "PolicyEntry",
    "ScenarioError",
    "ScenarioFile",
    "apply_overrides",
    "dump_toml",
    "load_scenario",
    "parse_scenario",
    "parse_set_option",
    "read_header",
    "resolve_parameter",
    "value_problem",
]

MAX_FIRMS = 127
"""The engine stores a customer's firm in an int8, so at most 127 firms (focal included)."""

class _Block(BaseModel):
    """Immutable, validated, no unknown keys (the engine's convention)."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep_merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


PresetName = Literal[tuple(PRESETS)]  # type: ignore[valid-type]


class PolicyEntry(Policy):
    """One ``[[policies]]`` entry: a named policy for the focal firm.

    With ``preset`` the entry starts from that preset of :data:`sim.config.presets.PRESETS`
    and the keys written in the file override it (tables such as ``acquisition_mix``
    merge key by key); without it, every key not written takes the schema default.
    """

    preset: PresetName | None = Field(  # type: ignore[valid-type]
        None,
        description=(
            "Preset to start from: " + ", ".join(f"'{p}'" for p in PRESETS) + "; keys written "
            "next to it override the preset's values (tables merge key by key)."
        ),
    )
    name: str = Field(
        ...,
        min_length=1,
        description="Name shown in results (required unless a preset gives it).",
    )

    @model_validator(mode="before")
    @classmethod
    def _start_from_preset(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and isinstance(data.get("preset"), str):
            preset = PRESETS.get(data["preset"])
            if preset is not None:
                return _deep_merge(preset.model_dump(), data)
        return data

    def to_policy(self) -> Policy:
        """The engine's Policy (the preset reference dropped)."""
        return Policy.model_validate(self.model_dump(exclude={"preset"}))


class OutputsSpec(_Block):
    """What a run writes besides the tables (which are always written)."""

    plots: bool = Field(True, description="Draw the figures into plots/ and the report.")
    report: bool = Field(True, description="Write report.html (self-contained, images embedded).")
    formats: tuple[Literal["png", "svg"], ...] = Field(
        ("png", "svg"), min_length=1, description="Image formats written to plots/."
    )
    dpi: int = Field(110, ge=50, le=600, description="Resolution of PNG figures (dots per inch).")
    band: float = Field(
        0.9,
        gt=0.0,
        lt=1.0,
        description="Share of replications inside the bands of the time plots (0.9 = 5%-95%).",
    )
    network_sample: int = Field(
        300,
        ge=0,
        le=5000,
        description=(
            "Customers in the network snapshot (a snowball sample of the social graph, "
            "first replication of each policy); 0 = no snapshot."
        ),
    )


def _scenario_fields() -> dict[str, Any]:
    """The engine Scenario's fields, copied so the file format follows the engine."""
    return {name: (f.annotation, copy.copy(f)) for name, f in Scenario.model_fields.items()}


_ScenarioFields: type[_Block] = create_model(  # type: ignore[call-overload]
    "_ScenarioFields", __base__=_Block, **_scenario_fields()
)


def _custom(path: str, message: str) -> PydanticCustomError:
    return PydanticCustomError("scenario", "{message}", {"message": message, "path": path})


class ScenarioFile(_ScenarioFields):  # type: ignore[misc, valid-type]
    """A scenario file, validated: the engine's Scenario sections, policies and outputs."""

    if TYPE_CHECKING:
        name: str
        simulation: SimulationSpec
        market: MarketSpec
        network: NetworkSpec
        firm: FirmSpec
        competitors: tuple[CompetitorSpec, ...]
        employees: EmployeeSpec
        suppliers: SupplierSpec

    policies: tuple[PolicyEntry, ...] = Field(
        (PolicyEntry.model_validate({"preset": "balanced"}),),
        description=(
            "The focal firm's policies to compare ([[policies]] entries; the first is the "
            "baseline every other policy is compared with). Default: the 'balanced' preset."
        ),
    )
    outputs: OutputsSpec = Field(default_factory=lambda: OutputsSpec.model_validate({}))
    uncertainties: dict[str, UncertaintySpec] = Field(
        default_factory=dict,
        description=(
            "Market parameters nobody knows well, by dotted key path, each with a range, a "
            "distribution or a list of choices; every policy runs on markets sampled from "
            "them (see [experiment])."
        ),
    )
    experiment: ExperimentSpec = Field(default_factory=lambda: ExperimentSpec.model_validate({}))

    @field_validator("uncertainties", mode="before")
    @classmethod
    def _flatten_uncertainties(cls, value: Any) -> Any:
        """Nested tables (unquoted dotted keys) become dotted key paths."""
        return _flatten_uncertainties(value) if isinstance(value, Mapping) else value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not self.policies:
            raise _custom("policies", "expected at least one [[policies]] entry, got none")
        seen: dict[str, int] = {}
        for k, p in enumerate(self.policies):
            if p.name in seen:
                raise _custom(
                    f"policies[{k}].name",
                    f"got {_show(p.name)}, expected a name not used before "
                    f"(policies[{seen[p.name]}] is also called {_show(p.name)})",
                )
            seen[p.name] = k
        firms = [("firm.name", self.firm.name)]
        firms += [(f"competitors[{k}].name", c.name) for k, c in enumerate(self.competitors)]
        names: dict[str, str] = {}
        for path, name in firms:
            if name in names:
                raise _custom(
                    path,
                    f"got {_show(name)}, expected a firm name not used before ({names[name]} is "
                    f"also {_show(name)}; every firm needs its own name)",
                )
            names[name] = path
        n_firms = len(firms)
        if n_firms > MAX_FIRMS:
            raise _custom(
                "competitors",
                f"got {len(self.competitors)} competitors, expected at most {MAX_FIRMS - 1} "
                f"(the engine supports {MAX_FIRMS} firms, focal firm included)",
            )
        n = self.market.n_customers
        if n_firms > n:
            raise _custom(
                "competitors",
                f"got {len(self.competitors)} competitors, but a market of "
                f"market.n_customers = {n} people cannot hold {n_firms} firms; expected at "
                f"most {n - 1} competitors (or a larger market)",
            )
        shares = [("firm.initial_share", self.firm.initial_share)]
        shares += [
            (f"competitors[{k}].initial_share", c.initial_share)
            for k, c in enumerate(self.competitors)
        ]
        total = sum(s for _, s in shares)
        if total > 1.0 + 1e-9:
            parts = ", ".join(f"{p} = {s:g}" for p, s in shares)
            raise _custom(
                "firm.initial_share",
                f"initial shares of all firms sum to {total:g}, expected at most 1 ({parts})",
            )
        try:
            self.to_scenario()
        except ValidationError as exc:  # the engine's own cross-checks, whatever they are
            msg = "; ".join(_strip_value_error(e["msg"]) for e in exc.errors())
            raise _custom("", msg) from None
        _check_uncertainties(self)
        return self

    def to_scenario(self) -> Scenario:
        """The engine's Scenario (policies and outputs are the experiment's business)."""
        data = {k: getattr(self, k) for k in Scenario.model_fields}
        return Scenario.model_validate(data)

    def engine_policies(self) -> tuple[Policy, ...]:
        """The policies as the engine's Policy objects, in file order."""
        return tuple(p.to_policy() for p in self.policies)


# --------------------------------------------------------------------------- loading


def _tuplify(value: Any) -> Any:
    """Arrays become tuples (strict validation wants tuples for tuple fields)."""
    if isinstance(value, dict):
        return {k: _tuplify(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return tuple(_tuplify(v) for v in value)
    return value


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> ScenarioFile:
    """Read, validate and resolve a scenario file; apply ``--set`` style overrides.

    Raises :class:`ScenarioError` (a ValueError) with a friendly message on any problem.
    """
    path = Path(path)
    if not path.exists():
        raise ScenarioError(f"{path}: scenario file not found")
    if not path.is_file():
        raise ScenarioError(f"{path}: not a file (expected a scenario .toml file)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not a text file in UTF-8 ({exc.reason})") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read the file ({exc.strerror})") from None
    sf = parse_scenario(text, source=str(path), base_dir=path.parent)
    if overrides:
        sf = apply_overrides(sf, overrides)
    return sf


_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")


def parse_scenario(
    text: str, source: str = "<scenario>", base_dir: str | Path | None = None
) -> ScenarioFile:
    """Validate the text of a scenario file (``source`` names it in messages).

    A relative ``network.path`` is resolved against ``base_dir`` (the file's folder).
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        where = _TOML_POS.search(msg)
        line = f":{where.group(1)}" if where else ""
        raise ScenarioError(
            f"{source}{line}: TOML syntax error: {msg}", [f"TOML syntax error: {msg}"]
        ) from None
    sf = _validate(raw, source, _LineIndex(text))
    return _check_files(sf, source, _LineIndex(text), Path(base_dir or "."))


def _validate(raw: Mapping[str, Any], source: str, lines: _LineIndex | None) -> ScenarioFile:
    try:
        return ScenarioFile.model_validate(_tuplify(dict(raw)), strict=True)
    except ValidationError as exc:
        errors = [e for e in exc.errors(include_url=False) if not _is_noise(e, raw)]
        problems = [_describe(e, raw) for e in errors]
        raise _error(source, problems, lines) from None


def _is_noise(err: Mapping[str, Any], raw: Mapping[str, Any]) -> bool:
    """A missing policy name next to a misspelt preset: the preset error says it all."""
    loc = tuple(err["loc"])
    return (
        err["type"] == "missing"
        and loc[-1:] == ("name",)
        and "policies" in loc
        and _preset_of(raw, loc) is not None
    )


def _error(source: str, problems: list[tuple[str, str]], lines: _LineIndex | None) -> ScenarioError:
    out = []
    for path, problem in problems:
        line = lines.find(path) if lines else None
        where = f"{source}:{line}" if line else source
        out.append(f"{where}: {path or '(scenario)'}: {problem}")
    n = len(out)
    head = f"invalid scenario {source}: {n} problem{'s' if n != 1 else ''}"
    return ScenarioError("\n".join([head, *(f"  {o}" for o in out)]), out)


def _check_files(
    sf: ScenarioFile, source: str, lines: _LineIndex | None, base: Path
) -> ScenarioFile:
    """What pydantic cannot see: the graph file exists, is readable and fits the market."""
    net = sf.network
    if net.kind not in FILE_GRAPH_KINDS or not net.path:
        return sf
    given = Path(net.path).expanduser()
    full = given if given.is_absolute() else (base / given)
    full = full.resolve()
    if not full.is_file():
        problem = f"got '{net.path}', expected an existing graph file (looked for {full})"
        raise _error(source, [("network.path", problem)], lines)
    try:
        n_nodes = read_graph_file(net.kind, full).number_of_nodes()
    except (GraphFileError, ValueError, OSError) as exc:
        problem = f"got '{net.path}', expected a readable {net.kind} graph file ({exc})"
        raise _error(source, [("network.path", problem)], lines) from None
    if n_nodes != sf.market.n_customers:
        problem = (
            f"got {sf.market.n_customers}, expected {n_nodes}: the graph file '{net.path}' has "
            f"{n_nodes} nodes and every node is a person in the market"
        )
        raise _error(source, [("market.n_customers", problem)], lines)
    return sf.model_copy(update={"network": net.model_copy(update={"path": str(full)})})


# --------------------------------------------------------------------------- overrides


def parse_set_option(option: str) -> tuple[str, Any]:
    """``"market.n_customers=5000"`` -> ``("market.n_customers", 5000)``.

    The value is read as a TOML value (``0.3``, ``true``, ``"text"``, ``[1, 2]``); a
    bare word that is not TOML is taken as text, so ``network.kind=erdos_renyi`` works.
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
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\-]*", value):
            raise ScenarioError(
                f"--set {option}: cannot read the value '{value}' (write text in quotes, "
                'e.g. name="my study")'
            ) from None
        parsed = value
    return key, parsed


_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _split_path(path: str) -> list[str | int]:
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


def _join_path(segments: Iterable[str | int]) -> str:
    out = ""
    for s in segments:
        if isinstance(s, int):
            out += f"[{s}]"
        else:
            out += f".{s}" if out else str(s)
    return out


def apply_overrides(sf: ScenarioFile, overrides: Mapping[str, Any]) -> ScenarioFile:
    """A copy of ``sf`` with dotted-path values replaced (``--set``), re-validated.

    Paths address list items by index: ``policies.1.price_change`` or
    ``policies[1].price_change``. Unknown keys are errors with a "did you mean".
    """
    data = sf.model_dump(mode="python", exclude_none=True)
    sources = []
    items: list[tuple[str, list[str | int], Any]] = []
    for path, value in overrides.items():
        source = f"--set {path}={_show(value)}"
        sources.append(source)
        segments = _split_path(path)
        if not segments:
            raise ScenarioError(f"{source}: empty key path")
        try:  # "competitors.*.price": every entry of the list
            expanded = _expand_path(data, segments) if "*" in segments else [segments]
        except ValueError as exc:
            raise ScenarioError(f"{source}: {exc}") from None
        items += [(source, concrete, value) for concrete in expanded]
    for source, segments, value in items:
        node: Any = data
        model: type[BaseModel] | None = ScenarioFile
        for depth, key in enumerate(segments):
            here = _join_path(segments[:depth]) or "the scenario"
            last = depth == len(segments) - 1
            if isinstance(node, (list, tuple)):
                if not isinstance(key, int) or key >= len(node):
                    raise ScenarioError(
                        f"{source}: {here} has {len(node)} entries (0 to {len(node) - 1}), "
                        f"no entry '{key}'"
                    )
                if last:
                    node = list(node)
                    node[key] = value
                    _set_in(data, segments[:depth], node)
                else:
                    node = node[key]
                continue
            if not isinstance(node, dict):
                raise ScenarioError(f"{source}: {here} is a value, not a table")
            valid = list(model.model_fields) if model else list(node)
            if isinstance(key, int) or key not in valid:
                raise ScenarioError(f"{source}: {_unknown_key(str(key), valid, here)}")
            field = model.model_fields[key] if model else None
            model = _item_model(field.annotation) if field else None
            if last:
                node[key] = value
            else:
                node = node.setdefault(key, {})
    try:
        new = ScenarioFile.model_validate(_tuplify(data), strict=True)
    except ValidationError as exc:
        problems = [_describe(e, data) for e in exc.errors(include_url=False)]
        raise _error(" ".join(sources), problems, None) from None
    return _check_files(new, " ".join(sources), None, Path("."))


def _set_in(data: dict[str, Any], segments: list[str | int], value: Any) -> None:
    node: Any = data
    for key in segments[:-1]:
        node = node[key]
    node[segments[-1]] = value


def _expand_path(data: Any, segments: list[str | int]) -> list[list[str | int]]:
    """Concrete paths of a path with ``*`` entries (``competitors.*.price``) in ``data``."""
    out: list[list[str | int]] = [[]]
    for key in segments:
        grown: list[list[str | int]] = []
        for done in out:
            node: Any = data
            for k in done:
                node = node[k] if isinstance(node, (list, tuple)) else node.get(k, {})
            here = _join_path(done) or "the scenario"
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


# --------------------------------------------------------------------------- uncertainties

UNCERTAIN_SECTIONS = ("market", "network", "firm", "competitors", "employees", "suppliers")
"""Sections whose numeric keys can be uncertain: the market, not the policies compared."""

_INTEGER_SPAN_CHECKED = 24  # integer ranges up to this many values are checked value by value


class ParameterInfo(NamedTuple):
    """A numeric scenario parameter named by a dotted key path."""

    path: str
    integer: bool
    description: str
    bounds: dict[str, float]


def _flatten_uncertainties(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{market = {churn = {x = {low, high}}}}`` -> ``{"market.churn.x": {low, high}}``."""
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
            inner = _flatten_uncertainties(value, path)
        elif isinstance(value, Mapping):
            inner = {path: value}
        else:
            raise _custom(
                f"uncertainties.{path}",
                f"got {_show(value)} ({_kind_of(value)}), expected a table saying how it "
                "varies, e.g. { low = 0.3, high = 0.6 } or { choices = [6, 10, 14] }",
            )
        for k, v in inner.items():
            if k in out:
                raise _custom(f"uncertainties.{k}", "written twice; keep one entry per parameter")
            out[k] = v
    return out


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
    segments = _split_path(path)
    if not segments:
        raise ValueError("empty key path; expected e.g. market.word_of_mouth.p_referral_conversion")
    first = segments[0]
    if first not in UNCERTAIN_SECTIONS:
        sections = ", ".join(UNCERTAIN_SECTIONS)
        if first in ScenarioFile.model_fields:
            raise ValueError(
                f"'{first}' cannot be uncertain: uncertainties are parameters of the market "
                f"in {sections} (policies are what you compare, not what you are unsure of)"
            )
        raise ValueError(
            _unknown_key(str(first), list(UNCERTAIN_SECTIONS), "the sections that can be uncertain")
        )
    model: type[BaseModel] | None = Scenario
    field: FieldInfo | None = None
    want_index = False
    for depth, key in enumerate(segments):
        here = _join_path(segments[:depth])
        if want_index:
            if key == "*" or isinstance(key, int):
                want_index = False
                continue
            rest = _join_path(segments[depth:])
            raise ValueError(
                f"{here} is a list: name an entry before the key, e.g. {here}.*.{rest} (every "
                f"entry) or {here}.0.{rest} (the first)"
            )
        if key == "*" or isinstance(key, int):
            raise ValueError(f"'{key}' names a list entry, but {here} is not a list")
        if model is None:
            raise ValueError(f"{here} is a value, not a table, so it has no key '{key}'")
        if key not in model.model_fields:
            raise ValueError(_unknown_key(str(key), list(model.model_fields), f"[{here}]"))
        field = model.model_fields[key]
        model = _item_model(field.annotation)
        want_index = model is not None and _is_sequence(field)
    assert field is not None
    if want_index:
        raise ValueError(f"{path} is a list: name an entry and a key, e.g. {path}.*.price")
    if model is not None:
        keys = ", ".join(model.model_fields)
        raise ValueError(f"{path} is a table, not a number; name one of its keys: {keys}")
    base = _unwrap(field.annotation)
    if base is bool or base not in (int, float):
        kind = {bool: "true/false", str: "text"}.get(base, "a choice of words")
        raise ValueError(
            f"{path} is {kind}, not a number: only numeric parameters can be uncertain "
            "(run one scenario file per alternative instead)"
        )
    return ParameterInfo(path, base is int, field.description or "", _bounds(field, {}))


def _scenario_data(sf: ScenarioFile) -> dict[str, Any]:
    return sf.to_scenario().model_dump(mode="json")


def _value_problem(base: dict[str, Any], path: str, value: float) -> str | None:
    data = copy.deepcopy(base)
    try:
        concrete = _expand_path(data, _split_path(path))
    except ValueError as exc:
        return str(exc)
    for segments in concrete:
        _set_in(data, segments, value)
    try:
        Scenario.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(e, data) for e in exc.errors(include_url=False)]
        own = {_join_path(s) for s in concrete}
        return "; ".join(text if where in own else f"{where}: {text}" for where, text in problems)
    return None


def value_problem(sf: ScenarioFile, path: str, value: float) -> str | None:
    """Why ``path = value`` would make ``sf`` invalid (range or cross-checks), or None."""
    return _value_problem(_scenario_data(sf), path, value)


def _whole(x: float) -> bool:
    return float(x).is_integer()


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


def _check_uncertainties(sf: ScenarioFile) -> None:
    """Every key path names a numeric market parameter and every reachable value is valid."""
    if not sf.uncertainties:
        return
    base = _scenario_data(sf)
    claimed: dict[str, str] = {}
    for key, spec in sf.uncertainties.items():
        where = f"uncertainties.{key}"
        try:
            info = resolve_parameter(key)
            concrete = _expand_path(base, _split_path(key))
        except ValueError as exc:
            raise _custom(where, str(exc)) from None
        if not concrete:
            raise _custom(where, f"{key} names no parameter: the list it refers to is empty")
        for segments in concrete:
            path = _join_path(segments)
            if path in claimed:
                raise _custom(
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
                    if v is not None and not _whole(v):
                        raise _custom(
                            where, f"got {name} = {v:g}, expected a whole number ({key} counts)"
                        )
        for name, value in _values_to_check(spec, info.integer):
            problem = _value_problem(base, key, value)
            if problem and name == "value":
                raise _custom(
                    where,
                    f"the range includes {_show(value)}, which {key} cannot take ({problem}); "
                    "list the values it can take with choices = [...] instead",
                )
            if problem:
                raise _custom(
                    where, f"{name} = {_show(value)} is outside what {key} accepts: {problem}"
                )


# --------------------------------------------------------------------------- messages


def _strip_value_error(msg: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            return msg[len(prefix) :]
    return msg


def _unwrap(annotation: Any) -> Any:
    """Strip Optional / Annotated / tuple[...] down to the item type."""
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


def _item_model(annotation: Any) -> type[BaseModel] | None:
    inner = _unwrap(annotation)
    return inner if isinstance(inner, type) and issubclass(inner, BaseModel) else None


def _mapping_model(field: FieldInfo) -> type[BaseModel] | None:
    """The value model of a ``dict[str, Model]`` field (its keys are the user's names)."""
    if typing.get_origin(field.annotation) is not dict:
        return None
    value = typing.get_args(field.annotation)[1]
    return value if isinstance(value, type) and issubclass(value, BaseModel) else None


def _field_at(loc: tuple[Any, ...]) -> tuple[type[BaseModel] | None, FieldInfo | None]:
    """The model holding the last key of ``loc`` and that key's field (if known)."""
    model: type[BaseModel] | None = ScenarioFile
    field: FieldInfo | None = None
    user_key = False  # the next key is a name the user chose (a key of a dict field)
    for k, key in enumerate(loc):
        if isinstance(key, int) or user_key:
            user_key = False
            continue
        if model is None or key not in model.model_fields:
            return (model if k == len(loc) - 1 else None), None
        field = model.model_fields[key]
        mapped = _mapping_model(field)
        user_key = mapped is not None
        if k < len(loc) - 1:
            model = mapped or _item_model(field.annotation)
    return model, field


def _bounds(field: FieldInfo | None, ctx: Mapping[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    metadata: list[Any] = list(field.metadata) if field else []
    if field is not None:
        for arg in typing.get_args(field.annotation):
            if typing.get_origin(arg) is Annotated:
                for m in typing.get_args(arg)[1:]:
                    metadata.extend(getattr(m, "metadata", [m]))
    for m in metadata:
        for name in ("ge", "gt", "le", "lt"):
            if isinstance(m, getattr(annotated_types, name.capitalize())):
                out[name] = getattr(m, name)
    for name in ("ge", "gt", "le", "lt"):
        if name in ctx:
            out[name] = ctx[name]
    return out


def _num(x: float) -> str:
    return f"{x:,g}" if abs(x) >= 10_000 else f"{x:g}"


def _range_text(b: Mapping[str, float], integer: bool) -> str:
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


def _show(value: Any, limit: int = 60) -> str:
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
        text = "{ " + ", ".join(f"{k} = {_show(v, limit)}" for k, v in value.items()) + " }"
        if not value:
            text = "{}"
    elif isinstance(value, (list, tuple)):
        text = "[" + ", ".join(_show(v, limit) for v in value) + "]"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _kind_of(value: Any) -> str:
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


def _unknown_key(key: str, valid: list[str], where: str) -> str:
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


def _key_paths(
    model: type[BaseModel], prefix: str = "", depth: int = 0
) -> Iterable[tuple[str, str]]:
    """(key, dotted path) of every key in the schema below ``model``."""
    for name, field in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        yield name, path
        sub = _item_model(field.annotation)
        if sub is not None and depth < 6:
            yield from _key_paths(sub, path + ("[]" if _is_sequence(field) else ""), depth + 1)


def _is_sequence(field: FieldInfo) -> bool:
    annotation = field.annotation
    while typing.get_origin(annotation) in (Union, types.UnionType, Annotated):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    return typing.get_origin(annotation) in (tuple, list)


def _key_elsewhere(key: str) -> str | None:
    """The dotted path of a key of that name in another section, if exactly one exists."""
    paths = sorted({p for k, p in _key_paths(ScenarioFile) if k == key})
    if len(paths) > 1:  # e.g. replications: the market's [simulation] before [experiment]
        paths = [p for p in paths if re.split(r"[.\[]", p)[0] in Scenario.model_fields]
    return paths[0] if len(paths) == 1 else None


def _section_name(loc: tuple[Any, ...]) -> str:
    return f"[{_join_path(loc)}]" if loc else "the top level"


def _describe(err: Mapping[str, Any], raw: Mapping[str, Any]) -> tuple[str, str]:
    """(dotted key path, problem text) for one pydantic error."""
    loc = tuple(err["loc"])
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    path = _join_path(loc)
    if kind == "scenario":
        return ctx.get("path", path), ctx.get("message", err["msg"])
    _, field = _field_at(loc)
    got = f"got {_show(value)}"
    if kind == "extra_forbidden":
        parent_model, _ = _field_at(loc)
        valid = list(parent_model.model_fields) if parent_model else []
        where = _section_name(loc[:-1])
        return path, _unknown_key(str(loc[-1]), valid, where)
    if kind == "missing":
        if loc and loc[-1] == "name" and "policies" in loc:
            return path, "missing: every policy needs a name (or a preset to start from)"
        return path, "missing: this key is required"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        integer = isinstance(value, int) and not isinstance(value, float)
        return path, f"{got}, expected {_range_text(_bounds(field, ctx), integer)}"
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        options = re.findall(r"'([^']*)'", expected)
        text = f"{got}, expected one of {expected}"
        guess = difflib.get_close_matches(str(value), options, n=1, cutoff=0.5)
        if guess and isinstance(value, str):
            text += f"; did you mean '{guess[0]}'?"
        return path, text
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return path, f"{got} ({_kind_of(value)}), expected a whole number"
    if kind in ("float_type", "float_parsing", "finite_number"):
        return path, f"{got} ({_kind_of(value)}), expected a number"
    if kind in ("bool_type", "bool_parsing"):
        return path, f"{got} ({_kind_of(value)}), expected true or false"
    if kind in ("string_type",):
        return path, f"{got} ({_kind_of(value)}), expected text in quotes"
    if kind == "string_too_short":
        return path, f"{got}, expected a non-empty text"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return path, f"{got} ({_kind_of(value)}), expected a table ([{path}] section)"
    if kind in ("tuple_type", "list_type", "too_short", "too_long"):
        if field is not None and _item_model(field.annotation) is not None:
            expected = f"an array of tables ([[{loc[-1]}]] entries)"
        else:
            expected = 'an array, e.g. ["png", "svg"]'
        if kind == "too_short":
            expected = "a non-empty array"
        return path, f"{got} ({_kind_of(value)}), expected {expected}"
    if kind in ("value_error", "assertion_error"):
        text = _strip_value_error(err["msg"])
        path = _join_path([*loc, key]) if (key := _key_named_in(text, loc)) else path
        if "policies" in loc and isinstance(raw, Mapping):
            preset = _preset_of(raw, loc)
            if preset and "shares must sum" in text:
                text += f" (keys not written in the file come from preset '{preset}')"
        return path, text
    return path, f"{got}: {err['msg']}"


def _key_named_in(text: str, loc: tuple[Any, ...]) -> str | None:
    """The one key of the table at ``loc`` a table-level message is about, if clear."""
    field = _field_at(loc)[1]
    model = _item_model(field.annotation) if field is not None else None
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


class _LineIndex:
    """Best-effort map from dotted key paths to line numbers of a TOML text."""

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
                    table = _join_path(segments)
                    self.lines.setdefault(table, number)
                    counts[table] = counts.get(table, -1) + 1
                    segments = [*segments, counts[table]]
                else:
                    segments = self._resolve(names, counts)
                current = segments
                self.lines.setdefault(_join_path(current), number)
                continue
            key = self._KEY.match(line)
            if key:
                path = _join_path([*current, *self._keys(key.group(1))])
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
            table = _join_path(out)
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


# --------------------------------------------------------------------------- writing TOML

_BARE = re.compile(r"^[A-Za-z0-9_\-]+$")


def _toml_key(key: str) -> str:
    return key if _BARE.match(key) else json.dumps(key, ensure_ascii=False)


def _toml_value(value: Any) -> str:
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
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return (
            "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
        )
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
        out.append(f"{_toml_key(k)} = {_toml_value(v)}")
    for k, v in table.items():
        if isinstance(v, Mapping):
            name = ".".join(_toml_key(p) for p in [*prefix, k])
            out.extend(["", f"[{name}]"])
            _emit(v, [*prefix, k], out)
    for k, v in table.items():
        if _is_table_array(v):
            name = ".".join(_toml_key(p) for p in [*prefix, k])
            for item in v:
                out.extend(["", f"[[{name}]]"])
                _emit(item, [*prefix, k], out)


def dump_toml(sf: ScenarioFile, header: str = "") -> str:
    """The scenario as TOML with every value written (defaults filled in).

    Reading the text back with :func:`parse_scenario` gives an equal ScenarioFile.
    ``header`` lines are written first as comments.
    """
    out = [f"# {line}".rstrip() for line in header.splitlines()]
    if out:
        out.append("")
    data = sf.model_dump(mode="python", exclude_none=True)
    data["policies"] = [
        {"name": p["name"], **({"preset": p["preset"]} if "preset" in p else {}), **p}
        for p in data["policies"]
    ]
    _emit(data, [], out)
    return "\n".join(out).lstrip("\n") + "\n"


def read_header(path: str | Path) -> str:
    """The comment block at the top of a scenario file, without the ``#`` marks."""
    lines = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            lines.append(stripped.lstrip("#").strip())
        elif stripped or lines:
            break
    return "\n".join(lines).strip()
