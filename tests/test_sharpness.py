"""lecture_utils.sharpness: Hessian-vector products, power iteration, ε-sharpness, interpolation,
rescaling."""
import numpy as np
import pytest
import torch

from lecture_utils import sharpness as S
from lecture_utils.data import load_mnist1d
from lecture_utils.train import evaluate, flat_params, make_mlp


def _tiny(dtype=torch.float64, steps=200):
    """A 5-8-3 MLP trained by full-batch GD on 60 random points, so it sits near a minimum."""
    torch.manual_seed(0)
    m = make_mlp(1, n_in=5, hidden=8, n_out=3, depth=1).to(dtype)
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.normal(size=(60, 5)), dtype=dtype)
    y = torch.tensor(rng.integers(0, 3, 60))
    opt = torch.optim.SGD(m.parameters(), lr=0.5)
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(m(x), y).backward()
        opt.step()
    return m, x, y


def test_hvp_matches_the_hessian_and_the_hessian_is_symmetric():
    m, x, y = _tiny()
    h = S.hessian_matrix(m, x, y)
    assert h.shape == (75, 75)
    raw = S.hessian_matrix(m, x, y)
    np.testing.assert_allclose(raw, raw.T, atol=1e-12)
    v = np.random.default_rng(1).normal(size=75)
    np.testing.assert_allclose(S.hvp(m, x, y, v), h @ v, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_power_iteration_matches_exact_top_eigenvalue_within_one_percent(dtype):
    m, x, y = _tiny(dtype)
    exact = np.linalg.eigvalsh(S.hessian_matrix(m.double(), x.double(), y))
    m = m.to(dtype)
    assert exact[-1] > abs(exact[0])          # the top eigenvalue dominates: power iteration finds it
    lam = S.top_hessian_eigenvalue(m, x, y, iters=1000, tol=1e-7)
    assert lam == pytest.approx(exact[-1], rel=0.01)
    # the default settings also land within 1 %
    assert S.top_hessian_eigenvalue(m, x, y) == pytest.approx(exact[-1], rel=0.01)


def test_warm_started_power_iteration_needs_fewer_products_and_returns_the_eigenvector():
    """top_hessian_eigenpair: without v0 it is top_hessian_eigenvalue (same number); from the returned
    eigenvector it converges again in 2 products (the tolerance test needs two), where the random start
    needed more; v is the top eigenvector of the exact Hessian."""
    m, x, y = _tiny()
    h = S.hessian_matrix(m, x, y)
    w, vecs = np.linalg.eigh(h)
    lam, v, used = S.top_hessian_eigenpair(m, x, y, iters=1000, tol=1e-9)
    assert lam == S.top_hessian_eigenvalue(m, x, y, iters=1000, tol=1e-9)
    assert lam == pytest.approx(w[-1], rel=1e-6)
    assert abs(v @ vecs[:, -1]) == pytest.approx(1.0, abs=1e-4)
    lam2, _, used2 = S.top_hessian_eigenpair(m, x, y, v0=v, iters=1000, tol=1e-9)
    assert lam2 == pytest.approx(w[-1], rel=1e-6)
    assert used2 == 2 < used
    with pytest.raises(ValueError, match="v0"):
        S.top_hessian_eigenpair(m, x, y, v0=np.ones(3))
    with pytest.raises(ValueError, match="v0"):
        S.top_hessian_eigenpair(m, x, y, v0=np.zeros(75))


def test_power_iteration_with_a_custom_loss_and_numpy_inputs():
    m, x, y = _tiny()

    def half_mse(out, yy):  # 0.5·mean squared output: Hessian of a linear model is XᵀX/n-like
        return 0.5 * (out ** 2).mean()

    exact = np.linalg.eigvalsh(S.hessian_matrix(m, x, y, loss_fn=half_mse))
    lam = S.top_hessian_eigenvalue(m, x.numpy(), y.numpy(), loss_fn=half_mse, iters=2000, tol=1e-9)
    assert lam == pytest.approx(max(exact[-1], -exact[0], key=abs), rel=0.01)


@pytest.mark.parametrize("as_numpy", [False, True])
def test_regression_targets_of_shape_n_by_1_with_an_mse_loss(as_numpy):
    """A custom loss takes its own targets: y of shape (n, 1) for MSE (issue 14). For a linear model
    ŷ = Xw + b and L = mean((ŷ − y)²) the Hessian in (w, b) is 2/n·[X 1]ᵀ[X 1], whatever y is."""
    torch.manual_seed(0)
    rng = np.random.default_rng(3)
    n, d = 50, 4
    x = rng.normal(size=(n, d)) * np.array([3.0, 1.0, 0.5, 0.2])     # one dominant direction
    y = rng.normal(size=(n, 1))
    model = torch.nn.Linear(d, 1).double()
    mse = torch.nn.functional.mse_loss
    xa = np.hstack([x, np.ones((n, 1))])
    exact = np.linalg.eigvalsh(2.0 / n * xa.T @ xa)                   # closed form, ascending
    xx, yy = (x, y) if as_numpy else (torch.tensor(x), torch.tensor(y))
    lam = S.top_hessian_eigenvalue(model, xx, yy, loss_fn=mse, iters=5000, tol=1e-12)
    assert lam == pytest.approx(exact[-1], rel=1e-6)
    np.testing.assert_allclose(S.hessian_matrix(model, xx, yy, loss_fn=mse), 2.0 / n * xa.T @ xa, atol=1e-10)
    assert S.epsilon_sharpness(model, xx, yy, loss_fn=mse) > 0
    # a custom loss still needs one target row per example; the default loss still wants 1-D labels
    with pytest.raises(ValueError, match="y must have one row per row of x"):
        S.top_hessian_eigenvalue(model, xx, yy[:-1], loss_fn=mse)
    with pytest.raises(ValueError, match="y must be a 1-D array"):
        S.top_hessian_eigenvalue(model, xx, yy)


def test_epsilon_sharpness_is_positive_grows_with_eps_and_leaves_the_model_unchanged():
    m, x, y = _tiny()
    before = flat_params(m)
    small = S.epsilon_sharpness(m, x, y, eps=1e-4)
    large = S.epsilon_sharpness(m, x, y, eps=1e-2)
    assert 0 < small < large
    np.testing.assert_array_equal(flat_params(m), before)
    # near a minimum the rise is about quadratic in ε: 100× ε → far more than 10× the rise
    assert large / small > 20


def test_rescaling_keeps_the_function_and_changes_the_top_eigenvalue():
    m, x, y = _tiny()
    lam = S.top_hessian_eigenvalue(m, x, y, iters=500, tol=1e-8)
    for c in (0.2, 5.0):
        r = S.rescale_layers(m, 0, c)
        torch.testing.assert_close(r(x), m(x), rtol=1e-10, atol=1e-10)
        lam_c = S.top_hessian_eigenvalue(r, x, y, iters=500, tol=1e-8)
        assert abs(lam_c / lam - 1) > 0.5        # same function, very different "sharpness"
    np.testing.assert_array_equal(flat_params(S.rescale_layers(m, 0, 1.0)), flat_params(m))


def test_interpolation_curve_ends_are_the_two_models():
    data = load_mnist1d().subset(300, 200)
    a, b = make_mlp(0, hidden=16), make_mlp(1, hidden=16)
    wa, wb = flat_params(a), flat_params(b)
    curve = S.interpolation_curve(wa, wb, data, alphas=[-1.0, 0.0, 0.5, 1.0, 2.0], hidden=16)
    x, y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    assert curve["train_loss"][1] == pytest.approx(evaluate(a, x, y)[0], rel=1e-5)
    assert curve["train_loss"][3] == pytest.approx(evaluate(b, x, y)[0], rel=1e-5)
    np.testing.assert_allclose(flat_params(S.model_from_flat(0.5 * wa + 0.5 * wb, hidden=16)),
                               (0.5 * wa + 0.5 * wb).astype(np.float32), rtol=0, atol=0)
    assert set(curve) == {"alpha", "train_loss", "train_acc", "test_loss", "test_acc"}


def test_flat_sharp_rise_is_quadratic_for_small_shifts_and_larger_at_the_sharp_minimum():
    assert S.flat_sharp_rise(0.0) == {"flat": 0.0, "sharp": 0.0}
    d = 0.01
    r = S.flat_sharp_rise(d)
    assert r["flat"] == pytest.approx(0.5 * d ** 2 / S.FLAT["width"] ** 2, rel=0.01)
    assert r["sharp"] == pytest.approx(0.5 * d ** 2 / S.SHARP["width"] ** 2, rel=0.01)
    for d in (0.1, 0.3, 0.5):
        r = S.flat_sharp_rise(d)
        assert r["sharp"] > 5 * r["flat"] > 0
    w = np.linspace(-4, 4, 9)
    np.testing.assert_allclose(S.flat_sharp_loss(w, 0.5), S.flat_sharp_loss(w - 0.5))


@pytest.mark.parametrize("call, name", [
    (lambda m, x, y: S.top_hessian_eigenvalue(m, x, y, iters=0), "iters"),
    (lambda m, x, y: S.top_hessian_eigenvalue(m, x, y, tol=0.0), "tol"),
    (lambda m, x, y: S.top_hessian_eigenvalue(m, x, y, seed=-1), "seed"),
    (lambda m, x, y: S.top_hessian_eigenvalue(m, x, y, loss_fn="mse"), "loss_fn"),
    (lambda m, x, y: S.top_hessian_eigenvalue("net", x, y), "model"),
    (lambda m, x, y: S.top_hessian_eigenvalue(m, x[:, :, None], y), "x"),
    (lambda m, x, y: S.top_hessian_eigenvalue(m, x, y[:-1]), "y"),
    (lambda m, x, y: S.hvp(m, x, y, np.ones(3)), "v"),
    (lambda m, x, y: S.hessian_matrix(m, x, y, max_params=10), "max_params"),
    (lambda m, x, y: S.epsilon_sharpness(m, x, y, eps=0.0), "eps"),
    (lambda m, x, y: S.epsilon_sharpness(m, x, y, steps=0), "steps"),
    (lambda m, x, y: S.rescale_layers(m, 0, 0.0), "c"),
    (lambda m, x, y: S.rescale_layers(m, 1, 2.0), "layer"),
    (lambda m, x, y: S.set_flat_params(m, np.zeros(4)), "w"),
    (lambda m, x, y: S.interpolation_curve(np.zeros(4), np.zeros(5), None), "w_lb"),
    (lambda m, x, y: S.flat_sharp_rise(float("nan")), "shift"),
])
def test_bad_input_raises_value_error_naming_the_parameter(call, name):
    m, x, y = _tiny(steps=0)
    with pytest.raises(ValueError, match=name):
        call(m, x, y)
