"""Update rules in the lecture's notation, exact, in numpy (notebooks 01, 02 and 05).

The lecture's momentum (λ is called β in this course; m is the *movement*):

    m⁰ = 0,   mᵗ = β·mᵗ⁻¹ − η·gᵗ⁻¹,   θᵗ = θᵗ⁻¹ + mᵗ,   gᵗ⁻¹ = ∇L(θᵗ⁻¹)

β = 0 is plain gradient descent θᵗ = θᵗ⁻¹ − η·∇L(θᵗ⁻¹). Unrolled, the movement is a weighted sum
of all past gradients: mᵗ = −η Σ_{i<t} β^(t−1−i) gⁱ.
"""
from __future__ import annotations

import numpy as np

from ._validate import check_array, check_batch_size, check_beta, check_int, check_lr
from .data import epoch_batches

#: A path is cut (NaN from there on) once |θ| exceeds this: it has diverged.
DIVERGENCE_LIMIT = 1e6


def momentum_path(grad_fn, theta0, *, lr, beta, steps):
    """θ⁰…θ^steps of the lecture's momentum rule, shape ``(steps + 1, d)``, θ⁰ first.

    ``grad_fn(θ)`` returns ∇L(θ) with the shape of θ. If θ leaves |θ| < 1e6 or becomes non-finite
    the rest of the path is NaN (the caller reports divergence; nothing raises).
    """
    theta = check_array("theta0", theta0, ndim=1).copy()
    lr = check_lr(lr)
    beta = check_beta(beta)
    steps = check_int("steps", steps, low=0)
    path = np.full((steps + 1, theta.size), np.nan)
    path[0] = theta
    m = np.zeros_like(theta)
    for t in range(1, steps + 1):
        g = np.asarray(grad_fn(theta), dtype=float)
        if g.shape != theta.shape:
            raise ValueError(f"grad_fn must return an array of shape {theta.shape} (the shape of theta0); got {g.shape}")
        m = beta * m - lr * g
        theta = theta + m
        if not np.all(np.isfinite(theta)) or np.max(np.abs(theta)) > DIVERGENCE_LIMIT:
            break
        path[t] = theta
    return path


def minibatch_path(problem, theta0, *, batch_size, lr, epochs, seed, beta=0.0, shuffle=True):
    """Mini-batch SGD (with optional momentum β) on a problem with ``grad(θ, idx)``; notebook 01/02.

    Each epoch draws :func:`lecture_utils.data.epoch_batches` and makes one update per batch:
    g = ∇L_𝓑(θ), m ← β·m − η·g, θ ← θ + m. Returns the path, shape ``(updates + 1, d)``; after a
    divergence (|θ| > 1e6 or NaN) the remaining rows are NaN.
    """
    theta = check_array("theta0", theta0, ndim=1).copy()
    n = problem.n
    batch_size = check_batch_size(batch_size, n)
    lr = check_lr(lr)
    beta = check_beta(beta)
    epochs = check_int("epochs", epochs, low=0)
    seed = check_int("seed", seed, low=0)
    per_epoch = -(-n // batch_size)
    path = np.full((epochs * per_epoch + 1, theta.size), np.nan)
    path[0] = theta
    m = np.zeros_like(theta)
    t = 0
    for e in range(epochs):
        for idx in epoch_batches(n, batch_size, seed=seed, epoch=e, shuffle=shuffle):
            m = beta * m - lr * problem.grad(theta, idx)
            theta = theta + m
            t += 1
            if not np.all(np.isfinite(theta)) or np.max(np.abs(theta)) > DIVERGENCE_LIMIT:
                return path
            path[t] = theta
    return path
