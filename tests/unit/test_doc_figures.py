"""Numbers in the docs come from runs (issue 12.6): the marked blocks are well-formed and
what tools/doc_figures.py writes, it reads back. The numbers themselves depend on the
model and are not checked here: rerun the script after the model changes."""

from __future__ import annotations

import pytest

from tools import doc_figures as df


def test_every_marked_block_in_the_docs_is_well_formed_and_known():
    assert df.check() == []
    names = {m.name for path in df.DOCS for m in df.find_blocks(path.read_text("utf-8"))}
    assert "flagship" in names  # the README's demo headline


def test_the_readme_quotes_no_hand_copied_headline():
    text = (df.ROOT / "README.md").read_text(encoding="utf-8")
    [flagship] = [m for m in df.find_blocks(text) if m.name == "flagship"]
    outside = text[: flagship.start] + text[flagship.end :]
    assert "more cumulative profit than" not in outside


@pytest.mark.parametrize("name", sorted(df.BLOCKS))
def test_rendered_blocks_parse_back(name):
    block = df.BLOCKS[name]
    lines = ["first line: 1,234 (95% interval +1 to +2)", "  indented second line", "```x"]
    body = df.render_block(block, lines, "0123abcd4567")
    command, parsed, commit = df.parse_block(body)
    assert command == "marketsim " + " ".join(block.args)
    assert parsed == lines and commit == "0123abcd4567"
    text = f"intro\n<!-- figures:{name} -->{body}<!-- /figures -->\noutro\n"
    assert [m.name for m in df.find_blocks(text)] == [name]


@pytest.mark.parametrize(
    "text",
    [
        "<!-- figures:a -->\nno end\n",
        "stray end <!-- /figures -->\n",
        "<!-- figures:a -->\n<!-- figures:b -->\n<!-- /figures -->\n<!-- /figures -->\n",
    ],
)
def test_malformed_markers_are_refused(text):
    with pytest.raises(df.MarkerError):
        df.find_blocks(text)


def test_a_block_that_lost_its_source_line_is_a_problem(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- figures:flagship -->\n```\n$ marketsim run retention_vs_acquisition\nx\n```\n"
        "<!-- /figures -->\n",
        encoding="utf-8",
    )
    [problem] = df.check([page])
    assert "commit" in problem


def test_rewrite_replaces_only_the_named_blocks(tmp_path):
    page = tmp_path / "page.md"
    old = df.render_block(df.BLOCKS["flagship"], ["old"], "aaaaaaa")
    page.write_text(f"keep\n<!-- figures:flagship -->{old}<!-- /figures -->\nkeep too\n", "utf-8")
    new = df.render_block(df.BLOCKS["flagship"], ["new"], "bbbbbbb")
    assert df.rewrite(page, {"flagship": new})
    text = page.read_text(encoding="utf-8")
    assert text.startswith("keep\n") and text.endswith("keep too\n")
    assert df.parse_block(df.find_blocks(text)[0].body)[1:] == (["new"], "bbbbbbb")
    assert not df.rewrite(page, {"other": "x"})
