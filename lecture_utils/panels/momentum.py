"""Panels and figures of notebook 05 (momentum), all on :class:`lecture_utils.widgets.Panel`.

* :func:`vector_addition_panel` — "Vector addition": β·mᵗ⁻¹ + (−η·gᵗ⁻¹) = mᵗ, head to tail;
* :func:`weights_panel` — "Weighted sum of past gradients": the weights βᵏ and the horizon 1/(1−β);
* :func:`local_minimum_panel`, :func:`saddle_panel` — "Rolling past a local minimum and a saddle";
* :func:`quadratic_panel` — "Ill-conditioned quadratic" (Distill): path, measured vs theoretical rate,
  the rate heat map over (α, β);
* ``plot_*`` — the static figures (conventions under a schedule, the MNIST-1D sweeps: steps to a target
  loss, and SGD vs momentum leaving a saddle of the real network); :func:`critical_point_table`.

The numbers behind every caption come from :mod:`lecture_utils.optim`, :mod:`lecture_utils.rolling`
(where the ball ends: the β scan, rest places, steps to leave the saddle), :mod:`lecture_utils.quadratic`
and :mod:`lecture_utils.landscapes`; the functions here only draw them. Each slider's range is declared
once (the constants below): the panel function's check (``validate_params``), the slider and the
boundary check of :meth:`lecture_utils.widgets.Panel.update` read the same object. The exercise checks
of notebook 05 live in :mod:`lecture_utils.checks`.
"""
from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from .. import nqm as nqm_model
from .. import quadratic as quad
from .. import rolling, widgets
from .._validate import LR, Interval, Options, check_int, validate_params
from ..i18n import _
from ..landscapes import LOCAL_GLOBAL, SADDLE
from ..optim import effective_horizon, momentum_path, momentum_trace, momentum_weights
from ..plotting import COLORS, contour, set_status, status_text

# the names the notebook and older code use for what now lives in rolling (one home, same objects)
from ..rolling import (  # noqa: F401
    BETA_GRID,
    LEAVE,
    LOCAL_STEPS,
    LOCAL_THETA0,
    SADDLE_THETA0,
    final_positions,
    rest_place,
    steps_to_leave,
)
from ..timing import pad as _pad

GD_COLOR = COLORS["full"]
MOM_COLOR = COLORS["momentum"]
GRAD_COLOR = COLORS["gradient"]

#: The declared slider ranges (one declaration: check, slider and Panel.update's boundary check).
BETA_RANGE = Interval("real", 0.0, 0.99)           # β of the weights, 1-D, saddle and quadratic panels
VECTOR_BETA_RANGE = Interval("real", 0.0, 0.95)    # vector addition: beyond 0.95 the arrows leave the plot
LOCAL_LR_RANGE = Interval("real", 0.01, 1.0)
SADDLE_LR_RANGE = Interval("real", 0.01, 1.5)
ALPHA_RANGE = Interval("real", 0.02, 4.0)          # step α (= η) of the quadratic panel
STEPS_RANGE = Interval("int", 10, 5000)
#: One key press of a β slider: 0.05 (0 → 0.95 in 19 presses). Values typed in code may lie between (the
#: declared range is the check); only the quadratic panel moves in 0.01, where its optimum β* = 0.67 lives.
BETA_STEP = 0.05


def _figure(figsize, **margins):
    """A Figure with fixed margins (no layout engine, so the background never moves)."""
    fig = Figure(figsize=figsize)
    fig.subplots_adjust(**{"left": 0.07, "right": 0.98, "bottom": 0.15, "top": 0.88, "wspace": 0.3,
                           **margins})
    return fig


def _title(ax, **kw):
    """A text artist placed like a title, for titles that change with the sliders."""
    return ax.text(0.5, 1.03, "", transform=ax.transAxes, ha="center", va="bottom",
                   fontsize=kw.pop("fontsize", 12), **kw)


def _vector_text(v):
    """A 2-D vector as the captions print it: (+0.12, −0.30)."""
    return "(" + ", ".join(f"{x:+.2f}" for x in v) + ")"


def _sup(n):
    """The step index as a superscript, as in the lecture's θᵗ, mᵗ: 12 -> ¹²."""
    return str(n).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


#: How many η values a panel keeps what it computed for (the local-minimum panel: every β's path, ~0.5 MB;
#: the saddle panel: gradient descent's path): returning the η slider to a value costs nothing.
_KEEP_LR = 16


def _remember(cache, key, compute):
    """``cache[key]``, computed on the first visit; the oldest entry goes beyond :data:`_KEEP_LR`."""
    if key not in cache:
        if len(cache) >= _KEEP_LR:
            cache.pop(next(iter(cache)))
        cache[key] = compute()
    return cache[key]


def _beta_slider(beta, constraint=BETA_RANGE, step=BETA_STEP):
    return widgets.slider("beta", constraint, beta, step=step, description=_("momentum β"),
                          readout_format=".2f")


def _lr_slider(lr, constraint):
    return widgets.slider("lr", constraint, lr, log=True, description=_("learning rate η"))


# ----------------------------------------------------------------------------- vector addition
#: The 2-D loss of the vector-addition panel: a tilted valley f = ½θᵀAθ with eigenvalues 0.1 and 1.
VALLEY = quad.make_quadratic(10.0, lam_max=1.0, angle=math.pi / 6)
VALLEY_THETA0 = (-3.0, 0.5)


def _arrow(ax, color, ls="-", lw=2.2):
    return ax.annotate("", (0, 0), (0, 0), annotation_clip=False,
                       arrowprops=dict(arrowstyle="-|>", lw=lw, shrinkA=0, shrinkB=0, color=color, ls=ls))


def _place(arrow, tail, head):
    arrow.xy, arrow.xyann = head, tail


def _vector_axes(fig, landscape, gd):
    """Left: the valley, gradient descent's path and the momentum path with its three arrows; right:
    the same arrows enlarged. Returns the artists the update changes."""
    ax, ax2 = fig.subplots(1, 2, width_ratios=[1.4, 1])
    contour(ax, landscape.value, (-3.6, 3.6), (-2.6, 2.6), levels=14)
    ax.set_aspect("equal")
    ax.plot([0], [0], "*", ms=14, color="k")
    ax.plot(gd[:, 0], gd[:, 1], "-", lw=1, color=GD_COLOR, alpha=0.5, label=_("gradient descent (β = 0)"))
    a = {"full": ax.plot([], [], "-", lw=1, color=MOM_COLOR, alpha=0.35)[0],
         "done": ax.plot([], [], "-o", ms=3, lw=1.5, color=MOM_COLOR)[0],
         "mom": _arrow(ax, MOM_COLOR, "--", 2.6), "grad": _arrow(ax, GRAD_COLOR, lw=2.6),
         "sum": _arrow(ax, "k", lw=1.6),
         "look": ax.plot([], [], "o", ms=9, mfc="none", mec=GRAD_COLOR, mew=2.0, zorder=6)[0]}
    ax.plot([], [], "-o", ms=3, color=MOM_COLOR, label=_("momentum path up to θᵗ"))
    ax.plot([], [], "--", color=MOM_COLOR, label=_("β·mᵗ⁻¹ (last movement, scaled)"))
    ax.plot([], [], "-", color=GRAD_COLOR, label=_("−η·gᵗ⁻¹ (gradient now)"))
    ax.plot([], [], "-", color="k", label=_("mᵗ = their sum (new movement)"))
    ax.legend(loc="lower right", fontsize=8)
    ax.set_xlabel("θ₁")
    ax.set_ylabel("θ₂")
    a["msg"], a["title"] = status_text(ax), _title(ax)
    top = 1.15
    a["b_mom"], a["b_grad"], a["b_sum"] = (_arrow(ax2, MOM_COLOR, "--", 3.0), _arrow(ax2, GRAD_COLOR, lw=3.0),
                                           _arrow(ax2, "k", lw=2.0))
    ax2.plot([0], [0], "o", color=MOM_COLOR, ms=6)
    ax2.set_xlim(-top, top)
    ax2.set_ylim(-top, top)
    ax2.set_aspect("equal")
    ax2.set_xlabel(_("Δθ₁ (relative)"))
    ax2.set_ylabel(_("Δθ₂ (relative)"))
    a["title2"] = _title(ax2)
    return a


def _vector_caption(t, beta, start, prev, grad, new, ratio, theta_t, gd_t):
    s0, s1 = _sup(t - 1), _sup(t)
    return _("Step t = {t}, β = {beta:.2f}: β·m{s0} = {prev} plus the gradient step −η·g{s0} = {grad} "
             "gives m{s1} = {new}, {ratio:.2f}× the gradient step; θ{s1} is {dist:.2f} from the minimum "
             "(gradient descent: {gd:.2f}).").format(
        t=t, beta=beta, s0=s0, prev=_vector_text(prev), grad=_vector_text(grad), s1=s1, new=_vector_text(new),
        ratio=ratio, dist=np.linalg.norm(theta_t), gd=np.linalg.norm(gd_t))


def _nesterov_caption(t, beta, start, prev, grad, new, theta_t, heavy_t, gd_t):
    s0, s1 = _sup(t - 1), _sup(t)
    return _("Step t = {t}, β = {beta:.2f}, Nesterov: the gradient is taken at the look-ahead point "
             "θ{s0} + β·m{s0} = {look} (the head of the dashed arrow, circled), not at θ{s0} = {start}; "
             "β·m{s0} = {prev} plus −η·g = {grad} gives m{s1} = {new}. θ{s1} is {dist:.2f} from the minimum "
             "(the lecture's momentum after {t} steps: {heavy:.2f}; gradient descent: {gd:.2f}).").format(
        t=t, beta=beta, s0=s0, look=_vector_text(start + prev), start=_vector_text(start),
        prev=_vector_text(prev), grad=_vector_text(grad), s1=s1, new=_vector_text(new),
        dist=np.linalg.norm(theta_t), heavy=np.linalg.norm(heavy_t), gd=np.linalg.norm(gd_t))


