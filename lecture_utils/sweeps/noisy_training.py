"""Full batch against small batches at the same η, over several seeds (notebook 02 §6, "Real training").

For every seed s in ``seeds`` and batch size B in ``batch_sizes``, the course MLP is trained on
MNIST-1D from the initial weights ``make_mlp(s)`` with plain SGD, θ ← θ − η·∇L_𝓑(θ), at the same
learning rate η for ``epochs`` epochs (the batch order is seeded by s too). The full batch
(B = N = 4000) makes one update per epoch; it is run on for ``matched_updates`` updates, the number
that the largest small batch makes in ``epochs`` epochs, so every batch size can also be compared at
the same number of **updates**.

The training loss on all N examples is measured (not interpolated) at the updates listed in
``step``: after every epoch of the first ``epochs`` epochs, at ``points_per_decade`` log-spaced
update counts, and at ``matched_updates``. The figure draws points only there.

It runs torch on one thread (``threads``: 1): on a shared 2-core machine two intra-op threads were
several times slower than one, and the cached numbers only need to be reproducible with the same
setting, not bit-identical to a notebook's live runs.

Cost: 20 independent runs on ``workers`` (2) processes, 80 s of CPU time in all (measured: 75.9 s
user + 3.9 s system), so about 40 s on 2 idle cores; a rerun reproduced every training loss of the
cache exactly.

``results`` keys:
  ``n_train``, ``lr``, ``epochs``, ``matched_updates``, ``seeds``
  ``runs``   one dict per (batch size, seed): batch_size, seed, updates_per_epoch, epoch (fractional),
             step, train_loss, train_acc, test_acc (lists, one entry per measurement, the first at
             step 0 = the initial weights), seconds
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data import N_TRAIN, updates_per_epoch
from ._schema import DATASET, check_each, check_fields, load_dataset

SCHEMA_VERSION = 1

PARAMS = {
    "dataset": dict(DATASET),
    "seeds": [0, 1, 2, 3, 4],
    "lr": 0.1,
    "epochs": 20,
    "batch_sizes": [N_TRAIN, 512, 64, 8],
    "matched_updates": 160,
    "points_per_decade": 8,
    "hidden": 256,
    "threads": 1,
    "workers": 2,
}


@dataclass(frozen=True)
class Run:
    """One (B, seed): the measurements (lists, the first at step 0) and its wall-clock ``seconds``."""
    batch_size: int
    seed: int
    updates_per_epoch: int
    epoch: list
    step: list
    train_loss: list
    train_acc: list
    test_acc: list
    seconds: float


def validate(results):
    """Check the results against schema :data:`SCHEMA_VERSION` (:class:`._schema.SchemaError`)."""
    check_fields(results, ("n_train", "lr", "epochs", "matched_updates", "seeds", "runs"), "results")
    check_each(Run, results["runs"], "runs")
    return results


def _r(values, nd=5):
    return [round(float(v), nd) for v in values]


def eval_steps(updates_per_epoch, epochs, total_updates, matched_updates, points_per_decade):
    """The update counts at which a run's training loss is measured (sorted, ≥ 1, ≤ total_updates)."""
    ends = updates_per_epoch * np.arange(1, epochs + 1)
    n_logs = int(np.ceil(points_per_decade * np.log10(max(total_updates, 10))))
    logs = np.round(np.geomspace(1, total_updates, n_logs))
    candidates = np.concatenate([ends, logs, [matched_updates, total_updates]])
    steps = {int(s) for s in candidates if 1 <= s <= total_updates}
    return sorted(steps)


def run_one(params, task):
    """One (B, seed): SGD at η for ``epochs`` epochs (the full batch for ``matched_updates`` updates),
    the training loss measured at :func:`eval_steps`."""
    from ..train import train_classifier

    b, seed = task
    per_epoch = updates_per_epoch(N_TRAIN, b)
    epochs = params["epochs"]
    if b >= N_TRAIN:                # one update an epoch: run on to the matched number of updates
        epochs = max(epochs, params["matched_updates"])
    steps = eval_steps(per_epoch, min(epochs, params["epochs"]), per_epoch * epochs,
                       params["matched_updates"], params["points_per_decade"])
    r = train_classifier(load_dataset(params), batch_size=b, lr=params["lr"], seed=seed, epochs=epochs,
                         eval_at_steps=steps, hidden=params["hidden"], threads=params["threads"])
    h = r.history
    return {"batch_size": b, "seed": seed, "updates_per_epoch": per_epoch,
            "epoch": _r(h["epoch"], 6), "step": [int(s) for s in h["step"]],
            "train_loss": _r(h["train_loss"]), "train_acc": _r(h["train_acc"]),
            "test_acc": _r(h["test_acc"]), "seconds": round(r.seconds, 2)}


def run(params, progress=True):
    """Every (B, seed) as an independent task on ``workers`` processes of one torch thread."""
    from ._pool import map_tasks

    jobs = [(int(b), int(s)) for s in params["seeds"] for b in params["batch_sizes"]]
    out = map_tasks(run_one, params, jobs, desc="noisy_training", progress=progress)
    return {"n_train": N_TRAIN, "lr": params["lr"], "epochs": params["epochs"],
            "matched_updates": params["matched_updates"], "seeds": list(params["seeds"]),
            "runs": [out[j] for j in jobs]}
