"""Drawing the report's figures (issue 12.5): the same bytes in one process or several, and
no raw key path on a figure."""

from __future__ import annotations

import gc
import io
import multiprocessing
import re

from matplotlib.text import Text

from sim.report.data import load_results
from sim.report.plots import FIGURES, Skipped, drawing_processes, render_plots
from sim.report.style import NO_STAMP, PNG_COMPRESS_LEVEL, figure_bytes, style_context

PNG_KWARGS = {"compress_level": PNG_COMPRESS_LEVEL}

DOTTED_KEY = re.compile(r"\b(market|network|firm|competitors|employees|suppliers)\.\S")


def test_parallel_drawing_gives_the_same_figures_as_one_process(tiny_run, tmp_path):
    out, _ = tiny_run
    data = load_results(out)
    one = render_plots(data, tmp_path / "one", workers=1)
    two = render_plots(data, tmp_path / "two", workers=2)
    assert multiprocessing.active_children() == []  # no drawing process left behind
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


def _drawn(data):
    with style_context():
        for stem, _title, _caption, draw in FIGURES:
            fig = draw(data, 0.9)
            if not isinstance(fig, Skipped):
                yield stem, fig


def test_png_bytes_are_what_savefig_writes(tiny_run):
    """figure_bytes lays a PNG out and draws it once; the file is the one savefig writes
    (which draws it twice), byte for byte."""
    out, _ = tiny_run
    data = load_results(out)
    saved = {}
    for stem, fig in _drawn(data):
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110, metadata=NO_STAMP, pil_kwargs=PNG_KWARGS)
        saved[stem] = buffer.getvalue()
    ours = {stem: figure_bytes(fig, "png", 110) for stem, fig in _drawn(data)}
    assert ours.keys() == saved.keys() and len(ours) >= 6
    for stem, png in ours.items():
        assert png == saved[stem], stem
        assert png.startswith(b"\x89PNG") and b"Software" not in png and b"Matplotlib" not in png


def test_no_label_is_cut_off(tiny_run):
    """Every panel with its ticks, labels and title, every legend and every figure text
    lies inside the figure as drawn to PNG (issue 12.5: no clipped labels)."""
    out, _ = tiny_run
    data = load_results(out)
    checked = 0
    for stem, fig in _drawn(data):
        figure_bytes(fig, "png", 110)
        renderer = fig.canvas.get_renderer()
        page = fig.bbox
        parts = [ax.get_tightbbox(renderer) for ax in fig.axes if ax.get_visible()]
        parts += [legend.get_window_extent(renderer) for legend in fig.legends]
        parts += [t.get_window_extent(renderer) for t in fig.texts if t.get_text()]
        for box in parts:
            assert box is not None
            assert box.x0 >= page.x0 - 1 and box.y0 >= page.y0 - 1, (stem, box, page)
            assert box.x1 <= page.x1 + 1 and box.y1 <= page.y1 + 1, (stem, box, page)
            checked += 1
    assert checked >= 20


def test_drawing_leaves_the_garbage_collector_as_it_found_it(tiny_run):
    """render_plots pauses the cyclic garbage collector while it draws, then frees the
    figures' cycles and switches it back on; if a caller had it off, it stays off."""
    out, _ = tiny_run
    data = load_results(out)
    assert gc.isenabled()
    render_plots(data, workers=1, figures=FIGURES[:1])
    assert gc.isenabled()
    gc.disable()
    try:
        render_plots(data, workers=1, figures=FIGURES[:1])
        assert not gc.isenabled()
    finally:
        gc.enable()
