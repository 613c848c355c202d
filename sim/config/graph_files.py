"""The graph kinds a scenario may name, and the reading of users' graph files.

Why in ``config``: a scenario file is validated against the graph file it names (does it
exist, is it readable, does its node count match the market) before any model is built,
and the model builds its social graph from the same reader, so both read one way.

Why strict: a graph file is user input like the scenario. Only regular files are read
(a directory, a device, a FIFO or a symlink loop is refused by name), files above
:data:`MAX_GRAPH_FILE_BYTES` are refused before reading, graphs above
:data:`MAX_GRAPH_NODES` while reading, and every line of an edge list that is not an
edge is an error naming the file and the line (``skip_malformed=True`` skips them).

>>> edge_line("1 2 0.5")
('1', '2')
>>> edge_line("  # a comment") is None
True
>>> edge_line("root:x:0:0:root:/root:/bin/bash")
Traceback (most recent call last):
...
ValueError: expected two node labels separated by spaces (then numeric weights, if any), got 1 item
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from typing import Literal, get_args

import networkx as nx

from sim.common.errors import GraphFileError

__all__ = [
    "FILE_GRAPH_KINDS",
    "GENERATED_GRAPH_KINDS",
    "GRAPH_KINDS",
    "MAX_GRAPH_FILE_BYTES",
    "MAX_GRAPH_NODES",
    "GraphKind",
    "check_graph_path",
    "edge_line",
    "read_graph_file",
]

GraphKind = Literal[
    "watts_strogatz", "barabasi_albert", "erdos_renyi", "complete", "edge_list", "graphml"
]
"""The graph kinds, as the scenario schema types ``network.kind``."""

GRAPH_KINDS: tuple[str, ...] = get_args(GraphKind)
"""Every graph kind: generated families first, then the file formats."""

FILE_GRAPH_KINDS: tuple[str, ...] = ("edge_list", "graphml")
"""Kinds read from a user's file (``network.path``); the others are generated."""

GENERATED_GRAPH_KINDS: tuple[str, ...] = tuple(k for k in GRAPH_KINDS if k not in FILE_GRAPH_KINDS)
"""Kinds generated from ``mean_degree`` (and ``rewire_p``) with the model's random stream."""

MAX_GRAPH_FILE_BYTES = 1 << 30
"""Largest graph file read (1 GiB). A file graph is held by networkx while it is read,
about 0.5 KB per edge, so a 1 GiB edge list (some 80 million edges) already needs tens of
GB; generated kinds scale much further."""

MAX_GRAPH_NODES = 10_000_000
"""Most nodes a graph file may have (checked while reading): the networkx graph a file is
read into is the memory bound, not the model."""

_MAX_SHOWN = 5  # malformed lines quoted in one message

_READ_ERRORS = (OSError, ValueError, TypeError, KeyError, IndexError, SyntaxError, nx.NetworkXError)


def _what(kind: str) -> str:
    return {"edge_list": "edge list", "graphml": "GraphML"}.get(kind, kind)


