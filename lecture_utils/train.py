"""Training the course's MLP on MNIST-1D with mini-batch SGD over in-memory tensors.

The model is the small multi-layer perceptron 40-256-256-10 with ReLU. One SGD update on a
batch 𝓑 with the lecture's momentum (λ = β, movement m):

    g = ∇ L_𝓑(θ),   m ← β·m − η·g,   θ ← θ + m        (β = 0: plain mini-batch SGD)

implemented by ``torch.optim.SGD(lr=η, momentum=β)`` whose buffer is ``buf = −m/η``
(see :mod:`lecture_utils.optim` for the mapping). Batches come from
:func:`lecture_utils.data.epoch_batches`, a fresh permutation every epoch.

Used by notebooks 01 (accuracy vs batch size), 02 (real training), 03 (the generalization gap),
04 (having both) and 05 (momentum on real data).
"""
from __future__ import annotations

import math
import sys
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from ._validate import check_batch_size, check_beta, check_int, check_lr, check_real
from .data import Dataset, epoch_batches, updates_per_epoch
from .seeding import THREADS, set_threads

STATUSES = ("completed", "target_reached", "max_epochs", "max_steps", "diverged", "no_progress")


def make_mlp(seed=0, *, n_in=40, hidden=256, n_out=10, depth=2):
    """The course's MLP: ``n_in → hidden → … → n_out`` with ReLU, initial weights fixed by ``seed``.

    The weights depend on ``seed`` alone (not on the batch size or anything else), so runs that
    differ only in batch size start from the same point.
    """
    import torch
    from torch import nn

    seed = check_int("seed", seed, low=0, high=2**63 - 1)
    n_in = check_int("n_in", n_in, low=1)
    hidden = check_int("hidden", hidden, low=1)
    n_out = check_int("n_out", n_out, low=1)
    depth = check_int("depth", depth, low=0)
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        widths = [n_in] + [hidden] * depth + [n_out]
        layers = []
        for i in range(len(widths) - 1):
            layers.append(nn.Linear(widths[i], widths[i + 1]))
            if i < len(widths) - 2:
                layers.append(nn.ReLU())
        model = nn.Sequential(*layers)
    finally:
        torch.random.set_rng_state(gen_state)
    return model


def as_tensors(data):
    """``(x_train, y_train, x_test, y_test)`` as torch tensors (shared memory with the numpy arrays)."""
    import torch

    if not isinstance(data, Dataset):
        raise ValueError(f"data must be a lecture_utils.data.Dataset (e.g. load_mnist1d()); got {type(data).__name__}")
    return (torch.from_numpy(np.ascontiguousarray(data.x_train, dtype=np.float32)),
            torch.from_numpy(np.ascontiguousarray(data.y_train, dtype=np.int64)),
            torch.from_numpy(np.ascontiguousarray(data.x_test, dtype=np.float32)),
            torch.from_numpy(np.ascontiguousarray(data.y_test, dtype=np.int64)))


def evaluate(model, x, y):
    """Mean cross-entropy loss and accuracy of ``model`` on ``(x, y)``, as Python floats."""
    import torch
    import torch.nn.functional as F

    with torch.no_grad():
        out = model(x)
        loss = F.cross_entropy(out, y).item()
        acc = (out.argmax(1) == y).float().mean().item()
    return loss, acc


