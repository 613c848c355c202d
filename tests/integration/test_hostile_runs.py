"""Hostile faults in runs, resumes, results folders and names (issue 15, items 6, 8 and 9).

Table-driven: each case breaks one thing and asserts the exit code, no traceback, a
message naming the file (or key, or value), and nothing written or half-written. The
experiment is a small market (300 people, 4 weeks, 2 policies x 2 replications) run in
this process with one worker; the classes:

* ``REPORT_CASES``: a finished results folder damaged one way, then ``marketsim report``
  (exit 2, the damaged file named, no file added or changed);
* ``RESUME_CASES``: a run file corrupted, truncated or copied in from another
  experiment, then ``--resume`` (the file named and set aside, the run done again, the
  tables byte-identical to an uninterrupted run);
* ``REFUSED_CASES``: a ``--resume`` of another experiment (seed, steps, graph file
  content, sweep seed) refused before any file of the folder changes;
* ``DISK_CASES``: a full or read-only disk at each stage (exit 3, one message saying to
  free space and ``--resume``, no temporary file left, no table that looks complete);
* ``NAME_CASES``: names a spreadsheet would execute, neutralised in every CSV.
"""

from __future__ import annotations

import errno
import json
import re
import shutil
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sim.analysis import summary as summary_module
from sim.cli import commands as cli
from sim.common import files
from sim.common.files import FORMULA_STARTS, NAME_COLUMNS, read_table
from sim.config.limits import runs_of
from sim.config.scenario_file import parse_scenario
from sim.experiment import fingerprint, runner, runstore
from sim.experiment.runner import plan_runs

SMALL = """\
name = "hostile"
[simulation]
steps = 4
replications = 2
seed = 11
[market]
n_customers = 300
[[competitors]]
name = "rival"
[outputs]
plots = false
report = false
network_sample = 30
[[policies]]
preset = "acquisition_heavy"
[[policies]]
preset = "retention_heavy"
"""

RING = "".join(f"{k} {(k + 1) % 300}\n" for k in range(300))
OTHER_RING = "".join(f"{k} {(k + 7) % 300}\n" for k in range(300))
GRAPH = '[network]\nkind = "edge_list"\npath = "ring.edges"\n'
TABLES = (
    "outcomes.csv",
    "timeseries.csv",
    "cohorts.csv",
    "calibration.csv",
    "network_nodes.csv",
    "network_edges.csv",
    "summary.csv",
    "scenarios.csv",
)


def _scenario(folder: Path, text: str = SMALL, graph: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if graph is not None:
        (folder / "ring.edges").write_text(graph, encoding="utf-8")
        text = text + GRAPH
    path = folder / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _run(scenario: Path, out: Path, *extra: str) -> int:
    return cli.main(["run", str(scenario), "--out", str(out), "--workers", "1", "--quiet", *extra])


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file below ``folder``: (size, mtime) by relative path."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*") if p.name.endswith(".tmp")]


def _clean(err: str) -> None:
    assert "Traceback" not in err and "internal error" not in err, err


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, Path]:
    """(scenario file, the uninterrupted results folder of the small experiment)."""
    folder = tmp_path_factory.mktemp("hostile")
    scenario = _scenario(folder / "scenario")
    out = folder / "reference"
    assert _run(scenario, out) == 0
    return scenario, out


def _same_tables(a: Path, b: Path) -> None:
    for name in TABLES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


# --------------------------------------------------------------------------- report


def _replace(name: str, data: bytes | str) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        path = folder / name
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)

    return damage


def _edit(name: str, edit: Callable[[str], str]) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        path = folder / name
        path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")

    return damage


def _truncate(name: str, keep: Callable[[int], int]) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        path = folder / name
        data = path.read_bytes()
        path.write_bytes(data[: keep(len(data))])

    return damage


def _drop_line(name: str, line: int) -> Callable[[Path], None]:
    def edit(text: str) -> str:
        lines = text.splitlines(keepends=True)
        return "".join(lines[:line] + lines[line + 1 :])

    return _edit(name, edit)


def _cell(name: str, line: int, column: str, value: str) -> Callable[[Path], None]:
    """Replace one cell (``line`` 1 = the first data row)."""

    def edit(text: str) -> str:
        lines = text.splitlines(keepends=True)
        header = lines[0].rstrip("\n").split(",")
        cells = lines[line].rstrip("\n").split(",")
        cells[header.index(column)] = value
        lines[line] = ",".join(cells) + "\n"
        return "".join(lines)

    return _edit(name, edit)


