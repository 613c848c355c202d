"""The results layer: headline outcomes, the summary's statistics, atomic files."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from sim.analysis.statistics import mean_ci, paired_difference_ci
from sim.analysis.summary import summarize, write_summary
from sim.common.errors import ExperimentError
from sim.common.files import TableStream, atomic_write_text
from sim.common.outcomes import HEADLINES
from sim.common.seeds import replication_seeds
from sim.config.scenario_file import parse_scenario
from sim.experiment.provenance import RunFacts, write_provenance
from sim.experiment.runstore import RESULT_TABLES, RunRecord, RunStore, encode_run
from sim.model.outcomes import outcomes_of_run


def _outcomes(values: dict[str, list[float]], firms=("focal", "rival")) -> pd.DataFrame:
    """outcomes.csv-like rows: each policy's cumulative_profit per replication."""
    rows = []
    for policy, series in values.items():
        for k, v in enumerate(series):
            for f, firm in enumerate(firms):
                rows.append(
                    {
                        "policy": policy,
                        "replication": k,
                        "firm": firm,
                        **{m: v + 1000 * f + i for i, m in enumerate(HEADLINES)},
                    }
                )
    return pd.DataFrame(rows)


def test_summary_statistics_match_the_analytics_functions():
    base = [100.0, 120.0, 90.0, 110.0]
    other = [130.0, 125.0, 100.0, 150.0]
    s = summarize(_outcomes({"base": base, "other": other}), ["base", "other"])
    assert set(s["outcome"]) == set(HEADLINES)
    assert len(s) == 2 * 2 * len(HEADLINES)
    row = s[(s.policy == "other") & (s.firm == "focal") & (s.outcome == "customers")].iloc[0]
    ci = mean_ci(other)
    d = paired_difference_ci(other, base)
    assert row["mean"] == pytest.approx(ci.mean)
    assert row["sd"] == pytest.approx(ci.sd)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.lo, ci.hi))
    assert row["diff_mean"] == pytest.approx(d.mean_diff)
    assert (row["diff_ci_low"], row["diff_ci_high"]) == pytest.approx((d.lo, d.hi))
    assert row["wins_vs_baseline"] == 4 == d.n_a_better
    ratios = 100 * (np.array(other) - np.array(base)) / np.array(base)  # per replication
    assert row["diff_pct"] == pytest.approx(ratios.mean())
    assert row["diff_pct_note"] == ""
    assert row["baseline"] == "base"
    assert row["replications"] == row["n"] == 4
    own = s[(s.policy == "base") & (s.outcome == "clv")]
    assert (own["diff_mean"] == 0).all() and (own["wins_vs_baseline"] == 0).all()


def test_summary_pairs_by_replication_not_by_row_order():
    base = _outcomes({"base": [1.0, 2.0, 3.0]})
    other = _outcomes({"other": [1.5, 2.5, 3.5]}).iloc[::-1]  # rows in another order
    s = summarize(pd.concat([base, other]), ["base", "other"])
    row = s[(s.policy == "other") & (s.firm == "focal") & (s.outcome == "customers")].iloc[0]
    assert row["diff_mean"] == pytest.approx(0.5)
    assert row["diff_ci_low"] == pytest.approx(0.5)  # the paired differences are constant
    assert row["wins_vs_baseline"] == 3


def test_single_replication_gives_means_without_intervals():
    s = summarize(_outcomes({"a": [5.0], "b": [6.0]}))
    row = s[(s.policy == "b") & (s.firm == "focal") & (s.outcome == "customers")].iloc[0]
    assert row["mean"] == 6.0
    assert np.isnan(row["ci_low"]) and np.isnan(row["diff_ci_low"])
    assert row["wins_vs_baseline"] == 1


