"""Training the course's MLP on MNIST-1D with mini-batch SGD over in-memory tensors.

The model is the small multi-layer perceptron 40-256-256-10 with ReLU. One SGD update on a
batch 𝓑 with the lecture's momentum (λ = β, movement m):

    g = ∇ L_𝓑(θ),   m ← β·m − η·g,   θ ← θ + m        (β = 0: plain mini-batch SGD)

implemented by ``torch.optim.SGD(lr=η, momentum=β)`` whose buffer is ``buf = −m/η``
(see :mod:`lecture_utils.optim` for the mapping). Batches come from
:func:`lecture_utils.data.epoch_batches`, a fresh permutation every epoch.

One loop, :func:`train_classifier`, in small parts: :class:`EvalSchedule` says when the full
training and test sets are evaluated, :class:`StopRules` when the run stops and with which word of
:data:`STATUSES` (the one status vocabulary of the package), :data:`TRAIN_CONSTRAINTS` the valid
range of each scalar argument.

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

from ._validate import (
    BETA,
    COUNT,
    LR,
    NONNEGATIVE_INT,
    Interval,
    check_batch_size,
    check_int,
    validate_params,
)
from .data import N_TRAIN, Dataset, epoch_batches, updates_per_epoch
from .seeding import THREADS, set_threads

#: The words :func:`train_classifier` puts in ``TrainResult.status``, and what each means.
#: Every module that reports how a training run ended uses these words.
STATUSES = {
    "completed": "the epoch budget was used up: ``epochs`` epochs, or ``max_epochs`` of a run without "
                 "a target accuracy (a ``max_steps`` or ``target_train_loss`` run that ran out of epochs "
                 "first)",
    "target_reached": "the training accuracy reached ``target_train_acc``, or the training loss fell to "
                      "``target_train_loss``",
    "max_epochs": "``max_epochs`` epochs passed without reaching ``target_train_acc``",
    "max_steps": "``max_steps`` updates were made (the run may end mid-epoch)",
    "diverged": "the loss became NaN/inf (or exceeded ``max_train_loss``): the run stopped at once",
    "no_progress": "the best training accuracy did not rise by ``min_delta`` for ``patience`` epochs",
}
#: The statuses of runs that failed (:attr:`TrainResult.ok` is False).
FAILED = ("diverged", "no_progress")


@validate_params(seed=Interval("int", 0, 2**63 - 1), n_in=COUNT, hidden=COUNT, n_out=COUNT,
                 depth=NONNEGATIVE_INT)
def make_mlp(seed=0, *, n_in=40, hidden=256, n_out=10, depth=2):
    """The course's MLP: ``n_in → hidden → … → n_out`` with ReLU, initial weights fixed by ``seed``.

    The weights depend on ``seed`` alone (not on the batch size or anything else), so runs that
    differ only in batch size start from the same point.
    """
    import torch
    from torch import nn

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
        raise ValueError("data must be a lecture_utils.data.Dataset (e.g. load_mnist1d()); "
                         f"got {type(data).__name__}")
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
        return self.status not in FAILED

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
                f"train_acc={self.train_acc:.4g}, test_acc={self.test_acc:.4g}, "
                f"train_loss={self.train_loss:.4g}, "
                f"test_loss={self.test_loss:.4g}, seconds={self.seconds:.2f}, params={self.params!r})"
                + (f"\n  {self.message}" if self.status == "diverged" else ""))

    def summary(self):
        """The scalar results as a plain dict (JSON-friendly), for caches and tables."""
        keys = ("train_acc", "test_acc", "train_loss", "test_loss", "steps", "epochs", "seconds", "status")
        return {k: getattr(self, k) for k in keys}


@validate_params(step=NONNEGATIVE_INT, lr=LR, warmup_steps=NONNEGATIVE_INT)
def lr_at_step(step, lr, warmup_steps):
    """η at update ``step`` (0-based) with a linear warm-up: η·(step+1)/W for step < W, then η."""
    return _warmup_lr(step, lr, warmup_steps)


@validate_params(warmup_epochs=NONNEGATIVE_INT)
def warmup_steps(warmup_epochs, batch_size, n_examples=N_TRAIN):
    """W = warmup_epochs·⌈N/B⌉: the updates of the first ``warmup_epochs`` epochs (Goyal et al. 2017:
    5 epochs), the W of :func:`lr_at_step`; ``batch_size`` and ``n_examples`` are checked by
    :func:`lecture_utils.data.updates_per_epoch`. Notebook 04 (warm-up; sweeps ``have_both`` and
    ``warmup``, :mod:`lecture_utils.tuning`)."""
    return warmup_epochs * updates_per_epoch(n_examples, batch_size)


def _warmup_lr(step, lr, warmup_steps):
    """:func:`lr_at_step` without the checks (called once per update by the training loop)."""
    if warmup_steps and step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    return lr


# ----------------------------------------------------------------------------- when to evaluate
@dataclass(frozen=True)
class EvalSchedule:
    """When :func:`train_classifier` evaluates the full training and test sets (one history entry each).

    Per epoch (the default): after every ``every_epochs``-th epoch. Per update: every
    ``every_steps`` updates, or at the update counts ``at_steps``; then the only epoch-end
    evaluation is the last epoch's. A run cut by ``max_steps`` is evaluated where it stops.
    """

    every_epochs: int = 1
    every_steps: int | None = None
    at_steps: frozenset | None = None

    @classmethod
    def from_args(cls, eval_every, eval_every_steps, eval_at_steps):
        """The schedule that :func:`train_classifier`'s three arguments ask for (checks ``eval_at_steps``)."""
        if eval_at_steps is not None:
            if eval_every_steps is not None:
                raise ValueError("give either eval_every_steps or eval_at_steps, not both")
            try:
                ks = list(eval_at_steps)
            except TypeError:
                raise ValueError("eval_at_steps must be a collection of update counts >= 1, "
                                 f"got {eval_at_steps!r}") from None
            eval_at_steps = frozenset(check_int("eval_at_steps[i]", k, low=1) for k in ks)
            if not eval_at_steps:
                raise ValueError("eval_at_steps must hold at least one step >= 1")
        return cls(eval_every, eval_every_steps, eval_at_steps)

    @property
    def per_step(self):
        return self.every_steps is not None or self.at_steps is not None

    def after_update(self, step):
        """Evaluate after ``step`` updates?"""
        if self.at_steps is not None:
            return step in self.at_steps
        return self.every_steps is not None and step % self.every_steps == 0

    def after_epoch(self, ep, last_epoch):
        """Evaluate at the end of epoch ``ep`` (1-based) of ``last_epoch``?"""
        return (not self.per_step and ep % self.every_epochs == 0) or ep == last_epoch


