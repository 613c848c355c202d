"""Tests for the social graph module (``sim.model.network``)."""

from __future__ import annotations

import random
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

from sim.model.network import (
    FAST_THRESHOLD,
    GRAPH_KINDS,
    GraphFileError,
    SocialGraph,
    build_graph,
    create_barabasi_albert,
    create_complete,
    create_erdos_renyi,
    create_watts_strogatz,
    read_edge_list,
    read_graphml,
)

Builder = Callable[[int, np.random.Generator], SocialGraph]

# Every random builder, in both implementations, as f(n, rng).
RANDOM_BUILDERS: dict[str, Builder] = {
    "ws_nx": lambda n, rng: create_watts_strogatz(n, 6, 0.2, rng, fast=False),
    "ws_fast": lambda n, rng: create_watts_strogatz(n, 6, 0.2, rng, fast=True),
    "ws_fast_p1": lambda n, rng: create_watts_strogatz(n, 6, 1.0, rng, fast=True),
    "er_nx": lambda n, rng: create_erdos_renyi(n, 4.0, rng, fast=False),
    "er_fast": lambda n, rng: create_erdos_renyi(n, 4.0, rng, fast=True),
    "ba_nx": lambda n, rng: create_barabasi_albert(n, 3, rng, fast=False),
    "ba_fast": lambda n, rng: create_barabasi_albert(n, 3, rng, fast=True),
}


def assert_csr_invariants(g: SocialGraph) -> None:
    """Independent check of the CSR contract (does not rely on ``SocialGraph.validate``)."""
    n = g.n
    assert g.indptr.dtype == np.int64
    assert g.indices.dtype == np.int32
    assert g.indptr.shape == (n + 1,)
    assert g.indptr[0] == 0
    assert g.indptr[-1] == g.indices.size
    deg = np.diff(g.indptr)
    assert np.all(deg >= 0), "indptr must be non-decreasing"
    np.testing.assert_array_equal(g.degree(), deg)
    if g.indices.size:
        assert g.indices.min() >= 0
        assert g.indices.max() < n
    rows = np.repeat(np.arange(n), deg)
    assert not np.any(rows == g.indices), "self-loop"
    same_row = rows[1:] == rows[:-1]
    assert np.all(g.indices[1:][same_row] > g.indices[:-1][same_row]), "unsorted or duplicate"
    adj = sp.csr_array((np.ones(g.indices.size), g.indices, g.indptr), shape=(n, n))
    assert (adj - adj.T).count_nonzero() == 0, "not symmetric"
    assert g.indices.size % 2 == 0
    g.validate()


def edge_set(g: SocialGraph) -> set[tuple[int, int]]:
    rows = np.repeat(np.arange(g.n), np.diff(g.indptr))
    return {(int(a), int(b)) for a, b in zip(rows, g.indices, strict=True) if a < b}


# ----------------------------------------------------------------- CSR contract
@pytest.mark.parametrize("name", sorted(RANDOM_BUILDERS))
@pytest.mark.parametrize("n", [300, 8])
def test_csr_invariants_random_builders(name: str, n: int) -> None:
    g = RANDOM_BUILDERS[name](n, np.random.default_rng(1))
    assert_csr_invariants(g)
    assert g.n == n


def test_csr_invariants_fast_watts_strogatz_many_duplicates() -> None:
    # Small dense ring with p = 1: rewired edges often collide and must be merged.
    g = create_watts_strogatz(30, 20, 1.0, np.random.default_rng(3), fast=True)
    assert_csr_invariants(g)
    assert g.mean_degree <= 20


@pytest.mark.parametrize("n", [0, 1, 2, 7])
def test_complete_graph(n: int) -> None:
    g = create_complete(n)
    assert g.implicit_complete
    assert g.indices.size == 0
    np.testing.assert_array_equal(g.indptr, np.zeros(n + 1))
    np.testing.assert_array_equal(g.degree(), np.full(n, max(n - 1, 0)))
    assert g.mean_degree == (n - 1 if n else 0.0)
    assert g.num_edges == n * (n - 1) // 2
    if n:
        np.testing.assert_array_equal(g.neighbors(0), np.arange(1, n))
    assert nx.utils.graphs_equal(g.to_networkx(), nx.complete_graph(n))


