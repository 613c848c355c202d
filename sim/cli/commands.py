"""The ``marketsim`` command: run, validate, list, new, report, view (sweep and sensitivity in
:mod:`sim.cli.experiments`), a thin layer over :mod:`sim.pipeline`.

Exit codes: 0 success; 2 a user error (bad scenario file, bad arguments, missing file or
folder, a resume that does not match), reported in one friendly message without a
traceback; 3 some runs of an experiment failed (each listed with its coordinates and
seed; the finished runs are kept for ``--resume``); 1 an unexpected error (a bug: the
traceback is printed so it can be reported); 130 interrupted (Ctrl-C). Every error
marketsim raises on purpose carries its exit code (:class:`sim.common.errors.MarketsimError`).

The pipeline is imported inside the commands that run it, so ``--help``, ``--version``
and ``list`` start without loading pandas, Mesa and the model.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from sim import __version__
from sim.cli.calibrate import add_command as add_calibrate_command
from sim.cli.common import (
    EXIT_BUG,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_RUNS_FAILED,
    EXIT_USER,
    Progress,
    add_scenario_arguments,
    capped_workers,
    error,
    execution_options,
    overrides_of,
    positive_int,
    resume_hint,
    write_crash_log,
)
from sim.cli.experiments import add_commands as add_experiment_commands
from sim.common.errors import MarketsimError, ScenarioError, Terminated, UserError
from sim.config.bundled import FLAGSHIP, bundled_scenarios, resolve_scenario_path, scenarios_dir

__all__ = [
    "EXIT_BUG",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_RUNS_FAILED",
    "EXIT_USER",
    "FLAGSHIP",
    "build_parser",
    "bundled_scenarios",
    "main",
]


def _purpose(path: Path) -> str:
    from sim.config.scenario_file import read_header

    header = read_header(path)
    return header.splitlines()[0] if header else "(no description)"


# --------------------------------------------------------------------------- commands


def cmd_validate(args: argparse.Namespace) -> int:
    """Check a scenario, print every resolved value and the size of its experiment."""
    from sim.config.scenario_file import dump_toml
    from sim.pipeline import plan_run

    plan = plan_run(
        resolve_scenario_path(args.scenario),
        replications=args.replications,
        seed=args.seed,
        steps=args.steps,
        overrides=overrides_of(args),
    )
    sf = plan.scenario
    sampled = f" x {len(plan.variants)} sampled markets" if len(plan.variants) > 1 else ""
    print(
        dump_toml(sf, f"Resolved from {plan.source}: every value used, defaults filled in."),
        end="",
    )
    print(
        f"OK: {plan.source} is valid: {plan.n_policies} "
        f"polic{'y' if plan.n_policies == 1 else 'ies'} "
        f"({', '.join(p.name for p in sf.policies)}){sampled} x {plan.replications} "
        f"replications = {plan.runs} runs of {sf.simulation.steps} {sf.simulation.step_length}s, "
        f"{sf.market.n_customers:,} people, {1 + len(sf.competitors)} "
        f"firm{'s' if sf.competitors else ''}."
        + (f" Needs {plan.resources.summary()}." if plan.resources else ""),
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    """Every policy x sampled market x replication into a results folder, then the report."""
    from sim.experiment.runner import default_workers
    from sim.pipeline import execute, plan_run

    if args.scheduler and args.executor != "dask":
        raise UserError("--scheduler needs --executor dask")
    path = resolve_scenario_path(args.scenario)
    requested = capped_workers(args)
    plan = plan_run(
        path,
        replications=args.replications,
        seed=args.seed,
        steps=args.steps,
        overrides=overrides_of(args),
        out=Path(args.out) if args.out else Path("results") / path.stem,
        workers=requested,
    )
    assert plan.out is not None
    if args.stress:
        from sim.pipeline.stress import check_stress

        check_stress(plan)  # before the main run, not after it
    workers = requested or default_workers(plan.runs)

    def say(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr)

    where = (
        f"the Dask cluster at {args.scheduler}"
        if args.scheduler
        else f"{min(workers, plan.runs)} {'Dask ' if args.executor == 'dask' else ''}worker(s)"
    )
    say(plan.describe(where=where) + (" (resuming)" if args.resume else ""))
    started = time.perf_counter()
    with Progress(plan.runs, plan.total_steps, args.quiet) as progress, resume_hint(plan.out):
        results = execute(
            plan,
            workers=workers,
            progress=progress,
            command_line=["marketsim", *sys.argv[1:]],
            **execution_options(args),
        )
    total = time.perf_counter() - started
    resumed = results.manifest.get("runs_resumed", 0)
    kept = f", {resumed} runs kept from before" if resumed else ""
    say(f"done in {total:.1f} s{kept}; results in {plan.out}/")
    report = plan.out / "report.html"
    if report.is_file():
        say(f"report: {report}")
    if not args.quiet:
        for line in results.headline:
            print(line)
    if args.stress:
        from sim.pipeline.stress import execute_stress, plan_stress

        stress = plan_stress(plan, results)
        say(stress.describe())
        with Progress(stress.runs, stress.total_steps, args.quiet) as progress:
            lines = execute_stress(
                stress,
                workers=workers,
                progress=progress,
                **execution_options(args),
            )
        say(f"stress test: {plan.out}/stress.csv")
        if not args.quiet:
            for line in lines:
                print(line)
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    """Re-draw the figures and the report of a results folder from its files alone."""
    from sim.report.redraw import redraw  # not sim.pipeline: no model to import

    drawn, skipped, path = redraw(Path(args.folder), quiet=args.quiet)
    if not args.quiet:
        print(f"{drawn} figures drawn" + (f", {len(skipped)} skipped:" if skipped else ""))
        for name, why in skipped:
            print(f"  {name}: {why}")
        if path is not None:
            print(f"report: {path}")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    """The bundled scenarios and the question each answers."""
    bundled = bundled_scenarios()
    if not bundled:
        raise UserError(f"no bundled scenarios found in {scenarios_dir()}")
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Bundled scenarios (marketsim run NAME, marketsim new COPY --from NAME)")
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("question it answers")
    for name, path in bundled.items():
        table.add_row(name, _purpose(path))
    Console(width=max(100, Console().width)).print(table)
    return EXIT_OK


def cmd_new(args: argparse.Namespace) -> int:
    """Copy a bundled scenario as a starting point, renamed."""
    bundled = bundled_scenarios()
    name = args.name
    source_name = args.source or (Path(name).stem if Path(name).stem in bundled else FLAGSHIP)
    if source_name not in bundled:
        known = ", ".join(bundled) or "(none)"
        raise UserError(f"--from {source_name}: no such bundled scenario; choose one of {known}")
    target = Path(name if name.endswith(".toml") else f"{name}.toml")
    if args.dir:
        target = Path(args.dir) / target
    if target.exists() and not args.force:
        raise UserError(f"{target} already exists (use --force to overwrite it)")
    text = bundled[source_name].read_text(encoding="utf-8")
    scenario_name = target.stem
    text, count = re.subn(r"(?m)^name\s*=.*$", f"name = {json.dumps(scenario_name)}", text, count=1)
    if not count:
        text = text.replace("\n\n", f"\n\nname = {json.dumps(scenario_name)}\n\n", 1)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target} (a copy of the bundled '{source_name}' scenario)")
    print(f"next: edit it, then `marketsim validate {target}` and `marketsim run {target}`")
    return EXIT_OK


def cmd_view(args: argparse.Namespace) -> int:
    """Start the live page (issue 13) on this machine and print its address."""
    try:
        from sim.view.server import serve
    except ImportError as exc:  # the page's packages are an optional extra
        raise UserError(
            f"marketsim view needs {exc.name or 'Solara'}; install the page's packages with: "
            "pip install 'marketsim[view]'"
        ) from None
    scenario = resolve_scenario_path(args.scenario) if args.scenario else None
    serve(
        scenario,
        host=args.host,
        port=args.port,
        open_browser=args.open,
        graph_sample=args.graph_sample,
    )
    return EXIT_OK


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="marketsim",
        description=(
            "Agent-based market simulator: compare acquisition and retention policies "
            "on a social graph. Start with `marketsim list` and `marketsim run "
            f"{FLAGSHIP}`."
        ),
    )
    parser.add_argument("--version", action="version", version=f"marketsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run every policy x replication and write a results folder")
    add_scenario_arguments(run)
    run.add_argument("--out", metavar="DIR", help="results folder (default results/<scenario>)")
    run.add_argument(
        "--workers",
        type=positive_int,
        metavar="N",
        help="worker processes, local or in a Dask LocalCluster (default: min(cores, runs))",
    )
    run.add_argument(
        "--executor",
        choices=("local", "dask"),
        default="local",
        help="where runs execute: local processes (default) or a Dask cluster",
    )
    run.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="with --executor dask: an existing scheduler, e.g. tcp://10.0.0.5:8786 "
        "(default: start a LocalCluster of --workers processes)",
    )
    run.add_argument(
        "--resume",
        action="store_true",
        help="continue the interrupted experiment in --out: keep its finished runs",
    )
    run.add_argument("--quiet", "-q", action="store_true", help="no progress bar or messages")
    run.add_argument(
        "--no-plots", action="store_true", help="draw no figures (tables and report.html only)"
    )
    run.add_argument(
        "--stress",
        action="store_true",
        help="then rerun the leading pair of policies with each assumption at the ends of its "
        "range (stress/ and stress.csv): which assumptions could reverse the verdict",
    )
    run.set_defaults(func=cmd_run)

    validate = sub.add_parser("validate", help="check a scenario and print the resolved values")
    add_scenario_arguments(validate)
    validate.set_defaults(func=cmd_validate)

    lst = sub.add_parser("list", help="show the bundled scenarios")
    lst.set_defaults(func=cmd_list)

    new = sub.add_parser("new", help="copy a bundled scenario as a starting point")
    new.add_argument("name", metavar="NAME", help="name of the new scenario (NAME.toml)")
    new.add_argument(
        "--from", dest="source", metavar="SCENARIO", help=f"bundled scenario (default {FLAGSHIP})"
    )
    new.add_argument("--dir", metavar="DIR", help="folder to write to (default: here)")
    new.add_argument("--force", action="store_true", help="overwrite an existing file")
    new.set_defaults(func=cmd_new)

    report = sub.add_parser("report", help="re-draw plots and report.html from a results folder")
    report.add_argument("folder", metavar="DIR")
    report.add_argument("--quiet", "-q", action="store_true")
    report.set_defaults(func=cmd_report)

    view = sub.add_parser("view", help="watch and steer a market live in a local web page")
    view.add_argument(
        "scenario", nargs="?", metavar="SCENARIO", help="scenario file or bundled name"
    )
    view.add_argument("--host", default="127.0.0.1", help="address to listen on (default: local)")
    view.add_argument(
        "--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)"
    )
    view.add_argument("--open", action="store_true", help="open the page in the browser")
    view.add_argument(
        "--graph-sample", type=int, default=150, metavar="N", help="people in the graph view"
    )
    view.set_defaults(func=cmd_view)

    add_experiment_commands(sub)  # sweep, sensitivity
    add_calibrate_command(sub)  # calibrate (imports PyMC only when it runs)
    return parser


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated


def _sigterm_as_interrupt() -> signal._HANDLER | None:
    """SIGTERM takes Ctrl-C's path for the whole command (workers stopped, the resume
    line printed, exit 143); returns the handler to restore (None off the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise_terminated)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``marketsim`` and ``python -m sim``; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help/--version exit 0, usage errors exit 2
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USER
    previous = _sigterm_as_interrupt()
    try:
        return int(args.func(args))
    except ScenarioError as exc:  # its message already names the file
        print(str(exc), file=sys.stderr)
        return exc.exit_code
    except MarketsimError as exc:
        error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (Terminated: exit 143)
        what = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
        error(f"{what}; tables appear only when complete, none was left half-written")
        return int(getattr(exc, "exit_code", EXIT_INTERRUPTED))
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:
        log = write_crash_log()
        print(
            f"marketsim: internal error (a bug, not something you did): "
            f"{type(exc).__name__}: {exc}",
            file=sys.stderr,
        )
        print(
            f"marketsim: the full traceback is in {log}; please attach it to a bug report"
            if log
            else "marketsim: could not write a log; the traceback follows",
            file=sys.stderr,
        )
        if log is None:
            traceback.print_exc()
        return EXIT_BUG
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
