"""Scenario files: TOML -> a validated :class:`ScenarioFile`, with friendly errors.

This is the only code that reads scenario files. A file holds the engine's
:class:`~sim.config.schema.Scenario` sections (``[simulation]``, ``[market]``, ``[network]``,
``[firm]``, ``[[competitors]]``, ``[employees]``, ``[suppliers]``), the focal firm's
``[[policies]]`` (each built on a preset from :data:`sim.config.presets.PRESETS` or from
scratch) and ``[outputs]``. Every key has a default; unknown keys, wrong types and
out-of-range values are errors that name the file, the line, the dotted key path, the
value and what was expected, with a "did you mean" for misspelt keys
(:class:`ScenarioError`, a ``ValueError``).

The parts live in small modules: the keys in :mod:`~sim.config.file_schema`, messages
and TOML reading in :mod:`~sim.config.reader`, key paths in :mod:`~sim.config.keypaths`,
parameters and uncertainties in :mod:`~sim.config.parameters`, writing in
:mod:`~sim.config.toml_writer`. This module puts them together and re-exports the names
callers use.

>>> sf = parse_scenario('[[policies]]\\npreset = "retention_heavy"\\n')
>>> sf.policies[0].name, sf.policies[0].acquisition_share
('retention_heavy', 0.2)
"""

from __future__ import annotations

import contextlib
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

from pydantic import ValidationError, field_validator, model_validator

from sim.common.errors import GraphFileError, ScenarioError
from sim.config.experiment_spec import ExperimentSpec
from sim.config.file_schema import OutputsSpec, PolicyEntry, ScenarioFileSchema
from sim.config.graph_files import FILE_GRAPH_KINDS, check_graph_path, read_graph_file
from sim.config.keypaths import (
    KeyPathError,
    UnknownKeyError,
    expand_path,
    parse_set_option,
    set_path,
    split_path,
)
from sim.config.parameters import (
    UNCERTAIN_SECTIONS,
    ParameterInfo,
    check_uncertainties,
    flatten_uncertainties,
    resolve_parameter,
    value_problem_in,
)
from sim.config.reader import (
    MAX_SCENARIO_BYTES,
    LineIndex,
    custom_error,
    decode_scenario,
    describe,
    is_noise,
    read_toml,
    scenario_error,
    show,
    strip_value_error,
    unknown_key,
)
from sim.config.scaling import scale_with_market
from sim.config.schema import MAX_FIRMS, Policy, Scenario, degree_problem
from sim.config.toml_writer import read_header, toml_text

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


