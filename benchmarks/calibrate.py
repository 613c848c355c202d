"""Time `marketsim calibrate` on a large log: 100,000 customers, about 1,000,000 rows.

The log is drawn from the BG/NBD and Gamma-Gamma processes themselves (numpy, seeded),
weekly, over two years: purchase rate Gamma(r, alpha) per week, dropout after each
purchase with chance p ~ Beta(a, b), spend Gamma(p, nu) with nu ~ Gamma(q, v), first
purchases spread over the first year. Then each stage of `calibrate` is timed: reading
and checking the CSV, the RFM summary, the fits (MAP), the scenario (with its churn
probe run) and the hold-out simulation (13 weeks, the fitted market from the customers).

    python benchmarks/calibrate.py                      # 100,000 customers
    python benchmarks/calibrate.py --customers 10000    # a quick check
    python benchmarks/calibrate.py --customers 5000 --fit-method mcmc   # NUTS, diagnostics
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

R, ALPHA_WEEKS, A, B = 0.75, 0.95, 0.8, 4.0  # about 10 purchases per customer in 2 years
P, Q, V = 6.25, 3.0, 15.0
WEEKS = 104


def make_log(customers: int, seed: int) -> pd.DataFrame:
    """A BG/NBD + Gamma-Gamma log, one row per purchase (vectorized over purchases)."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(R, 1.0 / ALPHA_WEEKS, customers)
    drop = rng.beta(A, B, customers)
    nu = rng.gamma(Q, 1.0 / V, customers)
    first = rng.uniform(0, WEEKS / 2, customers)
    # purchases after the first: geometric number before dropout, capped by the window
    n_max = rng.geometric(drop) - 1
    gaps_needed = int(np.minimum(n_max, 400).sum())
    owner = np.repeat(np.arange(customers), np.minimum(n_max, 400))
    gaps = rng.exponential(1.0 / lam[owner], gaps_needed)
    starts = np.concatenate([[0], np.cumsum(np.minimum(n_max, 400))[:-1]])
    times = np.cumsum(gaps)
    offsets = np.repeat(np.concatenate([[0.0], times])[starts], np.minimum(n_max, 400))
    t = first[owner] + times - offsets
    keep = t < WEEKS
    ids = np.concatenate([np.arange(customers), owner[keep]])
    when = np.concatenate([first, t[keep]])
    amount = rng.gamma(P, 1.0 / nu[ids])
    dates = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.floor(when * 7), unit="D")
    return pd.DataFrame(
        {"customer_id": ids, "date": dates.strftime("%Y-%m-%d"), "amount": amount.round(2)}
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--holdout-weeks", type=int, default=13)
    parser.add_argument("--replications", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fit-method", choices=("map", "mcmc"), default="map")
    args = parser.parse_args()
    timings: dict[str, float] = {}
    start = time.perf_counter()
    from sim.calibrate.workflow import calibrate

    timings["import_s"] = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log.csv"
        log = make_log(args.customers, args.seed)
        log.to_csv(path, index=False)
        started = time.perf_counter()
        cpu = time.process_time()
        result = calibrate(
            path,
            Path(tmp) / "fitted.toml",
            holdout_weeks=args.holdout_weeks,
            replications=args.replications,
            method=args.fit_method,
            seed=args.seed,
        )
        timings["calibrate_s"] = time.perf_counter() - started
        timings["calibrate_cpu_s"] = time.process_time() - cpu
        rows = len(log)
    print(
        json.dumps(
            {
                "customers": args.customers,
                "fit_method": args.fit_method,
                "rows": rows,
                **{k: round(v, 1) for k, v in timings.items()},
                "stages_s": {k: round(v, 1) for k, v in result.timings.items()},
                "load_1m": round(os.getloadavg()[0], 1),
            }
        )
    )
    for line in result.lines:  # the parameters (with R-hat and ESS for mcmc) and the MAPE
        print(line)


if __name__ == "__main__":
    main()