def _column_text(name: str, column: str) -> Callable[[Path], None]:
    def edit(text: str) -> str:
        lines = text.splitlines()
        header = lines[0].split(",")
        k = header.index(column)
        out = [lines[0]]
        for line in lines[1:]:
            cells = line.split(",")
            cells[k] = "lots"
            out.append(",".join(cells))
        return "\n".join(out) + "\n"

    return _edit(name, edit)


def _manifest(change: Callable[[dict], object]) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        path = folder / "manifest.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        result = change(data)
        path.write_text(json.dumps(data if result is None else result), encoding="utf-8")

    return damage


def _set(key: str, value: object) -> Callable[[dict], None]:
    def change(data: dict) -> None:
        data[key] = value

    return change


def _rows(table: str, value: object) -> Callable[[dict], None]:
    def change(data: dict) -> None:
        data["rows"][table] = value

    return change


def _resolved(edit: Callable[[str], str]) -> Callable[[Path], None]:
    return _edit("scenario.resolved.toml", edit)


def _remove(name: str) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        (folder / name).unlink()

    return damage


GARBAGE = bytes(range(256)) * 8

REPORT_CASES: dict[str, tuple[Callable[[Path], None], list[str]]] = {
    "timeseries truncated mid-line": (
        _truncate("timeseries.csv", lambda n: n - 25),
        ["timeseries.csv", "ends in the middle of a line"],
    ),
    "timeseries truncated at a line": (
        _drop_line("timeseries.csv", 5),
        ["timeseries.csv", "rows, but the manifest says"],
    ),
    "timeseries cut to its header": (
        _truncate("timeseries.csv", lambda n: 0),
        ["timeseries.csv"],
    ),
    "timeseries binary garbage": (_replace("timeseries.csv", GARBAGE), ["timeseries.csv"]),
    "summary binary garbage": (_replace("summary.csv", GARBAGE), ["summary.csv"]),
    "outcomes binary garbage": (_replace("outcomes.csv", GARBAGE), ["outcomes.csv"]),
    "timeseries non-numeric cell": (
        _cell("timeseries.csv", 3, "customers", "many"),
        ["timeseries.csv", "customers", "line 4", "'many'"],
    ),
    "timeseries non-numeric cell in a free column": (
        _cell("timeseries.csv", 2, "revenue", "oops"),
        ["timeseries.csv", "revenue", "'oops'"],
    ),
    "summary mean column of text": (
        _column_text("summary.csv", "mean"),
        ["summary.csv", "mean", "'lots'"],
    ),
    "summary empty": (_replace("summary.csv", ""), ["summary.csv", "empty"]),
    "summary header only": (
        _edit("summary.csv", lambda t: t.splitlines(keepends=True)[0]),
        ["summary.csv"],
    ),
    "outcomes not UTF-8": (
        _replace("outcomes.csv", b"policy,firm\n" + "caf\u00e9,x\n".encode("latin-1")),
        ["outcomes.csv", "UTF-8"],
    ),
    "calibration not UTF-8": (
        _replace("calibration.csv", b"policy,name\n\xff\xfe,x\n"),
        ["calibration.csv", "UTF-8"],
    ),
    "cohorts row with an extra cell": (
        _edit("cohorts.csv", lambda t: t.replace("\n", ",9,9\n", 3).replace(",9,9\n", "\n", 1)),
        ["cohorts.csv"],
    ),
    "timeseries missing the step column": (
        _edit(
            "timeseries.csv",
            lambda t: t.replace(
                "policy,scenario,replication,step,", "policy,scenario,replication,stap,", 1
            ),
        ),
        ["timeseries.csv", "missing column step"],
    ),
    "timeseries replication not whole": (
        _cell("timeseries.csv", 1, "replication", "0.5"),
        ["timeseries.csv", "replication", "whole numbers"],
    ),
    "network edges of text": (
        _replace("network_edges.csv", "source,target\na,b\n"),
        ["network_edges.csv", "source"],
    ),
    "cohorts removed but counted": (_remove("cohorts.csv"), ["cohorts.csv", "missing"]),
    "summary removed": (_remove("summary.csv"), ["summary.csv"]),
    "manifest a list": (_replace("manifest.json", "[1, 2]"), ["manifest.json", "JSON object"]),
    "manifest not JSON": (_replace("manifest.json", "{ nope"), ["manifest.json", "JSON"]),
    "manifest not UTF-8": (_replace("manifest.json", b'{"a": "\xff"}'), ["manifest.json"]),
    "manifest rows a list": (_manifest(_set("rows", [1])), ["manifest.json", "'rows'"]),
    "manifest rows negative": (
        _manifest(_rows("timeseries", -1)),
        ["manifest.json", "'rows'"],
    ),
    "manifest rows wrong": (
        _manifest(_rows("timeseries", 7)),
        ["timeseries.csv", "the manifest says 7"],
    ),
    "manifest policies not a list": (
        _manifest(_set("policies", "a,b")),
        ["manifest.json", "'policies'"],
    ),
    "manifest steps_per_year zero": (
        _manifest(_set("steps_per_year", 0)),
        ["manifest.json", "steps_per_year"],
    ),
    "resolved scenario garbage": (
        _replace("scenario.resolved.toml", "[[[ not toml"),
        ["scenario.resolved.toml", "not a readable scenario"],
    ),
    "resolved scenario dpi huge": (
        _resolved(lambda t: t.replace("dpi = 110", "dpi = 100000")),
        ["scenario.resolved.toml", "outputs.dpi", "100000"],
    ),
    "resolved scenario unknown format": (
        _resolved(lambda t: re.sub(r"formats = \[[^]]*\]", 'formats = ["exe"]', t)),
        ["scenario.resolved.toml", "outputs.formats"],
    ),
    "resolved scenario not UTF-8": (
        _replace("scenario.resolved.toml", b"name = '\xff'\n"),
        ["scenario.resolved.toml", "UTF-8"],
    ),
}


