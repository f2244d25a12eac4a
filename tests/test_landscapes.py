"""lecture_utils.landscapes: exact derivatives, hand-derived Hessians, the escape experiment (notebook 02)."""
import time

import numpy as np
import pytest

from lecture_utils import landscapes as L
from lecture_utils.optim import momentum_path

LAND = L.LOCAL_GLOBAL
SAD = L.SADDLE


def fd_grad(f, theta, eps=1e-6):
    theta = np.asarray(theta, float)
    g = np.zeros_like(theta)
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = eps
        g[j] = (f(theta + e) - f(theta - e)) / (2 * eps)
    return g


# ----------------------------------------------------------------------------- 1-D landscape
def test_local_global_critical_points_and_types():
    cps = LAND.critical_points()
    assert len(cps) == 3
    assert cps[0] == pytest.approx(0.0, abs=1e-12)
    assert cps[1] == pytest.approx(2.4696, abs=1e-3)          # barrier
    assert cps[2] == pytest.approx(2.8557, abs=1e-3)          # trap
    assert np.all(np.abs(LAND.grad(cps[:, None])) < 1e-9)
    kinds = [L.classify_critical_point(LAND.hessian(np.array([c]))) for c in cps]
    assert kinds == ["minimum", "maximum", "minimum"]
    vals = LAND.loss(cps[:, None])
    assert vals[0] < vals[2] < vals[1]                         # global < local < barrier
    assert vals[2] == pytest.approx(2.296, abs=1e-3)
    assert vals[1] - vals[2] == pytest.approx(0.334, abs=1e-3)  # barrier height seen from the trap


def test_local_global_hand_derived_hessian():
    # at θ = 0 the dent is e^{-50} away: L''(0) = k = 1; at θ = c: L''(c) = k + A/w² = 1 + 2/0.09
    assert LAND.hessian(np.array([0.0]))[0, 0] == pytest.approx(1.0, abs=1e-12)
    assert LAND.hessian(np.array([3.0]))[0, 0] == pytest.approx(1 + 2 / 0.09, rel=1e-12)
    assert LAND.loss(np.array([3.0])) == pytest.approx(4.5 - 2.0, rel=1e-12)
    assert LAND.grad(np.array([3.0]))[0] == pytest.approx(3.0, rel=1e-12)     # only the bowl's slope k·c


@pytest.mark.parametrize("t", [-1.3, 0.4, 2.5, 2.9, 3.7])
def test_local_global_derivatives_match_finite_differences(t):
    th = np.array([t])
    assert LAND.grad(th) == pytest.approx(fd_grad(LAND.loss, th), rel=1e-6, abs=1e-7)
    assert L.numerical_hessian(LAND.grad, th) == pytest.approx(LAND.hessian(th), rel=1e-5, abs=1e-6)


def test_shapes_vectorised():
    grid = np.linspace(-1, 4, 12).reshape(3, 4, 1)
    assert LAND.loss(grid).shape == (3, 4)
    assert LAND.grad(grid).shape == (3, 4, 1)
    assert LAND.hessian(grid).shape == (3, 4, 1, 1)
    g2 = np.zeros((5, 7, 2))
    assert SAD.loss(g2).shape == (5, 7)
    assert SAD.grad(g2).shape == (5, 7, 2)
    assert SAD.hessian(g2).shape == (5, 7, 2, 2)
    with pytest.raises(ValueError, match="theta"):
        SAD.loss(np.zeros(3))


def test_gd_stays_in_trap_and_momentum_path_compatible():
    path = momentum_path(LAND.grad, np.array([4.5]), lr=0.05, beta=0.0, steps=300)
    assert path[-1, 0] == pytest.approx(LAND.local_min, abs=1e-6)


def test_landscape_without_trap_says_so():
    flat = L.LocalGlobal1D(depth=0.5)
    with pytest.raises(ValueError, match="depth"):
        _ = flat.local_min


