"""Toy loss landscapes with exact value, gradient and Hessian (notebooks 02 and 05).

Everything here is plain numpy and vectorised: a parameter θ is an array whose **last axis** has
length d (d = 1 for :class:`LocalGlobal1D`, d = 2 for :class:`Saddle2D`), so one call evaluates a
single point (shape ``(d,)``), a grid (``(ny, nx, d)``) or many runs at once (``(n_runs, d)``):

* ``loss(θ)``    -> shape ``θ.shape[:-1]``
* ``grad(θ)``    -> shape ``θ.shape``  (usable as ``grad_fn`` of :func:`lecture_utils.optim.momentum_path`)
* ``hessian(θ)`` -> shape ``θ.shape + (d,)``

Public API (stable names, used by notebook 02 "noisy gradients" and notebook 05 "momentum"):

* :class:`LocalGlobal1D` / :data:`LOCAL_GLOBAL` — a 1-D loss with a global minimum at θ = 0 and a
  shallow local minimum (a dent in the slope) near θ ≈ 2.86 that traps gradient descent;
* :class:`Saddle2D` / :data:`SADDLE` — a 2-D loss with a saddle point at the origin and two minima;
* :class:`TiltedDataset`, :func:`make_trap_data`, :func:`make_saddle_data` — N per-example losses
  ℓᵢ(θ) = L(θ) + cᵢ·θ with Σcᵢ = 0, so the full loss is exactly L while every batch has its own
  tilted loss surface L_𝓑(θ) = L(θ) + c̄_𝓑·θ (the lecture's L1, L2, … picture);
* :func:`sgd_runs` — many seeded mini-batch SGD runs at once; :func:`escape_probability` — the
  fraction of runs that leave the trap for the global basin, per batch size; :func:`wilson_interval`;
* :func:`batch_minima` — the minima of one batch's loss (is the trap still a minimum for this batch?);
* :func:`numerical_hessian`, :func:`hessian_eigen`, :func:`classify_critical_point`, :func:`exit_direction`;
* the numbers behind notebook 02's panels (the panels in :mod:`lecture_utils.panels.noisy` only draw
  them): :func:`batch_loss_numbers` (per-batch gradients at the trap), :func:`trajectory_numbers`
  (SGD and GD paths from the trap), :func:`escape_table` (escape counts with Wilson intervals) and
  :func:`saddle_numbers` (GD and SGD from the saddle's stable manifold, exit directions) and
  :func:`saddle_exit_steps` (how long GD started just off that manifold takes to leave).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ._validate import COUNT, LR, SEED, Interval, check_array, check_batch_size, check_real, validate_params
from .data import epoch_batches, updates_per_epoch
from .i18n import _

#: Default settings of notebook 02's escape experiment (section "Escape rate vs batch size").
DEFAULT_N_EXAMPLES = 64
DEFAULT_NOISE = 4.0
DEFAULT_LR = 0.1
DEFAULT_EPOCHS = 10


def _theta(theta, d, name="theta"):
    arr = np.asarray(theta, dtype=float)
    if arr.ndim == 0 or arr.shape[-1] != d:
        raise ValueError(f"{name} must be an array whose last axis has length {d} (θ has {d} "
                         f"parameter{'s' if d > 1 else ''}); got shape {arr.shape}")
    return arr


# ----------------------------------------------------------------------------- 1-D landscape
@dataclass(frozen=True)
class LocalGlobal1D:
    """L(θ) = ½·k·θ² − A·exp(−(θ − c)² / (2w²)): a bowl with a dent (notebooks 02 and 05).

    The bowl ½kθ² has its global minimum at θ = 0; the Gaussian dent of depth A and width w
    centred at c carves a shallow *local* minimum into the bowl's slope. Exact derivatives with
    e = exp(−(θ − c)²/(2w²)):

        L'(θ)  = k·θ + A·(θ − c)/w² · e
        L''(θ) = k + A·e·(1/w² − (θ − c)²/w⁴)

    Defaults: k = 1, A = 2, w = 0.3, c = 3 give the global minimum θ = 0 (L = 0), a barrier
    (local maximum) at θ ≈ 2.47 and the local minimum θ ≈ 2.86 (L ≈ 2.30). Gradient descent
    started right of the barrier ends in the local minimum; momentum or noise can carry it over.
    """

    k: float = 1.0
    depth: float = 2.0
    width: float = 0.3
    center: float = 3.0
    d: int = field(default=1, init=False)

    def _e(self, t):
        return np.exp(-((t - self.center) ** 2) / (2 * self.width**2))

    def loss(self, theta):
        """L(θ) for θ of shape (..., 1); returns shape (...)."""
        t = _theta(theta, 1)[..., 0]
        return 0.5 * self.k * t**2 - self.depth * self._e(t)

    def grad(self, theta):
        """∇L(θ) = L'(θ), shape (..., 1) like θ."""
        t = _theta(theta, 1)[..., 0]
        g = self.k * t + self.depth * (t - self.center) / self.width**2 * self._e(t)
        return g[..., None]

    def hessian(self, theta):
        """∇²L(θ) = L''(θ), shape (..., 1, 1)."""
        t = _theta(theta, 1)[..., 0]
        w2 = self.width**2
        h = self.k + self.depth * self._e(t) * (1 / w2 - (t - self.center) ** 2 / w2**2)
        return h[..., None, None]

    def critical_points(self):
        """All θ with L'(θ) = 0, ascending, found by bracketing sign changes on a grid + bisection.

        With the defaults: ``[global minimum, barrier, local minimum]``. Computed once per landscape.
        """
        return self._critical_points.copy()

    @cached_property
    def _critical_points(self):
        lo = min(0.0, self.center) - 5 * self.width - 1.0
        hi = max(0.0, self.center) + 5 * self.width + 1.0
        xs = np.linspace(lo, hi, 20001)
        g = self.grad(xs[:, None])[:, 0]
        roots = list(xs[g == 0])
        for i in np.nonzero(np.sign(g[:-1]) * np.sign(g[1:]) < 0)[0]:
            a, b, ga = xs[i], xs[i + 1], g[i]
            for _step in range(80):                     # bisection to machine precision
                m = 0.5 * (a + b)
                gm = self.grad(np.array([m]))[0]
                if gm == 0 or m in (a, b):
                    break
                if np.sign(gm) == np.sign(ga):
                    a, ga = m, gm
                else:
                    b = m
            cands = np.array([a, b, m])
            roots.append(cands[np.argmin(np.abs(self.grad(cands[:, None])[:, 0]))])
        roots = np.sort(np.array(roots, dtype=float))
        keep = np.append(True, np.diff(roots) > 1e-9)      # a root on a grid point is found twice
        return roots[keep]

    @property
    def global_min(self):
        """θ of the global minimum (0 for any k > 0)."""
        return float(self.critical_points()[0])

    def _three_critical_points(self):
        cps = self.critical_points()
        if len(cps) < 3:
            raise ValueError("this landscape has no local minimum (the dent is too shallow): increase depth "
                             "or decrease width")
        return cps

    @property
    def barrier(self):
        """θ of the local maximum between the two minima (where an escape is decided)."""
        return float(self._three_critical_points()[1])

    @property
    def local_min(self):
        """θ of the trapping local minimum."""
        return float(self._three_critical_points()[2])


