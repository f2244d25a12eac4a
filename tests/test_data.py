import warnings

import numpy as np
import pytest

from lecture_utils import data as D


def test_epoch_batches_cover_every_example_once():
    batches = D.epoch_batches(23, 5, seed=0)
    assert [len(b) for b in batches] == [5, 5, 5, 5, 3]
    assert sorted(np.concatenate(batches).tolist()) == list(range(23))


def test_drop_last_and_no_shuffle():
    batches = D.epoch_batches(23, 5, seed=0, drop_last=True)
    assert [len(b) for b in batches] == [5, 5, 5, 5]
    ordered = D.epoch_batches(7, 3, seed=0, shuffle=False)
    assert [b.tolist() for b in ordered] == [[0, 1, 2], [3, 4, 5], [6]]


def test_each_epoch_reshuffles_deterministically():
    e0 = np.concatenate(D.epoch_batches(50, 10, seed=3, epoch=0))
    e1 = np.concatenate(D.epoch_batches(50, 10, seed=3, epoch=1))
    again = np.concatenate(D.epoch_batches(50, 10, seed=3, epoch=1))
    assert not np.array_equal(e0, e1)
    np.testing.assert_array_equal(e1, again)
    assert not np.array_equal(e0, np.concatenate(D.epoch_batches(50, 10, seed=4, epoch=0)))


def test_with_replacement_repeats_and_misses():
    batches = D.batches_with_replacement(1000, 10, seed=0)
    assert len(batches) == 100 and all(len(b) == 10 for b in batches)
    counts, unseen, repeated = D.coverage(batches, 1000)
    assert counts.sum() == 1000
    # about e^-1 of the examples are never drawn in one "epoch" of draws with replacement
    assert 0.32 < unseen / 1000 < 0.42
    assert repeated > 0
    counts, unseen, repeated = D.coverage(D.epoch_batches(1000, 10, seed=0), 1000)
    assert unseen == 0 and repeated == 0


def test_batch_assignment_and_updates():
    a = D.batch_assignment(20, 5, seed=0, epochs=3)
    assert a.shape == (3, 20)
    for row in a:
        assert np.bincount(row).tolist() == [5, 5, 5, 5]
    c = D.batch_assignment(20, 5, seed=0, epochs=3, replacement=True)
    assert c.sum(axis=1).tolist() == [20, 20, 20]
    assert D.updates_per_epoch(20, 1) == 20 and D.updates_per_epoch(20, 20) == 1
    assert D.updates_per_epoch(4000, 512) == 8 and D.updates_per_epoch(4000, 512, drop_last=True) == 7


@pytest.mark.parametrize("kwargs, name", [
    (dict(n_examples=10, batch_size=0, seed=0), "batch_size"),
    (dict(n_examples=10, batch_size=11, seed=0), "batch_size"),
    (dict(n_examples=10, batch_size=2.5, seed=0), "batch_size"),
    (dict(n_examples=0, batch_size=1, seed=0), "n_examples"),
    (dict(n_examples=10, batch_size=2, seed=-1), "seed"),
    (dict(n_examples=10, batch_size=2, seed=0, epoch=-1), "epoch"),
])
def test_epoch_batches_validation(kwargs, name):
    with pytest.raises(ValueError, match=name):
        D.epoch_batches(**kwargs)


def test_toy_regression_gradient_matches_finite_differences():
    p = D.make_toy_regression(20, seed=0)
    theta = np.array([0.3, -0.7])
    idx = np.array([1, 4, 7])
    g = p.grad(theta, idx)
    eps = 1e-6
    num = [(p.loss(theta + eps * e, idx) - p.loss(theta - eps * e, idx)) / (2 * eps) for e in np.eye(2)]
    np.testing.assert_allclose(g, num, rtol=1e-6)
    # the full gradient vanishes at the least-squares solution, the per-example ones do not
    star = p.minimizer()
    assert np.linalg.norm(p.grad(star)) < 1e-10
    assert np.linalg.norm(p.grad(star, np.array([0]))) > 1e-3
    # per-batch losses average to the full loss
    parts = [p.loss(theta, b) * len(b) for b in D.epoch_batches(20, 6, seed=1)]
    assert np.isclose(sum(parts) / 20, p.loss(theta))


def test_mnist1d_shapes_and_checksum(mnist):
    assert mnist.x_train.shape == (4000, 40) and mnist.x_test.shape == (1000, 40)
    assert mnist.n_train == D.N_TRAIN == 4000  # the constant the package uses for N
    assert mnist.x_train.dtype == np.float32 and mnist.y_train.dtype == np.int64
    assert sorted(np.unique(mnist.y_train).tolist()) == list(range(10))
    assert D.array_checksum(mnist.x_train, mnist.y_train, mnist.x_test, mnist.y_test) == \
        D._known_checksums()["mnist1d_seed42"]
    sub = mnist.subset(100, 50)
    assert sub.x_train.shape == (100, 40) and sub.x_test.shape == (50, 40)


def test_mnist1d_generation_leaves_global_rngs_alone(tmp_path):
    np.random.seed(123)
    expected = np.random.rand()
    np.random.seed(123)
    D.load_mnist1d(cache_dir=tmp_path)
    assert np.random.rand() == expected


def test_corrupt_cache_is_rebuilt(tmp_path, mnist):
    path = tmp_path / "mnist1d_seed42.npz"
    D.load_mnist1d(cache_dir=tmp_path)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])  # truncated
    with pytest.warns(UserWarning, match="unreadable"):
        d = D.load_mnist1d(cache_dir=tmp_path)
    np.testing.assert_array_equal(d.x_train, mnist.x_train)
    # altered content: a valid npz with one value changed fails the checksum
    x = mnist.x_train.copy()
    x[0, 0] += 1
    np.savez_compressed(path, x_train=x, y_train=mnist.y_train, x_test=mnist.x_test, y_test=mnist.y_test)
    with pytest.warns(UserWarning, match="checksum"):
        d = D.load_mnist1d(cache_dir=tmp_path)
    np.testing.assert_array_equal(d.x_train, mnist.x_train)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        D.load_mnist1d(cache_dir=tmp_path)  # now clean: no warning


def test_with_replacement_draws_anew_for_every_batch_size():
    """k·B draws at B = 5 and at B = 10 (N = 20: 20 draws each) must not be the same stream cut differently:
    the index map showed identical 'with replacement' halves at B = 5 and B = 10."""
    five = np.concatenate(D.batches_with_replacement(20, 5, seed=0))
    ten = np.concatenate(D.batches_with_replacement(20, 10, seed=0))
    assert len(five) == len(ten) == 20 and not np.array_equal(five, ten)
    again = np.concatenate(D.batches_with_replacement(20, 5, seed=0))
    assert np.array_equal(five, again)   # still reproducible for one (seed, epoch, B)
