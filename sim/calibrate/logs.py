"""Reading a firm's transaction log: CSV or Parquet, one row per purchase.

Why checks of their own: a log exported from a shop system has empty ids, dates in a
local format, refunds as negative amounts and stray header lines; a fit on such a log
either fails deep inside PyMC or, worse, succeeds on nonsense. Every check here is one
vectorized pass over a column (no Python loop over rows, so millions of rows load in
seconds) and every refusal is a :class:`LogError` (exit code 2) naming the file, the row
(the line of a CSV file, header = line 1; the data row of a Parquet file) and the column.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.common.errors import UserError

__all__ = [
    "AMOUNT_GUESSES",
    "CUSTOMER_GUESSES",
    "DATE_GUESSES",
    "Columns",
    "LogError",
    "TransactionLog",
    "read_log",
]

CUSTOMER_GUESSES = ("customer_id", "customer", "customerid", "client_id", "user_id", "id")
"""Column names tried, in order and ignoring case, when no customer column is given."""
DATE_GUESSES = ("date", "datetime", "timestamp", "order_date", "purchase_date", "time")
"""Column names tried for the date of a purchase."""
AMOUNT_GUESSES = ("amount", "monetary_value", "value", "revenue", "sales", "spend", "total")
"""Column names tried for the money a purchase brought."""

PARQUET_SUFFIXES = (".parquet", ".pq")
_EMPTY = "{path}: the file is empty (expected a header line and one row per purchase)"


class LogError(UserError):
    """A transaction log that cannot be fitted; the message names file, row and column."""


@dataclass(frozen=True)
class Columns:
    """Which columns of the log hold the customer, the date and the amount (None: guess),
    and the date format (None: ISO dates and what pandas recognises)."""

    customer: str | None = None
    date: str | None = None
    amount: str | None = None
    date_format: str | None = None


@dataclass(frozen=True)
class TransactionLog:
    """A checked log: ``frame`` has customer_id (text), date (datetime64), amount (float)."""

    path: Path
    frame: pd.DataFrame
    columns: tuple[str, str, str]  # the file's names of customer, date, amount

    @property
    def start(self) -> pd.Timestamp:
        """Date of the first purchase."""
        return pd.Timestamp(self.frame["date"].min())

    @property
    def end(self) -> pd.Timestamp:
        """Date of the last purchase."""
        return pd.Timestamp(self.frame["date"].max())


def _csv(path: Path, **options: Any) -> pd.DataFrame:
    """pandas' C reader with every read failure as one :class:`LogError` naming the file."""
    try:
        df: pd.DataFrame = pd.read_csv(path, keep_default_na=False, na_values=[""], **options)
    except pd.errors.EmptyDataError:
        raise LogError(_EMPTY.format(path=path)) from None
    except pd.errors.ParserError as exc:
        raise LogError(f"{path}: not a readable CSV file: {exc}") from None
    except UnicodeDecodeError as exc:
        raise LogError(
            f"{path}: not UTF-8 text at byte {exc.start} (is it a spreadsheet or a "
            "binary file? export it as CSV in UTF-8)"
        ) from None
    return df


def _read(path: Path, cols: Columns) -> tuple[pd.DataFrame, int, tuple[str, str, str]]:
    """The log's three columns, the offset from a row index to its row number, and the
    file's names of the columns. A CSV file's header is read first (to pick the columns),
    then the file, amounts parsed as numbers by the C reader (fast); only a log whose
    amounts are not all numbers is parsed again as text to find the bad row."""
    if not path.is_file():
        raise LogError(f"{path}: no such file")
    if os.path.getsize(path) == 0:
        raise LogError(_EMPTY.format(path=path))
    if path.suffix.lower() in PARQUET_SUFFIXES:
        try:
            df = pq.read_table(path).to_pandas()
        except (pa.ArrowException, OSError) as exc:
            raise LogError(f"{path}: not a readable Parquet file ({exc})") from None
        return df, 1, _columns(df, cols, path)
    header = _csv(path, nrows=0, dtype=str)
    names = _columns(header, cols, path)
    if len(set(names)) < 3:
        raise LogError(f"{path}: one column cannot hold two of customer, date and amount")
    customer, date, _ = names
    # every column read (not usecols): a line with too many fields is then an error
    df = _csv(path, dtype={customer: str, date: str})
    return df[list(names)], 2, names


