"""Sweep "generalization" — the large-batch generalization gap (notebook 03; summary table in 04).

Protocol: MNIST-1D (4000 train / 1000 test), the course MLP 40-256-256-10, plain SGD with one
learning rate η for every batch size B, each run stopped at a matched training criterion
(``target_train_acc``, 100 % training accuracy, checked after every ``eval_every[B]`` epochs, with
a step budget ``max_steps[B]``). For every B and seed the solution's sharpness is measured two
ways on the whole training set: the top Hessian eigenvalue λ_max
(:func:`lecture_utils.sharpness.top_hessian_eigenvalue`) and Keskar's ε-sharpness in %
(:func:`lecture_utils.sharpness.epsilon_sharpness`). The small-batch (B = ``sb``) and large-batch
(B = ``lb``) weights of seed ``weights_seed`` are stored (float32, zlib, base64) for the 1-D
interpolation ``w(α) = α·w_LB + (1 − α)·w_SB``; read them with :func:`load_weights`. The
"honest part" re-runs B = ``scaled_lr.batch_size`` with a learning rate scaled up with the batch.

One baseline: every run uses one torch thread (``threads``: 1), as the protocol runs of notebook 04
(sweep ``have_both``), so "B = 32 at η = 0.1" is one computation in both notebooks: on one CPU the two
sweeps give the same number per seed (checked on the AMD EPYC that built this cache: B = 32, seeds 0, 1, 2
→ test accuracy 0.667, 0.658, 0.658 after 5000, 4875, 4875 updates in both). The stopping safety nets
differ (``max_epochs``, ``patience``, ``min_delta``, ``max_steps`` here against have_both's), but B = 32
reaches 100 % training accuracy at about 40 epochs, long before any of them binds. Training is sensitive
to the CPU's code path, so the two caches agree only when both were built on one machine. An older cache
of this sweep, made with two threads per run (B = 32: 0.669, 0.661, 0.653), is refused (``threads``).

``sweeps.load("generalization")["results"]`` holds:

* ``batch_sizes`` — list of B (ints), ascending; the last is the full batch (N = 4000).
* ``summary[batch_key(B)]`` — one dict per batch size (:class:`SummaryRow`) with ``test_acc_mean``,
  ``test_acc_std``,
  ``train_acc_mean``, ``train_acc_std``, ``train_loss_mean``, ``test_loss_mean``,
  ``top_eigenvalue_mean``, ``top_eigenvalue_std``, ``eps_sharpness_mean``, ``eps_sharpness_std``,
  ``steps_mean``, ``epochs_mean``, ``reached`` (seeds that met the criterion) and ``n_seeds``.
  Standard deviations are over seeds (ddof = 1).
* ``runs[batch_key(B)]`` — a list with one dict per seed (:class:`Run`): ``seed``, ``status`` (as in
  :class:`lecture_utils.train.TrainResult`), ``steps``, ``epochs``, ``seconds``, ``train_acc``,
  ``test_acc``, ``train_loss``, ``test_loss``, ``top_eigenvalue``, ``eps_sharpness`` and
  ``history`` (lists ``epoch``, ``step``, ``train_acc``, ``test_acc``, ``train_loss``, ``test_loss``;
  at most ``history_points`` evaluations, the last one always kept).
* ``gap`` — ``sb``, ``lb``, ``test_acc_gap`` (SB mean − LB mean), ``max_seed_std`` (the larger of
  the two test-accuracy stds), ``eigenvalue_ratio`` and ``eps_sharpness_ratio`` (LB mean / SB mean).
* ``scaled_lr`` — ``batch_size``, ``lr``, ``runs`` (per seed: ``seed``, ``status``, ``steps``,
  ``train_acc``, ``test_acc``), ``test_acc_mean``, ``test_acc_std``.
* ``weights`` — ``sb``, ``lb``, ``seed``, ``n_params``, ``dtype`` and the encoded vectors
  ``w_sb``, ``w_lb`` (use :func:`load_weights`).

Reading: :func:`load_weights` (the SB/LB weights), :func:`test_acc_when_train_reaches` (the test accuracy
when the training accuracy first reached a level, from the stored histories). Intervals over the seeds are
computed from ``runs`` with :func:`lecture_utils.stats.mean_ci` (the ``*_std`` of ``summary`` are kept for
the cache's schema).

Rebuild: ``python -m lecture_utils.sweeps generalization``.
"""
from __future__ import annotations

import base64
import zlib
from dataclasses import dataclass

import numpy as np

from ..data import N_TRAIN
from ._schema import DATASET, check_each, check_entry, check_fields, load_dataset

SCHEMA_VERSION = 1

