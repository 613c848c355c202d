"""Experiment throughput: policies x replications on 1 and 2 local workers and on Dask.

    .venv/bin/python benchmarks/experiment.py                 # the issue's experiment, ~3 min
    .venv/bin/python benchmarks/experiment.py --replications 4  # a quick look
    .venv/bin/python benchmarks/experiment.py --memory-only     # parent memory vs. runs

The experiment is the default market (10,000 people, the focal firm and 3 competitors,
seed 1) with 4 policies x 20 replications x 156 weekly steps, run as ``marketsim run``
runs it (``run_experiment`` with every table, then the summary and provenance; no plots). Each
configuration runs in a fresh interpreter (``--one``), so worker start-up is included
and peak memory is per process. Prints one JSON line per configuration, then a table.

The memory check runs 10 and 200 tiny runs (200 people, 8 steps) in this process
(1 worker) and through 2 local workers and compares the parent's peak RSS: it must not
grow with the number of runs.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
POLICIES = ("acquisition_heavy", "balanced", "retention_heavy", "loyalty_program")
TABLES = ("timeseries.csv", "outcomes.csv", "summary.csv", "cohorts.csv", "calibration.csv")


def scenario_text(customers: int, steps: int, replications: int, policies: int) -> str:
    """The benchmark's scenario file."""
    entries = "".join(f'\n[[policies]]\npreset = "{p}"\n' for p in POLICIES[:policies])
    return (
        f'name = "experiment benchmark"\n\n[simulation]\nsteps = {steps}\n'
        f"replications = {replications}\nseed = 1\n\n[market]\nn_customers = {customers}\n\n"
        f"[outputs]\nplots = false\nreport = false\n{entries}"
    )


def _rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


class _WorkerMemory:
    """Largest resident memory of any descendant process, sampled every 0.2 s.

    ``RUSAGE_CHILDREN`` cannot see pool workers: they are children of the forkserver,
    not of this process.
    """

    def __init__(self) -> None:
        import psutil

        self.peak_mb = 0.0
        self._me = psutil.Process()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        import psutil

        while not self._stop.wait(0.2):
            for child in self._me.children(recursive=True):
                try:
                    self.peak_mb = max(self.peak_mb, child.memory_info().rss / 2**20)
                except psutil.Error:
                    continue

    def __enter__(self) -> _WorkerMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def one(args: argparse.Namespace) -> dict[str, Any]:
    """Run one configuration in this process; return its figures."""
    started_process = float(os.environ.get("BENCH_T0", time.time()))
    from sim.analysis.summary import write_summary
    from sim.config.scenario_file import parse_scenario
    from sim.experiment.provenance import RunFacts, write_provenance
    from sim.experiment.runner import run_experiment
    from sim.experiment.runstore import RESULT_TABLES

    imported = time.time()
    sf = parse_scenario(scenario_text(args.customers, args.steps, args.replications, args.policies))
    out = Path(args.out)
    t0 = time.perf_counter()
    with _WorkerMemory() as workers_memory:
        index = run_experiment(
            sf, out, workers=args.workers, executor=args.executor, tables=RESULT_TABLES
        )
    t1 = time.perf_counter()
    summary = write_summary(out, [p.name for p in sf.policies])
    write_provenance(
        out, sf, RunFacts.from_index(index, rows={"summary": len(summary)}), source="benchmark"
    )
    t2 = time.perf_counter()
    run_walls = [r.wall_s or 0.0 for r in index.records]
    return {
        "executor": args.executor,
        "workers": args.workers,
        "runs": len(index.records),
        "customers": args.customers,
        "steps": args.steps,
        "experiment_s": round(t2 - t0, 2),
        "runs_s": round(t1 - t0, 2),
        "write_results_s": round(t2 - t1, 2),
        "process_s": round(time.time() - started_process, 2),
        "import_s": round(imported - started_process, 2),
        "mean_run_s": round(sum(run_walls) / max(1, len(run_walls)), 3),
        "busy_share": round(sum(run_walls) / max(1e-9, (t1 - t0) * args.workers), 3),
        "parent_peak_rss_mb": round(_rss_mb(resource.RUSAGE_SELF), 1),
        "assemble_s": index.meta.get("assemble_s"),
        "worker_peak_rss_mb": round(workers_memory.peak_mb, 1) or None,
        "run_files_mb": round(
            sum(p.stat().st_size for p in (out / "runs").glob("*.zip")) / 2**20, 1
        ),
        "timeseries_mb": round((out / "timeseries.csv").stat().st_size / 2**20, 1),
    }


