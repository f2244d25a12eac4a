"""Panels and figures of notebook 02 (noisy small-batch gradients): they only draw.

* :func:`batch_losses_panel` — "Per-batch losses": the full loss beside three batch losses near the
  trap, and every batch's gradient at the local minimum θ* (where the full gradient is 0);
* :func:`trajectories_panel` — "Trajectories": full-batch GD stays in the local minimum, SGD leaves;
* :func:`plot_escape_curve`, :func:`format_escape_table` — "Escape rate vs batch size" with 95 % Wilson
  intervals;
* :func:`saddle_panel` — "Saddle point": GD converges to the saddle, SGD leaves along v₋;
* :func:`plot_gradient_noise` — "Noise on real data": variance ∝ 1/B and cosines to the full gradient;
* :func:`format_noise_table`, :func:`slope_interval` — the numbers behind that figure, with 95 %
  t-intervals over the sampled batches (:mod:`lecture_utils.stats`) and a bootstrap interval of the slope;
* :func:`plot_noisy_training`, :func:`training_summary` — "Real training" from the cached sweep
  ``noisy_training`` (several seeds: mean ± 95 % t-interval, :func:`lecture_utils.stats.mean_ci`).

The numbers come from :mod:`lecture_utils.landscapes` (``batch_loss_numbers``, ``trajectory_numbers``,
``escape_table``, ``saddle_numbers``, re-exported here under the same names) and :mod:`lecture_utils.noise`;
the functions here turn them into artists and captions. The exercises' checks are in
:mod:`lecture_utils.checks`.
"""
from __future__ import annotations

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from .. import widgets
from .._validate import COUNT, LR, NONNEGATIVE_INT, SEED, Interval, Options, validate_params
from ..data import updates_per_epoch
from ..i18n import _, ngettext
from ..landscapes import (  # noqa: F401  (re-exported: the notebook and tests use noisy.<name>)
    DEFAULT_EPOCHS,
    DEFAULT_LR,
    SADDLE_N,
    SADDLE_NOISE,
    SADDLE_RADIUS,
    SADDLE_START,
    SADDLE_STEPS,
    batch_loss_numbers,
    escape_table,
    make_trap_data,
    saddle_data,
    saddle_numbers,
    trajectory_numbers,
    wilson_interval,
)
from ..plotting import COLORS, batch_color, contour, set_status, status_text
from ..stats import mean_ci, paired_diff_ci
from ..timing import pad

#: The batch sizes offered by the sliders of notebook 02 (N = 64: the last one is the full batch).
BATCH_CHOICES = (1, 2, 4, 8, 16, 32, 64)
#: The saddle panel's batch sizes (N = 32: the last one is the full batch).
SADDLE_BATCHES = Options((1, 2, 4, 8, 16, 32))
#: η of the trajectories panel: its slider's range.
TRAJECTORY_LR = Interval("real", 0.01, 0.2)


@validate_params(count=NONNEGATIVE_INT)
def plural(count, word, words=None):
    """"1 update", "2 updates": ``count`` and the word in the number that fits (``words``: an irregular
    plural)."""
    return f"{count} {word if count == 1 else (words or word + 's')}"


def _batch_label(b, n):
    return _("B = {b} (full batch)").format(b=b) if b >= n else f"B = {b}"


def _batch_options(n, *, with_full):
    """The slider's batch sizes for a set of N examples (``with_full``: N itself added when it is not one)."""
    choices = [b for b in BATCH_CHOICES if b <= n] + ([n] if with_full and n not in BATCH_CHOICES else [])
    return Options(tuple(choices))


# ----------------------------------------------------------------------------- per-batch losses
def _batch_losses_figure(data, xs):
    """The static part of the per-batch picture and its dynamic artists (lines, bars, note)."""
    land = data.landscape
    fig = Figure(figsize=(11, 4.0))
    ax, bx = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.2, 1]})
    ts = land.local_min
    ax.plot(xs, land.loss(xs[:, None]), color="k", lw=3, label=_("full loss L"), zorder=5)
    colors = ["#1f77b4", "#2ca02c", "#9467bd"]
    lines = [ax.plot([], [], color=c, lw=1.8, label=_("batch loss L{i}").format(i=i + 1))[0]
             for i, c in enumerate(colors)]
    ax.axvline(ts, color=COLORS["muted"], ls=":", lw=1.5)
    ax.plot([ts], [land.loss(np.array([ts]))], "o", color="k", ms=7, zorder=6)
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(float(land.loss(np.array([ts]))) - 1.5, float(land.loss(np.array([ts]))) + 2.0)
    ax.set_xlabel("θ")
    ax.set_ylabel(_("loss"))
    ax.set_title(_("Every batch has its own loss surface"))
    ax.legend(loc="upper left", fontsize=9)
    bx.axhline(0, color="k", lw=2, label=_("full gradient L'(θ*) = 0"))
    bars = bx.bar(np.arange(data.n) + 0.5, np.zeros(data.n), color=COLORS["small"])
    bx.set_xlim(0, data.n)
    bx.set_xticks([])
    bx.set_xlabel(_("the batches of one epoch (one bar each)"))
    bx.set_ylabel(_("gradient at θ*"))
    bx.set_title(_("Gradients at the local minimum θ*"))
    lim = 1.1 * float(np.abs(data.tilts).max())
    bx.set_ylim(-lim, lim)
    bx.legend(loc="upper right", fontsize=9)
    note = bx.text(0.02, 0.03, "", transform=bx.transAxes, fontsize=10, va="bottom")
    fig.tight_layout()
    return fig, lines, list(bars), note


def _draw_batch_bars(bars, num, n):
    """One bar per batch of the epoch (width N/k), blue where the batch loss keeps the dent's minimum."""
    k = len(num["grads"])
    width = n / k
    for j, bar in enumerate(bars):
        if j < k:
            bar.set_height(num["grads"][j])
            bar.set_x(j * width + 0.1 * width)
            bar.set_width(0.8 * width)
            bar.set_color(COLORS["small"] if num["has_trap"][j] else COLORS["gradient"])
            bar.set_visible(True)
        else:
            bar.set_visible(False)


