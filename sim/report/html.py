"""report.html: one self-contained page a strategist can e-mail.

A plain-language headline computed from summary.csv on top ("which policy wins, by how
much, how sure are we"), a line on why, then the figures (PNG embedded as data URIs, no
network access needed), the summary table and the calibration table. Every piece of
user-provided text (scenario, policy and firm names) is HTML-escaped.

Over 500 lines on purpose: the headline, the summary and robustness tables and the page
template share one set of formatting helpers and must change together; the stress
section and the recommendation's rules live in :mod:`sim.report.verdict`, the sweep and
sensitivity page in :mod:`sim.report.design_report`.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from html import escape

import pandas as pd

from sim.analysis.comparison import (
    Comparison,
    compare_policies,
    run_revenue,
    unspent_budget,
    unspent_sentence,
)
from sim.analysis.discovery import discovery_sentence
from sim.analysis.robustness import headline as robust_headline
from sim.analysis.robustness import leading_pair
from sim.analysis.statistics import MeanCI, PairedCI
from sim.analysis.stress import stress_sentences
from sim.common.files import read_table
from sim.common.formatting import format_number, format_percent
from sim.common.outcomes import OUTCOMES, outcome_label
from sim.report.data import ResultsData
from sim.report.labels import money
from sim.report.plots import PlotResult
from sim.report.robustness_figures import ROBUSTNESS_FIGURES
from sim.report.stress_report import STRESS_FIGURE, stress_of
from sim.report.verdict import recommendation_text, stress_section

__all__ = [
    "comparison",
    "headline",
    "recommendation",
    "render_html",
    "robustness_section",
    "why_line",
]

WATERFALL = "9_profit_waterfall"
"""The figure shown under the headline rather than among the figures."""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _label_unit(outcome: str) -> tuple[str, str]:
    """The outcome's label and unit from the registry (the name and no unit if unknown)."""
    known = OUTCOMES.get(outcome)
    return (known.label, known.unit) if known else (outcome_label(outcome), "")


def _fmt(x: float, unit: str = "") -> str:
    return format_number(x, unit)


def _pct(x: float) -> str:
    return format_percent(x)


def _signed_pct(x: float) -> str:
    return format_percent(x, signed=True)


def _row(summary: pd.DataFrame, policy: str, firm: str, outcome: str) -> pd.Series | None:
    hit = summary[
        (summary["policy"] == policy) & (summary["firm"] == firm) & (summary["outcome"] == outcome)
    ]
    return None if hit.empty else hit.iloc[0]


def _rows(
    summary: pd.DataFrame, policies: Sequence[str], firm: str, outcome: str
) -> dict[str, pd.Series]:
    out = {}
    for p in policies:
        row = _row(summary, p, firm, outcome)
        if row is not None:
            out[p] = row
    return out


def _currency(data: ResultsData) -> str | None:
    """The scenario's currency code (``[outputs] currency``), None when it names none."""
    value = data.scenario.get("outputs", {}).get("currency")
    return str(value) if value else None


def _amount(x: float, outcome: str, currency: str | None, *, signed: bool = False) -> str:
    """``x`` in the outcome's unit: money with the currency, other units as the formatter says."""
    known = OUTCOMES.get(outcome)
    if x is None or math.isnan(x):
        return "-"
    if known is not None and known.is_money:
        return money(x, currency, signed=signed)
    if known is not None and known.unit == "points":
        return f"{x:+.1f} points" if signed else f"{x:.1f} points"
    return format_number(x, known.unit if known else "", signed=signed)


def _years(data: ResultsData) -> float:
    return float(data.timeseries["step"].max()) / data.steps_per_year


def _horizon(data: ResultsData) -> str:
    years = _years(data)
    if years >= 1:
        return f"{years:.3g}-year"
    return f"{data.timeseries['step'].max()}-{data.step_length}"


