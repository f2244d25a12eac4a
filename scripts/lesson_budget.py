"""The lesson's time budget: core and deep dives, by one rule that anyone can recompute.

**The rule.** A part of a notebook takes

    visible words ÷ 150 words per minute  +  2 min per interactive panel  +  4 min per exercise

rounded to whole minutes, where

* *visible words* are the words of its markdown cells outside ``<details>…</details>`` (the hidden answers
  and the longer discussions a reader opens on demand), with HTML tags and fenced code removed;
* a *panel* is a code cell whose stored output is a slider panel (an ipywidgets view);
* an *exercise* is a code cell tagged ``exercise`` (the cell the learner edits; its check runs there).

The *core* of a notebook is every cell without the tag ``deep-dive``; a *deep dive* is a run of cells that
carry it, opened by a ``## Going deeper · …`` heading and the banner :data:`BANNER`. The core of all
notebooks together has at most :data:`MAX_CORE_WORDS` visible words and :data:`MAX_CORE_MINUTES` minutes.

The title cell of each notebook states the result on one line (:data:`TIME_LINE`), and each ``##``
heading of the core ends in ``(≈ N min)`` computed the same way for its section (deep-dive headings in
``(≈ N min, optional)``). ``--write`` rewrites these from the notebook and adds a missing banner; the
test ``tests/test_lesson_budget.py`` recomputes them and fails when a stated time is stale.

    python scripts/lesson_budget.py                 # the table for every notebook; exit 1 if over budget
    python scripts/lesson_budget.py --write [NB …]  # rewrite the stated times (sources only, no outputs)
    python scripts/lesson_budget.py --readme        # rewrite the README's route table from the notebooks
"""
from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import course_files  # noqa: E402

WORDS_PER_MIN = 150
MIN_PER_PANEL = 2
MIN_PER_EXERCISE = 4
MAX_CORE_WORDS = 6000
MAX_CORE_MINUTES = 100
DEEP = "deep-dive"
RULE_TEXT = (f"visible words ÷ {WORDS_PER_MIN} per minute + {MIN_PER_PANEL} min per panel + "
             f"{MIN_PER_EXERCISE} min per exercise")
#: the line of the title cell that states the times (the numbers are rewritten by ``--write``)
TIME_LINE = re.compile(r"^◑ \*\*Core ≈ \d+ min\*\* · deep dives ≈ \d+ min.*$", re.M)
#: opens every deep dive, right under its ``## Going deeper · …`` heading
BANNER = ("> ◆ **Going deeper — optional.** A class can skip this part: the core does not need it. "
          "It holds the longer experiment, the caveats and the literature.")
DEEP_HEADING = re.compile(r"^## Going deeper · ")
SECTION_TIME = re.compile(r"\s*(?:\(≈ \d+ min(?:, optional)?\)|· \d+ min|\(≈ \d+–\d+ min\))\s*$")
HEADING = re.compile(r"^(#{1,2})\s+\S")
WIDGET = "application/vnd.jupyter.widget-view+json"


def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def visible_text(markdown):
    """Markdown a reader sees without opening anything: no <details> blocks, code fences or HTML tags."""
    text = re.sub(r"<details>.*?</details>", " ", markdown, flags=re.S | re.I)
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    return text


def count_words(text):
    """Words as a reader counts them: whitespace-separated tokens that hold a letter, digit or CJK sign
    (a lone ``|``, ``-``, ``>``, ``·`` or ``=`` of markdown layout is not a word)."""
    return sum(1 for tok in text.split() if re.search(r"[\w\u4e00-\u9fff]", tok))


def is_deep(cell):
    return DEEP in cell.get("metadata", {}).get("tags", [])


def is_panel(cell):
    return cell.cell_type == "code" and any(WIDGET in out.get("data", {}) for out in cell.get("outputs", []))


def is_exercise(cell):
    return cell.cell_type == "code" and "exercise" in cell.get("metadata", {}).get("tags", [])


def cell_cost(cell):
    """(words, panels, exercises) of one cell."""
    words = count_words(visible_text(_source(cell))) if cell.cell_type == "markdown" else 0
    return words, int(is_panel(cell)), int(is_exercise(cell))


