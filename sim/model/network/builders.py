"""Builders of social graphs: random-graph families, complete graphs and graph files.

Builders that draw random numbers take a ``numpy.random.Generator`` and draw only from it, so a
simulation seeded once is reproducible end to end. For large ``n`` the Watts-Strogatz,
Erdős-Rényi and Barabási-Albert builders switch to pure-numpy implementations of the same
random-graph families (networkx's Python loops take minutes at a million nodes).
"""

from __future__ import annotations

import math
import os
import warnings

import networkx as nx
import numpy as np

from sim.config.graph_files import FILE_GRAPH_KINDS, GRAPH_KINDS, read_graph_file
from sim.model.network.graph import MAX_NODES, SocialGraph, csr_from_pairs, empty_graph

__all__ = [
    "FAST_THRESHOLD",
    "build_graph",
    "create_barabasi_albert",
    "create_complete",
    "create_erdos_renyi",
    "create_watts_strogatz",
    "read_edge_list",
    "read_graphml",
]

#: With ``fast=None`` the builders use their numpy implementation above this many nodes.
FAST_THRESHOLD = 20_000


# ---------------------------------------------------------------------- helpers
def _check_n(n: int) -> int:
    n = _as_int(n, "n")
    if n < 0 or n > MAX_NODES:
        raise ValueError(f"n must be in [0, {MAX_NODES}], got {n}")
    return n


