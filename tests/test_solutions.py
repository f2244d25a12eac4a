"""Exercise solutions: hidden, never run with Run All, and right.

The convention (README, TEAM_RULES): a solution is a *markdown* cell tagged ``solution`` holding
``<details><summary>…</summary>`` and a fenced python block; the learner's cell keeps the stub and the
check call, which prints ○ until they answer.

1. Static, on the stored notebooks: no code cell is tagged ``solution``; every solution cell is a
   closed ``<details>`` with one python block that calls a check; no stored output shows ✓; every
   stored output of a check call shows ○ (the stored outputs are a fresh Run All).
2. Executed (slow): each notebook runs in a fresh kernel with each solution's code inserted as a
   code cell right after its markdown cell; the learner's stub cell before it prints ○ and no ✓,
   and the solution's check prints ✓ (and no ×/○). So a right answer is accepted by the check as
   it is now, whoever edits the check or the solution. Waits on the kernel, never on a clock
   (the cell timeout is a generous ceiling only).
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
FENCE = re.compile(r"```python[ \t]*\n(.*?)```", re.S)
CHECK_CALL = re.compile(r"\bchecks\.check_\w+\(")


def _read(path):
    return nbformat.read(str(path), as_version=4)


def _tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def _text(cell):
    out = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream":
            out.append(o.get("text", ""))
        elif o.get("output_type") in ("execute_result", "display_data"):
            out.append(str(o.get("data", {}).get("text/plain", "")))
        elif o.get("output_type") == "error":
            out.append(f"{o.get('ename')}: {o.get('evalue')}")
    return "".join(out)


def solution_code(cell):
    """The python code of a solution markdown cell (all its fenced python blocks, joined)."""
    return "\n\n".join(block.strip() for block in FENCE.findall(cell.source))


def solutions(nb):
    return [(i, c) for i, c in enumerate(nb.cells) if "solution" in _tags(c)]


WITH_SOLUTIONS = [p for p in NOTEBOOKS if solutions(_read(p))]


def test_some_notebooks_have_solutions():
    assert WITH_SOLUTIONS, "no notebook has a cell tagged 'solution'"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_solutions_are_hidden_markdown_and_nothing_stored_shows_a_tick(path):
    nb = _read(path)
    for i, cell in solutions(nb):
        assert cell.cell_type == "markdown", f"{path.name} cell {i}: a solution must be a markdown cell " \
                                             "(a code cell runs with Run All)"
        src = cell.source.strip()
        assert src.startswith("<details>") and src.endswith("</details>") and "<summary>" in src, \
            f"{path.name} cell {i}: wrap the solution in <details><summary>…</summary> … </details>"
        assert " open" not in src.split(">", 1)[0], f"{path.name} cell {i}: <details open> shows the answer"
        summary = src.split("<summary>", 1)[1].split("</summary>", 1)[0]
        assert "```" not in summary and "=" not in re.sub(r"<[^>]+>", "", summary), \
            f"{path.name} cell {i}: the summary line must not give the answer: {summary!r}"
        code = solution_code(cell)
        assert code, f"{path.name} cell {i}: no ```python block in the solution"
        compile(code, f"{path.name}[{i}]", "exec")
        assert CHECK_CALL.search(code), f"{path.name} cell {i}: the solution should call its check"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        assert "solution" not in _tags(cell), \
            f"{path.name} cell {i}: a code cell tagged solution runs with Run All"
        text = _text(cell)
        assert "✓" not in text, f"{path.name} cell {i}: a stored output shows ✓ — after Run All no " \
                                 f"exercise may be solved:\n{text[:300]}"
        if CHECK_CALL.search(cell.source) and cell.get("execution_count") is not None:
            assert "○" in text, (f"{path.name} cell {i}: the exercise's check should print ○ after "
                                  f"Run All, got:\n{text[:300]}")


def with_solutions_inserted(nb):
    """A copy of ``nb`` where each solution's code follows its markdown cell as a code cell; the cells
    after the last solution are dropped (they cannot change a check's verdict). Returns
    ``(notebook, [(index of the inserted cell, index of the learner's check cell or None, origin)])``."""
    out = nbformat.v4.new_notebook(metadata=nb.metadata)
    marks, last_check = [], None
    last_solution = max(i for i, _ in solutions(nb))
    for i, cell in enumerate(nb.cells[:last_solution + 1]):
        cell = nbformat.from_dict(dict(cell))
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            if CHECK_CALL.search(cell.source):
                last_check = len(out.cells)
        out.cells.append(cell)
        if "solution" in _tags(cell):
            out.cells.append(nbformat.v4.new_code_cell(solution_code(cell)))
            marks.append((len(out.cells) - 1, last_check, i))
            last_check = None
    return out, marks


@pytest.mark.slow
@pytest.mark.parametrize("path", WITH_SOLUTIONS, ids=[p.name for p in WITH_SOLUTIONS])
def test_each_solution_passes_its_check(path):
    from nbclient import NotebookClient

    nb, marks = with_solutions_inserted(_read(path))
    client = NotebookClient(nb, timeout=900, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(ROOT / "notebooks")}})
    client.execute()
    errors = [(i, _text(c)) for i, c in enumerate(nb.cells)
              if c.cell_type == "code" and any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    assert not errors, f"{path.name}: cells raised: {errors[:3]}"
    bad = []
    for sol, stub, origin in marks:
        text = _text(nb.cells[sol])
        if "✓" not in text or "×" in text or "○" in text:
            bad.append(f"solution in cell {origin} printed:\n{text.strip()}")
        if stub is not None:
            before = _text(nb.cells[stub])
            if "✓" in before or "○" not in before:
                bad.append(f"the learner's cell before the solution in cell {origin} printed:\n"
                           f"{before.strip()}")
    assert not bad, f"{path.name}:\n" + "\n".join(bad)