@validate_params(beta=VECTOR_BETA_RANGE, steps=Interval("int", 1, 200), lr=LR)
def vector_addition_panel(beta=0.8, t=6, nesterov=False, *, lr=0.4, steps=30, landscape=VALLEY,
                          theta0=VALLEY_THETA0):
    """Step ``t`` of the lecture's rule drawn as a vector sum at θᵗ⁻¹: β·mᵗ⁻¹ (last movement),
    −η·gᵗ⁻¹ (gradient now), and their sum mᵗ (new movement) ending at θᵗ. Sliders: β and t; a
    toggle ``nesterov``: Nesterov momentum, mᵗ = β·mᵗ⁻¹ − η·∇L(θᵗ⁻¹ + β·mᵗ⁻¹) — the orange arrow's
    gradient is taken where it starts, at the head of the dashed arrow (circled)
    (:func:`lecture_utils.optim.momentum_trace` with ``nesterov=True``).

    Right: the same three arrows enlarged to a fixed size (drawn from the origin): when the dashed and the
    orange arrow point the same way the ball speeds up, when they oppose it brakes. Notebook 05, "Vector
    addition". ``t`` lies in [1, steps].
    """
    t_range = Interval("int", 1, steps)   # the step slider's range depends on ``steps``
    t = t_range.check("t", t)
    fig = _figure((11, 4.4), left=0.06, wspace=0.25, bottom=0.13)
    gd = momentum_path(landscape.grad, theta0, lr=lr, beta=0.0, steps=steps)
    a = _vector_axes(fig, landscape, gd)
    traces = {}   # (β, Nesterov) -> trace: moving t replays the same run

    def trace(beta, nesterov):
        if (beta, nesterov) not in traces:
            if len(traces) >= 4:
                traces.pop(next(iter(traces)))
            traces[beta, nesterov] = momentum_trace(landscape.grad, theta0, lr=lr, beta=beta, steps=steps,
                                                    nesterov=nesterov)
        return traces[beta, nesterov]

    def update(beta, t, nesterov):
        nesterov = bool(nesterov)
        tr = trace(beta, nesterov)
        a["full"].set_data(tr.theta[:, 0], tr.theta[:, 1])
        a["done"].set_data(tr.theta[: t + 1, 0], tr.theta[: t + 1, 1])
        a["title"].set_text((_("step t = {t}, β = {beta:.2f}, η = {lr:g}, Nesterov") if nesterov else
                             _("step t = {t}, β = {beta:.2f}, η = {lr:g}")).format(t=t, beta=beta, lr=lr))
        a["look"].set_data([], [])
        if tr.diverged and t >= tr.diverged_at:
            set_status(a["msg"], _("diverged at step {step}").format(step=tr.diverged_at))
            return _("β = {beta:.2f}: the path diverges at step {step}; lower β.").format(beta=beta,
                                                                                         step=tr.diverged_at)
        set_status(a["msg"], None)
        prev, grad, new = tr.arrows(t)
        start = tr.theta[t - 1]
        _place(a["mom"], start, start + prev)
        _place(a["grad"], start + prev, start + prev + grad)
        _place(a["sum"], start, start + new)
        zero = np.zeros(2)
        scale = max(np.linalg.norm(prev), np.linalg.norm(grad), np.linalg.norm(new), 1e-300)
        _place(a["b_mom"], zero, prev / scale)
        _place(a["b_grad"], prev / scale, (prev + grad) / scale)
        _place(a["b_sum"], zero, new / scale)
        ratio = np.linalg.norm(new) / max(np.linalg.norm(grad), 1e-300)
        a["title2"].set_text(_("step {t} enlarged ×{zoom:.1f}: |mᵗ| = {ratio:.2f} × |η·gᵗ⁻¹|").format(
            t=t, zoom=1 / scale, ratio=ratio))
        if nesterov:
            look = start + prev
            a["look"].set_data([look[0]], [look[1]])
            heavy = trace(beta, False)
            return _nesterov_caption(t, beta, start, prev, grad, new, tr.theta[t], heavy.theta[t], gd[t])
        return _vector_caption(t, beta, start, prev, grad, new, ratio, tr.theta[t], gd[t])

    import ipywidgets as w

    toggle = w.Checkbox(value=bool(nesterov),
                        description=_("Nesterov (gradient at the look-ahead point θ + β·m)"),
                        style={"description_width": "initial"}, layout=w.Layout(width="420px"))
    controls = {"beta": _beta_slider(beta, VECTOR_BETA_RANGE),
                "t": widgets.slider("t", t_range, t, description=_("step t")), "nesterov": toggle}
    # the static site (make site) draws every 4th step, β at its two ends and its default: 10 × 3 × 2 frames
    ts, bs = widgets.every_position(controls["t"]), widgets.every_position(controls["beta"])
    controls["t"].site_positions = sorted({*ts[::4], ts[-1], controls["t"].value})
    controls["beta"].site_positions = sorted({bs[0], bs[-1], controls["beta"].value})
    dynamic = [a[k] for k in ("full", "done", "mom", "grad", "sum", "look", "b_mom", "b_grad", "b_sum", "msg",
                              "title", "title2")]
    return widgets.Panel(fig, update, controls, dynamic=dynamic, title=_("momentum as vector addition"))


# ----------------------------------------------------------------------------- weights
@validate_params(beta=BETA_RANGE, t=Interval("int", 11, 200))
def weights_panel(beta=0.9, *, t=40):
    """Bar chart of the weights βᵏ of the gradient k steps ago in mᵗ = −η Σₖ βᵏ gᵗ⁻¹⁻ᵏ; slider β.

    Notebook 05, "Weighted sum of past gradients" (numbers from :func:`momentum_weights`,
    :func:`effective_horizon`).
    """
    fig = _figure((9.5, 3.4), bottom=0.17, top=0.88)
    ax = fig.subplots()
    ages = np.arange(t)
    bars = ax.bar(ages, np.ones(t), color=MOM_COLOR, width=0.8)
    horizon = ax.axvline(10, color=GRAD_COLOR, lw=2, ls="--", label=_("horizon 1/(1−β)"))
    ax.set_xlim(-0.8, t - 0.2)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel(_("k = how many steps ago the gradient was computed (k = 0: the newest)"))
    ax.set_ylabel(_("weight βᵏ"))
    ax.legend(loc="upper right")
    title = _title(ax)

    def update(beta):
        w = momentum_weights(beta, t)[::-1]          # age 0 first
        for bar, h in zip(bars, w):
            bar.set_height(h)
        hz = effective_horizon(beta)
        horizon.set_xdata([hz, hz])
        n_new = min(int(math.ceil(hz)), t)
        share = float(w[:n_new].sum() / w.sum())
        title.set_text(_("β = {beta:.2f}: weights of the last {t} gradients in the movement m").format(
            beta=beta, t=t))
        return _("β = {beta:.2f}: the newest gradient has weight 1, the one 10 steps ago {w10:.2f}; the {t} "
                 "weights add up to {total:.2f} (→ 1/(1−β) = {hz:.3g} for a long run), and the newest "
                 "{n_new} carry {share:.0f} % of the total. β = 0 remembers nothing: gradient "
                 "descent.").format(beta=beta, w10=w[10], t=t, total=w.sum(), hz=hz, n_new=n_new,
                                    share=100 * share)

    return widgets.Panel(fig, update, {"beta": _beta_slider(beta)},
                         dynamic=list(bars) + [horizon, title], title=_("weights of past gradients"))


# ----------------------------------------------------------------------------- local minimum (1-D)
_SHOWN = 150   # the steps drawn in the middle plot (θᵗ against t), or all of them when there are fewer


def _where(theta, basin, moving):
    if moving:
        if basin == "global":
            return _("is still moving at θ = {theta:.2f} (left of the barrier)").format(theta=theta)
        return _("is still moving at θ = {theta:.2f} (right of the barrier)").format(theta=theta)
    if basin == "global":
        return _("rests at θ = {theta:.2f} (the global minimum)").format(theta=theta)
    return _("rests at θ = {theta:.2f} (the local minimum)").format(theta=theta)


def _local_axes(fig, landscape, steps):
    """The loss with both balls (left), θᵗ against t (middle), θ after ``steps`` steps per β (right)."""
    barrier, local, glob = landscape.barrier, landscape.local_min, landscape.global_min
    ax, ax2, ax3 = fig.subplots(1, 3, width_ratios=[1.3, 1, 1])
    xs = np.linspace(-3.0, 5.0, 400)
    ax.plot(xs, landscape.loss(xs[:, None]), color="k", lw=1.5)
    ax.plot([local], landscape.loss(np.array([[local]])), "v", color=COLORS["muted"], ms=9, label=_("local "
                                                                                                    "minimum"))
    ax.plot([glob], landscape.loss(np.array([[glob]])), "*", color="k", ms=13, label=_("global minimum"))
    a = {"gd_pts": ax.plot([], [], "o", ms=5, color=GD_COLOR, alpha=0.6, label=_("gradient descent"))[0],
         "mo_pts": ax.plot([], [], "o", ms=4, color=MOM_COLOR, alpha=0.6, label=_("momentum"))[0],
         "gd_end": ax.plot([], [], "o", ms=13, mfc="none", mec=GD_COLOR, mew=2.5)[0],
         "mo_end": ax.plot([], [], "o", ms=17, mfc="none", mec=MOM_COLOR, mew=2.5)[0]}
    ax.set_xlim(-3, 5)
    ax.set_ylim(-0.5, 9)
    ax.set_xlabel("θ")
    ax.set_ylabel(_("loss L(θ)"))
    ax.legend(loc="upper left", fontsize=8)
    a["msg"], a["title"] = status_text(ax), _title(ax)
    a["shown"] = shown = min(_SHOWN, steps)
    ts = np.arange(shown + 1)
    a["gd_t"], = ax2.plot(ts, np.zeros(shown + 1), color=GD_COLOR, label=_("gradient descent"))
    a["mo_t"], = ax2.plot(ts, np.zeros(shown + 1), color=MOM_COLOR, label=_("momentum"))
    ax2.axhline(barrier, color=COLORS["muted"], ls=":", lw=1.2)
    ax2.text(shown, barrier - 0.1, _("barrier"), ha="right", va="top", fontsize=9, color=COLORS["muted"])
    ax2.set_ylim(-4, 5.5)
    ax2.set_xlim(0, shown)
    ax2.set_xlabel(_("step t"))
    ax2.set_ylabel("θᵗ")
    ax2.set_title(_("the first {shown} steps").format(shown=shown), fontsize=12)
    ax2.legend(loc="lower right", fontsize=8)
    ax3.axhline(barrier, color=COLORS["muted"], ls=":", lw=1.2)
    a["scan"], = ax3.plot(BETA_GRID, np.zeros_like(BETA_GRID), ".", ms=5, color=MOM_COLOR)
    a["here"], = ax3.plot([], [], "o", ms=12, mfc="none", mec="k", mew=2)
    ax3.set_xlim(-0.02, 1.0)
    ax3.set_ylim(-1.0, 4.0)
    ax3.set_xlabel(_("momentum β"))
    ax3.set_ylabel(_("θ after {steps} steps").format(steps=steps))
    a["title3"] = _title(ax3, fontsize=10)
    a["hidden3"] = ax3.text(0.5, 0.5, _("every β at once:\ntick “show every β”\nafter your prediction"),
                            ha="center", va="center", transform=ax3.transAxes, fontsize=11,
                            color=COLORS["muted"])
    return a


