"""The Chinese (zh-CN) edition's text, from one source: the English notebooks.

The English notebooks under ``notebooks/`` are the source. Every markdown cell's text is one entry of a
gettext catalog, ``locale/zh_CN/<notebook>.po``, keyed by the cell's id (``msgctxt``); ``msgid`` is the
English text, ``msgstr`` its translation. When an English cell changes, ``update`` keeps the old translation
but marks it **fuzzy** (with the previous English as ``#| msgid``), so a stale translation is never used
silently; a cell that is gone becomes obsolete (``#~``). ``build`` writes ``notebooks/zh/<notebook>.ipynb``:
the English notebook with every markdown cell replaced by its translation; code cells, cell ids, tags and
slide metadata stay byte for byte the same, and the notebook's metadata says ``language: zh-CN``. It refuses
a catalog with a missing or fuzzy entry. Outputs are then made by ``scripts/execute_notebooks.py`` as for
the English ones.

    python scripts/i18n.py update              # create or update every catalog from the English notebooks
    python scripts/i18n.py status              # per catalog: entries, translated, fuzzy, missing
    python scripts/i18n.py build [NB ...]      # write notebooks/zh/NB.ipynb from the catalogs (default: all)
    python scripts/i18n.py check               # exit 1 if a catalog is out of date with its notebook
    python scripts/i18n.py messages            # extract lecture_utils' runtime messages (Babel) into
                                               # lecture_utils/locale/zh_CN/<module>.po, keeping translations

Runtime messages (what the code prints and draws) are the other half: ``lecture_utils.i18n._`` looks them up
in ``lecture_utils/locale/zh_CN/*.po``, one catalog per module (``panels/batches.py`` →
``panels_batches.po``).
"""
from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat
import polib

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "notebooks"
LOCALE = ROOT / "locale" / "zh_CN"
TARGET = SOURCE / "zh"
LANGUAGE = "zh-CN"
HEADER = {
    "Project-Id-Version": "mini-batches-and-momentum",
    "Language": "zh_CN",
    "MIME-Version": "1.0",
    "Content-Type": "text/plain; charset=UTF-8",
    "Content-Transfer-Encoding": "8bit",
}
#: A link out of notebooks/ (``](../teaching/…)``) is one folder deeper from notebooks/zh/.
UP_LINK = re.compile(r"\]\(\.\./")


def notebooks():
    sys.path.insert(0, str(ROOT / "tests"))
    from course_files import NOTEBOOKS

    return [Path(p) for p in NOTEBOOKS]


def catalog_path(nb_path):
    return LOCALE / f"{Path(nb_path).stem}.po"


def translatable(nb):
    """(cell id, index, English text) of every markdown cell with text."""
    return [(c["id"], i, c.source) for i, c in enumerate(nb.cells)
            if c.cell_type == "markdown" and c.source.strip()]


def updated_catalog(nb_path, po=None):
    """The catalog of one notebook, brought up to date with its markdown cells (see the module docstring)."""
    nb = nbformat.read(str(nb_path), as_version=4)
    old = {e.msgctxt: e for e in (po or []) if not e.obsolete}
    new = polib.POFile(wrapwidth=0)
    new.metadata = dict(HEADER)
    for cid, i, text in translatable(nb):
        e = old.pop(cid, None)
        if e is None:
            e = polib.POEntry(msgctxt=cid, msgid=text, msgstr="")
        elif e.msgid != text:
            if e.msgstr and "fuzzy" not in e.flags:
                e.previous_msgid = e.msgid
                e.flags.append("fuzzy")
            e.msgid = text
        e.comment = f"{Path(nb_path).name}, cell {i}"
        e.occurrences = []
        new.append(e)
    for e in old.values():  # cells that are gone: kept, out of the way, for a cell that comes back
        if e.msgstr:
            e.obsolete = True
            new.append(e)
    return new


def load(nb_path):
    path = catalog_path(nb_path)
    return polib.pofile(str(path), wrapwidth=0) if path.is_file() else None


def counts(po):
    live = [e for e in po if not e.obsolete]
    fuzzy = [e for e in live if "fuzzy" in e.flags]
    missing = [e for e in live if not e.msgstr]
    return {"entries": len(live), "translated": len(live) - len(fuzzy) - len(missing),
            "fuzzy": len(fuzzy), "missing": len(missing)}