def comparison(data: ResultsData, policy: str, outcome: str = "cumulative_profit") -> Comparison:
    """``policy`` against the baseline on ``outcome`` of the focal firm, pair by pair.

    From outcomes.csv and the revenue of timeseries.csv; a folder without outcomes.csv
    falls back on its summary.csv row (no share of revenue then).
    """
    base = data.policies[0]
    years = _years(data)
    if data.outcomes is not None and outcome in data.outcomes:
        return compare_policies(
            data.outcomes,
            policy=policy,
            baseline=base,
            focal=data.focal,
            outcome=outcome,
            years=years,
            revenue=run_revenue(data.timeseries),
        )
    r = _row(data.summary, policy, data.focal, outcome)
    if r is None:
        raise ValueError(f"no {outcome} of {policy} in summary.csv")
    n = int(r["replications"])
    wins = int(r["wins_vs_baseline"])
    diff = PairedCI(float(r["diff_mean"]), float(r["diff_ci_low"]), float(r["diff_ci_high"]), wins)
    note = r.get("diff_pct_note")
    note = str(note) if isinstance(note, str) and note else None
    pct = None
    if not math.isnan(float(r["diff_pct"])):
        pct = MeanCI(
            float(r["diff_pct"]), math.nan, float(r["diff_pct_low"]), float(r["diff_pct_high"])
        )
        note = None
    return Comparison(
        policy=policy,
        baseline=base,
        outcome=outcome,
        n=n,
        diff=diff,
        agree=wins if diff.mean_diff > 0 else n - wins,
        years=years,
        share_of_revenue=None,
        pct=pct,
        pct_reason=note or (None if pct else "no percentage in summary.csv"),
    )


def _interval(c: Comparison, currency: str | None) -> str:
    """'(95% interval A to B)', or the note that one replication gives none."""
    if c.n < 2 or math.isnan(c.diff.lo):
        return " (one replication, so no interval: run more replications for one)"
    lo = _amount(c.diff.lo, c.outcome, currency, signed=True)
    hi = _amount(c.diff.hi, c.outcome, currency, signed=True)
    return f" (95% interval {lo} to {hi})"


def _scale(c: Comparison, currency: str | None) -> str:
    """'; X a year, Y% of the baseline's revenue' where they apply (sizes: the sentence
    says the direction)."""
    parts = []
    if c.years > 1 and OUTCOMES.get(c.outcome) is not None and OUTCOMES[c.outcome].unit == "money":
        parts.append(f"{_amount(abs(c.per_year.mean_diff), c.outcome, currency)} a year")
    share = c.share_of_revenue
    if share is not None and not math.isnan(share.mean):
        parts.append(f"{format_percent(100 * share.mean)} of {c.baseline}'s revenue")
    return ("; " + ", ".join(parts)) if parts else ""


def _percent_sentence(c: Comparison, label: str) -> str:
    """The percentage change where it means something, else why there is none."""
    if c.pct is None:
        return f" No percentage change is shown: {c.pct_reason}."
    text = f" As a percentage: a {format_percent(c.pct.mean, signed=True)} change from {c.baseline}'s {label}"
    if math.isnan(c.pct.lo):
        return text + "."
    return (
        text + f" (95% interval {format_percent(c.pct.lo, signed=True)} to "
        f"{format_percent(c.pct.hi, signed=True)}, from the ratio in each replication)."
    )