def _columns(df: pd.DataFrame, cols: Columns, path: Path) -> tuple[str, str, str]:
    return (
        _pick(df, cols.customer, CUSTOMER_GUESSES, "customer", path),
        _pick(df, cols.date, DATE_GUESSES, "date", path),
        _pick(df, cols.amount, AMOUNT_GUESSES, "amount", path),
    )


def _pick(
    df: pd.DataFrame, given: str | None, guesses: tuple[str, ...], what: str, path: Path
) -> str:
    names = [str(c) for c in df.columns]
    if given is not None:
        if given in names:
            return given
        raise LogError(f"{path}: no column {given!r} for the {what} (columns: {', '.join(names)})")
    lower = {n.strip().lower(): n for n in names}
    for guess in guesses:
        if guess in lower:
            return lower[guess]
    option = {"customer": "--customer-col", "date": "--date-col", "amount": "--amount-col"}[what]
    raise LogError(
        f"{path}: cannot tell which column holds the {what} (columns: {', '.join(names)}); "
        f"name it with {option}"
    )


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _where(path: Path, index: int, offset: int, column: str) -> str:
    kind = "line" if offset == 2 else "row"
    return f"{path}: {kind} {index + offset}, column {column!r}"


def read_log(path: str | os.PathLike[str], columns: Columns | None = None) -> TransactionLog:
    """Read and check a transaction log; raise :class:`LogError` naming what is wrong."""
    path = Path(path)
    cols = columns or Columns()
    df, offset, (c_col, d_col, a_col) = _read(path, cols)
    if df.empty:
        raise LogError(f"{path}: the log has a header but no purchases")

    ids = df[c_col]
    missing = ids.isna().to_numpy() | (ids.astype(str).str.strip() == "").to_numpy()
    if missing.any():
        i = _first(missing)
        raise LogError(f"{_where(path, i, offset, c_col)}: the customer id is missing")
    ids = ids.astype(str).str.strip()

    raw_dates = df[d_col]
    if raw_dates.isna().any():
        i = _first(raw_dates.isna().to_numpy())
        raise LogError(f"{_where(path, i, offset, d_col)}: the date is missing")
    if pd.api.types.is_datetime64_any_dtype(raw_dates):
        dates = pd.to_datetime(raw_dates)
    else:
        text = raw_dates.astype(str).str.strip()
        fmt = cols.date_format or "ISO8601"
        dates = pd.to_datetime(text, format=fmt, errors="coerce")
        if cols.date_format is None and dates.isna().any():
            dates = pd.to_datetime(text, format="mixed", errors="coerce")
        bad = dates.isna().to_numpy()
        if bad.any():
            i = _first(bad)
            hint = (
                f"format {cols.date_format!r}" if cols.date_format else "a date (e.g. 2025-01-31)"
            )
            raise LogError(
                f"{_where(path, i, offset, d_col)}: {text.iloc[i]!r} is not {hint}; "
                "give the format with --date-format (e.g. %d/%m/%Y)"
            )
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_convert(None)

    raw_amount = df[a_col]
    if raw_amount.isna().any():
        i = _first(raw_amount.isna().to_numpy())
        raise LogError(f"{_where(path, i, offset, a_col)}: the amount is missing")
    numeric = pd.api.types.is_numeric_dtype(raw_amount)
    amount = raw_amount if numeric else pd.to_numeric(raw_amount, errors="coerce")
    bad = amount.isna().to_numpy()
    if bad.any():
        i = _first(bad)
        raise LogError(f"{_where(path, i, offset, a_col)}: {raw_amount.iloc[i]!r} is not a number")
    values = amount.to_numpy(dtype=float)
    if not np.isfinite(values).all():
        i = _first(~np.isfinite(values))
        raise LogError(f"{_where(path, i, offset, a_col)}: the amount is not finite")
    if (values < 0).any():
        i = _first(values < 0)
        raise LogError(
            f"{_where(path, i, offset, a_col)}: negative amount {values[i]:g} (a refund? "
            "remove refunds and returns from the log)"
        )
    if (values == 0).any():
        i = _first(values == 0)
        raise LogError(
            f"{_where(path, i, offset, a_col)}: an amount of 0 (Gamma-Gamma needs money "
            "spent; remove free items from the log)"
        )
    frame = pd.DataFrame(
        {"customer_id": ids.to_numpy(), "date": dates.to_numpy(), "amount": values}
    )
    return TransactionLog(path, frame, (c_col, d_col, a_col))