def _draw_balls(a, landscape, gd, mo):
    """The first steps of both paths on the loss, their last positions circled, and θᵗ against t."""
    shown = a["shown"]
    for pts, end, p in ((a["gd_pts"], a["gd_end"], gd), (a["mo_pts"], a["mo_end"], mo)):
        q = p[: shown + 1]
        ok = np.isfinite(q)
        pts.set_data(q[ok], landscape.loss(q[ok][:, None]))
        last = p[-1]
        end.set_data([last], landscape.loss(np.array([[last]])) if np.isfinite(last) else [np.nan])
    a["gd_t"].set_ydata(gd[: shown + 1])
    a["mo_t"].set_ydata(mo[: shown + 1])


def _local_caption(lr, beta, theta0, steps, gd, mo, ok, landscape, show_all=True):
    (b_gd, mv_gd), (b_mo, mv_mo) = rest_place(gd, landscape), rest_place(mo, landscape)
    if "diverged" in (b_gd, b_mo):
        if b_mo == "diverged":
            status = _("momentum diverges at η = {lr:.3g}")
            caption = _("η = {lr:.3g}, β = {beta:.2f}: momentum diverges — the steps grow without bound. "
                        "Lower η or β.")
        else:
            status = _("gradient descent diverges at η = {lr:.3g}")
            caption = _("η = {lr:.3g}, β = {beta:.2f}: gradient descent diverges — the steps grow without "
                        "bound. Lower η or β.")
        return status.format(lr=lr), caption.format(lr=lr, beta=beta)
    where = dict(lr=lr, beta=beta, theta0=theta0, steps=steps, gd=_where(gd[-1], b_gd, mv_gd),
                 mo=_where(mo[-1], b_mo, mv_mo))
    if not show_all:
        return None, _("η = {lr:.3g}, β = {beta:.2f}: started at θ = {theta0:g}, after {steps} steps "
                       "gradient descent {gd}; momentum {mo}.").format(**where)
    if len(ok) == 0:
        span = _("no β in [0, 0.99] carries it past the barrier")
    elif len(ok) == len(BETA_GRID):
        span = _("every β in [0, 0.99] ends left of the barrier (η alone is large enough to jump it)")
    else:
        span = _("{n} of the {total} values β = 0, 0.01, …, 0.99 (the smallest {smallest:.2f}) end left of "
                 "the barrier, in the global basin").format(n=len(ok), total=len(BETA_GRID),
                                                            smallest=ok.min())
    return None, _("η = {lr:.3g}, β = {beta:.2f}: started at θ = {theta0:g}, after {steps} steps gradient "
                   "descent {gd}; momentum {mo}. At this η, {span}.").format(**where, span=span)


@validate_params(beta=BETA_RANGE, lr=LOCAL_LR_RANGE, steps=STEPS_RANGE, theta0=Interval("real", -3.0, 5.0))
def local_minimum_panel(beta=0.0, lr=0.1, show_all=False, *, theta0=LOCAL_THETA0, steps=LOCAL_STEPS,
                        landscape=LOCAL_GLOBAL):
    """A ball on the 1-D loss with a local and a global minimum: gradient descent vs momentum.

    Left: the loss and both paths; middle: θᵗ against t; right (box ``show_all``, off by default so
    that the stored picture does not answer the prediction asked before it): where the ball is after
    ``steps`` steps for every β at this η (the 100 values of :data:`BETA_GRID` at once,
    :func:`rolling.beta_scan`). Sliders β and η. Notebook 05, "Rolling past a local minimum".
    """
    fig = _figure((12, 3.8), left=0.055, wspace=0.3)
    a = _local_axes(fig, landscape, steps)
    by_lr = {}   # η -> (the β scan, every step of every β's path): one vectorised run per η

    def update(beta, lr, show_all):
        show_all = bool(show_all)
        scan, paths = _remember(by_lr, lr, lambda: rolling.beta_paths(lr, theta0=theta0, steps=steps,
                                                                     landscape=landscape))
        gd = paths[:, 0]  # β = 0 is gradient descent
        k = int(round(beta * 100))
        if 0 <= k < len(BETA_GRID) and abs(BETA_GRID[k] - beta) < 1e-9:
            mo = paths[:, k]  # the slider's β is on the scan's grid (step 0.01)
        else:
            mo = momentum_path(landscape.grad, [theta0], lr=lr, beta=beta, steps=steps)[:, 0]
        finals = scan.final()[0]
        _draw_balls(a, landscape, gd, mo)
        a["scan"].set_ydata(np.clip(finals, -1.0, 4.0))
        a["here"].set_data([beta], [np.clip(mo[-1], -1, 4) if np.isfinite(mo[-1]) else np.nan])
        ok = scan.rolled_past()
        for k in ("scan", "here", "title3"):
            a[k].set_visible(show_all)
        a["hidden3"].set_visible(not show_all)
        a["title3"].set_text(_("η = {lr:.3g}: {n} of {total} β end left of the barrier").format(
            lr=lr, n=len(ok), total=len(BETA_GRID)))
        a["title"].set_text(f"η = {lr:.3g}, β = {beta:.2f}")
        status, caption = _local_caption(lr, beta, theta0, steps, gd, mo, ok, landscape, show_all)
        set_status(a["msg"], status)
        return caption

    import ipywidgets as w

    toggle = w.Checkbox(value=bool(show_all), description=_("show every β (after your prediction)"),
                        style={"description_width": "initial"}, layout=w.Layout(width="420px"))
    controls = {"beta": _beta_slider(beta), "lr": _lr_slider(lr, LOCAL_LR_RANGE), "show_all": toggle}
    dynamic = [a[k] for k in ("gd_pts", "mo_pts", "gd_end", "mo_end", "gd_t", "mo_t", "scan", "here", "msg",
                              "title", "title3", "hidden3")]
    return widgets.Panel(fig, update, controls, dynamic=dynamic, title=_("rolling past a local minimum"))


# ----------------------------------------------------------------------------- saddle (2-D)
def _saddle_axes(fig, landscape, steps):
    """Left: the saddle's contours and both paths; right: |⟨θᵗ, e⟩| against t (log scale)."""
    ax, ax2 = fig.subplots(1, 2)
    contour(ax, landscape.loss, (-1.8, 1.8), (-1.6, 1.6), levels=18)
    ax.set_aspect("equal")
    ax.plot([0], [0], "X", ms=11, color="k", label=_("saddle"))
    mins = landscape.minima
    ax.plot(mins[:, 0], mins[:, 1], "*", ms=13, color="k", label=_("minima"))
    a = {"gd_l": ax.plot([], [], "-o", ms=2.5, lw=1.2, color=GD_COLOR)[0],
         "mo_l": ax.plot([], [], "-o", ms=2.5, lw=1.2, color=MOM_COLOR)[0]}
    ax.plot([], [], "-o", ms=2.5, lw=1.2, color=GD_COLOR, label=_("gradient descent"))
    ax.plot([], [], "-o", ms=2.5, lw=1.2, color=MOM_COLOR, label=_("momentum"))
    ax.set_xlabel("θ₁")
    ax.set_ylabel("θ₂")
    ax.legend(loc="lower left", fontsize=8)
    a["msg"], a["title"] = status_text(ax), _title(ax)
    ts = np.arange(steps + 1)
    a["gd_v"], = ax2.semilogy(ts, np.ones(steps + 1), color=GD_COLOR, label=_("gradient descent"))
    a["mo_v"], = ax2.semilogy(ts, np.ones(steps + 1), color=MOM_COLOR, label=_("momentum"))
    ax2.axhline(LEAVE, color=COLORS["muted"], ls=":", lw=1.2)
    ax2.set_ylim(1e-4, 3)
    ax2.set_xlim(0, steps)
    ax2.set_xlabel(_("step t"))
    ax2.set_ylabel(_("|θ₂| (along the escape direction)"))
    ax2.set_title(_("leaving the saddle: |θ₂| > {leave}").format(leave=LEAVE), fontsize=12)
    ax2.legend(loc="lower right", fontsize=8)
    return a


def _saddle_caption(lr, beta, theta0, steps, t_gd, t_mo):
    def said(t):
        return (_("after {t} steps").format(t=t) if t is not None else
                _("not within {steps} steps").format(steps=steps))
    ratio = _(" — {ratio:.1f}× sooner").format(ratio=t_gd / t_mo) if (t_gd and t_mo) else ""
    return _("η = {lr:.3g}, β = {beta:.2f}: both start at θ = ({x:g}, {y:g}), almost on the saddle's stable "
             "line θ₂ = 0. Gradient descent leaves the saddle (|θ₂| > {leave}) {gd}, momentum {mo}{ratio}. "
             "Near the saddle the push along θ₂ is tiny; momentum keeps adding it up.").format(
        lr=lr, beta=beta, x=theta0[0], y=theta0[1], leave=LEAVE, gd=said(t_gd), mo=said(t_mo), ratio=ratio)


