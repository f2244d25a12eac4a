"""Having both: large batches that train fast and still generalize (notebook 04).

Four tools, each named after the paper that introduced it:

* **Linear scaling rule** (Goyal et al. 2017): when the batch grows from B₀ to B, grow the
  learning rate with it, η_B = η₀·B/B₀, and ramp η up linearly over the first W updates
  (warm-up, η_t = η·(t+1)/W for t < W; :func:`lecture_utils.train.lr_at_step`).
* **Gradient noise scale** (McCandlish et al. 2018): B_simple = tr(Σ)/|G|², measured by the
  two-batch estimator that lives in :mod:`lecture_utils.noise`
  (:func:`~lecture_utils.noise.estimate_noise_scale`, re-exported here);
  :func:`noise_scale_during_training` measures it along a training run.
* **Critical batch size**: the steps S and examples E = B·S needed to reach a fixed target
  follow (S/S_min − 1)(E/E_min − 1) = 1, i.e. S(B) = S_min·(1 + B_crit/B) with
  B_crit = E_min/S_min: below B_crit doubling B halves the steps (perfect scaling), above it
  the steps barely fall (diminishing returns).
* **LARS** (You et al. 2017): every layer l gets its own step, scaled by the trust ratio
  ‖w_l‖/‖∇w_l‖: w_l ← w_l − η·τ·(‖w_l‖/‖∇w_l‖)·∇w_l, so each update moves every layer by the
  same fraction η·τ of its norm.

Used by notebook 04 ("Having both"), sections 1–4, and by the sweep ``have_both``.
"""
from __future__ import annotations

import math

import numpy as np

from ._validate import COUNT, LR, Interval, Options, check_real, validate_params
from .data import updates_per_epoch
from .noise import (  # noqa: F401  (the noise-scale estimators live in noise; re-exported for old imports)
    NoiseScale,
    batch_sq_norms,
    estimate_noise_scale,
    exact_noise_scale,
    noise_scale_from_norms,
    per_example_gradients,
)
from .seeding import THREADS
from .train import as_tensors, lr_at_step, train_classifier

__all__ = ["scaled_lr", "lr_at_step", "NoiseScale", "noise_scale_from_norms", "batch_sq_norms",
           "estimate_noise_scale", "per_example_gradients", "exact_noise_scale", "fit_critical_batch",
           "critical_curve", "steps_to_target", "noise_scale_during_training", "trust_ratios", "lars_step",
           "lars_optimizer", "train_lars"]


# ----------------------------------------------------------------------------- linear scaling
#: τ, LARS's trust coefficient, and ε, the guard of its ratio's denominator: numbers > 0.
TRUST = EPS = Interval("real", 0.0, None, closed="neither")


@validate_params(batch_size=COUNT, base_batch_size=COUNT, base_lr=LR,
                 rule=Options(("linear", "sqrt", "none")))
def scaled_lr(batch_size, *, base_lr=0.1, base_batch_size=32, rule="linear"):
    """η for batch size B from a base (η₀ at B₀): ``linear`` η₀·B/B₀ (Goyal et al. 2017),
    ``sqrt`` η₀·√(B/B₀), ``none`` η₀ (section 1 of notebook 04)."""
    b, b0 = batch_size, base_batch_size
    factor = {"linear": b / b0, "sqrt": math.sqrt(b / b0), "none": 1.0}[rule]
    return base_lr * factor


# ----------------------------------------------------------------------------- critical batch size
def critical_curve(batch_sizes, s_min, b_crit):
    """S(B) = S_min·(1 + B_crit/B): steps to the target at batch size B (McCandlish eq. 2.11)."""
    b = np.asarray(batch_sizes, dtype=float)
    return s_min * (1.0 + b_crit / b)


def fit_critical_batch(batch_sizes, steps):
    """Fit (S/S_min − 1)(E/E_min − 1) = 1 to measured steps-to-target (notebook 04, section 3).

    With E = B·S this is S(B) = S_min·(1 + B_crit/B), B_crit = E_min/S_min. The fit minimises the
    squared error of log S (relative errors, so small and large batches count alike). Returns a
    dict with ``s_min``, ``e_min`` (examples), ``b_crit`` and the ``rms_log_error`` of the fit.
    """
    from scipy.optimize import least_squares

    b = np.asarray(batch_sizes, dtype=float)
    s = np.asarray(steps, dtype=float)
    if b.ndim != 1 or b.shape != s.shape or len(b) < 3:
        raise ValueError("batch_sizes and steps must be 1-D arrays of the same length >= 3")
    if not (np.all(np.isfinite(s)) and np.all(s > 0) and np.all(b > 0)):
        raise ValueError("batch_sizes and steps must be finite and > 0 "
                         "(leave out runs that missed the target)")

    def resid(p):
        return np.log(critical_curve(b, np.exp(p[0]), np.exp(p[1]))) - np.log(s)

    p0 = np.array([np.log(s.min()), np.log(np.median(b))])
    fit = least_squares(resid, p0, method="lm")
    s_min, b_crit = float(np.exp(fit.x[0])), float(np.exp(fit.x[1]))
    return {"s_min": s_min, "e_min": s_min * b_crit, "b_crit": b_crit,
            "rms_log_error": float(np.sqrt(np.mean(resid(fit.x) ** 2)))}


