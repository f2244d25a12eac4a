"""The lesson's shape: a core within its budget, tagged deep dives with banners, stated times that follow
the rule of scripts/lesson_budget.py, a prediction prompt before every core panel, an answer for every
question."""
import re

import nbformat
import pytest
from course_files import NOTEBOOKS, load_script

lb = load_script("lesson_budget")


def _nb(path):
    return nbformat.read(str(path), as_version=4)


def _src(cell):
    return lb._source(cell)


# --------------------------------------------------------------------------- the rule itself
def test_rule_counts_words_outside_details_only():
    md = "Two words <details><summary>Answer</summary>many hidden words here</details> and three\n| a | b |"
    assert lb.count_words(lb.visible_text(md)) == 6      # Two words and three a b


def test_rule_minutes():
    assert lb.minutes(150, 0, 0) == 1
    assert lb.minutes(300, 1, 1) == 2 + 2 + 4
    assert lb.minutes(74, 0, 0) == 0 and lb.minutes(76, 0, 0) == 1   # rounded to the nearest minute


def test_rule_panels_and_exercises_are_counted_from_cells():
    panel = nbformat.v4.new_code_cell("p", outputs=[nbformat.v4.new_output(
        "display_data", data={lb.WIDGET: {"model_id": "x"}, "text/plain": "p"})])
    ex = nbformat.v4.new_code_cell("x = ...", metadata={"tags": ["exercise"]})
    md = nbformat.v4.new_markdown_cell("# T\n\n" + "word " * 148)   # 150 words with "# T"? '#' is no word
    nb = nbformat.v4.new_notebook(cells=[md, panel, ex])
    b = lb.budget(nb)
    assert b["core"] == {"words": 149, "panels": 1, "exercises": 1, "minutes": 1 + 2 + 4}


def test_a_stale_stated_time_is_found_and_rewritten():
    cells = [nbformat.v4.new_markdown_cell("# T\n\n◑ **Core ≈ 99 min** · deep dives ≈ 0 min (old)"),
             nbformat.v4.new_markdown_cell("## 1 · A (≈ 7 min)\n\n" + "w " * 300),
             nbformat.v4.new_markdown_cell("## Going deeper · B\n\ntext", metadata={"tags": ["deep-dive"]})]
    nb = nbformat.v4.new_notebook(cells=cells)
    problems = lb.stated_problems(nb)
    assert any("title states" in p for p in problems)
    assert any("should end in '(≈ 2 min)'" in p for p in problems)
    assert any("has no banner" in p for p in problems)
    lb.rewrite(nb)
    assert lb.stated_problems(nb) == []
    assert nb.cells[1].source.startswith("## 1 · A (≈ 2 min)")
    assert lb.BANNER in nb.cells[2].source


# --------------------------------------------------------------------------- the course
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stated_times_follow_the_rule(path):
    assert lb.stated_problems(_nb(path)) == [], "run: python scripts/lesson_budget.py --write " + path.name


def test_core_of_the_course_fits_the_budget():
    nbs = [_nb(p) for p in NOTEBOOKS]
    words = sum(lb.budget(nb)["core"]["words"] for nb in nbs)
    minutes = sum(lb.budget(nb)["core"]["minutes"] for nb in nbs)
    assert words <= lb.MAX_CORE_WORDS, f"core prose {words} words > {lb.MAX_CORE_WORDS}"
    assert minutes <= lb.MAX_CORE_MINUTES, f"core {minutes} min > {lb.MAX_CORE_MINUTES}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_deep_dive_cell_is_inside_a_tagged_run_that_opens_with_heading_and_banner(path):
    nb = _nb(path)
    for part in lb.sections(nb):
        if not part["deep"]:
            continue
        first = nb.cells[part["cells"][0]]
        assert first.cell_type == "markdown" and lb.DEEP_HEADING.match(_src(first)), part["title"]
        assert lb.BANNER in _src(first)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_core_panel_follows_a_prediction_prompt_with_a_hidden_answer(path):
    """'Before you move the slider: …' sits in a markdown cell of the same section before the panel, with its
    answer in <details>."""
    nb = _nb(path)
    missing = []
    for i, cell in enumerate(nb.cells):
        if lb.is_deep(cell) or not lb.is_panel(cell):
            continue
        found = False
        for j in range(i - 1, -1, -1):
            prev = nb.cells[j]
            src = _src(prev)
            if prev.cell_type == "markdown" and "Before you move the slider" in src:
                found = "<details>" in src.split("Before you move the slider", 1)[1]
                break
            if lb.is_panel(prev) or (prev.cell_type == "markdown" and lb._heading(prev)):
                break
        if not found:
            missing.append(i)
    assert not missing, f"core panels without a prediction prompt + hidden answer before: cells {missing}"


THINK = re.compile(r"\*\*Think!?\*\*|^#+ Think!", re.M)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_think_and_every_exercise_has_a_hidden_answer(path):
    nb = _nb(path)
    bad = []
    for i, cell in enumerate(nb.cells):
        src = _src(cell)
        if cell.cell_type == "markdown" and THINK.search(src) and "<details>" not in src.split("Think", 1)[1]:
            bad.append(f"Think! in cell {i}")
        if lb.is_exercise(cell):
            after = nb.cells[i + 1:i + 4]
            if not any("solution" in c.metadata.get("tags", []) and "<details>" in _src(c) for c in after):
                bad.append(f"exercise in cell {i} (no hidden solution within the next 3 cells)")
    assert not bad, bad


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_issue_numbers_in_what_a_reader_sees(path):
    nb = _nb(path)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            assert not re.search(r"\bissue \d+|#\d{1,3}\b", _src(cell), re.I), f"cell {i}"


def test_readme_route_table_is_current():
    readme = (lb.ROOT / "README.md").read_text()
    assert lb.readme_with_route(readme) == readme, "run: python scripts/lesson_budget.py --readme"
