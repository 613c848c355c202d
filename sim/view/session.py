"""Two runs of one market side by side: the baseline policy and the one being edited.

Why two models on one seed: a lever's effect is only visible against the same people on
the same social graph (common random numbers), so both runs are ``MarketModel(scenario,
policy, seed)`` with the same scenario and seed, the second reusing the first one's graph.
Moving a lever rebuilds the edited run and replays it to the current step, so the charts
always show what the current settings produce from the start; moving a market assumption
or the seed restarts both. Only the model's public API is used (the constructor,
``step()``, ``results()``, and the ``graph`` and ``population`` views for the graph
sample), so this module needs no change when the model's internals do.

No Solara here: the page (:mod:`sim.view.app`) draws what :meth:`ViewSession.frame`
returns, and the benchmark times the same code without a browser.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from sim.common.files import atomic_write_text
from sim.config.presets import PRESETS
from sim.config.scenario_file import ScenarioFile, dump_toml
from sim.config.schema import Policy, Scenario
from sim.experiment.snapshot import edges_among, network_sample
from sim.model.behaviour.churn import CHURN_REASONS
from sim.model.market import MarketModel
from sim.view.controls import apply_levers

__all__ = [
    "CHURN_PREFIX",
    "FOCAL_SERIES",
    "PYRAMID_TIERS",
    "GraphSample",
    "RunFrame",
    "StepLog",
    "ViewSession",
    "run_frame",
]

FOCAL_SERIES = ("customers", "profit", "cumulative_profit", "nps", "retention_rate")
"""The focal firm's measures charted over time (columns of ``MarketModel.results()``)."""

PYRAMID_TIERS = ("top", "big", "medium", "small", "inactive", "prospects", "suspects")
"""Tiers of the customer pyramid, top first (columns ``tier_<name>``)."""

CHURN_PREFIX = "churned_"


@dataclass(frozen=True)
class RunFrame:
    """What the charts show of one run at its current step (plain numbers, no drawing)."""

    steps: np.ndarray  # 1..t
    firms: tuple[str, ...]
    customers: np.ndarray  # (t, firms)
    focal: dict[str, np.ndarray]  # measure -> (t,)
    churn: dict[str, float]  # reason -> customers lost so far (focal firm)
    pyramid: dict[str, float]  # tier -> people now (focal firm)
    word_of_mouth: dict[str, float]  # market totals this step

    @property
    def step(self) -> int:
        """The last step recorded (0 before the first)."""
        return int(self.steps[-1]) if self.steps.size else 0


def run_frame(results: pd.DataFrame, firms: tuple[str, ...]) -> RunFrame:
    """The charted numbers of one run from its ``results()`` table (any columns missing are
    left out rather than failing: the model may be mid-change)."""
    if results.empty:
        empty = np.zeros(0)
        return RunFrame(empty, firms, np.zeros((0, len(firms))), {}, {}, {}, {})
    n_firms = len(firms)
    steps = results["step"].to_numpy()[::n_firms]
    customers = results["customers"].to_numpy(dtype=float).reshape(-1, n_firms)
    focal_rows = results.iloc[::n_firms]
    focal = {m: focal_rows[m].to_numpy(dtype=float) for m in FOCAL_SERIES if m in results.columns}
    churn = {
        r: float(focal_rows[CHURN_PREFIX + r].sum())
        for r in CHURN_REASONS
        if CHURN_PREFIX + r in results.columns
    }
    last = focal_rows.iloc[-1]
    pyramid = {t: float(last[f"tier_{t}"]) for t in PYRAMID_TIERS if f"tier_{t}" in last.index}
    latest = results.iloc[-n_firms:]
    wom = {k: float(latest[k].sum()) for k in _WOM if k in latest.columns}
    return RunFrame(steps, firms, customers, focal, churn, pyramid, wom)


_WOM = ("referral_conversions", "peers_deterred", "detractor_episodes")


