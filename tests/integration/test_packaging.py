"""The wheel works on its own: built, installed in a clean environment, run from elsewhere.

A checkout hides packaging mistakes (a subpackage left out of the wheel, scenario files
that are not package data, a dependency that only the dev environment has), because the
tests import ``sim`` from the source tree. This test builds the sdist and, from it, the
wheel (``python -m build``) out of a copy of the project's packaging inputs, installs the
wheel into a new virtual environment without system site-packages in a temporary folder,
and runs ``marketsim list`` and a small bundled scenario from a folder outside the checkout.

Installing the dependencies needs the package index or pip's cache; they are pinned to the
dev environment's versions (``pip freeze``) so pip takes the wheels it already has.
Deselect with ``-m "not packaging"`` when offline.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[2]
# What the build reads: pyproject.toml names README.md (readme) and LICENSE (license-files).
PACKAGING_INPUTS = ("pyproject.toml", "README.md", "LICENSE", "sim")
HANG_GUARD_S = 900  # a stuck pip or build fails the test instead of hanging CI; not a timing check


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run ``cmd``; fail with its output if it exits non-zero; return its stdout."""
    done = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=HANG_GUARD_S, check=False
    )
    assert done.returncode == 0, (
        f"{' '.join(map(str, cmd))} exited {done.returncode}\n"
        f"--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"
    )
    return done.stdout


def copy_packaging_inputs(dest: Path) -> Path:
    """The files a build reads, copied, so building writes nothing into the checkout."""
    dest.mkdir()
    for name in PACKAGING_INPUTS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, dest / name)
    return dest


def expected_files() -> set[str]:
    """Every module and bundled scenario of the checkout, as paths inside the wheel."""
    files = {"sim/py.typed"}
    for path in (ROOT / "sim").rglob("*"):
        if "__pycache__" not in path.parts and path.suffix in {".py", ".toml"}:
            files.add(path.relative_to(ROOT).as_posix())
    return files


def dev_versions() -> str:
    """The dev environment's versions, as pip constraints (the project itself left out)."""
    frozen = run([sys.executable, "-m", "pip", "freeze", "--exclude-editable"], cwd=ROOT)
    keep = [
        line
        for line in frozen.splitlines()
        if line and not line.startswith(("-e", "#", "marketsim")) and " @ " not in line
    ]
    return "\n".join(keep) + "\n"


def clean_env(venv: Path) -> dict[str, str]:
    """The environment of a user who installed the wheel: nothing points at the checkout."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "MARKETSIM_SCENARIOS"}
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    env["COLUMNS"] = "200"  # rich's table of `marketsim list` on one line per scenario
    return env


def test_the_wheel_installs_and_runs_outside_the_checkout(tmp_path):
    assert not tmp_path.is_relative_to(ROOT), "the check must run outside the checkout"

    # 1. sdist, then the wheel from the sdist: both carry the scenarios and the LICENSE.
    src = copy_packaging_inputs(tmp_path / "src")
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "build", "--outdir", str(dist), str(src)], cwd=tmp_path)
    (wheel,) = dist.glob("marketsim-*.whl")
    (sdist,) = dist.glob("marketsim-*.tar.gz")

    with zipfile.ZipFile(wheel) as zf:
        in_wheel = set(zf.namelist())
    missing = expected_files() - in_wheel
    assert not missing, f"the wheel lacks {sorted(missing)}"
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in in_wheel)
    assert not any(n.startswith(("tests/", "benchmarks/", "tools/")) for n in in_wheel)
    with tarfile.open(sdist) as tf:
        in_sdist = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    assert {"LICENSE", "sim/scenarios/bass_docking.toml"} <= in_sdist

    # 2. A clean virtual environment (no system site-packages), outside the checkout.
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    constraints = tmp_path / "constraints.txt"
    constraints.write_text(dev_versions(), encoding="utf-8")
    run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--constraint", str(constraints), str(wheel)],
        cwd=tmp_path,
    )  # fmt: skip

    # 3. From a folder that is neither the checkout nor next to it.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = clean_env(venv)
    where = run([str(python), "-c", "import sim; print(sim.__file__)"], cwd=elsewhere, env=env)
    assert Path(where.strip()).is_relative_to(venv), f"sim imported from {where}"

    marketsim = str(venv / "bin" / "marketsim")
    listing = run([marketsim, "list"], cwd=elsewhere, env=env)
    bundled = sorted(p.stem for p in (ROOT / "sim" / "scenarios").glob("*.toml"))
    assert bundled, "the checkout has no bundled scenarios"
    for name in bundled:
        assert name in listing, f"`marketsim list` from the wheel does not show {name}"

    run(
        [marketsim, "run", "bass_docking", "--replications", "1", "--steps", "5",
         "--set", "market.n_customers=500", "--workers", "1", "--out", "out", "--quiet"],
        cwd=elsewhere,
        env=env,
    )  # fmt: skip
    out = elsewhere / "out"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert Path(manifest["scenario_file"]).is_relative_to(venv), "not the wheel's scenario"
    assert manifest["steps"] == 5 and manifest["runs_done"] == manifest["runs"] > 0
    with open(out / "summary.csv", newline="", encoding="utf-8") as f:
        policies = {row["policy"] for row in csv.DictReader(f)}
    assert policies == set(manifest["policies"]) and len(policies) == 2
    assert (out / "report.html").is_file()
