"""Unit tests of MarketModel: its API, determinism, Mesa integration and bookkeeping."""

from __future__ import annotations

import math

import mesa
import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from sim.config.presets import PRESETS
from sim.config.schema import AcquisitionMix, Policy, RetentionMix, Scenario
from sim.model.agents.customers import Customer
from sim.model.behaviour.churn import CHURN_REASONS
from sim.model.market import MarketModel
from sim.model.metrics import ACQUISITION_CHANNELS, METRICS, CohortValue

# -------------------------------------------------------------------------- the API


def test_readme_api() -> None:
    scenario = Scenario.default()
    model = MarketModel(scenario, policy="balanced", seed=7)
    assert model.run(3) is model
    df = model.results()
    n_firms = len(scenario.firm_names)
    assert len(df) == 3 * n_firms
    assert {"step", "firm", *METRICS} <= set(df.columns)
    assert not df.duplicated(["step", "firm"]).any()
    assert sorted(df["step"].unique().tolist()) == [1, 2, 3]
    for _, rows in df.groupby("step"):
        assert tuple(rows["firm"]) == scenario.firm_names


def test_run_defaults_to_the_scenario_horizon(make_small_scenario) -> None:
    scenario = make_small_scenario(500, 6)
    df = MarketModel(scenario, seed=1).run().results()
    assert df["step"].max() == 6
    assert len(df) == 6 * len(scenario.firm_names)


def test_results_before_run_are_empty(make_small_scenario) -> None:
    df = MarketModel(make_small_scenario(200, 5), seed=1).results()
    assert len(df) == 0
    assert {"step", "firm"} <= set(df.columns)


def test_policy_object_and_preset_name_are_equivalent(make_small_scenario) -> None:
    scenario = make_small_scenario(500, 8)
    by_name = MarketModel(scenario, policy="retention_heavy", seed=3).run().results()
    by_object = MarketModel(scenario, policy=PRESETS["retention_heavy"], seed=3).run().results()
    pd.testing.assert_frame_equal(by_name, by_object)


# ---------------------------------------------------------------- determinism, CRN

ENGINE_SIZES = {"vectorized": (2_000, 52), "agent": (300, 15)}


@pytest.mark.parametrize("engine", ["vectorized", "agent"])
def test_same_seed_same_results(make_small_scenario, engine) -> None:
    scenario = make_small_scenario(*ENGINE_SIZES[engine], engine=engine)
    first = MarketModel(scenario, policy="balanced", seed=42).run()
    second = MarketModel(scenario, policy="balanced", seed=42).run()
    pd.testing.assert_frame_equal(first.results(), second.results())
    pd.testing.assert_frame_equal(first.cohort_clv(), second.cohort_clv())


@pytest.mark.parametrize("engine", ["vectorized", "agent"])
def test_different_seeds_differ(make_small_scenario, engine) -> None:
    scenario = make_small_scenario(*ENGINE_SIZES[engine], engine=engine)
    a = MarketModel(scenario, seed=1).run().results()
    b = MarketModel(scenario, seed=2).run().results()
    assert not np.array_equal(a["customers"].to_numpy(), b["customers"].to_numpy())
    assert not np.allclose(a["revenue"].to_numpy(), b["revenue"].to_numpy())


def test_seed_defaults_to_the_scenario_seed(make_small_scenario) -> None:
    scenario = make_small_scenario(500, 5)
    implicit = MarketModel(scenario).run().results()
    explicit = MarketModel(scenario, seed=scenario.simulation.seed).run().results()
    pd.testing.assert_frame_equal(implicit, explicit)


def assert_same_population(a: MarketModel, b: MarketModel) -> None:
    np.testing.assert_array_equal(a.graph.indptr, b.graph.indptr)
    np.testing.assert_array_equal(a.graph.indices, b.graph.indices)
    names = a.population.field_names()
    assert names == b.population.field_names()
    for name in names:
        np.testing.assert_array_equal(
            getattr(a.population, name), getattr(b.population, name), err_msg=name
        )


