"""How often `marketsim view` updates: frames per second, with and without a browser.

Issue 13 asks that runs of 10,000 people update at least 10 times a second. Two figures:

1. **server side, no browser**: one step of both runs (baseline and edited) plus building
   every chart of a frame (:func:`sim.view.app.build_view`), timed over the horizon;
   updates per second = 1 / (time of a step pair + time of a frame);
2. **in the browser**: ``marketsim view`` on a free loopback port, headless Chromium
   (the system's, through Playwright) presses Play, and a MutationObserver counts every
   new step the page shows (``#mv-status[data-step]``) for a few seconds: frames that
   reached the screen per second, and steps per second.

The 1-minute load average is recorded: on a shared machine every figure moves with it.

Example::

    .venv/bin/python benchmarks/view.py                    # 10,000 people
    .venv/bin/python benchmarks/view.py --people 100000    # larger markets
    .venv/bin/python benchmarks/view.py --no-browser       # the server-side figure only
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.config.schema import Scenario  # noqa: E402  (after the path setup)
from sim.view.app import build_view  # noqa: E402
from sim.view.session import ViewSession  # noqa: E402

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def load_1m() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def server_side(people: int, steps: int) -> dict[str, float]:
    """Mean seconds of a step pair and of a frame over ``steps`` steps."""
    scenario = Scenario.default().with_updates(
        {"market.n_customers": people, "simulation.steps": steps}
    )
    t0 = time.perf_counter()
    session = ViewSession(scenario)
    start = time.perf_counter() - t0
    step_s = frame_s = 0.0
    for _ in range(steps):
        t = time.perf_counter()
        session.step()
        step_s += time.perf_counter() - t
        t = time.perf_counter()
        view = build_view(session)
        frame_s += time.perf_counter() - t
    kb = sum(len(v) for v in view.values()) / 1024
    step_s, frame_s = step_s / steps, frame_s / steps
    return {
        "start_s": round(start, 3),
        "step_pair_ms": round(1000 * step_s, 2),
        "frame_ms": round(1000 * frame_s, 2),
        "updates_per_s": round(1 / (step_s + frame_s), 1),
        "frame_kb": round(kb, 1),
    }


def in_browser(people: int, steps: int, seconds: float) -> dict[str, float] | str:
    """Frames and steps per second the page shows while playing (or why not measured)."""
    chromium = shutil.which("/usr/bin/chromium") or shutil.which("chromium")
    if not chromium:
        return "no Chromium"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "no Playwright"
    folder = Path(tempfile.mkdtemp(prefix="view-bench-"))
    scenario = folder / "bench.toml"
    scenario.write_text(
        f"name = 'bench'\n[simulation]\nsteps = {steps}\n[market]\nn_customers = {people}\n"
        "[[policies]]\npreset = 'balanced'\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "view", str(scenario), "--port", "0"],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout or []], daemon=True).start()
    url = None
    deadline = time.monotonic() + 120
    while url is None and time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        if line.startswith("marketsim view: http"):
            url = line.split()[2]
    try:
        if url is None:
            return "the server did not start"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            page.wait_for_selector("#mv-status", timeout=120_000)
            page.evaluate(
                """() => {
                  window.__frames = [];
                  const e = document.getElementById('mv-status');
                  new MutationObserver(() => window.__frames.push(
                    [performance.now(), parseInt(e.dataset.step)]
                  )).observe(e, {attributes: true, attributeFilter: ['data-step']});
                }"""
            )
            page.click(".mv-play")
            time.sleep(seconds)
            frames = page.evaluate("window.__frames")
            page.click(".mv-play")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    if len(frames) < 3:
        return f"only {len(frames)} frames seen"
    (t0, s0), (t1, s1) = frames[1], frames[-1]
    span = (t1 - t0) / 1000
    return {
        "frames_per_s": round((len(frames) - 2) / span, 1),
        "steps_per_s": round((s1 - s0) / span, 1),
        "seconds": round(span, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[10_000])
    parser.add_argument("--steps", type=int, default=156, help="steps timed (server side)")
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds of play timed")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--json", metavar="FILE", help="also write the figures here")
    args = parser.parse_args()
    out = []
    for people in args.people:
        row: dict[str, object] = {"people": people, "load_1m_before": load_1m()}
        row["server"] = server_side(people, args.steps)
        if not args.no_browser:
            row["browser"] = in_browser(people, 1000, args.seconds)
        row["load_1m_after"] = load_1m()
        print(json.dumps(row))
        out.append(row)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