def _batch_losses_caption(b, n, num):
    k, g = len(num["grads"]), num["grads"]
    no_trap = int(np.sum(~num["has_trap"]))
    if b >= n:
        return _("B = {b} is the full batch: one batch per epoch, its loss is L itself and its gradient at "
                 "the local minimum θ* = {theta:.2f} is {grad:.3f}: gradient descent has no reason to move."
                 ).format(b=b, theta=num["theta_star"], grad=abs(num["full_grad"]))
    return _("B = {b}: at the local minimum θ* = {theta:.2f} the full gradient is {grad:.3f}, but the {k} "
             "batch gradients range from {low:+.2f} to {high:+.2f} (mean |g_B| = {mean:.2f}); for {no_trap} "
             "of the {k} batches the dent is not a minimum at all."
             ).format(b=b, theta=num["theta_star"], grad=abs(num["full_grad"]), k=k, low=g.min(),
                      high=g.max(), mean=np.abs(g).mean(), no_trap=no_trap)


@validate_params(seed=SEED)
def batch_losses_panel(data=None, *, seed=0, batch_size=4):
    """The full loss L and the losses L₁, L₂, L₃ of the first three batches of an epoch near the trap
    (left), and L_𝓑'(θ*) of every batch of the epoch (right). Slider: batch size B (one of
    :data:`BATCH_CHOICES` up to N, and N)."""
    data = make_trap_data() if data is None else data
    options = _batch_options(data.n, with_full=True)
    batch_size = options.check("batch_size", batch_size)
    land = data.landscape
    xs = np.linspace(land.barrier - 0.9, land.center + 0.9, 300)
    fig, batch_lines, bars, note = _batch_losses_figure(data, xs)

    def update(batch_size):
        b = int(batch_size)
        num = batch_loss_numbers(data, b, seed=seed)
        for i, line in enumerate(batch_lines):
            if i < len(num["batches"]) and b < data.n:
                line.set_data(xs, data.loss(xs[:, None], num["batches"][i]))
                line.set_visible(True)
            else:
                line.set_visible(False)
        _draw_batch_bars(bars, num, data.n)
        note.set_text(_("orange: no minimum in the dent ({no_trap} of {k})").format(
            no_trap=int(np.sum(~num["has_trap"])), k=len(num["grads"])))
        return _batch_losses_caption(b, data.n, num)

    ctrl = widgets.slider("batch_size", options, batch_size, description=_("batch size B"))
    return widgets.Panel(fig, update, {"batch_size": ctrl}, dynamic=batch_lines + bars + [note],
                         title=_("Per-batch losses"))


# ----------------------------------------------------------------------------- trajectories
def _trajectories_figure(land, epochs, n_runs, n_shown):
    """The static part of the trajectories picture and its dynamic artists."""
    fig = Figure(figsize=(11, 4.0))
    ax, bx = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1]})
    for y, name, ls in [(land.local_min, _("local minimum"), ":"), (land.barrier, _("barrier"), "--"),
                        (land.global_min, _("global minimum"), ":")]:
        ax.axhline(y, color=COLORS["muted"], ls=ls, lw=1.2)
        ax.text(epochs, y, " " + name, va="center", fontsize=9, color=COLORS["muted"])
    runs = [ax.plot([], [], color=COLORS["small"], lw=0.9, alpha=0.8)[0] for _ in range(n_shown)]   # 3.5:1
    runs[0].set_label(_("SGD runs"))
    (gd_line,) = ax.plot([], [], color=COLORS["full"], lw=2.5, label=_("full-batch GD"))
    ax.set_xlim(0, epochs)
    ax.set_ylim(-2.0, 4.5)
    ax.set_xlabel(_("epoch"))
    ax.set_ylabel("θ")
    ax.set_title(_("Where does each run go?"))
    ax.legend(loc="lower left", fontsize=9)
    status = status_text(ax)
    xs = np.linspace(-2.0, 4.5, 300)
    bx.plot(xs, land.loss(xs[:, None]), color="k", lw=2)
    ends = bx.scatter([], [], s=30, color=COLORS["small"], alpha=0.25, zorder=5, label=_("end of an SGD run"))
    (gd_end,) = bx.plot([], [], "o", color=COLORS["full"], ms=10, zorder=6, label=_("end of GD"))
    bx.axvline(land.barrier, color=COLORS["muted"], ls="--", lw=1.2)
    bx.set_xlim(xs[0], xs[-1])
    bx.set_ylim(-0.5, 9)
    bx.set_xlabel("θ")
    bx.set_ylabel(_("full loss L(θ)"))
    bx.set_title(_("Where the run ends") if n_runs == 1 else _("Where all {n} runs end").format(n=n_runs))
    bx.legend(loc="upper left", fontsize=9)
    fig.tight_layout()
    return fig, {"runs": runs, "gd_line": gd_line, "ends": ends, "gd_end": gd_end, "status": status}


def _draw_trajectories(art, num, land, b, n):
    """Set the paths (θ against epochs k·B/N), the ends on the loss curve and the divergence message."""
    paths, gd = num["paths"], num["gd"]
    t = np.arange(len(paths)) * min(b, n) / n
    for i, line in enumerate(art["runs"]):
        line.set_data(t, np.clip(paths[:, i], -10, 10))
    art["gd_line"].set_data(np.arange(len(gd)) * 1.0, np.clip(gd, -10, 10))
    fin = num["final"][np.isfinite(num["final"])]
    art["ends"].set_offsets(np.c_[fin, land.loss(fin[:, None])] if fin.size else np.empty((0, 2)))
    g_end = gd[-1]
    art["gd_end"].set_data([g_end], [land.loss(np.array([g_end]))] if np.isfinite(g_end) else [np.nan])
    bad = num["diverged"] or not np.isfinite(g_end)
    message = ngettext("{n} run diverged (θ became inf or nan)", "{n} runs diverged (θ became inf or nan)",
                       num["diverged"]).format(n=num["diverged"]) if bad else ""
    set_status(art["status"], message)


