"""The learner's own copy of the notebooks: ``my-notebooks/`` (git-ignored), what ``make lab`` serves.

The course's notebooks under ``notebooks/`` hold the stored outputs that the tests compare; a learner
who edits and saves must never change them. So ``make lab`` first calls ``ensure``: it copies every
course notebook (and any subfolder of them, e.g. a translation) into ``my-notebooks/`` **if that copy
does not exist yet**, never overwriting a learner's file, and then serves ``my-notebooks/``. A new
notebook added to the course later appears in the copy on the next ``make lab``.

``restore NAME`` puts back the original of one notebook; the learner's version is kept beside it as
``NAME.mine-YYYYmmdd-HHMMSS.ipynb``, so nothing is lost.

    python scripts/student_copy.py ensure [--dest my-notebooks]
    python scripts/student_copy.py restore 01_batches_and_epochs [--dest my-notebooks]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "notebooks"
DEST = ROOT / "my-notebooks"


def course_notebooks(source=SOURCE):
    """Every course notebook, as paths relative to ``source`` (checkpoints excluded)."""
    return sorted(p.relative_to(source) for p in source.rglob("*.ipynb")
                  if ".ipynb_checkpoints" not in p.parts)


def ensure(dest=DEST, source=SOURCE):
    """Copy each course notebook to ``dest`` unless a copy is already there. Returns the new copies."""
    dest = Path(dest)
    made = []
    for rel in course_notebooks(source):
        target = dest / rel
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / rel, target)
        made.append(rel)
    return made


def restore(name, dest=DEST, source=SOURCE):
    """Put back the original of notebook ``name`` (with or without ``.ipynb``, e.g. ``01_batches_and_epochs``
    or ``zh/01_batches_and_epochs``); the learner's version is renamed ``NAME.mine-<time>.ipynb``.
    Returns the backup's path (``None`` when there was no copy). ValueError for an unknown name."""
    rel = Path(name if str(name).endswith(".ipynb") else f"{name}.ipynb")
    known = course_notebooks(source)
    if rel not in known:
        names = ", ".join(str(k.with_suffix("")) for k in known)
        raise ValueError(f"name must be one of the course notebooks ({names}); got {name!r}")
    dest = Path(dest)
    target = dest / rel
    backup = None
    if target.exists():
        backup = target.with_name(f"{target.stem}.mine-{time.strftime('%Y%m%d-%H%M%S')}.ipynb")
        target.rename(backup)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / rel, target)
    return backup


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=["ensure", "restore"])
    ap.add_argument("name", nargs="?")
    ap.add_argument("--dest", default=str(DEST))
    args = ap.parse_args(argv)
    if args.command == "ensure":
        made = ensure(args.dest)
        where = Path(args.dest).resolve()
        print(f"your own copy of the notebooks: {where} "
              f"({len(made)} new; your saved work is never overwritten)")
        return 0
    if not args.name:
        ap.error("restore needs the notebook's name, e.g. 01_batches_and_epochs")
    try:
        backup = restore(args.name, args.dest)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    kept = f"; your version is kept as {backup.name}" if backup else ""
    print(f"restored {args.name} to the course's original{kept}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
