"""Notebook 03 ("Large batches generalize worse"): figures, panels and exercise checks.

* :func:`gap_table` / :func:`gap_figure` — train and test accuracy (mean ± std over seeds) per
  batch size from the cached sweep ``generalization`` (section 1);
* :func:`batch_size_panel` — a slider over the cached batch sizes (curves, final accuracies,
  sharpness; nothing trains on slide) with a button that reruns the selected B live (section 1);
* :func:`flat_sharp_panel` — the lecture's flat and sharp minimum with a shifted test loss
  (section 2; :func:`lecture_utils.sharpness.flat_sharp_loss`);
* :func:`sharpness_figure` — λ_max and ε-sharpness against B (section 3);
* :func:`interpolation_figure` — Keskar's figure 3 from
  :func:`lecture_utils.sharpness.interpolation_curve` (section 4);
* ``check_*`` — the self-checks of the exercises (print, never raise).
"""
from __future__ import annotations

import numpy as np

from .. import plotting, sharpness
from .._validate import check_real
from ..widgets import Panel, float_slider, selection_slider


def _results(record):
    if not isinstance(record, dict) or "results" not in record and "summary" not in record:
        raise ValueError("record must be the dict returned by sweeps.load('generalization')")
    return record.get("results", record)


def _label(b, n=4000):
    return "full batch" if b == n else f"B = {b}"


# ----------------------------------------------------------------------------- section 1
def gap_table(record):
    """The gap protocol as a text table: one row per B with the training loss and accuracy (means),
    the test accuracy mean ± std,
    seeds that reached the criterion, mean epochs and updates, λ_max and ε-sharpness (means)."""
    res = _results(record)
    lines = [f"{'B':>6} {'reached':>8} {'epochs':>7} {'updates':>8} {'train loss':>11} {'train acc':>10}"
             f" {'test acc':>14} {'λ_max':>7} {'ε-sharp %':>10}"]
    for b in res["batch_sizes"]:
        s = res["summary"][str(b)]
        lines.append(f"{b:>6} {s['reached']:>4}/{s['n_seeds']:<3} {s['epochs_mean']:>7.0f} {s['steps_mean']:>8.0f}"
                     f" {s['train_loss_mean']:>11.3f} {s['train_acc_mean']:>10.3f}"
                     f" {s['test_acc_mean']:>8.3f} ± {s['test_acc_std']:.3f}"
                     f" {s['top_eigenvalue_mean']:>7.1f} {s['eps_sharpness_mean']:>10.2f}")
    return "\n".join(lines)


def gap_figure(record):
    """Train and test accuracy at the end of each run against B (log axis), mean ± std over seeds."""
    import matplotlib.pyplot as plt

    res = _results(record)
    bs = np.array(res["batch_sizes"])
    fig, ax = plt.subplots(figsize=(8, 4))
    for key, name, color, marker in (("train_acc", "train", plotting.COLORS["train"], "o"),
                                     ("test_acc", "test", plotting.COLORS["test"], "s")):
        m = np.array([res["summary"][str(b)][f"{key}_mean"] for b in bs])
        s = np.array([res["summary"][str(b)][f"{key}_std"] for b in bs])
        ax.errorbar(bs, m, yerr=s, color=color, marker=marker, capsize=4, label=f"{name} accuracy")
    g = res["gap"]
    ax.axvspan(g["lb"] * 0.8, g["lb"] * 1.25, color=plotting.COLORS["muted"], alpha=0.15)
    ax.set_xscale("log")
    ax.set_xticks(bs, [str(b) for b in bs])
    ax.set_xlabel("batch size B (one learning rate for all)")
    ax.set_ylabel("accuracy at the end of the run")
    ax.set_ylim(0.4, 1.02)
    ax.set_title(f"Same training accuracy, lower test accuracy: gap B={g['sb']} vs B={g['lb']} = "
                 f"{g['test_acc_gap']:.3f}")
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

            button = w.Button(description="rerun this B live", icon="play",
                              tooltip="train the selected batch size again, seed 0, with a progress bar")
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
            with out:
                self.rerun(progress=True)
                print(self.caption_text())
            self._image.value = self._png
            self._caption.value = self._caption_html()
        finally:
            button.disabled = False

    def rerun(self, progress=False):
        """Train the selected batch size again (seed 0) and draw it over the cached curves."""
        import time

        t0 = time.perf_counter()
        self.caption = self._rerun_fn(progress=progress, **self.values())
        from ..widgets import figure_png
        self._png = figure_png(self.fig, self.dpi)
        self.last_seconds = time.perf_counter() - t0
        return self.caption