# ----------------------------------------------------------------------------- when to stop
@dataclass
class StopRules:
    """When :func:`train_classifier` stops, and with which word of :data:`STATUSES`.

    Checked after every update (``max_steps``), at every per-update evaluation (a training loss
    NaN/inf or above ``max_train_loss`` → ``diverged``; ≤ ``target_train_loss`` → ``target_reached``)
    and at every epoch-end evaluation (NaN loss; ``target_train_acc`` reached; the best training
    accuracy not risen by ``min_delta`` for ``patience`` epochs → ``no_progress``).
    """

    max_steps: int | None = None
    target_train_acc: float | None = None
    target_train_loss: float | None = None
    max_train_loss: float | None = None
    patience: int = 30
    min_delta: float = 0.005
    best_acc: float = -1.0
    best_epoch: int = 0

    def check_budget(self, epochs, step_eval):
        """A run needs a budget or a target, and a loss target needs per-update evaluations."""
        if self.target_train_loss is not None and not step_eval:
            raise ValueError("target_train_loss needs eval_every_steps or eval_at_steps "
                             "(when the training loss is checked)")
        if epochs is not None and self.target_train_acc is not None:
            raise ValueError("give either epochs (a fixed budget) or target_train_acc (a stopping target), "
                             "not both")
        if epochs is None and self.target_train_acc is None and self.max_steps is None \
                and self.target_train_loss is None:
            raise ValueError("give a budget: epochs, target_train_acc or max_steps")

    def out_of_steps(self, step):
        return self.max_steps is not None and step >= self.max_steps

    def loss_diverged(self, train_loss):
        return not math.isfinite(train_loss) or (self.max_train_loss is not None
                                                 and train_loss > self.max_train_loss)

    def loss_target_reached(self, train_loss):
        return self.target_train_loss is not None and train_loss <= self.target_train_loss

    def after_epoch_eval(self, ep, train_loss, train_acc, status):
        """The status after the evaluation at the end of epoch ``ep`` (None: train on)."""
        if not math.isfinite(train_loss):
            return "diverged"
        if status == "max_steps" or self.target_train_acc is None:
            return status
        if train_acc >= self.target_train_acc:
            return "target_reached"
        if train_acc > self.best_acc + self.min_delta:
            self.best_acc, self.best_epoch = train_acc, ep
        elif ep - self.best_epoch >= self.patience:
            return "no_progress"
        return None

    def out_of_epochs(self):
        """The status of a run that used its whole epoch budget."""
        return "completed" if self.target_train_acc is None else "max_epochs"


