"""The ``marketsim sweep`` and ``marketsim sensitivity`` commands.

Both run every policy on many variants of one scenario through
:func:`sim.experiment.runner.run_experiment` (so they resume, run on a local pool or a Dask
cluster, and use common random numbers like ``marketsim run``) and then analyse the
outcomes: a grid of one or two parameters (``sweep.csv``, line plots or heatmaps), or a
SALib design over the ``[uncertainties]`` ranges (``sensitivity.csv``, a tornado plot).
:func:`add_commands` hooks them into the main parser.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.cli.commands import (
    EXIT_OK,
    UserError,
    _non_negative_int,
    _positive_int,
    _Progress,
)
from sim.cli.commands import _load as _load_scenario
from sim.common.outcomes import OUTCOME_NAMES

if TYPE_CHECKING:
    import pandas as pd

    from sim.config.scenario_file import ScenarioFile

__all__ = ["add_commands", "cmd_sensitivity", "cmd_sweep"]

OUTCOMES = OUTCOME_NAMES


def _common(p: argparse.ArgumentParser, what: str, command: str) -> None:
    p.add_argument("scenario", metavar="SCENARIO", help="scenario .toml file or bundled name")
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY.PATH=VALUE",
        help="override one value, e.g. --set market.n_customers=5000 (repeatable)",
    )
    p.add_argument(
        "--replications",
        type=_positive_int,
        metavar="R",
        help=f"replications per {what} (default: experiment.replications, else "
        "simulation.replications)",
    )
    p.add_argument("--seed", type=_non_negative_int, metavar="S", help="simulation.seed")
    p.add_argument("--steps", type=_positive_int, metavar="T", help="simulation.steps")
    p.add_argument(
        "--outcome",
        choices=OUTCOMES,
        help="focal firm's outcome to compare (default: experiment.outcome, cumulative_profit)",
    )
    p.add_argument(
        "--out", metavar="DIR", help=f"results folder (default results/<scenario>-{command})"
    )
    p.add_argument(
        "--workers", type=_positive_int, metavar="N", help="worker processes (default: cores)"
    )
    p.add_argument("--executor", choices=("local", "dask"), default="local")
    p.add_argument(
        "--scheduler", metavar="ADDRESS", help="with --executor dask: an existing scheduler"
    )
    p.add_argument(
        "--resume", action="store_true", help="keep the finished runs of an interrupted run"
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or messages")


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
        type=_positive_int,
        metavar="N",
        help="sobol: base samples, a power of 2 (runs N x (parameters + 2) markets; default "
        "32); morris: trajectories (N x (parameters + 1) markets; default 10)",
    )
    sens.set_defaults(func=cmd_sensitivity)


# --------------------------------------------------------------------------- shared steps


def _load(args: argparse.Namespace) -> tuple[Path, ScenarioFile]:
    return _load_scenario(args, replications_key="experiment.replications")


def _out_dir(args: argparse.Namespace, path: Path, command: str) -> Path:
    out = Path(args.out) if args.out else Path("results") / f"{path.stem}-{command}"
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: exists and is not a folder")
    if args.scheduler and args.executor != "dask":
        raise UserError("--scheduler needs --executor dask")
    return out


def _run(
    args: argparse.Namespace, sf: ScenarioFile, variants: list[dict[str, Any]], out: Path, what: str
) -> None:
    """Run every policy on every variant into ``out`` with a progress bar."""
    from sim.common.files import atomic_write_text
    from sim.config.scenario_file import dump_toml
    from sim.experiment.runner import default_workers, plan_runs, run_experiment

    runs = len(plan_runs(sf, variants))
    reps = runs // (len(sf.policies) * len(variants))
    workers = args.workers or default_workers(runs)
    if not args.quiet:
        print(
            f"{sf.name}: {len(sf.policies)} policies x {len(variants)} {what} x {reps} "
            f"replication{'s' if reps != 1 else ''} = {runs} runs of "
            f"{sf.simulation.steps} {sf.simulation.step_length}s, "
            f"{sf.market.n_customers:,} people -> {out}/",
            file=sys.stderr,
        )
    out.mkdir(parents=True, exist_ok=True)
    command = " ".join(["marketsim", *sys.argv[1:]])
    atomic_write_text(
        out / "scenario.resolved.toml",
        dump_toml(sf, f"Resolved scenario of: {command}\nEvery value used, defaults filled in."),
    )
    with _Progress(runs, runs * sf.simulation.steps, args.quiet) as progress:
        run_experiment(
            sf,
            out,
            variants=variants,
            workers=workers,
            executor=args.executor,
            scheduler=args.scheduler,
            resume=args.resume,
            progress=progress,
        )


# --------------------------------------------------------------------------- sweep


def cmd_sweep(args: argparse.Namespace) -> int:
    """Every policy at every grid point; sweep.csv and the figures."""
    from sim.analysis.sweep import (
        SweepError,
        check_parameters,
        grid_variants,
        sweep_parameter,
        write_sweep,
    )

    path, sf = _load(args)
    try:
        parameters = [sweep_parameter(sf, option) for option in args.param]
        check_parameters(parameters)
    except SweepError as exc:
        raise UserError(str(exc)) from None
    out = _out_dir(args, path, "sweep")
    outcome = args.outcome or sf.experiment.outcome
    started = time.perf_counter()
    variants = grid_variants(parameters)
    if sf.uncertainties and not args.quiet:
        print(
            "note: a sweep does not sample [uncertainties]; every parameter but the swept "
            "ones keeps the value written in the file",
            file=sys.stderr,
        )
    _run(args, sf, variants, out, "grid points")
    table = write_sweep(out, sf, parameters, outcome)
    if not args.quiet:
        print(f"done in {time.perf_counter() - started:.1f} s; results in {out}/", file=sys.stderr)
        for line in _sweep_lines(table, [p.path for p in parameters], outcome):
            print(line)
    return EXIT_OK


def _short(x: float) -> str:
    a = abs(x)
    if a >= 1e6:
        return f"{x / 1e6:.2f}M"
    if a >= 1e4:
        return f"{x / 1e3:.0f}k"
    if a >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}"


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
    from sim.analysis.sensitivity import (
        DEFAULT_SAMPLES,
        SensitivityError,
        design,
        write_sensitivity,
    )

    path, sf = _load(args)
    samples = args.samples or DEFAULT_SAMPLES[args.method]
    try:
        _, _, variants = design(sf, args.method, samples)
    except SensitivityError as exc:
        raise UserError(f"{path}: {exc}") from None
    out = _out_dir(args, path, "sensitivity")
    outcome = args.outcome or sf.experiment.outcome
    started = time.perf_counter()
    _run(args, sf, variants, out, "sampled markets")
    try:
        table = write_sensitivity(out, sf, args.method, samples, outcome)
    except SensitivityError as exc:
        raise UserError(str(exc)) from None
    if not args.quiet:
        print(f"done in {time.perf_counter() - started:.1f} s; results in {out}/", file=sys.stderr)
        for line in _sensitivity_lines(table, args.method):
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
