"""Sweep "sharpness_matched" — sharpness at a matched training loss, and the edge of stability
(notebook 03, sections 5-6).

Why: the gap protocol (sweep ``generalization``) stops every run at 100 % training accuracy, where
the runs have different training losses (small B lower). Near interpolation the Hessian of the
cross-entropy shrinks with the loss, so "λ_max rises with B" there could be only "the loss at the
stopping point rises with B". Here every run stops at the **same training loss**
``target_train_loss`` (L*), checked on the whole training set every ``eval_every_steps[B]`` updates.

Protocol: MNIST-1D (4000 train / 1000 test), the course MLP 40-256-256-10
(:func:`lecture_utils.train.train_classifier`), plain SGD θ ← θ − η·g, for every ``(B, η)`` in
``configs`` and every seed; at the stopping point the top Hessian eigenvalue λ_max of the full
training loss (:func:`lecture_utils.sharpness.top_hessian_eigenvalue`) and Keskar's ε-sharpness
(:func:`lecture_utils.sharpness.epsilon_sharpness`), with the settings of the ``generalization`` sweep.
Section 5 reads the configs with η = ``lr`` (one η for every B); section 6 compares λ_max with the
stability limit 2/η of gradient descent on a quadratic (Cohen et al. 2021; Jastrzębski et al. 2018).

``sweeps.load("sharpness_matched")["results"]`` holds:

* ``configs`` — list of ``{"batch_size", "lr", "key"}`` (key ``config_key(32, 0.1)`` = ``"B=32,lr=0.1"``),
  as in PARAMS;
* ``runs[key]`` — one dict per seed (:class:`Run`): ``seed``, ``status``, ``steps``, ``epochs``, ``seconds``,
  ``train_loss``, ``train_acc``, ``test_loss``, ``test_acc``, ``top_eigenvalue``, ``eps_sharpness``
  and ``stability`` = λ_max·η/2 (1 at the stability limit of gradient descent);
* ``summary[key]`` — (:class:`SummaryRow`) ``n``, ``reached`` and, for each of ``train_loss``,
  ``train_acc``, ``test_acc``,
  ``top_eigenvalue``, ``eps_sharpness``, ``stability``, ``steps``: ``<name>_mean`` and ``<name>_half``,
  the half-width of the 95 % t-interval over the seeds that reached L*
  (:func:`lecture_utils.stats.mean_ci`: t_{0.975, n−1}·s/√n; None for fewer than two seeds).

Five seeds (schema version 2; version 1 had three and stored standard errors): some effects that
sections 5-6 quote are ≤ 0.01 of test accuracy (issue 19 asks for ≥ 5 seeds there).

Rebuild: ``python -m lecture_utils.sweeps sharpness_matched``: 40 independent runs (one torch thread
each) on ``workers`` (2) processes, so an idle 2-core laptop needs about half their CPU time (the
cache's ``cpu_seconds`` records the work).
"""
from __future__ import annotations

from dataclasses import dataclass, make_dataclass

from ._schema import DATASET, check_each, check_entry, check_fields, load_dataset

SCHEMA_VERSION = 2

PARAMS = {
    "dataset": dict(DATASET),
    "target_train_loss": 0.1,
    "lr": 0.1,
    "configs": [[8, 0.1], [32, 0.1], [128, 0.1], [400, 0.1],
                [32, 0.2], [32, 0.4], [400, 0.2], [400, 0.4]],
    "seeds": [0, 1, 2, 3, 4],
    "eval_every_steps": {"8": 125, "32": 31, "128": 16, "400": 5},
    "max_steps": 20000,
    "sharpness": {"iters": 100, "tol": 1e-3, "seed": 0, "eps": 1e-3, "ascent_steps": 20},
    "threads": 1,   # one thread: on a busy machine two threads per tiny step mostly wait for each other
    "workers": 2,
}

KEYS = ("train_loss", "train_acc", "test_acc", "test_loss", "top_eigenvalue", "eps_sharpness", "stability",
        "steps")


@dataclass(frozen=True)
class Run:
    """One seed of one configuration at its stopping point (λ_max, φ_ε and stability None — NaN in
    the JSON is written as NaN — when it did not reach L*)."""
    seed: int
    status: str
    steps: int
    epochs: float
    seconds: float
    train_loss: float
    train_acc: float
    test_loss: float
    test_acc: float
    top_eigenvalue: float
    eps_sharpness: float
    stability: float


SummaryRow = make_dataclass(
    "SummaryRow",
    [("n", int), ("reached", int)] + [(f"{k}_{s}", float | None) for k in KEYS for s in ("mean", "half")],
    frozen=True)