def headline(data: ResultsData, outcome: str = "cumulative_profit") -> list[str]:
    """Plain-language sentences (plain text, not escaped) on which policy wins and how surely.

    The first sentence names the best policy by the mean of ``outcome`` for the focal
    firm and leads with its paired difference from the baseline (the first policy) in
    the outcome's unit, its 95% interval, per year and as a share of the baseline's
    revenue, and how many replications agree; a percentage change follows only where
    :func:`sim.analysis.comparison.percent_reason` allows one, else the reason it is not
    shown; a policy that left part of its budget unspent is named (not at equal spend).
    Then one sentence per other policy.
    """
    s = data.summary
    policies = data.policies
    focal = data.focal
    label = _label_unit(outcome)[0]
    currency = _currency(data)
    rows = _rows(s, policies, focal, outcome)
    if not rows:
        return [f"No {label} in summary.csv."]
    base = policies[0]
    horizon = _horizon(data)
    if len(rows) == 1:
        r = rows[base]
        n = int(r["n"])
        interval = " (one replication, so no interval)"
        if not math.isnan(r["ci_low"]):
            interval = (
                f" (95% interval {_amount(r['ci_low'], outcome, currency)} to "
                f"{_amount(r['ci_high'], outcome, currency)})"
            )
        return [
            f"{base} ends the {horizon} horizon with {_amount(r['mean'], outcome, currency)} "
            f"{label}{interval}, mean of {n} {'replication' if n == 1 else 'replications'}. "
            "Add a second [[policies]] entry to compare."
        ]
    best = max(rows, key=lambda p: rows[p]["mean"])
    featured = best
    if best == base:
        featured = max((p for p in rows if p != base), key=lambda p: rows[p]["mean"])
    c = comparison(data, featured, outcome)
    unclear = ", so the difference is not clear at this many replications"
    if best != base:
        text = (
            f"{best} ends the {horizon} horizon with "
            f"{_amount(abs(c.diff.mean_diff), outcome, currency)} more {label} than {base}"
            f"{_interval(c, currency)}{_scale(c, currency)}; it did better in "
            f"{c.diff.n_a_better} of {c.n} {'replication' if c.n == 1 else 'replications'}"
        )
    else:
        text = (
            f"{base} ends the {horizon} horizon with the most {label}; the next best, "
            f"{featured}, ends {_amount(abs(c.diff.mean_diff), outcome, currency)} lower"
            f"{_interval(c, currency)}{_scale(c, currency)} and beat {base} in "
            f"{c.diff.n_a_better} of {c.n} {'replication' if c.n == 1 else 'replications'}"
        )
    text += "." if c.clear or c.n < 2 else unclear + "."
    out = [text + _percent_sentence(c, label)]
    for p in (p for p in policies[1:] if p in rows and p != featured):
        o = comparison(data, p, outcome)
        word = "more" if o.diff.mean_diff > 0 else "less"
        pct = ""
        if o.pct is not None:
            pct = f", a {format_percent(o.pct.mean, signed=True)} change"
        out.append(
            f"{p}: {_amount(abs(o.diff.mean_diff), outcome, currency)} {word} {label} than "
            f"{base}{_interval(o, currency)}{pct}, better in {o.diff.n_a_better} of "
            f"{o.n} {'replication' if o.n == 1 else 'replications'}."
        )
    unspent = unspent_sentence(unspent_budget(data.timeseries, focal))
    if unspent:  # not compared at equal spend: say so where the verdict is read
        out[0] += " " + unspent
    return out


def why_line(data: ResultsData, outcome: str = "cumulative_profit") -> str | None:
    """What differs between the best policy and the baseline (plain text, not escaped)."""
    s = data.summary
    policies = data.policies
    if len(policies) < 2:
        return None
    focal = data.focal
    rows = _rows(s, policies, focal, outcome)
    if len(rows) < 2:
        return None
    best = max(rows, key=lambda p: rows[p]["mean"])
    base = policies[0]
    other = (
        best if best != base else max((p for p in rows if p != base), key=lambda p: rows[p]["mean"])
    )
    parts = []
    ret = _row(s, other, focal, "retention_rate")
    ret0 = _row(s, base, focal, "retention_rate")
    if ret is not None and ret0 is not None and not math.isnan(ret["mean"]):
        parts.append(
            f"keeps {100 * ret['mean']:.0f}% of its customers a year vs. {100 * ret0['mean']:.0f}%"
        )
    cust = _row(s, other, focal, "customers")
    if cust is not None and not math.isnan(cust["diff_pct"]):
        word = "more" if cust["diff_mean"] >= 0 else "fewer"
        parts.append(f"ends with {_pct(cust['diff_pct'])} {word} customers")
    nps = _row(s, other, focal, "nps")
    if nps is not None and not math.isnan(nps["diff_mean"]):
        parts.append(f"NPS {nps['diff_mean']:+.0f} points")
    clv = _row(s, other, focal, "clv")
    if clv is not None and not math.isnan(clv["diff_pct"]):
        parts.append(f"lifetime value of customers won {_signed_pct(clv['diff_pct'])}")
    ts = data.focal_series()
    if {"new_customers", "churned"} <= set(ts.columns):
        per = ts.groupby(["policy", "replication"])[["new_customers", "churned"]].sum()
        mean = per.groupby("policy").mean()
        if other in mean.index and base in mean.index:
            won, lost = mean.loc[other, ["new_customers", "churned"]].to_numpy(float)
            won0, lost0 = mean.loc[base, ["new_customers", "churned"]].to_numpy(float)
            parts.append(
                f"wins {won:,.0f} and loses {lost:,.0f} customers over the run "
                f"(vs. {won0:,.0f} and {lost0:,.0f})"
            )
    if not parts:
        return None
    return f"Compared with {base}, {other} " + "; ".join(parts) + "."