PARAMS = {
    "dataset": dict(DATASET),
    "lr": 0.1,
    "batch_sizes": [8, 32, 128, 400, N_TRAIN],
    "seeds": [0, 1, 2],
    "target_train_acc": 1.0,
    "max_epochs": 1000,
    "patience": 100,
    "min_delta": 0.0002,
    "eval_every": {"8": 1, "32": 1, "128": 1, "400": 2, str(N_TRAIN): 20},
    "max_steps": {"8": 20000, "32": 20000, "128": 20000, "400": 10000, str(N_TRAIN): 1000},
    "history_points": 120,
    "sharpness": {"iters": 100, "tol": 1e-3, "seed": 0, "eps": 1e-3, "ascent_steps": 20},
    "sb": 32,
    "lb": 400,
    "weights_seed": 0,
    "scaled_lr": {"batch_size": 400, "lr": 1.25},
    "threads": 1,   # one torch thread per run, as every protocol run of notebook 04 (sweep have_both)
    "workers": 2,
}


@dataclass(frozen=True)
class Run:
    """One (B, seed) at the stopping point (``history``: lists ``epoch``, ``step``, ``train_acc``, …)."""
    seed: int
    status: str
    steps: int
    epochs: float
    seconds: float
    train_acc: float
    test_acc: float
    train_loss: float
    test_loss: float
    top_eigenvalue: float
    eps_sharpness: float
    history: dict


@dataclass(frozen=True)
class SummaryRow:
    """Means and standard deviations (ddof = 1) over the seeds of one batch size."""
    n_seeds: int
    reached: int
    steps_mean: float
    epochs_mean: float
    test_acc_mean: float
    test_acc_std: float
    train_acc_mean: float
    train_acc_std: float
    top_eigenvalue_mean: float
    top_eigenvalue_std: float
    eps_sharpness_mean: float
    eps_sharpness_std: float
    train_loss_mean: float
    test_loss_mean: float


@dataclass(frozen=True)
class ScaledRun:
    """One seed of the large batch at the scaled learning rate."""
    seed: int
    status: str
    steps: int
    train_acc: float
    test_acc: float


def batch_key(batch_size):
    """The key of one batch size in ``summary``, ``runs``, ``eval_every`` and ``max_steps``: ``"400"``."""
    return str(int(batch_size))


def validate(results):
    """Check the results against schema :data:`SCHEMA_VERSION` (:class:`._schema.SchemaError`)."""
    check_fields(results, ("batch_sizes", "summary", "runs", "gap", "scaled_lr", "weights"), "results")
    for b in results["batch_sizes"]:
        k = batch_key(b)
        check_entry(SummaryRow, check_fields(results["summary"], (k,), "summary")[k], f"summary[{k!r}]")
        check_each(Run, check_fields(results["runs"], (k,), "runs")[k], f"runs[{k!r}]")
    check_each(ScaledRun, check_fields(results["scaled_lr"], ("runs",), "scaled_lr")["runs"],
               "scaled_lr['runs']")
    check_fields(results["weights"], ("sb", "lb", "seed", "n_params", "dtype", "w_sb", "w_lb"), "weights")
    return results


def train_point(params, batch_size, seed, *, lr=None, progress=False):
    """One run of the protocol: ``train_classifier`` with the sweep's settings for ``batch_size``.

    Returns the :class:`lecture_utils.train.TrainResult` (also used by the live rerun button of
    notebook 03, section 1, and by the test that recomputes a cached point).
    """
    from ..train import train_classifier

    key = batch_key(batch_size)
    data = load_dataset(params)
    return train_classifier(data, batch_size=batch_size, lr=params["lr"] if lr is None else lr, seed=seed,
                            target_train_acc=params["target_train_acc"], max_epochs=params["max_epochs"],
                            max_steps=params["max_steps"].get(key), patience=params["patience"],
                            min_delta=params["min_delta"], eval_every=params["eval_every"].get(key, 1),
                            threads=params["threads"], progress=progress)


def measure_sharpness(params, model):
    """``(λ_max, φ_ε)`` of ``model`` on the whole training set: the top Hessian eigenvalue by power
    iteration and Keskar's ε-sharpness 100·(max_{|z_i| ≤ ε(|θ_i|+1)} L(θ+z) − L(θ))/(1 + L(θ))
    (notebook 03, section 3)."""
    from .. import sharpness
    from ..train import as_tensors

    s = params["sharpness"]
    x, y, _, _ = as_tensors(load_dataset(params))
    lam = sharpness.top_hessian_eigenvalue(model, x, y, iters=s["iters"], tol=s["tol"], seed=s["seed"])
    phi = sharpness.epsilon_sharpness(model, x, y, eps=s["eps"], steps=s["ascent_steps"])
    return lam, phi


def _thin(history, points):
    n = len(history["epoch"])
    keep = np.unique(np.r_[np.linspace(0, n - 1, min(points, n)).round().astype(int), n - 1])
    return {k: [round(float(v[i]), 5) for i in keep] for k, v in history.items()}


def encode_weights(w):
    """A flat float vector as float32 → zlib → base64 text (JSON-friendly; the stored SB/LB weights)."""
    return base64.b64encode(zlib.compress(np.asarray(w, dtype="<f4").tobytes(), 9)).decode("ascii")


def decode_weights(text):
    """Inverse of :func:`encode_weights` (a float64 numpy vector)."""
    return np.frombuffer(zlib.decompress(base64.b64decode(text)), dtype="<f4").astype(np.float64)


