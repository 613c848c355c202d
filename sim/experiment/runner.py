"""Experiments: every policy x scenario variant x replication, with common random numbers.

A run's seed is a pure function of the experiment's seed and the run's scenario variant
and replication (:func:`run_seed`), never of its policy or of the order runs finish in.
Replication ``k`` of every policy on one scenario therefore meets the same people on the
same social graph with the same random streams (``MarketModel`` derives the graph, the
initial market and the dynamics from its seed): the difference between two policies in
one (scenario, replication) is the policies' effect, not noise between runs (common
random numbers, Law 2015, sec. 11.2).

:func:`run_experiment` plans the runs round-robin (replication, then scenario, then
policy) so a partial experiment stays balanced, sends them to an executor
(:mod:`sim.experiment.executors`: this process, a local pool, or Dask), persists each finished run
at once in the experiment's ``runs/`` folder (:mod:`sim.experiment.runstore`) and finally assembles
the tables from those files in coordinate order. Results are byte-identical for any
worker count, executor, finishing order or interruption and ``--resume``.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.common.errors import ExperimentError, RunsFailed
from sim.common.files import (
    atomic_write_bytes,
    csv_bytes,
    neutralise_names,
    read_table,
    storage_errors,
)
from sim.common.seeds import replication_seeds, run_seed
from sim.config.file_schema import OutputsSpec
from sim.config.scenario_file import ScenarioFile, apply_overrides
from sim.config.schema import Policy, Scenario
from sim.experiment.designs import Design, sampled_markets
from sim.experiment.executors import (
    Task,
    TaskFn,
    make_executor,
    sigterm_as_interrupt,
)
from sim.experiment.fingerprint import code_version, experiment_fingerprint
from sim.experiment.holdout import holdout_rows
from sim.experiment.plan import RunPlan, RunSpec, default_workers, plan_runs
from sim.experiment.runstore import (
    DONE,
    FAILED,
    RESULT_TABLES,
    ExperimentIndex,
    RunRecord,
    RunStore,
    encode_run,
)
from sim.experiment.snapshot import edges_among, network_sample, node_states
from sim.model.calibration import HOLDOUT_CHANNELS
from sim.model.market import MarketModel
from sim.model.network import SocialGraph, build_graph
from sim.model.outcomes import outcomes_of_run

__all__ = [
    "ExperimentError",
    "ExperimentIndex",
    "ProgressFn",
    "RunOutput",
    "RunPlan",
    "RunSpec",
    "RunsFailed",
    "clear_caches",
    "code_version",
    "default_workers",
    "execute_run",
    "experiment_fingerprint",
    "load_outcomes",
    "network_sample",
    "plan_runs",
    "replication_seeds",
    "run_experiment",
    "run_one",
    "run_seed",
]

ProgressFn = Callable[[int, int], None]
"""Progress callback: ``(runs_finished, steps_done)`` increments since the last call."""

_SNAPSHOT_KEY = 0x5EED_5A3F  # spawn key of the snapshot sampler's stream (not a model stream)
_TRANSACTIONS_KEY = (
    0x7A_5A3F  # spawn key of the transaction log's customer sample (not a model stream)
)
_REPORTS_PER_RUN = 25  # progress messages a run sends at most
_GRAPHS_KEPT = 2  # built graphs a worker keeps for the next policy of the same replication


@dataclass
class RunOutput:
    """One run's tables, tagged with ``policy, scenario, replication``.

    ``timeseries``: ``MarketModel.results()``; ``cohorts``: ``cohort_clv()``;
    ``calibration``: the model's calibration table (None if the engine has none), with
    the incremental rows of hold-out runs when they were made (:mod:`sim.experiment.holdout`);
    ``nodes``/``edges``: the network snapshot (scenario 0, replication 0 only, else None);
    ``transactions``: the transaction log (``[outputs] transactions``, else None).
    """

    spec: RunSpec
    timeseries: pd.DataFrame
    cohorts: pd.DataFrame
    calibration: pd.DataFrame | None
    nodes: pd.DataFrame | None
    edges: pd.DataFrame | None
    wall_s: float
    transactions: pd.DataFrame | None = None


# --------------------------------------------------------------------------- one run


@lru_cache(maxsize=4)
def _file_graph(
    kind: str, path: str, skip_malformed: bool, size: int, mtime_ns: int
) -> SocialGraph:
    """A user's graph file, read once per process (files are the slow graph kind); the
    key holds what changes the graph read: the file's size and time, skipping bad lines."""
    return build_graph(kind, None, path=path, skip_malformed=skip_malformed)


def _tag(df: pd.DataFrame, spec: RunSpec) -> pd.DataFrame:
    df = df.copy()
    df.insert(0, "policy", spec.policy_name)
    df.insert(1, "scenario", spec.scenario_index)
    df.insert(2, "replication", spec.replication)
    return df


