"""The social graph customers live on, stored as a CSR adjacency.

The simulation step never touches networkx objects: it works on the numpy CSR arrays of
:class:`SocialGraph` (``indptr``/``indices``), which are compact (about 12 bytes per undirected
edge) and allow fully vectorized neighbour sampling. networkx is used only to build small
graphs, to read user graph files and for interoperability (:meth:`SocialGraph.to_networkx`).
The builders of random graphs are in :mod:`sim.model.network.builders`.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import networkx as nx
import numpy as np
import scipy.sparse as sp

__all__ = ["MAX_NODES", "SocialGraph", "csr_from_pairs", "empty_graph"]

MAX_NODES = np.iinfo(np.int32).max  # indices are int32


@dataclass(frozen=True, eq=False)
class SocialGraph:
    """Undirected social graph as CSR adjacency.

    ``indptr`` (int64, length ``n + 1``) and ``indices`` (int32) store both directions of every
    edge, rows sorted, with no self-loops and no duplicate edges. The arrays are made read-only.
    When ``implicit_complete`` is true the graph is the complete graph K_n held implicitly (no
    stored edges: ``indptr`` is all zeros and ``indices`` empty) because K_n's CSR would need
    n(n-1) entries. ``labels`` optionally keeps the original node labels (node ``i`` was
    ``labels[i]``), e.g. for graphs read from a user's file; ``None`` means the labels are
    ``0..n-1``.
    """

    n: int
    indptr: np.ndarray
    indices: np.ndarray
    kind: str
    implicit_complete: bool = False
    labels: tuple[Hashable, ...] | None = None

    def __post_init__(self) -> None:
        n = int(self.n)
        if n < 0 or n > MAX_NODES:
            raise ValueError(f"n must be in [0, {MAX_NODES}], got {self.n}")
        indptr = np.array(self.indptr, dtype=np.int64, copy=None).reshape(-1)
        indices = np.array(self.indices, dtype=np.int32, copy=None).reshape(-1)
        if indptr.shape != (n + 1,):
            raise ValueError(f"indptr must have length n + 1 = {n + 1}, got {indptr.shape[0]}")
        if indptr[0] != 0 or indptr[-1] != indices.size:
            raise ValueError("indptr must start at 0 and end at len(indices)")
        if self.implicit_complete and indices.size:
            raise ValueError("an implicit complete graph stores no edges")
        if self.labels is not None and len(self.labels) != n:
            raise ValueError(f"labels must have length n = {n}, got {len(self.labels)}")
        # Read-only views: the graph cannot be edited through its arrays, and the caller's own
        # arrays are neither copied nor frozen.
        indptr, indices = indptr.view(), indices.view()
        indptr.flags.writeable = False
        indices.flags.writeable = False
        object.__setattr__(self, "n", n)
        object.__setattr__(self, "indptr", indptr)
        object.__setattr__(self, "indices", indices)

    # ------------------------------------------------------------------ queries
    def degree(self) -> np.ndarray:
        """Degree of every node (int64, length ``n``); ``n - 1`` everywhere for K_n."""
        if self.implicit_complete:
            return np.full(self.n, max(self.n - 1, 0), dtype=np.int64)
        return np.diff(self.indptr)

    @property
    def mean_degree(self) -> float:
        """Average degree 2|E|/n (0 for the empty graph)."""
        if self.n == 0:
            return 0.0
        if self.implicit_complete:
            return float(self.n - 1)
        return self.indices.size / self.n

    @property
    def num_edges(self) -> int:
        """Number of undirected edges."""
        if self.implicit_complete:
            return self.n * (self.n - 1) // 2
        return self.indices.size // 2

    def neighbors(self, i: int) -> np.ndarray:
        """Sorted neighbours of node ``i`` (int32 array)."""
        i = int(i)
        if not 0 <= i < self.n:
            raise IndexError(f"node {i} out of range for a graph of {self.n} nodes")
        if self.implicit_complete:
            others = np.arange(self.n, dtype=np.int32)
            return np.delete(others, i)
        return self.indices[self.indptr[i] : self.indptr[i + 1]]

    def sample_neighbors(self, nodes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One neighbour drawn uniformly, with replacement, for each entry of ``nodes``.

        Word of mouth picks a random contact per message, so this is the simulation's hot path;
        it is fully vectorized (two gathers and one draw per entry). ``nodes`` may repeat and
        have any shape; entries are not range-checked. Returns an int32 array of the same
        shape, ``-1`` where the node has no neighbour. For an implicit complete graph the draw
        is a uniform node other than the node itself.
        """
        nodes = np.asarray(nodes)
        if self.implicit_complete:
            if self.n <= 1:
                return np.full(nodes.shape, -1, dtype=np.int32)
            draw = rng.integers(0, self.n - 1, size=nodes.shape, dtype=np.int32)
            draw += draw >= nodes  # skip the node itself: uniform over the other n - 1
            return draw
        if self.indices.size == 0:
            return np.full(nodes.shape, -1, dtype=np.int32)
        start = self.indptr[nodes]
        deg = self.indptr[nodes + 1] - start
        pos = start + rng.integers(0, np.maximum(deg, 1))  # exact uniform in [0, deg)
        np.minimum(pos, self.indices.size - 1, out=pos)  # isolated trailing nodes: masked below
        picked = self.indices[pos]
        return np.where(deg > 0, picked, np.int32(-1))

    # ----------------------------------------------------------------- checking
    def validate(self) -> None:
        """Check the CSR invariants (O(E log E)); raise ``ValueError`` on the first violation.

        Cheap enough for tests and for graphs read from files, too slow for every step.
        """
        if self.implicit_complete:
            return
        n, indptr, indices = self.n, self.indptr, self.indices
        deg = np.diff(indptr)
        if np.any(deg < 0):
            raise ValueError("indptr is not non-decreasing")
        if indices.size and (indices.min() < 0 or indices.max() >= n):
            raise ValueError("indices out of range [0, n)")
        rows = np.repeat(np.arange(n, dtype=np.int64), deg)
        if np.any(rows == indices):
            raise ValueError("graph has self-loops")
        same_row = rows[1:] == rows[:-1]
        if np.any(same_row & (indices[1:] <= indices[:-1])):
            raise ValueError("rows are not strictly increasing (unsorted or duplicate edges)")
        fwd = np.sort(rows * n + indices)
        bwd = np.sort(indices.astype(np.int64) * n + rows)
        if not np.array_equal(fwd, bwd):
            raise ValueError("adjacency is not symmetric")

    # ---------------------------------------------------------- interoperability
    def to_networkx(self) -> nx.Graph:
        """The graph as ``nx.Graph`` with nodes ``0..n-1`` (slow for millions of edges)."""
        if self.implicit_complete:
            return nx.complete_graph(self.n)
        graph = nx.Graph()
        graph.add_nodes_from(range(self.n))
        rows = np.repeat(np.arange(self.n, dtype=np.int64), np.diff(self.indptr))
        upper = rows < self.indices
        graph.add_edges_from(zip(rows[upper].tolist(), self.indices[upper].tolist(), strict=True))
        return graph

    @classmethod
    def from_networkx(cls, graph: nx.Graph, kind: str = "networkx") -> SocialGraph:
        """Convert a networkx graph, relabelling its nodes to ``0..n-1``.

        Nodes are numbered in sorted order of their labels (integer-like strings sorted
        numerically, so an edge list's "2" comes before "10"), or in insertion order if the
        labels cannot be compared. Directed graphs are symmetrized, self-loops and parallel
        edges dropped, attributes ignored. Original labels are kept in ``labels`` unless they
        already are ``0..n-1``.
        """
        if graph.is_directed():
            graph = graph.to_undirected(as_view=True)
        order = _node_order(list(graph.nodes))
        n = len(order)
        if n == 0:
            return empty_graph(0, kind)
        adj = nx.to_scipy_sparse_array(graph, nodelist=order, weight=None, format="coo")
        labels = None if order == list(range(n)) else tuple(order)
        return csr_from_pairs(n, adj.row, adj.col, kind, labels=labels)