def load_weights(record):
    """``{"sb": w_SB, "lb": w_LB}`` flat float64 vectors (float32 values) from a loaded record or its
    results, for ``w(α) = α·w_LB + (1 − α)·w_SB`` (notebook 03, sections 3-5)."""
    res = record.get("results", record)
    w = res["weights"]
    return {"sb": decode_weights(w["w_sb"]), "lb": decode_weights(w["w_lb"])}


def _stats(values):
    a = np.asarray(values, dtype=float)
    return float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else 0.0


def run_one(params, task):
    """One independent run: ``("gap", B, seed)`` trains to the criterion and measures the sharpness
    (with the flat weights when they are stored), ``("scaled", B, seed)`` the scaled-η run."""
    from ..train import flat_params

    kind, b, s = task
    if kind == "scaled":
        r = train_point(params, b, s, lr=params["scaled_lr"]["lr"])
        return {"seed": s, "status": r.status, "steps": r.steps, "train_acc": r.train_acc,
                "test_acc": r.test_acc}
    r = train_point(params, b, s)
    lam, phi = measure_sharpness(params, r.model)
    d = {"seed": s, **r.summary(), "top_eigenvalue": lam, "eps_sharpness": phi,
         "history": _thin(r.history, params["history_points"])}
    d["seconds"] = round(d["seconds"], 2)
    if s == params["weights_seed"] and b in (params["sb"], params["lb"]):
        d["weights"] = flat_params(r.model)
    return d


def _summary_row(rs):
    row = {"n_seeds": len(rs), "reached": sum(r["status"] == "target_reached" for r in rs),
           "steps_mean": float(np.mean([r["steps"] for r in rs])),
           "epochs_mean": float(np.mean([r["epochs"] for r in rs]))}
    for k in ("test_acc", "train_acc", "top_eigenvalue", "eps_sharpness", "train_loss", "test_loss"):
        row[f"{k}_mean"], row[f"{k}_std"] = _stats([r[k] for r in rs])
    return row


def _gap(params, summary):
    sb, lb = summary[batch_key(params["sb"])], summary[batch_key(params["lb"])]
    return {"sb": params["sb"], "lb": params["lb"],
            "test_acc_gap": sb["test_acc_mean"] - lb["test_acc_mean"],
            "max_seed_std": max(sb["test_acc_std"], lb["test_acc_std"]),
            "eigenvalue_ratio": lb["top_eigenvalue_mean"] / sb["top_eigenvalue_mean"],
            "eps_sharpness_ratio": lb["eps_sharpness_mean"] / sb["eps_sharpness_mean"]}


def run(params, progress=True):
    """Every (B, seed) and every scaled-η seed as independent tasks on ``workers`` processes of
    ``threads`` torch threads each (every run is seeded on its own: the spread changes no number)."""
    from ._pool import map_tasks

    sc = params["scaled_lr"]
    tasks = [("gap", b, s) for b in params["batch_sizes"] for s in params["seeds"]]
    tasks += [("scaled", sc["batch_size"], s) for s in params["seeds"]]
    out = map_tasks(run_one, params, tasks, desc="generalization sweep", progress=progress)
    weights = {}
    for (_, b, _), d in out.items():
        if "weights" in d:
            weights["w_sb" if b == params["sb"] else "w_lb"] = d.pop("weights")
    runs = {batch_key(b): [out[("gap", b, s)] for s in params["seeds"]] for b in params["batch_sizes"]}
    summary = {batch_key(b): _summary_row(runs[batch_key(b)]) for b in params["batch_sizes"]}
    scaled = [out[("scaled", sc["batch_size"], s)] for s in params["seeds"]]
    m, sd = _stats([r["test_acc"] for r in scaled])
    return {"batch_sizes": list(params["batch_sizes"]), "summary": summary, "runs": runs,
            "gap": _gap(params, summary),
            "scaled_lr": {"batch_size": sc["batch_size"], "lr": sc["lr"], "runs": scaled,
                          "test_acc_mean": m, "test_acc_std": sd},
            "weights": {"sb": params["sb"], "lb": params["lb"], "seed": params["weights_seed"],
                        "n_params": int(len(weights["w_sb"])), "dtype": "float32",
                        "w_sb": encode_weights(weights["w_sb"]), "w_lb": encode_weights(weights["w_lb"])}}


def test_acc_when_train_reaches(record, batch_size, level=0.95):
    """Per seed of ``batch_size``: ``(epoch, test accuracy)`` at the first stored evaluation whose training
    accuracy is ≥ ``level``, or None when the run never got there (the full batch). With the test
    accuracy at the stop (``runs[...]["test_acc"]``) it says whether the last few per cent of training
    accuracy still moved the test accuracy (notebook 03, Think! 1)."""
    res = record.get("results", record)
    out = []
    for r in res["runs"][batch_key(batch_size)]:
        h = r["history"]
        i = next((i for i, a in enumerate(h["train_acc"]) if a >= level), None)
        out.append(None if i is None else (h["epoch"][i], h["test_acc"][i]))
    return out