#: The default 1-D landscape of notebooks 02 and 05.
LOCAL_GLOBAL = LocalGlobal1D()


# ----------------------------------------------------------------------------- 2-D saddle
@dataclass(frozen=True)
class Saddle2D:
    """L(θ) = ½·a·u² + b·(v⁴/4 − v²/2) with (u, v) = Rᵀθ, R the rotation by ``angle`` (notebooks 02, 05).

    Unrotated (angle = 0, u = θ₁, v = θ₂): ∇L = (a·u, b·(v³ − v)), ∇²L = diag(a, b·(3v² − 1)).
    Critical points: the origin, a **saddle** with Hessian eigenvalues (a, −b) — curved up along
    u, down along v — and two **minima** at v = ±1 (eigenvalues a and 2b, L = −b/4). The stable
    manifold of the saddle is the line v = 0: gradient descent started on it converges to the
    saddle and never leaves; any push along v (the eigenvector of the negative eigenvalue,
    (−sin angle, cos angle)) grows by a factor (1 + η·b) per step.
    """

    a: float = 2.0
    b: float = 1.0
    angle: float = 0.0
    d: int = field(default=2, init=False)

    def _rot(self):
        c, s = np.cos(self.angle), np.sin(self.angle)
        return np.array([[c, -s], [s, c]])

    def _uv(self, theta):
        return _theta(theta, 2) @ self._rot()          # (u, v) = Rᵀθ  (row vectors: θ R)

    def loss(self, theta):
        """L(θ) for θ of shape (..., 2); returns shape (...)."""
        uv = self._uv(theta)
        u, v = uv[..., 0], uv[..., 1]
        return 0.5 * self.a * u**2 + self.b * (v**4 / 4 - v**2 / 2)

    def grad(self, theta):
        """∇L(θ) = R·(a·u, b·(v³ − v)), shape (..., 2)."""
        uv = self._uv(theta)
        u, v = uv[..., 0], uv[..., 1]
        g_uv = np.stack([self.a * u, self.b * (v**3 - v)], axis=-1)
        return g_uv @ self._rot().T

    def hessian(self, theta):
        """∇²L(θ) = R·diag(a, b·(3v² − 1))·Rᵀ, shape (..., 2, 2)."""
        uv = self._uv(theta)
        v = uv[..., 1]
        diag = np.zeros(uv.shape[:-1] + (2, 2))
        diag[..., 0, 0] = self.a
        diag[..., 1, 1] = self.b * (3 * v**2 - 1)
        r = self._rot()
        return r @ diag @ r.T

    @property
    def saddle(self):
        """The saddle point θ = (0, 0)."""
        return np.zeros(2)

    @property
    def minima(self):
        """The two minima θ = ±R·(0, 1), shape (2, 2)."""
        e = self._rot()[:, 1]
        return np.stack([e, -e])

    @property
    def escape_direction(self):
        """Unit eigenvector of the negative Hessian eigenvalue at the saddle: R·(0, 1)."""
        return self._rot()[:, 1].copy()


