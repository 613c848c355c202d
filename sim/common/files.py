"""Files that appear whole or not at all: atomic writes, streamed tables, one CSV reader.

Every file marketsim writes goes to a temporary file in the same folder and is moved into
place with ``os.replace`` only when complete, so an interrupted run never leaves a
half-written file under a final name.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Any

import pandas as pd

__all__ = [
    "TEXT_COLUMNS",
    "TableStream",
    "atomic_write_bytes",
    "atomic_write_text",
    "csv_bytes",
    "read_table",
]

TEXT_COLUMNS = (
    "policy",
    "firm",
    "baseline",
    "outcome",
    "moment",
    "name",
    "tolerance",
    "method",
    "best_policy",
    "compared_with",
    "parameter",
)
"""Columns of the results tables that hold text (names), whatever they look like."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()


def _temp_in(folder: Path, name: str) -> tuple[int, str]:
    """A temporary file next to the final one, with the mode a plain open() would give."""
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    os.chmod(tmp, _FILE_MODE)
    return fd, tmp


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and os.replace."""
    path = Path(path)
    fd, tmp = _temp_in(path.parent, path.name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Atomic :func:`atomic_write_bytes` of UTF-8 text with Unix newlines."""
    atomic_write_bytes(path, text.encode("utf-8"))


class TableStream:
    """A CSV table appended chunk by chunk, moved to its final name only by :meth:`commit`.

    Every chunk must have the first chunk's columns (same order). Used as a context
    manager it commits on success and removes the temporary file on any error.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        fd, self._tmp = _temp_in(self.path.parent, self.path.name)
        self._fh: IO[str] | None = os.fdopen(fd, "w", encoding="utf-8", newline="")
        self.columns: list[str] | None = None
        self._header: str | None = None
        self.rows = 0

    def write(self, df: pd.DataFrame) -> None:
        """Append ``df``'s rows (the header is written with the first chunk)."""
        if self.columns is not None and list(df.columns) != self.columns:
            raise ValueError(f"{self.path.name}: columns changed between chunks")
        self.write_csv(df.to_csv(index=False, lineterminator="\n"), len(df))
        self.columns = list(df.columns)

    def write_csv(self, text: str, rows: int) -> None:
        """Append a chunk already rendered as CSV (header line first, as ``to_csv`` writes).

        Run files hold their tables as CSV text rendered by the worker, so assembling a
        table is copying text: the bytes do not depend on where or when a run ran.
        """
        if self._fh is None:
            raise ValueError(f"{self.path.name} is already closed")
        header, _, body = text.partition("\n")
        if self._header is None:
            self._header = header
            self._fh.write(text)
        else:
            if header != self._header:
                raise ValueError(f"{self.path.name}: columns changed between chunks")
            self._fh.write(body)
        self.rows += rows

    def commit(self) -> None:
        """Close and move into place (an empty table gets no file)."""
        if self._fh is None:
            return
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        self._fh = None
        if self._header is None:
            os.unlink(self._tmp)
            return
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        """Close and delete the temporary file."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        with contextlib.suppress(OSError):
            os.unlink(self._tmp)

    def __enter__(self) -> TableStream:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


def csv_bytes(df: pd.DataFrame) -> bytes:
    """``df`` as UTF-8 CSV with Unix newlines and no index: the bytes of every results table."""
    return df.to_csv(index=False, lineterminator="\n").encode("utf-8")


def read_table(path: str | Path, *, missing_ok: bool = False) -> pd.DataFrame:
    """A results table back: text columns as text, numbers exactly as written.

    Only empty cells are missing values: a policy may well be called "NA" or "null". An
    empty file gives an empty table; a missing one raises FileNotFoundError, or gives an
    empty table with ``missing_ok``.

    >>> import io
    >>> read_table(io.StringIO("policy,firm,x\\nNA,1,0.1\\n,2,\\n")).to_dict("list")
    {'policy': ['NA', nan], 'firm': ['1', '2'], 'x': [0.1, nan]}
    """
    if missing_ok and isinstance(path, (str, Path)) and not Path(path).is_file():
        return pd.DataFrame()
    try:
        return pd.read_csv(
            path,
            dtype=dict.fromkeys(TEXT_COLUMNS, str),
            keep_default_na=False,
            na_values=[""],
        )
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
