"""lecture_utils.noise: mini-batch gradient variance ∝ 1/B on MNIST-1D, per-example gradient norms."""
import numpy as np
import pytest
import torch

from lecture_utils import noise as N
from lecture_utils.seeding import set_threads
from lecture_utils.train import as_tensors, flat_params, make_mlp


@pytest.fixture(scope="module")
def xy(mnist):
    set_threads()
    x, y, _, _ = as_tensors(mnist.subset(1000, 10))
    return x, y


@pytest.fixture(scope="module")
def measured(xy):
    x, y = xy
    model = make_mlp(0)
    return N.gradient_noise(model, x, y, [1, 4, 16, 64, 256], n_batches=32, min_batches=8, seed=0)


def test_variance_falls_as_one_over_b(measured):
    slope = measured.slope()
    assert -1.12 < slope < -0.9, slope          # ≈ −1 (N = 1000: the (N−B)/(N−1) factor bends it a little)
    assert np.all(np.diff(measured.variance) < 0)
    # each measured point agrees with tr(Σ)/B·(N−B)/(N−1) within 25 %
    ratio = measured.variance / measured.predicted()
    assert np.all(np.abs(ratio - 1) < 0.25), ratio
    assert measured.trace == pytest.approx(measured.variance[0], rel=0.25)   # B = 1 measures tr(Σ) itself


def test_cosines_grow_with_batch_size(measured):
    c = measured.mean_cosine()
    assert c[0] < 0.3 < 0.8 < c[-1] <= 1.0
    assert np.all(np.diff(c) > 0)
    assert len(measured.cosines[0]) == 32 and len(measured.cosines[-1]) == 32


def test_ghost_norm_trace_matches_per_example_gradients(xy):
    x, y = xy[0][:40], xy[1][:40]
    model = make_mlp(1, hidden=32)
    gi = N.batch_gradients(model, x, y, np.arange(40)[:, None])
    g = N.full_gradient(model, x, y)
    assert gi.mean(axis=0) == pytest.approx(g, rel=1e-4, abs=1e-7)
    exact = float(np.mean(np.sum(gi**2, axis=1)))
    assert N.mean_sq_example_grad(model, x, y) == pytest.approx(exact, rel=1e-5)
    assert N.per_example_variance(model, x, y) == pytest.approx(float(np.mean(np.sum((gi - g) ** 2, axis=1))),
                                                                rel=1e-4)
    sampled = N.mean_sq_example_grad(model, x, y, exact=False, n_sample=40)   # all 40: the same number
    assert sampled == pytest.approx(exact, rel=1e-5)


def test_non_linear_model_uses_sampling(xy):
    x, y = xy[0][:60], xy[1][:60]
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(40, 8), torch.nn.LayerNorm(8), torch.nn.Linear(8, 10))
    est = N.mean_sq_example_grad(model, x, y, n_sample=60)
    gi = N.batch_gradients(model, x, y, np.arange(60)[:, None])
    assert est == pytest.approx(float(np.mean(np.sum(gi**2, axis=1))), rel=1e-5)


def test_model_is_left_unchanged(xy):
    x, y = xy
    model = make_mlp(0, hidden=16)
    model.train()
    before = flat_params(model)
    threads = torch.get_num_threads()
    N.gradient_noise(model, x, y, [1, 8], n_batches=4, min_batches=2, threads=threads % 2 + 1)
    assert np.array_equal(flat_params(model), before)
    assert model.training
    assert all(p.grad is None for p in model.parameters())
    assert torch.get_num_threads() == threads      # the caller's setting is restored after the call


def test_sample_batches_distinct_and_seeded():
    b = N.sample_batches(100, 10, 5, seed=0)
    assert b.shape == (5, 10)
    assert all(len(set(row)) == 10 for row in b)
    assert np.array_equal(b, N.sample_batches(100, 10, 5, seed=0))
    assert not np.array_equal(b, N.sample_batches(100, 10, 5, seed=1))
    r = N.sample_batches(5, 5, 50, seed=0, replace=True)
    assert any(len(set(row)) < 5 for row in r)