#: The default 2-D saddle of notebooks 02 and 05 (eigenvalues 2 and −1 at the origin).
SADDLE = Saddle2D()


# ----------------------------------------------------------------------------- per-example losses
@dataclass(frozen=True)
class TiltedDataset:
    """N per-example losses ℓᵢ(θ) = L(θ) + cᵢ·(θ − p) whose tilts cᵢ sum to zero (notebook 02).

    The full loss (1/N)·Σᵢ ℓᵢ(θ) is exactly L(θ). A batch 𝓑 sees the tilted surface
    L_𝓑(θ) = L(θ) + c̄_𝓑·(θ − p) (all batch losses meet the full loss at the pivot p) with gradient
    ∇L(θ) + c̄_𝓑 (c̄_𝓑 the mean tilt of the batch): where the
    full gradient is zero the batch gradient is c̄_𝓑, which is not. A batch holding all N examples
    uses the tilt 0 exactly (no rounding noise), so full-batch GD is plain GD on L.

    Same interface as :class:`lecture_utils.data.ToyRegression` (``n``, ``loss(θ, idx)``,
    ``grad(θ, idx)``), so :func:`lecture_utils.optim.minibatch_path` runs on it.
    """

    landscape: object
    tilts: np.ndarray          # shape (N, d), mean exactly removed
    pivot: np.ndarray = None   # shape (d,): where every ℓᵢ equals L (default: the origin)

    @property
    def n(self):
        return len(self.tilts)

    @property
    def d(self):
        return self.tilts.shape[1]

    def mean_tilt(self, idx=None):
        """c̄_𝓑 = (1/|𝓑|)·Σ_{i∈𝓑} cᵢ (zero for the full batch or ``idx=None``)."""
        if idx is None:
            return np.zeros(self.d)
        idx = np.asarray(idx)
        if idx.size == 0:
            raise ValueError("idx must hold at least one example index")
        if idx.size == self.n and np.unique(idx).size == self.n:
            return np.zeros(self.d)
        return self.tilts[idx].mean(axis=0)

    def loss(self, theta, idx=None):
        """L_𝓑(θ) = L(θ) + c̄_𝓑·(θ − p) for θ of shape (..., d)."""
        theta = _theta(theta, self.d)
        p = np.zeros(self.d) if self.pivot is None else np.asarray(self.pivot, dtype=float)
        return self.landscape.loss(theta) + (theta - p) @ self.mean_tilt(idx)

    def grad(self, theta, idx=None):
        """∇L_𝓑(θ) = ∇L(θ) + c̄_𝓑."""
        theta = _theta(theta, self.d)
        return self.landscape.grad(theta) + self.mean_tilt(idx)

    def hessian(self, theta, idx=None):
        """∇²L_𝓑(θ) = ∇²L(θ) (a tilt is linear: it moves critical points, not curvature)."""
        return self.landscape.hessian(theta)

    def example_loss(self, theta, i):
        """ℓᵢ(θ) of one example."""
        return self.loss(theta, [int(i)])


def _minimum_crossings(g):
    """Where a gradient sampled on a grid (last axis) changes sign from − to + (a minimum lies
    between grid points i and i + 1): a boolean mask of shape ``g[..., :-1]``."""
    return (g[..., :-1] < 0) & (g[..., 1:] >= 0)


