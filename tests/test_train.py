import math

import numpy as np
import pytest
import torch

from lecture_utils.train import flat_params, lr_at_step, make_mlp, train_classifier, warmup_steps


@pytest.fixture(scope="module")
def small(mnist):
    return mnist.subset(1000, 500)


def test_same_initial_weights_whatever_the_batch_size():
    a, b = make_mlp(3), make_mlp(3)
    np.testing.assert_array_equal(flat_params(a), flat_params(b))
    assert not np.array_equal(flat_params(a), flat_params(make_mlp(4)))
    assert sum(p.numel() for p in a.parameters()) == 40 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10


def test_reaches_target_train_accuracy(small):
    r = train_classifier(small, batch_size=32, lr=0.1, seed=0, target_train_acc=0.9, max_epochs=100)
    assert r.status == "target_reached"
    assert r.train_acc >= 0.9
    assert 0.35 < r.test_acc < 0.8
    assert r.steps == r.epochs * 32  # ceil(1000/32) = 32 updates per epoch
    assert len(r.history["train_acc"]) == r.epochs + 1


def test_fixed_budget_is_deterministic_and_small_batches_learn_faster(small):
    r1 = train_classifier(small, batch_size=16, lr=0.1, seed=1, epochs=3)
    r2 = train_classifier(small, batch_size=16, lr=0.1, seed=1, epochs=3)
    assert r1.status == "completed" and r1.steps == 3 * 63
    np.testing.assert_array_equal(flat_params(r1.model), flat_params(r2.model))
    big = train_classifier(small, batch_size=500, lr=0.1, seed=1, epochs=3)
    assert big.steps == 6
    assert r1.train_acc > big.train_acc + 0.1


def test_divergence_is_detected(small):
    with pytest.warns(RuntimeWarning, match="DIVERGED"):
        r = train_classifier(small, batch_size=100, lr=1e4, seed=0, epochs=5)
    assert r.status == "diverged"
    assert not r.ok
    assert math.isnan(r.train_loss)


def test_no_progress_is_detected(small):
    r = train_classifier(small, batch_size=1000, lr=1e-4, seed=0, target_train_acc=0.99, patience=3,
                         max_epochs=50)
    assert r.status == "no_progress" and r.epochs < 50


def test_max_steps_and_warmup(small):
    r = train_classifier(small, batch_size=100, lr=0.1, seed=0, max_steps=25, warmup_steps=10)
    assert r.status == "max_steps" and r.steps == 25
    assert r.epochs == pytest.approx(2.5)
    assert [lr_at_step(s, 1.0, 4) for s in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]


def test_warmup_steps_counts_updates_of_the_first_epochs():
    """W = warmup_epochs·⌈N/B⌉ (N = 4000 by default): the W of lr_at_step, here in updates."""
    assert warmup_steps(5, 512) == 5 * 8 == 40 and warmup_steps(5, 32) == 5 * 125
    assert warmup_steps(5, 4000) == 5 and warmup_steps(5, 3) == 5 * 1334 and warmup_steps(0, 32) == 0
    assert warmup_steps(2, 10, n_examples=25) == 6
    with pytest.raises(ValueError, match="warmup_epochs"):
        warmup_steps(-1, 32)
    with pytest.raises(ValueError, match="batch_size"):
        warmup_steps(5, 4001)


def test_momentum_matches_the_lecture_rule(small):
    """One update with β: θ¹ = θ⁰ − η g⁰ (m⁰ = 0); torch's buffer makes this exact."""
    r = train_classifier(small, batch_size=1000, lr=0.05, seed=0, momentum=0.9, max_steps=1, threads=1)
    m = make_mlp(0)
    x = torch.from_numpy(small.x_train)
    y = torch.from_numpy(small.y_train)
    loss = torch.nn.functional.cross_entropy(m(x), y)
    grads = torch.autograd.grad(loss, list(m.parameters()))
    expect = np.concatenate([(p - 0.05 * g).detach().reshape(-1).double().numpy()
                             for p, g in zip(m.parameters(), grads)])
    np.testing.assert_allclose(flat_params(r.model), expect, atol=1e-6)


@pytest.mark.parametrize("kwargs, name", [
    (dict(batch_size=0), "batch_size"), (dict(batch_size=1001), "batch_size"), (dict(lr=0.0), "lr"),
    (dict(lr=-1), "lr"), (dict(momentum=1.0), "momentum"), (dict(momentum=-0.1), "momentum"),
    (dict(epochs=0), "epochs"), (dict(seed=-1), "seed"),
    (dict(target_train_acc=1.5, epochs=None), "target_train_acc"),
])
def test_validation(small, kwargs, name):
    base = dict(batch_size=10, lr=0.1, seed=0, epochs=1)
    base.update(kwargs)
    with pytest.raises(ValueError, match=name):
        train_classifier(small, **base)