def test_arrays_are_read_only_and_graph_frozen() -> None:
    g = create_watts_strogatz(50, 4, 0.1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="read-only"):
        g.indices[0] = 3
    with pytest.raises(AttributeError):
        g.n = 3  # type: ignore[misc]


def test_validate_rejects_broken_adjacency() -> None:
    # 0-1 stored one way only.
    with pytest.raises(ValueError, match="symmetric"):
        SocialGraph(2, np.array([0, 1, 1]), np.array([1]), "test").validate()
    with pytest.raises(ValueError, match="self-loops"):
        SocialGraph(2, np.array([0, 1, 1]), np.array([0]), "test").validate()
    with pytest.raises(ValueError, match="duplicate"):
        SocialGraph(2, np.array([0, 2, 4]), np.array([1, 1, 0, 0]), "test").validate()
    with pytest.raises(ValueError, match="length n"):
        SocialGraph(3, np.array([0, 0]), np.array([], dtype=np.int32), "test")


# ------------------------------------------------------------------ determinism
@pytest.mark.parametrize("name", sorted(RANDOM_BUILDERS))
def test_same_seed_same_graph_different_seed_different_graph(name: str) -> None:
    build = RANDOM_BUILDERS[name]
    a = build(400, np.random.default_rng(42))
    b = build(400, np.random.default_rng(42))
    c = build(400, np.random.default_rng(43))
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    assert a.indices.size != c.indices.size or not np.array_equal(a.indices, c.indices)


@pytest.mark.parametrize("name", sorted(RANDOM_BUILDERS))
def test_builders_draw_only_from_given_rng(name: str) -> None:
    py_state = random.getstate()
    np_state = np.random.get_state()  # noqa: NPY002 - checking the legacy global is untouched
    RANDOM_BUILDERS[name](200, np.random.default_rng(0))
    assert random.getstate() == py_state
    after = np.random.get_state()  # noqa: NPY002
    assert np.array_equal(after[1], np_state[1]) and after[2:] == np_state[2:]


def test_fast_none_picks_networkx_below_threshold() -> None:
    n = 500
    assert n <= FAST_THRESHOLD
    auto = create_watts_strogatz(n, 6, 0.2, np.random.default_rng(5))
    slow = create_watts_strogatz(n, 6, 0.2, np.random.default_rng(5), fast=False)
    np.testing.assert_array_equal(auto.indices, slow.indices)