@dataclass
class TrainResult:
    """What :func:`train_classifier` returns. ``history`` holds one entry per evaluation."""

    model: object
    train_acc: float
    test_acc: float
    train_loss: float
    test_loss: float
    steps: int
    epochs: float
    seconds: float
    status: str
    params: dict
    history: dict = field(default_factory=dict)

    @property
    def ok(self):
        return self.status not in ("diverged", "no_progress")

    @property
    def message(self):
        """One line for a learner: what happened, and for a diverged run why the accuracies are NaN."""
        p = self.params
        run = f"B={p.get('batch_size')}, η={p.get('lr', float('nan')):g}" + (
            f", β={p['momentum']:g}" if p.get("momentum") else "")
        if self.status == "diverged":
            return (f"DIVERGED after {self.steps} updates ({run}): the loss became NaN/inf, so the model "
                    f"is broken and its accuracies are nan — lower the learning rate η")
        if self.status == "no_progress":
            return (f"no progress ({run}): the training accuracy stopped rising after {self.epochs:g} epochs "
                    f"at {self.train_acc:.2f}")
        return (f"{self.status} ({run}): {self.steps} updates, {self.epochs:g} epochs, train accuracy "
                f"{self.train_acc:.3f}, test accuracy {self.test_acc:.3f}")

    def __str__(self):
        return self.message

    def __repr__(self):
        head = "DIVERGED — " if self.status == "diverged" else ""
        return (f"TrainResult({head}status={self.status!r}, steps={self.steps}, epochs={self.epochs:g}, "
                f"train_acc={self.train_acc:.4g}, test_acc={self.test_acc:.4g}, train_loss={self.train_loss:.4g}, "
                f"test_loss={self.test_loss:.4g}, seconds={self.seconds:.2f}, params={self.params!r})"
                + (f"\n  {self.message}" if self.status == "diverged" else ""))

    def summary(self):
        """The scalar results as a plain dict (JSON-friendly), for caches and tables."""
        keys = ("train_acc", "test_acc", "train_loss", "test_loss", "steps", "epochs", "seconds", "status")
        return {k: getattr(self, k) for k in keys}


def lr_at_step(step, lr, warmup_steps):
    """η at update ``step`` (0-based) with a linear warm-up: η·(step+1)/W for step < W, then η."""
    step = check_int("step", step, low=0)
    lr = check_lr(lr)
    warmup_steps = check_int("warmup_steps", warmup_steps, low=0)
    if warmup_steps and step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    return lr


