"""Add the slide deck's metadata to the notebooks (jupyterlab-slideshow 0.3 in JupyterLab; RISE and
nbconvert read the slide types too).

The deck rules (what a class sees when the teacher presents a notebook, ``docs/presenting.md``):

1. **Every ``#`` / ``##`` heading starts a slide**, so a heading must be the *first line* of its markdown
   cell (a heading in the middle of a cell would become part of the previous slide): split such a cell.
   ``###`` headings start a subslide. Fenced code blocks (```...```) hold no headings.
   :func:`heading_problems` lists the headings that break this rule (``tests/test_slide_metadata.py``
   fails on them).
2. **Left out of the deck** (``skip``): deep dives (every cell tagged ``deep-dive``) and hidden exercise
   solutions (tag ``solution``). A learner alone reads them in the notebook.
3. **Code cells show only their output** while presenting. A cell tagged ``show-code`` (a slide about the
   code) or ``exercise`` (the code the class edits) keeps its input. This is a style in the cell's
   metadata (``@deathbeds/jupyterlab-fonts``, the stylesheet jupyterlab-slideshow applies per cell) scoped
   to presenting mode, so the notebook itself still shows all code: ``jupyter.source_hidden`` would hide
   the code in the notebook too.
4. **Projector style** while presenting (the notebook's metadata, same mechanism, :data:`DECK_STYLE`):
   body text 20 px, code 18 px, headings 40/33/26 px, captions of panels 20 px, pictures at most
   :data:`IMG_MAX_PX` px tall.
5. **Nothing scrolls off a slide at 1280×720**: a (sub)slide holds at most :data:`BUDGET_PX` px of
   estimated height. :func:`estimate_height` estimates a cell's rendered height from its text (lines at
   the projector sizes, :data:`CHARS_PER_LINE` characters a line), its stored outputs (text lines, a
   picture's height from the PNG's metadata or header, a panel's controls and caption). A markdown cell
   together with the code cells after it (a "unit": text and the figure it introduces) starts a
   ``subslide`` when it would not fit on the current one; a unit taller than a slide is split before a
   code cell. A single cell taller than a slide cannot be split here: :func:`overflow_problems` lists it
   (shorten or split the cell). The browser test (``tests/browser``) measures the real slides.
6. A markdown cell with a "Think!" prompt is a ``fragment`` (revealed after the figure it asks about);
   every other cell continues the current slide.

A "continue" cell is written with **no** ``slideshow`` metadata at all. nbconvert and RISE read a missing
slide type as ``-``, but jupyterlab-slideshow 0.3.4 knows only a missing (null) type as "continue": a
literal ``"-"`` gets an extent with no neighbours, so the deck hides those cells and cannot move on from
them (this is what once left the deck stuck on its last slide).

Only ``metadata.slideshow`` and the deck styles (``metadata["@deathbeds/jupyterlab-fonts"]`` of the notebook
and of code cells) are changed: sources, outputs, execution counts and widget state stay as they are, so
the stored outputs keep passing strict nbval. Idempotent.

    python scripts/add_slide_metadata.py                 # every notebooks/*.ipynb, in place
    python scripts/add_slide_metadata.py NB.ipynb ...    # only these
    python scripts/add_slide_metadata.py --check         # exit 1 if a notebook would change
"""
from __future__ import annotations

import argparse
import base64
import glob
import math
import re
import struct
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+\S")
THINK = re.compile(r"think!?", re.I)
FENCE = re.compile(r"^\s{0,3}(```|~~~)")
SHOW_CODE_TAGS = ("show-code", "exercise")
SKIP_TAGS = ("deep-dive", "solution")

#: The key under which jupyterlab-fonts (and jupyterlab-slideshow through it) keeps a stylesheet in the
#: metadata of a notebook or a cell; ``""`` is the notebook (or cell) itself, and the second level scopes
#: the rules to presenting mode (the selector jupyterlab-slideshow itself writes for a cell's styles).
FONTS_KEY = "@deathbeds/jupyterlab-fonts"
PRESENTING = "body[data-jp-deck-mode='presenting'] &"

