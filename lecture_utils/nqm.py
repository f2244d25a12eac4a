"""The noisy quadratic model (NQM) of Zhang et al. 2019, in expectation and in closed form (notebook 05,
deep dive "Momentum × batch size").

Zhang, Li, Nado, Martens, Sachdeva, Dahl, Shallue, Grosse (2019), "Which algorithmic choices matter at
which batch sizes? Insights from a noisy quadratic model": a quadratic loss whose mini-batch gradient
carries noise that shrinks like 1/B predicts how the best steps-to-target depend on the batch size, with
and without momentum. Here, d directions (eigen-directions of the Hessian) with curvatures hᵢ:

    L(θ) = ½ Σᵢ hᵢ θᵢ²,   gᵢ = hᵢ θᵢ + εᵢ,   E εᵢ = 0,   Var εᵢ = cᵢ / B,   cᵢ = hᵢ

(the gradient covariance equals the Hessian divided by B, as in Zhang et al.), trained with the lecture's
rule mᵢ ← β·mᵢ − η·gᵢ, θᵢ ← θᵢ + mᵢ from θᵢ⁰ = 1, m⁰ = 0. Per direction the state xᵢ = (θᵢ, mᵢ) moves
by xᵢ ← Rᵢ xᵢ − η εᵢ (1, 1)ᵀ, Rᵢ = [[1 − ηhᵢ, β], [−ηhᵢ, β]] (section 6's matrix), so its second moment
Sᵢ = E[xᵢ xᵢᵀ] follows Sᵢ ← Rᵢ Sᵢ Rᵢᵀ + η² (cᵢ/B) 11ᵀ exactly. With Rᵢ = V diag(σ₁, σ₂) V⁻¹ (σ the
roots of σ² − (1 + β − ηhᵢ)σ + β = 0) every entry of Y = V⁻¹ S V⁻ᵀ evolves on its own,

    Yⱼₖᵗ = (σⱼσₖ)ᵗ (Yⱼₖ⁰ − Yⱼₖ*) + Yⱼₖ*,   Yⱼₖ* = Q̃ⱼₖ / (1 − σⱼσₖ),   Q̃ = η²(cᵢ/B) (V⁻¹1)(V⁻¹1)ᵀ,

and the expected loss is E[L(θᵗ)] = ½ Σᵢ hᵢ (V Yᵗ Vᵀ)₀₀. Only Q̃ depends on B, so

    E[L(θᵗ)] = A(t) + C(t) / B          (:func:`loss_terms`: A without noise, C the noise at B = 1).

Nothing is sampled: a run's *expected* loss is computed, at the update counts of :func:`check_steps`
(every update up to 20, then ~4 % apart, as notebook 04's protocol checks the training loss). "Steps to
the target" (:func:`steps_to_target`) is the first checked t with E[L(θᵗ)] ≤ target; a setting outside
the stable region η·h_max < 2 + 2β never counts (its loss grows). The best η for each (B, β) is found by
a grid search over effective steps η/(1 − β) (:data:`EFF_LRS`), as the sweep ``momentum_batch`` does on
MNIST-1D: :class:`NQMTable` holds steps for every (β, B, η) of the grids, computed once (numpy, about
0.1 s per β), so a panel's slider move reads a table.

Used by :func:`lecture_utils.panels.momentum.nqm_panel`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import BETA, COUNT, Interval, check_array, validate_params

#: d = 100 directions with curvatures hᵢ = 1/i (κ = 100, as section 6's quadratic), noise cᵢ = hᵢ, θᵢ⁰ = 1.
DIM = 100
#: The target: 1 % of the initial loss ½ Σ hᵢ (θᵢ⁰)².
TARGET_FRACTION = 0.01
#: The batch sizes of the panel: 1, 2, 4, …, 16384 (the NQM has no dataset: any B is allowed).
BATCH_SIZES = tuple(2 ** k for k in range(15))
#: The β of the panel (and of "β tuned too").
BETAS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99)
#: The grid of effective steps η/(1 − β) searched for the best η (factor √2 apart); η = eff·(1 − β).
EFF_LRS = tuple(float(v) for v in 0.004 * np.sqrt(2.0) ** np.arange(34))
#: The last update checked (a setting that needs more never reaches the target).
MAX_STEPS = 100_000
_SPLIT = 1e-5


@dataclass(frozen=True)
class NQM:
    """Curvatures ``h`` (hᵢ), noise ``c`` (cᵢ: Var εᵢ = cᵢ/B) and the start ``theta0`` (θᵢ⁰)."""

    h: np.ndarray
    c: np.ndarray
    theta0: np.ndarray

    @property
    def initial_loss(self):
        """L(θ⁰) = ½ Σ hᵢ (θᵢ⁰)²."""
        return float(0.5 * np.sum(self.h * self.theta0 ** 2))

    @property
    def h_max(self):
        return float(self.h.max())


@validate_params(dim=Interval("int", 1, 100_000))
def make_nqm(dim=DIM):
    """The NQM of this notebook: hᵢ = 1/i (i = 1 … ``dim``), cᵢ = hᵢ, θᵢ⁰ = 1."""
    h = 1.0 / np.arange(1, dim + 1)
    return NQM(h, h.copy(), np.ones(dim))


@validate_params(max_steps=COUNT)
def check_steps(max_steps=MAX_STEPS):
    """The update counts at which the expected loss is checked: every update up to 20, then ~4 % apart
    (rounded), up to ``max_steps``."""
    k = np.arange(1, int(np.ceil(np.log(max(max_steps, 20) / 20) / np.log(1.04))) + 2)
    t = np.r_[np.arange(1, 21), np.round(20 * 1.04 ** k)]
    return np.unique(np.minimum(t, max_steps)).astype(np.int64)


def _modes(nqm, eta, beta):
    """Per (η, direction): the roots σ₁, σ₂ of Rᵢ, the first row (a₁, a₂) of V, V⁻¹(θ⁰, 0) and V⁻¹(1, 1)."""
    h = nqm.h[None, :]
    tau = 1.0 + beta - eta * h                          # (nη, d)
    root = np.sqrt((tau * tau - 4.0 * beta).astype(complex))
    s1, s2 = (tau + root) / 2.0, (tau - root) / 2.0
    # a double root (τ² = 4β) has one eigenvector only: roots closer than δ = 1e-5 are moved apart to
    # σ₁ = (τ + δ)/2, σ₂ = β/σ₁ (the product σ₁σ₂ = β stays exact, the sum moves by O(δ²); the result
    # changes by O((tδ)²) and its rounding grows like ε/δ²: both about 1e-6 relative)
    near = np.abs(root) < _SPLIT
    if near.any():
        s1 = np.where(near, (tau + _SPLIT) / 2.0, s1)
        s2 = np.where(near, beta / s1, s2)
        root = s1 - s2
    # eigenvectors vⱼ = (σⱼ − β, −ηh): V = [[a₁, a₂], [b, b]], det V = b(a₁ − a₂) = b·root
    a1, a2, b = s1 - beta, s2 - beta, -eta * h
    inv_det = 1.0 / (b * root)
    y0 = (b * nqm.theta0 * inv_det, -b * nqm.theta0 * inv_det)      # V⁻¹(θ⁰, 0)
    u = ((b - a2) * inv_det, (a1 - b) * inv_det)                     # V⁻¹(1, 1)
    return (s1, s2), (a1, a2), y0, u


def loss_terms(nqm, etas, beta, t):
    """``(A, C, stable)``: E[L(θᵗ)] = A + C/B at batch size B for every η of ``etas`` (rows) and t of
    ``t`` (columns); ``stable[k]`` says whether η = etas[k] lies inside η·h_max < 2 + 2β (else its rows
    are meaningless: the loss grows). See the module docstring for the closed form."""
    eta = check_array("etas", etas, ndim=1)[:, None]
    if np.any(eta <= 0):
        raise ValueError("etas must be learning rates η > 0")
    beta = BETA.check("beta", beta)
    t = np.asarray(t, dtype=float)
    h, c = nqm.h[None, :], nqm.c[None, :]
    stable = eta[:, 0] * nqm.h_max < 2.0 + 2.0 * beta
    if beta == 0.0:   # one mode μ = (1 − ηh)²: S = μᵗ(θ⁰² − S*) + S*, S* = η²(c/B)/(1 − μ)
        mu = (1.0 - eta * h) ** 2
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            mut = np.exp(np.log(np.maximum(mu, 1e-300))[..., None] * t)
            star = np.where(mu < 1.0, eta ** 2 * c / (1.0 - mu), np.inf)
            a_t = np.einsum("ed,edt->et", 0.5 * h * nqm.theta0 ** 2, mut)
            c_t = np.einsum("ed,edt->et", 0.5 * h * star, 1.0 - mut)
        return a_t, np.nan_to_num(c_t, nan=np.inf), stable
    (s1, s2), v, y0, u = _modes(nqm, eta, beta)
    sig = (s1, s2)
    a_t = np.zeros((eta.shape[0], t.size))
    c_t = np.zeros_like(a_t)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        for j, k, weight in ((0, 0, 1.0), (1, 1, 1.0), (0, 1, 2.0)):
            mu = sig[j] * sig[k]                             # σ₁σ₂ = β for the cross mode
            coef = weight * 0.5 * h * v[j] * v[k]
            if j != k:
                mut = np.broadcast_to((beta ** t)[None, None, :], mu.shape + t.shape)
            else:
                mut = np.exp(np.log(mu)[..., None] * t)
            star = eta ** 2 * c * u[j] * u[k] / (1.0 - mu)
            a_t += np.einsum("ed,edt->et", coef * y0[j] * y0[k], mut).real
            c_t += np.einsum("ed,edt->et", coef * star, 1.0 - mut).real
    return a_t, c_t, stable


def first_below(loss, t, target):
    """The first t (last axis of ``loss``) with loss ≤ ``target``; ``inf`` where there is none."""
    ok = loss <= target
    return np.where(ok.any(axis=-1), np.asarray(t)[np.argmax(ok, axis=-1)], np.inf)


@dataclass(frozen=True)
class NQMTable:
    """Steps to the target for every β of ``betas``, B of ``batch_sizes`` and effective step of
    ``eff_lrs``: ``steps[β][B index, eff index]`` (inf: not reached within ``max_steps``, or unstable)."""

    nqm: NQM
    target: float
    betas: tuple
    batch_sizes: np.ndarray
    eff_lrs: np.ndarray
    steps: dict
    stable: dict
    max_steps: int

    def best(self, beta):
        """Per B: (steps at the best η, the best η/(1 − β)); inf/NaN where no η reaches the target."""
        s = self.steps[beta]
        k = np.argmin(s, axis=1)
        best = s[np.arange(len(k)), k]
        return best, np.where(np.isfinite(best), self.eff_lrs[k], np.nan)

    def best_over_betas(self):
        """Per B: (steps with η and β both tuned, the best β)."""
        per = np.array([self.best(b)[0] for b in self.betas])
        k = np.argmin(per, axis=0)
        return per[k, np.arange(per.shape[1])], np.array(self.betas)[k]

    def stability_limit(self, beta):
        """The largest stable effective step: η/(1 − β) < (2 + 2β)/((1 − β)·h_max)."""
        return (2.0 + 2.0 * beta) / ((1.0 - beta) * self.nqm.h_max)


@validate_params(target_fraction=Interval("real", 0.0, 1.0, closed="neither"), max_steps=COUNT)
def steps_table(nqm=None, *, betas=BETAS, batch_sizes=BATCH_SIZES, eff_lrs=EFF_LRS,
                target_fraction=TARGET_FRACTION, max_steps=MAX_STEPS):
    """:class:`NQMTable` of steps to E[L] ≤ ``target_fraction``·L(θ⁰) (the first checked update,
    :func:`check_steps`) for every β, B and η = eff·(1 − β) of the grids."""
    nqm = make_nqm() if nqm is None else nqm
    t = check_steps(max_steps)
    target = target_fraction * nqm.initial_loss
    bs = np.asarray(batch_sizes, dtype=float)
    effs = np.asarray(eff_lrs, dtype=float)
    steps, stable = {}, {}
    for beta in betas:
        ok = effs * (1.0 - beta) * nqm.h_max < 2.0 + 2.0 * beta    # only the stable η are computed
        s = np.full((len(bs), len(effs)), np.inf)
        if ok.any():
            a_t, c_t, _ = loss_terms(nqm, effs[ok] * (1.0 - beta), beta, t)
            s[:, ok] = first_below(a_t[None, :, :] + c_t[None, :, :] / bs[:, None, None], t, target)
        steps[beta], stable[beta] = s, ok
    return NQMTable(nqm, target, tuple(betas), bs.astype(int), effs, steps, stable, int(max_steps))
