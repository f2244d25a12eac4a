"""Sweep "have_both" — large batches that train fast and still generalize (notebook 04).

Protocol (as notebook 03): MNIST-1D (4000 train / 1000 test), the course MLP, plain SGD, each
run stopped when the training accuracy reaches 100 % (checked every epoch) or after
``max_epochs``. The base is B₀ = 32 at η₀ = 0.1; "scaled" means η = η₀·B/B₀ (linear rule);
"warm-up" means η rises linearly over the first 5 epochs' worth of updates (5·⌈N/B⌉).
Every run uses one torch thread (``threads``: 1) and the independent runs are spread over
``workers`` (2) processes, so the two cores are used without thread contention and the numbers do
not depend on the spread; wall-clock columns are those of the machine that built the cache (two
runs at a time). The grid of the panel stops at ``grid_max_epochs``.

``sweeps.load("have_both")["results"]`` holds:

* ``protocol`` — per seed (``seeds``) one dict for each of ``small`` (B₀ at η₀), ``large_scaled``
  (B = ``large_batch`` at η₀·B/B₀, no warm-up), ``large_scaled_warmup`` (the same with warm-up);
  each with ``status``, ``steps``, ``epochs``, ``seconds``, ``train_acc``, ``test_acc``. And
  ``large`` (B at η₀, no target: trained for as many updates as ``small`` took, i.e. Hoffer's
  "train longer"), with ``at_same_epochs`` (the evaluation at ``small``'s epochs),
  ``at_target`` (the first evaluation at 100 % training accuracy, or None) and ``at_same_steps``
  (the end), each ``epoch``, ``step``, ``train_acc``, ``test_acc``, ``seconds``.
  ``protocol["summary"][name]`` holds ``test_acc_mean``, ``test_acc_std``, ``steps_mean``,
  ``epochs_mean``, ``seconds_mean`` (and for ``large`` one such dict per point).
* ``grid`` — ``batch_sizes``; ``runs[grid_key(B, mode, warm)]`` (:class:`GridRun`) with mode
  ``fixed``/``scaled`` and warm
  ``0``/``1`` for seed ``grid_seed``: ``lr``, ``warmup_steps``, ``status``, ``steps``, ``epochs``,
  ``seconds``, ``train_acc``, ``test_acc`` and ``history`` (``epoch``, ``step``, ``train_acc``,
  ``test_acc``; NaN after a divergence).
* ``lars`` — ``batch_size``, ``steps``, ``warmup_steps``; ``sgd`` and ``lars`` lists of runs
  (``lr``, ``trust``, ``status`` — ``max_steps`` or ``diverged``, :data:`lecture_utils.train.STATUSES`
  — ``train_acc``, ``test_acc``, ``train_loss``), ``best_sgd``, ``best_lars`` (by training loss),
  and ``ratios`` (trust ratios per layer along the best SGD run).
* ``parallel`` — ``global_batch``, ``steps``, ``rows`` (per world size: ``per_worker_batch``,
  ``seconds``, ``seconds_per_update``, ``examples_per_second``, ``startup_seconds``; wall-clock of
  the machine that built the cache) and ``max_abs_diff`` between the 1- and 2-worker weights.

The critical batch and the noise scale are the seeded sweeps ``critical_batch`` (every η of one
grid for every B, 3 seeds) and ``noise_scale`` (6 seeds). Schema 2: schema 1 also held a one-seed
``critical`` scan and ``noise`` run that nothing should read any more, and called a LARS/SGD run that
made all its updates ``completed`` (now train's ``max_steps``). The schema-1 file was first migrated
by ``scripts/migrate_status_words.py`` (keys dropped, word rewritten); the cache now in data/ is a
schema-2 rebuild (2026-12-06) on the AMD EPYC that also built notebook 03's ``generalization`` cache,
so B = 32 at η = 0.1 gives the same three runs in both (0.667, 0.658, 0.658). A rebuild on another CPU
gives other numbers (training is sensitive to the CPU's code path; see that script).

Rebuild: ``python -m lecture_utils.sweeps have_both``: schema 1 took 126 s on 2 idle cores (AMD EPYC);
schema 2 measured 149 CPU s (1008 s wall at load 10–20 on 2 shared cores, Intel Xeon) and 280 s wall on
the 2-core AMD EPYC shared with other jobs (its ``seconds``; the timing columns are from that load).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data import N_TRAIN
from . import finite_round as _r
from ._schema import check_each, check_entry, check_fields

SCHEMA_VERSION = 2

PARAMS = {
    "dataset": {"name": "mnist1d", "seed": 42},
    "threads": 1,
    "workers": 2,
    "base": {"batch_size": 32, "lr": 0.1},
    "large_batch": 512,
    "seeds": [0, 1, 2],
    "target_train_acc": 1.0,
    "max_epochs": 150,
    "patience": 40,
    "warmup_epochs": 5,
    "large_eval_every": 2,
    "grid_batch_sizes": [32, 64, 128, 256, 512, 1024, 2048, N_TRAIN],
    "grid_seed": 0,
    "grid_max_epochs": 100,
    "parallel": {"world_sizes": [1, 2], "global_batch": 512, "steps": 100, "lr": 0.1, "seed": 0},
    "lars": {"batch_size": 2048, "steps": 100, "warmup_steps": 10, "seed": 0,
             "sgd_lrs": [0.8, 1.6, 3.2, 6.4], "lars_lrs": [1.0, 2.0, 4.0, 8.0, 16.0], "trust": 0.01},
}


MODES = ("fixed", "scaled")


@dataclass(frozen=True)
class RunSummary:
    """One run of the protocol (``protocol["per_seed"][seed_key(s)]["small"]``, …)."""
    status: str
    steps: int
    epochs: float | None
    seconds: float | None
    train_acc: float | None
    test_acc: float | None


@dataclass(frozen=True)
class GridRun(RunSummary):
    """One cell of the panel's grid (``grid["runs"][grid_key(B, mode, warm)]``); ``history`` holds the
    lists ``epoch``, ``step``, ``train_acc``, ``test_acc``."""
    lr: float
    warmup_steps: int
    history: dict


@dataclass(frozen=True)
class LongerPoint:
    """One point of the large batch trained longer (``at_same_epochs``, ``at_target``, ``at_same_steps``)."""
    epoch: float | None
    step: int
    train_acc: float | None
    test_acc: float | None
    seconds: float | None


def grid_key(batch_size, mode, warm):
    """The key of one grid cell, ``"512|scaled|1"`` (mode ``fixed``/``scaled``, warm 0/1)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}; got {mode!r}")
    return f"{int(batch_size)}|{mode}|{int(warm)}"