def _run_frames(steps=10, spy=4, retention=0.9):
    ts = pd.DataFrame(
        {
            "policy": "p",
            "replication": 0,
            "step": np.repeat(np.arange(1, steps + 1), 2),
            "firm": ["focal", "rival"] * steps,
            "customers": np.arange(2 * steps, dtype=float),
            "cumulative_profit": 1.0,
            "discounted_profit": 0.5,
            "nps": 10.0,
            "retention_rate": retention,
        }
    )
    cohorts = pd.DataFrame(
        {
            "policy": "p",
            "replication": 0,
            "firm": ["focal", "focal", "focal", "rival"],
            "cohort_step": [0, 1, 5, 0],
            "customers_won": [100, 10, 30, 50],
            "discounted_margin": [1e6, 100.0, 500.0, 1e5],
            "remaining_margin": [5e5, 40.0, 160.0, 1e4],
            "clv": [1.5e4, 14.0, 22.0, 2.2e3],
            "steps_observed": [10, 9, 5, 10],
        }
    )
    return ts, cohorts, spy


def test_outcomes_of_run_headlines():
    ts, cohorts, spy = _run_frames()
    out = outcomes_of_run(ts, cohorts, spy).set_index("firm")
    assert out.loc["focal", "customers"] == 18.0  # the last step's state
    assert out.loc["focal", "retention_rate"] == pytest.approx(0.9**4)  # kept over a year
    # cohorts >= 1, by size: realised 600 plus expected remaining 200 over 40 won
    assert out.loc["focal", "realised_value"] == pytest.approx(600.0 / 40)
    assert out.loc["focal", "clv"] == pytest.approx(800.0 / 40)
    assert np.isnan(out.loc["rival", "clv"])  # it won nobody during the run
    assert list(out.columns[:2]) == ["policy", "replication"]


def test_retention_is_annualised_for_runs_shorter_than_a_year():
    ts, cohorts, _ = _run_frames(steps=2, retention=0.99)
    out = outcomes_of_run(ts, cohorts, steps_per_year=52)
    assert out["retention_rate"].iloc[0] == pytest.approx(0.99**52)


# --------------------------------------------------------------------------- atomic files


def test_table_stream_appears_only_when_committed(tmp_path):
    path = tmp_path / "t.csv"
    stream = TableStream(path)
    stream.write(pd.DataFrame({"a": [1, 2], "b": [3.5, 4.5]}))
    stream.write(pd.DataFrame({"a": [3], "b": [5.5]}))
    assert not path.exists()
    temps = list(tmp_path.iterdir())
    assert len(temps) == 1 and temps[0].name.startswith(".t.csv.")  # same folder
    stream.commit()
    assert path.read_text() == "a,b\n1,3.5\n2,4.5\n3,5.5\n"
    assert list(tmp_path.iterdir()) == [path]
    assert stream.rows == 3


def test_table_stream_aborts_on_error_and_checks_columns(tmp_path):
    path = tmp_path / "t.csv"
    with pytest.raises(ValueError, match="columns changed"), TableStream(path) as stream:
        stream.write(pd.DataFrame({"a": [1]}))
        stream.write(pd.DataFrame({"b": [1]}))
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_replaces_and_keeps_the_usual_mode(tmp_path):
    path = tmp_path / "x.txt"
    atomic_write_text(path, "one")
    atomic_write_text(path, "two")
    assert path.read_text() == "two"
    assert list(tmp_path.iterdir()) == [path]
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


# --------------------------------------------------------------------------- writing a folder


def _fake_store(sf, folder):
    """A run store holding run files shaped like the engine's, without running a model."""
    seeds = replication_seeds(sf.simulation.seed, sf.simulation.replications)
    records = []
    for k, seed in enumerate(seeds):
        for p, policy in enumerate(sf.policies):
            records.append(RunRecord(len(records), policy.name, p, 0, k, seed))
    store = RunStore(folder)
    meta = {"replications": len(seeds), "scenarios": 1}
    index = store.open(records, "f" * 64, meta, resume=False)
    for r in records:
        ts, cohorts, _ = _run_frames()
        ts["policy"] = cohorts["policy"] = r.policy
        ts["replication"] = cohorts["replication"] = r.replication
        ts.insert(1, "scenario", 0)
        cohorts.insert(1, "scenario", 0)
        ts["customers"] += 10 * r.policy_index + r.replication
        outcomes = outcomes_of_run(ts, cohorts, sf.simulation.steps_per_year)
        tables = {
            name: (df.to_csv(index=False, lineterminator="\n"), len(df))
            for name, df in (("outcomes", outcomes), ("timeseries", ts), ("cohorts", cohorts))
        }
        store.write_run(index, r, encode_run({"index": r.index}, tables))
    return store, index


