"""The live page: controls on the left, the two runs' charts on the right (Solara).

Why not Mesa's ``SolaraViz`` as a whole: it drives one model, re-created from constructor
keywords, and redraws every component each step; this page runs two models on one seed
(the baseline and the edited policy), edits nested schema keys, and must update ten or
more times a second with 10,000 people. It follows SolaraViz's controller pattern (a
threaded ``solara.lab.use_task`` loop that steps while playing; reset, play/pause, step)
and draws the charts as SVG strings built off the render path (:mod:`sim.view.charts`),
so a frame sends a few kilobytes and re-renders only the charts.

Each browser tab gets its own :class:`~sim.view.session.ViewSession`. Stepping and lever
changes hold the session's lock, so a slider moved while playing waits for the step in
progress. A lever change replays the edited run to the current step; a market assumption,
the seed or the baseline restarts both runs.

Everything the charts draw is in the DOM: each chart's ``data-values`` (JSON), and
``#mv-status`` holds the step, whether work is pending, and the exact settings.

Over 500 lines on purpose: it is one page whose components share the session, its lock
and the play loop through Solara's hooks; the charts, controls, session and server,
which stand alone, are modules of their own.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import reacton.ipyvuetify as rv
import solara
import solara.lab

from sim.common.formatting import format_number
from sim.config.bundled import resolve_scenario_path
from sim.config.scenario_file import ScenarioFile, load_scenario
from sim.report.style import OKABE_ITO
from sim.view.charts import (
    POLICY_COLORS,
    bar_compare,
    data_attribute,
    graph_edges,
    graph_nodes,
    line_chart,
    pyramid_chart,
)
from sim.view.controls import (
    MIXES,
    ControlSpec,
    lever_controls,
    lever_values,
    market_controls,
    market_values,
)
from sim.view.session import PYRAMID_TIERS, RunFrame, ViewSession

__all__ = ["FRAME_INTERVAL_S", "Page", "build_view", "configure", "new_session"]

FRAME_INTERVAL_S = 0.05
"""While playing, a new frame is drawn at most this often (20 a second); steps in between
still run, so a fast engine is not held back by drawing."""

_CONFIG: dict[str, Any] = {"path": None, "graph_sample": 150}


def configure(scenario: str | Path | None, graph_sample: int = 150) -> ScenarioFile | None:
    """Choose the scenario every new tab opens with (a file or a bundled name); validated
    now, so a bad file fails before the server starts. Returns the loaded file."""
    sf = load_scenario(resolve_scenario_path(scenario)) if scenario else None
    _CONFIG["path"] = str(scenario) if scenario else None
    _CONFIG["graph_sample"] = int(graph_sample)
    return sf


def new_session() -> ViewSession:
    """A session on the configured scenario: its first policy is the baseline."""
    path = _CONFIG["path"]
    size = int(_CONFIG["graph_sample"])
    if not path:
        return ViewSession(graph_sample=size)
    sf = load_scenario(resolve_scenario_path(path))
    policies = {p.name: p for p in sf.engine_policies()}
    first = next(iter(policies.values()))
    start = list(policies.values())[1] if len(policies) > 1 else first
    return ViewSession(
        sf.to_scenario(), first, start, policies=policies, graph_sample=size, source=sf
    )


# ------------------------------------------------------------------------------ frames


def _series(frames: list[RunFrame], measure: str) -> list[np.ndarray]:
    return [f.focal.get(measure, np.full(f.steps.size, np.nan)) for f in frames]


def build_view(session: ViewSession) -> dict[str, str]:
    """Every chart of the page as HTML, from the session's current state (no Solara)."""
    frames = session.frame()
    names = [session.baseline.name, session.edited.name]
    if names[0] == names[1]:
        names[1] += " (edited)"
    labels = [f"baseline: {names[0]}", f"edited: {names[1]}"]
    x = frames[0].steps
    horizon = session.horizon
    out: dict[str, str] = {}
    cmax = max(float(np.nanmax(f.customers)) if f.customers.size else 1.0 for f in frames)
    for k, f in enumerate(frames):
        out[f"customers-{k}"] = line_chart(
            f"customers-{['baseline', 'edited'][k]}",
            f"Customers by firm, {labels[k]}",
            f.steps,
            [(name, f.customers[:, j], _firm_color(j)) for j, name in enumerate(f.firms)],
            "people",
            x_max=horizon,
            y_range=(0.0, cmax * 1.05),
        )
    charts = (
        ("profit", "Profit per step, focal firm", "money"),
        ("cumulative_profit", "Cumulative profit, focal firm", "money"),
        ("nps", "Net promoter score, focal firm", "points"),
        ("retention_rate", "Retention rate, focal firm", "share"),
    )
    for measure, title, unit in charts:
        ys = _series(frames, measure)
        out[measure] = line_chart(
            measure.replace("_", "-"),
            title,
            x,
            [(labels[k], ys[k][: x.size], POLICY_COLORS[k]) for k in range(2)],
            unit,
            x_max=horizon,
            zero=measure in ("profit", "cumulative_profit"),
        )
    reasons = list(frames[0].churn)
    out["churn"] = bar_compare(
        "churn",
        "Customers lost so far by reason, focal firm",
        reasons,
        [(labels[k], frames[k].churn, POLICY_COLORS[k]) for k in range(2)],
        "people",
    )
    tiers = [t for t in PYRAMID_TIERS if t in frames[0].pyramid]
    out["pyramid"] = pyramid_chart(
        "pyramid",
        "Customer pyramid now, focal firm",
        tiers,
        (labels[0], frames[0].pyramid, POLICY_COLORS[0]),
        (labels[1], frames[1].pyramid, POLICY_COLORS[1]),
    )
    sample = session.sample
    if sample is not None:
        out["graph-edges"] = graph_edges(sample.xy, sample.edges)
        for k in range(2):
            firm, referral, deterred = sample.take_lit(k)
            out[f"graph-{k}"] = graph_nodes(
                ["baseline", "edited"][k], sample.xy, firm, referral, deterred, frames[k].step
            )
    out["summary"] = _summary(frames, labels)
    out["status"] = _status(session, frames)
    out["step"] = str(frames[0].step)
    out["page"] = _page(out)
    return out


