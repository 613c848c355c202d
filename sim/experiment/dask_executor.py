"""Runs on a Dask distributed cluster: an existing one, or a LocalCluster started for them.

Why Dask: an experiment of thousands of runs can use the cores of many machines; Dask's
scheduler places the runs and retries those whose worker died. This module imports
``distributed`` and is imported only when the Dask executor is chosen
(:func:`sim.experiment.executors.make_executor`).
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import dask.config
from distributed import Client, LocalCluster, as_completed
from distributed.client import FutureCancelledError
from distributed.scheduler import KilledWorker

from sim.common.errors import DaskError
from sim.experiment.executors import (
    Outcome,
    Task,
    TaskFn,
    error_text,
    task_garbage_collected,
)

__all__ = ["DaskExecutor"]


def _dask_call(fn: TaskFn, context: Any, *args: Any) -> tuple[bool, Any, float]:
    """Run one task on a Dask worker: (ok, bytes or error text, seconds).

    A run that raises is an answer, not a Dask failure: Dask must not retry it
    (the same seed fails the same way). A worker that dies is Dask's to retry.
    """
    started = time.perf_counter()
    try:
        with task_garbage_collected():
            payload = fn(context, *args, report=lambda steps: None)
    except Exception:
        return False, error_text(), time.perf_counter() - started
    return True, payload, time.perf_counter() - started


class DaskExecutor:
    """Tasks on a Dask distributed cluster: an existing one at ``scheduler``, else a local one.

    Without an address a ``LocalCluster`` of ``workers`` single-threaded worker processes
    is started and closed again. A worker that dies is retried by Dask itself (up to
    ``distributed.scheduler.allowed-failures`` times); then the task fails with
    ``KilledWorker``. At most twice as many tasks as the cluster has threads are
    submitted at once, so neither this process nor the scheduler holds every result.
    """

    reports_steps = False

    def __init__(self, workers: int, scheduler: str | None = None, timeout_s: float = 20) -> None:
        self.workers = max(1, int(workers))
        self.scheduler = scheduler
        self.timeout_s = timeout_s

    def describe(self) -> str:
        """See :class:`Executor`."""
        if self.scheduler:
            return f"the Dask cluster at {self.scheduler}"
        return f"a local Dask cluster of {self.workers} worker process(es)"

    def map(
        self, fn: TaskFn, context: Any, tasks: Iterable[Task], on_steps: Callable[[int], None]
    ) -> Iterator[Outcome]:
        """See :class:`Executor`."""
        todo = iter(tasks)
        cluster = None
        client = None
        try:
            try:
                if self.scheduler:
                    client = Client(self.scheduler, timeout=self.timeout_s)
                else:
                    # Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in its workers, which
                    # also stops glibc from raising its mmap threshold: numpy's larger
                    # arrays are then mapped and unmapped every time (measured: a run
                    # 12 % slower). These workers live for one experiment and free each
                    # run's memory after it, so they go without.
                    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
                    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
                    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
                        cluster = LocalCluster(
                            n_workers=self.workers,
                            threads_per_worker=1,
                            processes=True,
                            dashboard_address=None,
                            # the scheduler's HTTP endpoints (health, metrics) on a free
                            # loopback port: never clash with another cluster on :8787
                            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                            silence_logs=logging.ERROR,
                        )
                    client = Client(cluster)
            except (OSError, TimeoutError) as exc:
                where = self.scheduler or "a LocalCluster"
                raise DaskError(f"cannot reach the Dask scheduler at {where}: {exc}") from None
            # The context (a few kB) travels with every task rather than scattered once:
            # Dask may keep a single replica of scattered data, and a task whose input
            # died with its worker is cancelled instead of retried.
            threads = max(1, sum(client.nthreads().values()))
            window = max(2, 2 * threads)
            token = uuid.uuid4().hex[:12]
            running = as_completed()
            held: dict[Any, Task] = {}

            def submit() -> bool:
                task = next(todo, None)
                if task is None:
                    return False
                future = client.submit(
                    _dask_call, fn, context, *task.args, key=f"marketsim-{token}-{task.key}",
                    pure=False,
                )  # fmt: skip
                held[future.key] = task
                running.add(future)
                return True

            for _ in range(window):
                if not submit():
                    break
            for future in running:
                task = held.pop(future.key)
                try:
                    ok, value, wall = future.result()
                except KilledWorker as exc:
                    yield Outcome(
                        task.key, None, f"the Dask workers running it died too often ({exc})",
                        1, None,
                    )  # fmt: skip
                except FutureCancelledError as exc:
                    yield Outcome(task.key, None, f"cancelled by Dask ({exc})", 1, None)
                else:
                    yield Outcome(task.key, value if ok else None, None if ok else value, 1, wall)
                future.release()
                submit()
        finally:
            if client is not None:
                with contextlib.suppress(Exception):
                    client.close(timeout=10)
            if cluster is not None:
                with contextlib.suppress(Exception):
                    cluster.close(timeout=10)
