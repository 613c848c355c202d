"""Output places (issue 15, item 5): an impossible or dangerous --out is refused up front.

Each case asserts exit code 2, one message naming the folder and the reason, no traceback,
and that nothing was written. A results folder holds one experiment: re-running another
experiment into it leaves none of the earlier experiment's files behind.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sim.cli import commands as cli
from sim.pipeline.folders import OutputFolderError, check_output_folder, clear_earlier_results
from tests.integration.cli_helpers import TINY

SMALL = TINY.replace("n_customers = 1500", "n_customers = 300").replace("steps = 12", "steps = 3")


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    path = folder / "tiny.toml"
    path.write_text(SMALL, encoding="utf-8")
    return path


def _refused(capsys, scenario: Path, out: str, reason: str) -> None:
    rc = cli.main(["run", str(scenario), "--out", out, "--quiet", "--replications", "1"])
    err = capsys.readouterr().err
    assert rc == cli.EXIT_USER, err
    assert "Traceback" not in err
    assert f"--out {out}" in err and reason in err, err


@pytest.mark.parametrize(
    ("out", "reason"),
    [
        ("/", "file-system root"),
        ("/proc/marketsim-results", "system folder"),
        ("/etc/marketsim", "system folder"),
        ("/usr/share/marketsim", "system folder"),
        ("/dev/null", "system folder"),
    ],
)
def test_system_places_are_refused(capsys, scenario, out, reason):
    _refused(capsys, scenario, out, reason)
    if out != "/" and out != "/dev/null":
        assert not Path(out).exists()


def test_an_existing_file_is_refused(capsys, scenario, tmp_path):
    target = tmp_path / "a_file"
    target.write_text("keep me", encoding="utf-8")
    _refused(capsys, scenario, str(target), "exists and is not a folder")
    assert target.read_text(encoding="utf-8") == "keep me"


def test_a_path_below_a_file_is_refused(capsys, scenario, tmp_path):
    target = tmp_path / "a_file"
    target.write_text("keep me", encoding="utf-8")
    _refused(capsys, scenario, str(target / "results"), "is a file")


def test_the_scenario_folder_itself_is_refused(capsys, scenario):
    _refused(capsys, scenario, str(scenario.parent), "folder of the scenario file itself")
    assert sorted(p.name for p in scenario.parent.iterdir()) == ["tiny.toml"]


def test_a_folder_of_other_files_is_refused_and_left_alone(capsys, scenario, tmp_path):
    mine = tmp_path / "documents"
    mine.mkdir()
    (mine / "budget.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    _refused(capsys, scenario, str(mine), "not a marketsim results folder")
    assert [p.name for p in mine.iterdir()] == ["budget.csv"]


def test_a_symlink_loop_is_refused(capsys, scenario, tmp_path):
    loop = tmp_path / "loop"
    os.symlink(loop, loop)
    _refused(capsys, scenario, str(loop / "results"), "")


def test_an_unwritable_folder_is_refused(monkeypatch, tmp_path):
    monkeypatch.setattr(os, "access", lambda *a, **k: False)
    with pytest.raises(OutputFolderError, match="cannot write"):
        check_output_folder(tmp_path / "new")


def test_rerunning_into_a_results_folder_leaves_no_earlier_files(scenario, tmp_path):
    out = tmp_path / "results"
    argv = ["run", str(scenario), "--out", str(out), "--quiet", "--replications", "1"]
    assert cli.main(argv) == 0
    # files an earlier, different experiment left (a robustness run, stale figures)
    (out / "regret.csv").write_text("scenario,policy\n0,x\n", encoding="utf-8")
    (out / "plots" / "robustness_regret.png").write_bytes(b"old")
    before = (out / "manifest.json").read_text(encoding="utf-8")
    assert cli.main([*argv, "--seed", "3"]) == 0
    assert not (out / "regret.csv").exists()
    assert not (out / "plots" / "robustness_regret.png").exists()
    assert (out / "manifest.json").read_text(encoding="utf-8") != before
    assert '"seed": 3' in (out / "manifest.json").read_text(encoding="utf-8")


def test_clearing_touches_only_results_folders(tmp_path):
    (tmp_path / "notes.csv").write_text("x\n", encoding="utf-8")
    assert clear_earlier_results(tmp_path) == []
    assert (tmp_path / "notes.csv").exists()