def minutes(words, panels, exercises):
    """The rule: words at the reading rate plus time per panel and per exercise, rounded to whole minutes."""
    total = words / WORDS_PER_MIN + MIN_PER_PANEL * panels + MIN_PER_EXERCISE * exercises
    return int(math.floor(total + 0.5))


def _heading(cell):
    """``(level, line)`` when the cell's first line is a # or ## heading, else None."""
    if cell.cell_type != "markdown":
        return None
    first = _source(cell).lstrip("\n").split("\n", 1)[0]
    m = HEADING.match(first)
    return (len(m.group(1)), first) if m else None


def sections(nb):
    """The notebook's parts in order: dicts with ``title``, ``deep`` (bool), ``cells`` (indices),
    ``words``, ``panels``, ``exercises``, ``minutes``. The cells before the first ``##`` heading form
    the part titled by the ``#`` heading; a deep dive is a maximal run of ``deep-dive`` cells."""
    parts = []
    for i, cell in enumerate(nb.cells):
        deep = is_deep(cell)
        h = _heading(cell)
        new = (not parts or parts[-1]["deep"] != deep or (h is not None and (h[0] == 2 or not parts)))
        if new:
            parts.append({"title": h[1] if h else "(untitled)", "deep": deep, "cells": []})
        parts[-1]["cells"].append(i)
    for p in parts:
        w = pa = ex = 0
        for i in p["cells"]:
            a, b, c = cell_cost(nb.cells[i])
            w, pa, ex = w + a, pa + b, ex + c
        p.update(words=w, panels=pa, exercises=ex, minutes=minutes(w, pa, ex))
    return parts


def budget(nb):
    """Totals of one notebook: ``core`` and ``deep`` dicts of words, panels, exercises, minutes."""
    out = {}
    for key, deep in (("core", False), ("deep", True)):
        cells = [c for c in nb.cells if is_deep(c) == deep]
        w = sum(cell_cost(c)[0] for c in cells)
        pa = sum(cell_cost(c)[1] for c in cells)
        ex = sum(cell_cost(c)[2] for c in cells)
        out[key] = {"words": w, "panels": pa, "exercises": ex, "minutes": minutes(w, pa, ex)}
    return out


def time_line(b):
    return (f"◑ **Core ≈ {b['core']['minutes']} min** · deep dives ≈ {b['deep']['minutes']} min "
            f"(estimate: {RULE_TEXT})")


def stated_problems(nb):
    """What a reader would find stale or missing: the title's time line, section times, banners."""
    problems = []
    b = budget(nb)
    title = _source(nb.cells[0])
    m = TIME_LINE.search(title)
    if not m:
        problems.append("the title cell has no time line '◑ **Core ≈ N min** · deep dives ≈ M min …'")
    elif m.group(0) != time_line(b):
        problems.append(f"title states {m.group(0)!r}, the rule gives {time_line(b)!r}")
    for p in sections(nb):
        if p["title"] == "(untitled)" or p["title"].startswith("# "):
            if p["deep"]:
                problems.append(f"deep dive at cell {p['cells'][0]} does not open with '## Going deeper · …'")
            continue
        want = f"(≈ {p['minutes']} min{', optional' if p['deep'] else ''})"
        if not p["title"].endswith(want):
            problems.append(f"heading {p['title']!r} should end in {want!r}")
        if p["deep"]:
            src = _source(nb.cells[p["cells"][0]])
            if not DEEP_HEADING.match(p["title"]):
                problems.append(f"deep dive {p['title']!r} must start '## Going deeper · '")
            if BANNER not in src:
                problems.append(f"deep dive {p['title']!r} has no banner")
    return problems


