"""Add slideshow metadata to the notebooks (for jupyterlab-slideshow, RISE and nbconvert slides).

Rules, in order, per cell (``cell.metadata.slideshow.slide_type``):

* hidden exercise solutions (tag ``solution``) -> ``skip`` (not shown while presenting);
* a markdown cell whose first line is a ``#`` or ``##`` heading -> ``slide``;
* a markdown cell whose first line is a ``###`` (or deeper) heading -> ``subslide``;
* a markdown cell with a "Think!" prompt -> ``fragment`` (revealed after the figure it asks about);
* any other cell -> ``-`` (continues the current slide); but when a slide already holds
  ``--max-cells`` cells, the next markdown cell starts a ``subslide`` so that no slide overflows
  the projector.

A ``-`` cell is written with **no** ``slideshow`` metadata at all. nbconvert and RISE read a
missing slide type as ``-``, but jupyterlab-slideshow 0.3.4 knows only a missing (null) type as
"continue": a literal ``"-"`` gets an extent with no neighbours, so the deck hides those cells and
cannot move on from them (this is what once left the deck stuck on its last slide).

Only ``metadata.slideshow`` is changed: sources, outputs, execution counts and widget state stay
as they are, so the stored outputs keep passing strict nbval. Idempotent.

    python scripts/add_slide_metadata.py                 # every notebooks/*.ipynb, in place
    python scripts/add_slide_metadata.py NB.ipynb ...    # only these
    python scripts/add_slide_metadata.py --check         # exit 1 if a notebook would change
"""
from __future__ import annotations

import argparse
import glob
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
HEADING = re.compile(r"^\s*(#{1,6})\s+\S")
THINK = re.compile(r"think!?", re.I)


def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def slide_types(nb, max_cells=4):
    """The slide type of every cell of ``nb`` (a list, one entry per cell)."""
    out = []
    in_slide = 0  # cells on the current slide or subslide
    for cell in nb.cells:
        src = _source(cell).lstrip("\n")
        tags = cell.get("metadata", {}).get("tags", [])
        first = src.splitlines()[0] if src.strip() else ""
        m = HEADING.match(first) if cell.cell_type == "markdown" else None
        if "solution" in tags:
            kind = "skip"
        elif m and len(m.group(1)) <= 2:
            kind = "slide"
        elif m:
            kind = "subslide"
        elif cell.cell_type == "markdown" and THINK.search(src[:200]):
            kind = "fragment"
        elif cell.cell_type == "markdown" and in_slide >= max_cells:
            kind = "subslide"
        else:
            kind = "-"
        if kind in ("slide", "subslide"):
            in_slide = 1
        elif kind != "skip":
            in_slide += 1
        out.append(kind)
    return out


def apply(path, max_cells=4, write=True):
    """Set the metadata of one notebook; returns how many cells changed."""
    nb = nbformat.read(str(path), as_version=4)
    changed = 0
    for cell, kind in zip(nb.cells, slide_types(nb, max_cells)):
        meta = cell.setdefault("metadata", {})
        if kind == "-":
            if "slideshow" in meta:
                del meta["slideshow"]
                changed += 1
        elif meta.get("slideshow", {}).get("slide_type") != kind:
            meta.setdefault("slideshow", {})["slide_type"] = kind
            changed += 1
    if changed and write:
        nbformat.write(nb, str(path))
    return changed


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", help="default: notebooks/*.ipynb")
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook would change")
    ap.add_argument("--max-cells", type=int, default=4,
                    help="cells per slide before a subslide starts (default 4)")
    a = ap.parse_args(argv)
    paths = a.notebooks or sorted(glob.glob(str(ROOT / "notebooks" / "*.ipynb")))
    stale = []
    for p in paths:
        n = apply(p, a.max_cells, write=not a.check)
        nb = nbformat.read(str(p), as_version=4)
        kinds = slide_types(nb, a.max_cells)
        summary = ", ".join(f"{kinds.count(k)} {k}" for k in ("slide", "subslide", "fragment", "skip"))
        print(f"{Path(p).name}: {summary}; {n} cell(s) {'would change' if a.check else 'changed'}")
        if n:
            stale.append(p)
    if a.check and stale:
        print("slide metadata out of date: run python scripts/add_slide_metadata.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
