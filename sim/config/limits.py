"""How much memory and time an experiment needs, checked before anything runs.

A scenario can be valid key by key and still be impossible: ten billion people, a
billion steps or replications, a million suppliers per firm. :func:`check_resources`
estimates from the resolved scenario what one run holds in memory (people, social ties,
staff, suppliers, the run's own records), what the runs kept in flight at once hold
(one per worker process), what the parent holds per planned run, and how long it all
takes; it refuses up front, with a message naming the values and exit code 2, what cannot
fit in the memory available now. A long run time is only reported (``estimate.summary()``).

The constants were measured on this code base (Linux, CPython 3.12, numpy 2) with the
peak resident set size (``resource.getrusage(...).ru_maxrss``) of one
``MarketModel(scenario).run(steps)`` in a fresh process, after imports, varying one size at
a time (``MEASURED`` lists the runs); they are rounded up, as an estimate that refuses a
run that would have fitted is cheaper than one that lets a run die at 90%.

>>> est = estimate_resources(Scenario(), runs=40, workers=2, available=8 * GIB)
>>> est.fits, est.runs, est.people
(True, 40, 10000)
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

import psutil

from sim.common.errors import UserError
from sim.config.experiment_spec import UncertaintySpec
from sim.config.graph_files import FILE_GRAPH_KINDS
from sim.config.scenario_file import ScenarioFile
from sim.config.schema import Scenario

__all__ = [
    "BYTES_PER_EDGE",
    "BYTES_PER_FILE_EDGE",
    "BYTES_PER_FIRM_STEP",
    "BYTES_PER_PERSON",
    "BYTES_PER_PERSON_AGENT",
    "BYTES_PER_PLANNED_RUN",
    "BYTES_PER_STAFF",
    "BYTES_PER_SUPPLIER",
    "GIB",
    "MAX_STAFF_PER_FIRM",
    "MAX_SUPPLIERS_PER_FIRM",
    "MEASURED",
    "PROCESS_BYTES",
    "ResourceEstimate",
    "ResourceLimitError",
    "check_resources",
    "estimate_resources",
    "runs_of",
]

GIB = 1 << 30

# --------------------------------------------------------------------------- constants

PROCESS_BYTES = 160 * 1024 * 1024
"""One Python process with the model imported (numpy, pandas, Mesa, networkx): 129 MB
measured after imports, rounded up; every worker pays it."""

BYTES_PER_PERSON = 300
"""Vectorized engine, per person: the population arrays, one step's temporaries and the
metrics. 1,000,000 people with no ties peaked 250 MB above the imports (3 steps)."""

BYTES_PER_EDGE = 30
"""Generated social graph, per undirected tie, at its peak while being built (the CSR
keeps 12): 200,000 people at mean degree 40 peaked 86 MB above mean degree 10."""

BYTES_PER_FILE_EDGE = 500
"""A graph file, per edge: read into networkx (about 170 B per edge, measured with a
million edges) plus the parsed pairs and labels, before it becomes the CSR."""

BYTES_PER_PERSON_AGENT = 2500
"""The per-customer Mesa engine (``simulation.engine = "agent"``), per person: 20,000
people peaked 50 MB above the imports."""

BYTES_PER_STAFF = 500
"""Per employee (a Mesa agent with its state): 4 firms x 50,000 employees peaked 92 MB."""

BYTES_PER_SUPPLIER = 550
"""Per supplier (a Mesa agent with its ladder state): 4 firms x 20,000 suppliers, 42 MB."""

BYTES_PER_FIRM_STEP = 4500
"""Per firm and step of one run: its time series, cohorts and the DataCollector's rows
kept until the run ends (1,000 people, 4 firms, 3,000 steps peaked 53 MB above 3 steps)."""

BYTES_PER_PLANNED_RUN = 2000
"""Per run of the experiment in the parent process: its plan entry (250 B measured for a
plan of 10**6 runs), its record in the run index and that index's JSON, its outcomes row."""

SECONDS_PER_STEP = 0.005
"""Fixed cost of one step whatever the market size (firms, Mesa): 1,000 people, 3,000 steps
took 13 s."""

