"""The Chinese edition's text lives in gettext catalogs keyed by cell id (scripts/i18n.py): a changed English
cell turns its translation fuzzy, a build refuses missing or fuzzy entries, and a built notebook shares every
code cell, cell id, tag and slide setting with the English one."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import i18n  # noqa: E402

ZH_BUILT = sorted((ROOT / "notebooks" / "zh").glob("*.ipynb"))


def _notebook(tmp_path, texts, name="01_x.ipynb"):
    nb = nbformat.v4.new_notebook()
    for t in texts:
        nb.cells.append(nbformat.v4.new_markdown_cell(t))
        nb.cells.append(nbformat.v4.new_code_cell("x = 1  # code stays"))
    nb.cells[1].metadata["tags"] = ["exercise"]
    nb.cells[0].metadata["slideshow"] = {"slide_type": "slide"}
    path = tmp_path / name
    nbformat.write(nb, str(path))
    return path


def _translate(po, table):
    for e in po:
        e.msgstr = table.get(e.msgid, "")
    return po


def test_a_changed_english_cell_turns_its_translation_fuzzy(tmp_path):
    path = _notebook(tmp_path, ["## 1 · Batches", "See [the plan](../teaching/lesson_plan.md)."])
    po = _translate(i18n.updated_catalog(path), {"## 1 · Batches": "## 1 · 批次",
                                                 "See [the plan](../teaching/lesson_plan.md).":
                                                 "见[教案](../teaching/lesson_plan.md)。"})
    assert i18n.counts(po) == {"entries": 2, "translated": 2, "fuzzy": 0, "missing": 0}
    nb = nbformat.read(str(path), as_version=4)
    nb.cells[0].source = "## 1 · Batches and shuffling"
    nbformat.write(nb, str(path))
    po2 = i18n.updated_catalog(path, po)
    assert i18n.counts(po2) == {"entries": 2, "translated": 1, "fuzzy": 1, "missing": 0}
    stale = next(e for e in po2 if "fuzzy" in e.flags)
    assert stale.previous_msgid == "## 1 · Batches" and stale.msgstr == "## 1 · 批次"
    with pytest.raises(ValueError, match=r"cell 0 .*fuzzy"):
        i18n.build(path, tmp_path / "zh", po=po2)


def test_a_build_refuses_a_missing_translation_and_keeps_code_and_metadata(tmp_path):
    path = _notebook(tmp_path, ["## 1 · Batches", "See [the plan](../teaching/lesson_plan.md)."])
    po = i18n.updated_catalog(path)
    with pytest.raises(ValueError, match=r"cell 0 .*not translated"):
        i18n.build(path, tmp_path / "zh", po=po)
    _translate(po, {"## 1 · Batches": "## 1 · 批次",
                    "See [the plan](../teaching/lesson_plan.md).": "见[教案](../teaching/lesson_plan.md)。"})
    out = i18n.build(path, tmp_path / "zh", po=po)
    en, zh = (nbformat.read(str(p), as_version=4) for p in (path, out))
    assert zh.metadata["language"] == "zh-CN"
    assert [c.source for c in zh.cells if c.cell_type == "markdown"] == \
        ["## 1 · 批次", "见[教案](../../teaching/lesson_plan.md)。"]  # one folder deeper
    for a, b in zip(en.cells, zh.cells):
        assert (a["id"], a.cell_type, a.metadata) == (b["id"], b.cell_type, b.metadata)
        if a.cell_type == "code":
            assert a.source == b.source


def test_every_catalog_is_current_with_its_english_notebook():
    """make notebooks runs scripts/i18n.py update; a changed English cell then shows up here as fuzzy."""
    assert i18n.main(["check"]) == 0


def _meta(cell):
    """A cell's metadata without its execution timestamps (tags, slide settings, deck styles stay)."""
    return {k: v for k, v in cell["metadata"].items() if k != "execution"}


@pytest.mark.parametrize("zh_path", ZH_BUILT, ids=[p.stem for p in ZH_BUILT])
def test_a_built_chinese_notebook_is_its_catalog_and_the_english_code(zh_path, tmp_path):
    en_path = ROOT / "notebooks" / zh_path.name
    po = i18n.load(en_path)
    assert i18n.counts(po)["fuzzy"] == 0 and i18n.counts(po)["missing"] == 0, i18n.counts(po)
    fresh = nbformat.read(str(i18n.build(en_path, tmp_path, po=po)), as_version=4)
    built = nbformat.read(str(zh_path), as_version=4)
    en = json.loads(en_path.read_text())
    assert built.metadata.get("language") == "zh-CN"
    assert len(built.cells) == len(fresh.cells) == len(en["cells"])
    for b, f, e in zip(built.cells, fresh.cells, en["cells"]):
        assert b["id"] == e["id"] and _meta(b) == _meta(f) == _meta(e), f"{zh_path.name} {b['id']}: metadata"
        assert b.source == f.source, f"{zh_path.name} cell {b['id']}: not the catalog's text (rebuild it)"
        if b.cell_type == "code":
            assert b.source == "".join(e["source"]), f"{zh_path.name}: code cell {b['id']} differs"


NUMBER = __import__("re").compile(r"[-+]?\d+(?:\.\d+)?")
WIDGET = "application/vnd.jupyter.widget-view+json"


def _printed_numbers(cell):
    """The numbers of a code cell's printed and plain-text outputs, in order."""
    text = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            text.append("".join(out["text"]))
        elif "text/plain" in out.get("data", {}) and WIDGET not in out["data"]:
            text.append("".join(out["data"]["text/plain"]))
    return NUMBER.findall("\n".join(text))


@pytest.mark.parametrize("zh_path", ZH_BUILT, ids=[p.stem for p in ZH_BUILT])
def test_every_printed_number_is_the_same_in_both_languages(zh_path):
    """The Chinese notebook runs the same code on the same caches: its outputs carry the same numbers (the
    words around them may be translated). Cells marked NBVAL_IGNORE_OUTPUT (wall-clock times) are skipped."""
    en = json.loads((ROOT / "notebooks" / zh_path.name).read_text())["cells"]
    zh = json.loads(zh_path.read_text())["cells"]
    for e, z in zip(en, zh):
        if e["cell_type"] != "code" or "NBVAL_IGNORE_OUTPUT" in "".join(e["source"]):
            continue
        assert _printed_numbers(z) == _printed_numbers(e), f"{zh_path.name} cell {e['id']}: numbers differ"