def train_classifier(data, *, batch_size, lr, seed, momentum=0.0, epochs=None, target_train_acc=None,
                     max_epochs=300, max_steps=None, warmup_steps=0, patience=30, min_delta=0.005,
                     eval_every=1, hidden=256, depth=2, init_state=None, threads=THREADS,
                     progress=False, record_steps=False, target_train_loss=None, eval_every_steps=None,
                     max_train_loss=None, make_optimizer=None, on_backward=None, eval_at_steps=None,
                     on_eval=None):
    """Train the MLP with mini-batch SGD; stop on a budget, a target, divergence or no progress.

    Parameters
    ----------
    data : Dataset, e.g. :func:`lecture_utils.data.load_mnist1d`.
    batch_size : B in [1, N]; the last batch of an epoch is smaller when B does not divide N.
    lr : η > 0 (with ``warmup_steps`` W > 0, η rises linearly from η/W to η over W updates).
    seed : initial weights (:func:`make_mlp`) and the batch order (``epoch_batches(seed, epoch)``).
    momentum : β in [0, 1): m ← β·m − η·g, θ ← θ + m.
    epochs : a fixed budget of epochs (mutually exclusive with ``target_train_acc``).
    target_train_acc : stop as soon as the training accuracy (checked after every ``eval_every``
        epochs) reaches it, within ``max_epochs``.
    max_steps : stop after this many updates (may end mid-epoch).
    patience, min_delta : with a target, stop with status ``"no_progress"`` when the best training
        accuracy has not risen by ``min_delta`` for ``patience`` epochs.

    target_train_loss, eval_every_steps : stop with ``target_reached`` once the full training loss,
        evaluated every ``eval_every_steps`` updates, is ≤ the target (steps-to-target experiments).
    eval_at_steps : instead of ``eval_every_steps``, the update counts at which to evaluate (e.g.
        ~4 % apart, :func:`lecture_utils.scaling.steps_to_target`).
    on_eval : ``f(step, model, train_loss)`` called after each of these evaluations (finite loss).
    max_train_loss : with ``eval_every_steps``, a training loss above it counts as diverged.
    make_optimizer : ``f(parameters, lr, momentum) -> torch.optim.Optimizer`` (default
        ``torch.optim.SGD``), e.g. LARS in :mod:`lecture_utils.scaling`.
    on_backward : ``f(step, model)`` called after each backward pass, before the update (gradients set).

    ``status`` is one of ``completed`` (budget used), ``target_reached``, ``max_epochs``,
    ``max_steps``, ``diverged`` (loss NaN/inf; the run stops at once) or ``no_progress``.
    """
    import torch
    import torch.nn.functional as F

    x, y, xt, yt = as_tensors(data)
    n = len(y)
    batch_size = check_batch_size(batch_size, n)
    lr = check_lr(lr)
    seed = check_int("seed", seed, low=0, high=2**32 - 1)
    momentum = check_beta(momentum, "momentum")
    epochs = check_int("epochs", epochs, low=1, allow_none=True)
    target_train_acc = check_real("target_train_acc", target_train_acc, low=0.0, high=1.0,
                                  low_open=True, allow_none=True)
    max_epochs = check_int("max_epochs", max_epochs, low=1)
    max_steps = check_int("max_steps", max_steps, low=1, allow_none=True)
    warmup_steps = check_int("warmup_steps", warmup_steps, low=0)
    patience = check_int("patience", patience, low=1)
    eval_every = check_int("eval_every", eval_every, low=1)
    target_train_loss = check_real("target_train_loss", target_train_loss, low=0.0, allow_none=True)
    eval_every_steps = check_int("eval_every_steps", eval_every_steps, low=1, allow_none=True)
    if eval_at_steps is not None:
        if eval_every_steps is not None:
            raise ValueError("give either eval_every_steps or eval_at_steps, not both")
        try:
            ks = list(eval_at_steps)
        except TypeError:
            raise ValueError(f"eval_at_steps must be a collection of update counts >= 1, got {eval_at_steps!r}") from None
        eval_at_steps = frozenset(check_int("eval_at_steps[i]", k, low=1) for k in ks)
        if not eval_at_steps:
            raise ValueError("eval_at_steps must hold at least one step >= 1")
    step_eval = eval_every_steps is not None or eval_at_steps is not None
    max_train_loss = check_real("max_train_loss", max_train_loss, low=0.0, low_open=True, allow_none=True)
    if target_train_loss is not None and not step_eval:
        raise ValueError("target_train_loss needs eval_every_steps or eval_at_steps (when the training loss is checked)")
    if epochs is not None and target_train_acc is not None:
        raise ValueError("give either epochs (a fixed budget) or target_train_acc (a stopping target), not both")
    if epochs is None and target_train_acc is None and max_steps is None and target_train_loss is None:
        raise ValueError("give a budget: epochs, target_train_acc or max_steps")
    epoch_budget = epochs if epochs is not None else max_epochs

    set_threads(threads)
    model = make_mlp(seed, n_in=x.shape[1], hidden=hidden, n_out=int(max(y.max(), yt.max())) + 1, depth=depth)
    if init_state is not None:
        model.load_state_dict(init_state)
    opt = (make_optimizer or _sgd)(model.parameters(), lr, momentum)
    params = dict(batch_size=batch_size, lr=lr, seed=seed, momentum=momentum, epochs=epochs,
                  target_train_acc=target_train_acc, max_epochs=max_epochs, max_steps=max_steps,
                  warmup_steps=warmup_steps, hidden=hidden, depth=depth, n_train=n)
    hist = {k: [] for k in ("epoch", "step", "train_loss", "train_acc", "test_loss", "test_acc")}
    step_losses = []

    def record(ep, step):
        if hist["step"] and hist["step"][-1] == step:  # already evaluated at this step
            return hist["train_loss"][-1], hist["train_acc"][-1]
        tl, ta = evaluate(model, x, y)
        vl, va = evaluate(model, xt, yt)
        for k, v in zip(hist, (ep, step, tl, ta, vl, va)):
            hist[k].append(v)
        return tl, ta

    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=epoch_budget, desc=f"B={batch_size}, η={lr:g}", leave=False)

    t0 = time.perf_counter()
    record(0, 0)
    step, status, best_acc, best_epoch, ep = 0, None, -1.0, 0, 0
    model.train()
    for ep in range(1, epoch_budget + 1):
        # The epoch's batches are consecutive pieces of one permutation (epoch_batches): gather the
        # permuted data once per epoch and slice it (views, no copy) — the same batches, in the same
        # order, with the same bits as indexing every batch, at a fraction of the per-update cost.
        order = torch.from_numpy(np.concatenate(epoch_batches(n, batch_size, seed=seed, epoch=ep - 1)))
        xe, ye = x[order], y[order]
        for start in range(0, n, batch_size):
            if warmup_steps:
                for group in opt.param_groups:
                    group["lr"] = lr_at_step(step, lr, warmup_steps)
            loss = F.cross_entropy(model(xe[start:start + batch_size]), ye[start:start + batch_size])
            loss_value = loss.item()
            if not math.isfinite(loss_value):
                status = "diverged"
                break
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if on_backward is not None:
                on_backward(step, model)
            opt.step()
            step += 1
            if record_steps:
                step_losses.append(loss_value)
            if (step in eval_at_steps) if eval_at_steps is not None else (
                    eval_every_steps is not None and step % eval_every_steps == 0):
                tl, _ = record(ep - 1 + _frac(step, n, batch_size, ep), step)
                if not math.isfinite(tl) or (max_train_loss is not None and tl > max_train_loss):
                    status = "diverged"
                    break
                if on_eval is not None:
                    on_eval(step, model, tl)
                if target_train_loss is not None and tl <= target_train_loss:
                    status = "target_reached"
                    break
            if max_steps is not None and step >= max_steps:
                status = "max_steps"
                break
        if bar is not None:
            bar.update(1)
        if status in ("diverged", "target_reached"):
            break
        if status == "max_steps" or (not step_eval and ep % eval_every == 0) or ep == epoch_budget:
            tl, ta = record(ep if status is None else ep - 1 + _frac(step, n, batch_size, ep), step)
            if bar is not None:  # a target run may stop long before the bar's end: show how close it is
                bar.set_postfix_str(f"train acc {ta:.2f}" + (f" (target {target_train_acc:g})"
                                                             if target_train_acc is not None else ""))
            if not math.isfinite(tl):
                status = "diverged"
                break
            if status == "max_steps":
                break
            if target_train_acc is not None:
                if ta >= target_train_acc:
                    status = "target_reached"
                    break
                if ta > best_acc + min_delta:
                    best_acc, best_epoch = ta, ep
                elif ep - best_epoch >= patience:
                    status = "no_progress"
                    break
    if bar is not None:
        bar.close()
    seconds = time.perf_counter() - t0
    if status is None:
        status = "completed" if epochs is not None else ("max_epochs" if target_train_acc is not None else "completed")
    if status == "diverged":
        hist["epoch"].append(ep)
        hist["step"].append(step)
        for k in ("train_loss", "test_loss"):
            hist[k].append(float("nan"))
        for k in ("train_acc", "test_acc"):
            hist[k].append(float("nan"))
    if record_steps:
        hist["step_loss"] = step_losses
    model.eval()
    result = TrainResult(model=model, train_acc=hist["train_acc"][-1], test_acc=hist["test_acc"][-1],
                       train_loss=hist["train_loss"][-1], test_loss=hist["test_loss"][-1], steps=step,
                       epochs=hist["epoch"][-1], seconds=seconds, status=status, params=params, history=hist)
    if status == "diverged" and _called_from_outside(sys._getframe(1)):
        # a learner's own call (a notebook cell): say so beside the nan accuracies it will print;
        # the package's sweeps and panels report divergence themselves (tables, plot messages)
        warnings.warn(result.message, RuntimeWarning, stacklevel=2)
    return result


def _called_from_outside(frame):
    return not str(frame.f_globals.get("__name__", "")).startswith("lecture_utils")


def _sgd(parameters, lr, momentum):
    import torch

    return torch.optim.SGD(parameters, lr=lr, momentum=momentum)


def _frac(step, n, batch_size, ep):
    """Fraction of epoch ``ep`` done after ``step`` updates (for runs cut by ``max_steps``)."""
    per_epoch = updates_per_epoch(n, batch_size)
    done = step - (ep - 1) * per_epoch
    return done / per_epoch


def flat_params(model):
    """All parameters of ``model`` as one float64 numpy vector (for comparisons and interpolation)."""
    import torch

    with torch.no_grad():
        return torch.cat([p.detach().reshape(-1) for p in model.parameters()]).double().numpy()
