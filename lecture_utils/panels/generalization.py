"""Notebook 03 ("Large batches generalize worse"): figures and panels; they only draw.

* :func:`gap_table` / :func:`gap_figure` — train and test accuracy (mean ± 95 % t-interval over seeds)
  per batch size from the cached sweep ``generalization`` (section 1);
* :func:`batch_size_panel` — a slider over the cached batch sizes (curves, final accuracies,
  sharpness; nothing trains on slide) with a button that reruns the selected B live (section 1);
* :func:`flat_sharp_panel` — the lecture's flat and sharp minimum with a shifted test loss
  (section 2; :func:`lecture_utils.sharpness.flat_sharp_loss`);
* :func:`sharpness_figure` — λ_max (section 3) and ε-sharpness (deep dive "Computing sharpness") against B;
* :func:`interpolation_figure` — Keskar's figure 3 from
  :func:`lecture_utils.sharpness.interpolation_curve` (deep dive "The line between two solutions");
* :func:`matched_table`, :func:`matched_figure`, :func:`stability_figure` — sharpness at one matched
  training loss and against the edge of stability 2/η, from the cached sweep ``sharpness_matched``
  (the deep dives "Sharpness at a matched training loss" and "The edge of stability").
* :func:`trajectory_table`, :func:`trajectory_figure` — λ_max along gradient descent and SGD against 2/η
  (deep dive "Sharpness during training", sweep ``sharpness_trajectory``; Cohen et al. 2021, fig. 1);
* :func:`noise_table`, :func:`noise_figure` — a large batch given the small batch's gradient noise (deep
  dive "Does noise cause flatness?", sweep ``noise_injection``).

Every ± is a 95 % t-interval over seeds from :mod:`lecture_utils.stats` (``mean_ci``; the gap of section 1
as a paired interval, :func:`gap_interval`).

The cached sweeps are read by their declared keys (``sweeps.generalization.batch_key``; the
``key`` of each ``sharpness_matched`` config). The exercises' checks are in :mod:`lecture_utils.checks`.
"""
from __future__ import annotations

import numpy as np

from .. import plotting, sharpness, stats, widgets
from .._validate import Interval, Options, validate_params
from ..data import N_TRAIN
from ..i18n import _, display_width
from ..sweeps.generalization import batch_key
from ..sweeps.sharpness_matched import config_key
from ..timing import pad
from ..widgets import Panel
from . import reads_sweep

#: δ of :func:`flat_sharp_panel`: its slider's range.
FLAT_SHARP_SHIFT = Interval("real", 0.0, 1.0)


def _gap_results(record):
    """The results of the sweep ``generalization`` (a record from ``sweeps.load``, or its results)."""
    if not isinstance(record, dict) or "results" not in record and "summary" not in record:
        raise ValueError("record must be the dict returned by sweeps.load('generalization')")
    return record.get("results", record)


def _summary_of(res, b):
    """The summary row (means and stds over the seeds) of batch size ``b`` in the gap sweep."""
    return res["summary"][batch_key(b)]


def _runs_of(res, b):
    """The cached runs (one per seed) of batch size ``b`` in the gap sweep."""
    return res["runs"][batch_key(b)]


def _matched_row(res, config):
    """The summary row (means and 95 % t-interval half-widths over the seeds) of one ``(B, η)``
    configuration of the sweep ``sharpness_matched``."""
    return res["summary"][config_key(config["batch_size"], config["lr"])]


def _batch_label(b, n=N_TRAIN):
    return _("full batch") if b == n else f"B = {b}"


def _col(text, width):
    """``text`` right-aligned in a table column of ``width`` columns (for ASCII and Greek text this is
    ``f"{text:>{width}}"``; a wide character counts as two)."""
    return pad(text, width, right=True)


def _header(columns):
    """A table's header line from ``(text, width)`` pairs, columns one space apart, each text right-aligned
    to its column's end: in English ``" ".join(f"{t:>{w}}" ...)``; a translated text wider than its column
    takes the room it needs from the spaces on its left, and the next column is back in line."""
    out, end = "", 0
    for i, (text, width) in enumerate(columns):
        end += width + (1 if i else 0)
        out += " " * max(end - display_width(out) - display_width(text), 1 if i else 0) + text
    return out


# ----------------------------------------------------------------------------- section 1
def gap_table(record):
    """The gap protocol as a text table: one row per B with the seeds that reached the criterion, mean
    epochs and updates, training loss and accuracy (means), and the test accuracy, λ_max and
    ε-sharpness as mean ± 95 % t-interval over the seeds (:func:`lecture_utils.stats.mean_ci`); a last
    line says what ± is and the test set's own sampling error. Section 1."""
    res = _gap_results(record)
    n_seeds = max(len(_runs_of(res, b)) for b in res["batch_sizes"])
    head = [("B", 5), (_("reached"), 7), (_("epochs"), 6), (_("updates"), 7), (_("train loss"), 10),
            (_("train acc"), 9), (_("test acc"), 15), ("λ_max", 13), (_("ε-sharp %"), 13)]
    lines = [_header(head)]
    for b in res["batch_sizes"]:
        s = _summary_of(res, b)
        lines.append(f"{b:>5} {s['reached']:>4}/{s['n_seeds']:<2} {s['epochs_mean']:>6.0f} "
                     f"{s['steps_mean']:>7.0f}"
                     f" {s['train_loss_mean']:>10.3f} {s['train_acc_mean']:>9.3f}"
                     f" {_ci(res, b, 'test_acc').short('.3f'):>15}"
                     f" {_ci(res, b, 'top_eigenvalue').short('.2f'):>13}"
                     f" {_ci(res, b, 'eps_sharpness').short('.1f'):>13}")
    acc = _summary_of(res, res["gap"]["sb"])["test_acc_mean"]
    n_test = _n_test()
    lines.append(_("± : 95 % t-interval over {n_seeds} seeds (seed-to-seed spread). Each test accuracy is "
                   "also measured on only {n_test:,} test examples: binomial s.e. ≈ {se:.3f} at {acc:.2f}.")
                 .format(n_seeds=n_seeds, n_test=n_test, se=stats.binomial_se(acc, n_test), acc=acc))
    return "\n".join(lines)


def gap_figure(record):
    """Train and test accuracy at the end of each run against B (log axis), mean ± 95 % t-interval over
    seeds; the title gives the gap B = sb − B = lb as a paired interval (same seeds, same test set)."""
    import matplotlib.pyplot as plt

    res = _gap_results(record)
    bs = np.array(res["batch_sizes"])
    fig, ax = plt.subplots(figsize=(8, 4))
    for key, label, color, marker in (("train_acc", _("train accuracy"), plotting.COLORS["train"], "o"),
                                      ("test_acc", _("test accuracy"), plotting.COLORS["test"], "s")):
        m = np.array([_summary_of(res, b)[f"{key}_mean"] for b in bs])
        s = np.array([_ci(res, b, key).half for b in bs])
        ax.errorbar(bs, m, yerr=s, color=color, marker=marker, capsize=4, label=label)
    g = res["gap"]
    ax.axvspan(g["lb"] * 0.8, g["lb"] * 1.25, color=plotting.COLORS["muted"], alpha=0.15)
    ax.set_xscale("log")
    ax.set_xticks(bs, [str(b) for b in bs])
    ax.set_xlabel(_("batch size B (one learning rate for all)"))
    ax.set_ylabel(_("accuracy at the end of the run"))
    ax.set_ylim(0.4, 1.02)
    d = gap_interval(res)
    ax.set_title(_("One η for every B. Test accuracy B={sb} − B={lb} = {diff}\n"
                   "(paired 95 % t-interval, {n} seeds; error bars: 95 % t-intervals)")
                 .format(sb=g["sb"], lb=g["lb"], diff=d.short(".3f"), n=d.n), fontsize=11)
    ax.legend(loc="lower left")
    fig.tight_layout()
    return fig