#: Projector sizes (CSS px) and the picture height limit while presenting.
BODY_PX, CODE_PX, H1_PX, H2_PX, H3_PX = 20, 18, 40, 33, 26
IMG_MAX_PX = 380
#: Height a (sub)slide may fill: 720 px of window less the deck's margins (~50 px above, ~30 below).
BUDGET_PX = 620
#: Characters a line of body text holds on the ~1090 px wide slide column at 20 px (DejaVu Sans, as measured).
CHARS_PER_LINE = 105
LINE_PX = 32            # body text: 20 px × line-height 1.6
CODE_LINE_PX = 24       # code / stream text at 18 px
CELL_GAP_PX = 10

DECK_STYLE = {"styles": {"": {PRESENTING: {
    "--jp-content-font-size1": f"{BODY_PX}px",
    "--jp-code-font-size": f"{CODE_PX}px",
    "--jp-widgets-font-size": f"{CODE_PX}px",
    "& .jp-RenderedHTMLCommon": {"font-size": f"{BODY_PX}px"},
    "& .jp-RenderedHTMLCommon td": {"font-size": f"{BODY_PX}px !important"},
    "& .jp-RenderedHTMLCommon th": {"font-size": f"{BODY_PX}px !important"},
    "& .jp-RenderedHTMLCommon h1": {"font-size": f"{H1_PX}px"},
    "& .jp-RenderedHTMLCommon h2": {"font-size": f"{H2_PX}px"},
    "& .jp-RenderedHTMLCommon h3": {"font-size": f"{H3_PX}px"},
    "& .jp-RenderedText pre": {"font-size": f"{CODE_PX}px"},
    "& .lecture-caption": {"font-size": f"{BODY_PX}px !important", "max-width": "none !important"},
    "& .jp-OutputArea-output img": {"max-height": f"{IMG_MAX_PX}px", "object-fit": "contain"},
}}}}
HIDE_INPUT_STYLE = {"styles": {"": {PRESENTING: {"& .jp-Cell-inputWrapper": {"display": "none"}}}}}


def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _tags(cell):
    return cell.get("metadata", {}).get("tags", []) or []


def _first_line(cell):
    src = _source(cell).lstrip("\n")
    return src.splitlines()[0] if src.strip() else ""


def headings(src):
    """``(line number, level, text)`` of each markdown heading in ``src``, outside fenced code blocks."""
    out, fenced = [], False
    for k, line in enumerate(src.splitlines()):
        if FENCE.match(line):
            fenced = not fenced
            continue
        m = HEADING.match(line)
        if m and not fenced:
            out.append((k, len(m.group(1)), line.strip()))
    return out


def heading_problems(nb, types=None):
    """Where ``nb`` breaks rule 1: a ``#``/``##`` heading that is not the first line of its markdown cell,
    or a cell that opens with one and is not a ``slide`` (skipped cells excepted). A list of strings."""
    types = types if types is not None else slide_types(nb)
    probs = []
    for i, (cell, kind) in enumerate(zip(nb.cells, types)):
        if cell.cell_type != "markdown":
            continue
        src = _source(cell).lstrip("\n")
        for k, level, text in headings(src):
            if level <= 2 and k > 0:
                probs.append(f"cell {i}: heading {text[:60]!r} on line {k + 1} (must open its own cell)")
            elif level <= 2 and kind not in ("slide", "skip"):
                probs.append(f"cell {i}: heading {text[:60]!r} is a {kind!r}, not a slide")
    return probs


# ----------------------------------------------------------------------------- height estimate
def _text_lines(text, chars=CHARS_PER_LINE):
    """Lines a paragraph takes when wrapped; a CJK character is as wide as two Latin ones."""
    width = sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
    return max(1, math.ceil(width / chars))


LIST_ITEM = re.compile(r"^\s*([-*+]|\d+[.)])\s+")