def parse_grid_key(key):
    """``(B, mode, warm)`` of a :func:`grid_key`."""
    b, mode, warm = key.split("|")
    return int(b), mode, int(warm)


def seed_key(seed):
    """The key of one seed in ``protocol["per_seed"]``: ``"0"``."""
    return str(int(seed))


def validate(results):
    """Check the results against schema :data:`SCHEMA_VERSION` (:class:`._schema.SchemaError`)."""
    check_fields(results, ("protocol", "grid", "lars", "parallel"), "results")
    for s, row in check_fields(results["protocol"], ("per_seed", "summary"), "protocol")["per_seed"].items():
        for name in ("small", "large_scaled", "large_scaled_warmup"):
            check_entry(RunSummary, row[name], f"per_seed[{s!r}][{name!r}]")
        for pt in ("at_same_epochs", "at_target", "at_same_steps"):
            if row["large"][pt] is not None:
                check_entry(LongerPoint, row["large"][pt], f"per_seed[{s!r}]['large'][{pt!r}]")
    check_each(GridRun, check_fields(results["grid"], ("batch_sizes", "runs"), "grid")["runs"],
               "grid['runs']")
    return results


def _data(params):
    from ..data import load_mnist1d

    return load_mnist1d(seed=params["dataset"]["seed"])


def warmup_steps(params, batch_size, n):
    """W = warmup_epochs·⌈N/B⌉ for a sweep's ``params`` (:func:`lecture_utils.train.warmup_steps`;
    the ``warmup`` sweep uses it too)."""
    from ..train import warmup_steps as steps

    return steps(params["warmup_epochs"], batch_size, n)


def lr_for(params, batch_size, mode):
    """η₀ (mode ``fixed``) or η₀·B/B₀ (mode ``scaled``)."""
    from ..scaling import scaled_lr

    b0, lr0 = params["base"]["batch_size"], params["base"]["lr"]
    return scaled_lr(batch_size, base_lr=lr0, base_batch_size=b0,
                     rule="linear" if mode == "scaled" else "none")


def train_point(params, batch_size, mode, warm, seed, data=None, max_epochs=None):
    """One run of the protocol (to 100 % training accuracy): the notebook's rerun and the tests use it."""
    from ..train import train_classifier

    data = _data(params) if data is None else data
    return train_classifier(data, batch_size=batch_size, lr=lr_for(params, batch_size, mode), seed=seed,
                            target_train_acc=params["target_train_acc"],
                            max_epochs=params["max_epochs"] if max_epochs is None else max_epochs,
                            patience=params["patience"],
                            warmup_steps=warmup_steps(params, batch_size, data.n_train) if warm else 0,
                            threads=params["threads"])