class RerunPanel(Panel):
    """A :class:`Panel` with one extra button that reruns the selected batch size live.

    The button is wired only in the live widget; executing the notebook never presses it.
    :meth:`rerun` is what the button calls (tests call it directly).
    """

    def __init__(self, *args, rerun, **kwargs):
        self._rerun_fn = rerun
        self._extra = None
        super().__init__(*args, **kwargs)

    @property
    def widget(self):
        box = super().widget
        if self._extra is None:
            import ipywidgets as w

            button = w.Button(description=_("rerun this B live"), icon="play",
                              tooltip=_("train the selected batch size again, seed 0, with a progress bar"))
            out = w.Output()
            button.on_click(self._on_click)
            self._extra = (button, out)
            box.children = tuple(box.children) + (button, out)
        return box

    def _on_click(self, _button):
        button, out = self._extra
        button.disabled = True
        try:
            out.clear_output()
            with out:                       # only the progress bar goes here, while the run lasts
                self.rerun(progress=True)
            out.clear_output()              # the bar of a run that stopped early must not stay (at 36 %)
            self._image.value = self._png   # the result is in the picture and in the caption
            self._caption.value = self._caption_html()
        finally:
            button.disabled = False

    def rerun(self, progress=False):
        """Train the selected batch size again (seed 0) and draw it over the cached curves.

        The picture is drawn the same way as every slider update (:meth:`Panel._render`): the
        panel's dynamic artists are *animated*, so a plain ``savefig`` would leave them out — the
        left axes, curves included, would come out blank.
        """
        import time

        t0 = time.perf_counter()
        self.caption = self._rerun_fn(progress=progress, **self.values())
        self._png = self._render()
        self.last_seconds = time.perf_counter() - t0
        return self.caption


def _batch_size_figure(res, n_seeds):
    """The static part of the cached-runs picture (right: final accuracies against B) and its dynamic
    artists (left: one train and one test curve per seed, the live rerun, the legends, the marker)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    bs = list(res["batch_sizes"])
    fig = Figure(figsize=(11, 4))
    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1]})
    train_lines = [ax.plot([], [], color=plotting.COLORS["train"], alpha=0.8, lw=1.5,
                           label=_("train") if i == 0 else None)[0] for i in range(n_seeds)]
    test_lines = [ax.plot([], [], color=plotting.COLORS["test"], alpha=0.8, lw=1.5, ls="--",
                          label=_("test") if i == 0 else None)[0] for i in range(n_seeds)]
    live = [ax.plot([], [], color="k", lw=2.5, ls=ls, label=lab)[0]
            for ls, lab in (("-", _("live rerun (seed 0)")), ("--", None))]
    ax.set_xlabel(_("epoch"))
    ax.set_ylabel(_("accuracy"))
    ax.set_ylim(0, 1.02)
    ax.set_yticks([0.0, 0.25, 0.5, 0.75, 1.0])
    # two legends made once; the update shows the one with "live rerun" only when a rerun is drawn
    legends = {True: ax.legend(handles=[train_lines[0], test_lines[0], live[0]], loc="lower right",
                               fontsize=9),
               False: ax.legend(handles=[train_lines[0], test_lines[0]], loc="lower right", fontsize=9)}
    status = plotting.status_text(ax)
    means = np.array([_summary_of(res, b)["test_acc_mean"] for b in bs])
    ses = np.array([_ci(res, b, "test_acc").half for b in bs])
    ax2.errorbar(bs, means, yerr=ses, color=plotting.COLORS["test"], marker="s", capsize=4, label=_("test"))
    ax2.plot(bs, [_summary_of(res, b)["train_acc_mean"] for b in bs], color=plotting.COLORS["train"],
             marker="o", label=_("train"))
    sel = ax2.plot([], [], "o", ms=16, mfc="none", mec="k", mew=2)[0]
    ax2.set_xscale("log")
    ax2.set_xticks(bs, [str(b) for b in bs])
    ax2.set_xlabel(_("batch size B"))
    ax2.set_ylabel(_("final accuracy (mean ± 95 % CI)"))
    ax2.set_ylim(0.4, 1.02)
    ax2.minorticks_off()
    ax2.set_yticks([0.4, 0.6, 0.8, 1.0])
    ax.xaxis.set_major_locator(MaxNLocator(5, integer=True))     # few tick labels: text is what costs
    ax2.text(0.03, 0.04, _("blue: train   red: test"), transform=ax2.transAxes, fontsize=9)
    ax.set_title("B")
    fig.tight_layout()              # once: a layout engine would cost time at every redraw
    return fig, ax, {"train": train_lines, "test": test_lines, "live": live, "legends": legends,
                     "status": status, "sel": sel}


def _describe_batch_size(res, b, n, lr):
    """The caption of one cached batch size: seeds that reached 100 % training accuracy, epochs and
    updates, test accuracy (mean ± 95 % t-interval) beside the small batch's, λ_max and ε-sharpness."""
    s = _summary_of(res, b)
    sb = _summary_of(res, res["gap"]["sb"])
    reached = (_("all {n} seeds reached 100 % training accuracy").format(n=s["n_seeds"])
               if s["reached"] == s["n_seeds"]
               else _("{reached} of {n} seeds reached 100 % training accuracy "
                      "(training accuracy {acc:.3f} at the budget)")
               .format(reached=s["reached"], n=s["n_seeds"], acc=s["train_acc_mean"]))
    ref = ("" if b == res["gap"]["sb"]
           else _(" (B = {sb}: {acc:.3f})").format(sb=res["gap"]["sb"], acc=sb["test_acc_mean"]))
    return _("{label}: {reached} after {epochs:.0f} epochs ({steps:.0f} updates) at η = {lr:g}; "
             "test accuracy {test}{ref}; top Hessian eigenvalue {lam}, ε-sharpness {eps} % at the stop "
             "(training loss {loss:.3f}).").format(
        label=_batch_label(b, n), reached=reached, epochs=s["epochs_mean"], steps=s["steps_mean"], lr=lr,
        test=_ci(res, b, "test_acc").format(".3f"), ref=ref, lam=_ci(res, b, "top_eigenvalue").short(".1f"),
        eps=_ci(res, b, "eps_sharpness").short(".1f"), loss=s["train_loss_mean"])


def _draw_seed_curves(art, runs):
    """Training and test accuracy against epochs, one pair of curves per cached seed; the last epoch."""
    xmax = 1.0
    for i, (train, test) in enumerate(zip(art["train"], art["test"])):
        if i < len(runs):
            h = runs[i]["history"]
            train.set_data(h["epoch"], h["train_acc"])
            test.set_data(h["epoch"], h["test_acc"])
            xmax = max(xmax, h["epoch"][-1])
        else:
            train.set_data([], [])
            test.set_data([], [])
    return xmax