SECONDS_PER_PERSON_STEP = 2.0e-7
"""Vectorized engine: 1,000,000 people ran 3 steps in 0.57 s (190 ns per person-step)."""

SECONDS_PER_PERSON_STEP_AGENT = 9.0e-5
"""Agent engine: 20,000 people ran 5 steps in 8.6 s (86 us per person-step)."""

SECONDS_PER_STAFF_STEP = 1.0e-6
"""Per employee and step: 200,000 employees ran 2 steps in 0.4 s."""

SECONDS_PER_SUPPLIER_STEP = 2.0e-5
"""Per supplier and step: 80,000 suppliers ran 1 step in 1.55 s."""

MAX_STAFF_PER_FIRM = 1_000_000
"""More employees per firm than the largest employers on earth is a typo, not a market."""

MAX_SUPPLIERS_PER_FIRM = 100_000
"""Suppliers act one by one (about 20 us each per step); beyond this a run takes days."""

LONG_RUN_SECONDS = 24 * 3600.0
"""An experiment estimated to take longer than a day gets a note in its summary."""

MEASURED: tuple[str, ...] = (
    "people steps staff/firm suppliers/firm engine -> peak RSS above imports, run time",
    "100,000 deg 10, 10 steps, 20, 3, vectorized -> 36 MB, 0.32 s",
    "200,000 deg 10, 10 steps, 20, 3, vectorized -> 65 MB, 0.39 s",
    "200,000 deg 40, 10 steps, 20, 3, vectorized -> 151 MB, 0.33 s",
    "1,000,000 deg 10, 3 steps, 20, 3, vectorized -> 297 MB, 0.57 s",
    "1,000,000 deg 0, 3 steps, 20, 3, vectorized -> 250 MB, 0.40 s",
    "1,000 deg 10, 3,000 steps, 20, 3, vectorized -> 58 MB, 13 s",
    "1,000 deg 10, 2 steps, 50,000, 3, vectorized -> 94 MB, 0.40 s",
    "1,000 deg 10, 1 step, 20, 20,000, vectorized -> 46 MB, 1.55 s (+1.3 s to build)",
    "20,000 deg 10, 5 steps, 20, 3, agent -> 50 MB, 8.6 s",
)
"""The measurements behind the constants (tools: /usr/bin/time-like ``ru_maxrss``)."""


class ResourceLimitError(UserError):
    """The experiment cannot fit in this machine's memory, or a size makes no sense."""


@dataclass(frozen=True)
class ResourceEstimate:
    """What an experiment needs, and what the machine has (bytes and seconds)."""

    people: int
    edges: int
    staff: int
    suppliers: int
    steps: int
    runs: int
    workers: int
    bytes_per_run: int
    bytes_planned: int
    bytes_needed: int
    bytes_available: int
    seconds_per_run: float
    seconds_total: float

    @property
    def fits(self) -> bool:
        """Whether the runs in flight and the plan fit in the memory available."""
        return self.bytes_needed <= self.bytes_available

    @property
    def long(self) -> bool:
        """Whether the experiment is estimated to take longer than a day."""
        return self.seconds_total > LONG_RUN_SECONDS

    def summary(self) -> str:
        """One line: memory needed of available, and the estimated time.

        >>> estimate_resources(Scenario(), runs=4, workers=1, available=GIB).summary()
        'about 175 MB of memory (1.1 GB available), about 5 s for 4 runs on 1 worker'
        """
        worker = "worker" if self.workers == 1 else "workers"
        text = (
            f"about {_bytes(self.bytes_needed)} of memory ({_bytes(self.bytes_available)} "
            f"available), about {_duration(self.seconds_total)} for {self.runs:,} "
            f"run{'s' if self.runs != 1 else ''} on {self.workers} {worker}"
        )
        if self.long:
            text += " (a long experiment: fewer replications, steps or people run faster)"
        return text


