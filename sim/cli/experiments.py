"""The ``marketsim sweep`` and ``marketsim sensitivity`` commands.

Both run every policy on many variants of one scenario through :mod:`sim.pipeline`, like
``marketsim run`` (so they resume, run on a local pool or a Dask cluster, use common random
numbers, and write a manifest and a summary that ``marketsim report`` redraws from), then
analyse the outcomes: a grid of one or two parameters (``sweep.csv``, line plots or heatmaps), or a
SALib design over the ``[uncertainties]`` ranges (``sensitivity.csv``, a tornado plot).
:func:`add_commands` hooks them into the main parser.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.cli.common import (
    EXIT_OK,
    Progress,
    add_scenario_arguments,
    capped_workers,
    execution_options,
    overrides_of,
    positive_int,
    resume_hint,
)
from sim.common.errors import DesignError, UserError
from sim.common.formatting import format_number
from sim.common.outcomes import OUTCOME_NAMES
from sim.config.bundled import resolve_scenario_path

if TYPE_CHECKING:
    import pandas as pd

    from sim.pipeline import Plan

__all__ = ["OUTCOMES", "add_commands", "cmd_sensitivity", "cmd_sweep"]

OUTCOMES = OUTCOME_NAMES


def _common(p: argparse.ArgumentParser, what: str, command: str) -> None:
    add_scenario_arguments(
        p,
        replications_help=f"replications per {what} (default: experiment.replications, else "
        "simulation.replications)",
    )
    p.add_argument(
        "--outcome",
        choices=OUTCOMES,
        help="focal firm's outcome to compare (default: experiment.outcome, cumulative_profit)",
    )
    p.add_argument(
        "--out", metavar="DIR", help=f"results folder (default results/<scenario>-{command})"
    )
    p.add_argument(
        "--workers", type=positive_int, metavar="N", help="worker processes (default: cores)"
    )
    p.add_argument("--executor", choices=("local", "dask"), default="local")
    p.add_argument(
        "--scheduler", metavar="ADDRESS", help="with --executor dask: an existing scheduler"
    )
    p.add_argument(
        "--resume", action="store_true", help="keep the finished runs of an interrupted run"
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or messages")
    p.add_argument("--no-plots", action="store_true", help="draw no figures (tables only)")


def add_commands(sub: Any) -> None:
    """Add ``sweep`` and ``sensitivity`` to the subcommand parsers ``sub``."""
    sweep = sub.add_parser(
        "sweep", help="run every policy on a grid of one or two parameters (line plots, heatmaps)"
    )
    _common(sweep, "grid point", "sweep")
    sweep.add_argument(
        "--param",
        action="append",
        required=True,
        metavar="KEY.PATH=START:STOP:COUNT",
        help="a parameter and its grid, e.g. market.word_of_mouth.p_referral_conversion="
        "0.2:0.6:5 (once for a line, twice for a grid)",
    )
    sweep.set_defaults(func=cmd_sweep)

    sens = sub.add_parser(
        "sensitivity",
        help="which [uncertainties] the outcome hinges on (SALib Sobol' or Morris)",
    )
    _common(sens, "sampled market", "sensitivity")
    sens.add_argument("--method", choices=("sobol", "morris"), default="sobol")
    sens.add_argument(
        "--samples",
        type=positive_int,
        metavar="N",
        help="sobol: base samples, a power of 2 (runs N x (parameters + 2) markets; default "
        "32); morris: trajectories (N x (parameters + 1) markets; default 10)",
    )
    sens.set_defaults(func=cmd_sensitivity)


# --------------------------------------------------------------------------- shared steps


def _options(args: argparse.Namespace, command: str) -> dict[str, Any]:
    """The pipeline's plan options from the command line."""
    path = resolve_scenario_path(args.scenario)
    out = Path(args.out) if args.out else Path("results") / f"{path.stem}-{command}"
    if args.scheduler and args.executor != "dask":
        raise UserError("--scheduler needs --executor dask")
    return {
        "workers": capped_workers(args),
        "replications": args.replications,
        "seed": args.seed,
        "steps": args.steps,
        "overrides": overrides_of(args),
        "outcome": args.outcome,
        "out": out,
    }


