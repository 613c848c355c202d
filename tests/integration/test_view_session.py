"""The live page's parts without a browser: controls from the schema, the two runs, the
charted numbers, and "Save as scenario" (issue 13)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from sim.config.presets import PRESETS
from sim.config.scenario_file import load_scenario
from sim.config.schema import Policy, Scenario
from sim.model.market import MarketModel
from sim.view.app import build_view
from sim.view.controls import (
    apply_levers,
    lever_controls,
    market_control,
    market_controls,
)
from sim.view.session import ViewSession, run_frame

SMALL = {"market.n_customers": 600, "simulation.steps": 8, "simulation.seed": 3}


@pytest.fixture
def session() -> ViewSession:
    return ViewSession(Scenario.default().with_updates(SMALL), graph_sample=40)


def test_every_numeric_lever_has_a_control_built_from_the_schema():
    specs = {s.path: s for s in lever_controls()}
    assert {"acquisition_share", "price_change", "pay_level", "retention_mix.care_contacts"} <= set(
        specs
    )
    pay = specs["pay_level"]
    field = Policy.model_fields["pay_level"]
    assert (pay.low, pay.high) == (0.5, 2.0)  # the schema's bounds
    assert pay.description == field.description and pay.unit == "relative"
    assert specs["acquisition_share"].unit == "share, 0-1"
    for spec in specs.values():
        assert spec.low <= spec.default <= spec.high and spec.step > 0 and spec.description
    # a money lever no preset sets above zero still gets a range from the presets' values
    assert specs["supplier_investment_per_year"].high >= 60_000


def test_market_controls_skip_keys_the_schema_does_not_have():
    assert market_control("market.no_such_key") is None
    paths = [
        s.path for s in market_controls(paths=("market.no_such_key", "network.weak_tie_share"))
    ]
    assert paths == ["network.weak_tie_share"]


def test_mixes_are_rescaled_to_sum_to_one():
    policy = apply_levers(PRESETS["balanced"], {"retention_mix.care_contacts": 0.8})
    mix = policy.retention_mix.model_dump()
    assert sum(mix.values()) == pytest.approx(1.0)
    assert mix["care_contacts"] == pytest.approx(0.8 / 1.4)


def test_charted_numbers_are_what_the_model_computes(session):
    session.step(3)
    session.set_levers({"acquisition_share": 0.2, "price_change": -0.05})
    session.step(2)
    frames = session.frame()
    for model, frame in zip(session.models, frames, strict=True):
        expected = run_frame(model.results(), tuple(model.firm_names))
        assert np.array_equal(frame.customers, expected.customers)
        for key, series in expected.focal.items():
            assert np.array_equal(frame.focal[key], series), key
        assert frame.churn == expected.churn and frame.pyramid == expected.pyramid
        assert frame.word_of_mouth == expected.word_of_mouth
    # the edited run is a fresh run of the edited policy on the same seed, from step 0
    policy = PRESETS["balanced"].model_copy(
        update={"acquisition_share": 0.2, "price_change": -0.05}
    )
    fresh = MarketModel(session.scenario, policy, seed=3).run(5).results()
    assert np.array_equal(frames[1].focal["profit"], fresh[fresh.firm == "focal"]["profit"])
    assert not np.array_equal(frames[0].focal["profit"], frames[1].focal["profit"])


def test_the_page_shows_the_numbers_it_charts(session):
    session.step(4)
    view = build_view(session)
    match = re.search(r'id="chart-profit" data-chart="profit" data-values="([^"]*)"', view["page"])
    assert match
    shown = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    base, edited = shown["series"].values()
    assert base == session.frame()[0].focal["profit"].tolist() == edited
    settings = json.loads(view["status"])
    assert settings["seed"] == 3 and settings["steps"] == [4, 4]


def test_market_changes_restart_both_runs_and_bad_values_are_refused(session):
    session.step(2)
    session.set_market({"network.weak_tie_share": 0.2}, seed=9)
    assert session.step_count == 0 and session.scenario.network.weak_tie_share == 0.2
    with pytest.raises((ValueError, KeyError)):
        session.set_market({"network.weak_tie_share": 2.0})
    assert session.scenario.network.weak_tie_share == 0.2  # the refused value left nothing


def test_save_as_scenario_writes_what_marketsim_run_reads(session, tmp_path):
    session.set_market({"market.initial_penetration": 0.4})
    session.set_levers({"acquisition_share": 0.35})
    session.step(3)
    path = session.save(tmp_path / "out" / "steered.toml")
    saved = load_scenario(path)
    baseline, edited = saved.engine_policies()
    assert (baseline.name, edited.name) == ("balanced", "balanced_edited")
    assert edited.acquisition_share == 0.35
    scenario = saved.to_scenario()
    assert scenario == session.scenario
    # the saved file reproduces the page's numbers
    table = MarketModel(scenario, edited, seed=scenario.simulation.seed).run(3).results()
    assert np.array_equal(
        table[table.firm == "focal"]["profit"].to_numpy(), session.frame()[1].focal["profit"]
    )


def test_the_server_is_set_up_to_work_offline():
    server = pytest.importorskip("sim.view.server")
    server.offline_settings()
    import solara.server.cdn_helper as cdn

    with pytest.raises(RuntimeError, match="does not fetch"):
        cdn.fetch_from_cdn("https://cdn.jsdelivr.net/npm/x")
    assert server.missing_assets() == []
