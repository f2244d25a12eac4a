"""Robustness: what learners will do wrong, tried on purpose.

1. Property tests (hypothesis) of the core helpers: any value in the declared range (strategies
   built by ``declared(fn, name)`` from ``fn.__constraints__``, narrowed only to keep runs finite and
   quick) works and gives a result with the documented properties; any value outside raises
   ``ValueError`` naming the parameter; no other exception type escapes.
2. A contract sweep over *every* public function of ``lecture_utils`` (modules that land later are
   covered automatically). Ranges come from the declarations (``validate_params`` sets
   ``fn.__constraints__``), never from error messages: a declared parameter is called at its
   constraint's ``example()`` (must work) and at each ``outside()`` value (must be refused with a
   ``ValueError`` naming it). An undeclared parameter with a lecture name (lr, beta, batch_size, seed,
   steps, …) takes the lecture vocabulary's values (VALID / INVALID); if the valid call fails, the test
   fails naming the function (its narrower range must be declared).
3. Every slider panel (functions ``lecture_utils.panels.*.*_panel``): a slider built from a declared
   constraint spans exactly it and ``update`` refuses values outside it (the boundary); ``update`` at
   every slider's two ends (the constraint's), all sliders at their ends together, β near 1 with η
   large: no exception, a caption every time, and a diverging run shows a message on the figure. A
   panel whose cached sweep is missing fails (the caches are in git), it is not skipped.
"""
from __future__ import annotations