@validate_params(beta=BETA_RANGE, lr=SADDLE_LR_RANGE, steps=Interval("int", 1, 5000))
def saddle_panel(beta=0.9, lr=0.1, *, theta0=SADDLE_THETA0, steps=150, landscape=SADDLE):
    """Gradient descent and momentum started next to the saddle's stable line; sliders β and η.

    Right: the distance along the escape direction (the Hessian's negative-eigenvalue eigenvector),
    log scale; the steps to leave come from :func:`rolling.steps_to_leave`. Notebook 05, "... and a saddle".
    """
    fig = _figure((11, 4.2), wspace=0.25, bottom=0.13)
    a = _saddle_axes(fig, landscape, steps)
    e = landscape.escape_direction
    descents = {}   # η -> gradient descent's path (it does not depend on β)

    def update(beta, lr):
        gd = _remember(descents, lr,
                       lambda: momentum_path(landscape.grad, theta0, lr=lr, beta=0.0, steps=steps))
        mo = momentum_path(landscape.grad, theta0, lr=lr, beta=beta, steps=steps)
        a["gd_l"].set_data(gd[:, 0], gd[:, 1])
        a["mo_l"].set_data(mo[:, 0], mo[:, 1])
        a["gd_v"].set_ydata(np.abs(gd @ e))
        a["mo_v"].set_ydata(np.abs(mo @ e))
        a["title"].set_text(f"η = {lr:.3g}, β = {beta:.2f}")
        bad = tuple(n for n, p in (("gd", gd), ("mom", mo)) if np.isnan(p).any())
        if bad:
            status, caption = {
                ("gd",): (_("gradient descent diverges at η = {lr:.3g}"),
                          _("η = {lr:.3g}, β = {beta:.2f}: gradient descent diverges — lower η (or β).")),
                ("mom",): (_("momentum diverges at η = {lr:.3g}"),
                           _("η = {lr:.3g}, β = {beta:.2f}: momentum diverges — lower η (or β).")),
                ("gd", "mom"): (_("gradient descent and momentum diverge at η = {lr:.3g}"),
                                _("η = {lr:.3g}, β = {beta:.2f}: gradient descent and momentum diverge — "
                                  "lower η (or β)."))}[bad]
            set_status(a["msg"], status.format(lr=lr))
            return caption.format(lr=lr, beta=beta)
        set_status(a["msg"], None)
        t_gd, t_mo = steps_to_leave(gd, direction=e), steps_to_leave(mo, direction=e)
        return _saddle_caption(lr, beta, theta0, steps, t_gd, t_mo)

    controls = {"beta": _beta_slider(beta), "lr": _lr_slider(lr, SADDLE_LR_RANGE)}
    dynamic = [a[k] for k in ("gd_l", "mo_l", "gd_v", "mo_v", "msg", "title")]
    return widgets.Panel(fig, update, controls, dynamic=dynamic, title=_("leaving a saddle point"))


# ----------------------------------------------------------------------------- quadratic (Distill)
#: The window of the path plot: it holds the whole path at the defaults (|θ₂| reaches 3.6 at α = 3.3,
#: β = 0.67); a path that goes further is cut at the frame and the note in the corner says how far it went.
_QUAD_WINDOW = (1.25, 4.2)
_A_MAX = 4.0


def _quadratic_path_axes(ax, q):
    """The contours of f = ½θᵀAθ with the minimum; returns the path line and its texts."""
    lam, win = q.eigenvalues, _QUAD_WINDOW
    contour(ax, q.value, (-win[0], win[0]), (-win[1], win[1]), levels=14)
    ax.plot([0], [0], "*", ms=13, color="k")
    path_l, = ax.plot([], [], "-", lw=1.0, color=MOM_COLOR)
    ax.set_xlabel(f"θ₁ (λ₁ = {lam[0]:g})")
    ax.set_ylabel(f"θ₂ (λ₂ = {lam[1]:g})")
    msg = status_text(ax)
    outside = ax.text(0.02, 0.02, "", transform=ax.transAxes, ha="left", va="bottom", fontsize=9, zorder=9,
                      bbox=dict(boxstyle="round", facecolor="white", edgecolor=COLORS["muted"], alpha=0.9))
    return {"path_l": path_l, "msg": msg, "outside": outside, "title": _title(ax)}


#: The steps the error plot shows (the optimum reaches 10⁻⁸ after ≈ 105; the caption counts all ``steps``).
_ERR_SHOWN = 150


def _quadratic_error_axes(ax2, steps, theta0):
    """The error ‖θᵗ‖ against the theory ‖θ⁰‖·rateᵗ (log scale)."""
    ts = np.arange(steps + 1)
    err_l, = ax2.semilogy(ts, np.ones(steps + 1), color=MOM_COLOR)
    th_l, = ax2.semilogy(ts, np.ones(steps + 1), "--", color="k", lw=1.3)
    ax2.plot([], [], color=MOM_COLOR, label=_("measured ‖θᵗ‖"))
    ax2.plot([], [], "--", color="k", lw=1.3, label=_("theory ‖θ⁰‖·rateᵗ"))
    ax2.axhline(1e-3 * np.linalg.norm(theta0), color=COLORS["muted"], ls=":", lw=1)
    ax2.set_ylim(1e-8, 1e3)
    ax2.set_xlim(0, min(steps, _ERR_SHOWN))
    ax2.set_xlabel(_("step t"))
    ax2.set_ylabel(_("error ‖θᵗ‖ (log scale)"))
    # above ‖θ⁰‖ = 1.4 after the first steps no stable path goes: the legend covers no curve
    ax2.legend(loc="upper right", fontsize=9)
    return {"err_l": err_l, "th_l": th_l, "msg2": status_text(ax2), "title2": _title(ax2)}


def _rate_map_axes(fig, ax3, lam, best, gd_best, grid):
    """The theoretical rate over (α, β) (grey: diverges), the edge α = (2 + 2β)/λ₂, the optimum and the
    best gradient descent; returns the marker of the sliders' (α, β)."""
    alphas = np.linspace(_A_MAX / grid, _A_MAX, grid)
    betas = np.linspace(0.0, 0.99, grid)
    rates = quad.rate_map(alphas, betas, lam)
    shown = np.ma.masked_where(rates >= 1.0, rates)
    im = ax3.imshow(shown, origin="lower", aspect="auto", extent=(alphas[0], alphas[-1], betas[0], betas[-1]),
                    cmap="viridis_r", vmin=best["rate"], vmax=1.0, interpolation="nearest")
    ax3.set_facecolor("#dddddd")
    ax3.axhspan(-0.06, 0.0, color="white", zorder=0.5)   # room below β = 0 for the best-GD square
    ax3.plot(quad.stable_alpha_max(betas, lam), betas, color="w", lw=1.5)
    ax3.plot([best["alpha"]], [best["beta"]], "*", ms=14, color="w", mec="k", label=_("optimum"))
    ax3.plot([gd_best["alpha"]], [0.0], "s", ms=8, color="w", mec="k", label=_("best GD"), clip_on=False,
             zorder=5)
    mark, = ax3.plot([], [], "o", ms=11, mfc="none", mec="r", mew=2.2)
    ax3.set_xlim(0, _A_MAX)
    ax3.set_ylim(-0.06, 0.99)
    ax3.set_xlabel(_("step α (= η)"))
    ax3.set_ylabel(_("momentum β"))
    ax3.set_title(_("rate over (α, β); grey: diverges"), fontsize=11)
    ax3.grid(False)
    # in the grey (diverging) corner, right of the best-GD square: the legend covers no rate
    ax3.legend(loc="lower right", fontsize=8, framealpha=0.9, borderaxespad=0.3, handletextpad=0.3)
    fig.colorbar(im, ax=ax3, label=_("rate max|σ| (low = fast: good)"), pad=0.02)
    return mark


def _draw_quadratic_path(a, path, rate, theta0, ts):
    """The path (with the note when it leaves the window), its error and the theoretical error."""
    e = quad.errors(path)
    a["path_l"].set_data(path[:, 0], path[:, 1])
    with np.errstate(invalid="ignore"):
        reach = np.nanmax(np.abs(path), axis=0) if np.isfinite(path).any() else np.array([np.inf, np.inf])
    far = [_("|θ{i}| up to {reach:.3g}").format(i="₁₂"[i], reach=reach[i]) for i in range(2)
           if not reach[i] <= _QUAD_WINDOW[i]]
    a["outside"].set_text(_("path leaves this window:\n{parts}").format(parts=", ".join(far)) if far else "")
    a["outside"].set_visible(bool(far))
    a["err_l"].set_ydata(np.where(e > 0, e, np.nan))
    with np.errstate(over="ignore", under="ignore"):
        a["th_l"].set_ydata(np.linalg.norm(theta0) * rate ** ts.astype(float))


def _quadratic_caption(alpha, beta, q, rate, path, steps, best, gd_best):
    """The caption of a stable (α, β): theoretical and measured rate, steps to 10⁻³, the optima."""
    measured = quad.measured_rate(path)
    n_tol = quad.steps_to_tol(path, 1e-3)
    n_th = quad.theoretical_steps(rate, 1e-3)
    reached = (_("{n} steps").format(n=n_tol) if n_tol is not None else
               _("more than {steps} steps").format(steps=steps))
    return measured, _(
        "α = {alpha:.2f}, β = {beta:.2f} (κ = {kappa:g}): theoretical rate max(|σ₁|, |σ₂|) = {rate:.3f}, "
        "measured {measured:.3f}; the error stays below 10⁻³ of its start after {reached} (theory "
        "⌈ln 10⁻³ / ln rate⌉ = {n_th}). Optimum α* = {a_best:.2f}, β* = {b_best:.2f}, rate "
        "{r_best:.3f}; best gradient descent α = {a_gd:.2f}, rate {r_gd:.3f}.").format(
        alpha=alpha, beta=beta, kappa=q.kappa, rate=rate, measured=measured, reached=reached, n_th=n_th,
        a_best=best["alpha"], b_best=best["beta"], r_best=best["rate"], a_gd=gd_best["alpha"],
        r_gd=gd_best["rate"])


