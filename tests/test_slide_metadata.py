"""scripts/add_slide_metadata.py: the slide types it assigns, that it changes nothing else, and
that the notebooks carry up-to-date slide metadata once it has been run."""
from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

import nbformat
from course_files import NOTEBOOKS as COURSE_NOTEBOOKS

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("add_slide_metadata",
                                              ROOT / "scripts" / "add_slide_metadata.py")
asm = importlib.util.module_from_spec(spec)
spec.loader.exec_module(asm)


def _nb():
    v4 = nbformat.v4
    nb = v4.new_notebook()
    nb.cells = [
        v4.new_markdown_cell("# Title\nintro"),
        v4.new_code_cell("x = 1", outputs=[v4.new_output("stream", name="stdout", text="1\n")],
                         execution_count=1),
        v4.new_markdown_cell("## Section 1"),
        v4.new_markdown_cell("text"),
        v4.new_code_cell("a"),
        v4.new_code_cell("b"),
        v4.new_markdown_cell("more text"),  # 5th cell of the slide -> subslide
        v4.new_markdown_cell("### A detail"),
        v4.new_markdown_cell("**Think!** Why?"),
        v4.new_code_cell("solution = 2", metadata={"jupyter": {"source_hidden": True}, "tags": ["solution"]}),
        v4.new_markdown_cell("## Summary"),
        # the course's convention: a solution is a markdown <details> cell tagged "solution"; whatever it
        # holds (a heading, a Think! line) it is skipped while presenting
        v4.new_markdown_cell(SOLUTION_MD, metadata={"tags": ["solution"]}),
        v4.new_markdown_cell("## Think! what next", metadata={"tags": ["solution"]}),
    ]
    return nb


SOLUTION_MD = ("<details>\n<summary><b>Solution</b> — open it only after you have tried</summary>\n\n"
               "```python\n# Think! first\nx = 1\n_ = checks.check_number('x', x, 1)\n```\n\n</details>")


def test_slide_types():
    assert asm.slide_types(_nb(), max_cells=4) == [
        "slide", "-", "slide", "-", "-", "-", "subslide", "subslide", "fragment", "skip", "slide", "skip",
        "skip"]


def test_solution_markdown_cells_are_skipped_and_do_not_count_towards_a_slide():
    v4 = nbformat.v4
    nb = v4.new_notebook()
    nb.cells = [v4.new_markdown_cell("## Exercise")] + [v4.new_code_cell("a")] * 2 + [
        v4.new_markdown_cell(SOLUTION_MD,
                             metadata={"tags": ["solution"]})] * 3 + [v4.new_markdown_cell("text")]
    assert asm.slide_types(nb, max_cells=4) == ["slide", "-", "-", "skip", "skip", "skip", "-"]


def test_stored_solutions_are_skipped_in_the_deck():
    for p in COURSE_NOTEBOOKS:
        nb = nbformat.read(p, as_version=4)
        for i, (cell, kind) in enumerate(zip(nb.cells, asm.slide_types(nb))):
            if "solution" in cell.get("metadata", {}).get("tags", []):
                assert kind == "skip", f"{Path(p).name} cell {i}"


def test_apply_changes_only_slideshow_metadata_and_is_idempotent(tmp_path):
    nb = _nb()
    p = tmp_path / "x.ipynb"
    nbformat.write(nb, str(p))
    before = copy.deepcopy(nbformat.read(str(p), as_version=4))
    kinds = asm.slide_types(nb)
    assert asm.apply(p) == sum(k != "-" for k in kinds)
    after = nbformat.read(str(p), as_version=4)
    for a, b, kind in zip(before.cells, after.cells, kinds):
        assert a.source == b.source and a.get("outputs") == b.get("outputs")
        assert a.get("execution_count") == b.get("execution_count")
        meta = dict(b.metadata)
        # "-" is written as no metadata: jupyterlab-slideshow treats a literal "-" as a dead end
        assert ("slideshow" in meta) == (kind != "-")
        if kind != "-":
            assert meta.pop("slideshow") == {"slide_type": kind}
        assert meta == dict(a.metadata)
    assert asm.apply(p) == 0
    assert asm.main(["--check", str(p)]) == 0


def test_a_literal_dash_is_removed(tmp_path):
    nb = _nb()
    nb.cells[1].metadata["slideshow"] = {"slide_type": "-"}
    p = tmp_path / "x.ipynb"
    nbformat.write(nb, str(p))
    asm.apply(p)
    assert "slideshow" not in nbformat.read(str(p), as_version=4).cells[1].metadata


def test_notebooks_have_current_slide_metadata():
    paths = [str(p) for p in COURSE_NOTEBOOKS]   # a missing notebook fails (nbformat.read), never skips
    bare = [Path(p).name for p in paths if not any("slideshow" in c.get("metadata", {})
                                                   for c in nbformat.read(p, as_version=4).cells)]
    assert not bare, f"no slide metadata in {bare}: run python scripts/add_slide_metadata.py"
    stale = [Path(p).name for p in paths if asm.apply(p, write=False)]
    assert not stale, (f"slide metadata missing or out of date in {stale}: run python "
                       f"scripts/add_slide_metadata.py")