def test_graph_and_population_identical_across_policies(make_small_scenario) -> None:
    """Common random numbers: the policy does not change the market a seed draws."""
    scenario = make_small_scenario(1_000, 5)
    models = [MarketModel(scenario, policy=name, seed=5) for name in sorted(PRESETS)]
    custom = Policy(
        name="custom",
        budget_per_year=123_456.0,
        acquisition_share=0.9,
        retention_mix=RetentionMix(
            care_contacts=0.1, loyalty_program=0.6, complaint_handling=0.3, service_level=0.0
        ),
    )
    models.append(MarketModel(scenario, policy=custom, seed=5))
    for other in models[1:]:
        assert_same_population(models[0], other)
    assert models[0].population.firm.size == 1_000


def test_graph_and_population_identical_across_engines(make_small_scenario) -> None:
    scenario = make_small_scenario(500, 5)
    assert_same_population(
        MarketModel(scenario, seed=9, engine="vectorized"),
        MarketModel(scenario, seed=9, engine="agent"),
    )


def test_different_seeds_draw_different_markets(make_small_scenario) -> None:
    scenario = make_small_scenario(1_000, 5)
    a, b = MarketModel(scenario, seed=1), MarketModel(scenario, seed=2)
    assert not np.array_equal(a.graph.indices, b.graph.indices)
    assert not np.array_equal(a.population.satisfaction, b.population.satisfaction)


def test_a_given_graph_is_reused(make_small_scenario) -> None:
    scenario = make_small_scenario(500, 5)
    first = MarketModel(scenario, seed=1)
    second = MarketModel(scenario, seed=2, graph=first.graph)
    assert second.graph is first.graph
    with pytest.raises(ValueError, match="nodes"):
        MarketModel(make_small_scenario(400, 5), seed=1, graph=first.graph)


# ------------------------------------------------------------------------ Mesa parts


def test_customers_are_mesa_agents_in_an_agentset(make_small_scenario) -> None:
    model = MarketModel(make_small_scenario(300, 5), seed=4)
    agentset_types = tuple(
        t
        for t in (getattr(mesa.agentset, "AbstractAgentSet", None), mesa.agentset.AgentSet)
        if t is not None
    )
    assert isinstance(model.customers, agentset_types)
    assert len(model.customers) == 300
    agents = model.customers.to_list()
    assert all(isinstance(a, mesa.Agent) and isinstance(a, Customer) for a in agents)
    assert sorted(a.index for a in agents) == list(range(300))
    assert len({a.unique_id for a in agents}) == 300
    pop = model.population
    focal = model.customers.select(lambda a: a.firm == 0)
    assert len(focal) == np.count_nonzero(pop.firm == 0)
    assert model.customers.agg("satisfaction", np.mean) == pytest.approx(pop.satisfaction.mean())


def test_customer_attributes_read_and_write_the_arrays(make_small_scenario) -> None:
    model = MarketModel(make_small_scenario(300, 5), seed=4)
    model.run(3)
    pop = model.population
    for agent in model.customers.to_list()[::37]:
        i = agent.index
        assert agent.firm == pop.firm[i]
        assert agent.satisfaction == pop.satisfaction[i]
        assert agent.tenure == pop.tenure[i]
        assert agent.member == pop.member[i]
        assert agent.is_customer == (pop.firm[i] >= 0)
        np.testing.assert_array_equal(agent.weights, pop.weights[i])
    agent = model.customers.to_list()[10]
    agent.satisfaction = 0.123
    agent.member = True
    agent.firm = 2
    assert pop.satisfaction[agent.index] == 0.123
    assert pop.member[agent.index]
    assert pop.firm[agent.index] == 2
    assert agent.firm_name == model.firm_names[2]


def test_mesa_datacollector_on_customers(make_small_scenario) -> None:
    model = MarketModel(make_small_scenario(200, 3), seed=8)
    assert model.customers is not None  # customer agents exist from their first use
    collector = mesa.DataCollector(
        model_reporters={"focal_customers": lambda m: m.focal_firm.n_customers},
        agenttype_reporters={Customer: {"satisfaction": "satisfaction", "firm": "firm"}},
    )
    for _ in range(3):
        model.step()
        collector.collect(model)
    agents = collector.get_agenttype_vars_dataframe(Customer)
    assert len(agents) == 3 * 200
    last = agents.xs(agents.index.get_level_values(0).max(), level=0)
    by_index = {a.unique_id: a.index for a in model.customers}
    order = [by_index[uid] for uid in last.index]
    np.testing.assert_allclose(
        last["satisfaction"].to_numpy(), model.population.satisfaction[order]
    )
    np.testing.assert_array_equal(last["firm"].to_numpy(), model.population.firm[order])
    focal = model.results().query("firm == @model.firm_names[0]")["customers"].to_numpy()
    np.testing.assert_array_equal(
        collector.get_model_vars_dataframe()["focal_customers"].to_numpy(), focal
    )


