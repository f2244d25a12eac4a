"""Self-checks for the exercises: the learner's answer in, one line of feedback out.

Every check prints one line that starts with ✅ (right), ❌ (wrong, with a hint) or
⏳ (not attempted yet: the stub still returns ``None``) and returns ``True``, ``False`` or ``None``
(not attempted), so tests can call it. A check never raises on an unfinished or buggy answer.

Notebook 01: check_epoch_batches, check_number. Notebook 02: check_escape_rate,
check_classifier. Notebook 03: check_gap, check_power_iteration, check_rise. Notebook 04:
check_scaled_lr, check_noise_estimator, check_b_crit. Notebook 05: check_momentum_step,
check_ema_alpha, check_stop_prediction (with where_ball_stops).
"""
from __future__ import annotations

import numpy as np

from .landscapes import LOCAL_GLOBAL, SADDLE
from .optim import momentum_path


def _say(ok, text):
    print(("✅ " if ok else "❌ ") + text)
    return ok


def _todo(what):
    print(f"⏳ not done yet: {what}")
    return None


def check_number(name, value, expected, *, rtol=0.0, atol=0.0, hint=""):
    """Compare a number the learner computed with the value the course computes."""
    if value is None or value is Ellipsis:
        return _todo(f"replace ... with your value of {name}")
    try:
        ok = bool(np.isclose(float(value), float(expected), rtol=rtol, atol=atol))
    except (TypeError, ValueError):
        return _say(False, f"{name} should be a number; got {value!r}")
    if ok:
        return _say(True, f"{name} = {value}: correct.")
    return _say(False, f"{name} = {value} is not right. {hint}".strip())


def check_choice(name, value, expected, *, hint=""):
    """Compare a choice (a string such as "saddle") with the right one."""
    if value is None or value is Ellipsis:
        return _todo(f"replace ... with your answer for {name}")
    if str(value).strip().lower() == str(expected).strip().lower():
        return _say(True, f"{name}: '{value}' is right.")
    return _say(False, f"{name}: '{value}' is not right. {hint}".strip())


