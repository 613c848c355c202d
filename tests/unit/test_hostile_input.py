"""Hostile input to the scenario reader: every case is refused with exit code 2, no
traceback, and a message that names the file (or the ``--set`` option), the key and the
value (issue 15, the config layer).

Each case is a scenario written into a temporary folder (and maybe a graph file beside
it), checked through ``marketsim validate`` in this process. The resource estimate is
tested directly (:func:`sim.config.limits.check_resources`) with a fixed memory size, so
the outcome does not depend on the machine.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sim.cli.commands import main
from sim.common.errors import GraphFileError, UserError
from sim.config import graph_files
from sim.config.graph_files import read_graph_file
from sim.config.limits import (
    GIB,
    ResourceLimitError,
    check_resources,
    estimate_resources,
    runs_of,
)
from sim.config.reader import MAX_SCENARIO_BYTES
from sim.config.scenario_file import ScenarioError, load_scenario, parse_scenario
from sim.config.schema import Scenario

FINITE = "expected a finite number"
EDGES = "".join(f"{k} {(k + 1) % 12}\n" for k in range(12))  # a ring of 12 people
GRAPH_MARKET = "[market]\nn_customers = 12\n[[competitors]]\nname = 'r'\n"


@dataclass
class Case:
    """A scenario text (``{dir}`` is the case's folder), files beside it, ``--set``
    options, and the texts the message must hold."""

    toml: str
    expected: list[str]
    files: dict[str, str | bytes | Callable[[Path], None]] = field(default_factory=dict)
    sets: list[str] = field(default_factory=list)


def _graph(network: str, files: dict[str, str | bytes | Callable[[Path], None]], *expected: str):
    return Case(GRAPH_MARKET + "[network]\n" + network, list(expected), files)


def _symlink_loop(name: str) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        os.symlink(folder / f"{name}.b", folder / name)
        os.symlink(folder / name, folder / f"{name}.b")

    return make


def _fifo(name: str) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        os.mkfifo(folder / name)

    return make


def _nested(depth: int, open_: str, close: str, inner: str = "1") -> str:
    return "a = " + open_ * depth + inner + close * depth + "\n"


CASES: dict[str, Case] = {
    # ---- non-finite numbers in files, for keys with and without bounds
    "price_inf": Case("[firm]\nprice = inf\n", ["firm.price", "got inf", FINITE]),
    "fixed_cost_inf": Case(
        "[firm]\nfixed_cost_per_year = inf\n", ["firm.fixed_cost_per_year", "got inf", FINITE]
    ),
    "wage_inf": Case(
        "[employees]\nwage_per_year = inf\n", ["employees.wage_per_year", "got inf", FINITE]
    ),
    "baseline_nan": Case(
        "[market.satisfaction]\nbaseline = nan\n",
        ["market.satisfaction.baseline", "got nan", FINITE],
    ),
    "morale_minus_inf": Case(
        "[employees]\nmorale_baseline = -inf\n", ["employees.morale_baseline", "got -inf", FINITE]
    ),
    "outside_option_nan": Case(
        "[market]\noutside_option_utility = nan\n",
        ["market.outside_option_utility", "got nan", FINITE],
    ),
    "budget_inf": Case(
        "[firm]\nbudget_per_year = inf\n", ["firm.budget_per_year", "got inf", FINITE]
    ),
    "budget_plus_inf": Case(
        "[firm]\nbudget_per_year = +inf\n", ["firm.budget_per_year", "got inf", FINITE]
    ),
    "signed_nan": Case(
        "[market]\nreference_price = -nan\n", ["market.reference_price", "got nan", FINITE]
    ),
    "policy_budget_nan": Case(
        "[[policies]]\nname = 'a'\nbudget_per_year = nan\n",
        ["policies[0].budget_per_year", "got nan", FINITE],
    ),
    "policy_price_change_nan": Case(
        "[[policies]]\nname = 'a'\nprice_change = nan\n",
        ["policies[0].price_change", "got nan", FINITE],
    ),
    "policy_mix_nan": Case(
        "[[policies]]\nname = 'a'\n[policies.acquisition_mix]\nadvertising = nan\n",
        ["policies[0].acquisition_mix.advertising", "got nan", FINITE],
    ),
    "competitor_price_inf": Case(
        "[[competitors]]\nname = 'r'\nprice = inf\n", ["competitors[0].price", "got inf", FINITE]
    ),
    "competitor_policy_nan": Case(
        "[[competitors]]\nname = 'r'\n[competitors.policy]\nacquisition_share = nan\n",
        ["competitors[0].policy.acquisition_share", "got nan", FINITE],
    ),
    "competitor_reaction_inf": Case(
        "[[competitors]]\nname = 'r'\n[competitors.reaction]\nmax_advertising_multiplier = inf\n",
        ["competitors[0].reaction.max_advertising_multiplier", "got inf", FINITE],
    ),
    "referrals_inf": Case(
        "[market.word_of_mouth]\nreferrals_per_year = inf\n",
        ["market.word_of_mouth.referrals_per_year", "got inf", FINITE],
    ),
    "churn_nan": Case(
        "[market.churn]\nbase_per_year = nan\n", ["market.churn.base_per_year", "got nan", FINITE]
    ),
    "supplier_nan": Case(
        "[suppliers]\nbase_quality = nan\n", ["suppliers.base_quality", "got nan", FINITE]
    ),
    "rewire_nan": Case("[network]\nrewire_p = nan\n", ["network.rewire_p", "got nan", FINITE]),
    "outputs_band_nan": Case("[outputs]\nband = nan\n", ["outputs.band", "got nan", FINITE]),
    "uncertainty_low_nan": Case(
        "[uncertainties]\n'firm.price' = { low = nan, high = 60 }\n",
        ["uncertainties.firm.price.low", "got nan", FINITE],
    ),
    "uncertainty_high_inf": Case(
        "[uncertainties]\n'firm.price' = { low = 40, high = inf }\n",
        ["uncertainties.firm.price.high", "got inf", FINITE],
    ),
    "uncertainty_choice_nan": Case(
        "[uncertainties]\n'firm.price' = { choices = [40, nan] }\n",
        ["uncertainties.firm.price.choices[1]", "got nan", FINITE],
    ),
    "uncertainty_mean_inf": Case(
        "[uncertainties]\n'firm.price' = { mean = inf, sd = 1, low = 40, high = 60 }\n",
        ["uncertainties.firm.price.mean", "got inf", FINITE],
    ),
    "uncertainty_sd_nan": Case(
        "[uncertainties]\n'firm.price' = { mean = 50, sd = nan, low = 40, high = 60 }\n",
        ["uncertainties.firm.price.sd", "got nan", FINITE],
    ),
    # ---- non-finite numbers given with --set
    "set_desired_value_nan": Case(
        "",
        ["--set market.satisfaction.desired_value=nan", "got nan", FINITE],
        sets=["market.satisfaction.desired_value=nan"],
    ),
    "set_price_inf": Case("", ["--set firm.price=inf", FINITE], sets=["firm.price=inf"]),
    "set_budget_minus_inf": Case(
        "", ["firm.budget_per_year", "got -inf", FINITE], sets=["firm.budget_per_year=-inf"]
    ),
    "set_every_competitor_nan": Case(
        "", ["competitors[0].price", "got nan", FINITE], sets=["competitors.*.price=nan"]
    ),
    "set_policy_inf": Case(
        "", ["policies[0].price_change", "got inf", FINITE], sets=["policies.0.price_change=inf"]
    ),
    # ---- sizes that make no sense whatever the machine
    "people_1e12": Case(
        "[market]\nn_customers = 1_000_000_000_000\n",
        ["market.n_customers", "got 1000000000000", "from 1 to 2,147,483,647"],
    ),
    "people_2_31": Case(
        "[market]\nn_customers = 2147483648\n",
        ["market.n_customers", "got 2147483648", "from 1 to 2,147,483,647"],
    ),
    "people_1e400": Case(
        "[market]\nn_customers = 1" + "0" * 400 + "\n",
        ["market.n_customers", "got 1000000", "...", "2,147,483,647"],
    ),
    "steps_1e9": Case(
        "[simulation]\nsteps = 1_000_000_000\n",
        ["simulation.steps", "got 1000000000", "from 1 to 1,000,000"],
    ),
    "replications_1e400": Case(
        "[simulation]\nreplications = 1" + "0" * 400 + "\n",
        ["simulation.replications", "from 1 to 1,000,000,000"],
    ),
    "experiment_replications_2e9": Case(
        "[experiment]\nreplications = 2_000_000_000\n",
        ["experiment.replications", "got 2000000000", "1,000,000,000"],
    ),
    "degree_above_market": Case(
        "[market]\nn_customers = 100\n[network]\nmean_degree = 200\n",
        ["network.mean_degree", "got 200", "less than market.n_customers = 100"],
    ),
    "degree_equal_market_er": Case(
        "[market]\nn_customers = 50\n[network]\nkind = 'erdos_renyi'\nmean_degree = 50\n",
        ["network.mean_degree", "got 50", "less than market.n_customers = 50"],
    ),
    "degree_1e400": Case(
        "[network]\nmean_degree = 2" + "0" * 400 + "\n",
        ["network.mean_degree", "got 2000", "less than market.n_customers = 10000"],
    ),
    # ---- the file itself: nesting, size, keys, encoding, what it is
    "array_20000_deep": Case(_nested(20_000, "[", "]"), ["nested", "at most 64 levels"]),
    "inline_table_5000_deep": Case(_nested(5_000, "{b = ", "}"), ["nested", "at most 64 levels"]),
    "array_100_deep": Case(_nested(100, "[", "]"), ["nested more than 64", "at most 64 levels"]),
    "header_2000_deep": Case(
        "[" + ".".join(["a"] * 2000) + "]\nx = 1\n", ["nested more than 64", "at most 64"]
    ),
    "file_over_10_mb": Case(
        "# " + "x" * (MAX_SCENARIO_BYTES + 10) + "\n", ["bytes, expected at most 10,485,760"]
    ),
    "key_200000_chars": Case(
        "k" * 200_000 + " = 1\n", ["key 'kkkkkkkkkkkkk...kkkkkkkkkkkkk'", "200,000 characters"]
    ),
    "key_201_chars_in_section": Case(
        "[market]\n" + "m" * 201 + " = 1\n", ["201 characters", "in [market]", "longer than 200"]
    ),
    "many_unknown_keys": Case(
        "".join(f"key_{k} = {k}\n" for k in range(3000)),
        ["3000 problems", "unknown key 'key_0'", "... and 2980 more"],
    ),
    "not_utf8": Case("", ["not a text file in UTF-8"], files={"scenario.toml": b"name = '\xff'\n"}),
    "binary_garbage": Case(
        "", ["not a text file in UTF-8"], files={"scenario.toml": bytes(range(256)) * 4}
    ),
    "bom_then_error": Case(
        "\ufeff[firm]\nprice = -1.0\n", ["firm.price", "got -1.0", "greater than 0"]
    ),
    "nul_in_file": Case("name = 'a'\n\x00\n", ["TOML syntax error"]),
    "scenario_is_a_folder": Case(
        "", ["not a file"], files={"scenario.toml": lambda d: (d / "scenario.toml").mkdir()}
    ),
    "scenario_symlink_loop": Case(
        "",
        ["cannot open the file", "symbolic links"],
        files={"scenario.toml": _symlink_loop("scenario.toml")},
    ),
    "scenario_is_a_fifo": Case(
        "", ["not a regular file"], files={"scenario.toml": _fifo("scenario.toml")}
    ),
    "empty_key": Case('"" = 1\n', ["unknown key ''"]),
    "section_as_array": Case("market = [1, 2]\n", ["market", "expected a table"]),
    # ---- graph files
    "edge_list_is_passwd": _graph(
        "kind = 'edge_list'\npath = 'passwd'\n",
        {
            "passwd": "root:x:0:0:root:/root:/bin/bash\nlist:x:38:38:Mailing List Manager:/var/list:/usr/sbin/nologin\n"
        },
        "network.path",
        "passwd:1:",
        "expected two node labels",
        "2 malformed lines",
        "skip_malformed",
    ),
    "edge_list_one_token_line": _graph(
        "kind = 'edge_list'\npath = 'g.edges'\n",
        {"g.edges": EDGES[:20] + "7\n" + EDGES[20:]},
        "g.edges:6:",
        "got 1 item",
    ),
    "edge_list_text_weight": _graph(
        "kind = 'edge_list'\npath = 'g.edges'\n",
        {"g.edges": EDGES + "3 4 heavy\n"},
        "g.edges:13:",
        "'heavy' is not a number",
    ),
    "edge_list_symlink_loop": _graph(
        "kind = 'edge_list'\npath = 'loop.edges'\n",
        {"loop.edges": _symlink_loop("loop.edges")},
        "network.path",
        "loop.edges",
        "symbolic links",
    ),
    "edge_list_is_a_folder": _graph(
        "kind = 'edge_list'\npath = 'graphs'\n",
        {"graphs": lambda d: (d / "graphs").mkdir()},
        "network.path",
        "is a directory",
    ),
    "edge_list_is_a_device": _graph(
        "kind = 'edge_list'\npath = '/dev/null'\n", {}, "network.path", "/dev/null", "a device"
    ),
    "edge_list_is_a_fifo": _graph(
        "kind = 'edge_list'\npath = 'pipe'\n", {"pipe": _fifo("pipe")}, "pipe", "a FIFO"
    ),
    "edge_list_binary": _graph(
        "kind = 'edge_list'\npath = 'g.bin'\n",
        {"g.bin": b"\x00\x01\x02 \x03\n" * 10},
        "g.bin",
        "binary file",
    ),
    "edge_list_not_utf8": _graph(
        "kind = 'edge_list'\npath = 'g.edges'\n",
        {"g.edges": EDGES.encode() + b"\xff\xfe 1\n"},
        "g.edges",
        ":13: not UTF-8",
    ),
    "edge_list_empty": _graph(
        "kind = 'edge_list'\npath = 'g.edges'\n", {"g.edges": "# nothing\n\n"}, "contains no nodes"
    ),
    "graphml_garbage": _graph(
        "kind = 'graphml'\npath = 'g.graphml'\n",
        {"g.graphml": "<graphml><graph><node id='a'>"},
        "network.path",
        "g.graphml",
    ),
    "path_with_generated_kind": _graph(
        "kind = 'watts_strogatz'\nmean_degree = 4\npath = 'g.edges'\n",
        {"g.edges": EDGES},
        "network.path",
        '"g.edges"',
        "generated graph that reads no file",
    ),
    "skip_malformed_wrong_type": _graph(
        "kind = 'edge_list'\npath = 'g.edges'\nskip_malformed = 'yes'\n",
        {"g.edges": EDGES},
        "network.skip_malformed",
        "true or false",
    ),
}


def _write_case(case: Case, folder: Path) -> Path:
    scenario = folder / "scenario.toml"
    for name, content in case.files.items():
        if callable(content):
            content(folder)
        elif isinstance(content, bytes):
            (folder / name).write_bytes(content)
        else:
            (folder / name).write_text(content, encoding="utf-8")
    if "scenario.toml" not in case.files:
        scenario.write_text(case.toml, encoding="utf-8")
    return scenario


def test_there_are_at_least_fifty_cases():
    assert len(CASES) >= 50


@contextlib.contextmanager
def _fails_if_it_hangs(name: str, limit_s: int = 300) -> Iterator[None]:
    """A hang guard, not a timing: hostile input must be refused, never waited out (the
    limit is far above any refusal; timings belong in benchmarks/)."""

    def hung(signum: int, frame: object) -> None:
        raise AssertionError(f"{name}: still running after {limit_s} s (a hang)")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(limit_s)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input_is_refused_with_a_message(name, tmp_path, capsys):
    case = CASES[name]
    scenario = _write_case(case, tmp_path)
    argv = ["validate", str(scenario)]
    for option in case.sets:
        argv += ["--set", option]
    with _fails_if_it_hangs(name):
        code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and "internal error" not in err, err
    named = f"--set {case.sets[0].split('=')[0]}" if case.sets else str(scenario)
    assert named in err, err
    for text in case.expected:
        assert text in err, f"{text!r} not in:\n{err}"
    assert len(err) < 8000, "a message for people, not a dump"


# --------------------------------------------------------------------------- accepted


def test_a_byte_order_mark_is_accepted(tmp_path, capsys):
    scenario = tmp_path / "bom.toml"
    scenario.write_bytes(b"\xef\xbb\xbfname = 'bom'\n[[policies]]\npreset = 'balanced'\n")
    assert main(["validate", str(scenario)]) == 0, capsys.readouterr().err
    assert load_scenario(scenario).name == "bom"
    assert parse_scenario("\ufeffname = 'bom'\n").name == "bom"


def test_skip_malformed_skips_the_bad_lines(tmp_path):
    (tmp_path / "g.edges").write_text(EDGES + "7\nroot:x:0:0\n# fine\n1 2 0.5 3\n1 3 {}\n")
    text = GRAPH_MARKET + "[network]\nkind = 'edge_list'\npath = 'g.edges'\n"
    (tmp_path / "s.toml").write_text(text + "skip_malformed = true\n")
    assert load_scenario(tmp_path / "s.toml").network.skip_malformed
    (tmp_path / "s.toml").write_text(text)
    with pytest.raises(ScenarioError, match=r"g.edges:13: .*got 1 item"):
        load_scenario(tmp_path / "s.toml")


def test_graph_node_and_size_limits_are_checked_while_reading(tmp_path, monkeypatch):
    path = tmp_path / "g.edges"
    path.write_text(EDGES)
    monkeypatch.setattr(graph_files, "MAX_GRAPH_NODES", 5)
    with pytest.raises(GraphFileError, match=r"g.edges'?:5: more than 5 nodes"):
        read_graph_file("edge_list", path)
    monkeypatch.setattr(graph_files, "MAX_GRAPH_NODES", 100)
    monkeypatch.setattr(graph_files, "MAX_GRAPH_FILE_BYTES", 10)
    with pytest.raises(GraphFileError, match="largest graph file read is 10 bytes"):
        read_graph_file("edge_list", path)


def test_graph_reader_keeps_what_networkx_read(tmp_path):
    path = tmp_path / "g.edges"
    path.write_text("# who knows whom\n2 10 0.5\n10 3\n2 3\n3 3\n2 10\n1 4 {'weight': 2}\n")
    graph = read_graph_file("edge_list", path)
    assert sorted(graph.nodes) == ["1", "10", "2", "3", "4"]
    assert graph.number_of_edges() == 5  # the self-loop kept; the model drops it


# --------------------------------------------------------------------------- resources


def _sf(text: str = ""):
    return parse_scenario(text, "s.toml")


@pytest.mark.parametrize(
    ("text", "workers", "expected"),
    [
        ("[simulation]\nreplications = 1_000_000_000\n", 1, ["1,000,000,000 runs", "plan"]),
        ("[market]\nn_customers = 2_000_000_000\n", 1, ["2,000,000,000 people", "each run"]),
        (
            "[market]\nn_customers = 100_000_000\n[network]\nkind = 'complete'\n",
            1,
            ["100,000,000 people", "0 social ties"],
        ),
        ("[simulation]\nsteps = 1_000_000\n", 1, ["1,000,000 steps"]),
        (
            "[market]\nn_customers = 10_000_000\n[simulation]\nreplications = 40\n",
            32,
            ["32 run at once (--workers)"],
        ),
        (
            "[market]\nn_customers = 1_000_000\n[network]\nmean_degree = 50_000\n",
            1,
            ["25,000,000,000 social ties"],
        ),
        (
            "[uncertainties]\n'market.n_customers' = { low = 1000, high = 100_000_000 }\n",
            1,
            ["100,000,000 people"],
        ),
        ("[experiment]\nreplications = 900_000_000\n[simulation]\nengine = 'agent'\n", 1, ["runs"]),
    ],
)
def test_what_cannot_fit_in_memory_is_refused_up_front(text, workers, expected):
    started = time.perf_counter()
    with pytest.raises(ResourceLimitError) as info:
        check_resources(_sf(text), workers, available=4 * GIB, source="s.toml")
    assert time.perf_counter() - started < 1.0  # nothing is allocated per run
    message = str(info.value)
    assert info.value.exit_code == 2 and isinstance(info.value, UserError)
    assert message.startswith("s.toml cannot run on this machine")
    assert "4.3 GB is available" in message
    for text_ in expected:
        assert text_ in message, message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[employees]\nper_firm = 1_000_000_000\n", "employees.per_firm: got 1,000,000,000"),
        ("[suppliers]\nper_firm = 100_000_000\n", "suppliers.per_firm: got 100,000,000"),
        ("[employees]\nper_firm = 1" + "0" * 400 + "\n", "employees.per_firm: got 1"),
        (
            "[uncertainties]\n'suppliers.per_firm' = { low = 1, high = 1_000_000 }\n",
            "suppliers.per_firm: got 1,000,000",
        ),
    ],
)
def test_sizes_that_make_no_sense_are_refused_whatever_the_memory(text, expected):
    with pytest.raises(ResourceLimitError, match=expected):
        check_resources(_sf(text), available=10**15)


def test_a_normal_experiment_fits_and_says_how_long():
    sf = _sf("[simulation]\nreplications = 4\n")
    est = check_resources(sf, workers=2, available=4 * GIB)
    assert est.fits and not est.long
    assert est.runs == runs_of(sf) == 4
    assert est.workers == 2
    assert "of memory" in est.summary() and "4 runs on 2 workers" in est.summary()
    more = check_resources(sf, workers=4, available=4 * GIB)
    assert more.bytes_needed > est.bytes_needed  # each worker holds a run and the imports


def test_a_long_experiment_is_reported_not_refused():
    sf = _sf("[market]\nn_customers = 1_000_000\n[simulation]\nreplications = 5000\n")
    est = check_resources(sf, available=10**13)
    assert est.long and "a long experiment" in est.summary()


def test_variants_and_uncertainties_count_runs():
    sf = _sf(
        "[uncertainties]\n'firm.price' = { low = 40, high = 60 }\n[experiment]\nscenarios = 7\n"
        "replications = 3\n[[policies]]\npreset = 'balanced'\n[[policies]]\npreset = 'retention_heavy'\n"
    )
    assert runs_of(sf) == 2 * 7 * 3
    assert runs_of(sf, variants=11) == 2 * 11 * 3


def test_estimate_grows_with_every_size():
    base = estimate_resources(Scenario(), runs=1, available=GIB)
    for update in (
        {"market.n_customers": 100_000},
        {"network.mean_degree": 100},
        {"employees.per_firm": 10_000},
        {"suppliers.per_firm": 10_000},
        {"simulation.steps": 10_000},
        {"simulation.engine": "agent"},
    ):
        bigger = estimate_resources(Scenario().with_updates(update), runs=1, available=GIB)
        assert bigger.bytes_per_run > base.bytes_per_run, update
        assert bigger.seconds_per_run >= base.seconds_per_run, update
