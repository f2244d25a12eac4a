"""Sweep "critical_batch" — updates to a target training loss against the batch size, with η
tuned for every B on one dense grid, for several seeds (notebook 04, §3).

For every batch size B of ``batch_sizes``, seed of ``seeds`` and η of ``lrs`` (factor 2 apart,
the same grid for every B), plain SGD trains until the full training loss first falls to
``target_loss`` (:func:`lecture_utils.scaling.steps_to_target`). Only the best η matters for
S(B), so a run may stop at the best count of this (B, seed) so far: it is then recorded as
"no faster" (status ``max_steps``, ``cap``) instead of its exact count. The η are tried from
a guess outwards (the guess only orders the runs; every η of the grid is tried).

``sweeps.load("critical_batch")["results"]["runs"][run_key(B, seed)]`` (:class:`Run`): ``best_lr``,
``steps`` (at the best η, or None), ``tried``: list of [η, steps or None, status, cap], the status
in the training loop's words (:data:`lecture_utils.train.STATUSES`: ``target_reached``, ``max_steps``,
``diverged``). Schema 2: schema 1 said ``reached`` for ``target_reached``
(``scripts/migrate_status_words.py`` rewrote the cached parts; every number is as computed).

Rebuild: ``python -m lecture_utils.sweeps critical_batch.1`` and ``critical_batch.2`` (or
``critical_batch`` for both): the work is ≈ 310–340 CPU s (287 s user + 52 s system measured
2026-11-29 with 6 worker processes; a per-update cost model on the cached runs gives 311 s), about
160–170 s on 2 idle cores in one go, so it is cached in the two :data:`PARTS` (≈ 180 and 130 CPU s);
:func:`merge` joins them into the results of one run.
"""
from __future__ import annotations

from dataclasses import dataclass

from ._schema import DATASET, KeyFormat, check_each, check_fields, check_tried, load_dataset

SCHEMA_VERSION = 2

PARAMS = {
    "dataset": dict(DATASET),
    "threads": 1,
    "workers": 2,
    "batch_sizes": [8, 16, 32, 64, 128, 256, 512],
    "lrs": [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4],
    "seeds": [0, 1, 2],
    "target_loss": 0.8,
    "max_steps": 4000,
}

#: Two parts (≈ 180 and 130 CPU s), each within the 3-min budget on 2 cores:
#: ``python -m lecture_utils.sweeps critical_batch.1`` and ``critical_batch.2``; :func:`merge` joins them.
PARTS = [{"batch_sizes": [8, 64, 128, 512]}, {"batch_sizes": [16, 32, 256]}]


@dataclass(frozen=True)
class Run:
    """Every η of the grid for one (B, seed): the best η, its steps (None: no η reached the target)
    and ``tried`` = [[η, steps or None, status, cap], …] sorted by η."""
    best_lr: float | None
    steps: int | None
    tried: list


#: The key of one run, "64|2" (B, seed):
#: ``run_key(...)`` builds it, ``parse_run_key(k)`` reads it back.
RUN_KEY = KeyFormat(("b", int), ("seed", int))
run_key, parse_run_key = RUN_KEY.make, RUN_KEY.parse


def validate(results):
    """Check the results against schema :data:`SCHEMA_VERSION` (:class:`._schema.SchemaError`)."""
    runs = check_each(Run, check_fields(results, ("runs",), "results")["runs"], "runs")
    check_tried(runs, ("η", "steps", "status", "cap"), status_at=2)
    return results


def _order(lrs, b):
    """The grid from a guess outwards (η ≈ 0.025·B, at most 1.6): only the order of the runs."""
    import numpy as np

    guess = min(0.025 * b, 1.6)
    i0 = int(np.argmin([abs(np.log(lr / guess)) for lr in lrs]))
    order = [i0]
    for d in range(1, len(lrs)):
        for i in (i0 + d, i0 - d):
            if 0 <= i < len(lrs):
                order.append(i)
    return [lrs[i] for i in order]


def run_one(params, task):
    """Every η of the grid for one (B, seed)."""
    from ..scaling import steps_to_target

    b, seed = task
    data = load_dataset(params)
    best, best_lr, tried = None, None, []
    for lr in _order(params["lrs"], b):
        cap = params["max_steps"] if best is None else best
        r = steps_to_target(data, batch_size=b, lr=lr, seed=seed, target_loss=params["target_loss"],
                            max_steps=cap, threads=params["threads"])
        tried.append([lr, r["steps"], r["status"], cap])
        if r["steps"] is not None and (best is None or r["steps"] < best):
            best, best_lr = r["steps"], lr
    tried.sort(key=lambda t: t[0])
    return {"best_lr": best_lr, "steps": best, "tried": tried}


def merge(params, parts):
    """The results of every (B, seed) from those of the :data:`PARTS` (in the order of one run)."""
    runs = {k: v for part in parts for k, v in part["runs"].items()}
    return {"runs": {run_key(b, s): runs[run_key(b, s)] for b, s in sorted(
        (b, s) for b in params["batch_sizes"] for s in params["seeds"])}}


def run(params, progress=True):
    from ._pool import map_tasks

    tasks = [(b, s) for b in params["batch_sizes"] for s in params["seeds"]]
    tasks.sort(key=lambda t: -t[0])  # the costliest updates (largest B) first
    out = map_tasks(run_one, params, tasks, desc="critical_batch", progress=progress)
    return {"runs": {run_key(*t): out[t] for t in sorted(out)}}