def check_epoch_batches(fn, n_examples=23, batch_size=5):
    """Check a learner's ``fn(n_examples, batch_size, seed, epoch) -> list of index arrays`` (notebook 01).

    Right means: every example exactly once per epoch; batches of ``batch_size`` with a smaller
    last one; a new order every epoch; the same order for the same ``(seed, epoch)``.
    """
    try:
        first = fn(n_examples, batch_size, 0, 0)
    except NotImplementedError:
        return _todo("write the body of the function")
    if first is None:
        return _todo("your function returns None — make it return a list of index arrays")
    batches = [np.asarray(b).ravel() for b in first]
    sizes = [len(b) for b in batches]
    want = [batch_size] * (n_examples // batch_size) + ([n_examples % batch_size] if n_examples % batch_size else [])
    if sizes != want:
        return _say(False, f"batch sizes {sizes}; expected {want} (the last batch holds the remainder).")
    flat = np.concatenate(batches)
    if sorted(flat.tolist()) != list(range(n_examples)):
        return _say(False, "an epoch must use every example exactly once (no repeats, none missing).")
    if flat.tolist() == list(range(n_examples)):
        return _say(False, "the examples come in order 0, 1, 2, …: shuffle them.")
    second = np.concatenate([np.asarray(b).ravel() for b in fn(n_examples, batch_size, 0, 1)])
    if np.array_equal(flat, second):
        return _say(False, "epoch 1 has the same order as epoch 0: reshuffle every epoch.")
    again = np.concatenate([np.asarray(b).ravel() for b in fn(n_examples, batch_size, 0, 0)])
    if not np.array_equal(flat, again):
        return _say(False, "the same (seed, epoch) must give the same batches: seed your generator with both.")
    return _say(True, f"every example once per epoch, batch sizes {sizes}, reshuffled each epoch, reproducible.")


# ----------------------------------------------------------------------------- notebook 05 (momentum)
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
            return _say(False, f"your step raised {err}")
        if out is None:
            return _todo("fill in the cell above and run it again")
        try:
            theta_new, m_new = (np.asarray(v, dtype=float) for v in out)
        except (TypeError, ValueError):
            return _say(False, "return two arrays: (theta_new, m_new)")
        want_m = beta * m - lr * g
        if theta_new.shape != theta.shape or m_new.shape != m.shape:
            return _say(False, f"theta_new and m_new must have the shape of theta {theta.shape}")
        if not np.allclose(m_new, want_m, atol=1e-12):
            if np.allclose(m_new, beta * m + g):
                return _say(False, "that is PyTorch's buffer v = βv + g; the lecture's movement includes −η: "
                                   "m = β·m − η·g")
            return _say(False, f"m_new is off: for β = {beta:.2f}, η = {lr:.2f} expected {np.round(want_m, 3)}, "
                               f"got {np.round(m_new, 3)}")
        if not np.allclose(theta_new, theta + want_m, atol=1e-12):
            return _say(False, "θ_new should be θ + m_new (the new movement, not the old one)")
    a = np.diag([0.2, 1.0])
    theta, m = np.array([1.0, -1.0]), np.zeros(2)
    for _ in range(40):
        theta, m = (np.asarray(v, float) for v in step_fn(theta, m, a @ theta, 0.3, 0.8))
    ref = momentum_path(lambda th: a @ th, [1.0, -1.0], lr=0.3, beta=0.8, steps=40)[-1]
    if not np.allclose(theta, ref, atol=1e-10):
        return _say(False, "single steps are right but 40 steps drift from momentum_path: is m carried from step to step?")
    return _say(True, f"correct: 40 of your steps land on θ = {np.round(theta, 4)}, the same as momentum_path.")


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
        return _todo("fill in the cell above and run it again")
    wrong = []
    for beta, guess in sorted(prediction.items()):
        if guess not in ("local", "global"):
            return _say(False, f"answers must be 'local' or 'global'; got {guess!r} for β = {beta}")
        truth = where_ball_stops(lr, float(beta), theta0)
        if truth != guess:
            wrong.append(f"β = {beta}: you said {guess}, the ball ends in the {truth} minimum")
    if wrong:
        return _say(False, "not quite:\n  " + "\n  ".join(wrong) + "\nMove the β slider of the panel above to see why.")
    return _say(True, f"correct for all {len(prediction)} values of β.")


def check_ema_alpha(alpha, eta=0.01, beta=0.9):
    """Exercise 2: the EMA form's α that gives the same path as the lecture's rule at (η, β): α = η/(1−β)."""
    if alpha is None:
        return _todo("fill in the cell above and run it again")
    want = eta / (1 - beta)
    if not np.isclose(float(alpha), want, rtol=1e-9):
        if np.isclose(float(alpha), eta * (1 - beta)):
            return _say(False, "other way round: the EMA form multiplies g by (1 − β), so α must be larger than η.")
        return _say(False, f"not quite: compare the two updates; with η = {eta}, β = {beta} the EMA step is not {alpha}.")
    return _say(True, f"correct: α = η/(1 − β) = {want:g}.")


# ----------------------------------------------------------------------------- notebook 02 (noisy gradients)
def check_escape_rate(value, batch_size=8, *, n_runs=1000, seed=0):
    """Exercise "estimate the escape rate": is ``value`` inside the 95 % interval of B's escape rate?

    Prints "not done yet" for ``None`` / ``...``; never raises on a wrong answer.
    """
    if value is None or value is Ellipsis:
        return _todo("set my_escape_rate to a number between 0 and 1")
    try:
        v = float(value)
    except (TypeError, ValueError):
        return _say(False, f"my_escape_rate should be a number between 0 and 1, not {type(value).__name__}")
    from .landscapes import escape_counts, wilson_interval

    k = int(escape_counts([batch_size], n_runs=n_runs, seed=seed)[0])    # the same runs as escape_probability
    lo, hi = wilson_interval(k, n_runs)
    if float(lo) <= v <= float(hi):
        return _say(True, f"{v:.2f} lies in the 95% interval [{float(lo):.2f}, {float(hi):.2f}] for B = {batch_size}")
    hint = "a fraction, not a count: divide by n_runs" if v > 1 else "count runs with final θ < barrier"
    return _say(False, f"{v:.2f} is outside the 95% interval for B = {batch_size} ({hint})")


#: Hessians the classification exercise is checked on, with their types.
CLASSIFY_CASES = (
    (SADDLE.hessian(np.array([0.0, 0.0])), "saddle"),
    (SADDLE.hessian(np.array([0.0, 1.0])), "minimum"),
    (SADDLE.hessian(np.array([0.0, -1.0])), "minimum"),
    (np.array([[-2.0, 0.5], [0.5, -1.0]]), "maximum"),
    (np.array([[1.0, 2.0], [2.0, 1.0]]), "saddle"),
    (np.array([[3.0, 1.0], [1.0, 2.0]]), "minimum"),
)


def check_classifier(fn):
    """Exercise "tell by the Hessian": does ``fn(H)`` return "minimum" / "maximum" / "saddle" correctly?"""
    if fn is None or fn is Ellipsis:
        return _todo("define kind_of_point(H)")
    from .landscapes import classify_critical_point

    wrong = []
    for h, want in CLASSIFY_CASES:
        assert classify_critical_point(h) == want
        try:
            got = fn(np.array(h))
        except Exception as exc:  # noqa: BLE001  (a learner's bug is reported, not raised)
            return _say(False, f"kind_of_point raised {type(exc).__name__}: {exc}")
        if got is None or got is Ellipsis:
            return _todo("kind_of_point returns nothing yet")
        if got != want:
            wrong.append(f"H = {np.round(h, 2).tolist()}: expected {want!r}, got {got!r}")
    if wrong:
        return _say(False, "not quite:\n  " + "\n  ".join(wrong))
    return _say(True, f"all {len(CLASSIFY_CASES)} critical points classified")


# ----------------------------------------------------------------------------- notebook 03 (generalization)
def _not_done(value):
    return value is None or value is Ellipsis or value is NotImplemented


def check_gap(gap, record):
    """Exercise 1: ``gap`` = mean test accuracy at B = sb minus at B = lb, from the cache."""
    if _not_done(gap):
        return _todo("set gap to a number")
    want = (record.get("results", record) if isinstance(record, dict) else {})["gap"]["test_acc_gap"]
    try:
        gap = float(gap)
    except (TypeError, ValueError):
        return _say(False, f"gap should be a number; got {type(gap).__name__}")
    if abs(gap - want) < 1e-6:
        return _say(True, f"the gap is {want:.3f}")
    return _say(False, f"got {gap:.4f}; compare summary[str(sb)]['test_acc_mean'] and summary[str(lb)]['test_acc_mean']")


def check_power_iteration(fn):
    """Exercise 2: ``fn(A, iters)`` returns the largest eigenvalue of a symmetric matrix A."""
    rng = np.random.default_rng(3)
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    eig = np.array([5.0, 2.0, 1.0, 0.5, -0.3, -1.0])
    a = (q * eig) @ q.T
    try:
        got = fn(a, 200)
    except NotImplementedError:
        got = None
    if _not_done(got):
        return _todo("power_iteration returns None")
    try:
        got = float(got)
    except (TypeError, ValueError):
        return _say(False, f"power_iteration should return a number; got {type(got).__name__}")
    if abs(got - 5.0) < 1e-3:
        return _say(True, f"{got:.4f} (exact 5.0000)")
    return _say(False, f"got {got:.4f}, the largest eigenvalue is 5.0000")


def check_rise(fn):
    """Exercise 3: ``fn(curvature, shift)`` predicts the loss rise ½·L''·δ² at a minimum."""
    try:
        got = fn(1.0, 0.1)
    except NotImplementedError:
        got = None
    if _not_done(got):
        return _todo("predicted_rise returns None")
    from . import sharpness

    ok = True
    for key, well in (("flat", sharpness.FLAT), ("sharp", sharpness.SHARP)):
        d = 0.02
        exact = sharpness.flat_sharp_rise(d)[key]
        try:
            pred = float(fn(well["depth"] / well["width"] ** 2, d))
        except (TypeError, ValueError):
            return _say(False, "predicted_rise should return a number")
        ok &= abs(pred - exact) <= 0.02 * exact
    if ok:
        return _say(True, "½·L''·δ² matches the measured rise at both minima for small δ")
    return _say(False, "the rise of a quadratic ½·c·w² when w moves from 0 to δ is ½·c·δ²")


# ----------------------------------------------------------------------------- notebook 04 (having both)
def _not_done_hb(value):
    return value is None or value is Ellipsis


def check_scaled_lr(value, batch_size=2048, base_lr=0.1, base_batch_size=32):
    """Exercise 1: η for ``batch_size`` by the linear scaling rule from η₀ at B₀."""
    if _not_done_hb(value):
        return _todo("set lr_big to a number")
    want = base_lr * batch_size / base_batch_size
    if abs(float(value) - want) <= 1e-9 * want:
        return _say(True, f"η = {base_lr:g} · {batch_size}/{base_batch_size} = {want:g}")
    return _say(False, f"the linear rule multiplies η₀ = {base_lr:g} by B/B₀ = {batch_size}/{base_batch_size}")


def check_noise_estimator(fn):
    """Exercise 2: ``fn(sq_small, sq_big, b_small, b_big) -> (g2, trace)`` with replacement."""
    if _not_done_hb(fn):
        return _todo("write two_batch(sq_small, sq_big, b_small, b_big)")
    from .scaling import noise_scale_from_norms

    rng = np.random.default_rng(0)
    for _ in range(5):
        g2, tr = rng.uniform(0.1, 2), rng.uniform(1, 50)
        bs, bb = int(rng.integers(1, 50)), int(rng.integers(60, 1000))
        small, big = g2 + tr / bs, g2 + tr / bb
        try:
            got = fn(small, big, bs, bb)
        except Exception as exc:  # a learner's bug: say what happened, do not crash
            return _say(False, f"your function raised {type(exc).__name__}: {exc}")
        if got is None or any(v is None or v is Ellipsis for v in np.atleast_1d(np.array(got, dtype=object))):
            return _todo("return (g2, trace)")
        ref = noise_scale_from_norms(small, big, bs, bb)
        if not np.allclose(got, (ref.g2, ref.trace), rtol=1e-8):
            return _say(False, f"for |G_small|² = {small:.3f}, |G_big|² = {big:.3f}, B = {bs}, {bb} "
                               f"expected (|G|², tr Σ) = ({ref.g2:.3f}, {ref.trace:.3f}), got {tuple(np.round(got, 3))}")
    return _say(True, "your estimator recovers |G|² and tr Σ exactly from the two expected norms")


def check_b_crit(value, record):
    """Exercise 3: B_crit = E_min / S_min from the fitted S_min and E_min."""
    if _not_done_hb(value):
        return _todo("set b_crit to a number")
    from .panels.have_both import critical_numbers

    want = critical_numbers(record)["b_crit"]
    if abs(float(value) - want) <= 1e-6 * want:
        return _say(True, f"B_crit = E_min / S_min ≈ {want:.0f} examples")
    return _say(False, "divide the minimum number of examples E_min by the minimum number of updates S_min")