# ------------------------------------------------------------------------ invariants


def per_firm(df: pd.DataFrame, column: str, firms: tuple[str, ...]) -> np.ndarray:
    """(steps, firms) array of one column, firms in model order."""
    return df.pivot(index="step", columns="firm", values=column)[list(firms)].to_numpy()


def test_customers_match_the_population(finished_run) -> None:
    model, _ = finished_run
    df = model.results()
    last = df[df["step"] == df["step"].max()]
    counts = np.bincount(model.population.firm[model.population.firm >= 0], minlength=model.n_firms)
    np.testing.assert_array_equal(last["customers"].to_numpy(), counts)
    assert [f.n_customers for f in model.firms] == counts.tolist()


def test_new_minus_churned_is_the_change_in_customers(finished_run) -> None:
    model, start = finished_run
    df = model.results()
    customers = per_firm(df, "customers", model.firm_names)
    before = np.vstack([start, customers[:-1]])
    net = per_firm(df, "new_customers", model.firm_names) - per_firm(
        df, "churned", model.firm_names
    )
    np.testing.assert_array_equal(customers - before, net)
    assert df["new_customers"].sum() > 0
    assert df["churned"].sum() > 0


def test_channels_and_reasons_add_up(finished_run) -> None:
    model, _ = finished_run
    df = model.results()
    new = df[[f"new_{c}" for c in ACQUISITION_CHANNELS]].sum(axis=1)
    churned = df[[f"churned_{r}" for r in CHURN_REASONS]].sum(axis=1)
    np.testing.assert_array_equal(df["new_customers"], new)
    np.testing.assert_array_equal(df["churned"], churned)
    np.testing.assert_array_equal(df["switched_out"], df["churned_competitor"])


def test_switches_balance_across_firms(finished_run) -> None:
    """Every switch is a churn for one firm and a win for another.

    A switch after a rival's poaching offer is won as 'switched_in'; one after a friend's
    referral is won as 'referral'. So per step, over all firms, switches out equal
    switches in plus some of the referral wins.
    """
    model, _ = finished_run
    by_step = (
        model.results()
        .groupby("step")[["churned_competitor", "new_switched_in", "new_referral"]]
        .sum()
    )
    surplus = by_step["churned_competitor"] - by_step["new_switched_in"]
    assert (surplus >= 0).all()
    assert (surplus <= by_step["new_referral"]).all()
    assert by_step["churned_competitor"].sum() > 0


def test_money_adds_up(finished_run) -> None:
    model, _ = finished_run
    df = model.results()
    assert (df["revenue"] >= 0).all()
    assert (df["cogs"] >= 0).all()
    for name, rows in df.groupby("firm"):
        np.testing.assert_allclose(
            rows["cumulative_profit"], rows["profit"].cumsum(), err_msg=str(name)
        )
    # profit is revenue less cost of goods and marketing spend, and less any other costs
    contribution = df["revenue"] - df["cogs"] - df["acquisition_spend"] - df["retention_spend"]
    assert (df["profit"] <= contribution + 1e-6).all()
    np.testing.assert_allclose(df["revenue"] / df["units"], df["price"])


def test_bounded_measures(finished_run) -> None:
    model, _ = finished_run
    df = model.results()
    assert df["nps"].between(-100, 100).all()
    assert df["retention_rate"].between(0, 1).all()
    assert df["mean_satisfaction"].between(0, 1).all()
    assert df["repeat_purchase_rate"].between(0, 1).all()
    assert (df["promoters"] + df["detractors"] <= df["customers"]).all()
    assert (df["loyalty_members"] <= df["customers"]).all()
    assert (df["complaints_resolved"] <= df["complaints"]).all()
    assert (df["complaints"] <= df["service_failures"]).all()
    assert (df["pushy_contacts"] <= df["care_contacts"]).all()
    signed = {"nps", "profit", "cumulative_profit", "discounted_profit"}
    counts_and_levels = [m for m in METRICS if m not in signed]
    assert (df[counts_and_levels].dropna() >= 0).all().all()