@reads_sweep("generalization")
def batch_size_panel(record, params=None):
    """Slider over the cached batch sizes: training/test accuracy against epochs for every seed,
    final test accuracy and λ_max against B; the caption states the numbers of the selected B.

    Moving the slider only switches among cached runs. The button "rerun this B live" calls
    ``train_classifier(progress=True)`` with the sweep's settings (seed 0) and overlays the new run.
    ``params`` defaults to ``record["params"]``. Notebook 03, section 1.
    """
    from ..sweeps import generalization as sweep

    res = _gap_results(record)
    params = record.get("params", sweep.PARAMS) if params is None else params
    bs = list(res["batch_sizes"])
    n = bs[-1]
    fig, ax, art = _batch_size_figure(res, max(len(_runs_of(res, b)) for b in bs))
    state = {"live": None}

    def update(batch_size):
        b = int(batch_size)
        runs = _runs_of(res, b)
        xmax = _draw_seed_curves(art, runs)
        lv = state["live"]
        show_live = lv is not None and lv["batch_size"] == b
        for line, key in zip(art["live"], ("train_acc", "test_acc")):
            line.set_data((lv["history"]["epoch"], lv["history"][key]) if show_live else ([], []))
        ax.legend_ = art["legends"][show_live]
        if show_live:
            xmax = max(xmax, lv["history"]["epoch"][-1])
        ax.set_xlim(0, xmax * 1.02)
        ax.set_title(_("{label}, η = {lr:g}: {n} seeds").format(label=_batch_label(b, n), lr=params["lr"],
                                                                n=len(runs)))
        art["sel"].set_data([b], [_summary_of(res, b)["test_acc_mean"]])
        diverged = any(r["status"] == "diverged" for r in runs)
        plotting.set_status(art["status"], "diverged" if diverged else None)
        text = _describe_batch_size(res, b, n, params["lr"])
        if show_live:
            text += _(" Live rerun (seed 0): {status}, test accuracy {acc:.3f} in {seconds:.1f} s.").format(
                status=lv["status"], acc=lv["test_acc"], seconds=lv["seconds"])
        return text

    def rerun(batch_size, progress=False):
        b = int(batch_size)
        r = sweep.train_point(params, b, 0, progress=progress)
        state["live"] = {"batch_size": b, "history": r.history, "status": r.status, "test_acc": r.test_acc,
                         "train_acc": r.train_acc, "steps": r.steps, "seconds": r.seconds}
        return update(b)

    slider = widgets.slider("batch_size", Options(tuple(bs)), params["lb"], description=_("batch size B"))
    panel = RerunPanel(fig, update, {"batch_size": slider}, rerun=rerun,
                       title=_("cached runs, one per seed"), dynamic=[ax, art["sel"]])  # ax2 is drawn once
    panel.live = state
    return panel


# ----------------------------------------------------------------------------- section 2
@validate_params(shift=FLAT_SHARP_SHIFT)
def flat_sharp_panel(shift=0.3):
    """The lecture's picture: a training loss with a flat and a sharp minimum, and a test loss
    shifted by δ; a slider moves δ and the caption states how much the loss rises at each minimum.
    δ ∈ [0, 1] (:data:`FLAT_SHARP_SHIFT`). Notebook 03, section 2
    (:func:`lecture_utils.sharpness.flat_sharp_loss`)."""
    from matplotlib.figure import Figure

    w = np.linspace(-5.5, 4.0, 950)
    fig = Figure(figsize=(9, 4))
    ax = fig.subplots()
    ax.plot(w, sharpness.flat_sharp_loss(w), color=plotting.COLORS["train"], label=_("training loss L(w)"))
    test = ax.plot([], [], color=plotting.COLORS["test"], ls="--", label=_("test loss L(w − δ)"))[0]
    wells = (sharpness.FLAT["center"], sharpness.SHARP["center"])
    bars = [ax.plot([], [], color="k", lw=3)[0] for _ in wells]
    notes = [ax.text(c - 0.12, 0.0, "", fontsize=11, ha="right", va="center",
                     bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.8))
             for c in wells]
    for c, name in zip(wells, (_("flat minimum"), _("sharp minimum"))):
        ax.annotate(name, (c, 0.0), xytext=(c, -0.17), ha="center", fontsize=11)
    ax.set_xlim(w[0], w[-1])
    ax.set_ylim(-0.22, 1.1)
    ax.set_yticks([0.0, 0.5, 1.0])          # few tick labels: text is what a redraw costs
    ax.set_xticks([-4, -2, 0, 2, 4])
    ax.set_xlabel(_("parameter w"))
    ax.set_ylabel(_("loss"))
    ax.legend(loc="upper left", fontsize=10)
    ax.set_title("δ")
    fig.tight_layout()

    def update(shift):
        d = float(shift)
        test.set_data(w, sharpness.flat_sharp_loss(w, d))
        rise = sharpness.flat_sharp_rise(d)
        for bar, note, c, key in zip(bars, notes, wells, ("flat", "sharp")):
            base = float(sharpness.flat_sharp_loss(np.array([c]))[0])
            bar.set_data([c, c], [base, base + rise[key]])
            note.set_position((c - 0.12, base + max(rise[key], 0.06) / 2))
            note.set_text(f"+{rise[key]:.2f}")
        ax.set_title(_("test loss shifted by δ = {d:.2f}").format(d=d))
        ratio = rise["sharp"] / rise["flat"] if rise["flat"] > 1e-12 else float("inf")
        if d == 0:
            return _("δ = 0.00: test loss equals training loss; both minima are equally good.")
        return _("δ = {d:.2f}: at the flat minimum the test loss is {flat:.3f} above the training loss, "
                 "at the sharp minimum {sharp:.3f} — {ratio:.0f}× more, though both minima have "
                 "the same training loss.").format(d=d, flat=rise["flat"], sharp=rise["sharp"], ratio=ratio)

    slider = widgets.slider("shift", FLAT_SHARP_SHIFT, shift, step=0.05, description=_("shift δ"),
                            readout_format=".2f")
    return Panel(fig, update, {"shift": slider}, title=_("flat vs sharp minimum"),
                 dynamic=[test, *bars, *notes, ax.title])


# ----------------------------------------------------------------------------- section 3
def _sharpness_axes(_=_):
    """``{key: (title, y-axis label)}`` of each sharpness measure in the current language (``_=str``:
    the English of :data:`SHARPNESS_AXES`)."""
    return {"top_eigenvalue": (_("top Hessian eigenvalue λ_max"), _("λ_max (higher = sharper)")),
            "eps_sharpness": (_("ε-sharpness (%)"), _("ε-sharpness, % (higher = sharper)"))}


#: the title and y-axis label of each sharpness measure (the figures' titles name the measure, the axis its
#: unit), in English; the figures show them in the current language (:func:`_sharpness_axes`)
SHARPNESS_AXES = _sharpness_axes(str)


