"""Profile one scale configuration with cProfile: model construction, then the steps.

Example::

    .venv/bin/python benchmarks/profile_scale.py --customers 1000000 --steps 156

Builds the same scenario and graph as ``scale.py`` (same seed streams), then prints the
functions that take the most time in ``MarketModel(...)`` and in ``model.run(steps)``,
sorted by cumulative and by own time. cProfile adds overhead to Python-level calls (the
Mesa agent creation in particular), so read shares, not absolute seconds.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.scale import make_scenario
from sim.model.market import MarketModel
from sim.model.network import build_graph


def print_profile(profile: cProfile.Profile, title: str, limit: int) -> None:
    """Print a profile sorted by cumulative time, then by own time."""
    print(f"\n===== {title} =====")
    stats = pstats.Stats(profile, stream=sys.stdout).strip_dirs()
    stats.sort_stats("cumulative").print_stats(limit)
    stats.sort_stats("tottime").print_stats(limit)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        description="cProfile the construction and the steps of one market-model configuration."
    )
    parser.add_argument("--customers", type=int, default=1_000_000, help="people in the market")
    parser.add_argument("--steps", type=int, default=156, help="steps to profile (default 156)")
    parser.add_argument(
        "--engine",
        choices=("vectorized", "agent"),
        default="vectorized",
        help="customer engine (default vectorized)",
    )
    parser.add_argument("--degree", type=int, default=10, help="mean degree (default 10)")
    parser.add_argument("--seed", type=int, default=1, help="model seed (default 1)")
    parser.add_argument(
        "--employees", type=int, default=None, help="employees per firm (default: scenario's)"
    )
    parser.add_argument(
        "--suppliers", type=int, default=None, help="suppliers per firm (default: scenario's)"
    )
    parser.add_argument("--limit", type=int, default=25, help="rows per table (default 25)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Profile construction and stepping separately and print both profiles."""
    args = parse_args(argv)
    scenario = make_scenario(
        args.customers, args.steps, args.degree, args.employees, args.suppliers
    )
    net = scenario.network
    graph_rng = np.random.default_rng(np.random.SeedSequence(args.seed).spawn(3)[0])
    graph = build_graph(
        net.kind,
        args.customers,
        graph_rng,
        mean_degree=net.mean_degree,
        rewire_p=net.rewire_p,
        path=net.path,
    )
    init = cProfile.Profile()
    init.enable()
    model = MarketModel(scenario, seed=args.seed, engine=args.engine, graph=graph)
    init.disable()
    run = cProfile.Profile()
    run.enable()
    model.run(args.steps)
    run.disable()
    print_profile(init, f"MarketModel(...) with {args.customers:,} customers", args.limit)
    print_profile(run, f"model.run({args.steps}) with {args.customers:,} customers", args.limit)
    print("customers per firm at the end:", [f.n_customers for f in model.firms])


if __name__ == "__main__":
    main()
