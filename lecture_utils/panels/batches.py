"""Panels and figures of notebook 01 (batches and epochs); they only draw.

* :func:`index_map_panel` — which example falls in which batch, epoch after epoch, beside drawing
  with replacement (:func:`lecture_utils.data.batch_assignment`);
* :func:`toy_batch_panel`, :func:`toy_comparison` — batch vs full batch on the lecture's toy set (the
  numbers: :func:`lecture_utils.toy_sgd.toy_run`, re-exported here with ``largest_stable_lr``);
* :func:`accuracy_panel` — accuracy against batch size from the cached sweep ``batch_accuracy``;
* :func:`timing_figure` — time per update and per epoch against B;
* :func:`race_figure`, :func:`race_table` — the race of section 5 (training loss and test accuracy
  against wall-clock seconds, updates and epochs; the numbers: :mod:`lecture_utils.race`);
* :func:`mnist1d_figure` — a few MNIST-1D examples, one per class, before the data is first used;
* :func:`accuracy_figure` — the cached accuracy sweep as a static figure;
* :func:`live_button` and the plain functions it runs (:func:`measure_timing`, :func:`live_race`,
  :func:`one_lr_for_all`): nothing is timed or trained until the learner presses the button.
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .. import widgets
from .._validate import SEED, Interval, Options, check_batch_size, check_int, check_lr, validate_params
from ..data import N_TRAIN, batch_assignment, make_toy_regression, updates_per_epoch
from ..i18n import _, ngettext
from ..plotting import COLORS, batch_color, contour, set_status, status_text
from ..timing import pad
from ..toy_sgd import TOY_LR, TOY_THETA0, largest_stable_lr, toy_run  # noqa: F401  (re-exported)
from . import reads_sweep

#: The index map's sizes (N examples, epochs shown) and the toy panel's (N, epochs): declared once.
INDEX_N = Interval("int", 1, 1000)
INDEX_EPOCHS = Interval("int", 1, 20)
TOY_N = Interval("int", 2, 1000)
TOY_EPOCHS = Interval("int", 1, 100)


# ----------------------------------------------------------------------------- index map
#: Up to this N the index map writes each example's batch number into its cell.
INDEX_NUMBERS_UP_TO = 40


def _batches(n):
    """"1 batch", "3 batches" (as :func:`~lecture_utils.panels.noisy.plural`) in the output's language."""
    return ngettext("{n} batch", "{n} batches", n).format(n=n)


def _updates(n):
    return ngettext("{n} update", "{n} updates", n).format(n=n)


def _epochs(n):
    return ngettext("{n} epoch", "{n} epochs", n).format(n=n)