def test_there_are_enough_hostile_cases():
    total = (
        len(REPORT_CASES)
        + len(RESUME_CASES)
        + len(REFUSED_CASES)
        + len(DISK_CASES)
        + len(NAME_CASES)
    )
    assert total >= 50


@pytest.mark.parametrize("name", sorted(REPORT_CASES))
def test_a_damaged_folder_is_named_and_nothing_is_drawn(name, reference, tmp_path, capsys):
    damage, expected = REPORT_CASES[name]
    folder = tmp_path / "damaged"
    shutil.copytree(reference[1], folder)
    damage(folder)
    before = _snapshot(folder)
    capsys.readouterr()
    assert cli.main(["report", str(folder), "--quiet"]) == 2
    err = capsys.readouterr().err
    _clean(err)
    for text in expected:
        assert text in err, (text, err)
    assert err.count("\n") <= 2, err  # one message
    assert _snapshot(folder) == before  # nothing drawn, nothing half-written
    assert not _temporaries(folder)


def test_the_intact_folder_redraws(reference, tmp_path, capsys):
    folder = tmp_path / "intact"
    shutil.copytree(reference[1], folder)
    assert cli.main(["report", str(folder), "--quiet"]) == 0


# --------------------------------------------------------------------------- resume


def _run_file(out: Path, k: int = 1) -> Path:
    return sorted((out / "runs").glob("run-*.zip"))[k]


def _garbage_run(out: Path) -> None:
    _run_file(out).write_bytes(GARBAGE)


def _truncated_run(out: Path) -> None:
    path = _run_file(out)
    path.write_bytes(path.read_bytes()[:-200])


def _flipped_run(out: Path) -> None:
    path = _run_file(out)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 16] = bytes(16)  # inside a member: its checksum fails
    path.write_bytes(bytes(data))


def _swapped_runs(out: Path) -> None:
    a, b = _run_file(out, 0), _run_file(out, 1)
    data_a = a.read_bytes()
    a.write_bytes(b.read_bytes())
    b.write_bytes(data_a)


def _foreign_run(out: Path, other: Path) -> None:
    shutil.copy(_run_file(other), _run_file(out))


