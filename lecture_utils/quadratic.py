"""The ill-conditioned quadratic of Distill's "Why Momentum Really Works" (Goh 2017); notebook 05.

    f(θ) = ½ θᵀAθ,   ∇f(θ) = Aθ,   A = Qᵀ diag(λ₁ … λₙ) Q,   0 < λ₁ ≤ … ≤ λₙ,   κ = λₙ/λ₁

Along eigen-direction i the lecture's rule (m = β·m − α·λᵢθᵢ; θᵢ = θᵢ + m; α is the lecture's η and
Distill's α) is linear in the state (θᵢ, mᵢ):

    (θᵢ, mᵢ)ᵗ = Rᵢ (θᵢ, mᵢ)ᵗ⁻¹,   Rᵢ = [[1 − αλᵢ, β], [−αλᵢ, β]]

with eigenvalues σ satisfying σ² − (1 + β − αλᵢ)σ + β = 0 (Distill's R has the same ones). The error
shrinks like rateᵗ with rate = maxᵢ max(|σ₁(λᵢ)|, |σ₂(λᵢ)|). It converges iff 0 < αλᵢ < 2 + 2β for
every i (and 0 ≤ β < 1). The best choice (Distill, Polyak):

    α* = (2 / (√λ₁ + √λₙ))²,   β* = ((√κ − 1)/(√κ + 1))²,   rate* = (√κ − 1)/(√κ + 1)

versus gradient descent's best α = 2/(λ₁ + λₙ) with rate (κ − 1)/(κ + 1).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._validate import BETA, LR, Interval, check_array, check_int, check_real, validate_params
from .i18n import _

_POSITIVE = Interval("real", 0.0, None, closed="neither")


@dataclass(frozen=True)
class Quadratic:
    """f(θ) = ½ θᵀAθ with A = Qᵀ diag(eigenvalues) Q (2-D: Q rotates by ``angle`` radians)."""

    eigenvalues: np.ndarray
    A: np.ndarray

    @property
    def kappa(self):
        """Condition number κ = λₙ/λ₁."""
        return float(self.eigenvalues[-1] / self.eigenvalues[0])

    @property
    def dim(self):
        return len(self.eigenvalues)

    def value(self, theta):
        """f(θ) = ½ θᵀAθ for θ of shape (..., d) (broadcasts over grids for contour maps)."""
        theta = np.asarray(theta, dtype=float)
        return 0.5 * np.einsum("...i,ij,...j->...", theta, self.A, theta)

    def grad(self, theta):
        """∇f(θ) = Aθ (shape of θ)."""
        return np.asarray(theta, dtype=float) @ self.A.T

    def hessian(self, theta=None):
        """The Hessian A (constant)."""
        return self.A.copy()


@validate_params(angle=Interval("real"))
def make_quadratic(kappa=100.0, *, lam_max=1.0, angle=0.0, eigenvalues=None):
    """A quadratic with eigenvalues (λₙ/κ, λₙ) in 2-D, rotated by ``angle`` — or the given ``eigenvalues``."""
    if eigenvalues is None:
        kappa = check_real("kappa", kappa, low=1.0)
        lam_max = check_real("lam_max", lam_max, low=0.0, low_open=True)
        eig = np.array([lam_max / kappa, lam_max])
    else:
        eig = np.sort(check_array("eigenvalues", eigenvalues, ndim=1))
        if eig.size < 1 or eig[0] <= 0:
            raise ValueError("eigenvalues must be a non-empty list of numbers > 0")
    if eig.size == 2:
        c, s = math.cos(angle), math.sin(angle)
        q = np.array([[c, -s], [s, c]])
    else:
        q = np.eye(eig.size)
    return Quadratic(eig, q @ np.diag(eig) @ q.T)


@validate_params(alpha=LR, beta=BETA, lam=_POSITIVE)
def iteration_matrix(alpha, beta, lam):
    """Rᵢ = [[1 − αλ, β], [−αλ, β]]: one step of the lecture's rule on (θᵢ, mᵢ) along eigenvalue λ."""
    return np.array([[1.0 - alpha * lam, beta], [-alpha * lam, beta]])


def iteration_eigenvalues(alpha, beta, lam):
    """σ₁,₂ = (τ ± √(τ² − 4β))/2 with τ = 1 + β − αλ (complex arrays; α, β, λ broadcast)."""
    alpha = _check_grid("alpha", alpha, 0.0, np.inf)
    beta = _check_grid("beta", beta, 0.0, 1.0, high_open=True)
    lam = np.asarray(lam, dtype=float)
    if np.any(~np.isfinite(lam)) or np.any(lam <= 0):
        raise ValueError("lam must be an eigenvalue > 0 (or an array of them)")
    a, b, lam = np.broadcast_arrays(alpha, beta, lam)
    tau = 1.0 + b - a * lam
    root = np.sqrt((tau * tau - 4.0 * b).astype(complex))
    return (tau + root) / 2.0, (tau - root) / 2.0