# ------------------------------------------------------------- Watts-Strogatz
def test_fast_watts_strogatz_matches_networkx_degree_and_clustering() -> None:
    # Same family, so mean degree and average clustering agree within 2% at n = 10k.
    n, k, p = 10_000, 10, 0.1
    fast_deg, fast_clu, nx_deg, nx_clu = [], [], [], []
    for seed in (11, 12):
        g = create_watts_strogatz(n, k, p, np.random.default_rng(seed), fast=True)
        fast_deg.append(g.mean_degree)
        fast_clu.append(nx.average_clustering(g.to_networkx()))
        ref = nx.watts_strogatz_graph(n, k, p, seed=np.random.default_rng(seed))
        nx_deg.append(2 * ref.number_of_edges() / n)
        nx_clu.append(nx.average_clustering(ref))
    assert np.mean(fast_deg) == pytest.approx(np.mean(nx_deg), rel=0.02)
    assert np.mean(fast_clu) == pytest.approx(np.mean(nx_clu), rel=0.02)
    # And both sit near the Barrat-Weigt (2000) estimate C(0) (1 - p)^3.
    c0 = 3 * (k - 2) / (4 * (k - 1))
    assert np.mean(fast_clu) == pytest.approx(c0 * (1 - p) ** 3, rel=0.03)


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("k", [4, 10])
def test_watts_strogatz_p0_is_ring_lattice(fast: bool, k: int) -> None:
    g = create_watts_strogatz(200, k, 0.0, np.random.default_rng(0), fast=fast)
    np.testing.assert_array_equal(g.degree(), np.full(200, k))
    expected = {(i, (i + j) % 200) for i in range(200) for j in range(1, k // 2 + 1)}
    assert edge_set(g) == {(min(a, b), max(a, b)) for a, b in expected}
    clustering = nx.average_clustering(g.to_networkx())
    assert clustering == pytest.approx(3 * (k - 2) / (4 * (k - 1)), abs=1e-12)


def test_watts_strogatz_p1_destroys_clustering() -> None:
    n, k = 5_000, 10
    g = create_watts_strogatz(n, k, 1.0, np.random.default_rng(0), fast=True)
    assert_csr_invariants(g)
    assert g.mean_degree == pytest.approx(k, rel=0.01)
    assert nx.average_clustering(g.to_networkx()) < 0.01  # random-graph level, about k/n


def test_watts_strogatz_argument_checks() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="even"):
        create_watts_strogatz(100, 5, 0.1, rng)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        create_watts_strogatz(100, 4, 1.5, rng)
    with pytest.raises(TypeError):
        create_watts_strogatz(100.5, 4, 0.1, rng)  # type: ignore[arg-type]
    # Integral floats (as JSON/YAML configs produce them) are accepted.
    assert create_watts_strogatz(100.0, 4.0, 0.1, rng).n == 100  # type: ignore[arg-type]


@pytest.mark.parametrize("fast", [True, False])
def test_watts_strogatz_k_at_least_n_is_clamped(fast: bool) -> None:
    with pytest.warns(RuntimeWarning, match="k=10"):
        g = create_watts_strogatz(5, 10, 0.0, np.random.default_rng(0), fast=fast)
    np.testing.assert_array_equal(g.degree(), np.full(5, 4))  # K_5
    with pytest.warns(RuntimeWarning):
        g = create_watts_strogatz(5, 10, 0.5, np.random.default_rng(0), fast=fast)
    assert_csr_invariants(g)
    assert g.degree().max() <= 4
    with pytest.warns(RuntimeWarning):
        g = create_watts_strogatz(6, 10, 0.0, np.random.default_rng(0), fast=fast)
    np.testing.assert_array_equal(g.degree(), np.full(6, 4))


# ---------------------------------------------------------------- Erdős-Rényi
def test_fast_erdos_renyi_matches_gnp() -> None:
    n, mean_degree = 10_000, 8.0
    fast = [create_erdos_renyi(n, mean_degree, np.random.default_rng(s), fast=True) for s in (1, 2)]
    slow = [
        create_erdos_renyi(n, mean_degree, np.random.default_rng(s), fast=False) for s in (1, 2)
    ]
    fast_mean = np.mean([g.mean_degree for g in fast])
    assert fast_mean == pytest.approx(np.mean([g.mean_degree for g in slow]), rel=0.02)
    # G(n, p) degrees are Binomial(n - 1, p): variance ~ mean (1 - p).
    fast_var = np.mean([g.degree().var() for g in fast])
    assert fast_var == pytest.approx(mean_degree * (1 - mean_degree / (n - 1)), rel=0.05)
    # The edge count is Binomial(n(n-1)/2, p): within 4 sd of its mean.
    edges = fast[0].num_edges
    pairs, p = n * (n - 1) // 2, mean_degree / (n - 1)
    assert abs(edges - pairs * p) < 4 * np.sqrt(pairs * p * (1 - p))


def test_erdos_renyi_dense_and_clamped() -> None:
    g = create_erdos_renyi(40, 39, np.random.default_rng(0), fast=True)  # p = 1
    assert g.num_edges == 40 * 39 // 2
    with pytest.warns(RuntimeWarning, match="p=1"):
        g = create_erdos_renyi(10, 50, np.random.default_rng(0), fast=False)
    assert g.num_edges == 45
    with pytest.raises(ValueError):
        create_erdos_renyi(10, -1, np.random.default_rng(0))


# ------------------------------------------------------------- Barabási-Albert
def test_fast_barabasi_albert_matches_networkx() -> None:
    n, m = 10_000, 5
    for seed in (1, 2):
        fast = create_barabasi_albert(n, m, np.random.default_rng(seed), fast=True)
        ref = create_barabasi_albert(n, m, np.random.default_rng(seed), fast=False)
        assert_csr_invariants(fast)
        # Exactly m edges per new node plus the seed star, as in networkx.
        assert fast.num_edges == ref.num_edges == m * (n - m - 1) + m
        frac_fast = np.mean(fast.degree() == m)
        frac_ref = np.mean(ref.degree() == m)
        assert frac_fast == pytest.approx(frac_ref, abs=0.02)
        log_fast, log_ref = np.log(fast.degree()).mean(), np.log(ref.degree()).mean()
        assert log_fast == pytest.approx(log_ref, rel=0.01)


def test_fast_barabasi_albert_hub_degree_unbiased() -> None:
    # The oldest node's degree is the statistic most sensitive to how repeated targets are
    # redrawn: redrawing before the targets' values are final loses ~20% of it (z ~ -6 here).
    # Two-sample z-test over many small graphs; |z| < 4 fails by chance with prob. ~6e-5.
    n, m, runs = 300, 5, 150
    rng = np.random.default_rng(2024)
    fast = [create_barabasi_albert(n, m, rng, fast=True).degree()[0] for _ in range(runs)]
    ref = [nx.barabasi_albert_graph(n, m, seed=rng).degree(0) for _ in range(runs)]
    se = np.sqrt(np.var(fast) / runs + np.var(ref) / runs)
    assert abs(np.mean(fast) - np.mean(ref)) < 4 * se


def test_barabasi_albert_argument_checks() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="m"):
        create_barabasi_albert(10, 0, rng)
    with pytest.warns(RuntimeWarning, match="m=4"):
        g = create_barabasi_albert(4, 4, rng)
    assert edge_set(g) == {(0, 1), (0, 2), (0, 3)}  # clamped to m = n - 1: a star


