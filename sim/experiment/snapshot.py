"""The network snapshot of a run: a snowball sample of the social graph and its states.

Why a sample: a figure of a million-node graph shows nothing, and the file would be
huge; a snowball sample keeps the edges among its nodes, so the figure shows the
structure word of mouth travels along.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.model.market import MarketModel
from sim.model.network import SocialGraph

__all__ = ["edges_among", "network_sample", "node_states"]


def network_sample(graph: SocialGraph, size: int, rng: np.random.Generator) -> np.ndarray:
    """A snowball sample of about ``size`` nodes (sorted), so the sample keeps its edges.

    Breadth-first from a random node, neighbours in random order; a new random start
    when a component is used up. A complete graph gets a plain random sample.
    """
    n = graph.n
    size = min(size, n)
    if size <= 0:
        return np.zeros(0, dtype=np.int64)
    if graph.implicit_complete or size == n:
        return np.sort(rng.choice(n, size=size, replace=False))
    chosen = np.zeros(n, dtype=bool)
    order: list[int] = []
    frontier: list[int] = []
    while len(order) < size:
        if not frontier:
            free = np.flatnonzero(~chosen)
            start = int(free[rng.integers(free.size)])
            chosen[start] = True
            order.append(start)
            frontier.append(start)
            continue
        node = frontier.pop(0)
        nbrs = graph.neighbors(node)
        nbrs = nbrs[~chosen[nbrs]]
        for v in rng.permutation(nbrs)[: size - len(order)]:
            chosen[v] = True
            order.append(int(v))
            frontier.append(int(v))
    return np.sort(np.array(order, dtype=np.int64))


def edges_among(graph: SocialGraph, nodes: np.ndarray) -> pd.DataFrame:
    """The edges between sampled nodes, each once (``source < target``)."""
    if graph.implicit_complete:
        return pd.DataFrame({"source": [], "target": []}, dtype=np.int64)
    inside = np.zeros(graph.n, dtype=bool)
    inside[nodes] = True
    src, dst = [], []
    for u in nodes:
        nbrs = graph.neighbors(int(u))
        nbrs = nbrs[inside[nbrs] & (nbrs > u)]
        src.append(np.full(nbrs.size, u, dtype=np.int64))
        dst.append(nbrs.astype(np.int64))
    return pd.DataFrame(
        {
            "source": np.concatenate(src) if src else np.zeros(0, np.int64),
            "target": np.concatenate(dst) if dst else np.zeros(0, np.int64),
        }
    ).astype(np.int64)


def node_states(model: MarketModel, nodes: np.ndarray, moment: str) -> pd.DataFrame:
    """The sampled people's firm ('' for none) and satisfaction at ``moment``."""
    pop = model.population
    firm = pop.firm[nodes].astype(np.int64)
    names = np.array([*model.firm_names, ""], dtype=object)
    satisfaction = np.where(firm >= 0, pop.satisfaction[nodes], np.nan)
    return pd.DataFrame(
        {
            "moment": moment,
            "node": nodes,
            "firm": names[np.where(firm >= 0, firm, len(model.firm_names))],
            "satisfaction": satisfaction.astype(float),
        }
    )
