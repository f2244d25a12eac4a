"""lecture_utils.scaling: linear scaling, the gradient noise scale, critical batch size, LARS."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lecture_utils import noise, scaling
from lecture_utils.data import load_mnist1d
from lecture_utils.train import make_mlp, train_classifier


@pytest.fixture(scope="module")
def small():
    """A small MLP (40-8-8-10) on 200 MNIST-1D examples, a little trained so G is not tiny."""
    d = load_mnist1d().subset(200, 50)
    x, y = torch.from_numpy(d.x_train), torch.from_numpy(d.y_train)
    model = make_mlp(3, hidden=8)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    for _ in range(20):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return model, x, y


def test_scaled_lr():
    assert scaling.scaled_lr(512) == pytest.approx(1.6)
    assert scaling.scaled_lr(128, base_lr=0.2, base_batch_size=32, rule="sqrt") == pytest.approx(0.4)
    assert scaling.scaled_lr(4000, rule="none") == 0.1
    with pytest.raises(ValueError, match="batch_size"):
        scaling.scaled_lr(0)
    with pytest.raises(ValueError, match="rule"):
        scaling.scaled_lr(64, rule="cubic")


def test_per_example_gradients_match_a_loop(small):
    model, x, y = small
    g = scaling.per_example_gradients(model, x[:7], y[:7], chunk=3)
    params = list(model.parameters())
    for i in range(7):
        gi = torch.autograd.grad(F.cross_entropy(model(x[i:i + 1]), y[i:i + 1]), params)
        ref = torch.cat([q.reshape(-1) for q in gi]).double().numpy()
        np.testing.assert_allclose(g[i], ref, rtol=1e-5, atol=1e-7)


def test_two_batch_estimator_is_exact_on_expected_norms(small):
    """E|G_B|² = |G|² + c(B)·tr Σ exactly; feeding those expectations recovers |G|² and tr Σ."""
    model, x, y = small
    exact = scaling.exact_noise_scale(scaling.per_example_gradients(model, x, y))
    n = len(y)
    for n_examples in (None, n):
        small, big = (exact.g2 + noise.finite_population_factor(n_examples, b) * exact.trace for b in (4, 64))
        est = scaling.noise_scale_from_norms(small, big, 4, 64, n_examples=n_examples)
        assert est.g2 == pytest.approx(exact.g2, rel=1e-10)
        assert est.trace == pytest.approx(exact.trace, rel=1e-10)
        assert est.b_simple == pytest.approx(exact.b_simple, rel=1e-9)
    assert 1 < exact.b_simple < n  # a number in a meaningful range for this model


def test_noise_scale_estimator_matches_per_example_computation(small):
    """Measured with real batch gradients (distinct examples), the estimate is within 10 % of the
    exact B_simple = tr Σ / |G|² computed from all per-example gradients."""
    model, x, y = small
    exact = scaling.exact_noise_scale(scaling.per_example_gradients(model, x, y))
    est = scaling.estimate_noise_scale(model, x, y, b_small=4, b_big=100, n_pairs=400, seed=0)
    assert est.trace == pytest.approx(exact.trace, rel=0.1)
    assert est.g2 == pytest.approx(exact.g2, rel=0.1)
    assert est.b_simple == pytest.approx(exact.b_simple, rel=0.1)
    # with B_big = N the big batch is the full gradient: |G|² exact, tr Σ from the small batches
    est = scaling.estimate_noise_scale(model, x, y, b_small=8, b_big=len(y), n_pairs=200, seed=1)
    assert est.g2 == pytest.approx(exact.g2, rel=0.05)
    assert est.b_simple == pytest.approx(exact.b_simple, rel=0.1)


def test_noise_scale_validation():
    with pytest.raises(ValueError, match="b_big"):
        scaling.noise_scale_from_norms(2.0, 1.0, 64, 32)
    with pytest.raises(ValueError, match="sq_norm_small"):
        scaling.noise_scale_from_norms(-1.0, 1.0, 4, 32)
    with pytest.raises(ValueError, match="per_example_grads"):
        scaling.exact_noise_scale(np.ones((1, 3)))


def test_fit_critical_batch_recovers_known_curve():
    b = np.array([8, 32, 128, 512, 2048, 4000])
    s = scaling.critical_curve(b, 40.0, 300.0)
    fit = scaling.fit_critical_batch(b, s)
    assert fit["s_min"] == pytest.approx(40.0, rel=1e-6)
    assert fit["b_crit"] == pytest.approx(300.0, rel=1e-6)
    assert fit["e_min"] == pytest.approx(12000.0, rel=1e-6)
    # the relation (S/S_min - 1)(E/E_min - 1) = 1 holds on the curve
    e = b * s
    np.testing.assert_allclose((s / 40.0 - 1) * (e / 12000.0 - 1), 1.0, rtol=1e-9)
    with pytest.raises(ValueError, match="steps"):
        scaling.fit_critical_batch(b, np.r_[s[:-1], np.nan])


def test_steps_to_target_is_train_classifier_run():
    """Same batches and initial weights as train_classifier: the loss curve at step k equals the
    training loss of train_classifier stopped after k updates."""
    d = load_mnist1d().subset(500, 100)
    r = scaling.steps_to_target(d, batch_size=50, lr=0.2, seed=1, target_loss=1e-9, max_steps=23)
    assert r["status"] == "max_steps" and r["steps"] is None
    k = r["curve"]["step"][-1]
    ref = train_classifier(d, batch_size=50, lr=0.2, seed=1, max_steps=k)
    assert r["curve"]["train_loss"][-1] == pytest.approx(ref.train_loss, abs=1e-6)
    hit = scaling.steps_to_target(d, batch_size=50, lr=0.2, seed=1, target_loss=2.0, max_steps=200)
    assert hit["status"] == "target_reached" and hit["steps"] == hit["curve"]["step"][-1]
    assert hit["curve"]["train_loss"][-1] <= 2.0 < hit["curve"]["train_loss"][-2]
    bad = scaling.steps_to_target(d, batch_size=50, lr=500.0, seed=1, target_loss=0.1, max_steps=200)
    assert bad["status"] == "diverged" and bad["steps"] is None


def test_trust_ratios_and_lars_step():
    d = load_mnist1d().subset(256, 10)
    x, y = torch.from_numpy(d.x_train), torch.from_numpy(d.y_train)
    model = make_mlp(0)
    with pytest.raises(ValueError, match="backward"):
        scaling.trust_ratios(model)
    F.cross_entropy(model(x), y).backward()
    ratios = scaling.trust_ratios(model)
    assert list(ratios) == ["0", "2", "4"]
    lin = [m for m in model if isinstance(m, torch.nn.Linear)]
    for (_, r), m in zip(ratios.items(), lin):
        assert r == pytest.approx(float(m.weight.detach().norm() / m.weight.grad.norm()), rel=1e-6)
    before = [m.weight.detach().clone() for m in lin]
    scaling.lars_step(model, 1.0, trust=0.01)
    for w0, m in zip(before, lin):  # every layer moved by 1 % of its norm
        assert float((m.weight.detach() - w0).norm() / w0.norm()) == pytest.approx(0.01, rel=1e-4)


def test_train_lars_and_sgd_on_same_batches():
    d = load_mnist1d().subset(400, 100)
    sgd = scaling.train_lars(d, batch_size=100, lr=0.3, seed=0, max_steps=12, optimizer="sgd")
    ref = train_classifier(d, batch_size=100, lr=0.3, seed=0, max_steps=12)
    assert sgd["train_loss"] == pytest.approx(ref.train_loss, abs=1e-6)
    lars = scaling.train_lars(d, batch_size=100, lr=1.0, seed=0, max_steps=12, trust=0.02, record_every=4)
    assert lars["status"] == sgd["status"] == "max_steps" and lars["ratios"]["step"] == [0, 4, 8]
    assert lars["train_loss"] < 2.2


def test_exact_trace_agrees_with_notebook_02_ghost_norms(small):
    """tr Σ from vmap per-example gradients (here) equals notebook 02's one-pass ghost-norm value."""

    model, x, y = small
    exact = scaling.exact_noise_scale(scaling.per_example_gradients(model, x, y))
    assert noise.per_example_variance(model, x, y) == pytest.approx(exact.trace, rel=1e-6)
    g = noise.full_gradient(model, x, y)
    assert float(g @ g) == pytest.approx(exact.g2, rel=1e-6)


