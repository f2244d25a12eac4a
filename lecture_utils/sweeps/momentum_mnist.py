"""Momentum on real data (notebook 05, "Real data"): steps to a target training loss on MNIST-1D.

The course MLP (40-256-256-10) trained with ``torch.optim.SGD(lr=η, momentum=β)`` — the lecture's
rule m = β·m − η·g, θ = θ + m — on mini-batches from ``epoch_batches``. Every ``eval_every``
updates the full training loss is measured; a run stops when it falls to ``target_loss``
(steps counted then), when it diverges (NaN/inf or loss > ``blowup``) or after ``max_steps``.

Three experiments, each over ``seeds`` (same initial weights and batch order for every β):

* ``matched``: β ∈ {0, 0.5, 0.9, 0.99} at the same *effective* step η/(1−β) = ``eff_lr``
  (η = eff_lr·(1−β)): does momentum help beyond making the step bigger?
* ``fixed``: the same η for every β (so the effective step grows like 1/(1−β));
* ``small_batches``: β ∈ {0, 0.9} at matched effective step (two values) for several batch sizes.

``threads`` is 1: this small MLP gains little from a second thread, and on a busy 2-core machine
two threads wait on each other (measured 17–100× slower per step under load).

Rebuild: ``python -m lecture_utils.sweeps momentum_mnist``: every run is an independent task on
``workers`` (2) processes of one thread, so the numbers do not depend on the spread.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validate import BETA, COUNT, LR, SEED, Interval, check_batch_size, validate_params
from ..data import N_TRAIN
from ..i18n import _
from ._schema import DATASET, check_each, check_fields, load_dataset

SCHEMA_VERSION = 1

PARAMS = {
    "dataset": dict(DATASET),
    "n_train": N_TRAIN,
    "batch_size": 64,
    "target_loss": 0.5,
    "max_steps": 3000,
    "eval_every": 25,
    "blowup": 50.0,
    "seeds": [0, 1],
    "betas": [0.0, 0.5, 0.9, 0.99],
    "eff_lr": 0.5,
    "fixed_lr": 0.1,
    "small_batch_sizes": [8, 64, 512],
    "small_batch_betas": [0.0, 0.9],
    "small_batch_eff_lrs": [0.1, 0.5],
    "threads": 1,
    "workers": 2,
}


@dataclass(frozen=True)
class Run:
    """One run of an experiment: its setting, ``steps`` to the target (None: not reached), the
    training loop's ``status`` (:data:`lecture_utils.train.STATUSES`), the loss curve and ``test_acc``."""
    batch_size: int
    beta: float
    lr: float
    seed: int
    steps: int | None
    status: str
    curve_steps: list
    curve_loss: list
    test_acc: float | None
    eff_lr: float | None = None


EXPERIMENTS = ("matched", "fixed", "small_batches")


def validate(results):
    """Check the results against schema :data:`SCHEMA_VERSION` (:class:`._schema.SchemaError`)."""
    check_fields(results, EXPERIMENTS, "results")
    for name in EXPERIMENTS:
        check_each(Run, results[name], name)
    return results


def mini_run(betas=(0.0, 0.9), *, n_examples=1000, batch_size=64, lr=0.05, target_loss=0.5, max_steps=400):
    """Notebook 05, deep dive *Real data in detail*, behind a button: the live mini run. For each β,
    m ← βm − η·g (:func:`steps_to_loss`) on the first ``n_examples`` training examples at a fixed η,
    seed 0, and one printed line: whether the full training loss reached ``target_loss`` within
    ``max_steps`` updates (a few seconds)."""
    from ..data import load_mnist1d

    small = load_mnist1d().subset(n_examples)
    for beta in betas:
        r = steps_to_loss(small, batch_size=batch_size, lr=lr, beta=beta, seed=0, target_loss=target_loss,
                          max_steps=max_steps)
        line = (_("β = {beta}: reached {target:g} within {steps} steps (training loss {loss:.1f})")
                if r["steps"] else
                _("β = {beta}: did not reach {target:g} within {steps} steps (training loss {loss:.1f})"))
        print(line.format(beta=beta, target=target_loss, steps=r["curve_steps"][-1],
                          loss=r["curve_loss"][-1]))


@validate_params(lr=LR, beta=BETA, seed=SEED, target_loss=Interval("real", 0.0, None, closed="neither"),
                 max_steps=COUNT, eval_every=COUNT)
def steps_to_loss(data, *, batch_size, lr, beta, seed, target_loss, max_steps, eval_every=25,
                  blowup=50.0, threads=1):
    """Train the course MLP with SGD + momentum until the full training loss ≤ ``target_loss``.

    Returns a dict: ``steps`` (updates made when the target was first seen, None if not reached),
    ``status`` (the training loop's word, :data:`lecture_utils.train.STATUSES`: ``target_reached``,
    ``max_steps`` or ``diverged``), ``curve_steps`` and
    ``curve_loss`` (full training loss every ``eval_every`` updates), ``test_acc`` at the end and
    ``seconds``. Notebook 05's live mini run calls this directly.
    """
    import torch

    from ..seeding import set_threads
    from ..train import as_tensors, train_classifier

    x, y, xt, yt = as_tensors(data)
    n = len(y)
    batch_size = check_batch_size(batch_size, n)  # its range depends on the data
    previous = torch.get_num_threads()
    try:
        r = train_classifier(data, batch_size=batch_size, lr=lr, seed=seed, momentum=beta,
                             max_steps=max_steps,
                             target_train_loss=target_loss, eval_every_steps=eval_every,
                             max_train_loss=blowup,
                             threads=threads)
    finally:
        set_threads(previous)
    h = r.history
    curve_loss = [None if not math.isfinite(v) else v for v in h["train_loss"]]
    return {"steps": r.steps if r.status == "target_reached" else None,
            "status": r.status,
            "curve_steps": list(h["step"]), "curve_loss": curve_loss,
            "test_acc": None if r.status == "diverged" else r.test_acc, "seconds": r.seconds}