def _meta_edit(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def damage(out: Path) -> None:
        path = _run_file(out)
        with zipfile.ZipFile(path) as zf:
            members = {n: zf.read(n) for n in zf.namelist()}
        meta = json.loads(members["meta.json"])
        change(meta)
        members["meta.json"] = json.dumps(meta).encode()
        with zipfile.ZipFile(path, "w") as zf:
            for n, data in members.items():
                zf.writestr(n, data)

    return damage


def _no_meta(out: Path) -> None:
    path = _run_file(out)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist() if n != "meta.json"}
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)


@dataclass
class Resume:
    damage: Callable[..., None]
    suffix: str
    expected: list[str] = field(default_factory=list)
    needs_other: bool = False


RESUME_CASES: dict[str, Resume] = {
    "run file of garbage": Resume(_garbage_run, ".corrupt", ["damaged"]),
    "run file truncated": Resume(_truncated_run, ".corrupt", ["damaged"]),
    "run file with a bad checksum": Resume(_flipped_run, ".corrupt", ["damaged"]),
    "run file without meta": Resume(_no_meta, ".corrupt", ["damaged", "meta.json"]),
    "run files swapped": Resume(_swapped_runs, ".foreign", ["another experiment"]),
    "run file of another experiment": Resume(
        _foreign_run, ".foreign", ["another experiment", "fingerprint"], needs_other=True
    ),
    "run file with another seed": Resume(
        _meta_edit(lambda m: m.update(seed=1)), ".foreign", ["seed"]
    ),
    "run file with another fingerprint": Resume(
        _meta_edit(lambda m: m.update(fingerprint="0" * 64)), ".foreign", ["fingerprint"]
    ),
}


@pytest.fixture(scope="module")
def other_experiment(reference, tmp_path_factory) -> Path:
    """A finished experiment of another seed (its run files are another experiment's)."""
    out = tmp_path_factory.mktemp("other") / "seed12"
    assert _run(reference[0], out, "--seed", "12") == 0
    return out


def _interrupted_copy(reference: Path, folder: Path) -> Path:
    """The reference folder as an interrupted experiment would leave it (runs, no tables)."""
    shutil.copytree(reference / "runs", folder / "runs")
    return folder


@pytest.mark.parametrize("name", sorted(RESUME_CASES))
def test_a_bad_run_file_is_named_set_aside_and_run_again(
    name, reference, tmp_path, capsys, caplog, request
):
    case = RESUME_CASES[name]
    scenario, ref = reference
    out = _interrupted_copy(ref, tmp_path / "resumed")
    if case.needs_other:
        case.damage(out, request.getfixturevalue("other_experiment"))
    else:
        case.damage(out)
    bad = _run_file(out).name
    capsys.readouterr()
    assert _run(scenario, out, "--resume") == 0
    err = capsys.readouterr().err
    _clean(err)
    err += caplog.text  # the note goes to logging (on standard error when none is set up)
    assert bad in err and "set aside" in err, err
    for text in case.expected:
        assert text in err, (text, err)
    assert (out / "runs" / f"{bad}{case.suffix}").is_file()
    _same_tables(ref, out)
    index = json.loads((out / "runs" / "index.json").read_text())
    assert any(bad in line for line in index["set_aside"])


def test_a_run_file_damaged_before_assembly_is_named_and_resumed(
    reference, tmp_path, capsys, monkeypatch
):
    scenario, ref = reference
    out = tmp_path / "assembly"
    assemble = runstore.RunStore.assemble

    def damaged_first(self, index, tables=("outcomes",), **kw):
        _garbage_run(self.out_dir)
        return assemble(self, index, tables, **kw)

    monkeypatch.setattr(runstore.RunStore, "assemble", damaged_first)
    assert _run(scenario, out) == 2
    err = capsys.readouterr().err
    _clean(err)
    bad = sorted((out / "runs").glob("*.corrupt"))
    assert len(bad) == 1 and bad[0].name.removesuffix(".corrupt") in err
    assert "--resume" in err
    assert not any((out / t).exists() for t in TABLES[:-2]) and not _temporaries(out)
    monkeypatch.undo()
    assert _run(scenario, out, "--resume") == 0
    _same_tables(ref, out)


# --------------------------------------------------------------------------- refused


@dataclass
class Refused:
    args: list[str]
    expected: list[str]
    command: str = "run"
    change_graph: bool = False


