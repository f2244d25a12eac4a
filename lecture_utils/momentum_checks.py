"""Self-checking exercises of notebook 05 (momentum): each ``check_*`` prints what is right or wrong.

A check never raises on an unfinished exercise: a stub that returns ``None`` or raises
``NotImplementedError`` prints "not done yet"; a wrong answer prints a hint built from the numbers.
Each check returns True (correct), False (wrong) or None (not done yet), so tests can call it.
"""
from __future__ import annotations

import numpy as np

from .landscapes import LOCAL_GLOBAL
from .optim import momentum_path

NOT_DONE = "not done yet — fill in the cell above and run it again."


def _call(fn, *args):
    try:
        return fn(*args), None
    except NotImplementedError:
        return None, None
    except Exception as exc:  # a learner's bug: report it, do not crash the notebook
        return None, f"{type(exc).__name__}: {exc}"


def check_momentum_step(step_fn):
    """Exercise 1: ``step_fn(theta, m, g, lr, beta) -> (theta_new, m_new)`` must be the lecture's rule
    m_new = β·m − η·g, θ_new = θ + m_new. Checked on random inputs and on a 40-step path of a quadratic."""
    rng = np.random.default_rng(5)
    for _ in range(5):
        theta, m, g = rng.standard_normal((3, 3))
        lr, beta = float(rng.uniform(0.01, 0.5)), float(rng.uniform(0, 0.95))
        out, err = _call(step_fn, theta.copy(), m.copy(), g.copy(), lr, beta)
        if err:
            print(f"your step raised {err}")
            return False
        if out is None:
            print(NOT_DONE)
            return None
        try:
            theta_new, m_new = (np.asarray(v, dtype=float) for v in out)
        except (TypeError, ValueError):
            print("return two arrays: (theta_new, m_new)")
            return False
        want_m = beta * m - lr * g
        if theta_new.shape != theta.shape or m_new.shape != m.shape:
            print(f"theta_new and m_new must have the shape of theta {theta.shape}")
            return False
        if not np.allclose(m_new, want_m, atol=1e-12):
            if np.allclose(m_new, beta * m + g):
                print("that is PyTorch's buffer v = βv + g; the lecture's movement includes −η: m = β·m − η·g")
            else:
                print(f"m_new is off: for β = {beta:.2f}, η = {lr:.2f} expected {np.round(want_m, 3)}, got {np.round(m_new, 3)}")
            return False
        if not np.allclose(theta_new, theta + want_m, atol=1e-12):
            print("θ_new should be θ + m_new (the new movement, not the old one)")
            return False
    a = np.diag([0.2, 1.0])
    theta, m = np.array([1.0, -1.0]), np.zeros(2)
    for _ in range(40):
        theta, m = (np.asarray(v, float) for v in step_fn(theta, m, a @ theta, 0.3, 0.8))
    ref = momentum_path(lambda th: a @ th, [1.0, -1.0], lr=0.3, beta=0.8, steps=40)[-1]
    if not np.allclose(theta, ref, atol=1e-10):
        print("single steps are right but 40 steps drift from momentum_path: is m carried from step to step?")
        return False
    print(f"correct: 40 of your steps land on θ = {np.round(theta, 4)}, the same as momentum_path.")
    return True


def where_ball_stops(lr, beta, theta0=4.0, steps=600):
    """'global' or 'local': where the lecture's rule is after ``steps`` steps on the 1-D loss."""
    th = momentum_path(LOCAL_GLOBAL.grad, [theta0], lr=lr, beta=beta, steps=steps)[-1, 0]
    if not np.isfinite(th):
        return "diverged"
    return "global" if th < LOCAL_GLOBAL.barrier else "local"  # left or right of the barrier


def check_stop_prediction(prediction, lr=0.1, theta0=4.0):
    """Exercise 3: ``prediction`` maps β → 'local' or 'global' (where the ball started at θ⁰ = 4 with
    η = 0.1 is after 600 steps). Compared with the simulation."""
    if prediction is None or not isinstance(prediction, dict) or any(v is None for v in prediction.values()):
        print(NOT_DONE)
        return None
    wrong = []
    for beta, guess in sorted(prediction.items()):
        if guess not in ("local", "global"):
            print(f"answers must be 'local' or 'global'; got {guess!r} for β = {beta}")
            return False
        truth = where_ball_stops(lr, float(beta), theta0)
        if truth != guess:
            wrong.append(f"β = {beta}: you said {guess}, the ball ends in the {truth} minimum")
    if wrong:
        print("not quite:\n  " + "\n  ".join(wrong) + "\nMove the β slider of the panel above to see why.")
        return False
    print(f"correct for all {len(prediction)} values of β.")
    return True


def check_ema_alpha(alpha, eta=0.01, beta=0.9):
    """Exercise 2: the EMA form's α that gives the same path as the lecture's rule at (η, β): α = η/(1−β)."""
    if alpha is None:
        print(NOT_DONE)
        return None
    want = eta / (1 - beta)
    if not np.isclose(float(alpha), want, rtol=1e-9):
        if np.isclose(float(alpha), eta * (1 - beta)):
            print("other way round: the EMA form multiplies g by (1 − β), so α must be larger than η.")
        else:
            print(f"not quite: compare the two updates; with η = {eta}, β = {beta} the EMA step is not {alpha}.")
        return False
    print(f"correct: α = η/(1 − β) = {want:g}.")
    return True