_GRAPH_NOTE = (
    "<b>Social graph, a sample of people</b>: colour = their firm (grey: none); "
    "<span style='color:#00B050'>green ring</span> = won by a referral, "
    "<span style='color:#E00000'>red ring</span> = deterred from the focal firm by a "
    "detractor, since the last frame"
)


def _page(view: dict[str, str]) -> str:
    """The summary table and every chart as one HTML string, two columns (the graph view
    is drawn apart: its edges do not change while the runs play, so they are not resent)."""
    pairs = (
        ("customers-0", "customers-1"),
        ("profit", "cumulative_profit"),
        ("nps", "retention_rate"),
        ("churn", "pyramid"),
    )
    cells = "".join(f"<div>{view.get(a, '')}</div><div>{view.get(b, '')}</div>" for a, b in pairs)
    return f"{view.get('summary', '')}<div class='mv-grid'>{cells}</div>"


def _firm_color(j: int) -> str:
    """Firm ``j``'s colour (the focal firm first), the same in every chart and the graph."""
    return OKABE_ITO[j % len(OKABE_ITO)]


def _summary(frames: list[RunFrame], labels: list[str]) -> str:
    rows = (
        ("customers", "Customers", "people"),
        ("profit", "Profit this step", "money"),
        ("cumulative_profit", "Cumulative profit", "money"),
        ("nps", "NPS", "points"),
        ("retention_rate", "Retention rate", "share"),
    )
    body = []
    for measure, title, unit in rows:
        vals = [
            float(f.focal[measure][-1]) if f.steps.size and measure in f.focal else None
            for f in frames
        ]
        diff = vals[1] - vals[0] if vals[0] is not None and vals[1] is not None else None
        fmt_unit = "share" if unit == "share" else ""
        cells = "".join(
            f'<td data-measure="{measure}" data-run="{r}" data-value="{data_attribute(v)}">'
            f"{format_number(v, fmt_unit)}</td>"
            for r, v in zip(("baseline", "edited"), vals, strict=True)
        )
        body.append(
            f"<tr><th>{title}</th>{cells}<td>{format_number(diff, fmt_unit, signed=True)}</td></tr>"
        )
    wom = "".join(
        f"<tr><th>{k.replace('_', ' ')} (market, this step)</th>"
        + "".join(f"<td>{format_number(f.word_of_mouth.get(k))}</td>" for f in frames)
        + "<td></td></tr>"
        for k in ("referral_conversions", "peers_deterred")
    )
    head = "".join(f"<th>{label}</th>" for label in labels)
    return (
        f'<table class="mv-summary" id="mv-summary"><tr><th>step {frames[0].step}</th>{head}'
        f"<th>edited − baseline</th></tr>{''.join(body)}{wom}</table>"
    )