@validate_params(alpha=ALPHA_RANGE, beta=BETA_RANGE, steps=STEPS_RANGE, grid=Interval("int", 10, 1000))
def quadratic_panel(alpha=3.3, beta=0.67, *, kappa=100.0, steps=300, theta0=(1.0, 1.0), grid=160):
    """The ill-conditioned quadratic f = ½θᵀAθ (λ = 1/κ and 1): the path, the error against the
    theoretical ‖θ⁰‖·rateᵗ, and the heat map of the rate over (α, β) with the optimum and the edge of
    the stable region α = (2 + 2β)/λ₂; sliders α and β. Notebook 05, "Ill-conditioned quadratic".
    """
    q = quad.make_quadratic(kappa)
    lam = q.eigenvalues
    best = quad.optimal_params(lam)
    gd_best = quad.optimal_gd(lam)
    fig = _figure((12.5, 3.9), left=0.06, right=0.955, wspace=0.35, bottom=0.15)
    ax, ax2, ax3 = fig.subplots(1, 3, width_ratios=[1.15, 1, 1.1])
    a = {**_quadratic_path_axes(ax, q), **_quadratic_error_axes(ax2, steps, theta0)}
    a["mark"] = _rate_map_axes(fig, ax3, lam, best, gd_best, grid)
    ts = np.arange(steps + 1)

    def update(alpha, beta):
        path = momentum_path(q.grad, theta0, lr=alpha, beta=beta, steps=steps)
        rate = quad.theoretical_rate(alpha, beta, lam)
        _draw_quadratic_path(a, path, rate, theta0, ts)
        a["mark"].set_data([alpha], [beta])
        a["title"].set_text(f"α = {alpha:.2f}, β = {beta:.2f}")
        if not quad.is_stable(alpha, beta, lam) or np.isnan(path).any():
            edge = 2 + 2 * beta
            set_status(a["msg"], _("diverges"))
            set_status(a["msg2"], f"αλ₂ = {alpha * lam[-1]:.2f} ≥ 2 + 2β = {edge:.2f}")
            a["title2"].set_text(_("rate: theory {rate:.3f} ≥ 1").format(rate=rate))
            return _("α = {alpha:.2f}, β = {beta:.2f}: outside the stable region 0 < αλ < 2 + 2β (α·λ₂ = "
                     "{al:.2f}, 2 + 2β = {edge:.2f}); the theoretical rate is {rate:.3f} ≥ 1 and the path "
                     "blows up. Lower α or raise β.").format(alpha=alpha, beta=beta, al=alpha * lam[-1],
                                                            edge=edge, rate=rate)
        set_status(a["msg"], None)
        set_status(a["msg2"], None)
        measured, caption = _quadratic_caption(alpha, beta, q, rate, path, steps, best, gd_best)
        a["title2"].set_text(_("rate: theory {rate:.3f}, measured {measured:.3f}").format(rate=rate,
                                                                                         measured=measured))
        return caption

    controls = {"alpha": widgets.slider("alpha", ALPHA_RANGE, alpha, step=0.01, description=_("step α"),
                                        readout_format=".2f"),
                "beta": _beta_slider(beta, step=0.01)}
    dynamic = [a[k] for k in ("path_l", "err_l", "th_l", "mark", "msg", "msg2", "outside", "title", "title2")]
    return widgets.Panel(fig, update, controls, dynamic=dynamic,
                         title=_("Distill's ill-conditioned quadratic"))


# ----------------------------------------------------------------------------- static figures
def plot_schedule_demo(demo):
    """Lecture form vs PyTorch form (and torch itself) when η drops at one step: θ₁ and the step length."""
    import matplotlib.pyplot as plt

    sched = demo["schedule"]
    at = int(np.argmax(sched < sched[0])) if np.any(sched < sched[0]) else len(sched)
    t = np.arange(len(demo["lecture"]))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.8), layout="constrained")
    for ax, f, ylabel in ((ax1, lambda p: p[:, 0], "θ₁ᵗ"),
                          (ax2, lambda p: np.r_[np.nan, np.linalg.norm(np.diff(p, axis=0), axis=1)],
                           _("step length |mᵗ| = |θᵗ − θᵗ⁻¹|"))):
        ax.plot(t, f(demo["lecture"]), color=MOM_COLOR, label=_("lecture / Sutskever: m = βm − ηₜg"))
        ax.plot(t, f(demo["pytorch"]), "--", color=GRAD_COLOR, label=_("PyTorch / EMA: v = βv + g, θ −= ηₜv"))
        ax.plot(t[::3], f(demo["torch"])[::3], "x", ms=5, color="k", label="torch.optim.SGD")
        ax.axvline(at, color=COLORS["muted"], ls=":")
        ax.set_xlabel(_("step t"))
        ax.set_ylabel(ylabel)
    ax2.set_yscale("log")
    ax1.set_title(_("η × {factor:g} from step {at} on").format(factor=sched[-1] / sched[0], at=at),
                  fontsize=12)
    ax2.set_title(_("the lecture's ball keeps its speed; PyTorch's brakes at once"), fontsize=12)
    ax1.legend(fontsize=9, loc="lower right")
    return fig


def _median_steps(rows):
    from ..sweeps.momentum_mnist import summary

    return summary(rows)


def plot_sweep(record):
    """Steps to the target training loss per β: at matched effective step and at fixed η, plus curves.

    A β whose runs did not all reach the target within ``max_steps`` gets no bar: an open triangle at
    the budget line says "not reached" (or "diverged"), so it is never read as data."""
    import matplotlib.pyplot as plt

    p, res = record["params"], record["results"]
    betas = p["betas"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.0), layout="constrained")
    width = 0.38
    x = np.arange(len(betas))
    cap = p["max_steps"]
    missed = False
    for k, (name, color, label) in enumerate((
            ("matched", MOM_COLOR, _("matched η/(1−β) = {eff}").format(eff=p["eff_lr"])),
            ("fixed", GRAD_COLOR, _("fixed η = {lr}").format(lr=p["fixed_lr"])))):
        med = _median_steps(res[name])
        vals = [med[b] if med[b] is not None else 0.0 for b in betas]
        xs = x + (k - 0.5) * width
        ax1.bar(xs, vals, width, color=color, label=label)
        for b, xb in zip(betas, xs):
            if med[b] is None:
                missed = True
                status = {r["status"] for r in res[name] if r["beta"] == b}
                ax1.plot([xb], [cap], "^", ms=10, mfc="none", mec=color, mew=2, clip_on=False)
                ax1.text(xb, cap * 0.94, _("diverged") if "diverged" in status else _("not\nreached"),
                         ha="center",
                         va="top", fontsize=11, color=color)
    if missed:
        ax1.axhline(cap, color=COLORS["muted"], ls=":", lw=1)
        ax1.text(x[0] - 0.45, cap, _("budget {cap} steps").format(cap=cap), va="bottom", fontsize=11,
                 color=COLORS["muted"])
    ax1.set_ylim(0, cap * 1.08)
    ax1.set_xticks(x, [f"β = {b:g}" for b in betas])
    ax1.set_ylabel(_("steps to training loss {target}").format(target=p["target_loss"]))
    ax1.set_title(_("MNIST-1D MLP, B = {b}, median of {n} seeds").format(b=p["batch_size"],
                                                                         n=len(p["seeds"])),
                  fontsize=12)
    ax1.legend(fontsize=11, loc="upper left", bbox_to_anchor=(0.0, 0.9))
    for name, ls in (("matched", "-"), ("fixed", "--")):
        for r in res[name]:
            if r["seed"] != p["seeds"][0]:
                continue
            y = np.array([np.nan if v is None else v for v in r["curve_loss"]], float)
            c = mpl_color(betas.index(r["beta"]), len(betas))
            ax2.plot(r["curve_steps"], y, ls, color=c, lw=1.5,
                     label=(_("β = {beta:g} (matched)") if name == "matched" else
                            _("β = {beta:g} (fixed)")).format(beta=r["beta"]))
    ax2.axhline(p["target_loss"], color="k", lw=1, ls=":")
    ax2.set_ylim(0, 2.7)
    ax2.set_xlabel(_("step"))
    ax2.set_ylabel(_("full training loss"))
    ax2.set_title(_("seed {seed}: solid = matched, dashed = fixed η").format(seed=p["seeds"][0]), fontsize=12)
    ax2.legend(fontsize=10, ncol=2, loc="upper right", bbox_to_anchor=(1.0, 0.8))  # below β = 0.99 at 2.3
    return fig


def mpl_color(i, n):
    import matplotlib as mpl

    # plasma 0 → 0.6 (dark blue → red): every colour ≥ 3:1 against white (its yellow end is not)
    return mpl.colormaps["plasma"](0.6 * i / max(n - 1, 1))


def plot_small_batches(record):
    """Steps to the target loss against batch size, with and without momentum, at two matched
    effective steps η/(1−β) (one panel each). Lines join only batch sizes whose runs all reached the
    target; a batch size where a seed missed it is an open triangle on the budget line ("not reached
    within max_steps"), never a data point."""
    import matplotlib.pyplot as plt

    p, res = record["params"], record["results"]["small_batches"]
    effs = p["small_batch_eff_lrs"]
    fig, axes = plt.subplots(1, len(effs), figsize=(5.2 * len(effs), 3.8), layout="constrained", sharey=True)
    cap = p["max_steps"]
    for ax, eff in zip(np.atleast_1d(axes), effs):
        styles = zip(p["small_batch_betas"], (GD_COLOR, MOM_COLOR), ("o", "s"))
        for k, (beta, color, marker) in enumerate(styles):
            med = {}
            for r in res:
                if r["beta"] == beta and r["eff_lr"] == eff:
                    med.setdefault(r["batch_size"], []).append(r["steps"])
            bs = sorted(med)
            y = np.array([np.nan if any(s is None for s in med[b]) else float(np.median(med[b])) for b in bs])
            ax.plot(bs, y, "-" + marker, color=color, ms=8, mfc="none" if beta else color,
                    label=f"β = {beta:g}, η = {eff * (1 - beta):g}")
            miss = [b for b, v in zip(bs, y) if np.isnan(v)]
            if miss:  # side by side on the budget line, so both methods stay visible
                ax.plot(np.array(miss) * (0.93 if k == 0 else 1.07), [cap] * len(miss), "^", ms=9, mfc="none",
                        mec=color, mew=2, clip_on=False)
        ax.axhline(cap, color=COLORS["muted"], ls=":", lw=1)
        ax.text(p["small_batch_sizes"][0] * 1.25, cap, _("△ not reached within {cap} steps").format(cap=cap),
                va="center",
                fontsize=11, color=COLORS["muted"], bbox=dict(facecolor="white", edgecolor="none", pad=1))
        ax.set_xscale("log", base=2)
        ax.set_xticks(p["small_batch_sizes"], [str(b) for b in p["small_batch_sizes"]])
        ax.set_xlabel(_("batch size B (log scale)"))
        ax.set_title(_("effective step η/(1−β) = {eff:g}").format(eff=eff), fontsize=13)
        ax.legend(fontsize=11, loc="upper right", bbox_to_anchor=(1.0, 0.84))  # under the budget line
    np.atleast_1d(axes)[0].set_ylabel(_("steps to training loss {target}").format(target=p["target_loss"]))
    np.atleast_1d(axes)[0].set_ylim(0, cap * 1.12)
    return fig


