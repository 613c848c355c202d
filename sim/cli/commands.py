"""The ``marketsim`` command: run, validate, list, new, report.

Exit codes: 0 success; 2 a user error (bad scenario file, bad arguments, missing file or
folder, a resume that does not match), reported in one friendly message without a
traceback; 3 some runs of an experiment failed (each listed with its coordinates and
seed; the finished runs are kept for ``--resume``); 1 an unexpected error (a bug: the
traceback is printed so it can be reported); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sim.common.errors import MarketsimError, ScenarioError, UserError

if TYPE_CHECKING:
    from sim.config.scenario_file import ScenarioFile

__all__ = ["EXIT_BUG", "EXIT_OK", "EXIT_RUNS_FAILED", "EXIT_USER", "bundled_scenarios", "main"]

EXIT_OK = 0
EXIT_BUG = 1
EXIT_USER = 2
EXIT_RUNS_FAILED = 3
EXIT_INTERRUPTED = 130

FLAGSHIP = "retention_vs_acquisition"


# --------------------------------------------------------------------------- bundled scenarios


def scenarios_dir() -> Path:
    """The bundled scenarios' folder (``MARKETSIM_SCENARIOS`` overrides it)."""
    env = os.environ.get("MARKETSIM_SCENARIOS")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "scenarios"


def bundled_scenarios() -> dict[str, Path]:
    """Bundled scenario name -> file, sorted by name."""
    folder = scenarios_dir()
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.toml"))}


def _purpose(path: Path) -> str:
    from sim.config.scenario_file import read_header

    header = read_header(path)
    return header.splitlines()[0] if header else "(no description)"


# --------------------------------------------------------------------------- helpers


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {value}")
    return value


def _overrides(
    args: argparse.Namespace, replications_key: str = "simulation.replications"
) -> dict[str, object]:
    """--set, --replications, --seed and --steps as overrides by key path."""
    from sim.config.scenario_file import parse_set_option

    out: dict[str, object] = {}
    for option in getattr(args, "set", None) or []:
        key, value = parse_set_option(option)
        out[key] = value
    for flag, key in (
        ("replications", replications_key),
        ("seed", "simulation.seed"),
        ("steps", "simulation.steps"),
    ):
        value = getattr(args, flag, None)
        if value is not None:
            out[key] = value
    return out


def _resolve_scenario_path(text: str) -> Path:
    """A path, or the name of a bundled scenario."""
    path = Path(text)
    if path.exists() or path.suffix == ".toml" or os.sep in text:
        return path
    bundled = bundled_scenarios()
    if text in bundled:
        return bundled[text]
    return path


def _load(
    args: argparse.Namespace, replications_key: str = "simulation.replications"
) -> tuple[Path, ScenarioFile]:
    """The scenario named on the command line, with --set/--seed/--steps/--replications.

    ``replications_key``: which key --replications sets (sweeps and sensitivity set the
    replications per sampled market, ``experiment.replications``).
    """
    from sim.config.scenario_file import load_scenario

    path = _resolve_scenario_path(args.scenario)
    return path, load_scenario(path, _overrides(args, replications_key))


def _err(message: str) -> None:
    print(f"marketsim: error: {message}", file=sys.stderr)


# --------------------------------------------------------------------------- commands


def cmd_validate(args: argparse.Namespace) -> int:
    from sim.config.scenario_file import dump_toml
    from sim.experiment.sampling import replications_per_scenario, scenario_variants

    path, sf = _load(args)
    markets = len(scenario_variants(sf))
    replications = replications_per_scenario(sf)
    runs = len(sf.policies) * markets * replications
    sampled = f" x {markets} sampled markets" if markets > 1 else ""
    print(dump_toml(sf, f"Resolved from {path}: every value used, defaults filled in."), end="")
    print(
        f"OK: {path} is valid: {len(sf.policies)} "
        f"polic{'y' if len(sf.policies) == 1 else 'ies'} "
        f"({', '.join(p.name for p in sf.policies)}){sampled} x {replications} "
        f"replications = {runs} runs of {sf.simulation.steps} {sf.simulation.step_length}s, "
        f"{sf.market.n_customers:,} people, {1 + len(sf.competitors)} "
        f"firm{'s' if sf.competitors else ''}.",
        file=sys.stderr,
    )
    return EXIT_OK