def _execute(args: argparse.Namespace, plan: Plan) -> Any:
    """Run the plan with a progress bar; the pipeline writes tables, figures and manifest."""
    from sim.experiment.runner import default_workers
    from sim.pipeline import execute

    assert plan.out is not None
    workers = capped_workers(args) or default_workers(plan.runs)
    if not args.quiet:
        print(plan.describe(), file=sys.stderr)
    with Progress(plan.runs, plan.total_steps, args.quiet) as progress, resume_hint(plan.out):
        return execute(
            plan,
            workers=workers,
            progress=progress,
            command_line=["marketsim", *sys.argv[1:]],
            **execution_options(args),
        )


# --------------------------------------------------------------------------- sweep


def cmd_sweep(args: argparse.Namespace) -> int:
    """Every policy at every grid point; sweep.csv and the figures."""
    from sim.pipeline import plan_sweep

    options = _options(args, "sweep")
    plan = plan_sweep(resolve_scenario_path(args.scenario), args.param, **options)
    if plan.scenario.uncertainties and not args.quiet:
        print(
            "note: a sweep does not sample [uncertainties]; every parameter but the swept "
            "ones keeps the value written in the file",
            file=sys.stderr,
        )
    started = time.perf_counter()
    results = _execute(args, plan)
    if not args.quiet:
        print(
            f"done in {time.perf_counter() - started:.1f} s; results in {plan.out}/",
            file=sys.stderr,
        )
        for line in _sweep_lines(results.sweep, [p.path for p in plan.parameters], plan.outcome):
            print(line)
    return EXIT_OK


def _short(x: float, signed: bool = False) -> str:
    return format_number(x, signed=signed, compact=True)


def _sweep_lines(table: pd.DataFrame, paths: list[str], outcome: str) -> list[str]:
    best = table[table["is_best"]]
    base = str(table["policy"].iloc[0])
    lines = [
        f"best policy by mean {outcome} at each grid point, and its difference from {base} "
        "(paired 95% interval; sweep.csv has every policy):"
    ]
    for _, r in best.iterrows():
        at = ", ".join(f"{p.rsplit('.', 1)[-1]}={r[p]:g}" for p in paths)
        text = f"  {at}: {r['policy']} ({_short(r['mean'])}"
        if r["policy"] != base:
            text += f"; {'+' if r['diff'] >= 0 else ''}{_short(r['diff'])} vs {base}"
            if r["diff_ci_low"] == r["diff_ci_low"]:  # not NaN: at least 2 replications
                text += f", {_short(r['diff_ci_low'])} to {_short(r['diff_ci_high'])}"
        lines.append(text + ")")
    return lines


# --------------------------------------------------------------------------- sensitivity


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """A SALib design over the [uncertainties]; sensitivity.csv and the tornado plot."""
    from sim.pipeline import plan_sensitivity

    options = _options(args, "sensitivity")
    path = resolve_scenario_path(args.scenario)
    try:
        plan = plan_sensitivity(path, method=args.method, samples=args.samples, **options)
    except DesignError as exc:
        raise DesignError(f"{path}: {exc}") from None
    started = time.perf_counter()
    results = _execute(args, plan)
    if not args.quiet:
        print(
            f"done in {time.perf_counter() - started:.1f} s; results in {plan.out}/",
            file=sys.stderr,
        )
        for line in _sensitivity_lines(results.sensitivity, args.method):
            print(line)
    return EXIT_OK


def _sensitivity_lines(table: pd.DataFrame, method: str) -> list[str]:
    key, conf = ("ST", "ST_conf") if method == "sobol" else ("mu_star", "mu_star_conf")
    what = "total Sobol' index ST" if method == "sobol" else "Morris mu*"
    lines = [
        f"parameters by {what} (± 95% interval), most influential first; noise_floor is a "
        "parameter with no effect: what noise between runs alone gives"
    ]
    for (policy, versus), block in table.groupby(["policy", "compared_with"], sort=False):
        name = f"{policy} minus {versus}" if isinstance(versus, str) and versus else policy
        ranked = block.sort_values(key, ascending=False)
        parts = [
            f"{r['parameter']} {_short(r[key])} ± {_short(r[conf])}" for _, r in ranked.iterrows()
        ]
        lines.append(f"  {name}: " + "; ".join(parts))
    return lines