def _trajectories_caption(num, land, b, n, lr, epochs, n_runs):
    g_end = num["gd"][-1]
    gd_stays = np.isfinite(g_end) and g_end > land.barrier
    sharp = lr * num["curvature"] > 2
    sharpness = lr * num["curvature"]
    if not gd_stays:
        gd_text = _("full-batch GD leaves the local minimum too (ends at θ = {end:.2f}): with η·L''(θ*) = "
                    "{sharpness:.2f} > 2 the dent is too sharp for this step size")
    elif sharp:
        gd_text = _("full-batch GD stays in the local minimum (ends at θ = {end:.2f}), a fixed point of GD, "
                    "but with η·L''(θ*) = {sharpness:.2f} > 2 a repelling one: the smallest push grows at "
                    "every step")
    else:
        gd_text = _("full-batch GD stays in the local minimum (ends at θ = {end:.2f})")
    gd_text = gd_text.format(end=g_end, sharpness=sharpness)
    if b >= n:
        sgd_text = ngettext("every run is full-batch GD, so {k} of {n} run reaches the global basin",
                            "every run is full-batch GD, so {k} of {n} runs reach the global basin",
                            n_runs).format(k=num["escaped"], n=n_runs)
    else:
        sgd_text = ngettext("{k} of {n} SGD run ends in the global basin (θ < {barrier:.2f})",
                            "{k} of {n} SGD runs end in the global basin (θ < {barrier:.2f})",
                            n_runs).format(k=num["escaped"], n=n_runs, barrier=land.barrier)
    if num["diverged"]:
        sgd_text += _("; {n} diverged").format(n=num["diverged"])
    updates = len(num["paths"]) - 1
    return _("{batch}, η = {lr:.3g}, {epochs} ({updates} a run): {gd}; {sgd}.").format(
        batch=_batch_label(b, n), lr=lr, epochs=ngettext("{n} epoch", "{n} epochs", epochs).format(n=epochs),
        updates=ngettext("{n} update", "{n} updates", updates).format(n=updates), gd=gd_text, sgd=sgd_text)


@validate_params(epochs=Interval("int", 1, 1000), n_runs=Interval("int", 1, 100000), n_shown=COUNT, seed=SEED,
                 lr=TRAJECTORY_LR)
def trajectories_panel(data=None, *, epochs=DEFAULT_EPOCHS, n_runs=200, n_shown=12, seed=0, batch_size=4,
                       lr=DEFAULT_LR):
    """θ over the epochs of ``n_shown`` SGD runs and of full-batch GD, all started in the local minimum
    (left), and where all ``n_runs`` runs end on the loss curve (right). Sliders: B and η
    (:data:`TRAJECTORY_LR`)."""
    data = make_trap_data() if data is None else data
    n_shown = min(n_shown, n_runs)
    options = _batch_options(data.n, with_full=False)
    batch_size = options.check("batch_size", batch_size)
    land = data.landscape
    fig, art = _trajectories_figure(land, epochs, n_runs, n_shown)

    def update(batch_size, lr):
        b = int(batch_size)
        num = trajectory_numbers(data, b, lr, epochs=epochs, n_runs=n_runs, seed=seed)
        _draw_trajectories(art, num, land, b, data.n)
        return _trajectories_caption(num, land, b, data.n, lr, epochs, n_runs)

    controls = {"batch_size": widgets.slider("batch_size", options, batch_size,
                                             description=_("batch size B")),
                "lr": widgets.slider("lr", TRAJECTORY_LR, lr, log=True, description=_("learning rate η"))}
    dynamic = art["runs"] + [art["gd_line"], art["ends"], art["gd_end"], art["status"]]
    return widgets.Panel(fig, update, controls, dynamic=dynamic, title=_("Trajectories"))


# ----------------------------------------------------------------------------- escape curve
def format_escape_table(rows, n_runs):
    """The escape table of :func:`~lecture_utils.landscapes.escape_table` as fixed-precision text (stable
    across machines)."""
    lines = [_("{b:>5}  escaped of {n}  fraction  95% Wilson interval").format(b="B", n=n_runs)]
    for label, k, p, lo, hi in rows:
        name = pad(_("full") if label == "full" else label, 5, right=True)
        lines.append(f"{name}  {k:>16d}  {p:8.2f}  [{lo:.2f}, {hi:.2f}]")
    return "\n".join(lines)


def plot_escape_curve(batch_sizes, rates, n_runs, n_examples, *, title=None):
    """Fraction of runs that end in the global basin against B (log axis), with 95 % Wilson intervals
    (the rows of :func:`~lecture_utils.landscapes.escape_table`)."""
    import matplotlib.pyplot as plt

    b = np.array([n_examples if x is None else x for x in batch_sizes], dtype=float)
    rows = escape_table(batch_sizes, rates, n_runs, n_examples)
    p, lo, hi = (np.array([r[i] for r in rows]) for i in (2, 3, 4))
    fig, ax = plt.subplots(figsize=(7.5, 4.0))
    ax.errorbar(b, p, yerr=[p - lo, hi - p], fmt="o-", color=COLORS["small"], capsize=4, lw=2, ms=7)
    full = b >= n_examples
    ax.plot(b[full], p[full], "o", color=COLORS["full"], ms=9, label=_("full batch"))
    ax.set_xscale("log", base=2)
    ax.set_xticks(b, [(_("full") if x >= n_examples else str(int(x))) for x in b])
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel(_("batch size B"))
    ax.set_ylabel(_("fraction in the global basin"))
    ax.set_title(title or ngettext("Escape from the local minimum ({n} run per batch size, 95% intervals)",
                                   "Escape from the local minimum ({n} runs per batch size, 95% intervals)",
                                   n_runs).format(n=n_runs))
    ax.legend(loc="upper right")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- saddle