def _log_y(ax, label):
    """A log y axis labelled ``label`` whose ticks read as plain numbers (0.3, 1, 3, 10, …)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 3.0)))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_ylabel(label)


def sharpness_figure(record, keys=("top_eigenvalue", "eps_sharpness")):
    """λ_max and ε-sharpness (``keys``: either or both) against B, one point per seed and the mean (log
    axes). Section 3 draws λ_max alone, its deep dive both."""
    import matplotlib.pyplot as plt

    res = _gap_results(record)
    bs = res["batch_sizes"]
    keys = tuple(keys)
    if not keys or any(k not in SHARPNESS_AXES for k in keys):
        raise ValueError(f"keys must be some of {tuple(SHARPNESS_AXES)}; got {keys!r}")
    # runs that met the matched criterion sit at a minimum (100 % training accuracy); the others
    # (the full batch at its budget) are still descending: drawn hollow, not joined, and labelled
    at_min = [b for b in bs if _summary_of(res, b)["reached"] == _summary_of(res, b)["n_seeds"]]
    not_min = [b for b in bs if b not in at_min]
    fig, axes = plt.subplots(1, len(keys), figsize=(5.4 * len(keys), 4.2), squeeze=False)
    axes = axes[0]
    names = _sharpness_axes()
    for ax, key in zip(axes, keys):
        title, ylabel = names[key]
        for b in bs:
            vals = [r[key] for r in _runs_of(res, b)]
            ax.plot([b] * len(vals), vals, "o", color=plotting.COLORS["muted"], alpha=0.6,
                    mfc=plotting.COLORS["muted"] if b in at_min else "none",
                    label=(_("one seed") if b == at_min[0] else None))
        ax.plot(at_min, [_summary_of(res, b)[f"{key}_mean"] for b in at_min], "-s",
                color=plotting.COLORS["full"],
                label=_("mean, stopped at 100 % train acc."))
        for b in not_min:
            s = _summary_of(res, b)
            ax.plot([b], [s[f"{key}_mean"]], "s", mfc="none", mec=plotting.COLORS["full"], mew=1.5,
                    label=_("{label}: not at a minimum").format(label=_batch_label(b, bs[-1])))
            ax.annotate(_("not at a minimum\n(train acc {acc:.2f})").format(acc=s["train_acc_mean"]),
                        (b, s[f"{key}_mean"]),
                        xytext=(-8, -26), textcoords="offset points", ha="right", fontsize=8.5,
                        color=plotting.COLORS["full"])
        ax.set_xscale("log")
        ax.set_xticks(bs, [str(b) for b in bs])
        ax.minorticks_off()
        _log_y(ax, ylabel)
        ax.set_xlabel(_("batch size B"))
        ax.set_title(title)
    axes[0].legend(loc="lower right", fontsize=8.5)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- the line (deep dive)
def interpolation_figure(curve, *, sb=32, lb=400):
    """Keskar's figure 3: loss (log scale, left) and accuracy (right) along
    ``w(α) = α·w_LB + (1 − α)·w_SB``, training solid, test dashed. Section 4."""
    import matplotlib.pyplot as plt

    keys = ("alpha", "train_loss", "train_acc", "test_loss", "test_acc")
    if not isinstance(curve, dict) or any(k not in curve for k in keys):
        raise ValueError(f"curve must be the dict returned by sharpness.interpolation_curve (keys {keys})")
    a = curve["alpha"]
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(a, curve["train_loss"], color=plotting.COLORS["train"], label=_("train loss"))
    ax.plot(a, curve["test_loss"], color=plotting.COLORS["train"], ls="--", label=_("test loss"))
    ax.set_yscale("log")
    ax.set_xlabel(_("α   (0: small batch B={sb},  1: large batch B={lb})").format(sb=sb, lb=lb))
    ax.set_ylabel(_("cross-entropy loss"), color=plotting.COLORS["train"])
    ax2 = ax.twinx()
    ax2.plot(a, curve["train_acc"], color=plotting.COLORS["test"], label=_("train accuracy"))
    ax2.plot(a, curve["test_acc"], color=plotting.COLORS["test"], ls="--", label=_("test accuracy"))
    ax2.set_ylabel(_("accuracy"), color=plotting.COLORS["test"])
    ax2.set_ylim(0, 1.02)
    ax2.grid(False)
    for x0 in (0.0, 1.0):
        ax.axvline(x0, color=plotting.COLORS["muted"], lw=1)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=9, ncol=4)
    ax.set_title(_("1-D slice through the two solutions (Keskar et al. 2017, fig. 3)"))
    fig.tight_layout()
    return fig




# ---------------------------------------------------- deep dives: matched training loss, edge of stability
def _ci(res, b, key):
    """Mean ± 95 % t-interval (:class:`lecture_utils.stats.MeanCI`) of ``key`` over the seeds of batch size
    ``b`` in the gap sweep (every seed, as its summary's means)."""
    return stats.mean_ci([r[key] for r in _runs_of(res, b)])


def gap_interval(record):
    """Test accuracy of B = ``sb`` minus B = ``lb`` in the gap sweep, as the paired 95 % t-interval of the
    per-seed differences (:func:`lecture_utils.stats.paired_diff_ci`: same seeds, same initial weights,
    same 1,000 test examples, so seed and test-set noise shared by a pair cancel). Section 1."""
    res = _gap_results(record)
    g = res["gap"]
    return stats.paired_diff_ci([r["test_acc"] for r in _runs_of(res, g["sb"])],
                                [r["test_acc"] for r in _runs_of(res, g["lb"])])


def gap_line(record):
    """Section 1: the gap B = ``sb`` − B = ``lb`` of :func:`gap_interval`, with what its interval is."""
    g, gap = _gap_results(record)["gap"], gap_interval(record)
    return _("gap B = {sb} − B = {lb}: {gap} (paired per seed: same initial weights, same test set; "
             "{label})").format(sb=g["sb"], lb=g["lb"], gap=gap.short(".3f"), label=gap.label)


def _n_test():
    """The number of test examples of the course's MNIST-1D (each test accuracy's own sampling error is
    the binomial s.e. √(p(1−p)/n) of :func:`lecture_utils.stats.binomial_se`)."""
    from ..sweeps._schema import load_dataset
    from ..sweeps.generalization import PARAMS

    return len(load_dataset(PARAMS).y_test)


def _matched_results(record):
    """The results of the sweep ``sharpness_matched`` (a record from ``sweeps.load``, or its results)."""
    res = record.get("results", record) if isinstance(record, dict) else None
    if not isinstance(res, dict) or "configs" not in res or "summary" not in res:
        raise ValueError("record must be the dict returned by sweeps.load('sharpness_matched')")
    return res


def matched_table(record):
    """One row per ``(B, η)`` of the sweep ``sharpness_matched``: seeds that reached the matched training
    loss L*, updates, training loss and accuracy at the stop, test accuracy, λ_max, λ_max·η/2 and
    ε-sharpness, each mean ± 95 % t-interval over the seeds (notebook 03, the matched-loss deep dives)."""
    res = _matched_results(record)
    head = [("B", 5), ("η", 5), (_("reached"), 7), (_("updates"), 8), (_("train loss"), 10),
            (_("train acc"), 9), (_("test acc"), 15), ("λ_max", 13), ("λ_max·η/2", 13), (_("ε-sharp %"), 13)]
    lines = [_header(head)]
    for c in res["configs"]:
        s = _matched_row(res, c)
        lines.append(f"{c['batch_size']:>5} {c['lr']:>5g} {s['reached']:>4}/{s['n']:<2} "
                     f"{s['steps_mean']:>8.0f}"
                     f" {s['train_loss_mean']:>10.3f} {s['train_acc_mean']:>9.3f}"
                     f" {s['test_acc_mean']:>7.3f} ± {_h(s['test_acc_half']):.3f}"
                     f" {s['top_eigenvalue_mean']:>6.2f} ± {_h(s['top_eigenvalue_half']):<4.2f}"
                     f" {s['stability_mean']:>5.2f} ± {_h(s['stability_half']):.2f}"
                     f" {s['eps_sharpness_mean']:>5.1f} ± {_h(s['eps_sharpness_half']):<4.1f}")
    n = max(_matched_row(res, c)["n"] for c in res["configs"])
    lines.append(_("± : 95 % t-interval over the seeds that reached L* ({n} seeds run per row).").format(n=n))
    return "\n".join(lines)


def _h(half):
    """A stored half-width (None: fewer than two seeds) as a number for printing (NaN)."""
    return float("nan") if half is None else half


def matched_figure(matched, gap):
    """λ_max and ε-sharpness against B, mean ± 95 % t-interval over seeds, measured two ways: where each
    run of the gap protocol stopped (100 % training accuracy, sweep ``generalization``; the training loss
    there differs with B) and at one matched training loss L* (sweep ``sharpness_matched``, η = its
    ``lr``). Notebook 03, deep dive "Sharpness at a matched training loss"."""
    import matplotlib.pyplot as plt

    m, g = _matched_results(matched), _gap_results(gap)
    lr = (matched.get("params") or {}).get("lr", 0.1)
    cs = [c for c in m["configs"] if c["lr"] == lr]
    bs_m = [c["batch_size"] for c in cs]
    bs_g = [b for b in g["batch_sizes"] if _summary_of(g, b)["reached"] == _summary_of(g, b)["n_seeds"]]
    lstar = (matched.get("params") or {}).get("target_train_loss")
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    names = _sharpness_axes()
    for ax, key in zip(axes, ("top_eigenvalue", "eps_sharpness")):
        title = names[key][0]
        ax.errorbar(bs_g, [_summary_of(g, b)[f"{key}_mean"] for b in bs_g],
                    yerr=[_ci(g, b, key).half for b in bs_g],
                    color=plotting.COLORS["muted"],
                    marker="o", capsize=4, ls="--", label=_("at 100 % train acc. (loss differs with B)"))
        ax.errorbar(bs_m, [_matched_row(m, c)[f"{key}_mean"] for c in cs],
                    yerr=[_h(_matched_row(m, c)[f"{key}_half"]) for c in cs], color=plotting.COLORS["full"],
                    marker="s", capsize=4,
                    label=_("at matched train loss L* = {lstar:g}").format(lstar=lstar))
        ax.set_xscale("log")
        ax.set_xticks(bs_m, [str(b) for b in bs_m])
        ax.minorticks_off()
        _log_y(ax, names[key][1])
        ax.set_xlabel(_("batch size B (η = {lr:g})").format(lr=lr))
        ax.set_title(title)
    axes[0].legend(loc="lower right", fontsize=8.5)
    fig.suptitle(_("mean ± 95 % t-interval over seeds"), fontsize=10, y=0.995)
    fig.tight_layout()
    return fig


def stability_figure(record):
    """The edge of stability (Cohen et al. 2021): λ_max at the matched training loss against η for each B
    (mean ± 95 % t-interval over seeds), with the stability limit 2/η of gradient descent on a quadratic
    (left); test accuracy against λ_max for every ``(B, η)`` (right; colour: B, marker: η).
    Notebook 03, deep dive "The edge of stability"."""
    import matplotlib.pyplot as plt

    res = _matched_results(record)
    bs = sorted({c["batch_size"] for c in res["configs"]})
    multi = [b for b in bs if sum(c["batch_size"] == b for c in res["configs"]) > 1]
    colors = dict(zip(bs, ("#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")))
    lrs = sorted({c["lr"] for c in res["configs"]})
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10.5, 4.2), gridspec_kw={"width_ratios": [1.1, 1]})
    grid = np.geomspace(min(lrs) / 1.3, max(lrs) * 1.3, 50)
    ax.plot(grid, 2 / grid, color="k", lw=1.5, ls="--", label=_("2/η (stability limit of GD)"))
    for b in multi:
        cs = sorted([c for c in res["configs"] if c["batch_size"] == b], key=lambda c: c["lr"])
        s = [_matched_row(res, c) for c in cs]
        ax.errorbar([c["lr"] for c in cs], [r["top_eigenvalue_mean"] for r in s],
                    yerr=[_h(r["top_eigenvalue_half"]) for r in s], color=colors[b], marker="o", capsize=4,
                    label=f"B = {b}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(lrs, [f"{v:g}" for v in lrs])
    ax.minorticks_off()
    ax.set_xlabel(_("learning rate η"))
    ax.set_ylabel(_("λ_max at the matched training loss"))
    ax.legend(loc="lower left", fontsize=8.5)
    ax.set_title(_("sharpness against the limit 2/η"))
    markers = dict(zip(lrs, ("o", "s", "^", "D", "v")))
    for c in res["configs"]:
        s = _matched_row(res, c)
        ax2.errorbar(s["top_eigenvalue_mean"], s["test_acc_mean"], xerr=_h(s["top_eigenvalue_half"]),
                     yerr=_h(s["test_acc_half"]),
                     color=colors[c["batch_size"]], marker=markers[c["lr"]], ms=9, mec="white", capsize=0,
                     elinewidth=1.5, ls="none")
    from matplotlib.lines import Line2D
    handles = ([Line2D([], [], color=colors[b], marker="o", ls="none", label=f"B = {b}") for b in bs]
               + [Line2D([], [], color="0.3", marker=markers[v], ls="none", label=f"η = {v:g}") for v in lrs])
    ax2.legend(handles=handles, loc="best", fontsize=8, ncol=2)
    ax2.set_xscale("log")
    ax2.minorticks_off()
    ax2.set_xlabel(_("λ_max at the matched training loss"))
    ax2.set_ylabel(_("test accuracy"))
    ax2.set_title(_("test accuracy against sharpness"))
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- deep dive: sharpness during training
def _trajectory_results(record):
    res = record.get("results") if isinstance(record, dict) else None
    if not isinstance(res, dict) or "configs" not in res or "runs" not in res or "params" not in record:
        raise ValueError("record must be the dict returned by sweeps.load('sharpness_trajectory')")
    return res, record["params"]


def trajectory_table(record):
    """One row per configuration of the sweep ``sharpness_trajectory``: how many seeds reached λ_max ≥ 2/η,
    the first update where they did, the peak λ_max·η/2, its median while the training loss falls from
    1 to 0.1, and its value at the last update — each mean ± 95 % t-interval over the seeds
    (:func:`lecture_utils.sweeps.sharpness_trajectory.summary`). Deep dive "Sharpness during training"."""
    from ..sweeps import sharpness_trajectory as T

    res, params = _trajectory_results(record)
    rows = T.summary(record)
    hi, lo = params["window"]
    head = [(_("run"), 13), ("η", 5), ("2/η", 5), (_("at 2/η"), 7), (_("first update at 2/η"), 20),
            (_("peak λη/2"), 12), (_("median λη/2, L {hi:g}→{lo:g}").format(hi=hi, lo=lo), 24),
            (_("λη/2 at the end"), 16)]
    lines = [_header(head)]
    for c in res["configs"]:
        r = rows[(c["kind"], c["batch_size"], c["lr"])]
        name = f"GD (B = {c['batch_size']})" if c["kind"] == "GD" else f"SGD B = {c['batch_size']}"
        firsts = [T.run_summary(res["runs"][T.run_key(c["batch_size"], c["lr"], s)], c["lr"])["first_edge"]
                  for s in params["seeds"]]
        edge = ", ".join(_("never") if f is None else str(f) for f in firsts)
        med = r["median_window"].short(".2f") if r["median_window"] is not None else "—"
        lines.append(f"{name:>13} {c['lr']:>5g} {2 / c['lr']:>5g} {r['reached_edge']:>4}/{r['n']:<2} "
                     f"{_col(edge, 20)} {r['peak'].short('.2f'):>12} {_col(med, 24)} "
                     f"{r['final'].short('.3f'):>16}")
    n = len(params["seeds"])
    lines.append(_("± : 95 % t-interval over {n} seeds; 'first update': each seed's. λ_max measured every "
                   "{every} updates on the {n_train} training examples.")
                 .format(n=n, every=params["every"], n_train=params["n_train"]))
    return "\n".join(lines)


def trajectory_figure(record):
    """Cohen et al. (2021), figure 1, on the course's MLP: training loss (top) and λ_max (bottom) against
    the update, every seed a thin line; left: gradient descent at each η with its limit 2/η (dashed);
    right: SGD at one η for each B beside gradient descent at that η. Deep dive "Sharpness during
    training" (sweep ``sharpness_trajectory``)."""
    import matplotlib.pyplot as plt

    from ..sweeps.sharpness_trajectory import run_key

    res, params = _trajectory_results(record)
    gd = [c for c in res["configs"] if c["kind"] == "GD"]
    sgd = [c for c in res["configs"] if c["kind"] == "SGD"]
    lr_s = params["sgd"]["lr"]
    gd_colors = dict(zip([c["lr"] for c in gd], ("#1f77b4", "#2ca02c", "#d62728", "#9467bd")))
    sgd_colors = dict(zip([c["batch_size"] for c in sgd], ("#ff7f0e", "#8c564b", "#e377c2")))
    fig, axes = plt.subplots(2, 2, figsize=(11, 6.6), sharex=True, gridspec_kw={"height_ratios": [1, 1.4]})
    right = [c for c in gd if c["lr"] == lr_s] + sgd
    for col, cs in enumerate((gd, right)):
        top, bottom = axes[0, col], axes[1, col]
        for c in cs:
            color = gd_colors[c["lr"]] if c["kind"] == "GD" else sgd_colors[c["batch_size"]]
            label = (f"GD, η = {c['lr']:g}" if c["kind"] == "GD"
                     else f"SGD B = {c['batch_size']}, η = {c['lr']:g}")
            for i, s in enumerate(params["seeds"]):
                r = res["runs"][run_key(c["batch_size"], c["lr"], s)]
                steps = np.asarray(r["step"])
                lam = np.array([np.nan if v is None else v for v in r["lam"]], dtype=float)
                loss = np.array([np.nan if v is None else v for v in r["train_loss"]], dtype=float)
                kw = dict(color=color, lw=1.2, alpha=0.75, label=label if i == 0 else None)
                top.plot(steps, loss, **kw)
                bottom.plot(steps, lam, **kw)
            if c["kind"] == "GD":
                bottom.axhline(2 / c["lr"], color=color, ls="--", lw=1.3)
                bottom.annotate(f"2/η = {2 / c['lr']:g}", (params["steps"], 2 / c["lr"]), xytext=(-4, 3),
                                textcoords="offset points", ha="right", va="bottom", fontsize=8.5,
                                color=color)
        top.set_yscale("log")
        top.set_ylabel(_("training loss"))
        bottom.set_ylabel(_("λ_max (top Hessian eigenvalue)"))
        bottom.set_xlabel(_("update t"))
        bottom.set_ylim(0, None)
        top.legend(loc="lower left", fontsize=8.5)
    axes[0, 0].set_title(_("full-batch gradient descent at three η"), fontsize=11)
    axes[0, 1].set_title(_("η = {lr:g}: gradient descent and SGD").format(lr=lr_s), fontsize=11)
    fig.suptitle(_("Sharpness along training ({n_train} training examples; each seed a line, {n} seeds)")
                 .format(n_train=params["n_train"], n=len(params["seeds"])), fontsize=11)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- deep dive: does noise cause flatness?
def _noise_record(record):
    if not isinstance(record, dict) or "results" not in record or "arms" not in record["results"]:
        raise ValueError("record must be the dict returned by sweeps.load('noise_injection')")
    return record


def noise_table(record):
    """One row per arm of the sweep ``noise_injection``: seeds that reached L*, updates, training loss,
    test accuracy, λ_max and ε-sharpness at L*, each mean ± 95 % t-interval over the seeds
    (:func:`lecture_utils.sweeps.noise_injection.summary`). Deep dive "Does noise cause flatness?"."""
    from ..sweeps import noise_injection as M

    record = _noise_record(record)
    rows = M.summary(record)
    p = record["params"]
    head = [(_("arm"), 16), ("B", 4), (_("reached"), 7), (_("updates"), 11), (_("train loss"), 10),
            (_("test acc"), 15), ("λ_max", 13), (_("ε-sharp %"), 12)]
    lines = [_header(head)]
    for a in record["results"]["arms"]:
        r = rows[a["arm"]]

        def cell(k, spec, r=r):
            return r[k].short(spec) if r[k] is not None else "—"
        lines.append(f"{a['arm']:>16} {a['batch_size']:>4} {r['reached']:>4}/{r['n']:<2} "
                     f"{cell('steps', '.0f'):>11} {_mean_or_nan(r['train_loss']):>10.3f} "
                     f"{cell('test_acc', '.3f'):>15} {cell('top_eigenvalue', '.2f'):>13} "
                     f"{cell('eps_sharpness', '.1f'):>12}")
    lines.append(_("η = {lr:g} for every arm; every run stopped at training loss ≤ {loss:g}. "
                   "± : 95 % t-interval over {n} seeds.")
                 .format(lr=p["lr"], loss=p["target_train_loss"], n=len(p["seeds"])))
    return "\n".join(lines)


def _mean_or_nan(ci):
    return float("nan") if ci is None else ci.mean


def noise_figure(record):
    """λ_max, ε-sharpness and test accuracy at the matched training loss for each arm of the sweep
    ``noise_injection``: one grey dot per seed (seeds joined across arms: same initial weights), the mean
    with its 95 % t-interval. Deep dive "Does noise cause flatness?"."""
    import matplotlib.pyplot as plt

    from ..sweeps import noise_injection as M

    record = _noise_record(record)
    p = record["params"]
    arms = [a["arm"] for a in record["results"]["arms"]]
    labels = {"small": f"B = {p['small']}", "large": f"B = {p['large']}",
              "large+noise": _("B = {large}\n+ B = {small}'s\nnoise").format(large=p["large"],
                                                                              small=p["small"]),
              "large+isotropic": _("B = {large}\n+ isotropic\nnoise").format(large=p["large"])}
    colors = {"small": plotting.COLORS["train"], "large": plotting.COLORS["test"], "large+noise": "#2ca02c",
              "large+isotropic": "#7f7f7f"}
    rows = M.summary(record)
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.2))
    x = np.arange(len(arms))
    for ax, key, title in zip(axes, ("top_eigenvalue", "eps_sharpness", "test_acc"),
                              (_("λ_max at the matched loss"), _("ε-sharpness (%) at the matched loss"),
                               _("test accuracy at the matched loss"))):
        per_seed = np.array([[r[key] if r["status"] == "target_reached" and r[key] is not None else np.nan
                              for r in (record["results"]["runs"][M.run_key(a, s)] for a in arms)]
                             for s in p["seeds"]])
        for row in per_seed:
            ax.plot(x, row, "-o", color=plotting.COLORS["muted"], alpha=0.45, ms=4, lw=0.8)
        for i, a in enumerate(arms):
            ci = rows[a][key]
            if ci is not None:
                ax.errorbar([i], [ci.mean], yerr=[0 if ci.n < 2 else ci.half], color=colors[a], marker="s",
                            ms=9, capsize=6, lw=2)
        ax.set_xticks(x, [labels[a] for a in arms], fontsize=8.5)
        ax.set_xlim(-0.5, len(arms) - 0.5)
        ax.set_title(title, fontsize=11)
    axes[0].set_ylim(0, None)
    axes[1].set_ylim(0, None)
    fig.suptitle(_("η = {lr:g}, every run stopped at training loss ≤ {loss:g}; "
                   "grey: one seed, square: mean ± 95 % t-interval ({n} seeds)")
                 .format(lr=p["lr"], loss=p["target_train_loss"], n=len(p["seeds"])), fontsize=10)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- lines printed by notebook 03's cells
