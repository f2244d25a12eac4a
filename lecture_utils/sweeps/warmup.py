"""Sweep "warmup" — how often the linearly scaled η diverges, with and without warm-up, and the
sharpness λ_max along the run against the stability limit 2/η (notebook 04, §1 "Where the rule breaks").

Each setting (B, η = η₀·B/B₀) of ``settings`` runs with warm-up W = 0 and W = ``warmup_epochs``·⌈N/B⌉
updates (η rising linearly from η/W to η, :func:`lecture_utils.train.lr_at_step`), for every seed
of ``seeds``, with the protocol of notebook 04 (to 100 % training accuracy, at most ``max_epochs``).
For the settings in ``track`` the top Hessian eigenvalue λ_max of the training loss on a fixed
``hessian_examples``-example subset of the training set (power iteration, ``hessian_iters``
Hessian-vector products) is measured before the updates listed in ``track_steps``, beside the η
of that update: plain gradient descent on a quadratic is stable only while λ_max < 2/η (Cohen et
al. 2021, "edge of stability").

``sweeps.load("warmup")["results"]["runs"][run_key(B, warm, seed)]`` (:class:`Run`; warm 0/1): ``lr``,
``warmup_steps``,
``status``, ``steps``, ``epochs``, ``train_acc``, ``test_acc``, and for tracked settings
``track`` (``step``, ``lr``, ``lam``, ``train_loss`` lists).

Rebuild: ``python -m lecture_utils.sweeps warmup``: 12 independent runs on ``workers`` (2)
processes; 71 s user + 3 s system CPU in all (2026-11-29), i.e. about 40 s on 2 idle cores.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import finite_round as _r
from ._schema import DATASET, KeyFormat, check_each, check_entry, check_fields, load_dataset
from .have_both import warmup_steps

SCHEMA_VERSION = 1

PARAMS = {
    "dataset": dict(DATASET),
    "threads": 1,
    "workers": 2,
    "base": {"batch_size": 32, "lr": 0.1},
    "settings": [1024],
    "seeds": [0, 1, 2, 3, 4, 5],
    "warmup_epochs": 5,
    "target_train_acc": 1.0,
    "max_epochs": 150,
    "patience": 40,
    "track": [1024],
    "track_seeds": [0, 1, 2],
    "track_steps": [0, 10, 20, 30, 40, 60, 80, 100, 120, 130, 140, 160, 200],
    "hessian_examples": 1024,
    "hessian_iters": 20,
}


@dataclass(frozen=True)
class Track:
    """λ_max along a tracked run: one entry per measured update."""
    step: list
    lr: list
    lam: list
    train_loss: list


@dataclass(frozen=True)
class Run:
    """One run (``track``: a :class:`Track` dict, only for tracked settings)."""
    lr: float
    warmup_steps: int
    status: str
    steps: int
    epochs: float | None
    train_acc: float | None
    test_acc: float | None
    track: dict | None = None


#: The key of one run, "1024|1|3" (B, warm-up 0/1, seed):
#: ``run_key(...)`` builds it, ``parse_run_key(k)`` reads it back.
RUN_KEY = KeyFormat(("b", int), ("warm", int), ("seed", int))
run_key, parse_run_key = RUN_KEY.make, RUN_KEY.parse


def validate(results):
    """Check the results against schema :data:`SCHEMA_VERSION` (:class:`._schema.SchemaError`)."""
    runs = check_each(Run, check_fields(results, ("runs",), "results")["runs"], "runs")
    for k, r in runs.items():
        if r.get("track") is not None:
            check_entry(Track, r["track"], f"runs[{k!r}]['track']")
    return results


def lr_for(params, b):
    """η₀·B/B₀ (the linear rule)."""
    return params["base"]["lr"] * b / params["base"]["batch_size"]


def run_one(params, task):
    """One run: ``task`` = (B, warm 0/1, seed)."""
    import numpy as np
    import torch

    from ..sharpness import top_hessian_eigenvalue
    from ..train import as_tensors, lr_at_step, train_classifier

    b, warm, seed = task
    data = load_dataset(params)
    lr = lr_for(params, b)
    w = warmup_steps(params, b, data.n_train) if warm else 0
    tracked = b in params["track"] and seed in params["track_seeds"]
    track = {"step": [], "lr": [], "lam": [], "train_loss": []}
    on_backward = None
    if tracked:
        x, y, _, _ = as_tensors(data)
        pick = np.random.default_rng(0).choice(len(y), params["hessian_examples"], replace=False)
        idx = torch.from_numpy(pick)
        xs, ys = x[idx], y[idx]
        steps = set(params["track_steps"])

        def on_backward(step, model):
            if step in steps:
                with torch.no_grad():
                    tl = float(torch.nn.functional.cross_entropy(model(xs), ys))
                lam = top_hessian_eigenvalue(model, xs, ys, iters=params["hessian_iters"], tol=1e-3, seed=0)
                track["step"].append(step)
                track["lr"].append(lr_at_step(step, lr, w))
                track["lam"].append(_r(lam, 4))
                track["train_loss"].append(_r(tl, 4))

    r = train_classifier(data, batch_size=b, lr=lr, seed=seed, target_train_acc=params["target_train_acc"],
                         max_epochs=params["max_epochs"], patience=params["patience"], warmup_steps=w,
                         threads=params["threads"], on_backward=on_backward)
    out = {"lr": lr, "warmup_steps": w, "status": r.status, "steps": int(r.steps), "epochs": _r(r.epochs, 3),
           "train_acc": _r(r.train_acc), "test_acc": _r(r.test_acc)}
    if tracked:
        out["track"] = track
    return out


def run(params, progress=True):
    from ._pool import map_tasks

    tasks = [(b, warm, s) for b in sorted(params["settings"], reverse=True)
             for warm in (0, 1) for s in params["seeds"]]
    out = map_tasks(run_one, params, tasks, desc="warmup", progress=progress)
    return {"runs": {run_key(*t): v for t, v in out.items()}}