def batch_size_panel(record, params=None):
    """Slider over the cached batch sizes: training/test accuracy against epochs for every seed,
    final test accuracy and λ_max against B; the caption states the numbers of the selected B.

    Moving the slider only switches among cached runs. The button "rerun this B live" calls
    ``train_classifier(progress=True)`` with the sweep's settings (seed 0) and overlays the new run.
    ``params`` defaults to ``record["params"]``. Notebook 03, section 1.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    from ..sweeps import generalization as sweep

    res = _results(record)
    params = record.get("params", sweep.PARAMS) if params is None else params
    bs = list(res["batch_sizes"])
    n = bs[-1]
    n_seeds = max(len(res["runs"][str(b)]) for b in bs)
    fig = Figure(figsize=(11, 4))
    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1]})
    train_lines = [ax.plot([], [], color=plotting.COLORS["train"], alpha=0.8, lw=1.5,
                           label="train" if i == 0 else None)[0] for i in range(n_seeds)]
    test_lines = [ax.plot([], [], color=plotting.COLORS["test"], alpha=0.8, lw=1.5, ls="--",
                          label="test" if i == 0 else None)[0] for i in range(n_seeds)]
    live = [ax.plot([], [], color="k", lw=2.5, ls=ls, label=lab)[0]
            for ls, lab in (("-", "live rerun"), ("--", None))]
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    ax.set_yticks([0.0, 0.25, 0.5, 0.75, 1.0])
    ax.legend(loc="lower right", fontsize=9)
    status = plotting.status_text(ax)
    means = np.array([res["summary"][str(b)]["test_acc_mean"] for b in bs])
    stds = np.array([res["summary"][str(b)]["test_acc_std"] for b in bs])
    ax2.errorbar(bs, means, yerr=stds, color=plotting.COLORS["test"], marker="s", capsize=4, label="test")
    ax2.plot(bs, [res["summary"][str(b)]["train_acc_mean"] for b in bs], color=plotting.COLORS["train"],
             marker="o", label="train")
    sel = ax2.plot([], [], "o", ms=16, mfc="none", mec="k", mew=2)[0]
    ax2.set_xscale("log")
    ax2.set_xticks(bs, [str(b) for b in bs])
    ax2.set_xlabel("batch size B")
    ax2.set_ylabel("final accuracy (mean ± std)")
    ax2.set_ylim(0.4, 1.02)
    ax2.minorticks_off()
    ax2.set_yticks([0.4, 0.6, 0.8, 1.0])
    ax.xaxis.set_major_locator(MaxNLocator(5, integer=True))     # few tick labels: text is what costs
    ax2.text(0.03, 0.04, "blue: train   red: test", transform=ax2.transAxes, fontsize=9)
    ax.set_title("B")
    fig.tight_layout()              # once: a layout engine would cost time at every redraw
    state = {"live": None}

    def describe(b):
        s = res["summary"][str(b)]
        sb = res["summary"][str(res["gap"]["sb"])]
        reached = (f"all {s['n_seeds']} seeds reached 100 % training accuracy" if s["reached"] == s["n_seeds"]
                   else f"{s['reached']} of {s['n_seeds']} seeds reached 100 % training accuracy "
                        f"(training accuracy {s['train_acc_mean']:.3f} at the budget)")
        ref = "" if b == res["gap"]["sb"] else f" (B = {res['gap']['sb']}: {sb['test_acc_mean']:.3f})"
        return (f"{_label(b, n)}: {reached} after {s['epochs_mean']:.0f} epochs ({s['steps_mean']:.0f} updates) "
                f"at η = {params['lr']:g}; test accuracy {s['test_acc_mean']:.3f} ± {s['test_acc_std']:.3f}"
                f"{ref}; top Hessian eigenvalue "
                f"{s['top_eigenvalue_mean']:.1f}, ε-sharpness {s['eps_sharpness_mean']:.2f} %.")

    def update(batch_size):
        b = int(batch_size)
        runs = res["runs"][str(b)]
        xmax = 1.0
        for i in range(n_seeds):
            if i < len(runs):
                h = runs[i]["history"]
                train_lines[i].set_data(h["epoch"], h["train_acc"])
                test_lines[i].set_data(h["epoch"], h["test_acc"])
                xmax = max(xmax, h["epoch"][-1])
            else:
                train_lines[i].set_data([], [])
                test_lines[i].set_data([], [])
        lv = state["live"]
        show_live = lv is not None and lv["batch_size"] == b
        for line, key in zip(live, ("train_acc", "test_acc")):
            line.set_data((lv["history"]["epoch"], lv["history"][key]) if show_live else ([], []))
        ax.set_xlim(0, xmax * 1.02)
        ax.set_title(f"{_label(b, n)}, η = {params['lr']:g}: {len(runs)} seeds")
        sel.set_data([b], [res["summary"][str(b)]["test_acc_mean"]])
        bad = [r for r in runs if r["status"] == "diverged"]
        plotting.set_status(status, "diverged" if bad else None)
        text = describe(b)
        if show_live:
            text += (f" Live rerun (seed 0): {lv['status']}, test accuracy {lv['test_acc']:.3f} "
                     f"in {lv['seconds']:.1f} s.")
        return text

    def rerun(batch_size, progress=False):
        b = int(batch_size)
        r = sweep.train_point(params, b, 0, progress=progress)
        state["live"] = {"batch_size": b, "history": r.history, "status": r.status, "test_acc": r.test_acc,
                         "train_acc": r.train_acc, "steps": r.steps, "seconds": r.seconds}
        return update(b)

    slider = selection_slider("batch_size", bs, params["lb"], description="batch size B")
    panel = RerunPanel(fig, update, {"batch_size": slider}, rerun=rerun,
                       title="cached runs, one per seed", dynamic=[ax, sel])  # ax2 is drawn once
    panel.live = state
    return panel


# ----------------------------------------------------------------------------- section 2
def flat_sharp_panel(shift=0.3):
    """The lecture's picture: a training loss with a flat and a sharp minimum, and a test loss
    shifted by δ; a slider moves δ and the caption states how much the loss rises at each minimum.
    Notebook 03, section 2 (:func:`lecture_utils.sharpness.flat_sharp_loss`)."""
    from matplotlib.figure import Figure

    shift = check_real("shift", shift, low=-1.5, high=1.5)
    w = np.linspace(-5.5, 4.0, 950)
    fig = Figure(figsize=(9, 4))
    ax = fig.subplots()
    ax.plot(w, sharpness.flat_sharp_loss(w), color=plotting.COLORS["train"], label="training loss L(w)")
    test = ax.plot([], [], color=plotting.COLORS["test"], ls="--", label="test loss L(w − δ)")[0]
    wells = (sharpness.FLAT["center"], sharpness.SHARP["center"])
    bars = [ax.plot([], [], color="k", lw=3)[0] for _ in wells]
    notes = [ax.text(c - 0.12, 0.0, "", fontsize=11, ha="right", va="center",
                     bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.8))
             for c in wells]
    for c, name in zip(wells, ("flat minimum", "sharp minimum")):
        ax.annotate(name, (c, 0.0), xytext=(c, -0.17), ha="center", fontsize=11)
    ax.set_xlim(w[0], w[-1])
    ax.set_ylim(-0.22, 1.1)
    ax.set_yticks([0.0, 0.5, 1.0])          # few tick labels: text is what a redraw costs
    ax.set_xticks([-4, -2, 0, 2, 4])
    ax.set_xlabel("parameter w")
    ax.set_ylabel("loss")
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
        ax.set_title(f"test loss shifted by δ = {d:.2f}")
        ratio = rise["sharp"] / rise["flat"] if rise["flat"] > 1e-12 else float("inf")
        if d == 0:
            return ("δ = 0.00: test loss equals training loss; both minima are equally good.")
        return (f"δ = {d:.2f}: at the flat minimum the test loss is {rise['flat']:.3f} above the training loss, "
                f"at the sharp minimum {rise['sharp']:.3f} — {ratio:.0f}× more, though both minima have "
                f"the same training loss.")

    slider = float_slider("shift", shift, 0.0, 1.0, 0.05, description="shift δ", readout_format=".2f")
    return Panel(fig, update, {"shift": slider}, title="flat vs sharp minimum",
                 dynamic=[test, *bars, *notes, ax.title])


# ----------------------------------------------------------------------------- section 3
def sharpness_figure(record):
    """λ_max and ε-sharpness against B, one point per seed and the mean (log axes). Section 3."""
    import matplotlib.pyplot as plt

    res = _results(record)
    bs = res["batch_sizes"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, key, title in zip(axes, ("top_eigenvalue", "eps_sharpness"),
                              ("top Hessian eigenvalue λ_max", "ε-sharpness (%)")):
        for b in bs:
            vals = [r[key] for r in res["runs"][str(b)]]
            ax.plot([b] * len(vals), vals, "o", color=plotting.COLORS["muted"], alpha=0.6)
        ax.plot(bs, [res["summary"][str(b)][f"{key}_mean"] for b in bs], "-s", color=plotting.COLORS["full"])
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(bs, [str(b) for b in bs])
        ax.set_xlabel("batch size B")
        ax.set_title(title)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- section 4
def interpolation_figure(curve, *, sb=32, lb=400):
    """Keskar's figure 3: loss (log scale, left) and accuracy (right) along
    ``w(α) = α·w_LB + (1 − α)·w_SB``, training solid, test dashed. Section 4."""
    import matplotlib.pyplot as plt

    keys = ("alpha", "train_loss", "train_acc", "test_loss", "test_acc")
    if not isinstance(curve, dict) or any(k not in curve for k in keys):
        raise ValueError(f"curve must be the dict returned by sharpness.interpolation_curve (keys {keys})")
    a = curve["alpha"]
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(a, curve["train_loss"], color=plotting.COLORS["train"], label="train loss")
    ax.plot(a, curve["test_loss"], color=plotting.COLORS["train"], ls="--", label="test loss")
    ax.set_yscale("log")
    ax.set_xlabel(f"α   (0: small batch B={sb},  1: large batch B={lb})")
    ax.set_ylabel("cross-entropy loss", color=plotting.COLORS["train"])
    ax2 = ax.twinx()
    ax2.plot(a, curve["train_acc"], color=plotting.COLORS["test"], label="train accuracy")
    ax2.plot(a, curve["test_acc"], color=plotting.COLORS["test"], ls="--", label="test accuracy")
    ax2.set_ylabel("accuracy", color=plotting.COLORS["test"])
    ax2.set_ylim(0, 1.02)
    ax2.grid(False)
    for x0 in (0.0, 1.0):
        ax.axvline(x0, color=plotting.COLORS["muted"], lw=1)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=9, ncol=4)
    ax.set_title("1-D slice through the two solutions (Keskar et al. 2017, fig. 3)")
    fig.tight_layout()
    return fig