def data_line(data, record):
    """The set-up cell's line: the data set's sizes and the gap sweep's batch sizes, seeds and one η."""
    res, params = _gap_results(record), record["params"]
    return _("MNIST-1D: {n_train} training and {n_test} test examples; batch sizes {batch_sizes}, "
             "seeds {seeds}, one learning rate η = {lr}").format(
        n_train=data.n_train, n_test=len(data.y_test), batch_sizes=res["batch_sizes"], seeds=params["seeds"],
        lr=params["lr"])


def test_accuracy_line(record, b):
    """Section 1: the test accuracy of batch size ``b`` at the stop, mean (95 % t-interval over the seeds)."""
    return _("test accuracy B = {b:>3}: {acc}").format(b=b, acc=_ci(_gap_results(record), b, "test_acc")
                                                        .format(".3f"))


def disagreement_line(right_sb, right_lb):
    """Section 1: where seed 0's two solutions differ on the same test examples (``right_*``: 1 where the
    model is right, per test example), the accuracy difference with its test-set s.e. (per-example
    differences) and, for comparison, the binomial s.e. of one accuracy alone."""
    right_sb, right_lb = np.asarray(right_sb, dtype=float), np.asarray(right_lb, dtype=float)
    d = right_sb - right_lb                  # per test example: SB right − LB right
    return _("seed 0 on the same {n:,} test examples: the two disagree on {disagree}; accuracy difference "
             "{diff:.3f}, test-set s.e. {se:.3f} (one accuracy alone: binomial s.e. {se_one:.3f})").format(
        n=len(d), disagree=int((d != 0).sum()), diff=d.mean(), se=d.std() / np.sqrt(len(d)),
        se_one=stats.binomial_se(right_sb.mean(), len(d)))