_graphs: OrderedDict[tuple[Any, ...], SocialGraph] = OrderedDict()
_graphs_lock = threading.Lock()


def _graph_key(scenario: Scenario, seed: int) -> tuple[Any, ...]:
    return (seed, scenario.market.n_customers, repr(scenario.network))


def run_one(
    scenario: Scenario,
    spec: RunSpec,
    snapshot_size: int = 0,
    progress: Callable[[int], None] | None = None,
    policy: Policy | None = None,
    outputs: OutputsSpec | None = None,
    holdouts: bool = False,
) -> RunOutput:
    """Run one policy on one scenario variant and seed; return its tagged tables.

    ``policy`` (default ``spec.policy``) is the policy as the variant has it; the tables
    name it ``spec.policy_name``. ``progress(steps)`` is called every few steps with the
    steps done since the last call. The network snapshot is taken for scenario 0, replication 0 only. The social
    graph a model built is kept for the next run on the same seed and network settings
    (the next policy of the same replication: common random numbers make it the very
    graph that run would build; graphs are read-only). With ``outputs.transactions`` the
    run logs its purchases (:meth:`MarketModel.transactions`): the focal firm's or every
    firm's, of everybody or of a sample of people drawn from a stream of the run's seed
    (the same people for every policy of a replication). ``holdouts``: add the incremental
    acquisition rows to the calibration table (four more runs of this seed).
    """
    started = time.perf_counter()
    net = scenario.network
    graph = None
    key = None
    if net.kind in ("edge_list", "graphml") and net.path:
        info = os.stat(net.path)
        graph = _file_graph(net.kind, net.path, net.skip_malformed, info.st_size, info.st_mtime_ns)
    else:
        key = _graph_key(scenario, spec.seed)
        with _graphs_lock:
            graph = _graphs.get(key)
    model = MarketModel(scenario, policy=policy or spec.policy, seed=spec.seed, graph=graph)
    if key is not None and graph is None:
        with _graphs_lock:
            _graphs[key] = model.graph
            while len(_graphs) > _GRAPHS_KEPT:
                _graphs.popitem(last=False)
    logging = outputs is not None and outputs.transactions
    if outputs is not None and logging:
        keep = None
        if outputs.transactions_sample < 1.0:
            seq = np.random.SeedSequence(spec.seed, spawn_key=(_TRANSACTIONS_KEY,))
            draws = np.random.default_rng(seq).random(scenario.market.n_customers)
            keep = draws < outputs.transactions_sample
        firms = np.array([0]) if outputs.transactions_firms == "focal" else None
        model.record_transactions(keep, firms)
    sample = None
    nodes = []
    if snapshot_size > 0 and spec.replication == 0 and spec.scenario_index == 0:
        rng = np.random.default_rng(np.random.SeedSequence(spec.seed, spawn_key=(_SNAPSHOT_KEY,)))
        sample = network_sample(model.graph, snapshot_size, rng)
        nodes.append(node_states(model, sample, "start"))

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
        nodes.append(node_states(model, sample, "end"))
        edges = edges_among(model.graph, sample)
    calibration = model.calibration() if hasattr(model, "calibration") else None
    if holdouts and calibration is not None:
        extra = holdout_rows(
            scenario, policy or spec.policy, spec.seed, model.results(), graph=model.graph
        )
        calibration = pd.concat([calibration, extra], ignore_index=True)
    return RunOutput(
        spec=spec,
        timeseries=_tag(model.results(), spec),
        cohorts=_tag(model.cohort_clv(), spec),
        calibration=_tag(calibration, spec) if calibration is not None else None,
        nodes=_tag(pd.concat(nodes, ignore_index=True), spec) if nodes else None,
        edges=edges,
        wall_s=time.perf_counter() - started,
        transactions=_tag(model.transactions(), spec) if logging else None,
    )


# --------------------------------------------------------------------------- a run as a task


@dataclass(frozen=True)
class RunContext:
    """What every worker needs once: the scenario file and how to run and record runs.

    ``holdout_replications``: make the hold-out runs of the incremental calibration rows
    for the baseline policy in this many first replications of the first scenario variant.
    """

    sf: ScenarioFile
    fingerprint: str
    snapshot_size: int
    holdout_replications: int = 0


_Variant = tuple[Scenario, tuple[Policy, ...]]
_scenarios: OrderedDict[tuple[str, int], _Variant] = OrderedDict()
_scenarios_lock = threading.Lock()