class StepLog:
    """The charted numbers of one run, gathered one step at a time.

    Why: ``results()`` rebuilds the whole table (every column, every step) on each call,
    which at step 150 costs more than a step of 10,000 people; a frame needs six series
    and a few latest values. Each step's record (``model.records[-1]``, the row per firm
    that ``results()`` is built from) is read once; :meth:`frame` equals
    ``run_frame(model.results(), firms)`` (a test checks it).
    """

    def __init__(self, firms: tuple[str, ...]) -> None:
        self.firms = firms
        self.history: dict[str, list[np.ndarray]] = {}
        self.churn: dict[str, float] = {}
        self.latest: dict[str, np.ndarray] = {}

    def add(self, record: Mapping[str, np.ndarray]) -> None:
        """Take the record of the step just run."""
        for key in dict.fromkeys(("customers", *FOCAL_SERIES)):
            if key in record:
                self.history.setdefault(key, []).append(np.asarray(record[key], dtype=float))
        for reason in CHURN_REASONS:
            if CHURN_PREFIX + reason in record:
                value = float(record[CHURN_PREFIX + reason][0])
                self.churn[reason] = self.churn.get(reason, 0.0) + value
        self.latest = dict(record)

    def frame(self) -> RunFrame:
        """The numbers charted now."""
        n = len(self.history.get("customers", []))
        if n == 0:
            return RunFrame(np.zeros(0), self.firms, np.zeros((0, len(self.firms))), {}, {}, {}, {})
        steps = np.arange(1, n + 1)
        customers = np.vstack(self.history["customers"])
        focal = {
            k: np.array([v[0] for v in self.history[k]]) for k in FOCAL_SERIES if k in self.history
        }
        last = self.latest
        pyramid = {t: float(last[f"tier_{t}"][0]) for t in PYRAMID_TIERS if f"tier_{t}" in last}
        wom = {k: float(np.sum(last[k])) for k in _WOM if k in last}
        return RunFrame(steps, self.firms, customers, focal, dict(self.churn), pyramid, wom)


