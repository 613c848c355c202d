"""Property tests of the scenario reader: whatever the text, it either reads a scenario
or raises :class:`ScenarioError` with a message, never anything else (issue 15).

Three sources of text, each with a fixed, derandomized budget so a run is reproducible:
random TOML documents over the schema's own keys (so the values reach the validators),
random mutations of the bundled scenarios (lines cut, duplicated, swapped, values
replaced), and arbitrary text.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.config.file_schema import ScenarioFileSchema
from sim.config.introspect import key_paths
from sim.config.scenario_file import ScenarioError, load_scenario, parse_scenario

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "sim" / "scenarios").glob("*.toml"))
TEXTS = [p.read_text(encoding="utf-8") for p in SCENARIOS]
KEYS = sorted({path.replace("[]", "") for _, path in key_paths(ScenarioFileSchema)})

BUDGET = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _toml_value(value: object) -> str:
    """A Python value as TOML text (floats as nan/inf too)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f'"{k}" = {_toml_value(v)}' for k, v in value.items()) + " }"
    raise TypeError(value)


_SAFE_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)
_SCALARS = st.one_of(
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, 1, -1, 2**31, 2**63, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    _SAFE_TEXT,
    st.sampled_from(
        ["watts_strogatz", "complete", "edge_list", "graphml", "balanced", "week", "lhs", ""]
    ),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["low", "high", "mode", "name", "x"]), inner, max_size=3),
    ),
    max_leaves=8,
)


@st.composite
def documents(draw: st.DrawFn) -> str:
    """A TOML document of dotted schema keys (some misspelt) with random values."""
    key = st.one_of(st.sampled_from(KEYS), st.from_regex(r"[a-z_]{1,12}", fullmatch=True))
    keys = draw(st.lists(key, max_size=8, unique=True))
    # a key that is the table of another would be a TOML syntax error: keep the leaves
    keys = [k for k in keys if not any(o.startswith(k + ".") for o in keys)]
    lines = [f"{k} = {_toml_value(draw(_VALUES))}" for k in keys]
    policies = draw(st.sampled_from(["", "[[policies]]\npreset = 'balanced'\n"]))
    return "\n".join(lines) + "\n" + policies


@st.composite
def mutations(draw: st.DrawFn) -> str:
    """A bundled scenario with a few lines cut, duplicated, swapped or given new values."""
    lines = draw(st.sampled_from(TEXTS)).splitlines()
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        if not lines:
            break
        k = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        action = draw(st.sampled_from(["cut", "dup", "swap", "value", "insert", "chars"]))
        if action == "cut":
            del lines[k]
        elif action == "dup":
            lines.insert(k, lines[k])
        elif action == "swap":
            j = draw(st.integers(min_value=0, max_value=len(lines) - 1))
            lines[k], lines[j] = lines[j], lines[k]
        elif action == "value" and "=" in lines[k]:
            key = lines[k].split("=", 1)[0]
            lines[k] = f"{key}= {_toml_value(draw(_VALUES))}"
        elif action == "insert":
            lines.insert(k, draw(st.text(max_size=40)))
        else:
            cut = draw(st.integers(min_value=0, max_value=len(lines[k])))
            lines[k] = lines[k][:cut] + draw(st.text(max_size=5)) + lines[k][cut + 1 :]
    return "\n".join(lines) + "\n"


def _reads_or_refuses(text: str) -> None:
    try:
        parse_scenario(text, "fuzz.toml")
    except ScenarioError as exc:
        assert str(exc).strip()
        assert "Traceback" not in str(exc)


@BUDGET
@given(documents())
def test_random_documents_read_or_refuse(text: str) -> None:
    _reads_or_refuses(text)


@BUDGET
@given(mutations())
def test_mutated_bundled_scenarios_read_or_refuse(text: str) -> None:
    _reads_or_refuses(text)


@BUDGET
@given(st.text(max_size=300))
def test_any_text_reads_or_refuses(text: str) -> None:
    _reads_or_refuses(text)


@BUDGET
@given(st.binary(max_size=300))
def test_any_bytes_in_a_file_read_or_refuse(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.toml"
        path.write_bytes(data)
        try:
            load_scenario(path)
        except ScenarioError as exc:
            assert str(path) in str(exc)
