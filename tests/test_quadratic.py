"""lecture_utils.quadratic: Distill's ill-conditioned quadratic, theory against measured paths."""
import math
import time

import numpy as np
import pytest

from lecture_utils import quadratic as quad
from lecture_utils.optim import momentum_path


def test_quadratic_value_grad_hessian():
    q = quad.make_quadratic(100.0, angle=0.3)
    np.testing.assert_allclose(np.linalg.eigvalsh(q.A), [0.01, 1.0], atol=1e-14)
    assert q.kappa == pytest.approx(100.0)
    th = np.array([0.7, -1.2])
    assert q.value(th) == pytest.approx(0.5 * th @ q.A @ th)
    np.testing.assert_allclose(q.grad(th), q.A @ th)
    grid = np.zeros((3, 4, 2))
    assert q.value(grid).shape == (3, 4)
    np.testing.assert_array_equal(q.hessian(), q.A)
    q3 = quad.make_quadratic(eigenvalues=[3.0, 1.0, 2.0])
    np.testing.assert_array_equal(q3.eigenvalues, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="kappa"):
        quad.make_quadratic(0.5)
    with pytest.raises(ValueError, match="eigenvalues"):
        quad.make_quadratic(eigenvalues=[0.0, 1.0])


def test_closed_form_eigenvalues_match_the_iteration_matrix():
    rng = np.random.default_rng(0)
    for _ in range(50):
        a, b, lam = rng.uniform(0.01, 4), rng.uniform(0, 0.99), rng.uniform(0.01, 2)
        s1, s2 = quad.iteration_eigenvalues(a, b, lam)
        want = np.sort_complex(np.linalg.eigvals(quad.iteration_matrix(a, b, lam)))
        got = np.sort_complex(np.array([complex(s1), complex(s2)]))
        np.testing.assert_allclose(got, want, atol=1e-10)
        # the product of the eigenvalues is β (det R = β)
        assert abs(complex(s1) * complex(s2) - b) < 1e-12


def test_iteration_matrix_reproduces_a_step_of_the_rule():
    a, b, lam = 0.7, 0.6, 1.3
    th, m = 0.4, -0.2
    m_new = b * m - a * lam * th
    np.testing.assert_allclose(quad.iteration_matrix(a, b, lam) @ [th, m], [th + m_new, m_new], atol=1e-15)


@pytest.mark.parametrize("kappa", [10.0, 100.0, 1000.0])
def test_measured_rate_at_the_optimum_matches_sqrt_kappa_formula(kappa):
    q = quad.make_quadratic(kappa, angle=0.4)
    opt = quad.optimal_params(q.eigenvalues)
    sk = math.sqrt(kappa)
    assert opt["rate"] == pytest.approx((sk - 1) / (sk + 1))
    assert opt["alpha"] == pytest.approx((2 / (math.sqrt(1 / kappa) + 1)) ** 2)
    assert opt["beta"] == pytest.approx(((sk - 1) / (sk + 1)) ** 2)
    steps = int(40 * sk) + 200
    path = momentum_path(q.grad, [1.0, 1.0], lr=opt["alpha"], beta=opt["beta"], steps=steps)
    measured = quad.measured_rate(path)
    assert measured == pytest.approx((sk - 1) / (sk + 1), rel=0.03)
    rate = quad.theoretical_rate(opt["alpha"], opt["beta"], q.eigenvalues)
    assert rate == pytest.approx(opt["rate"], rel=1e-6)


def test_measured_rate_matches_theory_across_settings():
    q = quad.make_quadratic(100.0)
    for a, b in [(1.0, 0.0), (1.98, 0.0), (1.0, 0.5), (2.5, 0.3), (0.5, 0.9), (3.0, 0.8)]:
        path = momentum_path(q.grad, [1.0, 1.0], lr=a, beta=b, steps=1500)
        th = quad.theoretical_rate(a, b, q.eigenvalues)
        assert quad.measured_rate(path) == pytest.approx(th, rel=0.01), (a, b)


def test_steps_to_1e3_gd_vs_momentum_at_kappa_100():
    q = quad.make_quadratic(100.0)
    gd, mom = quad.optimal_gd(q.eigenvalues), quad.optimal_params(q.eigenvalues)
    assert gd["rate"] == pytest.approx(99 / 101)
    assert quad.theoretical_steps(gd["rate"]) == 346          # ln(1e-3)/ln(0.9802) = 345.4
    assert quad.theoretical_steps(mom["rate"]) == 35          # ln(1e-3)/ln(0.8182) = 34.4
    p_gd = momentum_path(q.grad, [1.0, 1.0], lr=gd["alpha"], beta=0.0, steps=600)
    p_mom = momentum_path(q.grad, [1.0, 1.0], lr=mom["alpha"], beta=mom["beta"], steps=600)
    n_gd, n_mom = quad.steps_to_tol(p_gd, 1e-3), quad.steps_to_tol(p_mom, 1e-3)
    assert n_gd == 346
    # the optimum sits on a double root (σ₁ = σ₂): the error is (a + b·t)·rateᵗ, a few steps slower
    assert 35 <= n_mom <= 70
    assert n_gd / n_mom > 5