def _plot_saddle_curves(ax, record, eff, colors):
    """One panel of :func:`plot_saddle_sweep`: the loss of every seed at this matched effective step."""
    p, res = record["params"], record["results"]
    level = res["level"]
    last = 0
    for r in res["runs"]:
        if r["eff_lr"] != eff:
            continue
        y = np.array([np.nan if v is None else v for v in r["curve_loss"]], float)
        ax.plot(r["curve_steps"], y, color=colors[r["beta"]], lw=1.0, alpha=0.75)
        last = max(last, r["curve_steps"][-1])
    for beta in p["betas"]:
        ax.plot([], [], color=colors[beta], label=f"β = {beta:g}, η = {eff * (1 - beta):.3g}")
    ax.axhline(math.log(10), color="k", lw=0.8, ls="--")
    ax.text(0.02 * last, math.log(10) + 0.01, _("ln 10 (chance level)"), va="bottom", fontsize=11)
    ax.axhline(level, color="k", lw=1.0, ls=":")
    ax.text(0.02 * last, level - 0.01, _("left: L ≤ {f:g}·ln 10").format(f=p["plateau_fraction"]), va="top",
            fontsize=11)
    ax.set_xlim(0, last)
    ax.set_ylim(level - 0.2, math.log(10) + 0.08)
    ax.set_xlabel(_("update t"))
    ax.set_title(_("matched η/(1−β) = {eff:g}: {n} seeds").format(eff=eff, n=len(p["seeds"])), fontsize=13)
    ax.legend(fontsize=11, loc="lower left")


def _plot_leave_steps(ax, record, summ, colors):
    """The right panel of :func:`plot_saddle_sweep`: updates to leave the plateau, one dot per seed
    (a run that never left it: an open triangle at the budget), mean ± 95 % t-interval beside them."""
    p = record["params"]
    cap = p["max_steps"]
    labels, k = [], 0
    rng = np.random.default_rng(0)  # horizontal jitter of the dots only
    for eff in p["eff_lrs"]:
        for beta in p["betas"]:
            b = summ[eff]["by_beta"][beta]
            steps = b["steps"]
            xs = k + rng.uniform(-0.12, 0.12, len(steps))
            got = np.array([t is not None for t in steps])
            ax.plot(xs[got], [t for t in steps if t is not None], "o", ms=4, color=colors[beta], alpha=0.7)
            if (~got).any():
                ax.plot(xs[~got], [cap] * int((~got).sum()), "^", ms=8, mfc="none", mec=colors[beta], mew=1.5,
                        clip_on=False)
            if b["mean"] is not None:
                ax.errorbar([k + 0.3], [b["mean"]], yerr=[b["half"]], fmt="_", ms=12, color="k", capsize=3,
                            lw=1.5)
            labels.append(f"β = {beta:g}\n{eff:g}")
            k += 1
    ax.set_xticks(range(k), labels, fontsize=12)
    ax.set_xlabel(_("β and the effective step η/(1−β)"))
    ax.set_yscale("log")
    ax.set_yticks([50, 100, 200, 500, 1000], ["50", "100", "200", "500", "1000"])
    ax.minorticks_off()
    ax.set_ylabel(_("updates to leave the plateau"))
    ax.set_title(_("dots: seeds; bar: mean ± 95 % t-int."), fontsize=13)


def plot_saddle_sweep(record):
    """The ``momentum_saddle`` sweep (notebook 05, section 8): the full training loss of every seed for
    plain SGD and momentum at each matched effective step η/(1−β) (one panel each, the plateau level
    dotted), and the updates to leave the plateau per setting: one dot per seed, mean ± 95 % t-interval
    (from :func:`lecture_utils.sweeps.momentum_saddle.summary`). A run that never left it is an open
    triangle at the budget, never a data point."""
    import matplotlib.pyplot as plt

    from ..sweeps.momentum_saddle import summary

    effs, betas = record["params"]["eff_lrs"], record["params"]["betas"]
    colors = {betas[0]: GD_COLOR, betas[-1]: MOM_COLOR}
    fig, axes = plt.subplots(1, len(effs) + 1, figsize=(13, 4.3), layout="constrained",
                             width_ratios=[1] * len(effs) + [1.0])
    summ = summary(record)
    for ax, eff in zip(axes, effs):
        _plot_saddle_curves(ax, record, eff, colors)
    axes[0].set_ylabel(_("full training loss"))
    _plot_leave_steps(axes[-1], record, summ, colors)
    return fig


# ----------------------------------------------------------------------------- the lecture's conclusion
def _point_name(name):
    """A critical point's name in the current language (the table's logic keys on the English name)."""
    return {"1-D global minimum": _("1-D global minimum"), "1-D barrier": _("1-D barrier"),
            "1-D local minimum": _("1-D local minimum"), "2-D saddle": _("2-D saddle"),
            "2-D minimum": _("2-D minimum")}[name]


def critical_point_table():
    """Every critical point of the two toy losses: θ, |∇L|, Hessian eigenvalues and the verdict of
    :func:`lecture_utils.landscapes.classify_critical_point` (notebook 05, "The lecture's conclusion")."""
    from ..landscapes import classify_critical_point, hessian_eigen

    rows = []
    points = (("1-D global minimum", [LOCAL_GLOBAL.global_min]), ("1-D barrier", [LOCAL_GLOBAL.barrier]),
              ("1-D local minimum", [LOCAL_GLOBAL.local_min]), ("2-D saddle", SADDLE.saddle),
              ("2-D minimum", SADDLE.minima[0]))
    for name, theta in points:
        land = LOCAL_GLOBAL if name.startswith("1-D") else SADDLE
        th = np.asarray(theta, float)
        h = land.hessian(th)
        rows.append({"point": _point_name(name), "theta": th,
                     "grad_norm": float(np.linalg.norm(land.grad(th))),
                     "eigenvalues": hessian_eigen(h)[0], "kind": classify_critical_point(h)})
    return rows


# ----------------------------------------------------------------------------- noisy quadratic model
#: The batch size and β sliders of the NQM panel: the positions of the precomputed table.
NQM_BATCH = Options(nqm_model.BATCH_SIZES)
NQM_BETA = Options(nqm_model.BETAS[1:])


def _nqm_axes(fig, table):
    """Left: steps to the target against B (η tuned per B); right: steps against η/(1−β) at one B."""
    ax, ax2 = fig.subplots(1, 2, width_ratios=[1.15, 1])
    bs = table.batch_sizes
    best0 = table.best(0.0)[0]
    both = table.best_over_betas()[0]
    ax.loglog(bs, best0, "-o", ms=4, color=GD_COLOR, label=_("SGD (β = 0), η tuned"))
    a = {"mom": ax.loglog(bs, best0, "-s", ms=4, color=MOM_COLOR, label=_("momentum, η tuned"))[0]}
    ax.loglog(bs, both, "--", lw=1.2, color="k", label=_("η and β both tuned"))
    ax.loglog(bs, best0[0] / bs, ":", lw=1.2, color=COLORS["muted"], label=_("perfect scaling ∝ 1/B"))
    a["here0"], = ax.plot([], [], "o", ms=13, mfc="none", mec=GD_COLOR, mew=2)
    a["here"], = ax.plot([], [], "s", ms=13, mfc="none", mec=MOM_COLOR, mew=2)
    ax.set_xlabel(_("batch size B"))
    ax.set_ylabel(_("updates to E[L] ≤ 1 % of L(θ⁰)"))
    ax.set_ylim(8, 2e4)
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(_("η tuned for every B (momentum: the slider's β)"), fontsize=11)
    effs = table.eff_lrs
    a["cur0"], = ax2.loglog(effs, np.full(len(effs), np.nan), "-o", ms=3, color=GD_COLOR,
                            label=_("SGD (β = 0)"))
    a["cur"], = ax2.loglog(effs, np.full(len(effs), np.nan), "-s", ms=3, color=MOM_COLOR,
                           label=_("momentum"))
    a["best0"], = ax2.plot([], [], "o", ms=12, mfc="none", mec="k", mew=1.8)
    a["best"], = ax2.plot([], [], "s", ms=12, mfc="none", mec="k", mew=1.8)
    lim0 = table.stability_limit(0.0)
    ax2.axvline(lim0, color=GD_COLOR, ls=":", lw=1.5)
    ax2.text(lim0, 1.3e4, " 2/h_max", color=GD_COLOR, fontsize=8, va="top")
    a["lim"] = ax2.axvline(lim0, color=MOM_COLOR, ls=":", lw=1.5)
    a["lim_text"] = ax2.text(lim0, 1.3e4, "(2+2β)/(1−β)/h_max ", color=MOM_COLOR, fontsize=8, va="top",
                             ha="right")
    ax2.set_xlim(effs[0], effs[-1])
    ax2.set_ylim(8, 2e4)
    ax2.set_xlabel(_("effective step η/(1−β)"))
    ax2.set_ylabel(_("updates to the target"))
    ax2.legend(loc="lower left", fontsize=8)
    ax2.set_title(_("at the slider's B: updates against the effective step"), fontsize=11)
    return a


def _nqm_caption(b, beta, s0, e0, s1, e1, lim0, both, beta_best):
    def said(s, e, sgd, bb):
        if not np.isfinite(s):
            return _("SGD does not reach the target") if sgd else _("momentum does not reach the target")
        eta = e * (1 - bb)
        return (_("SGD {s:.0f} updates (best η/(1−β) = {e:.3g}, η = {eta:.3g})") if sgd else
                _("momentum {s:.0f} updates (best η/(1−β) = {e:.3g}, η = {eta:.3g})")).format(
            s=s, e=e, eta=eta)

    ratio = ""
    if np.isfinite(s0) and np.isfinite(s1):
        r = s0 / s1
        ratio = (_(": momentum needs {r:.2f}× fewer").format(r=r) if r >= 1.05 else
                 _(": momentum needs {r:.2f}× more").format(r=1 / r) if r <= 1 / 1.05 else
                 _(": about the same (ratio {r:.2f})").format(r=r))
    regime = ""
    if np.isfinite(e0):
        share = e0 / lim0
        where = (_("far below it: the noise, not the curvature, limits the step") if share < 0.25 else
                 _("at it: the curvature limits the step, and momentum's stable range η·h_max < 2 + 2β is "
                   "wider") if share >= 0.7 else _("between the two regimes"))
        regime = _(" SGD's best η is {share:.0f} % of its stability limit 2/h_max = {lim0:g}, "
                   "{where}.").format(share=100 * share, lim0=lim0, where=where)
    return _("Noisy quadratic model, B = {b}, β = {beta:g}, η tuned on a √2 grid: {sgd}, "
             "{mom}{ratio}.{regime} With β tuned too: {both:.0f} updates (β = {beta_best:g}).").format(
        b=b, beta=beta, sgd=said(s0, e0, True, 0.0), mom=said(s1, e1, False, beta), ratio=ratio,
        regime=regime, both=both, beta_best=beta_best)