def growth_factor(alpha, beta, mu):
    """Growth per step of the lecture's rule along a direction of **negative** curvature −μ (μ > 0, a
    saddle): the larger root σ = (τ + √(τ² − 4β))/2, τ = 1 + β + αμ, of σ² − τσ + β = 0 — the map of
    :func:`iteration_matrix` with λ = −μ (both roots are real and σ > 1). β = 0 gives gradient
    descent's 1 + αμ; with α = η_eff·(1 − β), σ ≈ 1 + η_eff·μ only while η_eff·μ ≪ 1 − β, and is
    smaller beyond. Notebook 05, section 8."""
    alpha = _check_grid("alpha", alpha, 0.0, np.inf)
    beta = _check_grid("beta", beta, 0.0, 1.0, high_open=True)
    mu = _check_grid("mu", mu, 0.0, np.inf)
    tau = 1.0 + beta + alpha * mu
    out = (tau + np.sqrt(tau * tau - 4.0 * beta)) / 2.0
    return float(out) if np.ndim(out) == 0 else out


def _check_grid(name, value, low, high, high_open=False):
    arr = np.asarray(value, dtype=float)
    bad = ~np.isfinite(arr) | (arr < low) | ((arr >= high) if high_open else (arr > high))
    if name == "alpha":
        bad |= arr <= 0
    if np.any(bad):
        rng = "(0, inf)" if name == "alpha" else f"[{low}, {high}{')' if high_open else ']'}"
        raise ValueError(f"{name} must be in {rng}; got {arr[bad].ravel()[0]!r}")
    return arr


def theoretical_rate(alpha, beta, eigenvalues):
    """max over λᵢ of max(|σ₁|, |σ₂|): the factor by which the error shrinks per step (≥ 1: no convergence).

    ``alpha`` and ``beta`` may be arrays (they broadcast; a grid gives the heat map).
    """
    a = _check_grid("alpha", alpha, 0.0, np.inf)
    b = _check_grid("beta", beta, 0.0, 1.0, high_open=True)
    lam = np.sort(check_array("eigenvalues", eigenvalues, ndim=1))
    if lam.size == 0 or lam[0] <= 0:
        raise ValueError("eigenvalues must be a non-empty list of numbers > 0")
    rate = None
    # The rate is largest at an extreme eigenvalue (|σ| depends on λ through one quadratic),
    # but we take the max over all eigenvalues to stay exact for any spectrum.
    for li in np.unique(lam):
        s1, s2 = iteration_eigenvalues(a, b, li)
        r = np.maximum(np.abs(s1), np.abs(s2))
        rate = r if rate is None else np.maximum(rate, r)
    return rate if rate.ndim else float(rate)


def is_stable(alpha, beta, eigenvalues):
    """0 < αλᵢ < 2 + 2β for every eigenvalue (with 0 ≤ β < 1): the iteration converges."""
    a = _check_grid("alpha", alpha, 0.0, np.inf)
    b = _check_grid("beta", beta, 0.0, 1.0, high_open=True)
    lam_max = float(np.max(check_array("eigenvalues", eigenvalues, ndim=1)))
    out = a * lam_max < 2.0 + 2.0 * b
    return out if np.ndim(out) else bool(out)


def stable_alpha_max(beta, eigenvalues):
    """The edge of the stable region: α < (2 + 2β)/λₙ."""
    b = _check_grid("beta", beta, 0.0, 1.0, high_open=True)
    return (2.0 + 2.0 * b) / float(np.max(check_array("eigenvalues", eigenvalues, ndim=1)))


def optimal_params(eigenvalues):
    """α* = (2/(√λ₁ + √λₙ))², β* = ((√κ − 1)/(√κ + 1))², rate* = (√κ − 1)/(√κ + 1) (momentum, Distill)."""
    lam = np.sort(check_array("eigenvalues", eigenvalues, ndim=1))
    l1, ln = float(lam[0]), float(lam[-1])
    sk = math.sqrt(ln / l1)
    return {"alpha": (2.0 / (math.sqrt(l1) + math.sqrt(ln))) ** 2, "beta": ((sk - 1) / (sk + 1)) ** 2,
            "rate": (sk - 1) / (sk + 1)}


