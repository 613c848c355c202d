"""Where runs execute: this process, a local process pool, or a Dask cluster.

Every executor maps a task function over tasks and yields one :class:`Outcome` per task
as it finishes (in any order): the function's bytes, or the error it raised. The
function runs as ``fn(context, *task.args, report=report)``; ``context`` is shipped to
each worker once, ``report(steps)`` tells the parent about progress.

Why an own process pool rather than ``concurrent.futures``: when one worker process dies
(killed, out of memory, a crash in native code), ``ProcessPoolExecutor`` breaks the whole
pool and fails every task in flight, so it cannot tell the run that killed its worker
from the innocent ones. Here each worker runs one task at a time over its own pipe: the
parent knows which task a dead worker held, retries just that one (a bounded number of
times) and starts a replacement worker. At most one task per worker is in flight and
results are handed on as they arrive, so memory does not grow with the number of tasks.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib
import multiprocessing as mp
import os
import signal
import threading
import time
import traceback
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkServerContext, SpawnContext
from multiprocessing.process import BaseProcess
from typing import Any, Protocol

import psutil

from sim.common.errors import Terminated

__all__ = [
    "EXECUTORS",
    "Executor",
    "InProcess",
    "LocalPool",
    "Outcome",
    "Task",
    "TaskFn",
    "error_text",
    "make_executor",
    "sigterm_as_interrupt",
    "task_garbage_collected",
    "usable_cores",
]

EXECUTORS = ("local", "dask")
MAX_ATTEMPTS = 3  # a task whose worker dies is tried at most this often

TaskFn = Callable[..., bytes]
"""``fn(context, *args, report=report) -> bytes``: a module-level function (workers import it)."""


@dataclass(frozen=True)
class Task:
    """One unit of work: ``key`` identifies it in the outcome; ``args`` go to the function.

    Tasks of one ``group`` share something a worker keeps between tasks (the policies of
    one scenario and replication share their social graph); the local pool gives a worker
    the next task of its group when it can.
    """

    key: int
    args: tuple[Any, ...]
    group: Hashable = None


class _Pending:
    """Tasks waiting for a worker, by group, groups in the order they were given.

    A free worker takes the next task of the group it worked on last; else the first task
    of a group no other worker is on; else the first task. Tasks given in round-robin
    order thus stay in that order, a worker finishing each group it starts, so any
    prefix of the finished tasks is balanced up to the groups in flight.
    """

    def __init__(self, tasks: Iterable[Task]) -> None:
        self.groups: OrderedDict[Hashable, deque[Task]] = OrderedDict()
        self.size = 0
        for task in tasks:
            self.groups.setdefault(task.group, deque()).append(task)
            self.size += 1

    def __len__(self) -> int:
        return self.size

    def take(self, last: Hashable, others: set[Hashable]) -> Task:
        """The next task for a worker whose last group was ``last``."""
        if last in self.groups:
            group = last
        else:
            group = next((g for g in self.groups if g not in others), next(iter(self.groups)))
        queue = self.groups[group]
        task = queue.popleft()
        if not queue:
            del self.groups[group]
        self.size -= 1
        return task

    def put_back(self, task: Task) -> None:
        """A task to run again before any other."""
        if task.group not in self.groups:
            self.groups[task.group] = deque()
        self.groups.move_to_end(task.group, last=False)
        self.groups[task.group].appendleft(task)
        self.size += 1


@dataclass
class Outcome:
    """A finished task: ``payload`` on success, else ``error`` (text, traceback included)."""

    key: int
    payload: bytes | None
    error: str | None
    attempts: int
    wall_s: float | None


class Executor(Protocol):
    """Runs tasks; yields outcomes as they finish."""

    reports_steps: bool  # whether ``on_steps`` hears of steps while tasks run

    def describe(self) -> str:
        """A few words for the progress line ("2 local worker processes")."""
        ...

    def map(
        self,
        fn: TaskFn,
        context: Any,
        tasks: Iterable[Task],
        on_steps: Callable[[int], None],
    ) -> Iterator[Outcome]:
        """Run every task; yield each one's outcome as soon as it is known."""
        ...


def error_text() -> str:
    """The exception being handled, with its traceback (what a failed run records)."""
    return traceback.format_exc().rstrip()


@contextmanager
def task_garbage_collected() -> Iterator[None]:
    """Free what a task leaves behind before the next task starts.

    A model is a web of reference cycles (Mesa agents and their model), so a finished run
    is freed only by a full cyclic collection, which Python runs rarely: without this, a
    worker would hold several dead models at once (at a million people, 600 MB each) and
    memory would creep up with the number of runs. A full collection scans every live
    object (about 0.1 s at 10,000 people); freezing what was alive before the task leaves
    only the task's own objects to scan (a few ms). Freeze and unfreeze are O(1); if the
    caller froze objects itself, its freeze is left alone and the collection is full.
    """
    own = gc.isenabled() and gc.get_freeze_count() == 0
    if own:
        gc.freeze()
    try:
        yield
    finally:
        gc.collect()
        if own:
            gc.unfreeze()


