"""Accuracy against batch size at a fixed epoch budget on MNIST-1D (notebook 01, last section).

The lecture's figure (MNIST/CIFAR): with the same number of epochs and the same η, large
batches make far fewer updates and end with lower accuracy. Every run starts from the same
initial weights for a given seed (``make_mlp(seed)``). Every (B, seed) is an independent task on
``workers`` (2) processes; each run uses ``threads`` (2) torch threads, as when the cache was first
built (the numbers are bit-identical only at equal thread counts: one thread changes the third
decimal of B = 8's accuracy).

``results`` keys:
  ``batch_sizes``                 list of B (the last one is the full batch, N = 4000)
  ``runs``                        list of dicts, one per (B, seed): batch_size, seed, train_acc, test_acc,
                                  train_loss, test_loss, steps, seconds, status, and ``history`` (per epoch:
                                  epoch, step, train_loss, train_acc, test_loss, test_acc)
  ``mean_test_acc`` / ``std_test_acc`` / ``mean_train_acc`` / ``std_train_acc``   one entry per B
  ``updates_per_epoch``           ⌈N/B⌉ per B
  ``seconds_per_epoch``           mean measured wall-clock seconds per epoch per B (the machine that built
                                  the cache, one thread per run, two runs at a time)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data import N_TRAIN, updates_per_epoch
from ._schema import DATASET, check_each, check_fields, load_dataset

SCHEMA_VERSION = 1

PARAMS = {
    "dataset": dict(DATASET),
    "batch_sizes": [8, 16, 32, 64, 128, 512, N_TRAIN],
    "seeds": [0, 1, 2, 3, 4],
    "lr": 0.1,
    "epochs": 10,
    "hidden": 256,
    "threads": 2,
    "workers": 2,
}


@dataclass(frozen=True)
class Run:
    """One (B, seed) after ``epochs`` epochs (``history``: per epoch, lists)."""
    batch_size: int
    seed: int
    status: str
    steps: int
    seconds: float
    train_acc: float
    test_acc: float
    train_loss: float
    test_loss: float
    history: dict


def upgrade_params(params):
    """A file written before ``threads`` was a parameter was built with two torch threads per run (the
    package default then; the runs are bit-identical only at equal thread counts): say so."""
    return params if "threads" in params else {**params, "threads": 2}


def validate(results):
    """Check the results against schema :data:`SCHEMA_VERSION` (:class:`._schema.SchemaError`)."""
    check_fields(results, ("batch_sizes", "runs", "mean_test_acc", "std_test_acc", "mean_train_acc",
                           "std_train_acc", "updates_per_epoch", "seconds_per_epoch"), "results")
    check_each(Run, results["runs"], "runs")
    return results


def run_one(params, task):
    """One (B, seed): ``epochs`` epochs of plain SGD from ``make_mlp(seed)``."""
    from ..train import train_classifier

    b, s = task
    r = train_classifier(load_dataset(params), batch_size=b, lr=params["lr"], seed=s, epochs=params["epochs"],
                         hidden=params["hidden"], threads=params["threads"])
    return {"batch_size": b, "seed": s, **r.summary(),
            "history": {k: [round(float(v), 5) for v in vs] for k, vs in r.history.items()}}


def run(params, progress=True):
    """Every (B, seed) as an independent task on ``workers`` processes of one torch thread."""
    from ._pool import map_tasks

    cells = [(b, s) for b in params["batch_sizes"] for s in params["seeds"]]
    out = map_tasks(run_one, params, cells, desc="batch_accuracy", progress=progress)
    runs = [out[c] for c in cells]
    res = {"batch_sizes": params["batch_sizes"], "runs": runs}
    for key in ("test_acc", "train_acc"):
        vals = [[r[key] for r in runs if r["batch_size"] == b] for b in params["batch_sizes"]]
        res[f"mean_{key}"] = [float(np.mean(v)) for v in vals]
        res[f"std_{key}"] = [float(np.std(v)) for v in vals]
    res["updates_per_epoch"] = [updates_per_epoch(N_TRAIN, b) for b in params["batch_sizes"]]
    res["seconds_per_epoch"] = [float(np.mean([r["seconds"] / params["epochs"] for r in runs
                                               if r["batch_size"] == b])) for b in params["batch_sizes"]]
    return res
