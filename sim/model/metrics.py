"""Per-step event counts and measures per firm, and customer lifetime value by cohort.

Every referral, conversion, deterrence, acquisition and churn is a counted event in
the step's :class:`Ledger`; the headline measures are computed from those counts and
from the population's state, never assumed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd

from sim.model.behaviour.churn import CHURN_REASONS
from sim.model.kernels.records import (
    TALLIES,
    assign_tiers,
    group_customers,
    order_statistics,
)

__all__ = [
    "ACQUISITION_CHANNELS",
    "COHORT_COLUMNS",
    "METRICS",
    "SATISFIED",
    "TIERS",
    "TOP_BOX",
    "CohortValue",
    "Ledger",
    "customers_by_firm",
    "margin_per_step",
    "pyramid_counts",
    "rank_tiers",
    "revenue_floors",
    "state_measures",
    "tier_thresholds",
    "upper_quantiles",
]

ACQUISITION_CHANNELS = (
    "advertising",
    "referral",
    "promotion",
    "sales_visit",
    "organic",
    "switched_in",
)


TOP_BOX = 0.9
"""Satisfaction at or above which a customer is 'totally satisfied' (the top box)."""
SATISFIED = 0.7
"""Satisfaction at or above which (and below TOP_BOX) a customer is 'merely satisfied'."""


def _zeros(n_firms: int) -> np.ndarray:
    return np.zeros(n_firms)


@dataclass
class Ledger:
    """Event counts and money of one step, one entry per firm."""

    n_firms: int
    new: dict[str, np.ndarray] = field(default_factory=dict)
    churn: dict[str, np.ndarray] = field(default_factory=dict)
    referrals: np.ndarray = field(init=False)
    referral_conversions: np.ndarray = field(init=False)
    peers_deterred: np.ndarray = field(init=False)
    detractor_episodes: np.ndarray = field(init=False)
    purchases: np.ndarray = field(init=False)
    repeat_purchases: np.ndarray = field(init=False)
    member_purchases: np.ndarray = field(init=False)
    member_revenue: np.ndarray = field(init=False)
    units: np.ndarray = field(init=False)
    revenue: np.ndarray = field(init=False)
    cogs: np.ndarray = field(init=False)
    service_failures: np.ndarray = field(init=False)
    complaints: np.ndarray = field(init=False)
    complaints_resolved: np.ndarray = field(init=False)
    care_contacts: np.ndarray = field(init=False)
    pushy_contacts: np.ndarray = field(init=False)
    promotion_offers: np.ndarray = field(init=False)
    sales_visits: np.ndarray = field(init=False)
    loyalty_members: np.ndarray = field(init=False)
    customers_at_start: np.ndarray = field(init=False)
    first_year_margin: np.ndarray = field(init=False)
    churned_top_tiers: np.ndarray = field(init=False)
    supply_failures: np.ndarray = field(init=False)
    churned_top_box: np.ndarray = field(init=False)
    churned_satisfied: np.ndarray = field(init=False)
    upgrade_offers: np.ndarray = field(init=False)
    upgrades: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name not in ("n_firms", "new", "churn"):
                setattr(self, f.name, _zeros(self.n_firms))
        self.new = {c: _zeros(self.n_firms) for c in ACQUISITION_CHANNELS}
        self.churn = {r: _zeros(self.n_firms) for r in CHURN_REASONS}


METRICS = (
    "customers",
    "new_customers",
    *(f"new_{c}" for c in ACQUISITION_CHANNELS),
    "churned",
    *(f"churned_{r}" for r in CHURN_REASONS),
    "switched_out",
    "referrals",
    "referral_conversions",
    "peers_deterred",
    "detractor_episodes",
    "purchases",
    "repeat_purchase_rate",
    "revenue",
    "cogs",
    "acquisition_spend",
    "retention_spend",
    "profit",
    "cumulative_profit",
    "discounted_profit",
    "mean_satisfaction",
    "nps",
    "promoters",
    "detractors",
    "retention_rate",
    "service_failures",
    "complaints",
    "complaints_resolved",
    "care_contacts",
    "pushy_contacts",
    "loyalty_members",
    "price",
    "service_quality",
)
"""The headline columns of MarketModel.results(), besides step, firm and spend lines."""


def customers_by_firm(firm: np.ndarray, n_firms: int, backend: str = "numpy") -> list[np.ndarray]:
    """Indices of each firm's current customers, ascending, one array per firm.

    With few firms, one comparison per firm (a fast SIMD pass over the small firm ids);
    with many, one pass over the people finds the customers and a stable (radix) sort of
    their firm ids groups them; compiled (``backend="numba"``), one pass counts and one
    places (:func:`sim.model.kernels.records.group_customers`). Either way the measures
    below touch customers only.

    >>> [c.tolist() for c in customers_by_firm(np.array([1, -1, 0, 1]), 3)]
    [[2], [0, 3], []]
    """
    return group_customers(backend, firm, n_firms)


def state_measures(tallies: np.ndarray) -> dict[str, np.ndarray]:
    """Counts and means over each firm's current customers, from the step's tallies
    (:func:`sim.model.kernels.records.close_pass`, rows :data:`TALLIES`).

    >>> t = np.zeros((len(TALLIES), 2))
    >>> t[:6, 0] = 4, 3.0, 1, 3, 2, 1
    >>> m = state_measures(t)
    >>> m["mean_satisfaction"][0], m["nps"][0], m["customers_satisfied"][0]
    (np.float64(0.75), np.float64(25.0), np.float64(2.0))
    """
    row = dict(zip(TALLIES, tallies, strict=True))
    customers = row["customers"]
    promoters, detractors = row["promoters"], row["detractors"]
    top = row["top_box"]
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "customers": customers,
            "mean_satisfaction": row["satisfaction_sum"] / customers,
            "nps": 100.0 * (promoters - detractors) / customers,
            "promoters": promoters,
            "detractors": detractors,
            "loyalty_members": row["members"],
            "customers_top_box": top,
            "customers_satisfied": row["satisfied"] - top,
        }


class CohortValue:
    """Realised discounted margin of each acquisition cohort, per firm.

    A cohort is the customers a firm won in one step; cohort 0 is the customers it
    had at the start (their remaining value). The value realised within the horizon is
    a lower bound of a lifetime value; :meth:`remaining` adds the survivors' expected
    margin after it (issue 10, item 7). Each margin earned at step t by a member
    of cohort c is discounted to the cohort's step: margin / (1 + i)^(t - c), so the
    first margin of a new customer comes one period after acquisition (the timing of
    Gupta & Lehmann's CLV = m r / (1 + i - r)).
    """

    def __init__(self, n_firms: int, discount_factor: float, capacity: int = 64) -> None:
        self.n_firms = n_firms
        self.discount_factor = discount_factor
        self.size = np.zeros((n_firms, capacity))
        self.value = np.zeros((n_firms, capacity))

    def _ensure(self, step: int) -> None:
        if step >= self.size.shape[1]:
            extra = max(step + 1, 2 * self.size.shape[1]) - self.size.shape[1]
            self.size = np.pad(self.size, ((0, 0), (0, extra)))
            self.value = np.pad(self.value, ((0, 0), (0, extra)))

    def add_members(self, firm: np.ndarray, step: int) -> None:
        """Count customers won by each firm at `step`."""
        self._ensure(step)
        self.size[:, step] += np.bincount(firm, minlength=self.n_firms)

    def add_margin(
        self, firm: np.ndarray, cohort: np.ndarray, margin: np.ndarray, step: int
    ) -> None:
        """Book margins earned at `step` to each customer's cohort, discounted to it.

        The discount factor's powers are computed once per step, one per cohort (the same
        ``float ** intp`` evaluation per element, so the same bytes), and gathered: a pow
        per buyer was the cost (issue 14).
        """
        self._ensure(step)
        cohort = np.maximum(cohort, 0)
        age = step - cohort
        if age.size and age.min() >= 0:
            discounted = margin * (self.discount_factor ** np.arange(step + 1, dtype=np.intp))[age]
        else:  # a cohort after `step`: not one a purchase can have
            discounted = margin * self.discount_factor**age
        width = self.size.shape[1]
        flat = np.bincount(
            firm * width + cohort, weights=discounted, minlength=self.n_firms * width
        )
        self.value += flat.reshape(self.n_firms, width)

    def remaining(
        self,
        firm: np.ndarray,
        cohort: np.ndarray,
        margin_per_step: np.ndarray,
        retention: np.ndarray,
        last_step: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Survivors and expected remaining margin of each (firm, cohort) at ``last_step``.

        ``firm``, ``cohort``, ``margin_per_step``: the active customers' firm, cohort and
        current margin per step; ``retention``: each firm's measured retention per step.
        Each survivor is expected to earn its margin per step for as long as it stays,
        retained with probability r each step: sum_{k>=1} m (r d)^k = m r d / (1 - r d)
        with d = 1 / (1 + i), i.e. Gupta & Lehmann's m r / (1 + i - r), first margin one
        step after ``last_step``; then discounted to the cohort's step like the realised
        margins (d^(last_step - c)).
        """
        self._ensure(last_step)
        width = self.size.shape[1]
        rd = np.clip(np.nan_to_num(retention, nan=0.0), 0.0, 1.0) * self.discount_factor
        factor = np.divide(rd, 1.0 - rd, out=np.zeros_like(rd), where=rd < 1.0)
        cohort = np.maximum(cohort.astype(np.intp), 0)
        value = margin_per_step * factor[firm] * self.discount_factor ** (last_step - cohort)
        key = firm.astype(np.intp) * width + cohort
        size = self.n_firms * width
        survivors = np.bincount(key, minlength=size).reshape(self.n_firms, width)
        expected = np.bincount(key, weights=value, minlength=size).reshape(self.n_firms, width)
        return survivors.astype(float), expected

    def table(
        self,
        firm_names: tuple[str, ...],
        last_step: int,
        remaining: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> pd.DataFrame:
        """One row per (firm, cohort): members won, survivors, realised and expected value.

        ``realised_value``: discounted margin realised so far per customer won (cut off at
        the horizon); ``remaining_margin``: the survivors' expected discounted margin after
        the horizon (:meth:`remaining`; 0 without it); ``clv``: the two together per
        customer won, the expected lifetime value.
        """
        survivors, expected = remaining if remaining is not None else (None, None)
        rows = []
        for f, name in enumerate(firm_names):
            for c in range(min(last_step + 1, self.size.shape[1])):
                n = self.size[f, c]
                if n > 0:
                    tail = float(expected[f, c]) if expected is not None else 0.0
                    rows.append(
                        {
                            "firm": name,
                            "cohort_step": c,
                            "customers_won": int(n),
                            "survivors": int(survivors[f, c]) if survivors is not None else 0,
                            "discounted_margin": self.value[f, c],
                            "remaining_margin": tail,
                            "realised_value": self.value[f, c] / n,
                            "clv": (self.value[f, c] + tail) / n,
                            "steps_observed": last_step - c,
                        }
                    )
        return pd.DataFrame(rows, columns=COHORT_COLUMNS)


COHORT_COLUMNS = (
    "firm",
    "cohort_step",
    "customers_won",
    "survivors",
    "discounted_margin",
    "remaining_margin",
    "realised_value",
    "clv",
    "steps_observed",
)
"""The columns of the cohort table (cohorts.csv)."""


def margin_per_step(
    tenure: np.ndarray,
    annual_revenue: np.ndarray,
    revenue_with_firm: np.ndarray,
    margin_share: np.ndarray,
    steps_per_year: int,
) -> np.ndarray:
    """Each customer's current margin per step: revenue per step over the last year (the
    time with the firm when shorter) times the firm's margin share of revenue.

    >>> margin_per_step(np.array([104, 26]), np.array([520.0, 0.0]), np.array([0.0, 130.0]),
    ...                 np.array([0.4, 0.5]), 52)
    array([4. , 2.5])
    """
    short = tenure < steps_per_year
    per_step = np.where(
        short,
        revenue_with_firm / np.maximum(tenure, 1),
        annual_revenue / steps_per_year,
    )
    return per_step * margin_share


TIERS = ("top", "big", "medium", "small", "inactive", "prospects", "suspects")
"""Jay Curry's customer pyramid: four active tiers by spend, then the people around them."""
TIER_SHARES = (0.01, 0.04, 0.15)
"""Shares of a firm's active customers in the top, big and medium tiers (the rest: small)."""
_SAMPLE = 4096
"""About this many values (a fixed stride through them) bound the upper quantiles from below."""


_FLOOR_SAMPLE = 8192
"""About this many people (a fixed stride through everybody) bound each firm's tier
quantiles from below when the whole market's tiers are ranked (:func:`revenue_floors`)."""
_FLOOR_MIN_SAMPLE = 512
"""A firm needs at least this many customers in that sample for a bound."""


def _quantile_plan(n: int, q: np.ndarray) -> tuple[np.ndarray, ...]:
    """The ranks np.quantile's linear method reads for `n` values (``needed``, ascending),
    and where each quantile's two neighbours are; see :func:`_interpolate`."""
    virtual = (n - 1) * q
    previous = np.floor(virtual)
    following = previous + 1
    above = virtual >= n - 1
    previous[above] = -1
    following[above] = -1
    below = virtual < 0
    previous[below] = 0
    following[below] = 0
    previous_i, following_i = previous.astype(np.intp), following.astype(np.intp)
    needed = np.unique(np.concatenate([previous_i % n, following_i % n]))
    return virtual, previous_i % n, following_i % n, previous_i, needed


def _interpolate(at: np.ndarray, plan: tuple[np.ndarray, ...]) -> np.ndarray:
    """numpy's ``_lerp`` of the two order statistics around each quantile (``at``: the
    values at ``needed`` ranks), so the result is np.quantile's, bit for bit."""
    virtual, previous_at, following_at, previous_i, needed = plan
    a = at[np.searchsorted(needed, previous_at)]
    b = at[np.searchsorted(needed, following_at)]
    gamma = virtual - previous_i
    diff = b - a
    out = a + diff * gamma
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5)
    return out


