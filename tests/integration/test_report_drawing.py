"""Drawing the report's figures (issue 12.5): the same bytes in one process or several, and
no raw key path on a figure."""

from __future__ import annotations

import re

from matplotlib.text import Text

from sim.report.data import load_results
from sim.report.plots import FIGURES, Skipped, drawing_processes, render_plots
from sim.report.style import style_context

DOTTED_KEY = re.compile(r"\b(market|network|firm|competitors|employees|suppliers)\.\S")


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


def test_no_figure_of_a_run_shows_a_raw_key_path(tiny_run):
    """Axis labels and titles in words (issue 12.5): no scenario key path on a figure."""
    out, _ = tiny_run
    data = load_results(out)
    with style_context():
        for stem, _title, _caption, draw in FIGURES:
            fig = draw(data, 0.9)
            if isinstance(fig, Skipped):
                continue
            fig.canvas.draw()
            for text in fig.findobj(Text):
                if text.get_visible():
                    assert not DOTTED_KEY.search(text.get_text()), (stem, text.get_text())
