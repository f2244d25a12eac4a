"""Update rules in the lecture's notation, exact, in numpy (notebooks 01, 02 and 05).

The lecture's momentum (λ is called β in this course; m is the *movement*):

    m⁰ = 0,   mᵗ = β·mᵗ⁻¹ − η·gᵗ⁻¹,   θᵗ = θᵗ⁻¹ + mᵗ,   gᵗ⁻¹ = ∇L(θᵗ⁻¹)

β = 0 is plain gradient descent θᵗ = θᵗ⁻¹ − η·∇L(θᵗ⁻¹). Unrolled, the movement is a weighted sum
of all past gradients: mᵗ = −η Σ_{i<t} β^(t−1−i) gⁱ. This module is the rule's one home:
:func:`momentum_path` / :func:`momentum_trace` run it for one β, :func:`momentum_runs` for many β side
by side (the β scan of :mod:`lecture_utils.rolling`), :func:`minibatch_path` with mini-batch gradients.

One rule, four conventions (notebook 05, "One rule, four conventions"). With a constant step they
all give the same path θ⁰, θ¹, …; only the name and the scale of the stored vector differ:

=============  ==========================================  ===================  ==========
convention     update                                      movement m           same as
=============  ==========================================  ===================  ==========
``lecture``    m = β·m − η·g;   θ = θ + m                  m                    —
``pytorch``    v = β·v + g;     θ = θ − η·v                m = −η·v             η
               (``torch.optim.SGD(lr=η, momentum=β)``'s ``buf``; Distill's z with α = η)
``sutskever``  v = μ·v − ε·g;   θ = θ + v                  m = v                ε = η, μ = β
``ema``        v = β·v + (1−β)·g;  θ = θ − α·v             m = −α·v             α = η/(1−β)
=============  ==========================================  ===================  ==========

The equivalence holds while the step size is constant. With a schedule ηₜ the lecture/Sutskever
form keeps the old steps inside m (mᵗ = −Σ β^(t−1−i) ηᵢ gⁱ) whereas the PyTorch/EMA forms rescale
the whole stored sum with today's step (mᵗ = −ηₜ Σ β^(t−1−i) gⁱ): the paths part
(:func:`schedule_demo`).

Nesterov momentum (Nesterov 1983; Sutskever et al. 2013) is a different rule: the gradient is taken at
the look-ahead point θ + β·m, where the old movement alone would carry the ball,

    mᵗ = β·mᵗ⁻¹ − η·∇L(θᵗ⁻¹ + β·mᵗ⁻¹),   θᵗ = θᵗ⁻¹ + mᵗ          (``nesterov=True``).

``torch.optim.SGD(lr=η, momentum=β, nesterov=True)`` runs the same rule on the look-ahead point itself:
its parameter after step t is φᵗ = θᵗ + β·mᵗ and its buffer is −mᵗ/η (:func:`nesterov_lookahead`;
notebook 05, "Vector addition", the Nesterov toggle).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import (
    BETA,
    LR,
    NONNEGATIVE_INT,
    SEED,
    Options,
    check_array,
    check_batch_size,
    check_int,
    check_lr,
    validate_params,
)
from .data import epoch_batches, updates_per_epoch

#: A path is cut (NaN from there on) once |θ| exceeds this: it has diverged.
DIVERGENCE_LIMIT = 1e6

#: The four ways of writing the same momentum rule (notebook 05).
CONVENTIONS = {
    "lecture": "m = β·m − η·g;  θ = θ + m",
    "pytorch": "v = β·v + g;  θ = θ − η·v",
    "sutskever": "v = μ·v − ε·g;  θ = θ + v",
    "ema": "v = β·v + (1−β)·g;  θ = θ − α·v",
}


_LIMIT_SQUARED = DIVERGENCE_LIMIT * DIVERGENCE_LIMIT

#: The names of the four conventions, declared once for every function that takes one.
CONVENTION = Options(tuple(CONVENTIONS))


def _diverged(theta):
    """|θ| > 1e6 somewhere, or NaN/inf (NaN fails every comparison). A 1-D θ is tested by its
    squared length first (cheap): ‖θ‖² ≤ 1e12 implies every |θᵢ| ≤ 1e6; otherwise (or NaN, inf,
    overflow) the exact per-component test decides, so the verdict is the same."""
    if theta.ndim == 1 and theta @ theta <= _LIMIT_SQUARED:
        return False
    return not (np.abs(theta).max() <= DIVERGENCE_LIMIT)


def _grad(grad_fn, theta):
    g = np.asarray(grad_fn(theta), dtype=float)
    if g.shape != theta.shape:
        raise ValueError(f"grad_fn must return an array of shape {theta.shape} (the shape of theta0); "
                         f"got {g.shape}")
    return g


@validate_params(lr=LR, beta=BETA, steps=NONNEGATIVE_INT)
def momentum_path(grad_fn, theta0, *, lr, beta, steps, nesterov=False):
    """θ⁰…θ^steps of the lecture's momentum rule, shape ``(steps + 1, d)``, θ⁰ first (notebooks 01, 05).

    mᵗ = β·mᵗ⁻¹ − η·∇L(θᵗ⁻¹), θᵗ = θᵗ⁻¹ + mᵗ, m⁰ = 0; β = 0 is gradient descent. ``nesterov=True``:
    the gradient at the look-ahead point, mᵗ = β·mᵗ⁻¹ − η·∇L(θᵗ⁻¹ + β·mᵗ⁻¹) (Nesterov momentum).
    ``grad_fn(θ)`` returns ∇L(θ) with the shape of θ. If θ leaves |θ| < 1e6 or becomes non-finite
    the rest of the path is NaN (the caller reports divergence; nothing raises).
    """
    return _run(grad_fn, check_array("theta0", theta0, ndim=1).copy(), lr, beta, steps, nesterov).theta


@dataclass
class MomentumTrace:
    """Everything one run of the lecture's rule computed (notebook 05, "Vector addition").

    ``theta[t]`` = θᵗ (t = 0…T), ``grad[t]`` = gᵗ = ∇L(θᵗ) (t = 0…T−1; with ``nesterov`` the gradient
    at the look-ahead point, gᵗ = ∇L(θᵗ + β·mᵗ)), ``movement[t]`` = mᵗ (t = 0…T, m⁰ = 0). Rows after a
    divergence are NaN; ``diverged_at`` is the first bad step or None.
    """

    theta: np.ndarray
    grad: np.ndarray
    movement: np.ndarray
    lr: float
    beta: float
    diverged_at: int | None = None
    nesterov: bool = False

    @property
    def diverged(self):
        return self.diverged_at is not None

    def arrows(self, t):
        """The three arrows of step t ≥ 1 (head to tail at θᵗ⁻¹): β·mᵗ⁻¹, −η·gᵗ⁻¹ and mᵗ = their sum
        (with ``nesterov``, gᵗ⁻¹ is the gradient at the head of the first arrow, θᵗ⁻¹ + β·mᵗ⁻¹)."""
        t = check_int("t", t, low=1, high=len(self.theta) - 1)
        return self.beta * self.movement[t - 1], -self.lr * self.grad[t - 1], self.movement[t]


@validate_params(lr=LR, beta=BETA, steps=NONNEGATIVE_INT)
def momentum_trace(grad_fn, theta0, *, lr, beta, steps, nesterov=False):
    """Run the lecture's rule (or Nesterov's, ``nesterov=True``) and keep θᵗ, gᵗ and mᵗ (see
    :class:`MomentumTrace`; notebook 05)."""
    return _run(grad_fn, check_array("theta0", theta0, ndim=1).copy(), lr, beta, steps, nesterov)


def nesterov_lookahead(trace):
    """φᵗ = θᵗ + β·mᵗ of a Nesterov :class:`MomentumTrace`, shape (T + 1, d): the point where the next
    gradient is taken — and the parameter that ``torch.optim.SGD(momentum=β, nesterov=True)`` stores
    (φ⁰ = θ⁰ since m⁰ = 0; φᵗ = φᵗ⁻¹ + β·mᵗ − η·∇L(φᵗ⁻¹), torch's p ← p − η·(g + β·buf)). Notebook 05."""
    return trace.theta + trace.beta * trace.movement


def _run(grad_fn, theta, lr, beta, steps, nesterov=False):
    """The loop of :func:`momentum_trace` on checked arguments: mᵗ = β·mᵗ⁻¹ − η·gᵗ⁻¹, θᵗ = θᵗ⁻¹ + mᵗ
    (gᵗ⁻¹ = ∇L(θᵗ⁻¹), or ∇L(θᵗ⁻¹ + β·mᵗ⁻¹) with ``nesterov``)."""
    d = theta.size
    path = np.full((steps + 1, d), np.nan)
    moves = np.full((steps + 1, d), np.nan)
    grads = np.full((steps, d), np.nan)
    path[0] = theta
    m = np.zeros_like(theta)
    moves[0] = m
    bad = None
    for t in range(1, steps + 1):
        # the shape of g is checked once; later steps call grad_fn directly (a slider reruns 600 steps)
        at = theta + beta * m if nesterov else theta   # Nesterov: the gradient at the look-ahead point
        g = _grad(grad_fn, at) if t == 1 else np.asarray(grad_fn(at), dtype=float)
        m = beta * m - lr * g
        theta = theta + m
        if not theta @ theta <= _LIMIT_SQUARED and _diverged(theta):  # the cheap test of _diverged, inline
            bad = t
            break
        grads[t - 1] = g
        moves[t] = m
        path[t] = theta
    return MomentumTrace(path, grads, moves, lr, beta, bad, bool(nesterov))


@validate_params(lr=LR, steps=NONNEGATIVE_INT)
def momentum_runs(grad_fn, theta0, *, lr, betas, steps, every_step=True):
    """The lecture's rule run once per β of ``betas``, all from θ⁰, side by side (notebook 05, "Rolling
    past a local minimum": the scan over β): for every run mᵗ = β·mᵗ⁻¹ − η·∇L(θᵗ⁻¹), θᵗ = θᵗ⁻¹ + mᵗ, m⁰ = 0.

    The same elementwise update as :func:`momentum_trace`, on a ``(len(betas), d)`` array; ``grad_fn`` must
    take a batch of points (shape (n, d), as the landscapes' ``grad`` does). A batch's gradient may differ
    from one point's in the last bit (numpy's vectorised exp), so a run agrees with ``momentum_trace`` at
    its β to rounding (on notebook 05's 1-D loss: 4 of the 4100 paths a slider can reach differ at all).
    Returns ``(theta, movement)``, both of shape ``(steps + 1, len(betas), d)`` — or, with
    ``every_step=False``, only θᵀ and mᵀ, shape ``(len(betas), d)`` (a scan that needs the ends only); a
    run that leaves |θ| ≤ 1e6 (or turns NaN) is NaN from that step on.
    """
    theta0 = check_array("theta0", theta0, ndim=1)
    b = np.asarray(betas, dtype=float)
    if b.ndim != 1 or np.any(~np.isfinite(b)) or np.any((b < 0) | (b >= 1)):
        raise ValueError("betas must be a 1-D list of momentum values β in [0, 1)")
    b = b[:, None]
    theta = np.repeat(theta0[None, :], len(b), axis=0)
    m = np.zeros_like(theta)
    path = np.empty((steps + 1,) + theta.shape) if every_step else None
    moves = np.empty_like(path) if every_step else None
    if every_step:
        path[0], moves[0] = theta, m
    dead = None  # which runs have diverged (None while none has)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            m = b * m - lr * np.asarray(grad_fn(theta), dtype=float)
            theta = theta + m
            if dead is not None or not np.abs(theta).max() <= DIVERGENCE_LIMIT:  # NaN fails <= too
                out = ~(np.abs(theta) <= DIVERGENCE_LIMIT).all(axis=1, keepdims=True)
                dead = out if dead is None else dead | out
                theta = np.where(dead, np.nan, theta)
                m = np.where(dead, np.nan, m)
            if every_step:
                path[t], moves[t] = theta, m
    return (path, moves) if every_step else (theta, m)


# ----------------------------------------------------------------------------- weighted sum
@validate_params(beta=BETA, t=NONNEGATIVE_INT)
def momentum_weights(beta, t):
    """The weights β^(t−1−i) of g⁰…gᵗ⁻¹ in mᵗ = −η Σᵢ β^(t−1−i) gⁱ, oldest first (notebook 05)."""
    return beta ** np.arange(t - 1, -1, -1, dtype=float)


@validate_params(beta=BETA)
def effective_horizon(beta):
    """1/(1−β) = Σ_{k≥0} βᵏ: how many gradients the movement remembers, roughly (notebook 05)."""
    return 1.0 / (1.0 - beta)


@validate_params(lr=LR, beta=BETA)
def unrolled_movement(grads, *, lr, beta):
    """mᵗ = −η Σ_{i<t} β^(t−1−i) gⁱ for t = 0…T as an explicit sum (no recursion), shape (T + 1, d).

    ``grads`` holds g⁰…g^(T−1), shape (T, d) — e.g. ``momentum_trace(...).grad``. Notebook 05,
    "Weighted sum of past gradients": the result equals ``momentum_trace(...).movement``.
    """
    g = check_array("grads", grads, ndim=2)
    n = len(g)
    t = np.arange(n + 1)[:, None]
    i = np.arange(n)[None, :]
    expo = t - 1 - i
    w = np.where(expo >= 0, beta ** np.maximum(expo, 0).astype(float), 0.0)  # (T+1, T) lower-triangular
    if beta == 0.0:
        w = (expo == 0).astype(float)
    return -lr * (w @ g)


def path_from_movements(theta0, movements):
    """θᵗ = θ⁰ + Σ_{s≤t} mˢ: the path the movements add up to (head-to-tail vector addition)."""
    theta0 = check_array("theta0", theta0, ndim=1)
    m = check_array("movements", movements, ndim=2)
    return theta0 + np.cumsum(m, axis=0)


# ----------------------------------------------------------------------------- conventions
def _schedule(lr, steps, name="lr"):
    """A constant step or one step per update, as an array of length ``steps``."""
    if np.ndim(lr) == 0:
        return np.full(steps, check_lr(lr, name))
    sched = check_array(name, lr, ndim=1)
    if len(sched) != steps:
        raise ValueError(f"{name} must be a number > 0 or a schedule of length steps = {steps}; "
                         f"got length {len(sched)}")
    if np.any(sched <= 0):
        raise ValueError(f"{name} must be > 0 at every step; got min {sched.min()!r}")
    return sched


@validate_params(convention=CONVENTION, lr=LR, beta=BETA)
def lecture_lr(convention, lr, beta):
    """The lecture's η that gives the same path as ``convention`` run with step ``lr`` (α, ε or η).

    η = α(1−β) for ``ema``; η = lr for the others (notebook 05).
    """
    return lr * (1.0 - beta) if convention == "ema" else lr


@validate_params(convention=CONVENTION, eta=LR, beta=BETA)
def convention_lr(convention, eta, beta):
    """The step to give ``convention`` so it follows the lecture's path at η: α = η/(1−β) for ``ema``."""
    return eta / (1.0 - beta) if convention == "ema" else eta


@validate_params(convention=CONVENTION, beta=BETA, steps=NONNEGATIVE_INT)
def convention_path(grad_fn, theta0, *, convention, lr, beta, steps):
    """The path of one of :data:`CONVENTIONS` run with its own step ``lr`` (a number or a schedule).

    Returns ``(path, movement)``: θ⁰…θ^T (shape (T + 1, d)) and the movement mᵗ = θᵗ − θᵗ⁻¹ recovered
    from each form's stored vector (−η·v for ``pytorch``, v for ``sutskever``, −α·v for ``ema``).
    ``lr`` may be an array of length ``steps`` (a learning-rate schedule, one value per update).
    Notebook 05, "One rule, four conventions".
    """
    theta = check_array("theta0", theta0, ndim=1).copy()
    sched = _schedule(lr, steps)
    path = np.full((steps + 1, theta.size), np.nan)
    moves = np.full((steps + 1, theta.size), np.nan)
    path[0], moves[0] = theta, 0.0
    v = np.zeros_like(theta)
    for t in range(1, steps + 1):
        g = _grad(grad_fn, theta)
        step = sched[t - 1]
        if convention in ("lecture", "sutskever"):
            v = beta * v - step * g
            m = v
        elif convention == "pytorch":
            v = beta * v + g
            m = -step * v
        else:  # ema
            v = beta * v + (1.0 - beta) * g
            m = -step * v
        theta = theta + m
        if _diverged(theta):
            break
        path[t], moves[t] = theta, m
    return path, moves


@validate_params(beta=BETA, steps=NONNEGATIVE_INT)
def torch_sgd_path(grad_fn, theta0, *, lr, beta, steps, nesterov=False):
    """The path of ``torch.optim.SGD(lr=η, momentum=β)`` in float64 with gradients from ``grad_fn``.

    Returns ``(path, buf)``: θ⁰…θ^T and torch's momentum buffer after each step (buf⁰ = 0), so that
    the lecture's movement is m = −η·buf. ``lr`` may be a schedule (set in ``param_groups`` before
    each step). ``nesterov=True``: torch's Nesterov form, whose parameter is the look-ahead point
    φᵗ = θᵗ + β·mᵗ of :func:`momentum_trace` with ``nesterov=True`` (:func:`nesterov_lookahead`).
    Notebook 05, "One rule, four conventions" and "Vector addition".
    """
    import torch

    theta = check_array("theta0", theta0, ndim=1)
    sched = _schedule(lr, steps)
    if nesterov and beta == 0.0:
        raise ValueError("beta must be > 0 when nesterov=True (torch needs momentum for Nesterov)")
    p = torch.nn.Parameter(torch.tensor(theta, dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=float(sched[0]) if steps else 0.1, momentum=beta, nesterov=bool(nesterov))
    path = np.full((steps + 1, theta.size), np.nan)
    bufs = np.full((steps + 1, theta.size), np.nan)
    path[0], bufs[0] = theta, 0.0
    for t in range(1, steps + 1):
        g = _grad(grad_fn, p.detach().numpy().copy())
        p.grad = torch.from_numpy(g)
        for group in opt.param_groups:
            group["lr"] = float(sched[t - 1])
        opt.step()
        now = p.detach().numpy()
        if _diverged(now):
            break
        path[t] = now
        state = opt.state[p].get("momentum_buffer")
        bufs[t] = np.zeros_like(now) if state is None else state.numpy()
    return path, bufs


def compare_conventions(grad_fn, theta0, *, lr, beta, steps):
    """Run every form of :data:`CONVENTIONS` (each with the step that matches the lecture's η = ``lr``)
    and ``torch.optim.SGD``; return rows ``{"convention", "update", "step", "max_diff"}`` where
    ``max_diff`` = max over t of |θᵗ − θᵗ_lecture| (notebook 05, "One rule, four conventions").
    """
    ref = momentum_path(grad_fn, theta0, lr=lr, beta=beta, steps=steps)
    rows = []
    for name, update in CONVENTIONS.items():
        step = convention_lr(name, lr, beta)
        path, _ = convention_path(grad_fn, theta0, convention=name, lr=step, beta=beta, steps=steps)
        rows.append({"convention": name, "update": update, "step": step,
                     "max_diff": float(np.max(np.abs(path - ref)))})
    tpath, _ = torch_sgd_path(grad_fn, theta0, lr=lr, beta=beta, steps=steps)
    rows.append({"convention": "torch.optim.SGD", "update": f"SGD(lr={lr:g}, momentum={beta:g})", "step": lr,
                 "max_diff": float(np.max(np.abs(tpath - ref)))})
    return rows


@validate_params(beta=BETA, steps=NONNEGATIVE_INT)
def momentum_correction_path(grad_fn, theta0, *, lr, beta, steps):
    """The lecture's form with Goyal et al.'s (2017, §2.2) **momentum correction**: when the step changes
    from ηₜ₋₁ to ηₜ the stored movement is rescaled by ηₜ/ηₜ₋₁,

        mᵗ = (ηₜ/ηₜ₋₁)·β·mᵗ⁻¹ − ηₜ·gᵗ⁻¹,   θᵗ = θᵗ⁻¹ + mᵗ       (η₀ for the first step),

    which is exactly PyTorch's form v = β·v + g, θ = θ − ηₜ·v under any schedule (m = −ηₜ·v). ``lr`` is a
    number or a schedule of length ``steps``. Returns the path θ⁰…θᵀ. Notebook 05, "One rule, four
    conventions" (what breaks the equivalence, and Goyal's fix)."""
    theta = check_array("theta0", theta0, ndim=1).copy()
    sched = _schedule(lr, steps)
    path = np.full((steps + 1, theta.size), np.nan)
    path[0] = theta
    m = np.zeros_like(theta)
    for t in range(1, steps + 1):
        g = _grad(grad_fn, theta)
        scale = sched[t - 1] / sched[t - 2] if t > 1 else 1.0
        m = scale * beta * m - sched[t - 1] * g
        theta = theta + m
        if _diverged(theta):
            break
        path[t] = theta
    return path


@validate_params(lr=LR, steps=NONNEGATIVE_INT, factor=LR)
def step_decay(lr, steps, *, at, factor=0.1):
    """A learning-rate schedule: η for updates before ``at``, η·factor from update ``at`` on."""
    at = check_int("at", at, low=0, high=steps)
    sched = np.full(steps, lr)
    sched[at:] *= factor
    return sched


@validate_params(beta=BETA)
def schedule_demo(grad_fn, theta0, *, lr, beta, steps, at, factor=0.1):
    """Where the four conventions part: all run with the same step schedule (η, then η·factor at ``at``).

    The EMA form gets α = η/(1−β) at every step (its constant-step twin). Returns a dict of paths
    by convention plus ``"torch"`` (torch.optim.SGD), ``"corrected"`` (the lecture's form with Goyal's
    momentum correction, :func:`momentum_correction_path`) and ``gap``, the largest
    |θ_lecture − θ_pytorch| before and after the change of step. Notebook 05, "What breaks the equivalence".
    """
    sched = step_decay(lr, steps, at=at, factor=factor)
    out = {}
    for name in CONVENTIONS:
        s = sched / (1.0 - beta) if name == "ema" else sched
        out[name] = convention_path(grad_fn, theta0, convention=name, lr=s, beta=beta, steps=steps)[0]
    out["torch"] = torch_sgd_path(grad_fn, theta0, lr=sched, beta=beta, steps=steps)[0]
    out["corrected"] = momentum_correction_path(grad_fn, theta0, lr=sched, beta=beta, steps=steps)
    diff = np.max(np.abs(out["lecture"] - out["pytorch"]), axis=1)
    out["gap"] = {"before": float(np.nanmax(diff[: at + 1])),
                  "after": float(np.nanmax(diff[at + 1:])) if at < steps else 0.0}
    out["schedule"] = sched
    return out


# ----------------------------------------------------------------------------- mini-batches
@validate_params(lr=LR, beta=BETA, epochs=NONNEGATIVE_INT, seed=SEED)
def minibatch_path(problem, theta0, *, batch_size, lr, epochs, seed, beta=0.0, shuffle=True):
    """Mini-batch SGD (with optional momentum β) on a problem with ``grad(θ, idx)``; notebook 01/02/05.

    Each epoch draws :func:`lecture_utils.data.epoch_batches` and makes one update per batch:
    g = ∇L_𝓑(θ), m ← β·m − η·g, θ ← θ + m. Returns the path, shape ``(updates + 1, d)``; after a
    divergence (|θ| > 1e6 or NaN) the remaining rows are NaN.
    """
    theta = check_array("theta0", theta0, ndim=1).copy()
    n = problem.n
    batch_size = check_batch_size(batch_size, n)
    per_epoch = updates_per_epoch(n, batch_size)
    path = np.full((epochs * per_epoch + 1, theta.size), np.nan)
    path[0] = theta
    m = np.zeros_like(theta)
    t = 0
    for e in range(epochs):
        for idx in epoch_batches(n, batch_size, seed=seed, epoch=e, shuffle=shuffle):
            m = beta * m - lr * problem.grad(theta, idx)
            theta = theta + m
            t += 1
            if _diverged(theta):
                return path
            path[t] = theta
    return path