def _saddle_overlay(ax, land, lam, vec):
    """The Hessian's eigenvectors at the saddle (arrows and labels) and the minima/saddle markers: drawn
    on top of the paths at every update."""
    overlay = []
    arrows = [(COLORS["gradient"], "v₋", (-0.12, 0.0)), ("#333333", "v₊", (0.0, -0.25))]
    for j, (c, name, off) in enumerate(arrows):
        v = vec[:, j] * 0.7
        v = v * np.sign(v.sum())
        overlay.append(ax.annotate("", xy=v, xytext=(0, 0), zorder=9,
                                   arrowprops=dict(arrowstyle="-|>", color=c, lw=2.5, mutation_scale=18)))
        overlay.append(ax.text(v[0] / 2 + off[0], v[1] / 2 + off[1], f"{name}: λ = {lam[j]:+.0f}", color=c,
                               fontsize=10, ha="right" if off[0] < 0 else "center", va="center", zorder=10,
                               bbox=dict(facecolor="white", edgecolor="none", alpha=0.8, pad=1)))
    overlay += ax.plot(*land.minima.T, "*", color="k", ms=13, zorder=9)
    overlay += ax.plot([0], [0], "X", color="k", ms=10, zorder=9)
    return overlay


def _saddle_figure(land, lam, vec):
    """The static part of the saddle picture (contours, axes) and its dynamic artists."""
    fig = Figure(figsize=(11, 4.3))
    ax, bx = fig.subplots(1, 2)
    contour(ax, land.loss, (-2.0, 2.0), (-1.6, 1.6), levels=18)
    overlay = _saddle_overlay(ax, land, lam, vec)
    # all SGD paths as one collection (one artist to redraw instead of n_runs lines)
    runs = ax.add_collection(
        LineCollection([], colors=COLORS["small"], linewidths=1.0, alpha=0.8, label="SGD"), autolim=False)
    (gd_line,) = ax.plot([], [], color=COLORS["full"], lw=2.5, label=_("full-batch GD"), zorder=8)
    ax.set_aspect("equal")
    ax.set_xlabel("θ₁")
    ax.set_ylabel("θ₂")
    ax.set_title(_("Saddle point: GD stops, SGD leaves along v₋"))
    ax.legend(loc="lower left", fontsize=9)
    status = status_text(ax)
    dist_runs = bx.add_collection(LineCollection([], colors=COLORS["small"], linewidths=1.0, alpha=0.8),
                                  autolim=False)
    (gd_dist,) = bx.plot([], [], color=COLORS["full"], lw=2.5)
    bx.axhline(SADDLE_RADIUS, color=COLORS["muted"], ls="--", lw=1.2)
    bx.set_yscale("log")
    bx.set_xlim(0, SADDLE_STEPS)
    bx.set_ylim(1e-16, 10)
    bx.set_xlabel(_("update"))
    bx.set_ylabel(_("distance from the saddle"))
    bx.set_title(_("Distance |θ − saddle|"))
    fig.tight_layout()
    art = {"runs": runs, "dist_runs": dist_runs, "gd_line": gd_line, "gd_dist": gd_dist, "status": status}
    return fig, art, overlay


def _saddle_frame(num):
    """What one batch size sets on the artists: the path segments (clipped to ±5), the distance curves
    against the update, the GD path and its distance, and the divergence message."""
    paths, gd = num["paths"], num["gd"]
    t = np.arange(len(paths))
    bad = num["diverged"]
    return {"runs": list(np.clip(paths, -5, 5).transpose(1, 0, 2)),
            "dist_runs": [np.column_stack([t, d]) for d in num["dist"].T],
            "gd_line": (gd[:, 0], gd[:, 1]), "gd_dist": (t, num["gd_dist"]),
            "status": ngettext("{n} run diverged (nan)", "{n} runs diverged (nan)", bad).format(n=bad)
            if bad else ""}


def _saddle_caption(num, b, n, lr, n_runs, seed):
    lam = num["eigenvalues"]
    gd_text = _("full-batch GD ends {distance:.0e} from the saddle and never leaves it").format(
        distance=num["gd_distance"])
    updates = ngettext("{n} update", "{n} updates", SADDLE_STEPS).format(n=SADDLE_STEPS)
    if b >= n:
        return _("{batch}, η = {lr:g}, {updates}: every run is full-batch GD; {gd}. The Hessian there has "
                 "eigenvalues {l0:+.0f} and {l1:+.0f}: a saddle.").format(
            batch=_batch_label(b, n), lr=lr, updates=updates, gd=gd_text, l0=lam[0], l1=lam[1])
    lo, hi = wilson_interval(num["left"], n_runs)
    cos_text = (_("their exit directions have |cos| = {mean:.2f} (mean; smallest {smallest:.2f}) with the "
                  "eigenvector v₋ of λ = {l0:+.0f}").format(mean=num["abs_cos"].mean(),
                                                          smallest=num["abs_cos"].min(), l0=lam[0])
                if num["left"] else _("none leaves"))
    return ngettext(
        "{batch}, η = {lr:g}, {updates}: {gd}; {left} of {n} SGD run (seed {seed}) leaves the ball |θ| ≤ "
        "{radius} after coming close (95 % Wilson interval of the fraction [{lo:.2f}, {hi:.2f}]), and {cos}.",
        "{batch}, η = {lr:g}, {updates}: {gd}; {left} of {n} SGD runs (seed {seed}) leave the ball |θ| ≤ "
        "{radius} after coming close (95 % Wilson interval of the fraction [{lo:.2f}, {hi:.2f}]), and {cos}.",
        n_runs).format(batch=_batch_label(b, n), lr=lr, updates=updates, gd=gd_text, left=num["left"],
                       n=n_runs, seed=seed, radius=SADDLE_RADIUS, lo=float(lo), hi=float(hi), cos=cos_text)


