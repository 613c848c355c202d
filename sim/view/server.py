"""Serve the live page on this machine, offline: Solara's server under uvicorn.

Why not ``solara run``: it asks pypi for a newer version and sends usage telemetry on
start, and fetches the page's JavaScript from a CDN on first use. Here the server runs in
this process with telemetry off, in production mode (no version-check frame), and with
the CDN fetch replaced by a refusal: the page's assets come from the ``solara-assets``
package (installed with marketsim's ``view`` extra) and nothing is fetched from the
internet. The socket is bound before the address is printed, so the printed address
answers as soon as it appears (port 0 picks a free port).
"""

from __future__ import annotations

import socket
import sys
import webbrowser
from pathlib import Path
from typing import TextIO

import solara.server.app as solara_app
import solara.server.cdn_helper as cdn_helper
import solara.server.settings as server_settings
import solara.settings as solara_settings
import uvicorn

from sim.view.app import configure

__all__ = ["APP", "missing_assets", "offline_settings", "serve"]

APP = "sim.view.app:Page"
"""The Solara page this server shows."""

_ASSETS = (
    "requirejs@2.3.6/require.js",
    "@widgetti/solara-vuetify-app@10.1.1/dist/solara-vuetify-app8.min.js",
)


def _refuse(url: str) -> bytes:
    """Stands in for Solara's CDN download: the page must work without the internet."""
    raise RuntimeError(
        f"marketsim view does not fetch {url} from the internet; install the page's "
        "assets with: pip install 'marketsim[view]'"
    )


def offline_settings() -> None:
    """Solara's settings for a local, offline page (no telemetry, no version check, no CDN)."""
    server_settings.telemetry.mixpanel_enable = False
    server_settings.main.mode = "production"
    solara_settings.assets.proxy = True  # assets served from the local cache folder ...
    cdn_helper.fetch_from_cdn = _refuse  # ... which is never filled from the internet


def missing_assets() -> list[str]:
    """Assets the page needs that are not in the local asset folder (empty when offline-ready)."""
    folder = Path(server_settings.assets.proxy_cache_dir)
    return [a for a in _ASSETS if not (folder / a).is_file()]


def serve(
    scenario: str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    open_browser: bool = False,
    graph_sample: int = 150,
    out: TextIO = sys.stdout,
) -> None:
    """Check the scenario, start the page and print its address; runs until interrupted."""
    configure(scenario, graph_sample=graph_sample)
    offline_settings()
    missing = missing_assets()
    if missing:
        print(
            "warning: the page's assets are not installed (" + ", ".join(missing) + "); "
            "install them with: pip install 'marketsim[view]'",
            file=out,
        )
    solara_app.apps["__default__"] = solara_app.AppScript(APP)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    print(f"marketsim view: {url}  (Ctrl+C stops it)", file=out, flush=True)
    if open_browser:
        webbrowser.open(url)
    config = uvicorn.Config(
        "solara.server.starlette:app", host=host, port=port, log_level="warning", ws="auto"
    )
    uvicorn.Server(config).run(sockets=[sock])