def _bytes(n: float) -> str:
    """Bytes in words.

    >>> _bytes(3 * GIB), _bytes(5e6), _bytes(1e15)
    ('3.2 GB', '5 MB', '1,000,000 GB')
    """
    if n >= 1e9:
        return f"{n / 1e9:,.1f} GB" if n < 1e11 else f"{n / 1e9:,.0f} GB"
    return f"{max(n, 1e6) / 1e6:,.0f} MB"


def _duration(seconds: float) -> str:
    """Seconds in words.

    >>> _duration(4.2), _duration(5400), _duration(86400 * 900)
    ('4 s', '90 minutes', '2.5 years')
    """
    if seconds < 120:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} minutes"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.1f} hours"
    if seconds < 365 * 86400:
        return f"{seconds / 86400:.0f} days"
    return f"{seconds / (365 * 86400):,.1f} years"


# --------------------------------------------------------------------------- estimates


def _largest(uncertainties: Mapping[str, UncertaintySpec], path: str, value: float) -> float:
    """The largest value ``path`` takes across the sampled markets (its range's top)."""
    spec = uncertainties.get(path)
    if spec is None:
        return value
    return max([value, *spec.extremes()])


def runs_of(sf: ScenarioFile, variants: int | None = None) -> int:
    """Runs of the experiment ``sf``: policies x sampled markets (or
    ``variants``, e.g. a sweep's grid points) x replications, computed, never listed."""
    if variants is None:
        variants = sf.experiment.scenarios if sf.uncertainties else 1
    reps = sf.experiment.replications
    reps = sf.simulation.replications if reps is None else reps
    return max(1, len(sf.policies)) * max(1, int(variants)) * int(reps)


