"""`marketsim validate` counts the runs an experiment will really make."""

from __future__ import annotations

from sim.cli.commands import main


def test_validate_counts_sampled_markets(capsys) -> None:
    assert main(["validate", "robust_policy", "--set", "experiment.scenarios=5"]) == 0
    err = capsys.readouterr().err
    # 3 policies x 5 sampled markets x 2 replications each (the file's [experiment])
    assert "x 5 sampled markets x 2 replications = 30 runs" in err


def test_validate_without_uncertainties_has_one_market(capsys) -> None:
    assert main(["validate", "retention_vs_acquisition", "--replications", "4"]) == 0
    err = capsys.readouterr().err
    assert "sampled markets" not in err
    assert "x 4 replications = 12 runs" in err
