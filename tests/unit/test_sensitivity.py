"""The SALib wiring, checked on functions whose indices are known analytically.

The functions are evaluated on the *mapped* parameter values (through the scenario's
[uncertainties] distributions), so these tests cover the design, the quantile mapping
and the analysis together. Tolerances come from SALib's own bootstrap intervals.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.analysis import sensitivity as analysis
from sim.analysis.sensitivity import analyze, sensitivity_table
from sim.common.errors import DesignError
from sim.config.scenario_file import parse_scenario
from sim.experiment.designs import (
    MORRIS_LEVELS,
    NOISE_FLOOR,
    SensitivityError,
    check_samples,
    design,
    design_size,
    sensitivity_design,
)
from sim.report.labels import NOISE_FLOOR as DUMMY_LABELLED

PI = math.pi
# three unbounded numeric parameters of the schema, used as plain inputs x1, x2, x3
X1, X2, X3 = (
    "market.satisfaction.baseline",
    "market.outside_option_utility",
    "market.satisfaction.desired_value",
)


def _scenario(low: float, high: float) -> str:
    return "[uncertainties]\n" + "".join(
        f'"{p}" = {{ low = {low!r}, high = {high!r} }}\n' for p in (X1, X2, X3)
    )


def _values(names: list[str], variants: list[dict]) -> np.ndarray:
    """The parameters' values per market (the noise floor, last, is in no market)."""
    assert names[-1] == NOISE_FLOOR and all(NOISE_FLOOR not in v for v in variants)
    return np.array([[v[n] for n in names[:-1]] for v in variants])


