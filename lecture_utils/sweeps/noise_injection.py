"""Sweep "noise_injection" — does gradient noise cause flatness? A large batch given the small batch's
noise (notebook 03, deep dive "Does noise cause flatness?").

Protocol of the sweep ``sharpness_matched`` (notebook 03, section 5): MNIST-1D (4000 train / 1000 test),
the course MLP 40-256-256-10, plain SGD θ ← θ − η·ĝ at one η = ``lr`` for every arm, each run stopped
as soon as the full training loss is ≤ L* = ``target_train_loss`` (checked every
``eval_every_steps[arm]`` updates); there the top Hessian eigenvalue λ_max and Keskar's ε-sharpness
(:func:`lecture_utils.sweeps.generalization.measure_sharpness`) and the test accuracy are measured.
Four arms, the same seeds (same initial weights; the three large-batch arms also see the same batches):

* ``small`` — B = b_s = ``small`` (32): ĝ = g_{b_s};
* ``large`` — B = ``large`` (400): ĝ = g_B;
* ``large+noise`` — B = 400 plus noise with the small batch's covariance:

      ĝ = g_B + c·(g_{S₁} − g_{S₂}),   c = √( b/2 · (1/b_s − 1/B) ),

  where S₁, S₂ are the two halves of a fresh sample of 2b = 2·``ghost`` training examples drawn without
  replacement, independent of the batch. Why this c: with Σ the covariance of one example's gradient
  over the N training examples, a batch of B drawn without replacement has Cov(g_B) = Σ·(N−B)/(B(N−1)),
  and the difference of the two halves has mean 0 and Cov(g_{S₁} − g_{S₂}) = 2Σ·N/(b(N−1)) (the two
  halves of one sample are slightly anti-correlated, −Σ/(N−1)). So E[ĝ] = ∇L (unbiased) and
  Cov(ĝ) = Cov(g_B) + c²·2Σ·N/(b(N−1)) = Σ·(N−b_s)/(b_s(N−1)) = Cov(g_{b_s}): the small batch's
  covariance at the current θ, with its shape (anisotropic), from two extra small-batch gradients per
  update instead of the per-example gradients (cf. "ghost batches", Hoffer et al. 2017; the
  anisotropic noise of Zhu et al. 2019). With b = b_s = 32, B = 400: c = √(0.46) = 0.678.
* ``large+isotropic`` — the control: the same noise *length* ‖c·(g_{S₁} − g_{S₂})‖ at every update, but
  in a uniformly random direction (a Gaussian vector rescaled to that length): as much noise, none of
  its shape.

``sweeps.load("noise_injection")["results"]`` holds ``arms`` (list of ``{"arm", "batch_size", "noise"}``)
and ``runs[run_key(arm, seed)]`` (:class:`Run`): ``status``, ``steps``, ``epochs``, ``seconds``,
``train_loss``, ``train_acc``, ``test_loss``, ``test_acc``, ``top_eigenvalue``, ``eps_sharpness`` (None when
L* was not reached) and ``noise_norm`` (the mean ‖injected noise‖ over the updates; 0 without noise).
:func:`summary` gives mean ± 95 % t-interval (:func:`lecture_utils.stats.mean_ci`) per arm.

Rebuild: ``python -m lecture_utils.sweeps noise_injection``: 20 independent runs (one torch thread each)
on ``workers`` (2) processes; the cache's ``cpu_seconds`` records the work.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from . import finite_round as _r
from ._schema import DATASET, check_each, check_fields, load_dataset

SCHEMA_VERSION = 1

ARMS = ("small", "large", "large+noise", "large+isotropic")

PARAMS = {
    "dataset": dict(DATASET),
    "lr": 0.1,
    "small": 32,
    "large": 400,
    "ghost": 32,
    "target_train_loss": 0.1,
    "eval_every_steps": {"small": 31, "large": 5, "large+noise": 10, "large+isotropic": 5},
    "max_steps": 20000,
    "seeds": [0, 1, 2, 3, 4],
    "sharpness": {"iters": 100, "tol": 1e-3, "seed": 0, "eps": 1e-3, "ascent_steps": 20},
    "threads": 1,
    "workers": 2,
}

KEYS = ("train_loss", "train_acc", "test_acc", "test_loss", "top_eigenvalue", "eps_sharpness", "steps")


@dataclass(frozen=True)
class Run:
    """One (arm, seed) at its stopping point (λ_max, φ_ε None when L* was not reached)."""
    status: str
    steps: int
    epochs: float
    seconds: float
    train_loss: float | None
    train_acc: float | None
    test_loss: float | None
    test_acc: float | None
    top_eigenvalue: float | None
    eps_sharpness: float | None
    noise_norm: float


def run_key(arm, seed):
    """The key of one run, ``"large+noise|3"`` (arm of :data:`ARMS`, seed); :func:`parse_run_key` reads it."""
    if arm not in ARMS:
        raise ValueError(f"arm must be one of {ARMS}; got {arm!r}")
    return f"{arm}|{int(seed)}"


def parse_run_key(key):
    """``(arm, seed)`` of a :func:`run_key`."""
    arm, seed = key.split("|")
    run_key(arm, seed)
    return arm, int(seed)


def noise_scale(params):
    """c = √(b/2 · (1/b_s − 1/B)) of ``ĝ = g_B + c·(g_{S₁} − g_{S₂})`` (b = ``ghost``, b_s = ``small``,
    B = ``large``): the factor that gives ĝ the small batch's covariance (module docstring)."""
    b, bs, big = params["ghost"], params["small"], params["large"]
    return math.sqrt(b / 2 * (1 / bs - 1 / big))


