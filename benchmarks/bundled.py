"""How long each bundled scenario takes with its defaults: `marketsim run NAME` timed.

The tests check that every bundled scenario runs and writes complete results; how long it
takes depends on the machine and its load, so it is measured here and never asserted.
Each scenario runs as ``python -m sim run NAME --quiet`` in a fresh process (start-up
included, as a user sees it) into a temporary folder, one after the other. The 1-minute
load average before and after each run is recorded: a busy machine slows every figure.

Example::

    .venv/bin/python benchmarks/bundled.py                        # every scenario, defaults
    .venv/bin/python benchmarks/bundled.py --json bundled.json    # also write the figures
    .venv/bin/python benchmarks/bundled.py price_war leaky_bucket # some scenarios only
    # a quick check that the script works: a tiny setting, passed on to `marketsim run`
    .venv/bin/python benchmarks/bundled.py -- --steps 3 --replications 1 --set market.n_customers=300
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.config.bundled import bundled_scenarios  # noqa: E402  (after the path setup)


def load_1m() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def time_scenario(name: str, extra: list[str], out: Path) -> dict[str, object]:
    """Run one bundled scenario in a fresh process; its wall time and exit code."""
    cmd = [sys.executable, "-m", "sim", "run", name, "--out", str(out), "--quiet", *extra]
    before = load_1m()
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
    return {
        "scenario": name,
        "wall_s": round(wall, 2),
        "exit_code": done.returncode,
        "load_1m_before": before,
        "load_1m_after": load_1m(),
        "args": extra,
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # Everything after `--` goes to `marketsim run` unchanged.
    ours, extra = (
        (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    )
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        usage="%(prog)s [NAME ...] [--json FILE] [-- MARKETSIM RUN ARGS ...]",
    )
    parser.add_argument("names", nargs="*", help="bundled scenarios (default: every one)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(ours)
    bundled = bundled_scenarios()
    names = args.names or sorted(bundled)
    unknown = sorted(set(names) - set(bundled))
    if unknown:
        parser.error(f"not bundled: {', '.join(unknown)} (bundled: {', '.join(sorted(bundled))})")

    rows = []
    with tempfile.TemporaryDirectory(prefix="marketsim-bench-") as tmp:
        for name in names:
            row = time_scenario(name, extra, Path(tmp) / name)
            rows.append(row)
            status = "" if row["exit_code"] == 0 else f"  FAILED (exit {row['exit_code']})"
            print(f"{name:<28} {row['wall_s']:>8.1f} s   load {row['load_1m_before']}{status}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0 if all(r["exit_code"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