# ----------------------------------------------------------------------------- saddle
def test_saddle_hand_derived_hessian_and_eigen():
    h = SAD.hessian(np.zeros(2))
    assert h == pytest.approx(np.diag([2.0, -1.0]))
    lam, vec = L.hessian_eigen(h)
    assert lam == pytest.approx([-1.0, 2.0])
    assert abs(vec[:, 0] @ np.array([0.0, 1.0])) == pytest.approx(1.0)
    assert L.classify_critical_point(h) == "saddle"
    for m in SAD.minima:
        assert SAD.grad(m) == pytest.approx([0, 0], abs=1e-12)
        assert SAD.hessian(m) == pytest.approx(np.diag([2.0, 2.0]))
        assert L.classify_critical_point(SAD.hessian(m)) == "minimum"
        assert SAD.loss(m) == pytest.approx(-0.25)


def test_rotated_saddle_eigenvector():
    phi = 0.4
    s = L.Saddle2D(angle=phi)
    lam, vec = L.hessian_eigen(s.hessian(np.zeros(2)))
    assert lam == pytest.approx([-1.0, 2.0])
    assert abs(vec[:, 0] @ np.array([-np.sin(phi), np.cos(phi)])) == pytest.approx(1.0)
    assert s.escape_direction == pytest.approx([-np.sin(phi), np.cos(phi)])
    th = np.array([0.3, -0.8])
    assert s.grad(th) == pytest.approx(fd_grad(s.loss, th), rel=1e-6)
    assert L.numerical_hessian(s.grad, th) == pytest.approx(s.hessian(th), abs=1e-6)