# ------------------------------------------------------------- degenerate sizes
@pytest.mark.parametrize("name", sorted(RANDOM_BUILDERS))
@pytest.mark.parametrize("n", [0, 1])
def test_tiny_graphs(name: str, n: int) -> None:
    with warnings.catch_warnings():
        # Only the Watts-Strogatz clamp (k >= n) may warn.
        warnings.simplefilter("ignore" if name.startswith("ws") else "error")
        g = RANDOM_BUILDERS[name](n, np.random.default_rng(0))
    assert g.n == n
    assert g.indices.size == 0
    assert g.mean_degree == 0.0
    out = g.sample_neighbors(np.zeros(n, np.int64), np.random.default_rng(0))
    np.testing.assert_array_equal(out, np.full(n, -1))


# ------------------------------------------------------------ sample_neighbors
def _graph_with_isolated_nodes() -> SocialGraph:
    base = create_barabasi_albert(40, 2, np.random.default_rng(7))
    graph = base.to_networkx()
    graph.add_nodes_from(range(40, 45))  # five isolated nodes
    return SocialGraph.from_networkx(graph, kind="test")


def test_sample_neighbors_returns_true_neighbours_and_minus_one_for_isolated() -> None:
    g = _graph_with_isolated_nodes()
    rng = np.random.default_rng(0)
    nodes = rng.integers(0, g.n, size=50_000)
    out = g.sample_neighbors(nodes, rng)
    assert out.shape == nodes.shape
    assert out.dtype == np.int32
    isolated = g.degree()[nodes] == 0
    assert isolated.any()
    assert np.all(out[isolated] == -1)
    edges = edge_set(g)
    pairs = {(min(a, b), max(a, b)) for a, b in zip(nodes[~isolated], out[~isolated], strict=True)}
    assert pairs <= edges
    assert len(pairs) == len(edges)  # every edge is hit at least once at this sample size