def _as_int(value: object, name: str) -> int:
    """``value`` as int; integral floats (10.0, common in JSON/YAML configs) are accepted."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    return int(value)


def _use_fast(fast: bool | None, n: int) -> bool:
    return n > FAST_THRESHOLD if fast is None else bool(fast)


# --------------------------------------------------------------------- builders
def create_watts_strogatz(
    n: int, k: int, p: float, rng: np.random.Generator, *, fast: bool | None = None
) -> SocialGraph:
    """Small-world graph of Watts & Strogatz (1998, Nature 393:440).

    A ring lattice where every node links to its ``k/2`` nearest neighbours on each side
    (``k`` = mean degree, even), then the far end of each lattice edge is rewired with
    probability ``p`` to a uniform random node (never the node itself). High clustering with
    short paths is the classic setting for word of mouth. ``fast=None`` uses the numpy builder
    when ``n > FAST_THRESHOLD`` and ``nx.watts_strogatz_graph`` otherwise; the numpy builder
    rewires all edges at once and drops the few edges that land on an existing one (networkx
    redraws them instead), a relative edge deficit of about ``p * k / n``.

    ``k >= n`` is clamped, with a warning, to the largest even ``k <= n - 1`` (for ``n - 1``
    even that is the complete graph).
    """
    n = _check_n(n)
    k = _as_int(k, "k")
    p = float(p)
    if k < 0 or k % 2:
        raise ValueError(f"k (mean degree) must be a non-negative even integer, got {k}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"rewiring probability p must be in [0, 1], got {p}")
    if k >= n and n > 0:
        clamped = (n - 1) - (n - 1) % 2
        if k > 0:
            warnings.warn(
                f"watts_strogatz: k={k} >= n={n}; using k={clamped}", RuntimeWarning, stacklevel=2
            )
        k = clamped
    if n <= 1 or k == 0:
        return empty_graph(n, "watts_strogatz")
    if not _use_fast(fast, n):
        graph = nx.watts_strogatz_graph(n, k, p, seed=rng)
        return SocialGraph.from_networkx(graph, kind="watts_strogatz")

    half = k // 2
    dtype = np.int32 if n + half <= MAX_NODES else np.int64  # u + half must not overflow
    u: np.ndarray = np.repeat(np.arange(n, dtype=dtype), half)
    v: np.ndarray = u + np.tile(np.arange(1, half + 1, dtype=dtype), n)
    v[v >= n] -= n
    if p > 0.0:
        rewire = np.flatnonzero(rng.random(u.size) < p)
        w: np.ndarray = rng.integers(0, n - 1, size=rewire.size, dtype=dtype)
        w += w >= u[rewire]  # uniform over the n - 1 nodes other than u
        v[rewire] = w
    return csr_from_pairs(n, u, v, "watts_strogatz")


def create_erdos_renyi(
    n: int, mean_degree: float, rng: np.random.Generator, *, fast: bool | None = None
) -> SocialGraph:
    """Erdős-Rényi / Gilbert random graph G(n, p) with ``p = mean_degree / (n - 1)``.

    The null model with no social structure (Erdős & Rényi 1959; Gilbert 1959). ``fast=None``
    uses numpy when ``n > FAST_THRESHOLD`` and ``nx.fast_gnp_random_graph`` otherwise. The
    numpy builder is exact: it draws the edge count M ~ Binomial(n(n-1)/2, p), then a uniform
    set of M distinct pairs by rejection of repeats. ``mean_degree > n - 1`` is clamped to
    ``p = 1`` with a warning.
    """
    n = _check_n(n)
    mean_degree = float(mean_degree)
    if not mean_degree >= 0.0:
        raise ValueError(f"mean_degree must be >= 0, got {mean_degree}")
    if n <= 1:
        return empty_graph(n, "erdos_renyi")
    p = mean_degree / (n - 1)
    if p > 1.0:
        warnings.warn(
            f"erdos_renyi: mean_degree={mean_degree} > n-1={n - 1}; using p=1",
            RuntimeWarning,
            stacklevel=2,
        )
        p = 1.0
    if not _use_fast(fast, n):
        graph = nx.fast_gnp_random_graph(n, p, seed=rng)
        return SocialGraph.from_networkx(graph, kind="erdos_renyi")

    n_pairs = n * (n - 1) // 2
    m = int(rng.binomial(n_pairs, p))
    keys = np.zeros(0, dtype=np.int64)  # canonical key a*n + b with a < b
    while keys.size < m:
        missing = m - keys.size
        accept = 1.0 - keys.size / n_pairs  # chance a fresh draw is a new pair
        size = math.ceil(missing / accept * 1.05) + 16
        a = rng.integers(0, n, size=size, dtype=np.int64)
        b = rng.integers(0, n - 1, size=size, dtype=np.int64)
        b += b >= a
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        keys = np.sort(np.concatenate([keys, lo * n + hi]))
        keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]
    if keys.size > m:  # a uniform M-subset of a uniform random set of pairs is uniform
        keys = np.sort(rng.choice(keys, size=m, replace=False))
    return csr_from_pairs(n, keys // n, keys % n, "erdos_renyi")


def create_barabasi_albert(
    n: int, m: int, rng: np.random.Generator, *, fast: bool | None = None
) -> SocialGraph:
    """Preferential-attachment graph of Barabási & Albert (1999, Science 286:509).

    Each new node links to ``m`` distinct existing nodes chosen proportionally to degree,
    giving hubs and a power-law degree tail (mean degree about ``2m``). Matches
    ``nx.barabasi_albert_graph`` (star of ``m + 1`` nodes as seed graph), used when
    ``n <= FAST_THRESHOLD`` or ``fast=False``. The numpy builder follows Batagelj & Brandes
    (2005, Phys. Rev. E 71:036113): a target is a uniform entry of the list of edge endpoints,
    resolved for all nodes at once by pointer jumping; repeated targets of one node are
    redrawn, as in networkx. ``m >= n`` is clamped to ``n - 1`` (a star) with a warning.
    """
    n = _check_n(n)
    m = _as_int(m, "m")
    if m < 1:
        raise ValueError(f"m (edges per new node) must be >= 1, got {m}")
    if n <= 1:
        return empty_graph(n, "barabasi_albert")
    if m >= n:
        warnings.warn(
            f"barabasi_albert: m={m} >= n={n}; using m={n - 1}", RuntimeWarning, stacklevel=2
        )
        m = n - 1
    if not _use_fast(fast, n):
        graph = nx.barabasi_albert_graph(n, m, seed=rng)
        return SocialGraph.from_networkx(graph, kind="barabasi_albert")
    src, dst = _barabasi_albert_pairs(n, m, rng)
    return csr_from_pairs(n, src, dst, "barabasi_albert")


def _barabasi_albert_pairs(
    n: int, m: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Edge list of the vectorized Barabási-Albert process.

    The endpoint list starts as the star's ``m`` copies of node 0 then nodes ``1..m``; new
    node ``s`` appends its ``m`` targets then ``m`` copies of itself. Row ``b`` (node
    ``s = m + 1 + b``) draws uniform positions in the first ``2m(b + 1)`` entries. A position
    in a "copies" slot is a node id; a position in a "targets" slot points to an earlier draw,
    resolved by pointer doubling (chains are short: half of all positions are copies).

    networkx draws until it has ``m`` distinct targets; here a draw repeating an earlier one
    of its row is redrawn. A row may only redraw once every draw its chains pass through is
    final (no chain enters a row that still holds repeats): deciding on values that are about
    to change would bias the hubs' degrees.
    """
    rows = n - m - 1
    two_m = 2 * m
    n_draws = rows * m
    idx = np.int32 if n_draws < MAX_NODES else np.int64
    limit = two_m * np.arange(1, rows + 1, dtype=np.int64)

    def decode(pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(node or -1, pointer to an earlier draw or -1) for endpoint-list positions."""
        t = pos - two_m
        blk, off = np.divmod(t, two_m)
        later = t >= 0
        is_ptr = later & (off < m)
        node = np.where(later, m + 1 + blk, np.where(pos < m, 0, pos - m + 1))
        node[is_ptr] = -1
        ptr = np.where(is_ptr, blk * m + off, -1)
        return node.astype(np.int32), ptr.astype(idx)

    def resolve() -> np.ndarray:
        """Node id of every draw, following pointers by pointer doubling."""
        val, ptr = node0.copy(), ptr0.copy()
        todo = np.flatnonzero(val < 0)
        while todo.size:
            target = ptr[todo]
            tval = val[target]
            done = tval >= 0
            val[todo[done]] = tval[done]
            todo, target = todo[~done], target[~done]
            ptr[todo] = ptr[target]  # jump: each round halves the remaining chain
        return val

    def repeats(val: np.ndarray, row_ids: np.ndarray) -> np.ndarray:
        """(len(row_ids), m) mask of draws equal to an earlier draw of the same row."""
        block = val.reshape(rows, m)[row_ids]
        dup = np.zeros(block.shape, dtype=np.bool_)
        for j in range(1, m):
            dup[:, j] = (block[:, :j] == block[:, j : j + 1]).any(axis=1)
        return dup

    node0, ptr0 = decode(rng.integers(0, limit[:, None], size=(rows, m)).reshape(-1))
    del limit
    val = resolve()
    check = np.arange(rows)  # rows whose values may have changed
    unsettled = np.zeros(rows, dtype=np.bool_)
    while True:
        dup = repeats(val, check)
        has_dup = dup.any(axis=1)
        bad_rows = check[has_dup]
        if bad_rows.size == 0:
            break
        dup = dup[has_dup]
        unsettled[bad_rows] = True
        # Walk the chains of the few unsettled rows: wait if one enters an unsettled row.
        cur = ptr0.reshape(rows, m)[bad_rows].reshape(-1)
        owner = np.repeat(np.arange(bad_rows.size), m)
        waiting = np.zeros(bad_rows.size, dtype=np.bool_)
        while cur.size:
            live = cur >= 0
            cur, owner = cur[live], owner[live]
            waiting[owner[unsettled[cur // m]]] = True
            cur = ptr0[cur]
        unsettled[bad_rows] = False
        dup[waiting] = False
        sel_rows, slots = np.nonzero(dup)
        ready_rows = bad_rows[sel_rows]
        flat = ready_rows * m + slots
        node0[flat], ptr0[flat] = decode(rng.integers(0, two_m * (ready_rows + 1)))
        new_val = resolve()
        changed = np.flatnonzero(new_val != val) // m
        check = np.unique(np.concatenate([changed, bad_rows]))  # a redraw may repeat again
        val = new_val

    star_dst = np.arange(1, m + 1, dtype=np.int32)
    src = np.concatenate([np.zeros(m, np.int32), np.repeat(np.arange(m + 1, n, dtype=np.int32), m)])
    dst = np.concatenate([star_dst, val])
    return src, dst


def create_complete(n: int) -> SocialGraph:
    """Complete graph K_n, held implicitly (no stored edges).

    The well-mixed baseline where everyone talks to everyone; storing its n(n-1) directed
    entries is pointless, so neighbour sampling draws a uniform other node directly.
    """
    n = _check_n(n)
    return SocialGraph(
        n, np.zeros(n + 1, np.int64), np.zeros(0, np.int32), "complete", implicit_complete=True
    )


# ------------------------------------------------------------------ file readers
def read_edge_list(path: str | os.PathLike[str], skip_malformed: bool = False) -> SocialGraph:
    """Read a whitespace-separated edge list (``u v`` per line, ``#`` comments).

    Node labels are read as strings and relabelled to ``0..n-1`` (see
    :meth:`SocialGraph.from_networkx`); extra columns such as weights are ignored. Raises
    :class:`GraphFileError` naming the path if the file is missing, unreadable or empty,
    or naming each malformed line (skipped instead with ``skip_malformed``).
    """
    graph = read_graph_file("edge_list", path, skip_malformed=skip_malformed)
    return SocialGraph.from_networkx(graph, kind="edge_list")


def read_graphml(path: str | os.PathLike[str]) -> SocialGraph:
    """Read a GraphML file (directed graphs are symmetrized, attributes ignored).

    Raises :class:`GraphFileError` naming the path if the file is missing, unreadable or has
    no nodes.
    """
    return SocialGraph.from_networkx(read_graph_file("graphml", path), kind="graphml")


# --------------------------------------------------------------------- dispatch
def build_graph(
    kind: str,
    n: int | None,
    rng: np.random.Generator | None = None,
    *,
    mean_degree: int = 10,
    rewire_p: float = 0.1,
    path: str | os.PathLike[str] | None = None,
    fast: bool | None = None,
    skip_malformed: bool = False,
) -> SocialGraph:
    """Build the social graph named by ``kind`` (one of :data:`GRAPH_KINDS`).

    The single entry point for configuration files. ``mean_degree`` is ``k`` for
    ``watts_strogatz`` (must be even), ``2m`` for ``barabasi_albert`` (``m = mean_degree // 2``)
    and the expected degree for ``erdos_renyi``; ``complete`` ignores it. ``rng`` is required
    for the random kinds. For the file kinds ``edge_list``/``graphml``, ``path`` is required
    and the node count comes from the file: pass ``n=None`` (or 0) to accept it, or a positive
    ``n`` to assert it (a mismatch raises ``ValueError``); ``skip_malformed`` (the
    scenario's ``network.skip_malformed``) skips an edge list's lines that are not edges.
    """
    if kind not in GRAPH_KINDS:
        raise ValueError(f"unknown graph kind {kind!r}; valid kinds: {', '.join(GRAPH_KINDS)}")
    if kind in FILE_GRAPH_KINDS:
        if path is None:
            raise ValueError(f"graph kind {kind!r} needs a path")
        graph = read_edge_list(path, skip_malformed) if kind == "edge_list" else read_graphml(path)
        if n is not None and n != 0 and _as_int(n, "n") != graph.n:
            raise ValueError(
                f"n={n} does not match the {graph.n} nodes in {os.fspath(path)!r}; "
                "pass n=None to take n from the file"
            )
        return graph
    if n is None:
        raise ValueError(f"graph kind {kind!r} needs n")
    if kind == "complete":
        return create_complete(n)
    if rng is None:
        raise ValueError(f"graph kind {kind!r} needs an rng (numpy.random.Generator)")
    if kind == "watts_strogatz":
        return create_watts_strogatz(n, mean_degree, rewire_p, rng, fast=fast)
    if kind == "erdos_renyi":
        return create_erdos_renyi(n, mean_degree, rng, fast=fast)
    return create_barabasi_albert(n, _as_int(mean_degree, "mean_degree") // 2, rng, fast=fast)