@validate_params(n_grid=Interval("int", 3, None))
def batch_minima(data, idx=None, *, lo=None, hi=None, n_grid=4001):
    """θ of every local minimum of the 1-D batch loss L_𝓑(θ) = L(θ) + c̄_𝓑·θ in [lo, hi] (notebook 02).

    Found where L_𝓑' changes sign from − to + on a grid of ``n_grid`` points (to grid precision,
    refined linearly). By default the grid reaches left to −2 − max|cᵢ|/k, past the tilted bowl's minimum.
    The full loss has two (global and trapping local minimum); a batch whose mean tilt c̄_𝓑 is
    large enough has only one: for that batch the dent is no minimum at all.
    """
    if data.d != 1:
        raise ValueError(f"data must be a 1-D problem (d = 1); got d = {data.d}")
    hi = data.landscape.center + 2.0 if hi is None else hi
    # by default left to the tilted bowl's minimum
    lo = -2.0 - float(np.abs(data.tilts).max()) / data.landscape.k if lo is None else lo
    lo = check_real("lo", lo)
    hi = check_real("hi", hi, low=lo, low_open=True)
    xs = np.linspace(lo, hi, n_grid)
    g = data.grad(xs[:, None], idx)[:, 0]
    i = np.nonzero(_minimum_crossings(g))[0]
    return xs[i] - g[i] * (xs[i + 1] - xs[i]) / (g[i + 1] - g[i])


@validate_params(n_examples=Interval("int", 2, None), noise=Interval("real", 0.0, None))
def make_trap_data(n_examples=DEFAULT_N_EXAMPLES, *, noise=DEFAULT_NOISE, landscape=None):
    """The 1-D dataset of notebook 02: N tilts evenly spaced in [−1, 1], scaled to standard deviation
    ``noise``.

    cᵢ = noise·sᵢ / std(s), sᵢ = −1 + 2i/(N − 1): deterministic (no seed needed), symmetric, mean 0.
    The pivot is the local minimum θ*: every ℓᵢ(θ*) = L(θ*), and ℓᵢ'(θ*) = cᵢ.
    """
    s = np.linspace(-1.0, 1.0, n_examples)
    s = s - s.mean()
    tilts = noise * s / s.std()
    land = LOCAL_GLOBAL if landscape is None else landscape
    return TiltedDataset(land, tilts[:, None], pivot=np.array([land.local_min]))


@validate_params(n_examples=Interval("int", 2, None), noise=Interval("real", 0.0, None), seed=SEED)
def make_saddle_data(n_examples=32, *, noise=1.0, seed=0, landscape=None):
    """The 2-D dataset of notebook 02's saddle section: tilts cᵢ ~ N(0, noise²·I), centred, seeded."""
    c = np.random.default_rng(seed).standard_normal((n_examples, 2))
    c = c - c.mean(axis=0)
    c = noise * c / np.sqrt(np.mean(np.sum(c**2, axis=1)) / 2)
    return TiltedDataset(SADDLE if landscape is None else landscape, c)


# ----------------------------------------------------------------------------- many SGD runs
def _batch_mean_tilts(data, batch_size, n_runs, rng):
    """Mean tilt of every batch of one epoch for every run, shape (n_runs, ⌈N/B⌉, d).

    Each run shuffles independently (a fresh permutation per run and epoch) and cuts the
    permutation into consecutive batches of B, the last one smaller, as ``epoch_batches`` does.
    """
    n = data.n
    if batch_size >= n:
        return np.zeros((n_runs, 1, data.d))
    perm = np.argsort(rng.random((n_runs, n)), axis=1)
    starts = np.arange(0, n, batch_size)
    sizes = np.diff(np.append(starts, n))
    sums = np.add.reduceat(data.tilts[perm], starts, axis=1)      # (runs, nb, d)
    return sums / sizes[None, :, None]


@validate_params(lr=LR, epochs=COUNT, n_runs=COUNT, seed=SEED,
                 steps=Interval("int", 0, None, allow_none=True))