def _summary(res):
    return {"status": res.status, "steps": int(res.steps), "epochs": _r(res.epochs, 3),
            "seconds": _r(res.seconds, 3),
            "train_acc": _r(res.train_acc), "test_acc": _r(res.test_acc)}


def _history(res):
    h = res.history
    return {k: [_r(v, 4) for v in h[k]] for k in ("epoch", "step", "train_acc", "test_acc")}


def _stats(rows, key="test_acc"):
    vals = np.array([r[key] if r and r[key] is not None else np.nan for r in rows], float)
    return float(np.nanmean(vals)) if np.isfinite(vals).any() else None, \
        float(np.nanstd(vals, ddof=1)) if np.isfinite(vals).sum() > 1 else None


def _train_longer(params, data, seed, small_steps, small_epochs):
    """B at η₀ for as many updates as the small batch took; three points read off its history."""
    from ..train import train_classifier

    b = params["large_batch"]
    res = train_classifier(data, batch_size=b, lr=params["base"]["lr"], seed=seed, max_steps=small_steps,
                           epochs=10**6, eval_every=params["large_eval_every"], threads=params["threads"])
    h = res.history
    per_epoch = res.seconds / max(res.epochs, 1e-9)

    def point(i):
        return {"epoch": _r(h["epoch"][i], 3), "step": int(h["step"][i]), "train_acc": _r(h["train_acc"][i]),
                "test_acc": _r(h["test_acc"][i]), "seconds": _r(per_epoch * h["epoch"][i], 3)}

    epochs = np.asarray(h["epoch"], float)
    same_epochs = point(int(np.argmin(np.abs(epochs - small_epochs))))
    hit = [i for i, a in enumerate(h["train_acc"]) if a >= params["target_train_acc"]]
    return {"lr": params["base"]["lr"], "status": res.status, "at_same_epochs": same_epochs,
            "at_target": point(hit[0]) if hit else None, "at_same_steps": point(len(epochs) - 1),
            "history": _history(res)}


def protocol_seed(params, seed, data=None):
    """One seed of the protocol: small, large at scaled η (with and without warm-up), large trained longer."""
    data = _data(params) if data is None else data
    b0, b = params["base"]["batch_size"], params["large_batch"]
    small = train_point(params, b0, "fixed", False, seed, data)
    row = {"small": _summary(small),
           "large_scaled": _summary(train_point(params, b, "scaled", False, seed, data)),
           "large_scaled_warmup": _summary(train_point(params, b, "scaled", True, seed, data))}
    row["large"] = _train_longer(params, data, seed, small.steps, small.epochs)
    return row


def protocol_summary(params, per_seed):
    seeds = params["seeds"]
    summary = {}
    for name in ("small", "large_scaled", "large_scaled_warmup"):
        rows = [per_seed[seed_key(s)][name] for s in seeds]
        m, sd = _stats(rows)
        summary[name] = {"test_acc_mean": m, "test_acc_std": sd,
                         "steps_mean": float(np.mean([r["steps"] for r in rows])),
                         "epochs_mean": float(np.mean([r["epochs"] for r in rows])),
                         "seconds_mean": float(np.mean([r["seconds"] for r in rows])),
                         "reached": sum(r["status"] == "target_reached" for r in rows), "n_seeds": len(rows)}
    summary["large"] = {}
    for pt in ("at_same_epochs", "at_target", "at_same_steps"):
        rows = [per_seed[seed_key(s)]["large"][pt] for s in seeds]
        ok = [r for r in rows if r is not None]
        m, sd = _stats(ok) if ok else (None, None)
        summary["large"][pt] = {"test_acc_mean": m, "test_acc_std": sd, "n": len(ok),
                                "train_acc_mean": _stats(ok, "train_acc")[0] if ok else None,
                                "steps_mean": float(np.mean([r["step"] for r in ok])) if ok else None,
                                "epochs_mean": float(np.mean([r["epoch"] for r in ok])) if ok else None,
                                "seconds_mean": float(np.mean([r["seconds"] for r in ok])) if ok else None}
    return {"per_seed": per_seed, "summary": summary}


def grid_keys(params):
    """:func:`grid_key` of every cell of the panel's grid (B₀ "scaled" is B₀ "fixed")."""
    return [grid_key(b, mode, warm) for b in params["grid_batch_sizes"] for mode in MODES for warm in (0, 1)]


def grid_cell(params, key, data=None):
    """One run of the grid: the protocol with ``grid_max_epochs``, seed ``grid_seed``."""
    data = _data(params) if data is None else data
    b, mode, warm = parse_grid_key(key)
    res = train_point(params, b, mode, bool(warm), params["grid_seed"], data,
                      max_epochs=params["grid_max_epochs"])
    w = warmup_steps(params, b, data.n_train) if warm else 0
    return {"lr": lr_for(params, b, mode), "warmup_steps": w,
            **_summary(res), "history": _history(res)}


