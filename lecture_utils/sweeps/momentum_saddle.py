"""Momentum at a saddle of a real network (notebook 05, section 8 "A saddle of a real network").

The course MLP (40-256-256-10) on MNIST-1D, started **near the origin**: every weight and bias of
its default initialisation (seed s) multiplied by ``scale`` (0.1). At θ = 0 every hidden unit is
0, the output is 0 for every input and the loss is ln 10 (chance level); the gradient vanishes
up to the tiny class imbalance, so θ = 0 is a critical point. Near it the loss is a plateau and
its Hessian H = ∇²L(θ⁰) has eigenvalues of **both** signs — a saddle (鞍点) — which we measure:
λ_max and λ_min of H on the first ``hessian_examples`` training examples by Lanczos iteration
(:func:`hessian_extremes`: only Hessian-vector products Hv, the Hessian is never formed).

From that start, plain mini-batch SGD (β = 0) and momentum (the lecture's rule m ← β·m − η·g,
θ ← θ + m, via ``torch.optim.SGD(lr=η, momentum=β)``) train at **matched effective step**
η/(1 − β) (η = eff·(1 − β)) for each ``eff`` in ``eff_lrs``; same initial weights and the same
batch order for every setting of a seed. The full training loss L is measured every
``eval_every`` updates. **Left the plateau** at update t: the first measured t with
L(θᵗ) ≤ ``plateau_fraction``·ln 10 (0.9·ln 10 ≈ 2.07). A run that never gets there within
``max_steps`` is "not reached" (None).

Because the two effective steps differ by 10×, the cache also answers "same η" questions
(SGD at η = 0.1 against β = 0.9 at η = 0.1, whose effective step is 1).

Rebuild: ``python -m lecture_utils.sweeps momentum_saddle``: the start point of each seed and each
run are independent tasks on ``workers`` (2) processes of one thread; 57–61 CPU s in all, so about
30 s on 2 idle cores. The Hessian part is ~45 Hessian-vector products per seed on 1000 examples.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validate import SEED, Interval, validate_params
from ..data import N_TRAIN
from ..i18n import _
from ._schema import DATASET, check_each, check_fields, load_dataset

SCHEMA_VERSION = 1

PARAMS = {
    "dataset": dict(DATASET),
    "n_train": N_TRAIN,
    "batch_size": 64,
    "scale": 0.1,
    "seeds": [0, 1, 2, 3, 4, 5, 6, 7],
    "betas": [0.0, 0.9],
    "eff_lrs": [0.1, 1.0],
    "plateau_fraction": 0.9,
    "eval_every": 5,
    "max_steps": 1500,
    "blowup": 50.0,
    "hessian_examples": 1000,
    "hessian_tol": 1e-3,
    "threads": 1,
    "workers": 2,
}


@dataclass(frozen=True)
class Start:
    """The start point θ⁰ of one seed: ``start`` (loss, grad_norm, lambda_min, lambda_max, hvps) and
    ``default_init`` (loss, grad_norm at the unscaled initialisation)."""
    seed: int
    start: dict
    default_init: dict


@dataclass(frozen=True)
class Run:
    """One (seed, η/(1−β), β): updates to leave the plateau (None: not within ``max_steps``), the
    training loop's ``status`` and the loss curve."""
    seed: int
    eff_lr: float
    beta: float
    lr: float
    status: str
    steps: int | None
    curve_steps: list
    curve_loss: list


def validate(results):
    """Check the results against schema :data:`SCHEMA_VERSION` (:class:`._schema.SchemaError`)."""
    check_fields(results, ("level", "starts", "runs"), "results")
    check_each(Start, results["starts"], "starts")
    for i, s in enumerate(results["starts"]):
        check_fields(s["start"], ("loss", "grad_norm", "lambda_min", "lambda_max", "hvps"),
                     f"starts[{i}]['start']")
    check_each(Run, results["runs"], "runs")
    return results


