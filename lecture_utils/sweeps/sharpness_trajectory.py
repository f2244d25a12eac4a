"""Sweep "sharpness_trajectory" — λ_max along training: progressive sharpening and the edge of stability
(notebook 03, deep dive "Sharpness during training"; Cohen et al. 2021, their figure 1).

Protocol: the course MLP 40-256-256-10 (:func:`lecture_utils.train.train_classifier`, plain SGD
θ ← θ − η·g) on the first ``n_train`` = 1000 MNIST-1D training examples (a smaller training set than
notebook 03's 4000 so that full-batch steps and Hessian-vector products fit the 3-min budget; Cohen
et al. used a 5,000-example subset of CIFAR-10 for the same reason). For every seed:

* full-batch gradient descent (B = ``n_train``) at each η of ``gd_lrs``;
* mini-batch SGD at ``sgd["lr"]`` for each B of ``sgd["batch_sizes"]``;

each for ``steps`` updates. Before update t, for every t that is a multiple of ``every``, the top
eigenvalue λ_max of the Hessian of the training loss on all ``n_train`` examples is measured by power
iteration (:func:`lecture_utils.sharpness.top_hessian_eigenpair`, at most ``power["iters"]``
Hessian-vector products, relative tolerance ``power["tol"]``), warm-started from the previous
measurement's eigenvector (the first one from a random vector fixed by ``power["seed"]``), beside the
training loss L(θ_t) on the same examples. Gradient descent on a quadratic is stable only while
λ_max < 2/η, i.e. λ_max·η/2 < 1.

``sweeps.load("sharpness_trajectory")["results"]`` holds:

* ``configs`` — list of ``{"batch_size", "lr", "kind"}`` (kind ``"GD"`` or ``"SGD"``), as in PARAMS;
* ``runs[run_key(B, η, seed)]`` (:class:`Run`): ``status`` (as in :class:`lecture_utils.train.TrainResult`),
  ``hvps`` (Hessian-vector products used), ``capped`` (measurements that used all ``power["iters"]``
  products without meeting the tolerance) and the lists ``step``, ``lam`` (λ_max) and ``train_loss``.

:func:`run_summary` reduces one run to the numbers the notebook quotes (first update with λ_max ≥ 2/η,
peak λ_max·η/2, its median while the training loss falls from 1 to 0.1); :func:`summary` gives each
configuration's mean ± 95 % t-interval over the seeds (:func:`lecture_utils.stats.mean_ci`).

Rebuild: ``python -m lecture_utils.sweeps sharpness_trajectory``: 15 independent runs (one torch thread
each) on ``workers`` (2) processes; the cache's ``cpu_seconds`` records the work (about twice the
wall-clock time on two idle cores).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import finite_round as _r
from ._schema import DATASET, KeyFormat, check_each, check_fields, load_dataset

SCHEMA_VERSION = 1

PARAMS = {
    "dataset": dict(DATASET),
    "n_train": 1000,
    "gd_lrs": [0.1, 0.2, 0.4],
    "sgd": {"lr": 0.2, "batch_sizes": [25, 100]},
    "seeds": [0, 1, 2],
    "steps": 1500,
    "every": 10,
    "power": {"iters": 20, "tol": 1e-3, "seed": 0},
    "window": [1.0, 0.1],
    "threads": 1,
    "workers": 2,
}


@dataclass(frozen=True)
class Run:
    """One (B, η, seed): λ_max and the training loss before every ``every``-th update."""
    status: str
    hvps: int
    capped: int
    step: list
    lam: list
    train_loss: list


#: The key of one run, "1000|0.2|1" (B, η, seed): ``run_key(...)`` builds it, ``parse_run_key(k)`` reads it.
RUN_KEY = KeyFormat(("b", int), ("lr", float), ("seed", int))
run_key, parse_run_key = RUN_KEY.make, RUN_KEY.parse


def configs(params):
    """``[{"batch_size", "lr", "kind"}, …]``: gradient descent at every η of ``gd_lrs``, then SGD at
    ``sgd["lr"]`` for every B of ``sgd["batch_sizes"]``."""
    n = params["n_train"]
    out = [{"batch_size": n, "lr": float(lr), "kind": "GD"} for lr in params["gd_lrs"]]
    out += [{"batch_size": int(b), "lr": float(params["sgd"]["lr"]), "kind": "SGD"}
            for b in params["sgd"]["batch_sizes"]]
    return out


def validate(results):
    """Check the results against schema :data:`SCHEMA_VERSION` (:class:`._schema.SchemaError`)."""
    check_fields(results, ("configs", "runs"), "results")
    for c in results["configs"]:
        check_fields(c, ("batch_size", "lr", "kind"), "configs[i]")
    check_each(Run, results["runs"], "runs")
    return results


def run_one(params, task):
    """One run: ``task`` = (B, η, seed). λ_max (warm-started power iteration) and the training loss on
    the ``n_train`` examples before every ``every``-th of ``steps`` updates."""
    import torch
    import torch.nn.functional as F

    from ..sharpness import top_hessian_eigenpair
    from ..train import as_tensors, train_classifier

    b, lr, seed = task
    data = load_dataset(params).subset(n_train=params["n_train"])
    x, y, _, _ = as_tensors(data)
    pw = params["power"]
    track = {"step": [], "lam": [], "train_loss": []}
    state = {"v": None, "hvps": 0, "capped": 0}

    def on_backward(step, model):
        if step % params["every"]:
            return
        with torch.no_grad():
            loss = float(F.cross_entropy(model(x), y))
        lam, v, used = top_hessian_eigenpair(model, x, y, v0=state["v"], iters=pw["iters"], tol=pw["tol"],
                                             seed=pw["seed"])
        state["v"] = v
        state["hvps"] += used
        state["capped"] += used == pw["iters"]
        track["step"].append(step)
        track["lam"].append(_r(lam, 4))
        track["train_loss"].append(_r(loss, 5))

    r = train_classifier(data, batch_size=b, lr=lr, seed=seed, max_steps=params["steps"],
                         max_epochs=params["steps"], eval_every=params["steps"], threads=params["threads"],
                         on_backward=on_backward)
    return {"status": r.status, "hvps": state["hvps"], "capped": state["capped"], **track}


def run(params, progress=True):
    """Every (configuration, seed) as an independent task on ``workers`` processes of one thread
    (gradient descent, the costliest, first)."""
    from ._pool import map_tasks

    cs = configs(params)
    tasks = [(c["batch_size"], c["lr"], s) for c in cs for s in params["seeds"]]
    out = map_tasks(run_one, params, tasks, desc="sharpness along training", progress=progress)
    return {"configs": cs, "runs": {run_key(*t): out[t] for t in tasks}}


# ----------------------------------------------------------------------------- reading the cache
def run_summary(run, lr, window=(1.0, 0.1)):
    """The numbers of one run: ``first_edge`` — the first measured update with λ_max ≥ 2/η (None if
    never); ``peak`` — max λ_max·η/2; ``median_window`` — the median of λ_max·η/2 over the
    measurements where the training loss is in [``window[1]``, ``window[0]``] (the run's descent from
    L = 1 to L = 0.1; None when no measurement falls there); ``final`` — λ_max·η/2 at the last one."""
    lam = np.array([np.nan if v is None else v for v in run["lam"]], dtype=float)
    loss = np.array([np.nan if v is None else v for v in run["train_loss"]], dtype=float)
    s = lam * lr / 2
    hi, lo = window
    edge = np.flatnonzero(s >= 1.0)
    inside = (loss <= hi) & (loss >= lo) & np.isfinite(s)
    return {"first_edge": int(run["step"][edge[0]]) if edge.size else None,
            "peak": float(np.nanmax(s)),
            "median_window": float(np.median(s[inside])) if inside.any() else None,
            "final": float(s[np.isfinite(s)][-1])}


def summary(record):
    """``{(kind, B, η): {"first_edge", "reached_edge", "peak", "median_window", "final"}}`` over the seeds:
    :class:`lecture_utils.stats.MeanCI` (mean ± 95 % t-interval) of each number of :func:`run_summary`
    (``first_edge`` over the seeds that reached 2/η, ``reached_edge`` how many did)."""
    from .. import stats

    res, params = record["results"], record["params"]
    window = tuple(params["window"])
    out = {}
    for c in res["configs"]:
        per = [run_summary(res["runs"][run_key(c["batch_size"], c["lr"], s)], c["lr"], window)
               for s in params["seeds"]]
        edges = [p["first_edge"] for p in per if p["first_edge"] is not None]
        row = {"reached_edge": len(edges), "n": len(per),
               "first_edge": stats.mean_ci(edges) if edges else None}
        for k in ("peak", "median_window", "final"):
            vals = [p[k] for p in per if p[k] is not None]
            row[k] = stats.mean_ci(vals) if vals else None
        out[(c["kind"], c["batch_size"], c["lr"])] = row
    return out