# ---------------------------------------------------------------------- helpers
def _node_order(nodes: list[Hashable]) -> list[Hashable]:
    """Deterministic node numbering: natural sorted order, else insertion order."""
    if nodes and all(isinstance(x, str) for x in nodes):
        try:
            return sorted(nodes, key=lambda s: (int(str(s)), str(s)))
        except ValueError:
            pass
    try:
        return sorted(cast(list[Any], nodes))
    except TypeError:
        return nodes


def empty_graph(n: int, kind: str) -> SocialGraph:
    """A graph of `n` nodes and no edges."""
    return SocialGraph(n, np.zeros(n + 1, np.int64), np.zeros(0, np.int32), kind)


def csr_from_pairs(
    n: int,
    u: np.ndarray,
    v: np.ndarray,
    kind: str,
    labels: Sequence[Hashable] | None = None,
) -> SocialGraph:
    """Symmetric CSR from undirected pairs, dropping self-loops and duplicate edges.

    scipy's COO->CSR conversion is a linear-time counting sort and ``sum_duplicates`` merges
    repeated pairs in C++; this beats sorting 64-bit keys in numpy (and ``np.unique``, which is
    hash-based and slow for int64 in numpy 2.x) by several times at a million nodes.
    """
    u = np.asarray(u)
    v = np.asarray(v)
    keep = u != v
    if not keep.all():
        u, v = u[keep], v[keep]
    rows = np.concatenate([u, v]).astype(np.int32, copy=False)  # n <= MAX_NODES
    cols = np.concatenate([v, u]).astype(np.int32, copy=False)
    data = np.ones(rows.size, dtype=np.bool_)  # bool: duplicates OR together, never overflow
    adj = sp.coo_array((data, (rows, cols)), shape=(n, n)).tocsr()
    del rows, cols, data
    adj.sum_duplicates()  # also sorts the column indices of every row
    return SocialGraph(
        n,
        adj.indptr.astype(np.int64),
        adj.indices.astype(np.int32, copy=False),
        kind,
        labels=None if labels is None else tuple(labels),
    )