import contextlib
import importlib
import inspect
import itertools
import math
import pkgutil
import re
import signal
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lecture_utils
from lecture_utils import data as D
from lecture_utils import optim as O
from lecture_utils import train as T
from lecture_utils import widgets as W
from lecture_utils._validate import Interval, Options, constraints_of

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
FEW = settings(max_examples=8, deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

NAN, INF = float("nan"), float("inf")
BAD_REALS = [NAN, INF, -INF, "0.1", None, [0.1]]


def declared(fn, name, low=None, high=None):
    """A hypothesis strategy over the range ``fn`` declares for ``name`` (``fn.__constraints__``),
    narrowed to [low, high] where the test needs finite or quick values; its open ends stay out."""
    c = constraints_of(fn).get(name)
    assert c is not None, f"{fn.__qualname__} declares no constraint for {name!r} (validate_params)"
    if isinstance(c, Options):
        return st.sampled_from(list(c.values))
    lo = c.low if low is None else (low if c.low is None else max(low, c.low))
    hi = c.high if high is None else (high if c.high is None else min(high, c.high))
    if c.kind == "int":
        return st.integers(None if lo is None else int(math.ceil(lo)) + (c.low_open and lo == c.low),
                           None if hi is None else int(math.floor(hi)) - (c.high_open and hi == c.high))
    return st.floats(lo, hi, exclude_min=c.low_open and lo == c.low, exclude_max=c.high_open and hi == c.high,
                     allow_nan=False, allow_infinity=False)


def raises_naming(name, fn, *args, **kwargs):
    """``fn(...)`` must raise ValueError whose message names ``name``; returns the message."""
    with pytest.raises(ValueError) as exc:
        fn(*args, **kwargs)
    msg = str(exc.value)
    assert name in msg, f"ValueError does not name {name!r}: {msg}"
    return msg


# ============================================================================= 1. core helpers
# ----------------------------------------------------------------------------- data
@SETTINGS
@given(n=st.integers(1, 300), data=st.data(), seed=st.integers(0, 2**32 - 1), epoch=st.integers(0, 10**6),
       drop_last=st.booleans(), shuffle=st.booleans())
def test_epoch_batches_partition(n, data, seed, epoch, drop_last, shuffle):
    b = data.draw(st.integers(1, n))
    batches = D.epoch_batches(n, b, seed=seed, epoch=epoch, drop_last=drop_last, shuffle=shuffle)
    sizes = [len(x) for x in batches]
    assert len(batches) == D.updates_per_epoch(n, b, drop_last=drop_last)
    assert all(s == b for s in sizes[:-1]) and (not sizes or 1 <= sizes[-1] <= b)
    flat = np.concatenate(batches) if batches else np.array([], int)
    assert len(np.unique(flat)) == len(flat), "an example appears twice in one epoch"
    if not drop_last:
        assert sorted(flat.tolist()) == list(range(n)), "an epoch must visit every example exactly once"
    else:
        assert len(flat) == (n // b) * b
    again = D.epoch_batches(n, b, seed=seed, epoch=epoch, drop_last=drop_last, shuffle=shuffle)
    assert all(np.array_equal(x, y) for x, y in zip(batches, again)), "not deterministic"


@SETTINGS
@given(n=st.integers(1, 200), data=st.data(), seed=st.integers(0, 10**9), k=st.none() | st.integers(1, 50))
def test_batches_with_replacement(n, data, seed, k):
    b = data.draw(st.integers(1, n))
    batches = D.batches_with_replacement(n, b, seed=seed, n_batches=k)
    assert len(batches) == (k if k is not None else D.updates_per_epoch(n, b))
    for x in batches:
        assert len(x) == b and x.min() >= 0 and x.max() < n
    counts, unseen, repeated = D.coverage(batches, n)
    assert counts.sum() == b * len(batches) and 0 <= unseen <= n and 0 <= repeated <= n


@SETTINGS
@given(n=st.integers(1, 60), data=st.data(), epochs=st.integers(1, 4), replacement=st.booleans())
def test_batch_assignment_shape(n, data, epochs, replacement):
    b = data.draw(st.integers(1, n))
    a = D.batch_assignment(n, b, seed=0, epochs=epochs, replacement=replacement)
    assert a.shape == (epochs, n)
    if replacement:
        assert (a.sum(axis=1) == b * D.updates_per_epoch(n, b)).all()
    else:
        assert a.min() == 0 and a.max() == D.updates_per_epoch(n, b) - 1


@pytest.mark.parametrize("bad_b", [0, -1, 2.5, "2", None, True])
def test_batch_functions_refuse_bad_batch_size(bad_b):
    for fn in (D.epoch_batches, D.batches_with_replacement):
        raises_naming("batch_size", fn, 10, bad_b, seed=0)
    raises_naming("batch_size", D.updates_per_epoch, 10, bad_b)
    raises_naming("batch_size", D.batch_assignment, 10, bad_b, seed=0)


@SETTINGS
@given(n=st.integers(1, 100), extra=st.integers(1, 1000))
def test_batch_size_above_n_refused(n, extra):
    raises_naming("batch_size", D.epoch_batches, n, n + extra, seed=0)


@pytest.mark.parametrize("kwargs,name", [
    (dict(n_examples=0, batch_size=1, seed=0), "n_examples"),
    (dict(n_examples=2.5, batch_size=1, seed=0), "n_examples"),
    (dict(n_examples=10, batch_size=2, seed=-1), "seed"),
    (dict(n_examples=10, batch_size=2, seed=1.5), "seed"),
    (dict(n_examples=10, batch_size=2, seed=0, epoch=-1), "epoch"),
])
def test_epoch_batches_refuses(kwargs, name):
    raises_naming(name, D.epoch_batches, **kwargs)


@SETTINGS
@given(n=st.integers(2, 200), seed=st.integers(0, 10**6), noise=st.floats(0, 10))
def test_make_toy_regression(n, seed, noise):
    p = D.make_toy_regression(n, seed=seed, noise=noise)
    assert p.n == n and np.all(np.isfinite(p.x)) and np.all(np.isfinite(p.y))
    star = p.minimizer()
    assert np.allclose(p.grad(star), 0, atol=1e-8)
    theta = np.array([0.3, -0.7])
    eps = 1e-6
    num = [(p.loss(theta + eps * e) - p.loss(theta - eps * e)) / (2 * eps) for e in np.eye(2)]
    assert np.allclose(p.grad(theta), num, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kwargs,name", [(dict(n_examples=1), "n_examples"),
                                         (dict(n_examples=0), "n_examples"),
                                         (dict(noise=-0.1), "noise"), (dict(noise=NAN), "noise"),
                                         (dict(seed=-3), "seed")])
def test_make_toy_regression_refuses(kwargs, name):
    raises_naming(name, D.make_toy_regression, **kwargs)


@pytest.fixture(scope="module")
def mnist():
    return D.load_mnist1d()


@pytest.fixture(scope="module")
def tiny(mnist):
    return mnist.subset(64, 32)


def test_load_mnist1d_refuses_bad_seed(tmp_path):
    for bad in (-1, 2**32, 1.5, "42"):
        raises_naming("seed", D.load_mnist1d, seed=bad, cache_dir=tmp_path)
    assert not list(tmp_path.iterdir()), "nothing may be written for a refused call"


@SETTINGS
@given(n_train=st.integers(1, 4000), n_test=st.integers(1, 1000))
def test_subset(mnist, n_train, n_test):
    s = mnist.subset(n_train, n_test)
    assert s.x_train.shape == (n_train, 40) and s.y_test.shape == (n_test,)


@pytest.mark.parametrize("kwargs,name", [(dict(n_train=0), "n_train"), (dict(n_train=4001), "n_train"),
                                         (dict(n_test=0), "n_test"), (dict(n_test=1.5), "n_test")])
def test_subset_refuses(mnist, kwargs, name):
    raises_naming(name, mnist.subset, **kwargs)


# ----------------------------------------------------------------------------- optim
def _quad_grad(h):
    h = np.asarray(h, float)
    return lambda th: h * np.asarray(th, float)


@SETTINGS
@given(lr=declared(O.momentum_path, "lr", 1e-4, 50.0), beta=declared(O.momentum_path, "beta"),
       steps=declared(O.momentum_path, "steps", high=60),
       h=st.lists(st.floats(0.01, 10.0), min_size=1, max_size=3))
def test_momentum_path_any_valid_input(lr, beta, steps, h):
    theta0 = np.ones(len(h))
    path = O.momentum_path(_quad_grad(h), theta0, lr=lr, beta=beta, steps=steps)
    assert path.shape == (steps + 1, len(h))
    assert np.array_equal(path[0], theta0)
    bad = ~np.all(np.isfinite(path), axis=1)
    if bad.any():  # after a divergence every later row is NaN
        assert bad[int(np.argmax(bad)):].all()
    finite = path[~bad]
    assert np.all(np.abs(finite) <= O.DIVERGENCE_LIMIT)
    # the lecture's rule, checked step by step on the finite part
    m = np.zeros_like(theta0)
    th = theta0.copy()
    for t in range(1, len(finite)):
        m = beta * m - lr * np.asarray(h) * th
        th = th + m
        assert np.allclose(finite[t], th, rtol=1e-9, atol=1e-9)


@SETTINGS
@given(lr=st.floats(1e-3, 0.9), steps=st.integers(5, 40))
def test_gradient_descent_decreases_a_convex_quadratic(lr, steps):
    path = O.momentum_path(_quad_grad([1.0, 0.5]), [1.0, -2.0], lr=lr, beta=0.0, steps=steps)
    f = 0.5 * (path[:, 0] ** 2 + 0.5 * path[:, 1] ** 2)
    assert np.all(np.diff(f) <= 1e-15)


@pytest.mark.parametrize("kwargs,name", [
    (dict(lr=0.0), "lr"), (dict(lr=-0.1), "lr"), (dict(lr=NAN), "lr"), (dict(lr=INF), "lr"),
    (dict(lr="0.1"), "lr"),
    (dict(beta=1.0), "beta"), (dict(beta=-0.01), "beta"), (dict(beta=NAN), "beta"), (dict(beta=1.5), "beta"),
    (dict(steps=-1), "steps"), (dict(steps=2.5), "steps"), (dict(theta0=[[1.0, 2.0]]), "theta0"),
    (dict(theta0=[NAN, 1.0]), "theta0"), (dict(theta0="ab"), "theta0"),
    (dict(grad_fn=lambda th: np.zeros(3)), "grad_fn"),
])
def test_momentum_path_refuses(kwargs, name):
    args = dict(grad_fn=_quad_grad([1.0, 1.0]), theta0=[1.0, 1.0], lr=0.1, beta=0.5, steps=5)
    args.update(kwargs)
    raises_naming(name, O.momentum_path, args.pop("grad_fn"), args.pop("theta0"), **args)


@SETTINGS
@given(data=st.data(), lr=declared(O.minibatch_path, "lr", 1e-3, 20.0),
       beta=declared(O.minibatch_path, "beta"), epochs=declared(O.minibatch_path, "epochs", high=4),
       seed=declared(O.minibatch_path, "seed"))
def test_minibatch_path_any_valid_input(data, lr, beta, epochs, seed):
    p = D.make_toy_regression(12)
    b = data.draw(st.integers(1, 12))
    path = O.minibatch_path(p, [0.0, 0.0], batch_size=b, lr=lr, epochs=epochs, seed=seed, beta=beta)
    assert path.shape == (epochs * D.updates_per_epoch(12, b) + 1, 2)
    bad = ~np.all(np.isfinite(path), axis=1)
    if bad.any():
        assert bad[int(np.argmax(bad)):].all()


@pytest.mark.parametrize("kwargs,name", [(dict(batch_size=0), "batch_size"),
                                         (dict(batch_size=13), "batch_size"),
                                         (dict(lr=0), "lr"), (dict(beta=1), "beta"),
                                         (dict(epochs=-1), "epochs"),
                                         (dict(seed=-1), "seed")])
def test_minibatch_path_refuses(kwargs, name):
    args = dict(batch_size=4, lr=0.1, epochs=1, seed=0, beta=0.0)
    args.update(kwargs)
    raises_naming(name, O.minibatch_path, D.make_toy_regression(12), [0.0, 0.0], **args)


# ----------------------------------------------------------------------------- train (tiny)
@FEW
@given(data=st.data(), lr=declared(T.train_classifier, "lr", 1e-4, 1e4),
       momentum=declared(T.train_classifier, "momentum"),
       steps=declared(T.train_classifier, "max_steps", high=4),
       seed=declared(T.train_classifier, "seed"), warmup=declared(T.train_classifier, "warmup_steps", high=5))
def test_train_classifier_any_valid_input(tiny, data, lr, momentum, steps, seed, warmup):
    from lecture_utils.train import STATUSES, train_classifier

    b = data.draw(st.integers(1, tiny.n_train))
    r = train_classifier(tiny, batch_size=b, lr=lr, seed=seed, momentum=momentum, max_steps=steps, hidden=8,
                         depth=1, warmup_steps=warmup)
    assert r.status in STATUSES
    assert r.steps <= steps
    if r.status == "diverged":
        assert not math.isfinite(r.train_loss)
    else:
        assert 0.0 <= r.train_acc <= 1.0 and 0.0 <= r.test_acc <= 1.0


def test_train_classifier_huge_lr_reports_divergence(tiny):
    from lecture_utils.train import train_classifier

    with pytest.warns(RuntimeWarning, match=r"DIVERGED after \d+ updates .*lower the learning rate"):
        r = train_classifier(tiny, batch_size=8, lr=1e12, seed=0, epochs=2, hidden=8, depth=1)
    assert r.status == "diverged" and not r.ok


@pytest.mark.parametrize("kwargs,name", [
    (dict(batch_size=0), "batch_size"), (dict(batch_size=65), "batch_size"),
    (dict(batch_size=2.5), "batch_size"),
    (dict(lr=0.0), "lr"), (dict(lr=-1.0), "lr"), (dict(lr=NAN), "lr"), (dict(lr=INF), "lr"),
    (dict(momentum=1.0), "momentum"), (dict(momentum=-0.1), "momentum"),
    (dict(seed=-1), "seed"), (dict(epochs=0), "epochs"), (dict(max_steps=0), "max_steps"),
    (dict(epochs=None, target_train_acc=0.0), "target_train_acc"),
    (dict(epochs=None, target_train_acc=1.5), "target_train_acc"),
    (dict(max_epochs=0, epochs=None, target_train_acc=0.5), "max_epochs"),
    (dict(warmup_steps=-1), "warmup_steps"), (dict(patience=0), "patience"),
    (dict(eval_every=0), "eval_every"),
    (dict(hidden=0), "hidden"), (dict(depth=-1), "depth"), (dict(threads=0), "threads"),
    (dict(target_train_acc=0.5), "epochs"),  # both a budget and a target
    (dict(epochs=None), "budget"),
])
def test_train_classifier_refuses(tiny, kwargs, name):
    from lecture_utils.train import train_classifier

    args = dict(batch_size=8, lr=0.1, seed=0, epochs=1, hidden=8, depth=1)
    args.update(kwargs)
    raises_naming(name, train_classifier, tiny, **args)


def test_train_classifier_refuses_non_dataset():
    from lecture_utils.train import train_classifier

    raises_naming("data", train_classifier, {"x": 1}, batch_size=1, lr=0.1, seed=0, epochs=1)


@FEW
@given(seed=st.integers(0, 2**63 - 1), hidden=st.integers(1, 32), depth=st.integers(0, 3))
def test_make_mlp(seed, hidden, depth):
    import torch

    from lecture_utils.train import make_mlp

    m = make_mlp(seed, hidden=hidden, depth=depth)
    out = m(torch.zeros(3, 40))
    assert out.shape == (3, 10)
    again = make_mlp(seed, hidden=hidden, depth=depth)
    assert all(torch.equal(a, b) for a, b in zip(m.parameters(), again.parameters()))


# ----------------------------------------------------------------------------- timing
def test_time_per_update_small_and_refusals(tiny):
    from lecture_utils.timing import time_per_update

    t = time_per_update([1, 8, 64], data=tiny, repeats=2, warmup=0, hidden=8)
    assert t.batch_sizes == [1, 8, 64] and np.all(t.per_update > 0)
    assert np.allclose(t.per_epoch, t.per_update * np.array([64, 8, 1]))
    raises_naming("device", time_per_update, [1], data=tiny, device="tpu")
    raises_naming("repeats", time_per_update, [1], data=tiny, repeats=0)
    raises_naming("warmup", time_per_update, [1], data=tiny, warmup=-1)
    raises_naming("batch_sizes", time_per_update, [0], data=tiny, repeats=1)
    raises_naming("batch_sizes", time_per_update, [65], data=tiny, repeats=1)
    raises_naming("batch_sizes", time_per_update, [], data=tiny, repeats=1)
    raises_naming("threads", time_per_update, [1], data=tiny, repeats=1, threads=0)


# ----------------------------------------------------------------------------- widgets sliders
@SETTINGS
@given(n=st.integers(1, 5000), data=st.data())
def test_batch_size_slider(n, data):
    v = data.draw(st.integers(1, n))
    s = W.batch_size_slider(n, v)
    assert (s.min, s.max, s.value) == (1, n, v)


SLIDER_REFUSALS = [
    ("n_examples", lambda: W.batch_size_slider(0)),
    ("n_examples", lambda: W.batch_size_slider(2.5)),
    ("value", lambda: W.batch_size_slider(10, 11)),
    ("value", lambda: W.batch_size_slider(10, 0)),
    ("low", lambda: W.log_slider("lr", 0.1, 0.0, 1.0)),
    ("low", lambda: W.log_slider("lr", 0.1, -1.0, 1.0)),
    ("high", lambda: W.log_slider("lr", 0.1, 0.5, 0.1)),
    ("value", lambda: W.log_slider("lr", 5.0, 0.01, 1.0)),
    ("high", lambda: W.int_slider("k", 1, 5, 2)),
    ("step", lambda: W.float_slider("x", 0.5, 0.0, 1.0, 0.0)),
    ("value", lambda: W.selection_slider("b", [1, 2, 4], 3)),
    ("options", lambda: W.selection_slider("b", [], None)),
]


@pytest.mark.parametrize("name,make", SLIDER_REFUSALS,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(SLIDER_REFUSALS)])
def test_slider_helpers_refuse_bad_ranges(name, make):
    """A slider made from a bad range must fail loudly with a ValueError that names the parameter
    (ipywidgets alone raises TraitError, or silently clamps the value to the range)."""
    problem = None
    try:
        s = make()
    except ValueError as exc:
        if name in str(exc):
            return
        problem = f"ValueError does not name {name!r}: {exc}"
    except Exception as exc:  # noqa: BLE001
        problem = f"{type(exc).__name__} escaped instead of ValueError naming {name!r}: {exc}"
    else:
        problem = (f"accepted: made {type(s).__name__}(min={getattr(s, 'min', None)}, "
                   f"max={getattr(s, 'max', None)}, "
                   f"value={s.value!r}) instead of a ValueError naming {name!r}")
    pytest.fail(problem)


