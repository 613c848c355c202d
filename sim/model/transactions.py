"""The purchase log: one row per customer, firm and step with a purchase (issue 11).

Why a module of its own: a firm's transaction log is what customer-base models
(BG/NBD, Pareto/NBD, Gamma-Gamma) are fitted to, so a run that writes its purchases in
that shape lets a user check the simulator with their own CLV tools and lets
``marketsim calibrate`` fit a market the simulator made. Recording is off unless asked
for (``[outputs] transactions``) and costs one boolean mask and three array slices per
step when on: the step's buyers arrive as arrays from the shared booking transition
(:meth:`sim.model.state.MarketState.book_sales`), never one Python object per purchase.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

__all__ = ["TRANSACTION_COLUMNS", "PurchaseLog", "step_dates"]

TRANSACTION_COLUMNS = ("customer_id", "date", "amount", "firm")
"""Columns of a transaction log, in order (the shape ``marketsim calibrate`` reads)."""

_MONTHS_PER_STEP = {"month": 1, "quarter": 3}
_DAYS_PER_STEP = {"day": 1, "week": 7}


def step_dates(steps: np.ndarray, start_date: str, step_length: str) -> np.ndarray:
    """The calendar date each step (1 = the first) starts on, as ``datetime64[D]``.

    Days and weeks are exact; months and quarters are calendar months on the start's day
    of the month (days past the 28th fall back to the 28th, so every month has them).

    >>> step_dates(np.array([1, 2, 53]), "2025-01-01", "week").astype(str).tolist()
    ['2025-01-01', '2025-01-08', '2025-12-31']
    >>> step_dates(np.array([1, 2, 13]), "2025-01-31", "month").astype(str).tolist()
    ['2025-01-28', '2025-02-28', '2026-01-28']
    """
    start = dt.date.fromisoformat(start_date)
    offset = np.asarray(steps, dtype=np.int64) - 1
    if step_length in _DAYS_PER_STEP:
        day0 = np.datetime64(start, "D")
        return day0 + offset * _DAYS_PER_STEP[step_length]
    months = np.datetime64(start, "M") + offset * _MONTHS_PER_STEP[step_length]
    return months.astype("datetime64[D]") + (min(start.day, 28) - 1)


class PurchaseLog:
    """Per step arrays of who bought from which firm for how much money.

    ``keep``: which people are logged (a sample of customers; None = everybody);
    ``firms``: which firms' purchases are logged (None = every firm).

    >>> log = PurchaseLog(keep=None, firms=np.array([0]))
    >>> log.add(3, np.array([5, 7]), np.array([0, 1]), np.array([2.5, 4.0]))
    >>> log.add(4, np.array([5]), np.array([0]), np.array([1.0]))
    >>> log.rows, log.arrays()[0].tolist(), log.arrays()[3].tolist()
    (2, [3, 4], [2.5, 1.0])
    """

    def __init__(self, keep: np.ndarray | None, firms: np.ndarray | None) -> None:
        self.keep = keep
        self.firms = None if firms is None else np.asarray(firms, dtype=np.intp)
        self._steps: list[np.ndarray] = []
        self._people: list[np.ndarray] = []
        self._firm: list[np.ndarray] = []
        self._amount: list[np.ndarray] = []

    def add(self, step: int, people: np.ndarray, firms: np.ndarray, amounts: np.ndarray) -> None:
        """Log one step's purchases (arrays of equal length, one entry per buyer)."""
        people = np.asarray(people, dtype=np.intp)
        firms = np.asarray(firms, dtype=np.intp)
        mask = np.ones(people.shape, dtype=bool)
        if self.keep is not None:
            mask &= self.keep[people]
        if self.firms is not None:
            mask &= np.isin(firms, self.firms)
        if not mask.any():
            return
        n = int(mask.sum())
        self._steps.append(np.full(n, step, dtype=np.int32))
        self._people.append(people[mask].astype(np.int64))
        self._firm.append(firms[mask].astype(np.int16))
        self._amount.append(np.asarray(amounts, dtype=float)[mask])

    @property
    def rows(self) -> int:
        """Purchases logged so far."""
        return sum(len(s) for s in self._steps)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(step, person, firm index, amount), concatenated in logging order."""
        if not self._steps:
            empty = np.empty(0)
            return (
                empty.astype(np.int32),
                empty.astype(np.int64),
                empty.astype(np.int16),
                empty,
            )
        return (
            np.concatenate(self._steps),
            np.concatenate(self._people),
            np.concatenate(self._firm),
            np.concatenate(self._amount),
        )

    def frame(self, firm_names: tuple[str, ...], start_date: str, step_length: str) -> pd.DataFrame:
        """The log as a table: customer_id, date (ISO text), amount (money), firm.

        Sorted by customer, then date (the order CLV tools expect); several purchases of
        one customer in one step are one row with their total.
        """
        steps, people, firms, amount = self.arrays()
        order = np.lexsort((firms, steps, people))
        dates = step_dates(steps[order], start_date, step_length)
        return pd.DataFrame(
            {
                "customer_id": people[order],
                "date": dates.astype(str),
                "amount": np.round(amount[order], 6),
                "firm": np.asarray(firm_names, dtype=object)[firms[order]],
            },
            columns=list(TRANSACTION_COLUMNS),
        )