# --------------------------------------------------------------------------- in this process


class InProcess:
    """Runs tasks one after another in this process (one worker: no start-up cost)."""

    reports_steps = True

    def describe(self) -> str:
        """See :class:`Executor`."""
        return "this process"

    def map(
        self, fn: TaskFn, context: Any, tasks: Iterable[Task], on_steps: Callable[[int], None]
    ) -> Iterator[Outcome]:
        """See :class:`Executor`; a task that raises is an outcome, Ctrl-C is not."""
        for task in tasks:
            started = time.perf_counter()
            try:
                with task_garbage_collected():
                    payload = fn(context, *task.args, report=on_steps)
            except Exception:
                wall = time.perf_counter() - started
                yield Outcome(task.key, None, error_text(), 1, wall)
            else:
                yield Outcome(task.key, payload, None, 1, time.perf_counter() - started)


# --------------------------------------------------------------------------- local processes


_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_WATCH_EVERY_S = 0.5


def _process_key(pid: int) -> tuple[int, float]:
    """A process's pid and start time: the pid alone may be reused once it has ended."""
    return pid, psutil.Process(pid).create_time()


def _alive(key: tuple[int, float]) -> bool:
    try:
        process = psutil.Process(key[0])
        return process.create_time() == key[1] and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _die_with_parent(main: tuple[int, float]) -> None:
    """End this worker as soon as the command that started it ends (never an orphan).

    ``main`` is the command's process (:func:`_process_key`). A daemon thread checks every
    half second that it still runs; the worker's own parent may be the forkserver, which
    lives on while any worker does, so the command is watched, not the parent. On Linux
    the kernel also sends SIGKILL when the parent ends (``prctl(PR_SET_PDEATHSIG)``). A
    worker holds nothing to save: the parent writes every file.
    """
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    def watch() -> None:
        while _alive(main):
            time.sleep(_WATCH_EVERY_S)
        os._exit(0)

    if not _alive(main):  # gone before the worker started
        os._exit(0)
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _worker_main(conn: Connection, fn: TaskFn, context: Any, main: tuple[int, float]) -> None:
    """A pool worker: run the tasks the parent sends, one at a time, until told to stop.

    When the parent is gone (its end of the pipe closed), the worker ends quietly: no
    BrokenPipe traceback reaches the terminal after the parent was stopped.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    _die_with_parent(main)

    def send(message: tuple[Any, ...]) -> None:
        try:
            conn.send(message)
        except (OSError, EOFError, ValueError):  # the parent is gone: nothing to tell
            os._exit(0)

    def report(steps: int) -> None:
        send(("steps", steps))

    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if message is None:
            return
        key, args = message
        started = time.perf_counter()
        try:
            with task_garbage_collected():
                payload = fn(context, *args, report=report)
        except Exception:
            send(("error", key, error_text(), time.perf_counter() - started))
        else:
            send(("done", key, payload, time.perf_counter() - started))


def _mp_context() -> ForkServerContext | SpawnContext:
    """forkserver where available (workers fork from a server that imported sim once)."""
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["sim.experiment.runner"])  # numpy, pandas, Mesa imported once
        return ctx
    return mp.get_context("spawn")


@dataclass
class _Slot:
    process: BaseProcess
    conn: Connection
    task: Task | None = None
    steps: int = 0  # steps reported for the current task
    group: Hashable = None  # the group of the last task (what the worker keeps)


def _death(process: BaseProcess) -> str:
    code = process.exitcode
    if code is not None and code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class LocalPool:
    """``workers`` processes on this machine; a task whose worker dies is retried."""

    reports_steps = True

    def __init__(self, workers: int, max_attempts: int = MAX_ATTEMPTS) -> None:
        self.workers = max(1, int(workers))
        self.max_attempts = max(1, int(max_attempts))
        self.peak_in_flight = 0  # most tasks held at once (a memory bound: <= workers)

    def describe(self) -> str:
        """See :class:`Executor`."""
        return f"{self.workers} local worker process{'es' if self.workers != 1 else ''}"

    def _start(self, ctx: ForkServerContext | SpawnContext, fn: TaskFn, context: Any) -> _Slot:
        parent, child = ctx.Pipe(duplex=True)
        main = _process_key(os.getpid())
        process = ctx.Process(target=_worker_main, args=(child, fn, context, main), daemon=True)
        process.start()
        child.close()
        return _Slot(process, parent)

    def map(
        self, fn: TaskFn, context: Any, tasks: Iterable[Task], on_steps: Callable[[int], None]
    ) -> Iterator[Outcome]:
        """See :class:`Executor`."""
        pending = _Pending(tasks)
        if not pending:
            return
        ctx = _mp_context()
        attempts: dict[int, int] = {}
        slots: list[_Slot] = []
        try:
            with _sigint_deferred():  # start every worker before Ctrl-C can stop anything
                for _ in range(min(self.workers, len(pending))):
                    slots.append(self._start(ctx, fn, context))
            while pending or any(s.task is not None for s in slots):
                for slot in slots:
                    if slot.task is None and pending:
                        others = {s.group for s in slots if s is not slot}
                        task = pending.take(slot.group, others)
                        attempts[task.key] = attempts.get(task.key, 0) + 1
                        slot.task, slot.steps, slot.group = task, 0, task.group
                        with contextlib.suppress(OSError):  # a dead worker: seen below
                            slot.conn.send((task.key, task.args))
                busy = sum(s.task is not None for s in slots)
                self.peak_in_flight = max(self.peak_in_flight, busy)
                wait([s.conn for s in slots] + [s.process.sentinel for s in slots], timeout=1.0)
                for slot in list(slots):
                    yield from self._collect(slot, attempts, on_steps)
                    if slot.process.is_alive():
                        continue
                    # The worker is gone: retry its task (bounded), replace the worker.
                    slot.process.join()
                    yield from self._collect(slot, attempts, on_steps)  # sent before it died
                    held, slot.task = slot.task, None
                    if held is not None:
                        on_steps(-slot.steps)
                        if attempts[held.key] < self.max_attempts:
                            pending.put_back(held)
                        else:
                            error = (
                                f"the worker process running it died {attempts[held.key]} "
                                f"times (last: {_death(slot.process)})"
                            )
                            yield Outcome(held.key, None, error, attempts[held.key], None)
                    slot.conn.close()
                    slots.remove(slot)
                    if pending:
                        with _sigint_deferred():
                            slots.append(self._start(ctx, fn, context))
        except BaseException:  # Ctrl-C, or the consumer stopped: stop every worker now
            for slot in slots:
                slot.process.terminate()
            for slot in slots:
                slot.process.join(timeout=10)
                slot.conn.close()
            raise
        for slot in slots:
            with contextlib.suppress(OSError):
                slot.conn.send(None)
        for slot in slots:
            slot.process.join(timeout=10)
            if slot.process.is_alive():
                slot.process.terminate()
            slot.conn.close()

    def _collect(
        self, slot: _Slot, attempts: dict[int, int], on_steps: Callable[[int], None]
    ) -> Iterator[Outcome]:
        """Every message the worker has sent; stops at the end of the pipe."""
        while True:
            try:
                if not slot.conn.poll():
                    return
                message = slot.conn.recv()
            except (EOFError, OSError):
                slot.process.join(timeout=5)  # the pipe ended: the process is ending too
                return
            kind = message[0]
            if kind == "steps":
                slot.steps += message[1]
                on_steps(message[1])
                continue
            _, key, value, wall = message
            slot.task = None
            if kind == "done":
                yield Outcome(key, value, None, attempts[key], wall)
            else:
                yield Outcome(key, None, value, attempts[key], wall)


@contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold Ctrl-C back until the block is done, then raise it (main thread only).

    Starting workers must not be cut short: a worker interrupted half-way through its
    start is not yet known to the parent, so it could not be stopped.
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


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Inside the block, SIGTERM raises :class:`sim.common.errors.Terminated` (a
    KeyboardInterrupt), so it stops workers and keeps the run store as Ctrl-C does
    (main thread only; the previous handler is restored after)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: object) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# --------------------------------------------------------------------------- choice


def make_executor(name: str, workers: int, scheduler: str | None = None) -> Executor:
    """The executor ``name`` ('local' or 'dask') with ``workers`` workers.

    'local' with one worker runs in this process; a scheduler address needs 'dask'.
    """
    if name not in EXECUTORS:
        raise ValueError(f"executor {name!r}: expected one of {', '.join(EXECUTORS)}")
    if name == "dask":
        # An optional backend, imported when chosen: importing distributed costs about
        # 0.4 s, which every local run (and every forkserver) would otherwise pay.
        dask_executor = importlib.import_module("sim.experiment.dask_executor")
        executor: Executor = dask_executor.DaskExecutor(workers, scheduler)
        return executor
    if scheduler:
        raise ValueError("--scheduler needs --executor dask")
    return InProcess() if workers <= 1 else LocalPool(workers)


def usable_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
