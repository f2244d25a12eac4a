"""lecture_utils.nqm: the noisy quadratic model's expected loss in closed form, steps to a target."""
import numpy as np
import pytest

from lecture_utils import nqm


def _recursion(model, eta, beta, batch_size, steps):
    """E[L(θᵗ)] for t = 1…steps by iterating the second moments S ← R S Rᵀ + η²(c/B)·11ᵀ per direction."""
    out = []
    s = np.zeros((model.h.size, 2, 2))
    s[:, 0, 0] = model.theta0 ** 2
    r = np.zeros((model.h.size, 2, 2))
    r[:, 0, 0], r[:, 0, 1], r[:, 1, 0], r[:, 1, 1] = 1 - eta * model.h, beta, -eta * model.h, beta
    q = (eta ** 2 * model.c / batch_size)[:, None, None] * np.ones((2, 2))
    for _ in range(steps):
        s = r @ s @ np.transpose(r, (0, 2, 1)) + q
        out.append(0.5 * np.sum(model.h * s[:, 0, 0]))
    return np.array(out)


@pytest.mark.parametrize("beta,eta", [(0.0, 0.3), (0.0, 1.9), (0.5, 0.7), (0.9, 0.05), (0.9, 0.9),
                                      (0.99, 0.02), (0.81, 0.01)])
def test_closed_form_is_the_second_moment_recursion(beta, eta):
    model = nqm.make_nqm(30)
    t = np.arange(1, 301)
    a_t, c_t, stable = nqm.loss_terms(model, [eta], beta, t)
    assert stable[0]
    for b in (1, 16, 1000):
        want = _recursion(model, eta, beta, b, 300)
        # rtol: a double root (β = 0.81, η = 0.01 has one at h = 1) is split by 1e-5 (about 1e-6 relative)
        np.testing.assert_allclose(a_t[0] + c_t[0] / b, want, rtol=1e-5, atol=1e-12)


def test_closed_form_agrees_with_sampled_runs():
    model = nqm.make_nqm(20)
    rng = np.random.default_rng(0)
    eta, beta, b, n = 0.2, 0.8, 8, 4000
    theta = np.tile(model.theta0, (n, 1))
    m = np.zeros_like(theta)
    losses = []
    for _ in range(60):
        g = model.h * theta + rng.standard_normal(theta.shape) * np.sqrt(model.c / b)
        m = beta * m - eta * g
        theta = theta + m
        losses.append(0.5 * np.sum(model.h * theta ** 2, axis=1))
    losses = np.array(losses)
    a_t, c_t, _ = nqm.loss_terms(model, [eta], beta, np.arange(1, 61))
    expected = a_t[0] + c_t[0] / b
    se = losses.std(axis=1, ddof=1) / np.sqrt(n)
    assert np.all(np.abs(losses.mean(axis=1) - expected) < 4 * se)


def test_check_steps_every_update_then_four_percent():
    t = nqm.check_steps(100_000)
    assert list(t[:20]) == list(range(1, 21)) and t[-1] == 100_000
    assert np.all(np.diff(t) > 0)
    assert np.all(t[20:] <= np.ceil(1.04 * t[19:-1]) + 1)       # ~4 % apart, up to the rounding
    assert 230 < len(t) < 240


def test_unstable_steps_never_count_and_bad_input_names_the_parameter():
    model = nqm.make_nqm()
    _, _, stable = nqm.loss_terms(model, [1.9, 2.1], 0.0, [1, 2])
    assert list(stable) == [True, False]
    _, _, stable = nqm.loss_terms(model, [3.7, 3.9], 0.9, [1, 2])      # (2 + 2β)/h_max = 3.8
    assert list(stable) == [True, False]
    table = nqm.steps_table(betas=(0.0,), batch_sizes=(1024,), eff_lrs=(1.0, 4.0))
    assert np.isfinite(table.steps[0.0][0, 0]) and np.isinf(table.steps[0.0][0, 1])
    with pytest.raises(ValueError, match="etas"):
        nqm.loss_terms(model, [0.0], 0.5, [1])
    with pytest.raises(ValueError, match="beta"):
        nqm.loss_terms(model, [0.1], 1.0, [1])
    with pytest.raises(ValueError, match="target_fraction"):
        nqm.steps_table(target_fraction=1.5)


@pytest.fixture(scope="module")
def table():
    return nqm.steps_table()


def test_small_batches_momentum_is_sgd_at_its_best_step(table):
    """Noise-limited: at B ≤ 8 the tuned momentum run needs what the tuned SGD run needs (within the
    √2 grid of η), at the same effective step."""
    s0, e0 = table.best(0.0)
    s9, e9 = table.best(0.9)
    small = table.batch_sizes <= 8
    assert np.all(np.abs(s9[small] / s0[small] - 1) < 0.1)
    np.testing.assert_array_equal(e0[small], e9[small])
    # perfect scaling there: doubling B halves the steps (within 5 %)
    ratio = s0[:4][:-1] / s0[:4][1:]
    assert np.all(np.abs(ratio - 2) < 0.1)


def test_large_batches_momentum_pays_and_sgd_sits_at_its_stability_limit(table):
    s0, e0 = table.best(0.0)
    s9, _ = table.best(0.9)
    both, _ = table.best_over_betas()
    big = table.batch_sizes >= 1024
    # SGD's best effective step is the largest of the grid below 2/h_max = 2
    assert np.all(e0[big] == max(e for e in table.eff_lrs if e < 2.0))
    assert np.all(s0[big] / s9[big] > 1.5)
    assert np.all(s0[big] / both[big] > 3.0)
    assert table.stability_limit(0.9) == pytest.approx(38.0)