def recommendation(data: ResultsData, outcome: str = "cumulative_profit") -> str:
    """The report's last sentence (plain text): which policy to prefer, by how much, how
    surely, and on which conditions (the sampled markets' result and the stress test's,
    when the folder has them)."""
    rows = _rows(data.summary, data.policies, data.focal, outcome)
    label = _label_unit(outcome)[0]
    if len(rows) < 2:
        return f"No recommendation: one policy only, so nothing to choose between on {label}."
    base = data.policies[0]
    best = max(rows, key=lambda p: rows[p]["mean"])
    featured = (
        best if best != base else max((p for p in rows if p != base), key=lambda p: rows[p]["mean"])
    )
    c = comparison(data, featured, outcome)
    leader, other = (featured, base) if best != base else (base, featured)
    sign = 1.0 if best != base else -1.0
    currency = _currency(data)
    lead = _amount(sign * c.diff.mean_diff, outcome, currency, signed=True)
    lo, hi = sorted((sign * c.diff.lo, sign * c.diff.hi))
    interval = (
        f"(95% interval {_amount(lo, outcome, currency, signed=True)} to "
        f"{_amount(hi, outcome, currency, signed=True)})"
    )
    agree = c.diff.n_a_better if best != base else c.n - c.diff.n_a_better
    robust = None
    path = data.folder / "robustness.csv"
    if path.is_file():
        table = read_table(path)
        if not table.empty:
            robust = discovery_line(data, table) or robust_headline(table, label)[0]
    stress = stress_of(data)
    return recommendation_text(
        leader=leader,
        other=other,
        focal=data.focal,
        label=label,
        lead=lead,
        interval=interval,
        agree=agree,
        n=c.n,
        clear=c.clear,
        robust=robust,
        stress=stress if not stress.empty else None,
    )


# --------------------------------------------------------------------------- tables


def _summary_table(data: ResultsData, firm: str) -> str:
    s = data.summary[data.summary["firm"] == firm]
    if s.empty:
        return "<p>No summary rows.</p>"
    base = data.policies[0]
    currency = _currency(data)
    head = (
        "<tr><th>outcome</th><th>policy</th><th>mean</th><th>95% interval</th>"
        f"<th>difference from {_e(base)}</th><th>95% interval of the difference</th>"
        "<th>better than baseline in</th></tr>"
    )
    body = []
    for outcome in pd.unique(s["outcome"]):
        label, unit = _label_unit(outcome)

        def amount(x: float, signed: bool = False, outcome: str = outcome) -> str:
            return _e(_amount(x, outcome, currency, signed=signed))  # the currency is user text

        block = s[s["outcome"] == outcome]
        for k, (_, r) in enumerate(block.iterrows()):
            is_base = r["policy"] == base
            cells = [
                f"<th rowspan='{len(block)}'>{_e(label)}</th>" if k == 0 else "",
                f"<td>{_e(r['policy'])}</td>",
                f"<td class='num'>{amount(r['mean'])}</td>",
                f"<td class='num'>{amount(r['ci_low'])} to {amount(r['ci_high'])}</td>",
                "<td class='num'>baseline</td><td></td><td></td>"
                if is_base
                else (
                    f"<td class='num'>{amount(r['diff_mean'], True)}"
                    + (
                        f" ({_signed_pct(r['diff_pct'])})"
                        if unit not in ("share", "points") and not math.isnan(r["diff_pct"])
                        else ""
                    )
                    + "</td>"
                    f"<td class='num'>{amount(r['diff_ci_low'], True)} to "
                    f"{amount(r['diff_ci_high'], True)}</td>"
                    f"<td class='num'>{int(r['wins_vs_baseline'])} of {int(r['replications'])}</td>"
                ),
            ]
            body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table>{head}{''.join(body)}</table>"