def settings(params):
    """The settings of the three experiments:
    ``{name: [{"batch_size", "beta", "lr", "seed"(, "eff_lr")}, …]}``."""
    p, b = params, params["batch_size"]
    matched = [{"batch_size": b, "beta": beta, "lr": p["eff_lr"] * (1 - beta), "seed": s}
               for beta in p["betas"] for s in p["seeds"]]
    fixed = [{"batch_size": b, "beta": beta, "lr": p["fixed_lr"], "seed": s}
             for beta in p["betas"] for s in p["seeds"]]
    small = [{"batch_size": bs, "beta": beta, "lr": eff * (1 - beta), "eff_lr": eff, "seed": s}
             for eff in p["small_batch_eff_lrs"] for bs in p["small_batch_sizes"]
             for beta in p["small_batch_betas"] for s in p["seeds"]]
    return {"matched": matched, "fixed": fixed, "small_batches": small}


def run_one(params, task):
    """One run, ``task`` = (experiment, index into its :func:`settings`): the setting and its result."""
    name, i = task
    s, p = settings(params)[name][i], params
    data = load_dataset(p).subset(p["n_train"])
    r = steps_to_loss(data, batch_size=s["batch_size"], lr=s["lr"], beta=s["beta"], seed=s["seed"],
                      target_loss=p["target_loss"], max_steps=p["max_steps"], eval_every=p["eval_every"],
                      blowup=p["blowup"], threads=p["threads"])
    r["curve_loss"] = [None if v is None else round(v, 4) for v in r["curve_loss"]]
    r["test_acc"] = None if r["test_acc"] is None else round(r["test_acc"], 4)
    r.pop("seconds")
    return {**s, **r}


def run(params, progress=True):
    """All three experiments (see the module docstring) as independent runs on ``workers`` processes
    of one torch thread; JSON-friendly."""
    from ._pool import map_tasks

    todo = {name: [(name, i) for i in range(len(rows))] for name, rows in settings(params).items()}
    out = map_tasks(run_one, params, [t for ts in todo.values() for t in ts], desc="momentum_mnist",
                    progress=progress)
    return {name: [out[t] for t in ts] for name, ts in todo.items()}


def summary(rows, key="beta"):
    """Median steps to the target per value of ``key`` (None when a seed missed it), from sweep rows."""
    out = {}
    for r in rows:
        out.setdefault(r[key], []).append(r["steps"])
    return {k: (None if any(s is None for s in v) else float(np.median(v))) for k, v in out.items()}


def report_lines(record):
    """The sweep as text lines: median steps to the target per β for each experiment, with the range
    over the seeds in brackets (min–max; with 2 seeds that is all there is to show); a setting where a
    seed missed the target shows ``>max_steps`` and its median final training loss (notebook 05)."""
    p, res = record["params"], record["results"]
    cap = p["max_steps"]

    def cell(rows, key, value):
        sel = [r for r in rows if r[key] == value]
        steps = [r["steps"] for r in sel]
        if all(v is not None for v in steps):
            return f"{np.median(steps):.0f} ({min(steps)}–{max(steps)})"
        last = [r["curve_loss"][-1] for r in sel if r["curve_loss"][-1] is not None]
        return (_(">{cap} (loss {loss:.1f})").format(cap=cap, loss=np.median(last)) if last else
                _(">{cap} (diverged)").format(cap=cap))

    lines = []
    for name, label in (("matched", _("matched η/(1−β) = {eff:g}").format(eff=p["eff_lr"])),
                        ("fixed", _("fixed η = {lr:g}").format(lr=p["fixed_lr"]))):
        cells = (f"β = {b:g}: {cell(res[name], 'beta', b)}" for b in p["betas"])
        lines.append(f"{label}:  " + ", ".join(cells))
    for eff in p["small_batch_eff_lrs"]:
        for beta in p["small_batch_betas"]:
            rows = [r for r in res["small_batches"] if r["eff_lr"] == eff and r["beta"] == beta]
            lines.append(f"η/(1−β) = {eff:g}, β = {beta:g}:  " + ", ".join(
                f"B = {b}: {cell(rows, 'batch_size', b)}" for b in p["small_batch_sizes"]))
    return lines


def header_line(record):
    """The line above :func:`report_lines`: what the numbers are (steps to the target loss at batch size B,
    median and range over the seeds, how often the loss was measured) (notebook 05, "A real network")."""
    p = record["params"]
    return _("steps to a training loss of {target:g}, B = {b}: median (min–max) of {n} seeds, loss measured "
             "every {every} steps").format(target=p["target_loss"], b=p["batch_size"], n=len(p["seeds"]),
                                           every=p["eval_every"])