def test_panel_refuses_unknown_controls():
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.add_subplot()
    line, = ax.plot([0, 1])

    def update(a):
        line.set_ydata([0, a])
        return f"a = {a}"

    p = W.Panel(fig, update, {"a": W.int_slider("a", 1, 0, 3)})
    assert p.update(a=3) == "a = 3" and p.caption_text() == "a = 3"
    raises_naming("b", p.update, b=2)
    raises_naming("b", p.set, b=2)


# ============================================================================= 2. contract sweep
# Every public function of lecture_utils, by parameter:
# * declared parameters (``validate_params`` → ``fn.__constraints__``): the valid call takes the
#   constraint's ``example()``; each of its ``outside()`` values (and None unless allowed) must be
#   refused with a ValueError naming the parameter;
# * undeclared parameters with a lecture name: the vocabulary below (VALID / INVALID). A valid call
#   that fails is a failure naming the function: its range is narrower than the vocabulary's, and
#   must then be declared (``validate_params``) so that this sweep, its slider and its check agree.
class Make:
    """A value built fresh for every call (arrays may be modified in place by the function)."""

    def __init__(self, fn):
        self.fn = fn


def _tiny_model():
    from lecture_utils.train import make_mlp

    return make_mlp(0, hidden=2, depth=1)


def _xy():
    import torch

    g = torch.Generator().manual_seed(0)
    return torch.randn(12, 40, generator=g), torch.arange(12) % 10