def test_cohort_clv(finished_run) -> None:
    model, start = finished_run
    df = model.results()
    cohorts = model.cohort_clv()
    assert list(cohorts.columns) == [
        "firm",
        "cohort_step",
        "customers_won",
        "survivors",
        "discounted_margin",
        "remaining_margin",
        "realised_value",
        "clv",
        "steps_observed",
    ]
    last = int(df["step"].max())
    assert cohorts["cohort_step"].between(0, last).all()
    np.testing.assert_array_equal(cohorts["steps_observed"], last - cohorts["cohort_step"])
    np.testing.assert_allclose(
        cohorts["realised_value"], cohorts["discounted_margin"] / cohorts["customers_won"]
    )
    # clv = realised + the survivors' expected remaining margin, per customer won
    np.testing.assert_allclose(
        cohorts["clv"],
        (cohorts["discounted_margin"] + cohorts["remaining_margin"]) / cohorts["customers_won"],
    )
    assert (cohorts["survivors"] <= cohorts["customers_won"]).all()
    assert (cohorts.loc[cohorts["survivors"] == 0, "remaining_margin"] == 0).all()
    assert (cohorts["remaining_margin"] >= 0).all()  # 0 for one won too late to buy yet
    assert cohorts.loc[cohorts["survivors"] > 0, "remaining_margin"].sum() > 0
    # the survivors are the firms' customers at the end
    end = df[df["step"] == last].set_index("firm")["customers"]
    np.testing.assert_array_equal(
        cohorts.groupby("firm")["survivors"].sum().reindex(firms := list(model.firm_names)),
        end.reindex(firms),
    )
    assert not cohorts.duplicated(["firm", "cohort_step"]).any()
    firms = list(model.firm_names)
    initial = cohorts[cohorts["cohort_step"] == 0].set_index("firm")["customers_won"]
    np.testing.assert_array_equal(initial.reindex(firms).to_numpy(), start)
    won = cohorts[cohorts["cohort_step"] > 0].groupby("firm")["customers_won"].sum()
    new = df.groupby("firm")["new_customers"].sum()
    np.testing.assert_array_equal(won.reindex(firms, fill_value=0), new.reindex(firms))
    # the run's discount rate is 0, so the cohorts' margins are the firms' margins
    margin = (df["revenue"] - df["cogs"]).groupby(df["firm"]).sum()
    booked = cohorts.groupby("firm")["discounted_margin"].sum()
    np.testing.assert_allclose(booked.reindex(firms), margin.reindex(firms), rtol=1e-9)


def test_remaining_value_is_the_survivors_discounted_expected_margin() -> None:
    """m r d / (1 - r d) per survivor, discounted back to the cohort's step."""
    d = 1 / 1.01
    ledger = CohortValue(n_firms=2, discount_factor=d)
    firm = np.array([0, 0, 1])
    cohort = np.array([3, 5, 5])
    margin = np.array([10.0, 20.0, 5.0])
    retention = np.array([0.9, 0.0])  # firm 1 keeps nobody: no remaining value
    survivors, expected = ledger.remaining(firm, cohort, margin, retention, last_step=5)
    tail = 0.9 * d / (1 - 0.9 * d)
    assert expected[0, 3] == pytest.approx(10.0 * tail * d**2)
    assert expected[0, 5] == pytest.approx(20.0 * tail)
    assert expected[1, 5] == 0.0
    assert survivors[0, 3] == survivors[0, 5] == survivors[1, 5] == 1
    assert survivors.sum() == 3