def arms(params):
    """``[{"arm", "batch_size", "noise"}, …]`` in the order of :data:`ARMS`."""
    return [{"arm": a, "batch_size": params["small"] if a == "small" else params["large"],
             "noise": {"large+noise": "covariance", "large+isotropic": "isotropic"}.get(a, "none")}
            for a in ARMS]


def validate(results):
    """Check the results against schema :data:`SCHEMA_VERSION` (:class:`._schema.SchemaError`)."""
    check_fields(results, ("arms", "runs"), "results")
    check_each(Run, results["runs"], "runs")
    return results


class GhostNoise:
    """The ``on_backward`` hook that adds c·(g_{S₁} − g_{S₂}) (``kind="covariance"``) or a random direction
    of the same length (``kind="isotropic"``) to the gradient of the batch, before the update.

    ``x``, ``y``: the training set; ``ghost``: b; ``c``: the factor of :func:`noise_scale`; ``seed``: the
    run's seed (the noise has its own generators, so the batches are those of the plain large batch).
    """

    def __init__(self, x, y, *, ghost, c, seed, kind="covariance"):
        import numpy as np
        import torch

        if kind not in ("covariance", "isotropic"):
            raise ValueError(f"kind must be 'covariance' or 'isotropic'; got {kind!r}")
        self.x, self.y, self.b, self.c, self.kind = x, y, int(ghost), float(c), kind
        self.rng = np.random.default_rng([int(seed), 7919])
        self.gen = torch.Generator().manual_seed(int(seed) + 104729)
        self.norms = []

    def difference(self, model):
        """g_{S₁} − g_{S₂} (a list of tensors) for a fresh sample S₁ ∪ S₂ of 2b examples, no replacement."""
        import torch
        import torch.nn.functional as F

        idx = torch.from_numpy(self.rng.choice(len(self.y), 2 * self.b, replace=False))
        out = model(self.x[idx])
        per = F.cross_entropy(out, self.y[idx], reduction="none")
        loss = per[:self.b].mean() - per[self.b:].mean()
        return torch.autograd.grad(loss, [p for p in model.parameters() if p.requires_grad])

    def __call__(self, step, model):
        import torch

        params = [p for p in model.parameters() if p.requires_grad]
        diff = self.difference(model)
        with torch.no_grad():
            noise = [self.c * d for d in diff]
            norm = torch.sqrt(sum((n * n).sum() for n in noise))
            if self.kind == "isotropic":
                z = [torch.randn(p.shape, generator=self.gen, dtype=p.dtype) for p in params]
                zn = torch.sqrt(sum((v * v).sum() for v in z))
                noise = [v * (norm / zn) for v in z]
            for p, n in zip(params, noise):
                p.grad.add_(n)
        self.norms.append(float(norm))