# lecture vocabulary for undeclared parameters: a valid value and out-of-range values for each name
VALID = {
    "lr": 0.1, "eta": 0.1, "alpha": 0.1, "beta": 0.5, "momentum": 0.5, "batch_size": 2, "n_examples": 8,
    "seed": 0, "epoch": 0, "epochs": 1, "steps": 3, "step": 0, "warmup_steps": 0, "t": 3, "n_runs": 4,
    "n_batches": 2, "kappa": 10.0, "lam_max": 1.0, "lam": 1.0, "noise": 0.5, "tol": 1e-3, "eps": 1e-3,
    "repeats": 1, "warmup": 0, "device": "cpu", "hidden": 2, "depth": 1, "threads": 2, "n_sample": 4,
    "iters": 3, "radius": 0.5, "c": 2.0, "shift": 0.3, "n": 10, "successes": 3, "rate": 0.5, "at": 1,
    "factor": 0.1, "max_params": 3000, "layer": 0, "n_in": 40, "n_out": 10, "min_batches": 2,
    "examples_per_size": 64, "start": 1, "z": 1.96, "dpi": 90,
    "theta0": Make(lambda: np.array([0.5, -0.5])), "theta": Make(lambda: np.array([0.5, -0.5])),
    "grad_fn": Make(lambda: (lambda th: 2.0 * np.asarray(th, float))),
    "problem": Make(lambda: D.make_toy_regression(8)), "eigenvalues": Make(lambda: np.array([0.1, 1.0])),
    "hessian": Make(lambda: np.diag([1.0, -1.0])), "batch_sizes": Make(lambda: [1, 2]),
    "grads": Make(lambda: np.ones((3, 2))), "movements": Make(lambda: np.ones((3, 2))),
    "path": Make(lambda: np.ones((5, 2))),
    "alphas": Make(lambda: np.array([0.1, 0.2])), "betas": Make(lambda: np.array([0.0, 0.5])),
    "model": Make(_tiny_model), "x": Make(lambda: _xy()[0]), "y": Make(lambda: _xy()[1]),
}
INVALID = {
    "lr": [0.0, -0.1, NAN, INF], "eta": [0.0, -0.1, NAN], "alpha": [-0.1, NAN, INF],
    "beta": [1.0, -0.1, NAN], "momentum": [1.0, -0.1], "batch_size": [0, -1, 2.5],
    "n_examples": [0, -2, 2.5], "seed": [-1, 0.5], "epoch": [-1], "epochs": [-1, 1.5], "steps": [-1, 1.5],
    "step": [-1], "warmup_steps": [-1], "t": [-1], "n_runs": [0], "n_batches": [0], "kappa": [0.5, -1.0, NAN],
    "lam_max": [0.0, -1.0], "lam": [-1.0, NAN], "noise": [-0.1, NAN], "tol": [-1.0, NAN], "eps": [0.0, -1e-3],
    "repeats": [0], "warmup": [-1], "device": ["tpu"], "hidden": [0], "depth": [-1], "threads": [0],
    "n_sample": [0], "iters": [0], "radius": [0.0, -1.0], "c": [0.0, -1.0], "shift": [NAN, INF], "n": [0],
    "successes": [-1, 11], "rate": [-0.1, NAN], "at": [-1, 99], "factor": [0.0, -1.0], "max_params": [0],
    "layer": [-1, 7], "n_in": [0], "n_out": [0], "min_batches": [0], "examples_per_size": [0],
    "z": [-1.0, NAN],
    # arrays, models and tensors are left to the modules' own tests: their meaning differs by function
}