def test_sample_neighbors_is_uniform() -> None:
    # Pearson chi-square per node against the uniform law over its neighbours; the sum over
    # nodes is chi2 with sum(deg - 1) degrees of freedom under the null. Threshold at the
    # 0.999 quantile: a correct sampler fails for one seed in a thousand.
    g = create_barabasi_albert(60, 3, np.random.default_rng(9))
    rng = np.random.default_rng(10)
    draws_per_node = 2_000
    nodes = np.repeat(np.arange(g.n), draws_per_node)
    rng.shuffle(nodes)
    out = g.sample_neighbors(nodes, rng)
    stat, dof = 0.0, 0
    for i in range(g.n):
        nbrs = g.neighbors(i)
        counts = np.array([(out[nodes == i] == j).sum() for j in nbrs])
        assert counts.sum() == draws_per_node
        expected = draws_per_node / nbrs.size
        stat += float(((counts - expected) ** 2 / expected).sum())
        dof += nbrs.size - 1
    assert stat < stats.chi2.ppf(0.999, dof)


def test_sample_neighbors_accepts_any_shape_and_int32() -> None:
    g = create_watts_strogatz(100, 4, 0.0, np.random.default_rng(0))
    nodes = np.arange(100, dtype=np.int32).reshape(10, 10)
    out = g.sample_neighbors(nodes, np.random.default_rng(1))
    assert out.shape == (10, 10)
    gap = np.abs(out - nodes)
    assert np.all((gap <= 2) | (gap >= 98))  # ring lattice: neighbours within 2 steps
    assert g.sample_neighbors(np.array([], np.int64), np.random.default_rng(1)).size == 0


def test_complete_graph_sampling_never_self_and_uniform() -> None:
    n = 12
    g = create_complete(n)
    rng = np.random.default_rng(3)
    nodes = rng.integers(0, n, size=120_000)
    out = g.sample_neighbors(nodes, rng)
    assert out.dtype == np.int32
    assert np.all((out >= 0) & (out < n))
    assert not np.any(out == nodes)
    counts = np.bincount(out[nodes == 0], minlength=n)
    assert counts[0] == 0
    observed = counts[1:]
    expected = observed.sum() / (n - 1)
    stat = float(((observed - expected) ** 2 / expected).sum())
    assert stat < stats.chi2.ppf(0.999, n - 2)
    np.testing.assert_array_equal(
        create_complete(1).sample_neighbors(np.zeros(3, np.int64), rng), [-1, -1, -1]
    )


# ------------------------------------------------------------ interoperability
@pytest.mark.parametrize("name", ["ws_fast", "er_fast", "ba_nx"])
def test_networkx_round_trip(name: str) -> None:
    g = RANDOM_BUILDERS[name](300, np.random.default_rng(4))
    graph = g.to_networkx()
    assert list(graph.nodes) == list(range(300))
    assert graph.number_of_edges() == g.num_edges
    back = SocialGraph.from_networkx(graph, kind=g.kind)
    np.testing.assert_array_equal(back.indptr, g.indptr)
    np.testing.assert_array_equal(back.indices, g.indices)
    assert back.labels is None


def test_from_networkx_relabels_and_cleans() -> None:
    graph = nx.MultiDiGraph()
    graph.add_edges_from([("b", "a"), ("a", "b"), ("c", "c"), ("c", "a"), ("c", "a")])
    graph.add_node("d")
    g = SocialGraph.from_networkx(graph, kind="custom")
    assert g.kind == "custom"
    assert g.labels == ("a", "b", "c", "d")
    assert_csr_invariants(g)
    assert edge_set(g) == {(0, 1), (0, 2)}
    np.testing.assert_array_equal(g.degree(), [2, 1, 1, 0])
    empty = SocialGraph.from_networkx(nx.Graph())
    assert empty.n == 0


