"""MarketModel follows Mesa's conventions (issue 9).

- ``mesa.batch_run(MarketModel, ...)`` works and reports what ``results()`` reports;
- a DataCollector with model reporters (the focal firm) and agent reporters (firms;
  customers once they exist);
- firms, suppliers and employees are AgentSets;
- customer agents are created on first use, and creating them changes nothing;
- agents and engines see a MarketState, never the model (no import of sim.model.market,
  no TYPE_CHECKING imports, no imports inside functions).
"""

from __future__ import annotations

import ast
import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import mesa
import numpy as np
import pandas as pd
import pytest
from mesa.agentset import AgentSet

from sim.model.agents.customers import Customer
from sim.model.agents.employees import Employee
from sim.model.agents.firms import Competitor, Firm
from sim.model.agents.suppliers import Supplier
from sim.model.market import FOCAL_REPORTERS, MarketModel

MODEL_DIR = Path(__file__).resolve().parents[2] / "sim" / "model"


@pytest.fixture
def keep_start_method() -> Iterator[None]:
    """batch_run sets multiprocessing's start method to "spawn" for the whole process."""
    before = multiprocessing.get_start_method(allow_none=True)
    yield
    multiprocessing.set_start_method(before, force=True)


def focal_rows(model: MarketModel) -> pd.DataFrame:
    df = model.results()
    return df[df["firm"] == model.firm_names[0]].set_index("step")


# ------------------------------------------------------------------------ batch_run


def test_batch_run_reports_what_results_reports(make_small_scenario, keep_start_method) -> None:
    scenario = make_small_scenario(400, 3)
    rows = mesa.batch_run(
        MarketModel,
        parameters={"scenario": [scenario], "policy": ["balanced", "retention_heavy"]},
        rng=[3, 4],
        max_steps=10,  # the model stops itself at the scenario's horizon (3 steps)
        number_processes=1,
        data_collection_period=1,
        display_progress=False,
    )
    table = pd.DataFrame(rows)
    n_firms = len(scenario.firm_names)
    assert len(table) == 2 * 2 * 3 * n_firms  # policies x seeds x steps x firms
    assert set(table["seed"]) == {3, 4}
    assert sorted(table["Step"].unique().tolist()) == [1, 2, 3]
    for (policy, seed), runs in table.groupby(["policy", "seed"]):
        model = MarketModel(scenario, policy=policy, seed=seed).run()
        expected = focal_rows(model)
        focal = runs[runs["firm"] == model.firm_names[0]]
        for name in FOCAL_REPORTERS:
            np.testing.assert_array_equal(
                focal[f"focal_{name}"].to_numpy(), expected[name].to_numpy(float), err_msg=name
            )
        # each firm's own row: its customers at the end of each step
        df = model.results()
        got = runs.assign(step=runs["Step"].astype(int)).merge(df, on=["step", "firm"])
        assert len(got) == 3 * n_firms
        np.testing.assert_array_equal(got["customers_x"], got["customers_y"])


def test_keyword_construction_for_batch_runners(make_small_scenario) -> None:
    scenario = make_small_scenario(300, 2)
    by_seed = MarketModel(scenario=scenario, seed=9).run().results()
    by_rng = MarketModel(scenario=scenario, rng=9).run().results()
    pd.testing.assert_frame_equal(by_seed, by_rng)
    with pytest.raises(ValueError, match="seed or rng"):
        MarketModel(scenario, seed=1, rng=2)
    model = MarketModel(scenario, seed=1)
    assert model.running
    model.run()
    assert not model.running  # the horizon is reached: batch_run stops here


# ---------------------------------------------------------------- the DataCollector