def sgd_runs(data, theta0, *, batch_size, lr, epochs, n_runs=1000, seed=0, record=False, steps=None):
    """``n_runs`` independent mini-batch SGD runs on ``data``, all at once (notebook 02).

    Update per batch 𝓑: θ ← θ − η·∇L_𝓑(θ) = θ − η·(∇L(θ) + c̄_𝓑); every run reshuffles every epoch
    (its own permutation). ``batch_size=None`` means the full batch (plain gradient descent).
    The random stream depends only on ``(seed, B)``, so a batch size's result does not depend on
    which other batch sizes are computed. ``steps`` (optional) stops after that many updates.

    Returns the final θ, shape ``(n_runs, d)``, or with ``record=True`` the whole paths, shape
    ``(updates + 1, n_runs, d)``. Non-finite values (divergence) are left as they are (NaN/inf).
    """
    n = data.n
    b = n if batch_size is None else check_batch_size(batch_size, n)
    theta0 = check_array("theta0", theta0, ndim=1)
    if theta0.shape != (data.d,):
        raise ValueError(f"theta0 must have shape ({data.d},); got {theta0.shape}")
    rng = np.random.default_rng([seed, b])
    theta = np.broadcast_to(theta0, (n_runs, data.d)).copy()
    per_epoch = updates_per_epoch(n, b)
    total = epochs * per_epoch if steps is None else min(steps, epochs * per_epoch)
    path = np.empty((total + 1, n_runs, data.d)) if record else None
    if record:
        path[0] = theta
    t = 0
    with np.errstate(over="ignore", invalid="ignore"):
        for _epoch in range(epochs):
            if t >= total:
                break                     # the remaining epochs would only draw unused shuffles
            tilts = _batch_mean_tilts(data, b, n_runs, rng)
            for k in range(per_epoch):
                if t >= total:
                    break
                theta = theta - lr * (data.landscape.grad(theta) + tilts[:, k])
                t += 1
                if record:
                    path[t] = theta
    return path if record else theta


def _batch_list(batch_sizes, n):
    if np.isscalar(batch_sizes) or batch_sizes is None:
        batch_sizes = [batch_sizes]
    out = []
    for b in batch_sizes:
        out.append(n if b is None else check_batch_size(b, n, name="batch_sizes"))
    if not out:
        raise ValueError("batch_sizes must hold at least one batch size in [1, N] (or None for the full "
                         "batch)")
    return out


def escape_counts(batch_sizes, *, n_runs=1000, seed=0, lr=DEFAULT_LR, epochs=DEFAULT_EPOCHS, data=None,
                  theta0=None):
    """How many of ``n_runs`` runs end in the global basin (θ < barrier), one count per batch size.

    See :func:`escape_probability` (which divides by ``n_runs``); notebook 02 §3 and its exercise 1.
    """
    data = make_trap_data() if data is None else data
    land = data.landscape
    theta0 = np.array([land.local_min]) if theta0 is None else theta0
    counts = []
    for b in _batch_list(batch_sizes, data.n):
        final = sgd_runs(data, theta0, batch_size=b, lr=lr, epochs=epochs, n_runs=n_runs, seed=seed)[:, 0]
        counts.append(int(np.sum(np.isfinite(final) & (final < land.barrier))))
    return np.array(counts)


@validate_params(n_runs=COUNT)
def escape_probability(batch_sizes, *, n_runs=1000, seed=0, lr=DEFAULT_LR, epochs=DEFAULT_EPOCHS, data=None,
                       theta0=None):
    """Fraction of seeded SGD runs started in the local minimum that end in the global basin (notebook 02).

    For each batch size B (``None`` = full batch N), ``n_runs`` runs of :func:`sgd_runs` start at
    the local minimum θ* of :data:`LOCAL_GLOBAL` (where ∇L(θ*) = 0) on :func:`make_trap_data`
    (N = 64 examples, tilt noise 4), with learning rate η = ``lr`` for ``epochs`` epochs. A run has
    escaped when its final θ lies left of the barrier (θ < 2.47: the global basin).

    p̂_B = (number escaped) / n_runs; a 95 % interval is :func:`wilson_interval`. Returns an
    array of fractions, one per batch size. Other problems: pass ``data`` (a TiltedDataset on a
    :class:`LocalGlobal1D`) and ``theta0``.
    """
    return escape_counts(batch_sizes, n_runs=n_runs, seed=seed, lr=lr, epochs=epochs, data=data,
                         theta0=theta0) / n_runs


@validate_params(n=COUNT, z=Interval("real", 0.0, None, closed="neither"))
def wilson_interval(successes, n, z=1.96):
    """Wilson score interval for a binomial fraction k/n (95 % for z = 1.96), arrays allowed.

    centre = (p̂ + z²/2n) / (1 + z²/n),  half-width = z·√(p̂(1 − p̂)/n + z²/4n²) / (1 + z²/n).
    Unlike p̂ ± 1.96·√(p̂(1−p̂)/n) it stays inside [0, 1] and is not empty when k = 0 or k = n.
    Notebook 02 §3 (the error bars of the escape curve).
    """
    k = check_array("successes", successes)
    if np.any(k < 0) or np.any(k > n):
        raise ValueError(f"successes must lie in [0, n] = [0, {n}]")
    p = k / n
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