def _model_with_gradients():
    import torch

    model = _tiny_model()
    x, y = _xy()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    return model


def _sweep(name):
    from lecture_utils import sweeps

    return sweeps.load(name)


def test_timing_figure_needs_a_timing():
    """Both of timing_figure's arguments are optional, not both at once: the refusal names them."""
    from lecture_utils.panels.batches import timing_figure

    with pytest.raises(ValueError, match=r"timing.*cached.*got neither"):
        timing_figure()


# Functions whose parameters mean something else than the vocabulary's (x, y as a curve rather than
# a batch; a model that must hold gradients) or whose defaults need larger inputs: the valid call's
# values, given here by hand (each one a value the function documents as valid).
VALID_CALLS = {
    "lecture_utils.noise.loglog_slope": {"x": Make(lambda: np.array([1.0, 2.0, 4.0, 8.0])),
                                         "y": Make(lambda: np.array([8.0, 4.0, 2.0, 1.0]))},
    "lecture_utils.scaling.fit_critical_batch": {
        "batch_sizes": Make(lambda: np.array([8, 32, 128, 512])),
        "steps": Make(lambda: np.array([2000.0, 600.0, 300.0, 250.0]))},
    "lecture_utils.scaling.lars_step": {"model": Make(_model_with_gradients)},
    "lecture_utils.scaling.trust_ratios": {"model": Make(_model_with_gradients)},
    "lecture_utils.noise.estimate_noise_scale": {"b_small": 2, "b_big": 8},   # the 12 examples of _xy
    "lecture_utils.panels.batches.toy_comparison": {"n_examples": 20},        # its batch sizes go up to 20
    "lecture_utils.panels.overview.theta_line": {"path": Make(lambda: np.array([2.0, 1.2, 0.72]))},  # θ⁰, θ¹
    # either argument is optional, but one of them is needed (test_timing_figure_needs_a_timing)
    "lecture_utils.panels.batches.timing_figure": {"cached": Make(lambda: _sweep("timing"))},
}
# whose error message may name the parameter by another lecture name (undeclared parameters only:
# a declared one is refused by validate_params, which names it as spelled)
ALIASES = {"lr": ("lr", "η", "eta"), "eta": ("eta", "η", "lr"), "alpha": ("alpha", "α"),
           "beta": ("beta", "β")}
# functions the sweep does not call: they draw into given axes, mutate global state, or are the checks
# themselves
SKIP_MODULES = ("lecture_utils._validate", "lecture_utils.plotting", "lecture_utils.sweeps")
SKIP_FUNCS = {"lecture_utils.seeding.seed_everything", "lecture_utils.seeding.set_threads",
              "lecture_utils.data.load_mnist1d", "lecture_utils.data.array_checksum"}
# functions whose declared refusals are checked but which the sweep does not run with valid values
NO_VALID_CALL = {
    # starts worker processes; its timeout is a wall-clock budget (its example(), 1 s, may rightly time
    # out on a busy machine); tests/test_parallel.py runs it
    "lecture_utils.parallel.data_parallel_train",
}


class _NotBuilt:
    """Stands for a required parameter the sweep cannot build (a figure, a record, a panel). It only
    reaches refusal calls of declared parameters, which ``validate_params`` refuses before the body runs."""

    def __repr__(self):
        return "<not built>"


NOT_BUILT = _NotBuilt()


