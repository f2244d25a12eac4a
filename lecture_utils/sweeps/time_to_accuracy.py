"""The race, cached: training loss and test accuracy against wall-clock seconds, updates and epochs
for B = 1, 8, 32, 128, 512 and the full batch, same time budget, several seeds (notebook 01 §5).

See :mod:`lecture_utils.race` for the protocol (clock paused during evaluation; η(B) = min(0.1·B/32,
1.6), the capped linear scaling rule, not tuned). Rebuild: ``python -m lecture_utils.sweeps
time_to_accuracy`` (time_budget × batch sizes × seeds of training plus evaluation: about 2 min).

``results`` keys:
  ``runs``          one dict per (B, seed): batch_size, lr, seed, status, and the curves seconds, steps,
                    epochs, train_loss, test_acc (one entry per evaluation)
  ``summary``       per B (string keys): final_train_loss, final_test_acc, best_test_acc, updates, epochs,
                    seconds_per_update, seconds_to_<target> as [mean, standard error, n], reached_<target>
  ``noise``         gradient noise at the initial weights (seed 0): batch_sizes, mean_cosine (mean
                    cos(g_𝓑, ∇L) over batches), variance (E‖g_𝓑 − ∇L‖²)
  ``machine``       cpu, threads, cpus, load_before / load_after (1-minute load averages): wall-clock
                    results are only as good as the machine was quiet
"""
from __future__ import annotations

from dataclasses import dataclass

from ._schema import DATASET, check_each, check_fields, load_dataset

SCHEMA_VERSION = 1

PARAMS = {
    "dataset": dict(DATASET),
    "batch_sizes": [1, 8, 32, 128, 512, 4000],
    "seeds": [0, 1, 2, 3],
    "time_budget_s": 4.0,
    "lr_rule": "min(0.1*B/32, 1.6)",
    "targets": [0.5, 0.6],
    "hidden": 256,
    "threads": 2,
}


@dataclass(frozen=True)
class Run:
    """One (B, seed) of the race: the curves (lists, one entry per evaluation)."""
    batch_size: int
    lr: float
    seed: int
    status: str
    seconds: list
    steps: list
    epochs: list
    train_loss: list
    test_acc: list


def batch_key(batch_size):
    """The key of one batch size in ``summary``: ``"128"``."""
    return str(int(batch_size))


def validate(results):
    """Check the results against schema :data:`SCHEMA_VERSION` (:class:`._schema.SchemaError`)."""
    check_fields(results, ("runs", "summary", "noise", "machine"), "results")
    check_each(Run, results["runs"], "runs")
    return results


def run(params, progress=True):
    import numpy as np

    from ..noise import gradient_noise
    from ..race import machine_load, race_lr, race_one, summarize
    from ..seeding import set_threads
    from ..train import as_tensors, make_mlp
    from .timing import _cpu_name

    if params["lr_rule"] != "min(0.1*B/32, 1.6)":
        raise ValueError("lr_rule must be 'min(0.1*B/32, 1.6)' (lecture_utils.race.race_lr)")
    set_threads(params["threads"])
    data = load_dataset(params)
    load_before, cpus = machine_load()
    cells = [(b, s) for s in params["seeds"] for b in params["batch_sizes"]]
    if progress:
        from tqdm.auto import tqdm
        cells = tqdm(cells, desc="time_to_accuracy")
    runs = [race_one(data, b, time_budget=params["time_budget_s"], seed=s, lr=race_lr(b),
                     hidden=params["hidden"], threads=params["threads"]).as_dict() for b, s in cells]
    load_after, _ = machine_load()
    summary = summarize(runs, time_budget=params["time_budget_s"], targets=params["targets"])
    x, y, _, _ = as_tensors(data)
    noise = gradient_noise(make_mlp(0, hidden=params["hidden"]), x, y, params["batch_sizes"], n_batches=32,
                           min_batches=8, trace=False, seed=0)
    return {"runs": runs, "summary": {batch_key(b): _no_nan(row) for b, row in summary.items()},
            "noise": {"batch_sizes": params["batch_sizes"],
                      "mean_cosine": [float(c) for c in noise.mean_cosine()],
                      "variance": [float(v) for v in np.asarray(noise.variance)]},
            "machine": {"cpu": _cpu_name(), "threads": params["threads"], "cpus": cpus,
                        "load_before": round(load_before, 2), "load_after": round(load_after, 2)}}


def _no_nan(obj):
    """NaN (e.g. seconds to a target no seed reached) as None, so that the cache is strict JSON."""
    if isinstance(obj, dict):
        return {k: _no_nan(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_no_nan(v) for v in obj]
    if isinstance(obj, float) and obj != obj:
        return None
    return obj