def test_needs_a_dataset():
    with pytest.raises(ValueError, match="data"):
        train_classifier(np.zeros((3, 40)), batch_size=1, lr=0.1, seed=0, epochs=1)


def test_steps_to_a_target_training_loss(small):
    r = train_classifier(small, batch_size=50, lr=0.1, seed=0, target_train_loss=1.5, eval_every_steps=10,
                         max_steps=2000)
    assert r.status == "target_reached"
    assert r.train_loss <= 1.5 and r.steps % 10 == 0
    assert r.history["train_loss"][-2] > 1.5  # the check before the last was still above the target
    with pytest.raises(ValueError, match="eval_every_steps"):
        train_classifier(small, batch_size=50, lr=0.1, seed=0, target_train_loss=1.5)


def test_custom_optimizer_and_backward_hook(small):
    seen = []

    def hook(step, model):
        seen.append((step, float(model[0].weight.grad.norm())))

    def plain_sgd(params, lr, momentum):
        return torch.optim.SGD(params, lr=lr)

    a = train_classifier(small, batch_size=100, lr=0.1, seed=0, max_steps=5, make_optimizer=plain_sgd,
                         on_backward=hook)
    b = train_classifier(small, batch_size=100, lr=0.1, seed=0, max_steps=5)
    assert [s for s, _ in seen] == [0, 1, 2, 3, 4] and all(g > 0 for _, g in seen)
    np.testing.assert_array_equal(flat_params(a.model), flat_params(b.model))


def test_evaluation_at_chosen_steps(small):
    """eval_at_steps: the training loss is checked exactly there; on_eval sees each check; the run
    stops at the first check at or below the target."""
    seen = []
    r = train_classifier(small, batch_size=50, lr=0.1, seed=0, max_steps=60, max_epochs=10,
                         eval_at_steps=[3, 7, 20, 41], on_eval=lambda s, m, tl: seen.append((s, tl)))
    assert r.status == "max_steps" and r.history["step"] == [0, 3, 7, 20, 41, 60]
    assert [s for s, _ in seen] == [3, 7, 20, 41]
    assert [tl for _, tl in seen] == r.history["train_loss"][1:5]
    hit = train_classifier(small, batch_size=50, lr=0.1, seed=0, max_steps=60, max_epochs=10,
                           eval_at_steps=[3, 7, 20, 41], target_train_loss=seen[2][1])
    assert hit.status == "target_reached" and hit.steps == 20
    with pytest.raises(ValueError, match="eval_at_steps"):
        train_classifier(small, batch_size=50, lr=0.1, seed=0, max_steps=5, eval_at_steps=[0])
    with pytest.raises(ValueError, match="eval_at_steps"):
        train_classifier(small, batch_size=50, lr=0.1, seed=0, max_steps=5, eval_at_steps=5)
    with pytest.raises(ValueError, match="not both"):
        train_classifier(small, batch_size=50, lr=0.1, seed=0, max_steps=5, eval_at_steps=[1],
                         eval_every_steps=1)



def _indexed_loop(data, batch_size, lr, seed, steps, momentum=0.0, warmup_steps=0):
    """The loop as it was before it sliced a per-epoch permuted copy: every batch indexed by
    ``epoch_batches``. train_classifier must give the same bits."""
    import torch.nn.functional as F

    from lecture_utils.data import epoch_batches

    x, y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    model = make_mlp(seed)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    step, ep = 0, 0
    while step < steps:
        for idx in epoch_batches(len(y), batch_size, seed=seed, epoch=ep):
            for g in opt.param_groups:
                g["lr"] = lr_at_step(step, lr, warmup_steps)
            ib = torch.from_numpy(idx)
            loss = F.cross_entropy(model(x[ib]), y[ib])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            if step >= steps:
                break
        ep += 1
    return flat_params(model)


@pytest.mark.parametrize("cfg", [dict(batch_size=1, lr=0.05, seed=0, steps=40),
                                 dict(batch_size=32, lr=0.1, seed=1, steps=45, momentum=0.9),
                                 dict(batch_size=300, lr=0.1, seed=2, steps=9, warmup_steps=5)])