def _materialise(v):
    return v.fn() if isinstance(v, Make) else v


IMPORT_ERRORS = []   # modules that do not import: test_contract_sweep_covers_the_package fails on them


def _public_functions():
    out = []
    for info in pkgutil.walk_packages(lecture_utils.__path__, "lecture_utils."):
        name = info.name
        if name.endswith("__main__") or name.startswith(SKIP_MODULES):
            continue
        try:
            mod = importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001  (reported by test_contract_sweep_covers_the_package)
            IMPORT_ERRORS.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        for fname, fn in sorted(vars(mod).items()):
            if (fname.startswith("_") or not inspect.isfunction(fn) or fn.__module__ != name
                    or f"{name}.{fname}" in SKIP_FUNCS or fname.startswith("check_")):
                continue
            out.append((f"{name}.{fname}", fn))
    return out


@dataclass
class Plan:
    """How the sweep calls one function."""

    base: dict            # required parameters (declared: example(); vocabulary; else NOT_BUILT)
    variants: list        # (name, value): a valid call each, one declared parameter at its example()
    declared: dict        # name -> constraint (fn.__constraints__)
    undeclared: list      # undeclared parameters with INVALID values (refusals need a valid call first)
    unbuilt: list         # required parameters the sweep cannot build: no valid call

    @property
    def callable(self):
        return not self.unbuilt


def _holds(constraint, value):
    return not isinstance(value, Make) and constraint.contains(value)


def _plan(fn):
    declared = constraints_of(fn)
    base, variants, undeclared, unbuilt = {}, [], [], []
    for p in inspect.signature(fn).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        name, required = p.name, p.default is inspect.Parameter.empty
        if name in declared:
            c = declared[name]
            if required:  # the vocabulary's value when the constraint holds it (coherent with the others)
                base[name] = VALID[name] if name in VALID and _holds(c, VALID[name]) else c.example()
            variants.append((name, c.example()))
        elif name == "convention" and getattr(inspect.getmodule(fn), "CONVENTIONS", None):
            base[name] = list(inspect.getmodule(fn).CONVENTIONS)[0]
            undeclared.append(name)
        elif name in VALID:
            if required or not isinstance(VALID[name], Make):
                base[name] = VALID[name]  # small counts for optional parameters too: keeps every call fast
            if name in INVALID:
                undeclared.append(name)
        elif required:
            base[name] = NOT_BUILT
            unbuilt.append(name)
    by_hand = VALID_CALLS.get(f"{fn.__module__}.{fn.__name__}", {})
    base.update(by_hand)
    unbuilt = [n for n in unbuilt if n not in by_hand]
    return Plan(base, variants, declared, undeclared, unbuilt)


PUBLIC = _public_functions()
PLANS = {q: _plan(fn) for q, fn in PUBLIC}
CALLABLE = [(q, fn) for q, fn in PUBLIC if PLANS[q].callable and q not in NO_VALID_CALL]
REFUSING = [(q, fn) for q, fn in PUBLIC if PLANS[q].declared or (PLANS[q].callable and PLANS[q].undeclared)]

# A refusal must come at once; the ceiling only stops a function that accepted a bad value and trains
# on it. A valid call gets a generous ceiling (the vocabulary's values are small): busy machines are slow.
REFUSE_LIMIT_S, VALID_LIMIT_S = 60, 300


class _Timeout(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds):
    def handler(signum, frame):
        raise _Timeout()

    old = signal.signal(signal.SIGALRM, handler)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _call(fn, kwargs, limit_s):
    sig = inspect.signature(fn)
    args, kw = [], {}
    for p in sig.parameters.values():
        if p.name not in kwargs:
            continue
        value = _materialise(kwargs[p.name])
        if p.kind == p.POSITIONAL_ONLY:
            args.append(value)
        else:
            kw[p.name] = value
    with _time_limit(limit_s):
        return fn(*args, **kw)


def _shown(name, value):
    if hasattr(value, "shape"):
        return f"{name}=<{type(value).__name__} shape {tuple(value.shape)}>"
    return f"{name}={value!r}"


def _valid_call_problem(qualname, fn, kwargs, varied=None):
    """None when ``fn(**kwargs)`` runs; else what went wrong, naming the function.

    ``varied``: the declared parameter this call moved to its ``example()``. A valid value of one
    parameter may narrow another's range (successes ≤ n, at ≤ steps, batch_size ≤ n_examples, the
    model's size ≤ max_params): a ValueError naming another parameter of the call is that dependency
    (an honest refusal), not a failure. A ValueError naming only ``varied`` means its declared range lies.
    """
    shown = ", ".join(_shown(k, _materialise(v)) for k, v in kwargs.items())
    try:
        _call(fn, kwargs, VALID_LIMIT_S)
    except _Timeout:
        return f"{qualname}({shown}) ran for more than {VALID_LIMIT_S} s"
    except ValueError as exc:
        others = [k for k in kwargs if k != varied and re.search(rf"\b{re.escape(k)}\b", str(exc))]
        if varied is not None and others:
            return None
        return (f"{qualname}({shown}) failed with valid values — ValueError: {str(exc)[:200]} "
                f"(a narrower range must be declared with validate_params)")
    except Exception as exc:  # noqa: BLE001
        return (f"{qualname}({shown}) failed with valid values — {type(exc).__name__}: {str(exc)[:200]} "
                f"(a narrower range must be declared with validate_params)")
    return None


def _refusal_problem(fn, kwargs, name, bad, names):
    """None when ``fn(**kwargs, name=bad)`` raises ValueError naming one of ``names``; else the problem."""
    call = {**kwargs, name: bad}
    shown = _shown(name, _materialise(bad))
    try:
        _call(fn, call, REFUSE_LIMIT_S)
    except ValueError as exc:
        if not any(a in str(exc) for a in names):
            return f"{shown}: ValueError does not name {name!r}: {str(exc)[:150]}"
        return None
    except _Timeout:
        return f"{shown}: ran for more than {REFUSE_LIMIT_S} s instead of refusing it"
    except Exception as exc:  # noqa: BLE001
        return f"{shown}: {type(exc).__name__} escaped instead of ValueError: {str(exc)[:150]}"
    return f"{shown}: accepted without a ValueError"