def upper_quantiles(values: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``np.quantile(values, q)`` (the default linear method), bit for bit, for upper q.

    Why not np.quantile itself: it partitions all the values (a few ms for each firm's
    170,000 customers, every step). The order statistics it needs all lie at or above
    the smallest quantile asked for, so a lower bound on that quantile, read off a fixed
    stride through the values, leaves about a quarter of them to partition; when the
    bound is not low enough (it almost never fails), the whole array is partitioned, as
    before. Then the same interpolation as numpy's (``_lerp`` of the two neighbouring
    order statistics), so the result is identical. Values must not be NaN.

    >>> v = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0])
    >>> q = np.array([0.99, 0.95, 0.8])
    >>> bool((upper_quantiles(v, q) == np.quantile(v, q)).all())
    True
    """
    plan = _quantile_plan(values.size, q)
    return _interpolate(_order_statistics(values, plan[-1]), plan)


def _order_statistics(values: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """The values at ascending `ranks` (0-based) of sorted `values`, without sorting them."""
    n = values.size
    lowest = int(ranks[0])
    if n >= 4 * _SAMPLE and lowest > 0:
        sample = values[:: n // _SAMPLE]
        m = sample.size
        share = lowest / n
        margin = 6.0 * np.sqrt(share * (1.0 - share) / m) + 2.0 / m
        rank = int((share - margin) * m)
        if rank > 0:
            bound = np.partition(sample, rank)[rank]
            high = np.compress(values >= bound, values)
            return _order_statistics_above(high, ranks, values)
    return np.partition(values, ranks)[ranks]


def _order_statistics_above(
    high: np.ndarray,
    ranks: np.ndarray,
    values: np.ndarray,
    index: np.ndarray | None = None,
    backend: str = "numpy",
) -> np.ndarray:
    """The values at `ranks` of ``values[index]`` (`index` None: all `values`), from
    `high`: every one of them at or above some bound. The values below it hold ranks
    0 .. n - high.size - 1, so ranks at or above that are ranks of `high`; else (the bound
    was too high) the values are gathered and partitioned whole."""
    n = values.size if index is None else index.size
    offset = n - high.size
    if offset <= int(ranks[0]):
        return order_statistics(backend, high, ranks - offset)
    everything = values if index is None else values[index]
    return order_statistics(backend, everything, ranks)


def revenue_floors(
    firm: np.ndarray, annual_revenue: np.ndarray, n_firms: int, share: float
) -> np.ndarray:
    """For each firm, a revenue that its customers' `share` quantile almost surely reaches.

    Read off a fixed stride through everybody (about :data:`_FLOOR_SAMPLE` people): the
    sample quantile six standard errors (and two sample ranks) below `share`; -inf when a
    firm has too few customers in the sample. Only a bound: :func:`tier_thresholds` is
    exact whatever it is, a low bound only costs time and a high one a second pass.
    """
    stride = max(1, firm.shape[0] // _FLOOR_SAMPLE)
    sample_firm, sample_revenue = firm[::stride], annual_revenue[::stride]
    floors = np.full(n_firms, -np.inf)
    for f in range(n_firms):
        sample = sample_revenue[sample_firm == f]
        m = sample.size
        if m >= _FLOOR_MIN_SAMPLE:
            margin = 6.0 * np.sqrt(share * (1.0 - share) / m) + 2.0 / m
            rank = int((share - margin) * m)
            if rank > 0:
                floors[f] = np.partition(sample, rank)[rank]
    return floors


def tier_thresholds(
    customers_of: list[np.ndarray],
    annual_revenue: np.ndarray,
    high: list[np.ndarray],
    shares: tuple[float, ...] = TIER_SHARES,
    backend: str = "numpy",
) -> np.ndarray:
    """Each firm's tier bounds (rows: firms; columns: top, big, medium), exactly
    ``np.quantile(annual_revenue[customers_of[f]], 1 - cumsum(shares))``.

    ``high[f]``: firm f's customers' revenues at or above some floor, as
    :func:`sim.model.kernels.records.close_pass` returns them: only those are
    selected from (:func:`_order_statistics_above`; `backend`: how,
    :func:`sim.model.kernels.records.order_statistics`, the same values either way). NaN
    for a firm without customers.
    """
    q = 1.0 - np.cumsum(shares)
    thresholds = np.full((len(customers_of), q.size), np.nan)
    for f, mine in enumerate(customers_of):
        if mine.size:
            plan = _quantile_plan(mine.size, q)
            at = _order_statistics_above(high[f], plan[-1], annual_revenue, mine, backend)
            thresholds[f] = _interpolate(at, plan)
    return thresholds


def rank_tiers(
    customers_of: list[np.ndarray],
    annual_revenue: np.ndarray,
    old_tier: np.ndarray,
    shares: tuple[float, ...] = TIER_SHARES,
) -> dict[str, np.ndarray]:
    """Each active customer's tier (0 top ... 3 small) by revenue rank within its firm.

    Returns ``tier`` (every person's, -1 inactive), and per firm: ``revenue`` and
    ``counts`` of each tier (shape (len(shares) + 1, firms)), and ``upgrades`` and
    ``downgrades``: customers who had a tier in `old_tier` and moved up or down. Ranks use
    quantiles of the firm's customers' revenue over about the last year
    (:func:`upper_quantiles`, not a sort); then :func:`sim.model.kernels.records.
    assign_tiers` (numpy form). A step's record does the same with fused passes
    (:func:`tier_thresholds`).

    >>> r = rank_tiers([np.array([0, 1, 2])], np.array([5.0, 1.0, 2.0, 0.0]),
    ...                np.array([3, 0, -1, -1]), (0.34, 0.0, 0.0))
    >>> r["tier"].tolist(), r["revenue"][:, 0].tolist(), r["upgrades"], r["downgrades"]
    ([0, 3, 3, -1], [5.0, 0.0, 0.0, 3.0], array([1.]), array([1.]))
    """
    q = 1.0 - np.cumsum(shares)
    thresholds = np.full((len(customers_of), q.size), np.nan)
    for f, mine in enumerate(customers_of):
        if mine.size:
            thresholds[f] = upper_quantiles(annual_revenue[mine], q)  # top, big, medium
    return assign_tiers("numpy", customers_of, annual_revenue, old_tier, thresholds)


def pyramid_counts(
    tallies: np.ndarray, tier_counts: np.ndarray, n_people: int
) -> dict[str, np.ndarray]:
    """People in each tier of each firm's pyramid.

    ``tallies``: the step's tallies (:func:`sim.model.kernels.records.close_pass`, rows
    :data:`TALLIES`); ``tier_counts``: each firm's customers in the four active tiers,
    shape (4, firms) (:func:`rank_tiers`). Inactive: former customers of the firm not
    buying from it now; prospects: aware of the firm but neither customers nor former
    customers; suspects: not yet aware. Customers and former customers of a firm are aware
    of it (winning a customer makes them aware and they never forget it), so prospects are
    the aware people less those two groups, counted without a pass per firm over
    everybody's state.
    """
    row = dict(zip(TALLIES, tallies, strict=True))
    counts = np.zeros((len(TIERS), tallies.shape[1]))
    counts[:4] = tier_counts[:4]
    counts[4] = row["former"] - row["returned"]  # came back after leaving: not inactive
    counts[5] = row["aware"] - row["customers"] - counts[4]
    counts[6] = n_people - row["aware"]
    return {f"tier_{name}": counts[k] for k, name in enumerate(TIERS)}