# ----------------------------------------------------------------------------- the loop
class _TrainingRun:
    """One run's state: model, optimizer, tensors, update count and the evaluation history."""

    def __init__(self, model, opt, tensors, *, batch_size, seed, lr, warmup_steps, on_backward, record_steps):
        self.model, self.opt = model, opt
        self.x, self.y, self.xt, self.yt = tensors
        self.n, self.batch_size, self.seed = len(self.y), batch_size, seed
        self.per_epoch = updates_per_epoch(self.n, batch_size)
        self.lr, self.warmup_steps, self.on_backward = lr, warmup_steps, on_backward
        self.step = 0
        self.step_losses = [] if record_steps else None
        self.hist = {k: [] for k in ("epoch", "step", "train_loss", "train_acc", "test_loss", "test_acc")}

    def evaluate(self, ep, step):
        """Training and test loss/accuracy into the history (once per update count); (train loss, acc)."""
        hist = self.hist
        if hist["step"] and hist["step"][-1] == step:  # already evaluated at this step
            return hist["train_loss"][-1], hist["train_acc"][-1]
        tl, ta = evaluate(self.model, self.x, self.y)
        vl, va = evaluate(self.model, self.xt, self.yt)
        for k, v in zip(hist, (ep, step, tl, ta, vl, va)):
            hist[k].append(v)
        return tl, ta

    def epochs_done(self, ep):
        """Epochs done after ``self.step`` updates, ``self.step`` falling in epoch ``ep`` (1-based)."""
        return ep - 1 + (self.step - (ep - 1) * self.per_epoch) / self.per_epoch

    def train_epoch(self, ep, schedule, stop, on_eval):
        """The updates of epoch ``ep``; a status word if the run stops inside it, else None.

        The epoch's batches are consecutive pieces of one permutation (``epoch_batches``): the permuted
        data is gathered once and sliced (views, no copy) — the same batches, in the same order, with
        the same bits as indexing every batch, at a fraction of the per-update cost.
        """
        import torch
        import torch.nn.functional as F

        model, opt, b, n = self.model, self.opt, self.batch_size, self.n
        order = torch.from_numpy(np.concatenate(epoch_batches(n, b, seed=self.seed, epoch=ep - 1)))
        xe, ye = self.x[order], self.y[order]
        # locals for the per-update path (the loop's cost is measured against a bare loop in `make bench`)
        step, warmup, on_backward = self.step, self.warmup_steps, self.on_backward
        step_losses, eval_due, out_of_steps = self.step_losses, schedule.after_update, stop.out_of_steps
        for start in range(0, n, b):
            if warmup:
                lr_now = _warmup_lr(step, self.lr, warmup)
                for group in opt.param_groups:
                    group["lr"] = lr_now
            loss = F.cross_entropy(model(xe[start:start + b]), ye[start:start + b])
            loss_value = loss.item()
            if not math.isfinite(loss_value):
                return "diverged"
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if on_backward is not None:
                on_backward(step, model)
            opt.step()
            step = self.step = step + 1
            if step_losses is not None:
                step_losses.append(loss_value)
            if eval_due(step):
                status = self._check_after_update(ep, stop, on_eval)
                if status is not None:
                    return status
            if out_of_steps(step):
                return "max_steps"
        return None

    def _check_after_update(self, ep, stop, on_eval):
        tl, _ = self.evaluate(self.epochs_done(ep), self.step)
        if stop.loss_diverged(tl):
            return "diverged"
        if on_eval is not None:
            on_eval(self.step, self.model, tl)
        return "target_reached" if stop.loss_target_reached(tl) else None

    def train(self, epoch_budget, schedule, stop, on_eval, bar):
        """Epochs until a stop rule fires or the budget is used; returns (status, last epoch)."""
        self.evaluate(0, 0)
        self.model.train()
        status, ep = None, 0
        for ep in range(1, epoch_budget + 1):
            status = self.train_epoch(ep, schedule, stop, on_eval)
            if bar is not None:
                bar.update(1)
            if status in ("diverged", "target_reached"):
                break
            if status == "max_steps" or schedule.after_epoch(ep, epoch_budget):
                tl, ta = self.evaluate(ep if status is None else self.epochs_done(ep), self.step)
                _show_progress(bar, ta, stop.target_train_acc)
                status = stop.after_epoch_eval(ep, tl, ta, status)
                if status is not None:
                    break
        return status or stop.out_of_epochs(), ep

    def result(self, status, ep, seconds, params):
        """The :class:`TrainResult`; a diverged run's history ends in a row of NaN losses and accuracies."""
        hist = self.hist
        if status == "diverged":
            hist["epoch"].append(ep)
            hist["step"].append(self.step)
            for k in ("train_loss", "test_loss", "train_acc", "test_acc"):
                hist[k].append(float("nan"))
        if self.step_losses is not None:
            hist["step_loss"] = self.step_losses
        self.model.eval()
        last = {k: hist[k][-1] for k in ("train_acc", "test_acc", "train_loss", "test_loss")}
        return TrainResult(model=self.model, **last, steps=self.step, epochs=hist["epoch"][-1],
                           seconds=seconds, status=status, params=params, history=hist)