def _refused_values(constraint):
    """What a declared parameter must refuse: just past each bound (and NaN / a non-integer /
    a non-option: ``outside()``), and None unless the constraint allows it."""
    bad = list(constraint.outside())
    if not getattr(constraint, "allow_none", False) and None not in getattr(constraint, "values", ()):
        bad.append(None)
    return bad


def _ids(cases):
    return [q.replace("lecture_utils.", "") for q, _ in cases]


@pytest.mark.parametrize("qualname,fn", CALLABLE, ids=_ids(CALLABLE))
def test_public_function_accepts_valid_values(qualname, fn):
    """The valid call (required declared parameters inside their constraint, the others from the
    vocabulary or VALID_CALLS), then once more for each declared parameter at its ``example()``."""
    plan = PLANS[qualname]
    problems = [_valid_call_problem(qualname, fn, plan.base)]
    problems += [_valid_call_problem(qualname, fn, {**plan.base, k: v}, varied=k) for k, v in plan.variants]
    problems = [p for p in problems if p]
    assert not problems, "\n  ".join(problems)


@pytest.mark.parametrize("qualname,fn", REFUSING, ids=_ids(REFUSING))
def test_public_function_refuses_out_of_range_values(qualname, fn):
    """Each declared parameter refuses its constraint's ``outside()`` values; each undeclared lecture
    parameter refuses the vocabulary's INVALID values; always a ValueError naming the parameter."""
    plan = PLANS[qualname]
    problems = []
    for name, constraint in plan.declared.items():
        for bad in _refused_values(constraint):
            problem = _refusal_problem(fn, plan.base, name, bad, (name,))
            if problem:
                problems.append(problem)
                break  # one problem per parameter is enough
    # without a valid call, only the declared ones
    undeclared = plan.undeclared if plan.callable and qualname not in NO_VALID_CALL else []
    if undeclared:
        broken = _valid_call_problem(qualname, fn, plan.base)
        assert not broken, f"the valid call fails, so undeclared parameters cannot be tested:\n  {broken}"
    for name in undeclared:
        for bad in (["nope"] if name == "convention" else INVALID[name]):
            problem = _refusal_problem(fn, plan.base, name, bad, ALIASES.get(name, (name,)))
            if problem:
                problems.append(problem)
                break  # one problem per parameter (and a function that trains on bad input stays fast)
    assert not problems, f"{qualname}:\n  " + "\n  ".join(problems)


def test_contract_sweep_covers_the_package():
    """The sweep finds the package's functions and every function with declared constraints is
    checked (a module that stops importing, or a decorator that loses ``__constraints__``, fails here)."""
    assert not IMPORT_ERRORS, "modules that do not import:\n  " + "\n  ".join(IMPORT_ERRORS)
    declared = {q for q, _ in PUBLIC if PLANS[q].declared}
    assert len(PUBLIC) >= 100 and len(CALLABLE) >= 50, (len(PUBLIC), len(CALLABLE))
    assert declared <= {q for q, _ in REFUSING}
    assert {"lecture_utils.optim.momentum_path", "lecture_utils.train.train_classifier"} <= declared


# ============================================================================= 3. panels
DIVERGED = re.compile(r"diverg|blow|overflow|unstable|\bnan\b|\binf(inite)?\b", re.I)


def _panel_functions():
    from lecture_utils.panels import panel_functions

    return [(f"{mod.__name__.rsplit('.', 1)[-1]}.{name}", fn) for mod, name, fn in panel_functions()]


PANELS = _panel_functions()


def _build(fn):
    """Build the panel with its defaults (``lecture_utils.panels.build_default``). A panel that needs a
    cached sweep reads it from data/ (in git): a missing or stale cache fails here, never skips."""
    from lecture_utils.panels import build_default

    panel, how, _ = build_default(fn)
    return panel, how


def _extremes(control):
    """The two ends of a control: its declared constraint's (``widgets.slider``: low/high, or the first
    and last option), else the widget's own (min/max; first/last option; False/True)."""
    from lecture_utils.widgets import control_positions

    c = getattr(control, "constraint", None)
    if isinstance(c, Interval):
        return [c.low, c.high]
    if isinstance(c, Options):
        return [c.values[0], c.values[-1]]
    return control_positions(control, 2)


def _is_beta(name, control):
    return name in ("beta", "momentum") or "β" in (getattr(control, "description", "") or "")


def _is_lr(name, control):
    return name in ("lr", "eta", "alpha") or "η" in (getattr(control, "description", "") or "")


def _visible_message(fig):
    """Texts a reader sees on the figure beyond axis labels and ticks (status messages, annotations)."""
    texts = list(fig.texts)
    for ax in fig.axes:
        texts += list(ax.texts)
        texts.append(ax.title)
    return [t.get_text() for t in texts if t.get_visible() and t.get_text().strip()]


def _panel_cases(panel):
    ctrls = panel.controls
    defaults = panel.values()
    ends = {k: _extremes(c) for k, c in ctrls.items()}
    cases = []
    for k, vals in ends.items():  # each control at each end, the others at their defaults
        for v in vals:
            cases.append({k: v})
    if len(ctrls) <= 4:  # every corner of the box of extremes
        for combo in itertools.product(*ends.values()):
            cases.append(dict(zip(ends, combo)))
    beta = [k for k, c in ctrls.items() if _is_beta(k, c)]
    lr = [k for k, c in ctrls.items() if _is_lr(k, c)]
    if beta or lr:  # β near 1 and η large
        hot = {k: ends[k][-1] for k in beta + lr}
        cases.append(hot)
        for k in beta:
            c = ctrls[k]
            if hasattr(c, "max") and not isinstance(c.value, bool):
                cases.append({**hot, k: min(float(c.max), 0.999)})
    cases.append(defaults)
    seen, out = set(), []
    for c in cases:
        key = tuple(sorted((k, repr(v)) for k, v in c.items()))
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