@dataclass
class GraphSample:
    """A snowball sample of the social graph, laid out once, and what lit up on it.

    ``lit_referral``: sampled people won through a referral since the last frame;
    ``lit_deterred``: sampled people a detractor of the focal firm talked out of it since
    the last frame (the focal firm is the one whose policy differs between the runs).
    """

    nodes: np.ndarray
    edges: np.ndarray  # (k, 2) positions into ``nodes``
    xy: np.ndarray  # (n, 2) in [0, 1]
    firm: list[np.ndarray] = field(default_factory=list)  # per run
    lit_referral: list[np.ndarray] = field(default_factory=list)
    lit_deterred: list[np.ndarray] = field(default_factory=list)

    @classmethod
    def of(cls, model: MarketModel, size: int, seed: int) -> GraphSample:
        """Sample ``size`` people of ``model``'s graph and lay them out (spring layout)."""
        rng = np.random.default_rng(seed)
        nodes = network_sample(model.graph, size, rng)
        pairs = edges_among(model.graph, nodes)
        index = {int(v): k for k, v in enumerate(nodes)}
        edges = np.array(
            [
                [index[int(a)], index[int(b)]]
                for a, b in zip(pairs["source"], pairs["target"], strict=True)
            ],
            dtype=np.int64,
        ).reshape(-1, 2)
        g = nx.Graph()
        g.add_nodes_from(range(nodes.size))
        g.add_edges_from(map(tuple, edges.tolist()))
        pos = nx.spring_layout(g, seed=seed, iterations=60)
        xy = np.array([pos[k] for k in range(nodes.size)], dtype=float).reshape(-1, 2)
        if xy.size:
            lo, hi = xy.min(axis=0), xy.max(axis=0)
            xy = (xy - lo) / np.where(hi - lo > 0, hi - lo, 1.0)
        return cls(nodes, edges, xy)

    def start(self, models: list[MarketModel]) -> None:
        """Record the sampled people's firms at the start; nothing lit."""
        self.firm = [np.asarray(m.population.firm[self.nodes]).copy() for m in models]
        n = self.nodes.size
        self.lit_referral = [np.zeros(n, dtype=bool) for _ in models]
        self.lit_deterred = [np.zeros(n, dtype=bool) for _ in models]

    def observe(self, k: int, model: MarketModel) -> None:
        """After a step of run ``k``: light up who was won by referral or deterred."""
        pop = model.population
        firm = np.asarray(pop.firm[self.nodes])
        won = (firm >= 0) & (firm != self.firm[k])
        referred = getattr(pop, "referred", None)
        if referred is not None:
            self.lit_referral[k] |= won & np.asarray(referred[self.nodes], dtype=bool)
        deterred = getattr(pop, "deterred", None)
        if deterred is not None and self.nodes.size:
            # a detractor sets a contact's deterrence to 1; it only decays afterwards
            self.lit_deterred[k] |= np.asarray(deterred[self.nodes, 0]) >= 0.999
        self.firm[k] = firm.copy()

    def take_lit(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(firm, lit by referral, lit by deterrence) of run ``k``; clears the lights."""
        out = (self.firm[k].copy(), self.lit_referral[k].copy(), self.lit_deterred[k].copy())
        self.lit_referral[k][:] = False
        self.lit_deterred[k][:] = False
        return out


class ViewSession:
    """The baseline and the edited run of one market, stepped together.

    Args:
        scenario: the market (from a scenario file or ``Scenario.default()``).
        baseline: the policy compared against (a preset name or a Policy).
        start: the policy the edited one starts from (defaults to the baseline).
        seed: the seed of both runs (defaults to the scenario's).
        policies: named policies the page offers (the scenario file's, then the presets).
        graph_sample: people in the graph view (0 = none).
    """

    def __init__(
        self,
        scenario: Scenario | None = None,
        baseline: str | Policy = "balanced",
        start: str | Policy | None = None,
        seed: int | None = None,
        policies: Mapping[str, Policy] | None = None,
        graph_sample: int = 150,
        source: ScenarioFile | None = None,
    ) -> None:
        self.base_scenario = scenario or Scenario.default()
        self.policies: dict[str, Policy] = dict(policies or {})
        for name, preset in PRESETS.items():
            self.policies.setdefault(name, preset)
        self.baseline = self._policy(baseline)
        self.start = self._policy(start) if start is not None else self.baseline
        self.seed = int(self.base_scenario.simulation.seed if seed is None else seed)
        self.market: dict[str, float] = {}
        self.levers: dict[str, float] = {}
        self.graph_size = graph_sample
        self.source = source
        self.models: list[MarketModel] = []
        self.logs: list[StepLog] = []
        self.sample: GraphSample | None = None
        self.reset()

    # -- settings --------------------------------------------------------------------------
    def _policy(self, policy: str | Policy) -> Policy:
        if isinstance(policy, Policy):
            return policy
        if policy not in self.policies:
            known = ", ".join(self.policies)
            raise ValueError(f"unknown policy '{policy}'; known: {known}")
        return self.policies[policy]

    @property
    def scenario(self) -> Scenario:
        """The market both runs share: the scenario with the page's assumptions and seed."""
        updates: dict[str, object] = dict(self.market)
        updates["simulation.seed"] = self.seed
        return self.base_scenario.with_updates(updates)

    @property
    def edited(self) -> Policy:
        """The edited policy: the starting policy with the page's lever values."""
        name = f"{self.start.name}_edited" if self.start.name == self.baseline.name else None
        return apply_levers(self.start, self.levers, name=name or self.start.name)

    @property
    def horizon(self) -> int:
        """Steps in the scenario's horizon."""
        return int(self.scenario.simulation.steps)

    @property
    def step_count(self) -> int:
        """Steps both runs have taken."""
        return int(self.models[0].steps) if self.models else 0

    @property
    def finished(self) -> bool:
        """Whether the runs reached the scenario's horizon."""
        return self.step_count >= self.horizon

    # -- running ---------------------------------------------------------------------------
    def reset(self) -> None:
        """Start both runs again at step 0 (new market, same seed for both)."""
        scenario = self.scenario
        baseline = MarketModel(scenario, self.baseline, seed=self.seed)
        edited = MarketModel(scenario, self.edited, seed=self.seed, graph=baseline.graph)
        self.models = [baseline, edited]
        self.logs = [StepLog(tuple(m.firm_names)) for m in self.models]
        self.sample = (
            GraphSample.of(baseline, self.graph_size, self.seed) if self.graph_size > 0 else None
        )
        if self.sample is not None:
            self.sample.start(self.models)

    def step(self, n: int = 1) -> None:
        """Advance both runs by ``n`` steps (stops at the horizon)."""
        for _ in range(n):
            if self.finished:
                return
            for k in range(len(self.models)):
                self._advance(k)

    def _advance(self, k: int) -> None:
        """One step of run ``k``: the model, its log, the graph sample's lights."""
        model = self.models[k]
        model.step()
        records = getattr(model, "records", None)
        if records:
            self.logs[k].add(records[-1])
        if self.sample is not None:
            self.sample.observe(k, model)

    def set_levers(self, values: Mapping[str, float]) -> None:
        """New lever values: rebuild the edited run and replay it to the current step."""
        self.levers = dict(values)
        self._replay_edited()

    def set_start(self, policy: str | Policy) -> None:
        """Start the edited policy from another policy (a preset): levers cleared."""
        self.start = self._policy(policy)
        self.levers = {}
        self._replay_edited()

    def set_baseline(self, policy: str | Policy) -> None:
        """Compare against another policy: both runs restart."""
        self.baseline = self._policy(policy)
        self.reset()

    def set_market(self, values: Mapping[str, float], seed: int | None = None) -> None:
        """New market assumptions (and seed): checked, then both runs restart."""
        market = dict(values)
        old = self.market, self.seed
        self.market = market
        if seed is not None:
            self.seed = int(seed)
        try:
            _ = self.scenario  # validates
        except (ValueError, KeyError):
            self.market, self.seed = old
            raise
        self.reset()

    def _replay_edited(self) -> None:
        steps = self.step_count
        baseline = self.models[0]
        edited = MarketModel(self.scenario, self.edited, seed=self.seed, graph=baseline.graph)
        self.models[1] = edited
        self.logs[1] = StepLog(tuple(edited.firm_names))
        if self.sample is not None:
            self.sample.firm[1] = np.asarray(edited.population.firm[self.sample.nodes]).copy()
        for _ in range(steps):
            self._advance(1)

    # -- what the page shows -----------------------------------------------------------------
    def frame(self) -> list[RunFrame]:
        """The charted numbers of both runs (baseline first); from the step logs, or from
        ``results()`` if the model keeps no per-step records."""
        return [
            log.frame() if getattr(m, "records", None) else run_frame(m.results(), log.firms)
            for m, log in zip(self.models, self.logs, strict=True)
        ]

    # -- saving ------------------------------------------------------------------------------
    def scenario_file(self) -> ScenarioFile:
        """The current settings as a scenario file: the market, the seed, the baseline then
        the edited policy (the first policy is the one the others are compared with)."""
        data: dict[str, Any]
        if self.source is not None:
            data = self.source.model_dump(mode="python", exclude_none=True)
        else:
            data = {}
        data.update(self.scenario.model_dump(mode="python", exclude_none=True))
        baseline, edited = self.baseline.model_dump(), self.edited.model_dump()
        if edited["name"] == baseline["name"]:
            edited["name"] = f"{edited['name']}_edited"
        data["policies"] = [baseline, edited]
        return ScenarioFile.model_validate(data)

    def save(self, path: str | Path) -> Path:
        """Write :meth:`scenario_file` as TOML that ``marketsim run`` reads; returns the path."""
        path = Path(path).expanduser()
        header = (
            "Saved from `marketsim view`: the market and seed on the page, the baseline "
            "policy first, then the edited one.\nRun it with: marketsim run " + str(path)
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, dump_toml(self.scenario_file(), header))
        return path