@validate_params(n_examples=INDEX_N, epochs=INDEX_EPOCHS, seed=SEED)
def index_map_panel(n_examples=20, batch_size=5, *, epochs=3, seed=0):
    """Which example falls in which batch over ``epochs`` epochs, beside sampling with replacement.

    Left: one colour per batch, and (N ≤ :data:`INDEX_NUMBERS_UP_TO`) the batch's number 1…⌈N/B⌉ written
    in each cell, so the map shows exactly the batches there are. Right: how often each example is drawn
    when every batch draws B examples with replacement (white = never seen)."""
    import matplotlib.patheffects as pe

    batch_size = check_batch_size(batch_size, n_examples)
    fig = Figure(figsize=(11, 3.6), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    shape = (epochs, n_examples)
    # a mesh of epochs × N cells (cheaper to redraw at 2x than an image resampled to the axes' pixels)
    im1 = ax1.pcolormesh(np.zeros(shape), cmap="tab20", vmin=-0.5, vmax=19.5)
    im2 = ax2.pcolormesh(np.zeros(shape), cmap="Blues", vmin=0, vmax=3)
    for ax in (ax1, ax2):
        ax.set_yticks(np.arange(epochs) + 0.5, [_("epoch {e}").format(e=e + 1) for e in range(epochs)])
        ax.invert_yaxis()  # epoch 1 on top
        ax.set_xlabel(_("example index i"))
        ticks = np.arange(0, n_examples, max(1, n_examples // 10))
        ax.set_xticks(ticks + 0.5, [str(t) for t in ticks])
        ax.grid(False)
        ax.title.set_fontsize(11)
    numbers = []
    if n_examples <= INDEX_NUMBERS_UP_TO:
        halo = [pe.withStroke(linewidth=2.5, foreground="white")]
        numbers = [ax1.text(i + 0.5, e + 0.5, "", ha="center", va="center", fontsize=9, color="k",
                            path_effects=halo) for e in range(epochs) for i in range(n_examples)]
    cb = fig.colorbar(im2, ax=ax2, shrink=0.9, ticks=[0, 1, 2, 3], pad=0.01)
    cb.ax.set_yticklabels([_("0 (unseen)"), "1", "2", "3+"])
    cb.set_label(_("times drawn in that epoch"), fontsize=9)
    cb.ax.tick_params(labelsize=9)

    def update(batch_size):
        a = batch_assignment(n_examples, batch_size, seed=seed, epochs=epochs)
        c = batch_assignment(n_examples, batch_size, seed=seed, epochs=epochs, replacement=True)
        k = updates_per_epoch(n_examples, batch_size)
        im1.set_array((a % 20).ravel())
        im2.set_array(np.asarray(c).ravel())
        for t, j in zip(numbers, a.ravel()):
            t.set_text(str(j + 1))
        which = ((_("colour and number = which batch, 1…{k}") if k > 1 else
                  _("colour and number = which batch, {k}")).format(k=k) if numbers else
                 _("colour = which of the {k} batches").format(k=k))
        ax1.set_title(_("shuffled: {batches} of B = {b} per epoch\n({which})").format(
            batches=_batches(k), b=batch_size, which=which))
        ax2.set_title(_("drawn with replacement: {batches} per 'epoch'\n(colour = times drawn)").format(
            batches=_batches(k)))
        unseen = (c == 0).sum(axis=1)
        repeated = (c > 1).sum(axis=1)
        last = n_examples - (k - 1) * batch_size
        rows = (_("each row holds its colour exactly {b} times").format(b=batch_size) if k == 1 else
                _("each row holds each of the {k} colours exactly {b} times").format(k=k, b=batch_size)
                if last == batch_size else
                ngettext("each row holds each of the first {k} colours exactly {b} times and the last one "
                         "{last} time (N mod B = {last})",
                         "each row holds each of the first {k} colours exactly {b} times and the last one "
                         "{last} times (N mod B = {last})", last).format(k=k - 1, b=batch_size, last=last))
        return _("B = {b}: each epoch is cut into {batches}; {rows}, and every example is used exactly once "
                 "per epoch, in a new order each epoch. Drawing {batches} with replacement instead leaves "
                 "{unseen} of {n} examples unseen and repeats {repeated} in epochs 1–{epochs}.").format(
            b=batch_size, batches=_batches(k), rows=rows, unseen=", ".join(map(str, unseen)), n=n_examples,
            repeated=", ".join(map(str, repeated)), epochs=epochs)

    return widgets.Panel(fig, update, {"batch_size": widgets.batch_size_slider(n_examples, batch_size)},
                         title=_("index map"), dynamic=[im1, im2, *numbers, ax1.title, ax2.title])


# ----------------------------------------------------------------------------- toy batch vs full
def _start_and_minimum(ax, star, *, with_labels=False):
    """The black start dot θ₀ and the star at the minimum θ*, drawn above the path (white edges)."""
    start, = ax.plot(*TOY_THETA0, marker="o", ms=10, color="k", mec="w", mew=1.5, ls="none", zorder=6,
                     label=_("start θ₀") if with_labels else None)
    minimum, = ax.plot(*star, marker="*", ms=20, color="gold", mec="k", mew=1.2, ls="none", zorder=6,
                       label=_("minimum θ* of the full loss") if with_labels else None)
    return start, minimum


@validate_params(lr=TOY_LR, epochs=TOY_EPOCHS, seed=SEED, n_examples=TOY_N)
def toy_batch_panel(batch_size=1, lr=0.1, *, epochs=5, seed=0, n_examples=20):
    """Trajectories of mini-batch SGD on the contour of the full loss (the lecture's N = 20 case); the
    numbers come from :func:`lecture_utils.toy_sgd.toy_run`. Sliders: B and η
    (:data:`~lecture_utils.toy_sgd.TOY_LR`)."""
    batch_size = check_batch_size(batch_size, n_examples)
    problem = make_toy_regression(n_examples)
    fig = Figure(figsize=(6.4, 5.0), layout="constrained")
    ax = fig.subplots()
    star = problem.minimizer()
    contour(ax, problem.loss, (-3.0, 4.0), (-3.5, 3.5), levels=18)
    line, = ax.plot([], [], "-o", ms=3, lw=1.2, color=COLORS["small"], label=_("mini-batch SGD path"),
                    zorder=3)
    # drawn after the path (blitting): always visible
    markers = _start_and_minimum(ax, star, with_labels=True)
    ax.set_xlabel("w")
    ax.set_ylabel("b")
    ax.legend(loc="lower right")
    msg = status_text(ax)

    def update(batch_size, lr):
        r = toy_run(problem, batch_size=batch_size, lr=lr, epochs=epochs, seed=seed)
        line.set_data(r["path"][:, 0], r["path"][:, 1])
        ax.set_title(_("B = {b}, η = {lr:.3g}: {updates} in {epochs}").format(
            b=batch_size, lr=lr, updates=_updates(r["updates"]), epochs=_epochs(epochs)))
        if r["diverged"]:
            set_status(msg, _("diverged: η = {lr:.3g} is too large for B = {b}").format(lr=lr, b=batch_size))
            return _("B = {b}, η = {lr:.3g}: the path <b>diverges</b> — a step overshoots the valley and "
                     "every later step overshoots further. Lower η.").format(b=batch_size, lr=lr)
        set_status(msg, None)
        kind = (_("full batch: one long, steady step per epoch (the lecture's 'long cooldown, powerful')")
                if batch_size == problem.n else
                _("mini-batches: many short, noisy steps per epoch ('short cooldown, noisy')"))
        return _("B = {b}, η = {lr:.3g}: {per_epoch} per epoch, {updates} in {epochs} — {kind}. Steps point "
                 "on average {angle:.0f}° away from the full gradient; full loss at the end {final:.3f} "
                 "(minimum {minimum:.3f}).").format(
            b=batch_size, lr=lr, per_epoch=_updates(r["updates_per_epoch"]), updates=r["updates"],
            epochs=_epochs(epochs), kind=kind, angle=r["mean_angle"], final=r["final_loss"],
            minimum=r["min_loss"])

    controls = {"batch_size": widgets.batch_size_slider(problem.n, batch_size),
                "lr": widgets.slider("lr", TOY_LR, lr, log=True, description=_("learning rate η"))}
    return widgets.Panel(fig, update, controls, title=_("batch vs full batch"),
                         dynamic=[line, *markers, ax.title, msg])


# ----------------------------------------------------------------------------- accuracy vs B (cache)
#: The accuracy panel's caption at the smallest cached batch size.
_SMALLEST = "the smallest batch makes the most updates"


def accuracy_intervals(record, key="test_acc"):
    """Per cached batch size, the 95 % t-interval (:func:`lecture_utils.stats.mean_ci`) of ``key``
    (test_acc / train_acc) over the seeds of the sweep ``batch_accuracy``: a list of MeanCI."""
    from .. import stats

    res = record["results"]
    return [stats.mean_ci([r[key] for r in res["runs"] if r["batch_size"] == b]) for b in res["batch_sizes"]]


@reads_sweep("batch_accuracy")
def accuracy_panel(record, batch_size=None):
    """Test accuracy curves per epoch for the cached runs; the slider picks a batch size. Error bars and
    the caption's ± are 95 % t-intervals over the seeds (:func:`accuracy_intervals`)."""
    if not isinstance(record, dict) or "results" not in record or "params" not in record:
        raise ValueError("record must be a cached sweep record: sweeps.load('batch_accuracy')")
    res = record["results"]
    sizes = res["batch_sizes"]
    if batch_size is not None and batch_size not in sizes:
        raise ValueError(f"batch_size must be one of the cached batch sizes {sizes}; got {batch_size!r}")
    epochs = record["params"]["epochs"]
    fig = Figure(figsize=(11, 4.0), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    lines = {}
    for b in sizes:
        runs = [r for r in res["runs"] if r["batch_size"] == b]
        acc = np.mean([r["history"]["test_acc"] for r in runs], axis=0)
        lines[b], = ax1.plot(runs[0]["history"]["epoch"], acc, color=COLORS["muted"], lw=1.2, alpha=0.6)
    ax1.set_xlabel(_("epoch"))
    ax1.set_ylabel(_("test accuracy"))
    ax1.set_ylim(0, 1)
    ax1.set_xlim(0, epochs)
    test_ci, train_ci = accuracy_intervals(record, "test_acc"), accuracy_intervals(record, "train_acc")
    ax2.errorbar(sizes, [c.mean for c in test_ci], yerr=[c.half for c in test_ci], fmt="-o",
                 color=COLORS["test"], label=_("test"), capsize=3)
    ax2.errorbar(sizes, [c.mean for c in train_ci], yerr=[c.half for c in train_ci], fmt="--o",
                 color=COLORS["train"], label=_("train"), capsize=3)
    mark, = ax2.plot([], [], "o", ms=16, mfc="none", mec="k", mew=2)
    ax2.set_xscale("log", base=2)
    ax2.set_xlabel(_("batch size B (log scale)"))
    ax2.set_ylabel(_("accuracy after {epochs} epochs").format(epochs=epochs))
    ax2.set_ylim(0, 1)
    ax2.legend()

    def update(batch_size):
        i = sizes.index(batch_size)
        for b, ln in lines.items():
            ln.set_color(COLORS["small"] if b == batch_size else COLORS["muted"])
            ln.set_linewidth(3 if b == batch_size else 1.2)
            ln.set_alpha(1 if b == batch_size else 0.5)
        mark.set_data([batch_size], [res["mean_test_acc"][i]])
        ax1.set_title(_("test accuracy per epoch, B = {b} highlighted").format(b=batch_size))
        ax2.set_title(_("η = {lr}; bars: 95 % t-interval, {n} seeds").format(
            lr=record["params"]["lr"], n=len(record["params"]["seeds"])))
        verdict = (_("larger batches make fewer updates and reach lower accuracy") if i else
                   _("the smallest batch makes the most updates"))
        return _("B = {b}: {per_epoch} per epoch, {total} in {epochs} epochs; test accuracy {test}, training "
                 "accuracy {train} ({label}). At the same epoch budget and η, {verdict}.").format(
            b=batch_size, per_epoch=_updates(res["updates_per_epoch"][i]),
            total=res["updates_per_epoch"][i] * epochs, epochs=epochs, test=test_ci[i].short(".3f"),
            train=train_ci[i].short(".3f"), label=test_ci[i].label, verdict=verdict)

    control = widgets.slider("batch_size", Options(tuple(sizes)), batch_size or sizes[1],
                             description=_("batch size B"))
    return widgets.Panel(fig, update, {"batch_size": control}, title=_("accuracy vs batch size (cached)"),
                         dynamic=[*lines.values(), mark, ax1.title, ax2.title])


# ----------------------------------------------------------------------------- static figures
def toy_comparison(batch_sizes=(1, 5, 20), *, lr=0.1, epochs=5, seed=0, n_examples=20):
    """Side-by-side paths for several batch sizes after the same number of epochs, and their numbers."""
    import matplotlib.pyplot as plt

    problem = make_toy_regression(n_examples)
    fig, axes = plt.subplots(1, len(batch_sizes), figsize=(4.2 * len(batch_sizes), 4.0), layout="constrained",
                             sharey=True)
    rows = []
    for ax, b in zip(np.atleast_1d(axes), batch_sizes):
        r = toy_run(problem, batch_size=b, lr=lr, epochs=epochs, seed=seed)
        contour(ax, problem.loss, (-3.0, 4.0), (-3.5, 3.5), levels=18)
        ax.plot(r["path"][:, 0], r["path"][:, 1], "-o", ms=3, lw=1.2, zorder=3,
                color=COLORS["full"] if b == problem.n else COLORS["small"])
        _start_and_minimum(ax, problem.minimizer(), with_labels=ax is np.atleast_1d(axes)[0])
        ax.set_title(_("B = {b}: {updates}").format(b=b, updates=_updates(r["updates"])))
        ax.set_xlabel("w")
        rows.append((b, r["updates_per_epoch"], r["updates"], r["final_loss"], r["mean_angle"]))
    np.atleast_1d(axes)[0].set_ylabel("b")
    np.atleast_1d(axes)[0].legend(loc="lower right", fontsize=9)
    fig.suptitle(_("{epochs} epochs of mini-batch SGD, η = {lr}, on the full loss of N = {n} examples")
                 .format(epochs=epochs, lr=lr, n=problem.n))
    return fig, rows


def toy_table(rows):
    """The numbers under :func:`toy_comparison`'s figure (notebook 01 §2): per batch size the updates per
    epoch, all updates, the full loss at the end and the mean angle of a step to −∇L."""
    head = [("B", 3), (_("updates/epoch"), 14), (_("updates"), 8), (_("full loss at end"), 17),
            (_("mean angle to −∇L"), 18)]
    lines = [" ".join(pad(text, width, right=True) for text, width in head)]
    lines += [f"{b:>3} {per_epoch:>14} {total:>8} {loss:>17.3f} {angle:>17.0f}°"
              for b, per_epoch, total, loss, angle in rows]
    return "\n".join(lines)


def tuned_lr_text(record):
    """Notebook 01 §4: with η tuned for every batch size (the ``tuned_lr`` cache, notebook 04 §2), each
    B's test accuracy at 100 % training accuracy minus that of the base B₀, with its paired 95 %
    t-interval over the seeds (:func:`lecture_utils.tuning.tuned_differences`)."""
    from ..tuning import tuned_differences

    b0 = record["params"]["base"]["batch_size"]
    lines = [_("η tuned for every batch size (notebook 04 §2): test accuracy at 100 % training accuracy, "
               "minus B = {b0}'s").format(b0=b0)]
    for d in tuned_differences(record):
        lines.append(_("  B = {b:>4} (η = {lr:g}) − B = {b0} (η = {lr0:g}): {diff:+.3f} ± {half:.3f} "
                       "({interval}, paired per seed)").format(
            b=d["batch_size"], lr=d["tuned"]["lr"], b0=b0, lr0=d["base"]["lr"], diff=d["diff"],
            half=d["ci"].half, interval=d["ci"].label))
    return "\n".join(lines)


def timing_figure(timing=None, cached=None):
    """Time per update and per epoch against batch size (log-log): a live
    :class:`~lecture_utils.timing.Timing` (``None``: none measured) beside the cached ``timing`` record."""
    import matplotlib.pyplot as plt

    if timing is None and cached is None:
        raise ValueError("timing_figure needs timing (a live Timing), cached (the 'timing' sweep record), "
                         "or both; got neither")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.0), layout="constrained")
    if timing is not None:
        ax1.loglog(timing.batch_sizes, np.asarray(timing.per_update) * 1e3, "-o", color=COLORS["small"],
                   label=_("{device}, measured now").format(device=timing.device))
        ax2.loglog(timing.batch_sizes, timing.per_epoch, "-o", color=COLORS["small"],
                   label=_("{device}, measured now").format(device=timing.device))
    if cached is not None:
        res = cached["results"]
        threads = res.get("machine", {}).get("threads", "?")
        style = dict(ls="--", color=COLORS["muted"]) if timing is not None else dict(
            ls="-", marker="o", color=COLORS["small"])
        name = _("cpu ({threads} threads), cached sweep").format(threads=threads)
        ax1.loglog(res["batch_sizes"], np.asarray(res["per_update_s"]) * 1e3, label=name, **style)
        ax2.loglog(res["batch_sizes"], res["per_epoch_s"], label=name, **style)
        if "cuda" in res:
            ax1.loglog(res["batch_sizes"], np.asarray(res["cuda"]["per_update_s"]) * 1e3, "-s",
                       color=COLORS["momentum"], label=_("GPU, cached sweep"))
            ax2.loglog(res["batch_sizes"], res["cuda"]["per_epoch_s"], "-s", color=COLORS["momentum"],
                       label=_("GPU, cached sweep"))
    n = timing.n_examples if timing is not None else N_TRAIN
    ax1.set_xlabel(_("batch size B"))
    ax1.set_ylabel(_("ms per update (lower is faster)"))
    ax1.set_title(_("one update (forward + backward + step)"))
    ax2.set_xlabel(_("batch size B"))
    ax2.set_ylabel(_("seconds per epoch (lower is faster)"))
    ax2.set_title(_("one epoch = ⌈{n}/B⌉ updates").format(n=n))
    ax1.legend()
    return fig


# ----------------------------------------------------------------------------- the race (section 5)
RACE_AXES = (("seconds", "training seconds (wall clock)"), ("steps", "updates k"), ("epochs", "epochs k·B/N"))


def _race_axis_labels():
    """:data:`RACE_AXES`' labels in the output's language."""
    return {"seconds": _("training seconds (wall clock)"), "steps": _("updates k"),
            "epochs": _("epochs k·B/N")}


def race_figure(runs, *, time_budget, n_examples=N_TRAIN, title=None):
    """Training loss (top) and test accuracy (bottom) against wall-clock seconds, updates and epochs,
    one colour per batch size; with several seeds the line is the mean and the band its 95 %
    t-interval across seeds (:func:`lecture_utils.race.curve_band`). ``runs`` are
    :class:`~lecture_utils.race.RaceRun`
    or their dicts (the ``time_to_accuracy`` cache's ``runs``)."""
    import matplotlib.pyplot as plt

    from ..race import curve_band

    runs = [r.as_dict() if hasattr(r, "as_dict") else r for r in runs]
    if not runs:
        raise ValueError("runs must hold at least one race run")
    sizes = sorted({r["batch_size"] for r in runs})
    fig, axes = plt.subplots(2, 3, figsize=(13, 6.6), layout="constrained", sharey="row")
    labels = _race_axis_labels()
    for col, (axis, _label) in enumerate(RACE_AXES):
        for b in sizes:
            rs = [r for r in runs if r["batch_size"] == b and r[axis]]
            if not rs:
                continue
            lo = min(min([v for v in r[axis] if v > 0], default=1e-3) for r in rs)
            hi = min(r[axis][-1] for r in rs)  # where every seed has data
            grid = np.geomspace(lo, max(hi, lo * 1.0001), 60)
            colour = batch_color(b, n_examples)
            name = (_("B = {b} (full), η = {lr:.3g}") if b == n_examples else "B = {b}, η = {lr:.3g}").format(
                b=b, lr=rs[0]["lr"])
            for row, key in enumerate(("train_loss", "test_acc")):
                mean, half = curve_band(rs, axis, key, grid)
                ax = axes[row, col]
                ax.plot(grid, mean, color=colour, lw=2, label=name if (row, col) == (0, 0) else None)
                if len(rs) > 1:
                    ax.fill_between(grid, mean - half, mean + half, color=colour, alpha=0.25, lw=0)
                if any(r["status"] == "diverged" for r in rs):
                    ax.plot(grid[-1], mean[-1], "x", color=colour, ms=10, mew=3)
        for row in range(2):
            axes[row, col].set_xscale("log")
        axes[1, col].set_xlabel(labels[axis])
    axes[0, 0].axvline(time_budget, color="k", lw=1, ls=":")
    axes[1, 0].axvline(time_budget, color="k", lw=1, ls=":")
    axes[0, 0].set_yscale("log")
    axes[0, 0].set_ylabel(_("training loss L(θ)"))
    axes[1, 0].set_ylabel(_("test accuracy"))
    axes[1, 0].set_ylim(0, 0.8)
    axes[0, 0].legend(fontsize=9, loc="lower left")
    seeds = sorted({r["seed"] for r in runs})
    band = (_("mean and 95 % t-interval over {n} seeds").format(n=len(seeds)) if len(seeds) > 1
            else _("one seed ({seed})").format(seed=seeds[0]))
    fig.suptitle(title or _("The race: {T:g} s of training for every batch size ({band})").format(
        T=time_budget, band=band))
    return fig


def race_table(runs, *, time_budget, targets=(0.5, 0.6)):
    """Rows (B, η and where it comes from, updates, epochs, final training loss, final and best test
    accuracy, seconds to each target) as text, each value the mean ± the half-width of its 95 %
    t-interval over the seeds (:class:`lecture_utils.race.SeedValues`; one seed: the value alone)."""
    from ..race import lr_source_text, summarize

    runs = [r.as_dict() if hasattr(r, "as_dict") else r for r in runs]
    summary = summarize(runs, time_budget=time_budget, targets=targets)
    seeds = sorted({r["seed"] for r in runs})
    head = (_("mean ± 95 % t-interval over seeds {seeds}").format(seeds=seeds) if len(seeds) > 1
            else _("one seed ({seed})").format(seed=seeds[0]))
    lines = [_("{head}; η tuned per B (critical_batch) unless the 'η from' column says otherwise").format(
                 head=head),
             " ".join(pad(h, w, right=True) for h, w in (
                 ("B", 5), ("η", 6), (_("η from"), 13), (_("updates"), 12), (_("epochs"), 12),
                 (_("train loss"), 15), (_("test acc"), 13), (_("best test acc"), 14))) + " "
             + " ".join(pad(_("s to {t:g}").format(t=t), 15, right=True) for t in targets)]
    for b, row in summary.items():
        cells = [f"{b:>5}", f"{row['lr']:>6.3g}", pad(lr_source_text(row["lr_source"]), 13, right=True),
                 f"{row['updates'].text('.0f'):>12}", f"{row['epochs'].text('.3g'):>12}",
                 f"{row['final_train_loss'].text('.3f'):>15}", f"{row['final_test_acc'].text('.3f'):>13}",
                 f"{row['best_test_acc'].text('.3f'):>14}"]
        for t in targets:
            reached = row[f"reached_{t:g}"]
            some = "" if reached == row["n_seeds"] else f" ({reached}/{row['n_seeds']})"
            cell = _("never") if not reached else row[f"seconds_to_{t:g}"].text(".2f") + some
            cells.append(pad(cell, 15, right=True))
        lines.append(" ".join(cells))
    return "\n".join(lines)


# ----------------------------------------------------------------------------- MNIST-1D, accuracy (static)
def mnist1d_figure(data=None, *, per_class=1):
    """``per_class`` training examples of each of MNIST-1D's 10 classes (the first ones in the training
    set), each a curve of 40 points, one small axes per class. Returns ``(fig, picked)`` with the indices
    drawn, one list per class."""
    import matplotlib.pyplot as plt

    from ..data import load_mnist1d

    per_class = int(per_class)
    if per_class < 1:
        raise ValueError(f"per_class must be at least 1; got {per_class!r}")
    data = load_mnist1d() if data is None else data
    classes = np.unique(data.y_train)
    fig, axes = plt.subplots(2, (len(classes) + 1) // 2, figsize=(11, 3.6), sharex=True, sharey=True,
                             layout="constrained")
    picked = []
    for ax, c in zip(axes.ravel(), classes):
        idx = np.flatnonzero(data.y_train == c)[:per_class]
        picked.append(idx.tolist())
        for i in idx:
            ax.plot(np.arange(data.x_train.shape[1]), data.x_train[i], color=COLORS["small"], lw=1.5)
        ax.set_title(_("class {c}").format(c=c), fontsize=10)
        ax.tick_params(labelsize=8)
    for ax in axes[-1]:
        ax.set_xlabel(_("position (of 40)"), fontsize=9)
    for ax in axes[:, 0]:
        ax.set_ylabel(_("value"), fontsize=9)
    examples = ngettext("{n} training example", "{n} training examples", per_class).format(n=per_class)
    fig.suptitle(_("MNIST-1D: {examples} per class ({n_train} for training, {n_test} for testing)").format(
        examples=examples, n_train=data.n_train, n_test=len(data.y_test)), fontsize=11)
    return fig, picked


def accuracy_figure(record):
    """The cached sweep ``batch_accuracy`` without a slider: test accuracy per epoch, one colour per batch
    size (left), and train and test accuracy at the end against B with 95 % t-intervals (right)."""
    import matplotlib.pyplot as plt

    if not isinstance(record, dict) or "results" not in record or "params" not in record:
        raise ValueError("record must be a cached sweep record: sweeps.load('batch_accuracy')")
    res, params = record["results"], record["params"]
    sizes, epochs = res["batch_sizes"], params["epochs"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.0), layout="constrained")
    ends = {}
    for b in sizes:
        runs = [r for r in res["runs"] if r["batch_size"] == b]
        acc = np.mean([r["history"]["test_acc"] for r in runs], axis=0)
        ax1.plot(runs[0]["history"]["epoch"], acc, color=batch_color(b, N_TRAIN), lw=2, label=f"B = {b}")
        ends[b] = (runs[0]["history"]["epoch"][-1], float(acc[-1]))
    label_y = float("inf")
    for b in sorted(ends, key=lambda k: -ends[k][1]):   # labels at the lines' ends, at least 0.05 apart
        x, y = ends[b]
        label_y = min(y, label_y - 0.05)
        ax1.annotate(f"B = {b}", (x, y), xytext=(x + 0.25, label_y), va="center", fontsize=9,
                     color=batch_color(b, N_TRAIN))
    ax1.set_xlabel(_("epoch"))
    ax1.set_ylabel(_("test accuracy (higher is better)"))
    ax1.set_ylim(0, 1)
    ax1.set_xlim(0, epochs * 1.18)   # room for the labels at the lines' ends
    ax1.set_xticks(np.arange(0, epochs + 1, 2))
    ax1.set_title(_("test accuracy per epoch (mean of {n} seeds)").format(n=len(params["seeds"])))
    test_ci, train_ci = accuracy_intervals(record, "test_acc"), accuracy_intervals(record, "train_acc")
    ax2.errorbar(sizes, [c.mean for c in test_ci], yerr=[c.half for c in test_ci], fmt="-o",
                 color=COLORS["test"], label=_("test"), capsize=3)
    ax2.errorbar(sizes, [c.mean for c in train_ci], yerr=[c.half for c in train_ci], fmt="--o",
                 color=COLORS["train"], label=_("train"), capsize=3)
    ax2.set_xscale("log", base=2)
    ax2.set_xticks(sizes, [str(b) for b in sizes])
    ax2.minorticks_off()
    ax2.set_xlabel(_("batch size B (log scale)"))
    ax2.set_ylabel(_("accuracy after {epochs} epochs (higher is better)").format(epochs=epochs))
    ax2.set_ylim(0, 1)
    ax2.legend(loc="upper right")
    ax2.set_title(_("η = {lr}; bars: 95 % t-interval, {n} seeds").format(lr=params["lr"],
                                                                          n=len(params["seeds"])))
    return fig


# ----------------------------------------------------------------------------- live parts, behind a button
def _button_label(label):
    """The labels the notebooks give their buttons, in the output's language (others unchanged)."""
    known = {"Measure on this machine": _("Measure on this machine"),
             "Train on this machine": _("Train on this machine"),
             "Race on this machine": _("Race on this machine"),
             "Run on this machine": _("Run on this machine")}
    return known.get(label, label)


def live_button(run, *, label="Measure on this machine", note=""):
    """A button that calls ``run()`` (which prints and draws) into an Output below it; nothing runs until
    it is pressed, so a notebook run top to bottom or the app shows only the cached results. While it
    runs the button is disabled; an error is shown in the output, never raised into the page. Returns
    the VBox (its ``button`` and ``output`` attributes are the two widgets; tests press
    ``box.button.click()``)."""
    import ipywidgets as W

    if not callable(run):
        raise ValueError(f"run must be a function without arguments; got {run!r}")
    button = W.Button(description=_button_label(label), icon="play", button_style="primary",
                      layout=W.Layout(width="auto"))
    output = W.Output()
    parts = [button] + ([W.HTML(f"<i>{note}</i>")] if note else []) + [output]

    def press(_click):
        button.disabled = True
        output.clear_output()
        with output:
            try:
                run()
            except Exception as exc:  # noqa: BLE001  (a failed measurement is reported, not raised)
                print(_("the measurement failed: {kind}: {exc}").format(kind=type(exc).__name__, exc=exc))
            finally:
                button.disabled = False

    button.on_click(press)
    box = W.VBox(parts)
    box.button, box.output, box.press = button, output, press
    return box


def _show(fig):
    import matplotlib.pyplot as plt

    plt.show()
    plt.close(fig)


def measure_timing(batch_sizes=None, *, repeats=15, cached=None, data=None, show=True):
    """Notebook 01 §3, live: time one update on this machine (:func:`lecture_utils.timing.time_per_update`,
    with a progress bar), print :func:`lecture_utils.timing.live_report` and draw :func:`timing_figure`
    beside ``cached`` (default: the ``timing`` cache). Returns the :class:`~lecture_utils.timing.Timing`."""
    from tqdm.auto import tqdm

    from .. import sweeps
    from ..timing import LIVE_BATCH_SIZES, live_report, time_per_update

    cached = sweeps.load("timing") if cached is None else cached
    sizes = LIVE_BATCH_SIZES if batch_sizes is None else batch_sizes
    timing = time_per_update(list(sizes), repeats=repeats, data=data,
                             progress=lambda xs: tqdm(xs, desc=_("timing one update per B")))
    print("\n".join(live_report(timing, cached)))
    if show:
        _show(timing_figure(timing, cached))
    return timing


def live_race(time_budget=0.5, *, seeds=(0,), batch_sizes=None, data=None, show=True):
    """Notebook 01 §5, live: the race for ``time_budget`` seconds per batch size on this machine (progress
    bar), its figure and table, and the machine's load around it. Returns the runs."""
    from ..race import RACE_BATCH_SIZES, machine_load, race

    load_before, cpus = machine_load()
    runs = race(RACE_BATCH_SIZES if batch_sizes is None else batch_sizes, time_budget=time_budget,
                seeds=seeds, data=data)
    load_after, _cpus = machine_load()
    if show:
        title = _("Live race on this machine: {T:g} s of training per batch size, seed {seeds}").format(
            T=time_budget, seeds=", ".join(map(str, seeds)))
        _show(race_figure(runs, time_budget=time_budget, title=title))
    print(race_table(runs, time_budget=time_budget))
    load = max(load_before, load_after)
    print((_("\nload average {load:.1f} on {cpus} CPUs — ⚠ the machine is busy: these times are distorted; "
             "compare with the cached race") if load > cpus else
           _("\nload average {load:.1f} on {cpus} CPUs — quiet enough for a rough picture")).format(
        load=load, cpus=cpus))
    return runs


def one_lr_for_all(batch_sizes=(32, 128, 1000), *, lr=0.1, epochs=2, seed=0, data=None):
    """Notebook 01 §4, live: a few short runs at one η for every batch size, then B = 1 at that η and at
    η/32 (B = 32's η/B). B = 1 at η = 0.1 is so erratic that its accuracy depends on the CPU's last bits,
    so only its comparison with B = 32 is printed. Returns ``{B: TrainResult}`` of the first runs."""
    from tqdm.auto import tqdm

    from ..data import load_mnist1d
    from ..train import TRAIN_CONSTRAINTS, train_classifier

    # checked before the header is printed (train_classifier checks them too, but only later)
    lr = check_lr(lr)
    epochs = check_int("epochs", epochs, low=TRAIN_CONSTRAINTS["epochs"].low)
    seed = TRAIN_CONSTRAINTS["seed"].check("seed", seed)
    data = load_mnist1d() if data is None else data
    print(_("η = {lr:g} for every batch size, {epochs}, seed {seed}:").format(
        lr=lr, epochs=_epochs(epochs), seed=seed))
    fixed = {}
    for b in tqdm(list(batch_sizes) + [1, 1], desc=_("training")):
        if b != 1:
            r = fixed[b] = train_classifier(data, batch_size=b, lr=lr, seed=seed, epochs=epochs)
            print(_("  B = {b:>4}: {steps:>4} updates → train accuracy {train:.2f}, test accuracy {test:.2f}")
                  .format(b=b, steps=r.steps, train=r.train_acc, test=r.test_acc))
        elif "noisy" not in fixed:
            noisy = fixed["noisy"] = train_classifier(data, batch_size=1, lr=lr, seed=seed, epochs=epochs)
            ref = fixed.get(32)
            line = (_("  B =    1: {steps} updates → train accuracy  B = 32's (its exact value depends on "
                      "the CPU)") if ref is None else
                    _("  B =    1: {steps} updates → train accuracy below B = 32's (its exact value depends "
                      "on the CPU)") if noisy.train_acc < ref.train_acc else
                    _("  B =    1: {steps} updates → train accuracy NOT below B = 32's (its exact value "
                      "depends on the CPU)"))
            print(line.format(steps=noisy.steps))
        else:
            r = train_classifier(data, batch_size=1, lr=lr / 32, seed=seed, epochs=epochs)
            print(_("B = 1 at η = {lr:g}/32 (B = 32's η/B): {steps} updates → train accuracy {train:.2f}, "
                    "test accuracy {test:.2f}").format(lr=lr, steps=r.steps, train=r.train_acc,
                                                       test=r.test_acc))
    fixed.pop("noisy", None)
    return fixed