REFUSED_CASES: dict[str, Refused] = {
    "another seed": Refused(["--seed", "99"], ["different experiment"]),
    "other steps": Refused(["--steps", "3"], ["different experiment"]),
    "another override": Refused(["--set", "market.n_customers=301"], ["different experiment"]),
    "graph file replaced": Refused([], ["different experiment"], change_graph=True),
    "sweep with another seed": Refused(["--seed", "99"], ["different experiment"], "sweep"),
}


def _command(case: Refused, scenario: Path, out: Path) -> list[str]:
    if case.command == "sweep":
        return [
            "sweep",
            str(scenario),
            "--param",
            "market.initial_penetration=0.2:0.4:2",
            "--out",
            str(out),
            "--workers",
            "1",
            "--quiet",
        ]
    return ["run", str(scenario), "--out", str(out), "--workers", "1", "--quiet"]


@pytest.mark.parametrize("name", sorted(REFUSED_CASES))
def test_a_resume_of_another_experiment_is_refused_before_anything_changes(name, tmp_path, capsys):
    case = REFUSED_CASES[name]
    graph = RING if case.change_graph else None
    scenario = _scenario(tmp_path / "scenario", graph=graph)
    out = tmp_path / "out"
    base = _command(case, scenario, out)
    assert cli.main([*base, "--steps", "2", "--replications", "1"]) == 0
    if case.change_graph:
        (scenario.parent / "ring.edges").write_text(OTHER_RING, encoding="utf-8")
    before = {p: out.joinpath(p).read_bytes() for p in _snapshot(out)}
    time.sleep(0.01)
    capsys.readouterr()
    again = [*base, "--steps", "2", "--replications", "1", *case.args, "--resume"]
    if "--steps" in case.args:
        again = [*base, "--replications", "1", *case.args, "--resume"]
    assert cli.main(again) == 2
    err = capsys.readouterr().err
    _clean(err)
    for text in case.expected:
        assert text in err, (text, err)
    after = {p: out.joinpath(p).read_bytes() for p in _snapshot(out)}
    assert after == before  # not a byte of the folder changed


def test_the_fingerprint_covers_graph_content_and_code(tmp_path, monkeypatch):
    scenario = _scenario(tmp_path, graph=RING)
    sf = parse_scenario(scenario.read_text(), str(scenario), scenario.parent)
    first = runner.experiment_fingerprint(sf, [{}])
    (scenario.parent / "ring.edges").write_text(OTHER_RING, encoding="utf-8")
    assert runner.experiment_fingerprint(sf, [{}]) != first
    monkeypatch.setattr(fingerprint, "code_version", lambda: "another version")
    changed_code = runner.experiment_fingerprint(sf, [{}])
    monkeypatch.undo()
    assert changed_code != runner.experiment_fingerprint(sf, [{}])


# --------------------------------------------------------------------------- disk


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def _edquot(*args, **kwargs):
    raise OSError(errno.EDQUOT, "Disk quota exceeded")


def _erofs(*args, **kwargs):
    raise OSError(errno.EROFS, "Read-only file system")


