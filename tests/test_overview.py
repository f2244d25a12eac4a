"""Notebook 00: its map of the route is computed by scripts/lesson_budget.py's rule and stored current, the
glossary is complete and hidden in <details>, the warm-up panel has its prediction prompt before it."""
from __future__ import annotations

import json

import pytest
from course_files import ROOT, load_script

NB = ROOT / "notebooks" / "00_overview.ipynb"


def _cells():
    return json.loads(NB.read_text())["cells"]


def _src(cell):
    return "".join(cell["source"])


def _stdout(cell):
    outs = cell.get("outputs", [])
    return "".join("".join(o.get("text", "")) for o in outs if o["output_type"] == "stream")


def test_route_uses_the_budget_rule():
    import nbformat

    from lecture_utils.panels.overview import route

    lb = load_script("lesson_budget")
    rows = {r["name"]: r for r in route()}
    for path in lb.course_files.NOTEBOOKS:
        if path.is_file():
            b = lb.budget(nbformat.read(str(path), as_version=4))
            assert (rows[path.stem]["core"], rows[path.stem]["deep"]) == (b["core"]["minutes"],
                                                                         b["deep"]["minutes"])
            core = [p for p in lb.sections(nbformat.read(str(path), as_version=4))
                    if not p["deep"] and p["title"].startswith("## ")]
            assert [m for _, m in rows[path.stem]["sections"]] == [p["minutes"] for p in core]


def test_map_cell_reads_the_budget_and_its_stored_output_is_current():
    from lecture_utils.panels.overview import route_text, sections_text

    cells = _cells()
    for call, fresh in (("route_text()", route_text()), ("sections_text()", sections_text())):
        cell = next(c for c in cells if c["cell_type"] == "code" and f"print({call})" in _src(c))
        assert _stdout(cell).rstrip("\n") == fresh, \
            "the map is stale: run python scripts/execute_notebooks.py notebooks/00_overview.ipynb"
    head = _src(next(c for c in cells if _src(c).startswith("## 1 ")))
    assert "../teaching/lesson_plan.md" in head and "../teaching/README.md" in head


def test_glossary_is_hidden_and_complete():
    gl = _src(next(c for c in _cells() if _src(c).startswith("## 4 · Glossary")))
    hidden = gl[gl.index("<details>"):gl.index("</details>")]
    rows = [line for line in hidden.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) >= 18          # header + every term
    for term in ("批次", "轮", "打乱", "学习率", "鞍点", "海森矩阵", "动量", "数据并行", "泛化"):
        assert term in hidden, term
    assert "大招" in hidden and "连续平A" in hidden and "鱼与熊掌兼得" in hidden


def test_prediction_prompt_comes_before_the_panel():
    cells = _cells()
    panel = next(i for i, c in enumerate(cells) if c["cell_type"] == "code" and "demo_panel()" in _src(c))
    prompt = _src(cells[panel - 1])
    assert "**Before you move the slider:**" in prompt
    assert "<details>" in prompt.split("Before you move the slider", 1)[1]


def test_demo_panel_caption():
    from lecture_utils.panels.overview import demo_panel, parabola_path

    panel = demo_panel()
    assert "zig-zags" in panel.update(lr=0.75) and "slides down" in panel.update(lr=0.2)
    assert "diverges" in panel.update(lr=1.06) and "after 12 steps" in panel.update(lr=1.06)
    assert "after 1 step " in demo_panel(steps=1).update(lr=0.2)
    assert parabola_path(0.75, steps=3)[-1] == pytest.approx(2.0 * (-0.5) ** 3)
