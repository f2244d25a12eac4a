"""Sweep "warmup" — how often the linearly scaled η diverges with warm-up ramps of different lengths,
and the sharpness λ_max along the run against the stability limit 2/η (notebook 04, §1 "Where the rule
breaks").

Each setting (B, η = η₀·B/B₀) of ``settings`` runs with every warm-up length W of ``warmup_updates``,
counted in updates (η rising linearly from η/W to η over the first W updates,
:func:`lecture_utils.train.lr_at_step`; W = 0: no warm-up), for every seed of ``seeds``, with the
protocol of notebook 04 (to 100 % training accuracy, at most ``max_epochs``). At B = 1024 (⌈4000/B⌉ = 4
updates per epoch) W = 20 is Goyal et al.'s 5 epochs, W = 100 and 400 are 25 and 100 epochs; Goyal et
al.'s 5 epochs at B = 8192 on ImageNet are ≈ 780 updates. For the settings in ``track`` and the seeds
in ``track_seeds`` the top Hessian eigenvalue λ_max of the training loss on a fixed
``hessian_examples``-example subset of the training set (power iteration, ``hessian_iters``
Hessian-vector products, its own random start: the training run is not changed by it) is measured
before the updates listed in ``track_steps``, beside the η of that update: plain gradient descent on a
quadratic is stable only while λ_max < 2/η (Cohen et al. 2021, "edge of stability").

``sweeps.load("warmup")["results"]["runs"][run_key(B, W, seed)]`` (:class:`Run`; W in updates):
``lr``, ``warmup_steps`` (= W), ``status``, ``steps``, ``epochs``, ``train_acc``, ``test_acc``, and for
tracked runs ``track`` (``step``, ``lr``, ``lam``, ``train_loss`` lists).

Schema 2 (this version): W in updates in the key (schema 1: ``1024|0|s`` / ``1024|1|s`` for no warm-up /
5 epochs); the W = 0 and W = 20 runs compute exactly what schema 1's did (same code path, same W).

Rebuild: ``python -m lecture_utils.sweeps warmup``: 48 independent runs on ``workers`` (2) processes;
155 CPU s in all (Intel Xeon, schema 2), i.e. about 80 s on 2 idle cores (487 s wall at load 10–15).

Which seed diverges is decided by the last bits of the arithmetic: on seeds 0–5 with W = 0 / 20 the
schema-1 cache (AMD EPYC) had 3/6 and 4/6 diverged, this one (Intel Xeon, default code path) 0/6 and
2/6, and ATEN_CPU_CAPABILITY=avx2 on the Intel Xeon 2/6 and 2/6 (measured once, not cached); the code
of schema 2 gives the schema-1 code's numbers bit for bit on one machine (checked on two runs, one
tracked). Only rates over many seeds mean something here.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import finite_round as _r
from ._schema import DATASET, KeyFormat, SchemaError, check_each, check_entry, check_fields, load_dataset

SCHEMA_VERSION = 2

PARAMS = {
    "dataset": dict(DATASET),
    "threads": 1,
    "workers": 2,
    "base": {"batch_size": 32, "lr": 0.1},
    "settings": [1024],
    "seeds": list(range(12)),
    "warmup_updates": [0, 20, 100, 400],
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


#: The key of one run, "1024|20|3" (B, warm-up length W in updates, seed):
#: ``run_key(...)`` builds it, ``parse_run_key(k)`` reads it back.
RUN_KEY = KeyFormat(("b", int), ("w", int), ("seed", int))
run_key, parse_run_key = RUN_KEY.make, RUN_KEY.parse


def validate(results):
    """Check the results against schema :data:`SCHEMA_VERSION` (:class:`._schema.SchemaError`)."""
    runs = check_each(Run, check_fields(results, ("runs",), "results")["runs"], "runs")
    for k, r in runs.items():
        if parse_run_key(k)[1] != r["warmup_steps"]:
            raise SchemaError(f"runs[{k!r}]['warmup_steps'] must be the key's W; got {r['warmup_steps']}")
        if r.get("track") is not None:
            check_entry(Track, r["track"], f"runs[{k!r}]['track']")
    return results


def lr_for(params, b):
    """η₀·B/B₀ (the linear rule)."""
    return params["base"]["lr"] * b / params["base"]["batch_size"]


def run_one(params, task):
    """One run: ``task`` = (B, W, seed), W the warm-up length in updates (0: none)."""
    import numpy as np
    import torch

    from ..sharpness import top_hessian_eigenvalue
    from ..train import as_tensors, lr_at_step, train_classifier

    b, w, seed = task
    data = load_dataset(params)
    lr = lr_for(params, b)
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

    # the longest runs (long ramps, tracked seeds) first, so that the two workers finish together
    tasks = [(b, w, s) for b in sorted(params["settings"], reverse=True)
             for w in sorted(params["warmup_updates"], reverse=True) for s in params["seeds"]]
    out = map_tasks(run_one, params, tasks, desc="warmup", progress=progress)
    return {"runs": {run_key(*t): v for t, v in out.items()}}
