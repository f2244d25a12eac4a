"""The race, cached: training loss and test accuracy against wall-clock seconds, updates and epochs
for B = 1, 8, 32, 128, 512 and the full batch, same time budget, several seeds (notebook 01 §5).

See :mod:`lecture_utils.race` for the protocol (clock paused during evaluation; each run also records
the median time of one update). η is tuned per B: ``lrs`` are :func:`lecture_utils.race.race_lrs` of
the ``critical_batch`` cache (B = 8 … 512 tuned for the fewest updates to training loss 0.8; B = 1 at
the η/B of B = 8, B = 4000 at the η of B = 512), written out here so that the cache says what it
ran; ``tests/test_race.py`` checks that they still agree with that cache. Rebuild: ``python -m
lecture_utils.sweeps time_to_accuracy`` (time_budget × batch sizes × seeds of training plus
evaluation: about 2 min). It is a wall-clock measurement: a rebuild gives other numbers, and a
busy machine (load average above the number of CPUs, recorded in ``machine``) distorts them.

``results`` keys:
  ``runs``          one dict per (B, seed): batch_size, lr, lr_source, seed, status, median_update_s
                    (median seconds of one update), and the curves seconds, steps, epochs, train_loss,
                    test_acc (one entry per evaluation)
  ``summary``       per B (string keys): final_train_loss, final_test_acc, best_test_acc, updates, epochs,
                    seconds_per_update (clock / updates), median_update_s, seconds_to_<target> as
                    {mean, half (95 % t-interval half-width; None for one value), n}, reached_<target>
  ``noise``         gradient noise at the initial weights (seed 0): batch_sizes, mean_cosine (mean
                    cos(g_𝓑, ∇L) over batches), variance (E‖g_𝓑 − ∇L‖²)
  ``machine``       cpu, threads, cpus, load_before / load_after (1-minute load averages) and cpu_share
                    (the race's CPU seconds / (wall seconds × threads): about 1 when its threads had
                    their cores, far below 1 when other processes took them): wall-clock results are
                    only as good as the machine was quiet
"""
from __future__ import annotations

from dataclasses import dataclass

from ._schema import DATASET, check_each, check_fields, load_dataset

SCHEMA_VERSION = 2

PARAMS = {
    "dataset": dict(DATASET),
    "batch_sizes": [1, 8, 32, 128, 512, 4000],
    "seeds": [0, 1, 2, 3],
    "time_budget_s": 4.0,
    "lr_rule": "tuned per B (critical_batch); B = 1: eta/B of B = 8; B = 4000: eta of B = 512",
    "lrs": [0.025, 0.2, 0.8, 1.6, 1.6, 1.6],
    "targets": [0.5, 0.6],
    "hidden": 256,
    "threads": 2,
}


@dataclass(frozen=True)
class Run:
    """One (B, seed) of the race: the curves (lists, one entry per evaluation)."""
    batch_size: int
    lr: float
    lr_source: str
    seed: int
    status: str
    median_update_s: float | None
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
    import time

    import numpy as np

    from ..noise import gradient_noise
    from ..race import machine_load, race_lrs, race_one, summarize
    from ..seeding import set_threads
    from ..train import as_tensors, make_mlp
    from .timing import _cpu_name

    if len(params["lrs"]) != len(params["batch_sizes"]):
        raise ValueError("lrs must hold one η per batch size")
    sources = {b: src for b, (_, src) in zip(params["batch_sizes"], race_lrs(params["batch_sizes"]))}
    set_threads(params["threads"])
    data = load_dataset(params)
    load_before, cpus = machine_load()
    lrs = dict(zip(params["batch_sizes"], params["lrs"]))
    cells = [(b, s) for s in params["seeds"] for b in params["batch_sizes"]]
    if progress:
        from tqdm.auto import tqdm
        cells = tqdm(cells, desc="time_to_accuracy")
    c0, w0 = time.process_time(), time.perf_counter()
    runs = [race_one(data, b, time_budget=params["time_budget_s"], seed=s, lr=lrs[b], lr_source=sources[b],
                     hidden=params["hidden"], threads=params["threads"]).as_dict() for b, s in cells]
    cpu_share = (time.process_time() - c0) / ((time.perf_counter() - w0) * params["threads"])
    load_after, _ = machine_load()
    summary = summarize(runs, time_budget=params["time_budget_s"], targets=params["targets"])
    x, y, _, _ = as_tensors(data)
    noise = gradient_noise(make_mlp(0, hidden=params["hidden"]), x, y, params["batch_sizes"], n_batches=32,
                           min_batches=8, trace=False, seed=0)
    return {"runs": runs, "summary": {batch_key(b): _no_nan(_plain(row)) for b, row in summary.items()},
            "noise": {"batch_sizes": params["batch_sizes"],
                      "mean_cosine": [float(c) for c in noise.mean_cosine()],
                      "variance": [float(v) for v in np.asarray(noise.variance)]},
            "machine": {"cpu": _cpu_name(), "threads": params["threads"], "cpus": cpus,
                        "load_before": round(load_before, 2), "load_after": round(load_after, 2),
                        "cpu_share": round(cpu_share, 2)}}


def _plain(row):
    """A :func:`lecture_utils.race.summarize` row as JSON-friendly values (SeedValues → {mean, half, n})."""
    return {k: v.as_dict() if hasattr(v, "as_dict") else v for k, v in row.items()}


def _no_nan(obj):
    """NaN (e.g. seconds to a target no seed reached) as None, so that the cache is strict JSON."""
    if isinstance(obj, dict):
        return {k: _no_nan(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_no_nan(v) for v in obj]
    if isinstance(obj, float) and obj != obj:
        return None
    return obj