@validate_params(batch_size=NQM_BATCH, beta=NQM_BETA)
def nqm_panel(batch_size=64, beta=0.9, *, table=None):
    """The noisy quadratic model (Zhang et al. 2019, :mod:`lecture_utils.nqm`): updates to an expected
    loss of 1 % of the start against B for SGD and momentum β, η tuned per B (left), and at the
    slider's B against the effective step η/(1−β), with both stability limits (right). Sliders B and β.
    Every number comes from one :func:`lecture_utils.nqm.steps_table` computed at construction (≈ 0.4 s),
    so a slider move reads the table. Notebook 05, deep dive "Momentum × batch size".
    """
    table = nqm_model.steps_table() if table is None else table
    fig = _figure((12, 4.0), left=0.07, right=0.98, wspace=0.28, bottom=0.14, top=0.88)
    a = _nqm_axes(fig, table)
    index = {int(b): k for k, b in enumerate(table.batch_sizes)}
    lim0 = table.stability_limit(0.0)
    both, beta_best = table.best_over_betas()

    def update(batch_size, beta):
        k = index[int(batch_size)]
        best0, eff0 = table.best(0.0)
        best1, eff1 = table.best(beta)
        a["mom"].set_ydata(best1)
        a["here0"].set_data([batch_size], [best0[k]])
        a["here"].set_data([batch_size], [best1[k]])
        a["cur0"].set_ydata(table.steps[0.0][k])
        a["cur"].set_ydata(table.steps[beta][k])
        a["best0"].set_data([eff0[k]], [best0[k]])
        a["best"].set_data([eff1[k]], [best1[k]])
        lim = table.stability_limit(beta)
        a["lim"].set_xdata([lim, lim])
        a["lim_text"].set_position((lim, 4e3))
        return _nqm_caption(batch_size, beta, best0[k], eff0[k], best1[k], eff1[k], lim0, both[k],
                            beta_best[k])

    controls = {"batch_size": widgets.slider("batch_size", NQM_BATCH, batch_size,
                                             description=_("batch size B")),
                "beta": widgets.slider("beta", NQM_BETA, beta, description=_("momentum β"))}
    # the titles are static (texts cost ~4 ms each to draw); B and β are in the caption
    dynamic = [a[k] for k in ("mom", "here0", "here", "cur0", "cur", "best0", "best", "lim", "lim_text")]
    return widgets.Panel(fig, update, controls, dynamic=dynamic,
                         title=_("noisy quadratic model: momentum × batch size"))


# ----------------------------------------------------------------------------- momentum × batch size (sweep)
def _ci_bar(ax, x, ci, color, marker, label):
    """A mean with its 95 % t-interval as an error bar (no bar for one value)."""
    half = 0.0 if not np.isfinite(ci.half) else ci.half
    ax.errorbar([x], [ci.mean], yerr=[[min(half, ci.mean * 0.999)], [half]], fmt=marker, ms=7, color=color,
                mfc="white", mew=2, capsize=4, lw=1.8, label=label, zorder=5)


def plot_momentum_batch(record):
    """The ``momentum_batch`` sweep (notebook 05, deep dive "Momentum × batch size"). Left: updates to the
    target loss at the best η of each (β, B, seed) — each seed a dot, mean ± 95 % t-interval — for SGD and
    momentum, with "perfect scaling" ∝ 1/B through SGD's smallest batch. Right: the speed-up
    S_SGD/S_momentum of each seed (same seed: same start and batches) and its mean ± 95 % t-interval.
    A B where a seed missed the target gets no mean (:func:`~lecture_utils.sweeps.momentum_batch.summary`)."""
    import matplotlib.pyplot as plt

    from ..sweeps.momentum_batch import summary

    p = record["params"]
    rows = summary(record)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12.5, 4.2), layout="constrained", width_ratios=[1.2, 1])
    bs = np.array([r["batch_size"] for r in rows], float)
    for name, color, marker, shift in (("sgd", GD_COLOR, "o", 0.94), ("mom", MOM_COLOR, "s", 1.06)):
        beta = rows[0][name]["beta"]
        means = []
        for r in rows:
            d = r[name]
            pts = [s for s in d["steps"] if s is not None]
            ax.plot([r["batch_size"] * shift] * len(pts), pts, ".", ms=5, color=color, alpha=0.6)
            means.append(np.nan if d["ci"] is None else d["ci"].mean)
            if d["ci"] is not None:
                _ci_bar(ax, r["batch_size"] * shift, d["ci"], color, marker,
                        (_("β = {beta:g} (SGD)") if beta == 0 else "β = {beta:g}").format(beta=beta)
                        if r is rows[0] else None)
        ax.plot(bs * shift, means, "-", color=color, lw=1.5, alpha=0.8)
    first = rows[0]["sgd"]["ci"]
    if first is not None:
        ax.plot(bs, first.mean * bs[0] / bs, ":", color=COLORS["muted"], lw=1.3,
                label=_("perfect scaling ∝ 1/B"))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(bs, [str(int(b)) for b in bs])
    ax.minorticks_off()
    ax.set_xlabel(_("batch size B (B = 4000: the full batch)"))
    ax.set_ylabel(_("updates to training loss {target:g}").format(target=p["target_loss"]))
    ax.set_title(_("η tuned for every (β, B, seed); {n} seeds, mean ± 95 % t-interval").format(
        n=len(p["seeds"])), fontsize=11)
    ax.legend(fontsize=9, loc="upper right")
    for r in rows:
        pts = [v for v in r["ratios"] if v is not None]
        ax2.plot([r["batch_size"] * 0.9] * len(pts), pts, "o", ms=5, color=MOM_COLOR, alpha=0.75,
                 label=_("one seed") if r is rows[0] else None)
        if r["ratio"] is not None:
            _ci_bar(ax2, r["batch_size"] * 1.1, r["ratio"], "k", "D",
                    _("mean ± 95 % t-interval") if r is rows[0] else None)
    ax2.axhline(1.0, color=COLORS["muted"], ls="--", lw=1.2)
    ax2.text(bs[0], 1.0, _(" momentum no faster"), va="bottom", fontsize=8, color=COLORS["muted"])
    ax2.set_xscale("log")
    ax2.set_xticks(bs, [str(int(b)) for b in bs])
    ax2.minorticks_off()
    ax2.set_xlabel(_("batch size B"))
    ax2.set_ylabel(_("speed-up  S_SGD / S_momentum"))
    ax2.set_title(_("dots: seeds; > 1: momentum (β = {beta:g}) needs fewer updates").format(
        beta=rows[0]["mom"]["beta"]), fontsize=11)
    ax2.legend(fontsize=9, loc="upper left")
    return fig