def test_loglog_slope_exact_power_law():
    x = np.array([1, 2, 4, 8, 16.0])
    assert N.loglog_slope(x, 3.0 / x) == pytest.approx(-1.0)
    assert N.loglog_slope(x, x**0.5) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="positive"):
        N.loglog_slope(x, -x)


@pytest.mark.parametrize("kwargs,name", [
    (dict(batch_sizes=[0]), "batch_sizes"), (dict(batch_sizes=[1001]), "batch_sizes"),
    (dict(batch_sizes=[]), "batch_sizes"), (dict(n_batches=1), "n_batches"), (dict(seed=-1), "seed"),
    (dict(min_batches=100, n_batches=10), "min_batches"),
])
def test_gradient_noise_refuses(xy, kwargs, name):
    x, y = xy
    with pytest.raises(ValueError, match=name):
        N.gradient_noise(make_mlp(0, hidden=8), x, y, **{"batch_sizes": [1], **kwargs})


def test_bad_model_and_data_refused(xy):
    x, y = xy
    with pytest.raises(ValueError, match="model"):
        N.full_gradient("not a model", x, y)
    with pytest.raises(ValueError, match="same N"):
        N.full_gradient(make_mlp(0, hidden=8), x, y[:10])
    with pytest.raises(ValueError, match="x"):
        N.full_gradient(make_mlp(0, hidden=8), x[:, :39], y)
    with pytest.raises(ValueError, match="batches"):
        N.batch_gradients(make_mlp(0, hidden=8), x, y, np.array([[0, 5000]]))


def test_finite_population_factor_is_the_one_formula():
    """c(B) = (N − B)/(B(N − 1)) without replacement, 1/B with; c(1) = 1, c(N) = 0; arrays too."""
    assert N.finite_population_factor(4000, 32) == (4000 - 32) / (32 * 3999)
    assert N.finite_population_factor(None, 4) == 0.25
    assert N.finite_population_factor(64, 1) == 1.0 and N.finite_population_factor(64, 64) == 0.0
    np.testing.assert_array_equal(N.finite_population_factor(10, np.array([1, 5, 10])), [1.0, 5 / 45, 0.0])
    for n, b, name in ((4000, 0, "b"), (4000, 4001, "b"), (1, 1, "n"), (None, "a", "b"), (10, [], "b")):
        with pytest.raises(ValueError, match=name):
            N.finite_population_factor(n, b)


def test_noise_scale_estimators_live_in_noise():
    """scaling re-exports the two-batch estimator from noise (one home; old imports keep working)."""
    from lecture_utils import scaling

    for name in ("NoiseScale", "noise_scale_from_norms", "batch_sq_norms", "estimate_noise_scale",
                 "per_example_gradients", "exact_noise_scale"):
        assert getattr(scaling, name) is getattr(N, name)
    est = N.noise_scale_from_norms(1.0 + N.finite_population_factor(100, 4) * 3.0,
                                   1.0 + N.finite_population_factor(100, 50) * 3.0, 4, 50, n_examples=100)
    assert est.g2 == pytest.approx(1.0) and est.trace == pytest.approx(3.0)


def test_per_batch_distances_give_the_mean_and_its_t_interval(measured):
    """Notebook 02 §5 prints E‖g_𝓑 − g‖² ± a 95 % t-interval over the K_B batches (lecture_utils.stats)."""
    from scipy import stats as st

    assert len(measured.sq_distances) == len(measured.batch_sizes)
    for d, v, se, ci, c, cci in zip(measured.sq_distances, measured.variance, measured.variance_se,
                                    measured.variance_ci(), measured.cosines, measured.cosine_ci()):
        assert d.mean() == pytest.approx(v) and d.std(ddof=1) / np.sqrt(d.size) == pytest.approx(se)
        assert ci.n == d.size and ci.mean == pytest.approx(v)
        assert ci.half == pytest.approx(st.t.ppf(0.975, d.size - 1) * se)
        assert cci.mean == pytest.approx(c.mean()) and cci.n == c.size
    bare = N.GradientNoise(batch_sizes=measured.batch_sizes, variance=measured.variance,
                           variance_se=measured.variance_se, cosines=measured.cosines, full_grad_norm=1.0,
                           trace=None, n_examples=1000, replace=False)
    with pytest.raises(ValueError, match="sq_distances"):
        bare.variance_ci()