def _status(session: ViewSession, frames: list[RunFrame]) -> str:
    settings = {
        "seed": session.seed,
        "market": session.market,
        "baseline": session.baseline.model_dump(mode="json"),
        "edited": session.edited.model_dump(mode="json"),
        "steps": [f.step for f in frames],
    }
    return json.dumps(settings)


# ------------------------------------------------------------------------------ state


@dataclass
class _Holder:
    """One tab's session, its lock, and the latest requested settings."""

    session: ViewSession
    lock: threading.Lock = field(default_factory=threading.Lock)
    levers: dict[str, float] = field(default_factory=dict)
    market: dict[str, float] = field(default_factory=dict)
    latest: dict[str, str] | None = None  # the newest frame built while playing
    fresh: threading.Event = field(default_factory=threading.Event)  # ... not yet shown


@solara.component
def _Slider(
    spec: ControlSpec, value: float, on_value: Callable[[str, float], None], note: str
) -> None:
    """A slider built from the schema: label, range, unit and description shown."""

    def changed(v: Any) -> None:
        on_value(spec.path, spec.clamp(float(v)))

    shown = format_number(value, exact=True) if spec.integer else format_number(value)
    with solara.Column(gap="0px", classes=["mv-control", f"mv-control-{spec.slug}"]):
        rv.Slider(
            v_model=value,
            on_v_model=changed,
            min=spec.low,
            max=spec.high,
            step=spec.step,
            label=spec.label,
            thumb_label=True,
            hide_details=True,
            dense=True,
            class_=f"mv-slider mv-slider-{spec.slug}",
        )
        unit = f" {spec.unit}" if spec.unit and spec.unit != "dimensionless" else ""
        text = f"{shown}{unit}{note} — {spec.description}"
        solara.HTML(
            "div",
            unsafe_innerHTML=_escape(text),
            classes=["mv-caption"],
            attributes={"data-path": spec.path, "data-value": repr(float(value))},
        )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_CSS = """
.mv-caption { font-size: 11px; color: #666; margin: -4px 0 6px 0; line-height: 1.2; }
.mv-chart { background: white; border: 1px solid #eee; border-radius: 4px; }
.mv-summary { border-collapse: collapse; font-size: 13px; }
.mv-summary th, .mv-summary td { padding: 2px 10px; text-align: right; }
.mv-summary th:first-child { text-align: left; }
.mv-graph { position: relative; width: 100%; padding-top: 80%; background: white;
            border: 1px solid #eee; border-radius: 4px; }
.mv-graph > div { position: absolute; left: 0; top: 0; width: 100%; }
.mv-grid { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; margin: 12px 0; }
.mv-graph-note { font-size: 13px; }
"""


def _initial(session: ViewSession) -> dict[str, Any]:
    """The page's starting values, read once per tab."""
    return {
        "levers": dict(session.levers),
        "market": dict(session.market),
        "seed": session.seed,
        "save_path": str(Path.cwd() / f"{session.scenario.name}-view.toml"),
        "baseline": session.baseline.name,
        "start": session.start.name,
    }