SMALL = """
name = "fake"
[simulation]
replications = 3
steps = 10
step_length = "quarter"
[[policies]]
preset = "balanced"
[[policies]]
preset = "retention_heavy"
"""


def test_write_results_folder(tmp_path):
    sf = parse_scenario(SMALL)
    store, index = _fake_store(sf, tmp_path)
    index.meta["rows"] = store.assemble(index, RESULT_TABLES)
    summary = write_summary(tmp_path, [p.name for p in sf.policies])
    facts = RunFacts.from_index(index, rows={"summary": len(summary)})
    write_provenance(tmp_path, sf, facts, source="fake.toml", header="Q?")
    names = {p.name for p in tmp_path.iterdir()}
    assert {
        "timeseries.csv",
        "cohorts.csv",
        "outcomes.csv",
        "summary.csv",
        "scenario.resolved.toml",
        "manifest.json",
    } <= names
    assert not any(n.startswith(".") for n in names)  # no temporary files left
    assert "calibration.csv" not in names  # no calibration from this fake engine
    ts = pd.read_csv(tmp_path / "timeseries.csv")
    assert list(ts.columns[:5]) == ["policy", "scenario", "replication", "step", "firm"]
    assert len(ts) == facts.rows["timeseries"] == 2 * 3 * 10 * 2
    # assembled in coordinate order (policy, scenario, replication), not in plan order
    runs = ts[["policy", "replication"]].drop_duplicates().to_numpy().tolist()
    assert runs == [[p, k] for p in ("balanced", "retention_heavy") for k in range(3)]
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert set(summary["policy"]) == {"balanced", "retention_heavy"}
    assert (summary["replications"] == 3).all()
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["replication_seeds"] == replication_seeds(sf.simulation.seed, 3)
    assert manifest["steps_per_year"] == 4
    assert manifest["question"] == "Q?"
    assert manifest["rows"]["summary"] == len(summary) and manifest["runs"] == 6
    for key in ("versions", "wall_time_s", "command_line", "git", "seed", "run_index"):
        assert key in manifest
    assert manifest["versions"]["numpy"] == np.__version__
    resolved = parse_scenario((tmp_path / "scenario.resolved.toml").read_text())
    assert resolved == sf


def test_interrupted_assembly_leaves_no_table_that_looks_complete(tmp_path):
    sf = parse_scenario(SMALL)
    store, index = _fake_store(sf, tmp_path)
    store.path_of(index.records[3]).unlink()  # a run file vanishes half-way through
    with pytest.raises(ExperimentError, match=r"a finished run's file is missing.*--resume"):
        store.assemble(index, RESULT_TABLES)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]


def test_summary_pairs_runs_by_scenario_and_replication():
    # scenario 1's replication 0 is a different market from scenario 0's replication 0
    rows = []
    for policy, shift in (("base", 0.0), ("other", 1.0)):
        for scenario, level in ((0, 10.0), (1, 1000.0)):
            for k in range(2):
                rows.append(
                    {"policy": policy, "scenario": scenario, "replication": k, "firm": "f",
                     "customers": level + k + shift}
                )  # fmt: skip
    s = summarize(pd.DataFrame(rows), ["base", "other"])
    row = s[(s.policy == "other") & (s.outcome == "customers")].iloc[0]
    assert row["replications"] == 4  # (scenario, replication) pairs
    assert row["diff_mean"] == pytest.approx(1.0)
    assert row["diff_ci_low"] == pytest.approx(1.0)  # paired within scenario: no noise
    assert row["wins_vs_baseline"] == 4
