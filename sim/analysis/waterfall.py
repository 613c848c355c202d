"""Where a difference in profit comes from: an exact split of it into named sources.

Why: "policy B makes 1.5M more" invites "from what?". The focal firm's profit over a run
is its gross margin less its spend lines (sim.model books ``profit = revenue - cogs -
each lever's spend - fixed_cost - customer_cost - staff_cost - supplier_investment``
every step), and its gross margin factors exactly as

    margin = customer-steps x units per customer-step x margin per unit,

where customer-steps (the sum of the customers at the end of each step) is in turn the
starting customers times the steps plus every customer won, less every customer lost,
each weighted by the steps left in the run. So the difference between two policies
in one replication splits into:

* customers: the Shapley share of the customer-steps factor, divided among the
  starting customers, the customers *won* by each channel (``new_*``) and the customers
  *kept* (fewer lost) for each churn reason (``churned_*``);
* spend per customer: the share of units bought per customer-step;
* price and cost of goods per unit: the share of the margin per unit, split into the
  revenue per unit and the cost of goods per unit;
* each spend line, fixed costs, staff and supplier costs: minus their difference.

The Shapley split of a product of three factors (each factor's change weighted by the
mean of the other two factors' products over the orders of change) is exact, so the
sources sum to the difference of cumulative profit; what the columns cannot itemise
(a measure a future engine adds) is one ``not_itemised`` source; a source within rounding
of zero in every replication is left out. Each source gets the mean and Student-t 95% interval of its
per-replication values across the paired (scenario, replication) runs.

>>> [float(x) for x in shapley3((2.0, 3.0, 4.0), (1.0, 1.0, 1.0))]  # 24 - 1 = 23
[5.5, 8.0, 9.5]
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from sim.analysis.statistics import mean_ci
from sim.common.files import atomic_write_bytes, csv_bytes, read_table

__all__ = [
    "SOURCE_GROUPS",
    "run_accounts",
    "shapley3",
    "waterfall",
    "waterfall_table",
    "write_waterfall",
]

Arr = npt.NDArray[np.float64]

PAIR = ("scenario", "replication")

SOURCE_GROUPS = ("customers won", "customers kept", "customers", "per customer", "costs", "other")
"""The groups of sources, in the order the waterfall shows them."""

_STAFF_AND_SUPPLIERS = (
    ("fixed_cost", "fixed costs"),
    ("customer_cost", "costs per customer"),
    ("staff_cost", "staff costs"),
    ("supplier_investment", "supplier partnership"),
)


def shapley3(a: tuple[Arr | float, ...], b: tuple[Arr | float, ...]) -> tuple[Arr, Arr, Arr]:
    """Exact split of ``prod(a) - prod(b)`` among three factors (Shapley, all orders).

    Factor i's share is ``(a_i - b_i)`` times ``(y_a z_a + y_b z_b)/3 + (y_a z_b + y_b
    z_a)/6`` where y, z are the other two factors; the shares sum to the difference.
    """
    xa = [np.asarray(v, dtype=float) for v in a]
    xb = [np.asarray(v, dtype=float) for v in b]
    out = []
    for i in range(3):
        j, k = (m for m in range(3) if m != i)
        weight = (xa[j] * xa[k] + xb[j] * xb[k]) / 3.0 + (xa[j] * xb[k] + xb[j] * xa[k]) / 6.0
        out.append((xa[i] - xb[i]) * weight)
    return out[0], out[1], out[2]


def _flow_columns(columns: Sequence[str]) -> tuple[list[str], list[str]]:
    won = [c for c in columns if c.startswith("new_") and c != "new_customers"]
    lost = [c for c in columns if c.startswith("churned_") and c != "churned_top_tiers"]
    return won, lost


def _spend_columns(columns: Sequence[str]) -> list[str]:
    lines = [
        c
        for c in columns
        if c.endswith("_spend") and c not in ("acquisition_spend", "retention_spend")
    ]
    return lines or [c for c in ("acquisition_spend", "retention_spend") if c in columns]


def run_accounts(timeseries: pd.DataFrame, focal: str) -> pd.DataFrame:
    """The focal firm's books of each run, summed over its steps.

    One row per (policy, scenario, replication): ``steps``, ``customers_at_start``,
    ``customer_steps``, the step-weighted customers won per channel (``w_new_*``) and lost
    per reason (``w_churned_*``) and in all (``w_new_customers``, ``w_churned``), ``units``,
    ``revenue``, ``cogs``, each spend line, fixed, staff and supplier costs, and
    ``cumulative_profit`` at the last step.
    """
    keys = [c for c in ("policy", *PAIR) if c in timeseries]
    ts = timeseries[timeseries["firm"] == focal].sort_values([*keys, "step"], kind="stable")
    cols = list(ts.columns)
    won, lost = _flow_columns(cols)
    grouped = ts.groupby(keys, sort=False)
    steps = grouped["step"].transform("size").to_numpy(float)
    weight = steps - grouped.cumcount().to_numpy(float)  # steps left, this one included
    frame = pd.DataFrame({k: ts[k].to_numpy() for k in keys})
    for c in [*won, *lost, "new_customers", "churned"]:
        frame[f"w_{c}"] = weight * ts[c].to_numpy(float) if c in ts else 0.0
    sums = [c for c in ("customers", "units", "revenue", "cogs") if c in ts]
    sums += _spend_columns(cols) + [c for c, _ in _STAFF_AND_SUPPLIERS if c in ts]
    for c in sums:
        frame[c] = ts[c].to_numpy(float)
    agg = frame.groupby(keys, sort=False).sum()
    first = grouped.first()
    last = grouped.last()
    start = first["customers"] - first.get("new_customers", 0.0) + first.get("churned", 0.0)
    agg["steps"] = grouped.size().astype(float)
    agg["customers_at_start"] = start
    agg = agg.rename(columns={"customers": "customer_steps"})
    agg["cumulative_profit"] = last["cumulative_profit"]
    return agg.reset_index()


_NAMES = {
    "won_organic": "customers won organically",
    "won_switched_in": "customers won from rivals",
    "customers_at_start": "customers at the start",
    "customers_other": "customers (other changes)",
    "spend_per_customer": "spend per customer (units bought)",
    "price": "price (revenue per unit)",
    "cost_of_goods_per_unit": "cost of goods per unit",
    "supplier_investment": "supplier partnership",
    "not_itemised": "not itemised",
}


def _label(source: str) -> str:
    """A reader's name of a source.

    >>> _label("won_sales_visit"), _label("kept_price"), _label("advertising_spend")
    ('customers won by sales visit', 'customers kept (fewer lost to price)', 'advertising spend')
    """
    words = source.replace("_", " ")
    if source in _NAMES:
        return _NAMES[source]
    if source.startswith("won_"):
        return "customers won by " + words[4:]
    if source.startswith("kept_"):
        return f"customers kept (fewer lost to {words[5:]})"
    return words


def _pair_sources(a: pd.DataFrame, b: pd.DataFrame, columns: Sequence[str]) -> dict[str, Arr]:
    """Each source's value in each pair (rows of ``a`` and ``b`` aligned), and the total."""
    won, lost = _flow_columns([c[2:] for c in columns if c.startswith("w_")])
    spend = _spend_columns(list(columns))

    def col(frame: pd.DataFrame, name: str) -> Arr:
        return frame[name].to_numpy(float) if name in frame else np.zeros(len(frame))

    def factors(f: pd.DataFrame) -> tuple[Arr, Arr, Arr, Arr, Arr]:
        cs, units, rev, cogs = (col(f, c) for c in ("customer_steps", "units", "revenue", "cogs"))
        with np.errstate(divide="ignore", invalid="ignore"):
            per_customer = np.where(cs > 0, units / np.where(cs > 0, cs, 1.0), 0.0)
            price = np.where(units > 0, rev / np.where(units > 0, units, 1.0), 0.0)
            unit_cost = np.where(units > 0, cogs / np.where(units > 0, units, 1.0), 0.0)
        return cs, per_customer, price, unit_cost, price - unit_cost

    ca, ua, pa, ka, ma = factors(a)
    cb, ub, pb, kb, mb = factors(b)
    by_customers, by_units, by_margin = shapley3((ca, ua, ma), (cb, ub, mb))
    with np.errstate(divide="ignore", invalid="ignore"):
        per_customer_step = np.where(ca != cb, by_customers / np.where(ca != cb, ca - cb, 1.0), 0.0)
        per_unit_margin = np.where(ma != mb, by_margin / np.where(ma != mb, ma - mb, 1.0), 0.0)
    # customer-steps = steps x start + weighted won - weighted lost + what the flows miss
    out: dict[str, Arr] = {}
    parts = {"customers_at_start": col(a, "steps") * col(a, "customers_at_start")}
    parts_b = {"customers_at_start": col(b, "steps") * col(b, "customers_at_start")}
    for c in won:
        parts[f"won_{c[4:]}"], parts_b[f"won_{c[4:]}"] = col(a, f"w_{c}"), col(b, f"w_{c}")
    for c in lost:
        name = f"kept_{c[8:]}"
        parts[name], parts_b[name] = -col(a, f"w_{c}"), -col(b, f"w_{c}")
    parts["customers_other"] = ca - sum(parts.values())
    parts_b["customers_other"] = cb - sum(parts_b.values())
    for name, value in parts.items():
        out[name] = (value - parts_b[name]) * per_customer_step
    out["spend_per_customer"] = by_units
    out["price"] = (pa - pb) * per_unit_margin
    out["cost_of_goods_per_unit"] = -(ka - kb) * per_unit_margin
    for c in spend:
        out[c] = -(col(a, c) - col(b, c))
    for c, _ in _STAFF_AND_SUPPLIERS:
        out[c] = -(col(a, c) - col(b, c))
    total = col(a, "cumulative_profit") - col(b, "cumulative_profit")
    out["not_itemised"] = total - sum(out.values())
    out["total"] = total
    return out