def test_cohort_value_is_discounted(make_small_scenario) -> None:
    plain = make_small_scenario(1_000, 26, market={"discount_rate_per_year": 0.0})
    discounted = make_small_scenario(1_000, 26, market={"discount_rate_per_year": 0.5})
    a = MarketModel(plain, seed=2).run().cohort_clv()
    b = MarketModel(discounted, seed=2).run().cohort_clv()
    # same draws (the discount rate only changes bookkeeping), lower value for later margins
    pd.testing.assert_frame_equal(a[["firm", "cohort_step"]], b[["firm", "cohort_step"]])
    assert (b["discounted_margin"] <= a["discounted_margin"] + 1e-9).all()
    assert (b["discounted_margin"] < a["discounted_margin"]).any()


def test_pyramid_counts_follow_their_definitions(finished_run) -> None:
    """The pyramid tiers, counted without a pass per firm, match the definitions directly."""
    model, _ = finished_run
    pop = model.population
    last = model.records[-1]
    for f in range(model.n_firms):
        mine = pop.firm == f
        inactive = ~mine & (pop.former_firm == f)
        prospects = ~mine & ~inactive & pop.aware[:, f]
        for k, tier in enumerate(("top", "big", "medium", "small")):
            assert last[f"tier_{tier}"][f] == np.count_nonzero(mine & (pop.tier == k))
        assert last["tier_inactive"][f] == np.count_nonzero(inactive)
        assert last["tier_prospects"][f] == np.count_nonzero(prospects)
        assert last["tier_suspects"][f] == np.count_nonzero(~mine & ~inactive & ~prospects)
    assert last["tier_inactive"].sum() > 0 and last["tier_prospects"].sum() > 0


def _closed_market_run(
    n: int,
    steps: int,
    engine: str,
    heterogeneity: dict[str, object],
    *,
    base_hazard: float,
    seed: int,
) -> pd.DataFrame:
    """Results of a closed market: everybody a customer of the one firm, no acquisition,
    no word of mouth, no poaching, and no churn hazard but the background one."""
    scenario = Scenario(
        simulation={"steps": steps, "engine": engine},
        market={
            "n_customers": n,
            "heterogeneity": heterogeneity,
            "initial_penetration": 1.0,
            "need_per_year": 0.0,
            "poaching_offers_per_year": 0.0,
            "word_of_mouth": {"referrals_per_year": 0.0, "peers_deterred_per_episode": 0.0},
            "churn": {
                "base_per_year": base_hazard,
                "dissatisfaction_per_year": 0.0,
                "neglect_per_year": 0.0,
                "unresolved_complaint_per_year": 0.0,
                "price_per_year": 0.0,
            },
        },
        firm={"budget_per_year": 0.0, "initial_share": 1.0},
        competitors=(),
        employees={"enabled": False},
        suppliers={"enabled": False},
    )
    policy = Policy(name="none", budget_per_year=0.0)
    return MarketModel(scenario, policy=policy, seed=seed).run().results()


def test_churn_hazards_above_one_per_year_are_rates() -> None:
    """A yearly hazard of 3 (95% leave within a year) is valid; a quarter keeps exp(-0.75).

    Everyone has the same churn proneness (heterogeneity off), so one hazard applies to all.
    """
    n, steps, hazard = 20_000, 13, 3.0
    df = _closed_market_run(n, steps, "vectorized", {"enabled": False}, base_hazard=hazard, seed=3)
    assert df["churned"].sum() == df["churned_other"].sum()
    assert df["new_customers"].sum() == 0
    kept = df["customers"].iloc[-1] / n
    p = math.exp(-hazard * steps / 52)
    assert abs(kept - p) <= 4.0 * math.sqrt(p * (1 - p) / n), (kept, p)
    with pytest.raises(ValidationError):
        Scenario.model_validate({"market": {"churn": {"neglect_per_year": -0.1}}})


