"""Profile one scale configuration: cProfile, or CPU time phase by phase (``--phases``).

Example::

    .venv/bin/python benchmarks/profile_scale.py --customers 1000000 --steps 156
    .venv/bin/python benchmarks/profile_scale.py --customers 1000000 --steps 40 --phases

``--phases`` wraps each phase of a step (the engine's customer phases, the firms' actions,
closing the books, grouping customers by firm) in a ``time.process_time`` timer and prints
CPU milliseconds per step for each, plus the random draws of all phases (the model's
generator wrapped in a timing proxy that draws the same numbers). CPU time, not wall time:
the machine these figures come from is shared.

Builds the same scenario and graph as ``scale.py`` (same seed streams), then prints the
functions that take the most time in ``MarketModel(...)`` and in ``model.run(steps)``,
sorted by cumulative and by own time. cProfile adds overhead to Python-level calls (the
Mesa agent creation in particular), so read shares, not absolute seconds.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sim.model.market as market_module
from benchmarks.scale import load_average, make_scenario, peak_rss_mb
from sim.model.engines.vectorized import VectorizedEngine
from sim.model.kernels import KERNELS_ENV, kernel_backend
from sim.model.market import MarketModel
from sim.model.network import build_graph

ENGINE_PHASES = ("stay_or_leave", "buy", "feel", "talk", "consider", "_choose", "_poach")
NESTED = ("_choose", "_poach")  # timed inside consider / inside stay_or_leave
MODEL_PHASES = (
    "care_for_customers",
    "run_loyalty_programs",
    "handle_complaints",
    "send_acquisition_offers",
    "close_step",
    "customers_by_firm",
    "group_customers",
    "sell_upgrades",
    "forget",
)
RNG = "(random draws, all phases)"


class PhaseTimer:
    """CPU seconds per phase, accumulated by wrappers around the phases' functions."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, owner: Any, name: str) -> None:
        """Replace ``owner.name`` with a timed call of the same function."""
        function = getattr(owner, name)
        setattr(owner, name, self.timed(name, function))

    def timed(self, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        """`function` with its CPU time added to `label`."""

        def call(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.process_time() - start

        return call


class TimedGenerator:
    """The model's numpy Generator, with the CPU time of every draw added to RNG."""

    def __init__(self, rng: np.random.Generator, timer: PhaseTimer) -> None:
        self._rng, self._timer = rng, timer

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._rng, name)
        return self._timer.timed(RNG, value) if callable(value) else value


def run_phases(args: argparse.Namespace, scenario: Any, graph: Any) -> None:
    """Run the steps with every phase timed; print CPU ms per step of each phase."""
    timer = PhaseTimer()
    for name in ENGINE_PHASES:
        if hasattr(VectorizedEngine, name):  # phases of the engine version at hand
            timer.wrap(VectorizedEngine, name)
    for name in MODEL_PHASES:
        if hasattr(market_module, name):  # phases of the model version at hand
            timer.wrap(market_module, name)
    model = MarketModel(scenario, seed=args.seed, engine=args.engine, graph=graph)
    model.state.rng = TimedGenerator(model.state.rng, timer)  # type: ignore[assignment]
    load_before = load_average()
    start = time.process_time()
    model.run(args.steps)
    total = time.process_time() - start
    per_step = {k: round(1000 * v / args.steps, 1) for k, v in timer.seconds.items()}
    nested = (*NESTED, RNG)  # inside another phase / inside every phase
    other = total - sum(v for k, v in timer.seconds.items() if k not in nested)
    per_step["(everything else)"] = round(1000 * other / args.steps, 1)
    print(
        json.dumps(
            {
                "n_customers": args.customers,
                "steps": args.steps,
                "step_cpu_ms": round(1000 * total / args.steps, 1),
                "load_before": load_before,
                "load_after": load_average(),
                "peak_rss_mb": round(peak_rss_mb(), 1),
                "customers_final": int(sum(f.n_customers for f in model.firms)),
            }
        )
    )
    for name, ms in sorted(per_step.items(), key=lambda kv: -kv[1]):
        print(f"{name:32s} {ms:8.1f} CPU ms / step")


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
    parser.add_argument(
        "--phases",
        action="store_true",
        help="CPU time per phase of a step instead of cProfile (vectorized engine)",
    )
    return parser.parse_args(argv)


def warm_up_numba(seed: int) -> None:
    """Run a small market on the numba kernels, so that importing numba and loading each
    kernel's cached machine code (about 0.6 s per process, paid at each kernel's first
    call) is not charged to whichever phase happens to call a kernel first."""
    previous = os.environ.get(KERNELS_ENV)
    os.environ[KERNELS_ENV] = "numba"
    try:
        MarketModel(make_scenario(3000, 4, 10, None, None), seed=seed).run(4)
    finally:
        if previous is None:
            del os.environ[KERNELS_ENV]
        else:
            os.environ[KERNELS_ENV] = previous


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
    if kernel_backend(args.customers) == "numba":
        warm_up_numba(args.seed)
    if args.phases:
        run_phases(args, scenario, graph)
        return
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