def train_point(params, arm, seed, *, progress=False):
    """One run of arm ``arm`` from seed ``seed`` until the full training loss is ≤ L* (or ``max_steps``).
    Returns ``(TrainResult, mean ‖noise‖)``."""
    import numpy as np

    from ..train import as_tensors, train_classifier

    data = load_dataset(params)
    b = params["small"] if arm == "small" else params["large"]
    hook = None
    if arm in ("large+noise", "large+isotropic"):
        x, y, _, _ = as_tensors(data)
        hook = GhostNoise(x, y, ghost=params["ghost"], c=noise_scale(params), seed=seed,
                          kind="covariance" if arm == "large+noise" else "isotropic")
    r = train_classifier(data, batch_size=b, lr=params["lr"], seed=seed,
                         target_train_loss=params["target_train_loss"],
                         eval_every_steps=params["eval_every_steps"][arm], max_steps=params["max_steps"],
                         max_epochs=100000, threads=params["threads"], progress=progress, on_backward=hook)
    return r, (float(np.mean(hook.norms)) if hook is not None and hook.norms else 0.0)


def run_one(params, task):
    """One (arm, seed): train to L*, then λ_max, ε-sharpness and the test accuracy there."""
    from .generalization import measure_sharpness

    arm, seed = task
    r, noise = train_point(params, arm, seed)
    lam = phi = float("nan")
    if r.status == "target_reached":
        lam, phi = measure_sharpness(params, r.model)
    return {"status": r.status, "steps": int(r.steps), "epochs": _r(r.epochs, 4),
            "seconds": round(r.seconds, 2),
            "train_loss": _r(r.train_loss), "train_acc": _r(r.train_acc), "test_loss": _r(r.test_loss),
            "test_acc": _r(r.test_acc), "top_eigenvalue": _r(lam, 4), "eps_sharpness": _r(phi, 4),
            "noise_norm": _r(noise, 5)}


def run(params, progress=True):
    """Every (arm, seed) as an independent task on ``workers`` processes of one thread (the slowest
    arms first)."""
    from ._pool import map_tasks

    order = ("large+noise", "large+isotropic", "large", "small")
    tasks = [(a, s) for a in order for s in params["seeds"]]
    out = map_tasks(run_one, params, tasks, desc="noise injection", progress=progress)
    return {"arms": arms(params), "runs": {run_key(a, s): out[(a, s)] for a in ARMS for s in params["seeds"]}}


# ----------------------------------------------------------------------------- reading the cache
def values(record, arm, key):
    """Per-seed values of ``key`` for ``arm`` (seed order of the params; runs that reached L* only)."""
    res, params = record["results"], record["params"]
    runs = [res["runs"][run_key(arm, s)] for s in params["seeds"]]
    return [r[key] for r in runs if r["status"] == "target_reached" and r[key] is not None]


def summary(record):
    """``{arm: {"reached", "n", key: MeanCI}}`` over the seeds that reached L* (mean ± 95 % t-interval,
    :func:`lecture_utils.stats.mean_ci`) for every key of :data:`KEYS`."""
    from .. import stats

    params = record["params"]
    out = {}
    for a in ARMS:
        runs = [record["results"]["runs"][run_key(a, s)] for s in params["seeds"]]
        row = {"n": len(runs), "reached": sum(r["status"] == "target_reached" for r in runs)}
        for k in KEYS:
            v = values(record, a, k)
            row[k] = stats.mean_ci(v) if v else None
        out[a] = row
    return out


def paired(record, arm_a, arm_b, key):
    """The paired t-interval of ``key``(arm_a) − ``key``(arm_b) over the seeds where both reached L*
    (:func:`lecture_utils.stats.paired_diff_ci`): same seed, same initial weights, same test set."""
    from .. import stats

    res, params = record["results"], record["params"]
    a, b = [], []
    for s in params["seeds"]:
        ra, rb = res["runs"][run_key(arm_a, s)], res["runs"][run_key(arm_b, s)]
        if ra["status"] == rb["status"] == "target_reached":
            a.append(ra[key])
            b.append(rb[key])
    return stats.paired_diff_ci(a, b)
