"""Schema 1 → 2 of two caches, keeping every number as computed (issue 20, item 7).

* ``critical_batch`` (the parts): schema 1 stored ``scaling.steps_to_target``'s own word
  ``"reached"`` for a run that reached the target loss; the package now uses the training loop's
  words everywhere (:data:`lecture_utils.train.STATUSES`: ``target_reached``, ``max_steps``,
  ``diverged``). ``tried[i][2]`` is rewritten.
* ``have_both``: schema 1 also held a one-seed critical-batch scan and noise-scale run (``critical``,
  ``noise`` in params and results) that the seeded sweeps ``critical_batch`` and ``noise_scale``
  replace, and called a LARS/SGD run that made all its updates ``"completed"`` (train's
  ``max_steps``). Both keys are dropped and the word is rewritten; the other parts of the sweep
  are independent seeded single-thread tasks, so schema 2's code gives the same numbers on the
  machine that built the file (its ``seconds`` still count the dropped parts).

Why not rebuild: rebuilding on another CPU changes the numbers — training runs are sensitive to
the CPU's code path (rebuilt on an Intel Xeon, have_both's protocol, grid and LARS numbers move, e.g.
seed 0's B = 512 warm-up run: 400 updates / test 0.718 on the AMD EPYC that built the cache, 408 /
0.724 here with the default code path, 392 / 0.723 with ATEN_CPU_CAPABILITY=avx2 and 400 / 0.708 with
``default``, with the same code before and after this change). Only words and dropped keys change
here; the notebooks' stored outputs rest on these numbers.

The script refuses a file whose re-serialised text differs from what is on disk (so nothing else can
change unnoticed), checks that every status left is a word of ``train.STATUSES``, and leaves a file
already at schema 2 alone. Usage: ``python scripts/migrate_status_words.py [files…]`` (default: the
critical_batch parts and have_both).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lecture_utils.train import STATUSES  # noqa: E402

OLD, NEW = "reached", "target_reached"               # critical_batch: tried[i][2]
LARS_OLD, LARS_NEW = "completed", "max_steps"         # have_both: the LARS/SGD runs
DROPPED = ("critical", "noise")                       # have_both: params and results
FROM_VERSION, TO_VERSION = 1, 2


def _text(record):
    """How :func:`lecture_utils.sweeps.compute` writes a record."""
    return json.dumps(record, indent=1, sort_keys=True) + "\n"


def migrate_record(record):
    """``(record at schema 2, number of words rewritten)``; a schema-2 record comes back unchanged."""
    version = record.get("schema_version", FROM_VERSION)
    if version == TO_VERSION:
        return record, 0
    if version != FROM_VERSION:
        raise ValueError(f"schema_version must be {FROM_VERSION} or {TO_VERSION}; got {version!r}")
    out = json.loads(json.dumps(record))
    n = {"critical_batch": _critical_batch, "have_both": _have_both}[out["name"]](out)
    out["schema_version"] = TO_VERSION
    return out, n


def _critical_batch(out):
    n = 0
    for key, run in out["results"]["runs"].items():
        for t in run["tried"]:
            if t[2] == OLD:
                t[2], n = NEW, n + 1
            if t[2] not in STATUSES:
                raise ValueError(f"runs[{key!r}] holds status {t[2]!r}, not a word of train.STATUSES")
    return n


def _have_both(out):
    for part in ("params", "results"):
        for k in DROPPED:
            out[part].pop(k)
    lars = out["results"]["lars"]
    n = 0
    for r in lars["sgd"] + lars["lars"] + [lars["best_sgd"], lars["best_lars"]]:
        if r is not None and r["status"] == LARS_OLD:
            r["status"], n = LARS_NEW, n + 1
        if r is not None and r["status"] not in STATUSES:
            raise ValueError(f"a LARS/SGD run holds status {r['status']!r}, not a word of train.STATUSES")
    return n


def migrate_file(path):
    """Rewrite ``path`` in place; returns the number of words rewritten."""
    path = Path(path)
    text = path.read_text()
    record = json.loads(text)
    if _text(record) != text:
        raise ValueError(f"{path.name} is not in the format sweeps.compute writes: refusing to rewrite it")
    new, n = migrate_record(record)
    if new is not record:
        path.write_text(_text(new))
    return n


def main(argv):
    files = argv or sorted(str(p) for p in (ROOT / "data").glob("sweep_critical_batch.part*.json"))
    files = files if argv else files + [str(ROOT / "data" / "sweep_have_both.json")]
    for f in files:
        print(f"{Path(f).name}: {migrate_file(f)} status words rewritten, schema_version {TO_VERSION}")


if __name__ == "__main__":
    main(sys.argv[1:])