@solara.component
def Page() -> None:
    """The page: one session per tab."""
    holder = solara.use_memo(lambda: _Holder(new_session()), [])
    session = holder.session
    first_view = solara.use_memo(lambda: build_view(session), [])
    view = solara.use_reactive(first_view)  # read by _Charts only: a frame re-renders charts
    playing = solara.use_reactive(False)
    busy = solara.use_reactive(False)
    # Initial values are computed once: ``use_reactive(x)`` resets the variable whenever
    # ``x`` changes between renders, which would undo a slider moved during a replay.
    init = solara.use_memo(lambda: _initial(session), [])
    lever_state = solara.use_reactive(init["levers"])
    lever_version = solara.use_reactive(0)
    market_state = solara.use_reactive(init["market"])
    market_version = solara.use_reactive(0)
    seed = solara.use_reactive(init["seed"])
    message = solara.use_reactive("")
    save_path = solara.use_reactive(init["save_path"])
    baseline_name = solara.use_reactive(init["baseline"])
    start_name = solara.use_reactive(init["start"])

    def publish() -> None:
        view.set(build_view(session))

    def play_loop() -> None:
        # Steps as fast as the engine goes; a frame is built (under the lock, a few ms)
        # at most every FRAME_INTERVAL_S and handed to the publisher, so sending a frame
        # to the browser never holds up the steps.
        last = 0.0
        while playing.value:
            with holder.lock:
                if session.finished:
                    break
                session.step()
                now = time.perf_counter()
                if now - last >= FRAME_INTERVAL_S:
                    holder.latest = build_view(session)
                    holder.fresh.set()
                    last = now
            time.sleep(0)  # let a lever change or the publisher take the lock
        with holder.lock:
            final = build_view(session)
            holder.latest = final
        view.set(final)
        if session.finished:
            playing.set(False)

    def publisher() -> None:
        while playing.value:
            if holder.fresh.wait(timeout=0.1):
                holder.fresh.clear()
                if holder.latest is not None:
                    view.set(holder.latest)

    solara.lab.use_task(play_loop, dependencies=[playing.value], prefer_threaded=True)
    solara.lab.use_task(publisher, dependencies=[playing.value], prefer_threaded=True)

    def apply_levers() -> None:
        with holder.lock:
            if holder.levers != session.levers:
                busy.set(True)
                session.set_levers(holder.levers)
                publish()
        busy.set(False)

    solara.lab.use_task(apply_levers, dependencies=[lever_version.value], prefer_threaded=True)

    def apply_market() -> None:
        with holder.lock:
            if holder.market != session.market or seed.value != session.seed:
                busy.set(True)
                try:
                    session.set_market(holder.market, seed=seed.value)
                    message.set("")
                except (ValueError, KeyError) as exc:
                    message.set(f"Not applied: {exc}")
                publish()
        busy.set(False)

    solara.lab.use_task(
        apply_market, dependencies=[market_version.value, seed.value], prefer_threaded=True
    )

    def on_lever(path: str, value: float) -> None:
        holder.levers = {**holder.levers, path: value}
        busy.set(True)
        lever_state.set(dict(holder.levers))
        lever_version.set(lever_version.value + 1)

    def on_market(path: str, value: float) -> None:
        holder.market = {**holder.market, path: value}
        busy.set(True)
        market_state.set(dict(holder.market))
        market_version.set(market_version.value + 1)

    def do_step() -> None:
        with holder.lock:
            session.step()
            publish()

    def do_reset() -> None:
        playing.set(False)
        with holder.lock:
            session.reset()
            publish()

    def on_baseline(name: str | None) -> None:
        if not name:
            return
        baseline_name.set(name)
        with holder.lock:
            session.set_baseline(name)
            publish()

    def on_start(name: str | None) -> None:
        if not name:
            return
        start_name.set(name)
        with holder.lock:
            session.set_start(name)
            holder.levers = {}
            lever_state.set({})
            publish()

    def do_save() -> None:
        with holder.lock:
            try:
                path = session.save(save_path.value)
            except (OSError, ValueError) as exc:
                message.set(f"Could not save: {exc}")
                return
        message.set(f"Saved {path} — run it with: marketsim run {path}")

    solara.Style(_CSS)
    solara.Title("marketsim view")
    with solara.AppBar():
        solara.AppBarTitle(f"marketsim view: {session.base_scenario.name}")

    policy_names = list(session.policies)
    levers = lever_controls(session.start)
    shown_levers = {**lever_values(session.start, levers), **lever_state.value}
    edited = session.edited.model_dump()
    markets = market_controls(session.base_scenario)
    shown_market = {**market_values(session.base_scenario, markets), **market_state.value}

    with solara.Sidebar(), solara.Column(style={"min-width": "330px"}):
        with solara.Card("Run"):
            with solara.Row():
                solara.Button(
                    "Pause" if playing.value else "Play",
                    on_click=lambda: playing.set(not playing.value),
                    color="primary",
                    classes=["mv-play"],
                    disabled=session.finished,
                )
                solara.Button(
                    "Step",
                    on_click=do_step,
                    classes=["mv-step"],
                    disabled=playing.value or session.finished,
                )
                solara.Button("Reset", on_click=do_reset, classes=["mv-reset"])
            solara.InputInt("Seed (both runs)", value=seed, classes=["mv-seed"])
            solara.Select(
                "Baseline policy",
                values=policy_names,
                value=baseline_name.value,
                on_value=on_baseline,
                classes=["mv-baseline"],
            )
            solara.Select(
                "Edited policy starts from",
                values=policy_names,
                value=start_name.value,
                on_value=on_start,
                classes=["mv-start"],
            )
        with solara.Card("Levers of the edited policy"):
            for spec in levers:
                note = ""
                head = spec.path.split(".")[0]
                if head in MIXES:
                    used = edited[head][spec.path.split(".")[1]]
                    note = f" (used: {format_number(used, 'share')} after scaling the mix to 100%)"
                _Slider(spec, shown_levers[spec.path], on_lever, note)
        with solara.Card("Market (both policies; restarts the runs)"):
            for spec in markets:
                _Slider(spec, shown_market[spec.path], on_market, "")
        with solara.Card("Save as scenario"):
            solara.InputText("File", value=save_path, classes=["mv-save-path"])
            solara.Button(
                "Save as scenario", on_click=do_save, classes=["mv-save"], color="secondary"
            )
        if message.value:
            solara.HTML("div", unsafe_innerHTML=_escape(message.value), classes=["mv-message"])

    _Charts(view, busy, playing)