def falls_line(record):
    """Section 1: whether the mean test accuracy falls at every step of B (the full batch left out)."""
    res = _gap_results(record)
    bs = res["batch_sizes"][:-1]
    means = [_summary_of(res, b)["test_acc_mean"] for b in bs]
    if all(a > b for a, b in zip(means, means[1:])):
        text = _("test accuracy falls at every step of B from {first} to {last}: True")
    else:
        text = _("test accuracy falls at every step of B from {first} to {last}: False")
    return text.format(first=bs[0], last=bs[-1])


def accuracy_at_95_line(record, b):
    """Section 1 (for Think! 1): the test accuracy of batch size ``b`` when its training accuracy first
    reached 95 % and at the stop (100 %), each mean ± 95 % t-interval over the seeds."""
    from ..sweeps.generalization import test_acc_when_train_reaches

    res = _gap_results(record)
    at95 = stats.mean_ci([t for _e, t in test_acc_when_train_reaches(record, b, 0.95)])
    return _("B = {b:>3}: test accuracy when the training accuracy first reached 95 %: {at95}; "
             "at 100 % (the stop): {stop} (95 % t-intervals, {n} seeds)").format(
        b=b, at95=at95.short(".3f"), stop=_ci(res, b, "test_acc").short(".3f"), n=len(_runs_of(res, b)))