SummaryRow.__doc__ = ("Mean and 95 % t-interval half-width (None: fewer than two seeds) over the seeds that "
                      "reached L*, of every name in :data:`KEYS`.")
SummaryRow.__module__ = __name__


def config_key(batch_size, lr):
    """The results key of one configuration, e.g. ``"B=32,lr=0.1"``."""
    return f"B={int(batch_size)},lr={float(lr):g}"


def parse_config_key(k):
    """``(B, η)`` of a :func:`config_key`."""
    b, lr = k.split(",")
    return int(b.removeprefix("B=")), float(lr.removeprefix("lr="))


def validate(results):
    """Check the results against schema :data:`SCHEMA_VERSION` (:class:`._schema.SchemaError`)."""
    check_fields(results, ("configs", "runs", "summary"), "results")
    for c in results["configs"]:
        k = check_fields(c, ("batch_size", "lr", "key"), "configs[i]")["key"]
        check_each(Run, check_fields(results["runs"], (k,), "runs")[k], f"runs[{k!r}]")
        check_entry(SummaryRow, check_fields(results["summary"], (k,), "summary")[k], f"summary[{k!r}]")
    return results


def train_point(params, batch_size, lr, seed, *, progress=False):
    """One run of the protocol: SGD at ``(B, η)`` from seed ``seed`` until the full training loss is
    ≤ ``target_train_loss`` (or ``max_steps``). Returns the :class:`lecture_utils.train.TrainResult`."""
    from ..train import train_classifier

    data = load_dataset(params)
    return train_classifier(data, batch_size=batch_size, lr=lr, seed=seed,
                            target_train_loss=params["target_train_loss"],
                            eval_every_steps=params["eval_every_steps"][str(batch_size)],
                            max_steps=params["max_steps"], max_epochs=100000,
                            threads=params["threads"], progress=progress)


def summarise(runs):
    """The ``summary`` row of one configuration from its runs (seeds that reached L* only): for every
    name of :data:`KEYS` the mean and the 95 % t-interval half-width of :func:`lecture_utils.stats.mean_ci`
    (None when no seed, or only one, reached L*)."""
    from .. import stats

    ok = [r for r in runs if r["status"] == "target_reached"]
    row = {"n": len(runs), "reached": len(ok)}
    for k in KEYS:
        ci = stats.mean_ci([r[k] for r in ok]) if ok else None
        row[f"{k}_mean"] = ci.mean if ci else None
        row[f"{k}_half"] = ci.half if ci and ci.n > 1 else None
    return row


def interval(res, batch_size, lr, key):
    """:class:`lecture_utils.stats.MeanCI` (mean ± 95 % t-interval) of ``key`` over the seeds of ``(B, η)``
    that reached L* — what the notebook prints (``.format()``: "6.24 ± 0.41 (95 % t-interval, 5 seeds)")."""
    from .. import stats

    return stats.mean_ci([r[key] for r in res["runs"][config_key(batch_size, lr)]
                          if r["status"] == "target_reached"])


def run_one(params, task):
    """One seed of one configuration (``task`` = (B, η, seed)): train to L*, then λ_max and φ_ε there
    (NaN when L* was not reached)."""
    from .generalization import measure_sharpness

    b, lr, seed = task
    r = train_point(params, b, lr, seed)
    d = {"seed": seed, **r.summary()}
    d["seconds"] = round(d["seconds"], 2)
    if r.status == "target_reached":
        lam, phi = measure_sharpness(params, r.model)
    else:
        lam = phi = float("nan")
    d.update(top_eigenvalue=lam, eps_sharpness=phi, stability=lam * lr / 2)
    return d


def run(params, progress=True):
    """Every (configuration, seed) as an independent task on ``workers`` processes of one thread."""
    from ._pool import map_tasks

    configs = [{"batch_size": int(b), "lr": float(lr), "key": config_key(b, lr)} for b,
               lr in params["configs"]]
    tasks = [(c["batch_size"], c["lr"], s) for c in configs for s in params["seeds"]]
    # the costliest runs (small B: most updates) first, so that the two workers end together
    order = sorted(tasks, key=lambda t: t[0])
    out = map_tasks(run_one, params, order, desc="sharpness at matched loss", progress=progress)
    runs = {c["key"]: [out[(c["batch_size"], c["lr"], s)] for s in params["seeds"]] for c in configs}
    return {"configs": configs, "runs": runs,
            "summary": {c["key"]: summarise(runs[c["key"]]) for c in configs}}
