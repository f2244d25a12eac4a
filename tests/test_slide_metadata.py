"""scripts/add_slide_metadata.py: the deck rules (its docstring): the slide types it assigns, the deck
styles it writes (code hidden while presenting, the projector sizes), the height estimate that starts
subslides, that it changes nothing else, and that the notebooks follow the rules and carry up-to-date
slide metadata."""
from __future__ import annotations

import base64
import copy
import struct
import zlib
from pathlib import Path

import nbformat
from course_files import NOTEBOOKS as COURSE_NOTEBOOKS
from course_files import load_script

asm = load_script("add_slide_metadata")
v4 = nbformat.v4

SOLUTION_MD = ("<details>\n<summary><b>Solution</b> — open it only after you have tried</summary>\n\n"
               "```python\n# Think! first\nx = 1\n_ = checks.check_number('x', x, 1)\n```\n\n</details>")


def _png(width, height):
    """A tiny valid PNG header of the given size (only the header is read)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return base64.b64encode(b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk
                            + struct.pack(">I", zlib.crc32(chunk))).decode()


def _figure(css_height, width=800):
    data = {"image/png": _png(2 * width, 2 * css_height), "text/plain": ""}
    return v4.new_output("display_data", data=data,
                         metadata={"image/png": {"width": width, "height": css_height}})


def _nb():
    nb = v4.new_notebook()
    nb.cells = [
        v4.new_markdown_cell("# Title\nintro"),
        v4.new_code_cell("x = 1", outputs=[v4.new_output("stream", name="stdout", text="1\n")],
                         execution_count=1),
        v4.new_markdown_cell("## Section 1"),
        v4.new_markdown_cell("text"),
        v4.new_code_cell("a", outputs=[_figure(300)]),
        v4.new_markdown_cell("more text"),          # with its figure it would not fit: a subslide
        v4.new_code_cell("b", outputs=[_figure(300)]),
        v4.new_markdown_cell("### A detail"),
        v4.new_markdown_cell("**Think!** Why?"),
        v4.new_code_cell("solution = 2", metadata={"tags": ["solution"]}),
        v4.new_markdown_cell("## Going deeper · more", metadata={"tags": ["deep-dive"]}),
        v4.new_code_cell("deep = 1", metadata={"tags": ["deep-dive"]}),
        v4.new_markdown_cell("## Summary"),
        # the course's convention: a solution is a markdown <details> cell tagged "solution"; whatever it
        # holds (a heading, a Think! line) it is skipped while presenting
        v4.new_markdown_cell(SOLUTION_MD, metadata={"tags": ["solution"]}),
        v4.new_markdown_cell("## Think! what next", metadata={"tags": ["solution"]}),
    ]
    return nb


def test_slide_types():
    assert asm.slide_types(_nb()) == [
        "slide", "-", "slide", "-", "-", "subslide", "-", "subslide", "fragment", "skip", "skip", "skip",
        "slide", "skip", "skip"]


def test_deep_dives_and_solutions_are_skipped_and_do_not_fill_a_slide():
    nb = v4.new_notebook()
    nb.cells = [v4.new_markdown_cell("## Exercise")] + [v4.new_code_cell("a")] * 2 + [
        v4.new_markdown_cell(SOLUTION_MD, metadata={"tags": ["solution"]})] * 3 + [
        v4.new_code_cell("d", outputs=[_figure(500)], metadata={"tags": ["deep-dive"]})] * 3 + [
        v4.new_markdown_cell("text")]
    assert asm.slide_types(nb) == ["slide", "-", "-"] + ["skip"] * 6 + ["-"]


def test_a_long_section_becomes_subslides_and_each_fits():
    nb = v4.new_notebook()
    para = "word " * 60      # three lines at the projector size
    nb.cells = [v4.new_markdown_cell("## A long section\n\n" + para)]
    for k in range(6):
        nb.cells += [v4.new_markdown_cell(para), v4.new_code_cell(f"f{k}", outputs=[_figure(250)])]
    types = asm.slide_types(nb)
    assert types[0] == "slide" and types.count("subslide") >= 3
    starts = [i for i, t in enumerate(types) if t in ("slide", "subslide")] + [len(types)]
    for a, b in zip(starts, starts[1:]):
        assert sum(asm.estimate_height(c, nb) for c in nb.cells[a:b]) <= asm.BUDGET_PX
        assert nb.cells[a].cell_type == "markdown"     # a figure stays with the text that introduces it
    assert asm.overflow_problems(nb) == []


def test_a_unit_taller_than_a_slide_is_split_before_a_code_cell_and_a_tall_cell_is_reported():
    nb = v4.new_notebook()
    nb.cells = [v4.new_markdown_cell("## Figures"), v4.new_code_cell("a", outputs=[_figure(350)]),
                v4.new_code_cell("b", outputs=[_figure(350)]),
                v4.new_markdown_cell("\n\n".join(["a paragraph of text " * 10] * 12))]
    assert asm.slide_types(nb) == ["slide", "-", "subslide", "subslide"]
    assert [p.split(":")[0] for p in asm.overflow_problems(nb)] == ["cell 3"]


def test_height_estimate():
    md = asm.markdown_height
    assert md("one line") == asm.LINE_PX
    assert md("x " * 150) == 3 * asm.LINE_PX                 # wrapped at CHARS_PER_LINE characters
    assert md("a\nb\nc") == asm.LINE_PX                      # hard-wrapped source: one paragraph
    assert md("- a\n- b\n- c") > 3 * asm.LINE_PX
    closed = md("<details>\n<summary>Answer</summary>\n\n" + "long answer " * 500 + "\n</details>")
    assert closed < 3 * asm.LINE_PX                            # a closed <details> shows its summary only
    fenced = md("```python\n# not a heading\nx = 1\n```")
    assert fenced < 4 * asm.LINE_PX
    cell = v4.new_code_cell("plot()", outputs=[_figure(900, width=600)])
    assert asm.estimate_height(cell, v4.new_notebook()) <= asm.IMG_MAX_PX + 20   # pictures are capped
    shown = v4.new_code_cell("a\nb\nc", metadata={"tags": ["show-code"]})
    assert asm.estimate_height(shown, v4.new_notebook()) >= 3 * asm.CODE_LINE_PX


def test_heading_problems():
    nb = v4.new_notebook()
    nb.cells = [v4.new_markdown_cell("# Title"),
                v4.new_markdown_cell("text\n\n## Mid-cell heading\nmore"),
                v4.new_markdown_cell("```python\n# a comment, not a heading\n```\n\n### a subsection"),
                v4.new_markdown_cell("## Going deeper · x\n\n## and a second",
                                     metadata={"tags": ["deep-dive"]})]
    probs = asm.heading_problems(nb)
    assert len(probs) == 2 and probs[0].startswith("cell 1: heading '## Mid-cell heading' on line 3")
    assert probs[1].startswith("cell 3: heading '## and a second'")
    types = asm.slide_types(nb)
    types[0] = "subslide"            # a heading cell that is not a slide
    assert any(p.startswith("cell 0:") and "not a slide" in p for p in asm.heading_problems(nb, types))


def _style(meta):
    return meta.get(asm.FONTS_KEY, {}).get("styles", {}).get("", {}).get(asm.PRESENTING)


def test_deck_styles_hide_code_only_while_presenting_and_set_projector_sizes(tmp_path):
    nb = _nb()
    nb.cells.append(v4.new_code_cell("shown()", metadata={"tags": ["show-code"]}))
    nb.cells.append(v4.new_code_cell("edit_me = ...", metadata={"tags": ["exercise"]}))
    p = tmp_path / "x.ipynb"
    nbformat.write(nb, str(p))
    asm.apply(p)
    out = nbformat.read(str(p), as_version=4)
    style = _style(out.metadata)
    assert style["& .jp-RenderedHTMLCommon"]["font-size"] == "20px"
    assert style["--jp-code-font-size"] == "18px"
    assert int(style["& .jp-RenderedHTMLCommon h2"]["font-size"][:-2]) > 20
    for cell in out.cells:
        hidden = _style(cell.metadata) == {"& .jp-Cell-inputWrapper": {"display": "none"}}
        keep = cell.cell_type != "code" or {"show-code", "exercise"} & set(cell.metadata.get("tags", []))
        assert hidden == (not keep), cell.source
        assert "jupyter" not in cell.metadata      # source_hidden would hide the code outside the deck too


def test_apply_changes_only_deck_metadata_and_is_idempotent(tmp_path):
    nb = _nb()
    p = tmp_path / "x.ipynb"
    nbformat.write(nb, str(p))
    before = copy.deepcopy(nbformat.read(str(p), as_version=4))
    kinds = asm.slide_types(nb)
    assert asm.apply(p) > 0
    after = nbformat.read(str(p), as_version=4)
    for a, b, kind in zip(before.cells, after.cells, kinds):
        assert a.source == b.source and a.get("outputs") == b.get("outputs")
        assert a.get("execution_count") == b.get("execution_count")
        meta = dict(b.metadata)
        # "-" is written as no metadata: jupyterlab-slideshow treats a literal "-" as a dead end
        assert ("slideshow" in meta) == (kind != "-")
        if kind != "-":
            assert meta.pop("slideshow") == {"slide_type": kind}
        meta.pop(asm.FONTS_KEY, None)
        assert meta == dict(a.metadata)
    nb_meta = dict(after.metadata)
    nb_meta.pop(asm.FONTS_KEY)
    assert nb_meta == dict(before.metadata)
    assert asm.apply(p) == 0
    assert asm.main(["--check", str(p)]) == 0


def test_a_literal_dash_is_removed(tmp_path):
    nb = _nb()
    nb.cells[1].metadata["slideshow"] = {"slide_type": "-"}
    p = tmp_path / "x.ipynb"
    nbformat.write(nb, str(p))
    asm.apply(p)
    assert "slideshow" not in nbformat.read(str(p), as_version=4).cells[1].metadata


def test_stored_solutions_and_deep_dives_are_skipped_in_the_deck():
    for p in COURSE_NOTEBOOKS:
        nb = nbformat.read(p, as_version=4)
        for i, (cell, kind) in enumerate(zip(nb.cells, asm.slide_types(nb))):
            if {"solution", "deep-dive"} & set(cell.get("metadata", {}).get("tags", [])):
                assert kind == "skip", f"{Path(p).name} cell {i}"


def test_every_heading_opens_its_cell_and_starts_a_slide():
    """Rule 1: a ``#``/``##`` heading is the first line of its markdown cell (outside fenced code), and that
    cell is a slide."""
    probs = []
    for p in COURSE_NOTEBOOKS:
        nb = nbformat.read(p, as_version=4)
        stored = [c.metadata.get("slideshow", {}).get("slide_type", "-") for c in nb.cells]
        probs += [f"{Path(p).name} {why}" for why in asm.heading_problems(nb, stored)]
    assert not probs, "headings that do not start a slide (split the cell):\n" + "\n".join(probs)


def test_notebooks_have_current_slide_metadata():
    paths = [str(p) for p in COURSE_NOTEBOOKS]   # a missing notebook fails (nbformat.read), never skips
    bare = [Path(p).name for p in paths if not any("slideshow" in c.get("metadata", {})
                                                   for c in nbformat.read(p, as_version=4).cells)]
    assert not bare, f"no slide metadata in {bare}: run python scripts/add_slide_metadata.py"
    stale = [Path(p).name for p in paths if asm.apply(p, write=False)]
    assert not stale, (f"slide metadata missing or out of date in {stale}: run python "
                       f"scripts/add_slide_metadata.py")
