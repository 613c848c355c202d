"""`marketsim view` end to end in a real browser (issue 13).

The command starts the page on a free loopback port; Playwright drives the system's
Chromium (no browser download): the charts render, a lever slider moves, the model
steps, and the charted numbers (each chart's ``data-values``) equal what
``MarketModel(scenario, policy, seed)`` computes for those settings; "Save as scenario"
writes TOML that the scenario reader (and so ``marketsim run``) accepts. Without Chromium
or Playwright the test is skipped locally; under CI (the CI environment variable set)
either missing is a failure.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.config.presets import PRESETS
from sim.config.scenario_file import load_scenario
from sim.model.market import MarketModel

ROOT = Path(sim.__file__).resolve().parents[1]  # the server runs the code this test imports
BROWSERS = ("/usr/bin/chromium", "chromium", "chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCENARIO = """\
name = "view_test"

[simulation]
steps = 12
seed = 7

[market]
n_customers = 2000

[[policies]]
preset = "balanced"
"""
TIMEOUT_MS = 60_000


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required under CI")
    pytest.skip(f"{what} not installed; required under CI")


def _chromium() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    _missing("Chromium (apt-get install -y chromium)")
    raise AssertionError  # pragma: no cover - _missing raised


@pytest.fixture
def page_url(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`python -m sim view SCENARIO --port 0` running in tmp_path; yields its address."""
    scenario = tmp_path / "view_test.toml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "sim", "view", str(scenario), "--port", "0"]
    proc = subprocess.Popen(
        [*cmd, "--graph-sample", "60"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout or []], daemon=True).start()
    url, seen = None, []
    deadline = time.monotonic() + 120
    while url is None and time.monotonic() < deadline and proc.poll() is None:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        seen.append(line)
        if line.startswith("marketsim view: http://127.0.0.1:"):
            url = line.split()[2]
    try:
        assert url, f"no address printed: {''.join(seen)}"
        yield url, scenario
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _values(page, selector: str) -> dict:
    return json.loads(page.get_attribute(selector, "data-values"))


def _wait_idle(page, step: int) -> dict:
    page.wait_for_function(
        "s => { const e = document.getElementById('mv-status');"
        " return e && e.dataset.busy === '0' && e.dataset.step === String(s); }",
        arg=step,
        timeout=TIMEOUT_MS,
    )
    return json.loads(page.get_attribute("#mv-status", "data-settings"))


def _expected(scenario, policy, steps: int):
    model = MarketModel(scenario, policy, seed=7)
    model.run(steps)
    table = model.results()
    return table[table["firm"] == model.firm_names[0]], table


def test_page_runs_steers_and_saves(page_url, tmp_path):
    chromium = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright (pip install 'marketsim[dev]')")
    url, scenario_path = page_url
    scenario = load_scenario(scenario_path).to_scenario()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        external: list[str] = []
        page.on(
            "request",
            lambda r: external.append(r.url) if not r.url.startswith(url.rstrip("/")) else None,
        )
        page.goto(url)
        page.wait_for_selector("#mv-status", timeout=TIMEOUT_MS)
        # the charts render: every chart has its drawing, the graph its people
        for chart in ("customers-baseline", "customers-edited", "profit", "nps", "churn"):
            page.wait_for_selector(f"#chart-{chart} svg", timeout=TIMEOUT_MS)
        assert page.locator("#graph-baseline circle").count() == 60
        assert page.locator(".mv-control").count() >= 10  # levers and market, from the schema

        page.click(".mv-step")
        _wait_idle(page, 1)
        before_base, before_edited = _values(page, "#chart-profit")["series"].values()
        assert before_base == before_edited  # the same policy so far

        # move a lever: acquisition share 0.50 -> 0.30, one keyboard step (0.01) at a time
        thumb = page.locator(".mv-slider-acquisition_share .v-slider__thumb-container")
        caption = ".mv-control-acquisition_share .mv-caption"
        for k in range(1, 21):  # each key press waits for the page to take it
            thumb.press("ArrowLeft")
            page.wait_for_function(
                "([sel, v]) => Math.abs(parseFloat("
                "document.querySelector(sel).dataset.value) - v) < 1e-9",
                arg=[caption, round(0.5 - 0.01 * k, 2)],
                timeout=TIMEOUT_MS,
            )
        page.wait_for_function(
            "() => { const e = document.getElementById('mv-status');"
            " return e && JSON.parse(e.dataset.settings).edited.acquisition_share < 0.305; }",
            timeout=TIMEOUT_MS,
        )
        page.click(".mv-step")
        _wait_idle(page, 2)
        page.click(".mv-step")
        settings = _wait_idle(page, 3)
        assert settings["edited"]["acquisition_share"] == pytest.approx(0.30)
        assert settings["seed"] == 7

        edited_policy = PRESETS["balanced"].model_copy(
            update={"acquisition_share": settings["edited"]["acquisition_share"]}
        )
        focal_base, _ = _expected(scenario, "balanced", 3)
        focal_edit, edit_table = _expected(scenario, edited_policy, 3)

        charts = {
            "profit": "profit",
            "cumulative-profit": "cumulative_profit",
            "nps": "nps",
            "retention-rate": "retention_rate",
        }
        for chart, column in charts.items():
            base, edit = _values(page, f"#chart-{chart}")["series"].values()
            assert base == focal_base[column].tolist(), chart
            assert edit == focal_edit[column].tolist(), chart
        base_after, edit_after = _values(page, "#chart-profit")["series"].values()
        assert edit_after != base_after  # the lever changed the edited run ...
        assert edit_after[0] != before_edited[0]  # ... from the start (replayed)
        assert base_after[0] == before_edited[0]

        customers = _values(page, "#chart-customers-edited")["series"]
        for firm, values in customers.items():
            rows = edit_table[edit_table["firm"] == firm]
            assert values == rows["customers"].tolist(), firm
        churn = _values(page, "#chart-churn")
        edited_churn = list(churn.values())[1]
        for reason, lost in edited_churn.items():
            assert lost == float(focal_edit[f"churned_{reason}"].sum()), reason
        pyramid = list(_values(page, "#chart-pyramid").values())[1]
        for tier, n in pyramid.items():
            assert n == float(focal_edit[f"tier_{tier}"].iloc[-1]), tier
        assert np.isfinite(focal_base["profit"]).all()

        # save as scenario: TOML that the reader (and so `marketsim run`) accepts
        target = tmp_path / "saved" / "steered.toml"
        box = page.locator(".mv-save-path input")
        box.fill(str(target))
        box.press("Enter")
        page.click(".mv-save")
        page.wait_for_selector(".mv-message", timeout=TIMEOUT_MS)
        assert "Saved" in page.inner_text(".mv-message")
        page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
        browser.close()
    assert not external, f"the page fetched from elsewhere: {external}"
    saved = load_scenario(target)
    names = [p.name for p in saved.policies]
    assert names == ["balanced", "balanced_edited"]
    assert saved.policies[1].acquisition_share == pytest.approx(0.30)
    assert saved.market.n_customers == 2000 and saved.simulation.seed == 7
    check = subprocess.run(
        [sys.executable, "-m", "sim", "validate", str(target)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