@validate_params(seed=SEED, scale=Interval("real", 0.0, 10.0))
def scaled_init(seed, scale, *, n_in=40, hidden=256, n_out=10, depth=2):
    """The state dict of ``make_mlp(seed)`` with every weight and bias multiplied by ``scale``:
    θ⁰ = scale·θ_init(seed), close to the critical point θ = 0 when ``scale`` is small."""
    from ..train import make_mlp

    model = make_mlp(seed, n_in=n_in, hidden=hidden, n_out=n_out, depth=depth)
    return {k: v * scale for k, v in model.state_dict().items()}


@validate_params(tol=Interval("real", 0.0, 0.5, closed="right"), seed=SEED, ncv=Interval("int", 3, None))
def hessian_extremes(model, x, y, *, tol=1e-3, seed=0, ncv=20):
    """The smallest and largest eigenvalue (λ_min, λ_max) of the Hessian H = ∇²L(θ) of the mean
    cross-entropy on ``(x, y)``, and the number of Hessian-vector products used.

    Lanczos iteration (``scipy.sparse.linalg.eigsh``, ``which="BE"``) on the operator v ↦ Hv, with
    Hv = ∇_θ(∇_θL · v) by double backward (Pearlmutter's trick) from one retained graph: H is never
    formed. λ_min < 0 < λ_max means θ is near a saddle (notebook 05, section 8).
    """
    import torch
    import torch.nn.functional as F
    from scipy.sparse.linalg import LinearOperator, eigsh

    params = [p for p in model.parameters() if p.requires_grad]
    n = sum(p.numel() for p in params)
    ncv = min(ncv, n - 1)
    loss = F.cross_entropy(model(x), y)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    count = [0]

    def matvec(v):
        count[0] += 1
        v = torch.as_tensor(np.asarray(v, dtype=np.float64).ravel(), dtype=params[0].dtype)
        vs, i = [], 0
        for p in params:
            vs.append(v[i:i + p.numel()].view_as(p))
            i += p.numel()
        hv = torch.autograd.grad(grads, params, grad_outputs=vs, retain_graph=True)
        return torch.cat([h.reshape(-1) for h in hv]).double().numpy()

    if n <= 3:  # too small for Lanczos: form H column by column
        h = np.column_stack([matvec(e) for e in np.eye(n)])
        vals = np.linalg.eigvalsh(0.5 * (h + h.T))
        return float(vals[0]), float(vals[-1]), count[0]
    op = LinearOperator((n, n), matvec=matvec, dtype=np.float64)
    v0 = np.random.default_rng(seed).standard_normal(n)
    vals = eigsh(op, k=2, which="BE", tol=tol, ncv=ncv, v0=v0, return_eigenvectors=False)
    return float(np.min(vals)), float(np.max(vals)), count[0]


def steps_to_leave(curve_steps, curve_loss, level):
    """The first measured update t with training loss ≤ ``level`` (None if never)."""
    for t, v in zip(curve_steps, curve_loss):
        if v is not None and math.isfinite(v) and v <= level:
            return int(t)
    return None


def _start_point(data, seed, p):
    """Loss, gradient norm and Hessian extremes at θ⁰ (and the gradient norm at the unscaled init)."""
    import torch
    import torch.nn.functional as F

    from ..train import as_tensors, make_mlp

    x, y, _, _ = as_tensors(data)
    out = {}
    for key, scale in (("start", p["scale"]), ("default_init", 1.0)):
        model = make_mlp(seed)
        model.load_state_dict(scaled_init(seed, scale))
        loss = F.cross_entropy(model(x), y)
        g = torch.autograd.grad(loss, list(model.parameters()))
        out[key] = {"loss": round(loss.item(), 5),
                    "grad_norm": float(f"{float(torch.sqrt(sum((gi ** 2).sum() for gi in g))):.4g}")}
    model = make_mlp(seed)
    model.load_state_dict(scaled_init(seed, p["scale"]))
    k = p["hessian_examples"]
    lo, hi, n_hvp = hessian_extremes(model, x[:k], y[:k], tol=p["hessian_tol"], seed=seed)
    out["start"].update({"lambda_min": float(f"{lo:.4g}"), "lambda_max": float(f"{hi:.4g}"), "hvps": n_hvp})
    return out