def test_two_batch_estimate_on_the_course_mlp():
    """The course MLP (40-256-256-10) on all 4000 examples: the two-batch estimate (B 32 / 512,
    distinct examples) against the exact tr Σ and |G|² (ghost norms, notebook 02)."""

    d = load_mnist1d()
    x, y = torch.from_numpy(d.x_train), torch.from_numpy(d.y_train)
    model = make_mlp(0)
    g = noise.full_gradient(model, x, y)
    tr = noise.per_example_variance(model, x, y, full=g)
    est = scaling.estimate_noise_scale(model, x, y, b_small=32, b_big=512, n_pairs=64, seed=0)
    assert est.trace == pytest.approx(tr, rel=0.15)
    assert est.g2 == pytest.approx(float(g @ g), rel=0.15)


def test_lars_optimizer_is_lars_step():
    """train_classifier(make_optimizer=lars_optimizer) takes exactly the steps of lars_step."""
    d = load_mnist1d().subset(256, 10)
    x, y = torch.from_numpy(d.x_train), torch.from_numpy(d.y_train)
    a, b = make_mlp(0), make_mlp(0)
    opt = scaling.lars_optimizer(b.parameters(), 0.7, trust=0.03)
    for _ in range(3):
        for m in (a, b):
            m.zero_grad(set_to_none=True)
            F.cross_entropy(m(x), y).backward()
        scaling.lars_step(a, 0.7, trust=0.03)
        opt.step()
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    with pytest.raises(ValueError, match="trust"):
        scaling.lars_optimizer(b.parameters(), 0.7, trust=0.0)
    with pytest.raises(ValueError, match="lr"):
        scaling.lars_optimizer(b.parameters(), -1.0)