# ----------------------------------------------------------------------------- Hessian tools
@validate_params(eps=Interval("real", 0.0, None, closed="neither"))
def numerical_hessian(grad_fn, theta, eps=1e-5):
    """∇²L(θ) by central differences of the gradient: H[:, j] ≈ (g(θ + ε·eⱼ) − g(θ − ε·eⱼ)) / 2ε, symmetrised.

    For Hessians without a formula; notebook 02 §4 uses the exact ones, the tests compare the two.
    """
    theta = check_array("theta", theta, ndim=1)
    if not callable(grad_fn):
        raise ValueError(f"grad_fn must be a function θ -> ∇L(θ); got {type(grad_fn).__name__}")
    d = theta.size
    h = np.empty((d, d))
    for j in range(d):
        e = np.zeros(d)
        e[j] = eps
        gp, gm = np.asarray(grad_fn(theta + e), dtype=float), np.asarray(grad_fn(theta - e), dtype=float)
        if gp.shape != theta.shape or gm.shape != theta.shape:
            raise ValueError(f"grad_fn must return an array of shape {theta.shape} (the shape of theta); "
                             f"got {gp.shape}")
        h[:, j] = (gp - gm) / (2 * eps)
    return (h + h.T) / 2


def hessian_eigen(hessian):
    """Eigenvalues (ascending) and unit eigenvectors (columns) of a symmetric Hessian: H·vᵢ = λᵢ·vᵢ.

    Notebook 02 §4 "Saddle points: tell by the Hessian".
    """
    h = check_array("hessian", hessian)
    if h.ndim == 0:
        h = h.reshape(1, 1)
    if h.ndim != 2 or h.shape[0] != h.shape[1]:
        raise ValueError(f"hessian must be a square matrix; got shape {h.shape}")
    if not np.allclose(h, h.T, atol=1e-8 * max(1.0, np.abs(h).max())):
        raise ValueError("hessian must be symmetric")
    return np.linalg.eigh((h + h.T) / 2)


@validate_params(tol=Interval("real", 0.0, None))
def classify_critical_point(hessian, tol=1e-8):
    """Type of a critical point (∇L = 0) from its Hessian's eigenvalues λ (lecture: "tell by the Hessian").

    all λ > tol: ``"minimum"``; all λ < −tol: ``"maximum"``; some > tol and some < −tol:
    ``"saddle"``; otherwise (some |λ| ≤ tol, none of the opposite sign): ``"degenerate"`` — the
    second-order test cannot decide: diag(2, 0) is the Hessian at the origin of θ₁² (a minimum, flat
    along θ₂) and of θ₁² + θ₂³ (not one). Common in networks, whose Hessians have most eigenvalues near
    0 (Sagun et al. 2017). Notebook 02 §1 and §4, and its exercise 2
    (:data:`lecture_utils.checks.CLASSIFY_CASES`).
    """
    lam, _vec = hessian_eigen(hessian)
    if np.all(lam > tol):
        return CriticalKind("minimum")
    if np.all(lam < -tol):
        return CriticalKind("maximum")
    if np.any(lam > tol) and np.any(lam < -tol):
        return CriticalKind("saddle")
    return CriticalKind("degenerate")


def kind_text(kind):
    """The word for a kind of critical point ("minimum", "maximum", "saddle", "degenerate") in the lecture's
    language, as notebooks 02 and 05 print it (English: the kind itself; Chinese: 鞍点（saddle）, …)."""
    kind = str.__str__(kind)
    words = {"minimum": _("minimum"), "maximum": _("maximum"), "saddle": _("saddle"),
             "degenerate": _("degenerate")}
    return words.get(kind, kind)


class CriticalKind(str):
    """What :func:`classify_critical_point` returns: the English key ("saddle", …) — it compares, hashes
    and ``repr``s as that key, so code and the exercise check compare keys — but printed (``str``,
    ``format``, f-strings) it reads in the lecture's language (:func:`kind_text`), so notebooks 02 and 05
    print 鞍点（saddle） in the Chinese edition and exactly the key in English."""

    __slots__ = ()

    def __str__(self):
        return kind_text(self)

    def __format__(self, spec):
        return format(kind_text(self), spec)