def _after(n: int, fail: Callable[..., None], real: Callable[..., object]):
    calls = {"n": 0}

    def write(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > n:
            fail(*args, **kwargs)
        return real(*args, **kwargs)

    return write


def _stray_then(fail: Callable[..., None]):
    """An atomic writer that leaves its temporary file behind, then fails."""

    def write(path, data):
        path = Path(path)
        (path.parent / f".{path.name}.x1y2.tmp").write_bytes(data[:10])
        fail()

    return write


DISK_CASES: dict[str, tuple[str, str, Callable[[], Callable[..., object]]]] = {
    # (module attribute to replace, expected words, the replacement's factory)
    "ENOSPC writing the first run": (
        "runstore.atomic_write_bytes",
        "no space",
        lambda: _stray_then(_enospc),
    ),
    "EROFS writing a run": (
        "runstore.atomic_write_bytes",
        "read-only",
        lambda: _stray_then(_erofs),
    ),
    "ENOSPC writing the third run": (
        "runstore.atomic_write_bytes",
        "no space",
        lambda: _after(2, _enospc, runstore.atomic_write_bytes),
    ),
    "ENOSPC inside the atomic writer": (
        "files._write",
        "no space",
        lambda: _after(1, _enospc, files._write),
    ),
    "EDQUOT inside the atomic writer": (
        "files._write",
        "no space",
        lambda: _after(1, _edquot, files._write),
    ),
    "ENOSPC saving the run index": (
        "runstore.atomic_write_text",
        "no space",
        lambda: _after(1, _enospc, runstore.atomic_write_text),
    ),
    "ENOSPC writing the summary": (
        "summary_module.atomic_write_bytes",
        "no space",
        lambda: _stray_then(_enospc),
    ),
    "EROFS assembling a table": ("runstore.TableStream.write_csv", "read-only", lambda: _erofs),
}

_TARGETS = {"runstore": runstore, "files": files, "summary_module": summary_module}


@pytest.mark.parametrize("name", sorted(DISK_CASES))
def test_a_full_or_read_only_disk_says_free_space_and_resume(
    name, reference, tmp_path, capsys, monkeypatch
):
    target, words, factory = DISK_CASES[name]
    scenario, ref = reference
    out = tmp_path / "full"
    module, _, attribute = target.partition(".")
    owner: object = _TARGETS[module]
    if "." in attribute:
        cls, _, attribute = attribute.partition(".")
        owner = getattr(owner, cls)
    monkeypatch.setattr(owner, attribute, factory())
    capsys.readouterr()
    assert _run(scenario, out) == 3
    err = capsys.readouterr().err
    _clean(err)
    assert words in err and "free some space" in err and "--resume" in err, err
    assert len([line for line in err.splitlines() if line.strip()]) == 1, err
    assert not _temporaries(out)
    assert not (out / "manifest.json").exists()
    monkeypatch.undo()
    assert _run(scenario, out, "--resume") == 0
    _same_tables(ref, out)


# --------------------------------------------------------------------------- names


NAME_CASES = {
    "policy =HYPERLINK": ("policies", '=HYPERLINK("http://example.com","click")'),
    "policy -2+3": ("policies", "-2+3"),
    "policy @SUM": ("policies", "@SUM(A1:A2)"),
    "policy tab": ("policies", "\tcmd"),
    "firm +1": ("firm", "+1"),
    "competitor =1+1": ("competitor", "=1+1"),
}


def _named(kind: str, name: str) -> str:
    quoted = json.dumps(name)
    if kind == "policies":
        return SMALL.replace(
            'preset = "retention_heavy"', f'preset = "retention_heavy"\nname = {quoted}'
        )
    if kind == "firm":
        return SMALL.replace("[[competitors]]", f"[firm]\nname = {quoted}\n[[competitors]]")
    return SMALL.replace('name = "rival"', f"name = {quoted}")


@pytest.mark.parametrize("case", sorted(NAME_CASES))
def test_names_a_spreadsheet_would_execute_are_neutralised_everywhere(case, tmp_path, capsys):
    kind, name = NAME_CASES[case]
    scenario = _scenario(tmp_path / "scenario", _named(kind, name))
    out = tmp_path / "out"
    assert _run(scenario, out) == 0
    _clean(capsys.readouterr().err)
    seen = 0
    for path in sorted(out.glob("*.csv")):
        table = read_table(path)
        for column in NAME_COLUMNS:
            if column not in table:
                continue
            cells = table[column].dropna().astype(str)
            assert not cells.str.startswith(FORMULA_STARTS).any(), (path.name, column)
            seen += int((cells == "'" + name).sum())
        raw = path.read_text(encoding="utf-8")
        assert not any(line.startswith(name) for line in raw.splitlines()), path.name
    assert seen > 0  # the neutralised name is in the tables, read back as written
    assert cli.main(["report", str(out), "--quiet"]) == 0


# --------------------------------------------------------------------------- streaming


def test_a_billion_runs_are_planned_without_listing_them():
    text = SMALL.replace("replications = 2", "replications = 500000000")
    sf = parse_scenario(text)
    started = time.perf_counter()
    plan = plan_runs(sf)
    assert len(plan) == runs_of(sf) == 10**9
    last = plan[-1]
    assert (last.index, last.replication, last.policy_index) == (10**9 - 1, 499_999_999, 1)
    assert time.perf_counter() - started < 1.0
    small = plan_runs(parse_scenario(SMALL))
    assert [r.index for r in small] == [0, 1, 2, 3]
    assert [(r.replication, r.policy_index) for r in small] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert small[1:3] == [small[1], small[2]]
