"""The transaction log a run can write ([outputs] transactions; issue 11 item 5)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.config.schema import Scenario
from sim.model.market import MarketModel
from sim.pipeline import execute, plan_run

STEPS = 12


def _model(**updates: object) -> MarketModel:
    scenario = Scenario.default().with_updates(
        {"market.n_customers": 1500, "simulation.steps": STEPS, **updates}
    )
    return MarketModel(scenario, seed=3)


def test_the_log_books_every_purchase_and_its_revenue() -> None:
    model = _model()
    model.record_transactions()
    for _ in range(STEPS):
        model.step()
    log = model.transactions()
    res = model.results()
    by_firm = log.groupby("firm")
    for firm, rows in res.groupby("firm"):
        assert len(by_firm.get_group(firm)) == rows["purchases"].sum()
        # amounts are written to 6 decimals: the sums agree to far better than a cent
        assert by_firm.get_group(firm)["amount"].sum() == pytest.approx(
            rows["revenue"].sum(), rel=1e-9
        )
    assert list(log.columns) == ["customer_id", "date", "amount", "firm"]
    # weekly steps from the default start date
    assert log["date"].min() >= "2025-01-01"
    assert set(pd.to_datetime(log["date"]).dt.day_of_week) == {
        pd.Timestamp("2025-01-01").day_of_week
    }


def test_the_log_is_off_by_default_and_does_not_change_the_run() -> None:
    plain, logged = _model(), _model()
    logged.record_transactions(firms=np.array([0]))
    for _ in range(STEPS):
        plain.step()
        logged.step()
    assert plain.transactions().empty
    keep = np.arange(1500) % 3 == 0
    sampled = _model()
    sampled.record_transactions(keep=keep)
    for _ in range(STEPS):
        sampled.step()
    ids = sampled.transactions()["customer_id"].to_numpy()
    assert len(ids) > 0 and keep[ids].all()
    pd.testing.assert_frame_equal(plain.results(), logged.results())
    assert set(logged.transactions()["firm"]) == {"focal"}


def test_a_run_writes_a_sampled_parquet_log(tmp_path: Path) -> None:
    plan = plan_run(
        "leaky_bucket",
        out=tmp_path / "out",
        overrides={
            "market.n_customers": 800,
            "simulation.steps": 6,
            "simulation.replications": 1,
            "outputs.plots": False,
            "outputs.report": False,
            "outputs.network_sample": 0,
            "outputs.transactions": True,
            "outputs.transactions_format": "parquet",
            "outputs.transactions_sample": 0.5,
        },
    )
    results = execute(plan, workers=1)
    folder = tmp_path / "out"
    assert (folder / "transactions.parquet").is_file()
    assert not (folder / "transactions.csv").exists()
    log = results.transactions
    assert log is not None and len(log) > 0
    assert {"policy", "replication", "customer_id", "date", "amount", "firm"} <= set(log.columns)
    assert set(log["firm"]) == {results.manifest.get("focal", log["firm"].iloc[0])}
