"""How long drawing the report's figures takes, the model run excluded (issue 12.5).

Issue 12 asks that drawing the figures of a small run take under 3 s. This script makes a
small run folder once (``marketsim run retention_vs_acquisition`` with 2,000 people and 2
replications, no plots; or takes ``--folder``), loads its tables once, then draws every
figure of the report (:func:`sim.report.render_plots`, in this process: ``workers=1``,
PNG only) ``--repeat`` times and prints, for each repetition, the wall time and the CPU
time (``time.process_time``) of drawing, with the 1-minute load average before and after.
``--workers 2`` draws in two forked processes instead, as ``marketsim report`` does where
two cores are idle; the CPU time then adds the drawing processes' (``os.times``).

On a shared machine the wall time moves with the load; the CPU time is the steadier figure.
The import of the report's modules (matplotlib, pandas) and reading the tables are timed
once, on their own. ``--per-figure`` adds each figure's CPU time (building its axes, then
rendering it to PNG).

Example::

    .venv/bin/python benchmarks/report.py                  # 5 repetitions
    .venv/bin/python benchmarks/report.py --repeat 3 --per-figure --json out.json
    .venv/bin/python benchmarks/report.py --workers 2      # two drawing processes
"""

from __future__ import annotations

import time

_T0_WALL, _T0_CPU = time.perf_counter(), time.process_time()

import argparse  # noqa: E402  (after the clock starts: the imports are timed)
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from matplotlib.figure import Figure  # noqa: E402

from sim.report import FIGURES, load_results, render_plots  # noqa: E402
from sim.report.style import figure_bytes, style_context  # noqa: E402

IMPORT_WALL, IMPORT_CPU = time.perf_counter() - _T0_WALL, time.process_time() - _T0_CPU


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the drawing processes)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def load_1m() -> float:
    return round(os.getloadavg()[0], 2)


def make_run(folder: Path, customers: int, replications: int) -> None:
    """A small flagship run without plots (the drawing is what is timed)."""
    cmd = [
        str(Path(sys.executable).with_name("marketsim")),
        "run",
        "retention_vs_acquisition",
        "--replications",
        str(replications),
        "--set",
        f"market.n_customers={customers}",
        "--out",
        str(folder),
        "--no-plots",
        "--quiet",
        "--workers",
        "1",
    ]
    subprocess.run(cmd, check=True)


def per_figure(data: object) -> dict[str, dict[str, float]]:
    """CPU seconds of each figure: building it, and rendering it to PNG (layout included)."""
    out = {}
    with style_context():
        for stem, _title, _caption, draw in FIGURES:
            t0 = time.process_time()
            fig = draw(data, 0.9)  # type: ignore[arg-type]
            t1 = time.process_time()
            if isinstance(fig, Figure):
                figure_bytes(fig, "png", 110)
            t2 = time.process_time()
            out[stem] = {"build_cpu_s": round(t1 - t0, 3), "render_cpu_s": round(t2 - t1, 3)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", type=Path, help="a results folder (default: make a run)")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--replications", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workers", type=int, default=1, help="drawing processes")
    parser.add_argument("--per-figure", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder
        if folder is None:
            folder = Path(tmp) / "run"
            make_run(folder, args.customers, args.replications)
        t0, c0 = time.perf_counter(), time.process_time()
        data = load_results(folder)
        load_wall, load_cpu = time.perf_counter() - t0, time.process_time() - c0
        reps = []
        for k in range(args.repeat):
            before = load_1m()
            t0, c0 = time.perf_counter(), cpu_seconds()
            plots = render_plots(data, Path(tmp) / "plots", workers=args.workers)
            wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
            reps.append(
                {
                    "rep": k + 1,
                    "wall_s": round(wall, 2),
                    "cpu_s": round(cpu, 2),
                    "load_1m_before": before,
                    "load_1m_after": load_1m(),
                    "figures": sum(p.png is not None for p in plots),
                }
            )
            print(json.dumps(reps[-1]), flush=True)
        result = {
            "folder": str(args.folder)
            if args.folder
            else "retention_vs_acquisition "
            f"({args.customers} people, {args.replications} replications)",
            "workers": args.workers,
            "import_wall_s": round(IMPORT_WALL, 2),
            "import_cpu_s": round(IMPORT_CPU, 2),
            "load_tables_wall_s": round(load_wall, 2),
            "load_tables_cpu_s": round(load_cpu, 2),
            "draw_cpu_s_median": round(statistics.median(r["cpu_s"] for r in reps), 2),
            "draw_cpu_s_min": min(r["cpu_s"] for r in reps),
            "draw_wall_s_median": round(statistics.median(r["wall_s"] for r in reps), 2),
            "draw_wall_s_min": min(r["wall_s"] for r in reps),
            "load_1m": [
                min(r["load_1m_before"] for r in reps),
                max(r["load_1m_after"] for r in reps),
            ],
            "cores": len(os.sched_getaffinity(0)),
            "repetitions": reps,
        }
        if args.per_figure:
            result["per_figure"] = per_figure(data)
    summary = {k: v for k, v in result.items() if k != "repetitions"}
    print(json.dumps(summary, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