def sharpness_lines(record, keys=("top_eigenvalue", "eps_sharpness")):
    """Section 2: per batch size, λ_max (and with ``eps_sharpness`` in ``keys`` the ε-sharpness, every B
    including the full batch; else without it) as mean ± 95 % t-interval over the seeds, and the mean
    training loss at the stop; a last line says what ± is."""
    res = _gap_results(record)
    eps = "eps_sharpness" in keys
    lines = []
    for b in res["batch_sizes"] if eps else res["batch_sizes"][:-1]:
        lam = _ci(res, b, "top_eigenvalue").short(".2f")
        loss = np.mean([r["train_loss"] for r in _runs_of(res, b)])
        if eps:
            lines.append(_("B = {b:>4}: λ_max {lam:>13}, ε-sharpness {eps:>11} %, training loss at the stop "
                           "{loss:.3f}").format(b=b, lam=lam, eps=_ci(res, b, "eps_sharpness").short(".1f"),
                                                loss=loss))
        else:
            lines.append(_("B = {b:>3}: λ_max {lam:>13}, training loss at the stop {loss:.3f}")
                         .format(b=b, lam=lam, loss=loss))
    lines.append(_("± : 95 % t-interval over {n} seeds").format(n=len(record["params"]["seeds"])))
    return "\n".join(lines)


def interpolation_lines(curve):
    """Section 3: along the 1-D slice of :func:`lecture_utils.sharpness.interpolate` (seed 0), the training
    loss at both ends, its highest value between them, and how much it rises over half a step beyond
    each end."""
    a, loss = np.asarray(curve["alpha"]), np.asarray(curve["train_loss"])
    at = {v: loss[np.argmin(abs(a - v))] for v in (0.0, 1.0)}
    inside = (a >= 0) & (a <= 1)
    lines = [_("training loss at the ends (seed 0): α = 0 (SB) {sb:.3f}, α = 1 (LB) {lb:.3f} — not a matched "
               "loss").format(sb=at[0.0], lb=at[1.0]),
             _("highest training loss between them: {loss:.3f} (α = {alpha:.2f})").format(
                 loss=loss[inside].max(), alpha=a[inside][np.argmax(loss[inside])])]
    sides = ((-0.5, 0.0, _("SB side (α from 0 to −0.5): training loss rises by {rise:.2f}   (seed 0 only)")),
             (1.0, 1.5, _("LB side (α from 1 to 1.5): training loss rises by {rise:.2f}   (seed 0 only)")))
    for lo, hi, text in sides:
        rise = abs(loss[np.argmin(abs(a - hi))] - loss[np.argmin(abs(a - lo))])
        lines.append(text.format(rise=rise))
    return "\n".join(lines)


def _matched_seeds(res_m, b, key, lr):
    """Per-seed values of ``key`` at (B, η) in the matched sweep, seed order, seeds that reached L*."""
    return [r[key] for r in res_m["runs"][config_key(b, lr)] if r["status"] == "target_reached"]


def matched_lines(record, matched, *, large=400, smalls=(8, 32)):
    """Deep dive "Sharpness at a matched training loss": λ_max and training loss where the gap protocol
    stopped and at the matched loss L*; the ratios B = ``large`` / B = small of λ_max and ε-sharpness,
    both ways (a ratio per seed — the same seed gives the same initial weights at every B — then its
    t-interval); the ε-sharpness of B = 128 and 400 both ways, and their paired difference at L*."""
    res, res_m = _gap_results(record), _matched_results(matched)
    lr, lstar = matched["params"]["lr"], matched["params"]["target_train_loss"]

    def stop(b, key):
        return [r[key] for r in _runs_of(res, b)]

    def at_l(b, key):
        return _matched_seeds(res_m, b, key, lr)

    at_stop = _header([(_("λ_max at the stop"), 17), (_("train loss"), 10)])
    at_lstar = _header([(_("λ_max at L* = {lstar:g}").format(lstar=lstar), 17), (_("train loss"), 10)])
    lines = [_("η = {lr:g}; ± : 95 % t-interval over the seeds ({n_stop} at the stop, {n_l} at L*)").format(
                 lr=lr, n_stop=len(record["params"]["seeds"]), n_l=len(matched["params"]["seeds"])),
             f"{'B':>5} | {at_stop} | {at_lstar}"]
    for b in (8, 32, 128, 400):
        lines.append(f"{b:>5} | {stats.mean_ci(stop(b, 'top_eigenvalue')).short('.2f'):>17} "
                     f"{np.mean(stop(b, 'train_loss')):>10.3f} | "
                     f"{stats.mean_ci(at_l(b, 'top_eigenvalue')).short('.2f'):>17} "
                     f"{np.mean(at_l(b, 'train_loss')):>10.3f}")
    ways = ((stop, _("{name}(B = {large}) / {name}(B = {small}) at the stop: {ratio}")),
            (at_l, _("{name}(B = {large}) / {name}(B = {small}) at L* = {lstar:g}: {ratio}")))
    for key, name in (("top_eigenvalue", "λ_max"), ("eps_sharpness", _("ε-sharpness"))):
        for small in smalls:
            for vals, text in ways:
                q = stats.mean_ci(np.array(vals(large, key)) / np.array(vals(small, key)))
                lines.append(text.format(name=name, large=large, small=small, lstar=lstar,
                                         ratio=q.short(".2f")))
    for b in (128, 400):
        lines.append(_("ε-sharpness B = {b}: at the stop {stop} %, at L* {at_l} %").format(
            b=b, stop=stats.mean_ci(stop(b, "eps_sharpness")).short(".1f"),
            at_l=stats.mean_ci(at_l(b, "eps_sharpness")).short(".1f")))
    d = stats.paired_diff_ci(at_l(400, "eps_sharpness"), at_l(128, "eps_sharpness"))
    lines.append(_("ε-sharpness at L*, B = {large} − B = {small} (paired per seed): {diff}").format(
        large=400, small=128, diff=d.format(".1f")))
    return "\n".join(lines)