def _calibration_table(data: ResultsData) -> str:
    cal = data.calibration
    if cal is None or cal.empty:
        return (
            "<p class='note'>No calibration table in these results (calibration.csv is "
            "missing: the engine did not provide one).</p>"
        )
    policies = [p for p in data.policies if p in set(cal["policy"])]
    head = "<tr><th>stylised fact</th><th>target</th><th>accepted</th>"
    head += "".join(f"<th>measured: {_e(p)}</th>" for p in policies) + "<th>how measured</th></tr>"
    rows = []
    for name in pd.unique(cal["name"]):
        mine = cal[cal["name"] == name]
        first = mine.iloc[0]
        cells = [f"<td>{_e(name)}</td>", f"<td class='num'>{_fmt(first['target'])}</td>"]
        cells.append(f"<td class='num'>{_e(first.get('tolerance', ''))}</td>")
        for p in policies:
            values = mine.loc[mine["policy"] == p, "measured"].astype(float)
            m = values.mean()
            ok = None
            banded = {"low", "high"} <= set(mine.columns)
            if banded and (pd.isna(first["low"]) or pd.isna(first["high"])):
                pass  # a diagnostic row (incremental return per channel): no band to meet
            elif banded and not math.isnan(m):
                ok = bool(first["low"] <= m <= first["high"])
            elif "ok" in mine.columns:
                ok = bool(mine.loc[mine["policy"] == p, "ok"].astype(str).eq("True").all())
            mark = "" if ok is None else (" ✓" if ok else " ✗")
            cls = "" if ok is None else (" ok" if ok else " off")
            cells.append(f"<td class='num{cls}'>{_fmt(m)}{mark}</td>")
        cells.append(f"<td class='method'>{_e(first.get('method', ''))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def robustness_section(data: ResultsData) -> str:
    """Which policy holds up across the sampled markets (from robustness.csv), as HTML.

    Empty when the folder has no robustness.csv (a scenario without [uncertainties]).
    Figures are the PNG files ``write_robustness`` drew into plots/, when present.
    """
    path = data.folder / "robustness.csv"
    if not path.is_file():
        return ""
    robust = read_table(path)
    if robust.empty:
        return ""
    outcome = str(robust["outcome"].iloc[0])
    label, unit = _label_unit(outcome)
    lines = robust_headline(robust, label)
    found = discovery_line(data, robust)
    if found:
        lines.insert(1, found)
    head = (
        "<tr><th>policy</th><th>wins</th><th>mean " + _e(label) + "</th><th>mean regret</th>"
        "<th>90th percentile of regret</th><th>worst regret</th>"
        "<th>clearly worse than the best in</th></tr>"
    )
    body = []
    for _, r in robust.iterrows():
        mark = " (smallest worst case)" if str(r["least_worst_regret"]) == "True" else ""
        pct = r["max_regret_pct"]
        worst = _fmt(r["max_regret"], unit) + (f" ({pct:.1f}%)" if not math.isnan(pct) else "")
        body.append(
            f"<tr><td>{_e(r['policy'])}{_e(mark)}</td>"
            f"<td class='num'>{int(r['wins'])} of {int(r['scenarios'])} "
            f"({100 * r['win_share']:.0f}%)</td>"
            f"<td class='num'>{_fmt(r['mean_outcome'], unit)}</td>"
            f"<td class='num'>{_fmt(r['mean_regret'], unit)}</td>"
            f"<td class='num'>{_fmt(r['p90_regret'], unit)}</td>"
            f"<td class='num'>{worst}</td>"
            f"<td class='num'>{int(r['clearly_worse'])} of {int(r['scenarios'])}</td></tr>"
        )
    figures = []
    for stem, title, caption in ROBUSTNESS_FIGURES:
        png = data.folder / "plots" / f"{stem}.png"
        if png.is_file():
            src = "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii")
            figures.append(
                f"<section class='figure' id='{_e(stem)}'><h3>{_e(title)}</h3>"
                f"<img src='{src}' alt='{_e(title)}'>"
                f"<p class='caption'>{_e(caption.format(outcome=label))}</p></section>"
            )
    return (
        "<h2 id='robustness'>Robustness: which policy holds up across the sampled markets</h2>"
        f"<p id='robust-headline'><strong>{_e(lines[0])}</strong></p>"
        f"<ul class='details'>{''.join(f'<li>{_e(x)}</li>' for x in lines[1:])}</ul>"
        "<p class='note'>Each sampled market draws the [uncertainties] of the scenario; every "
        "policy ran on it with the same seeds. Regret is the shortfall of a policy's mean "
        f"{_e(label)} from the best policy's in that market (0 when it is the best); "
        "'clearly worse' counts the markets where the paired 95% interval of the regret lies "
        "above 0. Tables: <code>robustness.csv</code>, <code>regret.csv</code>, "
        "<code>scenarios.csv</code>; where the leading policy loses (PRIM, EMA Workbench): "
        "<code>discovery.csv</code>.</p>"
        f"<table>{head}{''.join(body)}</table>" + "".join(figures)
    )


