"""Accuracy against batch size at a fixed epoch budget on MNIST-1D (notebook 01, last section).

The lecture's figure (MNIST/CIFAR): with the same number of epochs and the same η, large
batches make far fewer updates and end with lower accuracy. Every run starts from the same
initial weights for a given seed (``make_mlp(seed)``).

``results`` keys:
  ``batch_sizes``                 list of B (the last one is the full batch, 4000)
  ``runs``                        list of dicts, one per (B, seed): batch_size, seed, train_acc, test_acc,
                                  train_loss, test_loss, steps, seconds, status, and ``history`` (per epoch:
                                  epoch, step, train_loss, train_acc, test_loss, test_acc)
  ``mean_test_acc`` / ``std_test_acc`` / ``mean_train_acc`` / ``std_train_acc``   one entry per B
  ``updates_per_epoch``           ⌈N/B⌉ per B
  ``seconds_per_epoch``           mean measured wall-clock seconds per epoch per B (this machine, 2 threads)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._schema import DATASET, check_each, check_fields, load_dataset

SCHEMA_VERSION = 1

PARAMS = {
    "dataset": dict(DATASET),
    "batch_sizes": [8, 16, 32, 64, 128, 512, 4000],
    "seeds": [0, 1],
    "lr": 0.1,
    "epochs": 10,
    "hidden": 256,
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


def validate(results):
    """Check the results against schema :data:`SCHEMA_VERSION` (:class:`._schema.SchemaError`)."""
    check_fields(results, ("batch_sizes", "runs", "mean_test_acc", "std_test_acc", "mean_train_acc",
                           "std_train_acc", "updates_per_epoch", "seconds_per_epoch"), "results")
    check_each(Run, results["runs"], "runs")
    return results


def run(params, progress=True):
    from ..train import train_classifier

    data = load_dataset(params)
    cells = [(b, s) for b in params["batch_sizes"] for s in params["seeds"]]
    if progress:
        from tqdm.auto import tqdm
        cells = tqdm(cells, desc="batch_accuracy")
    runs = []
    for b, s in cells:
        r = train_classifier(data, batch_size=b, lr=params["lr"], seed=s, epochs=params["epochs"],
                             hidden=params["hidden"])
        runs.append({"batch_size": b, "seed": s, **r.summary(),
                     "history": {k: [round(float(v), 5) for v in vs] for k, vs in r.history.items()}})
    out = {"batch_sizes": params["batch_sizes"], "runs": runs}
    for key in ("test_acc", "train_acc"):
        vals = [[r[key] for r in runs if r["batch_size"] == b] for b in params["batch_sizes"]]
        out[f"mean_{key}"] = [float(np.mean(v)) for v in vals]
        out[f"std_{key}"] = [float(np.std(v)) for v in vals]
    n = data.n_train
    out["updates_per_epoch"] = [-(-n // b) for b in params["batch_sizes"]]
    out["seconds_per_epoch"] = [float(np.mean([r["seconds"] / params["epochs"] for r in runs if r["batch_size"] == b]))
                                for b in params["batch_sizes"]]
    return out
