"""docs/scenario-reference.md is generated from the schema and must not be stale."""

from __future__ import annotations

from sim.config.scenario_file import ScenarioFile
from tools import gen_scenario_reference as gen


def test_scenario_reference_is_up_to_date():
    current = gen.OUTPUT.read_text(encoding="utf-8")
    assert current == gen.render(), (
        "docs/scenario-reference.md is stale: run `python tools/gen_scenario_reference.py`"
    )


def _keys(model, prefix=""):
    for name, field in model.model_fields.items():
        yield f"{prefix}{name}", field
        sub, _ = gen._item_model(field)
        if sub is not None:
            yield from _keys(sub, f"{prefix}{name}.")


def test_every_key_is_documented_with_a_meaning():
    page = gen.render()
    for path, field in _keys(ScenarioFile):
        sub, many = gen._item_model(field)
        if sub is None:  # a value: a row of its section's table
            assert f"| `{path.rsplit('.', 1)[-1]}` |" in page, path
            assert field.description, f"{path} has no description"
        else:  # a section: its own heading, or inside one that repeats another section
            heading = f"`[[{path}]]`" if many else f"`[{path}]`"
            parts = path.split(".")
            ancestors = [".".join(parts[:k]) for k in range(1, len(parts))]
            repeated = any(f"`[{a}]`\n\nSame keys as" in page for a in ancestors)
            assert heading in page or repeated, path
