"""Reading a transaction log (sim.calibrate.logs): columns guessed or named, date formats,
Parquet and CSV alike; no PyMC needed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.calibrate.logs import Columns, LogError, read_log


def test_columns_are_guessed_whatever_their_case(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("Client_ID,Order_Date,Revenue\n007,2025-01-31,12.5\n007,2025-02-03,3\n")
    log = read_log(path)
    assert log.columns == ("Client_ID", "Order_Date", "Revenue")
    assert log.frame["customer_id"].tolist() == ["007", "007"]  # ids stay text: 007 is not 7
    assert log.frame["date"].dt.strftime("%Y-%m-%d").tolist() == ["2025-01-31", "2025-02-03"]
    assert log.frame["amount"].tolist() == [12.5, 3.0]
    assert (log.start, log.end) == (pd.Timestamp("2025-01-31"), pd.Timestamp("2025-02-03"))


def test_named_columns_and_a_date_format(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("who,when,paid\na,31/01/2025,1\nb,01/02/2025,2\n")
    cols = Columns(customer="who", date="when", amount="paid", date_format="%d/%m/%Y")
    log = read_log(path, cols)
    assert log.frame["date"].dt.month.tolist() == [1, 2]
    with pytest.raises(LogError, match="line 2, column 'when'"):
        read_log(path, Columns("who", "when", "paid", "%m/%d/%Y"))


def test_parquet_with_timestamps_and_time_zones(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "timestamp": pd.to_datetime(["2025-01-01 10:00", "2025-01-02 23:30"]).tz_localize(
                "Europe/Paris"
            ),
            "amount": [1.0, 2.5],
        }
    ).to_parquet(path)
    log = read_log(path)
    assert log.frame["date"].dt.tz is None
    assert log.frame["amount"].sum() == 3.5
