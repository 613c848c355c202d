"""The `marketsim` command line: exit codes, messages, subcommands, the results folder."""

from __future__ import annotations

import json
import tomllib

import pandas as pd
import pytest

from sim.cli import commands as cli
from sim.common.outcomes import HEADLINES
from sim.config.scenario_file import load_scenario
from sim.model.market import MarketModel
from sim.report.plots import FIGURES
from tests.integration.cli_helpers import CSV_TABLES, DATA_DIR, TINY_FIRMS, TINY_POLICIES, run_cli

# --------------------------------------------------------------------------- run


def test_run_writes_the_whole_results_folder(tiny_run):
    out, proc = tiny_run
    for name in (*CSV_TABLES, "scenario.resolved.toml", "manifest.json", "report.html"):
        assert (out / name).is_file(), name
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no temp files
    for stem, *_ in FIGURES:  # every figure (the engine has every column), PNG by default
        assert (out / "plots" / f"{stem}.png").is_file(), stem
        assert not (out / "plots" / f"{stem}.svg").exists(), stem  # SVG only on request
    assert "report:" in proc.stderr and "done in" in proc.stderr
    assert "replications" in proc.stdout  # the headline sentence


def test_timeseries_has_one_row_per_policy_replication_step_firm(tiny_run, tiny_scenario):
    out, _ = tiny_run
    ts = pd.read_csv(out / "timeseries.csv", keep_default_na=False, na_values=[""])
    engine = MarketModel(load_scenario(tiny_scenario).to_scenario(), seed=1).run(1).results()
    assert list(ts.columns) == ["policy", "scenario", "replication", *engine.columns]
    assert len(ts) == 2 * 2 * 12 * 3
    assert list(pd.unique(ts["policy"])) == TINY_POLICIES
    assert list(pd.unique(ts["firm"])) == TINY_FIRMS
    keys = ts[["policy", "scenario", "replication", "step", "firm"]]
    assert not keys.duplicated().any()
    assert sorted(ts["step"].unique()) == list(range(1, 13))


def test_summary_outcomes_and_calibration_columns(tiny_run):
    out, _ = tiny_run
    summary = pd.read_csv(out / "summary.csv", keep_default_na=False, na_values=[""])
    assert list(summary.columns) == [
        "policy", "firm", "outcome", "n", "mean", "sd", "ci_low", "ci_high", "baseline",
        "diff_mean", "diff_ci_low", "diff_ci_high", "diff_pct", "diff_pct_low",
        "diff_pct_high", "wins_vs_baseline", "replications", "diff_pct_note",
    ]  # fmt: skip
    assert len(summary) == 2 * 3 * len(HEADLINES)
    assert set(summary["outcome"]) == set(HEADLINES)
    assert (summary["baseline"] == TINY_POLICIES[0]).all()
    outcomes = pd.read_csv(out / "outcomes.csv", keep_default_na=False, na_values=[""])
    assert list(outcomes.columns) == [
        "policy", "scenario", "replication", "seed", "firm", *HEADLINES
    ]  # fmt: skip
    assert len(outcomes) == 2 * 2 * 3
    calibration = pd.read_csv(out / "calibration.csv")
    assert list(calibration.columns[:3]) == ["policy", "scenario", "replication"]
    for column in ("name", "measured", "target", "ok", "method"):
        assert column in calibration.columns


def test_resolved_scenario_and_manifest(tiny_run, tiny_scenario):
    out, _ = tiny_run
    assert load_scenario(out / "scenario.resolved.toml") == load_scenario(tiny_scenario)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["policies"] == TINY_POLICIES
    assert manifest["firms"] == TINY_FIRMS
    assert manifest["seed"] == 42 and len(manifest["replication_seeds"]) == 2
    assert manifest["command_line"][:2] == ["marketsim", "run"]
    assert manifest["wall_time_s"] > 0
    for package in ("marketsim", "numpy", "pandas", "mesa", "matplotlib", "python"):
        assert manifest["versions"][package]
    assert manifest["question"].startswith("How do two budget splits compare")


def test_report_rerenders_from_the_folder_alone(tiny_run, tmp_path):
    out, _ = tiny_run
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in (*CSV_TABLES, "scenario.resolved.toml", "manifest.json"):
        (copy / name).write_bytes((out / name).read_bytes())
    proc = run_cli("report", str(copy))
    assert proc.returncode == 0, proc.stderr
    assert f"{len(FIGURES)} figures drawn" in proc.stdout  # 9: the waterfall included
    assert (copy / "report.html").is_file()
    assert len(list((copy / "plots").glob("*.png"))) == len(FIGURES)


def test_report_skips_figures_whose_columns_are_missing(tiny_run, tmp_path):
    out, _ = tiny_run
    copy = tmp_path / "older_engine"
    copy.mkdir()
    for name in ("summary.csv", "outcomes.csv", "manifest.json", "scenario.resolved.toml"):
        (copy / name).write_bytes((out / name).read_bytes())
    ts = pd.read_csv(out / "timeseries.csv", keep_default_na=False, na_values=[""])
    old = [c for c in ts.columns if not c.startswith(("tier_", "staff_", "supplier_", "supply_"))]
    ts[old].to_csv(copy / "timeseries.csv", index=False)
    # an older engine wrote no calibration, cohorts or waterfall: its manifest lists none
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["rows"] = {k: v for k, v in manifest["rows"].items() if (copy / f"{k}.csv").is_file()}
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert cli.main(["report", str(copy), "--quiet"]) == 0
    html = (copy / "report.html").read_text()
    assert "Skipped: the results have no customer-pyramid columns" in html
    assert "Skipped: the results have no staff or supplier measures" in html
    assert "No calibration table in these results" in html
    assert not (copy / "plots" / "5_customer_pyramid.png").exists()
    assert (copy / "plots" / "1_policies_over_time.png").exists()