class _Progress:
    """A rich progress bar: runs done, steps done, time left."""

    def __init__(self, total_runs: int, total_steps: int, quiet: bool) -> None:
        self.bar = None
        self.task = None
        self.runs = 0
        self.total_runs = total_runs
        if quiet:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            TextColumn("[bold]simulating"),
            BarColumn(),
            TextColumn("runs {task.fields[runs]}/{task.fields[total_runs]}"),
            TextColumn("steps {task.completed:,.0f}/{task.total:,.0f}"),
            TextColumn("elapsed"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self.task = self.bar.add_task("runs", total=total_steps, runs=0, total_runs=total_runs)

    def __call__(self, runs: int, steps: int) -> None:
        if self.bar is None:
            return
        self.runs += runs
        assert self.task is not None
        self.bar.update(self.task, advance=steps, runs=self.runs)

    def __enter__(self) -> _Progress:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


@contextmanager
def _resume_hint(out: Path, args: argparse.Namespace) -> Iterator[None]:
    """On Ctrl-C, say that the finished runs are kept and how to continue."""
    try:
        yield
    except KeyboardInterrupt:
        _err(
            f"the finished runs are kept in {out / 'runs'}: run the same command again "
            "with --resume to continue where it stopped"
        )
        raise


def cmd_run(args: argparse.Namespace) -> int:
    from sim.analysis.summary import write_results
    from sim.config.scenario_file import read_header
    from sim.experiment.runner import default_workers, plan_runs, run_experiment
    from sim.experiment.runstore import RESULT_TABLES
    from sim.experiment.sampling import scenario_variants
    from sim.report import render_report
    from sim.report.data import load_results
    from sim.report.html import headline

    path, sf = _load(args)
    out = Path(args.out) if args.out else Path("results") / path.stem
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: exists and is not a folder")
    if args.scheduler and args.executor != "dask":
        raise UserError("--scheduler needs --executor dask")
    variants = scenario_variants(sf)
    runs = len(plan_runs(sf, variants))
    workers = args.workers or default_workers(runs)
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr))
    where = (
        f"the Dask cluster at {args.scheduler}"
        if args.scheduler
        else f"{min(workers, runs)} {'Dask ' if args.executor == 'dask' else ''}worker(s)"
    )
    scenarios = f" x {len(variants)} scenarios" if len(variants) > 1 else ""
    say(
        f"{sf.name}: {len(sf.policies)} policies{scenarios} x "
        f"{runs // (len(sf.policies) * len(variants))} replications = {runs} runs of "
        f"{sf.simulation.steps} {sf.simulation.step_length}s, {sf.market.n_customers:,} "
        f"people, on {where} -> {out}/" + (" (resuming)" if args.resume else "")
    )
    started = time.perf_counter()
    started_at = time.time()
    progress = _Progress(runs, runs * sf.simulation.steps, args.quiet)
    with progress, _resume_hint(out, args):
        experiment = run_experiment(
            sf,
            out,
            variants=variants,
            workers=workers,
            executor=args.executor,
            scheduler=args.scheduler,
            resume=args.resume,
            progress=progress,
            tables=RESULT_TABLES,
        )
    write_results(
        sf,
        experiment,
        source=str(path),
        header=read_header(path),
        command_line=["marketsim", *sys.argv[1:]],
        workers=min(workers, runs),
        started=started_at,
    )
    robust_lines: list[str] = []
    if getattr(sf, "uncertainties", None):
        from sim.analysis.robustness import write_robustness

        robust_lines = write_robustness(out, sf)
    simulated = time.perf_counter() - started
    report_path = None
    if sf.outputs.plots or sf.outputs.report:
        report_path, _ = render_report(out)
    total = time.perf_counter() - started
    resumed = f", {experiment.resumed} runs kept from before" if experiment.resumed else ""
    say(f"done in {total:.1f} s (simulation {simulated:.1f} s{resumed}); results in {out}/")
    if report_path is not None:
        say(f"report: {report_path}")
    if not args.quiet:
        # Across sampled markets the pooled comparison hides what matters: who wins where.
        for line in robust_lines or headline(load_results(out)):
            print(line)
    return EXIT_OK


def _redraw_robustness(folder: Path, quiet: bool) -> None:
    """Re-draw the robustness tables and figures of a folder that has them.

    They are judged on the folder's own ``scenario.resolved.toml`` (policies, outcome,
    focal firm), so ``marketsim report`` needs nothing but the folder.
    """
    resolved = folder / "scenario.resolved.toml"
    if not (folder / "robustness.csv").is_file() or not resolved.is_file():
        return
    from sim.analysis.robustness import write_robustness
    from sim.config.scenario_file import ScenarioError, load_scenario

    try:
        sf = load_scenario(resolved)
    except ScenarioError as exc:  # e.g. a graph file that has moved since the run
        if not quiet:
            print(f"robustness figures kept as they were: {exc}", file=sys.stderr)
        return
    write_robustness(folder, sf)


def cmd_report(args: argparse.Namespace) -> int:
    from sim.report import ResultsFolderError, render_report

    try:
        _redraw_robustness(Path(args.folder), args.quiet)
        path, plots = render_report(args.folder)
    except ResultsFolderError as exc:
        raise UserError(str(exc)) from None
    if not args.quiet:
        drawn = sum(1 for p in plots if p.png is not None)
        skipped = [p for p in plots if p.skipped]
        print(f"{drawn} figures drawn" + (f", {len(skipped)} skipped:" if skipped else ""))
        for p in skipped:
            print(f"  {p.name}: {p.skipped}")
        if path is not None:
            print(f"report: {path}")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
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


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    from sim import __version__

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

    def scenario_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("scenario", metavar="SCENARIO", help="scenario .toml file or bundled name")
        p.add_argument(
            "--set",
            action="append",
            metavar="KEY.PATH=VALUE",
            help="override one value, e.g. --set market.n_customers=5000 (repeatable)",
        )
        p.add_argument("--replications", type=_positive_int, metavar="R")
        p.add_argument("--seed", type=_non_negative_int, metavar="S")
        p.add_argument("--steps", type=_positive_int, metavar="T")

    run = sub.add_parser("run", help="run every policy x replication and write a results folder")
    scenario_args(run)
    run.add_argument("--out", metavar="DIR", help="results folder (default results/<scenario>)")
    run.add_argument(
        "--workers",
        type=_positive_int,
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
    run.set_defaults(func=cmd_run)

    validate = sub.add_parser("validate", help="check a scenario and print the resolved values")
    scenario_args(validate)
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
    from sim.cli.experiments import add_commands

    add_commands(sub)  # sweep, sensitivity
    return parser


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
    try:
        return args.func(args)
    except ScenarioError as exc:  # its message already names the file
        print(str(exc), file=sys.stderr)
        return exc.exit_code
    except MarketsimError as exc:
        _err(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        _err("interrupted; tables appear only when complete, none was left half-written")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except Exception:
        print(
            "marketsim: internal error (a bug; please report it with this traceback):",
            file=sys.stderr,
        )
        traceback.print_exc()
        return EXIT_BUG
