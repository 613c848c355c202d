"""The graph kinds a scenario may name, and the reading of users' graph files.

Why in ``config``: a scenario file is validated against the graph file it names (does it
exist, is it readable, does its node count match the market) before any model is built,
and the model builds its social graph from the same reader, so both read one way.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Literal, get_args

import networkx as nx

from sim.common.errors import GraphFileError

__all__ = [
    "FILE_GRAPH_KINDS",
    "GENERATED_GRAPH_KINDS",
    "GRAPH_KINDS",
    "GraphKind",
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

_READ_ERRORS = (OSError, ValueError, TypeError, KeyError, IndexError, SyntaxError, nx.NetworkXError)

_READERS: dict[str, tuple[str, Callable[[str], nx.Graph]]] = {
    "edge_list": ("edge list", lambda p: nx.read_edgelist(p, nodetype=str, data=False)),
    "graphml": ("GraphML", nx.read_graphml),
}


def read_graph_file(kind: str, path: str | os.PathLike[str]) -> nx.Graph:
    """Read the graph file ``path`` of file kind ``kind`` (one of :data:`FILE_GRAPH_KINDS`).

    ``edge_list``: whitespace-separated ``u v`` per line, ``#`` comments, node labels read as
    strings, extra columns such as weights ignored. ``graphml``: attributes ignored.
    Raises :class:`GraphFileError` naming the path if the file is missing, not a regular
    file, unreadable or has no nodes.
    """
    if kind not in _READERS:
        raise ValueError(f"{kind!r} is not a file graph kind; expected one of {FILE_GRAPH_KINDS}")
    what, reader = _READERS[kind]
    path_str = os.fspath(path)
    if not os.path.exists(path_str):
        raise GraphFileError(f"{what} file not found: {path_str!r}")
    if not os.path.isfile(path_str):
        raise GraphFileError(f"{what} path is not a regular file: {path_str!r}")
    try:
        graph = reader(path_str)
    except _READ_ERRORS as exc:
        raise GraphFileError(f"could not read {what} file {path_str!r}: {exc}") from exc
    if graph.number_of_nodes() == 0:
        raise GraphFileError(f"{what} file {path_str!r} contains no nodes")
    return graph