def grid_results(params, cells):
    runs = {}
    for key in grid_keys(params):
        b, mode, warm = parse_grid_key(key)
        same = grid_key(b, "fixed", warm)
        base = mode == "scaled" and b == params["base"]["batch_size"]
        runs[key] = dict(cells[same] if base else cells[key])
    return {"batch_sizes": params["grid_batch_sizes"], "seed": params["grid_seed"], "runs": runs}


def run_lars(params, data=None):
    data = _data(params) if data is None else data
    from ..scaling import train_lars

    p = params["lars"]
    common = dict(batch_size=p["batch_size"], seed=p["seed"], max_steps=p["steps"],
                  warmup_steps=p["warmup_steps"],
                  threads=params["threads"])
    keys = ("status", "train_acc", "test_acc", "train_loss", "test_loss", "seconds")
    sgd, lars, ratios = [], [], {}
    for lr in p["sgd_lrs"]:
        r = train_lars(data, lr=lr, optimizer="sgd", record_every=5, **common)
        sgd.append({"lr": lr, "trust": None, **{k: _r(r[k]) if k != "status" else r[k] for k in keys}})
        ratios[str(lr)] = {k: [_r(v, 4) for v in vs] for k, vs in r["ratios"].items()}
    for lr in p["lars_lrs"]:
        r = train_lars(data, lr=lr, optimizer="lars", trust=p["trust"], **common)
        lars.append({"lr": lr, "trust": p["trust"], **{k: _r(r[k]) if k != "status" else r[k] for k in keys}})

    def best(rows):
        ok = [r for r in rows if r["status"] == "max_steps" and r["train_loss"] is not None]
        return min(ok, key=lambda r: r["train_loss"]) if ok else None

    bs = best(sgd)
    return {"batch_size": p["batch_size"], "steps": p["steps"], "warmup_steps": p["warmup_steps"], "sgd": sgd,
            "lars": lars, "best_sgd": bs, "best_lars": best(lars),
            "ratios": ratios[str(bs["lr"])] if bs else None}


def run_parallel(params):
    """1 worker with the whole batch against 2 workers with half each (same global batches)."""
    from ..parallel import data_parallel_train
    from ..train import flat_params

    p = params["parallel"]
    rows, models = [], {}
    for w in p["world_sizes"]:
        r = data_parallel_train(w, p["global_batch"] // w, lr=p["lr"], steps=p["steps"], seed=p["seed"],
                                threads_per_worker=max(1, params["threads"] // w))
        models[w] = flat_params(r.model)
        rows.append({"world_size": w, "per_worker_batch": r.per_worker_batch, "seconds": _r(r.seconds, 4),
                     "seconds_per_update": _r(r.seconds / r.steps, 6),
                     "examples_per_second": _r(r.examples_per_second, 1),
                     "startup_seconds": _r(r.startup_seconds, 2)})
    ws = p["world_sizes"]
    diff = float(np.abs(models[ws[0]] - models[ws[-1]]).max())
    return {"global_batch": p["global_batch"], "steps": p["steps"], "rows": rows, "max_abs_diff": diff}


def run_task(params, task):
    """One independent piece of the sweep (run in a worker process): ``task`` = (kind, arg)."""
    kind, arg = task
    if kind == "protocol":
        return protocol_seed(params, arg)
    if kind == "grid":
        return grid_cell(params, arg)
    if kind == "lars":
        return run_lars(params)
    raise ValueError(f"task kind must be 'protocol', 'grid' or 'lars'; got {kind!r}")


def run(params, progress=True):
    """All parts, as independent tasks on ``workers`` processes of one thread each (every run is
    single-threaded, so the numbers do not depend on how the tasks are spread); the data-parallel
    timing runs last, alone."""
    from ._pool import map_tasks

    b0 = params["base"]["batch_size"]
    tasks = [("protocol", s) for s in params["seeds"]] + [("lars", None)]
    tasks += [("grid", k) for k in grid_keys(params) if parse_grid_key(k)[:2] != (b0, "scaled")]
    done = map_tasks(run_task, params, tasks, desc="have_both", progress=progress)
    per_seed = {seed_key(s): done[("protocol", s)] for s in params["seeds"]}
    out = {"protocol": protocol_summary(params, per_seed),
           "grid": grid_results(params, {k: v for (kind, k), v in done.items() if kind == "grid"}),
           "lars": done[("lars", None)]}
    out["parallel"] = run_parallel(params)
    return out