def test_same_bits_as_indexing_every_batch(small, cfg):
    """Slicing the epoch's permuted copy is an optimisation only: same batches, same order, same
    weights to the last bit (B=32 crosses an epoch boundary, B=300 has a short last batch)."""
    cfg = dict(cfg)
    steps = cfg.pop("steps")
    r = train_classifier(small, max_steps=steps, **cfg)  # sets torch's threads, which the reference then uses
    np.testing.assert_array_equal(flat_params(r.model), _indexed_loop(small, steps=steps, **cfg))


def test_divergence_says_so(small):
    with pytest.warns(RuntimeWarning, match="DIVERGED after .* updates .*lower the learning rate"):
        r = train_classifier(small, batch_size=32, lr=50, seed=0, epochs=1)
    assert r.status == "diverged" and math.isnan(r.train_acc)
    assert "DIVERGED" in repr(r) and "DIVERGED" in str(r) and r.summary()["status"] == "diverged"
    ok = train_classifier(small, batch_size=500, lr=0.1, seed=0, max_steps=1)
    assert "DIVERGED" not in repr(ok) and str(ok).startswith("max_steps")


def test_same_bits_whatever_thread_count_the_caller_left(small):
    """Thread policy (issue 13 §1): training uses one thread (seeding.THREADS) whatever torch was set
    to before, so a kernel that ran the all-cores timing demo, or a machine with more cores, gets the
    same bits."""
    from lecture_utils.seeding import THREADS
    from lecture_utils.timing import time_per_update

    assert THREADS == 1
    runs = []
    for before in (1, 2, 3):
        torch.set_num_threads(before)
        runs.append(flat_params(train_classifier(small, batch_size=64, lr=0.1, seed=0, momentum=0.9,
                                                 max_steps=20).model))
        assert torch.get_num_threads() == THREADS
    for r in runs[1:]:
        np.testing.assert_array_equal(runs[0], r)
    torch.set_num_threads(1)
    time_per_update([8], data=small, repeats=1, warmup=0, threads=2)
    assert torch.get_num_threads() == 1  # the timing demo gives the caller's thread count back


def test_omp_wait_policy_is_set_before_torch_loads():
    """Importing lecture_utils before torch makes waiting OpenMP threads sleep (PASSIVE) unless the
    environment says otherwise (``setdefault``); once torch is loaded it is too late and left alone."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    code = "import {}; import os; print(os.environ.get('OMP_WAIT_POLICY'))"
    run = lambda first, e=env: subprocess.run([sys.executable, "-c", code.format(first)], env=e,  # noqa: E731
                                              capture_output=True, text=True, check=True).stdout.strip()
    assert run("lecture_utils") == "PASSIVE"
    assert run("torch, lecture_utils") == "None"  # too late once torch is loaded: left alone


def test_divergence_warning_points_at_the_callers_line(small):
    """The learner's own call gets the RuntimeWarning at their line (not inside the package)."""
    with pytest.warns(RuntimeWarning, match="DIVERGED") as caught:
        train_classifier(small, batch_size=32, lr=50, seed=0, epochs=1)
    assert caught[0].filename == __file__


def test_statuses_are_declared_with_their_meaning(small):
    """STATUSES: each word train_classifier returns, with a sentence saying what it means."""
    from lecture_utils.train import FAILED, STATUSES

    assert set(STATUSES) == {"completed", "target_reached", "max_epochs", "max_steps", "diverged",
                             "no_progress"}
    assert all(isinstance(v, str) and len(v) > 20 for v in STATUSES.values())
    assert set(FAILED) <= set(STATUSES)
    # a max_steps run that runs out of epochs first used its budget: "completed"; a target run: "max_epochs"
    r = train_classifier(small, batch_size=500, lr=0.1, seed=0, max_steps=50, max_epochs=2)
    assert r.status == "completed"
    r = train_classifier(small, batch_size=500, lr=0.01, seed=0, target_train_acc=0.99, max_epochs=2)
    assert r.status == "max_epochs" and r.steps == 4


def test_scalar_ranges_are_declared():
    """train_classifier's scalar ranges are declared once (validate_params), read by the property tests."""
    from lecture_utils._validate import constraints_of
    from lecture_utils.train import TRAIN_CONSTRAINTS

    assert constraints_of(train_classifier) == TRAIN_CONSTRAINTS
    assert constraints_of(lr_at_step)["lr"].low == 0.0 and constraints_of(make_mlp)["depth"].low == 0
    with pytest.raises(ValueError, match="min_delta"):
        train_classifier(np.zeros(3), batch_size=1, lr=0.1, seed=0, epochs=1, min_delta=float("nan"))
