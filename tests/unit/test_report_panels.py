"""The figures' numbers over time: the array layout that replaced ``pivot_table`` and the
median and band without a Python loop per row (issue 12.5)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.report.panels import median_and_band, step_by_replication, trailing


def test_step_by_replication_lays_out_values_as_pivot_table_does():
    rng = np.random.default_rng(5)
    n = 400
    df = pd.DataFrame(
        {
            "scenario": rng.integers(0, 3, n),  # several markets share a (step, replication)
            "step": rng.integers(1, 30, n),
            "replication": rng.integers(0, 6, n),
            "value": rng.normal(size=n),
        }
    )
    df.loc[rng.random(n) < 0.2, "value"] = np.nan  # missing cells and whole missing cells
    df.loc[df["replication"] == 5, "value"] = np.nan  # a replication without any value
    for smooth in (1, 4):
        want = df.pivot_table(index="step", columns="replication", values="value", aggfunc="first")
        if smooth > 1:
            want = want.rolling(smooth, min_periods=1).mean()
        steps, got = step_by_replication(df, df["value"].to_numpy(float), smooth)
        assert steps.tolist() == want.index.tolist()
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want.to_numpy())


def test_median_and_band_are_nanmedian_and_nanquantile_to_the_bit():
    rng = np.random.default_rng(11)
    for rows, reps in ((157, 1), (157, 2), (300, 10)):
        wide = rng.lognormal(10.0, 2.0, (rows, reps)) * rng.choice([-1.0, 1.0], (rows, reps))
        holed = wide.copy()
        holed[rng.random(wide.shape) < 0.1] = np.nan
        holed[:, 0] = np.where(np.isnan(holed).all(axis=1), 1.0, holed[:, 0])  # no empty row
        for table in (wide, holed):
            mid, lo, hi = median_and_band(table, 0.05, 0.95)
            assert np.array_equal(mid, np.nanmedian(table, axis=1))
            want_lo, want_hi = np.nanquantile(table, [0.05, 0.95], axis=1)
            assert np.array_equal(lo, want_lo) and np.array_equal(hi, want_hi)
            if reps > 1:
                assert (lo <= mid).all() and (mid <= hi).all() and (lo < hi).any()


def test_trailing_means_within_replications_are_transforms_to_the_bit():
    rng = np.random.default_rng(12)
    n = 500
    df = pd.DataFrame(
        {"replication": rng.integers(0, 5, n), "value": rng.lognormal(3.0, 1.0, n)},
        index=rng.permutation(np.arange(1000, 1000 + n)),  # not a RangeIndex
    )
    df.loc[rng.random(n) < 0.1, "value"] = np.nan
    for window in (1, 4, 13):
        want = df.groupby("replication")["value"].transform(
            lambda s, w=window: s.rolling(w, min_periods=1).mean()
        )
        got = trailing(df, "value", window)
        assert got.index.equals(df.index)
        assert np.array_equal(got.to_numpy(), want.to_numpy(), equal_nan=True)