def markdown_height(src):
    """Estimated px of a markdown cell at the projector sizes (``<details>`` bodies closed): blocks
    (paragraphs, list items, table rows, headings, code) at the sizes measured in the deck."""
    src = re.sub(r"<details>.*?</details>", "\n\n<details>\n\n", src, flags=re.S)
    src = re.sub(r"<!--.*?-->", "", src, flags=re.S)
    px, fenced, para, gap, last_gap = 0.0, False, "", 0, 0

    def flush():
        nonlocal para, px, last_gap
        if para.strip():
            px += _text_lines(para.strip()) * LINE_PX + gap
            last_gap = gap
        para = ""

    for line in src.splitlines():
        s = line.strip()
        if FENCE.match(line):
            flush()
            fenced = not fenced
            px += 16
            continue
        if fenced:
            px += CODE_LINE_PX
            continue
        m = HEADING.match(line)
        if not s or m or s.startswith("|") or s == "<details>" or LIST_ITEM.match(line) or s.startswith("!["):
            flush()
        if not s:
            continue
        if m or s == "<details>" or s.startswith(("|", "![")):
            last_gap = 0
        if m:
            size = {1: H1_PX, 2: H2_PX, 3: H3_PX}.get(len(m.group(1)), BODY_PX)
            px += size * 2.0          # the heading and its margins (0.6 em above, 0.8 em below)
        elif s == "<details>":
            px += LINE_PX + 20
        elif s.startswith("|"):
            if not re.fullmatch(r"[|:\-\s]+", s):
                cols = [c.strip() for c in s.strip("|").split("|")]
                per_col = (CHARS_PER_LINE - 5 * len(cols)) / max(1, len(cols))
                px += max(_text_lines(c, max(8, per_col)) for c in cols) * LINE_PX + 10   # a table row
        elif s.startswith("!["):
            px += IMG_MAX_PX
        elif s.startswith("<") and s.endswith(">") and len(s) < 40:
            continue        # a lone tag
        else:
            if LIST_ITEM.match(line):
                para, gap = LIST_ITEM.sub("", line) + " ", 4
            else:
                para, gap = para + s.lstrip("> ") + " ", (gap if para else 20)
    flush()
    return px - last_gap


def _png_height(b64):
    try:
        head = base64.b64decode(b64[:64])
        w, h = struct.unpack(">II", head[16:24])
        return w, h
    except (ValueError, struct.error):
        return None


def _image_px(output):
    meta = output.get("metadata", {}).get("image/png", {})
    if meta.get("height") and meta.get("width"):
        w, h = meta["width"], meta["height"]
    else:
        wh = _png_height(output["data"]["image/png"])
        if not wh:
            return IMG_MAX_PX
        w, h = wh[0] / 2, wh[1] / 2       # the course draws pictures at 2× their CSS size
    h = h * min(1.0, 1090 / w) if w else h
    return min(IMG_MAX_PX, h)


def _widget_children(nb, model_id):
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    state = state.get("state", {})
    return len(state.get(model_id, {}).get("state", {}).get("children", []) or [])


def _plain(text):
    return "".join(text) if isinstance(text, list) else (text or "")


def estimate_height(cell, nb):
    """Estimated px a cell takes on a slide at 1280×720 with the projector style."""
    if cell.cell_type == "markdown":
        return markdown_height(_source(cell)) + CELL_GAP_PX
    if cell.cell_type != "code":
        return 0
    px = 0
    if any(t in _tags(cell) for t in SHOW_CODE_TAGS):
        px += len(_source(cell).splitlines()) * CODE_LINE_PX + 20
    outs = cell.get("outputs", [])
    widget = any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outs)
    for o in outs:
        data = o.get("data", {})
        if o.get("output_type") == "stream":
            px += sum(_text_lines(x, 100) for x in _plain(o.get("text")).splitlines()) * CODE_LINE_PX
        elif "application/vnd.jupyter.widget-view+json" in data:
            children = _widget_children(nb, data["application/vnd.jupyter.widget-view+json"].get("model_id"))
            controls = max(0, children - 2) if children else 2
            caption = _text_lines(_plain(data.get("text/plain")).split("] ", 1)[-1])
            img = _image_px(o) if "image/png" in data else IMG_MAX_PX
            px += controls * 40 + img + caption * LINE_PX + 20
        elif "image/png" in data:
            px += _image_px(o) + 10
        elif "text/markdown" in data:
            px += markdown_height(_plain(data["text/markdown"]))
        elif "text/html" in data and not widget:
            text = re.sub(r"<style>.*?</style>|<[^>]+>", " ", _plain(data["text/html"]), flags=re.S)
            px += sum(_text_lines(x) for x in text.splitlines() if x.strip()) * LINE_PX
        elif "text/plain" in data and o.get("output_type") == "execute_result":
            px += len(_plain(data["text/plain"]).splitlines()) * CODE_LINE_PX
    return px + (CELL_GAP_PX if px else 0)


