"""lecture_utils.optim: the lecture's momentum rule, its four conventions, torch, the unrolled sum."""
import numpy as np
import pytest

from lecture_utils import optim
from lecture_utils.data import epoch_batches, make_toy_regression


def random_quadratic(seed, d):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    lam = rng.uniform(0.1, 2.0, d)
    a = q @ np.diag(lam) @ q.T
    return (lambda th: a @ th), rng.standard_normal(d), lam


# ----------------------------------------------------------------------------- momentum_path
def test_gradient_descent_on_a_quadratic_is_geometric():
    path = optim.momentum_path(lambda th: 2.0 * th, [1.0, -2.0], lr=0.1, beta=0.0, steps=5)
    assert path.shape == (6, 2)
    np.testing.assert_allclose(path[:, 0], 0.8 ** np.arange(6), rtol=0, atol=1e-15)
    np.testing.assert_allclose(path[:, 1], -2.0 * 0.8 ** np.arange(6), rtol=0, atol=1e-15)


def test_first_steps_by_hand():
    # L = ½θ², g = θ: m¹ = −η·1, θ¹ = 1 − η; m² = β·m¹ − η·θ¹
    lr, beta = 0.1, 0.9
    path = optim.momentum_path(lambda th: th, [1.0], lr=lr, beta=beta, steps=2)
    m1 = -lr
    th1 = 1 + m1
    m2 = beta * m1 - lr * th1
    np.testing.assert_allclose(path[:, 0], [1.0, th1, th1 + m2], atol=1e-15)


@pytest.mark.parametrize("seed", range(6))
def test_momentum_path_equals_torch_sgd_float64(seed):
    grad, th0, lam = random_quadratic(seed, d=2 + seed % 4)
    rng = np.random.default_rng(100 + seed)
    beta = float(rng.uniform(0.0, 0.95))
    lr = float(rng.uniform(0.2, 1.8)) / lam.max()
    path = optim.momentum_path(grad, th0, lr=lr, beta=beta, steps=200)
    tpath, buf = optim.torch_sgd_path(grad, th0, lr=lr, beta=beta, steps=200)
    assert np.all(np.isfinite(path))
    assert np.max(np.abs(path - tpath)) < 1e-12
    # m = −η·buf: the lecture's movement is PyTorch's buffer scaled by −η
    tr = optim.momentum_trace(grad, th0, lr=lr, beta=beta, steps=200)
    assert np.max(np.abs(tr.movement + lr * buf)) < 1e-12


def test_divergence_gives_nan_rows_not_an_error():
    tr = optim.momentum_trace(lambda th: 2.0 * th, [1.0], lr=1.5, beta=0.0, steps=100)
    assert tr.diverged
    # |θ| grows by |1 − 2·1.5| = 2 per step: 2^20 > 1e6 at step 20
    assert tr.diverged_at == 20
    assert np.all(np.isfinite(tr.theta[:20])) and np.all(np.isnan(tr.theta[20:]))
    path = optim.momentum_path(lambda th: 2.0 * th, [1.0], lr=1.5, beta=0.0, steps=100)
    np.testing.assert_array_equal(np.isnan(path), np.isnan(tr.theta))


def test_steps_zero_is_theta0():
    path = optim.momentum_path(lambda th: th, [3.0, 4.0], lr=0.1, beta=0.5, steps=0)
    np.testing.assert_array_equal(path, [[3.0, 4.0]])


@pytest.mark.parametrize("kw, name", [
    (dict(beta=1.0), "beta"), (dict(beta=-0.1), "beta"), (dict(beta=1.5), "beta"),
    (dict(lr=0.0), "lr"), (dict(lr=-0.1), "lr"), (dict(lr=float("nan")), "lr"),
    (dict(steps=-1), "steps"), (dict(steps=2.5), "steps"),
])
def test_bad_parameters_raise_value_error_naming_them(kw, name):
    args = {**dict(lr=0.1, beta=0.5, steps=10), **kw}
    with pytest.raises(ValueError, match=name):
        optim.momentum_path(lambda th: th, [1.0, 2.0], **args)