def discovery_line(data: ResultsData, robust: pd.DataFrame) -> str | None:
    """Where the leading policy loses, in words, from discovery.csv and regret.csv."""
    regret_path = data.folder / "regret.csv"
    if not (data.folder / "discovery.csv").is_file() or not regret_path.is_file():
        return None
    pair = leading_pair(robust)
    if pair is None:
        return None
    regret = read_table(regret_path)
    mine = regret[(regret["policy"] == pair[0]) & regret["mean"].notna()]
    wins = mine["is_best"].astype(str).eq("True")
    box = read_table(data.folder / "discovery.csv")
    return discovery_sentence(box, pair[0], losses=int((~wins).sum()), markets=len(mine))


def _figure(k: int, plot: PlotResult) -> str:
    title = f"Figure {k}. {_e(plot.title)}" if k else _e(plot.title)
    if plot.skipped or plot.png is None:
        reason = plot.skipped or "not drawn (plots are switched off in [outputs])"
        return (
            f"<section class='figure skipped' id='{_e(plot.name)}'><h3>{title}</h3>"
            f"<p class='note'>Skipped: {_e(reason)}.</p></section>"
        )
    src = "data:image/png;base64," + base64.b64encode(plot.png).decode("ascii")
    return (
        f"<section class='figure' id='{_e(plot.name)}'><h3>{title}</h3>"
        f"<img src='{src}' alt='{_e(plot.title)}'>"
        f"<p class='caption'>{_e(' '.join([plot.caption, *plot.notes]))}</p></section>"
    )


CSS = """
body{font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#222;
max-width:1120px;margin:0 auto;padding:24px;line-height:1.45}
h1{font-size:1.6em;margin:0 0 .2em}h2{margin-top:2em;border-bottom:2px solid #0072B2}
h3{font-size:1.05em;margin:1.4em 0 .4em}
.question{color:#555;white-space:pre-line;margin:.2em 0 1em}
#headline{font-size:1.3em;font-weight:600;background:#EAF3FA;border-left:6px solid #0072B2;
padding:14px 18px;margin:16px 0}
.details li{margin:.2em 0}.why{margin:.5em 0 1.2em}
img{max-width:100%;height:auto;border:1px solid #eee}
.caption,.note{color:#555;font-size:.92em}.skipped .note{background:#FFF6E5;padding:8px 12px}
table{border-collapse:collapse;font-size:.88em;margin:.6em 0 1.2em;width:100%}
th,td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
td.num{text-align:right;white-space:nowrap}td.ok{color:#009E73}td.off{color:#D55E00}
td.method{color:#666;font-size:.9em}
footer{margin-top:3em;color:#666;font-size:.85em}code{background:#f4f4f4;padding:0 3px}
#robust-headline{font-size:1.1em;background:#EEF7F2;border-left:6px solid #009E73;
padding:10px 16px;margin:12px 0}
"""