def _child(config: list[str], out: Path, timeout: float) -> dict[str, Any]:
    env = dict(os.environ, BENCH_T0=str(time.time()))
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, __file__, "--one", "--out", str(out), *config],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise SystemExit(f"configuration {config} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def memory_check(work: Path, timeout: float) -> list[dict[str, Any]]:
    """Parent peak RSS for 10 vs 200 tiny runs, in this process and with 2 workers."""
    rows = []
    for workers in (1, 2):
        for reps in (5, 100):  # x 2 policies = 10 and 200 runs
            row = _child(
                [
                    "--workers", str(workers), "--customers", "200", "--steps", "8",
                    "--replications", str(reps), "--policies", "2",
                ],
                work / f"mem-w{workers}-r{reps}",
                timeout,
            )  # fmt: skip
            row["check"] = "memory"
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def main() -> None:
    """Run every configuration (or ``--one``), print JSON lines and a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--one", action="store_true", help="run one configuration here")
    parser.add_argument("--out", help="(--one) results folder")
    parser.add_argument("--executor", default="local", choices=("local", "dask"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=156)
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--policies", type=int, default=4, choices=range(1, 5))
    parser.add_argument("--memory-only", action="store_true", help="only the memory check")
    parser.add_argument("--json", metavar="FILE", help="also write every row to FILE")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args)), flush=True)
        return

    load = os.getloadavg()
    print(f"# load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", file=sys.stderr)
    work = Path(tempfile.mkdtemp(prefix="marketsim-bench-"))
    rows: list[dict[str, Any]] = []
    try:
        if not args.memory_only:
            size = [
                "--customers", str(args.customers), "--steps", str(args.steps),
                "--replications", str(args.replications), "--policies", str(args.policies),
            ]  # fmt: skip
            configs = [("local", 1), ("local", 2), ("dask", 2)]
            for executor, workers in configs:
                before = os.getloadavg()[0]
                row = _child(
                    ["--executor", executor, "--workers", str(workers), *size],
                    work / f"{executor}-{workers}",
                    args.timeout,
                )
                row["load_before"] = round(before, 2)  # 1-minute load average
                row["load_after"] = round(os.getloadavg()[0], 2)  # includes this run's workers
                rows.append(row)
                print(json.dumps(row), flush=True)
            first = work / "local-1"
            for executor, workers in configs[1:]:
                other = work / f"{executor}-{workers}"
                same = all(filecmp.cmp(first / t, other / t, shallow=False) for t in TABLES)
                for row in rows:
                    if (row["executor"], row["workers"]) == (executor, workers):
                        row["identical_to_1_worker"] = same
        rows += memory_check(work, args.timeout)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    if args.json:
        Path(args.json).write_text("".join(json.dumps(r) + "\n" for r in rows))
    print()
    print("| executor | workers | runs | customers x steps | experiment s | mean run s | "
          "busy share | parent peak MB | worker peak MB | identical |")  # fmt: skip
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(
            f"| {r['executor']} | {r['workers']} | {r['runs']} | {r['customers']:,} x "
            f"{r['steps']} | {r['experiment_s']:.1f} | {r['mean_run_s']:.3f} | "
            f"{r['busy_share']:.2f} | {r['parent_peak_rss_mb']:.0f} | "
            f"{r['worker_peak_rss_mb'] or 0:.0f} | {r.get('identical_to_1_worker', '')} |"
        )
    timed = {(r["executor"], r["workers"]): r for r in rows if r.get("check") != "memory"}
    if ("local", 1) in timed and ("local", 2) in timed:
        one_w, two_w = timed[("local", 1)], timed[("local", 2)]
        print(
            f"\nspeed-up 2 vs 1 local workers: {one_w['experiment_s'] / two_w['experiment_s']:.2f}x"
        )
    if ("dask", 2) in timed and ("local", 2) in timed:
        d, l2 = timed[("dask", 2)], timed[("local", 2)]
        print(
            f"Dask LocalCluster (2 workers) vs local pool (2 workers): "
            f"{d['experiment_s']:.1f} s vs {l2['experiment_s']:.1f} s "
            f"({100 * (d['experiment_s'] / l2['experiment_s'] - 1):+.0f} %)"
        )
    load = os.getloadavg()
    print(f"# load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", file=sys.stderr)


if __name__ == "__main__":
    main()