def _scenario_of(context: RunContext, scenario_index: int, variant: Mapping[str, Any]) -> _Variant:
    """The engine scenario and policies of one variant, validated once per worker (a few kept).

    A variant may change a policy's levers too (``policies.1.retention_share``), so the
    policies come from the variant, not from the plan.
    """
    key = (context.fingerprint, scenario_index)
    with _scenarios_lock:
        if key in _scenarios:
            _scenarios.move_to_end(key)
            return _scenarios[key]
    sf = apply_overrides(context.sf, variant) if variant else context.sf
    value = (sf.to_scenario(), sf.engine_policies())
    with _scenarios_lock:
        _scenarios[key] = value
        while len(_scenarios) > 8:
            _scenarios.popitem(last=False)
    return value


def clear_caches() -> None:
    """Forget the scenarios and social graphs kept between runs in this process."""
    with _scenarios_lock:
        _scenarios.clear()
    with _graphs_lock:
        _graphs.clear()


def _csv(df: pd.DataFrame) -> tuple[str, int]:
    """A run's table as the results hold it: names neutralised (as ``csv_bytes`` does)."""
    return neutralise_names(df).to_csv(index=False, lineterminator="\n"), len(df)


def execute_run(
    context: RunContext,
    spec: RunSpec,
    variant: Mapping[str, Any],
    report: Callable[[int], None] | None = None,
) -> bytes:
    """Run ``spec`` (in a worker) and return its run file's bytes (:func:`sim.experiment.runstore.encode_run`).

    The tables are rendered to CSV here, so where a run executes cannot change a byte of
    the assembled tables.
    """
    scenario, policies = _scenario_of(context, spec.scenario_index, variant)
    first = spec.scenario_index == 0 and spec.policy_index == 0
    out = run_one(
        scenario,
        spec,
        context.snapshot_size,
        report,
        policy=policies[spec.policy_index],
        outputs=context.sf.outputs,
        holdouts=first and spec.replication < context.holdout_replications,
    )
    outcomes = outcomes_of_run(out.timeseries, out.cohorts, scenario.simulation.steps_per_year)
    outcomes.insert(list(outcomes.columns).index("replication") + 1, "seed", spec.seed)
    tables = {"outcomes": _csv(outcomes), "timeseries": _csv(out.timeseries)}
    tables["cohorts"] = _csv(out.cohorts)
    if out.calibration is not None:
        tables["calibration"] = _csv(out.calibration)
    if out.nodes is not None:
        tables["network_nodes"] = _csv(out.nodes)
    if out.edges is not None:
        tables["network_edges"] = _csv(out.edges)
    if out.transactions is not None:
        tables["transactions"] = _csv(out.transactions)
    meta = {
        "index": spec.index,
        "policy": spec.policy_name,
        "policy_index": spec.policy_index,
        "scenario": spec.scenario_index,
        "replication": spec.replication,
        "seed": spec.seed,
        "steps": scenario.simulation.steps,
        "fingerprint": context.fingerprint,
        "wall_s": round(out.wall_s, 3),
    }
    return encode_run(meta, tables)


# --------------------------------------------------------------------------- the experiment


