"""The figures' numbers over time: the array layout that replaced ``pivot_table`` (issue 12.5)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.report.panels import step_by_replication


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