def test_datacollector_model_and_firm_reporters(make_small_scenario) -> None:
    model = MarketModel(make_small_scenario(400, 4), seed=2).run()
    expected = focal_rows(model)
    reported = model.datacollector.get_model_vars_dataframe()
    assert list(reported.columns) == [f"focal_{name}" for name in FOCAL_REPORTERS]
    for name in FOCAL_REPORTERS:
        np.testing.assert_array_equal(
            reported[f"focal_{name}"].to_numpy(), expected[name].to_numpy(float)
        )

    firms = pd.concat(
        [model.datacollector.get_agenttype_vars_dataframe(t) for t in (Firm, Competitor)]
    ).reset_index()
    df = model.results()
    merged = firms.assign(step=firms["Step"].astype(int)).merge(
        df, on=["step", "firm"], suffixes=("", "_results")
    )
    assert len(merged) == len(df)
    np.testing.assert_array_equal(merged["customers"], merged["customers_results"])
    assert model.datacollector.get_agenttype_vars_dataframe(Customer)["firm_index"].dropna().empty


def test_datacollector_reports_customers_once_they_exist(make_small_scenario) -> None:
    model = MarketModel(make_small_scenario(150, 3), seed=5)
    model.step()
    assert len(model.customers) == 150
    model.step()
    rows = model.datacollector.get_agenttype_vars_dataframe(Customer)
    assert len(rows) == 150  # the second step only
    last = rows.xs(rows.index.get_level_values(0).max(), level=0)
    index_of = {a.unique_id: a.index for a in model.customers}
    order = [index_of[uid] for uid in last.index]
    np.testing.assert_array_equal(last["firm_index"].to_numpy(), model.population.firm[order])


# --------------------------------------------------------------------- AgentSets


def test_firms_suppliers_and_employees_are_agentsets(make_small_scenario) -> None:
    scenario = make_small_scenario(300, 2)
    scenario = scenario.model_copy(
        update={
            "employees": scenario.employees.model_copy(update={"enabled": True}),
            "suppliers": scenario.suppliers.model_copy(update={"enabled": True}),
        }
    )
    model = MarketModel(scenario, seed=1).run()
    assert isinstance(model.firms, AgentSet)
    assert [f.name for f in model.firms] == list(model.firm_names)
    assert model.focal_firm is model.firms.to_list()[0]
    for firm in model.firms:
        assert isinstance(firm.suppliers, AgentSet)
        assert len(firm.suppliers) == scenario.suppliers.per_firm
        assert all(isinstance(s, Supplier) for s in firm.suppliers)
        assert firm.staff is not None
        assert isinstance(firm.staff.agents, AgentSet)
        assert all(isinstance(e, Employee) and e.firm is firm for e in firm.staff.agents)


# --------------------------------------------------------------- lazy customers


@pytest.mark.parametrize("engine", ["vectorized", "agent"])
def test_customer_agents_are_created_on_first_use(make_small_scenario, engine) -> None:
    scenario = make_small_scenario(200, 3, engine=engine)
    untouched = MarketModel(scenario, seed=4)
    untouched.run()
    assert (Customer in untouched.agent_types) == (engine == "agent")
    touched = MarketModel(scenario, seed=4)
    assert len(touched.customers) == 200
    touched.run()
    pd.testing.assert_frame_equal(untouched.results(), touched.results())
    assert sorted(a.index for a in untouched.customers) == list(range(200))
    assert untouched.customer(17).index == 17
    assert untouched.customer(17).firm == untouched.population.firm[17]


# ------------------------------------------------------------- one-way imports


def _model_modules() -> list[Path]:
    return sorted(MODEL_DIR.rglob("*.py"))


@pytest.mark.parametrize("path", _model_modules(), ids=lambda p: str(p.relative_to(MODEL_DIR)))
def test_model_modules_import_at_the_top_only(path: Path) -> None:
    tree = ast.parse(path.read_text())
    top_level = set(map(id, tree.body))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            assert id(node) in top_level, f"{path.name}:{node.lineno}: import inside a block"
        if isinstance(node, ast.Name) and node.id == "TYPE_CHECKING":
            pytest.fail(f"{path.name}:{node.lineno}: TYPE_CHECKING import")
    inside = path.relative_to(MODEL_DIR).parts[0]
    if inside in {"agents", "engines", "behaviour", "state.py", "population.py"}:
        imported = {
            node.module
            for node in tree.body
            if isinstance(node, ast.ImportFrom) and node.module is not None
        }
        assert "sim.model.market" not in imported