def rewrite(nb):
    """Rewrite the stated times (and add missing banners) in place; returns the number of cells changed."""
    changed = 0
    # banners and section times first (they change the word counts), the title line last
    for _ in range(2):
        for p in sections(nb):
            if p["title"] == "(untitled)" or p["title"].startswith("# "):
                continue
            cell = nb.cells[p["cells"][0]]
            src = _source(cell).lstrip("\n")
            first, _, rest = src.partition("\n")
            if p["deep"] and BANNER not in src:
                rest = "\n" + BANNER + "\n\n" + rest.lstrip("\n")
            head = SECTION_TIME.sub("", first)
            new = f"{head} (≈ {p['minutes']} min{', optional' if p['deep'] else ''})\n{rest}".rstrip("\n")
            if new != src.rstrip("\n"):
                cell.source = new
                changed += 1
    title = _source(nb.cells[0])
    line = time_line(budget(nb))
    new = TIME_LINE.sub(line, title) if TIME_LINE.search(title) else title.rstrip("\n") + "\n\n" + line
    if new != title:
        nb.cells[0].source = new
        changed += 1
    return changed


#: What each notebook shows, for the README's route table (the minutes come from the notebooks).
ROUTE = {
    "00_overview": "the map, how the sliders work, the glossary (术语表)",
    "01_batches_and_epochs": ("epochs, batches, shuffling; batch 1 (连续平A) vs full batch (大招); "
                              "parallel speed"),
    "02_noisy_gradients": "each batch has its own loss; noise escapes local minima and saddles",
    "03_large_batch_generalization": "large batches generalize worse? sharp and flat minima",
    "04_have_both": "鱼与熊掌兼得: linear scaling + warm-up, critical batch size, LARS, data parallel",
    "05_momentum": "movement = λ·(last movement) − η·g: past gradients, vector addition, rolling on",
    "06_scorecard": "each claim of the lecture against what we measured",
}
README_MARKS = ("<!-- route:start -->", "<!-- route:end -->")


def route_table(paths=None):
    """The README's table: every notebook with its core and deep-dive minutes by the rule."""
    rows = ["| notebook | what it shows | core | deep dives |", "|---|---|---:|---:|"]
    core = deep = 0
    for p in paths or course_files.NOTEBOOKS:
        b = budget(nbformat.read(str(p), as_version=4))
        core, deep = core + b["core"]["minutes"], deep + b["deep"]["minutes"]
        rows.append(f"| [`{p.stem}`](notebooks/{p.name}) | {ROUTE.get(p.stem, '')} | "
                    f"{b['core']['minutes']} min | {b['deep']['minutes']} min |")
    rows.append(f"| **all** | estimate: {RULE_TEXT} | **{core} min** | **{deep} min** |")
    return "\n".join(rows)


def readme_with_route(text):
    start, end = README_MARKS
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{route_table()}\n{end}{tail}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*")
    ap.add_argument("--write", action="store_true", help="rewrite the stated times and banners")
    ap.add_argument("--readme", action="store_true", help="rewrite the README's route table")
    a = ap.parse_args(argv)
    if a.readme:
        readme = ROOT / "README.md"
        readme.write_text(readme_with_route(readme.read_text()))
    paths = [Path(p) for p in a.notebooks] or [p for p in course_files.NOTEBOOKS if p.is_file()]
    tot_w = tot_m = 0
    bad = False
    print(f"{'notebook':38} {'core words':>10} {'panels':>6} {'exerc.':>6} {'core min':>8} {'deep min':>8}")
    for p in paths:
        nb = nbformat.read(str(p), as_version=4)
        if a.write and rewrite(nb):
            nbformat.write(nb, str(p))
        b = budget(nb)
        c = b["core"]
        tot_w, tot_m = tot_w + c["words"], tot_m + c["minutes"]
        print(f"{p.name:38} {c['words']:>10} {c['panels']:>6} {c['exercises']:>6} {c['minutes']:>8} "
              f"{b['deep']['minutes']:>8}")
        for prob in stated_problems(nb):
            print(f"    {prob}")
            bad = True
    print(f"{'core of all notebooks':38} {tot_w:>10} {'':>6} {'':>6} {tot_m:>8}   "
          f"(budget {MAX_CORE_WORDS} words, {MAX_CORE_MINUTES} min)")
    if tot_w > MAX_CORE_WORDS or tot_m > MAX_CORE_MINUTES:
        bad = True
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
