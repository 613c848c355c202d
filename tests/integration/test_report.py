"""The report layer: headline sentences from summary.csv, graceful skips, no model imports."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd

from sim.report.data import ResultsData
from sim.report.html import headline, render_html, why_line
from sim.report.plots import churn_reasons, render_plots

ROOT = Path(__file__).resolve().parents[2]


def _data(diff_pct=(0.0, 18.0), lo=(0.0, 12.0), hi=(0.0, 24.0), means=(100.0, 118.0), wins=(0, 9)):
    policies = ["acquisition_heavy", "retention_heavy"]
    rows = []
    for k, p in enumerate(policies):
        for outcome in ("cumulative_profit", "customers", "retention_rate", "nps", "clv"):
            rows.append(
                {
                    "policy": p, "firm": "focal", "outcome": outcome, "n": 10,
                    "mean": means[k], "sd": 1.0, "ci_low": means[k] - 1, "ci_high": means[k] + 1,
                    "baseline": policies[0], "diff_mean": means[k] - means[0],
                    "diff_ci_low": lo[k], "diff_ci_high": hi[k], "diff_pct": diff_pct[k],
                    "diff_pct_low": lo[k], "diff_pct_high": hi[k],
                    "wins_vs_baseline": wins[k], "replications": 10,
                }
            )  # fmt: skip
    steps = np.arange(1, 53)
    ts = pd.DataFrame(
        {
            "policy": np.repeat(policies, steps.size),
            "replication": 0,
            "step": np.tile(steps, 2),
            "firm": "focal",
            "customers": 100.0,
        }
    )
    manifest = {"policies": policies, "firms": ["focal"], "steps_per_year": 52}
    return ResultsData(Path("."), ts, pd.DataFrame(rows), manifest=manifest)


def test_headline_names_winner_size_interval_and_wins():
    lines = headline(_data())
    assert lines[0] == (
        "retention_heavy ends the 1-year horizon with 18 more cumulative profit than "
        "acquisition_heavy (95% interval +12 to +24); it did better in 9 of 10 replications. "
        "As a percentage: a +18% change from acquisition_heavy's cumulative profit "
        "(95% interval +12% to +24%, from the ratio in each replication)."
    )


def test_headline_says_when_the_difference_is_not_clear():
    lines = headline(_data(lo=(0.0, -3.0), hi=(0.0, 9.0), wins=(0, 6)))
    assert "not clear at this many replications" in lines[0]


def test_headline_when_the_baseline_wins():
    lines = headline(_data(diff_pct=(0.0, -10.0), lo=(0.0, -14.0), hi=(0.0, -6.0),
                           means=(100.0, 90.0), wins=(0, 1)))  # fmt: skip
    assert lines[0].startswith("acquisition_heavy ends the 1-year horizon with the most")
    assert "retention_heavy, ends 10 lower (95% interval -14 to -6)" in lines[0]


def test_why_line_and_missing_columns_degrade_gracefully(tmp_path):
    data = _data()
    assert why_line(data).startswith("Compared with acquisition_heavy, retention_heavy")
    plots = render_plots(data, tmp_path / "plots", formats=("png",), dpi=40)
    skipped = {p.name: p.skipped for p in plots if p.skipped}
    assert "5_customer_pyramid" in skipped and "tier_top" in skipped["5_customer_pyramid"]
    assert "8_staff_and_suppliers" in skipped
    assert "7_network" in skipped
    assert (tmp_path / "plots" / "1_policies_over_time.png").is_file()  # customers exist
    page = render_html(data, plots)
    assert page.count("<img ") == sum(p.png is not None for p in plots)
    assert "Skipped:" in page


def test_churn_reason_columns():
    cols = ["churned", "churned_insufficient_care", "churned_top_tiers", "churned_new_reason"]
    assert churn_reasons(cols) == ["churned_insufficient_care", "churned_new_reason"]


FORBIDDEN = (
    "sim.model.market",
    "sim.experiment.runner",
    "sim.model.agents",
    "sim.model.engines",
    "sim.model.behaviour",
)


def _imports(path: Path, module_level_only: bool = False) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_report_reads_tables_and_never_imports_the_model():
    for path in (ROOT / "sim" / "report").glob("*.py"):
        bad = {m for m in _imports(path) if m.startswith(FORBIDDEN)}
        assert not bad, f"{path.name} imports {bad}"
    # sim.analysis.summary (whose file helpers the report uses) imports the experiment lazily only
    bad = {
        m
        for m in _imports(ROOT / "sim" / "analysis" / "summary.py", True)
        if m.startswith(FORBIDDEN)
    }
    assert not bad, bad