def run_one(params, task):
    """One independent piece: ``("start", seed)`` the start point of a seed (:func:`_start_point`),
    ``("run", seed, eff, β)`` the updates to leave the plateau at η = eff·(1 − β)."""
    from ..train import train_classifier

    p = params
    data = load_dataset(p).subset(p["n_train"])
    if task[0] == "start":
        return {"seed": task[1], **_start_point(data, task[1], p)}
    _, s, eff, beta = task
    level = p["plateau_fraction"] * math.log(10)
    r = train_classifier(data, batch_size=p["batch_size"], lr=eff * (1 - beta), seed=s, momentum=beta,
                         max_steps=p["max_steps"], target_train_loss=level, eval_every_steps=p["eval_every"],
                         max_train_loss=p["blowup"], init_state=scaled_init(s, p["scale"]),
                         threads=p["threads"])
    h = r.history
    loss = [None if not math.isfinite(v) else round(v, 4) for v in h["train_loss"]]
    return {"seed": s, "eff_lr": eff, "beta": beta, "lr": eff * (1 - beta), "status": r.status,
            "steps": steps_to_leave(h["step"], h["train_loss"], level),
            "curve_steps": list(h["step"]), "curve_loss": loss}


def run(params, progress=True):
    """Hessian at the start and steps to leave the plateau for every seed, β and effective step, as
    independent tasks on ``workers`` processes of one torch thread."""
    from ._pool import map_tasks

    p = params
    starts = [("start", s) for s in p["seeds"]]
    runs = [("run", s, eff, beta) for s in p["seeds"] for eff in p["eff_lrs"] for beta in p["betas"]]
    out = map_tasks(run_one, p, starts + runs, desc="momentum at a saddle", progress=progress)
    return {"level": p["plateau_fraction"] * math.log(10), "starts": [out[t] for t in starts],
            "runs": [out[t] for t in runs]}


def summary(record):
    """Per (eff, β): the updates to leave the plateau over the seeds (``n_reached`` of ``n`` seeds), with
    their mean and 95 % t-interval (``ci``, a :class:`lecture_utils.stats.MeanCI`; ``mean`` and ``half``
    its numbers) when every seed reached it, and per eff the paired difference momentum − SGD (same seed)
    with its t-interval (``diff_ci``: :func:`lecture_utils.stats.paired_diff_ci`)."""
    from ..stats import mean_ci, paired_diff_ci

    p, res = record["params"], record["results"]
    rows = {}
    for eff in p["eff_lrs"]:
        per_beta = {}
        for beta in p["betas"]:
            sel = sorted((r for r in res["runs"] if r["eff_lr"] == eff and r["beta"] == beta),
                         key=lambda r: r["seed"])
            steps = [r["steps"] for r in sel]
            reached = [t for t in steps if t is not None]
            ci = mean_ci(reached) if len(reached) == len(steps) and reached else None
            per_beta[beta] = {"steps": steps, "n": len(steps), "n_reached": len(reached), "ci": ci,
                              "mean": None if ci is None else ci.mean,
                              "half": None if ci is None else ci.half, "lr": eff * (1 - beta)}
        b0, b1 = p["betas"][0], p["betas"][-1]
        pairs = [(a, b) for a, b in zip(per_beta[b0]["steps"],
                                        per_beta[b1]["steps"]) if a is not None and b is not None]
        diff = [b - a for a, b in pairs]
        d_ci = paired_diff_ci([b for _, b in pairs], [a for a, _ in pairs]) if len(diff) > 1 else None
        rows[eff] = {"by_beta": per_beta, "diff": diff, "diff_ci": d_ci,
                     "diff_mean": None if d_ci is None else d_ci.mean,
                     "momentum_later": sum(d > 0 for d in diff), "n_pairs": len(diff)}
    return rows


def start_summary(record):
    """Over the seeds: min/max of λ_min and λ_max at θ⁰, and the loss and gradient norms."""
    st = record["results"]["starts"]
    get = lambda key, field: np.array([s[key][field] for s in st], float)  # noqa: E731
    return {"n": len(st), "lambda_min": (get("start", "lambda_min").min(), get("start", "lambda_min").max()),
            "lambda_max": (get("start", "lambda_max").min(), get("start", "lambda_max").max()),
            "loss": (get("start", "loss").min(), get("start", "loss").max()),
            "grad_norm": (get("start", "grad_norm").min(), get("start", "grad_norm").max()),
            "grad_norm_default": (get("default_init", "grad_norm").min(),
                                  get("default_init", "grad_norm").max())}