def plot_momentum_batch_heatmap(record):
    """The tuned grid of the ``momentum_batch`` sweep, one panel per β: for every (B, η/(1−β)) the median
    over the seeds of steps / (that seed's best at B) — measured exactly up to ``cap_factor`` × the best;
    beyond it "slower" (light grey) or diverged (dark grey, ×). Circles: the best cell of each B. Dotted:
    lines of constant η/B (the linear scaling rule η ∝ B). Right axis: η itself, η = (η/(1−β))·(1 − β)."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    from ..sweeps.momentum_batch import cell_ratios

    p = record["params"]
    cap = p["cap_factor"]
    fig, axes = plt.subplots(1, len(p["betas"]), figsize=(12.5, 4.3), layout="constrained", sharey=True)
    cmap = ListedColormap(plt.get_cmap("viridis_r")(np.linspace(0.0, 0.85, 256)))
    image = None
    for ax, beta in zip(np.atleast_1d(axes), p["betas"]):
        bs, effs, ratio, diverged = cell_ratios(record, beta)
        bs, effs = np.array(bs, float), np.array(effs, float)
        bx = np.sqrt(bs[:-1] * bs[1:])
        xe = np.r_[bs[0] ** 1.5 / bx[0] ** 0.5, bx, bs[-1] ** 1.5 / bx[-1] ** 0.5]
        ye = np.r_[effs / np.sqrt(2.0), effs[-1] * np.sqrt(2.0)]
        shown = np.where(np.isfinite(ratio), ratio, np.nan)
        slow = np.where(np.isfinite(ratio), np.nan, np.where(diverged >= 0.5, 0.0, 1.0))
        ax.pcolormesh(xe, ye, slow.T, cmap=ListedColormap(["#555555", "#dddddd"]), vmin=0, vmax=1)
        image = ax.pcolormesh(xe, ye, shown.T, cmap=cmap, vmin=1.0, vmax=cap)
        for i, b in enumerate(bs):
            for j, e in enumerate(effs):
                if not np.isfinite(ratio[i, j]) and diverged[i, j] >= 0.5:
                    ax.text(b, e, "×", ha="center", va="center", color="white", fontsize=9)
            j = int(np.argmin(ratio[i]))
            if np.isfinite(ratio[i, j]):
                ax.plot([b], [effs[j]], "o", ms=11, mfc="none", mec="white", mew=2)
        for c, ls in ((0.025 / 4, ":"), (0.025, "--"), (0.1, ":")):
            ax.plot(xe, c * xe, ls, color="k", lw=1.2)
        ax.grid(False)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(xe[0], xe[-1])
        ax.set_ylim(ye[0], ye[-1])
        ax.set_xticks(bs, [str(int(b)) for b in bs])
        ax.minorticks_off()
        ax.set_xlabel(_("batch size B"))
        ax.set_title((_("β = {beta:g} (SGD)") if beta == 0 else "β = {beta:g}").format(beta=beta),
                     fontsize=12)
        sec = ax.secondary_yaxis("right", functions=(lambda y, b=beta: y * (1 - b),
                                                     lambda y, b=beta: y / (1 - b)))
        sec.set_ylabel("η")
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    first = np.atleast_1d(axes)[0]
    first.set_ylabel(_("effective step η/(1−β)"))
    first.legend(handles=[Line2D([], [], ls="--", color="k", lw=1.2, label=_("η/B = const (η ∝ B)")),
                          Line2D([], [], ls="", marker="o", ms=9, mfc="none", mec="k", mew=2,
                                 label=_("best η of this B")),
                          Patch(facecolor="#dddddd",
                                label=_("slower than {cap:g}× the best (or {max_steps})").format(
                                    cap=cap, max_steps=p["max_steps"])),
                          Patch(facecolor="#555555", label=_("diverged (×)"))],
                 loc="lower right", fontsize=8, framealpha=0.95)
    cb = fig.colorbar(image, ax=axes, shrink=0.9)
    cb.set_label(_("updates ÷ the best at this B (1 = best; median of seeds)"))
    return fig


# ----------------------------------------------------------------------------- printed lines of notebook 05
def _yes(flag):
    """``True``/``False`` as printed (Chinese: 是/否)."""
    return _("True") if flag else _("False")


def paths_table(gd, mom, beta=0.9):
    """The table "t, gradient descent θᵗ, momentum θᵗ" of two 1-D paths ``gd`` and ``mom`` (arrays of
    positions θ⁰, θ¹, …), one row per step (notebook 05, "From gradient descent to momentum")."""
    gd = np.asarray(gd, float).reshape(len(gd), -1)[:, 0]
    mom = np.asarray(mom, float).reshape(len(mom), -1)[:, 0]
    head = (" t   " + _pad(_("gradient descent θᵗ"), 19, right=True) + "   "
            + _pad(_("momentum β = {beta:g} θᵗ").format(beta=beta), 19, right=True))
    return "\n".join([head] + [f"{t:2d}   {g:19.4f}   {m:19.4f}" for t, (g, m) in enumerate(zip(gd, mom))])


def _convention_name(name):
    return {"lecture": _("lecture"), "pytorch": _("pytorch"), "sutskever": _("sutskever"),
            "ema": _("ema")}.get(name, name)


def conventions_table(rows):
    """One line per row of :func:`lecture_utils.optim.compare_conventions`: the convention, its update rule,
    the step that gives the lecture's path and whether the path is the lecture's to 1e-12 (notebook 05,
    "One rule, four conventions")."""
    return "\n".join(
        _("{convention} {update} step {step:.2f}   same path to 1e-12: {same}").format(
            convention=_pad(_convention_name(r["convention"]), 16), update=_pad(r["update"], 34),
            step=r["step"], same=_yes(r["max_diff"] < 1e-12))
        for r in rows)


def schedule_report(demo):
    """Three lines on :func:`lecture_utils.optim.schedule_demo`: the two forms agree before the step drop,
    differ after it, and the lecture's form with Goyal et al.'s momentum correction follows PyTorch's path
    (notebook 05, "What breaks the equivalence: a changing learning rate")."""
    fix = np.max(np.abs(np.asarray(demo["corrected"]) - np.asarray(demo["pytorch"])))
    before = _("before the drop: the forms agree to 1e-12: {same}")
    fixed = _("lecture form with Goyal et al.'s momentum correction follows PyTorch's path to 1e-12: {same}")
    after = _("after the drop: they differ by up to {gap:.2f} in θ")
    return "\n".join([before.format(same=_yes(demo["gap"]["before"] < 1e-12)),
                      after.format(gap=demo["gap"]["after"]), fixed.format(same=_yes(fix < 1e-12))])


def nesterov_report(grad_fn, theta0, *, lr, beta, steps, at=30):
    """Three lines checking Nesterov momentum in float64: ``SGD(nesterov=True)``'s parameter is the
    look-ahead point θᵗ + β·mᵗ, its buffer −mᵗ/η, and the distance to the minimum after ``at`` steps of the
    lecture's momentum and of Nesterov's (notebook 05, "Nesterov momentum")."""
    from ..optim import nesterov_lookahead, torch_sgd_path

    tr = momentum_trace(grad_fn, theta0, lr=lr, beta=beta, steps=steps, nesterov=True)
    at = check_int("at", at, low=0, high=len(tr.theta) - 1)
    tpath, buf = torch_sgd_path(grad_fn, theta0, lr=lr, beta=beta, steps=steps, nesterov=True)
    heavy = momentum_path(grad_fn, theta0, lr=lr, beta=beta, steps=steps)
    return "\n".join([
        _("SGD(nesterov=True)'s parameter = θᵗ + β·mᵗ (to 1e-12): {same}").format(
            same=_yes(np.max(np.abs(nesterov_lookahead(tr) - tpath)) < 1e-12)),
        _("its buffer = −mᵗ/η (to 1e-12): {same}").format(
            same=_yes(np.max(np.abs(tr.movement + lr * buf)) < 1e-12)),
        _("distance to the minimum after {at} steps: lecture's momentum {heavy:.3f}, "
          "Nesterov {nesterov:.3f}").format(at=at, heavy=np.linalg.norm(heavy[at]),
                                            nesterov=np.linalg.norm(tr.theta[at]))])


def unrolled_report(trace, *, lr, beta):
    """Two lines: the unrolled sum −η Σ βᵏ·g equals the recursive movement of ``trace`` (a
    :func:`lecture_utils.optim.momentum_trace`), and the movements added head to tail give the path, both to
    1e-12 (notebook 05, "A weighted sum of past gradients")."""
    from ..optim import path_from_movements, unrolled_movement

    unrolled = unrolled_movement(trace.grad, lr=lr, beta=beta)
    rebuilt = path_from_movements(trace.theta[0], unrolled[1:])
    return "\n".join([
        _("unrolled sum = recursive movement (to 1e-12): {same}").format(
            same=_yes(np.max(np.abs(unrolled - trace.movement)) < 1e-12)),
        _("movements added head to tail = the path (to 1e-12): {same}").format(
            same=_yes(np.max(np.abs(rebuilt - trace.theta[1:])) < 1e-12))])


def landmarks_table(landscape=LOCAL_GLOBAL):
    """θ and L of the global minimum, the barrier and the local minimum of the 1-D loss, one line each
    (notebook 05, "Rolling past a local minimum")."""
    lines = []
    for name, th in ((_("global minimum"), landscape.global_min), (_("barrier"), landscape.barrier),
                     (_("local minimum"), landscape.local_min)):
        loss = np.round(landscape.loss(np.array([th])), 2) + 0.0
        lines.append(f"{_pad(name, 15)} θ = {th:5.2f}   L = {loss:5.2f}")
    return "\n".join(lines)


def critical_point_report():
    """The rows of :func:`critical_point_table` (|∇L|, Hessian eigenvalues, the verdict of
    :func:`lecture_utils.landscapes.classify_critical_point`) and the degenerate case L = θ₁² against
    L = θ₁² + θ₂³ at 0, whose Hessians agree (notebook 05, "The lecture's conclusion")."""
    from ..landscapes import classify_critical_point, hessian_eigen, kind_text

    lines = []
    for r in critical_point_table():
        lines.append(_("{point} |∇L| < 1e-9: {small}   Hessian eigenvalues [{eig}]  ->  {kind}").format(
            point=_pad(r["point"], 20), small=_yes(r["grad_norm"] < 1e-9),
            eig=", ".join(f"{v:.2f}" for v in r["eigenvalues"]), kind=kind_text(r["kind"])))
    h = np.diag([2.0, 0.0])   # the Hessian at θ = 0 of L = θ₁² (a minimum) and of L = θ₁² + θ₂³ (not one)
    lines.append(_("{point} |∇L| = 0 for both    Hessian eigenvalues [{eig}]  ->  {kind} (a minimum and a "
                   "non-minimum: the test cannot tell them apart)").format(
        point=_pad(_("θ₁², θ₁² + θ₂³ at 0"), 20), eig=", ".join(f"{v:.2f}" for v in hessian_eigen(h)[0]),
        kind=kind_text(classify_critical_point(h))))
    return "\n".join(lines)


def sensitivity_table(q, params, *, steps=1000):
    """α, β, the theoretical rate and the steps to an error below 10⁻³ and 10⁻⁸ of momentum on the quadratic
    ``q`` for each (α, β) of ``params``, a header and one line each (notebook 05, "Ill-conditioned quadratic":
    how sharp the optimum is)."""
    steps_to = _("steps to {tol}")
    head = ("   α      β      " + _pad(_("rate"), 9) + _pad(steps_to.format(tol="10⁻³"), 13, right=True)
            + "   " + _pad(steps_to.format(tol="10⁻⁸"), 13, right=True))
    lines = [head]
    for a, b in params:
        path = momentum_path(q.grad, (1.0, 1.0), lr=a, beta=b, steps=steps)
        rate = quad.theoretical_rate(a, b, q.eigenvalues)
        lines.append(f"{a:6.3f}  {b:5.3f}   {rate:.4f}   {quad.steps_to_tol(path, 1e-3):13d}   "
                     f"{quad.steps_to_tol(path, 1e-8):13d}")
    return "\n".join(lines)


def stability_report(q, betas=(0.0, 0.5, 0.9), *, steps=3000):
    """For each β the stability edge (2 + 2β)/λ_max of momentum on the quadratic ``q`` and whether 2 % below
    it converges and 2 % above it diverges, one line each (notebook 05, "Ill-conditioned quadratic")."""
    lines = []
    for beta in betas:
        edge = quad.stable_alpha_max(beta, q.eigenvalues)    # (2 + 2β)/λ_max
        ends = []
        for a in (0.98 * edge, 1.02 * edge):
            err = np.linalg.norm(momentum_path(q.grad, (1.0, 1.0), lr=a, beta=beta, steps=steps)[-1])
            end = _("η = {lr:.3f}: converges") if err < 1e-3 else _("η = {lr:.3f}: diverges")
            ends.append(end.format(lr=a))
        lines.append(f"β = {beta}: (2 + 2β)/λ_max = {edge:.2f};  " + ",  ".join(ends))
    return "\n".join(lines)