@validate_params(n_runs=Interval("int", 1, 10000), lr=LR, seed=SEED, batch_size=SADDLE_BATCHES)
def saddle_panel(*, n_runs=20, lr=0.1, batch_size=4, seed=0):
    """Contour map of :data:`~lecture_utils.landscapes.SADDLE` with GD (red) and SGD paths (blue) from
    θ⁰ = (1.8, 0) on the stable manifold, the Hessian's eigenvectors at the saddle (left), and each
    path's distance from the saddle (right, log scale). Slider: batch size B (N = 32).

    The slider has six positions and the paths depend only on B: the six frames (segments, caption)
    are computed once, when the panel is built (≈ 6 ms each), so a slider move only draws."""
    data = saddle_data()
    land = data.landscape
    lam, vec = np.linalg.eigh(land.hessian(land.saddle))
    fig, art, overlay = _saddle_figure(land, lam, vec)
    frames = {}
    for b in SADDLE_BATCHES.values:
        num = saddle_numbers(b, lr=lr, n_runs=n_runs, seed=seed, data=data)
        frames[b] = (_saddle_frame(num), _saddle_caption(num, b, data.n, lr, n_runs, seed))

    shown = {}

    def update(batch_size):
        shown["batch_size"] = b = int(batch_size)
        frame, caption = frames[b]
        art["runs"].set_segments(frame["runs"])
        art["dist_runs"].set_segments(frame["dist_runs"])
        art["gd_line"].set_data(*frame["gd_line"])
        art["gd_dist"].set_data(*frame["gd_dist"])
        set_status(art["status"], frame["status"])
        return caption

    ctrl = widgets.slider("batch_size", SADDLE_BATCHES, batch_size, description=_("batch size B"))
    dynamic = [art["runs"], art["dist_runs"], art["gd_line"], art["gd_dist"], art["status"]] + overlay
    return widgets.PrerenderedPanel(fig, update, {"batch_size": ctrl}, dynamic=dynamic,
                                    title=_("Saddle point"), shown=lambda: shown["batch_size"],
                                    positions=SADDLE_BATCHES.values)


# ----------------------------------------------------------------------------- real data
@validate_params(n_boot=Interval("int", 10, None), seed=SEED,
                 level=Interval("real", 0.0, 1.0, closed="neither"))
