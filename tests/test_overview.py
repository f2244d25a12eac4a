"""One set of time estimates: each notebook's header, the map of notebook 00 and the README's table agree,
and the totals are the sums (issue 12 §4). Plus notebook 00's warm-up panel."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("0[0-5]_*.ipynb"))
ROW = re.compile(r"^\| `(0\d)_[a-z_]+` \|.*\| (\d+) min \|\s*$", re.M)
TOTAL_ROW = re.compile(r"^\| \*\*total[^|]*\*\* \|.*\| \*\*(?:(\d+) h )?(\d+) min\*\* \|\s*$", re.M)


def _cells(path):
    return ["".join(c["source"]) for c in json.loads(path.read_text())["cells"]]


def header_minutes(path):
    """The time estimate in a notebook's first cell: "notebook NN of 00–05 · about N minutes", else
    "**Time:** about N minutes", else "**Objectives** (≈ N min)"."""
    head = _cells(path)[0]
    for pattern in (r"notebook 0\d of 00–05[^\n]*?about (\d+) min", r"\*\*Time:?\*\*:? about (\d+) min",
                    r"\*\*Objectives\*\* \(≈ (\d+) min\)"):
        m = re.search(pattern, head, re.I)
        if m:
            return int(m.group(1))
    raise AssertionError(f"{path.name}: no time estimate in the header")


def section_minutes(path):
    """The "(≈ N min)" of every "## " section heading."""
    return [int(m.group(1)) for src in _cells(path) if src.startswith("## ")
            for m in [re.search(r"\((?:≈ ?)?(\d+) min\)", src.splitlines()[0])] if m]


def _minutes(h, m):
    return 60 * int(h or 0) + int(m)


@pytest.fixture(scope="module")
def headers():
    return {p.name[:2]: header_minutes(p) for p in NOTEBOOKS}


@pytest.mark.parametrize("name", ["00_overview.ipynb", "02_noisy_gradients.ipynb"])
def test_header_is_the_sum_of_the_sections(name):
    path = ROOT / "notebooks" / name
    sections = section_minutes(path)
    headings = [s for s in _cells(path) if s.startswith("## ")]
    assert len(sections) == len(headings), "every section has an estimate"
    assert sum(sections) == header_minutes(path)


def test_map_of_notebook_00_agrees_with_the_headers(headers):
    path = ROOT / "notebooks" / "00_overview.ipynb"
    cells = _cells(path)
    table = next(c for c in cells if "| notebook |" in c)
    assert {k: int(v) for k, v in ROW.findall(table)} == headers
    h, m = TOTAL_ROW.search(table).groups()
    total = sum(headers.values())
    assert _minutes(h, m) == total
    unit = re.search(r"the whole unit about (?:(\d+) h )?(\d+) min", cells[0])
    assert unit and _minutes(*unit.groups()) == total


def test_readme_table_agrees_with_the_headers(headers):
    text = (ROOT / "README.md").read_text()
    part = text[text.index("## The notebooks"):]
    part = part[:part.index("\n## ", 5)]
    assert {k: int(v) for k, v in ROW.findall(part)} == headers
    h, m = TOTAL_ROW.search(part).groups()
    assert _minutes(h, m) == sum(headers.values())


def test_demo_panel_caption():
    from lecture_utils.panels.overview import demo_panel, parabola_path

    panel = demo_panel()
    assert "zig-zags" in panel.update(lr=0.75) and "slides down" in panel.update(lr=0.2)
    assert "diverges" in panel.update(lr=1.06) and "after 12 steps" in panel.update(lr=1.06)
    assert "after 1 step " in demo_panel(steps=1).update(lr=0.2)
    assert parabola_path(0.75, steps=3)[-1] == pytest.approx(2.0 * (-0.5) ** 3)