def check_graph_path(path: str | os.PathLike[str], what: str = "graph") -> int:
    """The size in bytes of the graph file ``path``, after checking that it can be read:
    it exists, is a regular file (symlinks followed, a loop refused), and is at most
    :data:`MAX_GRAPH_FILE_BYTES`. Raises :class:`GraphFileError` naming the path."""
    path_str = os.fspath(path)
    try:
        info = os.stat(path_str)
    except FileNotFoundError:
        raise GraphFileError(f"{what} file not found: {path_str!r}") from None
    except OSError as exc:  # ELOOP (a symlink loop), EACCES on a parent, name too long...
        raise GraphFileError(
            f"cannot open {what} file {path_str!r}: {exc.strerror or exc}"
        ) from None
    except ValueError:  # a NUL character in the name
        raise GraphFileError(f"{what} path {path_str!r} holds a NUL character") from None
    mode = info.st_mode
    if not stat.S_ISREG(mode):
        sort = (
            "a directory"
            if stat.S_ISDIR(mode)
            else "a device"
            if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a FIFO (named pipe)"
            if stat.S_ISFIFO(mode)
            else "a socket"
            if stat.S_ISSOCK(mode)
            else "not a regular file"
        )
        raise GraphFileError(
            f"{what} path {path_str!r} is {sort}; expected a regular file holding the graph"
        )
    if info.st_size > MAX_GRAPH_FILE_BYTES:
        raise GraphFileError(
            f"{what} file {path_str!r} is {info.st_size:,} bytes; the largest graph file read "
            f"is {MAX_GRAPH_FILE_BYTES:,} bytes (1 GiB): a file graph is held in memory by "
            "networkx, about 0.5 KB per edge (use a generated kind for larger markets)"
        )
    return info.st_size


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def edge_line(line: str) -> tuple[str, str] | None:
    """The edge ``(u, v)`` a line of an edge list holds, None for a blank or comment line.

    An edge line is two node labels separated by whitespace, optionally followed by
    numeric weights or networkx's ``{...}`` edge data (both ignored); ``#`` starts a comment. Anything else raises ValueError
    saying what was expected.
    """
    cut = line.find("#")
    tokens = (line if cut < 0 else line[:cut]).split()
    if not tokens:
        return None
    if len(tokens) < 2:
        raise ValueError(
            "expected two node labels separated by spaces (then numeric weights, if any), "
            "got 1 item"
        )
    rest = " ".join(tokens[2:])
    if rest.startswith("{") and rest.endswith("}"):  # networkx's write_edgelist data
        return tokens[0], tokens[1]
    extra = [t for t in tokens[2:] if not _is_number(t)]
    if extra:
        raise ValueError(
            f"expected two node labels then numeric weights, got {len(tokens)} items "
            f"('{_short(extra[0])}' is not a number)"
        )
    return tokens[0], tokens[1]


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _read_edge_list(path: str, skip_malformed: bool) -> nx.Graph:
    """Parse an edge list line by line (one ``str.split`` per line; networkx's own reader
    silently drops malformed lines, which hid password files read as graphs)."""
    with open(path, "rb") as handle:
        data = handle.read(MAX_GRAPH_FILE_BYTES + 1)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        at = data[: exc.start].count(b"\n") + 1
        raise GraphFileError(
            f"edge list {path!r}:{at}: not UTF-8 text (byte {exc.start}); an edge list is a "
            "text file of 'u v' lines"
        ) from None
    if "\x00" in text:
        at = text[: text.index("\x00")].count("\n") + 1
        raise GraphFileError(
            f"edge list {path!r}:{at}: holds a NUL byte, so it is a binary file, not an edge "
            "list of 'u v' lines"
        )
    pairs: list[tuple[str, str]] = []
    nodes: set[str] = set()
    bad: list[str] = []
    n_bad = 0
    for number, line in enumerate(text.split("\n"), start=1):
        try:
            edge = edge_line(line)
        except ValueError as exc:
            n_bad += 1
            if len(bad) < _MAX_SHOWN:
                bad.append(f"  {path}:{number}: {exc}: {_short(line.strip())!r}")
            continue
        if edge is None:
            continue
        pairs.append(edge)
        nodes.update(edge)
        if len(nodes) > MAX_GRAPH_NODES:
            raise GraphFileError(
                f"edge list {path!r}:{number}: more than {MAX_GRAPH_NODES:,} nodes; the largest "
                "graph file read has that many (use a generated kind for larger markets)"
            )
    if n_bad and not skip_malformed:
        more = f"\n  ... and {n_bad - len(bad)} more" if n_bad > len(bad) else ""
        raise GraphFileError(
            f"edge list {path!r} has {n_bad} malformed line{'s' if n_bad != 1 else ''} "
            "(an edge line is 'u v', optionally followed by numeric weights; '#' starts a "
            "comment); fix them, or set network.skip_malformed = true to skip them:\n"
            + "\n".join(bad)
            + more
        )
    graph = nx.Graph()
    graph.add_edges_from(pairs)
    return graph


def _read_graphml(path: str, skip_malformed: bool) -> nx.Graph:
    graph = nx.read_graphml(path)
    if graph.number_of_nodes() > MAX_GRAPH_NODES:
        raise GraphFileError(
            f"GraphML file {path!r} has {graph.number_of_nodes():,} nodes; the largest graph "
            f"file read has {MAX_GRAPH_NODES:,}"
        )
    return graph


_READERS: dict[str, Callable[[str, bool], nx.Graph]] = {
    "edge_list": _read_edge_list,
    "graphml": _read_graphml,
}


def read_graph_file(
    kind: str, path: str | os.PathLike[str], skip_malformed: bool = False
) -> nx.Graph:
    """Read the graph file ``path`` of file kind ``kind`` (one of :data:`FILE_GRAPH_KINDS`).

    ``edge_list``: whitespace-separated ``u v`` per line, ``#`` comments and blank lines
    allowed, node labels read as strings, numeric extra columns such as weights ignored;
    any other line is an error naming the file and line unless ``skip_malformed``.
    ``graphml``: attributes ignored. Raises :class:`GraphFileError` naming the path if the
    file is missing, not a regular file, too large, unreadable or has no nodes.
    """
    if kind not in _READERS:
        raise ValueError(f"{kind!r} is not a file graph kind; expected one of {FILE_GRAPH_KINDS}")
    what = _what(kind)
    path_str = os.fspath(path)
    check_graph_path(path_str, what)
    try:
        graph = _READERS[kind](path_str, skip_malformed)
    except GraphFileError:
        raise
    except MemoryError:
        raise GraphFileError(f"{what} file {path_str!r} does not fit in memory") from None
    except _READ_ERRORS as exc:
        raise GraphFileError(f"could not read {what} file {path_str!r}: {exc}") from exc
    except Exception as exc:  # XML parser errors and the like: a bad file, never a traceback
        raise GraphFileError(
            f"could not read {what} file {path_str!r}: {type(exc).__name__}: {exc}"
        ) from exc
    if graph.number_of_nodes() == 0:
        raise GraphFileError(f"{what} file {path_str!r} contains no nodes")
    return graph
