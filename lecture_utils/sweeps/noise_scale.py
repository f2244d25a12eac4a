"""Sweep "noise_scale" — the gradient noise scale B_simple = tr Σ/|G|² along training, with
seeds (notebook 04, §3).

For every seed of ``seeds`` one SGD run at B = ``batch_size``, η = ``lr`` trains until the
training loss first falls to each level of ``at_losses``; there B_simple is estimated by the
two-batch estimator from ``n_pairs`` batches of ``b_small`` and of ``b_big`` examples drawn from
the training set (:func:`lecture_utils.scaling.noise_scale_during_training`). The spread over
seeds holds both the estimator's noise and the run-to-run variation.

``sweeps.load("noise_scale")["results"]["per_seed"][seed_key(seed)]``: list of :class:`Point`
(``loss_level``, ``step``, ``train_loss``, ``g2``, ``trace``, ``b_simple``).

Rebuild: ``python -m lecture_utils.sweeps noise_scale``: one run per seed on ``workers`` (2)
processes; 47 CPU s in all (2026-11-29, results identical to the cache), about 25–30 s on 2 idle cores.
"""
from __future__ import annotations

from dataclasses import dataclass

from ._schema import DATASET, check_each, check_fields, load_dataset

SCHEMA_VERSION = 1

PARAMS = {
    "dataset": dict(DATASET),
    "threads": 1,
    "workers": 2,
    "batch_size": 32,
    "lr": 0.1,
    "seeds": [0, 1, 2, 3, 4, 5],
    "at_losses": [2.0, 1.6, 1.3, 1.0, 0.8, 0.6],
    "b_small": 32,
    "b_big": 512,
    "n_pairs": 100,
    "max_steps": 20000,
}


@dataclass(frozen=True)
class Point:
    """B_simple where the run's training loss first fell to ``loss_level``."""
    loss_level: float
    step: int
    train_loss: float
    g2: float
    trace: float
    b_simple: float


def seed_key(seed):
    """The key of one seed in ``per_seed``: ``"3"``."""
    return str(int(seed))


def validate(results):
    """Check the results against schema :data:`SCHEMA_VERSION` (:class:`._schema.SchemaError`)."""
    for s, pts in check_fields(results, ("per_seed",), "results")["per_seed"].items():
        check_each(Point, pts, f"per_seed[{s!r}]")
    return results


def run_one(params, seed):
    from ..scaling import noise_scale_during_training

    data = load_dataset(params)
    pts = noise_scale_during_training(data, batch_size=params["batch_size"], lr=params["lr"], seed=seed,
                                      at_losses=params["at_losses"], max_steps=params["max_steps"],
                                      b_small=params["b_small"], b_big=params["b_big"],
                                      n_pairs=params["n_pairs"],
                                      threads=params["threads"])
    return [{k: (round(float(v), 6) if isinstance(v, float) else v) for k, v in q.items()} for q in pts]


def run(params, progress=True):
    from ._pool import map_tasks

    out = map_tasks(run_one, params, params["seeds"], desc="noise_scale", progress=progress)
    return {"per_seed": {seed_key(s): out[s] for s in params["seeds"]}}