def _progress_bar(progress, epoch_budget, batch_size, lr):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=epoch_budget, desc=f"B={batch_size}, η={lr:g}", leave=False)


def _show_progress(bar, train_acc, target):
    """A target run may stop long before the bar's end: show how close it is."""
    if bar is not None:
        bar.set_postfix_str(f"train acc {train_acc:.2f}"
                            + (f" (target {target:g})" if target is not None else ""))


#: The scalar arguments of :func:`train_classifier` and their valid ranges (declared once).
TRAIN_CONSTRAINTS = dict(
    lr=LR, seed=Interval("int", 0, 2**32 - 1), momentum=BETA,
    epochs=Interval("int", 1, None, allow_none=True),
    target_train_acc=Interval("real", 0.0, 1.0, closed="right", allow_none=True), max_epochs=COUNT,
    max_steps=Interval("int", 1, None, allow_none=True), warmup_steps=NONNEGATIVE_INT, patience=COUNT,
    min_delta=Interval("real", 0.0, None), eval_every=COUNT,
    target_train_loss=Interval("real", 0.0, None, allow_none=True),
    eval_every_steps=Interval("int", 1, None, allow_none=True),
    max_train_loss=Interval("real", 0.0, None, closed="neither", allow_none=True))


@validate_params(**TRAIN_CONSTRAINTS)
def train_classifier(data, *, batch_size, lr, seed, momentum=0.0, epochs=None, target_train_acc=None,
                     max_epochs=300, max_steps=None, warmup_steps=0, patience=30, min_delta=0.005,
                     eval_every=1, hidden=256, depth=2, init_state=None, threads=THREADS,
                     progress=False, record_steps=False, target_train_loss=None, eval_every_steps=None,
                     max_train_loss=None, make_optimizer=None, on_backward=None, eval_at_steps=None,
                     on_eval=None):
    """Train the MLP with mini-batch SGD (β: m ← β·m − η·g, θ ← θ + m); stop on a budget, a target,
    divergence or no progress. ``data``: a Dataset (:func:`lecture_utils.data.load_mnist1d`); B in
    [1, N] (a shorter last batch when B does not divide N); ``seed`` fixes the initial weights
    (:func:`make_mlp`) and the batches (``epoch_batches(seed, epoch)``); W = ``warmup_steps`` > 0
    ramps η linearly from η/W to η (:func:`lr_at_step`). Ranges: :data:`TRAIN_CONSTRAINTS`.

    Budget (:class:`StopRules`): ``epochs`` (fixed) or ``target_train_acc`` (checked at each
    evaluation, within ``max_epochs``; ``no_progress`` once the best training accuracy has not
    risen by ``min_delta`` for ``patience`` epochs), and/or ``max_steps`` updates (may end mid-epoch);
    ``target_train_loss`` stops once the full training loss is ≤ it (steps-to-target experiments),
    ``max_train_loss`` counts a training loss above it as diverged (both at per-update evaluations).

    Evaluations (:class:`EvalSchedule`, one ``history`` entry each): every ``eval_every`` epochs, or
    every ``eval_every_steps`` updates, or at the update counts ``eval_at_steps``.
    Callbacks: ``on_eval(step, model, train_loss)`` after each per-update evaluation (finite loss);
    ``on_backward(step, model)`` after each backward pass, before the update;
    ``make_optimizer(parameters, lr, momentum)`` replaces ``torch.optim.SGD`` (e.g. LARS).

    Returns a :class:`TrainResult` whose ``status`` is a word of :data:`STATUSES`.
    """
    tensors = as_tensors(data)
    batch_size = check_batch_size(batch_size, len(tensors[1]))
    schedule = EvalSchedule.from_args(eval_every, eval_every_steps, eval_at_steps)
    stop = StopRules(max_steps, target_train_acc, target_train_loss, max_train_loss, patience, min_delta)
    stop.check_budget(epochs, schedule.per_step)
    epoch_budget = epochs if epochs is not None else max_epochs
    set_threads(threads)
    x, y, _, yt = tensors
    model = make_mlp(seed, n_in=x.shape[1], hidden=hidden, n_out=int(max(y.max(), yt.max())) + 1, depth=depth)
    if init_state is not None:
        model.load_state_dict(init_state)
    opt = (make_optimizer or _sgd)(model.parameters(), lr, momentum)
    params = dict(batch_size=batch_size, lr=lr, seed=seed, momentum=momentum, epochs=epochs,
                  target_train_acc=target_train_acc, max_epochs=max_epochs, max_steps=max_steps,
                  warmup_steps=warmup_steps, hidden=hidden, depth=depth, n_train=len(y))
    run = _TrainingRun(model, opt, tensors, batch_size=batch_size, seed=seed, lr=lr,
                       warmup_steps=warmup_steps, on_backward=on_backward, record_steps=record_steps)
    bar = _progress_bar(progress, epoch_budget, batch_size, lr)
    t0 = time.perf_counter()
    status, ep = run.train(epoch_budget, schedule, stop, on_eval, bar)
    if bar is not None:
        bar.close()
    result = run.result(status, ep, time.perf_counter() - t0, params)
    if status == "diverged" and _called_from_outside(sys._getframe(2)):  # frame 1 is validate_params' wrapper
        # a learner's own call (a notebook cell): say so beside the nan accuracies it will print;
        # the package's sweeps and panels report divergence themselves (tables, plot messages)
        warnings.warn(result.message, RuntimeWarning, stacklevel=3)
    return result


def _called_from_outside(frame):
    return not str(frame.f_globals.get("__name__", "")).startswith("lecture_utils")


def _sgd(parameters, lr, momentum):
    import torch

    return torch.optim.SGD(parameters, lr=lr, momentum=momentum)


def flat_params(model):
    """All parameters of ``model`` as one float64 numpy vector (for comparisons and interpolation)."""
    import torch

    with torch.no_grad():
        return torch.cat([p.detach().reshape(-1) for p in model.parameters()]).double().numpy()
