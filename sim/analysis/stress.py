"""Stress the assumptions behind a verdict: could a plausible value of one assumption reverse it?

A verdict is "``leader`` ends with more of the outcome than ``other``" (the leading pair,
:func:`leading_pair`). Each assumption of :data:`ASSUMPTIONS` (the market responses a
verdict on acquisition vs. retention rests on) is moved, one at a time, to the low and the
high end of its range (:func:`stress_points`) while both policies rerun with paired seeds;
:func:`stress_table` gives the paired difference and its 95% interval at each end and says
whether the verdict reverses there. Tables in, tables out: the runs themselves are the
pipeline's (:mod:`sim.pipeline.stress`).

The rules, in words (docs/results.md, ``stress.csv``):

* **Leading pair**: the policy with the highest mean of the outcome (the focal firm's
  cumulative profit by default) against the baseline (the first policy); when the baseline
  is itself the best, against the runner-up. The same pair the report's headline features.
* **Range**: the scenario's own ``[uncertainties]`` range of the key where it gives one
  (``low``/``high``, or the smallest and largest of ``choices``); else the value's effect
  halved and increased by half: ``around + (value - around) x 0.5`` and ``x 1.5``, where
  ``around`` is the value meaning "no effect" (0 for rates and shares, 1 for multipliers),
  clipped to the schema's bounds and rounded for whole numbers. A key the schema does not
  have, a value at ``around`` (no effect to scale) or an end the scenario refuses is
  skipped with a note.
* **Reverses**: the mean paired difference (leader minus other) at that end is below
  zero; **clearly reverses**: its whole 95% interval is.

>>> pick = stress_points({"market": {"churn": {"base_per_year": 0.1}}}, {},
...                      (Assumption("market.churn.base_per_year", "base churn"),))
>>> pick[0].low, pick[0].high
(0.05, 0.15)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.statistics import paired_difference_ci
from sim.common.files import atomic_write_bytes, csv_bytes
from sim.common.outcomes import outcome_label
from sim.config.keypaths import split_path
from sim.config.parameters import resolve_parameter

__all__ = [
    "ASSUMPTIONS",
    "STRESS_COLUMNS",
    "Assumption",
    "StressPoint",
    "leading_pair",
    "stress_points",
    "stress_sentences",
    "stress_table",
    "stress_variants",
    "write_stress",
]

PAIR = ("scenario", "replication")


@dataclass(frozen=True)
class Assumption:
    """One assumption a verdict may rest on: a market key, a short name for readers, and
    the value that means "no effect" (0 for rates and shares, 1 for multipliers)."""

    path: str
    name: str
    around: float = 0.0


ASSUMPTIONS: tuple[Assumption, ...] = (
    Assumption("market.word_of_mouth.p_referral_conversion", "referral conversion"),
    Assumption("market.word_of_mouth.referrals_per_year", "referrals a promoter makes"),
    Assumption("market.churn.base_per_year", "churn for outside reasons"),
    Assumption("market.churn.dissatisfaction_per_year", "churn of the dissatisfied"),
    Assumption("market.churn.neglect_per_year", "churn from neglect"),
    Assumption("market.churn.member_churn_reduction", "loyalty: members churn less"),
    Assumption(
        "market.levers.member_frequency_multiplier", "loyalty uplift: purchases", around=1.0
    ),
    Assumption(
        "market.levers.member_basket_multiplier", "loyalty uplift: spend a purchase", around=1.0
    ),
    Assumption("market.tenure_spend_gain", "share-of-wallet ramp with tenure"),
    Assumption("market.advertising.p_aware_per_exposure", "advertising reach"),
)
"""The assumptions ``marketsim run --stress`` moves, in this order. Keys the schema no
longer has are skipped with a note (the list is resolved against the schema at run time)."""

STRESS_COLUMNS = (
    "assumption",
    "path",
    "value",
    "low",
    "high",
    "range_rule",
    "leader",
    "other",
    "outcome",
    "replications",
    "diff_nominal",
    "diff_nominal_ci_low",
    "diff_nominal_ci_high",
    "diff_low",
    "diff_low_ci_low",
    "diff_low_ci_high",
    "diff_high",
    "diff_high_ci_low",
    "diff_high_ci_high",
    "reverses_low",
    "reverses_high",
    "reverses",
    "clearly_reverses",
    "swing",
    "note",
)
"""Columns of ``stress.csv``: one row per assumption, most influential (largest swing) first."""


@dataclass(frozen=True)
class StressPoint:
    """An assumption resolved for one scenario: its value and the two ends it moves to.

    ``low``/``high`` are None when it is skipped; ``note`` then says why.
    """

    assumption: Assumption
    value: float | None
    low: float | None
    high: float | None
    rule: str = ""
    note: str = ""

    @property
    def active(self) -> bool:
        """Whether both ends are run."""
        return self.low is not None and self.high is not None


# --------------------------------------------------------------------------- the pair


def leading_pair(
    outcomes: pd.DataFrame,
    policies: Sequence[str],
    focal: str,
    outcome: str = "cumulative_profit",
) -> tuple[str, str] | None:
    """(leader, other): the best policy by mean ``outcome`` of ``focal`` and the baseline
    (the first policy), or the runner-up when the baseline is the best; None with fewer
    than two policies.

    >>> t = pd.DataFrame({"policy": ["a", "b", "c"], "firm": "f", "x": [1.0, 3.0, 2.0]})
    >>> leading_pair(t, ["a", "b", "c"], "f", "x"), leading_pair(t, ["b", "a", "c"], "f", "x")
    (('b', 'a'), ('b', 'c'))
    """
    mine = outcomes[outcomes["firm"] == focal]
    means = mine.groupby("policy")[outcome].mean()
    present = [p for p in policies if p in means.index and np.isfinite(means[p])]
    if len(present) < 2:
        return None
    ranked = sorted(present, key=lambda p: -float(means[p]))  # stable: ties keep file order
    best, base = ranked[0], present[0]
    return (best, base) if best != base else (best, ranked[1])


# --------------------------------------------------------------------------- the ranges


def _value_at(scenario: Mapping[str, Any], path: str) -> Any:
    node: Any = scenario
    for key in split_path(path):
        in_table = isinstance(node, Mapping) and key in node
        in_list = isinstance(node, Sequence) and isinstance(key, int) and 0 <= key < len(node)
        if not (in_table or in_list):
            return None
        node = node[key]
    return node


def _clip(x: float, bounds: Mapping[str, float], integer: bool) -> float:
    lo = bounds.get("ge", bounds.get("gt", -math.inf))
    hi = bounds.get("le", bounds.get("lt", math.inf))
    x = min(max(x, lo), hi)
    if "gt" in bounds and x <= bounds["gt"]:
        x = bounds["gt"] + 1e-6 * max(1.0, abs(bounds["gt"]))
    if "lt" in bounds and x >= bounds["lt"]:
        x = bounds["lt"] - 1e-6 * max(1.0, abs(bounds["lt"]))
    return float(round(x)) if integer else float(f"{x:.6g}")


def _uncertainty_range(spec: Any) -> tuple[float, float] | None:
    spec = dict(spec) if isinstance(spec, Mapping) else {}
    if spec.get("choices"):
        values = [float(v) for v in spec["choices"]]
        return min(values), max(values)
    if spec.get("low") is not None and spec.get("high") is not None:
        return float(spec["low"]), float(spec["high"])
    return None


def stress_points(
    scenario: Mapping[str, Any],
    uncertainties: Mapping[str, Any],
    assumptions: Sequence[Assumption] = ASSUMPTIONS,
    problem: Callable[[str, float], str | None] | None = None,
) -> list[StressPoint]:
    """Each assumption's value in ``scenario`` (a Scenario as JSON data) and its two ends.

    ``uncertainties``: the scenario's ``[uncertainties]`` by key path (their ranges win);
    ``problem(path, value)``: why the scenario would refuse a value (None when it takes
    it), to skip an end the cross-checks refuse. See the module's rules.
    """
    out = []
    for a in assumptions:
        try:
            info = resolve_parameter(a.path)
        except ValueError as exc:
            out.append(StressPoint(a, None, None, None, note=f"skipped: {exc}"))
            continue
        raw = _value_at(scenario, a.path)
        if not isinstance(raw, int | float) or isinstance(raw, bool):
            out.append(StressPoint(a, None, None, None, note="skipped: no value in the scenario"))
            continue
        value = float(raw)
        given = _uncertainty_range(uncertainties.get(a.path))
        if given is not None:
            low, high = given
            rule = "the scenario's [uncertainties] range"
        elif value == a.around:
            out.append(
                StressPoint(
                    a,
                    value,
                    None,
                    None,
                    note=f"skipped: the value {value:g} means no effect, so there is no effect "
                    "to halve or raise by half; give it a range in [uncertainties]",
                )
            )
            continue
        else:
            low = _clip(a.around + 0.5 * (value - a.around), info.bounds, info.integer)
            high = _clip(a.around + 1.5 * (value - a.around), info.bounds, info.integer)
            low, high = min(low, high), max(low, high)
            rule = (
                "effect x0.5 and x1.5"
                + (f" (from {a.around:g})" if a.around else "")
                + " within the schema's bounds"
            )
        if low == high:
            out.append(StressPoint(a, value, None, None, rule, "skipped: the range is one value"))
            continue
        refused = [
            f"{end} = {v:g}: {why}"
            for end, v in (("low", low), ("high", high))
            if problem is not None and (why := problem(a.path, v))
        ]
        if refused:
            out.append(StressPoint(a, value, None, None, rule, "skipped: " + "; ".join(refused)))
            continue
        out.append(StressPoint(a, value, low, high, rule))
    return out


def stress_variants(points: Sequence[StressPoint]) -> list[dict[str, float]]:
    """The stress experiment's scenario variants: the nominal market (no override) first,
    then the low and the high end of each active assumption, in order.

    >>> p = StressPoint(Assumption("a.b", "ab"), 1.0, 0.5, 1.5)
    >>> stress_variants([p])
    [{}, {'a.b': 0.5}, {'a.b': 1.5}]
    """
    variants: list[dict[str, float]] = [{}]
    for p in points:
        if p.active:
            assert p.low is not None and p.high is not None
            variants += [{p.assumption.path: p.low}, {p.assumption.path: p.high}]
    return variants


# --------------------------------------------------------------------------- the table


def _diff(
    outcomes: pd.DataFrame, scenario: int, leader: str, other: str, focal: str, outcome: str
) -> tuple[float, float, float, int]:
    mine = outcomes[(outcomes["scenario"] == scenario) & (outcomes["firm"] == focal)]
    a = mine[mine["policy"] == leader].set_index("replication")[outcome].astype(float)
    b = mine[mine["policy"] == other].set_index("replication")[outcome].astype(float)
    common = a.index.intersection(b.index).sort_values()
    if common.empty:
        return math.nan, math.nan, math.nan, 0
    ci = paired_difference_ci(a.loc[common].to_numpy(), b.loc[common].to_numpy())
    return ci.mean_diff, ci.lo, ci.hi, len(common)


def stress_table(
    outcomes: pd.DataFrame,
    points: Sequence[StressPoint],
    *,
    leader: str,
    other: str,
    focal: str,
    outcome: str = "cumulative_profit",
) -> pd.DataFrame:
    """``stress.csv`` from the stress experiment's outcomes (scenario variants numbered as
    :func:`stress_variants` lists them): one row per assumption, skipped ones last with
    their note, the others by swing (how far the difference moves between the ends)."""
    base = _diff(outcomes, 0, leader, other, focal, outcome)
    rows = []
    scenario = 1
    for p in points:
        row: dict[str, Any] = {
            "assumption": p.assumption.name,
            "path": p.assumption.path,
            "value": p.value,
            "low": p.low,
            "high": p.high,
            "range_rule": p.rule,
            "leader": leader,
            "other": other,
            "outcome": outcome,
            "replications": base[3],
            "diff_nominal": base[0],
            "diff_nominal_ci_low": base[1],
            "diff_nominal_ci_high": base[2],
            "note": p.note,
        }
        if p.active:
            clear = False
            for end in ("low", "high"):
                mean, lo, hi, _ = _diff(outcomes, scenario, leader, other, focal, outcome)
                scenario += 1
                row[f"diff_{end}"] = mean
                row[f"diff_{end}_ci_low"] = lo
                row[f"diff_{end}_ci_high"] = hi
                row[f"reverses_{end}"] = bool(mean < 0) if np.isfinite(mean) else None
                clear = clear or bool(np.isfinite(hi) and hi < 0)
            row["reverses"] = bool(row["reverses_low"] or row["reverses_high"])
            row["clearly_reverses"] = clear
            row["swing"] = abs(row["diff_high"] - row["diff_low"])
        rows.append(row)
    table = pd.DataFrame(rows).reindex(columns=list(STRESS_COLUMNS))
    order = table["swing"].fillna(-1.0).to_numpy()
    return table.iloc[np.argsort(-order, kind="stable")].reset_index(drop=True)


def write_stress(folder: str | Path, table: pd.DataFrame) -> Path:
    """``folder/stress.csv``, atomically."""
    path = Path(folder) / "stress.csv"
    atomic_write_bytes(path, csv_bytes(table))
    return path


# --------------------------------------------------------------------------- in words


def _true(x: object) -> bool:
    return str(x) == "True"


def stress_sentences(table: pd.DataFrame) -> list[str]:
    """Plain-language sentences (not escaped): which assumptions could reverse the verdict.

    >>> t = pd.DataFrame({"assumption": ["x", "y"], "path": ["a.x", "a.y"], "leader": "L",
    ...     "other": "O", "outcome": "cumulative_profit", "low": [1.0, 2.0],
    ...     "high": [3.0, 4.0], "reverses_low": [True, False], "reverses_high": [False, False],
    ...     "reverses": [True, False], "clearly_reverses": [False, False], "note": ""})
    >>> stress_sentences(t)[0]
    'L beats O unless x is near its low end (1): there the mean difference reverses (its 95% interval still includes no difference).'
    """
    if table.empty:
        return []
    leader, other = str(table["leader"].iloc[0]), str(table["other"].iloc[0])
    label = outcome_label(str(table["outcome"].iloc[0]))
    active = table[table["low"].notna()]
    flips = active[active["reverses"].map(_true)]
    out = []
    if flips.empty and not active.empty:
        out.append(
            f"No assumption moved across its range reverses the verdict: {leader} keeps more "
            f"{label} than {other} at both ends of all {len(active)} tested."
        )
    for _, r in flips.iterrows():
        ends = [f"{end} end ({r[end]:g})" for end in ("low", "high") if _true(r[f"reverses_{end}"])]
        sure = (
            "and its 95% interval lies below zero"
            if _true(r["clearly_reverses"])
            else "(its 95% interval still includes no difference)"
        )
        out.append(
            f"{leader} beats {other} unless {r['assumption']} is near its "
            f"{' or '.join(ends)}: there the mean difference reverses {sure}."
        )
    skipped = table[table["low"].isna()]
    if not skipped.empty:
        out.append(
            "Not tested: "
            + "; ".join(f"{r['path']} ({r['note']})" for _, r in skipped.iterrows())
            + "."
        )
    return out