def build(nb_path, out_dir=TARGET, po=None):
    """Write the Chinese notebook (from ``po``, by default the notebook's catalog); raises ValueError naming
    each missing or fuzzy cell."""
    po = load(nb_path) if po is None else po
    if po is None:
        raise ValueError(f"no catalog {catalog_path(nb_path).relative_to(ROOT)}: run scripts/i18n.py update")
    entries = {e.msgctxt: e for e in po if not e.obsolete}
    nb = nbformat.read(str(nb_path), as_version=4)
    zh = copy.deepcopy(nb)
    problems = []
    for cid, i, text in translatable(nb):
        e = entries.get(cid)
        if e is None or e.msgid != text:
            problems.append(f"cell {i} ({cid}): catalog out of date (run scripts/i18n.py update)")
        elif not e.msgstr:
            problems.append(f"cell {i} ({cid}): not translated")
        elif "fuzzy" in e.flags:
            problems.append(f"cell {i} ({cid}): fuzzy — the English changed; review the translation")
        else:
            zh.cells[i].source = UP_LINK.sub("](../../", e.msgstr)
    if problems:
        raise ValueError(f"{Path(nb_path).name}: " + "; ".join(problems))
    for c in zh.cells:
        if c.cell_type == "code":
            c.outputs, c.execution_count = [], None
    zh.metadata["language"] = LANGUAGE
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / Path(nb_path).name
    nbformat.write(zh, str(out))
    return out


RUNTIME_DIR = ROOT / "lecture_utils" / "locale" / "zh_CN"
KEYWORDS = {"_": None, "ngettext": (1, 2)}


def module_catalog_name(py_path):
    rel = Path(py_path).resolve().relative_to(ROOT / "lecture_utils").with_suffix("")
    return "_".join(rel.parts) + ".po"


def extract_messages(py_path):
    """The messages of one module, in order: ``[(msgid, lineno)]`` (an ngettext gives both forms)."""
    from babel.messages.extract import extract_from_file

    out, seen = [], set()
    for lineno, message, _comments, _context in extract_from_file("python", str(py_path), keywords=KEYWORDS):
        for m in (message if isinstance(message, tuple) else (message,)):
            if m and m not in seen:
                seen.add(m)
                out.append((m, lineno))
    return out


def update_messages():
    """Bring every module's runtime catalog up to date: new messages are added untranslated, translations
    of messages still in the code are kept, messages gone from the code become obsolete."""
    RUNTIME_DIR.mkdir(parents=True, exist_ok=True)
    summary = {}
    for py in sorted((ROOT / "lecture_utils").rglob("*.py")):
        msgs = extract_messages(py)
        path = RUNTIME_DIR / module_catalog_name(py)
        if not msgs and not path.exists():
            continue
        old = ({e.msgid: e for e in polib.pofile(str(path), wrapwidth=0) if not e.obsolete}
               if path.exists() else {})
        po = polib.POFile(wrapwidth=0)
        po.metadata = dict(HEADER)
        for m, lineno in msgs:
            e = old.pop(m, None) or polib.POEntry(msgid=m, msgstr="")
            e.occurrences = [(str(py.relative_to(ROOT)), str(lineno))]
            po.append(e)
        for e in old.values():
            if e.msgstr:
                e.obsolete = True
                po.append(e)
        po.save(str(path))
        summary[path.name] = counts(po)
    return summary


def runtime_problems():
    """Messages in the code without a (non-fuzzy) translation, one line each."""
    problems = []
    for py in sorted((ROOT / "lecture_utils").rglob("*.py")):
        msgs = extract_messages(py)
        if not msgs:
            continue
        path = RUNTIME_DIR / module_catalog_name(py)
        entries = ({e.msgid: e for e in polib.pofile(str(path), wrapwidth=0) if not e.obsolete}
                   if path.exists() else {})
        for m, lineno in msgs:
            e = entries.get(m)
            if e is None or not e.msgstr or "fuzzy" in e.flags:
                what = "no entry" if e is None else "fuzzy" if e.msgstr else "not translated"
                problems.append(f"{py.relative_to(ROOT)}:{lineno}: {what}: {m[:60]!r}")
    return problems


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=["update", "status", "build", "check", "messages"])
    ap.add_argument("notebooks", nargs="*", help="notebook names or paths (default: all)")
    args = ap.parse_args(argv)
    chosen = notebooks()
    if args.notebooks:
        names = {Path(n).stem for n in args.notebooks}
        chosen = [p for p in chosen if p.stem in names]
    rc = 0
    if args.command == "messages":
        for name, c in update_messages().items():
            print(f"lecture_utils/locale/zh_CN/{name}: {c}")
        return 0
    for nb_path in chosen:
        po = load(nb_path)
        if args.command == "update":
            LOCALE.mkdir(parents=True, exist_ok=True)
            new = updated_catalog(nb_path, po)
            new.save(str(catalog_path(nb_path)))
            print(f"{catalog_path(nb_path).relative_to(ROOT)}: {counts(new)}")
        elif args.command == "status":
            print(f"{nb_path.stem}: {counts(po) if po else 'no catalog'}")
        elif args.command == "check":
            current = updated_catalog(nb_path, po)
            if po is None or [(e.msgctxt, e.msgid) for e in po if not e.obsolete] != \
                    [(e.msgctxt, e.msgid) for e in current if not e.obsolete]:
                print(f"{nb_path.stem}: catalog out of date with the notebook (run scripts/i18n.py update)")
                rc = 1
        else:
            try:
                print(f"wrote {build(nb_path).relative_to(ROOT)}")
            except ValueError as exc:
                print(exc)
                rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