class ScenarioFile(ScenarioFileSchema):
    """A scenario file, validated: the engine's Scenario sections, policies and outputs."""

    @field_validator("uncertainties", mode="before")
    @classmethod
    def _flatten_uncertainties(cls, value: Any) -> Any:
        """Nested tables (unquoted dotted keys) become dotted key paths."""
        return flatten_uncertainties(value) if isinstance(value, Mapping) else value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not self.policies:
            raise custom_error("policies", "expected at least one [[policies]] entry, got none")
        seen: dict[str, int] = {}
        for k, p in enumerate(self.policies):
            if p.name in seen:
                raise custom_error(
                    f"policies[{k}].name",
                    f"got {show(p.name)}, expected a name not used before "
                    f"(policies[{seen[p.name]}] is also called {show(p.name)})",
                )
            seen[p.name] = k
        firms = [("firm.name", self.firm.name)]
        firms += [(f"competitors[{k}].name", c.name) for k, c in enumerate(self.competitors)]
        names: dict[str, str] = {}
        for path, name in firms:
            if name in names:
                raise custom_error(
                    path,
                    f"got {show(name)}, expected a firm name not used before ({names[name]} is "
                    f"also {show(name)}; every firm needs its own name)",
                )
            names[name] = path
        n_firms = len(firms)
        if n_firms > MAX_FIRMS:
            raise custom_error(
                "competitors",
                f"got {len(self.competitors)} competitors, expected at most {MAX_FIRMS - 1} "
                f"(the engine supports {MAX_FIRMS} firms, focal firm included)",
            )
        n = self.market.n_customers
        if n_firms > n:
            raise custom_error(
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
            raise custom_error(
                "firm.initial_share",
                f"initial shares of all firms sum to {total:g}, expected at most 1 ({parts})",
            )
        net = self.network
        problem = degree_problem(net.kind, net.mean_degree, n)
        if problem:
            raise custom_error("network.mean_degree", problem)
        try:
            scenario = self.to_scenario()
        except ValidationError as exc:  # the engine's own cross-checks, whatever they are
            msg = "; ".join(strip_value_error(e["msg"]) for e in exc.errors())
            raise custom_error("", msg) from None
        check_uncertainties(self.uncertainties, scenario)
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

    Raises :class:`ScenarioError` (a ValueError) with a friendly message on any problem:
    only regular files up to :data:`~sim.config.reader.MAX_SCENARIO_BYTES` are read (the
    size is checked before reading), in UTF-8, a byte-order mark accepted.
    """
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ScenarioError(f"{path}: scenario file not found") from None
    except OSError as exc:  # a symlink loop, a name too long, no permission on a folder
        raise ScenarioError(f"{path}: cannot open the file ({exc.strerror or exc})") from None
    except ValueError:  # a NUL character in the name
        raise ScenarioError(f"{path!s}: a file name cannot hold a NUL character") from None
    if not stat.S_ISREG(info.st_mode):
        sort = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise ScenarioError(f"{path}: {sort}, not a file (expected a scenario .toml file)")
    if info.st_size > MAX_SCENARIO_BYTES:
        raise ScenarioError(
            f"{path}: the file is {info.st_size:,} bytes, expected at most "
            f"{MAX_SCENARIO_BYTES:,} (10 MB) for a scenario file (a real one is a few KB)"
        )
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_SCENARIO_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    text = decode_scenario(data, str(path))
    sf = parse_scenario(text, source=str(path), base_dir=path.parent)
    if overrides:
        sf = apply_overrides(sf, overrides)
    return sf


def parse_scenario(
    text: str, source: str = "<scenario>", base_dir: str | Path | None = None
) -> ScenarioFile:
    """Validate the text of a scenario file (``source`` names it in messages).

    A relative ``network.path`` is resolved against ``base_dir`` (the file's folder).
    """
    raw = read_toml(text, source)
    lines = LineIndex(text)
    try:
        sf = ScenarioFile.model_validate(_tuplify(dict(raw)), strict=True)
    except ValidationError as exc:
        errors = [e for e in exc.errors(include_url=False) if not is_noise(e, raw)]
        raise scenario_error(source, [describe(e, raw) for e in errors], lines) from None
    return _check_files(sf, source, lines, Path(base_dir or "."))


def _check_files(
    sf: ScenarioFile, source: str, lines: LineIndex | None, base: Path
) -> ScenarioFile:
    """What pydantic cannot see: the graph file is a readable regular file of bounded size
    whose every line is an edge, and its node count is the market's."""
    net = sf.network
    if net.kind not in FILE_GRAPH_KINDS or not net.path:
        return sf
    given = Path(net.path).expanduser()
    full = given if given.is_absolute() else (base / given)
    with contextlib.suppress(OSError, RuntimeError, ValueError):  # check_graph_path names it
        full = full.resolve()
    try:
        check_graph_path(full)
    except GraphFileError as exc:
        looked = "" if str(full) in str(exc) else f" (looked for {full})"
        problem = f"got '{net.path}', expected an existing graph file: {exc}{looked}"
        if "not found" in str(exc):
            problem = f"got '{net.path}', expected an existing graph file (looked for {full})"
        raise scenario_error(source, [("network.path", problem)], lines) from None
    try:
        n_nodes = read_graph_file(net.kind, full, net.skip_malformed).number_of_nodes()
    except (GraphFileError, ValueError, OSError) as exc:
        problem = f"got '{net.path}', expected a readable {net.kind} graph file ({exc})"
        raise scenario_error(source, [("network.path", problem)], lines) from None
    if n_nodes != sf.market.n_customers:
        problem = (
            f"got {sf.market.n_customers}, expected {n_nodes}: the graph file '{net.path}' has "
            f"{n_nodes} nodes and every node is a person in the market"
        )
        raise scenario_error(source, [("market.n_customers", problem)], lines)
    return sf.model_copy(update={"network": net.model_copy(update={"path": str(full)})})


# --------------------------------------------------------------------------- overrides


def apply_overrides(sf: ScenarioFile, overrides: Mapping[str, Any]) -> ScenarioFile:
    """A copy of ``sf`` with dotted-path values replaced (``--set``), re-validated.

    Paths address list items by index: ``policies.1.price_change`` or
    ``policies[1].price_change``; ``competitors.*.price`` sets every competitor's.
    Unknown keys are errors with a "did you mean". A new ``market.n_customers`` scales the
    budgets, fixed costs and staff with the market (new size / the file's), unless
    ``market.scale_with_size`` (in the file or the overrides) is false; the keys set
    explicitly keep the value given (:mod:`sim.config.scaling`).
    """
    data = sf.model_dump(mode="python", exclude_none=True)
    sources = []
    items: list[tuple[str, list[str | int], Any]] = []
    for path, value in overrides.items():
        source = f"--set {path}={show(value)}"
        sources.append(source)
        segments = split_path(path)
        if not segments:
            raise ScenarioError(f"{source}: empty key path")
        try:  # "competitors.*.price": every entry of the list
            expanded = expand_path(data, segments) if "*" in segments else [segments]
        except ValueError as exc:
            raise ScenarioError(f"{source}: {exc}") from None
        items += [(source, concrete, value) for concrete in expanded]
    data = _scaled_to_market(sf, data, items)
    for source, segments, value in items:
        try:
            set_path(data, segments, value, ScenarioFile)
        except UnknownKeyError as exc:
            message = unknown_key(exc.key, exc.valid, exc.where)
            raise ScenarioError(f"{source}: {message}") from None
        except KeyPathError as exc:
            raise ScenarioError(f"{source}: {exc}") from None
    try:
        new = ScenarioFile.model_validate(_tuplify(data), strict=True)
    except ValidationError as exc:
        problems = [describe(e, data) for e in exc.errors(include_url=False)]
        raise scenario_error(" ".join(sources), problems, None) from None
    return _check_files(new, " ".join(sources), None, Path("."))


def _scaled_to_market(
    sf: ScenarioFile, data: dict[str, Any], items: list[tuple[str, list[str | int], Any]]
) -> dict[str, Any]:
    """``data`` with its money and staff scaled to a new ``market.n_customers``, if any."""
    given = {tuple(segments): value for _, segments, value in items}
    size = given.get(("market", "n_customers"))
    scale = given.get(("market", "scale_with_size"), sf.market.scale_with_size)
    if scale is not True or isinstance(size, bool) or not isinstance(size, (int, float)):
        return data  # switched off, or a size the validation below will refuse
    if size <= 0 or size == sf.market.n_customers:
        return data
    return scale_with_market(data, size / sf.market.n_customers, keep=set(given))


def value_problem(sf: ScenarioFile, path: str, value: float) -> str | None:
    """Why ``path = value`` would make ``sf`` invalid (range or cross-checks), or None."""
    return value_problem_in(sf.to_scenario().model_dump(mode="json"), path, value)


# --------------------------------------------------------------------------- writing


def dump_toml(sf: ScenarioFile, header: str = "") -> str:
    """The scenario as TOML with every value written (defaults filled in).

    Reading the text back with :func:`parse_scenario` gives an equal ScenarioFile.
    ``header`` lines are written first as comments.
    """
    data = sf.model_dump(mode="python", exclude_none=True)
    data["policies"] = [
        {"name": p["name"], **({"preset": p["preset"]} if "preset" in p else {}), **p}
        for p in data["policies"]
    ]
    return toml_text(data, header)