def test_grad_fn_wrong_shape_raises():
    with pytest.raises(ValueError, match="grad_fn"):
        optim.momentum_path(lambda th: np.ones(3), [1.0, 2.0], lr=0.1, beta=0.5, steps=3)
    with pytest.raises(ValueError, match="grad_fn"):
        optim.momentum_path(lambda th: 1.0, [1.0, 2.0], lr=0.1, beta=0.5, steps=3)
    with pytest.raises(ValueError, match="grad_fn"):
        optim.convention_path(lambda th: th[:1], [1.0, 2.0], convention="ema", lr=0.1, beta=0.5, steps=3)


def test_theta0_must_be_a_finite_vector():
    with pytest.raises(ValueError, match="theta0"):
        optim.momentum_path(lambda th: th, [[1.0, 2.0]], lr=0.1, beta=0.5, steps=3)
    with pytest.raises(ValueError, match="theta0"):
        optim.momentum_path(lambda th: th, [np.inf], lr=0.1, beta=0.5, steps=3)


# ----------------------------------------------------------------------------- weighted sum
@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.99])
def test_unrolled_sum_equals_recursive_path(beta):
    grad, th0, lam = random_quadratic(7, 3)
    lr = 0.5 / lam.max()
    tr = optim.momentum_trace(grad, th0, lr=lr, beta=beta, steps=60)
    m = optim.unrolled_movement(tr.grad, lr=lr, beta=beta)
    assert m.shape == tr.movement.shape
    np.testing.assert_allclose(m, tr.movement, rtol=0, atol=1e-12)
    np.testing.assert_allclose(optim.path_from_movements(th0, m[1:]), tr.theta[1:], rtol=0, atol=1e-12)