def render_html(data: ResultsData, plots: Sequence[PlotResult]) -> str:
    """The report page as one string (images embedded, user text escaped)."""
    lines = headline(data)
    why = why_line(data)
    sources = [p for p in plots if p.name == WATERFALL]
    stress_plots = [p for p in plots if p.name == STRESS_FIGURE[0]]
    plots = [p for p in plots if p.name not in (WATERFALL, STRESS_FIGURE[0])]
    stress = stress_of(data)
    stressed = stress_section(
        stress_plots, stress, stress_sentences(stress), _currency(data), figure=_figure
    )
    waterfall = "".join(
        f"<h2 id='where'>Where the difference comes from</h2>{_figure(0, p)}"
        for p in sources
        if p.png is not None
    )
    m = data.manifest
    title = f"{data.scenario_name}: which policy wins?"
    question = m.get("question") or ""
    figures = "\n".join(_figure(k, p) for k, p in enumerate(plots, start=1))
    competitor_tables = "".join(
        f"<details><summary>{_e(f)} (competitor)</summary>{_summary_table(data, f)}</details>"
        for f in data.firms[1:]
    )
    versions = m.get("versions", {})
    git = m.get("git", {}) or {}
    facts = [
        ("scenario file", m.get("scenario_file")),
        ("policies", ", ".join(data.policies)),
        ("firms", ", ".join(data.firms) + f" (focal: {data.focal})"),
        ("replications", m.get("replications")),
        ("steps", f"{m.get('steps')} x {data.step_length}" if m.get("steps") else None),
        ("seed", m.get("seed")),
        ("run finished", m.get("finished")),
        ("wall time", f"{m['wall_time_s']:.1f} s" if "wall_time_s" in m else None),
        ("marketsim", versions.get("marketsim")),
        (
            "git revision",
            (git.get("revision") or "")[:12] + (" (modified)" if git.get("dirty") else ""),
        ),
    ]
    facts_html = "".join(
        f"<li>{_e(k)}: <code>{_e(v)}</code></li>" for k, v in facts if v not in (None, "")
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title><style>{CSS}</style></head>
<body>
<header>
<h1>{_e(title)}</h1>
<p class="question">{_e(question)}</p>
</header>
<p id="headline">{_e(lines[0])}</p>
<ul class="details">{"".join(f"<li>{_e(x)}</li>" for x in lines[1:])}</ul>
{f'<p class="why"><strong>Why:</strong> {_e(why)}</p>' if why else ""}
<p class="note">Every policy ran on the same {_e(m.get("replications", "?"))} random seeds
(common random numbers), so each difference is paired by replication: it is the policy's
effect, not noise between runs. Intervals are 95% Student-t intervals across replications.
Figures show the focal firm, <strong>{_e(data.focal)}</strong>.</p>
{waterfall}
{robustness_section(data)}
{stressed}
<h2>Figures</h2>
{figures}
<h2>Summary: {_e(data.focal)} at the end of the horizon</h2>
{_summary_table(data, data.focal)}
{competitor_tables}
<h2>Calibration: the model's stylised facts measured in this scenario</h2>
<p class="note">Targets come from the literature (docs/model.md); a row outside its accepted
band means this scenario's market behaves differently from the default calibration, which
may be intended (a different market) or a sign to check the inputs.</p>
{_calibration_table(data)}
<h2 id="recommendation">Recommendation</h2>
<p id="recommendation-text"><strong>{_e(recommendation(data))}</strong></p>
<footer><h3>Provenance</h3><ul>{facts_html}</ul>
<p>Tables: <code>timeseries.csv</code>, <code>outcomes.csv</code>, <code>summary.csv</code>,
<code>calibration.csv</code>; every value used: <code>scenario.resolved.toml</code>;
versions and command line: <code>manifest.json</code>.</p></footer>
</body></html>
"""