def _scenarios_table(variants: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """scenarios.csv: ``scenario``, then one column per varied key path."""
    keys: list[str] = []
    for v in variants:
        keys += [k for k in v if k not in keys]
    rows = []
    for s, v in enumerate(variants):
        row: dict[str, Any] = {"scenario": s}
        for k in keys:
            value = v.get(k)
            if isinstance(value, (list, tuple, dict)):
                value = json.dumps(value)
            row[k] = value
        rows.append(row)
    return pd.DataFrame(rows, columns=["scenario", *keys])


def run_experiment(
    sf: ScenarioFile,
    out_dir: str | Path,
    *,
    variants: Sequence[Mapping[str, Any]] | None = None,
    design: Design | None = None,
    workers: int | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    resume: bool = False,
    progress: ProgressFn | None = None,
    tables: Sequence[str] = ("outcomes",),
    max_attempts: int | None = None,
    task: TaskFn | None = None,
) -> ExperimentIndex:
    """Run every planned run of ``sf`` x its scenario variants, persist each, assemble the tables.

    The variants come from ``design`` (:mod:`sim.experiment.designs`), or are given as
    ``variants`` (override dicts); default: the scenario's sampled markets. Writes one
    file per finished run under ``out_dir/runs/`` with ``runs/index.json`` (every run's
    coordinates, seed and status), then ``out_dir/<table>.csv`` for each of ``tables``
    (default: outcomes; any of :data:`sim.experiment.runstore.RESULT_TABLES`), streamed
    from the run files in coordinate order, and ``out_dir/scenarios.csv`` (the variants).
    ``executor`` 'local' (``workers`` processes; 1 = this process) or 'dask'
    (``scheduler`` address, else a LocalCluster of ``workers``). ``resume`` keeps the
    finished runs of an interrupted experiment in ``out_dir`` (same scenario and variants
    required). ``task`` replaces :func:`execute_run` as what a worker runs for each run
    (it must call it and return its bytes; it travels to the workers, so it must pickle
    by reference: a module-level function or an instance of a module-level class). The
    test suite injects failures this way. Raises :class:`RunsFailed` after every run was
    tried if any failed (the tables are then not assembled) and :class:`ExperimentError`
    for a folder problem.
    """
    if design is not None and variants is not None:
        raise ExperimentError("give an experiment either a design or variants, not both")
    if design is not None:
        variants = design.variants()
    variants = sampled_markets(sf).variants() if variants is None else [dict(v) for v in variants]
    if not variants:
        raise ExperimentError("an experiment needs at least one scenario variant, got none")
    out = Path(out_dir)
    # SIGTERM stops the workers as Ctrl-C does; a full or read-only disk is one message.
    with sigterm_as_interrupt(), storage_errors(out, out / "runs"):
        return _run_experiment(
            sf,
            out,
            variants,
            workers,
            executor,
            scheduler,
            resume,
            progress,
            tables,
            max_attempts,
            task,
        )


def _run_experiment(
    sf: ScenarioFile,
    out_dir: Path,
    variants: list[dict[str, Any]],
    workers: int | None,
    executor: str,
    scheduler: str | None,
    resume: bool,
    progress: ProgressFn | None,
    tables: Sequence[str],
    max_attempts: int | None,
    task: TaskFn | None,
) -> ExperimentIndex:
    runs = plan_runs(sf, variants)
    key = experiment_fingerprint(sf, variants)
    records = [
        RunRecord(r.index, r.policy_name, r.policy_index, r.scenario_index, r.replication, r.seed)
        for r in runs
    ]
    workers = default_workers(len(runs)) if workers is None else max(1, int(workers))
    workers = min(workers, len(runs))
    try:
        chosen = make_executor(executor, workers, scheduler)
    except ValueError as exc:
        raise ExperimentError(str(exc)) from None
    if max_attempts is not None and hasattr(chosen, "max_attempts"):
        chosen.max_attempts = max(1, int(max_attempts))
    store = RunStore(out_dir)
    meta = {
        "scenario": sf.name,
        "seed": sf.simulation.seed,
        "policies": [p.name for p in sf.policies],
        "scenarios": len(variants),
        "replications": len(runs) // max(1, len(variants) * len(sf.policies)),
        "steps": sf.simulation.steps,
        "executor": chosen.describe(),
    }
    index = store.open(records, key, meta, resume=resume)
    tick = progress or (lambda runs_done, steps: None)
    steps = sf.simulation.steps
    wanted = [t for t in RESULT_TABLES if t in set(tables)]
    holdouts = sf.outputs.incremental_replications if "calibration" in wanted else 0
    context = RunContext(sf, key, sf.outputs.network_sample, holdouts)
    if index.resumed:
        done = [r for r in records if r.status == DONE]
        tick(index.resumed, index.resumed * steps + sum(_holdout_steps(r, context) for r in done))
    todo = [
        Task(r.index, (r, variants[r.scenario_index]), group=(r.scenario_index, r.replication))
        for r in runs
        if records[r.index].status != DONE
    ]
    try:
        run = execute_run if task is None else task  # looked up now: tests may wrap it
        for outcome in chosen.map(run, context, todo, lambda n: tick(0, n)):
            record = records[outcome.key]
            record.attempts += outcome.attempts
            record.wall_s = None if outcome.wall_s is None else round(outcome.wall_s, 3)
            if outcome.payload is not None:
                store.write_run(index, record, outcome.payload)
            else:
                record.status, record.error = FAILED, outcome.error
            tick(1, (0 if chosen.reports_steps else steps) + _holdout_steps(record, context))
            store.save(index, force=False)
    finally:
        store.save(index)
        clear_caches()  # what runs in this process kept for the next run of the same cell
    if index.failed:
        raise RunsFailed(index)
    assembling = time.perf_counter()
    index.meta["rows"] = store.assemble(index, wanted)
    index.meta["assemble_s"] = round(time.perf_counter() - assembling, 3)
    atomic_write_bytes(store.out_dir / "scenarios.csv", csv_bytes(_scenarios_table(variants)))
    return index


def _holdout_steps(record: RunRecord, context: RunContext) -> int:
    """Steps of the hold-out runs that ``record``'s run made (see :func:`execute_run`), so
    the progress bar's count of steps includes them."""
    if record.scenario or record.policy_index or record.replication >= context.holdout_replications:
        return 0
    return len(HOLDOUT_CHANNELS) * context.sf.simulation.steps


def load_outcomes(out_dir: str | Path) -> pd.DataFrame:
    """``out_dir/outcomes.csv``: one row per (policy, scenario, replication, firm)."""
    path = Path(out_dir) / "outcomes.csv"
    if not path.is_file():
        raise ExperimentError(f"{path}: no outcomes table (run the experiment first)")
    return read_table(path)