def test_sobol_indices_of_the_ishigami_function():
    """Ishigami & Homma (1990): a = 7, b = 0.1 on U(-pi, pi)^3, indices in closed form."""
    sf = parse_scenario(_scenario(-PI, PI))
    names, x, variants = design(sf, "sobol", 1024)
    assert names == [X1, X2, X3, NOISE_FLOOR]
    v = _values(names, variants)
    assert v.min() >= -PI and v.max() <= PI
    y = np.sin(v[:, 0]) + 7.0 * np.sin(v[:, 1]) ** 2 + 0.1 * v[:, 2] ** 4 * np.sin(v[:, 0])
    table = analyze("sobol", names, x, y).set_index("parameter")
    a, b = 7.0, 0.1
    var = a**2 / 8 + b * PI**4 / 5 + b**2 * PI**8 / 18 + 0.5
    v1 = 0.5 * (1 + b * PI**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * PI**8 * (1 / 18 - 1 / 50)
    truth = {
        X1: (v1 / var, (v1 + v13) / var),
        X2: (v2 / var, v2 / var),
        X3: (0.0, v13 / var),
        NOISE_FLOOR: (0.0, 0.0),  # the dummy parameter: no effect at all
    }
    for name, (s1, st) in truth.items():
        row = table.loc[name]
        assert abs(row["S1"] - s1) < 2 * row["S1_conf"] + 0.01, (name, row["S1"], s1)
        assert abs(row["ST"] - st) < 2 * row["ST_conf"] + 0.01, (name, row["ST"], st)


def test_sobol_indices_of_a_linear_function():
    """y = 3 x1 + 1 x2 + 0 x3 with x uniform on [0, 1]: S1 = ST = a_i^2 / sum a^2."""
    sf = parse_scenario(_scenario(0.0, 1.0))
    names, x, variants = design(sf, "sobol", 512)
    v = _values(names, variants)
    y = 3.0 * v[:, 0] + 1.0 * v[:, 1]
    table = analyze("sobol", names, x, y).set_index("parameter")
    for name, share in ((X1, 0.9), (X2, 0.1), (X3, 0.0), (NOISE_FLOOR, 0.0)):
        for key in ("S1", "ST"):
            assert abs(table.loc[name, key] - share) < 2 * table.loc[name, f"{key}_conf"] + 0.01


def test_morris_effects_of_a_linear_function_are_exact():
    """Each elementary effect of a linear function is its slope times the range."""
    sf = parse_scenario(_scenario(0.0, 2.0))
    names, x, variants = design(sf, "morris", 12)
    v = _values(names, variants)
    y = 10.0 * v[:, 0] - 1.0 * v[:, 1]
    table = analyze("morris", names, x, y).set_index("parameter")
    assert table.loc[X1, "mu_star"] == pytest.approx(20.0)
    assert table.loc[X2, "mu_star"] == pytest.approx(2.0)
    assert table.loc[X2, "mu"] == pytest.approx(-2.0)
    assert table.loc[X3, "mu_star"] == pytest.approx(0.0, abs=1e-9)
    assert table.loc[NOISE_FLOOR, "mu_star"] == pytest.approx(0.0, abs=1e-9)
    assert (table["sigma"] < 1e-9).all()  # linear: no interactions, no curvature


def test_design_sizes_and_determinism():
    sf = parse_scenario(_scenario(0.0, 1.0))
    _, x, variants = design(sf, "sobol", 16)
    assert x.shape == (design_size("sobol", 16, 3), 4) == (16 * 6, 4)  # 3 + the noise floor
    assert len(variants) == x.shape[0]
    _, x_again, _ = design(sf, "sobol", 16)
    assert np.array_equal(x, x_again)
    _, xm, _ = design(sf, "morris", 5)
    assert xm.shape == (design_size("morris", 5, 3), 4) == (5 * 5, 4)


def test_bad_requests_are_clear_errors():
    with pytest.raises(SensitivityError, match=r"power of 2, e\.g\. 16 or 32"):
        check_samples("sobol", 20)
    with pytest.raises(SensitivityError, match="at least 2"):
        check_samples("morris", 1)
    with pytest.raises(SensitivityError, match="no \\[uncertainties\\] section"):
        design(parse_scenario(""), "morris", 4)
    with pytest.raises(DesignError, match="undefined in 1 of 3 markets"):
        analyze("morris", ["a"], np.zeros((3, 1)), [1.0, math.nan, 2.0])


def test_the_table_has_every_policy_and_each_difference_from_the_baseline():
    sf = parse_scenario(_scenario(0.0, 1.0))
    names, x, variants = design(sf, "morris", 6)
    v = _values(names, variants)
    rows = []
    for s, (x1, x2, _) in enumerate(v):  # three parameters; the noise floor is in no market
        for policy, y in (("base", 5.0 * x1), ("other", 5.0 * x1 + 2.0 * x2)):
            rows.append(
                {"policy": policy, "scenario": s, "replication": 0, "firm": "focal", "profit": y}
            )
            rows.append(
                {"policy": policy, "scenario": s, "replication": 0, "firm": "r", "profit": 0}
            )
    table = sensitivity_table(
        pd.DataFrame(rows),
        names,
        x,
        method="morris",
        samples=6,
        focal="focal",
        outcome="profit",
        policies=["base", "other"],
    )
    assert len(table) == 3 * 4  # base, other, other minus base; 3 parameters + noise floor
    diff = table[table["compared_with"] == "base"].set_index("parameter")
    assert diff.loc[X2, "mu_star"] == pytest.approx(2.0)  # only x2 separates the policies
    assert diff.loc[X1, "mu_star"] == pytest.approx(0.0, abs=1e-9)
    assert table["S1"].isna().all() and (table["method"] == "morris").all()
    assert (table["scenarios"] == x.shape[0]).all()


def test_the_design_object_and_the_analysis_agree_on_the_design():
    sf = parse_scenario(_scenario(0.0, 1.0))
    d = sensitivity_design(sf, "morris", 4)
    names, x, variants = design(sf, "morris", 4)
    assert d.kind == "sensitivity" and d.names == tuple(names) and d.paths == (X1, X2, X3)
    assert np.array_equal(d.unit, x) and d.variants() == variants
    assert analysis.MORRIS_LEVELS == MORRIS_LEVELS  # the analysis reads the design's grid
    assert DUMMY_LABELLED == NOISE_FLOOR  # the figures know the dummy parameter by name
