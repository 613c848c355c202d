"""Fixtures for the command-line tests: a tiny scenario and one finished results folder."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.integration.cli_helpers import TINY, run_cli


@pytest.fixture(scope="session")
def tiny_scenario(tmp_path_factory) -> Path:
    """The tiny scenario file."""
    path = tmp_path_factory.mktemp("scenario") / "tiny.toml"
    path.write_text(TINY, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_run(tiny_scenario, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """One finished `marketsim run` of the tiny scenario (plots and report included)."""
    out = tmp_path_factory.mktemp("results") / "tiny"
    proc = run_cli("run", str(tiny_scenario), "--out", str(out), "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    return out, proc