def slope_interval(result, *, n_boot=2000, seed=0, level=0.95):
    """A ``level`` interval of the log-log slope of E‖g_𝓑 − g‖² against B (notebook 02 §5), by a
    parametric bootstrap: the slope refitted ``n_boot`` times with every measured variance redrawn from
    N(variance, SE²) (seeded); the interval holds the middle ``level`` of those slopes. (Not a t-interval:
    the slope is one fit over all batch sizes, not a mean over seeds.)"""
    from ..noise import loglog_slope

    if not all(hasattr(result, k) for k in ("batch_sizes", "variance", "variance_se")):
        raise ValueError("result must be a GradientNoise from noise.gradient_noise; got "
                         f"{type(result).__name__}")
    rng = np.random.default_rng(seed)
    v, se = np.asarray(result.variance, dtype=float), np.asarray(result.variance_se, dtype=float)
    draws = v + se * rng.standard_normal((n_boot, v.size))
    draws = np.maximum(draws, 1e-3 * v)                   # a variance stays positive
    slopes = [loglog_slope(result.batch_sizes, d) for d in draws]
    lo, hi = np.quantile(slopes, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


NOISE_KEYS = ("batch_sizes", "variance", "variance_se", "sq_distances", "cosines", "trace")


def _check_noise(result):
    """ValueError naming ``result`` unless it is a :class:`~lecture_utils.noise.GradientNoise` with the
    per-batch distances recorded."""
    if not all(hasattr(result, k) for k in NOISE_KEYS) or result.sq_distances is None:
        raise ValueError("result must be a GradientNoise from noise.gradient_noise (with sq_distances "
                         f"recorded); got {type(result).__name__}")
    return result


def format_noise_table(result):
    """Per batch size: the K_B batches drawn, E‖g_𝓑 − g‖² = the mean of ‖g_𝓑 − g‖² over them ± its 95 %
    t-interval (K_B − 1 degrees of freedom, :func:`lecture_utils.stats.mean_ci`), the prediction
    tr(Σ)/B·(N−B)/(N−1), how many standard errors s/√K_B the measurement lies from it, and the mean
    cosine to the full gradient ± its 95 % t-interval (notebook 02 §5). The last line says what ± is."""
    _check_noise(result)
    pred = result.predicted() if result.trace is not None else np.full(len(result.batch_sizes), np.nan)
    head = [pad(_("predicted"), 9, right=True), pad(_("off by"), 7, right=True),
            pad(_("mean cos(g_B, g) ± 95%"), 22, right=True)]
    lines = [f"{'B':>5} {'K_B':>4}  {'E|g_B - g|² ± 95%':>20}  " + "  ".join(head)]
    for b, se, p, var, cos in zip(result.batch_sizes, result.variance_se, pred, result.variance_ci(),
                                  result.cosine_ci()):
        lines.append(f"{int(b):>5} {var.n:>4}  {var.mean:>#10.3g} ± {var.half:<#7.2g}  {p:>#9.3g}  "
                     f"{(var.mean - p) / se:>+5.1f} SE  {cos.short('.3f'):>22}")
    inside = sum(abs(v.mean - q) <= v.half for v, q in zip(result.variance_ci(), pred))
    lines.append(_("(± : 95 % t-interval over the K_B batches of each B, K_B − 1 degrees of freedom;"))
    lines.append(_(" off by: (measured − predicted) / standard error s/√K_B;"))
    lines.append(_(" the prediction lies inside the interval at {inside} of {n} batch sizes)").format(
        inside=inside, n=len(pred)))
    return "\n".join(lines)


def plot_gradient_noise(result):
    """Left: E‖g_𝓑 − g‖² against B (log-log, error bars: 95 % t-intervals over the K_B batches) with the
    fitted slope and tr(Σ)/B·(N−B)/(N−1);
    right: cos(g_𝓑, g) of every sampled batch and their mean, per batch size."""
    import matplotlib.pyplot as plt

    _check_noise(result)
    b = np.asarray(result.batch_sizes, dtype=float)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.0))
    half = np.array([ci.half for ci in result.variance_ci()])
    ax.errorbar(b, result.variance, yerr=half, fmt="o", color=COLORS["small"], ms=6,
                capsize=3, label=_("measured (95 % t-interval)"))
    slope = result.slope()
    coef = np.polyfit(np.log(b), np.log(result.variance), 1)
    ax.plot(b, np.exp(np.polyval(coef, np.log(b))), color=COLORS["small"], lw=1.2, ls="--",
            label=_("fit: slope {slope:.2f}").format(slope=slope))
    if result.trace is not None:
        fine = np.geomspace(b.min(), b.max(), 100)
        ax.plot(fine, result.predicted(fine), color="k", lw=1.2, alpha=0.7, label="tr(Σ)/B·(N−B)/(N−1)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel(_("batch size B"))
    ax.set_ylabel("E |g_B − g|²")
    ax.set_title(_("Gradient noise falls as 1/B"))
    ax.legend(fontsize=9)
    rng = np.random.default_rng(0)
    for bb, c in zip(b, result.cosines):
        jitter = bb * 2 ** rng.uniform(-0.15, 0.15, size=len(c))
        bx.plot(jitter, c, ".", color=batch_color(bb, result.n_examples), alpha=0.8, ms=4)   # ≥ 3.9:1
    bx.plot(b, result.mean_cosine(), "o-", color="k", ms=5, lw=1.5, label=_("mean"))
    bx.axhline(0, color=COLORS["muted"], lw=1)
    bx.set_xscale("log", base=2)
    bx.set_ylim(-0.5, 1.05)
    bx.set_xlabel(_("batch size B"))
    bx.set_ylabel("cos(g_B, g)")
    bx.set_title(_("Direction of the batch gradient"))
    bx.legend(loc="lower right", fontsize=9)
    fig.tight_layout()
    return fig


TRAINING_KEYS = ("n_train", "lr", "epochs", "matched_updates", "runs")
RUN_KEYS = ("batch_size", "seed", "epoch", "step", "train_loss")


def _check_training(results):
    """ValueError naming ``results`` unless it is ``sweeps.load("noisy_training")["results"]``-shaped."""
    ok = isinstance(results, dict) and all(k in results for k in TRAINING_KEYS) and results["runs"] and all(
        isinstance(r, dict) and all(k in r for k in RUN_KEYS) for r in results["runs"])
    if not ok:
        raise ValueError("results must be sweeps.load('noisy_training')['results']: a dict with "
                         f"{', '.join(TRAINING_KEYS)} and runs holding {', '.join(RUN_KEYS)}")
    return results


def _runs_by_batch(results):
    """{B: [runs of every seed]} of the cached sweep ``noisy_training``, largest B first."""
    _check_training(results)
    out = {}
    for run in results["runs"]:
        out.setdefault(int(run["batch_size"]), []).append(run)
    return dict(sorted(out.items(), reverse=True))


def _loss_at(run, key, value):
    """The training loss measured where ``run[key] == value`` (NaN when it was not measured there)."""
    for k, v in enumerate(run[key]):
        if abs(float(v) - value) < 1e-6:
            return float(run["train_loss"][k])
    return float("nan")


def _seed_ci(values):
    """(:class:`~lecture_utils.stats.MeanCI` over the finite values or None, how many were not finite):
    a loss that was not measured or diverged (NaN) is left out, and the caller says so."""
    v = np.asarray(values, dtype=float)
    finite = v[np.isfinite(v)]
    return (mean_ci(finite) if finite.size else None), int(v.size - finite.size)


def training_stats(results):
    """Per batch size B of the sweep ``noisy_training`` (notebook 02 §6): the updates a run makes in
    the epoch budget E, and the training loss after E epochs and after ``matched_updates`` updates (both
    measured, not interpolated) as mean ± 95 % t-interval over the seeds (:func:`lecture_utils.stats.mean_ci`:
    x̄ ± t_{0.975, n−1}·s/√n; None where no seed measured it). ``left_out`` counts the seeds' values that
    were not finite (not measured or diverged) and are not in those intervals. ``diff_matched``: the loss
    after ``matched_updates`` minus the full batch's, paired by seed (same initialisation),
    :func:`lecture_utils.stats.paired_diff_ci` over the seeds both measured (None for the full batch)."""
    _check_training(results)
    n, epochs, matched = results["n_train"], results["epochs"], results["matched_updates"]
    groups = _runs_by_batch(results)
    full = {r["seed"]: _loss_at(r, "step", matched) for b, runs in groups.items() if b >= n for r in runs}
    rows = []
    for b, runs in groups.items():
        row = {"batch_size": b, "full": b >= n, "n_seeds": len(runs),
               "updates": updates_per_epoch(n, b) * epochs, "left_out": 0}
        for key, values in (("loss_epochs", [_loss_at(r, "epoch", epochs) for r in runs]),
                            ("loss_matched", [_loss_at(r, "step", matched) for r in runs]),
                            ("loss_start", [r["train_loss"][0] for r in runs])):
            row[key], dropped = _seed_ci(values)
            row["left_out"] += dropped
        pairs = [(_loss_at(r, "step", matched), full.get(r["seed"], np.nan)) for r in runs]
        pairs = [(a, f) for a, f in pairs if np.isfinite(a) and np.isfinite(f)]
        row["diff_matched"] = (paired_diff_ci(*zip(*pairs)) if b < n and pairs else None)
        rows.append(row)
    return rows


def training_summary(results):
    """The table of :func:`training_stats` as fixed-precision text: mean ± 95 % t-interval over the seeds
    (the header says how many seeds; "not measured" where no seed has the value)."""
    _check_training(results)
    epochs, matched = results["epochs"], results["matched_updates"]
    rows = training_stats(results)
    seeds = results.get("seeds") or sorted({r["seed"] for r in results["runs"]})
    seed_list = ", ".join(str(s) for s in seeds)
    lines = [ngettext("training loss on all N = {n} examples, η = {lr:g}; mean ± 95 % t-interval over "
                      "{k} seed ({seeds})",
                      "training loss on all N = {n} examples, η = {lr:g}; mean ± 95 % t-interval over "
                      "{k} seeds ({seeds})", len(seeds)).format(
                 n=results["n_train"], lr=results["lr"], k=len(seeds), seeds=seed_list),
             "  ".join([pad(_("batch"), 10, right=True),
                        pad(_("updates in {epochs} epochs").format(epochs=epochs), 21, right=True),
                        pad(_("after {epochs} epochs").format(epochs=epochs), 16, right=True),
                        pad(_("after {matched} updates").format(matched=matched), 18, right=True)])]
    for r in rows:
        name = _("full batch") if r["full"] else f"B = {r['batch_size']}"
        cells = [ci.short(".3f") if ci is not None else _("not measured")
                 for ci in (r["loss_epochs"], r["loss_matched"])]
        lines.append(f"{pad(name, 10, right=True)}  {r['updates']:>21d}  {pad(cells[0], 16, right=True)}  "
                     f"{pad(cells[1], 18, right=True)}")
    start = rows[0]["loss_start"]
    lines.append(_("(at the start, update 0: {start})").format(
        start=start.short(".3f") if start is not None else _("not measured")))
    diffs = [(r["batch_size"], r["diff_matched"]) for r in rows if r["diff_matched"] is not None]
    if diffs:
        lines.append(_("after {matched} updates, loss of B minus loss of the full batch, seed by seed "
                       "(paired; 95 % t-interval):").format(matched=matched))
        lines += [f"{f'B = {b}':>10}  {d.mean:+.4f} ± {d.half:.4f}" if d.n > 1 else
                  _("{name:>10}  {mean:+.4f} (1 seed, no interval)").format(name=f"B = {b}", mean=d.mean)
                  for b, d in diffs]
    left_out = sum(r["left_out"] for r in rows)
    if left_out:
        lines.append(ngettext("({n} value not finite (not measured or diverged): left out of the intervals)",
                              "({n} values not finite (not measured or diverged): left out of the intervals)",
                              left_out).format(n=left_out))
    return "\n".join(lines)


def plot_noisy_training(results):
    """Training loss of the cached sweep ``noisy_training`` against epochs (left) and updates (right)
    (notebook 02 §6).

    Thin lines: one seed each; markers: the mean over the seeds, drawn only where the loss was
    measured (after every epoch, at log-spaced updates and at ``matched_updates``). The update axis is
    linear from 0 to 1 and logarithmic above, so the start (update 0) is shown where it belongs.
    """
    _check_training(results)
    import matplotlib.pyplot as plt

    n, epochs, matched = results["n_train"], results["epochs"], results["matched_updates"]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2))
    palette = ["#1f77b4", "#2ca02c", "#d95f02", "#8c564b", "#9467bd"]   # small batches, ascending B; ≥ 3:1
    groups = _runs_by_batch(results)
    small = sorted(b for b in groups if b < n)
    bad = 0
    for b, runs in groups.items():
        color = COLORS["full"] if b >= n else palette[small.index(b) % len(palette)]
        label = _("full batch (B = {b})").format(b=b) if b >= n else f"B = {b}"
        steps = sorted(set.intersection(*(set(r["step"]) for r in runs)))
        for r in runs:
            ep, st, loss = (np.asarray(r[k], dtype=float) for k in ("epoch", "step", "train_loss"))
            bad += int(np.any(~np.isfinite(loss)))
            keep = ep <= epochs + 1e-9
            ax.plot(ep[keep], loss[keep], color=color, lw=0.8, alpha=0.35)
            bx.plot(st, loss, color=color, lw=0.8, alpha=0.35)
        mean = np.array([np.nanmean([_loss_at(r, "step", s) for r in runs]) for s in steps])
        ep0 = np.array([runs[0]["epoch"][runs[0]["step"].index(s)] for s in steps], dtype=float)
        keep = ep0 <= epochs + 1e-9
        style = (dict(marker="s", ms=6, mfc="none", mew=1.5, zorder=4) if b >= n
                 else dict(marker="o", ms=3.5))
        ax.plot(ep0[keep], mean[keep], ls="none", color=color, label=label, **style)
        bx.plot(steps, mean, ls="none", color=color, label=label, **style)
    bx.axvline(matched, color=COLORS["muted"], ls=":", lw=1.5)
    matched_text = " " + ngettext("{n} update", "{n} updates", matched).format(n=matched)
    bx.text(matched, 0.98, matched_text, transform=bx.get_xaxis_transform(), va="top", fontsize=9,
            color=COLORS["muted"])
    n_seeds = len(next(iter(groups.values())))
    ax.set_xlim(0, epochs)
    ax.set_xlabel(_("epoch"))
    ax.set_ylabel(_("training loss"))
    ax.set_title(_("Same η = {lr:g}, same {epochs} epochs").format(lr=results["lr"], epochs=epochs))
    bx.set_xscale("symlog", linthresh=1, linscale=0.3)
    bx.set_xlim(0, None)
    bx.set_xlabel(_("update (0, then log scale)"))
    bx.set_ylabel(_("training loss"))
    bx.set_title(_("The same runs against the number of updates"))
    legend_title = _("markers: mean of {n} seeds,\nwhere measured;\nthin lines: each seed").format(n=n_seeds)
    bx.legend(fontsize=9, loc="lower left", title=legend_title, title_fontsize=8)
    if bad:
        set_status(status_text(ax), ngettext("{n} run diverged (loss nan)", "{n} runs diverged (loss nan)",
                                             bad).format(n=bad))
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- lines the cells print
def critical_point_line(land, theta, kind):
    """One critical point of the 1-D trap as notebook 02 §1 prints it: θ, L(θ), L''(θ) and ``kind`` (the
    verdict of :func:`~lecture_utils.landscapes.classify_critical_point`)."""
    from ..landscapes import kind_text

    point = np.array([theta])
    value = np.round(land.loss(point), 2) + 0.0          # + 0.0 turns -0.0 into 0.0
    return _("critical point θ = {theta:5.2f}: L = {value:5.2f}, L'' = {curvature:6.2f} -> {kind}").format(
        theta=theta, value=value, curvature=land.hessian(point)[0, 0], kind=kind_text(kind))


