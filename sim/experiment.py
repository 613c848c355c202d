"""Experiments: every policy x replication of a scenario, with common random numbers.

Replication ``k`` of every policy runs on the same seed, derived from the scenario's
seed and ``k`` alone (``numpy.random.SeedSequence(seed).spawn``). ``MarketModel``
derives the social graph and the initial market from its seed, so all policies of one
replication meet the same people on the same graph: the difference between two policies
in a replication is the policies' effect, not noise between runs (common random numbers,
Law 2015, sec. 11.2).

Runs go to a local process pool (``workers``); a run's seed comes from its coordinates,
never from the order runs finish in, and :func:`run_experiment` yields results in
coordinate order, so results are identical for any worker count.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from multiprocessing.context import BaseContext

import numpy as np
import pandas as pd

from sim.model import MarketModel
from sim.network import SocialGraph, build_graph
from sim.scenario import Policy, Scenario
from sim.scenario_file import ScenarioFile

__all__ = [
    "ProgressFn",
    "RunOutput",
    "RunSpec",
    "default_workers",
    "network_sample",
    "plan_runs",
    "replication_seeds",
    "run_experiment",
    "run_one",
]

ProgressFn = Callable[[int, int], None]
"""Progress callback: ``(runs_finished, steps_done)`` increments since the last call."""

_SNAPSHOT_KEY = 0x5EED_5A3F  # spawn key of the snapshot sampler's stream (not a model stream)
_REPORTS_PER_RUN = 25  # progress messages a run sends at most


@dataclass(frozen=True)
class RunSpec:
    """Coordinates of one run: which policy, which replication, and its seed."""

    index: int
    policy_index: int
    policy: Policy
    replication: int
    seed: int

    @property
    def policy_name(self) -> str:
        """The policy's name (a results column)."""
        return self.policy.name


@dataclass
class RunOutput:
    """What one run hands back to the parent: tidy tables, ready to be written.

    ``timeseries``: ``MarketModel.results()`` with ``policy`` and ``replication`` first;
    ``cohorts``: ``cohort_clv()`` likewise; ``calibration``: the model's calibration
    table (None if the engine has none); ``nodes``/``edges``: the network snapshot
    (first replication of each policy only, else None).
    """

    spec: RunSpec
    timeseries: pd.DataFrame
    cohorts: pd.DataFrame
    calibration: pd.DataFrame | None
    nodes: pd.DataFrame | None
    edges: pd.DataFrame | None
    wall_s: float


def replication_seeds(seed: int, n: int) -> list[int]:
    """Seed of each replication: child ``k`` of ``SeedSequence(seed)``, as a 63-bit int.

    Replication ``k``'s seed does not depend on ``n``, so adding replications keeps the
    earlier ones.

    >>> replication_seeds(12345, 3)[:2] == replication_seeds(12345, 2)
    True
    """
    children = np.random.SeedSequence(seed).spawn(n)
    return [int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in children]


def plan_runs(sf: ScenarioFile) -> list[RunSpec]:
    """Every (policy, replication) of the scenario, in coordinate order."""
    seeds = replication_seeds(sf.simulation.seed, sf.simulation.replications)
    runs: list[RunSpec] = []
    for p, policy in enumerate(sf.engine_policies()):
        for k, seed in enumerate(seeds):
            runs.append(RunSpec(len(runs), p, policy, k, seed))
    return runs


def default_workers(n_runs: int) -> int:
    """min(usable cores, runs), at least 1."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, n_runs))


# --------------------------------------------------------------------------- one run


@lru_cache(maxsize=4)
def _file_graph(kind: str, path: str, mtime: float) -> SocialGraph:
    """A user's graph file, read once per process (files are the slow graph kind)."""
    return build_graph(kind, None, path=path)


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


def _edges_among(graph: SocialGraph, nodes: np.ndarray) -> pd.DataFrame:
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


def _node_states(model: MarketModel, nodes: np.ndarray, moment: str) -> pd.DataFrame:
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


def _tag(df: pd.DataFrame, spec: RunSpec) -> pd.DataFrame:
    df = df.copy()
    df.insert(0, "policy", spec.policy_name)
    df.insert(1, "replication", spec.replication)
    return df


