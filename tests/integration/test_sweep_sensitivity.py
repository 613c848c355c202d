"""`marketsim sweep`, `marketsim sensitivity` and the robustness outputs of `marketsim run`,
end to end on small markets (a few hundred to 2,000 people, a few weeks)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import commands as cli

BASE = """\
# A small market for the experiment commands' tests.
name = "small"

[simulation]
steps = {steps}
replications = {replications}
seed = 5

[market]
n_customers = {n}

[firm]
name = "focal"
budget_per_year = {budget}

[[competitors]]
name = "rival"
budget_per_year = {budget}

[employees]
per_firm = {staff}

[outputs]
formats = ["png"]
dpi = 50
network_sample = 0

[[policies]]
preset = "acquisition_heavy"

[[policies]]
preset = "retention_heavy"
"""


def _write(folder: Path, n: int, steps: int, replications: int, extra: str = "") -> Path:
    scale = n / 10_000
    text = BASE.format(
        steps=steps,
        replications=replications,
        n=n,
        budget=200_000 * scale,
        staff=max(1, round(20 * scale)),
    )
    path = folder / "small.toml"
    path.write_text(text + extra, encoding="utf-8")
    return path


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def test_sweep_of_one_parameter_writes_the_table_and_line_plot(tmp_path, capsys):
    scenario = _write(tmp_path, 500, 6, 2)
    out = tmp_path / "sweep"
    param = "market.word_of_mouth.p_referral_conversion=0.2:0.6:3"
    code = cli.main(["sweep", str(scenario), "--param", param, "--out", str(out), "--workers", "1"])
    assert code == 0
    table = _csv(out / "sweep.csv")
    assert len(table) == 3 * 2
    assert table["market.word_of_mouth.p_referral_conversion"].unique().tolist() == [0.2, 0.4, 0.6]
    assert (table["replications"] == 2).all() and table["ci_low"].notna().all()
    assert (table["ci_low"] <= table["mean"]).all() and (table["mean"] <= table["ci_high"]).all()
    assert table.groupby("point")["is_best"].sum().tolist() == [1, 1, 1]
    assert (out / "plots" / "sweep_lines.png").read_bytes().startswith(b"\x89PNG")
    scenarios = _csv(out / "scenarios.csv")
    assert scenarios.columns.tolist() == ["scenario", "market.word_of_mouth.p_referral_conversion"]
    printed = capsys.readouterr().out
    assert "p_referral_conversion=0.4:" in printed


def test_sweep_of_two_parameters_draws_heatmaps(tmp_path):
    scenario = _write(tmp_path, 400, 4, 1)
    out = tmp_path / "grid"
    args = ["sweep", str(scenario), "--out", str(out), "--workers", "1", "--quiet"]
    args += ["--param", "firm.unit_cost=25:35:2", "--param", "network.weak_tie_share=0.2:0.8:2"]
    assert cli.main(args) == 0
    table = _csv(out / "sweep.csv")
    assert len(table) == 4 * 2
    assert table["point"].tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert (out / "plots" / "sweep_heatmaps.png").is_file()


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("firm.unit_cost=25:35", "expected KEY.PATH=START:STOP:COUNT"),
        ("firm.unit_cots=25:35:3", "did you mean 'unit_cost'?"),
        ("market.word_of_mouth.p_referral_conversion=0.5:1.5:3", "expected a number from 0 to 1"),
    ],
)
def test_a_bad_param_is_a_user_error(tmp_path, capsys, param, message):
    scenario = _write(tmp_path, 400, 4, 1)
    code = cli.main(["sweep", str(scenario), "--param", param, "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()


UNCERTAIN = """
[uncertainties]
"firm.unit_cost" = { low = 10.0, high = 45.0 }
"market.discount_rate_per_year" = { low = 0.0, high = 0.5 }
"""


def test_morris_ranks_the_parameter_that_matters_above_one_that_cannot(tmp_path):
    """Unit cost sets the margin of every sale; the discount rate only changes how profit is
    *discounted*, so it cannot change cumulative (undiscounted) profit: its elementary
    effects are the noise between the markets' seeds alone."""
    scenario = _write(tmp_path, 2000, 20, 1, UNCERTAIN)
    out = tmp_path / "sens"
    args = ["sensitivity", str(scenario), "--method", "morris", "--samples", "6"]
    assert cli.main([*args, "--out", str(out), "--workers", "1", "--quiet"]) == 0
    table = _csv(out / "sensitivity.csv")
    assert len(table) == 3 * 3  # two policies and their difference: 2 parameters + noise floor
    assert set(table["method"]) == {"morris"} and (table["scenarios"] == 6 * 4).all()
    for policy in ("acquisition_heavy", "retention_heavy"):
        own = table[(table["policy"] == policy) & table["compared_with"].isna()]
        own = own.set_index("parameter")
        cost, rate = own.loc["firm.unit_cost"], own.loc["market.discount_rate_per_year"]
        noise = own.loc["noise_floor"]
        assert cost["mu_star"] - cost["mu_star_conf"] > rate["mu_star"] + rate["mu_star_conf"]
        assert cost["mu_star"] - cost["mu_star_conf"] > noise["mu_star"] + noise["mu_star_conf"]
    assert (out / "plots" / "sensitivity.png").is_file()
    assert len(_csv(out / "scenarios.csv")) == 24


def test_sobol_writes_first_and_total_indices(tmp_path):
    scenario = _write(tmp_path, 300, 3, 1, UNCERTAIN)
    out = tmp_path / "sobol"
    args = ["sensitivity", str(scenario), "--samples", "4", "--out", str(out)]
    assert cli.main([*args, "--workers", "1", "--quiet"]) == 0
    table = _csv(out / "sensitivity.csv")
    assert set(table["method"]) == {"sobol"}
    for column in ("S1", "S1_conf", "ST", "ST_conf"):
        assert table[column].map(math.isfinite).all()
    assert table["mu_star"].isna().all()


def test_sensitivity_needs_uncertainties_and_a_power_of_two(tmp_path, capsys):
    scenario = _write(tmp_path, 300, 3, 1)
    assert cli.main(["sensitivity", str(scenario), "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert str(scenario) in err and "no [uncertainties] section" in err
    assert "Traceback" not in err
    with_ranges = _write(tmp_path, 300, 3, 1, UNCERTAIN)
    assert cli.main(["sensitivity", str(with_ranges), "--samples", "6"]) == 2
    assert "power of 2" in capsys.readouterr().err


def test_run_with_uncertainties_writes_robustness_and_the_report_section(tmp_path):
    extra = UNCERTAIN + "\n[experiment]\nscenarios = 4\n"
    scenario = _write(tmp_path, 400, 4, 2, extra)
    out = tmp_path / "run"
    assert cli.main(["run", str(scenario), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    robust = _csv(out / "robustness.csv")
    assert robust["policy"].tolist() == ["acquisition_heavy", "retention_heavy"]
    assert robust["wins"].sum() == 4 and (robust["scenarios"] == 4).all()
    regret = _csv(out / "regret.csv")
    assert len(regret) == 4 * 2 and (regret["regret"] >= 0).all()
    assert len(_csv(out / "scenarios.csv")) == 4
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Robustness: which policy holds up" in html
    assert (out / "plots" / "robustness_winner_map.png").is_file()
