"""Rewrite the translated status word of the cached ``critical_batch`` parts (schema 1 → 2).

Schema 1 stored ``scaling.steps_to_target``'s own word ``"reached"`` for a run that reached the
target loss; the package now uses the training loop's words everywhere
(:data:`lecture_utils.train.STATUSES`: ``target_reached``, ``max_steps``, ``diverged``; issue 20,
item 7). Only that word changes: every number of the files stays as computed (on the machine that
built them; rebuilding here would cost ≈ 270 CPU s and a CPU with other code paths may not give
the same bits). The script refuses a file whose re-serialised text differs from what is on disk
(so nothing else can change unnoticed), rewrites ``tried[i][2]`` and ``schema_version``, and
checks that every status left is a word of ``train.STATUSES``. A file already at schema 2 is left
alone. Usage: ``python scripts/migrate_status_words.py [files…]`` (default: the critical_batch parts).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lecture_utils.train import STATUSES  # noqa: E402

OLD, NEW = "reached", "target_reached"
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
    n = 0
    for key, run in out["results"]["runs"].items():
        for t in run["tried"]:
            if t[2] == OLD:
                t[2], n = NEW, n + 1
            if t[2] not in STATUSES:
                raise ValueError(f"runs[{key!r}] holds status {t[2]!r}, not a word of train.STATUSES")
    out["schema_version"] = TO_VERSION
    return out, n


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
    for f in files:
        print(f"{Path(f).name}: {migrate_file(f)} × {OLD!r} → {NEW!r}, schema_version {TO_VERSION}")


if __name__ == "__main__":
    main(sys.argv[1:])