# ----------------------------------------------------------------- file readers
def test_read_edge_list(tmp_path: Path) -> None:
    path = tmp_path / "friends.txt"
    path.write_text("# who knows whom\n2 10 0.5\n10 3\n2 3\n3 3\n2 10\n")
    g = read_edge_list(path)
    assert g.kind == "edge_list"
    assert g.labels == ("2", "3", "10")  # integer-like labels in numeric order
    assert_csr_invariants(g)
    assert edge_set(g) == {(0, 1), (0, 2), (1, 2)}


def test_read_graphml(tmp_path: Path) -> None:
    ref = create_watts_strogatz(50, 4, 0.3, np.random.default_rng(2)).to_networkx()
    path = tmp_path / "g.graphml"
    nx.write_graphml(ref, path)
    g = read_graphml(str(path))
    assert g.n == 50
    assert_csr_invariants(g)
    assert edge_set(g) == {(min(a, b), max(a, b)) for a, b in ref.edges}


@pytest.mark.parametrize("reader", [read_edge_list, read_graphml])
def test_file_errors_name_the_path(reader: Callable[[Path], SocialGraph], tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    with pytest.raises(GraphFileError, match=re.escape("nope.txt")):
        reader(missing)
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(GraphFileError, match=re.escape("empty.txt")):
        reader(empty)
    with pytest.raises(GraphFileError, match=re.escape(str(tmp_path))):
        reader(tmp_path)  # a directory
    assert issubclass(GraphFileError, ValueError)


def test_garbage_files_raise_graph_file_error(tmp_path: Path) -> None:
    bad_xml = tmp_path / "bad.graphml"
    bad_xml.write_text("<graphml><graph><node id='a'>")
    with pytest.raises(GraphFileError, match=re.escape("bad.graphml")):
        read_graphml(bad_xml)
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00\x01 \x80\x81\n")
    with pytest.raises(GraphFileError, match=re.escape("bin.txt")):
        read_edge_list(binary)


# --------------------------------------------------------------------- dispatch
@pytest.mark.parametrize("kind", ["watts_strogatz", "barabasi_albert", "erdos_renyi", "complete"])
def test_build_graph_generated_kinds(kind: str) -> None:
    g = build_graph(kind, 200, np.random.default_rng(0), mean_degree=6, rewire_p=0.2)
    assert g.kind == kind
    assert g.n == 200
    assert g.implicit_complete == (kind == "complete")
    if kind != "complete":
        assert_csr_invariants(g)
    if kind != "erdos_renyi":
        assert g.mean_degree == pytest.approx(6 if kind != "complete" else 199, rel=0.02)


def test_build_graph_file_kinds(tmp_path: Path) -> None:
    path = tmp_path / "e.txt"
    path.write_text("a b\nb c\n")
    assert build_graph("edge_list", None, path=path).n == 3
    assert build_graph("edge_list", 0, path=path).n == 3
    assert build_graph("edge_list", 3, np.random.default_rng(0), path=path).n == 3
    with pytest.raises(ValueError, match="does not match"):
        build_graph("edge_list", 4, path=path)
    with pytest.raises(ValueError, match="path"):
        build_graph("graphml", None)


def test_build_graph_errors() -> None:
    with pytest.raises(ValueError, match="valid kinds") as info:
        build_graph("small_world", 10, np.random.default_rng(0))
    for kind in GRAPH_KINDS:
        assert kind in str(info.value)
    with pytest.raises(ValueError, match="rng"):
        build_graph("erdos_renyi", 10, None)
    with pytest.raises(ValueError, match="needs n"):
        build_graph("complete", None)