def _group(source: str) -> str:
    if source.startswith("won_"):
        return "customers won"
    if source.startswith("kept_"):
        return "customers kept"
    if source.startswith("customers_"):
        return "customers"
    if source in ("spend_per_customer", "price", "cost_of_goods_per_unit"):
        return "per customer"
    if source == "not_itemised":
        return "other"
    return "costs"


def waterfall(
    accounts: pd.DataFrame, *, policy: str, baseline: str, tolerance: float = 1e-6
) -> pd.DataFrame:
    """The sources of ``policy``'s difference in cumulative profit from ``baseline``.

    ``accounts``: :func:`run_accounts` rows. One row per source and a last ``total`` row:
    ``policy, baseline, source, group, label, mean, ci_low, ci_high, replications``. The
    sources' means sum to the total's (the split is exact in every replication);
    sources within rounding of zero in every pair (``tolerance`` times the total's size)
    are left out, so the sources sum to the total to that rounding.
    """
    pair = [c for c in PAIR if c in accounts]
    a = accounts[accounts["policy"] == policy].set_index(pair)
    b = accounts[accounts["policy"] == baseline].set_index(pair)
    common = a.index.intersection(b.index).sort_values()
    values = _pair_sources(a.loc[common], b.loc[common], list(accounts.columns))
    total = values["total"]
    scale = tolerance * (1.0 + float(np.max(np.abs(total), initial=0.0)))
    rows = []
    for source, v in values.items():
        if source != "total" and not np.any(np.abs(v) > scale):
            continue
        ci = mean_ci(v)
        rows.append(
            {
                "policy": policy,
                "baseline": baseline,
                "source": source,
                "group": "total" if source == "total" else _group(source),
                "label": "difference in cumulative profit" if source == "total" else _label(source),
                "mean": ci.mean,
                "ci_low": ci.lo,
                "ci_high": ci.hi,
                "replications": len(common),
            }
        )
    return pd.DataFrame(rows)


def waterfall_table(
    timeseries: pd.DataFrame,
    *,
    focal: str,
    policies: Sequence[str],
    pairs: Sequence[tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """The waterfall of every pair: by default each policy against the first (the baseline)."""
    accounts = run_accounts(timeseries, focal)
    if pairs is None:
        pairs = [(p, policies[0]) for p in policies[1:]]
    frames = [waterfall(accounts, policy=p, baseline=b) for p, b in pairs]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def write_waterfall(
    folder: str | Path,
    *,
    focal: str,
    policies: Sequence[str],
    pairs: Sequence[tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """Add ``waterfall.csv`` (from ``timeseries.csv``) to a results folder; return it.

    A folder without a timeseries (sweeps, sensitivity) or with one policy gets none.
    """
    folder = Path(folder)
    timeseries = read_table(folder / "timeseries.csv", missing_ok=True)
    needed = {"firm", "step", "customers", "cumulative_profit"}
    if timeseries.empty or len(policies) < 2 or not needed <= set(timeseries.columns):
        return pd.DataFrame()
    table = waterfall_table(timeseries, focal=focal, policies=policies, pairs=pairs)
    atomic_write_bytes(folder / "waterfall.csv", csv_bytes(table))
    return table
