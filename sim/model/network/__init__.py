"""Social graphs: the CSR graph customers live on, and its builders.

:mod:`~sim.model.network.graph` holds :class:`SocialGraph` (compact CSR arrays, vectorized
neighbour sampling); :mod:`~sim.model.network.builders` builds the random-graph families,
complete graphs and graphs read from files, all drawing only from the generator given.
"""

from sim.common.errors import GraphFileError
from sim.config.graph_files import GRAPH_KINDS
from sim.model.network.builders import (
    FAST_THRESHOLD,
    build_graph,
    create_barabasi_albert,
    create_complete,
    create_erdos_renyi,
    create_watts_strogatz,
    read_edge_list,
    read_graphml,
)
from sim.model.network.graph import SocialGraph

__all__ = [
    "FAST_THRESHOLD",
    "GRAPH_KINDS",
    "GraphFileError",
    "SocialGraph",
    "build_graph",
    "create_barabasi_albert",
    "create_complete",
    "create_erdos_renyi",
    "create_watts_strogatz",
    "read_edge_list",
    "read_graphml",
]