def test_stable_region_is_where_the_rate_is_below_one():
    lam = np.array([0.01, 1.0])
    alphas = np.linspace(0.01, 4.0, 120)
    betas = np.linspace(0.0, 0.99, 110)
    rates = quad.rate_map(alphas, betas, lam)
    stable = quad.is_stable(alphas[None, :], betas[:, None], lam)
    edge = np.abs(alphas[None, :] * lam[-1] - (2 + 2 * betas[:, None])) < 0.02
    assert np.array_equal((rates < 1)[~edge], stable[~edge])
    np.testing.assert_allclose(quad.stable_alpha_max(0.5, lam), 3.0)
    assert quad.is_stable(2.9, 0.5, lam) and not quad.is_stable(3.1, 0.5, lam)


def test_rate_map_minimum_is_the_optimum_and_fast():
    lam = np.array([0.01, 1.0])
    opt = quad.optimal_params(lam)
    alphas = np.linspace(0.02, 4.0, 400)
    betas = np.linspace(0.0, 0.99, 400)
    t0 = time.perf_counter()
    rates = quad.rate_map(alphas, betas, lam)
    assert time.perf_counter() - t0 < 1.0
    assert rates.shape == (400, 400)
    i, j = np.unravel_index(np.argmin(rates), rates.shape)
    assert rates.min() >= opt["rate"] - 1e-9
    assert rates.min() == pytest.approx(opt["rate"], rel=0.01)
    assert alphas[j] == pytest.approx(opt["alpha"], abs=0.1)
    assert betas[i] == pytest.approx(opt["beta"], abs=0.02)


def test_momentum_rate_is_at_least_sqrt_beta():
    lam = np.array([0.01, 1.0])
    for a, b in [(0.5, 0.3), (1.0, 0.9), (3.3, 0.67)]:
        assert quad.theoretical_rate(a, b, lam) >= math.sqrt(b) - 1e-9


def test_diverged_path_has_nan_rate_and_no_steps():
    q = quad.make_quadratic(100.0)
    path = momentum_path(q.grad, [1.0, 1.0], lr=3.9, beta=0.2, steps=200)
    assert np.isnan(quad.measured_rate(path))
    assert quad.steps_to_tol(path) is None
    assert quad.theoretical_rate(3.9, 0.2, q.eigenvalues) > 1
    assert quad.theoretical_steps(1.2) == math.inf


@pytest.mark.parametrize("call, name", [
    (lambda: quad.theoretical_rate(0.0, 0.5, [1.0]), "alpha"),
    (lambda: quad.theoretical_rate(1.0, 1.0, [1.0]), "beta"),
    (lambda: quad.theoretical_rate(np.array([1.0, -1.0]), 0.5, [1.0]), "alpha"),
    (lambda: quad.theoretical_rate(1.0, 0.5, [-1.0]), "eigenvalues"),
    (lambda: quad.iteration_matrix(1.0, 0.5, 0.0), "lam"),
    (lambda: quad.steps_to_tol(np.ones((3, 2)), tol=0), "tol"),
    (lambda: quad.theoretical_steps(0.5, tol=2.0), "tol"),
])
def test_validation(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_growth_factor_at_a_saddle():
    from lecture_utils.quadratic import growth_factor

    assert growth_factor(0.1, 0.0, 0.5) == pytest.approx(1.05)
    for alpha, beta, mu in ((0.01, 0.9, 0.08), (0.1, 0.9, 0.08), (0.3, 0.5, 1.0)):
        r = np.array([[1 + alpha * mu, beta], [alpha * mu, beta]])  # iteration_matrix with λ = −μ
        assert growth_factor(alpha, beta, mu) == pytest.approx(max(abs(np.linalg.eigvals(r))), rel=1e-12)
    # at a matched effective step momentum grows the way out more slowly than gradient descent
    assert growth_factor(0.1, 0.9, 0.08) < growth_factor(1.0, 0.0, 0.08)
    with pytest.raises(ValueError, match="beta"):
        growth_factor(0.1, 1.0, 0.1)
    with pytest.raises(ValueError, match="mu"):
        growth_factor(0.1, 0.5, -1.0)