def stability_lines(matched, *, batch_sizes=(32, 400), lrs=(0.1, 0.2, 0.4)):
    """Deep dive "Sharpness and the learning rate": per (B, η) of the matched sweep, λ_max against the
    stability limit 2/η, λ_max·η/2, test accuracy and updates (mean ± 95 % t-interval over the seeds that
    reached L*); how λ_max·η/2 moves from the smallest to the largest η (paired per seed); the test
    accuracy of the large B at the largest η against the small B at the smallest; and the rank
    correlation of mean λ_max with mean test accuracy over every (B, η) of the sweep."""
    res_m = _matched_results(matched)
    lstar, n = matched["params"]["target_train_loss"], len(matched["params"]["seeds"])
    small, large, lo_lr, hi_lr = batch_sizes[0], batch_sizes[-1], lrs[0], lrs[-1]
    lines = [_("λ_max·η/2 at L* = {lstar:g} (1 = at the stability limit 2/η); ± : 95 % t-interval, {n} seeds")
             .format(lstar=lstar, n=n)]
    for b in batch_sizes:
        for lr in lrs:
            lam, st, acc = (stats.mean_ci(_matched_seeds(res_m, b, k, lr))
                            for k in ("top_eigenvalue", "stability", "test_acc"))
            lines.append(_("B = {b:>3}, η = {lr:<4g}: λ_max {lam:>12} (2/η = {limit:4.1f}), "
                           "λ_max·η/2 = {st}, test accuracy {acc}, {updates:.0f} updates").format(
                b=b, lr=lr, lam=lam.short(".2f"), limit=2 / lr, st=st.short(".2f"), acc=acc.short(".3f"),
                updates=np.mean(_matched_seeds(res_m, b, "steps", lr))))
    for b in batch_sizes:
        lo, hi = _matched_seeds(res_m, b, "stability", lo_lr), _matched_seeds(res_m, b, "stability", hi_lr)
        d = stats.paired_diff_ci(hi, lo)
        lines.append(_("B = {b:>3}: λ_max·η/2 at η = {hi:g} minus at η = {lo:g} = {diff} (paired per seed), "
                       "{rel:+.0f} %").format(b=b, hi=hi_lr, lo=lo_lr, diff=d.short(".2f"),
                                              rel=100 * d.mean / np.mean(lo)))
    d = stats.paired_diff_ci(_matched_seeds(res_m, large, "test_acc", hi_lr),
                             _matched_seeds(res_m, small, "test_acc", lo_lr))
    lines.append(_("test accuracy B = {large} at η = {hi:g} − B = {small} at η = {lo:g} (paired per seed): "
                   "{diff}").format(large=large, hi=hi_lr, small=small, lo=lo_lr, diff=d.short(".3f")))
    lam = np.array([res_m["summary"][c["key"]]["top_eigenvalue_mean"] for c in res_m["configs"]])
    acc = np.array([res_m["summary"][c["key"]]["test_acc_mean"] for c in res_m["configs"]])
    rank = lambda v: np.argsort(np.argsort(v))
    rho = np.corrcoef(rank(lam), rank(acc))[0, 1]
    lines.append(_("over the {n} (B, η) settings: rank correlation of λ_max with test accuracy = {rho:+.2f} "
                   "(on the means)").format(n=len(lam), rho=rho))
    return "\n".join(lines)


def noise_scale_line(noise_record):
    """Deep dive "Sharpness and the learning rate": B_simple = tr Σ/|G|² at each training-loss level of
    notebook 04's sweep ``noise_scale`` (:func:`lecture_utils.tuning.noise_rows`), mean ± 95 % t-interval."""
    from ..tuning import noise_rows

    ns = noise_rows(noise_record)
    return _("B_simple = tr Σ/|G|² along a B = 32, η = 0.1 run (notebook 04, sweep noise_scale), at training "
             "loss {levels} ({n} seeds)").format(
        levels=", ".join(f"{r['loss_level']:g}: {r['ci'].short('.0f')}" for r in ns), n=ns[0]["n"])


def cached_work_line(record):
    """A deep dive's cache: the CPU-seconds its runs took and about how long on two idle cores."""
    return _("cached work: {cpu:.0f} CPU-seconds, about {minutes:.1f} min on two idle cores").format(
        cpu=record.cpu_seconds, minutes=record.cpu_seconds / 2 / 60)


def noise_paired_lines(record, arm="large+noise", others=("small", "large", "large+isotropic")):
    """Deep dive "Does noise cause flatness?": λ_max and test accuracy of ``arm`` minus each other arm,
    paired per seed (:func:`lecture_utils.sweeps.noise_injection.paired`, 95 % t-interval)."""
    from ..sweeps.noise_injection import paired

    lines = []
    for other in others:
        lam, acc = paired(record, arm, other, "top_eigenvalue"), paired(record, arm, other, "test_acc")
        lines.append(_("{arm} − {other:<15}: λ_max {lam:+6.2f} ± {lam_half:.2f}, test accuracy {acc:+.3f} ± "
                       "{acc_half:.3f} (paired per seed, {label})").format(
            arm=arm, other=other, lam=lam.mean, lam_half=lam.half, acc=acc.mean, acc_half=acc.half,
            label=acc.label))
    return "\n".join(lines)


def scaled_lr_lines(record, tuned_record):
    """Section "Can a larger η rescue a large batch?": the large batch at the one η and at the scaled η
    (test accuracy, updates), the small batch at the one η, and notebook 04's tuned-η differences
    (:func:`lecture_utils.tuning.tuned_differences`, paired per seed, 95 % t-interval)."""
    from ..tuning import tuned_differences

    res, lr = _gap_results(record), record["params"]["lr"]
    sc, sb = res["scaled_lr"], res["gap"]["sb"]
    b_sc = sc["batch_size"]
    at = _("B = {b} at η = {lr}: test accuracy {acc} after {updates:.0f} updates")
    scaled = stats.mean_ci([r["test_acc"] for r in sc["runs"]]).short(".3f")
    lines = [at.format(b=b_sc, lr=lr, acc=_ci(res, b_sc, "test_acc").short(".3f"),
                       updates=_summary_of(res, b_sc)["steps_mean"]),
             at.format(b=b_sc, lr=sc["lr"], acc=scaled, updates=np.mean([r["steps"] for r in sc["runs"]])),
             _("B = {b} at η = {lr} (not tuned): test accuracy {acc}   (± : 95 % t-interval, {n} seeds)")
             .format(b=sb, lr=lr, acc=_ci(res, sb, "test_acc").short(".3f"), n=len(sc["runs"])),
             _("notebook 04, η tuned for each B on one grid (paired per seed, 95 % t-interval, 3 seeds):")]
    for dd in tuned_differences(tuned_record):
        lines.append(f"  B = {dd['batch_size']:>4} (η = {dd['tuned']['lr']:g}) − B = {sb} "
                     f"(η = {dd['base']['lr']:g}) = {dd['ci'].short('.3f')}")
    return "\n".join(lines)
