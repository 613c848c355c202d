"""Run one scale configuration of the market model and print one JSON line.

Example::

    .venv/bin/python benchmarks/scale.py --customers 100000 --steps 156
    .venv/bin/python benchmarks/scale.py --customers 100000 --steps 3 --engine agent

The scenario is ``Scenario.default()`` (the focal firm + 3 competitors) with
``market.n_customers``, ``network.mean_degree`` and ``simulation.steps`` set from the
options, and every firm's budget scaled with the market (the default market's budgets per
person), so a market of a million people is as contested as the default one of 10,000:
the firms keep a similar share of it and the engine works on that many customers.
``--absolute-budgets`` keeps the default budgets instead (then the firms of a large market
shrink to what their budgets can serve, and steps are cheaper). The social graph is built here, with the same random stream ``MarketModel`` would
use for it (first child of ``SeedSequence(seed).spawn(3)``), and handed to the model, so the
run is identical to ``MarketModel(scenario, seed=seed).run()`` while the graph build is
timed on its own.

Figures (seconds unless stated):

- ``graph_s``: building the social graph (CSR arrays);
- ``init_s``: ``MarketModel(...)`` construction, graph excluded (firms, the customer
  population arrays, one Mesa agent per customer, the engine);
- ``step_ms``: mean wall time of one ``model.step()``, in milliseconds;
- ``run_s``: wall time of all steps;
- ``total_s``: wall time of scenario + graph + init + all steps (imports excluded);
- ``peak_rss_mb``: the process's peak resident memory (``ru_maxrss``), imports included;
- ``graph_cpu_s``, ``init_cpu_s``, ``step_cpu_ms``, ``total_cpu_s``: the same spans in CPU
  time of this process (``time.process_time``), steadier than wall time on a shared machine;
- ``load_before``, ``load_after``: ``/proc/loadavg`` (1, 5, 15 minutes) around the run.

Run each configuration in a fresh process: peak RSS is per process.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.config.schema import Scenario
from sim.model.market import MarketModel
from sim.model.network import build_graph

ENGINES = ("vectorized", "agent")


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages (the machine is shared: timings need them)."""
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return ""


def make_scenario(
    customers: int,
    steps: int,
    degree: int = 10,
    employees: int | None = None,
    suppliers: int | None = None,
    absolute_budgets: bool = False,
) -> Scenario:
    """The default scenario at this size (staff and suppliers per firm if given).

    Budgets scale with the market unless ``absolute_budgets``.
    """
    default = Scenario.default()
    updates: dict[str, object] = {
        "market.n_customers": customers,
        "network.mean_degree": degree,
        "simulation.steps": steps,
    }
    if not absolute_budgets:
        scale = customers / default.market.n_customers
        updates["firm.budget_per_year"] = default.firm.budget_per_year * scale
        for k, competitor in enumerate(default.competitors):
            updates[f"competitors.{k}.budget_per_year"] = competitor.budget_per_year * scale
    if employees is not None:
        updates["employees.per_firm"] = employees
    if suppliers is not None:
        updates["suppliers.per_firm"] = suppliers
    return default.with_updates(updates)