def optimal_gd(eigenvalues):
    """Gradient descent's best step α = 2/(λ₁ + λₙ) and its rate (κ − 1)/(κ + 1)."""
    lam = np.sort(check_array("eigenvalues", eigenvalues, ndim=1))
    l1, ln = float(lam[0]), float(lam[-1])
    k = ln / l1
    return {"alpha": 2.0 / (l1 + ln), "beta": 0.0, "rate": (k - 1) / (k + 1)}


def errors(path, theta_star=None):
    """‖θᵗ − θ*‖ for every row of ``path`` (θ* = 0 for f = ½θᵀAθ)."""
    if np.all(np.isfinite(path)):
        path = check_array("path", path, ndim=2, dtype=float)
    else:
        path = np.asarray(path, float)
    star = 0.0 if theta_star is None else np.asarray(theta_star, float)
    return np.linalg.norm(path - star, axis=1)


def measured_rate(path, *, start=None, floor=1e-250):
    """The measured rate: exp of the least-squares slope of log ‖θᵗ‖ over steps start…T.

    ``start`` defaults to T//2 (past the transient). Steps whose error is below ``floor`` (underflow)
    are left out. Returns NaN when the path diverged or fewer than 2 usable steps remain.
    """
    e = errors(path)
    n = len(e)
    start = n // 2 if start is None else check_int("start", start, low=0, high=max(n - 1, 0))
    t = np.arange(start, n)
    e = e[start:]
    ok = np.isfinite(e) & (e > floor)
    if not np.all(np.isfinite(e)) or ok.sum() < 2:
        return float("nan")
    slope = np.polyfit(t[ok], np.log(e[ok]), 1)[0]
    return float(np.exp(slope))


@validate_params(tol=_POSITIVE)
def steps_to_tol(path, tol=1e-3):
    """First step t from which ‖θˢ‖ ≤ tol·‖θ⁰‖ for every s ≥ t (None if never within the path)."""
    e = errors(path)
    if not np.all(np.isfinite(e)):
        return None
    above = np.nonzero(e > tol * e[0])[0]
    if len(above) == 0:
        return 0
    t = int(above[-1]) + 1
    return t if t < len(e) else None


@validate_params(rate=Interval("real", 0.0, None), tol=Interval("real", 0.0, 1.0, closed="neither"))
def theoretical_steps(rate, tol=1e-3):
    """⌈ln(tol)/ln(rate)⌉: steps for rateᵗ to fall below ``tol`` (inf when rate ≥ 1)."""
    if rate >= 1.0:
        return math.inf
    if rate == 0.0:
        return 1
    return int(math.ceil(math.log(tol) / math.log(rate)))


def rate_map(alphas, betas, eigenvalues):
    """Theoretical rate on the grid (β rows × α columns), vectorised; ≥ 1 where it does not converge."""
    a = check_array("alphas", alphas, ndim=1)
    b = check_array("betas", betas, ndim=1)
    return theoretical_rate(a[None, :], b[:, None], eigenvalues)


def race(kappa=100.0, *, theta0=(1.0, 1.0), steps=600, tol=1e-3):
    """Best gradient descent against best momentum on the κ-quadratic (notebook 05's table).

    Returns one dict per method: α, β, theoretical rate, measured rate (:func:`measured_rate`),
    theoretical steps ⌈ln tol/ln rate⌉ and measured steps (:func:`steps_to_tol`) from ``theta0``.
    """
    from .optim import momentum_path

    q = make_quadratic(kappa)
    rows = []
    best = ((_("gradient descent"), optimal_gd(q.eigenvalues)),
            (_("momentum"), optimal_params(q.eigenvalues)))
    for name, p in best:
        path = momentum_path(q.grad, theta0, lr=p["alpha"], beta=p["beta"], steps=steps)
        rows.append({"method": name, "alpha": p["alpha"], "beta": p["beta"], "rate": p["rate"],
                     "measured_rate": measured_rate(path), "steps_theory": theoretical_steps(p["rate"], tol),
                     "steps_measured": steps_to_tol(path, tol)})
    return rows


def race_table(kappa=100.0):
    """:func:`race` as text, one line per method: α, β, the theoretical and measured rate, the theoretical and
    measured steps to an error of 10⁻³ (notebook 05, "Ill-conditioned quadratic")."""
    from .i18n import display_width

    lines = []
    for r in race(kappa):
        name = r["method"] + " " * max(0, 16 - display_width(r["method"]))
        lines.append(_("{method} α = {alpha:.3f}  β = {beta:.3f}   rate: theory {rate:.3f}, measured "
                       "{measured_rate:.3f}   steps to 1e-3: theory {steps_theory}, measured "
                       "{steps_measured}").format(**{**r, "method": name}))
    return "\n".join(lines)