def gradient_lines(data, theta, batches):
    """Notebook 02 §1: the full gradient L'(θ) at ``theta`` (≈ 0 at the trap) and the gradient L_B'(θ) of
    each batch of ``batches`` (named L1, L2, …), one line each."""
    lines = [_("full gradient L'(θ*)        = {grad:.3f}").format(grad=abs(data.grad(theta)[0]))]
    for i, idx in enumerate(batches):
        lines.append(_("batch L{i} {indices}: L_B'(θ*) = {grad:+.2f}").format(
            i=i + 1, indices=sorted(idx.tolist()), grad=data.grad(theta, idx)[0]))
    return "\n".join(lines)


def escape_time_line(n_sizes, n_runs, seconds):
    """How long the escape curve of notebook 02 §2 took: ``n_sizes`` batch sizes × ``n_runs`` runs."""
    return _("{sizes} batch sizes x {runs} runs took {seconds:.2f} s").format(
        sizes=n_sizes, runs=n_runs, seconds=seconds)


def kicked_back_line(paths, barrier, *, batch_size=1):
    """Notebook 02 §2: of the runs in ``paths`` (shape (updates + 1, runs), 1-D θ), how many reached the
    global basin (θ < ``barrier``) at some update, how many are there after the last one, and how many
    were kicked back over the barrier."""
    paths = np.asarray(paths)
    was_out = np.any(paths < barrier, axis=0)
    ends_out = paths[-1] < barrier
    return _("B = {b}: {reached} of {runs} runs reached the global basin at some update, {there} are there "
             "after the last one: {back} were kicked back over the barrier").format(
        b=batch_size, reached=was_out.sum(), runs=paths.shape[1], there=ends_out.sum(),
        back=np.sum(was_out & ~ends_out))


