"""Seeds of an experiment's runs, from each run's coordinates only.

Why its own leaf: the runner plans runs with these seeds and the results folder's
provenance lists them, and neither should need the other to know them.
"""

from __future__ import annotations

import numpy as np

__all__ = ["replication_seeds", "run_seed"]


def run_seed(seed: int, scenario: int, replication: int) -> int:
    """The seed of replication ``replication`` on scenario variant ``scenario``, a 63-bit int.

    ``SeedSequence(seed)`` with spawn key ``(replication,)`` for scenario 0 (the child
    ``replication`` of ``SeedSequence(seed).spawn``, so experiments without variants keep
    their seeds) and ``(replication, scenario)`` otherwise: every scenario has its own
    independent streams, and no seed depends on how many runs there are.
    """
    key = (replication,) if scenario == 0 else (replication, scenario)
    state = np.random.SeedSequence(seed, spawn_key=key).generate_state(1, dtype=np.uint64)
    return int(state[0] >> np.uint64(1))


def replication_seeds(seed: int, n: int) -> list[int]:
    """Seeds of replications ``0..n-1`` of scenario 0: children of ``SeedSequence(seed)``.

    Replication ``k``'s seed does not depend on ``n``, so adding replications keeps the
    earlier ones.

    >>> replication_seeds(12345, 3)[:2] == replication_seeds(12345, 2)
    True
    """
    return [run_seed(seed, 0, k) for k in range(n)]
