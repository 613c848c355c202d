"""Drawing the report's figures (issue 12.5): the same bytes in one process or several."""

from __future__ import annotations

from sim.report.data import load_results
from sim.report.plots import FIGURES, drawing_processes, render_plots


def test_parallel_drawing_gives_the_same_figures_as_one_process(tiny_run, tmp_path):
    out, _ = tiny_run
    data = load_results(out)
    one = render_plots(data, tmp_path / "one", workers=1)
    two = render_plots(data, tmp_path / "two", workers=2)
    assert [p.name for p in one] == [p.name for p in two] == [f[0] for f in FIGURES]
    for a, b in zip(one, two, strict=True):
        assert a.png == b.png and a.skipped == b.skipped and a.notes == b.notes
        assert [f.name for f in a.files] == [f.name for f in b.files]
    assert 1 <= drawing_processes(len(FIGURES)) <= len(FIGURES)
    assert drawing_processes(1) == 1