def report_lines(record):
    """The sweep as text lines (notebook 05): the start point, then per effective step the updates to
    leave the plateau (mean ± 95 % t-interval over the seeds) and the paired difference."""
    p = record["params"]
    n = len(p["seeds"])
    s = start_summary(record)
    lines = [_("start θ⁰ = {scale:g}·(default init), {n} seeds: loss {l0:.3f}…{l1:.3f} (ln 10 = {ln10:.3f}), "
               "‖g‖ {g0:.4f}…{g1:.4f} (default init: {d0:.2f}…{d1:.2f})").format(
                 scale=p["scale"], n=n, l0=s["loss"][0], l1=s["loss"][1], ln10=math.log(10),
                 g0=s["grad_norm"][0], g1=s["grad_norm"][1], d0=s["grad_norm_default"][0],
                 d1=s["grad_norm_default"][1]),
             _("Hessian at θ⁰: λ_min {lo0:+.3f}…{lo1:+.3f}, λ_max {hi0:+.3f}…{hi1:+.3f}  (both signs: a "
               "saddle)").format(lo0=s["lambda_min"][0], lo1=s["lambda_min"][1], hi0=s["lambda_max"][0],
                                 hi1=s["lambda_max"][1])]
    summ = summary(record)
    label = next((b["ci"].label for row in summ.values() for b in row["by_beta"].values() if b["ci"]), None)
    if label:
        lines.append(_("updates to leave the plateau (measured every {every} updates): mean ± "
                       "{label}").format(every=p["eval_every"], label=label))
    for eff, row in summ.items():
        parts = []
        for beta, b in row["by_beta"].items():
            if b["ci"] is None:
                parts.append(_("β = {beta:g} (η = {lr:.3g}): reached in {k} of {n} seeds").format(
                    beta=beta, lr=b["lr"], k=b["n_reached"], n=b["n"]))
            else:
                parts.append(f"β = {beta:g} (η = {b['lr']:.3g}): {b['ci'].short('.0f')}")
        lines.append(f"η/(1−β) = {eff:g}:  " + ";  ".join(parts))
        if row["diff_ci"] is not None:
            d = row["diff_ci"]
            lines.append(_("    momentum − SGD, same seed: {mean:+.0f} ± {half:.0f} updates (momentum "
                           "later in {later} of {n} seeds)").format(
                mean=d.mean, half=d.half, later=row["momentum_later"], n=row["n_pairs"]))
    return lines


def growth_report(record, beta=0.9):
    """The linear theory of leaving the saddle against the sweep: μ = −(mean λ_min at θ⁰ over the seeds),
    then per effective step the growth factor σ per update of SGD and of momentum β
    (:func:`lecture_utils.quadratic.growth_factor`) and the predicted ratio of updates ln σ_SGD / ln σ_mom
    against the measured one (notebook 05, "Why momentum leaves the saddle later")."""
    from .. import quadratic as quad

    mu = -np.mean([s["start"]["lambda_min"] for s in record["results"]["starts"]])
    summ = summary(record)
    lines = [_("μ = −(mean λ_min over the seeds) = {mu:.3f}").format(mu=mu)]
    line = _("η/(1−β) = {eff:g}: σ per update SGD {sgd:.4f}, momentum {mom:.4f};  updates momentum / SGD: "
             "predicted ln σ_SGD / ln σ_mom = {predicted:.2f}, measured {measured:.2f}")
    for eff in record["params"]["eff_lrs"]:
        sgd, mom = quad.growth_factor(eff, 0.0, mu), quad.growth_factor(eff * (1 - beta), beta, mu)
        by = summ[eff]["by_beta"]
        lines.append(line.format(eff=eff, sgd=sgd, mom=mom, predicted=np.log(sgd) / np.log(mom),
                                 measured=by[beta]["mean"] / by[0.0]["mean"]))
    return "\n".join(lines)
