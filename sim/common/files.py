"""Files that appear whole or not at all: atomic writes, streamed tables, one CSV reader.

Every file marketsim writes goes to a temporary file in the same folder and is moved into
place with ``os.replace`` only when complete, so an interrupted run never leaves a
half-written file under a final name. A full disk or a file system turned read-only
removes the temporary file and raises :class:`DiskFullError`, one message saying what
to do, never a traceback.

Names are data: a name a spreadsheet would execute (``=``, ``+``, ``-``, ``@``, a tab or a
carriage return first) is written with a single quote in front in every table
(:func:`neutralise_names`, OWASP's advice against CSV injection), and read back as written.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pandas as pd

from sim.common.errors import MarketsimError

__all__ = [
    "FORMULA_STARTS",
    "NAME_COLUMNS",
    "STORAGE_ERRNOS",
    "TEXT_COLUMNS",
    "DiskFullError",
    "TableStream",
    "atomic_write_bytes",
    "atomic_write_text",
    "csv_bytes",
    "csv_text",
    "neutralise_name",
    "neutralise_names",
    "read_table",
    "remove_temporary_files",
    "storage_errors",
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

NAME_COLUMNS = ("policy", "firm", "baseline", "best_policy", "compared_with", "scenario_name")
"""Columns that hold names a user chose (policies, firms, scenarios): the ones neutralised.

Only these: text marketsim writes itself (a tolerance of ``+/- 1.5``) is not a name and
stays as it is."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection)."""

STORAGE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EROFS, errno.EDQUOT, getattr(errno, "EFBIG", errno.ENOSPC)}
)
"""Errors of a file system that cannot take more data: full, over quota, read-only."""


class DiskFullError(MarketsimError):
    """The disk filled up or turned read-only while writing (exit code 3: what was
    finished is kept; free space and run the same command again with ``--resume``)."""

    exit_code = 3

    def __init__(self, path: str | os.PathLike[str], cause: OSError) -> None:
        self.path = os.fspath(path)
        self.errno = cause.errno
        what = (
            "the file system is read-only"
            if cause.errno == errno.EROFS
            else "no space is left on the device"
        )
        super().__init__(
            f"cannot write {self.path}: {what} ({cause.strerror or cause}). Temporary files "
            "were removed and every finished run is kept; free some space (or make the "
            "folder writable) and run the same command again with --resume to continue"
        )


def neutralise_name(value: object) -> object:
    """A name as a spreadsheet may show it: text starting like a formula gets a quote.

    >>> neutralise_name("=HYPERLINK(1)"), neutralise_name("+1"), neutralise_name("ok")
    ("'=HYPERLINK(1)", "'+1", 'ok')
    >>> neutralise_name(neutralise_name("-x")), neutralise_name(-1.5)
    ("'-x", -1.5)
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(name: str) -> str:
    """``name`` as the results tables hold it (see :func:`neutralise_name`).

    >>> csv_text("@sum"), csv_text("balanced")
    ("'@sum", 'balanced')
    """
    return str(neutralise_name(name))


def neutralise_names(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with the text cells of its :data:`NAME_COLUMNS` neutralised (a copy only if
    a cell changes, so ordinary tables are not copied)."""
    changed: dict[str, pd.Series] = {}
    for column in NAME_COLUMNS:
        if column not in df.columns or pd.api.types.is_numeric_dtype(df[column]):
            continue
        values = df[column]
        risky = values.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_STARTS))
        if bool(risky.any()):
            changed[column] = values.map(neutralise_name)
    return df.assign(**changed) if changed else df


def remove_temporary_files(*folders: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files an interrupted write left in ``folders`` (not below)."""
    removed = []
    for folder in folders:
        with contextlib.suppress(OSError):
            for tmp in Path(folder).glob(".*.tmp"):
                with contextlib.suppress(OSError):
                    tmp.unlink()
                    removed.append(tmp)
    return removed


@contextlib.contextmanager
def storage_errors(*folders: str | os.PathLike[str]) -> Iterator[None]:
    """Turn a full or read-only file system into :class:`DiskFullError`, temporary files
    in ``folders`` removed first (the message says to free space and ``--resume``)."""
    try:
        yield
    except DiskFullError:
        remove_temporary_files(*folders)
        raise
    except OSError as exc:
        if exc.errno not in STORAGE_ERRNOS:
            raise
        remove_temporary_files(*folders)
        where = exc.filename or (os.fspath(folders[0]) if folders else "a results file")
        raise DiskFullError(where, exc) from None


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
    with storage_errors():
        fd, tmp = _temp_in(path.parent, path.name)
    try:
        with os.fdopen(fd, "wb") as fh:
            _write(fh, data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS:
            raise DiskFullError(path, exc) from None
        raise


def _write(fh: IO[bytes], data: bytes) -> None:
    """Write the bytes of an atomic write (the one place a full disk shows first)."""
    fh.write(data)


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
        with storage_errors():
            fd, self._tmp = _temp_in(self.path.parent, self.path.name)
        self._fh: IO[str] | None = os.fdopen(fd, "w", encoding="utf-8", newline="")
        self.columns: list[str] | None = None
        self._header: str | None = None
        self.rows = 0

    def write(self, df: pd.DataFrame) -> None:
        """Append ``df``'s rows (the header is written with the first chunk)."""
        if self.columns is not None and list(df.columns) != self.columns:
            raise ValueError(f"{self.path.name}: columns changed between chunks")
        self.write_csv(neutralise_names(df).to_csv(index=False, lineterminator="\n"), len(df))
        self.columns = list(df.columns)

    def write_csv(self, text: str, rows: int) -> None:
        """Append a chunk already rendered as CSV (header line first, as ``to_csv`` writes).

        Run files hold their tables as CSV text rendered by the worker, so assembling a
        table is copying text: the bytes do not depend on where or when a run ran.
        """
        if self._fh is None:
            raise ValueError(f"{self.path.name} is already closed")
        header, _, body = text.partition("\n")
        if self._header is not None and header != self._header:
            raise ValueError(f"{self.path.name}: columns changed between chunks")
        try:
            self._fh.write(body if self._header is not None else text)
        except OSError as exc:
            if exc.errno in STORAGE_ERRNOS:
                self.abort()
                raise DiskFullError(self.path, exc) from None
            raise
        if self._header is None:
            self._header = header
        self.rows += rows

    def commit(self) -> None:
        """Close and move into place (an empty table gets no file)."""
        if self._fh is None:
            return
        try:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
        except OSError as exc:
            self.abort()
            if exc.errno in STORAGE_ERRNOS:
                raise DiskFullError(self.path, exc) from None
            raise
        self._fh = None
        if self._header is None:
            os.unlink(self._tmp)
            return
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        """Close and delete the temporary file."""
        if self._fh is not None:
            with contextlib.suppress(OSError):  # a full disk fails the flush of close too
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
    """``df`` as UTF-8 CSV with Unix newlines and no index: the bytes of every results table.

    Names that a spreadsheet would execute are neutralised (:func:`neutralise_names`).
    """
    return neutralise_names(df).to_csv(index=False, lineterminator="\n").encode("utf-8")


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