# ----------------------------------------------------------------------------- slide types
def _base_type(cell):
    """The type a cell has on its own: skip, slide, subslide, fragment or None (continue / may split)."""
    if any(t in _tags(cell) for t in SKIP_TAGS):
        return "skip"
    if cell.cell_type != "markdown":
        return None
    m = HEADING.match(_first_line(cell))
    if m:
        return "slide" if len(m.group(1)) <= 2 else "subslide"
    if THINK.search(_source(cell)[:200]):
        return "fragment"
    return None


def slide_types(nb, budget=BUDGET_PX):
    """The slide type of every cell of ``nb`` (a list, one entry per cell; ``"-"``: continue)."""
    n = len(nb.cells)
    base = [_base_type(c) for c in nb.cells]
    height = [0 if b == "skip" else estimate_height(c, nb) for c, b in zip(nb.cells, base)]
    out = [b or "-" for b in base]
    used = 0
    i = 0
    while i < n:
        if base[i] == "skip":
            i += 1
            continue
        # a unit: this cell and the following non-markdown cells (skipped cells inside do not end it)
        j = i + 1
        while j < n and (base[j] == "skip" or nb.cells[j].cell_type != "markdown"):
            j += 1
        unit = [k for k in range(i, j) if base[k] != "skip"]
        total = sum(height[k] for k in unit)
        if base[i] in ("slide", "subslide"):
            used = 0
        elif used and used + total > budget and nb.cells[i].cell_type == "markdown":
            out[i] = "subslide"
            used = 0
        for k in unit:
            if k != i and used and used + height[k] > budget and base[k] is None:
                out[k] = "subslide"      # a unit taller than a slide: split before this code cell
                used = 0
            used += height[k]
        i = j
    return out


def overflow_problems(nb, budget=BUDGET_PX):
    """Cells estimated taller than a slide on their own (they cannot be split by slide metadata)."""
    return [f"cell {i}: about {estimate_height(c, nb):.0f} px tall, a slide holds {budget}"
            for i, (c, kind) in enumerate(zip(nb.cells, slide_types(nb, budget)))
            if kind != "skip" and estimate_height(c, nb) > budget]


# ----------------------------------------------------------------------------- writing
def _set_style(meta, style):
    """Put (``style``) or remove (None) the deck style in a metadata dict; True if it changed."""
    if style is None:
        return meta.pop(FONTS_KEY, None) is not None
    if meta.get(FONTS_KEY) == style:
        return False
    meta[FONTS_KEY] = style
    return True


def apply(path, write=True, budget=BUDGET_PX):
    """Set the metadata of one notebook; returns how many cells (and the notebook itself) changed."""
    nb = nbformat.read(str(path), as_version=4)
    changed = int(_set_style(nb.metadata, DECK_STYLE))
    for cell, kind in zip(nb.cells, slide_types(nb, budget)):
        meta = cell.setdefault("metadata", {})
        hide = cell.cell_type == "code" and not any(t in _tags(cell) for t in SHOW_CODE_TAGS)
        touched = _set_style(meta, HIDE_INPUT_STYLE if hide else None)
        if kind == "-":
            if "slideshow" in meta:
                del meta["slideshow"]
                touched = True
        elif meta.get("slideshow", {}).get("slide_type") != kind:
            meta.setdefault("slideshow", {})["slide_type"] = kind
            touched = True
        changed += touched
    if changed and write:
        nbformat.write(nb, str(path))
    return changed


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", help="default: notebooks/*.ipynb")
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook would change")
    ap.add_argument("--budget", type=int, default=BUDGET_PX,
                    help=f"estimated px a (sub)slide may fill (default {BUDGET_PX})")
    a = ap.parse_args(argv)
    paths = a.notebooks or sorted(glob.glob(str(ROOT / "notebooks" / "*.ipynb")))
    stale = []
    for p in paths:
        n = apply(p, write=not a.check, budget=a.budget)
        nb = nbformat.read(str(p), as_version=4)
        kinds = slide_types(nb, a.budget)
        summary = ", ".join(f"{kinds.count(k)} {k}" for k in ("slide", "subslide", "fragment", "skip"))
        print(f"{Path(p).name}: {summary}; {n} cell(s) {'would change' if a.check else 'changed'}")
        for why in heading_problems(nb, kinds) + overflow_problems(nb, a.budget):
            print(f"  deck rule broken: {why}")
        if n:
            stale.append(p)
    if a.check and stale:
        print("slide metadata out of date: run python scripts/add_slide_metadata.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
