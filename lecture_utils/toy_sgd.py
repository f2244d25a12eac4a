"""Mini-batch SGD on the lecture's toy regression, as numbers (notebook 01, "batch vs full batch").

The toy set is :func:`lecture_utils.data.make_toy_regression` (N = 20 points, θ = (w, b), loss
L_𝓑(θ) = (1/|𝓑|)·Σ_{i∈𝓑} (w·xᵢ + b − yᵢ)²); the update is θ ← θ − η·∇L_𝓑(θ)
(:func:`lecture_utils.optim.minibatch_path`, a new shuffle every epoch). The panel
:func:`lecture_utils.panels.batches.toy_batch_panel` draws what :func:`toy_run` returns;
:func:`largest_stable_lr` is the answer of notebook 01's exercise 3.
"""
from __future__ import annotations

import numpy as np

from ._validate import Interval, check_batch_size, validate_params
from .data import make_toy_regression, updates_per_epoch
from .optim import minibatch_path

#: Start of every toy path: far from the minimum so that the paths are easy to tell apart.
TOY_THETA0 = (-2.0, 2.5)
#: η on the toy panel's slider (and the range :func:`largest_stable_lr` searches, in steps of 0.01).
TOY_LR = Interval("real", 0.01, 1.5)


def toy_run(problem, *, batch_size, lr, epochs, seed=0, theta0=TOY_THETA0):
    """Mini-batch SGD on the toy set and what the lecture says about it, as numbers.

    Returns the path and: ``diverged`` (NaN/overflow, or the loss ended above where it started), updates
    per epoch ⌈N/B⌉, total updates, final full loss L(θ_end), the minimum L(θ*), and the mean angle
    (degrees) between each update's direction −g_𝓑 and the full −∇L at the same point (0° for the full
    batch: no noise).
    """
    path = minibatch_path(problem, np.asarray(theta0, float), batch_size=batch_size, lr=lr,
                          epochs=epochs, seed=seed)
    diverged = bool(np.isnan(path).any())
    steps = np.diff(path, axis=0)
    full = -lr * problem.grad(path[:-1])
    ok = np.all(np.isfinite(steps), axis=1) & (np.linalg.norm(full, axis=1) > 1e-12)
    norms = np.linalg.norm(steps[ok], axis=1) * np.linalg.norm(full[ok], axis=1)
    cos = np.sum(steps[ok] * full[ok], axis=1) / norms
    angle = float(np.degrees(np.mean(np.arccos(np.clip(cos, -1, 1))))) if ok.any() else float("nan")
    finite = path[np.all(np.isfinite(path), axis=1)]
    final = float(problem.loss(finite[-1]))
    diverged = diverged or final > float(problem.loss(np.asarray(theta0, float)))  # the loss grew: diverging
    return {"path": path, "diverged": diverged, "updates_per_epoch": updates_per_epoch(problem.n, batch_size),
            "updates": len(path) - 1, "final_loss": final,
            "min_loss": float(problem.loss(problem.minimizer())), "mean_angle": angle}


@validate_params(n_examples=Interval("int", 2, 1000))
def largest_stable_lr(batch_size, *, n_examples=20, epochs=5, seed=0):
    """Largest η on the toy panel's slider range (:data:`TOY_LR`, 0.01 … 1.5 in steps of 0.01) whose path
    does not diverge (:func:`toy_run`), for one batch size (notebook 01, exercise 3)."""
    problem = make_toy_regression(n_examples)
    batch_size = check_batch_size(batch_size, problem.n)
    best = float("nan")
    for lr in np.round(np.arange(TOY_LR.low, TOY_LR.high + 1e-4, 0.01), 2):
        if toy_run(problem, batch_size=batch_size, lr=float(lr), epochs=epochs, seed=seed)["diverged"]:
            break
        best = float(lr)
    return best
