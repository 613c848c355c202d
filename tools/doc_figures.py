"""Numbers in the docs come from runs: rerun the commands the docs quote and paste their output.

README.md and docs/*.md mark each quoted output with a pair of HTML comments (invisible
on GitHub)::

    <!-- figures:flagship -->
    ```
    $ marketsim run retention_vs_acquisition
    retention_heavy ends the 3-year horizon with ...
    ```
    <!-- /figures -->

This script runs the block's command (:data:`BLOCKS`) into a temporary folder, and
rewrites everything between the markers with the command and what it printed (results
paths as the docs write them, the progress bar dropped), followed by one line naming the
commit whose model produced it. So a quoted number cannot go stale: rerun the script
after the model changes.

    python tools/doc_figures.py                 # every block
    python tools/doc_figures.py flagship        # only these blocks
    python tools/doc_figures.py --check         # markers well-formed, blocks parse (no runs)

``tests/unit/test_doc_figures.py`` checks that every marker is well-formed and names a
block, and that what :func:`render_block` writes :func:`parse_block` reads back; not the
numbers, which depend on the model.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))

OPEN = re.compile(r"<!-- figures:([a-z0-9_-]+) -->")
CLOSE = "<!-- /figures -->"
SOURCE = re.compile(
    r"^<sub>Output of `(?P<command>[^`]+)` at commit (?P<commit>[0-9a-f]{7,40}|\S+)"
)


@dataclass(frozen=True)
class Block:
    """A quoted command: its arguments after ``marketsim``, the folder it writes by
    default (the docs' path, put back in place of the temporary one), and whether the
    docs quote its messages (stderr) as well as its printed result (stdout)."""

    args: tuple[str, ...]
    folder: str
    messages: bool = True


BLOCKS: dict[str, Block] = {
    "flagship": Block(
        ("run", "retention_vs_acquisition"), "results/retention_vs_acquisition/", messages=False
    ),
    "robust-run": Block(("run", "robust_policy"), "results/robust_policy/"),
    "maturity": Block(("run", "market_maturity"), "results/market_maturity/"),
}
"""Every block a doc may mark, by name."""


class MarkerError(ValueError):
    """A marker without its partner, nested, or naming no block."""


@dataclass(frozen=True)
class Marked:
    """One marked block of a file: its name and the text between the markers."""

    name: str
    start: int
    end: int
    body: str


def find_blocks(text: str, where: str = "") -> list[Marked]:
    """The marked blocks of ``text`` (raises :class:`MarkerError` when malformed).

    >>> [m.name for m in find_blocks("a\\n<!-- figures:x -->\\nb\\n<!-- /figures -->\\n")]
    ['x']
    """
    out = []
    pos = 0
    while True:
        opening = OPEN.search(text, pos)
        closing = text.find(CLOSE, pos)
        if opening is None:
            if closing != -1:
                raise MarkerError(f"{where}: '{CLOSE}' without an opening marker")
            return out
        if closing == -1 or closing < opening.start():
            raise MarkerError(f"{where}: block '{opening.group(1)}' is not closed before")
        nested = OPEN.search(text, opening.end(), closing)
        if nested is not None:
            raise MarkerError(f"{where}: block '{nested.group(1)}' opens inside another")
        out.append(Marked(opening.group(1), opening.end(), closing, text[opening.end() : closing]))
        pos = closing + len(CLOSE)


def render_block(block: Block, lines: Sequence[str], commit: str) -> str:
    """The text between the markers: the command and its output in a code fence, then
    the line naming the commit. Starts and ends with a newline.

    >>> print(render_block(Block(("run", "x"), "results/x/"), ["a", "b"], "abc1234"), end="")
    <BLANKLINE>
    ```
    $ marketsim run x
    a
    b
    ```
    <sub>Output of `marketsim run x` at commit abc1234 (tools/doc_figures.py).</sub>
    """
    command = "marketsim " + " ".join(block.args)
    body = "\n".join(["```", f"$ {command}", *lines, "```"])
    return (
        f"\n{body}\n<sub>Output of `{command}` at commit {commit} (tools/doc_figures.py).</sub>\n"
    )


def parse_block(body: str) -> tuple[str, list[str], str]:
    """(command, output lines, commit) of a block's text, or a ValueError saying what is off.

    >>> parse_block(render_block(Block(("run", "x"), "r/"), ["a"], "abc1234"))
    ('marketsim run x', ['a'], 'abc1234')
    """
    lines = body.strip("\n").split("\n")
    if len(lines) < 4 or lines[0] != "```" or not lines[1].startswith("$ marketsim "):
        raise ValueError("expected a code fence opening with '$ marketsim ...'")
    try:
        fence = lines.index("```", 1)
    except ValueError:
        raise ValueError("the code fence is not closed") from None
    source = SOURCE.match(lines[fence + 1]) if fence + 1 < len(lines) else None
    if source is None:
        raise ValueError("expected the line naming the command and the commit after the fence")
    command = lines[1][2:]
    if source["command"] != command:
        raise ValueError(f"the source line names '{source['command']}', the fence '{command}'")
    return command, lines[2:fence], source["commit"]


def _commit() -> str:
    """The checkout's commit (with '+modified' when the model's files differ from it)."""
    run = lambda *a: subprocess.run(  # noqa: E731
        ["git", *a], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    revision = run("rev-parse", "--short=12", "HEAD") or "unknown"
    dirty = run("status", "--porcelain", "--", "sim/model", "sim/config/schema.py")
    return revision + ("+modified" if dirty else "")


def run_block(block: Block, workdir: Path, code: Path = ROOT) -> list[str]:
    """Run the block's command with the ``sim`` package of ``code``; its output as the
    docs show it."""
    out = workdir / block.folder.strip("/").replace("/", "_")
    cmd = [sys.executable, "-m", "sim", *block.args, "--out", str(out)]
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    env["PYTHONPATH"] = os.pathsep.join([str(code), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    text = (proc.stderr + proc.stdout) if block.messages else proc.stdout
    lines = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith(("simulating", "━")):
            continue  # the progress bar
        lines.append(line.replace(f"{out}/", block.folder).replace(str(out), block.folder))
    return lines


def rewrite(path: Path, rendered: dict[str, str]) -> bool:
    """Replace the marked blocks of ``path`` named in ``rendered``; whether it changed."""
    text = path.read_text(encoding="utf-8")
    pieces, pos = [], 0
    for m in find_blocks(text, str(path)):
        if m.name in rendered:
            pieces += [text[pos : m.start], rendered[m.name]]
            pos = m.end
    new = "".join(pieces) + text[pos:]
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def check(files: Iterable[Path] = DOCS) -> list[str]:
    """Problems of the marked blocks of ``files`` (unknown names, malformed markers or
    bodies); empty when all is well."""
    problems = []
    for path in files:
        try:
            blocks = find_blocks(path.read_text(encoding="utf-8"), str(path))
        except MarkerError as exc:
            problems.append(str(exc))
            continue
        for m in blocks:
            if m.name not in BLOCKS:
                problems.append(f"{path}: unknown block '{m.name}' (known: {', '.join(BLOCKS)})")
                continue
            try:
                command, _, _ = parse_block(m.body)
            except ValueError as exc:
                problems.append(f"{path}: block '{m.name}': {exc}")
                continue
            if command != "marketsim " + " ".join(BLOCKS[m.name].args):
                problems.append(f"{path}: block '{m.name}' quotes '{command}'")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help=f"blocks to rerun (default all: {list(BLOCKS)})")
    parser.add_argument("--check", action="store_true", help="check the markers, run nothing")
    parser.add_argument(
        "--code",
        type=Path,
        default=ROOT,
        help="run the sim package of this folder (e.g. `git archive COMMIT` unpacked, so the "
        "numbers come from a committed model), default: this checkout",
    )
    parser.add_argument("--commit", help="the commit --code holds (default: this checkout's)")
    parser.add_argument("--keep", type=Path, help="keep the results folders here")
    args = parser.parse_args(argv)
    if args.check:
        problems = check()
        print("\n".join(problems) or "doc figures: every marked block is well-formed")
        return 1 if problems else 0
    names = args.names or list(BLOCKS)
    unknown = [n for n in names if n not in BLOCKS]
    if unknown:
        parser.error(f"unknown blocks {unknown}; known: {list(BLOCKS)}")
    commit = args.commit or _commit()
    rendered = {}
    with tempfile.TemporaryDirectory(prefix="doc-figures-") as tmp:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            tmp = str(args.keep.resolve())
        for name in names:
            print(f"running {name}: marketsim {' '.join(BLOCKS[name].args)}", file=sys.stderr)
            lines = run_block(BLOCKS[name], Path(tmp), args.code.resolve())
            rendered[name] = render_block(BLOCKS[name], lines, commit)
    for path in DOCS:
        if rewrite(path, rendered):
            print(f"rewrote {path.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