def run_config(
    customers: int,
    steps: int,
    engine: str = "vectorized",
    degree: int = 10,
    seed: int = 1,
    policy: str = "balanced",
    employees: int | None = None,
    suppliers: int | None = None,
    absolute_budgets: bool = False,
) -> dict[str, Any]:
    """Build, initialise and run one configuration; return its timings and sanity figures.

    `employees` and `suppliers` set the staff and suppliers per firm (None: the default
    scenario's).
    """
    load_before = load_average()
    t_start, c_start = time.perf_counter(), time.process_time()
    scenario = make_scenario(customers, steps, degree, employees, suppliers, absolute_budgets)
    net = scenario.network
    # The same stream MarketModel.__init__ derives for the graph (its first spawned child).
    graph_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(3)[0])
    t_graph, c_graph = time.perf_counter(), time.process_time()
    graph = build_graph(
        net.kind,
        customers,
        graph_rng,
        mean_degree=net.mean_degree,
        rewire_p=net.rewire_p,
        path=net.path,
    )
    t_init, c_init = time.perf_counter(), time.process_time()
    model = MarketModel(scenario, policy=policy, seed=seed, engine=engine, graph=graph)  # type: ignore[arg-type]
    t_run, c_run = time.perf_counter(), time.process_time()
    step_times = np.empty(steps)
    for i in range(steps):
        t0 = time.perf_counter()
        model.step()
        step_times[i] = time.perf_counter() - t0
    t_end, c_end = time.perf_counter(), time.process_time()
    focal = model.focal_firm
    return {
        "n_customers": customers,
        "steps": steps,
        "engine": engine,
        "degree": degree,
        "graph_kind": net.kind,
        "mean_degree_actual": round(graph.mean_degree, 3),
        "edges": graph.num_edges,
        "n_firms": model.n_firms,
        "employees_per_firm": scenario.employees.per_firm,
        "suppliers_per_firm": scenario.suppliers.per_firm,
        "policy": model.policy.name,
        "seed": seed,
        "graph_s": round(t_init - t_graph, 4),
        "init_s": round(t_run - t_init, 4),
        "step_ms": round(1000.0 * float(step_times.mean()), 3),
        "step_ms_min": round(1000.0 * float(step_times.min()), 3),
        "step_ms_max": round(1000.0 * float(step_times.max()), 3),
        "run_s": round(t_end - t_run, 4),
        "total_s": round(t_end - t_start, 4),
        "graph_cpu_s": round(c_init - c_graph, 4),
        "init_cpu_s": round(c_run - c_init, 4),
        "step_cpu_ms": round(1000.0 * (c_end - c_run) / steps, 3),
        "total_cpu_s": round(c_end - c_start, 4),
        "load_before": load_before,
        "load_after": load_average(),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "focal_firm": focal.name,
        "focal_customers_final": int(focal.n_customers),
        "budgets": "absolute" if absolute_budgets else "scaled with the market",
        "customers_final": int(sum(f.n_customers for f in model.firms)),
        "python": platform.python_version(),
        # numpy or numba (MARKETSIM_KERNELS, default auto: numba from 200,000 people)
        "kernels": getattr(model.engine, "kernels", "numpy"),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        description="Run one market-model configuration and print one JSON line of timings."
    )
    parser.add_argument(
        "--customers", type=int, required=True, help="people in the market (market.n_customers)"
    )
    parser.add_argument(
        "--steps", type=int, required=True, help="steps to simulate (156 = 3 years of weeks)"
    )
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="vectorized",
        help="customer engine: 'vectorized' (numpy) or 'agent' (per-customer reference)",
    )
    parser.add_argument(
        "--degree",
        type=int,
        default=10,
        help="mean degree of the social graph (network.mean_degree; even for watts_strogatz)",
    )
    parser.add_argument("--seed", type=int, default=1, help="model seed (default 1)")
    parser.add_argument(
        "--policy", default="balanced", help="focal firm's policy preset (default balanced)"
    )
    parser.add_argument(
        "--employees",
        type=int,
        default=None,
        help="employees per firm (employees.per_firm; default: the scenario's, 20)",
    )
    parser.add_argument(
        "--suppliers",
        type=int,
        default=None,
        help="suppliers per firm (suppliers.per_firm; default: the scenario's, 3)",
    )
    parser.add_argument(
        "--absolute-budgets",
        action="store_true",
        help="keep the default firms' budgets instead of scaling them with the market",
    )
    args = parser.parse_args(argv)
    if args.customers < 1 or args.steps < 1:
        parser.error("--customers and --steps must be >= 1")
    if (args.employees is not None and args.employees < 0) or (
        args.suppliers is not None and args.suppliers < 0
    ):
        parser.error("--employees and --suppliers must be >= 0")
    return args


def main(argv: list[str] | None = None) -> None:
    """Run the configuration given on the command line and print its JSON line."""
    args = parse_args(argv)
    result = run_config(
        args.customers,
        args.steps,
        args.engine,
        args.degree,
        args.seed,
        args.policy,
        args.employees,
        args.suppliers,
        args.absolute_budgets,
    )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