def _loss_check_steps(max_steps):
    """Steps at which the training loss is checked: every step up to 20, then ~4 % apart."""
    pts, s = set(range(1, min(max_steps, 20) + 1)), 20.0
    while s < max_steps:
        s *= 1.04
        pts.add(min(int(round(s)), max_steps))
    return pts


def _epochs_covering(max_steps, per_epoch):
    """An epoch budget that ``max_steps`` updates (``per_epoch`` per epoch) always ends first."""
    return -(-max_steps // per_epoch) + 1


@validate_params(target_loss=Interval("real", 0.0, None, closed="neither"), max_steps=COUNT)
def steps_to_target(data, *, batch_size, lr, seed, target_loss, max_steps, warmup_steps=0, on_check=None,
                    threads=THREADS, momentum=0.0):
    """Updates until the full training loss first falls to ``target_loss`` (notebook 04, section 3).

    A :func:`lecture_utils.train.train_classifier` run (its initial weights, its batches
    ``epoch_batches(N, B, seed, epoch)``, SGD m ← β·m − η·g, θ ← θ + m with warm-up; β = ``momentum``,
    0 by default: plain SGD) whose training loss is
    checked at steps ~4 % apart (:func:`_loss_check_steps`). Returns a dict: ``steps`` (None if not
    reached), ``status`` (train_classifier's word, :data:`lecture_utils.train.STATUSES`: ``target_reached``,
    ``max_steps`` or ``diverged``), ``seconds``,
    and the checked ``curve`` (``step``, ``train_loss``). ``on_check(step, model, train_loss)``, if
    given, is called at every check (e.g. to measure the noise scale along the run).
    """
    per_epoch = updates_per_epoch(len(as_tensors(data)[1]), batch_size)
    r = train_classifier(data, batch_size=batch_size, lr=lr, seed=seed, max_steps=max_steps,
                         warmup_steps=warmup_steps, max_epochs=_epochs_covering(max_steps, per_epoch),
                         target_train_loss=target_loss, eval_at_steps=_loss_check_steps(max_steps),
                         on_eval=on_check, threads=threads, momentum=momentum)
    # the epoch budget covers max_steps: a run ends target_reached, max_steps or diverged
    return {"steps": r.steps if r.status == "target_reached" else None, "status": r.status,
            "seconds": r.seconds,
            "curve": {"step": list(r.history["step"]), "train_loss": list(r.history["train_loss"])}}


def noise_scale_during_training(data, *, batch_size, lr, seed, at_losses, max_steps, b_small=32, b_big=512,
                                n_pairs=16, threads=THREADS):
    """B_simple measured along one SGD run, each time the training loss first falls to a value in
    ``at_losses`` (descending), by :func:`estimate_noise_scale` on the training set (notebook 04,
    section 3). Returns a list of dicts ``loss_level``, ``step``, ``train_loss``, ``g2``,
    ``trace``, ``b_simple``; the run stops after the last level (or ``max_steps``).
    """
    import torch

    levels = sorted((check_real("at_losses[i]", v, low=0.0, low_open=True) for v in at_losses), reverse=True)
    if not levels:
        raise ValueError("at_losses must hold at least one training-loss level > 0")
    x, y, _, _ = as_tensors(data)
    out = []

    def measure(step, model, tl):
        while len(out) < len(levels) and tl <= levels[len(out)]:
            state = torch.random.get_rng_state()
            ns = estimate_noise_scale(model, x, y, b_small=b_small, b_big=b_big, n_pairs=n_pairs,
                                      seed=seed + step)
            torch.random.set_rng_state(state)
            out.append({"loss_level": levels[len(out)], "step": step, "train_loss": tl, "g2": ns.g2,
                        "trace": ns.trace, "b_simple": ns.b_simple})

    steps_to_target(data, batch_size=batch_size, lr=lr, seed=seed, target_loss=levels[-1],
                    max_steps=max_steps, on_check=measure, threads=threads)
    return out


# ----------------------------------------------------------------------------- LARS
def _weight_layers(model):
    import torch

    return [(name, m) for name, m in model.named_modules() if isinstance(m, torch.nn.Linear)]


def trust_ratios(model):
    """‖w_l‖/‖∇w_l‖ of each linear layer's weight matrix (gradients must be populated, e.g. after
    ``loss.backward()``); a dict ``{layer name: ratio}`` (notebook 04, section 4)."""
    out = {}
    for name, m in _weight_layers(model):
        if m.weight.grad is None:
            raise ValueError("model has no gradients: call loss.backward() before trust_ratios(model)")
        gn = float(m.weight.grad.norm())
        out[name] = float(m.weight.detach().norm()) / gn if gn > 0 else float("inf")
    return out


def _lars_update(w, lr, trust, eps=1e-12):
    """w ← w − η·τ·(‖w‖/‖∇w‖)·∇w for a weight matrix, b ← b − η·τ·∇b for a bias (in place)."""
    g = w.grad
    if w.ndim >= 2:
        w.add_(g, alpha=-lr * trust * float(w.norm()) / (float(g.norm()) + eps))
    else:
        w.add_(g, alpha=-lr * trust)


@validate_params(lr=LR, trust=TRUST, eps=EPS)
def lars_step(model, lr, *, trust=0.02, eps=1e-12):
    """One LARS update (You et al. 2017, no momentum or weight decay): for each layer's weight,
    w ← w − η·τ·(‖w‖/‖∇w‖)·∇w; biases take the plain step b ← b − η·τ·∇b. Returns the trust
    ratios ‖w‖/‖∇w‖ used (notebook 04, section 4)."""
    import torch

    ratios = trust_ratios(model)
    with torch.no_grad():
        for _, m in _weight_layers(model):
            _lars_update(m.weight, lr, trust, eps)
            if m.bias is not None and m.bias.grad is not None:
                _lars_update(m.bias, lr, trust, eps)
    return ratios


@validate_params(lr=LR, trust=TRUST, eps=EPS)
def lars_optimizer(parameters, lr, *, trust=0.02, eps=1e-12):
    """:func:`lars_step` as a ``torch.optim.Optimizer`` over ``parameters`` (matrices take the
    trust-ratio step, vectors the plain step η·τ·∇), for ``train_classifier(make_optimizer=...)``."""
    import torch

    class LARS(torch.optim.Optimizer):
        @torch.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        _lars_update(p, group["lr"], group["trust"], group["eps"])

    return LARS(parameters, {"lr": lr, "trust": trust, "eps": eps})


@validate_params(max_steps=COUNT, optimizer=Options(("lars", "sgd")), trust=TRUST,
                 record_every=Interval("int", 1, None, allow_none=True))
def train_lars(data, *, batch_size, lr, seed, max_steps, trust=0.02, warmup_steps=0, optimizer="lars",
               record_every=None, threads=THREADS):
    """Train the course MLP for ``max_steps`` updates with LARS (:func:`lars_optimizer`) or plain SGD
    (``optimizer="sgd"``, w ← w − η·∇w): a :func:`lecture_utils.train.train_classifier` run, same
    batches and warm-up.

    Returns a dict: ``train_acc``, ``test_acc``, ``train_loss``, ``test_loss``, ``status``
    (train_classifier's word, :data:`lecture_utils.train.STATUSES`: ``max_steps`` — all ``max_steps``
    updates made — or ``diverged``), ``steps``, ``seconds`` and ``ratios``
    — the trust ratio of every layer every ``record_every`` steps (``step`` and one list per layer name).
    """
    per_epoch = updates_per_epoch(len(as_tensors(data)[1]), batch_size)
    record_every = record_every or max(1, max_steps // 20)
    ratios = {"step": []}

    def record(step, model):
        if step % record_every == 0:
            ratios["step"].append(step)
            for name, r in trust_ratios(model).items():
                ratios.setdefault(name, []).append(r)

    make = None
    if optimizer == "lars":
        def make(params, lr_, momentum):
            return lars_optimizer(params, lr_, trust=trust)
    r = train_classifier(data, batch_size=batch_size, lr=lr, seed=seed, max_steps=max_steps,
                         warmup_steps=warmup_steps, max_epochs=_epochs_covering(max_steps, per_epoch),
                         make_optimizer=make, on_backward=record, threads=threads)
    # the epoch budget covers max_steps: the run ends max_steps (every update made) or diverged (a
    # NaN/inf loss, also at the final evaluation)
    return {"train_acc": r.train_acc, "test_acc": r.test_acc, "train_loss": r.train_loss,
            "test_loss": r.test_loss, "status": r.status, "steps": r.steps, "seconds": r.seconds,
            "ratios": ratios}
