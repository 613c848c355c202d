"""marketsim calibrate refuses bad transaction logs: exit 2, a message naming the file,
the row (the CSV line, header = 1) and the column, no traceback (issue 11)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.cli.commands import main

pytest.importorskip("pymc_marketing")

GOOD_ROWS = "".join(
    f"C{c},2025-0{1 + k % 6}-1{k % 9},1{k}.5\n" for c in range(30) for k in range(3)
)
HEADER = "customer_id,date,amount\n"

# (case, file name, content, fragments the message must hold, extra arguments)
CASES = [
    ("missing file", None, None, ["no such file"], []),
    ("empty file", "empty.csv", "", ["empty"], []),
    ("header only", "header.csv", HEADER, ["no purchases"], []),
    (
        "bad date",
        "date.csv",
        HEADER + "C1,2025-13-45,3.0\n",
        ["line 2", "'date'", "2025-13-45"],
        [],
    ),
    (
        "bad date later",
        "date2.csv",
        HEADER + "C1,2025-01-01,3\nC2,yesterday,4\n",
        ["line 3", "'date'"],
        [],
    ),
    ("missing date", "nodate.csv", HEADER + "C1,,3.0\n", ["line 2", "'date'", "missing"], []),
    (
        "missing id",
        "noid.csv",
        HEADER + "C1,2025-01-01,3\n,2025-01-02,4\n",
        ["line 3", "'customer_id'"],
        [],
    ),
    (
        "negative amount",
        "neg.csv",
        HEADER + "C1,2025-01-01,-3\n",
        ["line 2", "'amount'", "negative"],
        [],
    ),
    ("zero amount", "zero.csv", HEADER + "C1,2025-01-01,0\n", ["line 2", "'amount'", "0"], []),
    (
        "text amount",
        "text.csv",
        HEADER + "C1,2025-01-01,ten\n",
        ["line 2", "'amount'", "'ten'"],
        [],
    ),
    (
        "missing amount",
        "noamt.csv",
        HEADER + "C1,2025-01-01,\n",
        ["line 2", "'amount'", "missing"],
        [],
    ),
    (
        "infinite amount",
        "inf.csv",
        HEADER + "C1,2025-01-01,inf\n",
        ["line 2", "'amount'", "finite"],
        [],
    ),
    (
        "no amount column",
        "nocol.csv",
        "customer_id,date\nC1,2025-01-01\n",
        ["amount", "--amount-col"],
        [],
    ),
    (
        "named column absent",
        "named.csv",
        HEADER + "C1,2025-01-01,3\n",
        ["'spend'", "columns"],
        ["--amount-col", "spend"],
    ),
    (
        "wrong date format",
        "fmt.csv",
        HEADER + "C1,2025-01-01,3\n",
        ["line 2", "'date'", "%d/%m/%Y"],
        ["--date-format", "%d/%m/%Y"],
    ),
    (
        "ragged csv",
        "ragged.csv",
        HEADER + "C1,2025-01-01,3\nC2,2025-01-02,4,5,6\n",
        ["not a readable CSV"],
        [],
    ),
    ("not utf-8", "binary.csv", b"\xff\xfe\x00garbage\x81\x82", ["not UTF-8"], []),
    ("bad parquet", "bad.parquet", b"PAR1 not really", ["not a readable Parquet"], []),
    (
        "no repeat purchases",
        "once.csv",
        HEADER + "".join(f"C{i},2025-0{1 + i % 5}-01,3\n" for i in range(40)),
        ["no customer bought twice"],
        [],
    ),
    (
        "too few customers",
        "few.csv",
        HEADER + "C1,2025-01-01,3\nC1,2025-03-01,3\nC2,2025-01-01,3\n",
        ["only", "customers"],
        [],
    ),
    (
        "hold-out too long",
        "long.csv",
        HEADER + GOOD_ROWS,
        ["--holdout-weeks"],
        ["--holdout-weeks", "500"],
    ),
]


@pytest.mark.parametrize(
    ("case", "name", "content", "fragments", "extra"), CASES, ids=[c[0] for c in CASES]
)
def test_bad_log_exits_2_naming_what_is_wrong(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    name: str | None,
    content: str | bytes | None,
    fragments: list[str],
    extra: list[str],
) -> None:
    path = tmp_path / (name or "absent.csv")
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    code = main(["calibrate", str(path), "--out", str(tmp_path / "m.toml"), *extra])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert str(path) in err
    for fragment in fragments:
        assert fragment in err, (case, err)
    assert not (tmp_path / "m.toml").exists()


def test_parquet_row_numbers_are_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "log.parquet"
    pd.DataFrame(
        {"customer_id": ["a", "b"], "date": ["2025-01-01", "soon"], "amount": [1.0, 2.0]}
    ).to_parquet(path)
    assert main(["calibrate", str(path), "--out", str(tmp_path / "m.toml")]) == 2
    assert "row 2, column 'date'" in capsys.readouterr().err