def test_weights_and_horizon():
    w = optim.momentum_weights(0.9, 4)
    np.testing.assert_allclose(w, [0.729, 0.81, 0.9, 1.0])      # oldest first, newest weight 1
    assert optim.effective_horizon(0.9) == pytest.approx(10.0)
    assert optim.momentum_weights(0.9, 2000).sum() == pytest.approx(10.0, rel=1e-9)
    np.testing.assert_array_equal(optim.momentum_weights(0.0, 3), [0.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="beta"):
        optim.effective_horizon(1.0)


def test_vector_addition_arrows_sum_to_the_movement():
    grad, th0, _ = random_quadratic(3, 2)
    tr = optim.momentum_trace(grad, th0, lr=0.3, beta=0.8, steps=10)
    for t in range(1, 11):
        prev, g, new = tr.arrows(t)
        np.testing.assert_allclose(prev + g, new, atol=1e-15)
        np.testing.assert_allclose(tr.theta[t - 1] + new, tr.theta[t], atol=1e-15)
    with pytest.raises(ValueError, match="t must"):
        tr.arrows(0)


# ----------------------------------------------------------------------------- conventions
def test_four_conventions_give_one_path_at_constant_step():
    grad, th0, lam = random_quadratic(11, 4)
    eta, beta = 0.7 / lam.max(), 0.85
    ref = optim.momentum_path(grad, th0, lr=eta, beta=beta, steps=150)
    for name in optim.CONVENTIONS:
        lr = optim.convention_lr(name, eta, beta)
        path, moves = optim.convention_path(grad, th0, convention=name, lr=lr, beta=beta, steps=150)
        assert np.max(np.abs(path - ref)) < 1e-12, name
        np.testing.assert_allclose(moves[1:], np.diff(ref, axis=0), atol=1e-12)
        assert optim.lecture_lr(name, lr, beta) == pytest.approx(eta)
    assert optim.convention_lr("ema", 0.01, 0.9) == pytest.approx(0.1)


def test_ema_with_the_same_number_as_lecture_is_a_different_path():
    grad, th0, lam = random_quadratic(12, 2)
    a, _ = optim.convention_path(grad, th0, convention="ema", lr=0.1, beta=0.9, steps=50)
    b = optim.momentum_path(grad, th0, lr=0.1, beta=0.9, steps=50)
    assert np.max(np.abs(a - b)) > 1e-3


def test_schedule_breaks_the_equivalence_and_torch_follows_pytorch_form():
    grad, th0, lam = random_quadratic(13, 2)
    demo = optim.schedule_demo(grad, th0, lr=0.5 / lam.max(), beta=0.9, steps=80, at=30, factor=0.1)
    assert demo["gap"]["before"] < 1e-12
    assert demo["gap"]["after"] > 1e-3
    assert np.max(np.abs(demo["torch"] - demo["pytorch"])) < 1e-12       # torch keeps the raw sum of g
    assert np.max(np.abs(demo["sutskever"] - demo["lecture"])) < 1e-12   # same form, other letters
    assert np.max(np.abs(demo["ema"] - demo["pytorch"])) < 1e-12         # α_t = η_t/(1−β) every step
    np.testing.assert_allclose(demo["schedule"][:30], 0.5 / lam.max())
    np.testing.assert_allclose(demo["schedule"][30:], 0.05 / lam.max())


def test_convention_and_schedule_validation():
    g = lambda th: th  # noqa: E731
    with pytest.raises(ValueError, match="convention"):
        optim.convention_path(g, [1.0], convention="adam", lr=0.1, beta=0.5, steps=3)
    with pytest.raises(ValueError, match="lr"):
        optim.convention_path(g, [1.0], convention="lecture", lr=[0.1, 0.1], beta=0.5, steps=3)
    with pytest.raises(ValueError, match="lr"):
        optim.convention_path(g, [1.0], convention="lecture", lr=[0.1, -0.1, 0.1], beta=0.5, steps=3)
    with pytest.raises(ValueError, match="at"):
        optim.step_decay(0.1, 10, at=11)
    with pytest.raises(ValueError, match="beta"):
        optim.torch_sgd_path(g, [1.0], lr=0.1, beta=0.0, steps=3, nesterov=True)


def test_nesterov_is_a_different_rule():
    grad, th0, lam = random_quadratic(14, 2)
    a, _ = optim.torch_sgd_path(grad, th0, lr=0.5 / lam.max(), beta=0.9, steps=30, nesterov=True)
    b = optim.momentum_path(grad, th0, lr=0.5 / lam.max(), beta=0.9, steps=30)
    assert np.max(np.abs(a - b)) > 1e-3


@pytest.mark.parametrize("seed", range(6))
def test_nesterov_rule_is_torch_sgd_nesterov_on_the_lookahead_point(seed):
    # m = β·m − η·∇L(θ + β·m), θ = θ + m; torch's parameter is φ = θ + β·m, its buffer −m/η
    grad, th0, lam = random_quadratic(seed, d=2 + seed % 4)
    rng = np.random.default_rng(200 + seed)
    beta = float(rng.uniform(0.05, 0.95))
    lr = float(rng.uniform(0.2, 1.8)) / lam.max()
    tr = optim.momentum_trace(grad, th0, lr=lr, beta=beta, steps=200, nesterov=True)
    tpath, buf = optim.torch_sgd_path(grad, th0, lr=lr, beta=beta, steps=200, nesterov=True)
    assert np.all(np.isfinite(tr.theta))
    assert np.max(np.abs(optim.nesterov_lookahead(tr) - tpath)) < 1e-12
    assert np.max(np.abs(tr.movement + lr * buf)) < 1e-12
    np.testing.assert_array_equal(optim.momentum_path(grad, th0, lr=lr, beta=beta, steps=200, nesterov=True),
                                  tr.theta)


def test_nesterov_first_steps_by_hand():
    # L = ½θ², g = θ: m¹ = −η·θ⁰ (m⁰ = 0), θ¹ = θ⁰ + m¹; m² = β·m¹ − η·(θ¹ + β·m¹)
    lr, beta = 0.1, 0.9
    tr = optim.momentum_trace(lambda th: th, [1.0], lr=lr, beta=beta, steps=2, nesterov=True)
    m1 = -lr
    th1 = 1 + m1
    m2 = beta * m1 - lr * (th1 + beta * m1)
    np.testing.assert_allclose(tr.theta[:, 0], [1.0, th1, th1 + m2], atol=1e-15)
    np.testing.assert_allclose(tr.grad[:, 0], [1.0, th1 + beta * m1], atol=1e-15)
    assert tr.nesterov and not optim.momentum_trace(lambda th: th, [1.0], lr=lr, beta=beta, steps=2).nesterov


# ----------------------------------------------------------------------------- minibatch_path
def test_minibatch_path_numbers():
    prob = make_toy_regression(20, seed=0)
    th0 = np.array([-2.0, 2.5])
    path = optim.minibatch_path(prob, th0, batch_size=5, lr=0.1, epochs=2, seed=0)
    assert path.shape == (9, 2)                       # 2 epochs × 4 batches + θ⁰
    idx = epoch_batches(20, 5, seed=0, epoch=0)[0]
    np.testing.assert_allclose(path[1], th0 - 0.1 * prob.grad(th0, idx), atol=1e-15)
    # by hand, with momentum
    th, m, rows = th0.copy(), np.zeros(2), [th0]
    for e in range(2):
        for idx in epoch_batches(20, 5, seed=0, epoch=e):
            m = 0.5 * m - 0.1 * prob.grad(th, idx)
            th = th + m
            rows.append(th)
    got = optim.minibatch_path(prob, th0, batch_size=5, lr=0.1, epochs=2, seed=0, beta=0.5)
    np.testing.assert_allclose(got, np.array(rows), atol=1e-14)


def test_full_batch_minibatch_path_is_gradient_descent():
    prob = make_toy_regression(20, seed=1)
    th0 = np.array([1.0, 1.0])
    a = optim.minibatch_path(prob, th0, batch_size=20, lr=0.2, epochs=15, seed=3, beta=0.7)
    b = optim.momentum_path(prob.grad, th0, lr=0.2, beta=0.7, steps=15)
    np.testing.assert_allclose(a, b, atol=1e-13)
    # it approaches the least-squares minimiser
    long = optim.minibatch_path(prob, th0, batch_size=20, lr=0.2, epochs=300, seed=3, beta=0.7)
    np.testing.assert_allclose(long[-1], prob.minimizer(), atol=1e-8)


def test_minibatch_path_validation_and_divergence():
    prob = make_toy_regression(20, seed=0)
    with pytest.raises(ValueError, match="batch_size"):
        optim.minibatch_path(prob, [0.0, 0.0], batch_size=0, lr=0.1, epochs=1, seed=0)
    with pytest.raises(ValueError, match="beta"):
        optim.minibatch_path(prob, [0.0, 0.0], batch_size=4, lr=0.1, epochs=1, seed=0, beta=1.0)
    path = optim.minibatch_path(prob, [0.0, 0.0], batch_size=20, lr=5.0, epochs=100, seed=0)
    assert np.isnan(path[-1]).all() and np.isfinite(path[0]).all()


def test_goyal_momentum_correction_is_pytorchs_form_under_a_schedule():
    grad, th0, lam = random_quadratic(21, 3)
    sched = optim.step_decay(0.8 / lam.max(), 60, at=20, factor=0.1)
    sched[40:] *= 30.0   # and a rise, as in a warm-up
    corrected = optim.momentum_correction_path(grad, th0, lr=sched, beta=0.8, steps=60)
    pytorch, _ = optim.convention_path(grad, th0, convention="pytorch", lr=sched, beta=0.8, steps=60)
    lecture, _ = optim.convention_path(grad, th0, convention="lecture", lr=sched, beta=0.8, steps=60)
    assert np.max(np.abs(corrected - pytorch)) < 1e-12
    assert np.max(np.abs(lecture - pytorch)) > 1e-2          # without the correction they part
    # a constant step needs no correction: the lecture's path itself
    const = optim.momentum_correction_path(grad, th0, lr=0.3, beta=0.8, steps=30)
    np.testing.assert_array_equal(const, optim.momentum_path(grad, th0, lr=0.3, beta=0.8, steps=30))
    demo = optim.schedule_demo(grad, th0, lr=0.4, beta=0.8, steps=40, at=20, factor=0.1)
    assert np.max(np.abs(demo["corrected"] - demo["pytorch"])) < 1e-12