@validate_params(radius=Interval("real", 0.0, None, closed="neither"))
def exit_direction(paths, center, radius):
    """Unit vector from ``center`` to where each path first leaves the ball |θ − center| ≤ radius
    after having entered it (paths that start outside count from their first visit).

    ``paths`` has shape (steps + 1, n_runs, d) (as from ``sgd_runs(..., record=True)``); returns
    shape (n_runs, d), NaN for runs that never leave. Used to show that escapes from a saddle follow
    the eigenvector of the negative Hessian eigenvalue (|cos| ≈ 1); notebook 02 §4.
    """
    paths = np.asarray(paths, dtype=float)
    if paths.ndim != 3:
        raise ValueError(f"paths must have shape (steps + 1, n_runs, d); got {paths.shape}")
    diff = paths - np.asarray(center, dtype=float)
    dist = np.linalg.norm(diff, axis=-1)
    out = np.full(paths.shape[1:], np.nan)
    inside = dist <= radius
    entered = np.maximum.accumulate(inside, axis=0)      # True from the first visit of the ball on
    outside = entered & ~inside
    left = outside.any(axis=0)
    first = np.argmax(outside, axis=0)
    runs = np.nonzero(left)[0]
    v = diff[first[runs], runs]
    out[runs] = v / np.linalg.norm(v, axis=-1, keepdims=True)
    return out


# ------------------------------------------------------------------ the numbers behind notebook 02's panels
#: The saddle section's data (notebook 02 §4): N = 32 per-example tilts of :data:`SADDLE`, noise 0.5
#: (seed 0); GD and SGD start at θ⁰ = (1.8, 0) on the saddle's stable manifold and run 150 updates; a
#: run "leaves" when it exits the ball |θ| ≤ 0.5 after having entered it.
SADDLE_N = 32
SADDLE_NOISE = 0.5
SADDLE_STEPS = 150
SADDLE_START = (1.8, 0.0)
SADDLE_RADIUS = 0.5


def batch_loss_numbers(data, batch_size, *, seed=0, epoch=0):
    """Numbers behind the per-batch picture (notebook 02 §2): the batches of one epoch and, at the
    local minimum θ*, the full gradient L'(θ*) and each batch's gradient L_𝓑'(θ*) = c̄_𝓑, and whether
    L_𝓑 keeps a minimum in the dent (``has_trap``: L_𝓑' = L' + c̄_𝓑 changes sign from − to + on a grid
    between the barrier and c + 2, the rule of :func:`batch_minima`, all batches at once)."""
    land = data.landscape
    theta_star = np.array([land.local_min])
    batches = epoch_batches(data.n, batch_size, seed=seed, epoch=epoch)
    grads = np.array([data.grad(theta_star, idx)[0] for idx in batches])
    full_grad = float(data.grad(theta_star)[0])
    xs = np.linspace(land.barrier, land.center + 2.0, 1201)
    g = land.grad(xs[:, None])[:, 0][None, :] + (grads - full_grad)[:, None]
    has_trap = np.any(_minimum_crossings(g), axis=1)
    return {"theta_star": float(theta_star[0]), "full_grad": full_grad,
            "batches": batches, "grads": grads, "has_trap": has_trap}


def trajectory_numbers(data, batch_size, lr, *, epochs=DEFAULT_EPOCHS, n_runs=200, seed=0):
    """``n_runs`` SGD paths of :func:`sgd_runs` from the local minimum θ*, the full-batch GD path, how many
    runs end in the global basin (θ < barrier) or diverged, and L''(θ*) (notebook 02 §3, "Trajectories")."""
    land = data.landscape
    theta0 = np.array([land.local_min])
    paths = sgd_runs(data, theta0, batch_size=batch_size, lr=lr, epochs=epochs, n_runs=n_runs, seed=seed,
                     record=True)[:, :, 0]
    gd = sgd_runs(data, theta0, batch_size=None, lr=lr, epochs=epochs, n_runs=1, seed=seed,
                  record=True)[:, 0, 0]
    final = paths[-1]
    finite = np.isfinite(final)
    curv = float(land.hessian(theta0)[0, 0])
    return {"paths": paths, "gd": gd, "final": final, "escaped": int(np.sum(finite & (final < land.barrier))),
            "diverged": int(np.sum(~finite)), "n_runs": n_runs, "curvature": curv, "theta0": float(theta0[0])}


def escape_table(batch_sizes, rates, n_runs, n_examples):
    """Rows (label, escaped, fraction, low, high) with the 95 % Wilson interval, for printing
    (notebook 02 §3).

    ``rates`` are the fractions from :func:`escape_probability` over ``n_runs``.
    """
    counts = np.round(np.asarray(rates, dtype=float) * n_runs).astype(int)
    lo, hi = wilson_interval(counts, n_runs)
    rows = []
    for b, k, low, high in zip(batch_sizes, counts, lo, hi):
        b = n_examples if b is None else int(b)
        rows.append((("full" if b >= n_examples else str(b)), int(k), k / n_runs, float(low), float(high)))
    return rows


