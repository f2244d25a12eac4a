"""Where does the ball end? The lecture's momentum rule rolled on the toy losses (notebook 05).

Every number here comes from the ONE rule of :mod:`lecture_utils.optim`
(mᵗ = β·mᵗ⁻¹ − η·∇L(θᵗ⁻¹), θᵗ = θᵗ⁻¹ + mᵗ, m⁰ = 0): :func:`~lecture_utils.optim.momentum_path` for
one β, :func:`~lecture_utils.optim.momentum_runs` for a grid of β at once (the same update; the
gradient of a batch of points can differ from that of one point in the last bit, so a scan's row agrees
with the one-β path to rounding, not always bit for bit: the panel draws a slider's β with the one-β path).
The panels of :mod:`lecture_utils.panels.momentum` and the checks of :mod:`lecture_utils.checks` read
them from here; they compute nothing themselves.

* :func:`beta_scan` (a :class:`BetaScan`), :func:`final_positions` — "Rolling past a local minimum":
  every β of :data:`BETA_GRID` at once, from θ⁰ = 4 on :data:`~lecture_utils.landscapes.LOCAL_GLOBAL`;
* :func:`rest_place`, :func:`where_ball_stops` — which basin a path ends in, and whether it still moves;
* :func:`steps_to_leave` — "... and a saddle": the first step past a distance along the escape direction;
* :func:`wilson_interval`, :func:`escape_counts`, :func:`escape_probability` — the escape runs of
  notebook 02 and their 95 % Wilson intervals; their home is :mod:`lecture_utils.landscapes`, named
  here so that "where does the ball end" is one import.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import COUNT, LR, Interval, validate_params
from .i18n import _
from .landscapes import (
    DEFAULT_N_EXAMPLES,
    LOCAL_GLOBAL,
    SADDLE,
    escape_counts,
    escape_probability,
    wilson_interval,
)
from .optim import momentum_path, momentum_runs

__all__ = ["LOCAL_THETA0", "LOCAL_STEPS", "BETA_GRID", "SADDLE_THETA0", "LEAVE", "BetaScan", "beta_scan",
           "final_positions", "rest_place", "where_ball_stops", "steps_to_leave", "wilson_interval",
           "escape_counts", "escape_probability", "escape_report", "rolled_past_line", "at_rest_line"]

#: Where the ball starts on the 1-D loss (right of the barrier, above the local minimum), how long it rolls.
LOCAL_THETA0 = 4.0
LOCAL_STEPS = 600
#: β = 0, 0.01, …, 0.99: the values the scan of "Rolling past a local minimum" runs at once.
BETA_GRID = np.round(np.arange(0.0, 0.991, 0.01), 2)

#: The start next to the saddle's stable line θ₂ = 0, and the distance along the escape direction that
#: counts as "left the saddle" (notebook 05, "... and a saddle").
SADDLE_THETA0 = (1.5, 1e-3)
LEAVE = 0.5

_POSITIVE = Interval("real", 0.0, None, closed="neither")


@dataclass(frozen=True)
class BetaScan:
    """Where every run of one :func:`beta_scan` ends: ``theta[k]`` = θᵀ and ``movement[k]`` = mᵀ of the run
    with β = ``betas[k]`` (NaN for a run that diverged), all from θ⁰ with step η = ``lr``."""

    lr: float
    betas: np.ndarray
    theta: np.ndarray
    movement: np.ndarray
    landscape: object

    def final(self):
        """``(theta_final, speed)``: θᵀ and |mᵀ| per β, NaN for a diverged run (:func:`final_positions`)."""
        bad = ~np.isfinite(self.theta)
        return np.where(bad, np.nan, self.theta), np.where(bad, np.nan, np.abs(self.movement))

    def rolled_past(self):
        """The β whose θᵀ lies left of the barrier (θᵀ < barrier: in the global basin), ascending."""
        end = self.final()[0]
        return self.betas[np.isfinite(end) & (end < self.landscape.barrier)]


@validate_params(lr=LR, steps=COUNT)
def beta_scan(lr, betas=BETA_GRID, *, theta0=LOCAL_THETA0, steps=LOCAL_STEPS, landscape=LOCAL_GLOBAL):
    """Where the lecture's rule ends after ``steps`` steps on the 1-D loss for every β of ``betas`` at once.

    Run ``k`` is ``momentum_path(landscape.grad, [theta0], lr=lr, beta=betas[k], steps=steps)`` run side
    by side with the others (:func:`lecture_utils.optim.momentum_runs`; equal to rounding); β = 0 is
    gradient descent. Returns a :class:`BetaScan` (θᵀ and mᵀ per β). Notebook 05, "Rolling past a local
    minimum" (the scan on the right) and "The lecture's conclusion".
    """
    betas = np.asarray(betas, dtype=float)
    theta, movement = momentum_runs(landscape.grad, [float(theta0)], lr=lr, betas=betas, steps=steps,
                                    every_step=False)
    return BetaScan(lr, betas, theta[:, 0], movement[:, 0], landscape)


@validate_params(lr=LR, steps=COUNT)
def beta_paths(lr, betas=BETA_GRID, *, theta0=LOCAL_THETA0, steps=LOCAL_STEPS, landscape=LOCAL_GLOBAL):
    """:func:`beta_scan` keeping every step: ``(scan, paths)`` with ``paths[:, k]`` = θ⁰…θᵀ of the run with
    β = ``betas[k]`` (shape ``(steps + 1, len(betas))``, NaN after a divergence). One vectorised run serves
    every β of the slider (notebook 05, "Rolling past a local minimum": a β move then computes nothing);
    a column equals ``momentum_path`` at that β to rounding (see :func:`lecture_utils.optim.momentum_runs`).
    """
    betas = np.asarray(betas, dtype=float)
    path, moves = momentum_runs(landscape.grad, [float(theta0)], lr=lr, betas=betas, steps=steps)
    return BetaScan(lr, betas, path[-1, :, 0].copy(), moves[-1, :, 0].copy(), landscape), path[:, :, 0]


def final_positions(lr, betas=BETA_GRID, *, theta0=LOCAL_THETA0, steps=LOCAL_STEPS, landscape=LOCAL_GLOBAL):
    """Where the lecture's rule is after ``steps`` steps from θ⁰ on the 1-D loss, for many β at once.

    θᵀ and the speed |mᵀ| of each run of :func:`beta_scan` (one value per β); NaN for a diverged run.
    Returns ``(theta_final, speed)``. Notebook 05, "Rolling past a local minimum" and "The lecture's
    conclusion" (the share of β that roll past the local minimum).
    """
    return beta_scan(lr, betas, theta0=theta0, steps=steps, landscape=landscape).final()


@validate_params(tol=_POSITIVE)
def rest_place(path, landscape=LOCAL_GLOBAL, tol=1e-3):
    """Where a 1-D path ends: ``(basin, moving)``. basin = 'global' when θᵀ < barrier (the global
    basin, left of the loss's local maximum), 'local' when θᵀ ≥ barrier, 'diverged' when θᵀ is not
    finite; moving = |θᵀ − θᵀ⁻¹| > ``tol`` (still rolling or oscillating). Notebook 05, "Rolling past a
    local minimum" (the caption) and exercise 3 (:func:`where_ball_stops`)."""
    p = np.asarray(path, dtype=float).reshape(len(path), -1)[:, 0]
    if not np.isfinite(p[-1]):
        return "diverged", False
    basin = "global" if p[-1] < landscape.barrier else "local"
    return basin, bool(abs(p[-1] - p[-2]) > tol) if len(p) > 1 else False


def where_ball_stops(lr, beta, theta0=LOCAL_THETA0, steps=LOCAL_STEPS, landscape=LOCAL_GLOBAL):
    """'global', 'local' or 'diverged': the basin of θ^steps of the lecture's rule started at θ⁰ with
    m⁰ = 0 on the 1-D loss (θᵀ < barrier: global; see :func:`rest_place`). Notebook 05, exercise 3."""
    path = momentum_path(landscape.grad, [theta0], lr=lr, beta=beta, steps=steps)
    return rest_place(path[-1:], landscape)[0]


@validate_params(radius=_POSITIVE)
def steps_to_leave(path, radius=LEAVE, direction=None):
    """The first step t with |⟨θᵗ, e⟩| > ``radius``, e = the saddle's escape direction (the Hessian's
    eigenvector of negative eigenvalue; :data:`~lecture_utils.landscapes.SADDLE` unless ``direction``
    is given), or None if the path never gets that far. Notebook 05, "... and a saddle"."""
    e = SADDLE.escape_direction if direction is None else np.asarray(direction, float)
    along = np.abs(np.asarray(path, float) @ e)
    hit = np.nonzero(np.nan_to_num(along, nan=0.0) > radius)[0]
    return int(hit[0]) if len(hit) else None


def escape_report(batch_sizes, *, n_runs=1000):
    """One line per batch size: the fraction of seeded SGD runs started in the local minimum that escape
    (:func:`lecture_utils.landscapes.escape_probability`; B = 64 is the full batch) (notebook 05, "Noise or
    momentum?")."""
    lines = []
    for b, p in zip(batch_sizes, escape_probability(batch_sizes, n_runs=n_runs)):
        text = (_("SGD, batch size {b:2d} (full batch): {p:.2f} of runs escape") if b == DEFAULT_N_EXAMPLES
                else _("SGD, batch size {b:2d}: {p:.2f} of runs escape"))
        lines.append(text.format(b=b, p=p))
    return "\n".join(lines)


def rolled_past_line(lr, betas=BETA_GRID):
    """Which β of the grid roll past the local minimum from θ = 4 at step ``lr`` (:func:`beta_scan`): "every
    β ≥ …" when they are all β from the smallest on (notebook 05, "Noise or momentum?")."""
    past = beta_scan(lr, betas).rolled_past()
    betas = np.asarray(betas)
    if np.array_equal(past, betas[betas >= past.min()]):
        return _("momentum, η = {lr:g}, from θ = {theta0:g}: every β ≥ {beta:.2f} rolls past the local "
                 "minimum").format(lr=lr, theta0=LOCAL_THETA0, beta=past.min())
    return _("momentum, η = {lr:g}: the β that roll past are {betas}").format(lr=lr, betas=past)


def at_rest_line(lr, beta, *, steps=LOCAL_STEPS, landscape=LOCAL_GLOBAL):
    """Where momentum started at rest in the local minimum (m = 0, g = 0) ends: it never moves (notebook 05,
    "Noise or momentum?")."""
    still = momentum_path(landscape.grad, [landscape.local_min], lr=lr, beta=beta, steps=steps)[-1, 0]
    return _("momentum β = {beta:g} started AT the local minimum (m = 0, g = 0) ends at θ = {theta:.2f}: it "
             "never moves").format(beta=beta, theta=still)