def estimate_resources(
    scenario: Scenario,
    runs: int,
    workers: int = 1,
    available: int | None = None,
    uncertainties: Mapping[str, UncertaintySpec] | None = None,
    graph_file_bytes: int | None = None,
) -> ResourceEstimate:
    """The memory and time ``runs`` runs of ``scenario`` need on ``workers`` processes.

    ``uncertainties`` (a scenario file's) raise the sizes to the top of their ranges;
    ``graph_file_bytes`` sizes a graph file's edges; ``available`` defaults to the
    memory available now (``psutil.virtual_memory().available``).
    """
    u = uncertainties or {}
    people = int(_largest(u, "market.n_customers", scenario.market.n_customers))
    degree = _largest(u, "network.mean_degree", scenario.network.mean_degree)
    firms = 1 + len(scenario.competitors)
    staff_per_firm = int(_largest(u, "employees.per_firm", scenario.employees.per_firm))
    suppliers_per_firm = int(_largest(u, "suppliers.per_firm", scenario.suppliers.per_firm))
    staff = firms * staff_per_firm if scenario.employees.enabled else 0
    suppliers = firms * suppliers_per_firm if scenario.suppliers.enabled else 0
    steps = scenario.simulation.steps
    kind = scenario.network.kind
    if kind == "complete":
        edges, edge_bytes = 0, 0  # held implicitly, never stored
    elif kind in FILE_GRAPH_KINDS:
        edges = (graph_file_bytes or 0) // 8  # "12 345\n": a short edge line
        edge_bytes = BYTES_PER_FILE_EDGE
    else:
        edges = int(people * degree // 2)
        edge_bytes = BYTES_PER_EDGE
    agent = scenario.simulation.engine == "agent"
    per_person = BYTES_PER_PERSON_AGENT if agent else BYTES_PER_PERSON
    bytes_per_run = (
        people * per_person
        + edges * edge_bytes
        + staff * BYTES_PER_STAFF
        + suppliers * BYTES_PER_SUPPLIER
        + firms * steps * BYTES_PER_FIRM_STEP
    )
    workers = max(1, min(int(workers), runs))
    bytes_planned = runs * BYTES_PER_PLANNED_RUN
    needed = PROCESS_BYTES + bytes_planned + workers * bytes_per_run
    if workers > 1:  # worker processes each import the model too
        needed += workers * PROCESS_BYTES
    per_step = (
        SECONDS_PER_STEP
        + people * (SECONDS_PER_PERSON_STEP_AGENT if agent else SECONDS_PER_PERSON_STEP)
        + staff * SECONDS_PER_STAFF_STEP
        + suppliers * SECONDS_PER_SUPPLIER_STEP
    )
    per_run = steps * per_step + suppliers * SECONDS_PER_SUPPLIER_STEP  # build ~ one step
    if available is None:
        available = int(psutil.virtual_memory().available)
    return ResourceEstimate(
        people=people,
        edges=edges,
        staff=staff,
        suppliers=suppliers,
        steps=steps,
        runs=runs,
        workers=workers,
        bytes_per_run=int(bytes_per_run),
        bytes_planned=int(bytes_planned),
        bytes_needed=int(needed),
        bytes_available=int(available),
        seconds_per_run=per_run,
        seconds_total=per_run * math.ceil(runs / workers),
    )


def _nonsense(sf: ScenarioFile) -> list[str]:
    """Sizes no machine makes sensible (whatever its memory)."""
    problems = []
    for section, limit, what in (
        ("employees", MAX_STAFF_PER_FIRM, "employees per firm (more than any employer has)"),
        ("suppliers", MAX_SUPPLIERS_PER_FIRM, "suppliers per firm (each acts on its own)"),
    ):
        spec = getattr(sf, section)
        top = _largest(sf.uncertainties, f"{section}.per_firm", spec.per_firm)
        if spec.enabled and top > limit:
            problems.append(
                f"{section}.per_firm: got {int(top):,}, expected at most {limit:,} {what}"
            )
    return problems


def check_resources(
    sf: ScenarioFile,
    workers: int = 1,
    *,
    variants: int | None = None,
    available: int | None = None,
    source: str | None = None,
    extra_runs: int = 0,
) -> ResourceEstimate:
    """Refuse, before anything is planned or run, an experiment that cannot fit in memory.

    ``sf`` is a resolved scenario file (overrides applied); ``workers`` the
    processes that run at once; ``variants`` the scenario variants when they are not the
    file's sampled markets (a sweep's grid points, a sensitivity design's samples).
    ``source`` (the scenario's file) names it in messages. The number of runs is computed,
    never listed, so 10**9 replications cost nothing here.
    Raises :class:`ResourceLimitError` (exit code 2) naming the sizes when the memory
    needed exceeds the memory available or a size makes no sense; returns the estimate
    (with its time) otherwise.
    """
    problems = _nonsense(sf)
    source = source or f"scenario {sf.name!r}"
    if problems:
        raise ResourceLimitError(
            f"{source}: {'; '.join(problems)}; see the Limits section of the docs"
        )
    graph_bytes = None
    if sf.network.kind in FILE_GRAPH_KINDS and sf.network.path:
        try:
            graph_bytes = os.stat(sf.network.path).st_size
        except OSError:
            graph_bytes = None  # the reader names the problem
    est = estimate_resources(
        sf.to_scenario(),
        runs_of(sf, variants) + extra_runs,
        workers,
        available,
        sf.uncertainties,
        graph_bytes,
    )
    if not est.fits:
        raise ResourceLimitError(_too_big(source, est))
    return est


def _too_big(source: str, est: ResourceEstimate) -> str:
    parts = []
    if est.bytes_per_run * est.workers >= est.bytes_planned:
        parts.append(
            f"each run holds about {_bytes(est.bytes_per_run)} ({est.people:,} people, "
            f"{est.edges:,} social ties, {est.staff:,} employees, {est.suppliers:,} suppliers, "
            f"{est.steps:,} steps)"
            + (f" and {est.workers} run at once (--workers)" if est.workers > 1 else "")
        )
    if est.bytes_planned >= est.bytes_per_run:
        parts.append(
            f"the experiment has {est.runs:,} runs, whose plan and records alone take about "
            f"{_bytes(est.bytes_planned)}"
        )
    return (
        f"{source} cannot run on this machine: it needs about {_bytes(est.bytes_needed)} of "
        f"memory and {_bytes(est.bytes_available)} is available now; "
        + "; ".join(parts)
        + ". Use fewer people (market.n_customers), a smaller network.mean_degree, fewer "
        "steps, replications or --workers (see the Limits section of the docs)"
    )