@validate_params(lr=LR, max_steps=Interval("int", 1, 10**6))
def saddle_exit_steps(offsets, *, lr=0.1, max_steps=20000, land=None):
    """Updates full-batch gradient descent needs to leave the saddle when it starts δ off the stable
    line: θ⁰ = 1.8·e_u + δ·v₋ (e_u along the upward curvature, v₋ the eigenvector of the negative
    eigenvalue; (1.8, δ) on :data:`SADDLE`), one run per δ in ``offsets`` (notebook 02 §4).

    A run leaves when it exits the ball |θ| ≤ :data:`SADDLE_RADIUS` after having entered it (the rule
    of :func:`exit_direction`); the count is that update's number, −1 when it has not left within
    ``max_steps`` (δ = 0: on the stable line it never does). Near the saddle the θ₂-offset grows by
    (1 + η·b) per update (b = 1 here), so the count grows like log(1/δ)/log(1 + η): about 24 more
    updates per factor 10 at η = 0.1 — gradient descent avoids the saddle but is slowed (Lee et al.
    2016; Du et al. 2017).
    """
    land = SADDLE if land is None else land
    delta = check_array("offsets", offsets, ndim=1)
    e_v = land.escape_direction
    e_u = np.array([e_v[1], -e_v[0]])
    theta = SADDLE_START[0] * e_u[None, :] + delta[:, None] * e_v[None, :]
    entered = np.zeros(delta.size, dtype=bool)
    left_at = np.full(delta.size, -1)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, max_steps + 1):
            theta = theta - lr * land.grad(theta)
            inside = np.linalg.norm(theta - land.saddle, axis=-1) <= SADDLE_RADIUS
            new = entered & ~inside & (left_at < 0)
            left_at[new] = t
            entered |= inside
            if np.all(left_at >= 0):
                break
    return left_at


def saddle_data():
    """The dataset of notebook 02's saddle section (see :data:`SADDLE_N`)."""
    return make_saddle_data(SADDLE_N, noise=SADDLE_NOISE, seed=0)


@validate_params(steps=Interval("int", 1, 100000))
def saddle_numbers(batch_size, *, lr=0.1, steps=SADDLE_STEPS, n_runs=20, seed=0, data=None):
    """GD and SGD paths from θ⁰ = (1.8, 0) on the saddle's stable manifold, and where the SGD runs leave
    the ball |θ| ≤ 0.5 (notebook 02 §4): ``abs_cos`` = |cos| of each exit direction with the eigenvector
    v₋ of the Hessian's negative eigenvalue at the saddle, ``left`` how many runs left, ``dist`` and
    ``gd_dist`` the distances |θ − saddle| along every path (floored at 1e-300 for a log axis), ``diverged``
    how many runs ended non-finite."""
    data = saddle_data() if data is None else data
    batch_size = check_batch_size(batch_size, data.n)
    land = data.landscape
    theta0 = np.array(SADDLE_START)
    epochs = math.ceil(steps / updates_per_epoch(data.n, batch_size))      # enough for ``steps`` updates
    paths = sgd_runs(data, theta0, batch_size=batch_size, lr=lr, epochs=epochs, steps=steps, n_runs=n_runs,
                     seed=seed, record=True)
    gd = sgd_runs(data, theta0, batch_size=None, lr=lr, epochs=steps, steps=steps, n_runs=1,
                  record=True)[:, 0]
    lam, vec = np.linalg.eigh(land.hessian(land.saddle))
    exits = exit_direction(paths, land.saddle, SADDLE_RADIUS)
    left = ~np.isnan(exits[:, 0])
    cos = np.abs(exits[left] @ vec[:, 0]) if left.any() else np.array([])
    return {"paths": paths, "gd": gd, "eigenvalues": lam, "eigenvectors": vec, "left": int(left.sum()),
            "abs_cos": cos, "n_runs": n_runs, "gd_distance": float(np.linalg.norm(gd[-1] - land.saddle)),
            "dist": np.maximum(np.linalg.norm(paths - land.saddle, axis=-1), 1e-300),
            "gd_dist": np.maximum(np.linalg.norm(gd - land.saddle, axis=-1), 1e-300),
            "diverged": int(np.sum(~np.all(np.isfinite(paths[-1]), axis=1)))}