# --------------------------------------------------------------------------- exit codes


def _no_traceback(proc):
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout


def test_validate_prints_the_resolved_scenario(tiny_scenario):
    proc = run_cli("validate", str(tiny_scenario), "--set", "market.n_customers=2000")
    assert proc.returncode == 0, proc.stderr
    resolved = tomllib.loads(proc.stdout)
    assert resolved["market"]["n_customers"] == 2000
    assert resolved["market"]["word_of_mouth"]["referrals_per_year"] == 10.0  # defaults filled
    assert "is valid" in proc.stderr


def test_bad_scenario_exits_2_with_the_message_and_no_traceback():
    bad = DATA_DIR / "bad_probability.toml"
    for command in ("validate", "run"):
        proc = run_cli(command, str(bad))
        assert proc.returncode == 2
        _no_traceback(proc)
        assert f"{bad}:3: market.word_of_mouth.p_referral_conversion: got 1.3" in proc.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "no/such/file.toml"], "scenario file not found"),
        (["run"], "the following arguments are required: SCENARIO"),
        (["run", "x.toml", "--replications", "0"], "expected a whole number >= 1"),
        (["frobnicate"], "invalid choice"),
        ([], "usage: marketsim"),
        (
            ["validate", "retention_vs_acquisition", "--set", "market.n_custmers=5"],
            "did you mean 'n_customers'?",
        ),
        (["validate", "retention_vs_acquisition", "--set", "oops"], "expected KEY.PATH=VALUE"),
        (["report", "."], "not a complete results folder"),
        (["new", "x", "--from", "nope", "--dir", "/tmp"], "no such bundled scenario"),
    ],
)
def test_user_errors_exit_2(args, expected):
    proc = run_cli(*args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    _no_traceback(proc)
    assert expected in proc.stderr


def test_unexpected_errors_exit_1_with_a_short_message_and_a_log(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("MARKETSIM_LOG_DIR", str(tmp_path))

    def boom(args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(cli, "cmd_list", boom)
    monkeypatch.setattr(
        cli, "build_parser", _parser_with(cli.build_parser, "list", boom), raising=True
    )
    assert cli.main(["list"]) == cli.EXIT_BUG
    err = capsys.readouterr().err
    assert "internal error" in err and "RuntimeError: a bug" in err
    assert "Traceback" not in err
    (log,) = tmp_path.glob("crash-*.log")
    assert str(log) in err
    assert "Traceback" in log.read_text(encoding="utf-8") and "a bug" in log.read_text(
        encoding="utf-8"
    )


def _parser_with(build, command, func):
    def patched():
        parser = build()
        for action in parser._subparsers._group_actions:  # the subcommands
            action.choices[command].set_defaults(func=func)
        return parser

    return patched


def test_version_and_help_exit_0():
    assert run_cli("--version").stdout.startswith("marketsim ")
    proc = run_cli("run", "--help")
    assert proc.returncode == 0 and "--replications" in proc.stdout


# --------------------------------------------------------------------------- list and new


def test_list_shows_every_bundled_scenario_with_its_question(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for name, path in cli.bundled_scenarios().items():
        assert name in out
        first_words = path.read_text().splitlines()[0].lstrip("# ").split()[:3]
        assert " ".join(first_words) in " ".join(out.split())


def test_new_copies_a_bundled_scenario(tmp_path, capsys):
    assert cli.main(["new", "my_study", "--from", "price_war", "--dir", str(tmp_path)]) == 0
    target = tmp_path / "my_study.toml"
    sf = load_scenario(target)
    assert sf.name == "my_study"
    assert [p.name for p in sf.policies] == ["hold_price", "match_cut", "hold_and_retain"]
    assert cli.main(["new", "my_study", "--dir", str(tmp_path)]) == 2  # no overwrite
    assert "already exists" in capsys.readouterr().err
    assert cli.main(["new", "my_study", "--dir", str(tmp_path), "--force"]) == 0
    assert load_scenario(target).policies[0].name == "acquisition_heavy"  # the flagship


def test_python_dash_m_and_console_script_share_main():
    from sim import __main__ as entry

    assert entry.main is cli.main


def test_ctrl_c_leaves_no_half_written_table(tiny_scenario, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.integration.cli_helpers import ROOT

    out = tmp_path / "interrupted"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "run", str(tiny_scenario), "--out", str(out),
         "--steps", "3000", "--workers", "2", "--quiet"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    index = out / "runs" / "index.json"
    while time.monotonic() < deadline and not index.is_file():
        time.sleep(0.05)  # wait until the runs are under way (the index is written first;
        # the runs folder alone may exist a moment before it, on a busy machine)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == cli.EXIT_INTERRUPTED, err
    assert "Traceback" not in err and "interrupted" in err and "--resume" in err
    # no table, no temporary file: only the finished runs, kept for --resume
    assert [p.name for p in out.iterdir()] == ["runs"]
    assert not [p.name for p in (out / "runs").iterdir() if p.name.startswith(".")]
    assert json.loads((out / "runs" / "index.json").read_text())["counts"]["done"] < 4