@solara.component
def _Charts(
    frame: solara.Reactive[dict[str, str]],
    busy_state: solara.Reactive[bool],
    playing: solara.Reactive[bool],
) -> None:
    """The charts of both runs. Only this component reads the frame, so a new frame
    re-renders the charts, not the controls; and the charts are one HTML element, so a
    frame is one message to the browser (each element costs a round of reconciliation
    and a message; with one per chart a frame took about five times longer)."""
    view = frame.value
    busy = busy_state.value or playing.value
    status = view.get("status", "{}")
    step = view.get("step", "0")
    solara.HTML(
        "div",
        unsafe_innerHTML=f"step {step}{' (running)' if busy else ''}",
        attributes={
            "id": "mv-status",
            "data-step": step,
            "data-busy": "1" if busy else "0",
            "data-settings": status,
        },
    )
    solara.HTML("div", unsafe_innerHTML=view.get("page", ""), classes=["mv-charts"])
    if "graph-edges" in view:
        solara.HTML("div", unsafe_innerHTML=_GRAPH_NOTE, classes=["mv-graph-note"])
        with solara.Div(classes=["mv-grid"]):
            for k, name in enumerate(("baseline", "edited")):
                with solara.Div():
                    solara.Text(name)
                    with solara.Div(classes=["mv-graph"]):
                        solara.HTML("div", unsafe_innerHTML=view["graph-edges"])
                        solara.HTML("div", unsafe_innerHTML=view.get(f"graph-{k}", ""))
