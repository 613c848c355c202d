"""report.html in a real browser: every image loads, the headline shows, user text is escaped.

Headless Chromium (Debian package `chromium`) renders the report; a small probe script,
added to a copy of the page, writes what the browser saw into the DOM, which
`--dump-dom` returns. Without Chromium the test is skipped locally, but under CI (the
CI environment variable set) a missing browser is a failure.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess

import numpy as np
import pytest
from matplotlib import image as mpimg

from tests.integration.cli_helpers import EVIL_POLICY, EVIL_SCENARIO

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

PROBE = """
<script id="probe-script">
window.addEventListener('load', function () {
  var images = Array.from(document.images);
  var h = document.getElementById('headline');
  var box = h ? h.getBoundingClientRect() : null;
  var style = h ? getComputedStyle(h) : null;
  var out = {
    images: images.length,
    loaded: images.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length,
    headline: h ? h.textContent : null,
    visible: !!(box && box.width > 0 && box.height > 0 && box.top >= 0 &&
                box.bottom <= window.innerHeight && style.visibility === 'visible' &&
                style.display !== 'none' && parseFloat(style.opacity) > 0),
    scripts: document.scripts.length,
    bold: document.querySelectorAll('b').length,
    title: document.title
  };
  var pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def _browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI"):
        pytest.fail("Chromium is required under CI: apt-get install -y chromium")
    pytest.skip("Chromium not installed (apt-get install -y chromium); required under CI")


def _chromium(browser: str, profile, *args: str) -> subprocess.CompletedProcess:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1280,1800",
    ]
    return subprocess.run(
        [browser, *flags, *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def browser() -> str:
    return _browser()


def test_report_loads_every_image_and_shows_the_headline(tiny_run, browser, tmp_path):
    out, _ = tiny_run
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page  # nothing to fetch: self-contained
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    proc = _chromium(
        browser, tmp_path / "profile", "--virtual-time-budget=15000", "--dump-dom",
        probed.as_uri(),
    )  # fmt: skip
    match = re.search(r'<pre id="probe">(.*?)</pre>', proc.stdout, re.S)
    assert match, f"the probe did not run:\n{proc.stderr[-2000:]}"
    seen = json.loads(html.unescape(match.group(1)))
    assert seen["images"] >= 8  # all eight figures drawn for this engine
    assert seen["loaded"] == seen["images"], seen
    assert seen["visible"], seen
    assert "replications" in seen["headline"]
    # user text arrived as text: no extra script ran, no <b> element was created
    assert seen["scripts"] == 1, seen  # only the probe
    assert seen["bold"] == 0
    assert EVIL_POLICY in seen["headline"] or EVIL_POLICY in page.replace("&lt;", "<")
    assert seen["title"].startswith(EVIL_SCENARIO)


def test_report_screenshot_is_not_blank(tiny_run, browser, tmp_path):
    out, _ = tiny_run
    shot = tmp_path / "report.png"
    proc = _chromium(
        browser, tmp_path / "profile", "--virtual-time-budget=15000",
        f"--screenshot={shot}", (out / "report.html").as_uri(),
    )  # fmt: skip
    assert shot.is_file(), proc.stderr[-2000:]
    pixels = mpimg.imread(shot)
    assert pixels.shape[0] >= 1000 and pixels.shape[1] >= 1200
    assert float(np.std(pixels[..., :3])) > 0.05  # text and figures, not an empty page


def test_user_text_is_escaped_in_the_html(tiny_run):
    out, _ = tiny_run
    page = (out / "report.html").read_text(encoding="utf-8")
    assert EVIL_POLICY not in page
    assert html.escape(EVIL_POLICY) in page
    assert "<b>bold</b>" not in page
    assert html.escape(EVIL_SCENARIO) in page