@pytest.mark.parametrize("qualname,fn", PANELS, ids=[q for q, _ in PANELS])
def test_panel_survives_every_slider_extreme(qualname, fn):
    panel, how = _build(fn)
    assert isinstance(panel, W.Panel), f"{qualname} must return a lecture_utils.widgets.Panel"
    assert panel.controls, f"{qualname}: a panel without controls"
    problems = []
    for case in _panel_cases(panel):
        try:
            caption = panel.update(**case)
        except Exception as exc:  # noqa: BLE001
            problems.append(f"update({case}) raised {type(exc).__name__}: {exc}")
            continue
        if not isinstance(caption, str) or not panel.caption_text().strip():
            problems.append(f"update({case}) returned no caption ({caption!r})")
            continue
        if DIVERGED.search(panel.caption_text()):
            shown = _visible_message(panel.fig)
            if not any(DIVERGED.search(t) for t in shown):
                problems.append(f"update({case}): the caption says the run diverged "
                                f"({panel.caption_text()[:100]!r}) "
                                f"but the figure shows no message (visible texts: {shown})")
    assert not problems, f"{qualname} (built with {how}):\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("qualname,fn", PANELS, ids=[q for q, _ in PANELS])
def test_panel_random_positions(qualname, fn):
    """Random slider positions inside the ranges (a learner scrubbing): never an exception."""
    panel, _ = _build(fn)
    ctrls = panel.controls
    strategies = {}
    for k, c in ctrls.items():
        ends = _extremes(c)
        opts = getattr(c, "_options_values", None)
        constraint = getattr(c, "constraint", None)
        if isinstance(constraint, Options):
            strategies[k] = st.sampled_from(list(constraint.values))
        elif isinstance(constraint, Interval) and constraint.kind == "int":
            strategies[k] = st.integers(int(constraint.low), int(constraint.high))
        elif isinstance(constraint, Interval):
            strategies[k] = st.floats(constraint.low, constraint.high)
        elif opts:
            strategies[k] = st.sampled_from(list(opts))
        elif isinstance(c.value, bool):
            strategies[k] = st.booleans()
        elif isinstance(c.value, int):
            strategies[k] = st.integers(int(ends[0]), int(ends[1]))
        elif len(ends) == 2:
            strategies[k] = st.floats(float(ends[0]), float(ends[1]))
    assert strategies, f"{qualname}: no control to move"

    @settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(st.fixed_dictionaries(strategies))
    def scrub(values):
        caption = panel.update(**values)
        assert isinstance(caption, str) and caption.strip()

    scrub()


@pytest.mark.parametrize("qualname,fn", PANELS, ids=[q for q, _ in PANELS])
def test_panel_controls_are_their_declared_constraints(qualname, fn):
    """A slider built from a constraint (``widgets.slider``) spans exactly that range, and
    ``Panel.update`` refuses the constraint's ``outside()`` values with a ValueError naming the control
    (the boundary: a value typed in code meets the slider's declared range)."""
    import ipywidgets as w

    panel, _ = _build(fn)
    problems = []
    for k, ctl in panel.controls.items():
        c = getattr(ctl, "constraint", None)
        if c is None:
            continue
        if isinstance(c, Interval):
            lo, hi = (np.log10([c.low, c.high]) if isinstance(ctl, w.FloatLogSlider) else (c.low, c.high))
            if not (math.isclose(ctl.min, lo, abs_tol=1e-12) and math.isclose(ctl.max, hi, abs_tol=1e-12)):
                problems.append(f"{k}: slider spans [{ctl.min}, {ctl.max}], declared {c.describe()}")
        else:   # a selection's options, or a toggle's False/True
            options = getattr(ctl, "_options_values", ())
            shown = [False, True] if isinstance(ctl.value, bool) else list(options)
            if sorted(map(repr, shown)) != sorted(map(repr, c.values)):
                problems.append(f"{k}: the control offers {shown}, declared {c.describe()}")
        for bad in c.outside():
            try:
                panel.update(**{k: bad})
            except ValueError as exc:
                if k not in str(exc):
                    problems.append(f"update({k}={bad!r}): ValueError does not name {k!r}: {exc}")
            except Exception as exc:  # noqa: BLE001
                problems.append(f"update({k}={bad!r}): {type(exc).__name__} instead of ValueError: {exc}")
            else:
                problems.append(f"update({k}={bad!r}) accepted a value outside {c.describe()}")
    assert not problems, f"{qualname}:\n  " + "\n  ".join(problems)


def test_plot_finite_says_diverged_on_the_axes():
    """plotting.plot_finite: a diverging curve is cut where it leaves the finite range and the axes
    carry a visible "diverged" message; a finite curve has none."""
    from matplotlib.figure import Figure

    from lecture_utils import plotting

    fig = Figure()
    ax = fig.subplots()
    steps = np.arange(6)
    line, at = plotting.plot_finite(ax, steps, [1.0, 4.0, 1e3, 1e9, np.inf, np.nan], what="GD")
    assert at == 3 and np.isnan(line.get_ydata()[3:]).all() and line.get_ydata()[2] == 1e3
    shown = [t.get_text() for t in ax.texts if t.get_visible()]
    assert any(DIVERGED.search(t) and "GD" in t and "step 3" in t for t in shown), shown
    status = plotting.status_text(ax)
    _, at = plotting.plot_finite(ax, steps, np.ones(6), status=status)
    assert at is None and not status.get_visible()
