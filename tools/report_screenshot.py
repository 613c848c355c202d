"""A screenshot of a report's first screen, for the docs (docs/img/report_first_screen.png).

Uses Playwright's Python API against the system's Chromium (no browser download): the
page is opened from the file, offline, in a 1280 x 900 window.

    python tools/report_screenshot.py results/retention_vs_acquisition/report.html \\
        docs/img/report_first_screen.png
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def screenshot(report: Path, png: Path, width: int = 1280, height: int = 900) -> Path:
    """Write the first screen of ``report`` to ``png``."""
    browser_path = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser_path is None:
        raise SystemExit("no Chromium found (apt-get install chromium)")
    png.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, args=ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(report.resolve().as_uri(), wait_until="load")
        page.screenshot(path=str(png), full_page=False)
        browser.close()
    return png


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("png", type=Path)
    args = parser.parse_args(argv)
    print(screenshot(args.report, args.png))
    return 0


if __name__ == "__main__":
    sys.exit(main())