def test_classify_all_kinds_and_refusals():
    assert L.classify_critical_point(np.diag([-1.0, -3.0])) == "maximum"
    assert L.classify_critical_point(np.diag([0.0, 3.0])) == "degenerate"
    assert L.classify_critical_point(np.array([[1.0, 2.0], [2.0, 1.0]])) == "saddle"   # eigenvalues 3, −1
    assert L.classify_critical_point(np.array([[5.0]])) == "minimum"
    with pytest.raises(ValueError, match="hessian"):
        L.hessian_eigen(np.ones((2, 3)))
    with pytest.raises(ValueError, match="hessian"):
        L.hessian_eigen(np.array([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="grad_fn"):
        L.numerical_hessian(lambda t: np.zeros(3), np.zeros(2))


# ----------------------------------------------------------------------------- per-example losses
def test_tilted_dataset_sums_to_full_loss():
    d = L.make_trap_data()
    assert d.n == 64 and d.tilts.std() == pytest.approx(L.DEFAULT_NOISE)
    grid = np.linspace(-1, 4, 9)[:, None]
    per_example = np.stack([d.example_loss(grid, i) for i in range(d.n)])
    assert per_example.mean(axis=0) == pytest.approx(LAND.loss(grid), abs=1e-12)
    # every example meets the full loss at the pivot θ*, with slope cᵢ there
    ts = np.array([LAND.local_min])
    assert d.example_loss(ts, 5) == pytest.approx(LAND.loss(ts), abs=1e-9)
    assert d.grad(ts, [5])[0] == pytest.approx(d.tilts[5, 0] + LAND.grad(ts)[0])
    assert d.grad(ts, np.arange(64))[0] == LAND.grad(ts)[0]          # the full batch: tilt exactly 0
    idx = [3, 9, 40]
    th = np.array([1.7])
    assert d.grad(th, idx) == pytest.approx(fd_grad(lambda t: d.loss(t, idx), th), rel=1e-6)


def test_batch_minima_full_and_strongly_tilted_batch():
    d = L.make_trap_data()
    m = L.batch_minima(d)
    assert m == pytest.approx([0.0, LAND.local_min], abs=5e-3)
    # the example with the largest tilt: its loss has no minimum in the dent
    i = int(np.argmax(d.tilts[:, 0]))
    assert len(L.batch_minima(d, [i])) == 1


def test_batch_mean_tilts_partition_every_epoch():
    d = L.make_trap_data()
    rng = np.random.default_rng(0)
    for b in (1, 5, 16):
        t = L._batch_mean_tilts(d, b, 7, rng)
        sizes = np.diff(np.append(np.arange(0, 64, b), 64))
        assert t.shape == (7, len(sizes), 1)
        assert np.sum(t[..., 0] * sizes, axis=1) == pytest.approx(np.zeros(7), abs=1e-9)
        if b == 1:   # B = 1: every example exactly once per epoch
            assert np.sort(t[:, :, 0], axis=1) == pytest.approx(np.tile(np.sort(d.tilts[:, 0]), (7, 1)))


def test_full_batch_sgd_runs_is_gradient_descent():
    d = L.make_trap_data()
    p = L.sgd_runs(d, np.array([4.2]), batch_size=None, lr=0.05, epochs=40, n_runs=3, record=True)
    ref = momentum_path(LAND.grad, np.array([4.2]), lr=0.05, beta=0.0, steps=40)
    assert p.shape == (41, 3, 1)
    assert p[:, 0, :] == pytest.approx(ref, rel=1e-14)
    assert np.all(p[:, 1] == p[:, 0])


# ----------------------------------------------------------------------------- escape
def test_escape_probability_falls_with_batch_size():
    bs = [1, 2, 4, 8, 16, 32, None]
    t0 = time.perf_counter()
    p = L.escape_probability(bs)
    seconds = time.perf_counter() - t0
    assert seconds < 6.0, f"whole curve took {seconds:.1f} s (budget 2 s on a quiet 2-core CPU)"
    assert p.shape == (7,)
    assert p[0] > 0.9                        # batch size 1: clearly above 0.5 (measured 0.997)
    assert p[-1] == 0.0                      # full batch: never
    assert p[5] < 0.01                       # B = 32 of 64: practically never
    assert 0.8 < p[3] < 0.95                 # B = 8 (measured 0.880)
    assert 0.08 < p[4] < 0.25                # B = 16 (measured 0.140)
    lo, hi = L.wilson_interval(np.round(p * 1000), 1000)
    for i in range(len(p) - 1):              # non-increasing up to the 95 % intervals
        assert lo[i] <= hi[i + 1] or p[i] >= p[i + 1], (bs[i], p)
    assert np.all(np.diff(p[2:]) <= 0)


def test_escape_probability_seeded_and_independent_of_the_list():
    a = L.escape_probability([8], n_runs=300, seed=3)
    b = L.escape_probability([1, 8], n_runs=300, seed=3)
    assert a[0] == b[1]
    c = L.escape_probability([8], n_runs=300, seed=4)
    assert c[0] != a[0] and abs(c[0] - a[0]) < 0.1


def test_escape_at_equal_numbers_of_updates():
    # 640 updates each (B = 1 makes 640 in 10 epochs): B = 16 catches up (measured 0.92), B = 32 hardly
    # escapes (0.03) and the full batch never: the noise, not the count of updates, decides.
    p16 = L.escape_probability([16], epochs=160, n_runs=500)[0]
    p32 = L.escape_probability([32], epochs=320, n_runs=500)[0]
    assert p16 > 0.8
    assert p32 < 0.1
    assert L.escape_probability([None], epochs=640, n_runs=1)[0] == 0.0


def test_smaller_lr_escapes_less():
    p_small = L.escape_probability([4], lr=0.05, n_runs=500)[0]
    p_big = L.escape_probability([4], lr=0.1, n_runs=500)[0]
    assert p_small < 0.3 < 0.9 < p_big


@pytest.mark.parametrize("kwargs,name", [
    (dict(batch_sizes=[0]), "batch_sizes"), (dict(batch_sizes=[65]), "batch_sizes"),
    (dict(batch_sizes=[2.5]), "batch_sizes"), (dict(batch_sizes=[]), "batch_sizes"),
    (dict(batch_sizes=[4], n_runs=0), "n_runs"), (dict(batch_sizes=[4], lr=0.0), "lr"),
    (dict(batch_sizes=[4], lr=-0.1), "lr"), (dict(batch_sizes=[4], epochs=0), "epochs"),
    (dict(batch_sizes=[4], seed=-1), "seed"), (dict(batch_sizes=[4], theta0=np.array([1.0, 2.0])), "theta0"),
])
def test_escape_probability_refuses(kwargs, name):
    with pytest.raises(ValueError, match=name):
        L.escape_probability(**kwargs)


def test_wilson_interval_known_values():
    lo, hi = L.wilson_interval(0, 1000)
    assert lo == 0.0 and hi == pytest.approx(0.00383, abs=1e-5)
    lo, hi = L.wilson_interval(500, 1000)
    assert (lo, hi) == pytest.approx((0.4691, 0.5309), abs=1e-4)
    with pytest.raises(ValueError, match="successes"):
        L.wilson_interval(11, 10)
    with pytest.raises(ValueError, match="z"):
        L.wilson_interval(1, 10, z=-1.0)


# ----------------------------------------------------------------------------- saddle escape
def test_saddle_gd_stays_sgd_leaves_along_negative_eigenvector():
    d = L.make_saddle_data(32, noise=0.5, seed=0)
    th0 = np.array([1.8, 0.0])
    gd = L.sgd_runs(d, th0, batch_size=None, lr=0.1, epochs=400, n_runs=1)
    assert np.linalg.norm(gd[0]) < 1e-30                      # converged onto the saddle, stays on θ₂ = 0
    paths = L.sgd_runs(d, th0, batch_size=4, lr=0.1, epochs=20, steps=150, n_runs=50, record=True)
    exits = L.exit_direction(paths, np.zeros(2), 0.5)
    left = ~np.isnan(exits[:, 0])
    assert left.sum() >= 45
    cos = np.abs(exits[left] @ SAD.escape_direction)
    assert cos.mean() > 0.98 and cos.min() > 0.9
    ends = np.abs(paths[-1] @ SAD.escape_direction)
    assert np.all(np.abs(ends[left] - 1.0) < 0.3)              # they end near the minima (0, ±1)


def test_exit_direction_synthetic():
    path = np.array([[[2.0, 0.0]], [[0.1, 0.0]], [[0.0, 0.2]], [[0.0, 0.8]]])
    e = L.exit_direction(path, np.zeros(2), 0.5)
    assert e[0] == pytest.approx([0.0, 1.0])
    never = np.array([[[2.0, 0.0]], [[3.0, 0.0]]])
    assert np.isnan(L.exit_direction(never, np.zeros(2), 0.5)).all()


def test_gd_just_off_the_stable_line_leaves_slowly():
    """Notebook 02 §4: GD from (1.8, δ) leaves the saddle after ≈ log(1/δ)/log(1 + η) updates; on the
    line (δ = 0) never."""
    steps = L.saddle_exit_steps([1e-3, 1e-6, 1e-9, 1e-12, 0.0])
    assert steps[-1] == -1                                            # on the stable line: stuck
    assert np.all(steps[:-1] > 0) and list(steps[:-1]) == sorted(steps[:-1])
    per_decade = np.diff(steps[:-1]) / 3                              # updates per factor 10 of δ
    assert per_decade == pytest.approx(np.log(10) / np.log(1.1), abs=0.5)   # 24.2 at η = 0.1
    assert steps[0] == 67
    # the same on a rotated saddle (δ along v₋), and half the η needs about twice the updates
    assert list(L.saddle_exit_steps([1e-3, 1e-6], land=L.Saddle2D(angle=0.7))) == list(steps[:2])
    slow = L.saddle_exit_steps([1e-6], lr=0.05)[0]
    assert slow == pytest.approx(steps[1] * np.log(1.1) / np.log(1.05), rel=0.03)
    assert L.saddle_exit_steps([1e-3], max_steps=10)[0] == -1
    with pytest.raises(ValueError, match="max_steps"):
        L.saddle_exit_steps([1e-3], max_steps=0)
    with pytest.raises(ValueError, match="offsets"):
        L.saddle_exit_steps([[1e-3]])


def test_degenerate_hessians_are_not_called_saddles():
    """Issue 19: diag(2, 0) (θ₁², a minimum; also θ₁² + θ₂³, none) — the test cannot decide."""
    for h in (np.diag([2.0, 0.0]), np.diag([-1.0, 0.0]), np.array([[1.0, 1.0], [1.0, 1.0]]),
              np.zeros((2, 2))):
        assert L.classify_critical_point(h) == "degenerate"
    assert L.classify_critical_point(np.diag([2.0, 0.0, -1.0])) == "saddle"   # a zero hides no sign mix