def equal_updates_heading(updates, n_runs, seed):
    """The heading of notebook 02 §2's table with the same number of updates at every batch size."""
    return _("every batch size with {updates} updates ({runs} runs, seed {seed}):").format(
        updates=updates, runs=n_runs, seed=seed)


def hessian_line(theta, hessian):
    """Notebook 02 §4: a point θ of the 2-D saddle loss, its Hessian's eigenvalues and the verdict of
    :func:`~lecture_utils.landscapes.classify_critical_point`."""
    from ..landscapes import classify_critical_point, hessian_eigen, kind_text

    lam = hessian_eigen(hessian)[0]
    return _("θ = {theta}: eigenvalues {eigenvalues} -> {kind}").format(
        theta=np.round(theta, 2) + 0.0, eigenvalues=np.round(lam, 2) + 0.0,
        kind=kind_text(classify_critical_point(hessian)))


def escape_direction_line(vector):
    """Notebook 02 §4: |v₋|, the eigenvector of the negative eigenvalue at the saddle (rounded)."""
    return _("eigenvector of the negative eigenvalue at the saddle: {vector}").format(
        vector=np.round(np.abs(vector), 2))


def degenerate_line():
    """Notebook 02 §4: diag(2, 0), the Hessian of θ₁² and of θ₁² + θ₂³ at 0, and the verdict of
    :func:`~lecture_utils.landscapes.classify_critical_point` ("degenerate")."""
    from ..landscapes import classify_critical_point, kind_text

    kind = classify_critical_point(np.diag([2.0, 0.0]))
    return _("diag(2, 0), the Hessian of θ₁² and of θ₁² + θ₂³ at 0 -> {kind}").format(kind=kind_text(kind))


def saddle_exit_line(offset, steps, *, max_steps=20000):
    """Notebook 02 §4: full-batch GD started ``offset`` off the saddle's stable line leaves the ball after
    ``steps`` updates (:func:`~lecture_utils.landscapes.saddle_exit_steps`; −1: never, within
    ``max_steps``)."""
    if steps >= 0:
        return _("full-batch GD from θ⁰ = ({start:g}, {offset:.0e}): leaves the ball |θ| ≤ {radius:g} after "
                 "{steps} updates").format(start=SADDLE_START[0], offset=offset, radius=SADDLE_RADIUS,
                                          steps=steps)
    return _("full-batch GD from θ⁰ = ({start:g}, {offset:.0e}): never leaves ({max_steps} updates)").format(
        start=SADDLE_START[0], offset=offset, max_steps=max_steps)


def noise_fit_text(result):
    """Notebook 02 §5, above :func:`format_noise_table`: the fitted log-log slope of E‖g_𝓑 − g‖² against B
    with its bootstrap interval (:func:`slope_interval`), the prediction's slope over the same B, then
    tr(Σ) and the norm of the full gradient."""
    from ..noise import loglog_slope

    lo, hi = slope_interval(result)          # the fit repeated on variances redrawn within their errors
    predicted = loglog_slope(result.batch_sizes, result.predicted())
    return "\n".join([
        _("fitted slope of log variance vs log B: {slope:.2f} (95 % bootstrap interval [{lo:.2f}, "
          "{hi:.2f}]); the prediction's slope over the same B: {predicted:.2f}").format(
            slope=result.slope(), lo=lo, hi=hi, predicted=predicted),
        _("per-example variance tr(Σ) = {trace:.1f}, full gradient norm |g| = {norm:.2f}").format(
            trace=result.trace, norm=result.full_grad_norm)])
