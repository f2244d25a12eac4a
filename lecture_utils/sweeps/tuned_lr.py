"""Sweep "tuned_lr" — the learning rate tuned for every batch size on one grid (notebook 04, §1–2).

Protocol of notebooks 03–04: MNIST-1D (4000 train / 1000 test), the course MLP, plain SGD without
warm-up, each run stopped at 100 % training accuracy (checked every epoch), after ``max_epochs``,
after ``patience`` epochs without progress, or at divergence. Every batch size B of
``batch_sizes`` is trained at every η of ``lrs`` (factor 2 apart) with every seed of ``seeds``.
The grid holds the three rules of the notebook as cells: η fixed (η₀ = 0.1), η ∝ √B
(η₀·√(B/B₀), Hoffer et al. 2017) and η ∝ B (η₀·B/B₀, Goyal et al. 2017), and "tuned" = the η of
the grid with the best mean test accuracy among those where every seed reached 100 % training
accuracy (chosen on the test set for every B alike, so all tuned values share the same optimism).

``sweeps.load("tuned_lr")["results"]["runs"][run_key(B, η, seed)]`` (:class:`Run`): ``status``,
``steps``, ``epochs``, ``train_acc``, ``test_acc`` (None after a divergence).

Rebuild: ``python -m lecture_utils.sweeps tuned_lr.1`` and ``tuned_lr.2`` (or ``tuned_lr`` for both):
the work is ≈ 340 CPU s (337 s user + 30 s system measured 2026-11-29; a per-update cost model on the
cached step counts gives 338 s, 102 s of it the every-epoch evaluations), about 170–185 s on 2 idle
cores in one go — over the 3-min budget — so it is cached in the two :data:`PARTS` (≈ 180 and
160 CPU s, ≈ 90 and 80 s each); :func:`merge` joins them into the results of one run.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import finite_round as _r
from ._schema import DATASET, KeyFormat, check_each, check_fields, load_dataset

SCHEMA_VERSION = 1

PARAMS = {
    "dataset": dict(DATASET),
    "threads": 1,
    "workers": 2,
    "base": {"batch_size": 32, "lr": 0.1},
    "batch_sizes": [32, 128, 512, 1024],
    "lrs": [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4],
    "seeds": [0, 1, 2],
    "target_train_acc": 1.0,
    "max_epochs": 150,
    "patience": 40,
}

#: Two parts of about the same work (≈ 180 and 160 CPU s), each within the 3-min budget on 2 cores:
#: ``python -m lecture_utils.sweeps tuned_lr.1`` and ``tuned_lr.2``; :func:`merge` joins them.
PARTS = [{"batch_sizes": [32, 1024]}, {"batch_sizes": [128, 512]}]


@dataclass(frozen=True)
class Run:
    """One run of the grid."""
    status: str
    steps: int
    epochs: float | None
    train_acc: float | None
    test_acc: float | None


#: The key of one run, "128|0.4|2" (B, η with ``:g``, seed):
#: ``run_key(...)`` builds it, ``parse_run_key(k)`` reads it back.
RUN_KEY = KeyFormat(("b", int), ("lr", float), ("seed", int))
run_key, parse_run_key = RUN_KEY.make, RUN_KEY.parse


def validate(results):
    """Check the results against schema :data:`SCHEMA_VERSION` (:class:`._schema.SchemaError`)."""
    check_each(Run, check_fields(results, ("runs",), "results")["runs"], "runs")
    return results


def run_one(params, task):
    """One run of the grid: ``task`` = (B, η, seed)."""
    from ..train import train_classifier

    b, lr, seed = task
    data = load_dataset(params)
    r = train_classifier(data, batch_size=b, lr=lr, seed=seed, target_train_acc=params["target_train_acc"],
                         max_epochs=params["max_epochs"], patience=params["patience"],
                         threads=params["threads"])
    return {"status": r.status, "steps": int(r.steps), "epochs": _r(r.epochs, 3),
            "train_acc": _r(r.train_acc),
            "test_acc": _r(r.test_acc)}


def merge(params, parts):
    """The results of the whole grid from those of its :data:`PARTS` (in the order of one run)."""
    runs = {k: v for part in parts for k, v in part["runs"].items()}
    return {"runs": {run_key(b, lr, s): runs[run_key(b, lr, s)]
                     for b in params["batch_sizes"] for lr in params["lrs"] for s in params["seeds"]}}


def run(params, progress=True):
    from ._pool import map_tasks

    # the costly small batches first, so that the two workers end together
    tasks = [(b, lr, s) for b in params["batch_sizes"] for lr in params["lrs"] for s in params["seeds"]]
    out = map_tasks(run_one, params, tasks, desc="tuned_lr", progress=progress)
    return {"runs": {run_key(*t): v for t, v in out.items()}}
