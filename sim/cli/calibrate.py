"""The ``marketsim calibrate`` command: a transaction log in, a fitted scenario out.

PyMC takes seconds to import, so nothing of :mod:`sim.calibrate` is imported until the
command runs (``marketsim --help`` stays fast); a missing optional extra is one message
saying how to install it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.cli.common import EXIT_OK, positive_int
from sim.common.errors import UserError

__all__ = ["add_command", "cmd_calibrate"]


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Fit the log, write the scenario (and the hold-out check), print the parameters."""
    try:
        from sim.calibrate.logs import Columns
        from sim.calibrate.workflow import calibrate
    except ImportError as exc:  # pymc-marketing is an optional extra
        raise UserError(
            f"marketsim calibrate needs {exc.name or 'pymc-marketing'}; install it with: "
            "pip install 'marketsim[calibrate]'"
        ) from None
    columns = Columns(args.customer_col, args.date_col, args.amount_col, args.date_format)
    result = calibrate(
        args.transactions,
        args.out,
        columns=columns,
        model=args.model,
        method=args.fit_method,
        time_unit=args.time_unit,
        dropout=args.dropout,
        holdout_weeks=args.holdout_weeks or 0,
        replications=args.replications,
        report_dir=args.report_dir,
        seed=args.seed,
    )
    if not args.quiet:
        for line in result.lines:
            print(line)
        print(f"wrote {result.scenario}; next: marketsim run {result.scenario}")
        if result.folder is not None:
            print(f"hold-out check: {result.folder / 'calibration.html'}")
    return EXIT_OK


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Hook ``calibrate`` into the main parser."""
    cal = sub.add_parser(
        "calibrate", help="fit a market to a firm's transaction log and write it as a scenario"
    )
    cal.add_argument("transactions", metavar="TRANSACTIONS", type=Path, help="CSV or Parquet log")
    cal.add_argument("--out", required=True, metavar="FILE", help="scenario file to write")
    cal.add_argument("--customer-col", metavar="NAME", help="customer id column (default: guessed)")
    cal.add_argument("--date-col", metavar="NAME", help="date column (default: guessed)")
    cal.add_argument("--amount-col", metavar="NAME", help="amount column (default: guessed)")
    cal.add_argument("--date-format", metavar="FMT", help="strftime format, e.g. %%d/%%m/%%Y")
    cal.add_argument(
        "--model",
        choices=("bgnbd", "paretonbd"),
        default="bgnbd",
        help="purchase and dropout model: BG/NBD (default) or Pareto/NBD",
    )
    cal.add_argument(
        "--fit-method",
        choices=("map", "mcmc"),
        default="map",
        help="map: maximum likelihood with Laplace uncertainty (default); mcmc: full posterior",
    )
    cal.add_argument(
        "--time-unit",
        choices=("week", "day"),
        default="week",
        help="unit of the RFM summary and of the scenario's steps (default week; day when "
        "customers often buy more than once a week)",
    )
    cal.add_argument(
        "--dropout",
        choices=("after_purchase", "hazard"),
        default="after_purchase",
        help="after_purchase: BG/NBD's lapse after repeat purchases with the fitted a, b and "
        "no churn hazards (default); hazard: the model's churn reasons scaled to the fitted "
        "dropout rate, so retention levers act on churn (Pareto/NBD: always hazard)",
    )
    cal.add_argument(
        "--holdout-weeks",
        type=positive_int,
        metavar="N",
        help="fit on all but the last N weeks and check the forecast on them",
    )
    cal.add_argument(
        "--replications",
        type=positive_int,
        default=5,
        metavar="N",
        help="simulated replications of the hold-out, each with its own parameter draw",
    )
    cal.add_argument("--report-dir", metavar="DIR", help="hold-out folder (default: next to --out)")
    cal.add_argument("--seed", type=int, default=0, help="seed of the draws and simulations")
    cal.add_argument("--quiet", "-q", action="store_true")
    cal.set_defaults(func=cmd_calibrate)
