"""Scenario discovery: which ranges of the uncertain parameters make the leading policy lose.

Why: "retention_heavy wins in 80% of the sampled markets" leaves a strategist asking
*which* 20%. PRIM (the Patient Rule Induction Method, Friedman & Fisher 1999, as used for
scenario discovery by Bryant & Lempert 2010) finds a box in the space of the uncertain
parameters (``scenarios.csv``) that holds most of the markets where the policy is not the
best (``regret.csv``: ``is_best`` false) and few of the others. The peeling is EMA
Workbench's maintained implementation (``ema_workbench.analysis.prim``), not ours.

Of PRIM's peeling trajectory the box taken is the one with the best balance of coverage
and density (their harmonic mean), less the limits that are not significant (quasi-p
value above :data:`MAX_QUASI_P`, Bryant & Lempert 2010); the sentence says how much of
the losses it covers ("which covers 80% of the markets where it loses"). ``coverage`` is the
share of the policy's losses inside the box; ``density`` the share of the markets inside
the box where it loses.

Importing EMA Workbench takes about a second, so it lives in
:mod:`sim.analysis.prim_boxes`, which :func:`write_discovery` imports only when a folder
has sampled markets; the sentence and the table's columns are here, for the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from sim.common.files import atomic_write_bytes, csv_bytes, read_table
from sim.common.formatting import format_number

__all__ = [
    "COLUMNS",
    "MAX_QUASI_P",
    "MIN_MARKETS",
    "discovery_sentence",
    "write_discovery",
]

MAX_QUASI_P = 0.05
"""A limit whose quasi-p value (a one-sided binomial test) is above this is dropped."""

MIN_MARKETS = 10
"""Fewer sampled markets than this are too few to find ranges in."""

COLUMNS = [
    "policy",
    "parameter",
    "low",
    "high",
    "restricted",
    "values",
    "coverage",
    "density",
    "markets_in_box",
    "losses",
    "markets",
]
"""The columns of discovery.csv: one row per parameter the box restricts."""


def _condition(row: pd.Series, names: Mapping[str, str]) -> str:
    name = names.get(str(row["parameter"]), str(row["parameter"]))
    low, high = format_number(row["low"]), format_number(row["high"])
    if row["restricted"] == "low":
        return f"{name} > {low}"
    if row["restricted"] == "high":
        return f"{name} < {high}"
    if row["restricted"] == "both":
        return f"{name} is between {low} and {high}"
    return f"{name} is one of {str(row['values']).replace('|', ', ')}"


def discovery_sentence(
    box: pd.DataFrame,
    policy: str,
    *,
    losses: int,
    markets: int,
    names: Mapping[str, str] | None = None,
) -> str:
    """The box in words (plain text), e.g. "a is best unless x < 0.12, which covers 80% ...".

    ``names``: readable names of the parameters (default: the key paths).

    >>> box = pd.DataFrame({"parameter": ["x"], "low": [0.0], "high": [0.12],
    ...     "restricted": ["high"], "values": [""], "coverage": [0.8], "density": [0.9]})
    >>> discovery_sentence(box, "a", losses=10, markets=40)
    'a is best unless x < 0.12, which covers 80% of the 10 sampled markets (of 40) where it loses; in that range it loses in 90% of the markets.'
    """
    names = names or {}
    if markets < MIN_MARKETS:
        return (
            f"Only {markets} sampled markets: too few to find the ranges where {policy} loses "
            f"(scenario discovery needs at least {MIN_MARKETS})."
        )
    if losses == 0:
        return (
            f"{policy} is best in all {markets} sampled markets: there is no range where it loses."
        )
    if losses == markets:
        return f"{policy} is not the best in any of the {markets} sampled markets."
    if box.empty:
        return (
            f"{policy} loses in {losses} of {markets} sampled markets, spread over the "
            "parameters' ranges: no range of the uncertain parameters concentrates them."
        )
    conditions = " and ".join(_condition(r, names) for _, r in box.iterrows())
    first = box.iloc[0]
    return (
        f"{policy} is best unless {conditions}, which covers {first['coverage']:.0%} of the "
        f"{losses} sampled markets (of {markets}) where it loses; in that range it loses in "
        f"{first['density']:.0%} of the markets."
    )


def write_discovery(folder: str | Path, policy: str) -> tuple[pd.DataFrame, str]:
    """Add ``discovery.csv`` (the box where ``policy`` loses) to a folder; return it and its sentence.

    Reads ``regret.csv`` and ``scenarios.csv``; a folder without sampled markets gets no file.
    """
    folder = Path(folder)
    regret = read_table(folder / "regret.csv", missing_ok=True)
    scenarios = read_table(folder / "scenarios.csv", missing_ok=True)
    if regret.empty or scenarios.empty or scenarios.shape[1] < 2:
        return pd.DataFrame(columns=COLUMNS), ""
    mine = regret[regret["policy"] == policy].dropna(subset=["mean"])
    table = scenarios.set_index("scenario").join(mine.set_index("scenario")["is_best"], how="inner")
    loses = ~table.pop("is_best").astype(str).eq("True").to_numpy()
    from sim.analysis.prim_boxes import discover  # EMA Workbench: only with sampled markets

    box = discover(table, loses, policy=policy)
    atomic_write_bytes(folder / "discovery.csv", csv_bytes(box))
    sentence = discovery_sentence(box, policy, losses=int(loses.sum()), markets=int(loses.size))
    return box, sentence
