"""Helpers of the command-line tests: a tiny scenario and a way to run the command.

The tiny market (1,500 people, 12 weeks, 2 replications, 3 firms) keeps the default
market's proportions (budgets and staff scaled with the market, as in tests/conftest.py)
so every measure is exercised, in a few seconds. Its second policy and its name are
hostile HTML on purpose: every report test also checks escaping.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "tests" / "data"

EVIL_POLICY = "<script>alert(1)</script>"
EVIL_SCENARIO = "tiny & <b>bold</b>"

TINY = f"""\
# How do two budget splits compare in a tiny market? (the integration tests' scenario)
#
# 1,500 people, 12 weeks, 2 replications: small enough for the default test run.

name = "{EVIL_SCENARIO}"

[simulation]
steps = 12
replications = 2
seed = 42

[market]
n_customers = 1500

[firm]
name = "focal"
budget_per_year = 30000.0

[[competitors]]
name = "rival_a"
budget_per_year = 30000.0

[[competitors]]
name = "rival_b"
budget_per_year = 30000.0

[employees]
per_firm = 3

[outputs]
dpi = 60
network_sample = 120

[[policies]]
preset = "acquisition_heavy"

[[policies]]
preset = "retention_heavy"
name = "{EVIL_POLICY}"
"""

TINY_POLICIES = ["acquisition_heavy", EVIL_POLICY]
TINY_FIRMS = ["focal", "rival_a", "rival_b"]
CSV_TABLES = (
    "timeseries.csv",
    "outcomes.csv",
    "summary.csv",
    "calibration.csv",
    "cohorts.csv",
    "network_nodes.csv",
    "network_edges.csv",
)


def run_cli(
    *args: str, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """``python -m sim ARGS`` in a fresh interpreter, as a user would run it."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("COLUMNS", "120")
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        cwd=cwd or ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