@pytest.mark.parametrize("engine", ["vectorized", "agent"])
def test_after_purchase_dropout_lapses_buyers_with_chance_p(engine) -> None:
    """dropout = "after_purchase" (BG/NBD): each step with a purchase is followed by a lapse
    (reason 'other') with chance p, in both engines.

    A closed market (no acquisition, no churn hazards, no poaching) whose dropout
    propensities are all close to 0.2 (Beta(400, 1600): sd 0.009), so the lapses are
    Binomial(buyer-steps, 0.2): within 4 standard deviations.
    """
    n, steps = (4_000, 26) if engine == "vectorized" else (300, 15)
    heterogeneity = {"a": 400.0, "b": 1600.0, "dropout": "after_purchase"}
    df = _closed_market_run(n, steps, engine, heterogeneity, base_hazard=0.0, seed=4)
    assert df["new_customers"].sum() == 0
    assert df["churned"].sum() == df["churned_other"].sum()
    buyer_steps, lapses = float(df["purchases"].sum()), float(df["churned_other"].sum())
    assert buyer_steps > 200
    sd = math.sqrt(buyer_steps * 0.2 * 0.8)
    assert abs(lapses - 0.2 * buyer_steps) <= 4.0 * sd, (lapses, buyer_steps)
    # the customers left are the ones who never lapsed: n less the lapses, step by step
    assert df["customers"].iloc[-1] == n - lapses


# ---------------------------------------------------------------------------- errors


def test_unknown_policy_preset() -> None:
    with pytest.raises(ValueError, match="unknown policy preset 'no_such_policy'") as info:
        MarketModel(Scenario.default(), policy="no_such_policy", seed=1)
    for name in PRESETS:
        assert name in str(info.value)


def test_unknown_engine(make_small_scenario) -> None:
    with pytest.raises(ValueError, match="unknown engine"):
        MarketModel(make_small_scenario(100, 2), seed=1, engine="quantum")


@pytest.mark.parametrize(
    "data",
    [
        {"markt": {}},
        {"market": {"n_customerz": 100}},
        {"market": {"churn": {"base_per_yr": 0.1}}},
        {"firm": {"prize": 40.0}},
        {"competitors": [{"name": "r", "policy": {"budget": 1.0}}]},
    ],
)
def test_scenario_rejects_unknown_keys(data) -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        Scenario.model_validate(data)


def test_scenario_rejects_out_of_range_values() -> None:
    with pytest.raises(ValidationError):
        Scenario.model_validate({"market": {"initial_penetration": 1.5}})
    with pytest.raises(ValidationError):
        Scenario.model_validate({"simulation": {"step_length": "fortnight"}})


@pytest.mark.parametrize(
    "make",
    [
        lambda: AcquisitionMix(advertising=0.5, promotions=0.5, sales_visits=0.5),
        lambda: AcquisitionMix(advertising=0.1, promotions=0.1, sales_visits=0.1),
        lambda: RetentionMix(
            care_contacts=0.4, loyalty_program=0.4, complaint_handling=0.4, service_level=0.0
        ),
        lambda: Policy(retention_mix={"care_contacts": 1.0, "loyalty_program": 0.2}),
    ],
)
def test_mixes_must_sum_to_one(make) -> None:
    with pytest.raises(ValidationError, match="must sum to 1"):
        make()


def test_valid_mix_is_accepted() -> None:
    mix = RetentionMix(
        care_contacts=0.7, loyalty_program=0.1, complaint_handling=0.1, service_level=0.1
    )
    assert sum(mix.model_dump().values()) == pytest.approx(1.0)


def test_scenario_is_immutable() -> None:
    scenario = Scenario.default()
    with pytest.raises(ValidationError):
        scenario.market.n_customers = 5  # type: ignore[misc]


def test_scenario_consistency_checks() -> None:
    with pytest.raises(ValidationError, match="unique"):
        Scenario.model_validate({"competitors": [{"name": "focal"}]})
    with pytest.raises(ValidationError, match="initial_share"):
        Scenario.model_validate({"firm": {"initial_share": 0.9}})


def test_with_updates() -> None:
    scenario = Scenario.default().with_updates({"market.n_customers": 500, "firm.price": 45.0})
    assert scenario.market.n_customers == 500
    assert scenario.firm.price == 45.0
    with pytest.raises(KeyError, match="unknown scenario key"):
        Scenario.default().with_updates({"market.n_customerz": 5})
    with pytest.raises(ValidationError):
        Scenario.default().with_updates({"market.n_customers": -1})


def test_with_updates_reaches_competitors() -> None:
    scenario = Scenario.default().with_updates({"competitors.0.price": 42.5})
    assert scenario.competitors[0].price == 42.5
    assert scenario.competitors[1].price == Scenario.default().competitors[1].price
    with pytest.raises(KeyError):
        Scenario.default().with_updates({"competitors.9.price": 42.5})