def run_one(
    scenario: Scenario,
    spec: RunSpec,
    snapshot_size: int = 0,
    progress: Callable[[int], None] | None = None,
) -> RunOutput:
    """Run one policy on one replication's seed and return its tables.

    ``progress(steps)`` is called every few steps with the steps done since the last
    call. The network snapshot is taken for replication 0 only.
    """
    started = time.perf_counter()
    graph = None
    net = scenario.network
    if net.kind in ("edge_list", "graphml") and net.path:
        graph = _file_graph(net.kind, net.path, os.path.getmtime(net.path))
    model = MarketModel(scenario, policy=spec.policy, seed=spec.seed, graph=graph)
    sample = None
    nodes = []
    if snapshot_size > 0 and spec.replication == 0:
        rng = np.random.default_rng(np.random.SeedSequence(spec.seed, spawn_key=(_SNAPSHOT_KEY,)))
        sample = network_sample(model.graph, snapshot_size, rng)
        nodes.append(_node_states(model, sample, "start"))

    steps = scenario.simulation.steps
    chunk = max(1, steps // _REPORTS_PER_RUN)
    done = 0
    for t in range(1, steps + 1):
        model.step()
        if progress is not None and (t % chunk == 0 or t == steps):
            progress(t - done)
            done = t

    edges = None
    if sample is not None:
        nodes.append(_node_states(model, sample, "end"))
        edges = _edges_among(model.graph, sample)
    calibration = model.calibration() if hasattr(model, "calibration") else None
    return RunOutput(
        spec=spec,
        timeseries=_tag(model.results(), spec),
        cohorts=_tag(model.cohort_clv(), spec),
        calibration=_tag(calibration, spec) if calibration is not None else None,
        nodes=_tag(pd.concat(nodes, ignore_index=True), spec) if nodes else None,
        edges=edges,
        wall_s=time.perf_counter() - started,
    )


# --------------------------------------------------------------------------- many runs

_progress_queue: mp.Queue | None = None


def _init_worker(progress_queue: mp.Queue) -> None:
    global _progress_queue
    _progress_queue = progress_queue
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C


def _run_task(scenario: Scenario, spec: RunSpec, snapshot_size: int) -> RunOutput:
    q = _progress_queue

    def report(steps: int) -> None:
        if q is not None:
            q.put(steps)

    return run_one(scenario, spec, snapshot_size, report)


def run_experiment(
    sf: ScenarioFile,
    *,
    workers: int | None = None,
    progress: ProgressFn | None = None,
) -> Iterator[RunOutput]:
    """Run every policy x replication of ``sf``; yield each run's output in coordinate order.

    ``workers`` processes (default :func:`default_workers`); 1 runs in this process.
    The order of the yielded outputs (policy, then replication) and their content do not
    depend on ``workers``.
    """
    scenario = sf.to_scenario()
    runs = plan_runs(sf)
    snapshot = sf.outputs.network_sample
    workers = default_workers(len(runs)) if workers is None else max(1, int(workers))
    workers = min(workers, len(runs))
    tick = progress or (lambda runs_done, steps: None)
    if workers == 1:
        for spec in runs:
            out = run_one(scenario, spec, snapshot, lambda s: tick(0, s))
            tick(1, 0)
            yield out
        return
    yield from _run_pool(scenario, runs, snapshot, workers, tick)


def _run_pool(
    scenario: Scenario, runs: list[RunSpec], snapshot: int, workers: int, tick: ProgressFn
) -> Iterator[RunOutput]:
    ctx: BaseContext
    if "forkserver" in mp.get_all_start_methods():
        forkserver = mp.get_context("forkserver")
        forkserver.set_forkserver_preload(["sim.experiment"])  # import numpy, pandas, Mesa once
        ctx = forkserver
    else:
        ctx = mp.get_context("spawn")
    pool: cf.ProcessPoolExecutor | None = None
    progress_queue: mp.Queue | None = None
    finished: dict[int, RunOutput] = {}
    next_index = 0
    try:
        with _sigint_deferred():  # start every worker before Ctrl-C can stop anything
            progress_queue = ctx.Queue()
            pool = cf.ProcessPoolExecutor(
                max_workers=workers,
                mp_context=ctx,
                initializer=_init_worker,
                initargs=(progress_queue,),
            )
            pending = {pool.submit(_run_task, scenario, spec, snapshot) for spec in runs}
        while pending or next_index < len(runs):
            if pending:
                done, pending = cf.wait(pending, timeout=0.1, return_when=cf.FIRST_COMPLETED)
            else:
                done = set()
            _drain(progress_queue, tick)
            for future in done:
                out = future.result()  # re-raises a worker's error here
                finished[out.spec.index] = out
                tick(1, 0)
            while next_index in finished:
                yield finished.pop(next_index)
                next_index += 1
        _drain(progress_queue, tick)
    except BaseException:  # Ctrl-C, a worker's error, or the consumer stopped: stop now
        if pool is not None:
            processes = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)  # no new tasks, no new workers
            for process in processes:
                process.terminate()
            for process in processes:  # gone before the queue they inherited is closed
                process.join(timeout=10)
        raise
    else:
        assert pool is not None
        pool.shutdown(wait=True)
    finally:
        if progress_queue is not None:
            progress_queue.close()
            progress_queue.join_thread()


@contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold Ctrl-C back until the block is done, then raise it (main thread only).

    Starting workers must not be cut short: a worker interrupted half-way through its
    start is not yet known to the pool, so it could not be stopped.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def _drain(progress_queue: mp.Queue, tick: ProgressFn) -> None:
    steps = 0
    while True:
        try:
            steps += progress_queue.get_nowait()
        except queue.Empty:
            break
    if steps:
        tick(0, steps)
